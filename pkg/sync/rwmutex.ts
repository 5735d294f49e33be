// RWMutex: gVisor's pkg/sync/rwmutex_unsafe.go (a copy of Go's sync.RWMutex
// with TryLock, TryRLock and DowngradeLock).
//
// Differs from gVisor (DESIGN decision 1): lock() and rLock() return
// Promises that resolve once the lock is held. The semantics are Go's: a
// blocked writer excludes new readers (so recursive read locking can
// deadlock, as in Go), and downgradeLock is atomic with the write lock.
// Waiters are served strictly in arrival order: a writer at the head of the
// queue waits for the active readers to leave; consecutive readers at the
// head enter together. Uncontended calls take the lock synchronously and
// return a shared resolved Promise (no allocation). As gVisor's
// CrossGoroutineRWMutex, any task may unlock.

import { WaiterQueue, resolved } from './waiter_queue';

interface waiter {
  writer: boolean;
  resolve: () => void;
}

/**
 * A RWMutex is a reader/writer mutual exclusion lock. The lock can be held by
 * an arbitrary number of readers or a single writer. new RWMutex() is an
 * unlocked mutex.
 *
 * If a task holds a RWMutex for reading and another task might call lock, no
 * task should expect to be able to acquire a read lock until the initial read
 * lock is released. In particular, this prohibits recursive read locking.
 * This is to ensure that the lock eventually becomes available; a blocked
 * lock call excludes new readers from acquiring the lock.
 */
export class RWMutex {
  private writer = false; // held for writing
  private readers = 0; // number of active readers
  // Invariant: waiters.length > 0 implies writer || readers > 0 (a waiter is
  // only ever queued behind a holder, and handed the lock as holders leave).
  private readonly waiters = new WaiterQueue<waiter>();

  /** tryRLock locks rw for reading. It returns true if it succeeds and false otherwise. It does not block. */
  tryRLock(): boolean {
    // A pending writer (queued) excludes new readers, as in Go.
    if (this.writer || this.waiters.length > 0) return false;
    this.readers++;
    return true;
  }

  /**
   * rLock locks rw for reading.
   *
   * It should not be used for recursive read locking; a blocked lock call
   * excludes new readers from acquiring the lock.
   */
  rLock(): Promise<void> {
    if (this.tryRLock()) return resolved;
    return new Promise<void>((resolve) => this.waiters.push({ writer: false, resolve }));
  }

  /**
   * rUnlock undoes a single rLock call.
   *
   * Preconditions:
   * * rw is locked for reading.
   */
  rUnlock(): void {
    if (this.readers === 0) throw new Error('sync: RUnlock of unlocked RWMutex');
    this.readers--;
    if (this.readers === 0) this.wake();
  }

  /** tryLock locks rw for writing. It returns true if it succeeds and false otherwise. It does not block. */
  tryLock(): boolean {
    if (this.writer || this.readers > 0 || this.waiters.length > 0) return false;
    this.writer = true;
    return true;
  }

  /**
   * lock locks rw for writing. If the lock is already locked for reading or
   * writing, the returned Promise resolves when the lock is available and
   * held by the caller.
   */
  lock(): Promise<void> {
    if (this.tryLock()) return resolved;
    return new Promise<void>((resolve) => this.waiters.push({ writer: true, resolve }));
  }

  /**
   * unlock unlocks rw for writing.
   *
   * Preconditions:
   * * rw is locked for writing.
   */
  unlock(): void {
    if (!this.writer) throw new Error('sync: Unlock of unlocked RWMutex');
    this.writer = false;
    this.wake();
  }

  /**
   * downgradeLock atomically unlocks rw for writing and locks it for reading.
   *
   * Preconditions:
   * * rw is locked for writing.
   */
  downgradeLock(): void {
    if (!this.writer) throw new Error('sync: DowngradeLock of unlocked RWMutex');
    this.writer = false;
    this.readers = 1;
    // Readers queued at the head may join; a writer at the head still waits
    // for this reader, so the downgrade is atomic with the write lock.
    this.wake();
  }

  /** isLocked reports whether rw is held for writing (for assertions and tests). */
  isLocked(): boolean {
    return this.writer;
  }

  /** isRLocked reports whether rw is held for reading by anyone (for assertions and tests). */
  isRLocked(): boolean {
    return this.readers > 0;
  }

  // wake hands the lock to the waiters at the head of the queue that can
  // hold it now: one writer, or every consecutive reader.
  private wake(): void {
    while (this.waiters.length > 0 && !this.writer) {
      const w = this.waiters.peek();
      if (w.writer) {
        if (this.readers > 0) return;
        this.waiters.shift();
        this.writer = true;
        w.resolve();
        return;
      }
      this.waiters.shift();
      this.readers++;
      w.resolve();
    }
  }
}
