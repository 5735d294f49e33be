// Host fd donation over a side channel: the part of gVisor's
// pkg/p9/transport.go (send/recv with a filer, unet's SCM_RIGHTS) and of
// messages.go's filePayload that carries an Rlopen/Rlcreate's host fd.
//
// Differs from gVisor, and why: gVisor sends the fd with the reply itself,
// on the 9P socket (unet.Socket's sendmsg with SCM_RIGHTS). Node's
// net.Socket can neither send nor receive control messages, so fds travel
// on a second Unix stream socket per connection, the fd channel, written and
// read with sendmsg/recvmsg through koffi:
//
//   1. After Tversion agreed on a 9P2000.L.Google version (our server's, so
//      a plain 9P2000.L server such as diod never sees any of this), a client
//      on a Unix socket address connects a second socket to the same address
//      and writes hello: fdChannelMagic + a random token.
//   2. It sends Tfdchannel{token} on the 9P connection. The server binds the
//      side connection carrying that token to the 9P connection and answers
//      Rfdchannel (an error, e.g. ENOSYS from a server without the message,
//      leaves the client without donation, nothing else changes).
//   3. From then on the server, for every successful Rlopen/Rlcreate/Rucreate
//      it queues on the 9P socket, first sendmsg's one record [tag u16 LE]
//      [hasFD u8] on the fd channel, with SCM_RIGHTS carrying the host fd
//      when hasFD is 1. The record is in the client's receive queue before
//      the reply's first byte is written, so the client, decoding such a
//      reply, reads exactly one record with a non-blocking recvmsg: it never
//      waits. A missing record or a wrong tag is a protocol error: that open
//      fails with EIO and the client drops the channel (the server then fails
//      to send the next record, drops the channel too, and both go on
//      without donation).
//
// Every call here is synchronous and non-blocking (MSG_DONTWAIT, and the
// client's socket is SOCK_NONBLOCK): nothing can hang the event loop.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import koffi from 'koffi';

import * as syserror from '../syserror/syserror';
import type { buffer } from './buffer';
import { Message, msgRegistry } from './messages';
import { MsgType, Tag } from './p9';

const libc = koffi.load('libc.so.6');

const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  connect: libc.func('int connect(int fd, const void *addr, uint32_t addrlen)'),
  send: libc.func('int64_t send(int fd, const void *buf, uint64_t len, int flags)'),
  // The msghdr is built in native memory (koffi.alloc) so that its pointers
  // (iovec, data, control) are plain addresses: void * here.
  sendmsg: libc.func('int64_t sendmsg(int fd, void *msg, int flags)'),
  recvmsg: libc.func('int64_t recvmsg(int fd, void *msg, int flags)'),
};

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CTRUNC = 0x8;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;

/** fdChannelMagic starts a hello; its last byte is never 0, as a 9P frame's size[4] high byte is. */
export const fdChannelMagic = Buffer.from('9PFD', 'latin1');

/** tokenLength is the length of a token, in bytes. */
export const tokenLength = 16;

/** helloLength is the length of a hello: magic + token. */
export const helloLength = fdChannelMagic.length + tokenLength;

/** recordLength is the length of a record: tag[2] hasFD[1]. */
export const recordLength = 3;

/** isHello reports whether chunk (a side connection's first bytes) starts with the magic. */
export function isHello(chunk: Buffer): boolean {
  return chunk.length >= fdChannelMagic.length && chunk.subarray(0, fdChannelMagic.length).equals(fdChannelMagic);
}

/** newToken returns a fresh random token, hex encoded. */
export function newToken(): string {
  return crypto.randomBytes(tokenLength).toString('hex');
}

// Message type numbers of Tfdchannel/Rfdchannel: not gVisor's (whose
// highest are Tchannel/Rchannel, 250/251), so that no gVisor server or
// client mistakes them for one of its own.
const msgTfdchannel = 246 as MsgType;
const msgRfdchannel = 247 as MsgType;

/**
 * Tfdchannel binds the fd channel that wrote hello with token to this
 * connection (not in gVisor: see the module comment).
 */
export class Tfdchannel implements Message {
  static readonly type: MsgType = msgTfdchannel;

  get type(): MsgType {
    return msgTfdchannel;
  }

  constructor(
    /** token is the hex token the side connection's hello carries. */
    public token = '',
  ) {}

  decode(b: buffer): void {
    this.token = b.readString();
  }

  encode(b: buffer): void {
    b.writeString(this.token);
  }

  toString(): string {
    return `Tfdchannel{Token: ${this.token.length} chars}`;
  }
}

/** Rfdchannel is the Tfdchannel response. */
export class Rfdchannel implements Message {
  static readonly type: MsgType = msgRfdchannel;

  get type(): MsgType {
    return msgRfdchannel;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return 'Rfdchannel{}';
  }
}

if (msgRegistry.lookup(msgTfdchannel) === undefined) {
  msgRegistry.register(Tfdchannel);
  msgRegistry.register(Rfdchannel);
}

/**
 * donatingFile is a p9.File that can give the host fd of an opened regular
 * file to the client (gVisor: the *fd.FD Open and Create return; here a
 * separate method, so that File.open keeps its result).
 */
export interface donatingFile {
  /**
   * donateFD returns a new host fd (the caller owns it) for the file just
   * opened or created, with that open's access mode and no more, or -1 when
   * it donates none (not a regular file, donation off).
   */
  donateFD(): number;
}

/** isDonatingFile reports whether f implements donatingFile. */
export function isDonatingFile(f: unknown): f is donatingFile {
  return typeof f === 'object' && f !== null && typeof (f as Partial<donatingFile>).donateFD === 'function';
}

/** isOpenReply reports whether t is the type of a reply that carries a record (Rlopen, Rlcreate, Rucreate). */
export function isOpenReply(t: MsgType): boolean {
  return t === MsgType.Rlopen || t === MsgType.Rlcreate || t === MsgType.Rucreate;
}

function errno(): syserror.LinuxError {
  return syserror.fromErrno(koffi.errno());
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw syserror.EIO;
}

// Layout of the native block of a channel (x86_64): struct msghdr at 0
// (56 bytes), struct iovec at 56 (16), the record's bytes at 72 (8), and
// the control buffer at 80: one struct cmsghdr (16) and one int,
// CMSG_SPACE(sizeof(int)) = 24 bytes.
const offIov = 56;
const offData = 72;
const offCmsg = 80;
const cmsgSpace = 24;
const cmsgLen = 20;
const blockSize = 104;

// msgBlock is a msghdr in native memory, reused for every call of one
// channel (calls are synchronous and never re-enter). b is a Buffer over
// that memory (koffi.view): fields are read and written with Buffer
// methods, which cost far less than a koffi.encode/decode each.
class msgBlock {
  readonly mem: unknown;
  readonly b: Buffer;

  constructor() {
    this.mem = koffi.alloc('uint8_t', blockSize);
    const addr = BigInt(num(koffi.address(this.mem)));
    this.b = Buffer.from(koffi.view(this.mem, blockSize));
    const b = this.b;
    b.fill(0);
    b.writeBigUInt64LE(addr + BigInt(offIov), 16); // msg_iov
    b.writeBigUInt64LE(1n, 24); // msg_iovlen
    b.writeBigUInt64LE(addr + BigInt(offData), offIov); // iov_base
    b.writeBigUInt64LE(BigInt(recordLength), offIov + 8); // iov_len
    this.controlAddr = addr + BigInt(offCmsg);
  }

  private readonly controlAddr: bigint;

  // reset clears the record and, if control, points the msghdr at a zeroed
  // control buffer (else at none).
  reset(control: boolean): void {
    const b = this.b;
    if (control) {
      b.writeBigUInt64LE(this.controlAddr, 32); // msg_control
      b.writeBigUInt64LE(BigInt(cmsgSpace), 40); // msg_controllen
      b.fill(0, offCmsg, offCmsg + cmsgSpace);
    } else {
      b.fill(0, 32, 48);
    }
    b.fill(0, 48, 56); // msg_flags
    b.fill(0, offData, offData + 8);
  }

  free(): void {
    koffi.free(this.mem);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the fd is gone either way.
  }
}

/**
 * clientFDChannel is the client end of an fd channel: a non-blocking Unix
 * socket created and connected through koffi (Node's sockets do not expose
 * recvmsg).
 */
export class clientFDChannel {
  private fd: number;
  private readonly block = new msgBlock();

  private constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * connect connects a new channel to the Unix socket at path and writes the
   * hello with token. It throws the LinuxError of a failed call (EAGAIN when
   * the listener's backlog is full: the caller goes on without donation).
   */
  static connect(path: string, token: string): clientFDChannel {
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    const n = addr.write(path, 2, 'utf8');
    if (n !== Buffer.byteLength(path) || n > 107) throw syserror.ENAMETOOLONG;
    const fd = num(c.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd < 0) throw errno();
    try {
      if (num(c.connect(fd, addr, 2 + n + 1)) < 0) throw errno();
      const hello = Buffer.concat([fdChannelMagic, Buffer.from(token, 'hex')]);
      const w = num(c.send(fd, hello, hello.length, MSG_NOSIGNAL | MSG_DONTWAIT));
      if (w < 0) throw errno();
      if (w !== hello.length) throw syserror.EIO;
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
    return new clientFDChannel(fd);
  }

  /**
   * recvRecord reads the record of the reply with tag and returns its fd
   * (close-on-exec), or -1 when the record says there is none. It throws
   * EIO when no record is there, or when the record is for another tag or
   * malformed: the caller fails the open and drops the channel.
   */
  recvRecord(tag: Tag): number {
    if (this.fd < 0) throw syserror.EIO;
    const blk = this.block;
    blk.reset(true);
    const n = num(c.recvmsg(this.fd, blk.mem, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    // EAGAIN (no record), or any other failure: a protocol error.
    if (n < 0) throw syserror.EIO;
    // Any fd that came with the record is ours now, whatever the record says.
    const b = blk.b;
    let fd = -1;
    if (b.readUInt32LE(40) >= cmsgLen && b.readUInt32LE(offCmsg) === cmsgLen &&
        b.readInt32LE(offCmsg + 8) === SOL_SOCKET && b.readInt32LE(offCmsg + 12) === SCM_RIGHTS) {
      fd = b.readInt32LE(offCmsg + 16);
    }
    const flags = b.readInt32LE(48);
    const gotTag = b.readUInt16LE(offData);
    const hasFD = b[offData + 2];
    if (n !== recordLength || (flags & MSG_CTRUNC) !== 0 || gotTag !== tag || hasFD > 1 || (hasFD === 1) !== (fd >= 0)) {
      if (fd >= 0) closeQuietly(fd);
      throw syserror.EIO;
    }
    return fd;
  }

  /** isOpen reports whether the channel has not been closed. */
  isOpen(): boolean {
    return this.fd >= 0;
  }

  /** close closes the channel (records still queued, and their fds, are dropped by the kernel). */
  close(): void {
    if (this.fd < 0) return;
    closeQuietly(this.fd);
    this.fd = -1;
    this.block.free();
  }
}

/**
 * serverFDChannel is the server end of an fd channel: a connection Node's
 * listener accepted. The socket stays Node's, which owns and finally closes
 * its descriptor; records are written with sendmsg on that descriptor, looked
 * up at each send (socketFD), so that nothing is ever sent on a number
 * Node has closed (and the kernel may have reused).
 */
export class serverFDChannel {
  private conn: unknown;
  private readonly block = new msgBlock();

  constructor(conn: unknown) {
    this.conn = conn;
  }

  /**
   * sendRecord sends the record [tag][hasFD] with hostFD (when >= 0) as
   * SCM_RIGHTS. It throws the LinuxError of a failed or short sendmsg
   * (EPIPE once the client has dropped the channel, EAGAIN when its queue
   * is full); the caller then drops the channel.
   */
  sendRecord(tag: Tag, hostFD: number): void {
    const fd = socketFD(this.conn);
    if (fd < 0) throw syserror.EPIPE;
    const blk = this.block;
    blk.reset(hostFD >= 0);
    const b = blk.b;
    b.writeUInt16LE(tag, offData);
    b[offData + 2] = hostFD >= 0 ? 1 : 0;
    if (hostFD >= 0) {
      b.writeUInt32LE(cmsgLen, offCmsg); // cmsg_len (size_t; high half is 0)
      b.writeInt32LE(SOL_SOCKET, offCmsg + 8);
      b.writeInt32LE(SCM_RIGHTS, offCmsg + 12);
      b.writeInt32LE(hostFD, offCmsg + 16);
    }
    const n = num(c.sendmsg(fd, blk.mem, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (n < 0) throw errno();
    if (n !== recordLength) throw syserror.EIO;
  }

  /** close forgets the socket (its owner, Node, closes it). */
  close(): void {
    if (this.conn === null) return;
    this.conn = null;
    this.block.free();
  }
}

/**
 * socketFD returns the descriptor under a connected net.Socket (libuv's
 * handle), or -1 when it has none (not a Unix or TCP stream).
 */
export function socketFD(s: unknown): number {
  if (typeof s !== 'object' || s === null) return -1;
  const h: unknown = (s as { _handle?: unknown })._handle;
  if (typeof h !== 'object' || h === null) return -1;
  const fd: unknown = (h as { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}
