// Named pipes (FIFOs) (gVisor's pkg/sentry/fsimpl/tmpfs/named_pipe.go).
//
// Differs from gVisor: pkg/sentry/kernel/pipe here keeps the pipe apart from
// vfs.FileDescription (its VFSPipeFD is the pipe half of gVisor's), so the
// vfs.FileDescriptionImpl of an opened FIFO, namedPipeFD, is defined here.
// It blocks in read and write unless O_NONBLOCK (pipe.blockingRead and
// blockingWrite), where gVisor's FD answers EWOULDBLOCK and its syscall layer
// waits; a caller that also waits on EAGAIN sees the same results.

import * as linux from '../../../abi/linux';
import { FIONREAD } from '../../../abi/linux/fcntl';
import type { Context } from '../../../context';
import * as syserror from '../../../syserror/syserror';
import type { Entry, EventMask } from '../../../waiter/waiter';
import type { KGID, KUID } from '../../kernel/auth';
import { blockingRead, blockingWrite, DefaultPipeSize, VFSPipe, type VFSPipeFD } from '../../kernel/pipe';
import * as vfs from '../../vfs';
import { fileDescription, inode, type filesystem } from './tmpfs';

export class namedPipe {
  readonly inode: inode;

  readonly pipe: VFSPipe;

  /**
   * Preconditions:
   * * fs.mu must be locked.
   * * rp.mount().checkBeginWrite() has been called successfully.
   */
  constructor(fs: filesystem, kuid: KUID, kgid: KGID, mode: number) {
    this.pipe = new VFSPipe(true /* isNamed */, DefaultPipeSize);
    this.inode = new inode(this, fs, kuid, kgid, linux.S_IFIFO | mode);
    this.inode.nlink = 1; // Only the parent has a link.
  }

  /**
   * open opens the FIFO with fifo(7)'s blocking rules (gVisor:
   * VFSPipe.Open): it may wait for the other end, so the caller holds no
   * locks.
   */
  async open(ctx: Context, mnt: vfs.Mount, vfsd: vfs.Dentry, flags: number, locks: vfs.FileLocks): Promise<vfs.FileDescription> {
    const pfd = await this.pipe.open(ctx, flags);
    const fd = new namedPipeFD(pfd);
    fd.lockFD.init(locks);
    try {
      fd.vfsfd.init(fd, flags, mnt, vfsd, { denyPRead: true, denyPWrite: true });
    } catch (err) {
      pfd.release();
      throw err;
    }
    return fd.vfsfd;
  }
}

/** newNamedPipe is gVisor's filesystem.newNamedPipe. */
export function newNamedPipe(fs: filesystem, kuid: KUID, kgid: KGID, mode: number): inode {
  return new namedPipe(fs, kuid, kgid, mode).inode;
}

/**
 * namedPipeFD is the vfs.FileDescriptionImpl of an open FIFO: gVisor's
 * VFSPipeFD with the tmpfs inode's metadata (gVisor reaches it through
 * FileDescriptionOptions.UseDentryMetadata).
 */
export class namedPipeFD extends fileDescription {
  constructor(readonly pipeFD: VFSPipeFD) {
    super();
  }

  /** release implements vfs.FileDescriptionImpl.release. */
  override release(_ctx: Context): void {
    this.pipeFD.release();
  }

  private nonblocking(): boolean {
    return (this.vfsfd.statusFlags() & linux.O_NONBLOCK) !== 0;
  }

  /** read implements vfs.FileDescriptionImpl.read. */
  override async read(ctx: Context, dst: Buffer, _opts: vfs.ReadOptions): Promise<number> {
    if (dst.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.read(dst);
    return blockingRead(ctx, this.pipeFD, dst);
  }

  /** write implements vfs.FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, _opts: vfs.WriteOptions): Promise<number> {
    if (src.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.write(src);
    return blockingWrite(ctx, this.pipeFD, src);
  }

  override async pread(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async pwrite(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async seek(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async allocate(): Promise<void> {
    throw syserror.ESPIPE;
  }

  /** ioctl implements vfs.FileDescriptionImpl.ioctl: FIONREAD. */
  override async ioctl(ctx: Context, request: number, arg: number): Promise<number> {
    if (request === FIONREAD) return this.pipeFD.queued();
    return super.ioctl(ctx, request, arg);
  }

  /** readiness implements waiter.Waitable.readiness. */
  override readiness(mask: EventMask): EventMask {
    return this.pipeFD.readiness(mask);
  }

  /** eventRegister implements waiter.Waitable.eventRegister. */
  override eventRegister(e: Entry, mask: EventMask): void {
    this.pipeFD.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable.eventUnregister. */
  override eventUnregister(e: Entry): void {
    this.pipeFD.eventUnregister(e);
  }
}
