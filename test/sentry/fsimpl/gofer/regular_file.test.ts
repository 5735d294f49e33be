// Regular files of the gofer filesystem (gVisor's regular_file.go, without
// its page cache): data in msize chunks, pread/pwrite, ftruncate and
// fallocate through the file description, shared handles across FDs,
// flags rejected as gVisor rejects them.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { STATX_SIZE, type Statx } from '../../../../pkg/abi/linux/stat';
import { metrics } from '../../../../pkg/sentry/fsimpl/gofer';
import { errnoOf, leakCheck, newGoferRoot, openAt } from './helpers';

function sizeStat(size: number): Statx {
  return {
    mask: STATX_SIZE, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size, blocks: 0,
    attributesMask: 0, atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 },
    mtime: { sec: 0, nsec: 0 }, rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}

test.serial('large writes and reads go in msize chunks and round-trip exactly', async (t) => {
  // Without fd donation, so that data goes by Tread/Twrite (donation.test.ts has the host fd path).
  const env = await newGoferRoot(t, { data: 'msize=16384', donate: false });
  const { ctx } = env;
  const data = Buffer.alloc(300000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  const fd = await openAt(env, 'big', linux.O_CREAT | linux.O_RDWR);
  const w0 = metrics.writes;
  t.is(await fd.pwrite(ctx, data, 0), data.length);
  t.true(metrics.writes - w0 >= Math.ceil(data.length / 16384), `${metrics.writes - w0} Twrites`);
  t.true(fs.readFileSync(path.join(env.host, 'big')).equals(data));
  const back = Buffer.alloc(data.length);
  t.is(await fd.pread(ctx, back, 0), data.length);
  t.true(back.equals(data));
  const mid = Buffer.alloc(1000);
  t.is(await fd.pread(ctx, mid, 123456), 1000);
  t.true(mid.equals(data.subarray(123456, 124456)));
  t.is(await fd.pread(ctx, mid, data.length), 0, 'at end of file');
  fd.decRef(ctx);
  await leakCheck(t, env);
});

test('ftruncate and fallocate through the file description; size seen by stat and the host', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx } = env;
  const fd = await openAt(env, 'f', linux.O_CREAT | linux.O_RDWR);
  await fd.write(ctx, Buffer.from('0123456789'));
  await fd.setStat(ctx, { stat: sizeStat(4) });
  t.is(fs.statSync(path.join(env.host, 'f')).size, 4);
  t.is((await fd.stat(ctx, {})).size, 4);
  await fd.allocate(ctx, 0, 0, 8192);
  t.is(fs.statSync(path.join(env.host, 'f')).size, 8192);
  t.is((await fd.stat(ctx, {})).size, 8192);
  await fd.allocate(ctx, 0, 0, 10);
  t.is((await fd.stat(ctx, {})).size, 8192, 'allocating a smaller size is a no-op');
  fd.decRef(ctx);
  const ro = await openAt(env, 'f', linux.O_RDONLY);
  t.is(await errnoOf(ro.allocate(ctx, 0, 0, 1)), 'EBADF');
  t.is(await errnoOf(ro.write(ctx, Buffer.from('x'))), 'EBADF');
  t.is(await errnoOf(ro.pread(ctx, Buffer.alloc(1), -1)), 'EINVAL');
  t.is(await errnoOf(ro.pread(ctx, Buffer.alloc(1), 0, { flags: 0x2 /* RWF_DSYNC */ })), 'EOPNOTSUPP');
  ro.decRef(ctx);
  await leakCheck(t, env);
});

test('two file descriptions share the dentry handles: a write through one is read through the other', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx } = env;
  const w = await openAt(env, 's', linux.O_CREAT | linux.O_WRONLY);
  const r = await openAt(env, 's', linux.O_RDONLY);
  await w.write(ctx, Buffer.from('shared'));
  const b = Buffer.alloc(16);
  t.is(await r.read(ctx, b), 6);
  t.is(b.subarray(0, 6).toString(), 'shared');
  // The seek offsets are per file description.
  t.is(await w.seek(ctx, 0, linux.SEEK_CUR), 6);
  t.is(await r.seek(ctx, 0, linux.SEEK_CUR), 6);
  t.is(await r.seek(ctx, 2, linux.SEEK_SET), 2);
  t.is(await r.read(ctx, b), 4);
  w.decRef(ctx);
  r.decRef(ctx);
  // O_DSYNC writes go through and sync.
  const ds = await openAt(env, 's', linux.O_WRONLY | linux.O_DSYNC);
  t.is(await ds.pwrite(ctx, Buffer.from('S'), 0), 1);
  ds.decRef(ctx);
  t.is(fs.readFileSync(path.join(env.host, 's'), 'utf8'), 'Shared');
  await leakCheck(t, env);
});
