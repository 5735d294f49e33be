// File locks: flock(2) and fcntl(2) record locks (gVisor's lock.go).

import type { Context } from '../../context';
import { SEEK_CUR, SEEK_END, SEEK_SET } from '../../abi/linux/file';
import { STATX_SIZE } from '../../abi/linux/stat';
import * as fslock from '../fs/lock';
import * as syserror from '../../syserror/syserror';
import type { FileDescription } from './file_description';

/**
 * FileLocks supports POSIX and BSD style locks, which correspond to fcntl(2)
 * and flock(2) respectively in Linux. It can be held by various file
 * implementations that support locking.
 *
 * Note that in Linux these two types of locks are _not_ cooperative, because
 * race and deadlock conditions make merging them prohibitive. We do the same
 * and keep them oblivious to each other.
 *
 * Differs from gVisor: a blocking request awaits the lock (interruptibly,
 * through ctx's signal) instead of registering a Blocker and returning
 * ERESTARTSYS; POSIX locks detect EDEADLK as Linux does.
 */
export class FileLocks {
  /** bsd is a set of BSD-style advisory file wide locks, see flock(2). */
  readonly bsd = new fslock.Locks();

  /** posix is a set of POSIX-style regional advisory locks, see fcntl(2). */
  readonly posix = new fslock.Locks({ posix: true });

  /**
   * lockBSD tries to acquire a BSD-style lock on the entire file. If block
   * is false and the lock is held elsewhere it throws EWOULDBLOCK (EAGAIN);
   * otherwise it waits, and throws EINTR if interrupted.
   */
  lockBSD(ctx: Context, uid: fslock.UniqueID, t: fslock.LockType, block: boolean): Promise<void> {
    return this.bsd.lockRegion(ctx, uid, t, new fslock.LockRange(0, fslock.LockEOF), block);
  }

  /**
   * unlockBSD releases a BSD-style lock on the entire file.
   *
   * This operation is always successful, even if there did not exist a lock
   * on the requested region held by uid in the first place.
   */
  unlockBSD(uid: fslock.UniqueID): void {
    this.bsd.unlockRegion(uid, new fslock.LockRange(0, fslock.LockEOF));
  }

  /**
   * lockPOSIX tries to acquire a POSIX-style lock on a file region. If block
   * is false and the region is locked elsewhere it throws EAGAIN; otherwise
   * it waits, and throws EINTR if interrupted or EDEADLK if waiting would
   * deadlock.
   */
  async lockPOSIX(
    ctx: Context, fd: FileDescription, uid: fslock.UniqueID, t: fslock.LockType,
    start: number, length: number, whence: number, block: boolean,
  ): Promise<void> {
    const rng = await computeRange(ctx, fd, start, length, whence);
    await this.posix.lockRegion(ctx, uid, t, rng, block);
  }

  /**
   * unlockPOSIX releases a POSIX-style lock on a file region.
   *
   * This operation is always successful, even if there did not exist a lock
   * on the requested region held by uid in the first place.
   */
  async unlockPOSIX(ctx: Context, fd: FileDescription, uid: fslock.UniqueID, start: number, length: number, whence: number): Promise<void> {
    const rng = await computeRange(ctx, fd, start, length, whence);
    this.posix.unlockRegion(uid, rng);
  }

  /**
   * testPOSIX returns the lock that would block uid from locking the region,
   * or null (fcntl(F_GETLK)). Not in gVisor at this commit, whose F_GETLK is
   * unimplemented; Linux answers it.
   */
  async testPOSIX(
    ctx: Context, fd: FileDescription, uid: fslock.UniqueID, t: fslock.LockType, start: number, length: number, whence: number,
  ): Promise<fslock.Conflict | null> {
    const rng = await computeRange(ctx, fd, start, length, whence);
    return this.posix.testRegion(uid, t, rng);
  }
}

/** computeRange turns (start, length, whence) of a struct flock into a LockRange. */
export async function computeRange(ctx: Context, fd: FileDescription, start: number, length: number, whence: number): Promise<fslock.LockRange> {
  let off: number;
  switch (whence) {
    case SEEK_SET:
      off = 0;
      break;
    case SEEK_CUR:
      // Note that Linux does not hold any mutexes while retrieving the file
      // offset, see fs/locks.c:flock_to_posix_lock and fs/locks.c:fcntl_setlk.
      off = await fd.seek(ctx, 0, SEEK_CUR);
      break;
    case SEEK_END: {
      const stat = await fd.stat(ctx, { mask: STATX_SIZE });
      off = stat.size;
      break;
    }
    default:
      throw syserror.EINVAL;
  }
  return fslock.computeRange(start, length, off);
}
