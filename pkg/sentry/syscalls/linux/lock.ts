// flock: gVisor's pkg/sentry/syscalls/linux/vfs2/lock.go.

import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../../../abi/linux/fcntl';
import * as syserror from '../../../syserror/syserror';
import * as lock from '../../fs/lock';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';

/** flock implements Linux syscall flock(2). */
export async function flock(t: Task, fd: number, operation: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const nonblocking = (operation & LOCK_NB) !== 0;
    operation &= ~LOCK_NB;
    // gVisor passes the task as the lock.Blocker unless LOCK_NB; here the
    // wait is the awaited Promise, interrupted by the task's AbortSignal.
    switch (operation) {
      case LOCK_EX:
        await file.lockBSD(t, lock.WriteLock, !nonblocking);
        break;
      case LOCK_SH:
        await file.lockBSD(t, lock.ReadLock, !nonblocking);
        break;
      case LOCK_UN:
        await file.unlockBSD(t);
        break;
      default:
        throw syserror.EINVAL;
    }
    return 0;
  } finally {
    file.decRef(t);
  }
}
