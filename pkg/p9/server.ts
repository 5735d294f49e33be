// Port of gVisor pkg/p9/server.go (commit dbe41765): the 9P2000.L server,
// its per-connection state (fid table, active tags) and fidRef, the
// reference-counted server-side view of a File.
//
// Lock order (as gVisor):
//   Server.renameMu
//     pathNode.opMu (one node; or any number, in any order, when renameMu
//                    is held for writing)
//
// Differs from gVisor (DESIGN decision 1):
//   - Goroutines become Promises: each request's handler runs as its own
//     async task as soon as its frame is parsed, and its reply is written
//     when it completes, so many requests of one connection are served at
//     once (gVisor spawns receiving goroutines for the same effect). The
//     locks held across File calls (renameMu, pathNode.opMu) are pkg/sync's
//     async RWMutex; the locks that only guarded maps against other threads
//     (fidMu, tagMu, sendMu, recvMu, childMu) are gone: one JavaScript thread
//     runs each synchronous section alone.
//   - No flipcall channels (Tchannel; see handlers.ts). Host fds of
//     Rlopen/Rlcreate do not go with the reply (Node's sockets cannot pass
//     them) but on the connection's fd channel (fdpass.ts): a second Unix
//     connection to the same listener, recognized by its hello and bound by
//     Tfdchannel; send writes a reply's record there just before queueing
//     the reply.
//   - Listening: Unix socket, TCP and inherited fds through transport.ts's
//     addresses; connections are half-open capable, so that replies to
//     requests in flight still go out after the client has shut down its
//     side (as gVisor's stop waits for pending requests before closing).
//   - A reply that would exceed the negotiated msize becomes Rlerror
//     (EMSGSIZE) rather than a frame the client must reject.
//   - Flow control: reading pauses while maxPendingPerConn requests are in
//     flight or while replies wait to drain (a goroutine blocked in send
//     does this in gVisor).
//   - Frame errors (transport.ts MessageReader): a frame that cannot be
//     stepped over (size < 7, size > msize) closes the connection, as
//     gVisor's ErrSocket; an unknown type gets Rlerror(ENOSYS) and a body
//     that does not decode Rlerror(EBADMSG), both with the frame's tag
//     (gVisor: EIO for both, through ExtractErrno, and NoTag for the
//     malformed body).
//   - Tflush never waits for a Tflush or for itself (see waitTag).
//   - fidRef.xattr marks the xattr fids of standard 9P2000.L Txattrwalk and
//     Txattrcreate, which gVisor at dbe41765 does not serve.

import debugModule from 'debug';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as syserror from '../syserror/syserror';
import { isLinuxError } from '../syserror/syserror';
import { RWMutex } from '../sync/rwmutex';
import { buffer, ErrBadMessage } from './buffer';
import type { File, Attacher } from './file';
import { ErrInvalidMsgType, Message, Rlerror, Rread } from './messages';
import { FID, FileMode, MsgType, OpenFlags, Tag } from './p9';
import { newPathNode, pathNode } from './path_tree';
import {
  Address,
  ErrMessageTooLarge,
  MessageReader,
  encodeMessage,
  encodeMessageInto,
  maximumLength,
  parseAddress,
} from './transport';
// handlers.ts registers the handler of every message type in this table.
import { handlerFor } from './handlers';
import { helloLength, isHello, isOpenReply, serverFDChannel, socketFD, tokenLength } from './fdpass';

const log = debugModule('gvisor:p9');

/**
 * maxPendingPerConn bounds the requests of one connection being handled at
 * once: above it the server stops reading the socket until some complete
 * (gVisor's goroutines are bounded only by memory).
 */
const maxPendingPerConn = 1024;

// replyCopyThreshold: an Rread with more data than this is sent as a chunk
// of its own (without copying data when it was read into its frame);
// smaller replies are copied into the batch of their tick.
const replyCopyThreshold = 1024;

/** ServerOptions tune a Server. */
export interface ServerOptions {
  /** maxPendingPerConn overrides the per-connection bound on requests in flight. */
  maxPendingPerConn?: number;
  /**
   * maxMessageSize is the largest msize Tversion agrees to (default and
   * upper bound: transport's maximumLength, 1 MiB). Not in gVisor, whose
   * server always offers maximumLength.
   */
  maxMessageSize?: number;
  /**
   * donateFDs enables the fd channel (default true): Tfdchannel binds one,
   * and the host fds Files donate (see donatingFile) go to the client. When
   * false, Tfdchannel is ENOSYS and hellos are refused, as on a server
   * without it.
   */
  donateFDs?: boolean;
}

// fdChannelClaimTimeout is how long a side connection's hello waits for its
// Tfdchannel (and a Tfdchannel for its side connection) before giving up.
const fdChannelClaimTimeout = 10_000;

// unclaimedFDChannel is a side connection whose hello arrived and whose
// Tfdchannel has not.
interface unclaimedFDChannel {
  readonly conn: net.Socket;
  readonly timer: NodeJS.Timeout;
}

/** Server is a 9p2000.L server. */
export class Server {
  /** attacher provides the attach function. */
  readonly attacher: Attacher;

  /**
   * pathTree is the full set of paths opened on this server.
   *
   * These may be across different connections, but rename operations must be
   * serialized globally for safely. There is a single pathTree for the entire
   * server, and not per connection.
   */
  readonly pathTree: pathNode;

  /**
   * renameMu is a global lock protecting rename operations. With this lock,
   * we can be certain that any given rename operation can safely acquire two
   * path nodes in any order, as all other concurrent operations acquire at
   * most a single node.
   */
  readonly renameMu = new RWMutex();

  readonly options: ServerOptions;

  /** maxMessageSize is the largest msize Tversion agrees to. */
  readonly maxMessageSize: number;

  /** conns are the live connections. */
  private readonly conns = new Set<connState>();
  /** listeners are the net.Servers accepting connections for this server. */
  private readonly listeners = new Set<net.Server>();
  /** pendingCloses are File.close calls still running (fidRef.decRef). */
  private readonly pendingCloses = new Set<Promise<void>>();
  /** liveRefs counts fidRefs whose references have not dropped to zero. */
  liveRefs = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  // fd channels whose hello arrived, by token, and Tfdchannel handlers
  // waiting for theirs.
  private readonly unclaimed = new Map<string, unclaimedFDChannel>();
  private readonly claimWaiters = new Map<string, (conn: net.Socket | null) => void>();

  constructor(attacher: Attacher, options: ServerOptions = {}) {
    this.attacher = attacher;
    this.pathTree = newPathNode();
    this.options = options;
    this.maxMessageSize = Math.min(options.maxMessageSize ?? maximumLength, maximumLength);
  }

  /**
   * fidCount returns the number of fids installed across all connections
   * (leak checks: 0 once every connection has closed).
   */
  fidCount(): number {
    let n = 0;
    for (const cs of this.conns) n += cs.fids.size;
    return n;
  }

  /** connCount returns the number of live connections. */
  connCount(): number {
    return this.conns.size;
  }

  /** closeFile runs file.close() for a fidRef that dropped its last reference. */
  closeFile(file: File): void {
    // gVisor ignores the error of a server-side Close; the Promise is kept
    // so that close() and connection teardown can wait for it.
    const p: Promise<void> = file
      .close()
      .catch((e: unknown) => {
        log('p9: File.close: %s', String(e));
      })
      .finally(() => {
        this.pendingCloses.delete(p);
      });
    this.pendingCloses.add(p);
  }

  /** settled resolves once no File.close is running. */
  async settled(): Promise<void> {
    while (this.pendingCloses.size > 0) await Promise.all([...this.pendingCloses]);
  }

  /**
   * handle handles a single connection. It resolves when the connection is
   * closed and its fids are released (gVisor: Handle).
   */
  handle(conn: net.Socket): Promise<void> {
    if (this.closed) {
      conn.destroy();
      return Promise.resolve();
    }
    const cs = new connState(this, conn);
    this.conns.add(cs);
    return cs.done.then(() => {
      this.conns.delete(cs);
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    });
  }

  /**
   * adoptFDChannel takes over conn, whose first bytes were an fd channel
   * hello (chunk), for the Tfdchannel that will name its token.
   */
  adoptFDChannel(conn: net.Socket, chunk: Buffer): void {
    if (this.closed || this.options.donateFDs === false || chunk.length !== helloLength || socketFD(conn) < 0) {
      conn.destroy();
      return;
    }
    const token = chunk.subarray(helloLength - tokenLength).toString('hex');
    // Nothing more may come on an fd channel: the client only reads. Its
    // end (or anything else) closes it.
    conn.on('data', () => conn.destroy());
    conn.on('end', () => conn.destroy());
    conn.on('error', () => conn.destroy());
    const w = this.claimWaiters.get(token);
    if (w !== undefined) {
      this.claimWaiters.delete(token);
      w(conn);
      return;
    }
    if (this.unclaimed.has(token)) {
      conn.destroy();
      return;
    }
    const timer = setTimeout(() => {
      if (this.unclaimed.get(token)?.conn === conn) this.unclaimed.delete(token);
      conn.destroy();
    }, fdChannelClaimTimeout);
    timer.unref();
    this.unclaimed.set(token, { conn, timer });
    conn.once('close', () => {
      if (this.unclaimed.get(token)?.conn === conn) {
        clearTimeout(timer);
        this.unclaimed.delete(token);
      }
    });
  }

  /**
   * claimFDChannel returns the side connection whose hello carried token,
   * waiting for it a while (it is accepted independently of the Tfdchannel
   * naming it), or null.
   */
  claimFDChannel(token: string): Promise<net.Socket | null> {
    if (this.closed || this.options.donateFDs === false) return Promise.resolve(null);
    const u = this.unclaimed.get(token);
    if (u !== undefined) {
      this.unclaimed.delete(token);
      clearTimeout(u.timer);
      return Promise.resolve(u.conn);
    }
    if (this.claimWaiters.has(token)) return Promise.resolve(null);
    return new Promise<net.Socket | null>((resolve) => {
      const timer = setTimeout(() => {
        if (this.claimWaiters.get(token) === done) this.claimWaiters.delete(token);
        resolve(null);
      }, fdChannelClaimTimeout);
      timer.unref();
      const done = (conn: net.Socket | null): void => {
        clearTimeout(timer);
        resolve(conn);
      };
      this.claimWaiters.set(token, done);
    });
  }

  /**
   * waitIdle resolves once at most maxConns connections are open and every
   * File of the closed ones is closed (for leak checks after clients have
   * disconnected).
   */
  async waitIdle(maxConns = 0): Promise<void> {
    while (this.conns.size > maxConns) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.settled();
  }

  /**
   * handleFD serves a connected socket inherited as file descriptor fd (a
   * gofer started with one end of a socketpair).
   */
  handleFD(fd: number): Promise<void> {
    return this.handle(new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true }));
  }

  /**
   * serve handles the connections a listening net.Server accepts, until it
   * closes (gVisor: Serve). It resolves once the listener is closed.
   */
  serve(listener: net.Server): Promise<void> {
    this.listeners.add(listener);
    listener.on('connection', (conn: net.Socket) => {
      void this.handle(conn);
    });
    return new Promise<void>((resolve) => {
      listener.once('close', () => {
        this.listeners.delete(listener);
        resolve();
      });
    });
  }

  /**
   * listen listens on address ("unix:/path", "tcp:HOST:PORT", or "fd:N" for
   * an inherited listening socket; see transport.ts parseAddress) and serves
   * the connections. It resolves with the listening net.Server (its
   * address() gives the port of "tcp:127.0.0.1:0"). Failures reject with the
   * Linux error (EADDRINUSE, ...).
   */
  listen(address: string | Address): Promise<net.Server> {
    let a: Address;
    try {
      a = typeof address === 'string' ? parseAddress(address) : address;
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.closed) return Promise.reject(syserror.EBADF);
    // transport.listen's net.Server is not half-open; see the file comment.
    const srv = net.createServer({ allowHalfOpen: true });
    return new Promise<net.Server>((resolve, reject) => {
      const onError = (err: Error): void => {
        srv.close();
        reject(syserror.fromNodeError(err));
      };
      srv.once('error', onError);
      const onListening = (): void => {
        srv.removeListener('error', onError);
        srv.on('error', (err: Error) => log('p9: listener: %s', err.message));
        void this.serve(srv);
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
            reject(syserror.EINVAL);
            return;
          }
          srv.listen({ fd: a.readFD }, onListening);
          break;
      }
    });
  }

  /**
   * close closes every listener and connection, and resolves once every
   * handler has finished and every File is closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    const waits: Promise<unknown>[] = [];
    for (const l of this.listeners) {
      waits.push(new Promise<void>((resolve) => l.close(() => resolve())));
    }
    for (const cs of this.conns) {
      cs.conn.destroy();
      waits.push(cs.done);
    }
    for (const [token, u] of this.unclaimed) {
      clearTimeout(u.timer);
      u.conn.destroy();
      this.unclaimed.delete(token);
    }
    for (const [token, w] of this.claimWaiters) {
      this.claimWaiters.delete(token);
      w(null);
    }
    await Promise.all(waits);
    await this.settled();
  }
}

/** tagState is an active tag: done resolves once its reply has been sent. */
interface tagState {
  readonly msgType: MsgType;
  readonly done: Promise<void>;
  readonly resolve: () => void;
}

/** connState is the state for a single connection. */
export class connState {
  /** server is the backing server. */
  readonly server: Server;

  /**
   * fids is the set of active FIDs.
   *
   * This is used to find FIDs for files.
   */
  readonly fids = new Map<FID, fidRef>();

  /**
   * tags is the set of active tags. A tag's done Promise resolves when the
   * tag is finished with processing (its reply written).
   */
  private readonly tags = new Map<Tag, tagState>();

  /**
   * messageSize is the maximum message size. The server does not do
   * automatic splitting of messages. 0 means not yet negotiated.
   */
  messageSize = 0;

  /**
   * version is the agreed upon version X of 9P2000.L.Google.X. version 0
   * implies 9P2000.L.
   */
  version = 0;

  /** pending counts requests that are still being handled (pendingWg). */
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly maxPending: number;

  /** conn is the connection. */
  readonly conn: net.Socket;

  /**
   * fdChannel is the bound fd channel (Tfdchannel), or null: host fds
   * donated with replies (donate) go there.
   */
  private fdChannel: serverFDChannel | null = null;
  private fdChannelConn: net.Socket | null = null;
  // donations maps a reply about to be sent to the host fd that goes with it
  // (owned here until sent or dropped).
  private readonly donations = new Map<Message, number>();
  // first is set until the first chunk arrived (a side connection's hello).
  private first = true;
  // Twrite frames are assembled in reused memory (MessageReader.takeFrame):
  // handleRequest gives each back once its handler is done.
  private readonly reader = new MessageReader(maximumLength, undefined, [MsgType.Twrite]);
  // readPaused: reading is paused by flow() (too many requests in flight, or
  // replies not drained); writeBlocked: the socket's write buffer is full.
  private readPaused = false;
  private writeBlocked = false;
  private draining = false;
  // Replies waiting for flushOut: outBatch holds small frames encoded back
  // to back, outq the chunks cut before it (see send).
  private readonly outBatch = new buffer(Buffer.allocUnsafe(4096));
  private outq: Buffer[] = [];
  private flushScheduled = false;
  private eof = false;
  private stopping = false;

  /** done resolves once the connection is stopped (stop). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(server: Server, conn: net.Socket) {
    this.server = server;
    this.conn = conn;
    this.maxPending = server.options.maxPendingPerConn ?? maxPendingPerConn;
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    if (conn.setNoDelay !== undefined && conn.remoteAddress !== undefined) conn.setNoDelay(true);
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    conn.on('end', () => {
      // The client has sent everything: handle what is buffered, then stop.
      this.eof = true;
      this.drain();
    });
    conn.on('close', () => void this.stop());
    conn.on('error', (err: Error) => {
      // Connection problem; stop serving.
      log('p9.recv: %s', err.message);
      void this.stop();
    });
  }

  /** msize returns the negotiated message size, or maximumLength before Tversion. */
  msize(): number {
    return this.messageSize === 0 ? maximumLength : this.messageSize;
  }

  /** setMessageSize records the negotiated msize (Tversion). */
  setMessageSize(msize: number): void {
    this.messageSize = msize;
    this.reader.msize = msize;
  }

  // onData receives a chunk of the stream and starts a handler for each
  // whole frame in it (gVisor: handleRequest's recv).
  private onData(chunk: Buffer): void {
    if (this.stopping) return;
    if (this.first) {
      this.first = false;
      if (isHello(chunk)) {
        // Not a 9P connection: an fd channel (fdpass.ts). Hand it over to
        // the server; this connState is done without touching it.
        this.stopping = true;
        this.conn.removeAllListeners();
        this.server.adoptFDChannel(this.conn, chunk);
        this.resolveDone();
        return;
      }
    }
    this.reader.push(chunk);
    this.drain();
  }

  // drain starts a handler for each whole frame buffered, until flow()
  // pauses reading (frames left in the reader wait for the resume).
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainLocked();
    } finally {
      this.draining = false;
    }
  }

  private drainLocked(): void {
    for (;;) {
      if (this.stopping || this.readPaused) return;
      let m: Message | undefined;
      try {
        m = this.reader.next();
      } catch (e) {
        if (e instanceof ErrBadMessage && !e.fatal) {
          // Not a connection error, but some other protocol error: we can
          // send a response immediately (not tracked as a tag, as gVisor).
          const errno = e instanceof ErrInvalidMsgType ? syserror.ENOSYS.errno : e.errno;
          log('p9.recv: [Tag %d] %s', e.tag, e.message);
          this.send(e.tag, new Rlerror(errno));
          continue;
        }
        // A frame we cannot step over (too short, above msize): the stream
        // cannot be trusted any more.
        log('p9.recv: %s', e instanceof Error ? e.message : String(e));
        void this.stop();
        return;
      }
      if (m === undefined) {
        // All buffered frames are dispatched; at end of stream (a partial
        // frame left is simply dropped) the connection is done.
        if (this.eof) void this.stop();
        return;
      }
      this.handleRequest(this.reader.tag, m);
    }
  }

  // handleRequest handles a single request.
  private handleRequest(tag: Tag, m: Message): void {
    // The pooled frame m was decoded from, if any: m's payload (Twrite data)
    // is a view of it, so it goes back to the reader only when the handler
    // is done with m (File.writeAt, like Go's io.WriterAt, keeps nothing).
    const frame = this.reader.takeFrame();
    // Try to start the tag.
    if (!this.startTag(tag, m.type)) {
      // Nothing we can do at this point; client is bogus.
      log('no valid tag [%d]', tag);
      if (frame !== undefined) this.reader.releaseFrame(frame);
      return;
    }
    this.pending++;
    this.flow();
    // Handle the message (handle, inlined: one promise per request, not
    // three).
    const h = handlerFor(m.type);
    if (h === undefined) {
      // Produce an ENOSYS error.
      this.finish(tag, new Rlerror(syserror.ENOSYS.errno), frame);
      return;
    }
    let p: Promise<Message>;
    try {
      p = h(this, m, tag);
    } catch (e) {
      this.finish(tag, newErr(e), frame);
      return;
    }
    p.then(
      (r) => this.finish(tag, r, frame),
      (e: unknown) => this.finish(tag, newErr(e), frame),
    );
  }

  // finish sends the reply of the request with tag, retires the tag and
  // gives the request's pooled frame (if any) back to the reader.
  private finish(tag: Tag, r: Message, frame: Buffer | undefined): void {
    if (frame !== undefined) this.reader.releaseFrame(frame);
    try {
      // Send back the result, then clear the tag: in Node nothing can run
      // between the two, so the client cannot reuse the tag before the
      // reply is on its way (gVisor clears first for that reason), and a
      // Tflush waiting for this tag replies after this reply.
      this.send(tag, r);
    } catch (e) {
      // Never expected (send does not throw); the server must not die of an
      // unhandled rejection all the same.
      log('p9: [Tag %d] reply: %s', tag, e instanceof Error ? (e.stack ?? e.message) : String(e));
    } finally {
      this.clearTag(tag);
      this.pending--;
      this.flow();
      if (this.pending === 0) {
        const ws = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of ws) w();
      }
    }
  }

  /**
   * handle handles a single message. It never rejects: an exception that is
   * not a LinuxError becomes EIO and is logged (gVisor recovers a panic into
   * EFAULT).
   */
  async handle(tag: Tag, m: Message): Promise<Message> {
    const h = handlerFor(m.type);
    if (h === undefined) {
      // Produce an ENOSYS error.
      return new Rlerror(syserror.ENOSYS.errno);
    }
    try {
      return await h(this, m, tag);
    } catch (e) {
      return newErr(e);
    }
  }

  /** hasFDChannel reports whether an fd channel is bound. */
  hasFDChannel(): boolean {
    return this.fdChannel !== null;
  }

  /**
   * bindFDChannel binds the side connection conn as this connection's fd
   * channel (Tfdchannel). It throws EINVAL if one is bound already, EBADF
   * if conn has no descriptor.
   */
  bindFDChannel(conn: net.Socket): void {
    if (this.fdChannel !== null || socketFD(conn) < 0 || this.stopping) {
      conn.destroy();
      throw this.fdChannel !== null ? syserror.EINVAL : syserror.EBADF;
    }
    this.fdChannel = new serverFDChannel(conn);
    this.fdChannelConn = conn;
    conn.once('close', () => {
      if (this.fdChannelConn === conn) this.dropFDChannel();
    });
  }

  // dropFDChannel forgets the fd channel and closes its connection.
  private dropFDChannel(): void {
    const ch = this.fdChannel;
    const conn = this.fdChannelConn;
    this.fdChannel = null;
    this.fdChannelConn = null;
    ch?.close();
    conn?.destroy();
  }

  /**
   * donate attaches hostFD to reply r (an Rlopen, Rlcreate or Rucreate): it
   * goes to the client on the fd channel when r is sent, and is closed here
   * then. Without an fd channel it is closed at once.
   */
  donate(r: Message, hostFD: number): void {
    if (this.fdChannel === null || !isOpenReply(r.type)) {
      closeQuietly(hostFD);
      return;
    }
    this.donations.set(r, hostFD);
  }

  // sendRecord writes the fd channel record of open reply r with tag (and
  // its donated fd, closed here) before r itself is queued. A failure drops
  // the channel: the client then finds no record and fails this open (EIO),
  // and both sides go on without donation.
  private sendRecord(tag: Tag, r: Message): void {
    const hostFD = this.donations.get(r) ?? -1;
    if (hostFD >= 0) this.donations.delete(r);
    try {
      if (this.fdChannel !== null && isOpenReply(r.type)) {
        try {
          this.fdChannel.sendRecord(tag, hostFD);
        } catch (e) {
          log('p9: fd channel: [Tag %d] %s; dropping it', tag, e instanceof Error ? e.message : String(e));
          this.dropFDChannel();
        }
      }
    } finally {
      if (hostFD >= 0) closeQuietly(hostFD);
    }
  }

  // send queues r with tag for the socket, or drops it if the connection is
  // gone. Replies of one tick go out together (flushOut, on the next tick):
  // small frames are encoded one after another into one batch buffer, a
  // large payload (Rread) is its own chunk, and the socket gets them in one
  // write (one writev when large ones are among them), as the client does.
  private send(tag: Tag, r: Message): void {
    if (this.fdChannel !== null || this.donations.size !== 0) this.sendRecord(tag, r);
    if (this.conn.destroyed || !this.conn.writable) return;
    const msize = this.msize();
    try {
      if (r.type === MsgType.Rread && (r as Rread).data.length > replyCopyThreshold) {
        this.queueChunk(encodeMessage(tag, r, msize));
      } else {
        if (log.enabled) log('send [Tag %d] %s', tag, r.toString());
        encodeMessageInto(this.outBatch, tag, r, msize);
      }
    } catch (e) {
      log('p9.send: [Tag %d] %s: %s', tag, r.toString(), e instanceof Error ? e.message : String(e));
      const errno = e instanceof ErrMessageTooLarge ? syserror.EMSGSIZE.errno : syserror.EIO.errno;
      encodeMessageInto(this.outBatch, tag, new Rlerror(errno), msize);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushOutTick, this);
    }
  }

  // queueChunk queues a frame of its own after the frames batched so far.
  private queueChunk(b: Buffer): void {
    this.cutBatch();
    this.outq.push(b);
  }

  // cutBatch moves the frames batched so far into outq, as a copy of their
  // own (the socket keeps chunks until written; the batch buffer is reused).
  private cutBatch(): void {
    const ob = this.outBatch;
    const n = ob.off;
    if (n === 0) return;
    const out = Buffer.allocUnsafe(n);
    ob.data.copy(out, 0, 0, n);
    ob.off = 0;
    if (ob.data.length > 1 << 16) ob.data = Buffer.allocUnsafe(4096); // Don't pin a huge batch.
    this.outq.push(out);
  }

  /** flushOut writes the replies queued by send (called on the next tick). */
  flushOut(): void {
    this.flushScheduled = false;
    this.cutBatch();
    const q = this.outq;
    if (q.length === 0) return;
    this.outq = [];
    if (this.conn.destroyed || !this.conn.writable) return;
    let ok: boolean;
    if (q.length === 1) {
      ok = this.conn.write(q[0]);
    } else {
      // Node hands corked chunks to writev: one syscall, no concatenation.
      this.conn.cork();
      for (let i = 0; i < q.length - 1; i++) this.conn.write(q[i]);
      ok = this.conn.write(q[q.length - 1]);
      this.conn.uncork();
    }
    if (!ok && !this.writeBlocked) {
      // The client is not reading its replies: stop reading its requests
      // until they drain, so that neither side's buffers grow without bound.
      this.writeBlocked = true;
      this.flow();
      this.conn.once('drain', () => {
        this.writeBlocked = false;
        this.flow();
      });
    }
  }

  /**
   * flow pauses reading from the connection while maxPending requests are in
   * flight (resuming below half of it) or while replies wait to drain
   * (gVisor needs neither: a goroutine blocks in send, and recv with it).
   */
  private flow(): void {
    if (this.stopping) return; // stop() paused reading for good.
    const overloaded = this.pending >= this.maxPending || (this.readPaused && this.pending >= this.maxPending / 2);
    const pause = overloaded || this.writeBlocked;
    if (pause && !this.readPaused) {
      this.readPaused = true;
      this.conn.pause();
    } else if (!pause && this.readPaused) {
      this.readPaused = false;
      this.conn.resume();
      this.drain();
    }
  }

  /**
   * lookupFID finds the given FID.
   *
   * You should call fid.decRef when you are finished using the fid.
   */
  lookupFID(fid: FID): fidRef | undefined {
    const ref = this.fids.get(fid);
    if (ref !== undefined) ref.incRef();
    return ref;
  }

  /**
   * insertFID installs the given FID.
   *
   * This fid starts with a reference count of one. If a FID exists in the
   * slot already it is closed, per the specification.
   */
  insertFID(fid: FID, newRef: fidRef): void {
    const origRef = this.fids.get(fid);
    newRef.incRef();
    this.fids.set(fid, newRef);
    if (origRef !== undefined) origRef.decRef();
  }

  /**
   * deleteFID removes the given FID.
   *
   * This simply removes it from the map and drops a reference.
   */
  deleteFID(fid: FID): boolean {
    const ref = this.fids.get(fid);
    if (ref === undefined) return false;
    this.fids.delete(fid);
    ref.decRef();
    return true;
  }

  /**
   * startTag starts handling the tag.
   *
   * False is returned if this tag is already active.
   */
  startTag(t: Tag, msgType: MsgType): boolean {
    if (this.tags.has(t)) return false;
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    this.tags.set(t, { msgType, done, resolve });
    return true;
  }

  /** clearTag finishes handling a tag. */
  clearTag(t: Tag): void {
    const ts = this.tags.get(t);
    if (ts === undefined) {
      // Should never happen.
      throw new Error('p9: unused tag cleared');
    }
    this.tags.delete(t);
    // Notify.
    ts.resolve();
  }

  /**
   * waitTag waits for a tag to finish.
   *
   * Differs from gVisor: a Tflush is not waited for (flushing a flush, or two
   * flushes naming each other, would deadlock both), nor is self, the tag of
   * the caller.
   */
  waitTag(t: Tag, self: Tag): Promise<void> {
    const ts = this.tags.get(t);
    if (ts === undefined || t === self || ts.msgType === MsgType.Tflush) return Promise.resolve();
    return ts.done;
  }

  // idle resolves when no request is being handled.
  private idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * stop waits for the requests in flight, closes the connection and drops
   * every fid (gVisor: connState.stop). Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    this.conn.pause();
    void (async () => {
      // Wait for completion of all inflight requests; their replies still go
      // out if the client only shut down its sending side.
      await this.idle();
      // Their replies are queued: write them before ending.
      this.flushOut();
      // Ensure the connection is closed.
      if (!this.conn.destroyed) {
        await new Promise<void>((resolve) => {
          this.conn.end(() => resolve());
          this.conn.once('close', () => resolve());
        });
        this.conn.destroy();
      }
      this.dropFDChannel();
      // Close all remaining fids.
      for (const [fid, ref] of [...this.fids]) {
        this.fids.delete(fid);
        // Drop final reference in the FID table. Note this should always
        // close the file, since we've ensured that there are no handlers
        // running via the wait for pending => 0 above.
        ref.decRef();
      }
      await this.server.settled();
      this.resolveDone();
    })();
    return this.done;
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch (e) {
    log('p9: close(%d): %s', fd, e instanceof Error ? e.message : String(e));
  }
}

// flushOutTick is flushOut as a process.nextTick callback (no closure per tick).
function flushOutTick(cs: connState): void {
  cs.flushOut();
}

/** xattrWalk marks a fid made by Txattrwalk: reads return value. */
export const xattrWalk = 'walk';
/** xattrCreate marks a fid turned by Txattrcreate: writes fill value, Tclunk sets it. */
export const xattrCreate = 'create';

/**
 * xattrFID is the state of an xattr fid (fidRef.xattr): standard 9P2000.L,
 * beyond gVisor at dbe41765.
 */
export interface xattrFID {
  /** kind is xattrWalk or xattrCreate. */
  readonly kind: typeof xattrWalk | typeof xattrCreate;

  /** name is the attribute's name ("" for the list of names of Txattrwalk). */
  readonly name: string;

  /**
   * value is the attribute's value (xattrWalk) or a buffer of Txattrcreate's
   * attrSize bytes that Twrite fills (xattrCreate).
   */
  readonly value: Buffer;

  /** flags are Txattrcreate's setxattr(2) flags (XATTR_CREATE, XATTR_REPLACE). */
  readonly flags: number;

  /**
   * written is, for xattrCreate, the end of the bytes written so far: a
   * write may not start beyond it (no holes), and Tclunk sets the value
   * only once it reaches value.length.
   */
  written: number;
}

/** fidRef wraps a node and tracks references. */
export class fidRef {
  /** server is the associated server. */
  readonly server: Server;

  /** file is the associated File. */
  readonly file: File;

  /**
   * refs is an active reference count.
   *
   * The node above will be closed only when refs reaches zero.
   */
  refs: number;

  /**
   * opened indicates whether this has been opened already.
   *
   * This is updated in handlers.ts.
   *
   * opened is protected by pathNode.opMu or renameMu (for write).
   */
  opened = false;

  /**
   * mode is the fidRef's mode from the walk. Only the type bits are valid,
   * the permissions may change. This is used to sanity check operations on
   * this element, and prevent walks across non-directories.
   */
  readonly mode: FileMode;

  /**
   * openFlags is the mode used in the open.
   *
   * This is updated in handlers.ts.
   *
   * openFlags is protected by pathNode.opMu or renameMu (for write).
   */
  openFlags: OpenFlags = 0;

  /** pathNode is the current pathNode for this FID. */
  readonly pathNode: pathNode;

  /**
   * parent is the parent fidRef. We hold on to a parent reference to ensure
   * that hooks, such as renamed, can be executed safely by the server code.
   *
   * Note that parent cannot be changed without holding both the global
   * rename lock and a writable lock on the associated pathNode for this
   * fidRef. Holding either of these locks is sufficient to examine parent
   * safely.
   *
   * The parent will be undefined for root fidRefs, and set otherwise. The
   * method maybeParent can be used to return a cyclical reference, and
   * isRoot should be used to check for root over looking at parent directly.
   */
  parent: fidRef | undefined;

  /**
   * deleted indicates that the backing file has been deleted. We stop many
   * operations at the API level if they are incompatible with a file that
   * has already been unlinked.
   */
  deleted: boolean;

  /**
   * xattr is set on an xattr fid (standard 9P2000.L; beyond gVisor at
   * dbe41765, which answers Txattrwalk with ENODATA and Txattrcreate with
   * ENOSYS): one made by Txattrwalk to read a value (or the list of names),
   * or a fid turned by Txattrcreate into one that collects a value for
   * Tclunk to set. Such a fid serves Tread (walk) or Twrite (create) and
   * Tclunk only; handlers.ts refuses everything else with EINVAL.
   *
   * xattr is only touched in synchronous sections of the handlers.
   */
  xattr: xattrFID | undefined;

  /**
   * xattrSource is, for a Txattrwalk fid, the fidRef it was made from: it
   * holds a reference on it instead of a File of its own (the value was read
   * when the fid was made), so that its last decRef drops that reference and
   * closes nothing. Such a fid is in no path tree.
   */
  readonly xattrSource: fidRef | undefined;

  constructor(init: {
    server: Server;
    file: File;
    mode: FileMode;
    pathNode: pathNode;
    parent?: fidRef;
    refs?: number;
    opened?: boolean;
    openFlags?: OpenFlags;
    deleted?: boolean;
    xattr?: xattrFID;
    xattrSource?: fidRef;
  }) {
    this.server = init.server;
    this.file = init.file;
    this.mode = init.mode;
    this.pathNode = init.pathNode;
    this.parent = init.parent;
    this.refs = init.refs ?? 0;
    this.opened = init.opened ?? false;
    this.openFlags = init.openFlags ?? 0;
    this.deleted = init.deleted ?? false;
    this.xattr = init.xattr;
    this.xattrSource = init.xattrSource;
    this.server.liveRefs++;
  }

  /** incRef increases the references on a fid. */
  incRef(): void {
    this.refs++;
  }

  /** decRef should be called when you're finished with a fid. */
  decRef(): void {
    this.refs--;
    if (this.refs === 0) {
      this.server.liveRefs--;
      if (this.xattrSource !== undefined) {
        // A Txattrwalk fid shares its source's File: drop the source.
        this.xattrSource.decRef();
        return;
      }
      this.server.closeFile(this.file);

      // Drop the parent reference.
      //
      // Since this fidRef is guaranteed to be non-discoverable when the
      // references reach zero, we don't need to worry about clearing the
      // parent.
      if (this.parent !== undefined) {
        // If we've been previously deleted, removing this ref is a no-op.
        // That's expected.
        this.parent.pathNode.removeChild(this);
        this.parent.decRef();
      }
    } else if (this.refs < 0) {
      throw new Error('p9: fidRef.decRef: negative reference count');
    }
  }

  /** isDeleted returns true if this fidRef has been deleted. */
  isDeleted(): boolean {
    return this.deleted;
  }

  /** isRoot indicates whether this is a root fid. */
  isRoot(): boolean {
    return this.parent === undefined;
  }

  /** maybeParent returns a cyclic reference for roots, and the parent otherwise. */
  maybeParent(): fidRef {
    return this.parent ?? this; // Root has itself.
  }

  /**
   * markChildDeleted marks all children below the given name as deleted.
   *
   * Precondition: this must be called via safelyWrite or safelyGlobal.
   */
  markChildDeleted(name: string): void {
    const origPathNode = this.pathNode.removeWithName(name, (ref) => {
      ref.deleted = true;
    });
    if (origPathNode !== undefined) {
      // Mark all children as deleted.
      notifyDelete(origPathNode);
    }
  }

  /**
   * renameChildTo renames the given child to the target.
   *
   * Precondition: this must be called via safelyGlobal.
   */
  renameChildTo(oldName: string, target: fidRef, newName: string): void {
    target.markChildDeleted(newName);
    const origPathNode = this.pathNode.removeWithName(oldName, (ref) => {
      // N.B. decRef can reach this.pathNode's parent's maps. This is allowed
      // because renameMu is held for write via safelyGlobal.
      ref.parent!.decRef(); // Drop original reference.
      ref.parent = target; // Change parent.
      target.incRef(); // Acquire new one.
      if (this.pathNode === target.pathNode) {
        target.pathNode.addChildLocked(ref, newName);
      } else {
        target.pathNode.addChild(ref, newName);
      }
      ref.file.renamed(target.file, newName);
    });

    if (origPathNode !== undefined) {
      // Replace the previous (now deleted) path node.
      target.pathNode.addPathNodeFor(newName, origPathNode);
      // Call renamed on all children.
      notifyNameChange(origPathNode);
    }
  }

  /**
   * safelyRead executes the given operation with the local path node locked.
   * This implies that paths will not change during the operation.
   */
  async safelyRead<T>(fn: () => Promise<T>): Promise<T> {
    const renameMu = this.server.renameMu;
    const opMu = this.pathNode.opMu;
    // Uncontended locks are taken without a microtask (STYLE: hot paths).
    if (!renameMu.tryRLock()) await renameMu.rLock();
    try {
      if (!opMu.tryRLock()) await opMu.rLock();
      try {
        return await fn();
      } finally {
        opMu.rUnlock();
      }
    } finally {
      renameMu.rUnlock();
    }
  }

  /**
   * safelyWrite executes the given operation with the local path node locked
   * in a writable fashion. This implies some paths may change.
   */
  async safelyWrite<T>(fn: () => Promise<T>): Promise<T> {
    const renameMu = this.server.renameMu;
    const opMu = this.pathNode.opMu;
    if (!renameMu.tryRLock()) await renameMu.rLock();
    try {
      if (!opMu.tryLock()) await opMu.lock();
      try {
        return await fn();
      } finally {
        opMu.unlock();
      }
    } finally {
      renameMu.rUnlock();
    }
  }

  /** safelyGlobal executes the given operation with the global path lock held. */
  async safelyGlobal<T>(fn: () => Promise<T>): Promise<T> {
    const renameMu = this.server.renameMu;
    if (!renameMu.tryLock()) await renameMu.lock();
    try {
      return await fn();
    } finally {
      renameMu.unlock();
    }
  }
}

/**
 * notifyDelete marks all fidRefs as deleted.
 *
 * Precondition: this must be called via safelyWrite or safelyGlobal.
 */
export function notifyDelete(pn: pathNode): void {
  pn.deleted = true;
  // Call on all local references.
  pn.forEachChildRef((ref) => {
    ref.deleted = true;
  });
  // Call on all subtrees.
  pn.forEachChildNode((child) => notifyDelete(child));
}

/**
 * notifyNameChange calls the relevant renamed method on all nodes in the
 * path, recursively. Note that this applies only for subtrees, as these
 * notifications do not apply to the actual file whose name has changed.
 *
 * Precondition: this must be called via safelyGlobal.
 */
export function notifyNameChange(pn: pathNode): void {
  // Call on all local references.
  pn.forEachChildRef((ref, name) => {
    ref.file.renamed(ref.parent!.file, name);
  });
  // Call on all subtrees.
  pn.forEachChildNode((child) => notifyNameChange(child));
}

/**
 * newErr returns a new error message from an error (gVisor: newErr and
 * ExtractErrno). A LinuxError gives its errno; anything else is a bug in a
 * File or in the server, logged and answered with EIO.
 */
export function newErr(err: unknown): Rlerror {
  if (isLinuxError(err)) return new Rlerror(err.errno);
  log('p9: unknown error: %s', err instanceof Error ? (err.stack ?? err.message) : String(err));
  return new Rlerror(syserror.EIO.errno);
}

/** newServer returns a new server (gVisor: NewServer). */
export function newServer(attacher: Attacher, options?: ServerOptions): Server {
  return new Server(attacher, options);
}
