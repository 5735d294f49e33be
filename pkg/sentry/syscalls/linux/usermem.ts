// "User memory" of the syscall API: gVisor's syscalls copy in and out of the
// task's address space (usermem.IOSequence, CopyIn/CopyOut). Here a pointer
// argument is a Uint8Array the caller owns: the call reads from it or fills
// it, in Linux's byte layout; null is the NULL pointer. An argument that is
// not a Uint8Array, or too short for what the call must copy, is EFAULT, as
// a bad pointer would be.

import * as syserror from '../../../syserror/syserror';

/** toBuffer views u8's bytes as a Buffer without copying. */
export function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * userBuffer returns the first n bytes of a user memory argument as a
 * Buffer view (EFAULT if it is not memory or shorter than n).
 */
export function userBuffer(p: unknown, n: number): Buffer {
  if (!(p instanceof Uint8Array) || p.length < n) throw syserror.EFAULT;
  const b = toBuffer(p);
  return b.length === n ? b : b.subarray(0, n);
}

/** copyOut copies src to user memory dst (EFAULT if dst is too short). */
export function copyOut(dst: unknown, src: Uint8Array): number {
  const b = userBuffer(dst, src.length);
  b.set(src);
  return src.length;
}

/** readI64 reads a little-endian int64 as a number (precision beyond 2^53 is lost, as JS numbers). */
export function readI64(b: Buffer, off: number): number {
  return Number(b.readBigInt64LE(off));
}
