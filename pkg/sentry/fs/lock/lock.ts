// Package lock is the API for POSIX-style advisory regional file locks and
// BSD-style full file locks: gVisor's pkg/sentry/fs/lock/lock.go.
//
// Callers needing to enforce these types of locks, like sys_fcntl, can call
// lockRegion and unlockRegion on a set of Locks. Locks are specific to a
// unique file (unique device/inode pair) and for this reason should not be
// shared between files.
//
// A Lock has a set of holders identified by UniqueID. For POSIX locks this
// is the lock owner (gVisor: the task's FDTable, Linux: the files_struct);
// for BSD locks, the open file description.
//
// Since these are advisory locks, they do not need to be integrated into
// Reads/Writes and for this reason there is no way to *check* if a lock is
// held. One can only attempt to take a lock or unlock an existing lock (or,
// for F_GETLK, ask which lock would conflict: testRegion).
//
// A Lock in a set of Locks is typed: it is either a read lock with any number
// of readers and no writer, or a write lock with no readers.
//
// As expected from POSIX, any attempt to acquire a write lock on a file
// region when there already exits a write lock held by a different uid will
// fail. Any attempt to acquire a write lock on a file region when there is
// more than one reader will fail. Any attempt to acquire a read lock on a
// file region when there is already a writer will fail.
//
// In special cases, a read lock may be upgraded to a write lock and a write
// lock can be downgraded to a read lock. This can only happen if:
//
//  * read lock upgrade to write lock: There can be only one reader and the
//    reader must be the same as the requested write lock holder.
//
//  * write lock downgrade to read lock: The writer must be the same as the
//    requested read lock holder.
//
// unlockRegion always succeeds.
//
// Differs from gVisor at dbe41765:
//  * Blocking (F_SETLKW, flock without LOCK_NB) is a Promise that resolves
//    when the lock is granted; waiters are woken on every unlock (and on any
//    successful lock, which may have downgraded a write lock) and retry, as
//    gVisor's waiter-queue loop does. Interruption (ctx's AbortSignal, or a
//    Blocker rejecting) rejects with EINTR (gVisor returns false, mapped to
//    ERESTARTSYS; with no signal restarting here, the user sees EINTR).
//  * Errors are thrown: EAGAIN for a conflict without blocking (gVisor:
//    false → ErrWouldBlock), EDEADLK, EINTR.
//  * EDEADLK detection for POSIX locks, which gVisor lacks at that commit,
//    as Linux's posix_locks_deadlock (fs/locks.c): a blocking request fails
//    if the owners it would wait for are, transitively through their own
//    blocked requests on any file, waiting for the requester. Linux follows
//    one blocker per waiter for at most 10 steps; this follows every
//    conflicting holder with no depth limit, so it reports every real cycle.
//  * testRegion (F_GETLK), not in gVisor at that commit.
//  * Offsets are JS numbers; LockEOF is 2^53-1 (see lock_eof.ts).
//  * LockSet.lock fills every gap of the range (gVisor skips the gap after
//    a segment its Insert merged with the next one; see lock below).
//  * No mutex: every operation on a LockSet is synchronous, so JS's
//    run-to-completion gives the exclusion gVisor's Locks.mu gives.

import type { Context } from '../../../context/context';
import * as context from '../../../context/context';
import * as syserror from '../../../syserror/syserror';
import { LockEOF } from './lock_eof';
import { LockRange } from './lock_range';
import { LockSet as segmentSet } from './lock_set';

export { LockEOF } from './lock_eof';
export { LockRange } from './lock_range';

/** LockType is a type of regional file lock. */
export type LockType = 0 | 1;

/**
 * ReadLock describes a POSIX regional file lock to be taken read only. There
 * may be multiple of these locks on a single file region as long as there is
 * no writer lock on the same region.
 */
export const ReadLock: LockType = 0;

/**
 * WriteLock describes a POSIX regional file lock to be taken write only.
 * There may be only a single holder of this lock and no read locks.
 */
export const WriteLock: LockType = 1;

/**
 * UniqueID is a unique identifier of the holder of a regional file lock,
 * compared by identity (===). It must not be null or undefined.
 */
export type UniqueID = unknown;

/**
 * Lock is a regional file lock. It consists of either a single writer or a
 * set of readers.
 *
 * A Lock may be upgraded from a read lock to a write lock only if there is a
 * single reader and that reader has the same uid as the write lock.
 *
 * A Lock may be downgraded from a write lock to a read lock only if the
 * write lock's uid is the same as the read lock.
 */
export class Lock {
  constructor(
    /** readers are the set of read lock holders. If readers.size > 0 then writer must be null. */
    public readers: Set<UniqueID> = new Set(),
    /** writer holds the writer unique ID. It's null if there are no writers. */
    public writer: UniqueID | null = null,
  ) {}

  /** isHeld returns true if uid is a holder of Lock. */
  isHeld(uid: UniqueID): boolean {
    return this.writer === uid || this.readers.has(uid);
  }

  /**
   * lock sets uid as a holder of a typed lock on Lock.
   *
   * Preconditions: canLock is true for the range containing this Lock.
   */
  lock(uid: UniqueID, t: LockType): void {
    switch (t) {
      case ReadLock:
        // If we are already a reader, then this is a no-op.
        if (this.readers.has(uid)) return;
        // We cannot downgrade a write lock to a read lock unless the uid is
        // the same.
        if (this.writer !== null) {
          if (this.writer !== uid) {
            throw new Error(`lock: cannot downgrade write lock to read lock for uid ${String(uid)}, writer is ${String(this.writer)}`);
          }
          // Ensure that there is only one reader if upgrading.
          this.readers = new Set();
          // Ensure that there is no longer a writer.
          this.writer = null;
        }
        this.readers.add(uid);
        return;
      case WriteLock: {
        // If we are already the writer, then this is a no-op.
        if (this.writer === uid) return;
        // We can only upgrade a read lock to a write lock if there is only
        // one reader and that reader has the same uid as the write lock.
        const readers = this.readers.size;
        if (readers > 0) {
          if (readers !== 1) throw new Error(`lock: cannot upgrade read lock to write lock for uid ${String(uid)}, too many readers`);
          if (!this.readers.has(uid)) throw new Error(`lock: cannot upgrade read lock to write lock for uid ${String(uid)}, conflicting reader`);
        }
        // Ensure that there is only a writer.
        this.readers = new Set();
        this.writer = uid;
        return;
      }
      default:
        throw new Error(`lock: invalid lock type ${String(t)}`);
    }
  }
}

/** makeLock returns a new typed Lock that has either uid as its only reader or uid as its only writer. */
function makeLock(uid: UniqueID, t: LockType): Lock {
  switch (t) {
    case ReadLock:
      return new Lock(new Set([uid]), null);
    case WriteLock:
      return new Lock(new Set(), uid);
    default:
      throw new Error(`makeLock: invalid lock type ${String(t)}`);
  }
}

/**
 * LockSet maps a set of Locks into a file. The key is the file offset.
 * (gVisor: the generated segment set plus the methods of lock.go on it.)
 */
export class LockSet extends segmentSet {
  /**
   * lockable returns true if check returns true for every Lock in r.
   * Further, check should return true if Lock meets the callers requirements
   * for locking Lock.
   */
  lockable(r: LockRange, check: (value: Lock) => boolean): boolean {
    // Get our starting point.
    for (let i = this.lowerBound(r.start); i < this.segs.length && this.segs[i]!.range.start < r.end; i++) {
      // Note that we don't care about overrunning the end of the last
      // segment because if everything checks out we'll just split the last
      // segment.
      if (!check(this.segs[i]!.value)) return false;
      // Jump to the next segment, ignoring gaps, for the same reason we
      // ignored the first gap.
    }
    // No conflict, we can get a lock for uid over the entire range.
    return true;
  }

  /** canLock returns true if uid will be able to take a Lock of type t on the entire range specified by r. */
  canLock(uid: UniqueID, t: LockType, r: LockRange): boolean {
    switch (t) {
      case ReadLock:
        return this.lockable(r, (value) => {
          // If there is no writer, there's no problem adding another reader.
          if (value.writer === null) return true;
          // If there is a writer, then it must be the same uid in order to
          // downgrade the lock to a read lock.
          return value.writer === uid;
        });
      case WriteLock:
        return this.lockable(r, (value) => {
          // If there are only readers.
          if (value.writer === null) {
            // Then this uid can only take a write lock if this is a private
            // upgrade, meaning that the only reader is uid.
            return value.readers.size === 1 && value.readers.has(uid);
          }
          // If the uid is already a writer on this region, then adding a
          // write lock would be a no-op.
          return value.writer === uid;
        });
      default:
        throw new Error(`canLock: invalid lock type ${String(t)}`);
    }
  }

  /**
   * conflictingOwners returns the holders other than uid whose locks keep
   * uid from taking a Lock of type t on r (the edges of the wait-for graph
   * for EDEADLK detection).
   */
  conflictingOwners(uid: UniqueID, t: LockType, r: LockRange): Set<UniqueID> {
    const owners = new Set<UniqueID>();
    for (let i = this.lowerBound(r.start); i < this.segs.length && this.segs[i]!.range.start < r.end; i++) {
      const value = this.segs[i]!.value;
      if (value.writer !== null && value.writer !== uid) owners.add(value.writer);
      if (t === WriteLock) {
        for (const reader of value.readers) if (reader !== uid) owners.add(reader);
      }
    }
    return owners;
  }

  /**
   * lock returns true if uid took a lock of type t on the entire range of r.
   *
   * Preconditions: r.start <= r.end (throws otherwise).
   */
  lock(uid: UniqueID, t: LockType, r: LockRange): boolean {
    if (r.start > r.end) throw new Error(`lock: r.start ${r.start} > r.end ${r.end}`);

    // Don't attempt to insert anything with a range of 0 and treat this as a
    // successful no-op.
    if (r.length() === 0) return true;

    // Do a first-pass check. We *could* hold onto the segments we checked if
    // canLock would return true, but traversing the segment set should be
    // fast and this keeps things simple.
    if (!this.canLock(uid, t, r)) return false;

    // Get our starting point (gVisor: Find(r.Start)).
    //
    // Differs from gVisor: gVisor continues after an inserted gap with
    // Insert(...).NextSegment(); when Insert merges the new segment with the
    // following one, that skips the gap after the merged segment, leaving
    // part of r unlocked (lock [1,2) then [0,3) by the same writer left
    // [2,3) unlocked). Here the loop goes on from the segment that holds the
    // inserted range, whose value is already makeLock(uid, t) throughout
    // (merging requires equal values), so only the gaps after it are filled.
    let i = this.lowerBound(r.start);
    let locked: boolean; // segs[i] already holds uid's lock of type t
    if (i < this.segs.length && this.segs[i]!.range.start <= r.start) {
      if (this.segs[i]!.range.start < r.start) {
        // Get our first segment to modify.
        this.split(i, r.start);
        i++;
      }
      locked = false;
    } else {
      // Fill in the gap.
      i = this.insert(i, this.gapBefore(i).intersect(r), makeLock(uid, t));
      locked = true;
    }
    while (i < this.segs.length && this.segs[i]!.range.start < r.end) {
      if (!locked) {
        // Split the last one if necessary.
        if (this.segs[i]!.range.end > r.end) this.split(i, r.end);

        // Set the lock on the segment. This is guaranteed to always be
        // safe, given canLock above.
        this.segs[i]!.value.lock(uid, t);
      }

      // Fill subsequent gaps.
      const gr = this.gapBefore(i + 1).intersect(r);
      if (gr.length() > 0) {
        i = this.insert(i + 1, gr, makeLock(uid, t));
        locked = true;
      } else {
        i++;
        locked = false;
      }
    }
    return true;
  }

  /**
   * unlock is always successful. If uid has no locks held for the range r,
   * unlock is a no-op.
   *
   * Preconditions: same as lock.
   */
  unlock(uid: UniqueID, r: LockRange): void {
    if (r.start > r.end) throw new Error(`unlock: r.start ${r.start} > r.end ${r.end}`);

    // Same as lock.
    if (r.length() === 0) return;

    // Get our starting point.
    let i = this.lowerBound(r.start);
    while (i < this.segs.length && this.segs[i]!.range.start < r.end) {
      // If this segment doesn't have a lock from uid then there is no need to
      // fragment the set with isolate (below). In this case just move on to
      // the next segment.
      if (!this.segs[i]!.value.isHeld(uid)) {
        i++;
        continue;
      }

      // Ensure that if we need to unlock a sub-segment that we don't
      // unlock/remove that entire segment.
      i = this.isolate(i, r);

      const seg = this.segs[i]!;
      const value = seg.value;
      let remove = false;
      if (value.writer === uid) {
        // If we are unlocking a writer, then since there can only ever be
        // one writer and no readers, then this lock should always be removed
        // from the set.
        remove = true;
      } else if (value.readers.has(uid)) {
        // If uid is the last reader, then just remove the entire segment.
        if (value.readers.size === 1) {
          remove = true;
        } else {
          // Otherwise we need to remove this reader without affecting any
          // other segment's readers. To do this, we need to make a copy of
          // the readers set and not add this uid.
          const readers = new Set(value.readers);
          readers.delete(uid);
          seg.value = new Lock(readers, null);
        }
      }
      if (remove) {
        this.remove(i);
      } else {
        i++;
      }
    }
  }

  /**
   * test returns the lock that keeps uid from taking a Lock of type t on r
   * (the one at the lowest offset), or null if there is none: F_GETLK.
   * The returned range is the whole extent of the conflicting owner's lock
   * of that type around the conflict, as Linux reports its stored lock.
   */
  test(uid: UniqueID, t: LockType, r: LockRange): Conflict | null {
    if (r.length() === 0) return null;
    for (let i = this.lowerBound(r.start); i < this.segs.length && this.segs[i]!.range.start < r.end; i++) {
      const value = this.segs[i]!.value;
      let owner: UniqueID | null = null;
      let type: LockType = ReadLock;
      if (value.writer !== null && value.writer !== uid) {
        owner = value.writer;
        type = WriteLock;
      } else if (t === WriteLock) {
        for (const reader of value.readers) {
          if (reader !== uid) {
            owner = reader;
            break;
          }
        }
      }
      if (owner === null) continue;
      const holds = (j: number): boolean => {
        const v = this.segs[j]!.value;
        return type === WriteLock ? v.writer === owner : v.readers.has(owner);
      };
      let first = i;
      while (first > 0 && this.segs[first - 1]!.range.end === this.segs[first]!.range.start && holds(first - 1)) first--;
      let last = i;
      while (last + 1 < this.segs.length && this.segs[last]!.range.end === this.segs[last + 1]!.range.start && holds(last + 1)) last++;
      return {
        type,
        range: new LockRange(this.segs[first]!.range.start, this.segs[last]!.range.end),
        uid: owner,
      };
    }
    return null;
  }
}

/** Conflict describes a lock held by another owner (F_GETLK's answer). */
export interface Conflict {
  type: LockType;
  range: LockRange;
  /** uid is the conflicting lock's owner; the VFS maps it to l_pid. */
  uid: UniqueID;
}

/**
 * Blocker is the interface used for blocking locks (gVisor: Block(C <-chan
 * struct{}) error, implemented by the Task). block waits for wake, the
 * Promise that resolves when the lock state changes; it rejects (EINTR or
 * another LinuxError) to give up.
 */
export interface Blocker {
  block(wake: Promise<void>): Promise<void>;
}

// A blocked request, registered for EDEADLK detection while it waits.
interface blockedRequest {
  locks: Locks;
  uid: UniqueID;
  t: LockType;
  r: LockRange;
}

// blockedRequests maps each owner to its blocked POSIX lock requests, on any
// file (Linux: blocked_hash, keyed by owner).
const blockedRequests = new Map<UniqueID, Set<blockedRequest>>();

function registerBlocked(b: blockedRequest): void {
  let s = blockedRequests.get(b.uid);
  if (s === undefined) {
    s = new Set();
    blockedRequests.set(b.uid, s);
  }
  s.add(b);
}

function unregisterBlocked(b: blockedRequest): void {
  const s = blockedRequests.get(b.uid);
  if (s === undefined) return;
  s.delete(b);
  if (s.size === 0) blockedRequests.delete(b.uid);
}

/**
 * wouldDeadlock returns true if uid blocking for a lock of type t on r in
 * locks would close a cycle of owners waiting for each other (Linux:
 * posix_locks_deadlock).
 */
function wouldDeadlock(locks: Locks, uid: UniqueID, t: LockType, r: LockRange): boolean {
  const visited = new Set<UniqueID>();
  const stack = [...locks.locks.conflictingOwners(uid, t, r)];
  while (stack.length > 0) {
    const owner = stack.pop();
    if (owner === uid) return true;
    if (visited.has(owner)) continue;
    visited.add(owner);
    const blocked = blockedRequests.get(owner);
    if (blocked === undefined) continue;
    for (const b of blocked) {
      for (const o of b.locks.locks.conflictingOwners(b.uid, b.t, b.r)) stack.push(o);
    }
  }
  return false;
}

/** LocksOptions configures a Locks. */
export interface LocksOptions {
  /**
   * posix enables EDEADLK detection (Linux does it for POSIX locks only:
   * not for flock(2), nor for open file description locks).
   */
  posix?: boolean;
}

/** Locks is the set of region locks of one file, with its blocked waiters. */
export class Locks {
  /** locks is the set of region locks currently held on an Inode. */
  readonly locks = new LockSet();

  /** blockedQueue is the queue of waiters that are waiting on a lock. */
  private readonly blockedQueue = new Set<() => void>();

  private readonly detectDeadlock: boolean;

  constructor(opts: LocksOptions = {}) {
    this.detectDeadlock = opts.posix === true;
  }

  /**
   * tryLockRegion attempts to acquire a typed lock for uid on r without
   * blocking, synchronously. Returns true if successful in locking the
   * region.
   */
  tryLockRegion(uid: UniqueID, t: LockType, r: LockRange): boolean {
    checkUID(uid);
    if (!this.locks.lock(uid, t, r)) return false;
    // A lock may have downgraded one of uid's write locks: let waiters retry.
    this.notify();
    return true;
  }

  /**
   * lockRegion attempts to acquire a typed lock for uid on a region of a
   * file. The Promise resolves when the lock is held. If the region is
   * locked by someone else it rejects with EAGAIN when block is false;
   * otherwise it waits (through ctx's signal when block is true, through
   * the Blocker otherwise) and retries each time the locks change, and
   * rejects with EINTR if interrupted, or EDEADLK (POSIX locks) if waiting
   * would deadlock.
   */
  async lockRegion(ctx: Context, uid: UniqueID, t: LockType, r: LockRange, block: boolean | Blocker): Promise<void> {
    if (this.tryLockRegion(uid, t, r)) return;
    if (block === false) throw syserror.EAGAIN;
    if (this.detectDeadlock && wouldDeadlock(this, uid, t, r)) throw syserror.EDEADLK;
    const req: blockedRequest = { locks: this, uid, t, r };
    if (this.detectDeadlock) registerBlocked(req);
    try {
      // Blocking locks must run in a loop because we'll be woken up whenever
      // an unlock event happens for this lock. We will then attempt to take
      // the lock again and if it fails continue blocking.
      for (;;) {
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        this.blockedQueue.add(wake);
        try {
          if (block === true) {
            await context.sleep(ctx, woken);
          } else {
            await block.block(woken);
          }
        } catch (e) {
          // We were interrupted.
          throw e instanceof syserror.LinuxError ? e : syserror.EINTR;
        } finally {
          this.blockedQueue.delete(wake);
        }
        if (this.tryLockRegion(uid, t, r)) return;
        if (this.detectDeadlock && wouldDeadlock(this, uid, t, r)) throw syserror.EDEADLK;
      }
    } finally {
      if (this.detectDeadlock) unregisterBlocked(req);
    }
  }

  /**
   * unlockRegion attempts to release a lock for uid on a region of a file.
   * This operation is always successful, even if there did not exist a lock
   * on the requested region held by uid in the first place.
   */
  unlockRegion(uid: UniqueID, r: LockRange): void {
    this.locks.unlock(uid, r);
    // Now that we've released the lock, we need to wake up any waiters.
    this.notify();
  }

  /**
   * testRegion returns the lock that would keep uid from taking a lock of
   * type t on r, or null if it could take it (F_GETLK).
   */
  testRegion(uid: UniqueID, t: LockType, r: LockRange): Conflict | null {
    return this.locks.test(uid, t, r);
  }

  /** waiters returns the number of blocked lockRegion calls (for tests and leak checks). */
  waiters(): number {
    return this.blockedQueue.size;
  }

  // notify wakes every blocked waiter to retry (gVisor: blockedQueue.Notify(EventMaskAll)).
  private notify(): void {
    if (this.blockedQueue.size === 0) return;
    const wakers = [...this.blockedQueue];
    this.blockedQueue.clear();
    for (const w of wakers) w();
  }
}

function checkUID(uid: UniqueID): void {
  if (uid === null || uid === undefined) throw new Error('lock: the UniqueID must not be null or undefined');
}

/**
 * computeRange takes a positive file offset and computes the start of a
 * LockRange using start (relative to offset) and the end of the LockRange
 * using length. The values of start and length may be negative but the
 * resulting LockRange must preserve that LockRange.start < LockRange.end and
 * LockRange.start >= 0. Throws EINVAL or EOVERFLOW.
 *
 * Differs from gVisor: a range ending past LockEOF fails with EOVERFLOW, as
 * Linux's flock_to_posix_lock does past OFFSET_MAX (gVisor wraps around).
 */
export function computeRange(start: number, length: number, offset: number): LockRange {
  offset += start;
  // fcntl(2): "l_start can be a negative number provided the offset does
  // not lie before the start of the file"
  if (offset < 0) throw syserror.EINVAL;
  if (offset > LockEOF) throw syserror.EOVERFLOW;

  // fcntl(2): Specifying 0 for l_len has the special meaning: lock all bytes
  // starting at the location specified by l_whence and l_start through to
  // the end of file, no matter how large the file grows.
  let end = LockEOF;
  if (length > 0) {
    // fcntl(2): If l_len is positive, then the range to be locked covers
    // bytes l_start up to and including l_start+l_len-1.
    //
    // Since LockRange.end is exclusive we need not -1 from length.
    if (length > LockEOF - offset) throw syserror.EOVERFLOW;
    end = offset + length;
  } else if (length < 0) {
    // fcntl(2): If l_len is negative, the interval described by lock covers
    // bytes l_start+l_len up to and including l_start-1.
    //
    // Since LockRange.end is exclusive we need not -1 from offset.
    const signedEnd = offset;
    // Add to offset using a negative length (subtract).
    offset += length;
    if (offset < 0) throw syserror.EINVAL;
    end = signedEnd;
  }
  // offset is guaranteed to be non-negative at this point.
  return new LockRange(offset, end);
}
