// getdents64: gVisor's pkg/sentry/syscalls/linux/vfs2/getdents.go (the
// 64-bit records only; getdents(2) is not in the filesystem slice's list).
//
// User memory: buf is a Uint8Array of at least count bytes, filled with
// struct linux_dirent64 records: d_ino[8] d_off[8] d_reclen[2] d_type[1]
// d_name NUL-terminated, each padded to a multiple of 8 bytes.

import { Dirent64NameOffset } from '../../../abi/linux/dirent';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';
import type { Dirent, IterDirentsCallback } from '../../vfs/file_description';
import { userBuffer } from './usermem';

/** getdents64 implements Linux syscall getdents64(2). */
export async function getdents64(t: Task, fd: number, addr: unknown, size: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    size >>>= 0;
    const buf = userBuffer(addr, size);
    const cb = new getdentsCallback(buf);
    try {
      await file.iterDirents(t, cb);
    } catch (err) {
      if (cb.off === 0) throw err;
    }
    return cb.off;
  } finally {
    file.decRef(t);
  }
}

/** getdentsCallback writes dirents into the user buffer (gVisor: getdentsCallback). */
class getdentsCallback implements IterDirentsCallback {
  off = 0;

  constructor(private readonly buf: Buffer) {}

  /** handle implements vfs.IterDirentsCallback.handle. */
  handle(dirent: Dirent): void {
    const name = Buffer.from(dirent.name, 'utf8');
    let size = 8 + 8 + 2 + 1 + 1 + name.length;
    size = (size + 7) & ~7; // round up to multiple of 8
    if (size > this.buf.length - this.off) throw syserror.EINVAL;
    const b = this.buf;
    const off = this.off;
    b.writeBigUInt64LE(BigInt(dirent.ino), off);
    b.writeBigInt64LE(BigInt(dirent.nextOff), off + 8);
    b.writeUInt16LE(size, off + 16);
    b.writeUInt8(dirent.type, off + 18);
    name.copy(b, off + Dirent64NameOffset);
    b.fill(0, off + Dirent64NameOffset + name.length, off + size);
    this.off += size;
  }
}
