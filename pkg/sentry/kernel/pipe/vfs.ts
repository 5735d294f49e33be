// Types enabling the pipe package to be used with the vfs package: gVisor's
// pkg/sentry/kernel/pipe/vfs.go, without the vfs.FileDescription parts (see
// pipe.ts): VFSPipeFD here is the pipe half of gVisor's VFSPipeFD.

import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../../../abi/linux/file';
import type { Context } from '../../../context/context';
import * as context from '../../../context/context';
import * as syserror from '../../../syserror/syserror';
import { EventHUp, EventIn, EventOut, type Entry, type EventMask, type Waitable } from '../../../waiter/waiter';
import { DefaultPipeSize, Pipe } from './pipe';
import { Wakeup } from './pipe_util';

/** mayReadFileWithOpenFlags is vfs.MayReadFileWithOpenFlags. */
function mayReadFileWithOpenFlags(flags: number): boolean {
  const acc = flags & O_ACCMODE;
  return acc === O_RDONLY || acc === O_RDWR;
}

/** mayWriteFileWithOpenFlags is vfs.MayWriteFileWithOpenFlags. */
function mayWriteFileWithOpenFlags(flags: number): boolean {
  const acc = flags & O_ACCMODE;
  return acc === O_WRONLY || acc === O_RDWR;
}

/**
 * VFSPipe represents the actual pipe, analogous to an inode (for a FIFO, the
 * filesystem keeps one per named-pipe inode).
 */
export class VFSPipe {
  /** pipe is the underlying pipe. */
  readonly pipe: Pipe;

  // Wakeups for synchronizing the creation of new readers and writers of
  // this fifo. See waitFor and newHandleLocked.
  private rWakeup: Wakeup | null = null;
  private wWakeup: Wakeup | null = null;

  /** new VFSPipe returns an initialized VFSPipe (gVisor: NewVFSPipe). */
  constructor(isNamed: boolean, sizeBytes: number = DefaultPipeSize) {
    this.pipe = new Pipe(isNamed, sizeBytes);
  }

  /**
   * readerWriterPair returns read-only and write-only FDs for vp (pipe2).
   *
   * Preconditions: statusFlags should not contain an open access mode.
   */
  readerWriterPair(statusFlags: number): [VFSPipeFD, VFSPipeFD] {
    return [this.newFD(O_RDONLY | statusFlags), this.newFD(O_WRONLY | statusFlags)];
  }

  /**
   * open opens the pipe represented by vp, with a FIFO's blocking rules.
   *
   * Named pipes have special blocking semantics during open:
   *
   * "Normally, opening the FIFO blocks until the other end is opened also. A
   * process can open a FIFO in nonblocking mode. In this case, opening for
   * read-only will succeed even if no-one has opened on the write side yet,
   * opening for write-only will fail with ENXIO (no such device or address)
   * unless the other end has already been opened. Under Linux, opening a
   * FIFO for read and write will succeed both in blocking and nonblocking
   * mode. POSIX leaves this behavior undefined. This can be used to open a
   * FIFO for writing while there are no readers available." - fifo(7)
   *
   * Rejects with EINVAL (no access mode), ENXIO, or EINTR when ctx is
   * interrupted while waiting for the other end.
   */
  async open(ctx: Context, statusFlags: number): Promise<VFSPipeFD> {
    const readable = mayReadFileWithOpenFlags(statusFlags);
    const writable = mayWriteFileWithOpenFlags(statusFlags);
    if (!readable && !writable) throw syserror.EINVAL;

    const fd = this.newFD(statusFlags);

    if (readable && writable) {
      // Pipes opened for read-write always succeed without blocking.
      this.rWakeup = newHandleLocked(this.rWakeup);
      this.wWakeup = newHandleLocked(this.wWakeup);
    } else if (readable) {
      this.rWakeup = newHandleLocked(this.rWakeup);
      // If this pipe is being opened as blocking and there's no writer, we
      // have to wait for a writer to open the other end.
      if (this.pipe.isNamed && (statusFlags & O_NONBLOCK) === 0 && !this.pipe.hasWriters()) {
        this.wWakeup ??= new Wakeup();
        await this.waitFor(ctx, fd, this.wWakeup);
      }
    } else {
      this.wWakeup = newHandleLocked(this.wWakeup);
      if (this.pipe.isNamed && !this.pipe.hasReaders()) {
        // Non-blocking, write-only opens fail with ENXIO when the read side
        // isn't open yet.
        if ((statusFlags & O_NONBLOCK) !== 0) {
          fd.release();
          throw syserror.ENXIO;
        }
        // Wait for a reader to open the other end.
        this.rWakeup ??= new Wakeup();
        await this.waitFor(ctx, fd, this.rWakeup);
      }
    }
    return fd;
  }

  // waitFor waits until w fires (the other end was opened) or ctx is
  // interrupted; then fd is released and EINTR thrown. If both happen, the
  // wakeup takes priority, as in gVisor's waitFor.
  private async waitFor(ctx: Context, fd: VFSPipeFD, w: Wakeup): Promise<void> {
    let woken = false;
    void w.promise.then(() => (woken = true));
    try {
      await context.sleep(ctx, w.promise);
    } catch (e) {
      // Let a wakeup that raced with the interruption settle first.
      await Promise.resolve();
      if (woken) return;
      fd.release();
      throw e;
    }
  }

  /** newFD returns a new VFSPipeFD and counts it as a reader and/or writer. */
  private newFD(statusFlags: number): VFSPipeFD {
    const fd = new VFSPipeFD(this.pipe, statusFlags);
    if (fd.readable) this.pipe.rOpen();
    if (fd.writable) this.pipe.wOpen();
    if (!fd.readable && !fd.writable) throw new Error('invalid pipe flags: must be readable, writable, or both');
    return fd;
  }
}

/**
 * newHandleLocked signals a new pipe reader or writer, unblocking any
 * corresponding reader or writer waiting for the other end to be opened.
 * Returns the new (cleared) wakeup slot.
 */
function newHandleLocked(w: Wakeup | null): null {
  w?.fire();
  return null;
}

/**
 * VFSPipeFD is the pipe half of gVisor's VFSPipeFD (a vfs.FileDescriptionImpl
 * there): non-blocking read and write, readiness and wait-queue
 * registration, release, and the pipe-size and FIONREAD controls. The VFS
 * wraps it; blocking is blockingRead/blockingWrite (pipe_util.ts) when the
 * file is not O_NONBLOCK.
 */
export class VFSPipeFD implements Waitable {
  readonly readable: boolean;
  readonly writable: boolean;
  private released = false;

  constructor(
    readonly pipe: Pipe,
    /** statusFlags are the open flags the FD was created with. */
    readonly statusFlags: number,
  ) {
    this.readable = mayReadFileWithOpenFlags(statusFlags);
    this.writable = mayWriteFileWithOpenFlags(statusFlags);
  }

  /** release implements vfs.FileDescriptionImpl.Release: the end is closed. */
  release(): void {
    if (this.released) throw new Error('pipe: VFSPipeFD released twice');
    this.released = true;
    let event: EventMask = 0;
    if (this.readable) {
      this.pipe.rClose();
      event |= EventOut;
    }
    if (this.writable) {
      this.pipe.wClose();
      event |= EventIn | EventHUp;
    }
    this.pipe.notify(event);
  }

  /** readiness implements waiter.Waitable.readiness. */
  readiness(mask: EventMask): EventMask {
    let r: EventMask;
    if (this.readable && this.writable) r = this.pipe.rwReadiness();
    else if (this.readable) r = this.pipe.rReadiness();
    else r = this.pipe.wReadiness();
    return r & mask;
  }

  /** eventRegister implements waiter.Waitable.eventRegister. */
  eventRegister(e: Entry, mask: EventMask): void {
    this.pipe.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable.eventUnregister. */
  eventUnregister(e: Entry): void {
    this.pipe.eventUnregister(e);
  }

  /**
   * read implements vfs.FileDescriptionImpl.Read (gVisor: Pipe.Read): the
   * number of bytes read, 0 at EOF; EAGAIN if it would block.
   */
  read(dst: Uint8Array): number {
    const n = this.pipe.readLocked(dst);
    if (n > 0) this.pipe.notify(EventOut);
    return n;
  }

  /**
   * write implements vfs.FileDescriptionImpl.Write (gVisor: Pipe.Write):
   * the number of bytes written, fewer than src.length if the rest would
   * block; EAGAIN if none could be written; EPIPE without readers.
   */
  write(src: Uint8Array): number {
    const n = this.pipe.writeLocked(src);
    if (n > 0) this.pipe.notify(EventIn);
    return n;
  }

  /** queued implements ioctl(FIONREAD): the queued bytes, truncated to an int32. */
  queued(): number {
    return Math.min(this.pipe.queued(), 0x7fffffff);
  }

  /** pipeSize implements fcntl(F_GETPIPE_SZ). */
  pipeSize(): number {
    return this.pipe.fifoSize();
  }

  /** setPipeSize implements fcntl(F_SETPIPE_SZ). */
  setPipeSize(size: number): number {
    return this.pipe.setFifoSize(size);
  }

  /** allocate implements vfs.FileDescriptionImpl.Allocate: pipes are not seekable. */
  allocate(): never {
    throw syserror.ESPIPE;
  }
}
