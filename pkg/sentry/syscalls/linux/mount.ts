// mount, umount2: gVisor's pkg/sentry/syscalls/linux/vfs2/mount.go.
//
// Differs from gVisor at this commit, following Linux: MS_BIND (without
// MS_REC) makes a bind mount through vfs.bindAt; umount2 follows a final
// symlink unless UMOUNT_NOFOLLOW and rejects unknown flags with EINVAL.
// The other unsupported operations (MS_REMOUNT, MS_MOVE, propagation
// changes, MS_REC) fail with EINVAL as in gVisor.

import { CAP_SYS_ADMIN } from '../../../abi/linux/capability';
import { AT_FDCWD } from '../../../abi/linux/file';
import {
  MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MGC_MSK, MS_MGC_VAL, MS_MOVE, MS_NOATIME, MS_NODEV, MS_NODIRATIME,
  MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_UNBINDABLE,
  UMOUNT_NOFOLLOW,
} from '../../../abi/linux/mount';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import type { MountOptions } from '../../vfs/options';
import {
  copyInPath, copyInString, disallowEmptyPath, followFinalSymlink, getTaskPathOperation, nofollowFinalSymlink,
  type PathArg,
} from './path';

// PageSize bounds the strings mount(2) copies in.
const pageSize = 4096;

/** mount implements Linux syscall mount(2). */
export async function mount(
  t: Task, sourceAddr: PathArg | null, targetAddr: PathArg, typeAddr: PathArg | null, flags: number, dataAddr: PathArg | null,
): Promise<number> {
  flags >>>= 0;
  // For null-terminated strings related to mount(2), Linux copies in at
  // most page size bytes. See fs/namespace.c:exact_copy_from_user.
  const bind = (flags & MS_BIND) !== 0;
  const fsType = bind || typeAddr === null ? '' : copyInString(typeAddr, pageSize);
  const source = sourceAddr === null ? '' : copyInString(sourceAddr, pageSize);
  const targetPath = copyInPath(targetAddr);
  let data = '';
  if (dataAddr !== null) data = copyInString(dataAddr, pageSize);

  // Ignore magic value that was required before Linux 2.4.
  if (((flags & MS_MGC_MSK) >>> 0) === MS_MGC_VAL) flags = (flags & ~MS_MGC_MSK) >>> 0;

  // Must have CAP_SYS_ADMIN in the current mount namespace's associated
  // user namespace.
  const creds = t.creds;
  if (!creds.hasCapability(CAP_SYS_ADMIN)) throw syserror.EPERM;

  const unsupportedOps = MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_MOVE | MS_REC;
  // Silently allow MS_NOSUID, since we don't implement set-id bits anyway.
  const unsupportedFlags = MS_NODIRATIME | MS_STRICTATIME;
  // Linux just allows passing any flags to mount(2) - it won't fail when
  // unknown or unsupported flags are passed. Since we don't implement
  // everything, we fail explicitly on flags that are unimplemented.
  if ((flags & (unsupportedOps | unsupportedFlags)) !== 0) throw syserror.EINVAL;

  if (bind) {
    const sourcePath = copyInPath(sourceAddr);
    const stpop = getTaskPathOperation(t, AT_FDCWD, sourcePath, disallowEmptyPath, followFinalSymlink);
    try {
      const ttpop = getTaskPathOperation(t, AT_FDCWD, targetPath, disallowEmptyPath, followFinalSymlink);
      try {
        // bindAt returns the Mount without a reference.
        await t.k.vfs.bindAt(t, creds, stpop.pop, ttpop.pop);
        return 0;
      } finally {
        ttpop.release(t);
      }
    } finally {
      stpop.release(t);
    }
  }

  const opts: MountOptions = { flags: {}, getFilesystemOptions: { data } };
  if ((flags & MS_NOATIME) !== 0) opts.flags!.noATime = true;
  if ((flags & MS_NOEXEC) !== 0) opts.flags!.noExec = true;
  if ((flags & MS_NODEV) !== 0) opts.flags!.noDev = true;
  if ((flags & MS_NOSUID) !== 0) opts.flags!.noSUID = true;
  if ((flags & MS_RDONLY) !== 0) opts.readOnly = true;

  const target = getTaskPathOperation(t, AT_FDCWD, targetPath, disallowEmptyPath, nofollowFinalSymlink);
  try {
    // mountAt returns the Mount without a reference.
    await t.k.vfs.mountAt(t, creds, source, target.pop, fsType, opts);
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
  if (!creds.hasCapability(CAP_SYS_ADMIN)) throw syserror.EPERM;
  const unsupported = MNT_FORCE | MNT_EXPIRE;
  if ((flags & unsupported) !== 0) throw syserror.EINVAL;

  const path = copyInPath(addr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath,
    (flags & UMOUNT_NOFOLLOW) === 0 ? followFinalSymlink : nofollowFinalSymlink);
  try {
    await t.k.vfs.umountAt(t, creds, tpop.pop, { flags });
    return 0;
  } finally {
    tpop.release(t);
  }
}
