// Linux rules the conformance suite found the gofer filesystem missing
// (each checked against the host kernel by `npm start`'s differential run):
// - fifo_open rejects access mode 3 (O_WRONLY|O_RDWR) with EINVAL;
// - getdents64 on a removed directory is ENOENT (iterate_dir, IS_DEADDIR).

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { errnoOf, leakCheck, newGoferRoot, openAt } from './helpers';

test('open of a named pipe on the server with access mode 3 is EINVAL (fifo_open)', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mknodAt(ctx, creds, env.pop('p'), { mode: linux.S_IFIFO | 0o644 });
  t.true(fs.statSync(path.join(env.host, 'p')).isFIFO(), 'the pipe is on the host');
  t.is(await errnoOf(vfsObj.openAt(ctx, creds, env.pop('p'), { flags: linux.O_ACCMODE | linux.O_NONBLOCK })), 'EINVAL');
  await leakCheck(t, env);
});

test('getdents64 on a removed directory is ENOENT (iterate_dir, IS_DEADDIR)', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  const fd = await openAt(env, 'd', linux.O_RDONLY | linux.O_DIRECTORY);
  await vfsObj.rmdirAt(ctx, creds, env.pop('d'));
  t.false(fs.existsSync(path.join(env.host, 'd')), 'gone from the host');
  t.is(await errnoOf(fd.iterDirents(ctx, { handle: () => true })), 'ENOENT');
  fd.decRef(ctx);
  await leakCheck(t, env);
});
