// lockSetFunctions: gVisor's pkg/sentry/fs/lock/lock_set_functions.go, the
// callbacks the segment set (lock_set.ts) uses to merge and split Locks.

import { Lock, type UniqueID } from './lock';
import { LockEOF } from './lock_eof';
import type { LockRange } from './lock_range';

// LockSet maps a set of Locks into a file. The key is the file offset.
export const lockSetFunctions = {
  minKey(): number {
    return 0;
  },

  maxKey(): number {
    return LockEOF;
  },

  /** merge merges two adjacent Locks only if the readers/writer are identical. */
  merge(_r1: LockRange, val1: Lock, _r2: LockRange, val2: Lock): Lock | undefined {
    if (val1.readers.size !== val2.readers.size) return undefined;
    for (const k of val1.readers) {
      if (!val2.readers.has(k)) return undefined;
    }
    if (val1.writer !== val2.writer) return undefined;
    return val1;
  },

  /**
   * split returns the values of the two halves. The segment is copied so that
   * split segments don't share reader sets with other segments.
   */
  split(_r: LockRange, val: Lock, _split: number): [Lock, Lock] {
    const val0 = new Lock(new Set<UniqueID>(val.readers), val.writer);
    return [val, val0];
  },
};
