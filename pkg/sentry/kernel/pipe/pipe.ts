// Package pipe provides a pipe implementation: gVisor's
// pkg/sentry/kernel/pipe (pipe.go here; pipe_util.go and vfs.go beside it).
//
// Differs from gVisor:
//  * Only the VFS2 side is ported (no fs.File/InodeOperations of VFS1), and
//    vfs.go is kept free of pkg/sentry/vfs: VFSPipe.open returns a VFSPipeFD
//    that holds the pipe half of gVisor's VFSPipeFD (read, write, readiness,
//    release, pipe size, FIONREAD); the VFS wraps it in a FileDescription.
//  * Reads and writes take and return byte arrays (Uint8Array) rather than
//    usermem.IOSequence. The non-blocking core throws EAGAIN (gVisor:
//    ErrWouldBlock); blockingRead/blockingWrite (pipe_util.ts) are the
//    Promise forms, the loop gVisor's syscall layer runs around them.
//  * No mutex: every state change is synchronous, so JS's run-to-completion
//    gives what gVisor's Pipe.mu and VFSPipe.mu give.
//  * Linux wins where gVisor differs: a zero-length write succeeds even
//    without readers; F_SETPIPE_SZ rounds up to a power-of-two number of
//    pages (fs/pipe.c:round_pipe_size).

import * as syserror from '../../../syserror/syserror';
import { EventErr, EventHUp, EventIn, EventOut, Queue, type Entry, type EventMask } from '../../../waiter/waiter';
import { ByteQueue } from './buffer';

/** PageSize is the page size of the emulated machine (usermem.PageSize). */
const PageSize = 4096;

/**
 * MinimumPipeSize is a hard limit of the minimum size of a pipe. It
 * corresponds to fs/pipe.c:pipe_min_size.
 */
export const MinimumPipeSize = PageSize;

/**
 * MaximumPipeSize is a hard limit on the maximum size of a pipe. It
 * corresponds to fs/pipe.c:pipe_max_size.
 */
export const MaximumPipeSize = 1048576;

/**
 * DefaultPipeSize is the system-wide default size of a pipe in bytes. It
 * corresponds to pipe_fs_i.h:PIPE_DEF_BUFFERS.
 */
export const DefaultPipeSize = 16 * PageSize;

/**
 * atomicIOBytes is the maximum number of bytes that the pipe will guarantee
 * atomic reads or writes atomically. It corresponds to limits.h:PIPE_BUF.
 */
export const atomicIOBytes = 4096;

/**
 * Pipe is an encapsulation of a platform-independent pipe. It manages a
 * buffered byte queue shared between a reader/writer pair.
 */
export class Pipe {
  /** queue is the wait queue (gVisor embeds waiter.Queue in Pipe). */
  readonly queue = new Queue();

  /** isNamed indicates whether this is a named pipe. This value is immutable. */
  readonly isNamed: boolean;

  /** The number of active readers for this pipe. */
  private readers = 0;

  /** The number of active writers for this pipe. */
  private writers = 0;

  /** view is the underlying set of buffers. */
  readonly view = new ByteQueue();

  /**
   * max is the maximum size of the pipe in bytes. When this max has been
   * reached, writers will get EWOULDBLOCK.
   */
  private max: number;

  /**
   * hadWriter indicates if this pipe ever had a writer. Note that this does
   * not necessarily indicate there is *currently* a writer, just that there
   * has been a writer at some point since the pipe was created.
   */
  private hadWriter = false;

  /** new Pipe initializes a pipe (gVisor: NewPipe/initPipe). The size is bounded. */
  constructor(isNamed: boolean, sizeBytes: number = DefaultPipeSize) {
    if (sizeBytes < MinimumPipeSize) sizeBytes = MinimumPipeSize;
    if (sizeBytes > MaximumPipeSize) sizeBytes = MaximumPipeSize;
    this.isNamed = isNamed;
    this.max = sizeBytes;
  }

  /**
   * readLocked reads data from the pipe into dst and returns the number of
   * bytes read: 0 for a zero-length read or at EOF (no writers), EAGAIN if
   * the pipe is empty and has writers.
   *
   * Precondition: this pipe must have readers.
   */
  readLocked(dst: Uint8Array): number {
    // Don't block for a zero-length read even if the pipe is empty.
    if (dst.length === 0) return 0;

    // Is the pipe empty?
    if (this.view.size() === 0) {
      // There are no writers, return EOF.
      if (!this.hasWriters()) return 0;
      throw syserror.EAGAIN;
    }

    // Limit how much we consume; copy user data.
    return this.view.readInto(dst);
  }

  /**
   * writeLocked writes data from src into the pipe and returns the number of
   * bytes written. A write of at most atomicIOBytes (PIPE_BUF) is all or
   * nothing; a larger one writes what fits. If no bytes can be written
   * because the pipe is full (or has less free capacity than a small
   * write), it throws EAGAIN; without readers, EPIPE. A result smaller than
   * src.length means the rest would block.
   *
   * Precondition: this pipe must have writers.
   */
  writeLocked(src: Uint8Array): number {
    // Linux (pipe_write): "Null write succeeds", even without readers.
    if (src.length === 0) return 0;

    // Can't write to a pipe with no readers.
    if (!this.hasReaders()) throw syserror.EPIPE;

    // POSIX requires that a write smaller than atomicIOBytes (PIPE_BUF) be
    // atomic, but requires no atomicity for writes larger than this.
    let wanted = src.length;
    const avail = this.max - this.view.size();
    if (wanted > avail) {
      if (wanted <= atomicIOBytes || avail === 0) throw syserror.EAGAIN;
      wanted = avail;
    }

    // Copy user data.
    this.view.append(src, wanted);
    return wanted;
  }

  /** rOpen signals a new reader of the pipe. */
  rOpen(): void {
    this.readers++;
  }

  /** wOpen signals a new writer of the pipe. */
  wOpen(): void {
    this.hadWriter = true;
    this.writers++;
  }

  /** rClose signals that a reader has closed their end of the pipe. */
  rClose(): void {
    if (this.readers <= 0) throw new Error(`Refcounting bug, pipe has negative readers: ${this.readers - 1}`);
    this.readers--;
  }

  /** wClose signals that a writer has closed their end of the pipe. */
  wClose(): void {
    if (this.writers <= 0) throw new Error(`Refcounting bug, pipe has negative writers: ${this.writers - 1}`);
    this.writers--;
  }

  /** hasReaders returns whether the pipe has any active readers. */
  hasReaders(): boolean {
    return this.readers > 0;
  }

  /** hasWriters returns whether the pipe has any active writers. */
  hasWriters(): boolean {
    return this.writers > 0;
  }

  /** readerCount and writerCount expose the counts (for tests and /proc-style output). */
  readerCount(): number {
    return this.readers;
  }

  writerCount(): number {
    return this.writers;
  }

  /** rReadiness calculates the read readiness. */
  rReadiness(): EventMask {
    let ready = 0;
    if (this.hasReaders() && this.view.size() !== 0) ready |= EventIn;
    if (!this.hasWriters() && this.hadWriter) {
      // POLLHUP must be suppressed until the pipe has had at least one
      // writer at some point. Otherwise a reader thread may poll and
      // immediately get a POLLHUP before the writer ever opens the pipe,
      // which the reader may interpret as the writer opening then closing
      // the pipe.
      ready |= EventHUp;
    }
    return ready;
  }

  /** wReadiness calculates the write readiness. */
  wReadiness(): EventMask {
    let ready = 0;
    if (this.hasWriters() && this.view.size() < this.max) ready |= EventOut;
    if (!this.hasReaders()) ready |= EventErr;
    return ready;
  }

  /** rwReadiness returns a mask that states whether a read-write handle to the pipe is ready for IO. */
  rwReadiness(): EventMask {
    return this.rReadiness() | this.wReadiness();
  }

  /** queued returns the amount of queued data. */
  queued(): number {
    return this.view.size();
  }

  /** fifoSize returns the pipe's capacity (F_GETPIPE_SZ). */
  fifoSize(): number {
    return this.max;
  }

  /**
   * setFifoSize sets the pipe's capacity (F_SETPIPE_SZ) and returns it:
   * rounded up to a power-of-two number of pages as Linux does; EINVAL for
   * a negative size, EPERM above MaximumPipeSize, EBUSY below what is
   * queued.
   */
  setFifoSize(size: number): number {
    if (size < 0) throw syserror.EINVAL;
    if (size < MinimumPipeSize) size = MinimumPipeSize; // Per spec.
    if (size > MaximumPipeSize) throw syserror.EPERM;
    // fs/pipe.c:round_pipe_size.
    const pages = Math.ceil(size / PageSize);
    size = 2 ** Math.ceil(Math.log2(pages)) * PageSize;
    if (size > MaximumPipeSize) throw syserror.EPERM;
    if (size < this.view.size()) throw syserror.EBUSY;
    this.max = size;
    return size;
  }

  /** eventRegister implements waiter.Waitable.eventRegister. */
  eventRegister(e: Entry, mask: EventMask): void {
    this.queue.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable.eventUnregister. */
  eventUnregister(e: Entry): void {
    this.queue.eventUnregister(e);
  }

  /** notify wakes waiters for the events in mask. */
  notify(mask: EventMask): void {
    this.queue.notify(mask);
  }
}
