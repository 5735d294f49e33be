// Hard links of synthetic files (a socket, device or FIFO the gofer would
// not make on the host, kept only in the sandbox), pinned differentially:
// each case runs as raw system calls on the host kernel (in a host temp
// dir) and on a sandbox kernel whose root is a gofer filesystem (exclusive
// and shared interop), and every line of the two logs must agree: results
// and errnos, the stat of each name (type, mode, link count, owner, device,
// and which names are the same inode), and which of the watched files'
// ctime and mtime each step changed, as Linux's link/unlink/rename set them
// (the file's ctime on link, unlink and rename; the parents' mtime and ctime
// on every change of their entries).
//
// Times: Linux stamps files with its coarse clock, so before each step
// tick() waits until the host clock has moved past everything recorded:
// a step either changes a time or it does not, independent of speed.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { errnoName } from '../../../../pkg/abi/linux/errors';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY, S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFSOCK } from '../../../../pkg/abi/linux/file';
import { calls } from '../../../../pkg/conformance/calls';
import { hostCall } from '../../../../pkg/conformance/host';
import type { SyscallArg } from '../../../../pkg/conformance/exec';
import { localFile } from '../../../../pkg/fsgofer/fsgofer';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import type { Task } from '../../../../pkg/sentry/kernel/task';
import { syscallTable } from '../../../../pkg/sentry/syscalls/linux/sys';
import * as syserror from '../../../../pkg/syserror/syserror';
import { errnoOf, leakCheck, newGoferRoot, serve, tmpDir } from './helpers';

// The gofer runs with umask 0; so do the host side's calls (modes as given).
process.umask(0);

const isRoot = process.getuid?.() === 0;

// FIFOs: our gofer makes them on the host (fsgofer.ts), so to exercise a
// synthetic FIFO the servers of the "nofifo" cases refuse Tmknod of a FIFO
// with EPERM, as gVisor's gofer at dbe41765 does; the sentry then keeps it
// as a synthetic file (mknodAt).
const noFifoRoots = new Set<string>();
const origMknod = localFile.prototype.mknod;
localFile.prototype.mknod = function mknod(this: localFile, name, mode, major, minor, uid, gid) {
  for (const r of noFifoRoots) {
    if ((mode & S_IFMT) === S_IFIFO && (this.hostPath === r || this.hostPath.startsWith(`${r}/`))) {
      return Promise.reject(syserror.EPERM);
    }
  }
  return origMknod.call(this, name, mode, major, minor, uid, gid);
};

// Synthetic directories (mountpoints the server could not make): the
// servers of the "nomkdir" tests refuse Tmkdir with EPERM, so that
// mkdir(forSyntheticMountpoint) falls back to a synthetic directory.
const noMkdirRoots = new Set<string>();
const origMkdir = localFile.prototype.mkdir;
localFile.prototype.mkdir = function mkdir(this: localFile, name, mode, uid, gid) {
  for (const r of noMkdirRoots) {
    if (this.hostPath === r || this.hostPath.startsWith(`${r}/`)) return Promise.reject(syserror.EPERM);
  }
  return origMkdir.call(this, name, mode, uid, gid);
};

/** Side is where a case runs: raw system calls (result or -errno) and its case directory. */
interface Side {
  dir: string;
  call(name: string, ...args: SyscallArg[]): Promise<number>;
}

function hostSide(dir: string): Side {
  return {
    dir,
    call: (name, ...args) => Promise.resolve(hostCall(calls.get(name)!, args)),
  };
}

function sandboxSide(t: Task, dir: string): Side {
  return {
    dir,
    call: (name, ...args) => {
      const h = syscallTable.get(name);
      if (h === undefined) throw new Error(`no system call ${name}`);
      return h(t, ...args);
    },
  };
}

/** scratch is a host file whose ctime shows the host's coarse clock (see tick). */
let scratch = '';

/** tick waits until the host's file clock has moved on (see the module comment). */
async function tick(): Promise<void> {
  const t0 = fs.statSync(scratch, { bigint: true }).ctimeNs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1));
    fs.chmodSync(scratch, 0o644);
    if (fs.statSync(scratch, { bigint: true }).ctimeNs > t0) return;
  }
}

interface Times {
  ctime: bigint;
  mtime: bigint;
}

/** Run records one side's log of a case. */
class Run {
  readonly log: string[] = [];
  private readonly inos = new Map<string, number>();

  constructor(readonly side: Side) {}

  p(rel: string): string {
    return rel === '.' ? this.side.dir : `${this.side.dir}/${rel}`;
  }

  private res(r: number): string {
    return r < 0 ? errnoName(-r) : String(r);
  }

  private async times(rel: string): Promise<Times | null> {
    const b = Buffer.alloc(144);
    const r = await this.side.call('newfstatat', AT_FDCWD, this.p(rel), b, AT_SYMLINK_NOFOLLOW);
    if (r < 0) return null;
    return {
      mtime: b.readBigInt64LE(88) * 1_000_000_000n + b.readBigInt64LE(96),
      ctime: b.readBigInt64LE(104) * 1_000_000_000n + b.readBigInt64LE(112),
    };
  }

  /**
   * step runs one call with its path arguments relative to the case
   * directory, and logs its result and which of watched's times it changed.
   */
  async step(watched: string[], name: string, ...args: SyscallArg[]): Promise<number> {
    const before = await Promise.all(watched.map((w) => this.times(w)));
    await tick();
    const r = await this.side.call(name, ...args);
    let line = `${name} ${args.map((a) => (typeof a === 'string' ? a.slice(this.side.dir.length + 1) || '.' : String(a))).join(' ')} = ${this.res(r)}`;
    for (let i = 0; i < watched.length; i++) {
      const b = before[i];
      const a = await this.times(watched[i]);
      if (b === null || a === null) continue;
      const changed = [a.ctime !== b.ctime ? 'ctime' : '', a.mtime !== b.mtime ? 'mtime' : ''].filter((s) => s !== '');
      line += ` | ${watched[i]}: ${changed.length === 0 ? 'unchanged' : changed.join('+')}`;
    }
    this.log.push(line);
    return r;
  }

  /** stat logs the comparable fields of rel, its inode as the case's Nth distinct one. */
  async stat(rel: string): Promise<void> {
    const b = Buffer.alloc(144);
    const r = await this.side.call('newfstatat', AT_FDCWD, this.p(rel), b, AT_SYMLINK_NOFOLLOW);
    if (r < 0) {
      this.log.push(`stat ${rel} = ${this.res(r)}`);
      return;
    }
    const key = `${b.readBigUInt64LE(0)}:${b.readBigUInt64LE(8)}`;
    let n = this.inos.get(key);
    if (n === undefined) {
      n = this.inos.size + 1;
      this.inos.set(key, n);
    }
    const mode = b.readUInt32LE(24);
    this.log.push(`stat ${rel} = mode=${mode.toString(8)} nlink=${b.readBigUInt64LE(16)} uid=${b.readUInt32LE(28)} ` +
      `gid=${b.readUInt32LE(32)} rdev=${b.readBigUInt64LE(40).toString(16)} inode#${n}`);
  }

  /** open opens rel and logs the result (ENXIO, EACCES... or "fd"); returns the fd or -errno. */
  async open(rel: string, flags: number): Promise<number> {
    const r = await this.side.call('openat', AT_FDCWD, this.p(rel), flags, 0);
    this.log.push(`open ${rel} ${flags.toString(8)} = ${r < 0 ? this.res(r) : 'fd'}`);
    return r;
  }

  async close(fd: number): Promise<void> {
    if (fd >= 0) await this.side.call('close', fd);
  }

  // Path helpers for steps.
  mknod(rel: string, mode: number, dev = 0): [string, number, number] {
    return [this.p(rel), mode, dev];
  }
}

/** makedev is Linux's new_encode_dev layout of a dev_t (major, minor). */
function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

type Case = (r: Run) => Promise<void>;

// Each case: the Linux behaviour it pins, then the calls.
const cases: Record<string, { fifoSynthetic?: boolean; run: Case }> = {
  // vfs_link: a device file gets a second name; both are one inode (nlink
  // 2, same rdev); link sets the file's ctime and the directory's
  // mtime/ctime; unlink of one name leaves the other (nlink 1, ctime set).
  'link-device': {
    run: async (r) => {
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('c', S_IFCHR | 0o640, makedev(1, 3)));
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('b', S_IFBLK | 0o600, makedev(7, 200)));
      await r.step(['.', 'c'], 'linkat', AT_FDCWD, r.p('c'), AT_FDCWD, r.p('c2'), 0);
      await r.step(['.', 'b'], 'linkat', AT_FDCWD, r.p('b'), AT_FDCWD, r.p('b2'), 0);
      for (const n of ['c', 'c2', 'b', 'b2']) await r.stat(n);
      await r.step(['.', 'c2'], 'linkat', AT_FDCWD, r.p('c2'), AT_FDCWD, r.p('c3'), 0);
      await r.stat('c');
      await r.step(['.', 'c2'], 'unlinkat', AT_FDCWD, r.p('c'), 0);
      await r.stat('c');
      await r.stat('c2');
      await r.step(['.', 'c3'], 'unlinkat', AT_FDCWD, r.p('c2'), 0);
      await r.stat('c3');
      await r.step(['.', 'c3'], 'fchmodat', AT_FDCWD, r.p('c3'), 0o600);
      await r.step(['.', 'b2'], 'unlinkat', AT_FDCWD, r.p('b'), 0);
      await r.stat('b2');
      // The checks keep their order: an existing name is EEXIST, a link
      // of a missing name ENOENT.
      await r.step([], 'linkat', AT_FDCWD, r.p('b2'), AT_FDCWD, r.p('c3'), 0);
      await r.step([], 'linkat', AT_FDCWD, r.p('c'), AT_FDCWD, r.p('x'), 0);
    },
  },

  // A socket file (mknod S_IFSOCK) links like any file; open of either
  // name is ENXIO (no_open); a link in a subdirectory changes that
  // directory's times, not the source's.
  'link-socket': {
    run: async (r) => {
      await r.step(['.'], 'mkdirat', AT_FDCWD, r.p('d'), 0o755);
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('s', S_IFSOCK | 0o644));
      await r.step(['.', 'd', 's'], 'linkat', AT_FDCWD, r.p('s'), AT_FDCWD, r.p('d/s'), 0);
      await r.stat('s');
      await r.stat('d/s');
      await r.close(await r.open('d/s', O_RDONLY));
      await r.close(await r.open('s', O_WRONLY));
      await r.step(['.', 'd', 's'], 'unlinkat', AT_FDCWD, r.p('d/s'), 0);
      await r.stat('s');
      await r.stat('d/s');
      await r.step(['.', 's'], 'unlinkat', AT_FDCWD, r.p('s'), 0);
      await r.stat('s');
    },
  },

  // fifo_open: both names of a FIFO are one pipe (a reader opened by one
  // name lets a non-blocking writer open by the other, and reads what it
  // wrote).
  'link-fifo': {
    fifoSynthetic: true,
    run: async (r) => {
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('p', S_IFIFO | 0o644));
      await r.step(['.', 'p'], 'linkat', AT_FDCWD, r.p('p'), AT_FDCWD, r.p('q'), 0);
      await r.stat('p');
      await r.stat('q');
      const w0 = await r.open('q', O_WRONLY | O_NONBLOCK);
      await r.close(w0);
      const rd = await r.open('p', O_RDONLY | O_NONBLOCK);
      const wr = await r.open('q', O_WRONLY | O_NONBLOCK);
      if (rd >= 0 && wr >= 0) {
        const w = await r.side.call('write', wr, Buffer.from('hi'), 2);
        r.log.push(`write = ${w < 0 ? errnoName(-w) : w}`);
        const b = Buffer.alloc(8);
        const n = await r.side.call('read', rd, b, 8);
        r.log.push(`read = ${n < 0 ? errnoName(-n) : JSON.stringify(b.subarray(0, n).toString())}`);
      }
      await r.close(wr);
      await r.close(rd);
      await r.step(['.', 'q'], 'unlinkat', AT_FDCWD, r.p('p'), 0);
      await r.stat('q');
    },
  },

  // vfs_rename: renaming a name onto another link of the same file does
  // nothing (both names stay); renaming another file over a synthetic link
  // drops the replaced file's link count (its other name sees nlink 1 and a
  // new ctime); renaming a link to another directory changes both
  // directories' times and the file's ctime.
  'rename-synthetic-link': {
    run: async (r) => {
      await r.step(['.'], 'mkdirat', AT_FDCWD, r.p('d'), 0o755);
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('a', S_IFCHR | 0o644, makedev(1, 5)));
      await r.step(['.', 'a'], 'linkat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('b'), 0);
      await r.step(['.', 'a'], 'renameat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('b'));
      await r.stat('a');
      await r.stat('b');
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('x', S_IFSOCK | 0o600));
      await r.step(['.', 'a', 'x'], 'renameat', AT_FDCWD, r.p('x'), AT_FDCWD, r.p('b'));
      await r.stat('a');
      await r.stat('b');
      await r.stat('x');
      await r.step(['.', 'd', 'b'], 'renameat', AT_FDCWD, r.p('b'), AT_FDCWD, r.p('d/b'));
      await r.stat('d/b');
      await r.step(['.', 'a'], 'linkat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('d/a2'), 0);
      await r.step(['d', 'a'], 'renameat', AT_FDCWD, r.p('d/a2'), AT_FDCWD, r.p('d/b'));
      await r.stat('a');
      await r.stat('d/b');
      await r.step(['.', 'd', 'a'], 'renameat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('d/c'));
      await r.stat('d/c');
    },
  },

  // The directory's mtime and ctime change when a synthetic entry is
  // created or removed (in shared mode too, where the server owns them),
  // and a remote file renamed over a synthetic one replaces it.
  'dir-times': {
    run: async (r) => {
      await r.step(['.'], 'mkdirat', AT_FDCWD, r.p('d'), 0o755);
      await r.step(['.', 'd'], 'mknodat', AT_FDCWD, ...r.mknod('d/s', S_IFSOCK | 0o644));
      await r.step(['.', 'd'], 'mknodat', AT_FDCWD, ...r.mknod('d/c', S_IFCHR | 0o644, makedev(1, 7)));
      await r.step(['d', 'd/s'], 'linkat', AT_FDCWD, r.p('d/s'), AT_FDCWD, r.p('d/s2'), 0);
      await r.step(['d'], 'unlinkat', AT_FDCWD, r.p('d/s'), 0);
      await r.step(['d', 'd/c'], 'unlinkat', AT_FDCWD, r.p('d/c'), 0);
      await r.step(['.'], 'mknodat', AT_FDCWD, ...r.mknod('f', 0o100644));
      await r.step(['.', 'd', 'd/s2'], 'renameat', AT_FDCWD, r.p('f'), AT_FDCWD, r.p('d/s2'));
      await r.stat('d/s2');
      await r.step(['.', 'd'], 'unlinkat', AT_FDCWD, r.p('d/s2'), 0);
      await r.step(['.'], 'unlinkat', AT_FDCWD, r.p('d'), 0x200 /* AT_REMOVEDIR */);
    },
  },

  // A directory whose only entries are synthetic is not empty: rmdir and a
  // rename of another directory over it are ENOTEMPTY (the server, which
  // does not see them, would allow both).
  'synthetic-only-dir': {
    run: async (r) => {
      await r.step(['.'], 'mkdirat', AT_FDCWD, r.p('a'), 0o755);
      await r.step(['.'], 'mkdirat', AT_FDCWD, r.p('b'), 0o755);
      await r.step(['b'], 'mknodat', AT_FDCWD, ...r.mknod('b/c', S_IFCHR | 0o644, makedev(1, 2)));
      await r.step(['.', 'a', 'b'], 'renameat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('b'));
      await r.step(['.', 'b'], 'unlinkat', AT_FDCWD, r.p('b'), 0x200 /* AT_REMOVEDIR */);
      await r.step(['b'], 'linkat', AT_FDCWD, r.p('b/c'), AT_FDCWD, r.p('b/s'), 0);
      await r.step(['b'], 'unlinkat', AT_FDCWD, r.p('b/c'), 0);
      await r.step(['.', 'a', 'b'], 'renameat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('b'));
      await r.step(['b'], 'unlinkat', AT_FDCWD, r.p('b/s'), 0);
      await r.step(['.', 'a', 'b'], 'renameat', AT_FDCWD, r.p('a'), AT_FDCWD, r.p('b'));
      await r.stat('a');
      await r.stat('b');
    },
  },
};

async function runHost(t: ExecutionContext, c: Case): Promise<string[]> {
  const dir = tmpDir(t, 'synthetic-link-host-');
  const r = new Run(hostSide(dir));
  await c(r);
  return r.log;
}

async function runSandbox(t: ExecutionContext, interop: string, fifoSynthetic: boolean, c: Case): Promise<string[]> {
  const host = tmpDir(t, 'synthetic-link-gofer-');
  if (fifoSynthetic) {
    noFifoRoots.add(host);
    t.teardown(() => noFifoRoots.delete(host));
  }
  const { server, address } = await serve(t, host);
  const kernel = await Kernel.create({
    root: { fsType: '9p', source: address, options: `cache=${interop === 'shared' ? 'remote_revalidating' : 'fscache'}` },
  });
  const task = await kernel.newTask({ umask: 0 });
  t.teardown(async () => {
    await task.release();
    await kernel.release();
    await server.close();
  });
  const m = await task.sys.mkdir('/case', 0o755);
  if (m < 0) throw new Error(`sandbox mkdir /case: ${errnoName(-m)}`);
  const r = new Run(sandboxSide(task, '/case'));
  await c(r);
  return r.log;
}

// vfs_link works in any directory: a synthetic file gets a second name in
// a synthetic directory (and back out of it), sharing its inode; a remote
// file cannot get a name its server does not see (EPERM, as gVisor's
// linkAt, which has no createInSyntheticDir).
for (const data of ['', 'cache=remote_revalidating']) {
  test(`link into a synthetic directory (${data === '' ? 'exclusive' : 'shared'}): synthetic files link, remote ones are EPERM`, async (t) => {
    const host = tmpDir(t, 'synthetic-link-nomkdir-');
    noMkdirRoots.add(host);
    t.teardown(() => noMkdirRoots.delete(host));
    const { server, address } = await serve(t, host);
    // Registered before newGoferRoot's teardown, so it runs after it
    // (teardowns run in reverse order): the client first lets go.
    t.teardown(() => server.close());
    const env = await newGoferRoot(t, { address, host, data });
    const { ctx, creds, vfsObj } = env;
    await vfsObj.mkdirAt(ctx, creds, env.pop('mnt'), { mode: 0o755, forSyntheticMountpoint: true });
    t.false(fs.existsSync(path.join(host, 'mnt')), 'mnt is synthetic');
    await vfsObj.mknodAt(ctx, creds, env.pop('c'), { mode: S_IFCHR | 0o640, devMajor: 1, devMinor: 3 });
    await vfsObj.linkAt(ctx, creds, env.pop('c'), env.pop('mnt/c2'));
    await vfsObj.linkAt(ctx, creds, env.pop('mnt/c2'), env.pop('c3'));
    const st = await Promise.all(['c', 'mnt/c2', 'c3'].map((p) => vfsObj.statAt(ctx, creds, env.pop(p), {})));
    t.deepEqual(st.map((s) => [s.ino, s.nlink, s.mode, s.rdevMajor, s.rdevMinor]), Array(3).fill([st[0].ino, 3, S_IFCHR | 0o640, 1, 3]));
    await vfsObj.renameAt(ctx, creds, env.pop('c3'), env.pop('mnt/c4'), {});
    await vfsObj.unlinkAt(ctx, creds, env.pop('c'));
    t.is((await vfsObj.statAt(ctx, creds, env.pop('mnt/c4'), {})).nlink, 2);
    t.is(await errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('mnt'))), 'ENOTEMPTY');
    fs.writeFileSync(path.join(host, 'f'), '');
    t.is(await errnoOf(vfsObj.linkAt(ctx, creds, env.pop('f'), env.pop('mnt/f'))), 'EPERM');
    await vfsObj.unlinkAt(ctx, creds, env.pop('mnt/c2'));
    await vfsObj.unlinkAt(ctx, creds, env.pop('mnt/c4'));
    await vfsObj.rmdirAt(ctx, creds, env.pop('mnt'));
    await leakCheck(t, env);
  });
}

test('shared: a host file that replaces one name of a synthetic file leaves its other links one link fewer', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=remote_revalidating' });
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mknodAt(ctx, creds, env.pop('c'), { mode: S_IFCHR | 0o640, devMajor: 1, devMinor: 3 });
  await vfsObj.linkAt(ctx, creds, env.pop('c'), env.pop('c2'));
  t.is((await vfsObj.statAt(ctx, creds, env.pop('c2'), {})).nlink, 2);
  t.false(fs.existsSync(path.join(env.host, 'c')), 'c is synthetic');
  fs.writeFileSync(path.join(env.host, 'c'), 'host');
  const st = await vfsObj.statAt(ctx, creds, env.pop('c'), {});
  t.is(st.mode & S_IFMT, 0o100000, 'the host file replaces the synthetic name');
  t.is(st.size, 4);
  const st2 = await vfsObj.statAt(ctx, creds, env.pop('c2'), {});
  t.is(st2.mode & S_IFMT, S_IFCHR);
  t.is(st2.nlink, 1);
  await vfsObj.unlinkAt(ctx, creds, env.pop('c2'));
  await leakCheck(t, env);
});

if (!isRoot) {
  test('synthetic hard links (needs root)', (t) => {
    t.log('SKIPPED: not root (mknod of devices and sockets on the host needs it)');
    process.stderr.write('\n*** SKIPPED: synthetic_link.test.ts needs root ***\n\n');
    t.pass();
  });
} else {
  test.before((t) => {
    const d = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'synthetic-link-clock-'));
    scratch = path.join(d, 'f');
    fs.writeFileSync(scratch, '');
    void t;
  });
  test.after.always(() => {
    if (scratch !== '') fs.rmSync(path.dirname(scratch), { recursive: true, force: true });
  });

  for (const [name, c] of Object.entries(cases)) {
    for (const interop of ['exclusive', 'shared']) {
      test.serial(`${name} (${interop}) agrees with the host kernel`, async (t) => {
        const want = await runHost(t, c.run);
        const got = await runSandbox(t, interop, c.fifoSynthetic === true, c.run);
        t.deepEqual(got, want, `sandbox:\n  ${got.join('\n  ')}\nhost:\n  ${want.join('\n  ')}`);
      });
    }
  }
}
