// Dentry and DentryImpl, and the VirtualFilesystem methods that
// FilesystemImpls call around deletion and renaming (gVisor's dentry.go).

import type { Context } from '../../context';
import { Mutex } from '../../sync';
import * as syserror from '../../syserror/syserror';
import type { EventType, Watches } from './inotify';
import type { Mount, MountNamespace } from './mount';
import type { VirtualDentry, VirtualFilesystem } from './vfs';

/**
 * Dentry represents a node in a Filesystem tree at which a file exists.
 *
 * Dentries are reference-counted. Unless otherwise specified, all Dentry
 * methods require that a reference is held.
 *
 * Dentry is loosely analogous to Linux's struct dentry, but:
 *
 * - VFS does not associate Dentries with inodes. Operations that are inode
 * operations in Linux are FilesystemImpl and/or FileDescriptionImpl methods;
 * filesystems that do support inodes may store state in their DentryImpl.
 *
 * - VFS does not require that Dentries are instantiated for all paths accessed
 * through VFS, only those that are tracked beyond the scope of a single
 * Filesystem operation: file descriptions, mount points, mount roots, working
 * directories and chroots.
 *
 * - VFS does not track filesystem structure (relationships between Dentries);
 * both the state and its synchronization are filesystem-specific.
 *
 * - VFS is not directly responsible for managing Dentry lifetime. Reference
 * counts only indicate the extent to which VFS requires Dentries to exist;
 * Filesystems may cache or discard Dentries with zero references.
 *
 * The inheritance pattern (README.md): a filesystem's dentry holds a Dentry
 * (conventionally its `vfsd` field) and calls `vfsd.init(this)`; VFS reaches
 * the filesystem's part through `impl`.
 */
export class Dentry {
  /**
   * mu synchronizes deletion/invalidation and mounting over this Dentry. It
   * is held from PrepareDeleteDentry/PrepareRenameDentry to the matching
   * Commit or Abort, across the FilesystemImpl's awaits, so it is an async
   * lock.
   */
  readonly mu = new Mutex();

  /**
   * dead is true if the file represented by this Dentry has been deleted (by
   * commitDeleteDentry or commitRenameReplaceDentry) or invalidated (by
   * invalidateDentry).
   */
  dead = false;

  /** mounts is the number of Mounts for which this Dentry is Mount.point. */
  mounts = 0;

  /** impl is the DentryImpl associated with this Dentry. impl is immutable after init. */
  impl!: DentryImpl;

  /** init must be called before first use of d. */
  init(impl: DentryImpl): void {
    this.impl = impl;
  }

  /** incRef increments d's reference count. */
  incRef(): void {
    this.impl.incRef();
  }

  /**
   * tryIncRef increments d's reference count and returns true. If d's
   * reference count is zero, tryIncRef may instead do nothing and return
   * false.
   */
  tryIncRef(): boolean {
    return this.impl.tryIncRef();
  }

  /** decRef decrements d's reference count. */
  decRef(ctx: Context): void {
    this.impl.decRef(ctx);
  }

  /**
   * isDead returns true if d has been deleted or invalidated by its owning
   * filesystem.
   *
   * Differs from gVisor: reads dead without d.mu; a read of one field cannot
   * interleave with a writer on a single JS thread.
   */
  isDead(): boolean {
    return this.dead;
  }

  /** isMounted returns true if d is the mount point of at least one Mount. */
  isMounted(): boolean {
    return this.mounts !== 0;
  }

  /** inotifyWithParent notifies all watches on the targets represented by d and its parent of events. */
  inotifyWithParent(ctx: Context, events: number, cookie: number, et: EventType): void {
    this.impl.inotifyWithParent(ctx, events, cookie, et);
  }

  /**
   * watches returns the set of inotify watches associated with d, or null if
   * d belongs to a FilesystemImpl that does not support inotify.
   */
  watches(): Watches | null {
    return this.impl.watches();
  }

  /** onZeroWatches performs cleanup tasks whenever the number of watches on a dentry drops to zero. */
  onZeroWatches(ctx: Context): void {
    this.impl.onZeroWatches(ctx);
  }
}

/**
 * DentryImpl contains implementation details for a Dentry. Implementations
 * hold their Dentry (by convention in a field named vfsd).
 *
 * Every method is synchronous: they are called from reference-count drops
 * and event delivery, which must not suspend. An implementation that must
 * talk to a server when its count reaches zero (the gofer's Tclunk) starts
 * that work without awaiting it.
 */
export interface DentryImpl {
  /**
   * incRef increments the Dentry's reference count. A Dentry with a non-zero
   * reference count must remain coherent with the state of the filesystem.
   */
  incRef(): void;

  /**
   * tryIncRef increments the Dentry's reference count and returns true. If
   * the Dentry's reference count is zero, tryIncRef may do nothing and return
   * false. (It is also permitted to succeed if it can restore the guarantee
   * that the Dentry is coherent with the state of the filesystem.)
   *
   * tryIncRef does not require that a reference is held on the Dentry.
   */
  tryIncRef(): boolean;

  /** decRef decrements the Dentry's reference count. */
  decRef(ctx: Context): void;

  /**
   * inotifyWithParent notifies all watches on the targets represented by
   * this dentry and its parent. The parent's watches are notified first,
   * followed by this dentry's. It automatically adds IN_ISDIR for dentries
   * representing directories.
   */
  inotifyWithParent(ctx: Context, events: number, cookie: number, et: EventType): void;

  /**
   * watches returns the set of inotify watches for the file corresponding to
   * the Dentry. Dentries that are hard links to the same file share the same
   * watches. It may return null if the FilesystemImpl does not support
   * inotify; an implementation returns either always null or never null.
   *
   * The caller does not need to hold a reference on the dentry.
   */
  watches(): Watches | null;

  /**
   * onZeroWatches is called whenever the number of watches on a dentry drops
   * to zero (the gofer uses it to manage dentry lifetime). The caller does
   * not need to hold a reference on the dentry; no inotify locks are held.
   */
  onZeroWatches(ctx: Context): void;
}

// The following functions back VirtualFilesystem's methods of the same names
// (vfs.ts delegates to them so that their bodies stay where gVisor has
// them). Filesystem implementations call them through the VirtualFilesystem;
// users of VFS should not.

/**
 * prepareDeleteDentry must be called before attempting to delete the file
 * represented by d. If it succeeds, the caller must call abortDeleteDentry or
 * commitDeleteDentry depending on the deletion's outcome.
 *
 * It throws EBUSY if d is a mount point in mntns.
 */
export async function prepareDeleteDentry(vfs: VirtualFilesystem, mntns: MountNamespace, d: Dentry): Promise<void> {
  await vfs.mountMu.lock();
  if ((mntns.mountpoints.get(d) ?? 0) !== 0) {
    vfs.mountMu.unlock();
    throw syserror.EBUSY;
  }
  try {
    await d.mu.lock();
  } finally {
    vfs.mountMu.unlock();
  }
  // Return with d.mu locked to block attempts to mount over it; it will be
  // unlocked by abortDeleteDentry or commitDeleteDentry.
}

/** abortDeleteDentry must be called after prepareDeleteDentry if the deletion fails. */
export function abortDeleteDentry(_vfs: VirtualFilesystem, d: Dentry): void {
  d.mu.unlock();
}

/** commitDeleteDentry must be called after prepareDeleteDentry if the deletion succeeds. */
export function commitDeleteDentry(vfs: VirtualFilesystem, ctx: Context, d: Dentry): void {
  d.dead = true;
  d.mu.unlock();
  if (d.isMounted()) {
    forgetDeadMountpoint(vfs, ctx, d);
  }
}

/**
 * invalidateDentry is called when d ceases to represent the file it formerly
 * did for reasons outside of VFS' control (e.g. d represents the local state
 * of a file on a remote filesystem on which the file has already been
 * deleted).
 *
 * Differs from gVisor: synchronous and without d.mu. Setting dead is one
 * step that no other task can observe half-done, and a mount over d is
 * connected in one synchronous step after ConnectMountAt re-checks dead, so
 * the lock would only make every revalidation path asynchronous.
 */
export function invalidateDentry(vfs: VirtualFilesystem, ctx: Context, d: Dentry): void {
  d.dead = true;
  if (d.isMounted()) {
    forgetDeadMountpoint(vfs, ctx, d);
  }
}

/**
 * prepareRenameDentry must be called before attempting to rename the file
 * represented by from. If to is not null, it represents the file that will be
 * replaced or exchanged by the rename. If it succeeds, the caller must call
 * abortRenameDentry, commitRenameReplaceDentry, or
 * commitRenameExchangeDentry depending on the rename's outcome.
 *
 * Preconditions:
 * - If to is not null, it must be a child Dentry from the same Filesystem.
 * - from !== to.
 */
export async function prepareRenameDentry(
  vfs: VirtualFilesystem, mntns: MountNamespace, from: Dentry, to: Dentry | null,
): Promise<void> {
  await vfs.mountMu.lock();
  let toLocked = false;
  try {
    if ((mntns.mountpoints.get(from) ?? 0) !== 0) throw syserror.EBUSY;
    if (to !== null) {
      if ((mntns.mountpoints.get(to) ?? 0) !== 0) throw syserror.EBUSY;
      await to.mu.lock();
      toLocked = true;
    }
    await from.mu.lock();
  } catch (err) {
    if (toLocked) to!.mu.unlock();
    throw err;
  } finally {
    vfs.mountMu.unlock();
  }
  // Return with from.mu and to.mu locked, which will be unlocked by
  // abortRenameDentry, commitRenameReplaceDentry, or
  // commitRenameExchangeDentry.
}

/** abortRenameDentry must be called after prepareRenameDentry if the rename fails. */
export function abortRenameDentry(_vfs: VirtualFilesystem, from: Dentry, to: Dentry | null): void {
  from.mu.unlock();
  if (to !== null) to.mu.unlock();
}

/**
 * commitRenameReplaceDentry must be called after the file represented by from
 * is renamed without RENAME_EXCHANGE. If to is not null, it represents the
 * file that was replaced by from.
 *
 * Preconditions: prepareRenameDentry was previously called on from and to.
 */
export function commitRenameReplaceDentry(vfs: VirtualFilesystem, ctx: Context, from: Dentry, to: Dentry | null): void {
  from.mu.unlock();
  if (to !== null) {
    to.dead = true;
    to.mu.unlock();
    if (to.isMounted()) forgetDeadMountpoint(vfs, ctx, to);
  }
}

/**
 * commitRenameExchangeDentry must be called after the files represented by
 * from and to are exchanged by rename(RENAME_EXCHANGE).
 *
 * Preconditions: prepareRenameDentry was previously called on from and to.
 */
export function commitRenameExchangeDentry(_vfs: VirtualFilesystem, from: Dentry, to: Dentry): void {
  from.mu.unlock();
  to.mu.unlock();
}

/**
 * forgetDeadMountpoint is called when a mount point is deleted or invalidated
 * to umount all mounts using it in all other mount namespaces.
 *
 * forgetDeadMountpoint is analogous to Linux's fs/namespace.c:__detach_mounts().
 *
 * Differs from gVisor: does not take vfs.mountMu. The umount below is one
 * synchronous step; the only holders of mountMu that await do so for a
 * Dentry.mu and re-read the mount state after it (see connectMountAt).
 */
export function forgetDeadMountpoint(vfs: VirtualFilesystem, ctx: Context, d: Dentry): void {
  const vdsToDecRef: VirtualDentry[] = [];
  const mountsToDecRef: Mount[] = [];
  const mnts = vfs.mountpoints.get(d);
  if (mnts !== undefined) {
    for (const mnt of [...mnts]) {
      vfs.umountRecursiveLocked(mnt, { eager: false, disconnectHierarchy: false }, vdsToDecRef, mountsToDecRef);
    }
  }
  for (const vd of vdsToDecRef) vd.decRef(ctx);
  for (const mnt of mountsToDecRef) mnt.decRef(ctx);
}
