// struct linux_dirent64, as getdents64(2) writes it.
//
//   d_ino[8] d_off[8] d_reclen[2] d_type[1] d_name[] NUL, padded to 8 bytes.

/** Offset of d_name in struct linux_dirent64. */
export const Dirent64NameOffset = 19;

/** dirent64Size returns d_reclen for a name of nameLen bytes. */
export function dirent64Size(nameLen: number): number {
  return (Dirent64NameOffset + nameLen + 1 + 7) & ~7;
}

/**
 * marshalDirent64 writes one record at off in buf and returns its length, or
 * 0 if it does not fit (getdents64 then stops, or fails with EINVAL when
 * nothing was written).
 */
export function marshalDirent64(
  buf: Buffer, off: number, ino: number, nextOff: number, type: number, name: string,
): number {
  const nameBytes = Buffer.from(name, 'utf8');
  const reclen = dirent64Size(nameBytes.length);
  if (off + reclen > buf.length) return 0;
  buf.fill(0, off, off + reclen);
  buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(ino)), off);
  buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(nextOff)), off + 8);
  buf.writeUInt16LE(reclen, off + 16);
  buf.writeUInt8(type & 0xff, off + 18);
  nameBytes.copy(buf, off + Dirent64NameOffset);
  return reclen;
}

/** Dirent64 is a decoded struct linux_dirent64. */
export interface Dirent64 {
  ino: number;
  off: number;
  type: number;
  name: string;
}

/** parseDirents64 decodes a getdents64(2) buffer. */
export function parseDirents64(buf: Uint8Array): Dirent64[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Dirent64[] = [];
  let off = 0;
  while (off + Dirent64NameOffset < b.length) {
    const reclen = b.readUInt16LE(off + 16);
    if (reclen === 0) break;
    const raw = b.subarray(off + Dirent64NameOffset, off + reclen);
    const nul = raw.indexOf(0);
    out.push({
      ino: Number(b.readBigUInt64LE(off)),
      off: Number(b.readBigInt64LE(off + 8)),
      type: b.readUInt8(off + 18),
      name: raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8'),
    });
    off += reclen;
  }
  return out;
}
