// gVisor's pkg/sentry/fsimpl/tmpfs/regular_file_test.go, plus O_APPEND,
// lseek (SEEK_DATA/SEEK_HOLE as Linux's tmpfs), truncate and fallocate.

import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import { STATX_SIZE, newStatx } from '../../../../pkg/abi/linux/stat';
import * as fslock from '../../../../pkg/sentry/fs/lock';
import { newMemfd, regularFileFD } from '../../../../pkg/sentry/fsimpl/tmpfs/regular_file';
import { errnoOf, leakCheck, newFileFD, newTmpfsRoot, nsOf, openAt, readAll } from './helpers';

// gVisor TestSimpleWriteRead: we can write some data to a file and read it back.
test('SimpleWriteRead: write, seek to 0, read back; offsets follow', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  const data = Buffer.from('foobarbaz');
  t.is(await fd.write(ctx, data), data.length);
  t.is((fd.impl as regularFileFD).off, data.length);
  t.is(await fd.seek(ctx, 0, linux.SEEK_SET), 0);
  t.is((fd.impl as regularFileFD).off, 0);
  const buf = Buffer.alloc(data.length);
  t.is(await fd.read(ctx, buf), data.length);
  t.deepEqual(buf, data);
  t.is((fd.impl as regularFileFD).off, data.length);
  // At EOF, read returns 0 (gVisor: io.EOF).
  t.is(await fd.read(ctx, Buffer.alloc(4)), 0);
});

// gVisor TestPWrite: "gVisor is awesome" at various offsets over 1000 'a's.
test('PWrite at various offsets, pread of the whole file matches', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  let data = Buffer.alloc(1000, 'a');
  t.is(await fd.write(ctx, data), 1000);
  const buf = Buffer.from('gVisor is awesome');
  for (const offset of [0, 1, 2, 10, 20, 50, 100, 900, 999, 1000, 1001]) {
    t.is(await fd.pwrite(ctx, buf, offset), buf.length, `pwrite at ${offset}`);
    if (data.length < offset + buf.length) data = Buffer.concat([data, Buffer.alloc(offset + buf.length - data.length)]);
    buf.copy(data, offset);
    const readBuf = Buffer.alloc(data.length);
    t.is(await fd.pread(ctx, readBuf, 0), data.length);
    t.deepEqual(readBuf, data, `contents after pwrite at ${offset}`);
  }
  // pwrite does not move the file offset.
  t.is((fd.impl as regularFileFD).off, 1000);
});

// gVisor TestLocks: BSD and POSIX locks through the FileDescriptionImpl.
test('Locks: flock read/write conflicts, POSIX ranges', async (t) => {
  const { fd, env } = await newFileFD(t);
  const { ctx } = env;
  const uid1 = { id: 123 };
  const uid2 = { id: 456 };
  await fd.impl.lockBSD(ctx, uid1, fslock.ReadLock, false);
  await fd.impl.lockBSD(ctx, uid2, fslock.ReadLock, false);
  t.is(await errnoOf(fd.impl.lockBSD(ctx, uid2, fslock.WriteLock, false)), 'EAGAIN');
  await fd.impl.unlockBSD(ctx, uid1);
  await fd.impl.lockBSD(ctx, uid2, fslock.WriteLock, false);

  await fd.impl.lockPOSIX(ctx, uid1, fslock.ReadLock, 0, 1, linux.SEEK_SET, false);
  await fd.impl.lockPOSIX(ctx, uid2, fslock.ReadLock, 1, 2, linux.SEEK_SET, false);
  await fd.impl.lockPOSIX(ctx, uid1, fslock.WriteLock, 0, 1, linux.SEEK_SET, false);
  t.is(await errnoOf(fd.impl.lockPOSIX(ctx, uid2, fslock.ReadLock, 0, 1, linux.SEEK_SET, false)), 'EAGAIN');
  await fd.impl.unlockPOSIX(ctx, uid1, 0, 1, linux.SEEK_SET);
  await fd.impl.unlockBSD(ctx, uid2);
});

// gVisor TestPRead: sizes x offsets over 100 copies of "gVisor is awsome".
test('PRead of various sizes at various offsets', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  const data = Buffer.from('gVisor is awsome'.repeat(100));
  t.is(await fd.write(ctx, data), data.length);
  for (const size of [0, 1, 2, 10, 20, 50, 100, 1000]) {
    for (const offset of [0, 1, 2, 10, 20, 50, 100, 1000, data.length - 100, data.length - 1, data.length, data.length + 1]) {
      const want = offset < data.length ? data.subarray(offset, Math.min(data.length, offset + size)) : Buffer.alloc(0);
      const buf = Buffer.alloc(size);
      const n = await fd.pread(ctx, buf, offset);
      t.is(n, want.length, `pread offset=${offset} size=${size}`);
      t.deepEqual(buf.subarray(0, n), want);
    }
  }
  t.is(await errnoOf(fd.pread(ctx, Buffer.alloc(1), -1)), 'EINVAL');
});

// gVisor TestTruncate, with Linux's timestamps: truncate(2) to the current
// size still bumps mtime and ctime (gVisor at dbe41765 leaves them; Linux's
// do_truncate passes ATTR_MTIME|ATTR_CTIME).
test('Truncate down, up (zero-filled), and to the same size', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  const data = Buffer.from('gVisor is awsome'.repeat(100));
  const written = await fd.write(ctx, data);
  const stat = await fd.stat(ctx, { mask: STATX_SIZE });
  t.is(stat.size, written);

  const setSize = (size: number) => {
    const s = newStatx();
    s.mask = STATX_SIZE;
    s.size = size;
    return fd.setStat(ctx, { stat: s });
  };
  // Truncate down.
  await setSize(10);
  const down = await fd.stat(ctx, {});
  t.is(down.size, 10);
  t.is(await fd.pread(ctx, Buffer.alloc(1000), 0), 10);
  t.true(nsOf(down.mtime) > nsOf(stat.mtime), 'mtime bumped');
  t.true(nsOf(down.ctime) > nsOf(stat.ctime), 'ctime bumped');

  // Truncate up.
  await setSize(100);
  const up = await fd.stat(ctx, {});
  t.is(up.size, 100);
  const buf = Buffer.alloc(1000);
  t.is(await fd.pread(ctx, buf, 0), 100);
  t.deepEqual(buf.subarray(0, 10), data.subarray(0, 10));
  t.true(buf.subarray(10, 100).every((b) => b === 0), 'bytes after the old EOF read as zero');
  t.true(nsOf(up.mtime) > nsOf(down.mtime));
  t.true(nsOf(up.ctime) > nsOf(down.ctime));

  // Truncate to the current size: Linux still updates mtime and ctime.
  await setSize(100);
  const same = await fd.stat(ctx, {});
  t.is(same.size, 100);
  t.true(nsOf(same.mtime) > nsOf(up.mtime));
  t.true(nsOf(same.ctime) > nsOf(up.ctime));
});

test('O_APPEND writes go to the end, whatever the offset', async (t) => {
  const { env, name } = await newFileFD(t);
  const { ctx } = env;
  const fd = await openAt(env, name, linux.O_WRONLY | linux.O_APPEND);
  t.teardown(() => fd.decRef(ctx));
  await fd.write(ctx, Buffer.from('abc'));
  await fd.seek(ctx, 0, linux.SEEK_SET);
  await fd.write(ctx, Buffer.from('def'));
  // pwrite with O_APPEND appends too (Linux, not POSIX).
  await fd.pwrite(ctx, Buffer.from('ghi'), 0);
  const rfd = await openAt(env, name, linux.O_RDONLY);
  t.teardown(() => rfd.decRef(ctx));
  t.is((await readAll(ctx, rfd)).toString(), 'abcdefghi');
  t.is(await fd.seek(ctx, 0, linux.SEEK_CUR), 6, 'write leaves the offset after the appended data');
});

test('lseek: SEEK_SET/CUR/END, negative results EINVAL, bad whence EINVAL', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  await fd.write(ctx, Buffer.alloc(100, 1));
  t.is(await fd.seek(ctx, 10, linux.SEEK_SET), 10);
  t.is(await fd.seek(ctx, 5, linux.SEEK_CUR), 15);
  t.is(await fd.seek(ctx, -20, linux.SEEK_END), 80);
  t.is(await fd.seek(ctx, 1000, linux.SEEK_SET), 1000, 'seeking past EOF is allowed');
  t.is(await errnoOf(fd.seek(ctx, -1, linux.SEEK_SET)), 'EINVAL');
  t.is(await errnoOf(fd.seek(ctx, -101, linux.SEEK_END)), 'EINVAL');
  t.is(await errnoOf(fd.seek(ctx, 0, 7)), 'EINVAL');
  // Writing past EOF leaves a hole that reads as zeroes.
  await fd.seek(ctx, 10000, linux.SEEK_SET);
  await fd.write(ctx, Buffer.from('x'));
  const all = await readAll(ctx, fd);
  t.is(all.length, 10001);
  t.true(all.subarray(100, 10000).every((b) => b === 0));
});

// Values checked against Linux 6.x tmpfs (/dev/shm): data is page granular;
// EOF is a hole; offsets at or past EOF are ENXIO; fallocated pages that
// were never written are holes.
test('lseek SEEK_DATA/SEEK_HOLE as Linux tmpfs', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  await fd.pwrite(ctx, Buffer.from('x'), 10000); // page 2
  const cases: [number, number, number | string][] = [
    [0, linux.SEEK_DATA, 8192],
    [0, linux.SEEK_HOLE, 0],
    [9000, linux.SEEK_HOLE, 10001],
    [9000, linux.SEEK_DATA, 9000],
    [10001, linux.SEEK_DATA, 'ENXIO'],
    [10001, linux.SEEK_HOLE, 'ENXIO'],
    [-1, linux.SEEK_DATA, 'ENXIO'],
  ];
  for (const [off, whence, want] of cases) {
    const got = typeof want === 'number' ? await fd.seek(ctx, off, whence) : await errnoOf(fd.seek(ctx, off, whence));
    t.is(got, want, `lseek(${off}, ${whence === linux.SEEK_DATA ? 'SEEK_DATA' : 'SEEK_HOLE'})`);
  }
  await fd.allocate(ctx, 0, 20000, 10000);
  t.is((await fd.stat(ctx, {})).size, 30000);
  t.is(await errnoOf(fd.seek(ctx, 12288, linux.SEEK_DATA)), 'ENXIO', 'fallocated pages are not data');
  t.is(await fd.seek(ctx, 12288, linux.SEEK_HOLE), 12288);
});

test('fallocate: modes and st_blocks as Linux tmpfs', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  await fd.pwrite(ctx, Buffer.from('x'), 10000);
  t.is((await fd.stat(ctx, {})).blocks, 8, 'one page');
  await fd.allocate(ctx, 0, 20000, 10000); // pages 4..7
  let st = await fd.stat(ctx, {});
  t.is(st.size, 30000);
  t.is(st.blocks, 40);
  await fd.allocate(ctx, linux.FALLOC_FL_KEEP_SIZE, 40000, 5000); // pages 9..10
  st = await fd.stat(ctx, {});
  t.is(st.size, 30000, 'KEEP_SIZE keeps the size');
  t.is(st.blocks, 56);
  await fd.allocate(ctx, linux.FALLOC_FL_PUNCH_HOLE | linux.FALLOC_FL_KEEP_SIZE, 8192, 4096);
  st = await fd.stat(ctx, {});
  t.is(st.blocks, 48, 'punched page released');
  const b = Buffer.alloc(3, 1);
  await fd.pread(ctx, b, 10000);
  t.deepEqual(b, Buffer.alloc(3), 'punched range reads zero');
  t.is(await errnoOf(fd.allocate(ctx, linux.FALLOC_FL_PUNCH_HOLE, 0, 10)), 'EOPNOTSUPP');
  t.is(await errnoOf(fd.allocate(ctx, linux.FALLOC_FL_ZERO_RANGE, 0, 10)), 'EOPNOTSUPP');
  t.is(await errnoOf(fd.allocate(ctx, 0, 0, 0)), 'EINVAL');
  t.is(await errnoOf(fd.allocate(ctx, 0, -1, 10)), 'EINVAL');
  // A punch inside a page zeroes just that range.
  await fd.pwrite(ctx, Buffer.from('abcdefghij'), 0);
  await fd.allocate(ctx, linux.FALLOC_FL_PUNCH_HOLE | linux.FALLOC_FL_KEEP_SIZE, 2, 3);
  const c = Buffer.alloc(10);
  await fd.pread(ctx, c, 0);
  t.deepEqual(c, Buffer.from('ab\0\0\0fghij'));
});

test('read/write on a read-only or write-only description: EBADF', async (t) => {
  const { env, name } = await newFileFD(t);
  const { ctx } = env;
  const ro = await openAt(env, name, linux.O_RDONLY);
  const wo = await openAt(env, name, linux.O_WRONLY);
  t.teardown(() => {
    ro.decRef(ctx);
    wo.decRef(ctx);
  });
  t.is(await errnoOf(ro.write(ctx, Buffer.from('x'))), 'EBADF');
  t.is(await errnoOf(wo.read(ctx, Buffer.alloc(1))), 'EBADF');
  t.is(await errnoOf(ro.pwrite(ctx, Buffer.from('x'), 0)), 'EBADF');
});

test('open O_TRUNC empties the file and bumps mtime even when empty (Linux)', async (t) => {
  const { env, fd, name } = await newFileFD(t);
  const { ctx } = env;
  await fd.write(ctx, Buffer.from('hello'));
  const before = await fd.stat(ctx, {});
  const tfd = await openAt(env, name, linux.O_WRONLY | linux.O_TRUNC);
  tfd.decRef(ctx);
  const after = await fd.stat(ctx, {});
  t.is(after.size, 0);
  t.true(nsOf(after.mtime) > nsOf(before.mtime));
  const tfd2 = await openAt(env, name, linux.O_RDONLY | linux.O_TRUNC);
  tfd2.decRef(ctx);
  t.true(nsOf((await fd.stat(ctx, {})).mtime) > nsOf(after.mtime));
});

test('no reference leaks: the tmpfs filesystem is released after its files are closed', async (t) => {
  const env = await newTmpfsRoot(t);
  const fd = await openAt(env, 'f', linux.O_RDWR | linux.O_CREAT, 0o644);
  await fd.write(env.ctx, Buffer.from('data'));
  fd.decRef(env.ctx);
  leakCheck(t, env);
});

test('newMemfd: an unlinked regular file on a tmpfs mount; its path is "/name (deleted)"', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds } = env;
  const fd = newMemfd(ctx, creds, env.root.mount(), 'memfd:test');
  t.teardown(() => fd.decRef(ctx));
  t.is(await fd.write(ctx, Buffer.from('in memory')), 9);
  t.is((await readAll(ctx, fd)).toString(), 'in memory');
  const st = await fd.stat(ctx, {});
  t.is(st.mode, linux.S_IFREG | 0o777);
  t.is(st.nlink, 0, 'no link (Linux; gVisor says 1)');
  t.is(await env.vfsObj.pathnameWithDeleted(ctx, env.root, fd.virtualDentry()), '/memfd:test (deleted)');
});
