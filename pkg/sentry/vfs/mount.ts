// Mount, MountNamespace and the VirtualFilesystem methods that mount and
// umount (gVisor's mount.go, with mount_unsafe.go's mountTable).

import type { Context } from '../../context';
import * as linux from '../../abi/linux/mount';
import { CAP_SYS_ADMIN } from '../../abi/linux/capability';
import type { Credentials, UserNamespace } from '../kernel/auth';
import * as fspath from '../../fspath';
import * as syserror from '../../syserror/syserror';
import { mountNamespaceFromContext } from './context';
import type { Dentry } from './dentry';
import {
  PrependPathAtNonMountRootError, PrependPathAtVFSRootError, PrependPathSyntheticError, type Filesystem,
} from './filesystem';
import type { MountFlags, MountOptions, UmountOptions } from './options';
import { VirtualDentry } from './vfs';
import type { PathOperation, VirtualFilesystem } from './vfs';

/**
 * A Mount is a replacement of a Dentry (Mount.key.point) from one Filesystem
 * (Mount.key.parent.fs) with a Dentry (Mount.root) from another Filesystem
 * (Mount.fs), which applies to path resolution in the context of a
 * particular Mount (Mount.key.parent).
 *
 * Mounts are reference-counted. Unless otherwise specified, all Mount methods
 * require that a reference is held.
 *
 * Mount and Filesystem are distinct types because it's possible for a single
 * Filesystem to be mounted at multiple locations and/or in multiple mount
 * namespaces.
 *
 * Mount is analogous to Linux's struct mount.
 */
export class Mount {
  /** vfs, fs, _root are immutable. References are held on fs and _root. _root may be null for a disconnected mount. */
  readonly vfs: VirtualFilesystem;
  readonly fs: Filesystem;
  readonly _root: Dentry | null;

  /** id is the immutable mount ID. */
  readonly id: number;

  /**
   * flags contains settings as specified for mount(2), e.g. MS_NOEXEC,
   * except for MS_RDONLY which is tracked in writers. Immutable.
   */
  readonly flags: Readonly<MountFlags>;

  /**
   * keyParent and keyPoint (gVisor's key) are protected by
   * VirtualFilesystem.mountMu, and may be null. References are held on them
   * if they are not null. Invariant: keyParent !== null iff keyPoint !== null.
   */
  keyParent: Mount | null = null;
  keyPoint: Dentry | null = null;

  /** ns is the namespace in which this Mount was mounted. */
  ns: MountNamespace | null;

  /**
   * refs is the reference count. eagerlyUmounted is gVisor's MSB of refs: set
   * if the Mount has been eagerly umounted, as by umount(2) without
   * MNT_DETACH, after which tryIncMountedRef fails.
   */
  refs = 1;
  eagerlyUmounted = false;

  /** children is the set of all Mounts for which Mount.keyParent is this Mount. */
  readonly children = new Set<Mount>();

  /**
   * umounted is true if VFS.umountRecursiveLocked() has been called on this
   * Mount. VirtualFilesystem does not hold a reference on Mounts for which
   * umounted is true.
   */
  umounted = false;

  /**
   * writers is the number of calls to checkBeginWrite() that have not yet
   * been paired with a call to endWrite(). readOnlyFlag is gVisor's MSB of
   * writers: set if MS_RDONLY is in effect.
   */
  writers = 0;
  readOnlyFlag = false;

  constructor(vfs: VirtualFilesystem, fs: Filesystem, root: Dentry | null, mntns: MountNamespace | null, opts: MountOptions) {
    this.id = ++vfs.lastMountID;
    this.flags = { ...(opts.flags ?? {}) };
    this.vfs = vfs;
    this.fs = fs;
    this._root = root;
    this.ns = mntns;
    if (opts.readOnly) this.setReadOnlyLocked(true);
  }

  /** options returns a copy of the MountOptions currently applicable to mnt. */
  options(): MountOptions {
    return { flags: { ...this.flags }, readOnly: this.readOnly() };
  }

  /** parent returns the Mount this one is mounted on, or null. */
  parent(): Mount | null {
    return this.keyParent;
  }

  /** point returns the Dentry this Mount is mounted on, or null. */
  point(): Dentry | null {
    return this.keyPoint;
  }

  /** getKey returns (parent, point) as a VirtualDentry (empty if disconnected). */
  getKey(): VirtualDentry {
    return new VirtualDentry(this.keyParent, this.keyPoint);
  }

  /** setKey sets (parent, point) from vd. */
  setKey(vd: VirtualDentry): void {
    this.keyParent = vd._mount;
    this.keyPoint = vd._dentry;
  }

  /**
   * tryIncMountedRef increments mnt's reference count and returns true. If
   * mnt's reference count is already zero, or mnt has been eagerly umounted,
   * tryIncMountedRef does nothing and returns false.
   *
   * tryIncMountedRef does not require that a reference is held on mnt.
   */
  tryIncMountedRef(): boolean {
    if (this.refs <= 0 || this.eagerlyUmounted) return false;
    this.refs++;
    return true;
  }

  /** incRef increments mnt's reference count. */
  incRef(): void {
    this.refs++;
  }

  /** decRef decrements mnt's reference count. */
  decRef(ctx: Context): void {
    this.refs--;
    if (this.refs === 0) {
      this.destroy(ctx);
    } else if (this.refs < 0) {
      throw new Error(`vfs.Mount ${this.id}: decRef on a Mount with no references`);
    }
  }

  private destroy(ctx: Context): void {
    let vd = new VirtualDentry(null, null);
    if (this.parent() !== null) {
      // Differs from gVisor: no mountMu here (decRef is synchronous); the
      // disconnection is one synchronous step, as in forgetDeadMountpoint.
      vd = this.vfs.disconnectLocked(this);
    }
    if (this._root !== null) this._root.decRef(ctx);
    this.fs.decRef(ctx);
    if (vd.ok()) vd.decRef(ctx);
  }

  /**
   * checkBeginWrite increments the counter of in-progress write operations on
   * mnt. If mnt is mounted MS_RDONLY, checkBeginWrite does nothing and throws
   * EROFS.
   *
   * If checkBeginWrite succeeds, endWrite must be called when the write
   * operation is finished.
   */
  checkBeginWrite(): void {
    if (this.readOnlyFlag) throw syserror.EROFS;
    this.writers++;
  }

  /**
   * endWrite indicates that a write operation signaled by a previous
   * successful call to checkBeginWrite has finished.
   */
  endWrite(): void {
    this.writers--;
  }

  /**
   * setReadOnlyLocked sets or clears MS_RDONLY. It throws EBUSY when making a
   * mount read-only while writes are in progress (open writable files).
   *
   * Preconditions: VirtualFilesystem.mountMu must be locked.
   */
  setReadOnlyLocked(ro: boolean): void {
    if (this.readOnlyFlag === ro) return;
    if (ro) {
      if (this.writers !== 0) throw syserror.EBUSY;
      this.readOnlyFlag = true;
      return;
    }
    this.readOnlyFlag = false;
  }

  /** readOnly returns true if mount is readonly. */
  readOnly(): boolean {
    return this.readOnlyFlag;
  }

  /** filesystem returns the mounted Filesystem. It does not take a reference on it. */
  filesystem(): Filesystem {
    return this.fs;
  }

  /**
   * submountsLocked returns this Mount and all Mounts that are descendents
   * of it.
   *
   * Precondition: mnt.vfs.mountMu must be held.
   */
  submountsLocked(): Mount[] {
    const mounts: Mount[] = [this];
    for (const m of this.children) mounts.push(...m.submountsLocked());
    return mounts;
  }

  /** root returns the mount's root. It does not take a reference on the returned Dentry. */
  root(): Dentry {
    return this._root!;
  }
}

/**
 * A MountNamespace is a collection of Mounts.
 *
 * MountNamespaces are reference-counted. Unless otherwise specified, all
 * MountNamespace methods require that a reference is held.
 *
 * MountNamespace is analogous to Linux's struct mnt_namespace.
 */
export class MountNamespace {
  /** refs is the reference count (gVisor's MountNamespaceRefs). */
  refs = 1;

  /** owner is the user namespace that owns this mount namespace. */
  owner: UserNamespace | null = null;

  /** _root is the MountNamespace's root mount. Immutable after construction. */
  _root!: Mount;

  /**
   * mountpoints maps all Dentries which are mount points in this namespace
   * to the number of Mounts for which they are mount points. Protected by
   * VirtualFilesystem.mountMu.
   *
   * It is used to determine if a Dentry can be moved or removed (which
   * requires that the Dentry is not a mount point in the calling namespace),
   * and is maintained even if there are no references held on the
   * MountNamespace.
   */
  readonly mountpoints = new Map<Dentry, number>();

  /** incRef increments mntns' reference count. */
  incRef(): void {
    this.refs++;
  }

  /** decRef decrements mntns' reference count; at zero, every Mount in it is umounted. */
  decRef(ctx: Context): void {
    this.refs--;
    if (this.refs > 0) return;
    if (this.refs < 0) throw new Error('vfs.MountNamespace: decRef with no references');
    const vfs = this._root.fs.virtualFilesystem();
    const vdsToDecRef: VirtualDentry[] = [];
    const mountsToDecRef: Mount[] = [];
    vfs.umountRecursiveLocked(this._root, { eager: false, disconnectHierarchy: true }, vdsToDecRef, mountsToDecRef);
    for (const vd of vdsToDecRef) vd.decRef(ctx);
    for (const mnt of mountsToDecRef) mnt.decRef(ctx);
  }

  /** root returns mntns' root. It does not take a reference on the returned VirtualDentry. */
  root(): VirtualDentry {
    return new VirtualDentry(this._root, this._root._root);
  }
}

/**
 * mountTable maps (mount parent, mount point) pairs to mounts. Since mounts
 * are uniquely namespaced, including the mount parent in the key correctly
 * handles both bind mounts and mount namespaces; Linux does the same.
 *
 * Differs from gVisor: a two-level Map instead of the seqcount-protected
 * open-addressing hash table of mount_unsafe.go; a JS thread cannot observe a
 * half-done insertion, so no sequence counter is needed.
 */
export class mountTable {
  private readonly m = new Map<Mount, Map<Dentry, Mount>>();
  private n = 0;

  /** lookup returns the Mount with the given parent, mounted at the given point, or null. */
  lookup(parent: Mount, point: Dentry): Mount | null {
    return this.m.get(parent)?.get(point) ?? null;
  }

  /**
   * insert inserts the given mount into the table.
   *
   * Preconditions: mt must not already contain a Mount with the same key.
   */
  insert(mnt: Mount): void {
    const parent = mnt.keyParent!;
    let byPoint = this.m.get(parent);
    if (byPoint === undefined) {
      byPoint = new Map();
      this.m.set(parent, byPoint);
    }
    byPoint.set(mnt.keyPoint!, mnt);
    this.n++;
  }

  /**
   * remove removes the given mount, inserted under key, from the table.
   *
   * Preconditions: mt must contain mnt under key.
   */
  remove(parent: Mount, point: Dentry): void {
    const byPoint = this.m.get(parent);
    if (byPoint === undefined || !byPoint.delete(point)) {
      throw new Error('vfs.mountTable.remove: mount not in table');
    }
    if (byPoint.size === 0) this.m.delete(parent);
    this.n--;
  }

  /** size returns the number of mounts in the table. */
  size(): number {
    return this.n;
  }

  /** all returns every mount in the table. */
  all(): Mount[] {
    const out: Mount[] = [];
    for (const byPoint of this.m.values()) out.push(...byPoint.values());
    return out;
  }
}

/** umountRecursiveOptions contains options to umountRecursiveLocked. */
export interface umountRecursiveOptions {
  /**
   * If eager is true, ensure that future calls to Mount.tryIncMountedRef()
   * on umounted mounts fail. eager is analogous to Linux's UMOUNT_SYNC.
   */
  eager: boolean;

  /**
   * If disconnectHierarchy is true, Mounts that are umounted hierarchically
   * should be disconnected from their parents. (Mounts whose parents are not
   * umounted, which in most cases means the Mount passed to the initial call
   * to umountRecursiveLocked, are unconditionally disconnected for
   * consistency with Linux.) disconnectHierarchy is analogous to Linux's
   * !UMOUNT_CONNECTED.
   */
  disconnectHierarchy: boolean;
}

// The following functions back the VirtualFilesystem methods of the same
// names (vfs.ts delegates to them).

/**
 * newMountNamespace returns a new mount namespace with a root filesystem
 * configured by the given arguments. A reference is taken on the returned
 * MountNamespace.
 */
export async function newMountNamespace(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, source: string, fsTypeName: string, opts: MountOptions,
): Promise<MountNamespace> {
  const rft = vfs.getFilesystemType(fsTypeName);
  if (rft === undefined) {
    vfs.log(`Unknown filesystem type: ${fsTypeName}`);
    throw syserror.ENODEV;
  }
  const [fs, root] = await rft.fsType.getFilesystem(ctx, vfs, creds, source, opts.getFilesystemOptions ?? {});
  const mntns = new MountNamespace();
  mntns.owner = creds.userNamespace;
  mntns._root = new Mount(vfs, fs, root, mntns, opts);
  return mntns;
}

/**
 * newDisconnectedMount returns a Mount representing fs with the given root
 * (which may be null). The new Mount is not associated with any
 * MountNamespace and is not connected to any other Mounts. References are
 * taken on fs and root.
 */
export function newDisconnectedMount(vfs: VirtualFilesystem, fs: Filesystem, root: Dentry | null, opts: MountOptions): Mount {
  fs.incRef();
  if (root !== null) root.incRef();
  return new Mount(vfs, fs, root, null, opts);
}

/**
 * mountDisconnected creates a Filesystem configured by the given arguments,
 * then returns a Mount representing it. The new Mount is not associated with
 * any MountNamespace and is not connected to any other Mounts.
 */
export async function mountDisconnected(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, source: string, fsTypeName: string, opts: MountOptions,
): Promise<Mount> {
  const rft = vfs.getFilesystemType(fsTypeName);
  if (rft === undefined) throw syserror.ENODEV;
  if (!opts.internalMount && !rft.opts.allowUserMount) throw syserror.ENODEV;
  const [fs, root] = await rft.fsType.getFilesystem(ctx, vfs, creds, source, opts.getFilesystemOptions ?? {});
  try {
    return newDisconnectedMount(vfs, fs, root, opts);
  } finally {
    root.decRef(ctx);
    fs.decRef(ctx);
  }
}

/**
 * connectMountAt connects mnt at the path represented by target.
 *
 * Preconditions: mnt must be disconnected.
 */
export async function connectMountAt(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, mnt: Mount, target: PathOperation,
): Promise<void> {
  // We can't hold vfs.mountMu while calling FilesystemImpl methods due to
  // lock ordering.
  let vd = await vfs.getDentryAt(ctx, creds, target, {});
  await vfs.mountMu.lock();
  try {
    await vd._dentry!.mu.lock();
    for (;;) {
      const d = vd._dentry!;
      if (d.dead) {
        d.mu.unlock();
        vd.decRef(ctx);
        throw syserror.ENOENT;
      }
      // vd might have been mounted over between vfs.getDentryAt() and
      // vfs.mountMu.lock().
      if (!d.isMounted()) break;
      const nextmnt = vfs.mounts.lookup(vd._mount!, d);
      if (nextmnt === null) break;
      // It's possible that nextmnt has been umounted but not disconnected,
      // in which case vfs no longer holds a reference on it.
      if (!nextmnt.tryIncMountedRef()) break;
      // This can't fail since we're holding vfs.mountMu.
      nextmnt._root!.incRef();
      d.mu.unlock();
      vd.decRef(ctx);
      vd = new VirtualDentry(nextmnt, nextmnt._root);
      await vd._dentry!.mu.lock();
    }
    // TODO(gvisor.dev/issue/1035): Linux requires that either both the mount
    // point and the mount root are directories, or neither are, and returns
    // ENOTDIR if this is not the case.
    const mntns = vd._mount!.ns!;
    vfs.connectLocked(mnt, vd, mntns);
    vd._dentry!.mu.unlock();
  } finally {
    vfs.mountMu.unlock();
  }
}

/**
 * mountAt creates and mounts a Filesystem configured by the given arguments.
 * The VirtualFilesystem will hold a reference to the Mount until it is
 * unmounted.
 *
 * This method returns the mounted Mount without a reference, for convenience
 * during VFS setup when there is no chance of racing with unmount.
 */
export async function mountAt(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, source: string, target: PathOperation, fsTypeName: string, opts: MountOptions,
): Promise<Mount> {
  const mnt = await mountDisconnected(vfs, ctx, creds, source, fsTypeName, opts);
  try {
    await connectMountAt(vfs, ctx, creds, mnt, target);
  } finally {
    mnt.decRef(ctx);
  }
  return mnt;
}

/**
 * bindAt creates a bind mount of the file at source over target, as
 * mount(source, target, NULL, MS_BIND, NULL) does: a new Mount of source's
 * Filesystem rooted at source's Dentry, with source's mount's flags. If
 * recursive (MS_BIND|MS_REC), the mounts below source are copied too, each
 * at the same place under the new mount (Linux's copy_tree()).
 *
 * It returns the new Mount without a reference, as mountAt does.
 *
 * Differs from gVisor at this commit, which rejects MS_BIND with EINVAL
 * (DESIGN decision 9: follow Linux). Mount propagation is not modelled (all
 * mounts are private).
 */
export async function bindAt(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, source: PathOperation, target: PathOperation, recursive = false,
): Promise<Mount> {
  const sourceVD = await vfs.getDentryAt(ctx, creds, source, {});
  let clone: Mount;
  let plan: submountCopy[] = [];
  try {
    const src = sourceVD._mount!;
    clone = newDisconnectedMount(vfs, src.fs, sourceVD._dentry, { flags: src.flags, readOnly: src.readOnly() });
    // Which submounts to copy is decided before taking mountMu:
    // FilesystemImpl.prependPath takes filesystem locks, which precede
    // mountMu in the lock order.
    if (recursive) plan = await planSubmountCopies(ctx, src, sourceVD._dentry!);
  } finally {
    sourceVD.decRef(ctx);
  }
  try {
    await connectMountAt(vfs, ctx, creds, clone, target);
    if (plan.length !== 0) await copySubmounts(vfs, ctx, clone, plan);
  } finally {
    clone.decRef(ctx);
  }
  return clone;
}

// submountCopy is one mount of a recursive bind: orig is mounted at point in
// the mount that parent (an index into the plan, or -1 for the top clone)
// copies.
interface submountCopy {
  orig: Mount;
  point: Dentry;
  parent: number;
}

// planSubmountCopies lists, parents first, the mounts below (mnt, root) that
// a recursive bind mount copies: those whose mount point is root or a
// descendant of it (Linux: is_subdir()), recursively.
async function planSubmountCopies(ctx: Context, mnt: Mount, root: Dentry): Promise<submountCopy[]> {
  const plan: submountCopy[] = [];
  const walk = async (m: Mount, r: Dentry, parent: number): Promise<void> => {
    for (const child of [...m.children]) {
      if (child.umounted) continue;
      const point = child.point()!;
      if (point !== r && !(await isDescendant(ctx, m, r, point))) continue;
      plan.push({ orig: child, point, parent });
      await walk(child, child._root!, plan.length - 1);
    }
  };
  await walk(mnt, root, -1);
  return plan;
}

// isDescendant returns true if d is below root in mnt's filesystem: a
// PrependPath from d stops at root as at a VFS root.
async function isDescendant(ctx: Context, mnt: Mount, root: Dentry, d: Dentry): Promise<boolean> {
  try {
    await mnt.fs.impl.prependPath(ctx, new VirtualDentry(mnt, root), new VirtualDentry(mnt, d), new fspath.Builder());
    return false;
  } catch (err) {
    if (err instanceof PrependPathAtVFSRootError) return true;
    if (err instanceof PrependPathAtNonMountRootError || err instanceof PrependPathSyntheticError) return false;
    throw err;
  }
}

// copySubmounts connects a copy of each planned mount under top.
async function copySubmounts(vfs: VirtualFilesystem, ctx: Context, top: Mount, plan: submountCopy[]): Promise<void> {
  const clones: Array<Mount | null> = [];
  await vfs.mountMu.lock();
  try {
    for (const c of plan) {
      const parent = c.parent < 0 ? top : clones[c.parent];
      if (parent === null || parent === undefined || c.orig.umounted || parent.umounted) {
        clones.push(null);
        continue;
      }
      await c.point.mu.lock();
      try {
        if (c.point.dead) {
          clones.push(null);
          continue;
        }
        const cc = newDisconnectedMount(vfs, c.orig.fs, c.orig._root, { flags: c.orig.flags, readOnly: c.orig.readOnly() });
        // connectLocked consumes the references of its VirtualDentry.
        parent.incRef();
        c.point.incRef();
        vfs.connectLocked(cc, new VirtualDentry(parent, c.point), parent.ns!);
        clones.push(cc);
      } finally {
        c.point.mu.unlock();
      }
    }
  } finally {
    vfs.mountMu.unlock();
  }
  // Drop the creators' references; the VFS holds the connected ones.
  for (const cc of clones) if (cc !== null) cc.decRef(ctx);
}

/** umountAt removes the Mount at the given path. */
export async function umountAt(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, pop: PathOperation, opts: UmountOptions,
): Promise<void> {
  const flags = opts.flags ?? 0;
  if ((flags & ~(linux.MNT_FORCE | linux.MNT_DETACH)) !== 0) throw syserror.EINVAL;

  // MNT_FORCE is currently unimplemented except for the permission check.
  // Force unmounting specifically requires CAP_SYS_ADMIN in the root user
  // namespace.
  if ((flags & linux.MNT_FORCE) !== 0 && !creds.hasCapability(CAP_SYS_ADMIN)) throw syserror.EPERM;

  const vd = await vfs.getDentryAt(ctx, creds, pop, {});
  try {
    const mnt = vd._mount!;
    if (vd._dentry !== mnt._root) throw syserror.EINVAL;
    await vfs.mountMu.lock();
    const vdsToDecRef: VirtualDentry[] = [];
    const mountsToDecRef: Mount[] = [];
    try {
      const mntns = mountNamespaceFromContext(ctx);
      if (mntns !== null) {
        mntns.decRef(ctx);
        if (mntns !== mnt.ns) throw syserror.EINVAL;
      }
      // TODO(gvisor.dev/issue/1035): Linux special-cases umount of the
      // caller's root, which we don't implement yet (we'll just fail it since
      // the caller holds a reference on it).
      if ((flags & linux.MNT_DETACH) === 0) {
        if (mnt.children.size !== 0) throw syserror.EBUSY;
        // We are holding a reference on vd.mount.
        const expectedRefs = mnt.umounted ? 1 : 2;
        if (mnt.refs !== expectedRefs) throw syserror.EBUSY;
      }
      vfs.umountRecursiveLocked(mnt, {
        eager: (flags & linux.MNT_DETACH) === 0,
        disconnectHierarchy: true,
      }, vdsToDecRef, mountsToDecRef);
    } finally {
      vfs.mountMu.unlock();
    }
    for (const d of vdsToDecRef) d.decRef(ctx);
    for (const m of mountsToDecRef) m.decRef(ctx);
  } finally {
    vd.decRef(ctx);
  }
}

/**
 * umountRecursiveLocked marks mnt and its descendants as umounted. It does
 * not release mount or dentry references; instead, it appends VirtualDentries
 * and Mounts on which references must be dropped to vdsToDecRef and
 * mountsToDecRef respectively. (This is necessary because filesystem locks
 * possibly taken by DentryImpl.decRef() may precede vfs.mountMu in the lock
 * order, and Mount.decRef() may lock vfs.mountMu.)
 *
 * umountRecursiveLocked is analogous to Linux's fs/namespace.c:umount_tree().
 *
 * Preconditions: vfs.mountMu must be locked (or the caller runs it in one
 * synchronous step, see forgetDeadMountpoint).
 */
export function umountRecursiveLocked(
  vfs: VirtualFilesystem, mnt: Mount, opts: umountRecursiveOptions, vdsToDecRef: VirtualDentry[], mountsToDecRef: Mount[],
): void {
  if (!mnt.umounted) {
    mnt.umounted = true;
    mountsToDecRef.push(mnt);
    const parent = mnt.parent();
    if (parent !== null && (opts.disconnectHierarchy || !parent.umounted)) {
      vdsToDecRef.push(disconnectLocked(vfs, mnt));
    }
  }
  if (opts.eager) mnt.eagerlyUmounted = true;
  for (const child of [...mnt.children]) {
    umountRecursiveLocked(vfs, child, opts, vdsToDecRef, mountsToDecRef);
  }
}

/**
 * connectLocked makes vd the mount parent/point for mnt. It consumes
 * references held by vd.
 *
 * Preconditions:
 * - vfs.mountMu must be locked.
 * - vd.dentry.mu must be locked.
 * - mnt.parent() === null, i.e. mnt must not already be connected.
 */
export function connectLocked(vfs: VirtualFilesystem, mnt: Mount, vd: VirtualDentry, mntns: MountNamespace): void {
  if (mnt.parent() !== null) throw new Error('VFS.connectLocked called on connected mount');
  mnt.incRef(); // dropped by callers of umountRecursiveLocked
  mnt.setKey(vd);
  const parent = vd._mount!;
  const point = vd._dentry!;
  parent.children.add(mnt);
  point.mounts++;
  mnt.ns = mntns;
  mntns.mountpoints.set(point, (mntns.mountpoints.get(point) ?? 0) + 1);
  vfs.mounts.insert(mnt);
  let vfsmpmounts = vfs.mountpoints.get(point);
  if (vfsmpmounts === undefined) {
    vfsmpmounts = new Set();
    vfs.mountpoints.set(point, vfsmpmounts);
  }
  vfsmpmounts.add(mnt);
}

/**
 * disconnectLocked makes mnt have no mount parent/point and returns its old
 * mount parent/point with a reference held.
 *
 * Preconditions:
 * - vfs.mountMu must be locked.
 * - mnt.parent() !== null.
 */
export function disconnectLocked(vfs: VirtualFilesystem, mnt: Mount): VirtualDentry {
  const vd = mnt.getKey();
  if (!vd.ok()) throw new Error('VFS.disconnectLocked called on disconnected mount');
  const parent = vd._mount!;
  const point = vd._dentry!;
  mnt.setKey(new VirtualDentry(null, null));
  parent.children.delete(mnt);
  point.mounts--;
  const ns = mnt.ns!;
  const n = (ns.mountpoints.get(point) ?? 0) - 1;
  if (n <= 0) ns.mountpoints.delete(point);
  else ns.mountpoints.set(point, n);
  vfs.mounts.remove(parent, point);
  const vfsmpmounts = vfs.mountpoints.get(point);
  if (vfsmpmounts !== undefined) {
    vfsmpmounts.delete(mnt);
    if (vfsmpmounts.size === 0) vfs.mountpoints.delete(point);
  }
  return vd;
}

/**
 * getMountAt returns the last Mount in the stack mounted at (mnt, d). It
 * takes a reference on the returned Mount. If (mnt, d) is not a mount point,
 * getMountAt returns null.
 *
 * getMountAt is analogous to Linux's fs/namei.c:follow_mount().
 *
 * Preconditions: References are held on mnt and d.
 */
export function getMountAt(vfs: VirtualFilesystem, ctx: Context, mnt: Mount, d: Dentry): Mount | null {
  // The first mount is special-cased:
  //
  // - The caller is assumed to have checked d.isMounted() already.
  //
  // - We return null, instead of mnt, if there is no mount at (mnt, d).
  //
  // - We don't drop the caller's references on mnt and d.
  let next = vfs.mounts.lookup(mnt, d);
  // A Mount that was eagerly umounted but is not yet disconnected cannot be
  // entered (gVisor retries until the racing umount disconnects it; here
  // the umount is already complete when we run).
  if (next === null || !next.tryIncMountedRef()) return null;
  mnt = next;
  d = next._root!;
  // We don't need to take Dentry refs anywhere in this function because
  // Mounts hold references on Mount.root, which is immutable.
  while (d.isMounted()) {
    next = vfs.mounts.lookup(mnt, d);
    if (next === null || !next.tryIncMountedRef()) break;
    mnt.decRef(ctx);
    mnt = next;
    d = next._root!;
  }
  return mnt;
}

/**
 * getMountpointAt returns the mount point for the stack of Mounts including
 * mnt. It takes a reference on the returned VirtualDentry. If no such mount
 * point exists (i.e. mnt is a root mount), getMountpointAt returns an empty
 * VirtualDentry.
 *
 * Preconditions:
 * - References are held on mnt and root.
 * - vfsroot is not (mnt, mnt.root).
 */
export function getMountpointAt(vfs: VirtualFilesystem, ctx: Context, mnt: Mount, vfsroot: VirtualDentry): VirtualDentry {
  // The first mount is special-cased:
  //
  // - The caller must have already checked mnt against vfsroot.
  //
  // - We return an empty VirtualDentry, instead of mnt, if there is no mount
  // point for mnt.
  //
  // - We don't drop the caller's reference on mnt.
  let parent = mnt.parent();
  let point = mnt.point();
  if (parent === null || point === null) return new VirtualDentry(null, null);
  if (!parent.tryIncMountedRef()) {
    // Raced with an eager umount of the parent: treat as a root mount
    // (gVisor retries until the racing umount completes).
    return new VirtualDentry(null, null);
  }
  if (!point.tryIncRef()) {
    parent.decRef(ctx);
    return new VirtualDentry(null, null);
  }
  mnt = parent;
  let d = point;
  for (;;) {
    if (mnt === vfsroot._mount && d === vfsroot._dentry) break;
    if (d !== mnt._root) break;
    parent = mnt.parent();
    point = mnt.point();
    if (parent === null || point === null) break;
    if (!parent.tryIncMountedRef()) break;
    if (!point.tryIncRef()) {
      parent.decRef(ctx);
      break;
    }
    d.decRef(ctx);
    mnt.decRef(ctx);
    mnt = parent;
    d = point;
  }
  return new VirtualDentry(mnt, d);
}

/** setMountReadOnly sets the mount as read-only (or read-write). */
export async function setMountReadOnly(vfs: VirtualFilesystem, mnt: Mount, ro: boolean): Promise<void> {
  await vfs.mountMu.lock();
  try {
    mnt.setReadOnlyLocked(ro);
  } finally {
    vfs.mountMu.unlock();
  }
}

/** mountOptionsString returns "rw"/"ro" and the flags as /proc/[pid]/mounts shows them. */
function mountOptionsString(mnt: Mount): string {
  let opts = mnt.readOnly() ? 'ro' : 'rw';
  if (mnt.flags.noATime) opts += ',noatime';
  if (mnt.flags.noExec) opts += ',noexec';
  return opts;
}

async function sortedSubmounts(vfs: VirtualFilesystem, taskRootDir: VirtualDentry): Promise<Mount[]> {
  await vfs.mountMu.lock();
  let mounts: Mount[];
  try {
    mounts = taskRootDir._mount!.submountsLocked();
    // Take a reference on mounts since we need to drop vfs.mountMu before
    // calling vfs.pathnameReachable() (=> FilesystemImpl.prependPath()).
    for (const mnt of mounts) mnt.incRef();
  } finally {
    vfs.mountMu.unlock();
  }
  mounts.sort((a, b) => a.id - b.id);
  return mounts;
}

/**
 * generateProcMounts returns the contents of /proc/[pid]/mounts for vfs.
 *
 * Differs from gVisor: gVisor writes "opts = \",noatime\"" (dropping rw/ro);
 * this appends it, as Linux shows it.
 *
 * Preconditions: taskRootDir.ok().
 */
export async function generateProcMounts(vfs: VirtualFilesystem, ctx: Context, taskRootDir: VirtualDentry): Promise<string> {
  const mounts = await sortedSubmounts(vfs, taskRootDir);
  let buf = '';
  try {
    for (const mnt of mounts) {
      // Get the path to this mount relative to task root.
      const mntRootVD = new VirtualDentry(mnt, mnt._root);
      let path: string;
      try {
        path = await vfs.pathnameReachable(ctx, taskRootDir, mntRootVD);
      } catch (err) {
        vfs.log(`VFS.GenerateProcMounts: error getting pathname for mount root: ${String(err)}`);
        path = '';
      }
      // Either an error occurred, or path is not reachable from root.
      if (path === '') break;
      // Format:
      // <special device or remote filesystem> <mount point> <filesystem type> <mount options> <needs dump> <fsck order>
      buf += `none ${path} ${mnt.fs.filesystemType().name()} ${mountOptionsString(mnt)} 0 0\n`;
    }
  } finally {
    for (const mnt of mounts) mnt.decRef(ctx);
  }
  return buf;
}

/**
 * generateProcMountInfo returns the contents of /proc/[pid]/mountinfo for vfs.
 *
 * Preconditions: taskRootDir.ok().
 */
export async function generateProcMountInfo(
  vfs: VirtualFilesystem, ctx: Context, creds: Credentials, taskRootDir: VirtualDentry,
): Promise<string> {
  const mounts = await sortedSubmounts(vfs, taskRootDir);
  let buf = '';
  try {
    for (const mnt of mounts) {
      const mntRootVD = new VirtualDentry(mnt, mnt._root);
      let path: string;
      try {
        path = await vfs.pathnameReachable(ctx, taskRootDir, mntRootVD);
      } catch (err) {
        vfs.log(`VFS.GenerateProcMountInfo: error getting pathname for mount root: ${String(err)}`);
        path = '';
      }
      if (path === '') break;
      // Stat the mount root to get the major/minor device numbers.
      let statx;
      try {
        statx = await vfs.statAt(ctx, creds, { root: mntRootVD, start: mntRootVD, path: fspath.parse(''), followFinalSymlink: false }, {});
      } catch (err) {
        vfs.log(`VFS.GenerateProcMountInfo: failed to stat mount root: ${String(err)}`);
        break;
      }
      // Format:
      // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
      // (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
      const pID = mnt.parent()?.id ?? mnt.id;
      buf += `${mnt.id} ${pID} ${statx.devMajor}:${statx.devMinor} / ${manglePath(path)} ${mountOptionsString(mnt)} - `;
      buf += `${mnt.fs.filesystemType().name()} none ${mnt.readOnly() ? 'ro' : 'rw'}\n`;
    }
  } finally {
    for (const mnt of mounts) mnt.decRef(ctx);
  }
  return buf;
}

/**
 * manglePath replaces ' ', '\t', '\n', and '\\' with their octal
 * equivalents. See Linux fs/seq_file.c:mangle_path.
 */
export function manglePath(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => {
    switch (c) {
      case ' ': return '\\040';
      case '\t': return '\\011';
      case '\n': return '\\012';
      default: return '\\134';
    }
  });
}
