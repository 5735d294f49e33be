// The 9P2000.L client: gVisor's pkg/p9/client.go.
//
// Differs from gVisor, and why:
//   - No flipcall channels: they pass a shared-memory fd over SCM_RIGHTS,
//     which Node's net.Socket cannot do. Every message goes over the one
//     socket (gVisor's sendRecvLegacy path), many in flight, one tag each.
//   - Host fds of Rlopen/Rlcreate/Rucreate (gVisor's FilePayload) arrive on
//     an fd channel (fdpass.ts), opened by connect after Tversion when the
//     server speaks our extended version on a Unix socket: onData reads the
//     record of each such reply as it decodes it, and ClientFile.openFD and
//     createFD take the fd (takeDonatedFD).
//   - gVisor's receivers take turns on the socket (recvr, handleOne,
//     waitAndRecv) because each waits in its own goroutine. Node has one
//     thread: the socket's 'data' event is the single receiver and settles
//     the waiting promise found by tag in `pending`.
//   - Sends are coalesced: every frame encoded in one tick goes out in one
//     socket write, or one corked batch (gVisor's sendMu serializes writes
//     instead). A large Twrite payload is not copied into its frame: the
//     socket gets the head and the caller's bytes (transport's
//     encodeMessageParts).
//   - Large Rread frames are assembled in reused memory (MessageReader's
//     frame pool); ClientFile.readAtOne hands the frame back with
//     releaseReply once it has copied the data out (gVisor's recv reads
//     into buffers of its own the same way).
//   - A call that finds all 65534 tags in use waits for one (gVisor fails
//     with ErrOutOfTags).
//   - A reply with an unexpected tag or type, or a frame above msize or
//     garbled, closes the connection: every waiter and every later call
//     gets EIO (gVisor fails the waiters but keeps reading).
//   - Abort: each call takes an optional AbortSignal. gVisor's client never
//     flushes; here the aborted tag is flushed (Tflush) as flush(5) says.
//   - Version negotiation also falls back to plain "9P2000.L" when a server
//     rejects the extended version with an error other than EAGAIN (diod
//     answers Rlerror(EIO) to "9P2000.L.Google.N") or answers "unknown"
//     (version(5)).
//   - The negotiated msize is min(offered, server's answer): gVisor trusts
//     its own servers to accept the offer; diod may answer less.
//   - Errors are thrown LinuxError values (DESIGN decision 2). gVisor's
//     non-errno errors (ErrOutOfTags, ErrBadVersionString, ...) are aliases
//     of errnos here, see below.

import * as net from 'node:net';

import { logger } from '../context/context';
import * as syserror from '../syserror/syserror';
import { LinuxError } from '../syserror/syserror';
import { Message, Rlerror, Rversion, Tflush, Tversion, msgRegistry } from './messages';
import { MsgType, NoFID, NoTag } from './p9';
import { DefaultMessageSize, ErrMessageTooLarge, MessageReader, dial, encodeMessage, encodeMessageParts, headerLength, parseAddress } from './transport';
import { HighestVersionString, parseVersion, versionString } from './version';
import { ClientFile, attach } from './client_file';
import { Rfdchannel, Tfdchannel, clientFDChannel, isOpenReply, newToken } from './fdpass';
import * as fs from 'node:fs';

export { DefaultMessageSize };

const log = logger('gvisor:p9');

/**
 * ErrOutOfTags indicates no tags are available (gVisor: an error value; here
 * EAGAIN). Not thrown: a call waits for a tag instead (see tagWaiters).
 */
export const ErrOutOfTags = syserror.EAGAIN;

/** ErrOutOfFIDs indicates no more FIDs are available (gVisor: an error value; here EMFILE). */
export const ErrOutOfFIDs = syserror.EMFILE;

/** ErrVersionsExhausted indicates that all versions to negotiate have been exhausted (here EPROTO). */
export const ErrVersionsExhausted = syserror.EPROTO;

/** ErrBadVersionString indicates that the version string is malformed or unsupported (here EINVAL). */
export const ErrBadVersionString = syserror.EINVAL;

/**
 * ErrTooLarge is thrown, before anything is sent, for a request that would
 * not fit in the negotiated msize (a walk with very long names, say).
 */
export const ErrTooLarge = syserror.EMSGSIZE;

/** ReplyClass is a response message class: what sendRecv waits for. */
export interface ReplyClass<R extends Message> {
  new (): R;
  readonly type: MsgType;
}

/** Pool is gVisor's pkg/pool: a trivial allocator of integers in [start, limit). */
export class Pool {
  // cache is the set of returned values.
  private readonly cache: number[] = [];

  constructor(
    // start is the next value never issued.
    private start: number,
    // limit is the upper limit (exclusive).
    private readonly limit: number,
  ) {}

  /** get gets a value from the pool, or undefined if it is exhausted. */
  get(): number | undefined {
    // Anything cached?
    if (this.cache.length > 0) return this.cache.pop();
    // Over the limit?
    if (this.start === this.limit) return undefined;
    return this.start++;
  }

  /** put returns a value to the pool. */
  put(v: number): void {
    this.cache.push(v);
  }
}

/**
 * response is one waiting request: gVisor's response, plus what an abort
 * needs. One object per request; the only closures are the promise's own
 * resolve/reject.
 */
interface response {
  tag: number;
  // want is the reply type expected (Rlerror is always accepted).
  want: MsgType;
  resolve: (m: Message) => void;
  reject: (e: LinuxError) => void;
  // settled is set once resolve or reject has been called; the tag may stay
  // reserved after that, until the Rflush of a flush arrives.
  settled: boolean;
  // flushing is set once a Tflush for this tag has been sent.
  flushing: boolean;
  // flushOf is, for a Tflush's own response, the request being flushed.
  flushOf: response | null;
  // signal and onAbort are set when the caller passed an AbortSignal.
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

/** ClientOptions are the options of Client.connect. */
export interface ClientOptions {
  /** msize is the largest message offered, header included (default 64 KiB). */
  msize?: number;
  /** version is the highest version offered (default HighestVersionString()). */
  version?: string;
  /**
   * fdChannel asks the server for an fd channel (default true): on a
   * "unix:" address, when the server speaks 9P2000.L.Google.N, opened
   * regular files then come with their host fd (fdpass.ts). A server
   * without it (or TCP, or a socket given ready-made) changes nothing.
   */
  fdChannel?: boolean;
}

/**
 * Client is at least a 9P2000.L client.
 *
 * Create one with Client.connect; attach to get a ClientFile.
 */
export class Client {
  // socket is the connected socket.
  private readonly socket: net.Socket;

  // tagPool is the collection of available tags.
  private readonly tagPool = new Pool(1, NoTag);

  // tagWaiters are requests waiting for a tag (the pool was exhausted): an
  // addition to gVisor, which fails with ErrOutOfTags; in Node a caller can
  // easily start more than 65534 requests at once.
  private readonly tagWaiters: Array<() => void> = [];

  /** fidPool is the collection of available fids. */
  readonly fidPool = new Pool(1, NoFID);

  /** messageSize is the maximum total size of a message. */
  messageSize: number;

  /**
   * payloadSize is the maximum payload size of a read or write.
   *
   * For large reads and writes this means that the read or write is broken
   * up into buffer-size/payloadSize requests.
   */
  payloadSize: number;

  /**
   * version is the agreed upon version X of 9P2000.L.Google.X; version 0
   * implies 9P2000.L.
   */
  version = 0;

  /**
   * noRenameAt and noUnlinkAt are set once a plain 9P2000.L server has
   * answered Trenameat / Tunlinkat with EOPNOTSUPP (diod): ClientFile then
   * uses Trename / Tremove instead (see client_file.ts).
   */
  noRenameAt = false;
  noUnlinkAt = false;

  /**
   * batches counts the socket writes (flushOut batches of requests sent
   * together) so far. For one caller's calls made one after another, that is
   * its serial round trips: benchmarks read differences.
   */
  batches = 0;

  // pending is the set of pending messages, by tag.
  private readonly pending = new Map<number, response>();

  // reader decodes frames from the socket's data.
  private readonly reader: MessageReader;

  // replyFrames maps a reply decoded from a pooled frame (a large Rread) to
  // that frame, until releaseReply hands it back. A reply nobody releases
  // (its caller was flushed, the connection died) just drops its frame.
  private readonly replyFrames = new WeakMap<Message, Buffer>();

  // outq holds frames encoded this tick, written together by flushOut.
  private outq: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;

  // fdChannel is the bound fd channel, or null (none asked, none offered,
  // or dropped after a protocol error).
  private fdChannel: clientFDChannel | null = null;

  // donated maps an open reply to the host fd its record brought, until
  // takeDonatedFD; onData closes the fd of a reply no caller received.
  private readonly donated = new WeakMap<Message, number>();

  // dead is set once the connection is unusable; every later call fails
  // with EIO.
  private dead = false;
  private readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket, messageSize: number) {
    this.socket = socket;
    this.messageSize = messageSize;
    this.payloadSize = computePayloadSize(messageSize);
    this.reader = new MessageReader(messageSize, undefined, [MsgType.Rread]);
    this.closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.die(`socket error: ${err.message}`));
    socket.on('end', () => this.die('connection closed by server'));
    socket.on('close', () => this.die('socket closed'));
  }

  /**
   * connect dials address ("unix:/path", "tcp:host:port", or anything
   * transport.dial accepts) or takes over a connected socket, and performs
   * the Tversion exchange (gVisor's NewClient). On success the socket
   * belongs to the client.
   */
  static async connect(address: string | net.Socket, opts: ClientOptions = {}): Promise<Client> {
    const messageSize = opts.msize ?? DefaultMessageSize;
    // Need at least one byte of payload.
    if (!Number.isInteger(messageSize) || computePayloadSize(messageSize) < 1 || messageSize > 0xffffffff) {
      throw syserror.EINVAL;
    }
    // Agree upon a version.
    const [requested, ok] = parseVersion(opts.version ?? HighestVersionString());
    if (!ok) throw ErrBadVersionString;

    const socket = typeof address === 'string' ? await dial(address) : address;
    const c = new Client(socket, messageSize);
    try {
      await c.negotiate(requested);
    } catch (e) {
      c.die('version negotiation failed');
      throw e;
    }
    if (opts.fdChannel !== false && typeof address === 'string' && c.version > 0) {
      const a = parseAddress(address);
      if (a.kind === 'unix') await c.openFDChannel(a.path);
    }
    return c;
  }

  // openFDChannel connects an fd channel to the server at path and binds it
  // with Tfdchannel (fdpass.ts). Any failure leaves the client without one;
  // it is called before the client is handed out, so no open is in flight.
  private async openFDChannel(path: string): Promise<void> {
    const token = newToken();
    let ch: clientFDChannel;
    try {
      ch = clientFDChannel.connect(path, token);
    } catch (e) {
      log.debugf('fd channel: connect %s: %s', path, String(e));
      return;
    }
    try {
      await this.sendRecv(new Tfdchannel(token), Rfdchannel);
    } catch (e) {
      ch.close();
      log.debugf('fd channel: Tfdchannel: %s', String(e));
      if (this.dead) throw e;
      return;
    }
    this.fdChannel = ch;
  }

  /** hasFDChannel reports whether host fds of opened files can arrive. */
  hasFDChannel(): boolean {
    return this.fdChannel !== null;
  }

  /**
   * takeDonatedFD returns the host fd that came with open reply r (the
   * caller owns it now), or -1.
   */
  takeDonatedFD(r: Message): number {
    const fd = this.donated.get(r);
    if (fd === undefined) return -1;
    this.donated.delete(r);
    return fd;
  }

  // negotiate is the version loop of gVisor's NewClient.
  private async negotiate(requested: number): Promise<void> {
    for (;;) {
      let rversion: Rversion;
      try {
        rversion = await this.sendRecvTag(NoTag, new Tversion(this.messageSize, versionString(requested)), Rversion, undefined);
      } catch (e) {
        if (this.dead || !(e instanceof LinuxError)) throw e;
        if (e === syserror.EAGAIN) {
          // The server told us to try again with a lower version.
          if (requested === 0) throw ErrVersionsExhausted;
          requested--;
          continue;
        }
        if (requested !== 0) {
          // diod rejects anything but exactly "9P2000.L" (Rlerror EIO):
          // such a server gets plain 9P2000.L.
          log.debugf('Tversion %s: %s; falling back to 9P2000.L', versionString(requested), e.code);
          requested = 0;
          continue;
        }
        // We requested an impossible version or our other parameters were bogus.
        throw e;
      }
      if (rversion.version === 'unknown' && requested !== 0) {
        // version(5): the server does not understand the version.
        requested = 0;
        continue;
      }
      // Parse the version.
      const [version, ok] = parseVersion(rversion.version);
      if (!ok || version > requested) {
        // The server gave us a bad version. We return a generically worrisome error.
        log.warningf('server returned bad version string %s', JSON.stringify(rversion.version));
        throw ErrBadVersionString;
      }
      if (rversion.mSize > this.messageSize || computePayloadSize(rversion.mSize) < 1) {
        log.warningf('server returned bad msize %d (offered %d)', rversion.mSize, this.messageSize);
        throw syserror.EPROTO;
      }
      this.version = version;
      if (rversion.mSize < this.messageSize) {
        this.messageSize = rversion.mSize;
        this.payloadSize = computePayloadSize(rversion.mSize);
        this.reader.msize = rversion.mSize;
      }
      return;
    }
  }

  /**
   * sendRecv sends t and waits for its response, which must be an instance
   * of want (or Rlerror, thrown as its errno). Any failure of the connection
   * is EIO, here and for every later call (gVisor: sendRecvLegacySyscallErr).
   * If signal aborts first, the request is flushed (see flush below).
   */
  sendRecv<R extends Message>(t: Message, want: ReplyClass<R>, signal?: AbortSignal): Promise<R> {
    if (this.dead) return Promise.reject(syserror.EIO);
    if (signal !== undefined && signal.aborted) return Promise.reject(syserror.EINTR);
    const tag = this.tagPool.get();
    if (tag === undefined) return this.sendRecvWaitTag(t, want, signal);
    return this.sendRecvTag(tag, t, want, signal);
  }

  // sendRecvWaitTag waits for a free tag, then sends.
  private async sendRecvWaitTag<R extends Message>(t: Message, want: ReplyClass<R>, signal?: AbortSignal): Promise<R> {
    for (;;) {
      const tag = this.tagPool.get();
      if (tag !== undefined) return this.sendRecvTag(tag, t, want, signal);
      // Woken by putTag; another caller may have taken the tag first.
      await this.waitTag(signal);
    }
  }

  // waitTag resolves when a tag has been returned to the pool; it rejects
  // with EINTR if signal aborts first (the waiter is withdrawn, so that the
  // next wake-up goes to a live waiter), and with EIO if the connection dies.
  private waitTag(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.tagWaiters.indexOf(wake);
        if (i >= 0) this.tagWaiters.splice(i, 1);
        reject(syserror.EINTR);
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        if (this.dead) reject(syserror.EIO);
        else resolve();
      };
      this.tagWaiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // sendRecvTag is sendRecv with a tag already taken from tagPool (or NoTag
  // for Tversion). The tag returns to the pool when the exchange is over.
  private sendRecvTag<R extends Message>(tag: number, t: Message, want: ReplyClass<R>, signal: AbortSignal | undefined): Promise<R> {
    let parts: Buffer[];
    try {
      // Nothing larger than msize is ever sent. A Twrite's payload stays
      // the caller's buffer (not copied): the caller is waiting for the
      // reply, which the server can only send once it has read it all.
      parts = encodeMessageParts(tag, t, this.messageSize);
    } catch (e) {
      // ErrMessageTooLarge, or ErrBadMessage for a string or a count the
      // wire cannot carry.
      this.putTag(tag);
      return Promise.reject(e instanceof ErrMessageTooLarge ? ErrTooLarge : syserror.EINVAL);
    }
    return new Promise<R>((resolve, reject) => {
      const resp: response = {
        tag,
        want: want.type,
        resolve: resolve as (m: Message) => void,
        reject,
        settled: false,
        flushing: false,
        flushOf: null,
        signal: null,
        onAbort: null,
      };
      this.pending.set(tag, resp);
      if (signal !== undefined) {
        resp.signal = signal;
        resp.onAbort = () => this.flush(resp);
        signal.addEventListener('abort', resp.onAbort, { once: true });
      }
      log.debug.enabled && log.debugf('send [tag %d] %s', tag, t.toString());
      for (let i = 0; i < parts.length; i++) this.enqueue(parts[i]);
    });
  }

  // enqueue queues a frame; all frames queued in this tick are written at
  // once (a single write of their concatenation), so that 32 requests
  // started together cost one syscall.
  private enqueue(frame: Buffer): void {
    this.outq.push(frame);
    this.outBytes += frame.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushOutTick, this);
    }
  }

  /**
   * flushOut writes the queued frames (called on the next tick): small
   * frames as one concatenated write; when large payloads are among them
   * (Twrite), corked writes of each, so that the payloads are not copied
   * again (Node hands corked chunks to writev).
   */
  flushOut(): void {
    this.flushScheduled = false;
    const q = this.outq;
    if (q.length === 0 || this.dead) return;
    const bytes = this.outBytes;
    this.outq = [];
    this.outBytes = 0;
    const s = this.socket;
    this.batches++;
    if (q.length === 1) {
      s.write(q[0]);
    } else if (bytes <= coalesceLimit) {
      s.write(Buffer.concat(q, bytes));
    } else {
      s.cork();
      for (let i = 0; i < q.length; i++) s.write(q[i]);
      s.uncork();
    }
  }

  // flush sends a Tflush for resp's tag, after its caller's signal aborted.
  //
  // flush(5): the client must wait for the Rflush before reusing the tag,
  // and if the response to the flushed request arrives before the Rflush
  // it "must honor the response as if it had not been flushed, since the
  // completed request may signify a state change": the caller then gets
  // that response (Linux's v9fs does the same). Otherwise the caller gets
  // EINTR when the Rflush arrives.
  private flush(resp: response): void {
    if (resp.settled || resp.flushing || this.dead) return;
    resp.flushing = true;
    const tag = this.tagPool.get();
    if (tag === undefined) {
      // No tag for the Tflush: the caller keeps waiting for its reply.
      log.warningf('out of tags; cannot flush tag %d', resp.tag);
      return;
    }
    const fresp: response = {
      tag,
      want: MsgType.Rflush,
      resolve: noop,
      reject: noop,
      settled: false,
      flushing: false,
      flushOf: resp,
      signal: null,
      onAbort: null,
    };
    this.pending.set(tag, fresp);
    log.debug.enabled && log.debugf('send [tag %d] Tflush{OldTag: %d}', tag, resp.tag);
    this.enqueue(encodeMessage(tag, new Tflush(resp.tag)));
  }

  /**
   * releaseReply hands back the pooled frame a reply was decoded from, if
   * any: the caller has copied out what it needed and must not use r (its
   * payload is a view of the frame) afterwards.
   */
  releaseReply(r: Message): void {
    const f = this.replyFrames.get(r);
    if (f === undefined) return;
    this.replyFrames.delete(r);
    this.reader.releaseFrame(f);
  }

  // onData feeds the frame reader; any malformed or oversized frame makes
  // the connection unusable.
  private onData(chunk: Buffer): void {
    const reader = this.reader;
    reader.push(chunk);
    try {
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        const f = reader.takeFrame();
        if (f !== undefined) this.replyFrames.set(m, f);
        if (this.fdChannel !== null && isOpenReply(m.type)) {
          this.onOpenReply(reader.tag, m);
        } else {
          this.handleOne(reader.tag, m);
        }
        if (this.dead) return;
      }
    } catch (e) {
      // A frame above msize, a short or garbled one, an unknown type: gVisor
      // fails every waiter (handleOne); the stream is not trusted after.
      this.die(`bad message from server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // onOpenReply handles open reply m with its fd channel record: the fd goes
  // with m to its caller; a missing or wrong record fails the open (EIO) and
  // drops the channel (fdpass.ts).
  private onOpenReply(tag: number, m: Message): void {
    let fd = -1;
    try {
      fd = this.fdChannel!.recvRecord(tag);
    } catch {
      log.warningf('fd channel: no record for [tag %d] %s; dropping the channel', tag, m.toString());
      this.fdChannel!.close();
      this.fdChannel = null;
      this.handleOne(tag, new Rlerror(syserror.EIO.errno));
      return;
    }
    if (fd < 0) {
      this.handleOne(tag, m);
      return;
    }
    this.donated.set(m, fd);
    if (!this.handleOne(tag, m)) {
      // Nobody receives m (its caller was flushed): the fd is nobody's.
      this.donated.delete(m);
      closeQuietly(fd);
    }
  }

  /**
   * handleOne handles a single incoming message (gVisor: handleOne).
   *
   * A response to no pending tag, or of a type other than the one expected,
   * means the peer is broken: gVisor fails every waiter; here the
   * connection is closed as well, so nothing hangs. It returns whether r
   * was handed to a waiting caller.
   */
  handleOne(tag: number, r: Message): boolean {
    const resp = this.pending.get(tag);
    // Not expecting this message?
    if (resp === undefined) {
      this.die(`received unexpected tag ${tag} (${r.toString()})`);
      return false;
    }
    log.debug.enabled && log.debugf('recv [tag %d] %s', tag, r.toString());
    // Is it an error? We specifically allow this to go through.
    const isErr = r instanceof Rlerror;
    if (!isErr && r.type !== resp.want) {
      this.die(`unexpected message type: got ${r.type}, want ${resp.want}`);
      return false;
    }

    const flushed = resp.flushOf;
    if (flushed !== null) {
      // The Rflush (or an error in its place): the flushed tag is free now.
      this.pending.delete(tag);
      this.putTag(tag);
      this.pending.delete(flushed.tag);
      this.settle(flushed, syserror.EINTR);
      this.putTag(flushed.tag);
      return false;
    }
    if (resp.flushing) {
      // The original response arrived before the Rflush: honor it, but keep
      // the tag reserved until the Rflush arrives.
      return this.settle(resp, isErr ? errorOf(r as Rlerror) : r);
    }
    this.pending.delete(tag);
    const delivered = this.settle(resp, isErr ? errorOf(r as Rlerror) : r);
    this.putTag(tag);
    return delivered;
  }

  // settle resolves resp with m, or rejects it with an error, once. It
  // returns whether m was delivered (resolve with a message).
  private settle(resp: response, m: Message | LinuxError): boolean {
    if (resp.settled) return false;
    resp.settled = true;
    if (resp.onAbort !== null) {
      resp.signal!.removeEventListener('abort', resp.onAbort);
      resp.onAbort = null;
      resp.signal = null;
    }
    if (m instanceof LinuxError) {
      resp.reject(m);
      return false;
    }
    resp.resolve(m);
    return true;
  }

  // putTag returns a tag to the pool, handing it to a waiter if any.
  private putTag(tag: number): void {
    if (tag === NoTag) return;
    this.tagPool.put(tag);
    const w = this.tagWaiters.shift();
    if (w !== undefined) w();
  }

  /**
   * die makes the connection unusable: every waiting call, and every later
   * one, fails with EIO (gVisor: handleOne's "Likely catastrophic. Notify
   * all waiters and clear pending", and sendRecvLegacySyscallErr's EIO).
   */
  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    log.debugf('connection dead: %s', why);
    this.socket.destroy();
    this.fdChannel?.close();
    this.fdChannel = null;
    this.outq = [];
    this.outBytes = 0;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const resp of pending) this.settle(resp, syserror.EIO);
    const waiters = this.tagWaiters.splice(0);
    for (const w of waiters) w();
  }

  /**
   * attach attaches to the server's tree name (gVisor: Attach, in
   * client_file.go) as uid (NoUID by default, as gVisor sends).
   */
  attach(name: string, uid?: number, signal?: AbortSignal): Promise<ClientFile> {
    return attach(this, name, uid, signal);
  }

  /** isClosed reports whether the connection is unusable. */
  isClosed(): boolean {
    return this.dead;
  }

  /**
   * close closes the underlying socket (gVisor: Close). Waiting calls fail
   * with EIO. Fids held by the server are released by the server when the
   * connection goes away.
   */
  async close(): Promise<void> {
    this.die('closed by client');
    await this.closedPromise;
  }

  /** getVersion returns the negotiated 9P2000.L.Google version number (gVisor: Version; `version` is the field). */
  getVersion(): number {
    return this.version;
  }
}

// computePayloadSize is gVisor's payload computation in NewClient: the
// message size less the largest fixed part of a message, rounded down to
// 512 (normal block size) if it's larger than a single block. Unlike
// gVisor, the 7-byte header is subtracted too, so that a Twrite or Rread of
// a full payload never exceeds msize.
function computePayloadSize(messageSize: number): number {
  let payloadSize = messageSize - headerLength - msgRegistry.largestFixedSize;
  if (payloadSize > 512 && payloadSize % 512 !== 0) payloadSize -= payloadSize % 512;
  return payloadSize;
}

function errorOf(r: Rlerror): LinuxError {
  // An Rlerror of 0 is not an error a server may send.
  return r.error === 0 ? syserror.EIO : syserror.fromErrno(r.error);
}

// coalesceLimit is the most bytes of frames concatenated into one write.
const coalesceLimit = 64 << 10;

function flushOutTick(c: Client): void {
  c.flushOut();
}

function noop(): void {}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the fd is gone either way.
  }
}
