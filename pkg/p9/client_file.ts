// The client's files: gVisor's pkg/p9/client_file.go.
//
// Differs from gVisor, and why:
//   - Every method returns a Promise and takes an optional AbortSignal last
//     (see Client.sendRecv for what an abort does).
//   - Go's multiple results are tuples: `const [qids, f] = await d.walk([...])`.
//   - Host fds: gVisor's Open and Create return an *fd.FD; here openFD and
//     createFD return the fd the server donated on the client's fd channel
//     (fdpass.ts; -1 when none), and open and create keep File's results
//     [QID, ioUnit] and [File, QID, ioUnit] (closing a donated fd).
//     connect fails with EOPNOTSUPP (no fd channel record for Rlconnect).
//   - On a plain 9P2000.L server (version 0: diod) the standard messages do
//     what gVisor's extensions would: Twalk+Tgetattr for Twalkgetattr,
//     Txattrwalk/Txattrcreate (+Tread/Twrite/Tclunk) for the xattr
//     messages, Tlcreate/Tmkdir/Tsymlink/Tmknod for the Tu* forms, a walk
//     per component for Tmultigetattr. gVisor answers EOPNOTSUPP for the
//     xattr calls instead.
//   - A walk that comes back short (a standard server's partial Rwalk:
//     the new fid was not created) is ENOENT, as in Linux's v9fs; walks of
//     more than MaxWalkElements names are split, as v9fs does.
//   - readAt returns 0 at end of file (Go: io.EOF).
//   - renameAt and unlinkAt fall back to Trename and Tremove on a plain
//     9P2000.L server without Trenameat/Tunlinkat (diod), as v9fs does.
//   - lock, getLock and multiGetAttr are additions (standard Tlock/Tgetlock;
//     Tmultigetattr from a later gVisor).

import * as fs from 'node:fs';

import { AT_REMOVEDIR } from '../abi/linux/file';
import * as syserror from '../syserror/syserror';
import { LinuxError } from '../syserror/syserror';
import { logger } from '../context/context';
import type { Client } from './client';
import type { File } from './file';
import {
  Rallocate,
  Rattach,
  Rclunk,
  Rfsync,
  Rflushf,
  Rgetattr,
  Rgetlock,
  Rgetxattr,
  Rlcreate,
  Rlink,
  Rlistxattr,
  Rlock,
  Rlopen,
  Rmkdir,
  Rmknod,
  Rmultigetattr,
  Rread,
  Rreaddir,
  Rreadlink,
  Rremove,
  Rremovexattr,
  Rrename,
  Rrenameat,
  Rsetattr,
  Rsetattrclunk,
  Rsetxattr,
  Rstatfs,
  Rsymlink,
  Rucreate,
  Rumkdir,
  Rumknod,
  Runlinkat,
  Rusymlink,
  Rwalk,
  Rwalkgetattr,
  Rwrite,
  Rxattrcreate,
  Rxattrwalk,
  Tallocate,
  Tattach,
  Tauth,
  Tclunk,
  Tfsync,
  Tflushf,
  Tgetattr,
  Tgetlock,
  Tgetxattr,
  Tlcreate,
  Tlink,
  Tlistxattr,
  Tlock,
  Tlopen,
  Tmkdir,
  Tmknod,
  Tmultigetattr,
  Tread,
  Treaddir,
  Treadlink,
  Tremove,
  Tremovexattr,
  Trename,
  Trenameat,
  Tsetattr,
  Tsetattrclunk,
  Tsetxattr,
  Tstatfs,
  Tsymlink,
  Tucreate,
  Tumkdir,
  Tumknod,
  Tunlinkat,
  Tusymlink,
  Twalk,
  Twalkgetattr,
  Twrite,
  Txattrcreate,
  Txattrwalk,
} from './messages';
import {
  AllocateMode,
  Attr,
  AttrMask,
  AttrMaskAll,
  ConnectFlags,
  Dirent,
  FSStat,
  FileMode,
  FullStat,
  NoFID,
  fileModeIsDir,
  NoGID,
  NoUID,
  OpenFlags,
  QID,
  SetAttr,
  SetAttrMask,
} from './p9';
import {
  versionSupportsConnect,
  versionSupportsTflushf,
  versionSupportsGetSetXattr,
  versionSupportsListRemoveXattr,
  versionSupportsMultiGetAttr,
  versionSupportsTallocate,
  versionSupportsTsetattrclunk,
  versionSupportsTucreation,
  versionSupportsTwalkgetattr,
} from './version';

const log = logger('gvisor:p9');

/** MaxWalkElements is 9P's MAXWELEM: at most 16 names per Twalk. */
export const MaxWalkElements = 16;

/** Lock request result (Rlock.status), as 9P2000.L's P9_LOCK_*. */
export const LockStatusOK = 0;
export const LockStatusBlocked = 1;
export const LockStatusError = 2;
export const LockStatusGrace = 3;

/** Lock types (Tlock.type / Rgetlock.type), as 9P2000.L's P9_LOCK_TYPE_*. */
export const LockTypeRdlck = 0;
export const LockTypeWrlck = 1;
export const LockTypeUnlck = 2;

/** Tlock.flags: P9_LOCK_FLAGS_BLOCK and P9_LOCK_FLAGS_RECLAIM. */
export const LockFlagsBlock = 1;
export const LockFlagsReclaim = 2;

/** Lock is the description of a POSIX record lock (Tgetlock/Rgetlock). */
export interface Lock {
  type: number;
  start: number;
  length: number;
  procID: number;
  clientID: string;
}

/**
 * attach attaches to a server (gVisor: Client.Attach). Authentication is not
 * supported. uid is sent as Tattach's n_uname (NoUID by default, as gVisor).
 */
export async function attach(c: Client, name: string, uid: number = NoUID, signal?: AbortSignal): Promise<ClientFile> {
  const fid = c.fidPool.get();
  if (fid === undefined) throw syserror.EMFILE; // ErrOutOfFIDs
  try {
    await c.sendRecv(new Tattach(fid, new Tauth(NoFID, '', name, uid)), Rattach, signal);
  } catch (e) {
    c.fidPool.put(fid);
    throw e;
  }
  return new ClientFile(c, fid);
}

/**
 * ClientFile is provided to clients (gVisor: clientFile). It proxies all of
 * the operations of file.go's File.
 */
export class ClientFile implements File {
  /** client is the originating client. */
  readonly client: Client;

  /** fid is the FID for this file. */
  readonly fid: number;

  // closed indicates whether this file has been closed.
  private closed = false;

  constructor(client: Client, fid: number) {
    this.client = client;
    this.fid = fid;
  }

  /** isClosed reports whether close (or remove, setAttrClose) was called. */
  isClosed(): boolean {
    return this.closed;
  }

  /**
   * walk walks to the path components given in names, and returns their
   * QIDs and a new file for the last. An empty list clones this file.
   */
  async walk(names: readonly string[], signal?: AbortSignal): Promise<[QID[], ClientFile]> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    const fid = c.fidPool.get();
    if (fid === undefined) throw syserror.EMFILE; // ErrOutOfFIDs

    // The first walk creates fid; the following ones (more than
    // MaxWalkElements names) walk it in place.
    let qids: QID[] = [];
    let from = this.fid;
    let i = 0;
    do {
      const part = names.length <= MaxWalkElements && i === 0 ? names : names.slice(i, i + MaxWalkElements);
      let rwalk: Rwalk;
      try {
        rwalk = await c.sendRecv(new Twalk(from, fid, part as string[]), Rwalk, signal);
      } catch (e) {
        if (from === fid) await this.clunkLost(fid);
        else c.fidPool.put(fid);
        throw e;
      }
      if (rwalk.qids.length !== part.length) {
        // A short walk: the server did not create (or move) fid.
        if (from === fid) await this.clunkLost(fid);
        else c.fidPool.put(fid);
        throw syserror.ENOENT;
      }
      qids = i === 0 ? rwalk.qids : qids.concat(rwalk.qids);
      from = fid;
      i += part.length;
    } while (i < names.length);

    // Return a new client file.
    return [qids, new ClientFile(c, fid)];
  }

  // clunkLost clunks a fid the caller will not get, ignoring errors.
  private async clunkLost(fid: number): Promise<void> {
    await new ClientFile(this.client, fid).close().catch(() => {});
  }

  /** walkGetAttr walks to the next file and returns its maximal set of attributes. */
  async walkGetAttr(components: readonly string[], signal?: AbortSignal): Promise<[QID[], ClientFile, AttrMask, Attr]> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;

    if (!versionSupportsTwalkgetattr(c.version)) {
      const [qids, file] = await this.walk(components, signal);
      let valid: AttrMask;
      let attr: Attr;
      try {
        [, valid, attr] = await file.getAttr(AttrMaskAll(), signal);
      } catch (e) {
        await file.close().catch(() => {});
        throw e;
      }
      return [qids, file, valid, attr];
    }

    const fid = c.fidPool.get();
    if (fid === undefined) throw syserror.EMFILE; // ErrOutOfFIDs
    let r: Rwalkgetattr;
    try {
      r = await c.sendRecv(new Twalkgetattr(this.fid, fid, components as string[]), Rwalkgetattr, signal);
    } catch (e) {
      c.fidPool.put(fid);
      throw e;
    }
    if (r.qids.length !== components.length) {
      c.fidPool.put(fid);
      throw syserror.ENOENT;
    }
    // Return a new client file.
    return [r.qids, new ClientFile(c, fid), r.valid, r.attr];
  }

  /**
   * multiGetAttr returns the attributes of this file (if names[0] is "")
   * and of each successive component of names, stopping silently at the
   * first that does not exist or is not a directory (gVisor's later
   * MultiGetAttr; a walk per component when the server lacks Tmultigetattr).
   */
  async multiGetAttr(names: readonly string[], signal?: AbortSignal): Promise<FullStat[]> {
    if (this.closed) throw syserror.EBADF;
    if (!versionSupportsMultiGetAttr(this.client.version)) {
      return defaultMultiGetAttr(this, names, signal);
    }
    const r = await this.client.sendRecv(new Tmultigetattr(this.fid, names as string[]), Rmultigetattr, signal);
    return r.stats;
  }

  /** statFS returns information about the file system associated with this file. */
  async statFS(signal?: AbortSignal): Promise<FSStat> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Tstatfs(this.fid), Rstatfs, signal);
    return r.fsStat;
  }

  /** fSync syncs this file. */
  async fSync(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    await this.client.sendRecv(new Tfsync(this.fid), Rfsync, signal);
  }

  /** getAttr returns attributes of this file. */
  async getAttr(req: AttrMask, signal?: AbortSignal): Promise<[QID, AttrMask, Attr]> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Tgetattr(this.fid, req), Rgetattr, signal);
    return [r.qid, r.valid, r.attr];
  }

  /** setAttr sets attributes on this file. */
  async setAttr(valid: SetAttrMask, attr: SetAttr, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    await this.client.sendRecv(new Tsetattr(this.fid, valid, attr), Rsetattr, signal);
  }

  /**
   * getXattr returns extended attribute name of this file. size is the
   * caller's buffer size: 0 asks for the whole value, whatever its length;
   * otherwise a larger value is ERANGE.
   *
   * Values are Go's byte strings: each byte is one char (latin1), so any
   * binary value survives the round trip (the wire carries bytes, see
   * messages.ts Rgetxattr).
   */
  async getXattr(name: string, size: number, signal?: AbortSignal): Promise<string> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsGetSetXattr(c.version)) {
      const r = await c.sendRecv(new Tgetxattr(this.fid, name, size), Rgetxattr, signal);
      return r.value.toString('latin1');
    }
    // 9P2000.L: Txattrwalk gives a fid to read the value from.
    const data = await this.xattrRead(name, signal);
    if (size !== 0 && data.length > size) throw syserror.ERANGE;
    return data.toString('latin1');
  }

  // xattrRead reads the value of xattr name ("" lists the names) through
  // Txattrwalk, Tread and Tclunk.
  private async xattrRead(name: string, signal?: AbortSignal): Promise<Buffer> {
    const c = this.client;
    const fid = c.fidPool.get();
    if (fid === undefined) throw syserror.EMFILE; // ErrOutOfFIDs
    let r: Rxattrwalk;
    try {
      r = await c.sendRecv(new Txattrwalk(this.fid, fid, name), Rxattrwalk, signal);
    } catch (e) {
      c.fidPool.put(fid);
      throw e;
    }
    const xf = new ClientFile(c, fid);
    try {
      if (r.size > 0x7fffffff) throw syserror.E2BIG;
      const buf = Buffer.alloc(r.size);
      let n = 0;
      while (n < buf.length) {
        const m = await xf.readAt(buf.subarray(n), n, signal);
        if (m === 0) break;
        n += m;
      }
      return n === buf.length ? buf : buf.subarray(0, n);
    } finally {
      await xf.close().catch(() => {});
    }
  }

  /**
   * setXattr sets extended attribute name of this file to value; flags are
   * setxattr(2)'s XATTR_CREATE / XATTR_REPLACE.
   *
   * On a 9P2000.L server this is Txattrcreate on a clone of the fid, the
   * value written to it, and the Tclunk that applies it, as Linux's v9fs
   * does; like v9fs, an empty value then removes the attribute (diod).
   */
  async setXattr(name: string, value: string, flags: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsGetSetXattr(c.version)) {
      await c.sendRecv(new Tsetxattr(this.fid, name, Buffer.from(value, 'latin1'), flags), Rsetxattr, signal);
      return;
    }
    await this.xattrWrite(name, Buffer.from(value, 'latin1'), flags, signal);
  }

  // xattrWrite sets (or, with an empty value, removes) an xattr through
  // Twalk (clone), Txattrcreate, Twrite and Tclunk.
  private async xattrWrite(name: string, value: Buffer, flags: number, signal?: AbortSignal): Promise<void> {
    const [, xf] = await this.walk([], signal);
    try {
      await this.client.sendRecv(new Txattrcreate(xf.fid, name, value.length, flags), Rxattrcreate, signal);
      let n = 0;
      while (n < value.length) {
        const m = await xf.writeAt(value.subarray(n), n, signal);
        if (m === 0) throw syserror.EIO;
        n += m;
      }
    } catch (e) {
      await xf.close().catch(() => {});
      throw e;
    }
    // The clunk applies the attribute: its error is the call's.
    await xf.close(signal);
  }

  /** listXattr lists the names of the extended attributes of this file. */
  async listXattr(size: number, signal?: AbortSignal): Promise<Set<string>> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsListRemoveXattr(c.version)) {
      const r = await c.sendRecv(new Tlistxattr(this.fid, size), Rlistxattr, signal);
      return new Set(r.xattrs);
    }
    // 9P2000.L: Txattrwalk with an empty name reads llistxattr(2)'s list.
    const data = await this.xattrRead('', signal);
    if (size !== 0 && data.length > size) throw syserror.ERANGE;
    const xattrs = new Set<string>();
    // Names are UTF-8 on the wire (Txattrwalk's name), so in the list too.
    for (const n of data.toString('utf8').split('\0')) if (n !== '') xattrs.add(n);
    return xattrs;
  }

  /** removeXattr removes extended attribute name of this file. */
  async removeXattr(name: string, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsListRemoveXattr(c.version)) {
      await c.sendRecv(new Tremovexattr(this.fid, name), Rremovexattr, signal);
      return;
    }
    // 9P2000.L: Txattrcreate of size 0, then Tclunk (Linux's v9fs, diod).
    await this.xattrWrite(name, Buffer.alloc(0), 0, signal);
  }

  /** allocate allocates (fallocate(2)) space in this open file. */
  async allocate(mode: AllocateMode, offset: number, length: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    if (!versionSupportsTallocate(this.client.version)) throw syserror.EOPNOTSUPP;
    await this.client.sendRecv(new Tallocate(this.fid, mode, offset, length), Rallocate, signal);
  }

  /**
   * remove removes the file and clunks the fid.
   *
   * N.B. This method is no longer part of the file interface and should be
   * considered deprecated.
   */
  async remove(signal?: AbortSignal): Promise<void> {
    // Avoid double close.
    if (this.closed) throw syserror.EBADF;
    this.closed = true;

    // Send the remove message.
    await this.client.sendRecv(new Tremove(this.fid), Rremove, signal);

    // "It is correct to consider remove to be a clunk with the side effect
    // of removing the file if permissions allow."
    // https://swtch.com/plan9port/man/man9/remove.html

    // Return the FID to the pool.
    this.client.fidPool.put(this.fid);
  }

  /** close clunks the fid. */
  async close(signal?: AbortSignal): Promise<void> {
    // Avoid double close.
    if (this.closed) throw syserror.EBADF;
    this.closed = true;

    // Send the close message.
    try {
      await this.client.sendRecv(new Tclunk(this.fid), Rclunk, signal);
    } catch (e) {
      // If an error occurred, we toss away the FID. This isn't ideal,
      // but I'm not sure what else makes sense in this context.
      log.warningf('Tclunk failed, losing FID %d: %s', this.fid, String(e));
      throw e;
    }

    // Return the FID to the pool.
    this.client.fidPool.put(this.fid);
  }

  /** setAttrClose sets attributes and closes the file in one message if the server can. */
  async setAttrClose(valid: SetAttrMask, attr: SetAttr, signal?: AbortSignal): Promise<void> {
    if (!versionSupportsTsetattrclunk(this.client.version)) {
      let setAttrErr: unknown = null;
      try {
        await this.setAttr(valid, attr, signal);
      } catch (e) {
        setAttrErr = e;
      }
      // Try to close file even in case of failure above. Since the state of
      // the file is unknown to the caller, it will not attempt to close the
      // file again.
      await this.close(signal);
      if (setAttrErr !== null) throw setAttrErr;
      return;
    }

    // Avoid double close.
    if (this.closed) throw syserror.EBADF;
    this.closed = true;

    // Send the message.
    try {
      await this.client.sendRecv(new Tsetattrclunk(this.fid, valid, attr), Rsetattrclunk, signal);
    } catch (e) {
      // If an error occurred, we toss away the FID. This isn't ideal,
      // but I'm not sure what else makes sense in this context.
      log.warningf('Tsetattrclunk failed, losing FID %d: %s', this.fid, String(e));
      throw e;
    }

    // Return the FID to the pool.
    this.client.fidPool.put(this.fid);
  }

  /**
   * openFD opens the file (gVisor's Open): it returns the host fd the
   * server donated (the caller owns it; -1 for none: no fd channel, or not
   * a regular file), the QID and the server's iounit.
   */
  async openFD(flags: OpenFlags, signal?: AbortSignal): Promise<[number, QID, number]> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Tlopen(this.fid, flags), Rlopen, signal);
    return [this.client.takeDonatedFD(r), r.qid, r.ioUnit];
  }

  /**
   * open opens the file; it returns the QID and the server's iounit (File's
   * open, whose result has no fd: a donated one is closed).
   */
  async open(flags: OpenFlags, signal?: AbortSignal): Promise<[QID, number]> {
    const [fd, qid, ioUnit] = await this.openFD(flags, signal);
    if (fd >= 0) closeQuietly(fd);
    return [qid, ioUnit];
  }

  /**
   * connect would return a host socket connected to the socket file. The
   * socket comes back as an fd over SCM_RIGHTS, which Node cannot receive:
   * EOPNOTSUPP when the server supports Tlconnect (gVisor's ECONNREFUSED
   * otherwise).
   */
  async connect(_flags: ConnectFlags, _signal?: AbortSignal): Promise<never> {
    if (this.closed) throw syserror.EBADF;
    if (!versionSupportsConnect(this.client.version)) throw syserror.ECONNREFUSED;
    throw syserror.EOPNOTSUPP;
  }

  /**
   * readAt reads into p from offset, in payloadSize chunks (gVisor's chunk),
   * and returns the number of bytes read; 0 means end of file.
   */
  readAt(p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    return chunk(this.client.payloadSize, this, readAtOne, p, offset, signal);
  }

  /**
   * readAtParallel is readAt with the Treads of all its chunks in flight at
   * once (parallelReads at most), for a file whose reads are positional (a
   * regular file): it returns what readAt's serial chunks would, the bytes
   * up to the first short chunk (or error: thrown only if no byte came
   * before it), in one round trip instead of one per chunk. Nothing is
   * copied into p past the count returned. Not in gVisor (whose chunk is
   * serial). Not for pipes or sockets, where chunks would race for data.
   */
  async readAtParallel(p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    const size = this.client.payloadSize;
    if (p.length <= size) return this.readAtOne(p, offset, signal);
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    let total = 0;
    for (let base = 0; base < p.length; base += size * parallelReads) {
      const end = Math.min(p.length, base + size * parallelReads);
      const replies: Array<Promise<Rread | LinuxError>> = [];
      for (let o = base; o < end; o += size) {
        const want = Math.min(size, p.length - o);
        replies.push(c.sendRecv(new Tread(this.fid, offset + o, want), Rread, signal).then((r) => r, (e: unknown) => errorOf(e)));
      }
      const rs = await Promise.all(replies);
      let failed: LinuxError | null = null;
      let short = false;
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i];
        if (r instanceof LinuxError) {
          if (!short && failed === null) failed = r;
          continue;
        }
        if (!short && failed === null) {
          const want = Math.min(size, p.length - (base + i * size));
          const data = r.data;
          // A server may not return more than asked.
          if (data.length > want) {
            failed = syserror.EIO;
          } else {
            if (data.length > 0) data.copy(p, total);
            total += data.length;
            if (data.length < want) short = true;
          }
        }
        c.releaseReply(r);
      }
      if (failed !== null) {
        // As chunk: return whatever we have processed if we encounter an error.
        if (total > 0) return total;
        throw failed;
      }
      if (short) return total;
    }
    return total;
  }

  /** writeAt writes p at offset, in payloadSize chunks, and returns the number of bytes written. */
  writeAt(p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    return chunk(this.client.payloadSize, this, writeAtOne, p, offset, signal);
  }

  /** readAtOne is one Tread (gVisor: clientFile.readAt). */
  async readAtOne(p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    const r = await c.sendRecv(new Tread(this.fid, offset, p.length), Rread, signal);
    const data = r.data;
    try {
      // A server may not return more than asked.
      if (data.length > p.length) throw syserror.EIO;
      // The payload is a view of the received frame (transport.ts): copy it,
      // unless it already is p (Buffers of one pool share an ArrayBuffer, so
      // the offset must match too).
      if (data.length > 0 && (data.buffer !== p.buffer || data.byteOffset !== p.byteOffset)) data.copy(p);
      return data.length;
    } finally {
      // A large frame goes back to the client's pool for the next Rread.
      c.releaseReply(r);
    }
  }

  /** writeAtOne is one Twrite (gVisor: clientFile.writeAt). */
  async writeAtOne(p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Twrite(this.fid, offset, p), Rwrite, signal);
    if (r.count > p.length) throw syserror.EIO;
    return r.count;
  }

  /** rename renames this file to name in dir (Trename). */
  async rename(dir: ClientFile, name: string, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    if (dir.client !== this.client) throw syserror.EBADF;
    await this.client.sendRecv(new Trename(this.fid, dir.fid, name), Rrename, signal);
  }

  /**
   * create creates and opens name in this directory. As in 9P, this file's
   * fid becomes the new open file: the File returned is this one.
   */
  async create(
    name: string,
    openFlags: OpenFlags,
    permissions: FileMode,
    uid: number,
    gid: number,
    signal?: AbortSignal,
  ): Promise<[ClientFile, QID, number]> {
    const [fd, f, qid, ioUnit] = await this.createFD(name, openFlags, permissions, uid, gid, signal);
    if (fd >= 0) closeQuietly(fd);
    return [f, qid, ioUnit];
  }

  /**
   * createFD is create returning, first, the host fd the server donated
   * for the new file (gVisor's Create; the caller owns it; -1 for none).
   */
  async createFD(
    name: string,
    openFlags: OpenFlags,
    permissions: FileMode,
    uid: number,
    gid: number,
    signal?: AbortSignal,
  ): Promise<[number, ClientFile, QID, number]> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsTucreation(c.version)) {
      const r = await c.sendRecv(new Tucreate(this.fid, name, openFlags, permissions, gid, uid), Rucreate, signal);
      return [c.takeDonatedFD(r), this, r.qid, r.ioUnit];
    }
    const r = await c.sendRecv(new Tlcreate(this.fid, name, openFlags, permissions, NoGID), Rlcreate, signal);
    return [c.takeDonatedFD(r), this, r.qid, r.ioUnit];
  }

  /** mkdir makes directory name in this directory. */
  async mkdir(name: string, permissions: FileMode, uid: number, gid: number, signal?: AbortSignal): Promise<QID> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsTucreation(c.version)) {
      const r = await c.sendRecv(new Tumkdir(this.fid, name, permissions, gid, uid), Rumkdir, signal);
      return r.qid;
    }
    const r = await c.sendRecv(new Tmkdir(this.fid, name, permissions, NoGID), Rmkdir, signal);
    return r.qid;
  }

  /** symlink makes symlink newname, pointing to oldname, in this directory. */
  async symlink(oldname: string, newname: string, uid: number, gid: number, signal?: AbortSignal): Promise<QID> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsTucreation(c.version)) {
      const r = await c.sendRecv(new Tusymlink(this.fid, newname, oldname, gid, uid), Rusymlink, signal);
      return r.qid;
    }
    const r = await c.sendRecv(new Tsymlink(this.fid, newname, oldname, NoGID), Rsymlink, signal);
    return r.qid;
  }

  /** link makes newname in this directory a hard link to target. */
  async link(target: ClientFile, newname: string, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    if (target.client !== this.client) throw syserror.EBADF;
    await this.client.sendRecv(new Tlink(this.fid, target.fid, newname), Rlink, signal);
  }

  /** mknod makes node name in this directory. */
  async mknod(
    name: string,
    mode: FileMode,
    major: number,
    minor: number,
    uid: number,
    gid: number,
    signal?: AbortSignal,
  ): Promise<QID> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (versionSupportsTucreation(c.version)) {
      const r = await c.sendRecv(new Tumknod(this.fid, name, mode, major, minor, gid, uid), Rumknod, signal);
      return r.qid;
    }
    const r = await c.sendRecv(new Tmknod(this.fid, name, mode, major, minor, NoGID), Rmknod, signal);
    return r.qid;
  }

  /**
   * renameAt renames oldname in this directory to newname in newdir.
   *
   * A plain 9P2000.L server may lack Trenameat (diod answers EOPNOTSUPP):
   * then, as Linux's v9fs does, the file is walked to and renamed with
   * Trename.
   */
  async renameAt(oldname: string, newdir: ClientFile, newname: string, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    if (newdir.client !== this.client) throw syserror.EBADF;
    const c = this.client;
    if (!c.noRenameAt) {
      try {
        await c.sendRecv(new Trenameat(this.fid, oldname, newdir.fid, newname), Rrenameat, signal);
        return;
      } catch (e) {
        if (e !== syserror.EOPNOTSUPP || c.version !== 0) throw e;
        c.noRenameAt = true;
      }
    }
    const [, f] = await this.walk([oldname], signal);
    try {
      await f.rename(newdir, newname, signal);
    } finally {
      await f.close().catch(() => {});
    }
  }

  /**
   * unlinkAt unlinks name from this directory; flags may be AT_REMOVEDIR.
   *
   * A plain 9P2000.L server may lack Tunlinkat (diod answers EOPNOTSUPP):
   * then, as Linux's v9fs does, the file is walked to and removed with
   * Tremove, after checking its type against AT_REMOVEDIR as unlinkat(2)
   * would (EISDIR, ENOTDIR), since Tremove removes either kind.
   */
  async unlinkAt(name: string, flags: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (!c.noUnlinkAt) {
      try {
        await c.sendRecv(new Tunlinkat(this.fid, name, flags), Runlinkat, signal);
        return;
      } catch (e) {
        if (e !== syserror.EOPNOTSUPP || c.version !== 0) throw e;
        c.noUnlinkAt = true;
      }
    }
    const [, f, , attr] = await this.walkGetAttr([name], signal);
    const isDir = fileModeIsDir(attr.mode);
    if ((flags & AT_REMOVEDIR) !== 0 ? !isDir : isDir) {
      await f.close().catch(() => {});
      throw isDir ? syserror.EISDIR : syserror.ENOTDIR;
    }
    // Tremove clunks the fid whatever the outcome (remove(5)).
    await f.remove(signal);
  }

  /**
   * readdir reads directory entries from offset (a cookie: 0, or a previous
   * entry's offset). count is limited to what fits in msize.
   */
  async readdir(offset: bigint, count: number, signal?: AbortSignal): Promise<Dirent[]> {
    if (this.closed) throw syserror.EBADF;
    const c = this.client;
    if (count > c.payloadSize) count = c.payloadSize;
    const r = await c.sendRecv(new Treaddir(this.fid, offset, count), Rreaddir, signal);
    return r.entries;
  }

  /** readlink reads the target of this symlink. */
  async readlink(signal?: AbortSignal): Promise<string> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Treadlink(this.fid), Rreadlink, signal);
    return r.target;
  }

  /** flush is Tflushf (a no-op on servers without it): close(2) of an fd on this file. */
  async flush(signal?: AbortSignal): Promise<void> {
    if (this.closed) throw syserror.EBADF;
    if (!versionSupportsTflushf(this.client.version)) return;
    await this.client.sendRecv(new Tflushf(this.fid), Rflushf, signal);
  }

  /**
   * renamed is a server-side notification (File.renamed): a client never
   * receives it (gVisor's DisallowServerCalls panics; here it does nothing).
   */
  renamed(_newDir: File, _newName: string): void {}

  /**
   * lock acquires or releases a POSIX record lock (Tlock); it returns the
   * status (LockStatusOK, LockStatusBlocked, ...). The server does not wait
   * for a conflicting lock (9P2000.L): a client retries on Blocked.
   */
  async lock(
    type: number,
    flags: number,
    start: number,
    length: number,
    procID: number,
    clientID: string,
    signal?: AbortSignal,
  ): Promise<number> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Tlock(this.fid, type, flags, start, length, procID, clientID), Rlock, signal);
    return r.status;
  }

  /** getLock tests for a lock conflicting with the one described (Tgetlock). */
  async getLock(l: Lock, signal?: AbortSignal): Promise<Lock> {
    if (this.closed) throw syserror.EBADF;
    const r = await this.client.sendRecv(new Tgetlock(this.fid, l.type, l.start, l.length, l.procID, l.clientID), Rgetlock, signal);
    return { type: r.lockType, start: r.start, length: r.length, procID: r.procID, clientID: r.clientID };
  }
}

/**
 * ReadWriterFile wraps a File with a file offset, as Go's io.ReadWriter,
 * io.ReaderAt and io.WriterAt (gVisor's ReadWriterFile). Reads return 0 at
 * end of file (Go: io.EOF).
 */
export class ReadWriterFile {
  constructor(
    public file: File,
    public offset = 0,
  ) {}

  /** read reads at the offset and advances it. */
  async read(p: Buffer): Promise<number> {
    const n = await this.file.readAt(p, this.offset);
    this.offset += n;
    return n;
  }

  /** readAt reads at offset, leaving the file offset alone. */
  readAt(p: Buffer, offset: number): Promise<number> {
    return this.file.readAt(p, offset);
  }

  /**
   * write writes at the offset and advances it. Note that this may return a
   * short write without an error, as Linux's write(2) may (see gVisor).
   */
  async write(p: Buffer): Promise<number> {
    const n = await this.file.writeAt(p, this.offset);
    this.offset += n;
    return n;
  }

  /** writeAt writes at offset, leaving the file offset alone. */
  writeAt(p: Buffer, offset: number): Promise<number> {
    return this.file.writeAt(p, offset);
  }
}

type chunkFn = (this: ClientFile, p: Buffer, offset: number, signal?: AbortSignal) => Promise<number>;

function readAtOne(this: ClientFile, p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
  return this.readAtOne(p, offset, signal);
}

function writeAtOne(this: ClientFile, p: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
  return this.writeAtOne(p, offset, signal);
}

// parallelReads is the most Treads readAtParallel has in flight for one call.
const parallelReads = 16;

// errorOf narrows a rejection of sendRecv (always a LinuxError) for
// readAtParallel.
function errorOf(e: unknown): LinuxError {
  return e instanceof LinuxError ? e : syserror.EIO;
}

/**
 * chunk applies fn to p in chunkSize-sized chunks until fn returns a partial
 * result, p is exhausted, or an error is thrown. If some bytes were done
 * before the error, their count is returned instead (gVisor returns both).
 */
export async function chunk(
  chunkSize: number,
  f: ClientFile,
  fn: chunkFn,
  p: Buffer,
  offset: number,
  signal?: AbortSignal,
): Promise<number> {
  // Some p9.Clients depend on executing fn on zero-byte buffers. Handle this
  // as a special case (normally it is fine to short-circuit and return 0).
  if (p.length === 0) return fn.call(f, p, offset, signal);

  // total is the cumulative bytes processed.
  let total = 0;
  for (;;) {
    // We're done, don't bother trying to do anything more.
    if (total === p.length) return total;

    // Apply fn to a chunkSize-sized (or less) chunk of p.
    const end = p.length < total + chunkSize ? p.length : total + chunkSize;
    let n: number;
    try {
      n = await fn.call(f, p.subarray(total, end), offset, signal);
    } catch (e) {
      // Return whatever we have processed if we encounter an error.
      if (total > 0) return total;
      throw e;
    }
    total += n;
    offset += n;

    // Did we get a partial result? If so, return it immediately.
    if (n < chunkSize) return total;
  }
}

/**
 * defaultMultiGetAttr implements multiGetAttr on top of walkGetAttr, one
 * component at a time (gVisor's later file.go DefaultMultiGetAttr).
 */
export async function defaultMultiGetAttr(start: ClientFile, names: readonly string[], signal?: AbortSignal): Promise<FullStat[]> {
  const stats: FullStat[] = [];
  let parent = start;
  const mask = AttrMaskAll();
  try {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name.length === 0 && i === 0) {
        const [qid, valid, attr] = await parent.getAttr(mask, signal);
        stats.push(new FullStat(qid, valid, attr));
        continue;
      }
      let qids: QID[];
      let child: ClientFile;
      let valid: AttrMask;
      let attr: Attr;
      try {
        [qids, child, valid, attr] = await parent.walkGetAttr([name], signal);
      } catch (e) {
        if (e === syserror.ENOENT) return stats;
        throw e;
      } finally {
        if (parent !== start) {
          await parent.close().catch(() => {});
          parent = start;
        }
      }
      stats.push(new FullStat(qids[0], valid, attr));
      if (!fileModeIsDir(attr.mode)) {
        // Doesn't need to continue if entry is not a dir. Including
        // symlinks that cannot be followed.
        await child.close().catch(() => {});
        break;
      }
      parent = child;
    }
  } finally {
    if (parent !== start) await parent.close().catch(() => {});
  }
  return stats;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the fd is gone either way.
  }
}
