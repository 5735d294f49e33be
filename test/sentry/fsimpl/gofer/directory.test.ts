// Directories of the gofer filesystem (gVisor's directory.go): getdents
// offsets and lseek, the dirent cache of exclusive mode (a second listing
// needs no Treaddir until the directory changes), synthetic children
// listed, and listings whose cost grows linearly with the entries
// (gVisor issue #6578).

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { metrics } from '../../../../pkg/sentry/fsimpl/gofer';
import type * as vfs from '../../../../pkg/sentry/vfs';
import { errnoOf, leakCheck, listDir, newGoferRoot, openAt, type Env } from './helpers';

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

test('getdents: ".", "..", then the host entries with offsets 1, 2, 3...; types and inode numbers', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx, creds, vfsObj } = env;
  fs.mkdirSync(path.join(env.host, 'd/sub'), { recursive: true });
  fs.writeFileSync(path.join(env.host, 'd/f'), '');
  fs.symlinkSync('f', path.join(env.host, 'd/l'));
  const fd = await openAt(env, 'd', linux.O_RDONLY | linux.O_DIRECTORY);
  const all = await readN(env, fd, 100);
  t.deepEqual(all.map((d) => d.nextOff), all.map((_, i) => i + 1));
  t.deepEqual(all.slice(0, 2).map((d) => d.name), ['.', '..']);
  const byName = new Map(all.map((d) => [d.name, d]));
  t.deepEqual([...byName.keys()].sort(), ['.', '..', 'f', 'l', 'sub']);
  t.is(byName.get('sub')!.type, linux.DT_DIR);
  t.is(byName.get('l')!.type, linux.DT_LNK);
  t.is(byName.get('f')!.type, linux.DT_REG);
  t.is(byName.get('f')!.ino, (await vfsObj.statAt(ctx, creds, env.pop('d/f'), {})).ino, 'dirent ino is the stat ino');
  t.is(byName.get('.')!.ino, (await vfsObj.statAt(ctx, creds, env.pop('d'), {})).ino);
  t.is(byName.get('..')!.ino, (await vfsObj.statAt(ctx, creds, env.pop('/'), {})).ino);
  // Resume in the middle, and rewind.
  t.is(await fd.seek(ctx, 3, linux.SEEK_SET), 3);
  t.deepEqual((await readN(env, fd, 100)).map((d) => d.name), all.slice(3).map((d) => d.name));
  t.deepEqual(await readN(env, fd, 100), [], 'end of directory');
  t.is(await fd.seek(ctx, 0, linux.SEEK_SET), 0);
  t.is((await readN(env, fd, 100)).length, all.length);
  t.is(await errnoOf(fd.seek(ctx, 0, linux.SEEK_END)), 'EINVAL');
  t.is(await errnoOf(fd.seek(ctx, -1, linux.SEEK_SET)), 'EINVAL');
  t.is(await errnoOf(fd.read(ctx, Buffer.alloc(1))), 'EISDIR');
  t.is(await errnoOf(openAt(env, 'd', linux.O_WRONLY)), 'EISDIR');
  fd.decRef(ctx);
  await leakCheck(t, env);
});

test.serial('exclusive: dirents are cached until the directory changes', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx } = env;
  for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(env.host, `e${i}`), '');
  t.is((await listDir(env, '/')).length, 7);
  const before = metrics.messages;
  t.is((await listDir(env, '/')).length, 7);
  t.is(metrics.messages - before, 0, 'no message for a cached listing');
  (await openAt(env, 'new', linux.O_CREAT | linux.O_WRONLY)).decRef(ctx);
  t.true((await listDir(env, '/')).includes('new'), 'a change made through the client invalidates the cache');
  await leakCheck(t, env);
});

test.serial('listing 10,000 entries costs O(entries): Treaddir batches, one walk per stat', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx, creds, vfsObj } = env;
  const n = 10000;
  fs.mkdirSync(path.join(env.host, 'big'));
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(env.host, 'big', `entry-${i}`), '');
  const m0 = metrics.messages;
  const names = (await listDir(env, 'big')).filter((x) => x !== '.' && x !== '..');
  t.is(names.length, n);
  const readdirMessages = metrics.messages - m0;
  t.true(readdirMessages < n / 50, `${readdirMessages} messages to list ${n} entries`);
  const m1 = metrics.messages;
  for (const name of names.slice(0, 200)) await vfsObj.statAt(ctx, creds, env.pop(`big/${name}`), {});
  t.true(metrics.messages - m1 <= 200 * 2 + 10, 'one lookup (and at most one clunk) per new name');
  await leakCheck(t, env);
});
