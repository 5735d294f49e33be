// Path and rename edge cases through the VFS over tmpfs, compared errno for
// errno with the host kernel (DESIGN decision 9: the host is the oracle).
// Each case runs the same sequence of operations on a fresh host temp
// directory (Node's fs, which issues the syscalls as given, trailing
// slashes and all) and on a fresh tmpfs root, and compares every result.

import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { O_CREAT, O_EXCL, O_WRONLY, S_IFMT } from '../../../pkg/abi/linux/file';
import { RENAME_NOREPLACE } from '../../../pkg/abi/linux/file';
import * as syserror from '../../../pkg/syserror/syserror';
import { newEnv, type Env } from './harness';

type Op =
  | ['mkdir', string]
  | ['creat', string]
  | ['symlink', string, string]
  | ['rename', string, string]
  | ['rmdir', string]
  | ['unlink', string]
  | ['link', string, string]
  | ['stat', string]
  | ['lstat', string];

// result is "ok", "ok:<file type>" for stats, or an errno name.
async function runSandbox(e: Env, op: Op): Promise<string> {
  const { ctx, creds, vfsObj } = e;
  const p = (s: string, follow = false) => e.pop('/' + s, { follow });
  try {
    switch (op[0]) {
      case 'mkdir': await vfsObj.mkdirAt(ctx, creds, p(op[1]), { mode: 0o755 }); break;
      case 'creat': (await vfsObj.openAt(ctx, creds, p(op[1], true), { flags: O_CREAT | O_EXCL | O_WRONLY, mode: 0o644 })).decRef(ctx); break;
      case 'symlink': await vfsObj.symlinkAt(ctx, creds, p(op[2]), op[1]); break;
      case 'rename': await vfsObj.renameAt(ctx, creds, p(op[1]), p(op[2]), {}); break;
      case 'rmdir': await vfsObj.rmdirAt(ctx, creds, p(op[1])); break;
      case 'unlink': await vfsObj.unlinkAt(ctx, creds, p(op[1])); break;
      case 'link': await vfsObj.linkAt(ctx, creds, p(op[1]), p(op[2])); break;
      case 'stat': return 'ok:' + ((await vfsObj.statAt(ctx, creds, p(op[1], true), {})).mode & S_IFMT).toString(8);
      case 'lstat': return 'ok:' + ((await vfsObj.statAt(ctx, creds, p(op[1], false), {})).mode & S_IFMT).toString(8);
    }
    return 'ok';
  } catch (err) {
    return syserror.fromNodeError(err).code;
  }
}

function runHost(dir: string, op: Op): string {
  // No path.join: it would fold "." and ".." away before the kernel sees them.
  const p = (s: string) => dir + '/' + s;
  try {
    switch (op[0]) {
      case 'mkdir': fs.mkdirSync(p(op[1]), 0o755); break;
      case 'creat': fs.closeSync(fs.openSync(p(op[1]), 'wx', 0o644)); break;
      case 'symlink': fs.symlinkSync(op[1], p(op[2])); break;
      case 'rename': fs.renameSync(p(op[1]), p(op[2])); break;
      case 'rmdir': fs.rmdirSync(p(op[1])); break;
      case 'unlink': fs.unlinkSync(p(op[1])); break;
      case 'link': fs.linkSync(p(op[1]), p(op[2])); break;
      case 'stat': return 'ok:' + (fs.statSync(p(op[1])).mode & S_IFMT).toString(8);
      case 'lstat': return 'ok:' + (fs.lstatSync(p(op[1])).mode & S_IFMT).toString(8);
    }
    return 'ok';
  } catch (err) {
    return syserror.fromNodeError(err).code;
  }
}

// Every case starts from: d/ (with d/sub/ and d/sub/f), e/ (empty dir),
// f (file), l -> d (symlink).
const base: Op[] = [['mkdir', 'd'], ['mkdir', 'd/sub'], ['creat', 'd/sub/f'], ['mkdir', 'e'], ['creat', 'f'], ['symlink', 'd', 'l']];

// A case with a third element is a known divergence of another package from
// Linux: it runs as test.failing (ava reports it, and fails it once fixed).
const cases: Array<[string, Op[], string?]> = [
  ['rename a file onto itself', [['rename', 'f', 'f'], ['stat', 'f']]],
  ['rename a directory onto itself', [['rename', 'd', 'd'], ['stat', 'd']]],
  ['rename between two hard links of one file does nothing', [['link', 'f', 'g'], ['rename', 'f', 'g'], ['stat', 'f'], ['stat', 'g']]],
  ['rename a directory over a non-empty directory: ENOTEMPTY', [['rename', 'e', 'd']]],
  ['rename a directory over an empty directory', [['rename', 'd', 'e'], ['stat', 'e/sub/f'], ['stat', 'd']]],
  ['rename a directory into its own subdirectory: EINVAL', [['rename', 'd', 'd/sub/x']]],
  ['rename a directory onto its own subdirectory', [['rename', 'd', 'd/sub']]],
  ['rename a subdirectory onto its ancestor: ENOTEMPTY', [['rename', 'd/sub', 'd']]],
  ['rename a file over a directory: EISDIR', [['rename', 'f', 'e']]],
  ['rename a directory over a file: ENOTDIR', [['rename', 'e', 'f']]],
  ['rename with a trailing slash on a file source', [['rename', 'f/', 'g']]],
  ['rename a file to a trailing-slash target', [['rename', 'f', 'g/']]],
  ['rename a directory to a trailing-slash target', [['rename', 'e/', 'g/'], ['stat', 'g']]],
  ['rename a missing file: ENOENT', [['rename', 'nope', 'g']]],
  ['rename to "..": EBUSY', [['rename', 'f', 'd/..']]],
  ['rename ".": EBUSY', [['rename', 'd/.', 'g']]],
  ['rename a symlink renames the link', [['rename', 'l', 'm'], ['lstat', 'm'], ['stat', 'm/sub/f']]],
  ['rename into a missing directory: ENOENT', [['rename', 'f', 'nope/g']]],
  ['rename through a file: ENOTDIR', [['rename', 'f', 'f/g']]],
  ['mkdir with a trailing slash', [['mkdir', 'n/'], ['stat', 'n']]],
  ['mkdir over an existing file: EEXIST', [['mkdir', 'f']]],
  ['mkdir over a dangling symlink: EEXIST', [['symlink', 'nowhere', 'dl'], ['mkdir', 'dl']]],
  ['creat with a trailing slash: EISDIR', [['creat', 'g/']]],
  ['creat through a dangling symlink creates the target', [['symlink', 'made', 'dl'], ['creat', 'dl'], ['lstat', 'made']]],
  ['symlink with a trailing slash', [['symlink', 'x', 's/']]],
  ['link with a trailing slash on the target', [['link', 'f', 'g/']]],
  ['link to a directory: EPERM', [['link', 'd', 'g']]],
  ['link over an existing name: EEXIST', [['link', 'f', 'e']]],
  ['unlink a directory: EISDIR', [['unlink', 'd']]],
  ['unlink a file with a trailing slash: ENOTDIR', [['unlink', 'f/']]],
  ['unlink a symlink to a directory with a trailing slash', [['unlink', 'l/']]],
  ['unlink a symlink removes the link only', [['unlink', 'l'], ['stat', 'd']]],
  ['rmdir a file: ENOTDIR', [['rmdir', 'f']]],
  ['rmdir a non-empty directory: ENOTEMPTY', [['rmdir', 'd']]],
  ['rmdir "." : EINVAL', [['rmdir', 'e/.']]],
  ['rmdir "..": ENOTEMPTY', [['rmdir', 'd/sub/..']]],
  ['rmdir with a trailing slash', [['rmdir', 'e/'], ['stat', 'e']]],
  ['rmdir a symlink to a directory: ENOTDIR', [['rmdir', 'l']]],
  ['stat with a trailing slash on a file: ENOTDIR', [['stat', 'f/']]],
  ['lstat with a trailing slash follows the symlink', [['lstat', 'l/'], ['lstat', 'l']]],
  ['".." through a symlink is the target\'s parent', [['stat', 'l/sub/../sub/f']]],
  ['symlink loop: ELOOP', [['symlink', 'b', 'a'], ['symlink', 'a', 'b'], ['stat', 'a'], ['lstat', 'a'], ['creat', 'a']]],
  ['self symlink: ELOOP', [['symlink', 'self', 'self'], ['stat', 'self/x']]],
  ['component of 255 bytes', [['mkdir', 'x'.repeat(255)], ['stat', 'x'.repeat(255)]]],
  ['component of 256 bytes: ENAMETOOLONG', [['mkdir', 'x'.repeat(256)], ['stat', 'x'.repeat(256)], ['creat', 'd/' + 'y'.repeat(256)]]],
  ['a long path of short components', [['stat', Array(1000).fill('.').join('/') + '/f']]],
  ['creat over a symlink (O_EXCL does not follow): EEXIST', [['creat', 'l']]],
  ['mkdir over a symlink with a trailing slash: EEXIST', [['mkdir', 'l/']]],
  ['mkdir through a symlink to a directory', [['mkdir', 'l/new'], ['stat', 'd/new']]],
  ['symlink over an existing name: EEXIST', [['symlink', 'x', 'f'], ['symlink', 'x', 'd']]],
  ['rmdir a symlink to a directory with a trailing slash', [['rmdir', 'l/']]],
  ['rename a symlink to a directory with a trailing slash', [['rename', 'l/', 'm']]],
  ['rename a file over a symlink replaces the link', [['rename', 'f', 'l'], ['lstat', 'l'], ['stat', 'd']]],
  ['rename a directory into a symlinked path of itself: EINVAL', [['rename', 'd', 'l/sub/x']]],
  ['link of a symlink links the symlink itself', [['link', 'l', 'l2'], ['lstat', 'l2']]],
  ['"." and ".." as the last component of creation: EEXIST', [['mkdir', 'd/.'], ['mkdir', 'd/..'], ['symlink', 'x', 'd/.']]],
  ['unlink "." and "..": EISDIR', [['unlink', 'd/.'], ['unlink', 'd/..']]],
];

for (const [name, ops, knownBug] of cases) {
  const declare = knownBug === undefined ? test : test.failing;
  declare(`tmpfs vs host: ${name}${knownBug === undefined ? '' : ` [${knownBug}]`}`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-diff-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const e = await newEnv('tmpfs');
    t.teardown(() => e.teardown());
    for (const op of base) {
      t.is(runHost(dir, op), 'ok');
      t.is(await runSandbox(e, op), 'ok');
    }
    const host: string[] = [];
    const sandbox: string[] = [];
    for (const op of ops) {
      host.push(runHost(dir, op));
      sandbox.push(await runSandbox(e, op));
    }
    t.deepEqual(sandbox, host, JSON.stringify(ops.map((o) => o.map((s) => (s.length > 20 ? s.slice(0, 8) + '…' : s)))));
  });
}

test('tmpfs: RENAME_NOREPLACE over an existing name is EEXIST; RENAME_EXCHANGE is EINVAL (as gVisor)', async (t) => {
  const e = await newEnv('tmpfs');
  t.teardown(() => e.teardown());
  for (const op of base) await runSandbox(e, op);
  await t.throwsAsync(e.vfsObj.renameAt(e.ctx, e.creds, e.pop('/f'), e.pop('/e'), { flags: RENAME_NOREPLACE }), { is: syserror.EEXIST });
  await e.vfsObj.renameAt(e.ctx, e.creds, e.pop('/f'), e.pop('/g'), { flags: RENAME_NOREPLACE });
  await t.throwsAsync(e.vfsObj.renameAt(e.ctx, e.creds, e.pop('/g'), e.pop('/e'), { flags: 2 }), { is: syserror.EINVAL });
});
