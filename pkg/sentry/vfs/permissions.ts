// Permission checks shared by FilesystemImpls (gVisor's permissions.go).

import type { Context } from '../../context';
import {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_SYS_ADMIN, type Capability,
} from '../../abi/linux/capability';
import {
  O_ACCMODE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, S_IFDIR, S_IFMT, S_IFREG, S_ISUID, S_ISVTX,
  UTIME_NOW, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX,
} from '../../abi/linux/file';
import { STATX_ATIME, STATX_CTIME, STATX_GID, STATX_MODE, STATX_MTIME, STATX_SIZE, STATX_UID } from '../../abi/linux/stat';
import { idOk, type Credentials, type KGID, type KUID } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import type { OpenOptions, SetStatOptions } from './options';

/** AccessTypes is a bitmask of Unix file permissions. */
export type AccessTypes = number;

// Bits in AccessTypes.
export const MayExec: AccessTypes = 1;
export const MayWrite: AccessTypes = 2;
export const MayRead: AccessTypes = 4;

/** accessOnlyRead returns true if access _only_ allows read (gVisor: AccessTypes.OnlyRead). */
export function accessOnlyRead(a: AccessTypes): boolean {
  return a === MayRead;
}

/** accessMayRead returns true if access allows read (gVisor: AccessTypes.MayRead). */
export function accessMayRead(a: AccessTypes): boolean {
  return (a & MayRead) !== 0;
}

/** accessMayWrite returns true if access allows write (gVisor: AccessTypes.MayWrite). */
export function accessMayWrite(a: AccessTypes): boolean {
  return (a & MayWrite) !== 0;
}

/** accessMayExec returns true if access allows exec (gVisor: AccessTypes.MayExec). */
export function accessMayExec(a: AccessTypes): boolean {
  return (a & MayExec) !== 0;
}

/**
 * genericCheckPermissions checks that creds has the given access rights on a
 * file with the given permissions, UID, and GID, subject to the rules of
 * fs/namei.c:generic_permission(). It throws EACCES if access is denied.
 */
export function genericCheckPermissions(creds: Credentials, ats: AccessTypes, mode: number, kuid: KUID, kgid: KGID): void {
  // Check permission bits.
  let perms = mode & 0o777;
  if (creds.effectiveKUID === kuid) {
    perms >>= 6;
  } else if (creds.inGroup(kgid)) {
    perms >>= 3;
  }
  if ((ats & perms) === ats) {
    // All permission bits match, access granted.
    return;
  }
  // Caller capabilities require that the file's KUID and KGID are mapped in
  // the caller's user namespace; compare
  // kernel/capability.c:privileged_wrt_inode_uidgid().
  if (!idOk(creds.userNamespace.mapFromKUID(kuid)) || !idOk(creds.userNamespace.mapFromKGID(kgid))) {
    throw syserror.EACCES;
  }
  const isDir = (mode & S_IFMT) === S_IFDIR;
  // CAP_DAC_READ_SEARCH allows the caller to read and search arbitrary
  // directories, and read arbitrary non-directory files.
  if ((isDir && !accessMayWrite(ats)) || accessOnlyRead(ats)) {
    if (creds.hasCapability(CAP_DAC_READ_SEARCH)) return;
  }
  // CAP_DAC_OVERRIDE allows arbitrary access to directories, read/write
  // access to non-directory files, and execute access to non-directory files
  // for which at least one execute bit is set.
  if (isDir || !accessMayExec(ats) || (mode & 0o111) !== 0) {
    if (creds.hasCapability(CAP_DAC_OVERRIDE)) return;
  }
  throw syserror.EACCES;
}

/**
 * mayLink determines whether creating a hard link to a file with the given
 * mode, kuid, and kgid is permitted; it throws EPERM if not.
 *
 * This corresponds to Linux's fs/namei.c:may_linkat.
 */
export function mayLink(creds: Credentials, mode: number, kuid: KUID, kgid: KGID): void {
  // Source inode owner can hardlink all they like; otherwise, it must be a
  // safe source.
  if (canActAsOwner(creds, kuid)) return;
  // Only regular files can be hard linked.
  if ((mode & S_IFMT) !== S_IFREG) throw syserror.EPERM;
  // Setuid files should not get pinned to the filesystem.
  if ((mode & S_ISUID) !== 0) throw syserror.EPERM;
  // Executable setgid files should not get pinned to the filesystem, but we
  // don't support S_IXGRP anyway.

  // Hardlinking to unreadable or unwritable sources is dangerous.
  try {
    genericCheckPermissions(creds, MayRead | MayWrite, mode, kuid, kgid);
  } catch {
    throw syserror.EPERM;
  }
}

/**
 * accessTypesForOpenFlags returns the access types required to open a file
 * with the given OpenOptions.flags. Note that this is NOT the same thing as
 * the set of accesses permitted for the opened file:
 *
 * - O_TRUNC causes MayWrite to be set in the returned AccessTypes (since it
 * mutates the file), but does not permit writing to the open file
 * description thereafter.
 *
 * - "Linux reserves the special, nonstandard access mode 3 (binary 11) in
 * flags to mean: check for read and write permission on the file and return
 * a file descriptor that can't be used for reading or writing." - open(2).
 * Thus accessTypesForOpenFlags returns MayRead|MayWrite in this case.
 *
 * Use may{Read,Write}FileWithOpenFlags() for these checks instead.
 */
export function accessTypesForOpenFlags(opts: OpenOptions): AccessTypes {
  let ats: AccessTypes = 0;
  if (opts.fileExec) ats |= MayExec;
  switch (opts.flags & O_ACCMODE) {
    case O_RDONLY:
      if ((opts.flags & O_TRUNC) !== 0) return ats | MayRead | MayWrite;
      return ats | MayRead;
    case O_WRONLY:
      return ats | MayWrite;
    default:
      return ats | MayRead | MayWrite;
  }
}

/** mayReadFileWithOpenFlags returns true if a file with the given open flags should be readable. */
export function mayReadFileWithOpenFlags(flags: number): boolean {
  const acc = flags & O_ACCMODE;
  return acc === O_RDONLY || acc === O_RDWR;
}

/** mayWriteFileWithOpenFlags returns true if a file with the given open flags should be writable. */
export function mayWriteFileWithOpenFlags(flags: number): boolean {
  const acc = flags & O_ACCMODE;
  return acc === O_WRONLY || acc === O_RDWR;
}

/**
 * checkSetStat checks that creds has permission to change the metadata of a
 * file with the given permissions, UID, and GID as specified by stat,
 * subject to the rules of Linux's fs/attr.c:setattr_prepare().
 */
export function checkSetStat(
  ctx: Context, creds: Credentials, opts: SetStatOptions, mode: number, kuid: KUID, kgid: KGID,
): void {
  const stat = opts.stat;
  if ((stat.mask & STATX_SIZE) !== 0) {
    const limit = checkLimit(ctx, 0, stat.size);
    if (limit < stat.size) throw syserror.EFBIG;
  }
  if ((stat.mask & STATX_MODE) !== 0) {
    if (!canActAsOwner(creds, kuid)) throw syserror.EPERM;
    // TODO(b/30815691): "If the calling process is not privileged (Linux:
    // does not have the CAP_FSETID capability), and the group of the file
    // does not match the effective group ID of the process or one of its
    // supplementary group IDs, the S_ISGID bit will be turned off, but this
    // will not cause an error to be returned." - chmod(2)
    // (Implemented by clearSGIDForChmod below, which FilesystemImpls call.)
  }
  if ((stat.mask & STATX_UID) !== 0) {
    if (!((creds.effectiveKUID === kuid && stat.uid === kuid) || hasCapabilityOnFile(creds, CAP_CHOWN, kuid, kgid))) {
      throw syserror.EPERM;
    }
  }
  if ((stat.mask & STATX_GID) !== 0) {
    if (!((creds.effectiveKUID === kuid && creds.inGroup(stat.gid)) || hasCapabilityOnFile(creds, CAP_CHOWN, kuid, kgid))) {
      throw syserror.EPERM;
    }
  }
  if (opts.needWritePerm && !creds.hasCapability(CAP_DAC_OVERRIDE)) {
    genericCheckPermissions(creds, MayWrite, mode, kuid, kgid);
  }
  if ((stat.mask & (STATX_ATIME | STATX_MTIME | STATX_CTIME)) !== 0) {
    if (!canActAsOwner(creds, kuid)) {
      if (((stat.mask & STATX_ATIME) !== 0 && stat.atime.nsec !== UTIME_NOW) ||
          ((stat.mask & STATX_MTIME) !== 0 && stat.mtime.nsec !== UTIME_NOW) ||
          ((stat.mask & STATX_CTIME) !== 0 && stat.ctime.nsec !== UTIME_NOW)) {
        throw syserror.EPERM;
      }
      genericCheckPermissions(creds, MayWrite, mode, kuid, kgid);
    }
  }
}

/**
 * clearSGIDForChmod returns the mode chmod(2) should store: "If the calling
 * process is not privileged (Linux: does not have the CAP_FSETID
 * capability), and the group of the file does not match the effective group
 * ID of the process or one of its supplementary group IDs, the S_ISGID bit
 * will be turned off, but this will not cause an error to be returned."
 *
 * Differs from gVisor at this commit (a TODO there); Linux does it in
 * fs/attr.c:setattr_copy().
 */
export function clearSGIDForChmod(creds: Credentials, newMode: number, kgid: KGID): number {
  if (!creds.inGroup(kgid) && !hasCapabilityOnFile(creds, CAP_FSETID, creds.effectiveKUID, kgid)) {
    return newMode & ~0o2000;
  }
  return newMode;
}

/**
 * clearSUIDAndSGID returns mode with the set-user-ID bit cleared, and the
 * set-group-ID bit cleared if group-execute is set, as Linux does when a
 * file is written or chowned by a caller without CAP_FSETID
 * (mm/filemap.c:file_remove_privs(), fs/inode.c:should_remove_suid()).
 */
export function clearSUIDAndSGID(mode: number): number {
  let m = mode & ~S_ISUID;
  if ((m & 0o2010) === 0o2010) m &= ~0o2000;
  return m;
}

/**
 * checkDeleteSticky checks whether the sticky bit is set on a directory with
 * the given file mode, and if so, checks whether creds has permission to
 * remove a file owned by childKUID from a directory with the given mode. It
 * throws EPERM if not.
 *
 * checkDeleteSticky is consistent with fs/linux.h:check_sticky(): the file's
 * owner, the directory's owner (when parentKUID is given), and a caller
 * with CAP_FOWNER over the file may delete. gVisor at this commit takes
 * only (creds, parentMode, childKUID) and forgets the directory's owner;
 * pass parentKUID (and childKGID) to get Linux's behaviour.
 */
export function checkDeleteSticky(
  creds: Credentials, parentMode: number, childKUID: KUID, parentKUID?: KUID, childKGID?: KGID,
): void {
  if ((parentMode & S_ISVTX) === 0) return;
  if (creds.effectiveKUID === childKUID) return;
  if (parentKUID !== undefined && creds.effectiveKUID === parentKUID) return;
  if (childKGID !== undefined ? hasCapabilityOnFile(creds, CAP_FOWNER, childKUID, childKGID) : canActAsOwner(creds, childKUID)) return;
  throw syserror.EPERM;
}

/**
 * canActAsOwner returns true if creds can act as the owner of a file with
 * the given owning UID, consistent with Linux's
 * fs/inode.c:inode_owner_or_capable().
 */
export function canActAsOwner(creds: Credentials, kuid: KUID): boolean {
  if (creds.effectiveKUID === kuid) return true;
  return creds.hasCapability(CAP_FOWNER) && idOk(creds.userNamespace.mapFromKUID(kuid));
}

/**
 * hasCapabilityOnFile returns true if creds has the given capability with
 * respect to a file with the given owning UID and GID, consistent with
 * Linux's kernel/capability.c:capable_wrt_inode_uidgid().
 */
export function hasCapabilityOnFile(creds: Credentials, cp: Capability, kuid: KUID, kgid: KGID): boolean {
  return creds.hasCapability(cp) && idOk(creds.userNamespace.mapFromKUID(kuid)) && idOk(creds.userNamespace.mapFromKGID(kgid));
}

/**
 * CtxFileSizeLimit is a Context.value key for the RLIMIT_FSIZE soft limit
 * (a number of bytes). gVisor reads it from pkg/sentry/limits, which this
 * port does not have; a context without it is unlimited.
 */
export const CtxFileSizeLimit: unique symbol = Symbol('vfs.CtxFileSizeLimit');

/**
 * checkLimit enforces file size rlimits. It throws EFBIG if the write
 * operation must not proceed. Otherwise it returns the max length allowed
 * without violating the limit.
 */
export function checkLimit(ctx: Context, offset: number, size: number): number {
  const v = ctx.value(CtxFileSizeLimit);
  if (typeof v !== 'number' || v >= Number.MAX_SAFE_INTEGER) return size;
  const fileSizeLimit = v;
  if (offset >= fileSizeLimit) throw syserror.EFBIG;
  const remaining = fileSizeLimit - offset;
  return remaining < size ? remaining : size;
}

/**
 * checkXattrPermissions checks permissions for extended attribute access.
 * This is analogous to fs/xattr.c:xattr_permission(). Some key differences:
 * - Does not check for read-only filesystem property.
 * - Does not check inode immutability or append only mode. In both cases
 *   EPERM must be thrown by filesystem implementations.
 * - Does not do inode permission checks. Filesystem implementations should
 *   handle inode permission checks as they may differ across implementations.
 */
export function checkXattrPermissions(creds: Credentials, ats: AccessTypes, mode: number, kuid: KUID, name: string): void {
  if (name.startsWith(XATTR_TRUSTED_PREFIX)) {
    // The trusted.* namespace can only be accessed by privileged users.
    if (creds.hasCapability(CAP_SYS_ADMIN)) return;
    if (accessMayWrite(ats)) throw syserror.EPERM;
    throw syserror.ENODATA;
  }
  if (name.startsWith(XATTR_USER_PREFIX)) {
    // In the user.* namespace, only regular files and directories can have
    // extended attributes. For sticky directories, only the owner and
    // privileged users can write attributes.
    const filetype = mode & S_IFMT;
    if (filetype !== S_IFREG && filetype !== S_IFDIR) {
      if (accessMayWrite(ats)) throw syserror.EPERM;
      throw syserror.ENODATA;
    }
    if (filetype === S_IFDIR && (mode & S_ISVTX) !== 0 && accessMayWrite(ats) && !canActAsOwner(creds, kuid)) {
      throw syserror.EPERM;
    }
  }
}
