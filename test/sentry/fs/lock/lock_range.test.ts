// Mirrors gVisor's pkg/sentry/fs/lock/lock_range_test.go (TestComputeRange),
// plus Linux's EOVERFLOW past the largest offset.
import test from 'ava';
import { computeRange, LockEOF } from '../../../../pkg/sentry/fs/lock/lock';
import * as syserror from '../../../../pkg/syserror/syserror';

interface Case {
  name: string;
  start: number; // requested start of the lock range
  length: number; // requested length of the lock range, can be negative :(
  offset: number; // pre-computed file offset based on whence; added to start
  err?: syserror.LinuxError;
  range?: [number, number];
}

const cases: Case[] = [
  { name: 'offset, start, and length all zero', start: 0, length: 0, offset: 0, range: [0, LockEOF] },
  { name: 'zero offset, zero start, positive length', start: 0, length: 4096, offset: 0, range: [0, 4096] },
  { name: 'zero offset, negative start', start: -4096, length: 0, offset: 0, err: syserror.EINVAL },
  { name: 'large offset, negative start, positive length', start: -2048, length: 2048, offset: 4096, range: [2048, 4096] },
  { name: 'large offset, negative start, zero length', start: -2048, length: 0, offset: 4096, range: [2048, LockEOF] },
  { name: 'zero offset, zero start, negative length', start: 0, length: -4096, offset: 0, err: syserror.EINVAL },
  { name: 'large offset, zero start, negative length', start: 0, length: -4096, offset: 4096, range: [0, 4096] },
  { name: 'offset, start, and length equal, length is negative', start: 1024, length: -1024, offset: 1024, range: [1024, 2048] },
  { name: 'offset, start, and length equal, start is negative', start: -1024, length: 1024, offset: 1024, range: [0, 1024] },
  { name: 'offset, start, and length equal, offset is negative', start: 1024, length: 1024, offset: -1024, range: [0, 1024] },
  { name: 'offset, start, and length equal, all negative', start: -1024, length: -1024, offset: -1024, err: syserror.EINVAL },
  { name: 'offset, start, and length equal, all positive', start: 1024, length: 1024, offset: 1024, range: [2048, 3072] },
  // Linux (flock_to_posix_lock): EOVERFLOW when the end passes the largest offset.
  { name: 'end past LockEOF (Linux EOVERFLOW)', start: LockEOF - 10, length: 11, offset: 0, err: syserror.EOVERFLOW },
  { name: 'end exactly LockEOF', start: LockEOF - 10, length: 10, offset: 0, range: [LockEOF - 10, LockEOF] },
];

for (const c of cases) {
  test(`computeRange (TestComputeRange): ${c.name}`, (t) => {
    if (c.err !== undefined) {
      t.throws(() => computeRange(c.start, c.length, c.offset), { is: c.err });
      return;
    }
    const r = computeRange(c.start, c.length, c.offset);
    t.deepEqual([r.start, r.end], c.range);
  });
}
