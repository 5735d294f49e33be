// Port of gVisor pkg/p9/buffer.go: the cursor every 9P primitive and message
// encodes to and decodes from.
//
// As in gVisor, decoding never fails half way: a read past the end (or a
// value the wire cannot carry, see read64) marks the buffer as overrun and
// returns a zero value; whoever drives the decode checks isOverrun() once at
// the end and then throws ErrBadMessage. This keeps the per-field cost to a
// bounds check and keeps exceptions off the hot path.
//
// Differs from gVisor:
//   - One buffer type serves both directions: `off` is the read cursor
//     (bounded by `end`) or the write cursor (the buffer grows on demand).
//   - Go's []byte strings are byte strings; here strings are JavaScript
//     strings, sent as UTF-8. A name that is not valid UTF-8 on the wire
//     decodes with U+FFFD replacement characters (lossy); binary values
//     (xattr values) travel as Buffers instead (readBytes16/writeBytes16).
//   - 64-bit values are `number` unless the protocol uses them as identities
//     or cookies (QID.path, Dirent.offset, Treaddir.offset: `bigint`,
//     read64Big). A u64 above 2^53-1 read into a `number` marks the buffer
//     overrun: such a message is malformed for us (ErrBadMessage, EBADMSG).
//   - Encoding a string or byte string longer than 65535 bytes, or a count
//     above 65535, throws ErrBadMessage (gVisor silently truncates the length).

import { Errno } from '../abi/linux/errors';
import { LinuxError } from '../syserror/syserror';

/**
 * ErrBadMessage is the one error the codec throws: a message that is short,
 * garbled, too large or of an unknown type (subclasses ErrMessageTooLarge in
 * transport.ts and ErrInvalidMsgType in messages.ts). It is a LinuxError with
 * errno EBADMSG, so it may cross package boundaries (DESIGN decision 2); test
 * it with `instanceof ErrBadMessage`.
 *
 * tag is the tag of the frame that carried the bad message when it is known
 * (NoTag, 0xffff, otherwise), so that a server can answer it with Rlerror as
 * gVisor's server does. fatal is true when the byte stream itself can no longer
 * be trusted (bad or oversized frame length): the connection must be closed.
 */
export class ErrBadMessage extends LinuxError {
  readonly tag: number;
  readonly fatal: boolean;

  constructor(message: string, tag = 0xffff, fatal = false, errno: number = Errno.EBADMSG) {
    super(errno);
    this.message = message;
    this.name = 'ErrBadMessage';
    this.tag = tag;
    this.fatal = fatal;
  }
}

/**
 * ErrNoValidMessage is gVisor's "buffer contained no valid message", shared
 * so that throwing it allocates nothing.
 */
export const ErrNoValidMessage = new ErrBadMessage('buffer contained no valid message');

/** encoder is implemented by every 9P primitive and message (buffer.go). */
export interface encoder {
  /**
   * decode decodes from the given buffer. decode may be called more than once
   * to reuse the instance. It must clear any previous state.
   *
   * This may not fail, exhaustion will be recorded in the buffer.
   */
  decode(b: buffer): void;

  /** encode encodes to the given buffer. */
  encode(b: buffer): void;
}

// permissionsMask is p9.ts's permissionsMask (rwx for all, sticky, setgid
// and setuid: 07777 as gVisor 92374e519); repeated here so that buffer.ts
// imports nothing from p9.ts.
const permissionsMask = 0o7777;

const TWO32 = 4294967296;
// Largest high word of a safe integer: (2^53 - 1) >>> 32.
const MAX_SAFE_HI = 0x1fffff;

/**
 * buffer is a Buffer that is consumed (decode) or appended to (encode).
 *
 * This is passed to the encoder methods.
 */
export class buffer {
  /** data is the underlying memory. This may be replaced during encode. */
  data: Buffer;
  /** off is the read or write cursor. */
  off: number;
  /** end is the end of the readable data (decode only). */
  end: number;
  /** overflow indicates whether an overrun has occurred. */
  overflow: boolean;
  /**
   * stable is true when data is never reused by its owner after the decode,
   * so that a payload may be a view of it rather than a copy (see
   * readPayload). Buffers over reusable scratch memory leave it false.
   */
  stable: boolean;

  constructor(data: Buffer = Buffer.alloc(0), off = 0, end: number = data.length, stable = false) {
    this.data = data;
    this.off = off;
    this.end = end;
    this.overflow = false;
    this.stable = stable;
  }

  /** reset points the buffer at new data to decode from, clearing overrun. */
  reset(data: Buffer, off = 0, end: number = data.length, stable = false): void {
    this.data = data;
    this.off = off;
    this.end = end;
    this.overflow = false;
    this.stable = stable;
  }

  /** remaining returns the number of unread bytes (decode). */
  remaining(): number {
    return this.end - this.off;
  }

  /** bytes returns a view of what has been written so far (encode). */
  bytes(): Buffer {
    return this.data.subarray(0, this.off);
  }

  /** has returns true if n bytes are available. */
  has(n: number): boolean {
    return this.end - this.off >= n;
  }

  /**
   * markOverrun immediately marks this buffer as overrun.
   *
   * This is used by readString, since some invalid data implies the rest of
   * the buffer is no longer valid either. It also consumes the rest of the
   * buffer, so that a decode loop over a count stops reading at once.
   */
  markOverrun(): void {
    this.overflow = true;
    this.off = this.end;
  }

  /** isOverrun returns true if this buffer has run past the end. */
  isOverrun(): boolean {
    return this.overflow;
  }

  // ---- decoding ----

  /** read8 reads a byte from the buffer. */
  read8(): number {
    const p = this.off;
    if (p + 1 > this.end) {
      this.markOverrun();
      return 0;
    }
    this.off = p + 1;
    return this.data[p];
  }

  /** read16 reads a 16-bit value from the buffer. */
  read16(): number {
    const p = this.off;
    if (p + 2 > this.end) {
      this.markOverrun();
      return 0;
    }
    const d = this.data;
    this.off = p + 2;
    return d[p] | (d[p + 1] << 8);
  }

  /** read32 reads a 32-bit value from the buffer. */
  read32(): number {
    const p = this.off;
    if (p + 4 > this.end) {
      this.markOverrun();
      return 0;
    }
    const d = this.data;
    this.off = p + 4;
    return (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 0x1000000;
  }

  /**
   * read64 reads a 64-bit unsigned value into a number. A value above 2^53-1
   * cannot be represented: it marks the buffer overrun (malformed message).
   */
  read64(): number {
    const p = this.off;
    if (p + 8 > this.end) {
      this.markOverrun();
      return 0;
    }
    const d = this.data;
    this.off = p + 8;
    const lo = (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 0x1000000;
    const hi = (d[p + 4] | (d[p + 5] << 8) | (d[p + 6] << 16)) + d[p + 7] * 0x1000000;
    if (hi > MAX_SAFE_HI) {
      this.markOverrun();
      return 0;
    }
    return hi * TWO32 + lo;
  }

  /**
   * read64Signed reads a 64-bit two's complement value into a number. It is
   * used for times, which gVisor and Linux send as uint64(int64 seconds):
   * a time before 1970 is a huge unsigned value but a small negative one.
   * Outside ±(2^53-1) it marks the buffer overrun.
   */
  read64Signed(): number {
    const p = this.off;
    if (p + 8 > this.end) {
      this.markOverrun();
      return 0;
    }
    const d = this.data;
    this.off = p + 8;
    const lo = (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 0x1000000;
    const hi = d[p + 4] | (d[p + 5] << 8) | (d[p + 6] << 16) | (d[p + 7] << 24); // signed
    const v = hi * TWO32 + lo;
    if (hi > MAX_SAFE_HI || v < -Number.MAX_SAFE_INTEGER) {
      this.markOverrun();
      return 0;
    }
    return v;
  }

  /** read64Big reads a 64-bit unsigned value into a bigint (any value). */
  read64Big(): bigint {
    const p = this.off;
    if (p + 8 > this.end) {
      this.markOverrun();
      return 0n;
    }
    const d = this.data;
    this.off = p + 8;
    const lo = (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16)) + d[p + 3] * 0x1000000;
    const hi = (d[p + 4] | (d[p + 5] << 8) | (d[p + 6] << 16)) + d[p + 7] * 0x1000000;
    if (hi <= MAX_SAFE_HI) return BigInt(hi * TWO32 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * read64Mask reads a 64-bit bit mask and returns its low 32 bits: the masks
   * of 9P2000.L (getattr's valid and request_mask) define no higher bits, and
   * unknown bits are ignored, as gVisor ignores them.
   */
  read64Mask(): number {
    const lo = this.read32();
    this.read32();
    return lo;
  }

  /** readQIDType reads a QIDType value. */
  readQIDType(): number {
    return this.read8();
  }

  /** readTag reads a Tag value. */
  readTag(): number {
    return this.read16();
  }

  /** readFID reads a FID value. */
  readFID(): number {
    return this.read32();
  }

  /** readUID reads a UID value. */
  readUID(): number {
    return this.read32();
  }

  /** readGID reads a GID value. */
  readGID(): number {
    return this.read32();
  }

  /** readPermissions reads a file mode value and applies the mask for permissions. */
  readPermissions(): number {
    return this.readFileMode() & permissionsMask;
  }

  /** readFileMode reads a file mode value. */
  readFileMode(): number {
    return this.read32();
  }

  /** readOpenFlags reads an OpenFlags. */
  readOpenFlags(): number {
    return this.read32();
  }

  /** readConnectFlags reads a ConnectFlags. */
  readConnectFlags(): number {
    return this.read32();
  }

  /** readMsgType reads a MsgType. */
  readMsgType(): number {
    return this.read8();
  }

  /** readString deserializes a string (length[2] then UTF-8 bytes). */
  readString(): string {
    const l = this.read16();
    const p = this.off;
    if (p + l > this.end) {
      // Mark the buffer as corrupted.
      this.markOverrun();
      return '';
    }
    this.off = p + l;
    if (l === 0) return '';
    const d = this.data;
    if (l <= 24) {
      // Short names are the common case (walks, dirents): decoding ASCII in
      // JavaScript avoids a call into the runtime per string.
      let s = '';
      for (let i = p; i < p + l; i++) {
        const c = d[i];
        if (c >= 0x80) return d.toString('utf8', p, p + l);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return d.toString('utf8', p, p + l);
  }

  /**
   * readBytes16 reads a byte string (length[2] then bytes) as a Buffer: the
   * wire form of gVisor's string fields that carry binary data (xattr values).
   */
  readBytes16(): Buffer {
    const l = this.read16();
    return this.readPayload(l);
  }

  /**
   * readPayload reads the next n bytes as a Buffer: a view when the memory is
   * stable, a copy otherwise.
   */
  readPayload(n: number): Buffer {
    const p = this.off;
    if (n < 0 || p + n > this.end) {
      this.markOverrun();
      return EMPTY;
    }
    this.off = p + n;
    if (this.stable) return this.data.subarray(p, p + n);
    const out = Buffer.allocUnsafe(n);
    this.data.copy(out, 0, p, p + n);
    return out;
  }

  // ---- encoding ----

  /** grow makes room for n more bytes at the write cursor. */
  grow(n: number): void {
    const need = this.off + n;
    if (need <= this.data.length) return;
    let size = this.data.length * 2;
    if (size < 64) size = 64;
    while (size < need) size *= 2;
    const nd = Buffer.allocUnsafe(size);
    this.data.copy(nd, 0, 0, this.off);
    this.data = nd;
  }

  /** write8 writes a byte to the buffer. */
  write8(v: number): void {
    if (this.off + 1 > this.data.length) this.grow(1);
    this.data[this.off++] = v;
  }

  /** write16 writes a 16-bit value to the buffer. */
  write16(v: number): void {
    if (this.off + 2 > this.data.length) this.grow(2);
    const d = this.data;
    const p = this.off;
    d[p] = v;
    d[p + 1] = v >>> 8;
    this.off = p + 2;
  }

  /** write32 writes a 32-bit value to the buffer. */
  write32(v: number): void {
    if (this.off + 4 > this.data.length) this.grow(4);
    const d = this.data;
    const p = this.off;
    d[p] = v;
    d[p + 1] = v >>> 8;
    d[p + 2] = v >>> 16;
    d[p + 3] = v >>> 24;
    this.off = p + 4;
  }

  /**
   * write64 writes a 64-bit value from a number. A negative number is written
   * in two's complement (the inverse of read64Signed).
   */
  write64(v: number): void {
    if (this.off + 8 > this.data.length) this.grow(8);
    const d = this.data;
    const p = this.off;
    const lo = v >>> 0;
    const hi = Math.floor(v / TWO32) >>> 0;
    d[p] = lo;
    d[p + 1] = lo >>> 8;
    d[p + 2] = lo >>> 16;
    d[p + 3] = lo >>> 24;
    d[p + 4] = hi;
    d[p + 5] = hi >>> 8;
    d[p + 6] = hi >>> 16;
    d[p + 7] = hi >>> 24;
    this.off = p + 8;
  }

  /** write64Big writes a 64-bit value from a bigint (taken modulo 2^64). */
  write64Big(v: bigint): void {
    if (v >= 0n && v <= 0x1fffffffffffffn) {
      this.write64(Number(v));
      return;
    }
    const u = BigInt.asUintN(64, v);
    this.write32(Number(u & 0xffffffffn));
    this.write32(Number(u >> 32n));
  }

  /** writeQIDType writes a QIDType value. */
  writeQIDType(t: number): void {
    this.write8(t);
  }

  /** writeTag writes a Tag value. */
  writeTag(tag: number): void {
    this.write16(tag);
  }

  /** writeFID writes a FID value. */
  writeFID(fid: number): void {
    this.write32(fid);
  }

  /** writeUID writes a UID value. */
  writeUID(uid: number): void {
    this.write32(uid);
  }

  /** writeGID writes a GID value. */
  writeGID(gid: number): void {
    this.write32(gid);
  }

  /** writePermissions applies a permissions mask and writes the FileMode. */
  writePermissions(perm: number): void {
    this.writeFileMode(perm & permissionsMask);
  }

  /** writeFileMode writes a FileMode. */
  writeFileMode(mode: number): void {
    this.write32(mode);
  }

  /** writeOpenFlags writes an OpenFlags. */
  writeOpenFlags(flags: number): void {
    this.write32(flags);
  }

  /** writeConnectFlags writes a ConnectFlags. */
  writeConnectFlags(flags: number): void {
    this.write32(flags);
  }

  /** writeMsgType writes a MsgType. */
  writeMsgType(t: number): void {
    this.write8(t);
  }

  /**
   * writeCount writes a u16 element count, throwing ErrBadMessage when the
   * count cannot be represented.
   */
  writeCount(n: number): void {
    if (n > 0xffff) throw new ErrBadMessage(`p9: ${n} elements do not fit a 16-bit count`);
    this.write16(n);
  }

  /** writeString serializes the given string as length[2] and UTF-8 bytes. */
  writeString(s: string): void {
    const n = s.length;
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    this.grow(2 + 3 * n);
    const d = this.data;
    const start = this.off + 2;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      d[start + i] = c;
    }
    let l = i;
    if (i < n) l = i + d.write(s.substring(i), start + i, 'utf8');
    if (l > 0xffff) throw new ErrBadMessage(`p9: string of ${l} bytes does not fit a 9P string`);
    d[start - 2] = l;
    d[start - 1] = l >>> 8;
    this.off = start + l;
  }

  /** writeBytes16 writes a byte string: length[2] then the bytes. */
  writeBytes16(v: Uint8Array): void {
    if (v.length > 0xffff) throw new ErrBadMessage(`p9: value of ${v.length} bytes does not fit a 9P string`);
    this.write16(v.length);
    this.writeBytes(v);
  }

  /** writeBytes appends raw bytes (a payload). */
  writeBytes(v: Uint8Array): void {
    const n = v.length;
    if (this.off + n > this.data.length) this.grow(n);
    this.data.set(v, this.off);
    this.off += n;
  }
}

const EMPTY = Buffer.alloc(0);
