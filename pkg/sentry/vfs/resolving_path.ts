// ResolvingPath: the state of an in-progress path resolution, shared between
// VFS and FilesystemImpl methods that take a path (gVisor's
// resolving_path.go).

import type { Context } from '../../context';
import { MaxSymlinkTraversals } from '../../abi/linux/file';
import * as fspath from '../../fspath';
import type { Credentials } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import { checkInvariants } from './debug';
import type { Dentry } from './dentry';
import type { Mount } from './mount';
import type { PathOperation, VirtualDentry, VirtualFilesystem } from './vfs';

// Error types that communicate state from the FilesystemImpl-caller,
// VFS-callee side of path resolution (i.e. errors thrown by
// ResolvingPath.checkRoot/checkMount/handleSymlink/handleJump) to the
// VFS-caller, FilesystemImpl-callee side (i.e. VFS methods =>
// ResolvingPath.handleError()). The data they carry is stored in the
// ResolvingPath so that they need not allocate: each is thrown as one shared
// instance.
//
// A FilesystemImpl must let these propagate out of its method unchanged
// (after releasing its own locks); the VFS catches them, switches mounts and
// calls the FilesystemImpl again. They never leave the vfs package.

/** resolveMountRootOrJumpError: ".." reached a mount root, or a magic link jumped. */
export class resolveMountRootOrJumpError extends Error {
  constructor() {
    super('resolving mount root or jump');
    this.name = 'resolveMountRootOrJumpError';
  }
}

/** resolveMountPointError: a path component is a mount point. */
export class resolveMountPointError extends Error {
  constructor() {
    super('resolving mount point');
    this.name = 'resolveMountPointError';
  }
}

/** resolveAbsSymlinkError: a symlink's target is absolute. */
export class resolveAbsSymlinkError extends Error {
  constructor() {
    super('resolving absolute symlink');
    this.name = 'resolveAbsSymlinkError';
  }
}

const errMountRootOrJump = new resolveMountRootOrJumpError();
const errMountPoint = new resolveMountPointError();
const errAbsSymlink = new resolveAbsSymlinkError();

const rpflagsHaveMountRef = 1 << 0; // do we hold a reference on mount?
const rpflagsHaveStartRef = 1 << 1; // do we hold a reference on start?
const rpflagsFollowFinalSymlink = 1 << 2; // same as PathOperation.followFinalSymlink

const terminal = new fspath.Iterator();

/**
 * ResolvingPath represents the state of an in-progress path resolution,
 * shared between VFS and FilesystemImpl methods that take a path.
 *
 * From the perspective of FilesystemImpl methods, a ResolvingPath represents
 * a starting Dentry on the associated Filesystem (on which a reference is
 * already held), a stream of path components relative to that Dentry, and
 * elements of the invoking Context that are commonly required by
 * FilesystemImpl methods.
 *
 * ResolvingPath is loosely analogous to Linux's struct nameidata.
 *
 * Fields are package-internal (gVisor's lowercase fields); FilesystemImpls
 * use the methods.
 */
export class ResolvingPath {
  vfs!: VirtualFilesystem;
  root!: VirtualDentry; // refs borrowed from PathOperation
  _mount!: Mount;
  _start!: Dentry;
  pit: fspath.Iterator = terminal;

  flags = 0;
  _mustBeDir = false; // final file must be a directory?
  mustBeDirOrig = false;
  symlinks = 0; // number of symlinks traversed
  symlinksOrig = 0;
  curPart = 0; // index into parts
  numOrigParts = 0;

  creds!: Credentials;

  // Data associated with resolve*Errors, stored in ResolvingPath so that
  // those errors don't need to allocate.
  nextMount: Mount | null = null; // ref held if not null
  nextStart: Dentry | null = null; // ref held if not null
  absSymlinkTarget: fspath.Path | null = null;

  // ResolvingPath must track up to two relative paths: the "current"
  // relative path, which is updated whenever a relative symlink is
  // encountered, and the "original" relative path, which is updated from the
  // current relative path by handleError() when resolution must change
  // filesystems (due to reaching a mount boundary or absolute symlink) and
  // overwrites the current relative path when restart() is called.
  readonly parts: fspath.Iterator[] = new Array<fspath.Iterator>(1 + MaxSymlinkTraversals).fill(terminal);
  readonly origParts: fspath.Iterator[] = new Array<fspath.Iterator>(1 + MaxSymlinkTraversals).fill(terminal);

  /** init sets rp up for pop (gVisor's getResolvingPath body). */
  init(vfs: VirtualFilesystem, creds: Credentials, pop: PathOperation): void {
    this.vfs = vfs;
    this.root = pop.root;
    this._mount = pop.start._mount!;
    this._start = pop.start._dentry!;
    this.pit = pop.path.begin;
    this.flags = 0;
    if (pop.followFinalSymlink) this.flags |= rpflagsFollowFinalSymlink;
    this._mustBeDir = pop.path.dir;
    this.mustBeDirOrig = pop.path.dir;
    this.symlinks = 0;
    this.symlinksOrig = 0;
    this.curPart = 0;
    this.numOrigParts = 1;
    this.creds = creds;
    this.parts[0] = pop.path.begin;
    this.origParts[0] = pop.path.begin;
  }

  decRefStartAndMount(ctx: Context): void {
    if ((this.flags & rpflagsHaveStartRef) !== 0) this._start.decRef(ctx);
    if ((this.flags & rpflagsHaveMountRef) !== 0) this._mount.decRef(ctx);
  }

  releaseErrorState(ctx: Context): void {
    if (this.nextStart !== null) {
      this.nextStart.decRef(ctx);
      this.nextStart = null;
    }
    if (this.nextMount !== null) {
      this.nextMount.decRef(ctx);
      this.nextMount = null;
    }
  }

  /** virtualFilesystem returns the containing VirtualFilesystem. */
  virtualFilesystem(): VirtualFilesystem {
    return this.vfs;
  }

  /** credentials returns the credentials of rp's provider. */
  credentials(): Credentials {
    return this.creds;
  }

  /**
   * mount returns the Mount on which path resolution is currently occurring.
   * It does not take a reference on the returned Mount.
   */
  mount(): Mount {
    return this._mount;
  }

  /**
   * start returns the starting Dentry represented by rp. It does not take a
   * reference on the returned Dentry.
   */
  start(): Dentry {
    return this._start;
  }

  /**
   * done returns true if there are no remaining path components in the
   * stream represented by rp.
   */
  done(): boolean {
    // We don't need to check for rp.curPart == 0 because rp.advance() won't
    // set rp.pit to a terminal iterator otherwise.
    return !this.pit.ok();
  }

  /**
   * final returns true if there is exactly one remaining path component in
   * the stream represented by rp.
   *
   * Preconditions: !rp.done().
   */
  final(): boolean {
    return this.curPart === 0 && !this.pit.nextOk();
  }

  /**
   * component returns the current path component in the stream represented
   * by rp.
   *
   * Preconditions: !rp.done().
   */
  component(): string {
    if (checkInvariants && !this.pit.ok()) {
      throw new Error('ResolvingPath.component() called at end of relative path');
    }
    return this.pit.string();
  }

  /**
   * advance advances the stream of path components represented by rp.
   *
   * Preconditions: !rp.done().
   */
  advance(): void {
    if (checkInvariants && !this.pit.ok()) {
      throw new Error('ResolvingPath.advance() called at end of relative path');
    }
    const next = this.pit.next();
    if (next.ok() || this.curPart === 0) {
      // have next component, or at end of path
      this.pit = next;
    } else {
      // at end of path segment, continue with next one
      this.curPart--;
      this.pit = this.parts[this.curPart];
    }
  }

  /**
   * restart resets the stream of path components represented by rp to its
   * state on entry to the current FilesystemImpl method.
   */
  restart(ctx: Context): void {
    this.pit = this.origParts[this.numOrigParts - 1];
    this._mustBeDir = this.mustBeDirOrig;
    this.symlinks = this.symlinksOrig;
    this.curPart = this.numOrigParts - 1;
    for (let i = 0; i < this.numOrigParts; i++) this.parts[i] = this.origParts[i];
    this.releaseErrorState(ctx);
  }

  relpathCommit(): void {
    this.mustBeDirOrig = this._mustBeDir;
    this.symlinksOrig = this.symlinks;
    this.numOrigParts = this.curPart + 1;
    for (let i = 0; i < this.curPart; i++) this.origParts[i] = this.parts[i];
    this.origParts[this.curPart] = this.pit;
  }

  /**
   * checkRoot is called before resolving the parent of the Dentry d. If the
   * Dentry is contextually a VFS root, such that path resolution should treat
   * d's parent as itself, checkRoot returns true. If the Dentry is the root
   * of a non-root mount, such that path resolution should switch to another
   * Mount, checkRoot throws (a resolveMountRootOrJumpError, which the
   * FilesystemImpl must let propagate). Otherwise, path resolution should
   * resolve d's parent normally, and checkRoot returns false.
   */
  checkRoot(ctx: Context, d: Dentry): boolean {
    if (d === this.root._dentry && this._mount === this.root._mount) {
      // At contextual VFS root (due to e.g. chroot(2)).
      return true;
    } else if (d === this._mount._root) {
      // At mount root ...
      const vd = this.vfs.getMountpointAt(ctx, this._mount, this.root);
      if (vd.ok()) {
        // ... of non-root mount.
        this.nextMount = vd._mount;
        this.nextStart = vd._dentry;
        throw errMountRootOrJump;
      }
      // ... of root mount.
      return true;
    }
    return false;
  }

  /**
   * checkMount is called after resolving the parent or child of another
   * Dentry to d. If d is a mount point, such that path resolution should
   * switch to another Mount, checkMount throws (a resolveMountPointError,
   * which the FilesystemImpl must let propagate).
   */
  checkMount(ctx: Context, d: Dentry): void {
    if (!d.isMounted()) return;
    const mnt = this.vfs.getMountAt(ctx, this._mount, d);
    if (mnt !== null) {
      this.nextMount = mnt;
      throw errMountPoint;
    }
  }

  /**
   * shouldFollowSymlink returns true if, supposing that the current path
   * component in pcs represents a symbolic link, the symbolic link should be
   * followed.
   *
   * If path is terminated with '/', the '/' is considered the last element
   * and any symlink before that is followed:
   * - For most non-creating walks, the last path component is handled by
   *   fs/namei.c:lookup_last(), which sets LOOKUP_FOLLOW if the first byte
   *   after the path component is non-NULL (which is only possible if it's
   *   '/') and the path component is of type LAST_NORM.
   * - For open/openat/openat2 without O_CREAT, the last path component is
   *   handled by fs/namei.c:do_last(), which does the same, though without
   *   the LAST_NORM check.
   *
   * Preconditions: !rp.done().
   */
  shouldFollowSymlink(): boolean {
    // Non-final symlinks are always followed. Paths terminated with '/' are
    // also always followed.
    return (this.flags & rpflagsFollowFinalSymlink) !== 0 || !this.final() || this.mustBeDir();
  }

  /**
   * handleSymlink is called when the current path component is a symbolic
   * link to the given target. If the calling Filesystem method should
   * continue path traversal, handleSymlink updates the path component stream
   * to reflect the symlink target and returns. Otherwise it throws: ELOOP
   * past 40 symlinks, ENOENT for an empty target, or a
   * resolveAbsSymlinkError (which the FilesystemImpl must let propagate) for
   * an absolute target.
   *
   * Preconditions: !rp.done().
   *
   * Postconditions: If handleSymlink returns, then !rp.done().
   */
  handleSymlink(target: string): void {
    if (this.symlinks >= MaxSymlinkTraversals) throw syserror.ELOOP;
    if (target.length === 0) throw syserror.ENOENT;
    this.symlinks++;
    const targetPath = fspath.parse(target);
    if (targetPath.absolute) {
      this.absSymlinkTarget = targetPath;
      throw errAbsSymlink;
    }
    // Consume the path component that represented the symlink.
    this.advance();
    // Prepend the symlink target to the relative path.
    if (checkInvariants && !targetPath.hasComponents()) {
      throw new Error(`non-empty pathname ${JSON.stringify(target)} parsed to relative path with no components`);
    }
    this.relpathPrepend(targetPath);
  }

  /** Preconditions: path.hasComponents(). */
  relpathPrepend(path: fspath.Path): void {
    if (this.pit.ok()) {
      this.parts[this.curPart] = this.pit;
      this.pit = path.begin;
      this.curPart++;
    } else {
      // The symlink was the final path component, so now the symlink target
      // is the whole path.
      this.pit = path.begin;
      // Symlink targets can set rp.mustBeDir (if they end in a trailing /),
      // but can't unset it.
      if (path.dir) this._mustBeDir = true;
    }
  }

  /**
   * handleJump is called when the current path component is a "magic" link
   * to the given VirtualDentry, like /proc/[pid]/fd/[fd]. It always throws:
   * ELOOP past 40 links, otherwise a resolveMountRootOrJumpError that makes
   * the VFS restart resolution at target.
   *
   * Preconditions: !rp.done().
   */
  handleJump(target: VirtualDentry): never {
    if (this.symlinks >= MaxSymlinkTraversals) throw syserror.ELOOP;
    this.symlinks++;
    // Consume the path component that represented the magic link.
    this.advance();
    // Unconditionally throw a resolveMountRootOrJumpError, even if the Mount
    // isn't changing, to force restarting at the new Dentry.
    target.incRef();
    this.nextMount = target._mount;
    this.nextStart = target._dentry;
    throw errMountRootOrJump;
  }

  /**
   * handleError handles an error thrown by a FilesystemImpl method: if it
   * is one of the resolve*Errors, it switches rp to the new Mount and returns
   * true (the VFS then calls the FilesystemImpl again); otherwise it returns
   * false and the VFS rethrows err.
   */
  handleError(ctx: Context, err: unknown): boolean {
    if (err === errMountRootOrJump) {
      // Switch to the new Mount. We hold references on the Mount and Dentry.
      this.decRefStartAndMount(ctx);
      this._mount = this.nextMount!;
      this._start = this.nextStart!;
      this.flags |= rpflagsHaveMountRef | rpflagsHaveStartRef;
      this.nextMount = null;
      this.nextStart = null;
      // Commit the previous FileystemImpl's progress through the relative
      // path. (Don't consume the path component that caused us to traverse
      // through the mount root - i.e. the ".." - because we still need to
      // resolve the mount point's parent in the new FilesystemImpl.)
      this.relpathCommit();
      // Restart path resolution on the new Mount. Don't bother calling
      // rp.releaseErrorState() since we already set nextMount and nextStart
      // to null above.
      return true;
    }
    if (err === errMountPoint) {
      // Switch to the new Mount. We hold a reference on the Mount, but
      // borrow the reference on the mount root from the Mount.
      this.decRefStartAndMount(ctx);
      this._mount = this.nextMount!;
      this._start = this.nextMount!._root!;
      this.flags = (this.flags & ~rpflagsHaveStartRef) | rpflagsHaveMountRef;
      this.nextMount = null;
      // Consume the path component that represented the mount point.
      this.advance();
      // Commit the previous FilesystemImpl's progress through the relative
      // path.
      this.relpathCommit();
      // Restart path resolution on the new Mount.
      this.releaseErrorState(ctx);
      return true;
    }
    if (err === errAbsSymlink) {
      // Switch to the new Mount. References are borrowed from rp.root.
      this.decRefStartAndMount(ctx);
      this._mount = this.root._mount!;
      this._start = this.root._dentry!;
      this.flags &= ~(rpflagsHaveMountRef | rpflagsHaveStartRef);
      // Consume the path component that represented the symlink.
      this.advance();
      // Prepend the symlink target to the relative path.
      this.relpathPrepend(this.absSymlinkTarget!);
      // Commit the previous FilesystemImpl's progress through the relative
      // path, including the symlink target we just prepended.
      this.relpathCommit();
      // Restart path resolution on the new Mount.
      this.releaseErrorState(ctx);
      return true;
    }
    // Not an error we can handle.
    return false;
  }

  /**
   * canHandleError returns true if err is an error thrown by rp's resolve
   * methods that rp.handleError() may attempt to handle.
   */
  canHandleError(err: unknown): boolean {
    return err === errMountRootOrJump || err === errMountPoint || err === errAbsSymlink;
  }

  /** mustBeDir returns true if the file traversed by rp must be a directory. */
  mustBeDir(): boolean {
    return this._mustBeDir;
  }
}

/**
 * isResolveError reports whether err is one of the resolve*Errors a
 * FilesystemImpl must let propagate (for implementations that catch
 * everything, e.g. to map host errors).
 */
export function isResolveError(err: unknown): boolean {
  return err === errMountRootOrJump || err === errMountPoint || err === errAbsSymlink;
}

// gVisor pools ResolvingPaths (sync.Pool). A small free list does the same
// here: path operations are the hot path, and a ResolvingPath holds two
// 41-slot arrays.
const resolvingPathPool: ResolvingPath[] = [];

/** getResolvingPath returns a ResolvingPath for pop (from the pool). */
export function getResolvingPath(vfs: VirtualFilesystem, creds: Credentials, pop: PathOperation): ResolvingPath {
  const rp = resolvingPathPool.pop() ?? new ResolvingPath();
  rp.init(vfs, creds, pop);
  return rp;
}

/** putResolvingPath releases rp's references and returns it to the pool. */
export function putResolvingPath(ctx: Context, rp: ResolvingPath): void {
  rp.decRefStartAndMount(ctx);
  rp.releaseErrorState(ctx);
  rp.absSymlinkTarget = null;
  if (resolvingPathPool.length < 64) resolvingPathPool.push(rp);
}
