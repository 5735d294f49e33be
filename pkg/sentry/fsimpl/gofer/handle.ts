// handle: gVisor's pkg/sentry/fsimpl/gofer/handle.go.
//
// Differs from gVisor: a handle never carries a host fd (Node cannot receive
// one over the socket: no SCM_RIGHTS), so fd is always -1 and every read
// and write goes through Tread/Twrite in msize chunks (DESIGN decision 8).
// The field stays so the code reads as gVisor's.

import type { Context } from '../../../context';
import { OpenTruncate, ReadOnly, ReadWrite, WriteOnly, type OpenFlags } from '../../../p9/p9';
import { p9file } from './p9file';

/**
 * handle represents a remote "open file descriptor", consisting of an opened
 * fid (p9.File) and optionally a host file descriptor.
 */
export class handle {
  constructor(public file: p9file = p9file.nil, public fd = -1) {}

  /** isOpen reports whether h holds an opened fid. */
  isOpen(): boolean {
    return !this.file.isNil();
  }

  /** close clunks h's fid (in the background: a clunk must not be interrupted). */
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
    return this.file.readAt(ctx, dst, offset, parallel);
  }

  /** writeFromBlocksAt writes src at offset. */
  writeFromBlocksAt(ctx: Context, src: Buffer, offset: number): Promise<number> {
    if (src.length === 0) return Promise.resolve(0);
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
  try {
    await newfile.open(ctx, flags);
  } catch (err) {
    trackClunk(newfile.close(ctx));
    throw err;
  }
  return new handle(newfile, -1);
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
