// inotify event sequences through the VFS over tmpfs, compared with what
// the host kernel reports to inotifywait (inotify-tools) for the same
// operations on a host temp directory. The close events that the kernel's
// close(2) generates (gVisor: FDTable.Remove) are generated here the same
// way, since this test stops at the VFS.

import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { O_CREAT, O_NONBLOCK, O_RDWR, O_TRUNC, O_WRONLY } from '../../../pkg/abi/linux/file';
import * as ino from '../../../pkg/abi/linux/inotify';
import { STATX_MODE, STATX_SIZE, newStatx } from '../../../pkg/abi/linux/stat';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';
import { newEnv, type Env } from './harness';

const INOTIFYWAIT = '/usr/bin/inotifywait';

type Op = ['mkdir' | 'rmdir' | 'unlink', string] | ['rename' | 'symlink' | 'link', string, string] | ['write', string, string] | ['chmod', string, number] | ['truncate', string, number];

const mainOps: Op[] = [
  ['mkdir', 'a'],
  ['rmdir', 'a'],
  ['write', 'x', 'hello'],
  ['chmod', 'x', 0o600],
  ['truncate', 'x', 2],
  ['symlink', 'x', 'l'],
  ['link', 'x', 'h'],
  ['rename', 'h', 'sub/h2'],
  ['rename', 'sub', 'sub2'],
  ['unlink', 'x'],
  ['unlink', 'sub2/h2'],
  ['unlink', 'l'],
  ['mkdir', 'zz_end'],
];

// rmdir of a watched directory: Linux reports the directory's DELETE_SELF
// before its parent's DELETE.
const rmdirOps: Op[] = [['mkdir', 'sub/in'], ['rmdir', 'sub/in'], ['rmdir', 'sub'], ['mkdir', 'zz_end']];

const names: Array<[number, string]> = [
  [ino.IN_ACCESS, 'ACCESS'], [ino.IN_MODIFY, 'MODIFY'], [ino.IN_ATTRIB, 'ATTRIB'], [ino.IN_CLOSE_WRITE, 'CLOSE_WRITE'],
  [ino.IN_CLOSE_NOWRITE, 'CLOSE_NOWRITE'], [ino.IN_OPEN, 'OPEN'], [ino.IN_MOVED_FROM, 'MOVED_FROM'], [ino.IN_MOVED_TO, 'MOVED_TO'],
  [ino.IN_CREATE, 'CREATE'], [ino.IN_DELETE, 'DELETE'], [ino.IN_DELETE_SELF, 'DELETE_SELF'], [ino.IN_MOVE_SELF, 'MOVE_SELF'],
  [ino.IN_UNMOUNT, 'UNMOUNT'], [ino.IN_Q_OVERFLOW, 'Q_OVERFLOW'], [ino.IN_ISDIR, 'ISDIR'],
];

// normalize turns "CLOSE_WRITE,CLOSE" and masks alike into a sorted list.
function normalize(events: string[]): string {
  return events.filter((e) => e !== 'CLOSE' && e !== 'IGNORED').sort().join(',');
}

async function runSandbox(e: Env, op: Op): Promise<void> {
  const { ctx, creds, vfsObj } = e;
  const p = (s: string, follow = false) => e.pop('/' + s, { follow });
  // closeFD is what close(2) does before dropping the reference.
  const closeFD = (fd: vfs.FileDescription) => {
    fd.dentry().inotifyWithParent(ctx, fd.isWritable() ? ino.IN_CLOSE_WRITE : ino.IN_CLOSE_NOWRITE, 0, vfs.PathEvent);
    fd.decRef(ctx);
  };
  switch (op[0]) {
    case 'mkdir': await vfsObj.mkdirAt(ctx, creds, p(op[1]), { mode: 0o755 }); break;
    case 'rmdir': await vfsObj.rmdirAt(ctx, creds, p(op[1])); break;
    case 'unlink': await vfsObj.unlinkAt(ctx, creds, p(op[1])); break;
    case 'rename': await vfsObj.renameAt(ctx, creds, p(op[1]), p(op[2]), {}); break;
    case 'symlink': await vfsObj.symlinkAt(ctx, creds, p(op[2]), op[1]); break;
    case 'link': await vfsObj.linkAt(ctx, creds, p(op[1]), p(op[2])); break;
    case 'write': {
      const fd = await vfsObj.openAt(ctx, creds, p(op[1], true), { flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o666 });
      const n = await fd.write(ctx, Buffer.from(op[2]));
      // write(2) queues IN_MODIFY when it wrote anything (gVisor:
      // syscalls/linux/vfs2/read_write.go).
      if (n > 0) fd.dentry().inotifyWithParent(ctx, ino.IN_MODIFY, 0, vfs.PathEvent);
      closeFD(fd);
      break;
    }
    case 'chmod': {
      const stat = newStatx();
      stat.mask = STATX_MODE;
      stat.mode = op[2];
      await vfsObj.setStatAt(ctx, creds, p(op[1], true), { stat });
      break;
    }
    case 'truncate': {
      // Node's truncateSync opens the file and ftruncates it.
      const fd = await vfsObj.openAt(ctx, creds, p(op[1], true), { flags: O_RDWR });
      const stat = newStatx();
      stat.mask = STATX_SIZE;
      stat.size = op[2];
      await fd.setStat(ctx, { stat });
      closeFD(fd);
      break;
    }
  }
}

function runHost(dir: string, op: Op): void {
  const p = (s: string) => dir + '/' + s;
  switch (op[0]) {
    case 'mkdir': fs.mkdirSync(p(op[1]), 0o755); break;
    case 'rmdir': fs.rmdirSync(p(op[1])); break;
    case 'unlink': fs.unlinkSync(p(op[1])); break;
    case 'rename': fs.renameSync(p(op[1]), p(op[2])); break;
    case 'symlink': fs.symlinkSync(op[1], p(op[2])); break;
    case 'link': fs.linkSync(p(op[1]), p(op[2])); break;
    case 'write': fs.writeFileSync(p(op[1]), op[2]); break;
    case 'chmod': fs.chmodSync(p(op[1]), op[2]); break;
    case 'truncate': fs.truncateSync(p(op[1]), op[2]); break;
  }
}

async function hostEvents(t: import('ava').ExecutionContext, c: inotifyCase): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-inotify-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(dir + '/sub');
  for (const op of c.setup ?? []) runHost(dir, op);
  const watched = [dir, dir + '/sub', ...(c.watch ?? []).map((w) => `${dir}/${w}`)];
  const child = spawn(INOTIFYWAIT, ['-m', '--format', '%w|%e|%f', ...watched], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('Watches established')) resolve();
    });
    child.on('exit', () => reject(new Error(`inotifywait exited: ${err}`)));
  });
  const done = new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('|zz_end\n')) resolve();
    });
  });
  for (const op of c.ops) runHost(dir, op);
  await done;
  child.kill('SIGKILL');
  return out.trim().split('\n').map((line) => {
    const [w, e, f] = line.split('|');
    const watch = w === dir + '/' ? '/' : w.slice(dir.length).replace(/\/$/, '');
    return `${watch} ${normalize(e.split(','))} ${f}`;
  });
}

async function sandboxEvents(c: inotifyCase): Promise<string[]> {
  const e = await newEnv('tmpfs');
  try {
    await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/sub'), { mode: 0o755 });
    for (const op of c.setup ?? []) await runSandbox(e, op);
    const fd = vfs.newInotifyFD(e.ctx, e.vfsObj, O_NONBLOCK);
    try {
      const all = ino.IN_ALL_EVENTS;
      const wds = new Map<number, string>();
      for (const w of ['', 'sub', ...(c.watch ?? [])]) {
        wds.set(await vfs.addWatchAt(e.ctx, e.vfsObj, e.creds, fd, e.pop('/' + w), all), '/' + w);
      }
      const out: string[] = [];
      const buf = Buffer.alloc(1 << 16);
      const drain = async () => {
        for (;;) {
          let n: number;
          try {
            n = await fd.read(e.ctx, buf);
          } catch (err) {
            if (err === syserror.EAGAIN) return;
            throw err;
          }
          for (const ev of ino.parseInotifyEvents(buf.subarray(0, n))) {
            const evNames = names.filter(([bit]) => (ev.mask & bit) !== 0).map(([, s]) => s);
            if (ev.mask & ino.IN_IGNORED) continue;
            out.push(`${wds.get(ev.wd)} ${normalize(evNames)} ${ev.name}`);
          }
        }
      };
      for (const op of c.ops) {
        await runSandbox(e, op);
        await drain();
      }
      return out;
    } finally {
      fd.decRef(e.ctx);
    }
  } finally {
    e.teardown();
  }
}

interface inotifyCase {
  name: string;
  // setup runs before the watches are added (on / and /sub, plus watch).
  setup?: Op[];
  watch?: string[];
  ops: Op[];
}

// Every case must match the host exactly, in order.
const cases: inotifyCase[] = [
  { name: 'create, write, close, chmod, truncate, link, rename, unlink', ops: mainOps },
  { name: 'rmdir of a watched directory', ops: rmdirOps },
  // vfs_unlink: the file's IN_ATTRIB (fsnotify_link_count), then
  // d_delete_notify(): its IN_DELETE_SELF, then the parent's IN_DELETE.
  { name: 'unlink of a watched file', setup: [['write', 'f', 'x']], watch: ['f'], ops: [['unlink', 'f'], ['mkdir', 'zz_end']] },
  // The other link survives: IN_ATTRIB, the parent's IN_DELETE, no IN_DELETE_SELF.
  {
    name: 'unlink of a watched file with another link',
    setup: [['write', 'f', 'x'], ['link', 'f', 'sub/f2']], watch: ['f'], ops: [['unlink', 'f'], ['mkdir', 'zz_end']],
  },
  // fsnotify_move(): IN_MOVED_FROM, IN_MOVED_TO, the replaced file's
  // IN_ATTRIB, the renamed file's IN_MOVE_SELF; the replaced file's
  // IN_DELETE_SELF comes with the last dput() of its dentry.
  {
    name: 'rename over a watched file',
    setup: [['write', 'g', 'x'], ['write', 'sub/t', 'y']], watch: ['g', 'sub/t'], ops: [['rename', 'g', 'sub/t'], ['mkdir', 'zz_end']],
  },
  {
    name: 'rename over a watched file with another link',
    setup: [['write', 'g', 'x'], ['write', 'sub/t', 'y'], ['link', 'sub/t', 't2']], watch: ['sub/t'],
    ops: [['rename', 'g', 'sub/t'], ['mkdir', 'zz_end']],
  },
  {
    name: 'rename over a watched empty directory',
    setup: [['mkdir', 'e'], ['mkdir', 'sub/t']], watch: ['sub/t'], ops: [['rename', 'e', 'sub/t'], ['mkdir', 'zz_end']],
  },
];

for (const c of cases) {
  test(`inotify over tmpfs vs host inotifywait: ${c.name}`, async (t) => {
    if (!fs.existsSync(INOTIFYWAIT)) {
      t.log('SKIPPED: inotifywait not installed');
      process.stderr.write('SKIPPED: inotify differential test: inotifywait (inotify-tools) not installed\n');
      t.pass();
      return;
    }
    const host = await hostEvents(t, c);
    const sandbox = await sandboxEvents(c);
    t.log(host.join('; '));
    t.deepEqual(sandbox, host);
  });
}
