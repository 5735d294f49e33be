// Helpers for the server tests: a Server over a MemFS on a Unix socket in a
// temp directory, and a raw 9P connection that sends frames (well formed or
// not) and collects replies by tag.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { Message, Rlerror, Tattach, Tauth, Tversion } from '../../pkg/p9/messages';
import { MessageReader, encodeMessage } from '../../pkg/p9/transport';
import { NoFID, NoUID } from '../../pkg/p9/p9';
import { HighestVersionString } from '../../pkg/p9/version';
import { Server, ServerOptions } from '../../pkg/p9/server';
import { MemFS, MemFSOptions } from '../../pkg/p9/p9test/memfile';
import type { Attacher } from '../../pkg/p9/file';

/** Reply is one frame received from the server. */
export interface Reply {
  tag: number;
  msg: Message;
}

/**
 * RawConn is a 9P connection that speaks frames directly: send/sendRaw
 * write, and replies are matched by tag (reply) or taken in order (next).
 */
export class RawConn {
  readonly sock: net.Socket;
  private readonly reader = new MessageReader();
  private readonly queue: Reply[] = [];
  private readonly waiters = new Map<number, Array<(r: Reply) => void>>();
  private anyWaiters: Array<(r: Reply) => void> = [];
  /** order lists the tags of replies in arrival order. */
  readonly order: number[] = [];
  closed = false;
  readonly closedP: Promise<void>;
  private nextTag = 1;

  constructor(sock: net.Socket) {
    this.sock = sock;
    this.closedP = new Promise<void>((resolve) => {
      sock.on('close', () => {
        this.closed = true;
        resolve();
      });
    });
    sock.on('error', () => undefined);
    // The server closed its side: close ours (the socket is half-open so
    // that tests can shut down their side first and still read replies).
    sock.on('end', () => sock.end());
    sock.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      for (;;) {
        const m = this.reader.next();
        if (m === undefined) break;
        this.deliver({ tag: this.reader.tag, msg: m });
      }
    });
  }

  static connect(address: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ path: address, allowHalfOpen: true });
      s.once('error', reject);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(new RawConn(s));
      });
    });
  }

  private deliver(r: Reply): void {
    this.order.push(r.tag);
    const ws = this.waiters.get(r.tag);
    if (ws !== undefined && ws.length > 0) {
      ws.shift()!(r);
      return;
    }
    const a = this.anyWaiters.shift();
    if (a !== undefined) {
      a(r);
      return;
    }
    this.queue.push(r);
  }

  /** tag returns a fresh tag (1, 2, ...). */
  tag(): number {
    const t = this.nextTag;
    this.nextTag = (this.nextTag + 1) & 0xfffe;
    return t;
  }

  /** send writes msg with tag. */
  send(tag: number, msg: Message): void {
    this.sock.write(encodeMessage(tag, msg));
  }

  /** sendRaw writes bytes as they are. */
  sendRaw(b: Buffer): void {
    this.sock.write(b);
  }

  /** reply resolves with the next reply carrying tag. */
  reply(tag: number): Promise<Reply> {
    const i = this.queue.findIndex((r) => r.tag === tag);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    return new Promise((resolve) => {
      let ws = this.waiters.get(tag);
      if (ws === undefined) {
        ws = [];
        this.waiters.set(tag, ws);
      }
      ws.push(resolve);
    });
  }

  /** next resolves with the next reply, whatever its tag. */
  next(): Promise<Reply> {
    const r = this.queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve) => this.anyWaiters.push(resolve));
  }

  /** rpc sends msg with a fresh tag and resolves with its reply message. */
  async rpc(msg: Message): Promise<Message> {
    const tag = this.tag();
    this.send(tag, msg);
    return (await this.reply(tag)).msg;
  }

  /** version negotiates (default: the highest gVisor version). */
  version(msize = 65536, version = HighestVersionString()): Promise<Message> {
    return this.rpc(new Tversion(msize, version));
  }

  /** attach attaches fid to aname. */
  attach(fid: number, aname = '/'): Promise<Message> {
    return this.rpc(new Tattach(fid, new Tauth(NoFID, '', aname, NoUID)));
  }

  close(): void {
    this.sock.destroy();
  }
}

/** errnoOf returns the errno of an Rlerror, or 0 for any other reply. */
export function errnoOf(m: Message): number {
  return m instanceof Rlerror ? m.error : 0;
}

/** expect narrows a reply to class cls, or throws with what came instead. */
export function expect<M extends Message>(m: Message, cls: new (...args: never[]) => M): M {
  if (!(m instanceof cls)) throw new Error(`expected ${cls.name}, got ${m.toString()}`);
  return m;
}

/** Fixture is a running server over a MemFS (or another Attacher). */
export interface Fixture<A extends Attacher = MemFS> {
  server: Server;
  fs: A;
  sockPath: string;
  dir: string;
  /** conn opens a RawConn, closed at teardown. */
  conn(): Promise<RawConn>;
  /** ready opens a RawConn, negotiates the version and attaches fid 0 to "/". */
  ready(version?: string): Promise<RawConn>;
}

/**
 * startServer starts a Server on a Unix socket in a temp directory; the
 * server, its connections and the directory go away at teardown, after a
 * check that every fid and File was released.
 */
export async function startServer<A extends Attacher = MemFS>(
  t: ExecutionContext,
  opts: { fs?: A; memfs?: MemFSOptions; server?: ServerOptions; leakCheck?: boolean } = {},
): Promise<Fixture<A>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p9server-'));
  const sockPath = path.join(dir, 'sock');
  const attacher = (opts.fs ?? new MemFS(opts.memfs)) as A;
  const server = new Server(attacher, opts.server);
  await server.listen(`unix:${sockPath}`);
  const conns: RawConn[] = [];
  t.teardown(async () => {
    for (const c of conns) c.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const fixture: Fixture<A> = {
    server,
    fs: attacher,
    sockPath,
    dir,
    async conn() {
      const c = await RawConn.connect(sockPath);
      conns.push(c);
      return c;
    },
    async ready(version?: string) {
      const c = await fixture.conn();
      await c.version(65536, version);
      const r = await c.attach(0);
      if (errnoOf(r) !== 0) throw new Error(`attach: ${r.toString()}`);
      return c;
    },
  };
  return fixture;
}

/** closeAndSettle closes conns and waits until the server has released their fids. */
export async function closeAndSettle(server: Server, conns: RawConn[]): Promise<void> {
  for (const c of conns) c.close();
  const before = server.connCount();
  await Promise.all(conns.map((c) => c.closedP));
  await server.waitIdle(before - conns.length);
}
