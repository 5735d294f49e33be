// link(at), mkdir(at), mknod(at), open(at), creat, rename(at, at2),
// rmdir, unlink(at), symlink(at): gVisor's
// pkg/sentry/syscalls/linux/vfs2/filesystem.go, in its order.
//
// Differs from gVisor at this commit, following Linux: open rejects
// O_CREAT|O_DIRECTORY (Linux 6.4+); mknod checks the file
// type before resolving the path (fs/namei.c:may_mknod), and renameat2
// rejects invalid flag combinations before resolving either path
// (fs/namei.c:do_renameat2); the filesystem then rejects the flags it does
// not support (RENAME_EXCHANGE, RENAME_WHITEOUT: EINVAL, as gVisor).

import { CAP_DAC_READ_SEARCH } from '../../../abi/linux/capability';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_LARGEFILE, O_NOFOLLOW, O_TRUNC,
  O_WRONLY, PATH_MAX, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT,
  S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX,
} from '../../../abi/linux/file';
import { decodeDeviceID } from '../../../abi/linux/stat';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import {
  copyInPath, copyInString, disallowEmptyPath, getTaskPathOperation, nofollowFinalSymlink,
  type PathArg,
} from './path';

/** link implements Linux syscall link(2). */
export function link(t: Task, oldpath: PathArg, newpath: PathArg): Promise<number> {
  return linkat(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/** linkat implements Linux syscall linkat(2). */
export async function linkat(
  t: Task, olddirfd: number, oldpathAddr: PathArg, newdirfd: number, newpathAddr: PathArg, flags: number,
): Promise<number> {
  if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_FOLLOW)) !== 0) throw syserror.EINVAL;
  if ((flags & AT_EMPTY_PATH) !== 0 && !t.hasCapability(CAP_DAC_READ_SEARCH)) throw syserror.ENOENT;

  const oldpath = copyInPath(oldpathAddr);
  const oldtpop = getTaskPathOperation(t, olddirfd, oldpath, (flags & AT_EMPTY_PATH) !== 0, (flags & AT_SYMLINK_FOLLOW) !== 0);
  try {
    const newpath = copyInPath(newpathAddr);
    const newtpop = getTaskPathOperation(t, newdirfd, newpath, disallowEmptyPath, nofollowFinalSymlink);
    try {
      await t.k.vfs.linkAt(t, t.creds, oldtpop.pop, newtpop.pop);
      return 0;
    } finally {
      newtpop.release(t);
    }
  } finally {
    oldtpop.release(t);
  }
}

/** mkdir implements Linux syscall mkdir(2). */
export function mkdir(t: Task, addr: PathArg, mode: number): Promise<number> {
  return mkdirat(t, AT_FDCWD, addr, mode);
}

/** mkdirat implements Linux syscall mkdirat(2). */
export async function mkdirat(t: Task, dirfd: number, addr: PathArg, mode: number): Promise<number> {
  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, dirfd, path, disallowEmptyPath, nofollowFinalSymlink);
  try {
    await t.k.vfs.mkdirAt(t, t.creds, tpop.pop, {
      mode: mode & (0o777 | S_ISVTX) & ~t.fsContext.getUmask(),
    });
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** mknod implements Linux syscall mknod(2). */
export function mknod(t: Task, addr: PathArg, mode: number, dev: number): Promise<number> {
  return mknodat(t, AT_FDCWD, addr, mode, dev);
}

/** mknodat implements Linux syscall mknodat(2). */
export async function mknodat(t: Task, dirfd: number, addr: PathArg, mode: number, dev: number): Promise<number> {
  // fs/namei.c:may_mknod().
  switch (mode & S_IFMT) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      throw syserror.EPERM;
    default:
      throw syserror.EINVAL;
  }
  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, dirfd, path, disallowEmptyPath, nofollowFinalSymlink);
  try {
    // "Zero file type is equivalent to type S_IFREG." - mknod(2)
    if ((mode & S_IFMT) === 0) mode |= S_IFREG;
    const { major, minor } = decodeDeviceID(dev >>> 0);
    await t.k.vfs.mknodAt(t, t.creds, tpop.pop, {
      mode: (mode & (S_IFMT | 0o7777)) & ~t.fsContext.getUmask(),
      devMajor: major,
      devMinor: minor,
    });
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** open implements Linux syscall open(2). */
export function open(t: Task, addr: PathArg, flags: number, mode: number): Promise<number> {
  return openat(t, AT_FDCWD, addr, flags, mode);
}

/** creat implements Linux syscall creat(2). */
export function creat(t: Task, addr: PathArg, mode: number): Promise<number> {
  return openat(t, AT_FDCWD, addr, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

/** openat implements Linux syscall openat(2). */
export async function openat(t: Task, dirfd: number, pathAddr: PathArg, flags: number, mode: number): Promise<number> {
  flags >>>= 0;
  // fs/open.c:build_open_flags() (Linux 6.4+), before the path is read:
  // "O_DIRECTORY | O_CREAT is not allowed". gVisor at this commit and
  // older Linux created or failed with EISDIR/ENOTDIR.
  if ((flags & (O_CREAT | O_DIRECTORY)) === (O_CREAT | O_DIRECTORY)) throw syserror.EINVAL;
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, dirfd, path, disallowEmptyPath, (flags & O_NOFOLLOW) === 0);
  try {
    const file = await t.k.vfs.openAt(t, t.creds, tpop.pop, {
      flags: (flags | O_LARGEFILE) >>> 0,
      mode: mode & (0o777 | S_ISUID | S_ISGID | S_ISVTX) & ~t.fsContext.getUmask(),
    });
    try {
      return t.newFDFromVFS2(0, file, { closeOnExec: (flags & O_CLOEXEC) !== 0 });
    } finally {
      file.decRef(t);
    }
  } finally {
    tpop.release(t);
  }
}

/** rename implements Linux syscall rename(2). */
export function rename(t: Task, oldpath: PathArg, newpath: PathArg): Promise<number> {
  return renameat2(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/** renameat implements Linux syscall renameat(2). */
export function renameat(t: Task, olddirfd: number, oldpath: PathArg, newdirfd: number, newpath: PathArg): Promise<number> {
  return renameat2(t, olddirfd, oldpath, newdirfd, newpath, 0);
}

/** renameat2 implements Linux syscall renameat2(2). */
export async function renameat2(
  t: Task, olddirfd: number, oldpathAddr: PathArg, newdirfd: number, newpathAddr: PathArg, flags: number,
): Promise<number> {
  flags >>>= 0;
  // fs/namei.c:do_renameat2().
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) throw syserror.EINVAL;
  if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) !== 0 && (flags & RENAME_EXCHANGE) !== 0) throw syserror.EINVAL;

  const oldpath = copyInPath(oldpathAddr);
  // "If oldpath refers to a symbolic link, the link is renamed" - rename(2)
  const oldtpop = getTaskPathOperation(t, olddirfd, oldpath, disallowEmptyPath, nofollowFinalSymlink);
  try {
    const newpath = copyInPath(newpathAddr);
    const newtpop = getTaskPathOperation(t, newdirfd, newpath, disallowEmptyPath, nofollowFinalSymlink);
    try {
      await t.k.vfs.renameAt(t, t.creds, oldtpop.pop, newtpop.pop, { flags });
      return 0;
    } finally {
      newtpop.release(t);
    }
  } finally {
    oldtpop.release(t);
  }
}

/** rmdir implements Linux syscall rmdir(2). */
export function rmdir(t: Task, pathAddr: PathArg): Promise<number> {
  return rmdirat(t, AT_FDCWD, pathAddr);
}

async function rmdirat(t: Task, dirfd: number, pathAddr: PathArg): Promise<number> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, dirfd, path, disallowEmptyPath, nofollowFinalSymlink);
  try {
    await t.k.vfs.rmdirAt(t, t.creds, tpop.pop);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** unlink implements Linux syscall unlink(2). */
export function unlink(t: Task, pathAddr: PathArg): Promise<number> {
  return unlinkatImpl(t, AT_FDCWD, pathAddr);
}

async function unlinkatImpl(t: Task, dirfd: number, pathAddr: PathArg): Promise<number> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, dirfd, path, disallowEmptyPath, nofollowFinalSymlink);
  try {
    await t.k.vfs.unlinkAt(t, t.creds, tpop.pop);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** unlinkat implements Linux syscall unlinkat(2). */
export function unlinkat(t: Task, dirfd: number, pathAddr: PathArg, flags: number): Promise<number> {
  if ((flags & ~AT_REMOVEDIR) !== 0) return Promise.reject(syserror.EINVAL);
  if ((flags & AT_REMOVEDIR) !== 0) return rmdirat(t, dirfd, pathAddr);
  return unlinkatImpl(t, dirfd, pathAddr);
}

/** symlink implements Linux syscall symlink(2). */
export function symlink(t: Task, target: PathArg, linkpath: PathArg): Promise<number> {
  return symlinkat(t, target, AT_FDCWD, linkpath);
}

/** symlinkat implements Linux syscall symlinkat(2). */
export async function symlinkat(t: Task, targetAddr: PathArg, newdirfd: number, linkpathAddr: PathArg): Promise<number> {
  const target = copyInString(targetAddr, PATH_MAX);
  if (target.length === 0) throw syserror.ENOENT;
  const linkpath = copyInPath(linkpathAddr);
  const tpop = getTaskPathOperation(t, newdirfd, linkpath, disallowEmptyPath, nofollowFinalSymlink);
  try {
    await t.k.vfs.symlinkAt(t, t.creds, tpop.pop, target);
    return 0;
  } finally {
    tpop.release(t);
  }
}
