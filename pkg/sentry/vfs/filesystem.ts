// Filesystem and FilesystemImpl (gVisor's filesystem.go).

import type { Context } from '../../context';
import type { Statfs, Statx } from '../../abi/linux/stat';
import type { Builder } from '../../fspath';
import type { Credentials } from '../kernel/auth';
import type { Dentry } from './dentry';
import type { FileDescription } from './file_description';
import type { FilesystemType } from './filesystem_type';
import type {
  BoundEndpoint, BoundEndpointOptions, GetDentryOptions, GetXattrOptions, MkdirOptions, MknodOptions, OpenOptions,
  RenameOptions, SetStatOptions, SetXattrOptions, StatOptions,
} from './options';
import type { AccessTypes } from './permissions';
import type { ResolvingPath } from './resolving_path';
import type { VirtualDentry, VirtualFilesystem } from './vfs';

/**
 * A Filesystem is a tree of nodes represented by Dentries, which forms part
 * of a VirtualFilesystem.
 *
 * Filesystems are reference-counted. Unless otherwise specified, all
 * Filesystem methods require that a reference is held.
 *
 * Filesystem is analogous to Linux's struct super_block.
 *
 * The inheritance pattern (README.md): a filesystem holds a Filesystem
 * (conventionally its `vfsfs` field) and calls `vfsfs.init(vfsObj, fsType,
 * this)`; VFS reaches the filesystem's part through `impl`.
 */
export class Filesystem {
  /** refs is the reference count (gVisor's FilesystemRefs); init sets it to 1. */
  refs = 0;

  /** vfs is the VirtualFilesystem that uses this Filesystem. Immutable. */
  vfs!: VirtualFilesystem;

  /** fsType is the FilesystemType of this Filesystem. */
  fsType!: FilesystemType;

  /** impl is the FilesystemImpl associated with this Filesystem. Immutable. */
  impl!: FilesystemImpl;

  /** init must be called before first use of fs. */
  init(vfsObj: VirtualFilesystem, fsType: FilesystemType, impl: FilesystemImpl): void {
    this.refs = 1;
    this.vfs = vfsObj;
    this.fsType = fsType;
    this.impl = impl;
    vfsObj.filesystems.add(this);
  }

  /** filesystemType returns the FilesystemType for this Filesystem. */
  filesystemType(): FilesystemType {
    return this.fsType;
  }

  /** virtualFilesystem returns the containing VirtualFilesystem. */
  virtualFilesystem(): VirtualFilesystem {
    return this.vfs;
  }

  /** incRef increments fs' reference count. */
  incRef(): void {
    if (this.refs <= 0) throw new Error('vfs.Filesystem: incRef on a released Filesystem');
    this.refs++;
  }

  /** tryIncRef increments fs' reference count and returns true, unless it is already zero. */
  tryIncRef(): boolean {
    if (this.refs <= 0) return false;
    this.refs++;
    return true;
  }

  /** decRef decrements fs' reference count; at zero the FilesystemImpl is released. */
  decRef(ctx: Context): void {
    this.refs--;
    if (this.refs > 0) return;
    if (this.refs < 0) throw new Error('vfs.Filesystem: decRef with no references');
    this.vfs.filesystems.delete(this);
    this.impl.release(ctx);
  }
}

/**
 * FilesystemImpl contains implementation details for a Filesystem.
 * Implementations hold their Filesystem (by convention in a field named
 * vfsfs).
 *
 * All methods that take a ResolvingPath must resolve the path before
 * performing any other checks, including rejection of the operation if not
 * supported by the FilesystemImpl. This is because the final FilesystemImpl
 * (responsible for actually implementing the operation) isn't known until
 * path resolution is complete.
 *
 * Unless otherwise specified, FilesystemImpl methods are responsible for
 * performing permission checks. In many cases, vfs package functions in
 * permissions.ts may be used to help perform these checks.
 *
 * When multiple specified error conditions apply to a given method call, the
 * implementation may throw any applicable errno unless otherwise specified,
 * but throwing the earliest error specified is preferable to maximize
 * compatibility with Linux.
 *
 * All methods may throw errors not specified, notably including:
 *
 * - ENOENT if a required path component does not exist.
 *
 * - ENOTDIR if an intermediate path component is not a directory.
 *
 * - Errors from vfs-package functions (ResolvingPath.checkRoot/checkMount/
 * handleSymlink/handleJump, Mount.checkBeginWrite(), permission-checking
 * functions, etc.). The resolution errors thrown by ResolvingPath methods
 * must propagate unchanged: the VFS catches them and calls the method again
 * on the next Mount.
 *
 * For all methods that take or return Statx, uid and gid are KUIDs/KGIDs.
 *
 * FilesystemImpl combines elements of Linux's struct super_operations and
 * struct inode_operations, for reasons described in the documentation for
 * Dentry.
 *
 * Differs from gVisor (DESIGN decision 1): every method that may reach the
 * filesystem returns a Promise; errors are thrown (decision 2).
 */
export interface FilesystemImpl {
  /** release is called when the associated Filesystem reaches zero references. */
  release(ctx: Context): void;

  /**
   * sync "causes all pending modifications to filesystem metadata and cached
   * file data to be written to the underlying [filesystem]", as by
   * syncfs(2).
   */
  sync(ctx: Context): Promise<void>;

  /** accessAt checks whether a user with creds can access the file at rp. */
  accessAt(ctx: Context, rp: ResolvingPath, creds: Credentials, ats: AccessTypes): Promise<void>;

  /**
   * getDentryAt returns a Dentry representing the file at rp. A reference is
   * taken on the returned Dentry.
   *
   * getDentryAt does not correspond directly to a Linux syscall; it is used
   * in the implementation of syscalls that need to resolve two paths (link(),
   * linkat()) or that refer to a filesystem position outside the context of a
   * file description (chdir(), fchdir(), chroot(), mount(), umount()).
   */
  getDentryAt(ctx: Context, rp: ResolvingPath, opts: GetDentryOptions): Promise<Dentry>;

  /**
   * getParentDentryAt returns a Dentry representing the directory at the
   * second-to-last path component in rp. (Note that, despite the name, this
   * is not necessarily the parent directory of the file at rp, since the
   * last path component in rp may be "." or "..".) A reference is taken on
   * the returned Dentry.
   *
   * It is used in the implementation of the rename() family of syscalls,
   * which must resolve the parent directories of two paths.
   *
   * Preconditions: !rp.done().
   *
   * Postconditions: If getParentDentryAt returns, then rp.final(). If it
   * throws a resolution error, then !rp.done().
   */
  getParentDentryAt(ctx: Context, rp: ResolvingPath): Promise<Dentry>;

  /**
   * linkAt creates a hard link at rp representing the same file as vd. It
   * does not take ownership of references on vd.
   *
   * Errors:
   * - If the last path component in rp is "." or "..", EEXIST.
   * - If a file already exists at rp, EEXIST.
   * - If rp.mustBeDir(), ENOENT.
   * - If the directory in which the link would be created has been removed
   *   by rmdirAt or renameAt, ENOENT.
   * - If rp.mount() !== vd.mount(), EXDEV.
   * - If vd represents a directory, EPERM.
   * - If vd represents a file for which all existing links have been
   *   removed, or a file created by open(O_TMPFILE|O_EXCL), ENOENT.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If linkAt throws a resolution error, then !rp.done().
   */
  linkAt(ctx: Context, rp: ResolvingPath, vd: VirtualDentry): Promise<void>;

  /**
   * mkdirAt creates a directory at rp.
   *
   * Errors:
   * - If the last path component in rp is "." or "..", EEXIST.
   * - If a file already exists at rp, EEXIST.
   * - If the directory in which the new directory would be created has been
   *   removed by rmdirAt or renameAt, ENOENT.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If mkdirAt throws a resolution error, then !rp.done().
   */
  mkdirAt(ctx: Context, rp: ResolvingPath, opts: MkdirOptions): Promise<void>;

  /**
   * mknodAt creates a regular file, device special file, or named pipe at
   * rp.
   *
   * Errors:
   * - If the last path component in rp is "." or "..", EEXIST.
   * - If a file already exists at rp, EEXIST.
   * - If rp.mustBeDir(), ENOENT.
   * - If the directory in which the file would be created has been removed
   *   by rmdirAt or renameAt, ENOENT.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If mknodAt throws a resolution error, then !rp.done().
   */
  mknodAt(ctx: Context, rp: ResolvingPath, opts: MknodOptions): Promise<void>;

  /**
   * openAt returns a FileDescription providing access to the file at rp. A
   * reference is taken on the returned FileDescription.
   *
   * Errors:
   * - If opts.flags specifies O_TMPFILE and this feature is unsupported by
   *   the implementation, EOPNOTSUPP. (All other unsupported features are
   *   silently ignored, consistently with Linux's open*(2).)
   */
  openAt(ctx: Context, rp: ResolvingPath, opts: OpenOptions): Promise<FileDescription>;

  /**
   * readlinkAt returns the target of the symbolic link at rp.
   *
   * Errors:
   * - If the file at rp is not a symbolic link, EINVAL.
   */
  readlinkAt(ctx: Context, rp: ResolvingPath): Promise<string>;

  /**
   * renameAt renames the file named oldName in directory oldParentVD to rp.
   * It does not take ownership of references on oldParentVD.
   *
   * Errors [1]:
   * - If opts.flags specifies unsupported options, EINVAL.
   * - If the last path component in rp is "." or "..", and opts.flags
   *   contains RENAME_NOREPLACE, EEXIST.
   * - If the last path component in rp is "." or "..", and opts.flags does
   *   not contain RENAME_NOREPLACE, EBUSY.
   * - If rp.mount() !== oldParentVD.mount(), EXDEV.
   * - If the renamed file is not a directory, and opts.mustBeDir is true,
   *   ENOTDIR.
   * - If renaming would replace an existing file and opts.flags contains
   *   RENAME_NOREPLACE, EEXIST.
   * - If there is no existing file at rp and opts.flags contains
   *   RENAME_EXCHANGE, ENOENT.
   * - If there is an existing non-directory file at rp, and rp.mustBeDir()
   *   is true, ENOTDIR.
   * - If the renamed file is not a directory, opts.flags does not contain
   *   RENAME_EXCHANGE, and rp.mustBeDir() is true, ENOTDIR. (This check is
   *   not subsumed by the check for directory replacement below since it
   *   applies even if there is no file to replace.)
   * - If the renamed file is a directory, and the new parent directory of
   *   the renamed file is either the renamed directory or a descendant
   *   subdirectory of the renamed directory, EINVAL.
   * - If renaming would exchange the renamed file with an ancestor directory
   *   of the renamed file, EINVAL.
   * - If renaming would replace an ancestor directory of the renamed file,
   *   ENOTEMPTY. (This check would be subsumed by the non-empty directory
   *   check below; however, this check takes place before the self-rename
   *   check.)
   * - If the renamed file would replace or exchange with itself (i.e. the
   *   source and destination paths resolve to the same file), renameAt
   *   returns successfully, skipping the checks described below.
   * - If the source or destination directory is not writable by the provider
   *   of rp.credentials(), EACCES.
   * - If the renamed file is a directory, and renaming would replace a
   *   non-directory file, ENOTDIR.
   * - If the renamed file is not a directory, and renaming would replace a
   *   directory, EISDIR.
   * - If the new parent directory of the renamed file has been removed by
   *   rmdirAt or a preceding call to renameAt, ENOENT.
   * - If the renamed file is a directory, it is not writable by the provider
   *   of rp.credentials(), and the source and destination parent directories
   *   are different, EACCES. (This is nominally required to change the ".."
   *   entry in the renamed directory.)
   * - If renaming would replace a non-empty directory, ENOTEMPTY.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   * - oldParentVD.dentry() was obtained from a previous call to
   *   oldParentVD.mount().filesystem().impl.getParentDentryAt().
   * - oldName is not "." or "..".
   *
   * Postconditions: If renameAt throws a resolution error, then !rp.done().
   *
   * [1] "The worst of all namespace operations - renaming directory.
   * "Perverted" doesn't even start to describe it. Somebody in UCB had a
   * heck of a trip..." - fs/namei.c:vfs_rename()
   */
  renameAt(ctx: Context, rp: ResolvingPath, oldParentVD: VirtualDentry, oldName: string, opts: RenameOptions): Promise<void>;

  /**
   * rmdirAt removes the directory at rp.
   *
   * Errors:
   * - If the last path component in rp is ".", EINVAL.
   * - If the last path component in rp is "..", ENOTEMPTY.
   * - If no file exists at rp, ENOENT.
   * - If the file at rp exists but is not a directory, ENOTDIR.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If rmdirAt throws a resolution error, then !rp.done().
   */
  rmdirAt(ctx: Context, rp: ResolvingPath): Promise<void>;

  /**
   * setStatAt updates metadata for the file at the given path.
   * Implementations are responsible for checking if the operation can be
   * performed (see checkSetStat() for common checks).
   *
   * Errors:
   * - If opts specifies unsupported options, EINVAL.
   */
  setStatAt(ctx: Context, rp: ResolvingPath, opts: SetStatOptions): Promise<void>;

  /** statAt returns metadata for the file at rp. */
  statAt(ctx: Context, rp: ResolvingPath, opts: StatOptions): Promise<Statx>;

  /**
   * statFSAt returns metadata for the filesystem containing the file at rp.
   * (This method takes a path because a FilesystemImpl may consist of any
   * number of constituent filesystems.)
   */
  statFSAt(ctx: Context, rp: ResolvingPath): Promise<Statfs>;

  /**
   * symlinkAt creates a symbolic link at rp referring to the given target.
   *
   * Errors:
   * - If the last path component in rp is "." or "..", EEXIST.
   * - If a file already exists at rp, EEXIST.
   * - If rp.mustBeDir(), ENOENT.
   * - If the directory in which the symbolic link would be created has been
   *   removed by rmdirAt or renameAt, ENOENT.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If symlinkAt throws a resolution error, then !rp.done().
   */
  symlinkAt(ctx: Context, rp: ResolvingPath, target: string): Promise<void>;

  /**
   * unlinkAt removes the file at rp.
   *
   * Errors:
   * - If the last path component in rp is "." or "..", EISDIR.
   * - If no file exists at rp, ENOENT.
   * - If rp.mustBeDir(), and the file at rp exists and is not a directory,
   *   ENOTDIR.
   * - If the file at rp exists but is a directory, EISDIR.
   *
   * Preconditions:
   * - !rp.done().
   * - For the final path component in rp, !rp.shouldFollowSymlink().
   *
   * Postconditions: If unlinkAt throws a resolution error, then !rp.done().
   */
  unlinkAt(ctx: Context, rp: ResolvingPath): Promise<void>;

  /**
   * listXattrAt returns all extended attribute names for the file at rp.
   *
   * Errors:
   * - If extended attributes are not supported by the filesystem, ENOTSUP.
   * - If the size of the list (including a NUL terminating byte after every
   *   entry) would exceed size, ERANGE may be thrown. Implementations are
   *   free to ignore size entirely. If size is 0, the list should be
   *   returned without error, regardless of size.
   */
  listXattrAt(ctx: Context, rp: ResolvingPath, size: number): Promise<string[]>;

  /**
   * getXattrAt returns the value associated with the given extended
   * attribute for the file at rp.
   *
   * Errors:
   * - If extended attributes are not supported by the filesystem, ENOTSUP.
   * - If an extended attribute named opts.name does not exist, ENODATA.
   * - If the size of the return value exceeds opts.size, ERANGE may be
   *   thrown (implementations are free to ignore opts.size). If opts.size
   *   is 0, the value should be returned without error, regardless of size.
   */
  getXattrAt(ctx: Context, rp: ResolvingPath, opts: GetXattrOptions): Promise<string>;

  /**
   * setXattrAt changes the value associated with the given extended
   * attribute for the file at rp.
   *
   * Errors:
   * - If extended attributes are not supported by the filesystem, ENOTSUP.
   * - If XATTR_CREATE is set in opts.flags and opts.name already exists,
   *   EEXIST. If XATTR_REPLACE is set and opts.name does not exist, ENODATA.
   */
  setXattrAt(ctx: Context, rp: ResolvingPath, opts: SetXattrOptions): Promise<void>;

  /**
   * removeXattrAt removes the given extended attribute from the file at rp.
   *
   * Errors:
   * - If extended attributes are not supported by the filesystem, ENOTSUP.
   * - If name does not exist, ENODATA.
   */
  removeXattrAt(ctx: Context, rp: ResolvingPath, name: string): Promise<void>;

  /**
   * boundEndpointAt returns the Unix socket endpoint bound at the path rp.
   *
   * Errors:
   * - If the file does not have write permissions, EACCES.
   * - If a non-socket file exists at rp, ECONNREFUSED.
   */
  boundEndpointAt(ctx: Context, rp: ResolvingPath, opts: BoundEndpointOptions): Promise<BoundEndpoint>;

  /**
   * prependPath prepends a path from vd to vd.mount().root() to b.
   *
   * If vfsroot.ok(), it is the contextual VFS root; if it is encountered
   * before vd.mount().root(), prependPath should stop prepending path
   * components and throw a PrependPathAtVFSRootError.
   *
   * If traversal of vd.dentry()'s ancestors encounters an independent
   * ("root") Dentry that is not vd.mount().root() (i.e. vd.dentry() is not a
   * descendant of vd.mount().root()), prependPath should stop prepending
   * path components and throw a PrependPathAtNonMountRootError.
   *
   * Filesystems for which Dentries do not have meaningful paths may prepend
   * an arbitrary descriptive string to b and then throw a
   * PrependPathSyntheticError.
   *
   * Most implementations can acquire the appropriate locks to ensure that
   * the names and parents of vd.dentry() and its ancestors are fixed, then
   * call genericPrependPath.
   *
   * Preconditions: vd.mount().filesystem().impl === this FilesystemImpl.
   */
  prependPath(ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry, b: Builder): Promise<void>;
}

// The PrependPath errors are thrown by FilesystemImpl.prependPath() and
// caught by the pathname functions of pathname.ts; like the resolution
// errors, they are shared instances and never leave the vfs package.

/**
 * PrependPathAtVFSRootError is thrown by implementations of
 * FilesystemImpl.prependPath() when they encounter the contextual VFS root.
 */
export class PrependPathAtVFSRootError extends Error {
  constructor() {
    super('vfs.FilesystemImpl.PrependPath() reached VFS root');
    this.name = 'PrependPathAtVFSRootError';
  }
}

/**
 * PrependPathAtNonMountRootError is thrown by implementations of
 * FilesystemImpl.prependPath() when they encounter an independent ancestor
 * Dentry that is not the Mount root.
 */
export class PrependPathAtNonMountRootError extends Error {
  constructor() {
    super('vfs.FilesystemImpl.PrependPath() reached root other than Mount root');
    this.name = 'PrependPathAtNonMountRootError';
  }
}

/**
 * PrependPathSyntheticError is thrown by implementations of
 * FilesystemImpl.prependPath() for which prepended names do not represent
 * real paths.
 */
export class PrependPathSyntheticError extends Error {
  constructor() {
    super('vfs.FilesystemImpl.PrependPath() prepended synthetic name');
    this.name = 'PrependPathSyntheticError';
  }
}

/** The shared instances FilesystemImpl.prependPath() throws. */
export const errPrependPathAtVFSRoot = new PrependPathAtVFSRootError();
export const errPrependPathAtNonMountRoot = new PrependPathAtNonMountRootError();
export const errPrependPathSynthetic = new PrependPathSyntheticError();
