// read, readv, pread64, preadv, write, writev, pwrite64, pwritev, lseek:
// gVisor's pkg/sentry/syscalls/linux/vfs2/read_write.go.
//
// User memory: read(fd, buf, count) fills buf (a Uint8Array of at least
// count bytes, EFAULT otherwise); readv/writev take an array of Uint8Arrays
// (the iovecs, iovcnt = its length).
//
// Differs from gVisor: a FileDescription whose read or write may wait does
// so itself unless O_NONBLOCK (tmpfs FIFOs, pipes); one that throws EAGAIN
// when it would block (inotify) is waited for here as gVisor's read() does,
// with the task's AbortSignal as the interruption (EINTR). pread64/pwrite64
// check the offset before the descriptor, as Linux's ksys_pread64 does;
// every call checks the descriptor's access mode (EBADF) before the user
// memory and the iovec count, as Linux's vfs_read/vfs_readv do, and the
// positional ones check that the file can be read or written at an offset
// (ESPIPE) before that, as ksys_pread64/do_preadv do.

import { O_NONBLOCK } from '../../../abi/linux/file';
import { IN_ACCESS, IN_MODIFY } from '../../../abi/linux/inotify';
import * as syserror from '../../../syserror/syserror';
import { EventErr, EventHUp, EventIn, EventOut, waitFor } from '../../../waiter/waiter';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';
import type { FileDescription } from '../../vfs/file_description';
import { Inotify, PathEvent } from '../../vfs/inotify';
import { toBuffer } from './usermem';

const eventMaskRead = EventIn | EventHUp | EventErr;
const eventMaskWrite = EventOut | EventHUp | EventErr;

// UIO_MAXIOV is the maximum iovcnt (include/uapi/linux/uio.h).
const UIO_MAXIOV = 1024;

// MAX_RW_COUNT is the largest transfer Linux does in one call (INT_MAX & PAGE_MASK).
const MAX_RW_COUNT = 0x7ffff000;

/** singleIOSequence checks a (buf, count) pair and returns the count bytes of buf (gVisor: Task.SingleIOSequence). */
function singleIOSequence(buf: unknown, count: number): Buffer {
  if (!Number.isInteger(count) || count < 0) throw syserror.EINVAL;
  if (count === 0) return Buffer.alloc(0);
  if (!(buf instanceof Uint8Array) || buf.length < count) throw syserror.EFAULT;
  const b = toBuffer(buf);
  if (count > MAX_RW_COUNT) count = MAX_RW_COUNT;
  return b.length === count ? b : b.subarray(0, count);
}

/** iovecsIOSequence checks an iovec array (gVisor: Task.IovecsIOSequence). */
function iovecsIOSequence(iovs: unknown): Buffer[] {
  if (!Array.isArray(iovs)) throw syserror.EFAULT;
  if (iovs.length > UIO_MAXIOV) throw syserror.EINVAL;
  const out: Buffer[] = [];
  for (const iov of iovs) {
    if (!(iov instanceof Uint8Array)) throw syserror.EFAULT;
    out.push(toBuffer(iov));
  }
  return out;
}

/**
 * iovecsLength is the total length of iovecs. Differs from gVisor, as
 * Linux's vfs_readv/vfs_writev do: vectored I/O of zero bytes returns 0
 * without calling the file (no EISDIR, no mtime change).
 */
function iovecsLength(iovs: Buffer[]): number {
  let n = 0;
  for (const b of iovs) n += b.length;
  return n;
}

/** read implements Linux syscall read(2). */
export async function read(t: Task, fd: number, addr: unknown, size: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (!file.isReadable()) throw syserror.EBADF;
    const dst = singleIOSequence(addr, size);
    return await readFile(t, file, dst, -1);
  } finally {
    file.decRef(t);
  }
}

/** readv implements Linux syscall readv(2). */
export async function readv(t: Task, fd: number, iovs: unknown): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (!file.isReadable()) throw syserror.EBADF;
    const dst = iovecsIOSequence(iovs);
    if (iovecsLength(dst) === 0) return 0;
    return await readIovecs(t, file, dst, -1);
  } finally {
    file.decRef(t);
  }
}

/** pread64 implements Linux syscall pread64(2). */
export async function pread64(t: Task, fd: number, addr: unknown, size: number, offset: number): Promise<number> {
  if (offset < 0 || !Number.isInteger(offset)) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (file.options().denyPRead === true) throw syserror.ESPIPE;
    if (!file.isReadable()) throw syserror.EBADF;
    const dst = singleIOSequence(addr, size);
    return await readFile(t, file, dst, offset);
  } finally {
    file.decRef(t);
  }
}

/** preadv implements Linux syscall preadv(2). */
export async function preadv(t: Task, fd: number, iovs: unknown, offset: number): Promise<number> {
  if (offset < 0 || !Number.isInteger(offset)) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (file.options().denyPRead === true) throw syserror.ESPIPE;
    if (!file.isReadable()) throw syserror.EBADF;
    const dst = iovecsIOSequence(iovs);
    if (iovecsLength(dst) === 0) return 0;
    return await readIovecs(t, file, dst, offset);
  } finally {
    file.decRef(t);
  }
}

async function readIovecs(t: Task, file: FileDescription, iovs: Buffer[], offset: number): Promise<number> {
  if (iovs.length === 1) return readFile(t, file, iovs[0]!, offset);
  // Differs from gVisor, following Linux: inotify has no read_iter, so
  // Linux reads each iovec on its own (fs/read_write.c:
  // do_loop_readv_writev) and an event must fit in one iovec.
  if (file.impl instanceof Inotify) return readEachIovec(t, file, iovs, offset);
  // One read into one buffer, then scattered: a single call to the file, as
  // gVisor's IOSequence gives the file all iovecs at once.
  let total = 0;
  for (const iov of iovs) total += iov.length;
  const tmp = Buffer.allocUnsafe(Math.min(total, MAX_RW_COUNT));
  const n = await readFile(t, file, tmp, offset);
  let off = 0;
  for (const iov of iovs) {
    if (off >= n) break;
    off += tmp.copy(iov, 0, off, n);
  }
  return n;
}

// readEachIovec is Linux's do_loop_readv_writev for reads: one read per
// iovec until one comes up short; an error after some bytes ends the call
// with those bytes.
async function readEachIovec(t: Task, file: FileDescription, iovs: Buffer[], offset: number): Promise<number> {
  let total = 0;
  for (const iov of iovs) {
    let n: number;
    try {
      n = await readFile(t, file, iov, offset < 0 ? -1 : offset + total);
    } catch (err) {
      if (total === 0) throw err;
      break;
    }
    total += n;
    if (n !== iov.length) break;
  }
  return total;
}

/**
 * readFile is gVisor's read()/pread(): one read, and if it would block and
 * the file is blocking, wait for readability and retry. offset < 0 means
 * the file offset (read) rather than pread.
 */
async function readFile(t: Task, file: FileDescription, dst: Buffer, offset: number): Promise<number> {
  let n: number;
  try {
    n = offset < 0 ? await file.read(t, dst) : await file.pread(t, dst, offset);
  } catch (err) {
    if (err !== syserror.ErrWouldBlock || (file.statusFlags() & O_NONBLOCK) !== 0) throw err;
    n = await blockingReadFile(t, file, dst, offset);
  }
  if (n > 0) file.dentry().inotifyWithParent(t, IN_ACCESS, 0, PathEvent);
  return n;
}

async function blockingReadFile(t: Task, file: FileDescription, dst: Buffer, offset: number): Promise<number> {
  for (;;) {
    await waitFor(t, file, eventMaskRead);
    try {
      return offset < 0 ? await file.read(t, dst) : await file.pread(t, dst, offset);
    } catch (err) {
      if (err !== syserror.ErrWouldBlock) throw err;
    }
  }
}

/** write implements Linux syscall write(2). */
export async function write(t: Task, fd: number, addr: unknown, size: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (!file.isWritable()) throw syserror.EBADF;
    const src = singleIOSequence(addr, size);
    return await writeFile(t, file, src, -1);
  } finally {
    file.decRef(t);
  }
}

/** writev implements Linux syscall writev(2). */
export async function writev(t: Task, fd: number, iovs: unknown): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (!file.isWritable()) throw syserror.EBADF;
    const bufs = iovecsIOSequence(iovs);
    if (iovecsLength(bufs) === 0) return 0;
    return await writeFile(t, file, bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs), -1);
  } finally {
    file.decRef(t);
  }
}

/** pwrite64 implements Linux syscall pwrite64(2). */
export async function pwrite64(t: Task, fd: number, addr: unknown, size: number, offset: number): Promise<number> {
  if (offset < 0 || !Number.isInteger(offset)) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (file.options().denyPWrite === true) throw syserror.ESPIPE;
    if (!file.isWritable()) throw syserror.EBADF;
    const src = singleIOSequence(addr, size);
    return await writeFile(t, file, src, offset);
  } finally {
    file.decRef(t);
  }
}

/** pwritev implements Linux syscall pwritev(2). */
export async function pwritev(t: Task, fd: number, iovs: unknown, offset: number): Promise<number> {
  if (offset < 0 || !Number.isInteger(offset)) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    if (file.options().denyPWrite === true) throw syserror.ESPIPE;
    if (!file.isWritable()) throw syserror.EBADF;
    const bufs = iovecsIOSequence(iovs);
    if (iovecsLength(bufs) === 0) return 0;
    return await writeFile(t, file, bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs), offset);
  } finally {
    file.decRef(t);
  }
}

/** writeFile is gVisor's write()/pwrite(), with the same blocking policy as readFile. */
async function writeFile(t: Task, file: FileDescription, src: Buffer, offset: number): Promise<number> {
  let n: number;
  try {
    n = offset < 0 ? await file.write(t, src) : await file.pwrite(t, src, offset);
  } catch (err) {
    if (err !== syserror.ErrWouldBlock || (file.statusFlags() & O_NONBLOCK) !== 0) throw err;
    n = await blockingWriteFile(t, file, src, offset);
  }
  if (n > 0) file.dentry().inotifyWithParent(t, IN_MODIFY, 0, PathEvent);
  return n;
}

async function blockingWriteFile(t: Task, file: FileDescription, src: Buffer, offset: number): Promise<number> {
  for (;;) {
    await waitFor(t, file, eventMaskWrite);
    try {
      return offset < 0 ? await file.write(t, src) : await file.pwrite(t, src, offset);
    } catch (err) {
      if (err !== syserror.ErrWouldBlock) throw err;
    }
  }
}

/** lseek implements Linux syscall lseek(2). */
export async function lseek(t: Task, fd: number, offset: number, whence: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    return await file.seek(t, offset, whence);
  } finally {
    file.decRef(t);
  }
}
