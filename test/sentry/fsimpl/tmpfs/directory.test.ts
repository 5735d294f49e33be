// Directories through the VFS: getdents (iterDirents) offsets, the cursor
// that keeps them stable across concurrent changes (gVisor's directoryFD,
// after Linux's dcache_readdir), lseek on directories, st_size and nlink.

import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import type * as vfs from '../../../../pkg/sentry/vfs';
import { errnoOf, listDir, newTmpfsRoot, openAt, type Env } from './helpers';

async function touch(env: Env, path: string): Promise<void> {
  (await openAt(env, path, linux.O_CREAT | linux.O_WRONLY, 0o644)).decRef(env.ctx);
}

/** readN reads up to n dirents (the callback throws to stop, as a full getdents buffer does). */
async function readN(env: Env, fd: vfs.FileDescription, n: number): Promise<vfs.Dirent[]> {
  const got: vfs.Dirent[] = [];
  const full = new Error('buffer full');
  try {
    await fd.iterDirents(env.ctx, {
      handle(d) {
        if (got.length === n) throw full;
        got.push(d);
      },
    });
  } catch (err) {
    if (err !== full) throw err;
  }
  return got;
}

test('getdents: ".", "..", then children in creation order, with offsets 1, 2, 3...', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await touch(env, 'd/b');
  await vfsObj.mkdirAt(ctx, creds, env.pop('d/a'), { mode: 0o755 });
  await vfsObj.symlinkAt(ctx, creds, env.pop('d/c'), 'b');
  await vfsObj.mknodAt(ctx, creds, env.pop('d/p'), { mode: linux.S_IFIFO | 0o600 });
  const fd = await openAt(env, 'd', linux.O_RDONLY | linux.O_DIRECTORY);
  t.teardown(() => fd.decRef(ctx));
  const all = await readN(env, fd, 100);
  t.deepEqual(all.map((d) => [d.name, d.type, d.nextOff]), [
    ['.', linux.DT_DIR, 1], ['..', linux.DT_DIR, 2], ['b', linux.DT_REG, 3], ['a', linux.DT_DIR, 4],
    ['c', linux.DT_LNK, 5], ['p', linux.DT_FIFO, 6],
  ]);
  const dStat = await vfsObj.statAt(ctx, creds, env.pop('d'), {});
  const rootStat = await vfsObj.statAt(ctx, creds, env.pop('/'), {});
  t.is(all[0].ino, dStat.ino);
  t.is(all[1].ino, rootStat.ino);
  t.deepEqual(await readN(env, fd, 100), [], 'at the end, nothing more');
  // The root's ".." is itself.
  const rfd = await openAt(env, '/', linux.O_RDONLY);
  t.teardown(() => rfd.decRef(ctx));
  const r = await readN(env, rfd, 2);
  t.is(r[1].ino, rootStat.ino);
});

test('getdents: entries added or removed between calls are neither repeated nor lost', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  for (const n of ['f0', 'f1', 'f2', 'f3', 'f4']) await touch(env, n);
  const fd = await openAt(env, '/', linux.O_RDONLY | linux.O_DIRECTORY);
  t.teardown(() => fd.decRef(ctx));
  const first = await readN(env, fd, 4); // ., .., f0, f1
  t.deepEqual(first.map((d) => d.name), ['.', '..', 'f0', 'f1']);
  await vfsObj.unlinkAt(ctx, creds, env.pop('f0')); // already read
  await vfsObj.unlinkAt(ctx, creds, env.pop('f3')); // not yet read
  await touch(env, 'f5'); // new, at the end
  const rest = await readN(env, fd, 100);
  t.deepEqual(rest.map((d) => d.name), ['f2', 'f4', 'f5']);
  // A second reader and concurrent iteration do not disturb each other.
  const fd2 = await openAt(env, '/', linux.O_RDONLY | linux.O_DIRECTORY);
  t.teardown(() => fd2.decRef(ctx));
  const a = await readN(env, fd2, 3);
  t.deepEqual(a.map((d) => d.name), ['.', '..', 'f1']);
  t.deepEqual(await listDir(env, '/'), ['.', '..', 'f1', 'f2', 'f4', 'f5']);
  t.deepEqual((await readN(env, fd2, 100)).map((d) => d.name), ['f2', 'f4', 'f5']);
});

test('getdents: lseek to a dirent offset resumes there; SEEK_CUR 0 does not move; SEEK_END is EINVAL', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx } = env;
  for (const n of ['a', 'b', 'c']) await touch(env, n);
  const fd = await openAt(env, '/', linux.O_RDONLY | linux.O_DIRECTORY);
  t.teardown(() => fd.decRef(ctx));
  const all = await readN(env, fd, 100);
  t.is(all.length, 5);
  // seekdir(telldir) after "a": nextOff of "a" is 3.
  t.is(await fd.seek(ctx, all[2].nextOff, linux.SEEK_SET), 3);
  t.deepEqual((await readN(env, fd, 100)).map((d) => d.name), ['b', 'c']);
  t.is(await fd.seek(ctx, 0, linux.SEEK_SET), 0, 'rewinddir');
  t.deepEqual((await readN(env, fd, 1)).map((d) => d.name), ['.']);
  t.is(await fd.seek(ctx, 0, linux.SEEK_CUR), 1);
  t.deepEqual((await readN(env, fd, 1)).map((d) => d.name), ['..']);
  t.is(await fd.seek(ctx, 100, linux.SEEK_SET), 100, 'past the end');
  t.deepEqual(await readN(env, fd, 100), []);
  t.is(await errnoOf(fd.seek(ctx, 0, linux.SEEK_END)), 'EINVAL');
  t.is(await errnoOf(fd.seek(ctx, -1, linux.SEEK_SET)), 'EINVAL');
});

test('directories: read/write EISDIR, open for writing EISDIR, size 20 per entry, nlink counts subdirectories', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  const fd = await openAt(env, 'd', linux.O_RDONLY);
  t.teardown(() => fd.decRef(ctx));
  t.is(await errnoOf(fd.read(ctx, Buffer.alloc(1))), 'EISDIR');
  t.is(await errnoOf(fd.pread(ctx, Buffer.alloc(1), 0)), 'EISDIR');
  t.is(await errnoOf(openAt(env, 'd', linux.O_WRONLY)), 'EISDIR');
  t.is(await errnoOf(openAt(env, 'd', linux.O_RDWR)), 'EISDIR');
  await vfsObj.mkdirAt(ctx, creds, env.pop('d/s1'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('d/s2'), { mode: 0o755 });
  await touch(env, 'd/f');
  const st = await vfsObj.statAt(ctx, creds, env.pop('d'), {});
  t.is(st.nlink, 4, '2 + one per subdirectory');
  t.is(st.size, 20 * 5);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('/'), {})).nlink, 3);
  await vfsObj.rmdirAt(ctx, creds, env.pop('d/s1'));
  t.is((await vfsObj.statAt(ctx, creds, env.pop('d'), {})).nlink, 3);
});

test('rmdir: ENOTEMPTY, "." EINVAL, ".." ENOTEMPTY, a file ENOTDIR, missing ENOENT; the removed directory stays usable by its open fd', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await touch(env, 'd/f');
  const rmdir = (p: string) => errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop(p)));
  t.is(await rmdir('d'), 'ENOTEMPTY');
  t.is(await rmdir('d/.'), 'EINVAL');
  t.is(await rmdir('d/..'), 'ENOTEMPTY');
  t.is(await rmdir('d/f'), 'ENOTDIR');
  t.is(await rmdir('nope'), 'ENOENT');
  await vfsObj.unlinkAt(ctx, creds, env.pop('d/f'));
  const fd = await openAt(env, 'd', linux.O_RDONLY);
  t.teardown(() => fd.decRef(ctx));
  t.is(await rmdir('d'), 'ok');
  // Linux's iterate_dir: a removed directory lists nothing, ENOENT
  // (gVisor at dbe41765 still listed "." and "..").
  t.is(await errnoOf(readN(env, fd, 100)), 'ENOENT');
  t.is((await fd.stat(ctx, {})).nlink, 0, 'a removed directory has no links');
  // Creating in a removed directory: ENOENT (relative to the open fd).
  t.is(await errnoOf(vfsObj.mkdirAt(ctx, creds, env.pop('x', false, fd.virtualDentry()), { mode: 0o755 })), 'ENOENT');
});
