// Test harness: a real p9 Server serving a host directory through
// pkg/fsgofer on a real Unix socket, our p9 Client on the other end, and a
// raw connection for hand-crafted frames. Everything is torn down in
// t.teardown.
import type { ExecutionContext } from 'ava';
import * as net from 'node:net';
import * as path from 'node:path';

import { attachPoint, Config, newAttachPoint } from '../../pkg/fsgofer/fsgofer';
import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import type { Attacher } from '../../pkg/p9/file';
import { Message } from '../../pkg/p9/messages';
import { Server } from '../../pkg/p9/server';
import { MessageReader, encodeMessage } from '../../pkg/p9/transport';

export interface served {
  server: Server;
  address: string;
  attachPoints: attachPoint[];
  /** openFiles is the number of host fds the served files hold. */
  openFiles(): number;
}

/** serve serves root on a Unix socket in sockDir, one attach point per Tattach (as cmd/gofer). */
export async function serve(t: ExecutionContext, root: string, sockDir: string, conf: Config = { roMount: false }): Promise<served> {
  const attachPoints: attachPoint[] = [];
  const attacher: Attacher = {
    attach: () => {
      const ap = newAttachPoint(root, conf);
      attachPoints.push(ap);
      return ap.attach();
    },
  };
  const server = new Server(attacher);
  const sock = path.join(sockDir, `gofer-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
  await server.listen(`unix:${sock}`);
  t.teardown(() => server.close());
  return {
    server,
    address: `unix:${sock}`,
    attachPoints,
    openFiles: () => attachPoints.reduce((n, ap) => n + ap.openFiles, 0),
  };
}

/** connect connects our client and attaches. */
export async function connect(t: ExecutionContext, s: served, msize?: number): Promise<{ client: Client; root: ClientFile }> {
  const client = await Client.connect(s.address, msize === undefined ? {} : { msize });
  t.teardown(() => client.close());
  const root = await client.attach('/', 0);
  return { client, root };
}

/** rawConn sends hand-made frames and reads the replies. */
export class rawConn {
  private readonly sock: net.Socket;
  private readonly reader = new MessageReader();
  private readonly waiting: Array<(r: { tag: number; msg: Message } | null) => void> = [];
  private readonly queue: { tag: number; msg: Message }[] = [];
  private closed = false;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      for (;;) {
        const m = this.reader.next();
        if (m === undefined) break;
        const r = { tag: this.reader.tag, msg: m };
        const w = this.waiting.shift();
        if (w !== undefined) w(r);
        else this.queue.push(r);
      }
    });
    const end = (): void => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    };
    sock.on('close', end);
    sock.on('error', end);
  }

  static async open(t: ExecutionContext, address: string): Promise<rawConn> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path: address.replace(/^unix:/, '') });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    t.teardown(() => sock.destroy());
    return new rawConn(sock);
  }

  send(tag: number, m: Message): void {
    this.sock.write(encodeMessage(tag, m));
  }

  sendBytes(b: Buffer): void {
    this.sock.write(b);
  }

  /** recv resolves with the next reply, or null once the server closed the connection. */
  recv(): Promise<{ tag: number; msg: Message } | null> {
    const r = this.queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async call(tag: number, m: Message): Promise<Message | null> {
    this.send(tag, m);
    const r = await this.recv();
    return r === null ? null : r.msg;
  }
}
