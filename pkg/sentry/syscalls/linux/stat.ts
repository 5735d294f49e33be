// stat, lstat, newfstatat, fstat, statx, readlink(at), access, faccessat,
// statfs, fstatfs: gVisor's pkg/sentry/syscalls/linux/vfs2/stat.go and
// stat_amd64.go.
//
// User memory: statbuf is a Uint8Array of at least 144 bytes (struct stat,
// x86_64), statxbuf 256 bytes (struct statx), buf of statfs 120 bytes
// (struct statfs); shorter is EFAULT.
//
// Differs from gVisor at this commit: faccessat takes faccessat2's flags
// (AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH), as glibc's faccessat
// does; gVisor's faccessat has none.

import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
} from '../../../abi/linux/file';
import {
  makeDeviceID, marshalStatfs, marshalStatx, SizeOfStat, SizeOfStatfs, SizeOfStatx, STATX__RESERVED, STATX_BASIC_STATS,
  type Statfs, type Statx,
} from '../../../abi/linux/stat';
import * as syserror from '../../../syserror/syserror';
import { RootUID, uidOrOverflow, gidOrOverflow, kuidIn, kgidIn } from '../../kernel/auth/id';
import type { Task } from '../../kernel/task';
import type { StatOptions } from '../../vfs/options';
import type { VirtualDentry } from '../../vfs/vfs';
import {
  allowEmptyPath, copyInPath, disallowEmptyPath, emptyPath, followFinalSymlink, getTaskPathOperation,
  nofollowFinalSymlink, type PathArg,
} from './path';
import { copyOut, userBuffer } from './usermem';

/** stat implements Linux syscall stat(2). */
export function stat(t: Task, pathAddr: PathArg, statAddr: unknown): Promise<number> {
  return fstatat(t, AT_FDCWD, pathAddr, statAddr, 0);
}

/** lstat implements Linux syscall lstat(2). */
export function lstat(t: Task, pathAddr: PathArg, statAddr: unknown): Promise<number> {
  return fstatat(t, AT_FDCWD, pathAddr, statAddr, AT_SYMLINK_NOFOLLOW);
}

/** newfstatat implements Linux syscall newfstatat, which backs fstatat(2). */
export function newfstatat(t: Task, dirfd: number, pathAddr: PathArg, statAddr: unknown, flags: number): Promise<number> {
  return fstatat(t, dirfd, pathAddr, statAddr, flags);
}

const basicStatOpts: StatOptions = { mask: STATX_BASIC_STATS };

/**
 * statxAt resolves (dirfd, path) as fstatat/statx do and returns its Statx:
 * an empty path with AT_EMPTY_PATH names dirfd itself (stat of the open
 * file, which need not be a directory).
 */
export async function statxAt(t: Task, dirfd: number, pathAddr: PathArg, flags: number, opts: StatOptions): Promise<Statx> {
  const path = copyInPath(pathAddr);
  const root = t.fsContext.rootDirectoryVFS2();
  try {
    let start: VirtualDentry = root;
    let haveStartRef = false;
    if (!path.absolute) {
      if (!path.hasComponents() && (flags & AT_EMPTY_PATH) === 0) throw syserror.ENOENT;
      if (dirfd === AT_FDCWD) {
        start = t.fsContext.workingDirectoryVFS2();
        haveStartRef = true;
      } else {
        const dirfile = t.getFileVFS2(dirfd);
        if (dirfile === null) throw syserror.EBADF;
        if (!path.hasComponents()) {
          try {
            return await dirfile.stat(t, opts);
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
      return await t.k.vfs.statAt(t, t.creds, {
        root, start, path, followFinalSymlink: (flags & AT_SYMLINK_NOFOLLOW) === 0,
      }, opts);
    } finally {
      if (haveStartRef) start.decRef(t);
    }
  } finally {
    root.decRef(t);
  }
}

async function fstatat(t: Task, dirfd: number, pathAddr: PathArg, statAddr: unknown, flags: number): Promise<number> {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) !== 0) throw syserror.EINVAL;
  const statx = await statxAt(t, dirfd, pathAddr, flags, basicStatOpts);
  copyOutStat(t, statx, statAddr);
  return 0;
}

/** fstat implements Linux syscall fstat(2). */
export async function fstat(t: Task, fd: number, statAddr: unknown): Promise<number> {
  const file = t.getFileVFS2(fd);
  if (file === null) throw syserror.EBADF;
  try {
    const statx = await file.stat(t, basicStatOpts);
    copyOutStat(t, statx, statAddr);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** statxImpl is statx(2) without the copy-out: the checks, the lookup, and userifyStatx. */
export async function statxImpl(t: Task, dirfd: number, pathAddr: PathArg, flags: number, mask: number): Promise<Statx> {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_TYPE)) !== 0) throw syserror.EINVAL;
  const syncType = flags & AT_STATX_SYNC_TYPE;
  if (syncType !== 0 && (syncType & (syncType - 1)) !== 0) throw syserror.EINVAL;
  if (((mask >>> 0) & STATX__RESERVED) !== 0) throw syserror.EINVAL;
  const s = await statxAt(t, dirfd, pathAddr, flags, { mask: mask >>> 0, sync: syncType });
  userifyStatx(t, s);
  return s;
}

/** statx implements Linux syscall statx(2). */
export async function statx(t: Task, dirfd: number, pathAddr: PathArg, flags: number, mask: number, statxAddr: unknown): Promise<number> {
  const s = await statxImpl(t, dirfd, pathAddr, flags, mask);
  copyOut(statxAddr, marshalStatx(s));
  return 0;
}

/** userifyStatx maps uid and gid into the task's user namespace (gVisor: userifyStatx). */
export function userifyStatx(t: Task, s: Statx): void {
  const userns = t.creds.userNamespace;
  s.uid = uidOrOverflow(kuidIn(s.uid, userns));
  s.gid = gidOrOverflow(kgidIn(s.gid, userns));
}

// putU32 stores x (0 <= x < 2^32) little endian, byte by byte: the hot path
// of stat(2), cheaper than Buffer.writeUInt32LE's checks.
function putU32(b: Buffer, off: number, x: number): void {
  b[off] = x & 0xff;
  b[off + 1] = (x >>> 8) & 0xff;
  b[off + 2] = (x >>> 16) & 0xff;
  b[off + 3] = x >>> 24;
}

// writeI64 stores an int64; a non-negative safe integer without a BigInt.
function writeI64(b: Buffer, off: number, v: number): void {
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    putU32(b, off, v >>> 0);
    putU32(b, off + 4, (v / 0x100000000) >>> 0);
  } else {
    b.writeBigInt64LE(BigInt.asIntN(64, BigInt(Math.trunc(v))), off);
  }
}

/**
 * copyOutStat writes statx as struct stat (x86_64) into user memory
 * (gVisor: convertStatxToUserStat + Stat.CopyOut).
 */
function copyOutStat(t: Task, s: Statx, statAddr: unknown): void {
  const b = userBuffer(statAddr, SizeOfStat);
  const userns = t.creds.userNamespace;
  writeI64(b, 0, makeDeviceID(s.devMajor, s.devMinor));
  writeI64(b, 8, s.ino);
  writeI64(b, 16, s.nlink);
  putU32(b, 24, s.mode >>> 0);
  putU32(b, 28, uidOrOverflow(kuidIn(s.uid, userns)) >>> 0);
  putU32(b, 32, gidOrOverflow(kgidIn(s.gid, userns)) >>> 0);
  putU32(b, 36, 0);
  writeI64(b, 40, makeDeviceID(s.rdevMajor, s.rdevMinor));
  writeI64(b, 48, s.size);
  writeI64(b, 56, s.blksize);
  writeI64(b, 64, s.blocks);
  writeI64(b, 72, s.atime.sec);
  writeI64(b, 80, s.atime.nsec);
  writeI64(b, 88, s.mtime.sec);
  writeI64(b, 96, s.mtime.nsec);
  writeI64(b, 104, s.ctime.sec);
  writeI64(b, 112, s.ctime.nsec);
  for (let i = 120; i < 144; i++) b[i] = 0;
}

/** readlink implements Linux syscall readlink(2). */
export function readlink(t: Task, pathAddr: PathArg, bufAddr: unknown, size: number): Promise<number> {
  return readlinkat(t, AT_FDCWD, pathAddr, bufAddr, size);
}

/** readlinkat implements Linux syscall readlinkat(2). */
export async function readlinkat(t: Task, dirfd: number, pathAddr: PathArg, bufAddr: unknown, size: number): Promise<number> {
  if ((size | 0) <= 0) throw syserror.EINVAL;
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, dirfd, path, allowEmptyPath, nofollowFinalSymlink);
  try {
    let target: string;
    try {
      target = await t.k.vfs.readlinkAt(t, t.creds, tpop.pop);
    } catch (err) {
      // fs/stat.c:do_readlinkat(): "error = empty ? -ENOENT : -EINVAL" when
      // the file is not a symlink (gVisor answered EINVAL for both).
      if (err === syserror.EINVAL && !path.absolute && !path.hasComponents()) throw syserror.ENOENT;
      throw err;
    }
    let bytes = Buffer.from(target, 'utf8');
    if (bytes.length > size) bytes = bytes.subarray(0, size);
    if (bytes.length === 0) return 0;
    return copyOut(bufAddr, bytes);
  } finally {
    tpop.release(t);
  }
}

/** access implements Linux syscall access(2). */
export function access(t: Task, addr: PathArg, mode: number): Promise<number> {
  return accessAt(t, AT_FDCWD, addr, mode, 0);
}

/** faccessat implements Linux syscall faccessat(2) (with faccessat2's flags). */
export function faccessat(t: Task, dirfd: number, addr: PathArg, mode: number, flags = 0): Promise<number> {
  return accessAt(t, dirfd, addr, mode, flags);
}

async function accessAt(t: Task, dirfd: number, pathAddr: PathArg, mode: number, flags: number): Promise<number> {
  const rOK = 4;
  const wOK = 2;
  const xOK = 1;
  if ((mode & ~(rOK | wOK | xOK)) !== 0) throw syserror.EINVAL;
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) throw syserror.EINVAL;

  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, dirfd, path, (flags & AT_EMPTY_PATH) !== 0 ? allowEmptyPath : disallowEmptyPath,
    (flags & AT_SYMLINK_NOFOLLOW) === 0 ? followFinalSymlink : nofollowFinalSymlink);
  try {
    let creds = t.creds;
    if ((flags & AT_EACCESS) === 0) {
      // access(2) checks with the real IDs: "The check is done using the
      // calling process's real UID and GID, rather than the effective IDs".
      creds = t.creds.fork();
      creds.effectiveKUID = creds.realKUID;
      creds.effectiveKGID = creds.realKGID;
      if (kuidIn(creds.effectiveKUID, creds.userNamespace) === RootUID) {
        creds.effectiveCaps = creds.permittedCaps;
      } else {
        creds.effectiveCaps = 0;
      }
    }
    await t.k.vfs.accessAt(t, creds, mode, tpop.pop);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** statfsAt returns the Statfs of the filesystem holding path (statfs(2) without the copy-out). */
export async function statfsAt(t: Task, pathAddr: PathArg): Promise<Statfs> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink);
  try {
    return await t.k.vfs.statFSAt(t, t.creds, tpop.pop);
  } finally {
    tpop.release(t);
  }
}

/** statfs implements Linux syscall statfs(2). */
export async function statfs(t: Task, pathAddr: PathArg, bufAddr: unknown): Promise<number> {
  const s = await statfsAt(t, pathAddr);
  copyOut(bufAddr, marshalStatfs(s));
  return 0;
}

/** fstatfs implements Linux syscall fstatfs(2). */
export async function fstatfs(t: Task, fd: number, bufAddr: unknown): Promise<number> {
  const tpop = getTaskPathOperation(t, fd, emptyPath, allowEmptyPath, nofollowFinalSymlink);
  try {
    const s = await t.k.vfs.statFSAt(t, t.creds, tpop.pop);
    copyOut(bufAddr, marshalStatfs(s));
    return 0;
  } finally {
    tpop.release(t);
  }
}

// Sizes of the structures these calls write, for callers allocating them.
export { SizeOfStat, SizeOfStatfs, SizeOfStatx };
