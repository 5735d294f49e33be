// Default implementations of FileDescriptionImpl methods (gVisor's
// file_description_impl_util.go).
//
// Go composes these by embedding; TypeScript has single inheritance. The
// shape here:
//
//   FileDescriptionDefaultImpl            every default, locks as NoLockFD
//   ├── DirectoryFileDescriptionDefaultImpl   + EISDIR for file I/O
//   ├── DentryMetadataFileDescriptionImpl     + stat/setStat must not be called
//   └── DynamicBytesFileDescriptionImpl       + read-only generated contents
//
// LockFD is a component (not a base class): an implementation that supports
// locks holds one and delegates lockBSD/unlockBSD to it (and lockPOSIX/
// unlockPOSIX to its FileLocks), as gVisor's filesystems do by embedding it.
//
// The following design pattern is strongly recommended for filesystem
// implementations to adapt:
//   - Have a local fileDescription class (holding the FileDescription as
//     vfsfd) which extends FileDescriptionDefaultImpl and overrides the
//     default methods which are common to all fd implementations for that
//     filesystem like stat, setStat, statFS, etc.
//   - Directory FDs extend DirectoryFileDescriptionDefaultImpl (or override
//     the same five methods with its EISDIR behaviour).

import type { Context } from '../../context';
import { RWF_DSYNC, RWF_HIPRI, RWF_SYNC } from '../../abi/linux/fcntl';
import { SEEK_CUR, SEEK_SET } from '../../abi/linux/file';
import type { Statfs, Statx } from '../../abi/linux/stat';
import type { LockType, UniqueID } from '../fs/lock';
import { Mutex } from '../../sync';
import * as syserror from '../../syserror/syserror';
import { EventIn, EventOut, type Entry, type EventMask } from '../../waiter/waiter';
import type { FileDescriptionImpl, IterDirentsCallback } from './file_description';
import type { FileLocks } from './lock';
import type { GetXattrOptions, ReadOptions, SetStatOptions, SetXattrOptions, StatOptions, WriteOptions } from './options';
import { checkLimit } from './permissions';

/**
 * FileDescriptionDefaultImpl may be extended by implementations of
 * FileDescriptionImpl to obtain implementations of many FileDescriptionImpl
 * methods with default behavior analogous to Linux's.
 *
 * Its lock methods behave as gVisor's NoLockFD (ENOLCK); implementations
 * that support locking override them (see LockFD).
 */
export abstract class FileDescriptionDefaultImpl implements FileDescriptionImpl {
  abstract release(ctx: Context): void;
  abstract stat(ctx: Context, opts: StatOptions): Promise<Statx>;
  abstract setStat(ctx: Context, opts: SetStatOptions): Promise<void>;

  /** onClose implements FileDescriptionImpl.onClose analogously to file_operations::flush == NULL in Linux. */
  onClose(_ctx: Context): Promise<void> {
    return Promise.resolve();
  }

  /** statFS implements FileDescriptionImpl.statFS analogously to super_operations::statfs == NULL in Linux. */
  statFS(_ctx: Context): Promise<Statfs> {
    return Promise.reject(syserror.ENOSYS);
  }

  /**
   * allocate implements FileDescriptionImpl.allocate analogously to
   * fallocate called on an invalid type of file in Linux.
   *
   * Note that directories can rely on this implementation even though they
   * should technically return EISDIR. allocate should never be called for a
   * directory, because it requires a writable fd.
   */
  allocate(_ctx: Context, _mode: number, _offset: number, _length: number): Promise<void> {
    return Promise.reject(syserror.ENODEV);
  }

  /** readiness implements waiter.Waitable.readiness analogously to file_operations::poll == NULL in Linux. */
  readiness(_mask: EventMask): EventMask {
    // include/linux/poll.h:vfs_poll() => DEFAULT_POLLMASK
    return EventIn | EventOut;
  }

  /** eventRegister implements waiter.Waitable.eventRegister analogously to file_operations::poll == NULL in Linux. */
  eventRegister(_e: Entry, _mask: EventMask): void {}

  /** eventUnregister implements waiter.Waitable.eventUnregister analogously to file_operations::poll == NULL in Linux. */
  eventUnregister(_e: Entry): void {}

  /** pread implements FileDescriptionImpl.pread analogously to file_operations::read == file_operations::read_iter == NULL in Linux. */
  pread(_ctx: Context, _dst: Buffer, _offset: number, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EINVAL);
  }

  /** read implements FileDescriptionImpl.read analogously to file_operations::read == file_operations::read_iter == NULL in Linux. */
  read(_ctx: Context, _dst: Buffer, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EINVAL);
  }

  /** pwrite implements FileDescriptionImpl.pwrite analogously to file_operations::write == file_operations::write_iter == NULL in Linux. */
  pwrite(_ctx: Context, _src: Buffer, _offset: number, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EINVAL);
  }

  /** write implements FileDescriptionImpl.write analogously to file_operations::write == file_operations::write_iter == NULL in Linux. */
  write(_ctx: Context, _src: Buffer, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EINVAL);
  }

  /** iterDirents implements FileDescriptionImpl.iterDirents analogously to file_operations::iterate == NULL in Linux. */
  iterDirents(_ctx: Context, _cb: IterDirentsCallback): Promise<void> {
    return Promise.reject(syserror.ENOTDIR);
  }

  /** seek implements FileDescriptionImpl.seek analogously to file_operations::llseek == NULL in Linux. */
  seek(_ctx: Context, _offset: number, _whence: number): Promise<number> {
    return Promise.reject(syserror.ESPIPE);
  }

  /** sync implements FileDescriptionImpl.sync analogously to file_operations::fsync == NULL in Linux. */
  sync(_ctx: Context): Promise<void> {
    return Promise.reject(syserror.EINVAL);
  }

  /** ioctl implements FileDescriptionImpl.ioctl analogously to file_operations::unlocked_ioctl == NULL in Linux. */
  ioctl(_ctx: Context, _request: number, _arg: number): Promise<number> {
    return Promise.reject(syserror.ENOTTY);
  }

  /** listXattr implements FileDescriptionImpl.listXattr analogously to inode_operations::listxattr == NULL in Linux. */
  listXattr(_ctx: Context, _size: number): Promise<string[]> {
    // This isn't exactly accurate; see FileDescription.listXattr.
    return Promise.reject(syserror.ENOTSUP);
  }

  /** getXattr implements FileDescriptionImpl.getXattr analogously to inode::i_opflags & IOP_XATTR == 0 in Linux. */
  getXattr(_ctx: Context, _opts: GetXattrOptions): Promise<string> {
    return Promise.reject(syserror.ENOTSUP);
  }

  /** setXattr implements FileDescriptionImpl.setXattr analogously to inode::i_opflags & IOP_XATTR == 0 in Linux. */
  setXattr(_ctx: Context, _opts: SetXattrOptions): Promise<void> {
    return Promise.reject(syserror.ENOTSUP);
  }

  /** removeXattr implements FileDescriptionImpl.removeXattr analogously to inode::i_opflags & IOP_XATTR == 0 in Linux. */
  removeXattr(_ctx: Context, _name: string): Promise<void> {
    return Promise.reject(syserror.ENOTSUP);
  }

  /** lockBSD implements FileDescriptionImpl.lockBSD as NoLockFD does. */
  lockBSD(_ctx: Context, _uid: UniqueID, _t: LockType, _block: boolean): Promise<void> {
    return Promise.reject(syserror.ENOLCK);
  }

  /** unlockBSD implements FileDescriptionImpl.unlockBSD as NoLockFD does. */
  unlockBSD(_ctx: Context, _uid: UniqueID): Promise<void> {
    return Promise.reject(syserror.ENOLCK);
  }

  /** lockPOSIX implements FileDescriptionImpl.lockPOSIX as NoLockFD does. */
  lockPOSIX(_ctx: Context, _uid: UniqueID, _t: LockType, _start: number, _length: number, _whence: number, _block: boolean): Promise<void> {
    return Promise.reject(syserror.ENOLCK);
  }

  /** unlockPOSIX implements FileDescriptionImpl.unlockPOSIX as NoLockFD does. */
  unlockPOSIX(_ctx: Context, _uid: UniqueID, _start: number, _length: number, _whence: number): Promise<void> {
    return Promise.reject(syserror.ENOLCK);
  }
}

/**
 * DirectoryFileDescriptionDefaultImpl may be extended by implementations of
 * FileDescriptionImpl that always represent directories to obtain
 * implementations of non-directory I/O methods that throw EISDIR.
 */
export abstract class DirectoryFileDescriptionDefaultImpl extends FileDescriptionDefaultImpl {
  /** allocate implements DirectoryFileDescriptionDefaultImpl.allocate. */
  override allocate(_ctx: Context, _mode: number, _offset: number, _length: number): Promise<void> {
    return Promise.reject(syserror.EISDIR);
  }

  /** pread implements FileDescriptionImpl.pread. */
  override pread(_ctx: Context, _dst: Buffer, _offset: number, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EISDIR);
  }

  /** read implements FileDescriptionImpl.read. */
  override read(_ctx: Context, _dst: Buffer, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EISDIR);
  }

  /** pwrite implements FileDescriptionImpl.pwrite. */
  override pwrite(_ctx: Context, _src: Buffer, _offset: number, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EISDIR);
  }

  /** write implements FileDescriptionImpl.write. */
  override write(_ctx: Context, _src: Buffer, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EISDIR);
  }
}

/**
 * DentryMetadataFileDescriptionImpl may be extended by implementations of
 * FileDescriptionImpl for which FileDescriptionOptions.useDentryMetadata is
 * true to obtain implementations of stat and setStat that must never be
 * called (FileDescription routes them to the FilesystemImpl).
 */
export abstract class DentryMetadataFileDescriptionImpl extends FileDescriptionDefaultImpl {
  /** stat implements FileDescriptionImpl.stat. */
  stat(_ctx: Context, _opts: StatOptions): Promise<Statx> {
    throw new Error('illegal call to DentryMetadataFileDescriptionImpl.Stat');
  }

  /** setStat implements FileDescriptionImpl.setStat. */
  setStat(_ctx: Context, _opts: SetStatOptions): Promise<void> {
    throw new Error('illegal call to DentryMetadataFileDescriptionImpl.SetStat');
  }
}

/** NoLockFD implements the Lock/Unlock methods of FileDescriptionImpl, throwing ENOLCK. */
export const NoLockFD = {
  lockBSD: (): Promise<void> => Promise.reject(syserror.ENOLCK),
  unlockBSD: (): Promise<void> => Promise.reject(syserror.ENOLCK),
  lockPOSIX: (): Promise<void> => Promise.reject(syserror.ENOLCK),
  unlockPOSIX: (): Promise<void> => Promise.reject(syserror.ENOLCK),
} as const;

/**
 * LockFD may be used by most implementations of FileDescriptionImpl.lock*
 * functions. Caller must call init().
 */
export class LockFD {
  private _locks: FileLocks | null = null;

  /** init initializes fd with FileLocks to use. */
  init(locks: FileLocks): void {
    this._locks = locks;
  }

  /** locks returns the locks associated with this file. */
  locks(): FileLocks {
    return this._locks!;
  }

  /** lockBSD implements vfs.FileDescriptionImpl.lockBSD. */
  lockBSD(ctx: Context, uid: UniqueID, t: LockType, block: boolean): Promise<void> {
    return this._locks!.lockBSD(ctx, uid, t, block);
  }

  /** unlockBSD implements vfs.FileDescriptionImpl.unlockBSD. */
  unlockBSD(_ctx: Context, uid: UniqueID): Promise<void> {
    this._locks!.unlockBSD(uid);
    return Promise.resolve();
  }
}

/** DynamicBytesSource represents a data source for a DynamicBytesFileDescriptionImpl. */
export interface DynamicBytesSource {
  /** generate returns the file's contents. */
  generate(ctx: Context): Promise<string | Uint8Array>;
}

/** StaticData implements DynamicBytesSource over a static string. */
export class StaticData implements DynamicBytesSource {
  constructor(readonly data: string) {}

  /** generate implements DynamicBytesSource. */
  generate(_ctx: Context): Promise<string> {
    return Promise.resolve(this.data);
  }
}

/** WritableDynamicBytesSource extends DynamicBytesSource to allow writes to the underlying source. */
export interface WritableDynamicBytesSource extends DynamicBytesSource {
  /** write sends writes to the source. */
  write(ctx: Context, src: Buffer, offset: number): Promise<number>;
}

function isWritableSource(s: DynamicBytesSource): s is WritableDynamicBytesSource {
  return typeof (s as Partial<WritableDynamicBytesSource>).write === 'function';
}

/**
 * DynamicBytesFileDescriptionImpl may be extended by implementations of
 * FileDescriptionImpl that represent read-only regular files whose contents
 * are backed by a buffer that is regenerated when necessary, consistent with
 * Linux's fs/seq_file.c:single_open().
 *
 * setDataSource() must be called before first use.
 */
export abstract class DynamicBytesFileDescriptionImpl extends FileDescriptionDefaultImpl {
  private data: DynamicBytesSource | null = null; // immutable
  private readonly mu = new Mutex(); // protects the following fields
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private lastRead = 0; // offset at which the last read, pread, or seek ended

  /** setDataSource must be called exactly once on fd before first use. */
  setDataSource(data: DynamicBytesSource): void {
    this.data = data;
  }

  private async regenerate(ctx: Context): Promise<void> {
    const v = await this.data!.generate(ctx);
    this.buf = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
  }

  /** Preconditions: fd.mu must be locked. */
  private async preadLocked(ctx: Context, dst: Buffer, offset: number): Promise<number> {
    // Regenerate the buffer if it's empty, or before pread() at a new
    // offset. Compare fs/seq_file.c:seq_read() => traverse().
    if (offset !== this.lastRead || this.buf.length === 0) {
      this.buf = Buffer.alloc(0);
      try {
        await this.regenerate(ctx);
      } catch (err) {
        this.buf = Buffer.alloc(0);
        // fd.off is not updated in this case.
        this.lastRead = 0;
        throw err;
      }
    }
    if (offset >= this.buf.length) return 0;
    const n = this.buf.copy(dst, 0, offset);
    this.lastRead = offset + n;
    return n;
  }

  /** pread implements FileDescriptionImpl.pread. */
  override async pread(ctx: Context, dst: Buffer, offset: number, _opts: ReadOptions): Promise<number> {
    await this.mu.lock();
    try {
      return await this.preadLocked(ctx, dst, offset);
    } finally {
      this.mu.unlock();
    }
  }

  /** read implements FileDescriptionImpl.read. */
  override async read(ctx: Context, dst: Buffer, _opts: ReadOptions): Promise<number> {
    await this.mu.lock();
    try {
      const n = await this.preadLocked(ctx, dst, this.off);
      this.off += n;
      return n;
    } finally {
      this.mu.unlock();
    }
  }

  /** seek implements FileDescriptionImpl.seek. */
  override async seek(ctx: Context, offset: number, whence: number): Promise<number> {
    await this.mu.lock();
    try {
      switch (whence) {
        case SEEK_SET:
          // Use offset as given.
          break;
        case SEEK_CUR:
          offset += this.off;
          break;
        default:
          // fs/seq_file:seq_lseek() rejects SEEK_END etc.
          throw syserror.EINVAL;
      }
      if (offset < 0) throw syserror.EINVAL;
      if (offset !== this.lastRead) {
        // Regenerate the file's contents immediately. Compare
        // fs/seq_file.c:seq_lseek() => traverse().
        try {
          await this.regenerate(ctx);
        } catch (err) {
          this.buf = Buffer.alloc(0);
          this.off = 0;
          this.lastRead = 0;
          throw err;
        }
        this.lastRead = offset;
      }
      this.off = offset;
      return offset;
    } finally {
      this.mu.unlock();
    }
  }

  /** Preconditions: fd.mu must be locked. */
  private async pwriteLocked(ctx: Context, src: Buffer, offset: number, opts: WriteOptions): Promise<number> {
    if (((opts.flags ?? 0) & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC)) !== 0) throw syserror.EOPNOTSUPP;
    const limit = checkLimit(ctx, offset, src.length);
    src = src.subarray(0, limit);
    const data = this.data!;
    if (!isWritableSource(data)) throw syserror.EIO;
    const n = await data.write(ctx, src, offset);
    // Invalidate cached data that might exist prior to this call.
    this.buf = Buffer.alloc(0);
    return n;
  }

  /** pwrite implements FileDescriptionImpl.pwrite. */
  override async pwrite(ctx: Context, src: Buffer, offset: number, opts: WriteOptions): Promise<number> {
    await this.mu.lock();
    try {
      return await this.pwriteLocked(ctx, src, offset, opts);
    } finally {
      this.mu.unlock();
    }
  }

  /** write implements FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, opts: WriteOptions): Promise<number> {
    await this.mu.lock();
    try {
      const n = await this.pwriteLocked(ctx, src, this.off, opts);
      this.off += n;
      return n;
    } finally {
      this.mu.unlock();
    }
  }
}
