// getcwd, chdir, fchdir, chroot (gVisor's
// pkg/sentry/syscalls/linux/vfs2/fscontext.go) and umask (gVisor's
// pkg/sentry/syscalls/linux/sys_file.go:Umask, shared by VFS1 and VFS2).
//
// User memory: getcwd's buf is a Uint8Array of at least size bytes.

import { CAP_SYS_CHROOT } from '../../../abi/linux/capability';
import { AT_FDCWD } from '../../../abi/linux/file';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import {
  allowEmptyPath, copyInPath, disallowEmptyPath, emptyPath, followFinalSymlink, getTaskPathOperation,
  nofollowFinalSymlink, type PathArg,
} from './path';
import { copyOut } from './usermem';

/** getcwdString returns the working directory's path as getcwd(2) computes it. */
export async function getcwdString(t: Task): Promise<string> {
  const root = t.fsContext.rootDirectoryVFS2();
  const wd = t.fsContext.workingDirectoryVFS2();
  try {
    return await t.k.vfs.pathnameForGetcwd(t, root, wd);
  } finally {
    root.decRef(t);
    wd.decRef(t);
  }
}

/** getcwd implements Linux syscall getcwd(2): it returns the length of the path including its NUL. */
export async function getcwd(t: Task, addr: unknown, size: number): Promise<number> {
  const s = Buffer.from(await getcwdString(t), 'utf8');
  if (s.length >= size) throw syserror.ERANGE;
  const buf = Buffer.alloc(s.length + 1);
  s.copy(buf);
  return copyOut(addr, buf);
}

/** chdir implements Linux syscall chdir(2). */
export async function chdir(t: Task, addr: PathArg): Promise<number> {
  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink);
  try {
    const vd = await t.k.vfs.getDentryAt(t, t.creds, tpop.pop, { checkSearchable: true });
    t.fsContext.setWorkingDirectoryVFS2(t, vd);
    vd.decRef(t);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** fchdir implements Linux syscall fchdir(2). */
export async function fchdir(t: Task, fd: number): Promise<number> {
  const tpop = getTaskPathOperation(t, fd, emptyPath, allowEmptyPath, nofollowFinalSymlink);
  try {
    const vd = await t.k.vfs.getDentryAt(t, t.creds, tpop.pop, { checkSearchable: true });
    t.fsContext.setWorkingDirectoryVFS2(t, vd);
    vd.decRef(t);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/**
 * chroot implements Linux syscall chroot(2).
 *
 * Differs from gVisor, following Linux (fs/open.c:ksys_chroot): the path is
 * looked up and checked for search permission before CAP_SYS_CHROOT, so an
 * unprivileged caller sees ENOENT, ENOTDIR, EACCES... before EPERM.
 */
export async function chroot(t: Task, addr: PathArg): Promise<number> {
  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink);
  try {
    const vd = await t.k.vfs.getDentryAt(t, t.creds, tpop.pop, { checkSearchable: true });
    if (!t.hasCapability(CAP_SYS_CHROOT)) {
      vd.decRef(t);
      throw syserror.EPERM;
    }
    t.fsContext.setRootDirectoryVFS2(t, vd);
    vd.decRef(t);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** umask implements Linux syscall umask(2): it returns the previous mask. */
export function umask(t: Task, mask: number): number {
  return t.fsContext.swapUmask(mask & 0o777);
}
