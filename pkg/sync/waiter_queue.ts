// waiterQueue: the FIFO of blocked lock callers behind Mutex and RWMutex
// (gVisor/Go: the runtime semaphore's wait queue, semacquire/semrelease).

/** A FIFO queue with O(1) push and shift that does not shift arrays. */
export class WaiterQueue<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  /** peek returns the oldest element. Preconditions: length > 0. */
  peek(): T {
    return this.items[this.head] as T;
  }

  /** shift removes and returns the oldest element. Preconditions: length > 0. */
  shift(): T {
    const v = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

/** resolved is the shared already-resolved Promise returned by uncontended lock calls. */
export const resolved: Promise<void> = Promise.resolve();
