// handle: gVisor's pkg/sentry/fsimpl/gofer/handle.go.
//
// Differs from gVisor: the host fd the gofer donates with an open (see
// p9file.ts) is owned by the opened p9file, not by the handle: a handle
// made from a p9file takes its fd (fd defaults to file.hostFD), and close
// closes both through the p9file. gofer.ts's dentry builds handles from
// readFile/writeFile (readHandleLocked), which thus carry their fds. With
// an fd, reads and writes are pread/pwrite on it (Node's readSync and
// writeSync: gVisor's hostfd.Preadv2/Pwritev2, synchronous there too);
// without one (diod, TCP, --no-donate, a pipe) they go by Tread/Twrite in
// msize chunks.

import * as fs from 'node:fs';

import type { Context } from '../../../context';
import { OpenTruncate, ReadOnly, ReadWrite, WriteOnly, type OpenFlags } from '../../../p9/p9';
import * as syserror from '../../../syserror/syserror';
import { p9file } from './p9file';

/**
 * handle represents a remote "open file descriptor", consisting of an opened
 * fid (p9.File) and optionally a host file descriptor.
 */
export class handle {
  /** fd is the host fd, -1 if unavailable (file.hostFD unless given). */
  fd: number;

  constructor(public file: p9file = p9file.nil, fd = -1) {
    this.fd = fd >= 0 ? fd : file.hostFD;
  }

  /** isOpen reports whether h holds an opened fid. */
  isOpen(): boolean {
    return !this.file.isNil();
  }

  /** close clunks h's fid (in the background: a clunk must not be interrupted) and closes its host fd. */
  close(ctx: Context): void {
    if (!this.file.isNil()) {
      const f = this.file;
      this.file = p9file.nil;
      trackClunk(f.close(ctx));
    }
    this.fd = -1;
  }

  /**
   * readToBlocksAt reads into dst from offset (gVisor reads into safemem
   * blocks). parallel is for a regular file, never a pipe or socket: the
   * msize chunks of a large read are requested at once, one round trip
   * instead of one per chunk (not in gVisor, whose regular files read
   * through a host fd or the page cache).
   */
  readToBlocksAt(ctx: Context, dst: Buffer, offset: number, parallel = false): Promise<number> {
    if (dst.length === 0) return Promise.resolve(0);
    if (this.fd >= 0) {
      try {
        return Promise.resolve(preadFull(this.fd, dst, offset));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.file.readAt(ctx, dst, offset, parallel);
  }

  /** writeFromBlocksAt writes src at offset. */
  writeFromBlocksAt(ctx: Context, src: Buffer, offset: number): Promise<number> {
    if (src.length === 0) return Promise.resolve(0);
    if (this.fd >= 0) {
      try {
        return Promise.resolve(pwriteFull(this.fd, src, offset));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.file.writeAt(ctx, src, offset);
  }
}

/**
 * openHandle walks a new fid from file and opens it for read, write or both
 * (with O_TRUNC if trunc).
 *
 * Preconditions: read || write.
 */
export async function openHandle(ctx: Context, file: p9file, read: boolean, write: boolean, trunc: boolean): Promise<handle> {
  const [, newfile] = await file.walk(ctx, []);
  let flags: OpenFlags = ReadOnly;
  if (read && !write) flags = ReadOnly;
  else if (!read && write) flags = WriteOnly;
  else if (read && write) flags = ReadWrite;
  if (trunc) flags |= OpenTruncate;
  let fd: number;
  try {
    [, , fd] = await newfile.open(ctx, flags);
  } catch (err) {
    trackClunk(newfile.close(ctx));
    throw err;
  }
  return new handle(newfile, fd);
}

// maxIO is the most bytes one pread/pwrite moves (Linux's MAX_RW_COUNT).
const maxIO = 0x7ffff000;

/**
 * ioFull moves buf to or from the host fd at offset (fs.readSync for
 * preadFull, fs.writeSync for pwriteFull) until buf is done or a call moves
 * nothing (the end of the file), short of Linux's MAX_RW_COUNT per call. An
 * error after some bytes returns those bytes, as Linux's read and write do;
 * an error before any is thrown as its LinuxError.
 */
function ioFull(io: typeof fs.readSync | typeof fs.writeSync, fd: number, buf: Buffer, offset: number): number {
  let done = 0;
  while (done < buf.length) {
    let n: number;
    try {
      n = (io as typeof fs.readSync)(fd, buf, done, Math.min(buf.length - done, maxIO), offset + done);
    } catch (e) {
      if (done > 0) return done;
      throw syserror.fromNodeError(e);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** preadFull reads dst from the host fd at offset (see ioFull). */
function preadFull(fd: number, dst: Buffer, offset: number): number {
  return ioFull(fs.readSync, fd, dst, offset);
}

/** pwriteFull writes src to the host fd at offset (see ioFull). */
function pwriteFull(fd: number, src: Buffer, offset: number): number {
  return ioFull(fs.writeSync, fd, src, offset);
}

// Clunks run in the background (dentry destruction is synchronous, see
// gofer.ts); pendingClunks lets a filesystem (and tests' leak checks) wait
// until the server has seen every one.
const pendingClunks = new Set<Promise<void>>();

/** trackClunk remembers a background clunk until it settles. Errors are dropped, as gVisor logs them. */
export function trackClunk(p: Promise<void>): void {
  const q = p.catch(() => undefined).finally(() => pendingClunks.delete(q));
  pendingClunks.add(q);
}

/** clunksSettled resolves once every clunk started so far has been answered. */
export async function clunksSettled(): Promise<void> {
  while (pendingClunks.size !== 0) await Promise.all([...pendingClunks]);
}
