// The raw system call interface of a task, and the name-indexed dispatch
// table: gVisor's pkg/sentry/syscalls/linux/vfs2/vfs2.go (Override, the
// syscall table) for the filesystem slice.
//
// Calling convention (Linux's, as a C library sees the kernel's): every
// call resolves to its non-negative result or to -errno; it never rejects
// with a LinuxError. A rejection is a bug in this port (anything that is
// not a LinuxError propagates). Pointer arguments are "user memory" the
// caller owns (see usermem.ts): Uint8Arrays the call reads or fills in
// Linux's x86_64 byte layout, null for NULL; pathnames are strings or C
// string bytes.

import { isLinuxError } from '../../../syserror/syserror';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import * as fd from './fd';
import * as filesystem from './filesystem';
import * as fscontext from './fscontext';
import * as getdents from './getdents';
import * as inotify from './inotify';
import * as lock from './lock';
import * as mount from './mount';
import type { PathArg } from './path';
import * as pipe from './pipe';
import * as rw from './read_write';
import * as setstat from './setstat';
import * as stat from './stat';
import * as sync from './sync';
import * as xattr from './xattr';

// errno converts a thrown LinuxError into -errno; anything else is a bug
// and propagates.
function errno(err: unknown): number {
  if (isLinuxError(err)) return -err.errno;
  throw err;
}

function identity(n: number): number {
  return n;
}

/** ret turns the Promise of a syscall implementation into the raw return value. */
function ret(p: Promise<number>): Promise<number> {
  return p.then(identity, errno);
}

/** retSync is ret for an implementation that does not wait. */
function retSync(f: () => number): Promise<number> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    try {
      return Promise.resolve(errno(err));
    } catch (bug) {
      return Promise.reject(bug);
    }
  }
}

/** UserMemory is a pointer argument: bytes the call reads or fills, or null (NULL). */
export type UserMemory = Uint8Array | null;

/**
 * Syscalls is a task's raw system call interface (task.sys). Each method is
 * the Linux system call of the same name; see the module comment for the
 * calling convention.
 */
export class Syscalls {
  constructor(private readonly task: Task) {}

  // t is the task, read once at the start of every call: the call begins
  // there (Task.syscallEnter re-arms the interruption signal).
  private get t(): Task {
    this.task.syscallEnter();
    return this.task;
  }

  // read_write.go
  read(fd: number, buf: UserMemory, count: number): Promise<number> { return ret(rw.read(this.t, fd, buf, count)); }
  write(fd: number, buf: UserMemory, count: number): Promise<number> { return ret(rw.write(this.t, fd, buf, count)); }
  pread64(fd: number, buf: UserMemory, count: number, offset: number): Promise<number> { return ret(rw.pread64(this.t, fd, buf, count, offset)); }
  pwrite64(fd: number, buf: UserMemory, count: number, offset: number): Promise<number> { return ret(rw.pwrite64(this.t, fd, buf, count, offset)); }
  readv(fd: number, iov: Uint8Array[]): Promise<number> { return ret(rw.readv(this.t, fd, iov)); }
  writev(fd: number, iov: Uint8Array[]): Promise<number> { return ret(rw.writev(this.t, fd, iov)); }
  preadv(fd: number, iov: Uint8Array[], offset: number): Promise<number> { return ret(rw.preadv(this.t, fd, iov, offset)); }
  pwritev(fd: number, iov: Uint8Array[], offset: number): Promise<number> { return ret(rw.pwritev(this.t, fd, iov, offset)); }
  lseek(fd: number, offset: number, whence: number): Promise<number> { return ret(rw.lseek(this.t, fd, offset, whence)); }

  // filesystem.go
  open(path: PathArg, flags: number, mode = 0): Promise<number> { return ret(filesystem.open(this.t, path, flags, mode)); }
  openat(dirfd: number, path: PathArg, flags: number, mode = 0): Promise<number> { return ret(filesystem.openat(this.t, dirfd, path, flags, mode)); }
  creat(path: PathArg, mode: number): Promise<number> { return ret(filesystem.creat(this.t, path, mode)); }
  link(oldpath: PathArg, newpath: PathArg): Promise<number> { return ret(filesystem.link(this.t, oldpath, newpath)); }
  linkat(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags: number): Promise<number> {
    return ret(filesystem.linkat(this.t, olddirfd, oldpath, newdirfd, newpath, flags));
  }
  mkdir(path: PathArg, mode: number): Promise<number> { return ret(filesystem.mkdir(this.t, path, mode)); }
  mkdirat(dirfd: number, path: PathArg, mode: number): Promise<number> { return ret(filesystem.mkdirat(this.t, dirfd, path, mode)); }
  mknod(path: PathArg, mode: number, dev: number): Promise<number> { return ret(filesystem.mknod(this.t, path, mode, dev)); }
  mknodat(dirfd: number, path: PathArg, mode: number, dev: number): Promise<number> {
    return ret(filesystem.mknodat(this.t, dirfd, path, mode, dev));
  }
  rename(oldpath: PathArg, newpath: PathArg): Promise<number> { return ret(filesystem.rename(this.t, oldpath, newpath)); }
  renameat(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg): Promise<number> {
    return ret(filesystem.renameat(this.t, olddirfd, oldpath, newdirfd, newpath));
  }
  renameat2(olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg, flags: number): Promise<number> {
    return ret(filesystem.renameat2(this.t, olddirfd, oldpath, newdirfd, newpath, flags));
  }
  rmdir(path: PathArg): Promise<number> { return ret(filesystem.rmdir(this.t, path)); }
  unlink(path: PathArg): Promise<number> { return ret(filesystem.unlink(this.t, path)); }
  unlinkat(dirfd: number, path: PathArg, flags: number): Promise<number> { return ret(filesystem.unlinkat(this.t, dirfd, path, flags)); }
  symlink(target: PathArg, linkpath: PathArg): Promise<number> { return ret(filesystem.symlink(this.t, target, linkpath)); }
  symlinkat(target: PathArg, newdirfd: number, linkpath: PathArg): Promise<number> {
    return ret(filesystem.symlinkat(this.t, target, newdirfd, linkpath));
  }

  // fd.go
  close(fd: number): Promise<number> { return ret(fd_close(this.t, fd)); }
  dup(oldfd: number): Promise<number> { return retSync(() => fd.dup(this.t, oldfd)); }
  dup2(oldfd: number, newfd: number): Promise<number> { return ret(fd.dup2(this.t, oldfd, newfd)); }
  dup3(oldfd: number, newfd: number, flags: number): Promise<number> { return ret(fd.dup3(this.t, oldfd, newfd, flags)); }
  fcntl(fdn: number, cmd: number, arg: number | Uint8Array | null = 0): Promise<number> { return ret(fd.fcntl(this.t, fdn, cmd, arg)); }

  // stat.go
  stat(path: PathArg, statbuf: UserMemory): Promise<number> { return ret(stat.stat(this.t, path, statbuf)); }
  lstat(path: PathArg, statbuf: UserMemory): Promise<number> { return ret(stat.lstat(this.t, path, statbuf)); }
  fstat(fdn: number, statbuf: UserMemory): Promise<number> { return ret(stat.fstat(this.t, fdn, statbuf)); }
  newfstatat(dirfd: number, path: PathArg, statbuf: UserMemory, flags: number): Promise<number> {
    return ret(stat.newfstatat(this.t, dirfd, path, statbuf, flags));
  }
  statx(dirfd: number, path: PathArg, flags: number, mask: number, statxbuf: UserMemory): Promise<number> {
    return ret(stat.statx(this.t, dirfd, path, flags, mask, statxbuf));
  }
  readlink(path: PathArg, buf: UserMemory, bufsiz: number): Promise<number> { return ret(stat.readlink(this.t, path, buf, bufsiz)); }
  readlinkat(dirfd: number, path: PathArg, buf: UserMemory, bufsiz: number): Promise<number> {
    return ret(stat.readlinkat(this.t, dirfd, path, buf, bufsiz));
  }
  access(path: PathArg, mode: number): Promise<number> { return ret(stat.access(this.t, path, mode)); }
  faccessat(dirfd: number, path: PathArg, mode: number, flags = 0): Promise<number> {
    return ret(stat.faccessat(this.t, dirfd, path, mode, flags));
  }
  statfs(path: PathArg, buf: UserMemory): Promise<number> { return ret(stat.statfs(this.t, path, buf)); }
  fstatfs(fdn: number, buf: UserMemory): Promise<number> { return ret(stat.fstatfs(this.t, fdn, buf)); }

  // setstat.go
  chmod(path: PathArg, mode: number): Promise<number> { return ret(setstat.chmod(this.t, path, mode)); }
  fchmod(fdn: number, mode: number): Promise<number> { return ret(setstat.fchmod(this.t, fdn, mode)); }
  fchmodat(dirfd: number, path: PathArg, mode: number): Promise<number> { return ret(setstat.fchmodat(this.t, dirfd, path, mode)); }
  chown(path: PathArg, owner: number, group: number): Promise<number> { return ret(setstat.chown(this.t, path, owner, group)); }
  fchown(fdn: number, owner: number, group: number): Promise<number> { return ret(setstat.fchown(this.t, fdn, owner, group)); }
  lchown(path: PathArg, owner: number, group: number): Promise<number> { return ret(setstat.lchown(this.t, path, owner, group)); }
  fchownat(dirfd: number, path: PathArg, owner: number, group: number, flags: number): Promise<number> {
    return ret(setstat.fchownat(this.t, dirfd, path, owner, group, flags));
  }
  truncate(path: PathArg, length: number): Promise<number> { return ret(setstat.truncate(this.t, path, length)); }
  ftruncate(fdn: number, length: number): Promise<number> { return ret(setstat.ftruncate(this.t, fdn, length)); }
  fallocate(fdn: number, mode: number, offset: number, len: number): Promise<number> {
    return ret(setstat.fallocate(this.t, fdn, mode, offset, len));
  }
  utime(path: PathArg, times: UserMemory): Promise<number> { return ret(setstat.utime(this.t, path, times)); }
  utimes(path: PathArg, times: UserMemory): Promise<number> { return ret(setstat.utimes(this.t, path, times)); }
  futimesat(dirfd: number, path: PathArg | null, times: UserMemory): Promise<number> {
    return ret(setstat.futimesat(this.t, dirfd, path, times));
  }
  utimensat(dirfd: number, path: PathArg | null, times: UserMemory, flags: number): Promise<number> {
    return ret(setstat.utimensat(this.t, dirfd, path, times, flags));
  }

  // getdents.go
  getdents64(fdn: number, dirp: UserMemory, count: number): Promise<number> { return ret(getdents.getdents64(this.t, fdn, dirp, count)); }

  // fscontext.go
  getcwd(buf: UserMemory, size: number): Promise<number> { return ret(fscontext.getcwd(this.t, buf, size)); }
  chdir(path: PathArg): Promise<number> { return ret(fscontext.chdir(this.t, path)); }
  fchdir(fdn: number): Promise<number> { return ret(fscontext.fchdir(this.t, fdn)); }
  chroot(path: PathArg): Promise<number> { return ret(fscontext.chroot(this.t, path)); }
  umask(mask: number): Promise<number> { return retSync(() => fscontext.umask(this.t, mask)); }

  // lock.go
  flock(fdn: number, operation: number): Promise<number> { return ret(lock.flock(this.t, fdn, operation)); }

  // sync.go
  fsync(fdn: number): Promise<number> { return ret(sync.fsync(this.t, fdn)); }
  fdatasync(fdn: number): Promise<number> { return ret(sync.fdatasync(this.t, fdn)); }
  sync(): Promise<number> { return ret(sync.sync(this.t)); }
  syncfs(fdn: number): Promise<number> { return ret(sync.syncfs(this.t, fdn)); }

  // xattr.go
  getxattr(path: PathArg, name: PathArg, value: UserMemory, size: number): Promise<number> {
    return ret(xattr.getxattr(this.t, path, name, value, size));
  }
  lgetxattr(path: PathArg, name: PathArg, value: UserMemory, size: number): Promise<number> {
    return ret(xattr.lgetxattr(this.t, path, name, value, size));
  }
  fgetxattr(fdn: number, name: PathArg, value: UserMemory, size: number): Promise<number> {
    return ret(xattr.fgetxattr(this.t, fdn, name, value, size));
  }
  setxattr(path: PathArg, name: PathArg, value: UserMemory, size: number, flags: number): Promise<number> {
    return ret(xattr.setxattr(this.t, path, name, value, size, flags));
  }
  lsetxattr(path: PathArg, name: PathArg, value: UserMemory, size: number, flags: number): Promise<number> {
    return ret(xattr.lsetxattr(this.t, path, name, value, size, flags));
  }
  fsetxattr(fdn: number, name: PathArg, value: UserMemory, size: number, flags: number): Promise<number> {
    return ret(xattr.fsetxattr(this.t, fdn, name, value, size, flags));
  }
  listxattr(path: PathArg, list: UserMemory, size: number): Promise<number> { return ret(xattr.listxattr(this.t, path, list, size)); }
  llistxattr(path: PathArg, list: UserMemory, size: number): Promise<number> { return ret(xattr.llistxattr(this.t, path, list, size)); }
  flistxattr(fdn: number, list: UserMemory, size: number): Promise<number> { return ret(xattr.flistxattr(this.t, fdn, list, size)); }
  removexattr(path: PathArg, name: PathArg): Promise<number> { return ret(xattr.removexattr(this.t, path, name)); }
  lremovexattr(path: PathArg, name: PathArg): Promise<number> { return ret(xattr.lremovexattr(this.t, path, name)); }
  fremovexattr(fdn: number, name: PathArg): Promise<number> { return ret(xattr.fremovexattr(this.t, fdn, name)); }

  // inotify.go
  inotify_init(): Promise<number> { return retSync(() => inotify.inotify_init(this.t)); }
  inotify_init1(flags: number): Promise<number> { return retSync(() => inotify.inotify_init1(this.t, flags)); }
  inotify_add_watch(fdn: number, path: PathArg, mask: number): Promise<number> {
    return ret(inotify.inotify_add_watch(this.t, fdn, path, mask));
  }
  inotify_rm_watch(fdn: number, wd: number): Promise<number> { return retSync(() => inotify.inotify_rm_watch(this.t, fdn, wd)); }

  // pipe.go
  pipe(pipefd: Int32Array | Uint8Array | null): Promise<number> { return ret(pipe.pipe(this.t, pipefd)); }
  pipe2(pipefd: Int32Array | Uint8Array | null, flags: number): Promise<number> { return ret(pipe.pipe2(this.t, pipefd, flags)); }

  // mount.go
  mount(source: PathArg | null, target: PathArg, fstype: PathArg | null, flags: number, data: PathArg | null = null): Promise<number> {
    return ret(mount.mount(this.t, source, target, fstype, flags, data));
  }
  umount2(target: PathArg, flags: number): Promise<number> { return ret(mount.umount2(this.t, target, flags)); }
}

// fd_close avoids the name clash of Syscalls.close with the fd module.
function fd_close(t: Task, n: number): Promise<number> {
  return fd.close(t, n);
}

/** SyscallHandler is an entry of syscallTable: the raw call with loosely typed arguments. */
export type SyscallHandler = (t: Task, ...args: unknown[]) => Promise<number>;

// Argument coercion at the trust boundary of the dispatch table: an integer
// argument that is not a number (or bigint) is EINVAL, as a garbage
// register would most likely be; pointer arguments are checked by the calls
// themselves (EFAULT).
class badArg extends Error {}

function int(a: unknown): number {
  if (typeof a === 'number' && Number.isFinite(a)) return Math.trunc(a);
  if (typeof a === 'bigint') return Number(a);
  if (a === undefined || a === null) return 0;
  throw new badArg();
}

function mem(a: unknown): UserMemory {
  return a instanceof Uint8Array ? a : null;
}

function memOrInt(a: unknown): number | Uint8Array | null {
  return a instanceof Uint8Array ? a : int(a);
}

// iovs passes an iovec array through: read_write.ts's iovecsIOSequence
// narrows it (EFAULT for NULL or anything but an array of bytes).
function iovs(a: unknown): Uint8Array[] {
  return a as Uint8Array[];
}

// path passes a pathname argument through: copyInString narrows it (EFAULT
// for anything but a string or bytes).
function path(a: unknown): PathArg {
  return a as PathArg;
}

function pathOrNull(a: unknown): PathArg | null {
  return a === null || a === undefined ? null : (a as PathArg);
}

function entry(f: (s: Syscalls, a: unknown[]) => Promise<number>): SyscallHandler {
  return (t, ...a) => {
    try {
      return f(t.sys, a);
    } catch (err) {
      if (err instanceof badArg) return Promise.resolve(-syserror.EINVAL.errno);
      throw err;
    }
  };
}

/**
 * syscallTable maps each system call name to its raw handler, for callers
 * that dispatch by name (a sandbox tool): syscallTable.get('openat')!(task,
 * AT_FDCWD, '/a', O_RDONLY, 0).
 */
export const syscallTable: ReadonlyMap<string, SyscallHandler> = new Map<string, SyscallHandler>([
  ['read', entry((s, a) => s.read(int(a[0]), mem(a[1]), int(a[2])))],
  ['write', entry((s, a) => s.write(int(a[0]), mem(a[1]), int(a[2])))],
  ['open', entry((s, a) => s.open(path(a[0]), int(a[1]), int(a[2])))],
  ['close', entry((s, a) => s.close(int(a[0])))],
  ['stat', entry((s, a) => s.stat(path(a[0]), mem(a[1])))],
  ['fstat', entry((s, a) => s.fstat(int(a[0]), mem(a[1])))],
  ['lstat', entry((s, a) => s.lstat(path(a[0]), mem(a[1])))],
  ['lseek', entry((s, a) => s.lseek(int(a[0]), int(a[1]), int(a[2])))],
  ['pread64', entry((s, a) => s.pread64(int(a[0]), mem(a[1]), int(a[2]), int(a[3])))],
  ['pwrite64', entry((s, a) => s.pwrite64(int(a[0]), mem(a[1]), int(a[2]), int(a[3])))],
  ['readv', entry((s, a) => s.readv(int(a[0]), iovs(a[1])))],
  ['writev', entry((s, a) => s.writev(int(a[0]), iovs(a[1])))],
  ['preadv', entry((s, a) => s.preadv(int(a[0]), iovs(a[1]), int(a[2])))],
  ['pwritev', entry((s, a) => s.pwritev(int(a[0]), iovs(a[1]), int(a[2])))],
  ['access', entry((s, a) => s.access(path(a[0]), int(a[1])))],
  ['pipe', entry((s, a) => s.pipe(a[0] instanceof Uint8Array || a[0] instanceof Int32Array ? a[0] : null))],
  ['dup', entry((s, a) => s.dup(int(a[0])))],
  ['dup2', entry((s, a) => s.dup2(int(a[0]), int(a[1])))],
  ['fcntl', entry((s, a) => s.fcntl(int(a[0]), int(a[1]), memOrInt(a[2])))],
  ['flock', entry((s, a) => s.flock(int(a[0]), int(a[1])))],
  ['fsync', entry((s, a) => s.fsync(int(a[0])))],
  ['fdatasync', entry((s, a) => s.fdatasync(int(a[0])))],
  ['truncate', entry((s, a) => s.truncate(path(a[0]), int(a[1])))],
  ['ftruncate', entry((s, a) => s.ftruncate(int(a[0]), int(a[1])))],
  ['getcwd', entry((s, a) => s.getcwd(mem(a[0]), int(a[1])))],
  ['chdir', entry((s, a) => s.chdir(path(a[0])))],
  ['fchdir', entry((s, a) => s.fchdir(int(a[0])))],
  ['rename', entry((s, a) => s.rename(path(a[0]), path(a[1])))],
  ['mkdir', entry((s, a) => s.mkdir(path(a[0]), int(a[1])))],
  ['rmdir', entry((s, a) => s.rmdir(path(a[0])))],
  ['creat', entry((s, a) => s.creat(path(a[0]), int(a[1])))],
  ['link', entry((s, a) => s.link(path(a[0]), path(a[1])))],
  ['unlink', entry((s, a) => s.unlink(path(a[0])))],
  ['symlink', entry((s, a) => s.symlink(path(a[0]), path(a[1])))],
  ['readlink', entry((s, a) => s.readlink(path(a[0]), mem(a[1]), int(a[2])))],
  ['chmod', entry((s, a) => s.chmod(path(a[0]), int(a[1])))],
  ['fchmod', entry((s, a) => s.fchmod(int(a[0]), int(a[1])))],
  ['chown', entry((s, a) => s.chown(path(a[0]), int(a[1]), int(a[2])))],
  ['fchown', entry((s, a) => s.fchown(int(a[0]), int(a[1]), int(a[2])))],
  ['lchown', entry((s, a) => s.lchown(path(a[0]), int(a[1]), int(a[2])))],
  ['umask', entry((s, a) => s.umask(int(a[0])))],
  ['utime', entry((s, a) => s.utime(path(a[0]), mem(a[1])))],
  ['mknod', entry((s, a) => s.mknod(path(a[0]), int(a[1]), int(a[2])))],
  ['statfs', entry((s, a) => s.statfs(path(a[0]), mem(a[1])))],
  ['fstatfs', entry((s, a) => s.fstatfs(int(a[0]), mem(a[1])))],
  ['chroot', entry((s, a) => s.chroot(path(a[0])))],
  ['sync', entry((s) => s.sync())],
  ['mount', entry((s, a) => s.mount(pathOrNull(a[0]), path(a[1]), pathOrNull(a[2]), int(a[3]), pathOrNull(a[4])))],
  ['umount2', entry((s, a) => s.umount2(path(a[0]), int(a[1])))],
  ['setxattr', entry((s, a) => s.setxattr(path(a[0]), path(a[1]), mem(a[2]), int(a[3]), int(a[4])))],
  ['lsetxattr', entry((s, a) => s.lsetxattr(path(a[0]), path(a[1]), mem(a[2]), int(a[3]), int(a[4])))],
  ['fsetxattr', entry((s, a) => s.fsetxattr(int(a[0]), path(a[1]), mem(a[2]), int(a[3]), int(a[4])))],
  ['getxattr', entry((s, a) => s.getxattr(path(a[0]), path(a[1]), mem(a[2]), int(a[3])))],
  ['lgetxattr', entry((s, a) => s.lgetxattr(path(a[0]), path(a[1]), mem(a[2]), int(a[3])))],
  ['fgetxattr', entry((s, a) => s.fgetxattr(int(a[0]), path(a[1]), mem(a[2]), int(a[3])))],
  ['listxattr', entry((s, a) => s.listxattr(path(a[0]), mem(a[1]), int(a[2])))],
  ['llistxattr', entry((s, a) => s.llistxattr(path(a[0]), mem(a[1]), int(a[2])))],
  ['flistxattr', entry((s, a) => s.flistxattr(int(a[0]), mem(a[1]), int(a[2])))],
  ['removexattr', entry((s, a) => s.removexattr(path(a[0]), path(a[1])))],
  ['lremovexattr', entry((s, a) => s.lremovexattr(path(a[0]), path(a[1])))],
  ['fremovexattr', entry((s, a) => s.fremovexattr(int(a[0]), path(a[1])))],
  ['utimes', entry((s, a) => s.utimes(path(a[0]), mem(a[1])))],
  ['inotify_init', entry((s) => s.inotify_init())],
  ['inotify_add_watch', entry((s, a) => s.inotify_add_watch(int(a[0]), path(a[1]), int(a[2])))],
  ['inotify_rm_watch', entry((s, a) => s.inotify_rm_watch(int(a[0]), int(a[1])))],
  ['openat', entry((s, a) => s.openat(int(a[0]), path(a[1]), int(a[2]), int(a[3])))],
  ['mkdirat', entry((s, a) => s.mkdirat(int(a[0]), path(a[1]), int(a[2])))],
  ['mknodat', entry((s, a) => s.mknodat(int(a[0]), path(a[1]), int(a[2]), int(a[3])))],
  ['fchownat', entry((s, a) => s.fchownat(int(a[0]), path(a[1]), int(a[2]), int(a[3]), int(a[4])))],
  ['futimesat', entry((s, a) => s.futimesat(int(a[0]), pathOrNull(a[1]), mem(a[2])))],
  ['newfstatat', entry((s, a) => s.newfstatat(int(a[0]), path(a[1]), mem(a[2]), int(a[3])))],
  ['unlinkat', entry((s, a) => s.unlinkat(int(a[0]), path(a[1]), int(a[2])))],
  ['renameat', entry((s, a) => s.renameat(int(a[0]), path(a[1]), int(a[2]), path(a[3])))],
  ['linkat', entry((s, a) => s.linkat(int(a[0]), path(a[1]), int(a[2]), path(a[3]), int(a[4])))],
  ['symlinkat', entry((s, a) => s.symlinkat(path(a[0]), int(a[1]), path(a[2])))],
  ['readlinkat', entry((s, a) => s.readlinkat(int(a[0]), path(a[1]), mem(a[2]), int(a[3])))],
  ['fchmodat', entry((s, a) => s.fchmodat(int(a[0]), path(a[1]), int(a[2])))],
  ['faccessat', entry((s, a) => s.faccessat(int(a[0]), path(a[1]), int(a[2]), int(a[3])))],
  ['utimensat', entry((s, a) => s.utimensat(int(a[0]), pathOrNull(a[1]), mem(a[2]), int(a[3])))],
  ['fallocate', entry((s, a) => s.fallocate(int(a[0]), int(a[1]), int(a[2]), int(a[3])))],
  ['dup3', entry((s, a) => s.dup3(int(a[0]), int(a[1]), int(a[2])))],
  ['pipe2', entry((s, a) => s.pipe2(a[0] instanceof Uint8Array || a[0] instanceof Int32Array ? a[0] : null, int(a[1])))],
  ['inotify_init1', entry((s, a) => s.inotify_init1(int(a[0])))],
  ['syncfs', entry((s, a) => s.syncfs(int(a[0])))],
  ['renameat2', entry((s, a) => s.renameat2(int(a[0]), path(a[1]), int(a[2]), path(a[3]), int(a[4])))],
  ['statx', entry((s, a) => s.statx(int(a[0]), path(a[1]), int(a[2]), int(a[3]), mem(a[4])))],
  ['getdents64', entry((s, a) => s.getdents64(int(a[0]), mem(a[1]), int(a[2])))],
]);
