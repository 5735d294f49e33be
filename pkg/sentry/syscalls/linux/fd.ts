// close, dup, dup2, dup3, fcntl: gVisor's
// pkg/sentry/syscalls/linux/vfs2/fd.go.
//
// Each function implements one system call for task t. It resolves to the
// call's result and throws a LinuxError for -errno (sys.ts turns that into
// the raw return value).
//
// Differs from gVisor at this commit: F_GETLK is answered as Linux does
// (gVisor returned EINVAL); fasync owners (F_GETOWN/F_SETOWN*, F_GETSIG,
// F_SETSIG) and memfd seals are outside the filesystem slice and fail with
// EINVAL as other unknown commands.

import {
  F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETPIPE_SZ, F_RDLCK, F_SETFD, F_SETFL, F_SETLK, F_SETLKW,
  F_SETPIPE_SZ, F_UNLCK, F_WRLCK, FD_CLOEXEC, SizeOfFlock,
} from '../../../abi/linux/fcntl';
import { O_CLOEXEC, O_PATH, SEEK_SET } from '../../../abi/linux/file';
import * as syserror from '../../../syserror/syserror';
import * as lock from '../../fs/lock';
import { toLinuxFDFlags } from '../../kernel/fd_table';
import { pipeFD } from '../../kernel/pipefs';
import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import type { FileLocks } from '../../vfs/lock';
import { toBuffer } from './usermem';

/**
 * fdget returns the file of fd with a reference, or null if fd is not open
 * or was opened with O_PATH (Linux's fdget(), for the calls that operate
 * on the file itself; fstat, fchdir, close, dup, the *at dirfds use the
 * file as it is, as fdget_raw()). Callers throw EBADF on null.
 */
export function fdget(t: Task, fd: number): FileDescription | null {
  const file = t.getFileVFS2(fd);
  if (file !== null && (file.statusFlags() & O_PATH) !== 0) {
    file.decRef(t);
    return null;
  }
  return file;
}

/** close implements Linux syscall close(2). */
export async function close(t: Task, fd: number): Promise<number> {
  // Note that Remove provides a reference on the file that we may use to
  // flush. It is still active until we drop the final reference below (and
  // other reference-holding operations complete).
  const file = await t.fdTable.remove(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    await file.onClose(t);
  } finally {
    file.decRef(t);
  }
  return 0;
}

/** dup implements Linux syscall dup(2). */
export function dup(t: Task, fd: number): number {
  const file = t.getFileVFS2(fd);
  if (file === null) throw syserror.EBADF;
  try {
    return t.newFDFromVFS2(0, file, { closeOnExec: false });
  } catch {
    throw syserror.EMFILE;
  } finally {
    file.decRef(t);
  }
}

/** dup2 implements Linux syscall dup2(2). */
export async function dup2(t: Task, oldfd: number, newfd: number): Promise<number> {
  if (oldfd === newfd) {
    // As long as oldfd is valid, dup2() does nothing and returns newfd.
    const file = t.getFileVFS2(oldfd);
    if (file === null) throw syserror.EBADF;
    file.decRef(t);
    return newfd;
  }
  return dup3Impl(t, oldfd, newfd, 0);
}

/** dup3 implements Linux syscall dup3(2). */
export function dup3(t: Task, oldfd: number, newfd: number, flags: number): Promise<number> {
  if (oldfd === newfd) return Promise.reject(syserror.EINVAL);
  return dup3Impl(t, oldfd, newfd, flags);
}

async function dup3Impl(t: Task, oldfd: number, newfd: number, flags: number): Promise<number> {
  if ((flags & ~O_CLOEXEC) !== 0) throw syserror.EINVAL;
  const file = t.getFileVFS2(oldfd);
  if (file === null) throw syserror.EBADF;
  try {
    await t.newFDAtVFS2(newfd, file, { closeOnExec: (flags & O_CLOEXEC) !== 0 });
  } finally {
    file.decRef(t);
  }
  return newfd;
}

/**
 * fcntl implements Linux syscall fcntl(2). arg is the integer argument, or
 * for the lock commands the struct flock (32 bytes, x86_64 layout) in user
 * memory, which F_GETLK fills in.
 */
export async function fcntl(t: Task, fd: number, cmd: number, arg: number | Uint8Array | null): Promise<number> {
  const [file, flags] = t.fdTable.getVFS2WithFlags(fd);
  if (file === null) throw syserror.EBADF;
  try {
    // fs/fcntl.c:check_fcntl_cmd(): an O_PATH fd allows only these.
    if ((file.statusFlags() & O_PATH) !== 0 &&
        cmd !== F_DUPFD && cmd !== F_DUPFD_CLOEXEC && cmd !== F_GETFD && cmd !== F_SETFD && cmd !== F_GETFL) {
      throw syserror.EBADF;
    }
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC: {
        const minfd = intArg(arg);
        // Linux: "EINVAL ... arg is negative or is greater than the maximum
        // allowable value" (RLIMIT_NOFILE).
        if (minfd < 0 || minfd >= t.limits.numberOfFiles) throw syserror.EINVAL;
        return t.newFDFromVFS2(minfd, file, { closeOnExec: cmd === F_DUPFD_CLOEXEC });
      }
      case F_GETFD:
        return toLinuxFDFlags(flags);
      case F_SETFD:
        t.fdTable.setFlagsVFS2(fd, { closeOnExec: (intArg(arg) & FD_CLOEXEC) !== 0 });
        return 0;
      case F_GETFL:
        return file.statusFlags();
      case F_SETFL:
        await file.setStatusFlags(t, t.credentials(), intArg(arg) >>> 0);
        return 0;
      case F_SETPIPE_SZ: {
        if (!(file.impl instanceof pipeFD)) throw syserror.EBADF;
        return file.impl.pipeFD.setPipeSize(intArg(arg));
      }
      case F_GETPIPE_SZ: {
        if (!(file.impl instanceof pipeFD)) throw syserror.EBADF;
        return file.impl.pipeFD.pipeSize();
      }
      case F_SETLK:
      case F_SETLKW:
        await posixLock(t, arg, file, cmd);
        return 0;
      case F_GETLK:
        await posixTestLock(t, arg, file);
        return 0;
      default:
        // Everything else is not yet supported.
        throw syserror.EINVAL;
    }
  } finally {
    file.decRef(t);
  }
}

function intArg(arg: number | Uint8Array | null): number {
  if (typeof arg !== 'number') return 0;
  return arg | 0;
}

/** flock is struct flock as read from user memory. */
interface flockArg {
  buf: Buffer;
  type: number;
  whence: number;
  start: number;
  len: number;
}

function copyInFlock(arg: number | Uint8Array | null): flockArg {
  if (!(arg instanceof Uint8Array) || arg.length < SizeOfFlock) throw syserror.EFAULT;
  const buf = toBuffer(arg);
  return {
    buf,
    type: buf.readInt16LE(0),
    whence: buf.readInt16LE(2),
    start: Number(buf.readBigInt64LE(8)),
    len: Number(buf.readBigInt64LE(16)),
  };
}

async function posixLock(t: Task, arg: number | Uint8Array | null, file: FileDescription, cmd: number): Promise<void> {
  // Copy in the lock request.
  const flock = copyInFlock(arg);
  const block = cmd === F_SETLKW;
  switch (flock.type) {
    case F_RDLCK:
      if (!file.isReadable()) throw syserror.EBADF;
      return file.lockPOSIX(t, t.fdTable, lock.ReadLock, flock.start, flock.len, flock.whence, block);
    case F_WRLCK:
      if (!file.isWritable()) throw syserror.EBADF;
      return file.lockPOSIX(t, t.fdTable, lock.WriteLock, flock.start, flock.len, flock.whence, block);
    case F_UNLCK:
      return file.unlockPOSIX(t, t.fdTable, flock.start, flock.len, flock.whence);
    default:
      throw syserror.EINVAL;
  }
}

// fileLocksOf finds the FileLocks of a file description whose impl keeps a
// vfs.LockFD in its lockFD field (tmpfs, gofer). FileDescription has no
// testPOSIX at this port's VFS; this reaches the FileLocks directly.
function fileLocksOf(file: FileDescription): FileLocks | null {
  const impl = file.impl as unknown as { lockFD?: { locks?: () => FileLocks | null } };
  const locks = impl.lockFD?.locks?.();
  return locks ?? null;
}

/**
 * posixTestLock implements F_GETLK as Linux's fcntl_getlk(): if the lock
 * described by the struct flock could be placed, l_type becomes F_UNLCK;
 * otherwise the struct describes one conflicting lock (l_whence SEEK_SET,
 * l_len 0 for "to end of file", l_pid its owner).
 */
async function posixTestLock(t: Task, arg: number | Uint8Array | null, file: FileDescription): Promise<void> {
  const flock = copyInFlock(arg);
  let type: lock.LockType;
  switch (flock.type) {
    case F_RDLCK:
      type = lock.ReadLock;
      break;
    case F_WRLCK:
      type = lock.WriteLock;
      break;
    default:
      throw syserror.EINVAL;
  }
  const locks = fileLocksOf(file);
  if (locks === null) throw syserror.ENOLCK;
  const conflict = await locks.testPOSIX(t, file, t.fdTable, type, flock.start, flock.len, flock.whence);
  const b = flock.buf;
  if (conflict === null) {
    b.writeInt16LE(F_UNLCK, 0);
    return;
  }
  b.writeInt16LE(conflict.type === lock.WriteLock ? F_WRLCK : F_RDLCK, 0);
  b.writeInt16LE(SEEK_SET, 2);
  b.writeBigInt64LE(BigInt(conflict.range.start), 8);
  const len = conflict.range.end === lock.LockEOF ? 0 : conflict.range.end - conflict.range.start;
  b.writeBigInt64LE(BigInt(len), 16);
  b.writeInt32LE(t.kernel().pidOfLockOwner(conflict.uid), 24);
}
