// chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, truncate,
// ftruncate, fallocate, utime, utimes, futimesat, utimensat: gVisor's
// pkg/sentry/syscalls/linux/vfs2/setstat.go, in its order.
//
// User memory: utime's times is a struct utimbuf (16 bytes), utimes' and
// futimesat's a struct timeval[2] (32 bytes), utimensat's a struct
// timespec[2] (32 bytes); null is the NULL pointer ("now").
//
// Differs from gVisor at this commit, following Linux: fallocate checks its
// range before the access mode (vfs_fallocate); utimensat accepts
// AT_EMPTY_PATH (Linux 5.x). There are no signals: where Linux would also
// send SIGXFSZ, only EFBIG is returned.

import {
  AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_PATH, S_ISGID, S_ISUID, S_ISVTX, UTIME_NOW, UTIME_OMIT,
} from '../../../abi/linux/file';
import { IN_MODIFY } from '../../../abi/linux/inotify';
import { newStatx, STATX_ATIME, STATX_GID, STATX_MODE, STATX_MTIME, STATX_SIZE, STATX_UID } from '../../../abi/linux/stat';
import type * as fspath from '../../../fspath';
import * as syserror from '../../../syserror/syserror';
import { idOk } from '../../kernel/auth/id';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';
import { PathEvent } from '../../vfs/inotify';
import type { SetStatOptions } from '../../vfs/options';
import type { VirtualDentry } from '../../vfs/vfs';
import {
  copyInPath, disallowEmptyPath, followFinalSymlink, type PathArg,
  type shouldAllowEmptyPath, type shouldFollowFinalSymlink,
} from './path';
import { readI64, userBuffer } from './usermem';

const chmodMask = 0o777 | S_ISUID | S_ISGID | S_ISVTX;

function setStatOptions(): SetStatOptions {
  return { stat: newStatx() };
}

/** chmod implements Linux syscall chmod(2). */
export function chmod(t: Task, pathAddr: PathArg, mode: number): Promise<number> {
  return fchmodat(t, AT_FDCWD, pathAddr, mode);
}

/** fchmodat implements Linux syscall fchmodat(2). */
export async function fchmodat(t: Task, dirfd: number, pathAddr: PathArg, mode: number): Promise<number> {
  const path = copyInPath(pathAddr);
  const opts = setStatOptions();
  opts.stat.mask = STATX_MODE;
  opts.stat.mode = mode & chmodMask;
  await setstatat(t, dirfd, path, disallowEmptyPath, followFinalSymlink, opts);
  return 0;
}

/** fchmod implements Linux syscall fchmod(2). */
export async function fchmod(t: Task, fd: number, mode: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const opts = setStatOptions();
    opts.stat.mask = STATX_MODE;
    opts.stat.mode = mode & chmodMask;
    await file.setStat(t, opts);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** chown implements Linux syscall chown(2). */
export function chown(t: Task, pathAddr: PathArg, owner: number, group: number): Promise<number> {
  return fchownat(t, AT_FDCWD, pathAddr, owner, group, 0);
}

/** lchown implements Linux syscall lchown(2). */
export function lchown(t: Task, pathAddr: PathArg, owner: number, group: number): Promise<number> {
  return fchownat(t, AT_FDCWD, pathAddr, owner, group, AT_SYMLINK_NOFOLLOW);
}

/** fchownat implements Linux syscall fchownat(2). */
export async function fchownat(t: Task, dirfd: number, pathAddr: PathArg, owner: number, group: number, flags: number): Promise<number> {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) throw syserror.EINVAL;
  const path = copyInPath(pathAddr);
  const opts = setStatOptions();
  populateSetStatOptionsForChown(t, owner, group, opts);
  await setstatat(t, dirfd, path, (flags & AT_EMPTY_PATH) !== 0, (flags & AT_SYMLINK_NOFOLLOW) === 0, opts);
  return 0;
}

function populateSetStatOptionsForChown(t: Task, owner: number, group: number, opts: SetStatOptions): void {
  const userns = t.creds.userNamespace;
  // uid_t and gid_t are unsigned: -1 and 0xffffffff both mean "unchanged".
  owner >>>= 0;
  group >>>= 0;
  if (owner !== 0xffffffff) {
    const kuid = userns.mapToKUID(owner);
    if (!idOk(kuid)) throw syserror.EINVAL;
    opts.stat.mask |= STATX_UID;
    opts.stat.uid = kuid;
  }
  if (group !== 0xffffffff) {
    const kgid = userns.mapToKGID(group);
    if (!idOk(kgid)) throw syserror.EINVAL;
    opts.stat.mask |= STATX_GID;
    opts.stat.gid = kgid;
  }
}

/** fchown implements Linux syscall fchown(2). */
export async function fchown(t: Task, fd: number, owner: number, group: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const opts = setStatOptions();
    populateSetStatOptionsForChown(t, owner, group, opts);
    await file.setStat(t, opts);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** truncate implements Linux syscall truncate(2). */
export async function truncate(t: Task, addr: PathArg, length: number): Promise<number> {
  if (length < 0) throw syserror.EINVAL;
  const path = copyInPath(addr);
  const opts = setStatOptions();
  opts.stat.mask = STATX_SIZE;
  opts.stat.size = length;
  opts.needWritePerm = true;
  await setstatat(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink, opts);
  return 0;
}

/** ftruncate implements Linux syscall ftruncate(2). */
export async function ftruncate(t: Task, fd: number, length: number): Promise<number> {
  if (length < 0) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (!file.isWritable()) throw syserror.EINVAL;
    const opts = setStatOptions();
    opts.stat.mask = STATX_SIZE;
    opts.stat.size = length;
    await file.setStat(t, opts);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** fallocate implements Linux syscall fallocate(2). */
export async function fallocate(t: Task, fd: number, mode: number, offset: number, length: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (offset < 0 || length <= 0) throw syserror.EINVAL;
    if (!file.isWritable()) throw syserror.EBADF;
    if (mode !== 0) throw syserror.ENOTSUP;
    const size = offset + length;
    if (size > Number.MAX_SAFE_INTEGER) throw syserror.EFBIG;
    if (size >= t.limits.fileSize) throw syserror.EFBIG;
    await file.allocate(t, mode, offset, length);
    file.dentry().inotifyWithParent(t, IN_MODIFY, 0, PathEvent);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** utime implements Linux syscall utime(2). */
export async function utime(t: Task, pathAddr: PathArg, timesAddr: Uint8Array | null): Promise<number> {
  const path = copyInPath(pathAddr);
  const opts = setStatOptions();
  opts.stat.mask = STATX_ATIME | STATX_MTIME;
  if (timesAddr === null) {
    opts.stat.atime.nsec = UTIME_NOW;
    opts.stat.mtime.nsec = UTIME_NOW;
  } else {
    // struct utimbuf { time_t actime; time_t modtime; }
    const b = userBuffer(timesAddr, 16);
    opts.stat.atime.sec = readI64(b, 0);
    opts.stat.mtime.sec = readI64(b, 8);
  }
  await setstatat(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink, opts);
  return 0;
}

/** utimes implements Linux syscall utimes(2). */
export async function utimes(t: Task, pathAddr: PathArg, timesAddr: Uint8Array | null): Promise<number> {
  const path = copyInPath(pathAddr);
  const opts = setStatOptions();
  populateSetStatOptionsForUtimes(timesAddr, opts);
  await setstatat(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink, opts);
  return 0;
}

/** futimesat implements Linux syscall futimesat(2). */
export async function futimesat(t: Task, dirfd: number, pathAddr: PathArg | null, timesAddr: Uint8Array | null): Promise<number> {
  const opts = setStatOptions();
  populateSetStatOptionsForUtimes(timesAddr, opts);
  await utimesImpl(t, dirfd, pathAddr, disallowEmptyPath, followFinalSymlink, opts);
  return 0;
}

/**
 * utimesImpl is the common tail of futimesat and utimensat (later gVisor's
 * utimes, renamed here beside the utimes syscall; it separates the NULL-pathname case from setstatat so that an
 * O_PATH fd is EBADF there and usable as a dirfd with AT_EMPTY_PATH): "If
 * filename is NULL and dfd refers to an open file, then operate on the
 * file. Otherwise look up filename, possibly using dfd as a starting point."
 * - fs/utimes.c:do_utimes()
 */
async function utimesImpl(
  t: Task, dirfd: number, pathAddr: PathArg | null, allowEmpty: shouldAllowEmptyPath, follow: shouldFollowFinalSymlink,
  opts: SetStatOptions,
): Promise<void> {
  if (dirfd !== AT_FDCWD && pathAddr === null) {
    const file = t.getFileVFS2(dirfd);
    if (file === null) throw syserror.EBADF;
    try {
      return await file.setStat(t, opts);
    } finally {
      file.decRef(t);
    }
  }
  await setstatat(t, dirfd, copyInPath(pathAddr), allowEmpty, follow, opts);
}

function populateSetStatOptionsForUtimes(timesAddr: Uint8Array | null, opts: SetStatOptions): void {
  if (timesAddr === null) {
    opts.stat.mask = STATX_ATIME | STATX_MTIME;
    opts.stat.atime.nsec = UTIME_NOW;
    opts.stat.mtime.nsec = UTIME_NOW;
    return;
  }
  // struct timeval[2] { time_t tv_sec; suseconds_t tv_usec; }
  const b = userBuffer(timesAddr, 32);
  const aSec = readI64(b, 0);
  const aUsec = readI64(b, 8);
  const mSec = readI64(b, 16);
  const mUsec = readI64(b, 24);
  if (aUsec < 0 || aUsec > 999999 || mUsec < 0 || mUsec > 999999) throw syserror.EINVAL;
  opts.stat.mask = STATX_ATIME | STATX_MTIME;
  opts.stat.atime = { sec: aSec, nsec: aUsec * 1000 };
  opts.stat.mtime = { sec: mSec, nsec: mUsec * 1000 };
}

/** utimensat implements Linux syscall utimensat(2). */
export async function utimensat(
  t: Task, dirfd: number, pathAddr: PathArg | null, timesAddr: Uint8Array | null, flags: number,
): Promise<number> {
  const opts = setStatOptions();
  populateSetStatOptionsForUtimens(timesAddr, opts);
  if (opts.stat.mask === 0) return 0;
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) throw syserror.EINVAL;

  await utimesImpl(t, dirfd, pathAddr, (flags & AT_EMPTY_PATH) !== 0, (flags & AT_SYMLINK_NOFOLLOW) === 0, opts);
  return 0;
}

function populateSetStatOptionsForUtimens(timesAddr: Uint8Array | null, opts: SetStatOptions): void {
  if (timesAddr === null) {
    opts.stat.mask = STATX_ATIME | STATX_MTIME;
    opts.stat.atime.nsec = UTIME_NOW;
    opts.stat.mtime.nsec = UTIME_NOW;
    return;
  }
  // struct timespec[2] { time_t tv_sec; long tv_nsec; }
  const b = userBuffer(timesAddr, 32);
  const times = [
    { sec: readI64(b, 0), nsec: readI64(b, 8) },
    { sec: readI64(b, 16), nsec: readI64(b, 24) },
  ] as const;
  if (times[0].nsec !== UTIME_OMIT) {
    if (times[0].nsec !== UTIME_NOW && (times[0].nsec < 0 || times[0].nsec > 999999999)) throw syserror.EINVAL;
    opts.stat.mask |= STATX_ATIME;
    opts.stat.atime = { sec: times[0].sec, nsec: times[0].nsec };
  }
  if (times[1].nsec !== UTIME_OMIT) {
    if (times[1].nsec !== UTIME_NOW && (times[1].nsec < 0 || times[1].nsec > 999999999)) throw syserror.EINVAL;
    opts.stat.mask |= STATX_MTIME;
    opts.stat.mtime = { sec: times[1].sec, nsec: times[1].nsec };
  }
}

/**
 * setstatat resolves (dirfd, path) and applies opts: an empty path (when
 * allowed) names dirfd's file itself, whatever its type.
 */
export async function setstatat(
  t: Task, dirfd: number, path: fspath.Path, allowEmpty: shouldAllowEmptyPath, follow: shouldFollowFinalSymlink,
  opts: SetStatOptions,
): Promise<void> {
  const root = t.fsContext.rootDirectoryVFS2();
  try {
    let start: VirtualDentry = root;
    let haveStartRef = false;
    if (!path.absolute) {
      if (!path.hasComponents() && !allowEmpty) throw syserror.ENOENT;
      if (dirfd === AT_FDCWD) {
        start = t.fsContext.workingDirectoryVFS2();
        haveStartRef = true;
      } else {
        const dirfile = t.getFileVFS2(dirfd);
        if (dirfile === null) throw syserror.EBADF;
        if (!path.hasComponents() && (dirfile.statusFlags() & O_PATH) === 0) {
          // For an empty path, use FileDescription.setStat() instead of
          // VirtualFilesystem.setStatAt(), since the former may be able to
          // use opened file state. Skipped for O_PATH fds, whose setStat is
          // always EBADF (as later gVisor, with opath.ts).
          try {
            return await dirfile.setStat(t, opts);
          } finally {
            dirfile.decRef(t);
          }
        }
        start = dirfile.virtualDentry();
        start.incRef();
        haveStartRef = true;
        dirfile.decRef(t);
      }
    }
    try {
      await t.k.vfs.setStatAt(t, t.creds, { root, start, path, followFinalSymlink: follow }, opts);
    } finally {
      if (haveStartRef) start.decRef(t);
    }
  } finally {
    root.decRef(t);
  }
}
