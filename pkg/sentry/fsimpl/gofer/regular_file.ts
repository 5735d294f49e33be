// Regular files: gVisor's pkg/sentry/fsimpl/gofer/regular_file.go, without
// its page cache.
//
// Differs from gVisor: there is no page cache and no mmap (memmap, pgalloc
// and fsutil's FileRangeSet/DirtySet are out of scope), so every read and
// write goes straight to the dentry's shared handle, as gVisor's
// dentryReadWriter does when it may not cache (InteropModeShared, O_DIRECT,
// or a host FD): pread/pwrite on the handle's host fd when the gofer donated
// one (handle.ts), else one Tread/Twrite per msize chunk. writeback and
// writeCache have nothing to do; ConfigureMMap/Translate are absent.

import * as linux from '../../../abi/linux/file';
import type { Context } from '../../../context';
import { toAllocateMode } from '../../../p9/p9';
import { Mutex } from '../../../sync';
import * as syserror from '../../../syserror/syserror';
import * as vfs from '../../vfs';
import { dentry, fileDescription, InteropMode } from './gofer';

declare module './gofer' {
  interface dentry {
    isRegularFile(): boolean;
  }
}

/** RWF_HIPRI is preadv2's only flag gVisor accepts (include/uapi/linux/fs.h). */
const RWF_HIPRI = 0x1;

dentry.prototype.isRegularFile = function isRegularFile(this: dentry): boolean {
  return this.fileType() === linux.S_IFREG;
};

/** regularFileFD implements vfs.FileDescriptionImpl for regular files. */
export class regularFileFD extends fileDescription {
  /** mu protects off. */
  readonly mu = new Mutex();
  off = 0;

  /** release implements vfs.FileDescriptionImpl.release. */
  release(_ctx: Context): void {}

  /** onClose implements vfs.FileDescriptionImpl.onClose. */
  override async onClose(ctx: Context): Promise<void> {
    if (!this.vfsfd.isWritable()) return;
    // Skip flushing if there are client-buffered writes, since (as with the
    // VFS1 client) we don't flush buffered writes on close anyway. (There
    // are none here: no page cache.)
    const d = this.dentry();
    if (d.fs.opts.interop !== InteropMode.Exclusive) return;
    if (!d.handleMu.tryRLock()) await d.handleMu.rLock();
    try {
      if (d.writeFile.isNil()) return;
      await d.writeFile.flush(ctx);
    } finally {
      d.handleMu.rUnlock();
    }
  }

  /** allocate implements vfs.FileDescriptionImpl.allocate. */
  override allocate(ctx: Context, mode: number, offset: number, length: number): Promise<void> {
    const d = this.dentry();
    return d.doAllocate(ctx, offset, length, async () => {
      if (!d.handleMu.tryRLock()) await d.handleMu.rLock();
      try {
        await d.writeFile.allocate(ctx, toAllocateMode(mode), offset, length);
      } finally {
        d.handleMu.rUnlock();
      }
    });
  }

  /** pread implements vfs.FileDescriptionImpl.pread. */
  override async pread(ctx: Context, dst: Buffer, offset: number, opts: vfs.ReadOptions): Promise<number> {
    const d = this.dentry();
    if (offset < 0) throw syserror.EINVAL;

    // Check that flags are supported.
    //
    // TODO(gvisor.dev/issue/2601): Support select preadv2 flags.
    if (((opts.flags ?? 0) & ~RWF_HIPRI) !== 0) throw syserror.EOPNOTSUPP;

    // Check for reading at EOF before calling into MM (but not under
    // InteropModeShared, which makes d.size unreliable).
    //
    // Differs from gVisor, following Linux's filemap_read(): a read at EOF
    // still calls file_accessed() (only a zero-length read does not).
    if (d.cachedMetadataAuthoritative() && offset >= d.size) {
      if (dst.length !== 0 && d.fs.opts.interop !== InteropMode.Shared) d.touchAtime(this.vfsfd.mount());
      return 0;
    }

    let n: number;
    if ((this.vfsfd.statusFlags() & linux.O_DIRECT) !== 0) {
      // Lock d.metadataMu for the rest of the read to prevent d.size from
      // changing.
      const mu = d.metadataMu;
      if (!mu.tryLock()) await mu.lock();
      try {
        n = await readAtDentry(ctx, d, dst, offset);
        if (d.fs.opts.interop !== InteropMode.Shared) d.touchAtimeLocked(this.vfsfd.mount());
      } finally {
        mu.unlock();
      }
    } else {
      n = await readAtDentry(ctx, d, dst, offset);
      if (d.fs.opts.interop !== InteropMode.Shared) {
        // Compare Linux's mm/filemap.c:do_generic_file_read() =>
        // file_accessed().
        d.touchAtime(this.vfsfd.mount());
      }
    }
    return n;
  }

  /** read implements vfs.FileDescriptionImpl.read. */
  override async read(ctx: Context, dst: Buffer, opts: vfs.ReadOptions): Promise<number> {
    if (!this.mu.tryLock()) await this.mu.lock();
    try {
      const n = await this.pread(ctx, dst, this.off, opts);
      this.off += n;
      return n;
    } finally {
      this.mu.unlock();
    }
  }

  /** pwrite implements vfs.FileDescriptionImpl.pwrite. */
  override async pwrite(ctx: Context, src: Buffer, offset: number, opts: vfs.WriteOptions): Promise<number> {
    const [n] = await this.pwriteOff(ctx, src, offset, opts);
    return n;
  }

  /**
   * pwriteOff returns the number of bytes written and the final offset
   * (gVisor's regularFileFD.pwrite; named apart from the FileDescriptionImpl
   * method pwrite, which TypeScript cannot overload by result).
   *
   * Preconditions: fd.vfsfd.isWritable().
   */
  async pwriteOff(ctx: Context, src: Buffer, offset: number, opts: vfs.WriteOptions): Promise<[number, number]> {
    if (offset < 0) throw syserror.EINVAL;

    // Check that flags are supported.
    //
    // TODO(gvisor.dev/issue/2601): Support select pwritev2 flags.
    if (((opts.flags ?? 0) & ~RWF_HIPRI) !== 0) throw syserror.EOPNOTSUPP;

    const d = this.dentry();
    // If the fd was opened with O_APPEND, make sure the file size is updated.
    // There is a possible race here if size is modified externally after
    // metadata cache is updated.
    if ((this.vfsfd.statusFlags() & linux.O_APPEND) !== 0 && !d.cachedMetadataAuthoritative()) {
      await d.updateFromGetattr(ctx);
    }

    const mu = d.metadataMu;
    if (!mu.tryLock()) await mu.lock();
    try {
      // Set offset to file size if the fd was opened with O_APPEND.
      if ((this.vfsfd.statusFlags() & linux.O_APPEND) !== 0) {
        // Holding d.metadataMu is sufficient for reading d.size.
        offset = d.size;
      }
      const limit = vfs.checkLimit(ctx, offset, src.length);
      src = src.subarray(0, limit);
      // Differs from gVisor at dbe41765: a write clears set-ID bits as
      // Linux's file_remove_privs does (none for an empty write).
      if (src.length > 0 && (d.inode.mode & (linux.S_ISUID | linux.S_ISGID)) !== 0) await d.removePrivsLocked(ctx);

      if (d.fs.opts.interop !== InteropMode.Shared) {
        // Compare Linux's mm/filemap.c:__generic_file_write_iter() =>
        // file_update_time(). This is d.touchCMtime(), but without
        // locking d.metadataMu (which we already hold).
        d.touchCMtimeLocked();
      }

      const n = await writeAtDentry(ctx, d, src, offset);
      if (n > 0 && (this.vfsfd.statusFlags() & (linux.O_DSYNC | linux.O_SYNC)) !== 0) {
        // Note that if any of the following fail, then we can't guarantee
        // that any data was actually written with the semantics of O_DSYNC
        // or O_SYNC, so we return zero bytes written. Compare Linux's
        // mm/filemap.c:generic_file_write_iter() =>
        // include/linux/fs.h:generic_write_sync().
        await d.syncRemoteFile(ctx);
      }
      return [n, offset + n];
    } finally {
      mu.unlock();
    }
  }

  /** write implements vfs.FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, opts: vfs.WriteOptions): Promise<number> {
    if (!this.mu.tryLock()) await this.mu.lock();
    try {
      const [n, off] = await this.pwriteOff(ctx, src, this.off, opts);
      this.off = off;
      return n;
    } finally {
      this.mu.unlock();
    }
  }

  /** seek implements vfs.FileDescriptionImpl.seek. */
  override async seek(ctx: Context, offset: number, whence: number): Promise<number> {
    if (!this.mu.tryLock()) await this.mu.lock();
    try {
      const newOffset = await regularFileSeekLocked(ctx, this.dentry(), this.off, offset, whence);
      this.off = newOffset;
      return newOffset;
    } finally {
      this.mu.unlock();
    }
  }

  /** sync implements vfs.FileDescriptionImpl.sync. */
  override sync(ctx: Context): Promise<void> {
    return this.dentry().syncCachedFile(ctx, false /* forFilesystemSync */);
  }
}

/**
 * readAtDentry is gVisor's dentryReadWriter.ReadToBlocks on its uncached
 * path: read from the shared read handle. Differs from gVisor, whose chunk
 * loop is serial: a read larger than one message sends all its msize chunks
 * at once (readToBlocksAt's parallel, ClientFile.readAtParallel), with the serial loop's result.
 */
async function readAtDentry(ctx: Context, d: dentry, dst: Buffer, off: number): Promise<number> {
  if (dst.length === 0) return 0;
  if (!d.handleMu.tryRLock()) await d.handleMu.rLock();
  try {
    return await d.readHandleLocked().readToBlocksAt(ctx, dst, off, true /* parallel */);
  } finally {
    d.handleMu.rUnlock();
  }
}

/**
 * writeAtDentry is gVisor's dentryReadWriter.WriteFromBlocks on its uncached
 * path: write to the shared write handle and extend d.size.
 *
 * Preconditions: d.metadataMu must be locked.
 */
async function writeAtDentry(ctx: Context, d: dentry, src: Buffer, off: number): Promise<number> {
  if (src.length === 0) return 0;
  if (!d.handleMu.tryRLock()) await d.handleMu.rLock();
  try {
    const n = await d.writeHandleLocked().writeFromBlocksAt(ctx, src, off);
    const end = off + n;
    // Update the file size if necessary.
    if (end > d.inode.size) d.inode.size = end;
    return n;
  } finally {
    d.handleMu.rUnlock();
  }
}

/**
 * regularFileSeekLocked computes a new offset for lseek.
 *
 * Calculate the new offset, while holding the fd's mu. SEEK_DATA and
 * SEEK_HOLE treat the file as having no holes, as gVisor does: SEEK_DATA
 * returns offset, SEEK_HOLE the size, and both fail with ENXIO past the
 * end. (Linux on a sparse host file would find its holes.)
 *
 * Preconditions: fd.mu must be locked.
 */
export async function regularFileSeekLocked(ctx: Context, d: dentry, fdOffset: number, offset: number, whence: number): Promise<number> {
  switch (whence) {
    case linux.SEEK_SET:
      // Use offset as specified.
      break;
    case linux.SEEK_CUR:
      offset += fdOffset;
      break;
    case linux.SEEK_END:
    case linux.SEEK_DATA:
    case linux.SEEK_HOLE: {
      // Ensure file size is up to date.
      if (!d.cachedMetadataAuthoritative()) await d.updateFromGetattr(ctx);
      const size = d.size;
      // For SEEK_DATA and SEEK_HOLE, treat the file as a single contiguous
      // block of data.
      switch (whence) {
        case linux.SEEK_END:
          offset += size;
          break;
        case linux.SEEK_DATA:
          if (offset > size) throw syserror.ENXIO;
          // Use offset as specified.
          break;
        case linux.SEEK_HOLE:
          if (offset > size) throw syserror.ENXIO;
          offset = size;
          break;
      }
      break;
    }
    default:
      throw syserror.EINVAL;
  }
  if (offset < 0) throw syserror.EINVAL;
  return offset;
}

/**
 * newRegularFileFD returns a regularFileFD for d, opened with flags.
 */
export function newRegularFileFD(mnt: vfs.Mount, d: dentry, flags: number): regularFileFD {
  const fd = new regularFileFD();
  fd.lockFD.init(d.locks);
  fd.vfsfd.init(fd, flags, mnt, d.vfsd, { allowDirectIO: true });
  return fd;
}
