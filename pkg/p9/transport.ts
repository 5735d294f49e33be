// Port of gVisor pkg/p9/transport.go: framing of 9P messages on a byte
// stream (size[4] type[1] tag[2], little endian, size counting the header),
// plus the addresses the client dials and the server listens on.
//
// Differs from gVisor: Go's send/recv block on a unet.Socket; Node delivers
// bytes in 'data' chunks, so receiving is a MessageReader that is fed chunks
// (push) and yields whole messages (next), and sending is encodeMessage
// (bytes for socket.write). No file descriptors travel with messages on the
// 9P socket (Node's sockets cannot pass them), so the filer half of
// send/recv is gone from here: the host fds of Rlopen/Rlcreate go on a side
// Unix socket per connection, with sendmsg/recvmsg through koffi
// (fdpass.ts). Addresses (parseAddress, dial, listen) replace the unet/fd
// plumbing of runsc.

import debugModule from 'debug';
import * as net from 'node:net';
import { Errno } from '../abi/linux/errors';
import * as syserror from '../syserror/syserror';
import { LinuxError } from '../syserror/syserror';
import { buffer, ErrBadMessage } from './buffer';
import { isPayloader, Message, msgRegistry, Rread, Rreaddir, rreadFrame, rreadFrameHeader } from './messages';
import { MsgType, NoTag, Tag } from './p9';

const log = debugModule('gvisor:p9');

/** headerLength is the number of bytes required for a header. */
export const headerLength = 7;

/** maximumLength is the largest possible message. */
export const maximumLength = 1 << 20;

// poolThreshold: frames of a pooled type above this size are assembled in
// pooled memory (smaller ones are cheap to allocate); framePoolCap: the most
// free frame buffers a MessageReader keeps.
const poolThreshold = 64 << 10;
const framePoolCap = 4;

/** DefaultMessageSize is a sensible default. */
export const DefaultMessageSize = 64 << 10;

/** initialBufferLength is the initial data buffer we allocate. */
export const initialBufferLength = 64;

/**
 * ErrSocket is thrown in cases of a socket issue (a Node 'error' on the
 * stream, a write after close). This may be treated differently than other
 * errors: the connection is gone. errno is the underlying error's (EIO when
 * it has none).
 */
export class ErrSocket extends LinuxError {
  override readonly cause: unknown;

  constructor(cause: unknown) {
    super(syserror.fromNodeError(cause).errno);
    this.name = 'ErrSocket';
    this.cause = cause;
    if (cause instanceof Error) this.message = `socket error: ${cause.message}`;
  }
}

/**
 * ErrMessageTooLarge indicates the size was larger than reasonable: above
 * the negotiated msize (or maximumLength) on receive, or above msize on send.
 * On receive it is fatal: the stream cannot be resynchronised.
 */
export class ErrMessageTooLarge extends ErrBadMessage {
  readonly size: number;
  readonly msize: number;

  constructor(size: number, msize: number, fatal = true) {
    super(`message too large for fixed buffer: size is ${size}, limit is ${msize}`, NoTag, fatal, Errno.EMSGSIZE);
    this.name = 'ErrMessageTooLarge';
    this.size = size;
    this.msize = msize;
  }
}

// ---------------------------------------------------------------------------
// Sending

// scratch is the reusable encode buffer (gVisor's dataPool). One JavaScript
// thread encodes one message at a time, and encodeMessage copies out of it.
const scratch = new buffer(Buffer.allocUnsafe(4096));

// payloadCopyThreshold: above this payload size, encodeMessage writes the
// message straight into its exact-size output instead of the scratch buffer,
// so that a large Rread/Twrite payload is copied once, not twice.
const payloadCopyThreshold = 1024;

/**
 * encodeMessageInto appends the frame of m (header and body) to b at b.off and
 * returns the frame's length. It throws ErrMessageTooLarge (not fatal) if the
 * frame would exceed msize, leaving b.off where it was.
 */
export function encodeMessageInto(b: buffer, tag: Tag, m: Message, msize: number = maximumLength): number {
  const start = b.off;
  b.grow(headerLength);
  b.off = start + headerLength;
  if (m.type === MsgType.Rreaddir) {
    // Rreaddir sends whole entries up to count bytes: keep that within msize,
    // so that a client asking for more than msize gets what fits.
    const r = m as Rreaddir;
    const room = Math.min(msize, maximumLength) - headerLength - r.fixedSize();
    if (r.count > room) r.count = Math.max(room, 0);
  }
  try {
    m.encode(b);
  } catch (e) {
    b.off = start;
    throw e;
  }
  const size = b.off - start;
  if (size > msize || size > maximumLength) {
    b.off = start;
    throw new ErrMessageTooLarge(size, Math.min(msize, maximumLength), false);
  }
  const d = b.data;
  d[start] = size;
  d[start + 1] = size >>> 8;
  d[start + 2] = size >>> 16;
  d[start + 3] = size >>> 24;
  d[start + 4] = m.type;
  d[start + 5] = tag;
  d[start + 6] = tag >>> 8;
  return size;
}

/**
 * encodeMessage returns the frame of m as a Buffer of its own, ready for
 * socket.write (which keeps it until flushed). Nothing larger than msize is
 * ever produced: ErrMessageTooLarge instead.
 */
export function encodeMessage(tag: Tag, m: Message, msize: number = maximumLength): Buffer {
  if (log.enabled) log('send [Tag %d] %s', tag, m.toString());
  if (m.type === MsgType.Rread) {
    const f = rreadFrame(m as Rread);
    if (f !== undefined) return rreadInFrame(tag, m as Rread, f, msize);
  }
  // Only Rread and Twrite know their payload without encoding it.
  if ((m.type === MsgType.Rread || m.type === MsgType.Twrite) && isPayloader(m)) {
    const p = m.payload();
    if (p.length > payloadCopyThreshold) {
      const total = headerLength + m.fixedSize() + p.length;
      if (total > msize || total > maximumLength) {
        throw new ErrMessageTooLarge(total, Math.min(msize, maximumLength), false);
      }
      const w = new buffer(Buffer.allocUnsafe(total));
      encodeMessageInto(w, tag, m, msize);
      return w.off === total ? w.data : w.bytes();
    }
  }
  scratch.off = 0;
  const size = encodeMessageInto(scratch, tag, m, msize);
  const out = Buffer.allocUnsafe(size);
  const d = scratch.data;
  if (size <= 64) {
    // Small frames (most requests) copy faster in JavaScript than through
    // Buffer.copy's native call.
    for (let i = 0; i < size; i++) out[i] = d[i];
  } else {
    d.copy(out, 0, 0, size);
  }
  if (scratch.data.length > 1 << 16) scratch.data = Buffer.allocUnsafe(4096); // Don't pin a huge scratch.
  return out;
}

/**
 * encodeMessageParts is encodeMessage for a writer that can take a frame in
 * pieces (socket.cork/uncork, a writev): for an Rread or Twrite whose payload
 * is large, it returns the frame's head (header and fixed fields) and the
 * payload itself, not copied: the payload bytes must stay unchanged until
 * written. Otherwise it returns [encodeMessage(tag, m, msize)].
 */
export function encodeMessageParts(tag: Tag, m: Message, msize: number = maximumLength): Buffer[] {
  const t = m.type;
  if ((t === MsgType.Twrite || (t === MsgType.Rread && rreadFrame(m as Rread) === undefined)) && isPayloader(m)) {
    const p = m.payload();
    if (p.length > payloadCopyThreshold) {
      const fixed = m.fixedSize();
      const total = headerLength + fixed + p.length;
      if (total > msize || total > maximumLength) {
        throw new ErrMessageTooLarge(total, Math.min(msize, maximumLength), false);
      }
      if (log.enabled) log('send [Tag %d] %s', tag, m.toString());
      // Encode the head with an empty payload, then patch size and count.
      m.setPayload(EMPTY_PAYLOAD);
      const w = new buffer(Buffer.allocUnsafe(headerLength + fixed), 0, 0);
      try {
        encodeMessageInto(w, tag, m, msize);
      } finally {
        m.setPayload(p);
      }
      const head = w.bytes();
      head.writeUInt32LE(total, 0);
      head.writeUInt32LE(p.length, headerLength + fixed - 4);
      return [head, p];
    }
  }
  return [encodeMessage(tag, m, msize)];
}

const EMPTY_PAYLOAD = Buffer.alloc(0);

// rreadInFrame returns the frame of an Rread whose data was read straight
// into f (Rread.inFrame): the header goes in front of it, no byte of data
// moves.
function rreadInFrame(tag: Tag, r: Rread, f: Buffer, msize: number): Buffer {
  const n = r.data.length;
  const size = rreadFrameHeader + n;
  if (size > msize || size > maximumLength) {
    throw new ErrMessageTooLarge(size, Math.min(msize, maximumLength), false);
  }
  if (r.data.buffer !== f.buffer || r.data.byteOffset !== f.byteOffset + rreadFrameHeader) {
    // data was replaced without going through setPayload: encode it.
    r.setPayload(r.data);
    return encodeMessage(tag, r, msize);
  }
  f[0] = size;
  f[1] = size >>> 8;
  f[2] = size >>> 16;
  f[3] = size >>> 24;
  f[4] = MsgType.Rread;
  f[5] = tag;
  f[6] = tag >>> 8;
  f[7] = n;
  f[8] = n >>> 8;
  f[9] = n >>> 16;
  f[10] = n >>> 24;
  return size === f.length ? f : f.subarray(0, size);
}

/** send writes the frame of m to s. A failed write surfaces as s's 'error'. */
export function send(s: NodeJS.WritableStream, tag: Tag, m: Message, msize: number = maximumLength): boolean {
  return s.write(encodeMessage(tag, m, msize));
}

// ---------------------------------------------------------------------------
// Receiving

/**
 * lookupTagAndType returns the message to decode a frame with tag and type
 * into (gVisor's lookupTagAndType). It throws ErrInvalidMsgType for a type it
 * does not know. The default is the registry (msgRegistry.get).
 */
export type lookupTagAndType = (tag: Tag, t: MsgType) => Message;

const registryLookup: lookupTagAndType = (tag, t) => msgRegistry.get(t, tag);

/**
 * decodeMessage decodes the body of a message of type t (the bytes after the
 * header). It throws ErrBadMessage if the body is short or garbled, and
 * ErrInvalidMsgType if t is unknown. stable says whether body may be kept by
 * reference (a payload is then a view of it, not a copy).
 */
export function decodeMessage(t: MsgType, body: Buffer, tag: Tag = NoTag, stable = false): Message {
  const m = msgRegistry.get(t, tag);
  const b = new buffer(body, 0, body.length, stable);
  m.decode(b);
  if (b.overflow) throw new ErrBadMessage(`malformed ${MsgType[t] ?? t} message`, tag);
  return m;
}

/**
 * MessageReader is the receiving half of gVisor's recv: it is fed the chunks
 * of a byte stream (push) and yields whole messages (next), with the tag of
 * the last one in `tag`.
 *
 *   reader.push(chunk);
 *   for (let m = reader.next(); m !== undefined; m = reader.next()) handle(reader.tag, m);
 *
 * next throws:
 *   - ErrMessageTooLarge (fatal) for a frame above msize or maximumLength;
 *   - ErrBadMessage (fatal) for a frame shorter than its header;
 *   - ErrInvalidMsgType (not fatal, carries the tag) for an unknown type;
 *   - ErrBadMessage (not fatal, carries the tag) for a body that does not
 *     decode.
 * After a non-fatal error the frame has been consumed and next may be called
 * again (gVisor's server answers such a request with Rlerror and goes on).
 * After a fatal error every later call throws the same error: the caller
 * closes the connection.
 *
 * push takes ownership of the chunk: it must not be modified afterwards (a
 * payload may be a view of it). Node's socket chunks satisfy this.
 *
 * Frame reuse (not in gVisor, whose recv reads into pooled buffers of its
 * own): a frame of one of the poolTypes that does not arrive in one chunk is
 * assembled in memory taken from a small pool instead of a fresh allocation
 * (a fresh 1 MiB Buffer faults in its pages every time). The message then
 * holds views of pooled memory, so the caller owns the frame: it calls
 * takeFrame right after next, and releaseFrame once nothing uses the message
 * any more (for a request: its handler is done). A frame never taken is
 * simply not reused.
 */
export class MessageReader {
  /** msize is the largest frame accepted; set it once negotiated. */
  msize: number;
  /** tag is the tag of the message next last returned. */
  tag: Tag = NoTag;

  private readonly lookup: lookupTagAndType;
  private readonly body = new buffer();
  // Unconsumed chunks, oldest first, and the read position in the first.
  private chunks: Buffer[] = [];
  private pos = 0;
  private avail = 0;
  // A frame being assembled across chunks.
  private frame: Buffer | undefined;
  private frameFill = 0;
  private readonly hdr = Buffer.alloc(headerLength);
  private failed: ErrBadMessage | undefined;
  // poolTypes[t] says whether frames of type t are assembled in pooled
  // memory; framePool holds free pooled buffers (all of poolBufferLength
  // bytes); frameBacking is the pooled buffer of the frame being assembled,
  // lastPooled that of the message next last returned, until takeFrame.
  private readonly poolTypes: Uint8Array = new Uint8Array(256);
  private framePool: Buffer[] = [];
  private poolBufferLength = 0;
  private frameBacking: Buffer | undefined;
  private lastPooled: Buffer | undefined;

  constructor(msize: number = maximumLength, lookup: lookupTagAndType = registryLookup, poolTypes: readonly MsgType[] = []) {
    this.msize = msize;
    this.lookup = lookup;
    for (const t of poolTypes) this.poolTypes[t] = 1;
  }

  /**
   * takeFrame returns the pooled buffer the message next last returned was
   * decoded from, or undefined if it was not (a frame decoded in place from
   * a socket chunk, or of a type not pooled). The caller must hand it back
   * with releaseFrame once the message is no longer used, and must not keep
   * or give away any view of it after that.
   */
  takeFrame(): Buffer | undefined {
    const f = this.lastPooled;
    this.lastPooled = undefined;
    return f;
  }

  /** releaseFrame returns a buffer from takeFrame to the pool. */
  releaseFrame(f: Buffer): void {
    // A buffer of an older msize is dropped; so is one beyond the pool's cap.
    if (f.length === this.poolBufferLength && this.framePool.length < framePoolCap) this.framePool.push(f);
  }

  // pooledFrame returns size bytes of pooled memory for a frame, setting
  // frameBacking to the whole pooled buffer.
  private pooledFrame(size: number): Buffer {
    const limit = Math.min(this.msize, maximumLength);
    if (this.poolBufferLength !== limit) {
      // msize changed (Tversion): buffers of the old size are no use.
      this.poolBufferLength = limit;
      this.framePool = [];
    }
    // allocUnsafeSlow: memory of its own, never a slice of Node's shared
    // pool, which must not be reused behind its back.
    const b = this.framePool.pop() ?? Buffer.allocUnsafeSlow(limit);
    this.frameBacking = b;
    return b.subarray(0, size);
  }

  /**
   * buffered returns the number of bytes received but not yet returned as
   * messages. Non-zero when the stream ends means it ended inside a frame
   * (gVisor's recv fails with ErrSocket then).
   */
  buffered(): number {
    return this.avail + (this.frame !== undefined ? this.frameFill : 0);
  }

  /** push adds a chunk of the stream. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.avail += chunk.length;
  }

  /** next returns the next whole message, or undefined if more bytes are needed. */
  next(): Message | undefined {
    if (this.failed !== undefined) throw this.failed;
    if (this.lastPooled !== undefined) {
      // Not taken: the caller does not own it, so it may still use the
      // message; never reuse it.
      this.lastPooled = undefined;
    }
    if (this.frame !== undefined) {
      this.fill();
      if (this.frameFill < this.frame.length) return undefined;
      return this.assembled();
    }
    if (this.avail < headerLength) return undefined;
    const c = this.chunks[0];
    const p = this.pos;
    let size: number;
    if (c.length - p >= headerLength) {
      size = (c[p] | (c[p + 1] << 8) | (c[p + 2] << 16)) + c[p + 3] * 0x1000000;
    } else {
      this.peek(this.hdr, headerLength);
      size = this.hdr.readUInt32LE(0);
    }
    this.checkSize(size);
    if (c.length - p >= size) {
      // Fast path: the whole frame is in the first chunk; decode in place.
      this.consume(size);
      return this.decodeFrame(c, p, p + size);
    }
    // Assemble the frame in memory of its own (pooled for poolTypes; the
    // type is in the header, known before the body arrives).
    const t = c.length - p > 4 ? c[p + 4] : this.hdr[4];
    this.frame = size > poolThreshold && this.poolTypes[t] === 1 ? this.pooledFrame(size) : Buffer.allocUnsafe(size);
    this.frameFill = 0;
    this.fill();
    if (this.frameFill < size) return undefined;
    return this.assembled();
  }

  // assembled decodes the frame just completed.
  private assembled(): Message {
    const f = this.frame!;
    const backing = this.frameBacking;
    this.frame = undefined;
    this.frameBacking = undefined;
    if (backing === undefined) return this.decodeFrame(f, 0, f.length);
    let m: Message;
    try {
      m = this.decodeFrame(f, 0, f.length);
    } catch (e) {
      // Nothing holds the frame of a message that did not decode.
      this.releaseFrame(backing);
      throw e;
    }
    this.lastPooled = backing;
    return m;
  }

  private checkSize(size: number): void {
    if (size < headerLength) {
      // The message is too small. See gVisor: it's probably screwed.
      this.failed = new ErrBadMessage(`frame size ${size} is shorter than a header`, NoTag, true);
      throw this.failed;
    }
    const limit = Math.min(this.msize, maximumLength);
    if (size > limit) {
      this.failed = new ErrMessageTooLarge(size, limit, true);
      throw this.failed;
    }
  }

  // peek copies the first n buffered bytes into dst without consuming them.
  private peek(dst: Buffer, n: number): void {
    let got = 0;
    let p = this.pos;
    for (let i = 0; got < n; i++) {
      const c = this.chunks[i];
      const k = Math.min(n - got, c.length - p);
      c.copy(dst, got, p, p + k);
      got += k;
      p = 0;
    }
  }

  // consume drops n buffered bytes.
  private consume(n: number): void {
    this.avail -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const k = c.length - this.pos;
      if (n < k) {
        this.pos += n;
        return;
      }
      n -= k;
      this.chunks.shift();
      this.pos = 0;
    }
  }

  // fill moves buffered bytes into the frame being assembled.
  private fill(): void {
    const f = this.frame!;
    while (this.frameFill < f.length && this.avail > 0) {
      const c = this.chunks[0];
      const k = Math.min(f.length - this.frameFill, c.length - this.pos);
      c.copy(f, this.frameFill, this.pos, this.pos + k);
      this.frameFill += k;
      this.consume(k);
    }
  }

  private decodeFrame(d: Buffer, start: number, end: number): Message {
    const t = d[start + 4];
    const tag = d[start + 5] | (d[start + 6] << 8);
    this.tag = tag;
    // Find our message to decode. An unknown type throws ErrInvalidMsgType,
    // the frame being consumed already.
    const m = this.lookup(tag, t);
    const b = this.body;
    b.reset(d, start + headerLength, end, true);
    m.decode(b);
    if (b.overflow) throw new ErrBadMessage(`malformed ${MsgType[t] ?? t} message`, tag);
    if (log.enabled) log('recv [Tag %d] %s', tag, m.toString());
    return m;
  }
}

// ---------------------------------------------------------------------------
// Addresses

/**
 * Address is where a 9P server listens: a Unix socket path, a TCP host and
 * port, or inherited file descriptors (readFD === writeFD for a socket).
 */
export type Address =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'fd'; readFD: number; writeFD: number };

/** ErrBadAddress is thrown for an address parseAddress cannot read (EINVAL). */
export class ErrBadAddress extends LinuxError {
  constructor(message: string) {
    super(Errno.EINVAL);
    this.name = 'ErrBadAddress';
    this.message = message;
  }
}

function parseFD(s: string, addr: string): number {
  if (!/^[0-9]+$/.test(s)) throw new ErrBadAddress(`p9: bad file descriptor "${s}" in address "${addr}"`);
  const n = Number(s);
  if (n > 0x7fffffff) throw new ErrBadAddress(`p9: bad file descriptor "${s}" in address "${addr}"`);
  return n;
}

/**
 * parseAddress parses "unix:/path", "tcp:HOST:PORT" (HOST may be [v6]) or
 * "fd:N" / "fd:R,W". A bare path starting with "/" or "." is a Unix socket.
 */
export function parseAddress(addr: string): Address {
  if (addr.startsWith('/') || addr.startsWith('.')) return { kind: 'unix', path: addr };
  const colon = addr.indexOf(':');
  if (colon < 0) throw new ErrBadAddress(`p9: address "${addr}" has no kind (unix:, tcp: or fd:)`);
  const kind = addr.slice(0, colon);
  const rest = addr.slice(colon + 1);
  switch (kind) {
    case 'unix':
      if (rest.length === 0) throw new ErrBadAddress(`p9: address "${addr}" has an empty path`);
      if (rest.includes('\0')) throw new ErrBadAddress(`p9: address "${addr}" has a NUL in its path`);
      return { kind: 'unix', path: rest };
    case 'tcp': {
      const pc = rest.lastIndexOf(':');
      if (pc < 0) throw new ErrBadAddress(`p9: address "${addr}" has no port`);
      let host = rest.slice(0, pc);
      const portStr = rest.slice(pc + 1);
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
      if (host.length === 0) throw new ErrBadAddress(`p9: address "${addr}" has no host`);
      if (!/^[0-9]+$/.test(portStr) || Number(portStr) > 65535) {
        throw new ErrBadAddress(`p9: address "${addr}" has a bad port "${portStr}"`);
      }
      return { kind: 'tcp', host, port: Number(portStr) };
    }
    case 'fd': {
      const parts = rest.split(',');
      if (parts.length === 1) {
        const fd = parseFD(parts[0], addr);
        return { kind: 'fd', readFD: fd, writeFD: fd };
      }
      if (parts.length === 2) return { kind: 'fd', readFD: parseFD(parts[0], addr), writeFD: parseFD(parts[1], addr) };
      throw new ErrBadAddress(`p9: address "${addr}" wants fd:N or fd:R,W`);
    }
    default:
      throw new ErrBadAddress(`p9: address "${addr}" has an unknown kind "${kind}" (unix:, tcp: or fd:)`);
  }
}

/** formatAddress is the inverse of parseAddress. */
export function formatAddress(a: Address): string {
  switch (a.kind) {
    case 'unix':
      return `unix:${a.path}`;
    case 'tcp':
      return a.host.includes(':') ? `tcp:[${a.host}]:${a.port}` : `tcp:${a.host}:${a.port}`;
    case 'fd':
      return a.readFD === a.writeFD ? `fd:${a.readFD}` : `fd:${a.readFD},${a.writeFD}`;
  }
}

/**
 * socketFromFD wraps an inherited, connected socket file descriptor (for
 * example one end of a socketpair given to a child process).
 */
export function socketFromFD(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * dial connects to a 9P server. Connection failures reject with the Linux
 * error (ECONNREFUSED, ENOENT, ...). "fd:R,W" with two different descriptors
 * cannot be one net.Socket and is rejected with ErrBadAddress.
 */
export function dial(address: string | Address): Promise<net.Socket> {
  let a: Address;
  try {
    a = typeof address === 'string' ? parseAddress(address) : address;
  } catch (e) {
    return Promise.reject(e);
  }
  if (a.kind === 'fd') {
    if (a.readFD !== a.writeFD) {
      return Promise.reject(new ErrBadAddress(`p9: ${formatAddress(a)}: a connection needs one socket descriptor`));
    }
    try {
      return Promise.resolve(socketFromFD(a.readFD));
    } catch (e) {
      return Promise.reject(syserror.fromNodeError(e));
    }
  }
  return new Promise<net.Socket>((resolve, reject) => {
    const s =
      a.kind === 'unix' ? net.createConnection({ path: a.path }) : net.createConnection({ host: a.host, port: a.port });
    const onError = (err: Error): void => {
      s.destroy();
      reject(syserror.fromNodeError(err));
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.removeListener('error', onError);
      if (a.kind === 'tcp') s.setNoDelay(true);
      resolve(s);
    });
  });
}

/**
 * listen opens a listening server on a Unix socket path, a TCP address or an
 * inherited listening descriptor ("fd:N"). Failures reject with the Linux
 * error (EADDRINUSE, EACCES, ...).
 */
export function listen(address: string | Address, onConnection?: (s: net.Socket) => void): Promise<net.Server> {
  let a: Address;
  try {
    a = typeof address === 'string' ? parseAddress(address) : address;
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise<net.Server>((resolve, reject) => {
    const srv = net.createServer();
    if (onConnection !== undefined) srv.on('connection', onConnection);
    const onError = (err: Error): void => {
      srv.close();
      reject(syserror.fromNodeError(err));
    };
    srv.once('error', onError);
    const onListening = (): void => {
      srv.removeListener('error', onError);
      resolve(srv);
    };
    switch (a.kind) {
      case 'unix':
        srv.listen({ path: a.path }, onListening);
        break;
      case 'tcp':
        srv.listen({ host: a.host, port: a.port }, onListening);
        break;
      case 'fd':
        if (a.readFD !== a.writeFD) {
          reject(new ErrBadAddress(`p9: ${formatAddress(a)}: a listener needs one socket descriptor`));
          return;
        }
        srv.listen({ fd: a.readFD }, onListening);
        break;
    }
  });
}
