// Package vfs implements a virtual filesystem layer (gVisor's
// pkg/sentry/vfs/vfs.go).
//
// Lock order:
//
// FilesystemImpl/FileDescriptionImpl locks
//   VirtualFilesystem.mountMu
//     Dentry.mu
//       Locks acquired by FilesystemImpls between Prepare{Delete,Rename}Dentry and Commit{Delete,Rename*}Dentry
//   Inotify.mu
//     Watches.mu
//       Inotify.evMu
//
// Locking Dentry.mu in multiple Dentries requires holding
// VirtualFilesystem.mountMu.
//
// Differs from gVisor (DESIGN decision 1): the locks that are held across an
// await (mountMu, Dentry.mu, and the FilesystemImpls' own) are async locks
// from pkg/sync, taken in the order above. The locks gVisor takes only
// around in-memory bookkeeping (filesystemsMu, fsTypesMu, devicesMu,
// anonBlockDevMinorMu, Watches.mu, Inotify.evMu, the mount table's seqcount)
// are not needed: such a critical section runs without interleaving on the
// single JS thread, so those fields are read and written directly. Epoll is
// outside the filesystem slice (EpollInstance.interestMu, epollMu are gone).

import type { Context } from '../../context';
import {
  O_ACCMODE, O_APPEND, O_ASYNC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL, O_LARGEFILE, O_NOATIME,
  O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_SYNC, O_TMPFILE, O_TRUNC, S_IFDIR, S_IFMT, S_IFREG,
  S_ISGID, S_ISUID, S_ISVTX,
} from '../../abi/linux/file';
import { IN_OPEN } from '../../abi/linux/inotify';
import { STATX_TYPE, type Statfs, type Statx } from '../../abi/linux/stat';
import * as fspath from '../../fspath';
import type { Credentials } from '../kernel/auth';
import { Mutex } from '../../sync';
import * as syserror from '../../syserror/syserror';
import { newAnonFilesystem, newAnonVirtualDentry } from './anonfs';
import { log } from './debug';
import * as dentryFuncs from './dentry';
import type { Dentry } from './dentry';
import * as deviceFuncs from './device';
import type { Device, DeviceKind, RegisterDeviceOptions, registeredDevice } from './device';
import type { FileDescription } from './file_description';
import type { Filesystem } from './filesystem';
import type { FilesystemType, RegisterFilesystemTypeOptions, registeredFilesystemType } from './filesystem_type';
import { PathEvent } from './inotify';
import * as mountFuncs from './mount';
import { mountTable, type Mount, type MountNamespace, type umountRecursiveOptions } from './mount';
import { openOPathFD } from './opath';
import type {
  BoundEndpoint, BoundEndpointOptions, GetDentryOptions, GetXattrOptions, MkdirOptions, MknodOptions, MountOptions,
  OpenOptions, RenameOptions, SetStatOptions, SetXattrOptions, StatOptions, UmountOptions,
} from './options';
import * as pathnameFuncs from './pathname';
import type { AccessTypes } from './permissions';
import { getResolvingPath, putResolvingPath, type ResolvingPath } from './resolving_path';

/**
 * A VirtualFilesystem (VFS for short) combines Filesystems in trees of
 * Mounts.
 *
 * There is no analogue to the VirtualFilesystem type in Linux, as the
 * equivalent state in Linux is global.
 *
 * Fields are package-internal (gVisor's lowercase fields).
 */
export class VirtualFilesystem {
  /** mountMu serializes mount mutations. It is analogous to Linux's namespace_sem. */
  readonly mountMu = new Mutex();

  /**
   * mounts maps (mount parent, mount point) pairs to mounts. It is used to
   * follow mount points during path traversal. We use a single table rather
   * than per-Dentry tables to reduce size for the vast majority of Dentries
   * that are not mount points. mounts is analogous to Linux's
   * mount_hashtable. Mutations are serialized by mountMu.
   */
  readonly mounts = new mountTable();

  /**
   * mountpoints maps mount points to mounts at those points in all
   * namespaces. It is used to find mounts that must be umounted due to
   * removal of a mount point Dentry from another mount namespace. ("A file
   * or directory that is a mount point in one namespace that is not a mount
   * point in another namespace, may be renamed, unlinked, or removed
   * (rmdir(2)) in the mount namespace in which it is not a mount point
   * (subject to the usual permission checks)." - mount_namespaces(7))
   *
   * mountpoints is analogous to Linux's mountpoint_hashtable.
   */
  readonly mountpoints = new Map<Dentry, Set<Mount>>();

  /** lastMountID is the last allocated mount ID. */
  lastMountID = 0;

  /**
   * anonMount is a Mount, not included in mounts or mountpoints,
   * representing an anonFilesystem. anonMount is used to back
   * VirtualDentries returned by newAnonVirtualDentry(). anonMount is
   * immutable. It is analogous to Linux's anon_inode_mnt.
   */
  anonMount!: Mount;

  /** devices contains all registered Devices, keyed by "kind:major:minor". */
  readonly devices = new Map<string, registeredDevice>();

  /**
   * anonBlockDevMinor contains all allocated anonymous block device minor
   * numbers. anonBlockDevMinorNext is a lower bound for the smallest
   * unallocated anonymous block device number.
   */
  anonBlockDevMinorNext = 1;
  readonly anonBlockDevMinor = new Set<number>();

  /** fsTypes contains all registered FilesystemTypes. */
  readonly fsTypes = new Map<string, registeredFilesystemType>();

  /** filesystems contains all Filesystems. */
  readonly filesystems = new Set<Filesystem>();

  /** log is the package logger (debug namespace gvisor:vfs); gVisor's ctx.Warningf. */
  readonly log = log;

  private initialized = false;

  /** init initializes a new VirtualFilesystem with no mounts or FilesystemTypes. */
  init(ctx: Context): void {
    if (this.initialized) throw new Error('VFS already initialized');
    this.initialized = true;
    // Construct vfs.anonMount.
    const anonfsDevMinor = this.getAnonBlockDevMinor();
    const anonfs = newAnonFilesystem(this, anonfsDevMinor);
    try {
      this.anonMount = this.newDisconnectedMount(anonfs, null, {});
    } finally {
      anonfs.decRef(ctx);
    }
  }

  /**
   * release drops references on filesystem objects held by vfs.
   *
   * Precondition: This must be called after vfs.init() has succeeded.
   */
  release(ctx: Context): void {
    this.anonMount.decRef(ctx);
    for (const fst of this.fsTypes.values()) fst.fsType.release(ctx);
  }

  /** accessAt checks whether a user with creds has access to the file at the given path. */
  async accessAt(ctx: Context, creds: Credentials, ats: AccessTypes, pop: PathOperation): Promise<void> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.accessAt(ctx, rp, creds, ats);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /**
   * getDentryAt returns a VirtualDentry representing the given path, at
   * which a file must exist. A reference is taken on the returned
   * VirtualDentry.
   */
  async getDentryAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: GetDentryOptions): Promise<VirtualDentry> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          const d = await rp._mount.fs.impl.getDentryAt(ctx, rp, opts);
          rp._mount.incRef();
          return new VirtualDentry(rp._mount, d);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** Preconditions: pop.path.begin.ok(). */
  private async getParentDirAndName(ctx: Context, creds: Credentials, pop: PathOperation): Promise<[VirtualDentry, string]> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          const parent = await rp._mount.fs.impl.getParentDentryAt(ctx, rp);
          rp._mount.incRef();
          return [new VirtualDentry(rp._mount, parent), rp.component()];
        } catch (err) {
          this.checkConsumedAll(rp, err, 'getParentDentryAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  // checkConsumedAll panics (gVisor: checkInvariants) if a FilesystemImpl
  // threw a resolution error after consuming every path component.
  private checkConsumedAll(rp: ResolvingPath, err: unknown, method: string): void {
    if (rp.canHandleError(err) && rp.done()) {
      throw new Error(`${method}() consumed all path components and threw ${String(err)}`);
    }
  }

  /** linkAt creates a hard link at newpop representing the existing file at oldpop. */
  async linkAt(ctx: Context, creds: Credentials, oldpop: PathOperation, newpop: PathOperation): Promise<void> {
    const oldVD = await this.getDentryAt(ctx, creds, oldpop, {});
    try {
      if (!newpop.path.begin.ok()) {
        if (newpop.path.absolute) throw syserror.EEXIST;
        throw syserror.ENOENT;
      }
      if (newpop.followFinalSymlink) {
        this.log('VirtualFilesystem.LinkAt: file creation paths can\'t follow final symlink');
        throw syserror.EINVAL;
      }
      const rp = getResolvingPath(this, creds, newpop);
      try {
        for (;;) {
          try {
            return await rp._mount.fs.impl.linkAt(ctx, rp, oldVD);
          } catch (err) {
            this.checkConsumedAll(rp, err, 'linkAt');
            if (!rp.handleError(ctx, err)) throw err;
          }
        }
      } finally {
        putResolvingPath(ctx, rp);
      }
    } finally {
      oldVD.decRef(ctx);
    }
  }

  /** mkdirAt creates a directory at the given path. */
  async mkdirAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: MkdirOptions): Promise<void> {
    if (!pop.path.begin.ok()) {
      // pop.path should not be empty in operations that create/delete
      // files. This is consistent with mkdirat(dirfd, "", mode).
      if (pop.path.absolute) throw syserror.EEXIST;
      throw syserror.ENOENT;
    }
    if (pop.followFinalSymlink) {
      this.log('VirtualFilesystem.MkdirAt: file creation paths can\'t follow final symlink');
      throw syserror.EINVAL;
    }
    // "Under Linux, apart from the permission bits, the S_ISVTX mode bit is
    // also honored." - mkdir(2)
    opts = { ...opts, mode: opts.mode & (0o777 | S_ISVTX) };

    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.mkdirAt(ctx, rp, opts);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'mkdirAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** mknodAt creates a file of the given mode at the given path. */
  async mknodAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: MknodOptions): Promise<void> {
    if (!pop.path.begin.ok()) {
      // This is consistent with mknodat(dirfd, "", mode, dev).
      if (pop.path.absolute) throw syserror.EEXIST;
      throw syserror.ENOENT;
    }
    if (pop.followFinalSymlink) {
      this.log('VirtualFilesystem.MknodAt: file creation paths can\'t follow final symlink');
      throw syserror.EINVAL;
    }
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.mknodAt(ctx, rp, opts);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'mknodAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /**
   * openAt returns a FileDescription providing access to the file at the
   * given path. A reference is taken on the returned FileDescription.
   */
  async openAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: OpenOptions): Promise<FileDescription> {
    // Remove:
    //
    // - O_CLOEXEC, which affects file descriptors and therefore must be
    // handled outside of VFS.
    //
    // - Unknown flags.
    let flags = opts.flags & (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
      O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_SYNC | O_PATH | O_TMPFILE);
    // Linux's __O_SYNC (which we call O_SYNC) implies O_DSYNC.
    if ((flags & O_SYNC) !== 0) flags |= O_DSYNC;
    // Linux's __O_TMPFILE must be specified with O_DIRECTORY and a writable
    // access mode (to ensure that it fails on filesystem implementations
    // that do not support it). (Our O_TMPFILE is Linux's, __O_TMPFILE |
    // O_DIRECTORY; gVisor's linux.O_TMPFILE is __O_TMPFILE alone.)
    if ((flags & __O_TMPFILE) !== 0) {
      if ((flags & O_DIRECTORY) === 0) throw syserror.EINVAL;
      if ((flags & O_CREAT) !== 0) throw syserror.EINVAL;
      if ((flags & O_ACCMODE) === O_RDONLY) throw syserror.EINVAL;
    }
    // O_PATH causes most other flags to be ignored.
    if ((flags & O_PATH) !== 0) flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH;
    // "On Linux, the following bits are also honored in mode: [S_ISUID,
    // S_ISGID, S_ISVTX]" - open(2)
    opts = { ...opts, flags: flags >>> 0, mode: (opts.mode ?? 0) & (0o777 | S_ISUID | S_ISGID | S_ISVTX) };

    if ((flags & O_NOFOLLOW) !== 0) pop = { ...pop, followFinalSymlink: false };
    // From a later gVisor (opath.ts): O_PATH is handled here, once, for
    // every FilesystemImpl.
    if ((flags & O_PATH) !== 0) return openOPathFD(this, ctx, creds, pop, opts.flags);
    const rp = getResolvingPath(this, creds, pop);
    if ((flags & O_DIRECTORY) !== 0) {
      rp._mustBeDir = true;
      rp.mustBeDirOrig = true;
    }
    let fd: FileDescription;
    try {
      for (;;) {
        try {
          fd = await rp._mount.fs.impl.openAt(ctx, rp, opts);
          break;
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
    if (opts.fileExec) {
      if (fd.mount().flags.noExec) {
        fd.decRef(ctx);
        throw syserror.EACCES;
      }
      // Only a regular file can be executed.
      let stat: Statx;
      try {
        stat = await fd.stat(ctx, { mask: STATX_TYPE });
      } catch (err) {
        fd.decRef(ctx);
        throw err;
      }
      if ((stat.mask & STATX_TYPE) === 0 || (stat.mode & S_IFMT) !== S_IFREG) {
        fd.decRef(ctx);
        throw syserror.EACCES;
      }
    }
    // An O_PATH open returned above without IN_OPEN: Linux's do_open()
    // skips fsnotify_open() for FMODE_PATH, and closing one sends no
    // IN_CLOSE_* either (kernel.FDTable drops it silently).
    fd.dentry().inotifyWithParent(ctx, IN_OPEN, 0, PathEvent);
    return fd;
  }

  /** readlinkAt returns the target of the symbolic link at the given path. */
  async readlinkAt(ctx: Context, creds: Credentials, pop: PathOperation): Promise<string> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.readlinkAt(ctx, rp);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** renameAt renames the file at oldpop to newpop. */
  async renameAt(ctx: Context, creds: Credentials, oldpop: PathOperation, newpop: PathOperation, opts: RenameOptions): Promise<void> {
    if (!oldpop.path.begin.ok()) {
      if (oldpop.path.absolute) throw syserror.EBUSY;
      throw syserror.ENOENT;
    }
    if (oldpop.followFinalSymlink) {
      this.log('VirtualFilesystem.RenameAt: source path can\'t follow final symlink');
      throw syserror.EINVAL;
    }

    const [oldParentVD, oldName] = await this.getParentDirAndName(ctx, creds, oldpop);
    try {
      if (oldName === '.' || oldName === '..') throw syserror.EBUSY;
      if (!newpop.path.begin.ok()) {
        if (newpop.path.absolute) throw syserror.EBUSY;
        throw syserror.ENOENT;
      }
      if (newpop.followFinalSymlink) {
        this.log('VirtualFilesystem.RenameAt: destination path can\'t follow final symlink');
        throw syserror.EINVAL;
      }
      const rp = getResolvingPath(this, creds, newpop);
      const renameOpts: RenameOptions = { ...opts };
      if (oldpop.path.dir) renameOpts.mustBeDir = true;
      try {
        for (;;) {
          try {
            return await rp._mount.fs.impl.renameAt(ctx, rp, oldParentVD, oldName, renameOpts);
          } catch (err) {
            this.checkConsumedAll(rp, err, 'renameAt');
            if (!rp.handleError(ctx, err)) throw err;
          }
        }
      } finally {
        putResolvingPath(ctx, rp);
      }
    } finally {
      oldParentVD.decRef(ctx);
    }
  }

  /** rmdirAt removes the directory at the given path. */
  async rmdirAt(ctx: Context, creds: Credentials, pop: PathOperation): Promise<void> {
    if (!pop.path.begin.ok()) {
      // This is consistent with unlinkat(dirfd, "", AT_REMOVEDIR).
      if (pop.path.absolute) throw syserror.EBUSY;
      throw syserror.ENOENT;
    }
    if (pop.followFinalSymlink) {
      this.log('VirtualFilesystem.RmdirAt: file deletion paths can\'t follow final symlink');
      throw syserror.EINVAL;
    }
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.rmdirAt(ctx, rp);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'rmdirAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** setStatAt changes metadata for the file at the given path. */
  async setStatAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: SetStatOptions): Promise<void> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.setStatAt(ctx, rp, opts);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** statAt returns metadata for the file at the given path. */
  async statAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: StatOptions): Promise<Statx> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.statAt(ctx, rp, opts);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** statFSAt returns metadata for the filesystem containing the file at the given path. */
  async statFSAt(ctx: Context, creds: Credentials, pop: PathOperation): Promise<Statfs> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.statFSAt(ctx, rp);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** symlinkAt creates a symbolic link at the given path with the given target. */
  async symlinkAt(ctx: Context, creds: Credentials, pop: PathOperation, target: string): Promise<void> {
    if (!pop.path.begin.ok()) {
      // This is consistent with symlinkat(oldpath, newdirfd, "").
      if (pop.path.absolute) throw syserror.EEXIST;
      throw syserror.ENOENT;
    }
    if (pop.followFinalSymlink) {
      this.log('VirtualFilesystem.SymlinkAt: file creation paths can\'t follow final symlink');
      throw syserror.EINVAL;
    }
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.symlinkAt(ctx, rp, target);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'symlinkAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** unlinkAt deletes the non-directory file at the given path. */
  async unlinkAt(ctx: Context, creds: Credentials, pop: PathOperation): Promise<void> {
    if (!pop.path.begin.ok()) {
      // This is consistent with unlinkat(dirfd, "", 0).
      if (pop.path.absolute) throw syserror.EBUSY;
      throw syserror.ENOENT;
    }
    if (pop.followFinalSymlink) {
      this.log('VirtualFilesystem.UnlinkAt: file deletion paths can\'t follow final symlink');
      throw syserror.EINVAL;
    }
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.unlinkAt(ctx, rp);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'unlinkAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** boundEndpointAt gets the bound endpoint at the given path, if one exists. */
  async boundEndpointAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: BoundEndpointOptions): Promise<BoundEndpoint> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.boundEndpointAt(ctx, rp, opts);
        } catch (err) {
          this.checkConsumedAll(rp, err, 'boundEndpointAt');
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** listXattrAt returns all extended attribute names for the file at the given path. */
  async listXattrAt(ctx: Context, creds: Credentials, pop: PathOperation, size: number): Promise<string[]> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.listXattrAt(ctx, rp, size);
        } catch (err) {
          if (err === syserror.ENOTSUP) {
            // Linux doesn't actually return ENOTSUP in this case; instead,
            // fs/xattr.c:vfs_listxattr() falls back to allowing the security
            // subsystem to return security extended attributes, which by
            // default don't exist.
            return [];
          }
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** getXattrAt returns the value associated with the given extended attribute for the file at the given path. */
  async getXattrAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: GetXattrOptions): Promise<string> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.getXattrAt(ctx, rp, opts);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** setXattrAt changes the value associated with the given extended attribute for the file at the given path. */
  async setXattrAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: SetXattrOptions): Promise<void> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.setXattrAt(ctx, rp, opts);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** removeXattrAt removes the given extended attribute from the file at rp. */
  async removeXattrAt(ctx: Context, creds: Credentials, pop: PathOperation, name: string): Promise<void> {
    const rp = getResolvingPath(this, creds, pop);
    try {
      for (;;) {
        try {
          return await rp._mount.fs.impl.removeXattrAt(ctx, rp, name);
        } catch (err) {
          if (!rp.handleError(ctx, err)) throw err;
        }
      }
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** syncAllFilesystems has the semantics of Linux's sync(2). */
  async syncAllFilesystems(ctx: Context): Promise<void> {
    let retErr: unknown = null;
    for (const fs of this.getFilesystems()) {
      try {
        await fs.impl.sync(ctx);
      } catch (err) {
        if (retErr === null) retErr = err;
      }
      fs.decRef(ctx);
    }
    if (retErr !== null) throw retErr;
  }

  private getFilesystems(): Filesystem[] {
    const fss: Filesystem[] = [];
    for (const fs of this.filesystems) {
      if (fs.tryIncRef()) fss.push(fs);
    }
    return fss;
  }

  /**
   * mkdirAllAt recursively creates non-existent directories on the given
   * path (including the last component).
   */
  async mkdirAllAt(ctx: Context, currentPath: string, root: VirtualDentry, creds: Credentials, mkdirOpts: MkdirOptions): Promise<void> {
    const pop: PathOperation = { root, start: root, path: fspath.parse(currentPath), followFinalSymlink: false };
    try {
      const stat = await this.statAt(ctx, creds, pop, { mask: STATX_TYPE });
      if ((stat.mask & STATX_TYPE) === 0 || (stat.mode & S_IFMT) !== S_IFDIR) throw syserror.ENOTDIR;
      // Directory already exists.
      return;
    } catch (err) {
      // ENOENT is expected: we will create the dir.
      if (err !== syserror.ENOENT) throw err;
    }
    // Recurse to ensure parent is created and then create the final
    // directory.
    await this.mkdirAllAt(ctx, pathDir(currentPath), root, creds, mkdirOpts);
    await this.mkdirAt(ctx, creds, pop, mkdirOpts);
  }

  /**
   * makeSyntheticMountpoint creates parent directories of target if they do
   * not exist and attempts to create a directory for the mountpoint. If a
   * non-directory file already exists there then we allow it.
   */
  async makeSyntheticMountpoint(ctx: Context, target: string, root: VirtualDentry, creds: Credentials): Promise<void> {
    const mkdirOpts: MkdirOptions = { mode: 0o777, forSyntheticMountpoint: true };
    // Make sure the parent directory of target exists.
    await this.mkdirAllAt(ctx, pathDir(target), root, creds, mkdirOpts);
    // Attempt to mkdir the final component. If a file (of any type) exists
    // then we allow mounting on top of that because we do not require the
    // target to be an existing directory, unlike Linux mount(2).
    try {
      await this.mkdirAt(ctx, creds, { root, start: root, path: fspath.parse(target), followFinalSymlink: false }, mkdirOpts);
    } catch (err) {
      if (err !== syserror.EEXIST) throw err;
    }
  }

  // mount.go.

  /** newMountNamespace: see mount.ts. */
  newMountNamespace(ctx: Context, creds: Credentials, source: string, fsTypeName: string, opts: MountOptions): Promise<MountNamespace> {
    return mountFuncs.newMountNamespace(this, ctx, creds, source, fsTypeName, opts);
  }

  /** newDisconnectedMount: see mount.ts. */
  newDisconnectedMount(fs: Filesystem, root: Dentry | null, opts: MountOptions): Mount {
    return mountFuncs.newDisconnectedMount(this, fs, root, opts);
  }

  /** mountDisconnected: see mount.ts. */
  mountDisconnected(ctx: Context, creds: Credentials, source: string, fsTypeName: string, opts: MountOptions): Promise<Mount> {
    return mountFuncs.mountDisconnected(this, ctx, creds, source, fsTypeName, opts);
  }

  /** connectMountAt: see mount.ts. */
  connectMountAt(ctx: Context, creds: Credentials, mnt: Mount, target: PathOperation): Promise<void> {
    return mountFuncs.connectMountAt(this, ctx, creds, mnt, target);
  }

  /** mountAt: see mount.ts. */
  mountAt(ctx: Context, creds: Credentials, source: string, target: PathOperation, fsTypeName: string, opts: MountOptions): Promise<Mount> {
    return mountFuncs.mountAt(this, ctx, creds, source, target, fsTypeName, opts);
  }

  /** bindAt: see mount.ts. */
  bindAt(ctx: Context, creds: Credentials, source: PathOperation, target: PathOperation, recursive = false): Promise<Mount> {
    return mountFuncs.bindAt(this, ctx, creds, source, target, recursive);
  }

  /** umountAt: see mount.ts. */
  umountAt(ctx: Context, creds: Credentials, pop: PathOperation, opts: UmountOptions): Promise<void> {
    return mountFuncs.umountAt(this, ctx, creds, pop, opts);
  }

  /** umountRecursiveLocked: see mount.ts. */
  umountRecursiveLocked(mnt: Mount, opts: umountRecursiveOptions, vdsToDecRef: VirtualDentry[], mountsToDecRef: Mount[]): void {
    mountFuncs.umountRecursiveLocked(this, mnt, opts, vdsToDecRef, mountsToDecRef);
  }

  /** connectLocked: see mount.ts. */
  connectLocked(mnt: Mount, vd: VirtualDentry, mntns: MountNamespace): void {
    mountFuncs.connectLocked(this, mnt, vd, mntns);
  }

  /** disconnectLocked: see mount.ts. */
  disconnectLocked(mnt: Mount): VirtualDentry {
    return mountFuncs.disconnectLocked(this, mnt);
  }

  /** getMountAt: see mount.ts. */
  getMountAt(ctx: Context, mnt: Mount, d: Dentry): Mount | null {
    return mountFuncs.getMountAt(this, ctx, mnt, d);
  }

  /** getMountpointAt: see mount.ts. */
  getMountpointAt(ctx: Context, mnt: Mount, vfsroot: VirtualDentry): VirtualDentry {
    return mountFuncs.getMountpointAt(this, ctx, mnt, vfsroot);
  }

  /** setMountReadOnly: see mount.ts. */
  setMountReadOnly(mnt: Mount, ro: boolean): Promise<void> {
    return mountFuncs.setMountReadOnly(this, mnt, ro);
  }

  /** generateProcMounts: see mount.ts. */
  generateProcMounts(ctx: Context, taskRootDir: VirtualDentry): Promise<string> {
    return mountFuncs.generateProcMounts(this, ctx, taskRootDir);
  }

  /** generateProcMountInfo: see mount.ts. */
  generateProcMountInfo(ctx: Context, creds: Credentials, taskRootDir: VirtualDentry): Promise<string> {
    return mountFuncs.generateProcMountInfo(this, ctx, creds, taskRootDir);
  }

  // dentry.go.

  /** prepareDeleteDentry: see dentry.ts. */
  prepareDeleteDentry(mntns: MountNamespace, d: Dentry): Promise<void> {
    return dentryFuncs.prepareDeleteDentry(this, mntns, d);
  }

  /** abortDeleteDentry: see dentry.ts. */
  abortDeleteDentry(d: Dentry): void {
    dentryFuncs.abortDeleteDentry(this, d);
  }

  /** commitDeleteDentry: see dentry.ts. */
  commitDeleteDentry(ctx: Context, d: Dentry): void {
    dentryFuncs.commitDeleteDentry(this, ctx, d);
  }

  /** invalidateDentry: see dentry.ts. */
  invalidateDentry(ctx: Context, d: Dentry): void {
    dentryFuncs.invalidateDentry(this, ctx, d);
  }

  /** prepareRenameDentry: see dentry.ts. */
  prepareRenameDentry(mntns: MountNamespace, from: Dentry, to: Dentry | null): Promise<void> {
    return dentryFuncs.prepareRenameDentry(this, mntns, from, to);
  }

  /** abortRenameDentry: see dentry.ts. */
  abortRenameDentry(from: Dentry, to: Dentry | null): void {
    dentryFuncs.abortRenameDentry(this, from, to);
  }

  /** commitRenameReplaceDentry: see dentry.ts. */
  commitRenameReplaceDentry(ctx: Context, from: Dentry, to: Dentry | null): void {
    dentryFuncs.commitRenameReplaceDentry(this, ctx, from, to);
  }

  /** commitRenameExchangeDentry: see dentry.ts. */
  commitRenameExchangeDentry(from: Dentry, to: Dentry): void {
    dentryFuncs.commitRenameExchangeDentry(this, from, to);
  }

  // filesystem_type.go.

  /**
   * registerFilesystemType registers the given FilesystemType in vfs with
   * the given name. It throws EEXIST if the name is taken (gVisor returns a
   * formatted error).
   */
  registerFilesystemType(name: string, fsType: FilesystemType, opts: RegisterFilesystemTypeOptions): void {
    if (this.fsTypes.has(name)) {
      this.log(`name ${JSON.stringify(name)} is already registered to a filesystem type`);
      throw syserror.EEXIST;
    }
    this.fsTypes.set(name, { fsType, opts: { ...opts } });
  }

  /** mustRegisterFilesystemType is equivalent to registerFilesystemType but panics on failure. */
  mustRegisterFilesystemType(name: string, fsType: FilesystemType, opts: RegisterFilesystemTypeOptions): void {
    if (this.fsTypes.has(name)) throw new Error(`failed to register filesystem type ${name}: already registered`);
    this.registerFilesystemType(name, fsType, opts);
  }

  /** getFilesystemType returns the registered filesystem type of that name, if any. */
  getFilesystemType(name: string): registeredFilesystemType | undefined {
    return this.fsTypes.get(name);
  }

  /** generateProcFilesystems returns the contents of /proc/filesystems for vfs. */
  generateProcFilesystems(): string {
    let buf = '';
    for (const [name, rft] of this.fsTypes) {
      if (!rft.opts.allowUserList) continue;
      const nodev = rft.opts.requiresDevice ? '' : 'nodev';
      buf += `${nodev}\t${name}\n`;
    }
    return buf;
  }

  // pathname.go.

  /** pathnameWithDeleted: see pathname.ts. */
  pathnameWithDeleted(ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry): Promise<string> {
    return pathnameFuncs.pathnameWithDeleted(this, ctx, vfsroot, vd);
  }

  /** pathnameReachable: see pathname.ts. */
  pathnameReachable(ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry): Promise<string> {
    return pathnameFuncs.pathnameReachable(this, ctx, vfsroot, vd);
  }

  /** pathnameForGetcwd: see pathname.ts. */
  pathnameForGetcwd(ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry): Promise<string> {
    return pathnameFuncs.pathnameForGetcwd(this, ctx, vfsroot, vd);
  }

  // anonfs.go.

  /**
   * newAnonVirtualDentry returns a VirtualDentry with the given synthetic
   * name, consistent with Linux's fs/anon_inodes.c:anon_inode_getfile().
   * References are taken on the returned VirtualDentry.
   */
  newAnonVirtualDentry(name: string): VirtualDentry {
    return newAnonVirtualDentry(this, name);
  }

  // device.go.

  /** registerDevice: see device.ts. */
  registerDevice(kind: DeviceKind, major: number, minor: number, dev: Device, opts: RegisterDeviceOptions): void {
    deviceFuncs.registerDevice(this, kind, major, minor, dev, opts);
  }

  /** openDeviceSpecialFile: see device.ts. */
  openDeviceSpecialFile(ctx: Context, mnt: Mount, d: Dentry, kind: DeviceKind, major: number, minor: number, opts: OpenOptions): Promise<FileDescription> {
    return deviceFuncs.openDeviceSpecialFile(this, ctx, mnt, d, kind, major, minor, opts);
  }

  /** getAnonBlockDevMinor: see device.ts. */
  getAnonBlockDevMinor(): number {
    return deviceFuncs.getAnonBlockDevMinor(this);
  }

  /** putAnonBlockDevMinor: see device.ts. */
  putAnonBlockDevMinor(minor: number): void {
    deviceFuncs.putAnonBlockDevMinor(this, minor);
  }
}

// __O_TMPFILE is the O_TMPFILE bit without O_DIRECTORY.
const __O_TMPFILE = O_TMPFILE & ~O_DIRECTORY;

// pathDir is Go's path.Dir.
function pathDir(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  const dir = p.slice(0, i).replace(/\/+$/, '');
  if (dir === '') return '/';
  return dir;
}

/**
 * PathOperation specifies the path operated on by a VFS method.
 *
 * PathOperation is passed to VFS methods by reference; VFS methods do not
 * modify it.
 */
export interface PathOperation {
  /**
   * root is the VFS root. References on root are borrowed from the provider
   * of the PathOperation.
   *
   * Invariants: root.ok().
   */
  root: VirtualDentry;

  /**
   * start is the starting point for the path traversal. References on start
   * are borrowed from the provider of the PathOperation (i.e. the caller of
   * the VFS method to which the PathOperation was passed).
   *
   * Invariants: start.ok(). If path.absolute, then start is root.
   */
  start: VirtualDentry;

  /** path is the pathname traversed by this operation. */
  path: fspath.Path;

  /**
   * If followFinalSymlink is true, and the Dentry traversed by the final
   * path component represents a symbolic link, the symbolic link should be
   * followed.
   */
  followFinalSymlink: boolean;
}

/**
 * A VirtualDentry represents a node in a VFS tree, by combining a Dentry
 * (which represents a node in a Filesystem's tree) and a Mount (which
 * represents the Filesystem's position in a VFS mount tree).
 *
 * VirtualDentry's semantics are similar to that of a Go interface object
 * representing a pointer: it is an immutable value that represents
 * references to another entity. new VirtualDentry(null, null) is an "empty
 * VirtualDentry"; vd.ok() checks that a VirtualDentry is not empty; unless
 * otherwise specified, all other VirtualDentry methods require vd.ok().
 * Compare two with equals(), not ===.
 *
 * Mounts and Dentries are reference-counted, requiring that users call
 * VirtualDentry.incRef()/decRef() as appropriate. We often colloquially
 * refer to references on the Mount and Dentry referred to by a VirtualDentry
 * as references on the VirtualDentry itself.
 *
 * VirtualDentry is analogous to Linux's struct path.
 */
export class VirtualDentry {
  constructor(readonly _mount: Mount | null, readonly _dentry: Dentry | null) {}

  /** ok returns true if vd is not empty. It does not require that a reference is held. */
  ok(): boolean {
    return this._mount !== null;
  }

  /** incRef increments the reference counts on the Mount and Dentry represented by vd. */
  incRef(): void {
    this._mount!.incRef();
    this._dentry!.incRef();
  }

  /** decRef decrements the reference counts on the Mount and Dentry represented by vd. */
  decRef(ctx: Context): void {
    this._dentry!.decRef(ctx);
    this._mount!.decRef(ctx);
  }

  /** mount returns the Mount associated with vd. It does not take a reference on the returned Mount. */
  mount(): Mount {
    return this._mount!;
  }

  /** dentry returns the Dentry associated with vd. It does not take a reference on the returned Dentry. */
  dentry(): Dentry {
    return this._dentry!;
  }

  /** equals returns true if vd and other represent the same (Mount, Dentry) pair (Go's ==). */
  equals(other: VirtualDentry): boolean {
    return this._mount === other._mount && this._dentry === other._dentry;
  }
}

/** makeVirtualDentry creates a VirtualDentry. */
export function makeVirtualDentry(mount: Mount, dentry: Dentry): VirtualDentry {
  return new VirtualDentry(mount, dentry);
}
