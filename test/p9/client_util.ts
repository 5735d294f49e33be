// Helpers for the client tests: a real diod on loopback over a temp
// directory, and temp directories cleaned up after the test.
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { Message, Rlerror, Rversion, Tversion } from '../../pkg/p9/messages';
import { MessageReader, encodeMessage } from '../../pkg/p9/transport';

export const DIOD = '/usr/sbin/diod';

/** haveDiod reports whether diod is installed. */
export function haveDiod(): boolean {
  try {
    fs.accessSync(DIOD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** tempDir makes a fresh temp directory. */
export function tempDir(prefix = 'p9client-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** freePort returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * waitForPort resolves once 127.0.0.1:port accepts connections; it fails if
 * proc exits first or nothing listens within 10 s.
 */
export async function waitForPort(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`server exited (${proc.exitCode ?? proc.signalCode})`);
    if (await tryConnect(port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Diod is a running diod exporting dir on 127.0.0.1:port. */
export interface Diod {
  dir: string;
  port: number;
  address: string;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * startDiod starts diod in the foreground over dir (a new temp directory if
 * not given) and waits until its port accepts connections. The caller must
 * stop() it (in t.teardown / after.always).
 */
export async function startDiod(dir?: string, extraArgs: string[] = []): Promise<Diod> {
  const root = dir ?? tempDir('p9diod-');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    // -n: no authentication; -N: no user database (numeric ids); -U root:
    // the squash user, needed when running as root without a user db. Run
    // as another user, diod serves only that user: attach with
    // process.getuid().
    const args = ['-f', '-n', '-N', '-U', 'root', '-e', root, '-l', `127.0.0.1:${port}`, '-L', 'stderr', '-c', '/dev/null', ...extraArgs];
    const proc = spawn(DIOD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 1 << 20) out = out.slice(-(1 << 19));
    });
    let exited = false;
    const exitedP = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    proc.once('error', () => {
      exited = true;
    });
    const deadline = Date.now() + 10000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if (await tryConnect(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!up) {
      if (!exited) proc.kill('SIGKILL');
      await exitedP;
      if (attempt < 3) continue; // the port was taken in between: try another
      throw new Error(`diod did not start: ${out}`);
    }
    return {
      dir: root,
      port,
      address: `tcp:127.0.0.1:${port}`,
      proc,
      log: () => out,
      stop: async () => {
        if (!exited) proc.kill('SIGTERM');
        const t = setTimeout(() => {
          if (!exited) proc.kill('SIGKILL');
        }, 3000);
        await exitedP;
        clearTimeout(t);
        if (dir === undefined) fs.rmSync(root, { recursive: true, force: true });
      },
    };
  }
}

// ---------------------------------------------------------------------------
// A scripted 9P peer, for the client's unit tests.


/** PeerConn is one connection to a FakePeer. */
export interface PeerConn {
  socket: net.Socket;
  reply(tag: number, m: Message): void;
}

/** Received is a message the peer received. */
export interface Received {
  tag: number;
  msg: Message;
}

/** FakePeer is a scripted 9P server on a Unix socket. */
export interface FakePeer {
  address: string;
  path: string;
  received: Received[];
  conns: PeerConn[];
  close(): Promise<void>;
}

export interface FakePeerOptions {
  /**
   * version answers Tversion: a string (the answer), an errno (Rlerror),
   * or a function of the offered version. Default: echo the offer.
   */
  version?: string | number | ((offered: string) => string | number);
  /** msize answers Tversion's msize (default: echo the offer). */
  msize?: number;
}

/**
 * fakePeer starts a scripted 9P server: Tversion is answered per opts, every
 * other message goes to handler (which may reply, later or never).
 */
export async function fakePeer(handler: (c: PeerConn, tag: number, m: Message) => void, opts: FakePeerOptions = {}): Promise<FakePeer> {
  const dir = tempDir('p9peer-');
  const sockPath = path.join(dir, 'sock');
  const received: Received[] = [];
  const conns: PeerConn[] = [];
  const server = net.createServer((socket) => {
    const reader = new MessageReader();
    const conn: PeerConn = {
      socket,
      reply(tag, m) {
        if (!socket.destroyed) socket.write(encodeMessage(tag, m));
      },
    };
    conns.push(conn);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (;;) {
        let m: Message | undefined;
        try {
          m = reader.next();
        } catch {
          socket.destroy();
          return;
        }
        if (m === undefined) return;
        const tag = reader.tag;
        received.push({ tag, msg: m });
        if (m instanceof Tversion) {
          let v: string | number = m.version;
          if (typeof opts.version === 'function') v = opts.version(m.version);
          else if (opts.version !== undefined) v = opts.version;
          conn.reply(tag, typeof v === 'number' ? new Rlerror(v) : new Rversion(opts.msize ?? m.mSize, v));
          continue;
        }
        handler(conn, tag, m);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(sockPath, resolve));
  return {
    address: `unix:${sockPath}`,
    path: sockPath,
    received,
    conns,
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
