// The raw syscall API on its own: byte layouts of what the calls write
// (struct stat, statx, statfs, linux_dirent64, struct flock), argument
// checks with Linux's errno, locks between tasks, pipes, xattr sizes,
// renameat2 flags as gVisor at this commit, chroot and getcwd, and the
// name-indexed dispatch table.

import test from 'ava';
import { decodeStat } from '../../../../pkg/fsgofer/syscalls';
import { parseDirents64 } from '../../../../pkg/abi/linux/dirent';
import { errnoName } from '../../../../pkg/abi/linux/errors';
import {
  F_GETFL, F_GETLK, F_GETPIPE_SZ, F_RDLCK, F_SETFL, F_SETLK, F_SETLKW, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN,
} from '../../../../pkg/abi/linux/fcntl';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, DT_DIR, DT_LNK, DT_REG, O_APPEND,
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE,
  RENAME_WHITEOUT, S_IFIFO, S_IFREG, SEEK_CUR, SEEK_SET, UTIME_NOW, UTIME_OMIT, XATTR_CREATE, XATTR_SIZE_MAX,
} from '../../../../pkg/abi/linux/file';
import { STATX_ALL, STATX_BASIC_STATS, STATX_INO, STATX_SIZE, TMPFS_MAGIC } from '../../../../pkg/abi/linux/stat';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import type { Task } from '../../../../pkg/sentry/kernel/task';
import { syscallTable } from '../../../../pkg/sentry/syscalls/linux';
import * as syserror from '../../../../pkg/syserror/syserror';

function e(n: number): string | number {
  return n < 0 ? errnoName(-n) : n;
}

async function setup(t: { teardown(fn: () => Promise<void>): void }): Promise<{ k: Kernel; task: Task }> {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  t.teardown(() => k.release());
  return { k, task: await k.newTask() };
}

function flock(type: number, whence: number, start: number, len: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeInt16LE(type, 0);
  b.writeInt16LE(whence, 2);
  b.writeBigInt64LE(BigInt(start), 8);
  b.writeBigInt64LE(BigInt(len), 16);
  return b;
}

test('stat/fstat/newfstatat write a 144-byte x86_64 struct stat that matches statx', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/f', 'twelve bytes');
  await task.fs.utimens('/f', { sec: 1_600_000_000, nsec: 123_456_789 }, { sec: -5, nsec: 7 });
  const buf = Buffer.alloc(144, 0xff);
  t.is(await s.stat('/f', buf), 0);
  const st = decodeStat(buf); // the gofer's decoder of the host's struct stat
  const sx = await task.fs.stat('/f');
  t.is(st.mode, S_IFREG | 0o644);
  t.is(st.size, 12);
  t.is(st.nlink, 1);
  t.is(Number(st.ino), sx.ino);
  t.is(st.uid, 0);
  t.is(st.blksize, sx.blksize);
  t.is(st.blocks, sx.blocks);
  t.is(buf.readBigInt64LE(72), 1_600_000_000n, 'st_atim.tv_sec');
  t.is(buf.readBigInt64LE(80), 123_456_789n, 'st_atim.tv_nsec');
  t.is(buf.readBigInt64LE(88), -5n, 'st_mtim.tv_sec before the epoch');
  t.is(buf.readBigInt64LE(96), 7n);
  t.true(buf.subarray(120, 144).every((b) => b === 0), '__unused[3] zeroed');
  const buf2 = Buffer.alloc(144);
  const fd = await s.open('/f', O_RDONLY);
  t.is(await s.fstat(fd, buf2), 0);
  t.deepEqual(buf2, buf);
  const buf3 = Buffer.alloc(144);
  t.is(await s.newfstatat(fd, '', buf3, AT_EMPTY_PATH), 0, 'AT_EMPTY_PATH stats the fd itself');
  t.deepEqual(buf3, buf);
  t.is(e(await s.newfstatat(fd, '', buf3, 0)), 'ENOENT');
  t.is(e(await s.newfstatat(fd, 'x', buf3, 0)), 'ENOTDIR', 'a relative path from a non-directory fd');
  t.is(e(await s.newfstatat(AT_FDCWD, '/f', buf3, 0x8000)), 'EINVAL');
  t.is(e(await s.stat('/f', Buffer.alloc(100))), 'EFAULT', 'a buffer too small for struct stat is a bad pointer');
  t.is(e(await s.stat(null as unknown as string, buf)), 'EFAULT', 'a NULL path');
  t.is(e(await s.fstat(77, buf)), 'EBADF');
  await task.fs.symlink('/f', '/l');
  t.is(await s.lstat('/l', buf), 0);
  t.is(decodeStat(buf).mode & 0o170000, 0o120000);
  t.is(await s.newfstatat(AT_FDCWD, '/l', buf, AT_SYMLINK_NOFOLLOW), 0);
  t.is(decodeStat(buf).mode & 0o170000, 0o120000);
});

test('statx writes struct statx (256 bytes) and checks its flags and mask', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/f', 'abc');
  const b = Buffer.alloc(256);
  t.is(await s.statx(AT_FDCWD, '/f', 0, STATX_BASIC_STATS, b), 0);
  t.is(b.readUInt32LE(0) & STATX_BASIC_STATS, STATX_BASIC_STATS, 'stx_mask');
  t.is(b.readUInt16LE(28), S_IFREG | 0o644, 'stx_mode');
  t.is(Number(b.readBigUInt64LE(40)), 3, 'stx_size');
  t.is(Number(b.readBigUInt64LE(32)), (await task.fs.stat('/f')).ino, 'stx_ino');
  t.is(e(await s.statx(AT_FDCWD, '/f', 0, 0x80000000, b)), 'EINVAL', 'STATX__RESERVED');
  t.is(e(await s.statx(AT_FDCWD, '/f', 0x6000, STATX_ALL, b)), 'EINVAL', 'both sync types');
  t.is(e(await s.statx(AT_FDCWD, '/f', 0x1, STATX_ALL, b)), 'EINVAL', 'unknown flag');
  t.is(e(await s.statx(AT_FDCWD, '/f', 0, STATX_INO | STATX_SIZE, Buffer.alloc(255))), 'EFAULT');
  const sx = await task.fs.statx(AT_FDCWD, '/f', 0, STATX_SIZE);
  t.is(sx.size, 3);
});

test('statfs/fstatfs write struct statfs (120 bytes): tmpfs magic, NAME_MAX', async (t) => {
  const { task } = await setup(t);
  const b = Buffer.alloc(120);
  t.is(await task.sys.statfs('/', b), 0);
  t.is(Number(b.readBigUInt64LE(0)), TMPFS_MAGIC);
  t.is(Number(b.readBigUInt64LE(64)), 255, 'f_namelen');
  const fd = await task.sys.open('/', O_RDONLY);
  const b2 = Buffer.alloc(120);
  t.is(await task.sys.fstatfs(fd, b2), 0);
  t.deepEqual(b2, b);
  t.is(e(await task.sys.statfs('/nonexist', b)), 'ENOENT');
  t.is((await task.fs.statfs('/')).type, TMPFS_MAGIC);
});

test('getdents64: linux_dirent64 records, 8-byte aligned, resumable, EINVAL when one does not fit', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.mkdir('/d');
  await task.fs.mkdir('/d/sub');
  await task.fs.writeFile('/d/file', '');
  await task.fs.symlink('file', '/d/link');
  const fd = await s.open('/d', O_RDONLY | O_DIRECTORY);
  t.is(e(await s.getdents64(fd, Buffer.alloc(16), 16)), 'EINVAL', 'no room for one record');
  const buf = Buffer.alloc(4096);
  // 24 bytes hold "." (19 + 2 -> 24) only.
  const n1 = await s.getdents64(fd, buf, 24);
  t.is(n1, 24);
  t.deepEqual(parseDirents64(buf.subarray(0, n1)).map((d) => d.name), ['.']);
  const n2 = await s.getdents64(fd, buf, buf.length);
  const rest = parseDirents64(buf.subarray(0, n2));
  t.deepEqual(rest.map((d) => d.name).sort(), ['..', 'file', 'link', 'sub']);
  let off = 0;
  while (off < n2) {
    const reclen = buf.readUInt16LE(off + 16);
    t.is(reclen % 8, 0, 'd_reclen is a multiple of 8');
    off += reclen;
  }
  t.is(off, n2);
  const types = Object.fromEntries(rest.map((d) => [d.name, d.type]));
  t.is(types.file, DT_REG);
  t.is(types.sub, DT_DIR);
  t.is(types.link, DT_LNK);
  t.is(await s.getdents64(fd, buf, buf.length), 0, 'end of directory');
  t.is(await s.lseek(fd, 0, SEEK_SET), 0);
  t.is(parseDirents64(buf.subarray(0, await s.getdents64(fd, buf, buf.length))).length, 5, 'rewinddir');
  const ffd = await s.open('/d/file', O_RDONLY);
  t.is(e(await s.getdents64(ffd, buf, buf.length)), 'ENOTDIR');
  t.is(e(await s.getdents64(99, buf, buf.length)), 'EBADF');
});

test('read/write family: EFAULT and EINVAL on bad buffers, readv/writev scatter-gather, access modes', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  const fd = await s.open('/f', O_CREAT | O_RDWR, 0o600);
  t.is(e(await s.write(fd, Buffer.alloc(2), 3)), 'EFAULT', 'count beyond the buffer');
  t.is(e(await s.write(fd, Buffer.alloc(2), -1)), 'EINVAL');
  t.is(await s.writev(fd, [Buffer.from('ab'), Buffer.from(''), Buffer.from('cde')]), 5);
  t.is(e(await s.writev(fd, new Array<Uint8Array>(1025).fill(Buffer.alloc(1)))), 'EINVAL', 'iovcnt > UIO_MAXIOV');
  const a = Buffer.alloc(1);
  const b = Buffer.alloc(3);
  t.is(await s.preadv(fd, [a, b], 0), 4);
  t.is(a.toString() + b.toString(), 'abcd');
  t.is(await s.lseek(fd, 1, SEEK_SET), 1);
  const c = Buffer.alloc(2);
  const d = Buffer.alloc(10);
  t.is(await s.readv(fd, [c, d]), 4);
  t.is(c.toString() + d.subarray(0, 2).toString(), 'bcde');
  t.is(await s.lseek(fd, 0, SEEK_CUR), 5);
  t.is(e(await s.pread64(fd, Buffer.alloc(1), 1, -1)), 'EINVAL');
  t.is(e(await s.pread64(99, Buffer.alloc(1), 1, -1)), 'EINVAL', 'pread64 checks the offset before the fd (Linux)');
  t.is(await s.pwrite64(fd, Buffer.from('Z'), 1, 0), 1);
  t.is(await s.lseek(fd, 0, SEEK_CUR), 5, 'pwrite leaves the offset');
  t.is(e(await s.lseek(fd, 0, 9)), 'EINVAL');
  const ro = await s.open('/f', O_RDONLY);
  t.is(e(await s.write(ro, Buffer.from('x'), 1)), 'EBADF');
  const wo = await s.open('/f', O_WRONLY | O_APPEND);
  t.is(e(await s.read(wo, Buffer.alloc(1), 1)), 'EBADF');
  t.is(await s.write(wo, Buffer.from('!'), 1), 1);
  t.is((await task.fs.readFile('/f')).toString(), 'Zbcde!');
  t.is(await s.fcntl(wo, F_GETFL) & (O_APPEND | 3), O_APPEND | O_WRONLY);
  t.is(await s.fcntl(wo, F_SETFL, O_NONBLOCK), 0);
  t.is(await s.fcntl(wo, F_GETFL) & (O_APPEND | O_NONBLOCK | 3), O_NONBLOCK | O_WRONLY, 'F_SETFL replaces O_APPEND/O_NONBLOCK, keeps the access mode');
  const p = await s.open('/f', O_PATH);
  t.is(e(await s.read(p, Buffer.alloc(1), 1)), 'EBADF', 'O_PATH fds cannot be read');
  t.is(await s.fsync(fd), 0);
  t.is(await s.fdatasync(fd), 0);
  t.is(await s.syncfs(fd), 0);
  t.is(await s.sync(), 0);
  t.is(e(await s.fsync(99)), 'EBADF');
  const dfd = await s.open('/', O_RDONLY);
  t.is(e(await s.read(dfd, Buffer.alloc(1), 1)), 'EISDIR');
});

test('truncate, ftruncate, fallocate: sizes and errno', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  const fd = await s.open('/f', O_CREAT | O_RDWR, 0o644);
  t.is(await s.ftruncate(fd, 100), 0);
  t.is((await task.fs.stat('/f')).size, 100);
  t.is(await s.truncate('/f', 3), 0);
  t.is((await task.fs.stat('/f')).size, 3);
  t.is(e(await s.truncate('/f', -1)), 'EINVAL');
  t.is(e(await s.truncate('/', 0)), 'EISDIR');
  t.is(await s.fallocate(fd, 0, 0, 50), 0);
  t.is((await task.fs.stat('/f')).size, 50);
  t.is(e(await s.fallocate(fd, 0, 0, 0)), 'EINVAL', 'len 0');
  t.is(e(await s.fallocate(fd, 0, -1, 1)), 'EINVAL');
  t.is(e(await s.fallocate(fd, 1, 0, 1)), 'EOPNOTSUPP', 'modes other than 0 (gVisor)');
  const ro = await s.open('/f', O_RDONLY);
  t.is(e(await s.fallocate(ro, 0, 0, 1)), 'EBADF');
  t.is(e(await s.ftruncate(ro, 0)), 'EINVAL');
});

test('utime, utimes, utimensat, futimesat: struct layouts, UTIME_NOW/UTIME_OMIT, EINVAL', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/f', '');
  const ub = Buffer.alloc(16);
  ub.writeBigInt64LE(1000n, 0);
  ub.writeBigInt64LE(2000n, 8);
  t.is(await s.utime('/f', ub), 0);
  let st = await task.fs.stat('/f');
  t.deepEqual([st.atime, st.mtime], [{ sec: 1000, nsec: 0 }, { sec: 2000, nsec: 0 }]);
  const tv = Buffer.alloc(32);
  tv.writeBigInt64LE(10n, 0);
  tv.writeBigInt64LE(5n, 8);
  tv.writeBigInt64LE(20n, 16);
  tv.writeBigInt64LE(999999n, 24);
  t.is(await s.utimes('/f', tv), 0);
  st = await task.fs.stat('/f');
  t.deepEqual([st.atime, st.mtime], [{ sec: 10, nsec: 5000 }, { sec: 20, nsec: 999999000 }]);
  tv.writeBigInt64LE(1000000n, 24);
  t.is(e(await s.utimes('/f', tv)), 'EINVAL', 'tv_usec out of range');
  const ts = Buffer.alloc(32);
  ts.writeBigInt64LE(7n, 0);
  ts.writeBigInt64LE(BigInt(UTIME_OMIT), 8);
  ts.writeBigInt64LE(8n, 16);
  ts.writeBigInt64LE(9n, 24);
  t.is(await s.utimensat(AT_FDCWD, '/f', ts, 0), 0);
  st = await task.fs.stat('/f');
  t.deepEqual([st.atime, st.mtime], [{ sec: 10, nsec: 5000 }, { sec: 8, nsec: 9 }], 'UTIME_OMIT keeps atime');
  ts.writeBigInt64LE(BigInt(UTIME_OMIT), 24);
  t.is(await s.utimensat(AT_FDCWD, '/nonexist', ts, 0x8000), 0, 'both UTIME_OMIT: nothing to do, no other check');
  ts.writeBigInt64LE(1_000_000_000n, 8);
  t.is(e(await s.utimensat(AT_FDCWD, '/f', ts, 0)), 'EINVAL', 'tv_nsec out of range');
  ts.writeBigInt64LE(BigInt(UTIME_NOW), 8);
  t.is(e(await s.utimensat(AT_FDCWD, '/f', ts, 0x8000)), 'EINVAL', 'unknown flag');
  const before = Date.now() / 1000 - 5;
  const fd = await s.open('/f', O_RDONLY);
  t.is(await s.utimensat(fd, null, null, 0), 0, 'a NULL path with a dirfd sets the fd\'s times (futimens)');
  st = await task.fs.stat('/f');
  t.true(st.mtime.sec > before);
  t.is(e(await s.utimensat(AT_FDCWD, null, null, 0)), 'EFAULT', 'a NULL path with AT_FDCWD');
  t.is(await s.futimesat(AT_FDCWD, '/f', null), 0);
});

test('POSIX record locks between tasks: F_SETLK, F_GETLK, F_SETLKW waits, close releases', async (t) => {
  const { k, task } = await setup(t);
  const other = await k.newTask();
  const a = await task.sys.open('/f', O_CREAT | O_RDWR, 0o644);
  const b = await other.sys.open('/f', O_RDWR);
  t.is(await task.sys.fcntl(a, F_SETLK, flock(F_WRLCK, SEEK_SET, 10, 10)), 0);
  t.is(e(await other.sys.fcntl(b, F_SETLK, flock(F_WRLCK, SEEK_SET, 15, 1))), 'EAGAIN');
  t.is(await other.sys.fcntl(b, F_SETLK, flock(F_RDLCK, SEEK_SET, 0, 10)), 0, 'an adjacent range is free');
  const q = flock(F_RDLCK, SEEK_SET, 0, 0);
  t.is(await other.sys.fcntl(b, F_GETLK, q), 0);
  t.is(q.readInt16LE(0), F_WRLCK, 'F_GETLK reports the conflicting lock');
  t.is(q.readInt16LE(2), SEEK_SET);
  t.is(q.readBigInt64LE(8), 10n);
  t.is(q.readBigInt64LE(16), 10n);
  t.is(q.readInt32LE(24), task.tid, 'l_pid of the owner');
  const free = flock(F_WRLCK, SEEK_SET, 100, 5);
  t.is(await other.sys.fcntl(b, F_GETLK, free), 0);
  t.is(free.readInt16LE(0), F_UNLCK, 'no conflict: l_type = F_UNLCK');
  t.is(e(await other.sys.fcntl(b, F_SETLK, flock(7, SEEK_SET, 0, 1))), 'EINVAL');
  t.is(e(await other.sys.fcntl(b, F_SETLK, Buffer.alloc(8))), 'EFAULT');
  const ro = await other.sys.open('/f', O_RDONLY);
  t.is(e(await other.sys.fcntl(ro, F_SETLK, flock(F_WRLCK, SEEK_SET, 0, 1))), 'EBADF', 'a write lock needs a writable fd');
  // F_SETLKW waits until the holder closes its fd (which releases its locks).
  let done = false;
  const waiting = other.sys.fcntl(b, F_SETLKW, flock(F_WRLCK, SEEK_SET, 12, 2)).then((r) => { done = true; return r; });
  await new Promise((r) => setImmediate(r));
  t.false(done);
  t.is(await task.sys.close(a), 0);
  t.is(await waiting, 0);
  // An interrupted F_SETLKW fails with EINTR.
  const c = await task.sys.open('/f', O_RDWR);
  const blocked = task.sys.fcntl(c, F_SETLKW, flock(F_WRLCK, SEEK_SET, 12, 1));
  task.interrupt();
  t.is(e(await blocked), 'EINTR');
  await other.release();
});

test('flock: shared and exclusive locks per open file description, LOCK_NB, LOCK_UN', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  const a = await s.open('/f', O_CREAT | O_RDWR, 0o644);
  const b = await s.open('/f', O_RDONLY);
  const a2 = await s.dup(a);
  t.is(await s.flock(a, LOCK_SH), 0);
  t.is(await s.flock(b, LOCK_SH | LOCK_NB), 0, 'shared locks coexist');
  t.is(e(await s.flock(b, LOCK_EX | LOCK_NB)), 'EAGAIN', 'EWOULDBLOCK: another description holds a shared lock');
  t.is(e(await s.flock(a2, LOCK_EX | LOCK_NB)), 'EAGAIN', 'the upgrade waits for the other shared lock');
  t.is(await s.flock(b, LOCK_UN), 0);
  t.is(await s.flock(a2, LOCK_EX | LOCK_NB), 0, 'a dup shares the description (and its lock): upgrade');
  t.is(e(await s.flock(b, LOCK_SH | LOCK_NB)), 'EAGAIN');
  t.is(e(await s.flock(a, 0)), 'EINVAL');
  t.is(e(await s.flock(99, LOCK_SH)), 'EBADF');
  t.is(await s.close(a), 0);
  t.is(e(await s.flock(b, LOCK_SH | LOCK_NB)), 'EAGAIN', 'the lock stays while a dup is open');
  t.is(await s.close(a2), 0);
  t.is(await s.flock(b, LOCK_SH | LOCK_NB), 0, 'closing the last fd of the description releases it');
});

test('pipe/pipe2: data, EOF, EPIPE, EAGAIN, ESPIPE, S_IFIFO, flags', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  const fds = new Int32Array(2);
  t.is(await s.pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  const [r, w] = [fds[0]!, fds[1]!];
  t.is(e(await s.read(r, Buffer.alloc(4), 4)), 'EAGAIN');
  t.is(await s.write(w, Buffer.from('ping'), 4), 4);
  const b = Buffer.alloc(10);
  t.is(await s.read(r, b, 10), 4);
  t.is(b.subarray(0, 4).toString(), 'ping');
  t.is(e(await s.lseek(r, 0, SEEK_SET)), 'ESPIPE');
  t.is(e(await s.pwrite64(w, Buffer.from('x'), 1, 0)), 'ESPIPE');
  t.is(e(await s.write(r, Buffer.from('x'), 1)), 'EBADF', 'the read end is not writable');
  t.is(await s.fcntl(r, F_GETPIPE_SZ), 65536);
  const st = await task.fs.fstat(r);
  t.is(st.mode, S_IFIFO | 0o600);
  t.is(await s.close(w), 0);
  t.is(await s.read(r, b, 10), 0, 'EOF once the writers are gone');
  const [r2, w2] = await task.fs.pipe();
  t.is(await s.close(r2), 0);
  t.is(e(await s.write(w2, Buffer.from('x'), 1)), 'EPIPE');
  t.is(e(await s.pipe2(new Int32Array(2), 0x1)), 'EINVAL');
  t.is(e(await s.pipe(new Int32Array(1))), 'EFAULT');
  const raw = Buffer.alloc(8);
  t.is(await s.pipe(raw), 0);
  const [r3, w3] = [raw.readInt32LE(0), raw.readInt32LE(4)];
  // A blocking read waits for the writer.
  const pending = s.read(r3, b, 10);
  t.is(await s.write(w3, Buffer.from('late'), 4), 4);
  t.is(await pending, 4);
  // ...and is interrupted by the task.
  const blocked = s.read(r3, b, 10);
  task.interrupt();
  t.is(e(await blocked), 'EINTR');
});

test('xattr syscalls: sizes (0 asks, ERANGE, E2BIG), name checks, flags', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/f', '');
  const v = Buffer.from('value');
  t.is(await s.setxattr('/f', 'user.k', v, v.length, 0), 0);
  t.is(await s.getxattr('/f', 'user.k', null, 0), 5, 'size 0 returns the value size');
  t.is(e(await s.getxattr('/f', 'user.k', Buffer.alloc(4), 4)), 'ERANGE');
  const out = Buffer.alloc(5);
  t.is(await s.getxattr('/f', 'user.k', out, 5), 5);
  t.is(out.toString(), 'value');
  t.is(await s.listxattr('/f', null, 0), 'user.k\0'.length);
  t.is(e(await s.listxattr('/f', Buffer.alloc(3), 3)), 'ERANGE');
  t.is(e(await s.setxattr('/f', '', v, 1, 0)), 'ERANGE', 'empty name');
  t.is(e(await s.setxattr('/f', 'user.' + 'x'.repeat(251), v, 1, 0)), 'ERANGE', 'name over XATTR_NAME_MAX');
  t.is(e(await s.setxattr('/f', 'user.k', v, 1, 4)), 'EINVAL', 'unknown flag');
  t.is(e(await s.setxattr('/f', 'user.k', Buffer.alloc(XATTR_SIZE_MAX + 1), XATTR_SIZE_MAX + 1, 0)), 'E2BIG');
  t.is(e(await s.setxattr('/f', 'user.k', v, 5, XATTR_CREATE)), 'EEXIST');
  t.is(e(await s.setxattr('/f', 'user.k', Buffer.alloc(2), 5, 0)), 'EFAULT', 'size beyond the value buffer');
  const fd = await s.open('/f', O_RDONLY);
  t.is(await s.fgetxattr(fd, 'user.k', null, 0), 5);
  t.is(await s.fsetxattr(fd, 'user.j', v, 2, 0), 0);
  t.deepEqual((await task.fs.listxattr('/f')).sort(), ['user.j', 'user.k']);
  t.is(await s.fremovexattr(fd, 'user.j'), 0);
  t.is(await s.flistxattr(fd, null, 0), 7);
  t.is(e(await s.fremovexattr(fd, 'user.j')), 'ENODATA');
  await task.fs.symlink('/f', '/l');
  t.is(await s.lgetxattr('/l', 'user.k', null, 0) < 0, true, 'lgetxattr does not follow the symlink');
  t.is(await s.getxattr('/l', 'user.k', null, 0), 5);
  t.is(await s.llistxattr('/l', null, 0) >= 0, true);
  t.is(e(await s.lremovexattr('/l', 'user.k')) !== 0, true);
  t.is(await s.removexattr('/l', 'user.k'), 0);
  t.is(e(await s.lsetxattr('/l', 'user.k', v, 1, 0)), 'EPERM', 'user xattrs on a symlink: EPERM (Linux xattr_permission)');
});

test('renameat2 flags: RENAME_NOREPLACE works; RENAME_EXCHANGE and RENAME_WHITEOUT are EINVAL (gVisor at this commit)', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/a', 'a');
  await task.fs.writeFile('/b', 'b');
  t.is(e(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/b', RENAME_NOREPLACE)), 'EEXIST');
  t.is(e(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/b', RENAME_EXCHANGE)), 'EINVAL');
  t.is(e(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/c', RENAME_WHITEOUT)), 'EINVAL');
  t.is(e(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/b', RENAME_NOREPLACE | RENAME_EXCHANGE)), 'EINVAL');
  t.is(e(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/b', 0x10)), 'EINVAL');
  t.is(await s.renameat2(AT_FDCWD, '/a', AT_FDCWD, '/c', RENAME_NOREPLACE), 0);
  t.is((await task.fs.readFile('/c')).toString(), 'a');
  const dfd = await s.open('/', O_RDONLY | O_DIRECTORY);
  t.is(await s.renameat(dfd, 'c', dfd, 'a'), 0);
  t.is(await s.unlinkat(dfd, 'a', 0), 0);
  t.is(await s.mkdirat(dfd, 'dir', 0o755), 0);
  t.is(e(await s.unlinkat(dfd, 'dir', 0)), 'EISDIR');
  t.is(e(await s.unlinkat(dfd, 'dir', 0x1)), 'EINVAL');
  t.is(await s.unlinkat(dfd, 'dir', AT_REMOVEDIR), 0);
  const ffd = await s.open('/b', O_RDONLY);
  t.is(e(await s.mkdirat(ffd, 'x', 0o755)), 'ENOTDIR');
  t.is(e(await s.mkdirat(123, 'x', 0o755)), 'EBADF');
});

test('link/linkat flags, symlink/readlink, mknod types', async (t) => {
  const { k, task } = await setup(t);
  const s = task.sys;
  await task.fs.writeFile('/f', 'data');
  await task.fs.symlink('/f', '/l');
  t.is(await s.linkat(AT_FDCWD, '/l', AT_FDCWD, '/hl', 0), 0, 'linkat does not follow by default: links the symlink');
  t.is((await task.fs.lstat('/hl')).mode & 0o170000, 0o120000);
  t.is(await s.linkat(AT_FDCWD, '/l', AT_FDCWD, '/hf', AT_SYMLINK_FOLLOW), 0);
  t.is((await task.fs.lstat('/hf')).mode & 0o170000, 0o100000);
  t.is(e(await s.linkat(AT_FDCWD, '/f', AT_FDCWD, '/x', 0x1)), 'EINVAL');
  const fd = await s.open('/f', O_RDONLY);
  t.is(await s.linkat(fd, '', AT_FDCWD, '/byfd', AT_EMPTY_PATH), 0, 'AT_EMPTY_PATH with CAP_DAC_READ_SEARCH');
  const user = await k.newTask({ uid: 1000, gid: 1000 });
  t.is(e(await user.sys.linkat(fd, '', AT_FDCWD, '/tmp2', AT_EMPTY_PATH)), 'ENOENT', 'AT_EMPTY_PATH without the capability');
  await user.release();
  const buf = Buffer.alloc(2);
  t.is(await s.readlink('/l', buf, 2), 2, 'readlink truncates to bufsiz');
  t.is(buf.toString(), '/f');
  t.is(e(await s.readlink('/l', buf, 0)), 'EINVAL');
  t.is(e(await s.readlink('/f', buf, 2)), 'EINVAL', 'not a symlink');
  t.is(e(await s.symlink('', '/empty')), 'ENOENT');
  t.is(e(await s.symlinkat('/f', AT_FDCWD, '/l')), 'EEXIST');
  t.is(e(await s.mknod('/dir', 0o040755, 0)), 'EPERM', 'mknod of a directory');
  t.is(e(await s.mknod('/bad', 0o170644, 0)), 'EINVAL');
  t.is(await s.mknodat(AT_FDCWD, '/fifo', S_IFIFO | 0o644, 0), 0);
  t.is((await task.fs.stat('/fifo')).mode, S_IFIFO | 0o644);
});

test('chdir, fchdir, getcwd, chroot, umask, access', async (t) => {
  const { k, task } = await setup(t);
  const s = task.sys;
  await task.fs.mkdir('/a');
  await task.fs.mkdir('/a/b');
  await task.fs.writeFile('/a/b/f', '');
  t.is(await s.chdir('/a/b'), 0);
  const buf = Buffer.alloc(64);
  t.is(await s.getcwd(buf, 64), '/a/b'.length + 1, 'getcwd returns the length with its NUL');
  t.is(buf.subarray(0, 5).toString(), '/a/b\0');
  t.is(e(await s.getcwd(buf, 4)), 'ERANGE');
  t.is(e(await s.chdir('f')), 'ENOTDIR');
  const fd = await s.open('/a', O_RDONLY | O_DIRECTORY);
  t.is(await s.fchdir(fd), 0);
  t.is(await task.fs.getcwd(), '/a');
  const ffd = await s.open('/a/b/f', O_RDONLY);
  t.is(e(await s.fchdir(ffd)), 'ENOTDIR');
  t.is(await s.chroot('/a'), 0);
  t.is(await task.fs.getcwd(), '/', 'the cwd is the new root');
  t.is((await task.fs.stat('/b/f')).size, 0, 'absolute paths start at the new root');
  t.is((await task.fs.stat('/../../b')).mode & 0o170000, 0o040000, '".." stops at the root');
  await task.fs.chdir('/b');
  const user = await k.newTask({ uid: 1000, gid: 1000 });
  t.is(e(await user.sys.chroot('/a')), 'EPERM', 'chroot needs CAP_SYS_CHROOT');
  t.is(await user.sys.umask(0o077), 0o022);
  t.is(await user.sys.umask(0o1777), 0o077);
  t.is(await user.sys.umask(0), 0o777, 'umask keeps only the permission bits');
  await task.fs.writeFile('/b/secret', '', 0o600);
  t.is(e(await user.sys.access('/a/b/secret', 4)), 'EACCES');
  t.is(await user.sys.access('/a/b/secret', 0), 0);
  t.is(e(await user.sys.access('/a/b/secret', 8)), 'EINVAL');
  t.is(e(await user.sys.faccessat(AT_FDCWD, '/a', 0, 0x1)), 'EINVAL');
  await user.release();
});

test('syscallTable dispatches every syscall by name, with Linux calling conventions at the trust boundary', async (t) => {
  const { task } = await setup(t);
  const expected = [
    'open', 'openat', 'creat', 'close', 'read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'lseek', 'stat', 'lstat',
    'fstat', 'newfstatat', 'statx', 'statfs', 'fstatfs', 'access', 'faccessat', 'mkdir', 'mkdirat', 'mknod', 'mknodat',
    'rmdir', 'unlink', 'unlinkat', 'link', 'linkat', 'symlink', 'symlinkat', 'readlink', 'readlinkat', 'rename', 'renameat',
    'renameat2', 'chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat', 'truncate', 'ftruncate', 'fallocate',
    'utime', 'utimes', 'utimensat', 'futimesat', 'getdents64', 'chdir', 'fchdir', 'getcwd', 'chroot', 'dup', 'dup2', 'dup3',
    'fcntl', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs', 'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr',
    'fsetxattr', 'listxattr', 'llistxattr', 'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr', 'inotify_init',
    'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'pipe', 'pipe2', 'umask', 'mount', 'umount2',
  ];
  for (const name of expected) t.true(syscallTable.has(name), name);
  const call = (name: string, ...args: unknown[]): Promise<number> => syscallTable.get(name)!(task, ...args);
  const fd = await call('openat', AT_FDCWD, '/f', O_CREAT | O_RDWR, 0o640);
  t.is(fd, 0);
  t.is(await call('write', fd, Buffer.from('hey'), 3), 3);
  t.is(await call('pread64', fd, Buffer.alloc(3), 3, 0n), 3, 'bigint arguments are accepted');
  t.is(e(await call('write', fd, 'not memory', 3)), 'EFAULT', 'a pointer argument that is not memory');
  t.is(e(await call('openat', AT_FDCWD, 42, O_RDONLY, 0)), 'EFAULT', 'a path that is not a string');
  t.is(e(await call('close', 'zero')), 'EINVAL', 'an integer argument that is not a number');
  t.is(e(await call('stat', '/nonexist', Buffer.alloc(144))), 'ENOENT');
  t.is(await call('close', fd), 0);
  // The typed API throws the shared LinuxError values.
  await t.throwsAsync(task.fs.stat('/nonexist'), { is: syserror.ENOENT });
  await t.throwsAsync(task.fs.open('/f', O_RDONLY | O_DIRECTORY), { is: syserror.ENOTDIR });
});

test('O_CLOEXEC on open and F_GETFL hides creation flags', async (t) => {
  const { task } = await setup(t);
  const s = task.sys;
  const fd = await s.open('/f', O_CREAT | O_RDWR | O_CLOEXEC | O_APPEND, 0o644);
  t.is((await s.fcntl(fd, F_GETFL)) & (O_CREAT | O_CLOEXEC), 0, 'creation flags and O_CLOEXEC are not status flags');
  t.true(((await s.fcntl(fd, F_GETFL)) & O_APPEND) !== 0);
  t.is(e(await s.fcntl(fd, 1234)), 'EINVAL', 'unknown command');
  t.is(e(await s.fcntl(fd, F_GETPIPE_SZ)), 'EBADF', 'F_GETPIPE_SZ on a non-pipe');
});
