// Mutex: gVisor's pkg/sync/mutex_unsafe.go (sync.Mutex with TryLock).
//
// Differs from gVisor (DESIGN decision 1): a goroutine blocks in Lock; here
// lock() returns a Promise that resolves once the caller owns the mutex.
// Ownership is handed directly from unlock() to the oldest waiter (FIFO), so
// no later caller can barge in between and no wakeup is lost. When the mutex
// is free, lock() takes it synchronously and returns a shared resolved
// Promise: no allocation on the uncontended path, and `await m.lock()` then
// costs one microtask. As gVisor's CrossGoroutineMutex, it need not be
// unlocked by the task that locked it (JS has no goroutine identity).

import { WaiterQueue, resolved } from './waiter_queue';

/**
 * Mutex is a mutual exclusion lock. new Mutex() is an unlocked mutex.
 */
export class Mutex {
  private locked = false;
  // Invariant: waiters.length > 0 implies locked.
  private readonly waiters = new WaiterQueue<() => void>();

  /**
   * lock locks m. The returned Promise resolves when m is held by the
   * caller; if m is free it is held already when lock returns.
   */
  lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return resolved;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * tryLock tries to lock m. It returns true if it succeeds and false
   * otherwise. It does not block.
   */
  tryLock(): boolean {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }

  /**
   * unlock unlocks m, handing it to the oldest waiter if there is one.
   *
   * Preconditions:
   * * m is locked.
   */
  unlock(): void {
    if (!this.locked) throw new Error('sync: unlock of unlocked Mutex');
    if (this.waiters.length > 0) {
      // Hand off: m stays locked, now on behalf of the waiter.
      this.waiters.shift()();
      return;
    }
    this.locked = false;
  }

  /** isLocked reports whether m is held (for assertions and tests). */
  isLocked(): boolean {
    return this.locked;
  }
}
