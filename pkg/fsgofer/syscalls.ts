// The host system calls fsgofer makes, called through koffi (FFI to libc).
//
// gVisor's fsgofer calls golang.org/x/sys/unix directly; Node's `fs` has no
// openat/mkdirat/fchownat/... relative to a directory fd, and path-based
// calls would follow symlinks in the middle of a path. So every call that
// names a file here takes a directory fd and ONE name component, and the
// callers (fsgofer.ts) always pass no-follow flags. The wrappers throw
// syserror.fromErrno(errno) on failure and decode the kernel structures
// (struct stat, struct statfs, linux_dirent64, struct flock) from Buffers
// with the x86_64 layout.
//
// Differs from gVisor: x/sys/unix returns (value, errno); here a failure is
// a thrown LinuxError (DESIGN decision 2). Plain fd I/O (pread/pwrite,
// fsync, close) goes through Node's fs, which makes the same system calls.

import * as fs from 'node:fs';
import koffi from 'koffi';

import * as syserror from '../syserror/syserror';

const libc = koffi.load('libc.so.6');

// Prototypes. openat and fcntl are variadic in C; on x86_64 SysV an int
// passed through `...` is passed exactly like a fixed argument, so they are
// declared with fixed arguments (koffi's variadic calls parse types on
// every call and are several times slower).
const c = {
  openat: libc.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)'),
  fstatat: libc.func('int fstatat(int dirfd, const char *path, _Out_ void *statbuf, int flags)'),
  fstat: libc.func('int fstat(int fd, _Out_ void *statbuf)'),
  fstatfs: libc.func('int fstatfs(int fd, _Out_ void *buf)'),
  mkdirat: libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  mknodat: libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
  symlinkat: libc.func('int symlinkat(const char *target, int newdirfd, const char *linkpath)'),
  linkat: libc.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)'),
  renameat2: libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, uint32_t flags)'),
  unlinkat: libc.func('int unlinkat(int dirfd, const char *path, int flags)'),
  readlinkat: libc.func('int64_t readlinkat(int dirfd, const char *path, _Out_ void *buf, uint64_t bufsiz)'),
  fchmod: libc.func('int fchmod(int fd, uint32_t mode)'),
  fchmodat: libc.func('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)'),
  fchownat: libc.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
  utimensat: libc.func('int utimensat(int dirfd, const char *path, const void *times, int flags)'),
  ftruncate: libc.func('int ftruncate(int fd, int64_t length)'),
  fallocate: libc.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
  getdents64: libc.func('int64_t getdents64(int fd, _Out_ void *buf, uint64_t count)'),
  lseek: libc.func('int64_t lseek(int fd, int64_t offset, int whence)'),
  fgetxattr: libc.func('int64_t fgetxattr(int fd, const char *name, _Out_ void *value, uint64_t size)'),
  fsetxattr: libc.func('int fsetxattr(int fd, const char *name, const void *value, uint64_t size, int flags)'),
  flistxattr: libc.func('int64_t flistxattr(int fd, _Out_ void *list, uint64_t size)'),
  fremovexattr: libc.func('int fremovexattr(int fd, const char *name)'),
  fcntlLock: libc.func('int fcntl(int fd, int cmd, _Inout_ void *flock)'),
  fcntlInt: libc.func('int fcntl(int fd, int cmd, int arg)'),
};

function fail(): never {
  throw syserror.fromErrno(koffi.errno());
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw syserror.EIO;
}

/** checkRet throws the errno of a call that returned -1, else returns its result. */
function checkRet(v: unknown): number {
  const r = num(v);
  if (r < 0) fail();
  return r;
}

// u64 reads an unsigned 64-bit field as a number (exact below 2^53, which
// holds for sizes, block counts, times and nlink on any real host).
function u64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 0x1_0000_0000;
}

function i64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readInt32LE(off + 4) * 0x1_0000_0000;
}

/** Stat is struct stat (x86_64), decoded. dev and ino keep all 64 bits. */
export interface Stat {
  dev: bigint;
  ino: bigint;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
}

const SIZEOF_STAT = 144;
// One buffer for every stat call: calls are synchronous and never re-enter.
const statBuf = Buffer.alloc(SIZEOF_STAT);

/** decodeStat decodes a struct stat (x86_64 layout) from b. */
export function decodeStat(b: Buffer): Stat {
  return {
    dev: b.readBigUInt64LE(0),
    ino: b.readBigUInt64LE(8),
    nlink: u64(b, 16),
    mode: b.readUInt32LE(24),
    uid: b.readUInt32LE(28),
    gid: b.readUInt32LE(32),
    rdev: u64(b, 40),
    size: i64(b, 48),
    blksize: i64(b, 56),
    blocks: i64(b, 64),
    atimeSec: i64(b, 72),
    atimeNsec: i64(b, 80),
    mtimeSec: i64(b, 88),
    mtimeNsec: i64(b, 96),
    ctimeSec: i64(b, 104),
    ctimeNsec: i64(b, 112),
  };
}

/** openat(2). The caller passes O_NOFOLLOW (fsgofer's openFlags). */
export function openat(dirfd: number, name: string, flags: number, mode = 0): number {
  return checkRet(c.openat(dirfd, name, flags, mode));
}

/** fstat(2); works on O_PATH descriptors too. */
export function fstat(fd: number): Stat {
  checkRet(c.fstat(fd, statBuf));
  return decodeStat(statBuf);
}

/** fstatat(2); callers pass AT_SYMLINK_NOFOLLOW. */
export function fstatat(dirfd: number, name: string, flags: number): Stat {
  checkRet(c.fstatat(dirfd, name, statBuf, flags));
  return decodeStat(statBuf);
}

/** Statfs is struct statfs (x86_64), decoded. */
export interface Statfs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  flags: number;
}

/** fstatfs(2). */
export function fstatfs(fd: number): Statfs {
  const b = Buffer.alloc(120);
  checkRet(c.fstatfs(fd, b));
  return {
    type: i64(b, 0),
    bsize: i64(b, 8),
    blocks: u64(b, 16),
    bfree: u64(b, 24),
    bavail: u64(b, 32),
    files: u64(b, 40),
    ffree: u64(b, 48),
    namelen: i64(b, 64),
    frsize: i64(b, 72),
    flags: i64(b, 80),
  };
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  checkRet(c.mkdirat(dirfd, name, mode));
}

export function mknodat(dirfd: number, name: string, mode: number, dev = 0): void {
  checkRet(c.mknodat(dirfd, name, mode, dev));
}

export function symlinkat(target: string, dirfd: number, name: string): void {
  checkRet(c.symlinkat(target, dirfd, name));
}

/** linkat(2); fsgofer links an fd (AT_EMPTY_PATH), never following (no AT_SYMLINK_FOLLOW). */
export function linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): void {
  checkRet(c.linkat(olddirfd, oldname, newdirfd, newname, flags));
}

/** renameat2(2); flags 0 is renameat(2). */
export function renameat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags = 0): void {
  checkRet(c.renameat2(olddirfd, oldname, newdirfd, newname, flags));
}

export function unlinkat(dirfd: number, name: string, flags: number): void {
  checkRet(c.unlinkat(dirfd, name, flags));
}

/**
 * readlinkat(2) returning the target's bytes. name "" reads the symlink an
 * O_PATH fd refers to. Like fsgofer's Readlink: grows the buffer up to 1 MiB,
 * then fails with ENOMEM.
 */
export function readlinkat(dirfd: number, name: string): Buffer {
  const limit = 1024 * 1024;
  for (let len = 256; len < limit; len *= 2) {
    const b = Buffer.allocUnsafe(len);
    const n = checkRet(c.readlinkat(dirfd, name, b, len));
    if (n < len) return b.subarray(0, n);
  }
  throw syserror.ENOMEM;
}

export function fchmod(fd: number, mode: number): void {
  checkRet(c.fchmod(fd, mode));
}

/**
 * fchmodat(2) with flags 0 (follows a final symlink: fsgofer passes only
 * /proc/self/fd/N magic links, to chmod a file it holds by an O_PATH fd,
 * on which fchmod(2) is EBADF).
 */
export function fchmodat(dirfd: number, name: string, mode: number): void {
  checkRet(c.fchmodat(dirfd, name, mode, 0));
}

/** fchownat(2); -1 leaves an id unchanged (passed as 0xffffffff). */
export function fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): void {
  checkRet(c.fchownat(dirfd, name, uid >>> 0, gid >>> 0, flags));
}

/** Timespec as utimensat takes it; nsec may be UTIME_NOW or UTIME_OMIT. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/**
 * utimensat(2). To operate on dirfd itself, pass name "" with AT_EMPTY_PATH
 * (gVisor's fsgofer_unsafe.go passes a NULL name through a raw syscall;
 * glibc's wrapper refuses NULL with EINVAL, and the kernel takes
 * AT_EMPTY_PATH since Linux 5.8, which also works on an O_PATH fd of a
 * symlink, so no path through the parent directory is ever needed).
 */
export function utimensat(dirfd: number, name: string, atime: Timespec, mtime: Timespec, flags: number): void {
  const t = Buffer.alloc(32);
  t.writeBigInt64LE(BigInt(atime.sec), 0);
  t.writeBigInt64LE(BigInt(atime.nsec), 8);
  t.writeBigInt64LE(BigInt(mtime.sec), 16);
  t.writeBigInt64LE(BigInt(mtime.nsec), 24);
  checkRet(c.utimensat(dirfd, name, t, flags));
}

export function ftruncate(fd: number, length: number): void {
  checkRet(c.ftruncate(fd, length));
}

export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  checkRet(c.fallocate(fd, mode, offset, length));
}

/** lseek(2), returning the new offset. */
export function lseek(fd: number, offset: number, whence: number): number {
  return checkRet(c.lseek(fd, offset, whence));
}

/** Dirent64 is one linux_dirent64 record. off is the kernel's d_off cookie. */
export interface Dirent64 {
  ino: bigint;
  off: bigint;
  type: number;
  name: string;
}

/** getdents64 reads as many records as fit in buf; [] at end of directory. */
export function getdents64(fd: number, buf: Buffer): Dirent64[] {
  const n = checkRet(c.getdents64(fd, buf, buf.length));
  return parseDirents(buf, n);
}

/** parseDirents decodes n bytes of linux_dirent64 records. */
export function parseDirents(buf: Buffer, n: number): Dirent64[] {
  const out: Dirent64[] = [];
  let p = 0;
  while (p + 19 <= n) {
    const reclen = buf.readUInt16LE(p + 16);
    if (reclen === 0 || p + reclen > n) break;
    let end = buf.indexOf(0, p + 19);
    if (end < 0 || end > p + reclen) end = p + reclen;
    out.push({
      ino: buf.readBigUInt64LE(p),
      off: buf.readBigInt64LE(p + 8),
      type: buf.readUInt8(p + 18),
      name: buf.toString('utf8', p + 19, end),
    });
    p += reclen;
  }
  return out;
}

/** lseekCookie seeks a directory fd to a d_off cookie (which may exceed 2^53). */
export function lseekCookie(fd: number, cookie: bigint): void {
  checkRet(c.lseek(fd, cookie, 0));
}

/**
 * fgetxattr(2). size 0 asks for the value's length (returned as an empty
 * Buffer of that length is not possible, so the length is returned in n).
 */
export function fgetxattr(fd: number, name: string, size: number): { n: number; value: Buffer } {
  const b = Buffer.allocUnsafe(size);
  const n = checkRet(c.fgetxattr(fd, name, size === 0 ? null : b, size));
  return { n, value: size === 0 ? Buffer.alloc(0) : b.subarray(0, n) };
}

export function fsetxattr(fd: number, name: string, value: Buffer, flags: number): void {
  checkRet(c.fsetxattr(fd, name, value.length === 0 ? null : value, value.length, flags));
}

/** flistxattr(2): size 0 asks for the list's length. Returns the raw NUL-separated list. */
export function flistxattr(fd: number, size: number): { n: number; list: Buffer } {
  const b = Buffer.allocUnsafe(size);
  const n = checkRet(c.flistxattr(fd, size === 0 ? null : b, size));
  return { n, list: size === 0 ? Buffer.alloc(0) : b.subarray(0, n) };
}

export function fremovexattr(fd: number, name: string): void {
  checkRet(c.fremovexattr(fd, name));
}

// fcntl commands and lock types (x86_64).
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

/** Flock is struct flock. */
export interface Flock {
  type: number;
  whence: number;
  start: number;
  len: number;
  pid: number;
}

function encodeFlock(l: Flock): Buffer {
  const b = Buffer.alloc(32);
  b.writeInt16LE(l.type, 0);
  b.writeInt16LE(l.whence, 2);
  b.writeBigInt64LE(BigInt(l.start), 8);
  b.writeBigInt64LE(BigInt(l.len), 16);
  b.writeInt32LE(l.pid, 24);
  return b;
}

/** fcntlLock runs F_OFD_SETLK / F_OFD_GETLK (never a blocking command). */
export function fcntlLock(fd: number, cmd: number, l: Flock): Flock {
  if (cmd === F_OFD_SETLKW) throw syserror.EINVAL; // would block the event loop.
  const b = encodeFlock(l);
  checkRet(c.fcntlLock(fd, cmd, b));
  return {
    type: b.readInt16LE(0),
    whence: b.readInt16LE(2),
    start: i64(b, 8),
    len: i64(b, 16),
    pid: b.readInt32LE(24),
  };
}

export function fcntlGetFl(fd: number): number {
  return checkRet(c.fcntlInt(fd, F_GETFL, 0));
}

export function fcntlSetFl(fd: number, flags: number): void {
  checkRet(c.fcntlInt(fd, F_SETFL, flags));
}

/** fcntl(F_DUPFD_CLOEXEC): a duplicate of fd, close-on-exec (gVisor's newFDMaybe uses dup). */
export function dupCloexec(fd: number): number {
  return checkRet(c.fcntlInt(fd, F_DUPFD_CLOEXEC, 0));
}

/** close(2) through Node (same system call). */
export function close(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch (err) {
    throw syserror.fromNodeError(err);
  }
}

/**
 * pread(2): reads into buf, returns the byte count (0 at EOF). offset -1
 * reads at the current position (read(2)), for pipes, which cannot seek.
 */
export function pread(fd: number, buf: Buffer, offset: number): number {
  try {
    return fs.readSync(fd, buf, 0, buf.length, offset < 0 ? null : offset);
  } catch (err) {
    throw syserror.fromNodeError(err);
  }
}

/** pwrite(2): writes buf, returns the byte count; offset -1 is write(2). */
export function pwrite(fd: number, buf: Buffer, offset: number): number {
  try {
    return fs.writeSync(fd, buf, 0, buf.length, offset < 0 ? null : offset);
  } catch (err) {
    throw syserror.fromNodeError(err);
  }
}

export function fsync(fd: number): void {
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    throw syserror.fromNodeError(err);
  }
}
