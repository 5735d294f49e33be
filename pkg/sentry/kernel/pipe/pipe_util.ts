// Pipe functionality tied to neither VFS nor the old fs architecture:
// gVisor's pkg/sentry/kernel/pipe/pipe_util.go, plus the blocking loop that
// gVisor's syscall layer (syscalls/linux/vfs2/read_write.go) runs around a
// non-blocking pipe read or write.

import type { Context } from '../../../context/context';
import * as syserror from '../../../syserror/syserror';
import { EventErr, EventHUp, EventIn, EventOut, waitFor, type Waitable } from '../../../waiter/waiter';

/** pipeIO is what blockingRead/blockingWrite need: gVisor's VFSPipeFD, non-blocking. */
export interface pipeIO extends Waitable {
  read(dst: Uint8Array): number;
  write(src: Uint8Array): number;
}

/**
 * blockingRead reads into dst, waiting while the pipe is empty and has
 * writers (read(2) without O_NONBLOCK). It resolves with the number of bytes
 * read as soon as there are any, 0 at EOF; rejects with EINTR if ctx is
 * interrupted first.
 */
export async function blockingRead(ctx: Context, fd: pipeIO, dst: Uint8Array): Promise<number> {
  for (;;) {
    try {
      return fd.read(dst);
    } catch (e) {
      if (e !== syserror.EAGAIN) throw e;
    }
    // Wait for a notification that we should retry.
    await waitFor(ctx, fd, EventIn | EventHUp);
  }
}

/**
 * blockingWrite writes all of src, waiting while the pipe is full (write(2)
 * without O_NONBLOCK). If it is interrupted (EINTR) or the readers go away
 * (EPIPE) after part of src was written, it resolves with the partial count,
 * as Linux's pipe_write does; with nothing written, it rejects.
 */
export async function blockingWrite(ctx: Context, fd: pipeIO, src: Uint8Array): Promise<number> {
  let total = 0;
  for (;;) {
    try {
      total += fd.write(src.subarray(total));
      if (total === src.length) return total;
    } catch (e) {
      if (e !== syserror.EAGAIN) {
        if (total > 0) return total;
        throw e;
      }
    }
    try {
      await waitFor(ctx, fd, EventOut | EventErr);
    } catch (e) {
      if (total > 0) return total;
      throw e;
    }
  }
}

/**
 * wakeup is a one-shot broadcast (gVisor: the channel closed by
 * newHandleLocked to unblock FIFO opens waiting for the other end).
 */
export class Wakeup {
  readonly promise: Promise<void>;
  private resolveFn!: () => void;

  constructor() {
    this.promise = new Promise<void>((resolve) => (this.resolveFn = resolve));
  }

  fire(): void {
    this.resolveFn();
  }
}
