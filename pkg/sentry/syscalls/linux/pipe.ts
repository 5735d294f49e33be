// pipe, pipe2: gVisor's pkg/sentry/syscalls/linux/vfs2/pipe.go.
//
// User memory: pipefd is an Int32Array of 2, or a Uint8Array of at least 8
// bytes (int pipefd[2], little endian).

import { O_CLOEXEC, O_NONBLOCK } from '../../../abi/linux/file';
import * as syserror from '../../../syserror/syserror';
import { newConnectedPipeFDs } from '../../kernel/pipefs';
import type { Task } from '../../kernel/task';
import { userBuffer } from './usermem';

/** pipe implements Linux syscall pipe(2). */
export function pipe(t: Task, addr: unknown): Promise<number> {
  return pipe2(t, addr, 0);
}

/** pipe2 implements Linux syscall pipe2(2). */
export async function pipe2(t: Task, addr: unknown, flags: number): Promise<number> {
  if ((flags & ~(O_NONBLOCK | O_CLOEXEC)) !== 0) throw syserror.EINVAL;
  // Check the destination first: Linux copies out after creating the
  // files and undoes them on EFAULT, with the same visible result.
  const isI32 = addr instanceof Int32Array;
  if (!isI32) userBuffer(addr, 8);
  else if (addr.length < 2) throw syserror.EFAULT;
  const [r, w] = newConnectedPipeFDs(t, t.k.vfs, flags & O_NONBLOCK);
  try {
    const fds = t.newFDsVFS2(0, [r, w], { closeOnExec: (flags & O_CLOEXEC) !== 0 });
    if (isI32) {
      addr[0] = fds[0]!;
      addr[1] = fds[1]!;
    } else {
      const b = userBuffer(addr, 8);
      b.writeInt32LE(fds[0]!, 0);
      b.writeInt32LE(fds[1]!, 4);
    }
    return 0;
  } finally {
    r.decRef(t);
    w.decRef(t);
  }
}
