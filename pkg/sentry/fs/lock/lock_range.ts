// LockRange: the range type gVisor generates for pkg/sentry/fs/lock from
// pkg/segment/range.go (lock_range.go, a go_template instance over uint64).
//
// Differs from gVisor: offsets are JS numbers (exact integers up to 2^53-1),
// not uint64; LockEOF (lock.ts) is the largest of them. See lock.ts.

/** A LockRange represents a contiguous range of file offsets [start, end). */
export class LockRange {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  /** wellFormed returns true if r.start <= r.end. */
  wellFormed(): boolean {
    return this.start <= this.end;
  }

  /** length returns the length of the range. */
  length(): number {
    return this.end - this.start;
  }

  /** contains returns true if r contains x. */
  contains(x: number): boolean {
    return this.start <= x && x < this.end;
  }

  /** overlaps returns true if r and r2 overlap. */
  overlaps(r2: LockRange): boolean {
    return this.start < r2.end && r2.start < this.end;
  }

  /** isSupersetOf returns true if r is a superset of r2. */
  isSupersetOf(r2: LockRange): boolean {
    return this.start <= r2.start && this.end >= r2.end;
  }

  /** intersect returns a range consisting of the intersection between r and r2; empty (start == end) if none. */
  intersect(r2: LockRange): LockRange {
    const start = Math.max(this.start, r2.start);
    const end = Math.min(this.end, r2.end);
    return end < start ? new LockRange(start, start) : new LockRange(start, end);
  }

  /** equals compares by value (Go compares LockRange structs with ==). */
  equals(r2: LockRange): boolean {
    return this.start === r2.start && this.end === r2.end;
  }

  toString(): string {
    return `[${this.start}, ${this.end})`;
  }
}
