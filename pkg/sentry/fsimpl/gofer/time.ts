// Timestamps: gVisor's pkg/sentry/fsimpl/gofer/time.go. dentryTimestampFromP9
// and the clock (nowNs) live in gofer.ts beside the metadata they fill.
//
// Differs from gVisor: timestamps are bigint nanoseconds (a number cannot
// hold nanoseconds since 1970 exactly); the metadata lives in the dentry's
// inode (shared by hard links), which metadataMu (the inode's) protects.

import type * as vfs from '../../vfs';
import { dentry, nowNs } from './gofer';

declare module './gofer' {
  interface dentry {
    touchAtime(mnt: vfs.Mount): void;
    touchAtimeLocked(mnt: vfs.Mount): void;
    touchCtime(): void;
    touchCMtime(): void;
    touchCMtimeLocked(): void;
  }
}

/**
 * touchAtime updates the access time.
 *
 * Preconditions: d.cachedMetadataAuthoritative() === true.
 *
 * Differs from gVisor: does not take metadataMu (an async lock): the two
 * stores below cannot interleave with another task.
 */
dentry.prototype.touchAtime = function touchAtime(this: dentry, mnt: vfs.Mount): void {
  if (mnt.flags.noATime || mnt.readOnly()) return;
  try {
    mnt.checkBeginWrite();
  } catch {
    return;
  }
  this.inode.atime = nowNs();
  this.inode.atimeDirty = true;
  mnt.endWrite();
};

/** Preconditions: d.metadataMu is locked. d.cachedMetadataAuthoritative() === true. */
dentry.prototype.touchAtimeLocked = function touchAtimeLocked(this: dentry, mnt: vfs.Mount): void {
  this.touchAtime(mnt);
};

/**
 * Preconditions:
 * * d.cachedMetadataAuthoritative() === true.
 * * The caller has successfully called vfs.Mount.checkBeginWrite().
 */
dentry.prototype.touchCtime = function touchCtime(this: dentry): void {
  this.inode.ctime = nowNs();
};

/**
 * Preconditions:
 * * d.cachedMetadataAuthoritative() === true.
 * * The caller has successfully called vfs.Mount.checkBeginWrite().
 */
dentry.prototype.touchCMtime = function touchCMtime(this: dentry): void {
  this.touchCMtimeLocked();
};

/**
 * Preconditions:
 * * d.cachedMetadataAuthoritative() === true.
 * * The caller has locked d.metadataMu.
 */
dentry.prototype.touchCMtimeLocked = function touchCMtimeLocked(this: dentry): void {
  const now = nowNs();
  this.inode.mtime = now;
  this.inode.ctime = now;
  this.inode.mtimeDirty = true;
};
