// mount, umount2: gVisor's pkg/sentry/syscalls/linux/vfs2/mount.go.
//
// Differs from gVisor at this commit, following Linux (fs/namespace.c):
// MS_BIND makes a bind mount through vfs.bindAt (recursive with MS_REC);
// the target is looked up first, following a final symlink (do_mount's
// user_path_at(LOOKUP_FOLLOW)), so lookup errors come before EPERM; a
// NULL filesystem type of a new mount is EINVAL (do_new_mount), and so is
// a type or source longer than PATH_MAX (copy_mount_string); a bind
// source that is NULL or "" is EINVAL (do_loopback); the mount point and
// the mounted root must both be directories or both not (graft_tree:
// ENOTDIR; gVisor's connectMountAt has it as a TODO). umount2 rejects
// unknown flags with EINVAL first, then looks the target up (following a
// final symlink unless UMOUNT_NOFOLLOW), then checks CAP_SYS_ADMIN. The
// other unsupported operations (MS_REMOUNT, MS_MOVE, propagation changes,
// MS_NODIRATIME, MS_STRICTATIME; MNT_FORCE, MNT_EXPIRE) fail with EINVAL
// as in gVisor.

import { CAP_SYS_ADMIN } from '../../../abi/linux/capability';
import { AT_FDCWD, S_IFDIR, S_IFMT } from '../../../abi/linux/file';
import {
  MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MGC_MSK, MS_MGC_VAL, MS_MOVE, MS_NOATIME, MS_NODEV, MS_NODIRATIME,
  MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_UNBINDABLE,
  UMOUNT_NOFOLLOW,
} from '../../../abi/linux/mount';
import { STATX_TYPE } from '../../../abi/linux/stat';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/auth/credentials';
import type { MountOptions } from '../../vfs/options';
import type { PathOperation } from '../../vfs/vfs';
import {
  copyInPath, copyInString, disallowEmptyPath, followFinalSymlink, getTaskPathOperation, nofollowFinalSymlink,
  type PathArg,
} from './path';

// PageSize bounds the strings mount(2) copies in.
const pageSize = 4096;

// copyMountString is Linux's copy_mount_string: strndup_user(PATH_MAX)
// fails a string that does not fit with EINVAL, not ENAMETOOLONG.
function copyMountString(addr: PathArg): string {
  try {
    return copyInString(addr, pageSize);
  } catch (err) {
    if (err === syserror.ENAMETOOLONG) throw syserror.EINVAL;
    throw err;
  }
}

// isDirAt looks pop up (as statAt does: lookup errors are thrown) and
// reports whether it is a directory.
async function isDirAt(t: Task, creds: Credentials, pop: PathOperation): Promise<boolean> {
  const st = await t.k.vfs.statAt(t, creds, pop, { mask: STATX_TYPE });
  return ((st.mode ?? 0) & S_IFMT) === S_IFDIR;
}

/** mount implements Linux syscall mount(2). */
export async function mount(
  t: Task, sourceAddr: PathArg | null, targetAddr: PathArg, typeAddr: PathArg | null, flags: number, dataAddr: PathArg | null,
): Promise<number> {
  flags >>>= 0;
  // For null-terminated strings related to mount(2), Linux copies in at
  // most page size bytes (fs/namespace.c:copy_mount_string); a NULL string
  // stays NULL.
  const bind = (flags & MS_BIND) !== 0;
  const fsType = typeAddr === null ? null : copyMountString(typeAddr);
  const source = sourceAddr === null ? null : copyMountString(sourceAddr);
  const data = dataAddr === null ? '' : copyInString(dataAddr, pageSize);
  const targetPath = copyInPath(targetAddr);

  // Ignore magic value that was required before Linux 2.4.
  if (((flags & MS_MGC_MSK) >>> 0) === MS_MGC_VAL) flags = (flags & ~MS_MGC_MSK) >>> 0;

  const creds = t.creds;
  const target = getTaskPathOperation(t, AT_FDCWD, targetPath, disallowEmptyPath, followFinalSymlink);
  try {
    // Linux looks the target up before anything else (do_mount).
    const targetIsDir = await isDirAt(t, creds, target.pop);

    // Must have CAP_SYS_ADMIN in the current mount namespace's associated
    // user namespace.
    if (!creds.hasCapability(CAP_SYS_ADMIN)) throw syserror.EPERM;

    const unsupportedOps = MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_MOVE;
    // Silently allow MS_NOSUID, since we don't implement set-id bits anyway.
    const unsupportedFlags = MS_NODIRATIME | MS_STRICTATIME;
    // Linux just allows passing any flags to mount(2) - it won't fail when
    // unknown or unsupported flags are passed. Since we don't implement
    // everything, we fail explicitly on flags that are unimplemented.
    if ((flags & (unsupportedOps | unsupportedFlags)) !== 0) throw syserror.EINVAL;

    if (bind) {
      // do_loopback: the source must be a non-empty path.
      if (source === null || source === '') throw syserror.EINVAL;
      const stpop = getTaskPathOperation(t, AT_FDCWD, copyInPath(sourceAddr), disallowEmptyPath, followFinalSymlink);
      try {
        if (await isDirAt(t, creds, stpop.pop) !== targetIsDir) throw syserror.ENOTDIR;
        // bindAt returns the Mount without a reference.
        await t.k.vfs.bindAt(t, creds, stpop.pop, target.pop, (flags & MS_REC) !== 0);
        return 0;
      } finally {
        stpop.release(t);
      }
    }

    // do_new_mount: a new mount needs a filesystem type.
    if (fsType === null) throw syserror.EINVAL;
    // graft_tree: every filesystem we mount has a directory root.
    if (!targetIsDir && t.k.vfs.getFilesystemType(fsType) !== undefined) throw syserror.ENOTDIR;

    const opts: MountOptions = { flags: {}, getFilesystemOptions: { data } };
    if ((flags & MS_NOATIME) !== 0) opts.flags!.noATime = true;
    if ((flags & MS_NOEXEC) !== 0) opts.flags!.noExec = true;
    if ((flags & MS_NODEV) !== 0) opts.flags!.noDev = true;
    if ((flags & MS_NOSUID) !== 0) opts.flags!.noSUID = true;
    if ((flags & MS_RDONLY) !== 0) opts.readOnly = true;

    // mountAt returns the Mount without a reference.
    await t.k.vfs.mountAt(t, creds, source ?? '', target.pop, fsType, opts);
    return 0;
  } finally {
    target.release(t);
  }
}

/** umount2 implements Linux syscall umount2(2). */
export async function umount2(t: Task, addr: PathArg, flags: number): Promise<number> {
  // Must have CAP_SYS_ADMIN in the mount namespace's associated user
  // namespace.
  //
  // Currently, this is always the init task's user namespace.
  const creds = t.creds;
  if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) throw syserror.EINVAL;

  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath,
    (flags & UMOUNT_NOFOLLOW) === 0 ? followFinalSymlink : nofollowFinalSymlink);
  try {
    // Linux looks the target up before it checks privileges (ksys_umount).
    const vd = await t.k.vfs.getDentryAt(t, creds, tpop.pop, {});
    vd.decRef(t);
    if (!creds.hasCapability(CAP_SYS_ADMIN)) throw syserror.EPERM;
    const unsupported = MNT_FORCE | MNT_EXPIRE;
    if ((flags & unsupported) !== 0) throw syserror.EINVAL;
    await t.k.vfs.umountAt(t, creds, tpop.pop, { flags });
    return 0;
  } finally {
    tpop.release(t);
  }
}
