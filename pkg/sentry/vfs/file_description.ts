// FileDescription and FileDescriptionImpl (gVisor's file_description.go).

import type { Context } from '../../context';
import {
  AT_STATX_DONT_SYNC, O_APPEND, O_ASYNC, O_CREAT, O_DIRECT, O_EXCL, O_NOATIME, O_NOCTTY, O_NONBLOCK, O_TRUNC,
} from '../../abi/linux/file';
import { STATX_ATTR_APPEND, STATX_UID, type Statfs, type Statx } from '../../abi/linux/stat';
import * as fspath from '../../fspath';
import type { LockType, UniqueID } from '../fs/lock';
import { credentialsFromContext, type Credentials } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import type { Entry, EventMask, Waitable } from '../../waiter/waiter';
import type { Dentry } from './dentry';
import type { Mount } from './mount';
import type {
  GetXattrOptions, ReadOptions, SetStatOptions, SetXattrOptions, StatOptions, WriteOptions,
} from './options';
import { canActAsOwner, mayReadFileWithOpenFlags, mayWriteFileWithOpenFlags } from './permissions';
import { getResolvingPath, putResolvingPath } from './resolving_path';
import { VirtualDentry } from './vfs';

// A path with no components: PathOperations on fd.vd itself (gVisor leaves
// PathOperation.Path zero-valued).
const emptyPath = fspath.parse('');

/**
 * A FileDescription represents an open file description, which is the entity
 * referred to by a file descriptor (POSIX.1-2017 3.258 "Open File
 * Description").
 *
 * FileDescriptions are reference-counted. Unless otherwise specified, all
 * FileDescription methods require that a reference is held.
 *
 * FileDescription is analogous to Linux's struct file.
 *
 * The inheritance pattern (README.md): a file description implementation
 * holds a FileDescription (conventionally its `vfsfd` field) and calls
 * `vfsfd.init(this, flags, mnt, d, opts)`; VFS reaches it through `impl`.
 *
 * Differs from gVisor: no epoll registrations (epoll is outside the
 * filesystem slice) and no memmap.MappingIdentity methods (no memory
 * manager).
 */
export class FileDescription implements Waitable {
  /** refs is the reference count (gVisor's FileDescriptionRefs). */
  refs = 0;

  /**
   * _statusFlags contains status flags, "initialized by open(2) and possibly
   * modified by fcntl()" - fcntl(2).
   */
  _statusFlags = 0;

  /**
   * asyncHandler handles O_ASYNC signal generation. It is set with the
   * F_SETOWN or F_SETOWN_EX fcntls. For asyncHandler to be used, O_ASYNC
   * must also be set by fcntl(2).
   */
  asyncHandler: FileAsync | null = null;

  /**
   * vd is the filesystem location at which this FileDescription was opened.
   * A reference is held on vd. vd is immutable.
   */
  vd: VirtualDentry = new VirtualDentry(null, null);

  /** opts contains options passed to FileDescription.init(). Immutable. */
  opts: FileDescriptionOptions = {};

  /**
   * readable is mayReadFileWithOpenFlags(statusFlags). Immutable. It is
   * analogous to Linux's FMODE_READ.
   */
  readable = false;

  /**
   * writable is mayWriteFileWithOpenFlags(statusFlags). If writable is true,
   * the FileDescription holds a write count on vd.mount. Immutable. It is
   * analogous to Linux's FMODE_WRITE.
   */
  writable = false;

  usedLockBSD = false;

  /** impl is the FileDescriptionImpl associated with this FileDescription. Immutable. */
  impl!: FileDescriptionImpl;

  /**
   * init must be called before first use of fd. If it succeeds, it takes
   * references on mnt and d. flags is the initial file description flags,
   * which is usually the full set of flags passed to open(2). It throws
   * EROFS if flags ask for writing on a read-only mount.
   */
  init(impl: FileDescriptionImpl, flags: number, mnt: Mount, d: Dentry, opts: FileDescriptionOptions): void {
    const writable = mayWriteFileWithOpenFlags(flags);
    if (writable) mnt.checkBeginWrite();
    this.refs = 1;
    // Remove "file creation flags" to mirror the behavior from file.f_flags
    // in fs/open.c:do_dentry_open.
    this._statusFlags = flags & ~FileCreationFlags;
    this.vd = new VirtualDentry(mnt, d);
    mnt.incRef();
    d.incRef();
    this.opts = { ...opts };
    this.readable = mayReadFileWithOpenFlags(flags);
    this.writable = writable;
    this.impl = impl;
  }

  /** incRef increments fd's reference count. */
  incRef(): void {
    if (this.refs <= 0) throw new Error('vfs.FileDescription: incRef on a released FileDescription');
    this.refs++;
  }

  /** tryIncRef increments fd's reference count and returns true, unless it is already zero. */
  tryIncRef(): boolean {
    if (this.refs <= 0) return false;
    this.refs++;
    return true;
  }

  /** decRef decrements fd's reference count; at zero the FileDescriptionImpl is released. */
  decRef(ctx: Context): void {
    this.refs--;
    if (this.refs > 0) return;
    if (this.refs < 0) throw new Error('vfs.FileDescription: decRef with no references');
    // If BSD locks were used, release any lock that it may have acquired.
    if (this.usedLockBSD) {
      this.impl.unlockBSD(ctx, this).catch(() => undefined);
    }
    // Release implementation resources.
    this.impl.release(ctx);
    if (this.writable) this.vd._mount!.endWrite();
    this.vd.decRef(ctx);
    if ((this._statusFlags & O_ASYNC) !== 0 && this.asyncHandler !== null) {
      this.asyncHandler.unregister(this);
    }
    this.asyncHandler = null;
  }

  /** mount returns the mount on which fd was opened. It does not take a reference on the returned Mount. */
  mount(): Mount {
    return this.vd._mount!;
  }

  /** dentry returns the dentry at which fd was opened. It does not take a reference on the returned Dentry. */
  dentry(): Dentry {
    return this.vd._dentry!;
  }

  /** virtualDentry returns the location at which fd was opened. It does not take a reference. */
  virtualDentry(): VirtualDentry {
    return this.vd;
  }

  /** options returns the options passed to fd.init(). */
  options(): FileDescriptionOptions {
    return this.opts;
  }

  /** statusFlags returns file description status flags, as for fcntl(F_GETFL). */
  statusFlags(): number {
    return this._statusFlags;
  }

  /** setStatusFlags sets file description status flags, as for fcntl(F_SETFL). */
  async setStatusFlags(ctx: Context, creds: Credentials, flags: number): Promise<void> {
    // Compare Linux's fs/fcntl.c:setfl().
    const oldFlags = this.statusFlags();
    // Linux documents this check as "O_APPEND cannot be cleared if the file
    // is marked as append-only and the file is open for write", which would
    // make sense. However, the check as actually implemented seems to be
    // "O_APPEND cannot be changed if the file is marked as append-only".
    if (((flags ^ oldFlags) & O_APPEND) !== 0) {
      const stat = await this.stat(ctx, {
        // There is no mask bit for stx_attributes.
        mask: 0,
        // Linux just reads inode::i_flags directly.
        sync: AT_STATX_DONT_SYNC,
      });
      if ((stat.attributesMask & STATX_ATTR_APPEND) !== 0 && (stat.attributes & STATX_ATTR_APPEND) !== 0) {
        throw syserror.EPERM;
      }
    }
    if ((flags & O_NOATIME) !== 0 && (oldFlags & O_NOATIME) === 0) {
      const stat = await this.stat(ctx, {
        mask: STATX_UID,
        // Linux's inode_owner_or_capable() just reads inode::i_uid directly.
        sync: AT_STATX_DONT_SYNC,
      });
      if ((stat.mask & STATX_UID) === 0) throw syserror.EPERM;
      if (!canActAsOwner(creds, stat.uid)) throw syserror.EPERM;
    }
    if ((flags & O_DIRECT) !== 0 && !this.opts.allowDirectIO) throw syserror.EINVAL;
    // TODO(gvisor.dev/issue/1035): FileDescriptionImpl.SetOAsync()?
    const settableFlags = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
    if (this.asyncHandler !== null) {
      // Use fd._statusFlags instead of oldFlags, which may have become
      // outdated, to avoid double registering/unregistering.
      if ((this._statusFlags & O_ASYNC) === 0 && (flags & O_ASYNC) !== 0) {
        this.asyncHandler.register(this);
      } else if ((this._statusFlags & O_ASYNC) !== 0 && (flags & O_ASYNC) === 0) {
        this.asyncHandler.unregister(this);
      }
    }
    this._statusFlags = (oldFlags & ~settableFlags) | (flags & settableFlags);
  }

  /** isReadable returns true if fd was opened for reading. */
  isReadable(): boolean {
    return this.readable;
  }

  /** isWritable returns true if fd was opened for writing. */
  isWritable(): boolean {
    return this.writable;
  }

  /**
   * onClose is called when a file descriptor representing the
   * FileDescription is closed. Throwing does not prevent the file
   * descriptor from being closed.
   */
  onClose(ctx: Context): Promise<void> {
    return this.impl.onClose(ctx);
  }

  /** stat returns metadata for the file represented by fd. */
  async stat(ctx: Context, opts: StatOptions): Promise<Statx> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.statAt(ctx, rp, opts);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.stat(ctx, opts);
  }

  /** setStat updates metadata for the file represented by fd. */
  async setStat(ctx: Context, opts: SetStatOptions): Promise<void> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.setStatAt(ctx, rp, opts);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.setStat(ctx, opts);
  }

  /** statFS returns metadata for the filesystem containing the file represented by fd. */
  async statFS(ctx: Context): Promise<Statfs> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.statFSAt(ctx, rp);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.statFS(ctx);
  }

  /** allocate grows the file represented by fd to offset + length bytes. */
  allocate(ctx: Context, mode: number, offset: number, length: number): Promise<void> {
    if (!this.isWritable()) return Promise.reject(syserror.EBADF);
    return this.impl.allocate(ctx, mode, offset, length);
  }

  /** readiness implements waiter.Waitable.readiness: fd's I/O readiness. */
  readiness(mask: EventMask): EventMask {
    return this.impl.readiness(mask);
  }

  /** eventRegister implements waiter.Waitable.eventRegister. */
  eventRegister(e: Entry, mask: EventMask): void {
    this.impl.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable.eventUnregister. */
  eventUnregister(e: Entry): void {
    this.impl.eventUnregister(e);
  }

  /**
   * pread reads from the file represented by fd into dst, starting at the
   * given offset, and returns the number of bytes read (0 at end of file).
   * pread is permitted to return partial reads.
   */
  pread(ctx: Context, dst: Buffer, offset: number, opts: ReadOptions = {}): Promise<number> {
    if (this.opts.denyPRead) return Promise.reject(syserror.ESPIPE);
    if (!this.readable) return Promise.reject(syserror.EBADF);
    return this.impl.pread(ctx, dst, offset, opts);
  }

  /** read is similar to pread, but does not specify an offset. */
  read(ctx: Context, dst: Buffer, opts: ReadOptions = {}): Promise<number> {
    if (!this.readable) return Promise.reject(syserror.EBADF);
    return this.impl.read(ctx, dst, opts);
  }

  /**
   * pwrite writes src to the file represented by fd, starting at the given
   * offset, and returns the number of bytes written. pwrite is permitted to
   * return partial writes.
   */
  pwrite(ctx: Context, src: Buffer, offset: number, opts: WriteOptions = {}): Promise<number> {
    if (this.opts.denyPWrite) return Promise.reject(syserror.ESPIPE);
    if (!this.writable) return Promise.reject(syserror.EBADF);
    return this.impl.pwrite(ctx, src, offset, opts);
  }

  /** write is similar to pwrite, but does not specify an offset. */
  write(ctx: Context, src: Buffer, opts: WriteOptions = {}): Promise<number> {
    if (!this.writable) return Promise.reject(syserror.EBADF);
    return this.impl.write(ctx, src, opts);
  }

  /**
   * iterDirents invokes cb on each entry in the directory represented by
   * fd. If iterDirents has been called since the last call to seek, it
   * continues iteration from the end of the last call.
   */
  iterDirents(ctx: Context, cb: IterDirentsCallback): Promise<void> {
    // Differs from gVisor: a directory that has been removed (or replaced by
    // a rename) lists nothing; Linux's iterate_dir returns ENOENT for it
    // (IS_DEADDIR) before calling the filesystem.
    if (this.vd._dentry!.isDead()) return Promise.reject(syserror.ENOENT);
    return this.impl.iterDirents(ctx, cb);
  }

  /** seek changes fd's offset (assuming one exists) and returns its new value. */
  seek(ctx: Context, offset: number, whence: number): Promise<number> {
    return this.impl.seek(ctx, offset, whence);
  }

  /** sync has the semantics of fsync(2). */
  sync(ctx: Context): Promise<void> {
    return this.impl.sync(ctx);
  }

  /** ioctl implements the ioctl(2) syscall (see FileDescriptionImpl.ioctl). */
  ioctl(ctx: Context, request: number, arg: number): Promise<number> {
    return this.impl.ioctl(ctx, request, arg);
  }

  /**
   * listXattr returns all extended attribute names for the file represented
   * by fd.
   *
   * If the size of the list (including a NUL terminating byte after every
   * entry) would exceed size, ERANGE may be thrown. Implementations are free
   * to ignore size entirely. If size is 0, the list should be returned
   * without error, regardless of size.
   */
  async listXattr(ctx: Context, size: number): Promise<string[]> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.listXattrAt(ctx, rp, size);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    try {
      return await this.impl.listXattr(ctx, size);
    } catch (err) {
      if (err === syserror.ENOTSUP) {
        // Linux doesn't actually return ENOTSUP in this case; instead,
        // fs/xattr.c:vfs_listxattr() falls back to allowing the security
        // subsystem to return security extended attributes, which by
        // default don't exist.
        return [];
      }
      throw err;
    }
  }

  /**
   * getXattr returns the value associated with the given extended attribute
   * for the file represented by fd.
   */
  async getXattr(ctx: Context, opts: GetXattrOptions): Promise<string> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.getXattrAt(ctx, rp, opts);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.getXattr(ctx, opts);
  }

  /** setXattr changes the value associated with the given extended attribute for the file represented by fd. */
  async setXattr(ctx: Context, opts: SetXattrOptions): Promise<void> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.setXattrAt(ctx, rp, opts);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.setXattr(ctx, opts);
  }

  /** removeXattr removes the given extended attribute from the file represented by fd. */
  async removeXattr(ctx: Context, name: string): Promise<void> {
    if (this.opts.useDentryMetadata) {
      const vfsObj = this.vd._mount!.vfs;
      const rp = getResolvingPath(vfsObj, credentialsFromContext(ctx), { root: this.vd, start: this.vd, path: emptyPath, followFinalSymlink: false });
      try {
        return await this.vd._mount!.fs.impl.removeXattrAt(ctx, rp, name);
      } finally {
        putResolvingPath(ctx, rp);
      }
    }
    return this.impl.removeXattr(ctx, name);
  }

  /** syncFS instructs the filesystem containing fd to execute the semantics of syncfs(2). */
  syncFS(ctx: Context): Promise<void> {
    return this.vd._mount!.fs.impl.sync(ctx);
  }

  /** lockBSD tries to acquire a BSD-style advisory file lock (flock(2)). */
  lockBSD(ctx: Context, lockType: LockType, block: boolean): Promise<void> {
    this.usedLockBSD = true;
    return this.impl.lockBSD(ctx, this, lockType, block);
  }

  /** unlockBSD releases a BSD-style advisory file lock. */
  unlockBSD(ctx: Context): Promise<void> {
    return this.impl.unlockBSD(ctx, this);
  }

  /** lockPOSIX locks a POSIX-style file range lock (fcntl(F_SETLK/F_SETLKW)). */
  lockPOSIX(ctx: Context, uid: UniqueID, t: LockType, start: number, length: number, whence: number, block: boolean): Promise<void> {
    return this.impl.lockPOSIX(ctx, uid, t, start, length, whence, block);
  }

  /** unlockPOSIX unlocks a POSIX-style file range lock. */
  unlockPOSIX(ctx: Context, uid: UniqueID, start: number, length: number, whence: number): Promise<void> {
    return this.impl.unlockPOSIX(ctx, uid, start, length, whence);
  }

  /** getAsyncHandler returns the FileAsync for fd (gVisor: AsyncHandler; the name asyncHandler is the field). */
  getAsyncHandler(): FileAsync | null {
    return this.asyncHandler;
  }

  /** setAsyncHandler sets fd.asyncHandler if it has not been set before and returns it. */
  setAsyncHandler(newHandler: () => FileAsync): FileAsync {
    if (this.asyncHandler === null) {
      this.asyncHandler = newHandler();
      if ((this._statusFlags & O_ASYNC) !== 0) this.asyncHandler.register(this);
    }
    return this.asyncHandler;
  }
}

/** FileDescriptionOptions contains options to FileDescription.init(). */
export interface FileDescriptionOptions {
  /** If allowDirectIO is true, allow O_DIRECT to be set on the file. */
  allowDirectIO?: boolean;

  /** If denyPRead is true, calls to FileDescription.pread() throw ESPIPE. */
  denyPRead?: boolean;

  /** If denyPWrite is true, calls to FileDescription.pwrite() throw ESPIPE. */
  denyPWrite?: boolean;

  /**
   * If useDentryMetadata is true, calls to FileDescription methods that
   * interact with file and filesystem metadata (stat, setStat, statFS,
   * listXattr, getXattr, setXattr, removeXattr) are implemented by calling
   * the corresponding FilesystemImpl methods instead of the corresponding
   * FileDescriptionImpl methods.
   *
   * It is intended for file descriptions that are implemented outside of
   * individual filesystems, such as pipes, sockets, and device special
   * files, which may extend DentryMetadataFileDescriptionImpl.
   */
  useDentryMetadata?: boolean;
}

/**
 * FileCreationFlags are the set of flags passed to FileDescription.init() but
 * omitted from FileDescription.statusFlags().
 */
export const FileCreationFlags = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC;

/**
 * FileDescriptionImpl contains implementation details for a FileDescription.
 * Implementations hold their FileDescription (by convention in a field named
 * vfsfd), and usually extend FileDescriptionDefaultImpl.
 *
 * For all functions that return Statx, uid and gid are KUIDs/KGIDs.
 *
 * All methods may throw errors not specified.
 *
 * FileDescriptionImpl is analogous to Linux's struct file_operations.
 *
 * Differs from gVisor: I/O goes through Buffers instead of
 * usermem.IOSequence, and end of file is a 0-byte read rather than io.EOF;
 * ioctl takes (request, arg) and returns the value the ioctl would store
 * through arg for "get" requests such as FIONREAD; ConfigureMMap is absent
 * (no memory manager).
 */
export interface FileDescriptionImpl extends Waitable {
  /** release is called when the associated FileDescription reaches zero references. */
  release(ctx: Context): void;

  /**
   * onClose is called when a file descriptor representing the
   * FileDescription is closed. Throwing does not prevent the file
   * descriptor from being closed.
   */
  onClose(ctx: Context): Promise<void>;

  /** stat returns metadata for the file represented by the FileDescription. */
  stat(ctx: Context, opts: StatOptions): Promise<Statx>;

  /**
   * setStat updates metadata for the file represented by the
   * FileDescription. Implementations are responsible for checking if the
   * operation can be performed (see checkSetStat() for common checks).
   */
  setStat(ctx: Context, opts: SetStatOptions): Promise<void>;

  /** statFS returns metadata for the filesystem containing the file represented by the FileDescription. */
  statFS(ctx: Context): Promise<Statfs>;

  /**
   * allocate grows the file to offset + length bytes. Only mode == 0 is
   * supported currently. It should throw EISDIR on directories, ESPIPE on
   * pipes, and ENODEV on other files where it is not supported.
   *
   * Preconditions: The FileDescription was opened for writing.
   */
  allocate(ctx: Context, mode: number, offset: number, length: number): Promise<void>;

  /**
   * pread reads from the file into dst, starting at the given offset, and
   * returns the number of bytes read (0 at end of file). pread is permitted
   * to return partial reads.
   *
   * Errors:
   * - If opts.flags specifies unsupported options, EOPNOTSUPP.
   *
   * Preconditions:
   * - The FileDescription was opened for reading.
   * - FileDescriptionOptions.denyPRead is false.
   */
  pread(ctx: Context, dst: Buffer, offset: number, opts: ReadOptions): Promise<number>;

  /**
   * read is similar to pread, but does not specify an offset.
   *
   * For files with an implicit FileDescription offset (e.g. regular files),
   * read begins at the FileDescription offset, and advances the offset by
   * the number of bytes read; note that POSIX 2.9.7 "Thread Interactions
   * with Regular File Operations" requires that all operations that may
   * mutate the FileDescription offset are serialized.
   *
   * Preconditions: The FileDescription was opened for reading.
   */
  read(ctx: Context, dst: Buffer, opts: ReadOptions): Promise<number>;

  /**
   * pwrite writes src to the file, starting at the given offset, and returns
   * the number of bytes written. pwrite is permitted to return partial
   * writes.
   *
   * As in Linux (but not POSIX), if O_APPEND is in effect for the
   * FileDescription, pwrite should ignore the offset and append data to the
   * end of the file.
   *
   * Preconditions:
   * - The FileDescription was opened for writing.
   * - FileDescriptionOptions.denyPWrite is false.
   */
  pwrite(ctx: Context, src: Buffer, offset: number, opts: WriteOptions): Promise<number>;

  /**
   * write is similar to pwrite, but does not specify an offset, which is
   * implied as for read. It is a FileDescriptionImpl method, instead of a
   * wrapper around pwrite that uses a FileDescription offset, to make it
   * possible for remote filesystems to implement O_APPEND correctly.
   *
   * Preconditions: The FileDescription was opened for writing.
   */
  write(ctx: Context, src: Buffer, opts: WriteOptions): Promise<number>;

  /**
   * iterDirents invokes cb on each entry in the directory represented by the
   * FileDescription. If iterDirents has been called since the last call to
   * seek, it continues iteration from the end of the last call.
   */
  iterDirents(ctx: Context, cb: IterDirentsCallback): Promise<void>;

  /**
   * seek changes the FileDescription offset (assuming one exists) and
   * returns its new value.
   *
   * For directories, if whence == SEEK_SET and offset == 0, the caller is
   * rewinddir(), such that seek "shall also cause the directory stream to
   * refer to the current state of the corresponding directory" -
   * POSIX.1-2017.
   */
  seek(ctx: Context, offset: number, whence: number): Promise<number>;

  /**
   * sync requests that cached state associated with the file represented by
   * the FileDescription is synchronized with persistent storage, and
   * resolves when this is complete.
   */
  sync(ctx: Context): Promise<void>;

  /**
   * ioctl implements the ioctl(2) syscall. For requests that store a value
   * through their argument (FIONREAD), the value is returned; the syscall
   * layer copies it out.
   */
  ioctl(ctx: Context, request: number, arg: number): Promise<number>;

  /** listXattr returns all extended attribute names for the file. */
  listXattr(ctx: Context, size: number): Promise<string[]>;

  /** getXattr returns the value associated with the given extended attribute for the file. */
  getXattr(ctx: Context, opts: GetXattrOptions): Promise<string>;

  /** setXattr changes the value associated with the given extended attribute for the file. */
  setXattr(ctx: Context, opts: SetXattrOptions): Promise<void>;

  /** removeXattr removes the given extended attribute from the file. */
  removeXattr(ctx: Context, name: string): Promise<void>;

  /**
   * lockBSD tries to acquire a BSD-style advisory file lock. When block is
   * true it waits (interruptibly, through ctx's signal) instead of throwing
   * EAGAIN (gVisor's Blocker is the awaited Promise).
   */
  lockBSD(ctx: Context, uid: UniqueID, t: LockType, block: boolean): Promise<void>;

  /** unlockBSD releases a BSD-style advisory file lock. */
  unlockBSD(ctx: Context, uid: UniqueID): Promise<void>;

  /** lockPOSIX tries to acquire a POSIX-style advisory file lock. */
  lockPOSIX(ctx: Context, uid: UniqueID, t: LockType, start: number, length: number, whence: number, block: boolean): Promise<void>;

  /** unlockPOSIX releases a POSIX-style advisory file lock. */
  unlockPOSIX(ctx: Context, uid: UniqueID, start: number, length: number, whence: number): Promise<void>;
}

/** Dirent holds the information contained in struct linux_dirent64. */
export interface Dirent {
  /** name is the filename. */
  name: string;

  /** type is the file type, a DT_* constant. */
  type: number;

  /** ino is the inode number. */
  ino: number;

  /**
   * nextOff is the offset of the *next* Dirent in the directory; that is,
   * FileDescription.seek(nextOff, SEEK_SET) (as called by seekdir(3)) will
   * cause the next call to iterDirents() to yield the next Dirent. (The
   * offset of the first Dirent in a directory is always 0.)
   */
  nextOff: number;
}

/** IterDirentsCallback receives Dirents from FileDescriptionImpl.iterDirents. */
export interface IterDirentsCallback {
  /**
   * handle handles the given iterated Dirent. If handle throws,
   * iterDirents must stop iteration and rethrow; the next call to
   * iterDirents should restart with the same Dirent.
   */
  handle(dirent: Dirent): void;
}

/**
 * iterDirentsCallbackFunc implements IterDirentsCallback for a function with
 * the semantics of IterDirentsCallback.handle (gVisor: IterDirentsCallbackFunc).
 */
export function iterDirentsCallbackFunc(f: (dirent: Dirent) => void): IterDirentsCallback {
  return { handle: f };
}

/**
 * A FileAsync sends signals to its owner when w is ready for IO. This is
 * only implemented by the kernel's fasync, but we need this interface to
 * avoid circular dependencies.
 */
export interface FileAsync {
  register(w: Waitable): void;
  unregister(w: Waitable): void;
}

/**
 * copyRegularFileData copies data from srcFD to dstFD until reading from
 * srcFD reaches end of file or fails. It returns the number of bytes copied.
 */
export async function copyRegularFileData(ctx: Context, dstFD: FileDescription, srcFD: FileDescription): Promise<number> {
  let done = 0;
  const buf = Buffer.alloc(32 * 1024); // arbitrary buffer size
  for (;;) {
    const readN = await srcFD.read(ctx, buf, {});
    if (readN === 0) return done;
    let src = buf.subarray(0, readN);
    while (src.length !== 0) {
      const writeN = await dstFD.write(ctx, src, {});
      done += writeN;
      src = src.subarray(writeN);
    }
  }
}
