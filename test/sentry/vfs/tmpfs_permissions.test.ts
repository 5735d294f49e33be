// Permissions of a non-root task through the VFS over tmpfs, compared errno
// for errno with the host kernel, the host side running as an unprivileged
// user (uid/gid 1000, no capabilities): search and write permission on
// directories, read/write permission on files, sticky directories
// (check_sticky), chmod by a non-owner, protected hard links (may_linkat).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, S_IFREG } from '../../../pkg/abi/linux/file';
import { STATX_GID, STATX_MODE, STATX_UID, newStatx } from '../../../pkg/abi/linux/stat';
import * as syserror from '../../../pkg/syserror/syserror';
import { newEnv, type Env } from './harness';

const UID = 1000;
const GID = 1000;

type Op = ['creat' | 'openr' | 'openw' | 'stat' | 'unlink' | 'rmdir' | 'mkdir', string] | ['rename' | 'link', string, string] | ['chmod', string, number];

// The tree, built as root on both sides: [path, mode, uid, isDir].
const tree: Array<[string, number, number, boolean]> = [
  ['pub', 0o777, 0, true],
  ['ro', 0o755, 0, true],
  ['ro/f', 0o644, 0, false],
  ['priv', 0o700, 0, true],
  ['priv/x', 0o644, 0, false],
  ['nosearch', 0o666, 0, true],
  ['nosearch/x', 0o644, 0, false],
  ['tmp', 0o1777, 0, true],
  ['tmp/rootf', 0o666, 0, false],
  ['tmp/userf', 0o644, UID, false],
  ['tmp/userd', 0o755, UID, true],
  ['mine', 0o1777, UID, true],
  ['mine/rootf', 0o644, 0, false],
  ['mine/otherf', 0o644, UID + 1, false],
  ['mine/otherf2', 0o644, UID + 1, false],
  ['secret', 0o600, 0, false],
  ['shared', 0o666, 0, false],
  ['emptyro', 0o755, 0, true],
];

const cases: Array<[string, Op[]]> = [
  ['create in a directory without write permission: EACCES', [['creat', 'ro/g'], ['mkdir', 'ro/d']]],
  ['create in a world-writable directory', [['creat', 'pub/g'], ['mkdir', 'pub/d']]],
  ['lookup in a directory without search permission: EACCES', [['stat', 'priv/x'], ['stat', 'nosearch/x'], ['creat', 'nosearch/y']]],
  ['open a 0600 root file: EACCES; a 0666 one for writing', [['openr', 'secret'], ['openw', 'secret'], ['openw', 'shared'], ['openr', 'ro/f'], ['openw', 'ro/f']]],
  ['unlink in a directory without write permission: EACCES', [['unlink', 'ro/f'], ['rmdir', 'emptyro']]],
  ['sticky directory: another user\'s file cannot be removed or renamed (EPERM)', [['unlink', 'tmp/rootf'], ['rename', 'tmp/rootf', 'tmp/z'], ['rename', 'pub/../shared', 'tmp/rootf']]],
  ['sticky directory: own files and directories can', [['unlink', 'tmp/userf'], ['rename', 'tmp/userd', 'tmp/z'], ['rmdir', 'tmp/z']]],
  ['sticky directory owned by the caller: anything in it can be removed', [['unlink', 'mine/rootf']]],
  // check_sticky(): the directory's owner (uid 1000) may remove a file of
  // uid 1001 without CAP_FOWNER (vfs.checkDeleteSticky's parentKUID).
  ['sticky directory owned by the caller: another user\'s file can be removed or renamed', [['unlink', 'mine/otherf'], ['rename', 'mine/otherf2', 'mine/z']]],
  ['chmod by a non-owner: EPERM; by the owner', [['chmod', 'shared', 0o600], ['chmod', 'tmp/userf', 0o600]]],
  ['rename a directory across parents needs write permission on it', [['mkdir', 'pub/dd'], ['rename', 'pub/dd', 'tmp/dd'], ['rename', 'ro', 'pub/ro2']]],
  ['protected hard links: linking another user\'s unwritable file is EPERM', [['link', 'ro/f', 'pub/l1'], ['link', 'shared', 'pub/l2']]],
];

async function runSandbox(e: Env, op: Op): Promise<string> {
  const user = e.as(UID, GID);
  const { vfsObj } = e;
  const p = (s: string, follow = false) => e.pop('/' + s, { follow });
  try {
    switch (op[0]) {
      case 'creat': (await vfsObj.openAt(user.ctx, user.creds, p(op[1], true), { flags: O_CREAT | O_EXCL | O_WRONLY, mode: 0o644 })).decRef(user.ctx); break;
      case 'openr': (await vfsObj.openAt(user.ctx, user.creds, p(op[1], true), { flags: O_RDONLY })).decRef(user.ctx); break;
      case 'openw': (await vfsObj.openAt(user.ctx, user.creds, p(op[1], true), { flags: O_WRONLY })).decRef(user.ctx); break;
      case 'stat': await vfsObj.statAt(user.ctx, user.creds, p(op[1], true), {}); break;
      case 'unlink': await vfsObj.unlinkAt(user.ctx, user.creds, p(op[1])); break;
      case 'rmdir': await vfsObj.rmdirAt(user.ctx, user.creds, p(op[1])); break;
      case 'mkdir': await vfsObj.mkdirAt(user.ctx, user.creds, p(op[1]), { mode: 0o755 }); break;
      case 'rename': await vfsObj.renameAt(user.ctx, user.creds, p(op[1]), p(op[2]), {}); break;
      case 'link': await vfsObj.linkAt(user.ctx, user.creds, p(op[1]), p(op[2])); break;
      case 'chmod': {
        const stat = newStatx();
        stat.mask = STATX_MODE;
        stat.mode = op[2];
        await vfsObj.setStatAt(user.ctx, user.creds, p(op[1], true), { stat });
        break;
      }
    }
    return 'ok';
  } catch (err) {
    return syserror.fromNodeError(err).code;
  }
}

// hostScript runs the ops as the unprivileged user and prints the results.
const hostScript = `
const fs = require('fs');
const all = [];
for (const [dir, ops] of JSON.parse(process.argv[1])) {
const out = [];
all.push(out);
for (const op of ops) {
  const p = (s) => dir + '/' + s;
  try {
    switch (op[0]) {
      case 'creat': fs.closeSync(fs.openSync(p(op[1]), 'wx', 0o644)); break;
      case 'openr': fs.closeSync(fs.openSync(p(op[1]), 'r')); break;
      case 'openw': fs.closeSync(fs.openSync(p(op[1]), fs.constants.O_WRONLY)); break;
      case 'stat': fs.statSync(p(op[1])); break;
      case 'unlink': fs.unlinkSync(p(op[1])); break;
      case 'rmdir': fs.rmdirSync(p(op[1])); break;
      case 'mkdir': fs.mkdirSync(p(op[1]), 0o755); break;
      case 'rename': fs.renameSync(p(op[1]), p(op[2])); break;
      case 'link': fs.linkSync(p(op[1]), p(op[2])); break;
      case 'chmod': fs.chmodSync(p(op[1]), op[2]); break;
    }
    out.push('ok');
  } catch (err) { out.push(err.code); }
}
}
process.stdout.write(JSON.stringify(all));
`;

async function buildSandboxTree(e: Env): Promise<void> {
  const { ctx, creds, vfsObj } = e;
  // The root is 0755 root:root, as the host temp directory is made.
  const rootStat = newStatx();
  rootStat.mask = STATX_MODE;
  rootStat.mode = 0o755;
  await vfsObj.setStatAt(ctx, creds, e.pop('/'), { stat: rootStat });
  for (const [p, mode, uid, isDir] of tree) {
    const pop = e.pop('/' + p);
    if (isDir) await vfsObj.mkdirAt(ctx, creds, pop, { mode: 0o700 });
    else await vfsObj.mknodAt(ctx, creds, pop, { mode: S_IFREG | 0o600 });
    const stat = newStatx();
    stat.mask = STATX_MODE | STATX_UID | STATX_GID;
    stat.mode = mode;
    stat.uid = uid;
    stat.gid = uid;
    await vfsObj.setStatAt(ctx, creds, pop, { stat });
  }
}

function buildHostTree(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const [p, mode, uid, isDir] of tree) {
    const hp = dir + '/' + p;
    if (isDir) fs.mkdirSync(hp);
    else fs.writeFileSync(hp, '');
    fs.chownSync(hp, uid, uid);
    fs.chmodSync(hp, mode);
  }
}

const canDrop = process.getuid?.() === 0;
const protectedHardlinks = (() => {
  try {
    return fs.readFileSync('/proc/sys/fs/protected_hardlinks', 'utf8').trim() === '1';
  } catch {
    return false;
  }
})();

// The host side of every case runs in one unprivileged child process (one
// Node start-up instead of one per case), each case in its own directory.
let hostResults: string[][] | null = null;
let hostError = '';

test.before(() => {
  if (!canDrop) return;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-perm-'));
  try {
    const work: Array<[string, Op[]]> = cases.map(([, ops], i) => {
      const dir = `${root}/${i}`;
      fs.mkdirSync(dir);
      buildHostTree(dir);
      return [dir, ops];
    });
    fs.chmodSync(root, 0o755);
    const r = spawnSync(process.execPath, ['-e', hostScript, JSON.stringify(work)], { uid: UID, gid: GID, encoding: 'utf8' });
    if (r.status === 0) hostResults = JSON.parse(r.stdout) as string[][];
    else hostError = r.stderr;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

cases.forEach(([name, ops], i) => {
  test(`tmpfs vs host, uid ${UID}: ${name}`, async (t) => {
    if (!canDrop) {
      t.log('SKIPPED: the host side needs root to run as an unprivileged user');
      process.stderr.write(`SKIPPED: ${name}: not root\n`);
      t.pass();
      return;
    }
    if (ops.some((o) => o[0] === 'link') && !protectedHardlinks) {
      t.log('SKIPPED: host has fs.protected_hardlinks=0');
      process.stderr.write(`SKIPPED: ${name}: fs.protected_hardlinks=0\n`);
      t.pass();
      return;
    }
    t.not(hostResults, null, hostError);
    const host = hostResults![i];
    const e = await newEnv('tmpfs');
    t.teardown(() => e.teardown());
    await buildSandboxTree(e);
    const sandbox: string[] = [];
    for (const op of ops) sandbox.push(await runSandbox(e, op));
    t.deepEqual(sandbox, host, JSON.stringify(ops));
  });
});
