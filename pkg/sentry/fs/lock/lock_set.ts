// LockSet: the segment set gVisor generates for pkg/sentry/fs/lock from
// pkg/segment/set.go (lock_set.go), reduced to what lock.ts uses.
//
// Differs from gVisor: Go's set is a B-tree with segment and gap iterators;
// here it is a sorted array of segments addressed by index (a file rarely
// has more than a handful of locks), with gVisor's semantics: insert merges
// the new segment with mergeable neighbours (lockSetFunctions.merge); split
// and remove do not merge.

import type { Lock } from './lock';
import { LockRange } from './lock_range';
import { lockSetFunctions } from './lock_set_functions';

/** A segment: a range of offsets mapped to one Lock. */
export interface LockSegment {
  range: LockRange;
  value: Lock;
}

export class LockSet {
  /** segs is sorted by range.start; segments are non-empty and do not overlap. */
  readonly segs: LockSegment[] = [];

  /** isEmpty returns true if the set contains no segments. */
  isEmpty(): boolean {
    return this.segs.length === 0;
  }

  /** lowerBound returns the index of the first segment whose end is > key (segs.length if none). */
  lowerBound(key: number): number {
    let lo = 0;
    let hi = this.segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segs[mid]!.range.end <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** gapBefore returns the gap preceding index i (the gap after the last segment if i == segs.length). */
  gapBefore(i: number): LockRange {
    const start = i > 0 ? this.segs[i - 1]!.range.end : lockSetFunctions.minKey();
    const end = i < this.segs.length ? this.segs[i]!.range.start : lockSetFunctions.maxKey();
    return new LockRange(start, end);
  }

  /**
   * insert inserts a segment with range r and value val before index i (r
   * must lie in the gap before i), merging it with its neighbours where
   * lockSetFunctions.merge allows. It returns the index of the segment that
   * now contains r.
   */
  insert(i: number, r: LockRange, val: Lock): number {
    const prev = i > 0 ? this.segs[i - 1] : undefined;
    const next = i < this.segs.length ? this.segs[i] : undefined;
    if (prev !== undefined && prev.range.end === r.start) {
      const merged = lockSetFunctions.merge(prev.range, prev.value, r, val);
      if (merged !== undefined) {
        prev.range = new LockRange(prev.range.start, r.end);
        prev.value = merged;
        if (next !== undefined && next.range.start === r.end) {
          const merged2 = lockSetFunctions.merge(prev.range, prev.value, next.range, next.value);
          if (merged2 !== undefined) {
            prev.range = new LockRange(prev.range.start, next.range.end);
            prev.value = merged2;
            this.segs.splice(i, 1);
          }
        }
        return i - 1;
      }
    }
    if (next !== undefined && next.range.start === r.end) {
      const merged = lockSetFunctions.merge(r, val, next.range, next.value);
      if (merged !== undefined) {
        next.range = new LockRange(r.start, next.range.end);
        next.value = merged;
        return i;
      }
    }
    this.segs.splice(i, 0, { range: r, value: val });
    return i;
  }

  /** insertWithoutMerging inserts a segment before index i and returns i (test helper, as gVisor's). */
  insertWithoutMerging(i: number, r: LockRange, val: Lock): number {
    this.segs.splice(i, 0, { range: r, value: val });
    return i;
  }

  /**
   * split splits the segment at index i at offset split, which must lie
   * strictly inside it: afterwards segs[i] is the first half and segs[i+1]
   * the second.
   */
  split(i: number, split: number): void {
    const seg = this.segs[i]!;
    const [v1, v2] = lockSetFunctions.split(seg.range, seg.value, split);
    const second: LockSegment = { range: new LockRange(split, seg.range.end), value: v2 };
    seg.range = new LockRange(seg.range.start, split);
    seg.value = v1;
    this.segs.splice(i + 1, 0, second);
  }

  /**
   * isolate splits the segment at index i so that the part of it inside r is
   * a segment of its own, and returns that segment's index.
   */
  isolate(i: number, r: LockRange): number {
    if (this.segs[i]!.range.start < r.start) {
      this.split(i, r.start);
      i++;
    }
    if (this.segs[i]!.range.end > r.end) this.split(i, r.end);
    return i;
  }

  /** remove removes the segment at index i. */
  remove(i: number): void {
    this.segs.splice(i, 1);
  }
}
