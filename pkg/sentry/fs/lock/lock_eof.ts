// LockEOF lives in its own module so that lock_set_functions.ts can use it
// without an import cycle through lock.ts. Re-exported by lock.ts.

/**
 * LockEOF is the maximal possible end of a regional file lock.
 *
 * A BSD-style full file lock can be represented as a regional file lock from
 * offset 0 to LockEOF.
 *
 * Differs from gVisor (math.MaxUint64): offsets are JS numbers, so the
 * largest exact one, 2^53-1. computeRange fails with EOVERFLOW past it, as
 * Linux does past OFFSET_MAX (2^63-1).
 */
export const LockEOF = Number.MAX_SAFE_INTEGER;
