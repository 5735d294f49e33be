// Special files: gVisor's pkg/sentry/fsimpl/gofer/special_file.go
// (specialFileFD: one handle per open file description, for named pipes,
// sockets, devices, and regular files under cache=none), plus the file
// description of synthetic named pipes.
//
// Differs from gVisor: the gofer donates host fds for regular files only
// (see handle.ts), never for named pipes or sockets, so there is no
// fdnotifier queue: readiness is the default (always ready), and
// a named pipe on the server is read and written through Tread/Twrite (see
// host_named_pipe.ts). The synthetic pipe FD (gVisor's pipe.VFSPipeFD,
// which embeds a FileDescription) is syntheticPipeFD here, because this
// tree's pkg/sentry/kernel/pipe keeps the pipe apart from vfs.

import * as linux from '../../../abi/linux/file';
import { FIONREAD } from '../../../abi/linux/fcntl';
import type { Context } from '../../../context';
import { logger } from '../../../context';
import { toAllocateMode } from '../../../p9/p9';
import { Mutex } from '../../../sync';
import * as syserror from '../../../syserror/syserror';
import { blockingRead, blockingWrite, type VFSPipeFD } from '../../kernel/pipe';
import type { Entry, EventMask } from '../../../waiter/waiter';
import * as vfs from '../../vfs';
import { type dentry, fileDescription } from './gofer';
import type { handle } from './handle';
import { regularFileSeekLocked } from './regular_file';

const log = logger('gvisor:gofer');

/** RWF_HIPRI is preadv2's only flag gVisor accepts. */
const RWF_HIPRI = 0x1;

/**
 * specialFileFD implements vfs.FileDescriptionImpl for pipes, sockets,
 * device special files, and (when filesystemOptions.
 * regularFilesUseSpecialFileFD is in effect) regular files. specialFileFD
 * differs from regularFileFD by using per-FD handles instead of shared
 * per-dentry handles, and never buffering I/O.
 */
export class specialFileFD extends fileDescription {
  /** handle is used for file I/O. handle is immutable. */
  readonly handle: handle;

  /** isRegularFile is true if this FD represents a regular file. isRegularFile is immutable. */
  readonly isRegularFile: boolean;

  /** seekable is true if this file description represents a file for which file offset is significant. seekable is immutable. */
  readonly seekable: boolean;

  /** If seekable is true, off is the file offset. off is protected by mu. */
  readonly mu = new Mutex();
  off = 0;

  constructor(h: handle, ftype: number) {
    super();
    this.handle = h;
    this.isRegularFile = ftype === linux.S_IFREG;
    this.seekable = ftype === linux.S_IFREG || ftype === linux.S_IFCHR || ftype === linux.S_IFBLK;
  }

  /** release implements vfs.FileDescriptionImpl.release. */
  release(ctx: Context): void {
    this.handle.close(ctx);
    this.filesystem().specialFileFDs.delete(this);
  }

  /** onClose implements vfs.FileDescriptionImpl.onClose. */
  override async onClose(ctx: Context): Promise<void> {
    if (!this.vfsfd.isWritable()) return;
    await this.handle.file.flush(ctx);
  }

  /** allocate implements vfs.FileDescriptionImpl.allocate. */
  override allocate(ctx: Context, mode: number, offset: number, length: number): Promise<void> {
    if (this.isRegularFile) {
      const d = this.dentry();
      return d.doAllocate(ctx, offset, length, () => this.handle.file.allocate(ctx, toAllocateMode(mode), offset, length));
    }
    return super.allocate(ctx, mode, offset, length);
  }

  /** pread implements vfs.FileDescriptionImpl.pread. */
  override async pread(ctx: Context, dst: Buffer, offset: number, opts: vfs.ReadOptions): Promise<number> {
    if (this.seekable && offset < 0) throw syserror.EINVAL;

    // Check that flags are supported.
    //
    // TODO(gvisor.dev/issue/2601): Support select preadv2 flags.
    if (((opts.flags ?? 0) & ~RWF_HIPRI) !== 0) throw syserror.EOPNOTSUPP;

    const d = this.dentry();
    if (d.cachedMetadataAuthoritative()) d.touchAtime(this.vfsfd.mount());

    // Going through dst.CopyOutFrom() would hold MM locks around file
    // operations of unknown duration. For regularFileFD, doing so is
    // necessary to support mmap due to lock ordering; MM locks precede
    // dentry.dataMu. That doesn't hold here since specialFileFD doesn't
    // client-cache data. (Here dst is a Buffer: no copy is needed.)
    try {
      return await this.handle.readToBlocksAt(ctx, dst, offset < 0 ? 0 : offset);
    } catch (err) {
      if (err === syserror.EAGAIN) throw syserror.ErrWouldBlock;
      throw err;
    }
  }

  /** read implements vfs.FileDescriptionImpl.read. */
  override async read(ctx: Context, dst: Buffer, opts: vfs.ReadOptions): Promise<number> {
    if (!this.seekable) return this.pread(ctx, dst, -1, opts);
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
   * (gVisor's specialFileFD.pwrite).
   *
   * Preconditions: fd.vfsfd.isWritable().
   */
  async pwriteOff(ctx: Context, src: Buffer, offset: number, opts: vfs.WriteOptions): Promise<[number, number]> {
    if (this.seekable && offset < 0) throw syserror.EINVAL;

    // Check that flags are supported.
    //
    // TODO(gvisor.dev/issue/2601): Support select pwritev2 flags.
    if (((opts.flags ?? 0) & ~RWF_HIPRI) !== 0) throw syserror.EOPNOTSUPP;

    const d = this.dentry();
    let unlock = false;
    try {
      if (this.isRegularFile) {
        // If the regular file fd was opened with O_APPEND, make sure the
        // file size is updated. There is a possible race here if size is
        // modified externally after metadata cache is updated.
        if ((this.vfsfd.statusFlags() & linux.O_APPEND) !== 0 && !d.cachedMetadataAuthoritative()) {
          await d.updateFromGetattr(ctx);
        }
        if (!d.metadataMu.tryLock()) await d.metadataMu.lock();
        unlock = true;

        // Set offset to file size if the regular file was opened with
        // O_APPEND.
        if ((this.vfsfd.statusFlags() & linux.O_APPEND) !== 0) {
          // Holding d.metadataMu is sufficient for reading d.size.
          offset = d.size;
        }
        const limit = vfs.checkLimit(ctx, offset, src.length);
        src = src.subarray(0, limit);
        // As regularFileFD.pwriteOff: file_remove_privs.
        if (src.length > 0 && (d.inode.mode & (linux.S_ISUID | linux.S_ISGID)) !== 0) await d.removePrivsLocked(ctx);
      }

      // Do a buffered write. See rationale in PRead.
      if (d.cachedMetadataAuthoritative()) d.touchCMtime();
      let n: number;
      try {
        n = await this.handle.writeFromBlocksAt(ctx, src, offset < 0 ? 0 : offset);
      } catch (err) {
        if (err === syserror.EAGAIN) throw syserror.ErrWouldBlock;
        throw err;
      }
      if (offset >= 0) offset += n;
      // Update file size for regular files.
      if (this.isRegularFile && offset > d.inode.size) d.inode.size = offset;
      return [n, offset];
    } finally {
      if (unlock) d.metadataMu.unlock();
    }
  }

  /** write implements vfs.FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, opts: vfs.WriteOptions): Promise<number> {
    if (!this.seekable) return this.pwrite(ctx, src, -1, opts);
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
    if (!this.seekable) throw syserror.ESPIPE;
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
    return this.syncFD(ctx, false /* forFilesystemSync */);
  }

  /** syncFD is gVisor's specialFileFD.sync (the name sync is the FileDescriptionImpl method). */
  async syncFD(ctx: Context, forFilesystemSync: boolean): Promise<void> {
    try {
      await this.handle.file.fsync(ctx);
    } catch (err) {
      if (!forFilesystemSync) throw err;
      // Only return err if we can reasonably have expected sync to succeed
      // (fd represents a regular file that was opened for writing).
      if (this.isRegularFile && this.vfsfd.isWritable()) throw err;
      log.debugf('gofer.specialFileFD.sync: syncing non-writable or non-regular-file FD failed: %s', String(err));
    }
  }
}

/**
 * newSpecialFileFD returns a specialFileFD for d with the handle h; on
 * success the FD owns h.
 */
export function newSpecialFileFD(h: handle, mnt: vfs.Mount, d: dentry, flags: number): specialFileFD {
  const ftype = d.fileType();
  const fd = new specialFileFD(h, ftype);
  fd.lockFD.init(d.locks);
  fd.vfsfd.init(fd, flags, mnt, d.vfsd, { denyPRead: !fd.seekable, denyPWrite: !fd.seekable });
  d.fs.specialFileFDs.add(fd);
  return fd;
}

/**
 * syntheticPipeFD is the file description of an open synthetic named pipe
 * (gVisor's pipe.VFSPipeFD, opened by VFSPipe.Open), with the dentry's
 * metadata.
 */
export class syntheticPipeFD extends fileDescription {
  constructor(readonly pipeFD: VFSPipeFD) {
    super();
  }

  /** release implements vfs.FileDescriptionImpl.release. */
  release(_ctx: Context): void {
    this.pipeFD.release();
  }

  private nonblocking(): boolean {
    return (this.vfsfd.statusFlags() & linux.O_NONBLOCK) !== 0;
  }

  override async read(ctx: Context, dst: Buffer, _opts: vfs.ReadOptions): Promise<number> {
    if (dst.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.read(dst);
    return blockingRead(ctx, this.pipeFD, dst);
  }

  override async write(ctx: Context, src: Buffer, _opts: vfs.WriteOptions): Promise<number> {
    if (src.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.write(src);
    return blockingWrite(ctx, this.pipeFD, src);
  }

  override async pread(): Promise<number> { throw syserror.ESPIPE; }
  override async pwrite(): Promise<number> { throw syserror.ESPIPE; }
  override async seek(): Promise<number> { throw syserror.ESPIPE; }
  override async allocate(): Promise<void> { throw syserror.ESPIPE; }

  override async ioctl(ctx: Context, request: number, arg: number): Promise<number> {
    if (request === FIONREAD) return this.pipeFD.queued();
    return super.ioctl(ctx, request, arg);
  }

  override readiness(mask: EventMask): EventMask {
    return this.pipeFD.readiness(mask);
  }

  override eventRegister(e: Entry, mask: EventMask): void {
    this.pipeFD.eventRegister(e, mask);
  }

  override eventUnregister(e: Entry): void {
    this.pipeFD.eventUnregister(e);
  }

  override async sync(): Promise<void> {}
}

/** openSyntheticPipe opens d's synthetic pipe with fifo(7)'s blocking rules (gVisor: d.pipe.Open). */
export async function openSyntheticPipe(ctx: Context, mnt: vfs.Mount, d: dentry, flags: number): Promise<vfs.FileDescription> {
  const pfd = await d.pipe!.open(ctx, flags);
  const fd = new syntheticPipeFD(pfd);
  fd.lockFD.init(d.locks);
  try {
    fd.vfsfd.init(fd, flags, mnt, d.vfsd, { denyPRead: true, denyPWrite: true });
  } catch (err) {
    pfd.release();
    throw err;
  }
  return fd.vfsfd;
}
