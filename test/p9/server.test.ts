// Tests of pkg/p9/server.ts: the connection machinery around the handlers —
// concurrent requests on one connection, Tflush ordering, several
// connections sharing one path tree, malformed and oversized frames, Unix
// socket, TCP and inherited-fd transports, fid accounting and shutdown.
// (gVisor: p9test/client_test.go TestConcurrency, TestReadWriteConcurrent,
// TestAttachNoLeak; transport_test.go for the frame errors.)

import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { Errno } from '../../pkg/abi/linux/errors';
import {
  Message,
  Rattach,
  Rclunk,
  Rlcreate,
  Runlinkat,
  Rflush,
  Rgetattr,
  Rlopen,
  Rread,
  Rremove,
  Rrenameat,
  Rversion,
  Rwalk,
  Tattach,
  Tauth,
  Tclunk,
  Tflush,
  Tgetattr,
  Tlcreate,
  Tunlinkat,
  Tlopen,
  Tread,
  Tremove,
  Trenameat,
  Tversion,
  Twalk,
} from '../../pkg/p9/messages';
import { AttrMaskAll, MsgType, NoFID, NoUID, ReadOnly, ReadWrite } from '../../pkg/p9/p9';
import { encodeMessage } from '../../pkg/p9/transport';
import { Server } from '../../pkg/p9/server';
import * as syserror from '../../pkg/syserror/syserror';
import { MemFS, MemFile } from '../../pkg/p9/p9test/memfile';
import { RawConn, closeAndSettle, errnoOf, expect, startServer } from './server_util';

interface gate {
  /** entered resolves when the File call reached the gate. */
  entered: Promise<void>;
  open(): void;
}

// gatedFS is a MemFS whose readAt at an offset listed in gates waits for
// that gate to open.
function gatedFS(): { fs: MemFS; gate(offset: number): gate } {
  const mfs = new MemFS();
  mfs.writeFile('a', 'abcdefghijklmnopqrstuvwxyz');
  mfs.writeFile('dir/inner', 'x');
  const gates = new Map<number, { wait: Promise<void>; enter: () => void }>();
  const orig = mfs.fileFor.bind(mfs);
  mfs.fileFor = (n): MemFile => {
    const file = orig(n);
    const readAt = file.readAt.bind(file);
    file.readAt = async (p: Buffer, off: number): Promise<number> => {
      const g = gates.get(off);
      if (g !== undefined) {
        g.enter();
        await g.wait;
      }
      return readAt(p, off);
    };
    return file;
  };
  return {
    fs: mfs,
    gate(offset: number): gate {
      let open!: () => void;
      let enter!: () => void;
      const wait = new Promise<void>((r) => (open = r));
      const entered = new Promise<void>((r) => (enter = r));
      gates.set(offset, { wait, enter });
      return { entered, open };
    },
  };
}

// openFile walks fid 1 to "a" and opens it for reading.
async function openA(c: RawConn): Promise<void> {
  expect(await c.rpc(new Twalk(0, 1, ['a'])), Rwalk);
  expect(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
}

test('requests of one connection are served concurrently: a blocked Tread does not hold up the next one', async (t) => {
  const g = gatedFS();
  const f = await startServer(t, { fs: g.fs });
  const c = await f.ready();
  await openA(c);
  const slow = g.gate(0);
  c.send(10, new Tread(1, 0, 3));
  c.send(11, new Tread(1, 3, 3));
  await slow.entered;
  t.is(expect((await c.reply(11)).msg, Rread).data.toString(), 'def', 'the second request completes first');
  slow.open();
  t.is(expect((await c.reply(10)).msg, Rread).data.toString(), 'abc');
  t.deepEqual(c.order.slice(-2), [11, 10]);
});

test('Tflush answers after the flushed request\'s reply (gVisor WaitTag)', async (t) => {
  const g = gatedFS();
  const f = await startServer(t, { fs: g.fs });
  const c = await f.ready();
  await openA(c);
  const slow = g.gate(0);
  c.send(20, new Tread(1, 0, 3));
  await slow.entered;
  c.send(21, new Tflush(20));
  // Frames are handled in order: once this reply is in, the Tflush waits.
  expect(await c.rpc(new Tgetattr(0, AttrMaskAll())), Rgetattr);
  slow.open();
  const r1 = await c.next();
  const r2 = await c.next();
  t.deepEqual([r1.tag, r2.tag], [20, 21]);
  expect(r1.msg, Rread);
  expect(r2.msg, Rflush);
});

test('Tflush of an idle tag, of itself, or of another Tflush answers at once (no deadlock)', async (t) => {
  const f = await startServer(t);
  const c = await f.ready();
  expect(await c.rpc(new Tflush(999)), Rflush);
  c.send(30, new Tflush(30));
  expect((await c.reply(30)).msg, Rflush);
  c.send(31, new Tflush(32));
  c.send(32, new Tflush(31));
  expect((await c.reply(31)).msg, Rflush);
  expect((await c.reply(32)).msg, Rflush);
  t.is(f.server.fidCount(), 1);
});

test('a request reusing an active tag is dropped, as gVisor (no valid tag)', async (t) => {
  const g = gatedFS();
  const f = await startServer(t, { fs: g.fs });
  const c = await f.ready();
  await openA(c);
  const slow = g.gate(0);
  c.send(40, new Tread(1, 0, 3));
  await slow.entered;
  c.send(40, new Tgetattr(0, AttrMaskAll()));
  expect(await c.rpc(new Tgetattr(0, AttrMaskAll())), Rgetattr);
  slow.open();
  expect((await c.reply(40)).msg, Rread);
  expect(await c.rpc(new Tgetattr(0, AttrMaskAll())), Rgetattr);
  t.is(c.order.filter((x) => x === 40).length, 1);
});

test('several connections: one path tree, fids counted across them, released when each closes', async (t) => {
  const mfs = new MemFS();
  mfs.writeFile('dir/inner', 'x');
  mfs.mkdirAll('other');
  const f = await startServer(t, { fs: mfs });
  const a = await f.ready();
  const b = await f.ready();
  const c = await f.ready();
  expect(await a.rpc(new Twalk(0, 1, ['dir', 'inner'])), Rwalk);
  expect(await b.rpc(new Twalk(0, 1, ['other'])), Rwalk);
  t.is(f.server.fidCount(), 5);
  t.is(f.server.connCount(), 3);
  // b renames the directory a's fid 1 is below; a's fid follows it.
  expect(await b.rpc(new Trenameat(0, 'dir', 1, 'moved')), Rrenameat);
  expect(await a.rpc(new Tremove(1)), Rremove);
  t.throws(() => mfs.lookup('other/moved/inner'));
  t.truthy(mfs.lookup('other/moved'));
  await closeAndSettle(f.server, [c]);
  t.is(f.server.fidCount(), 3);
  await closeAndSettle(f.server, [a, b]);
  t.is(f.server.fidCount(), 0);
  t.is(f.server.liveRefs, 0);
  t.is(mfs.openFiles, 0);
});

test('frame errors: unknown type and R-messages get ENOSYS, a malformed body EBADMSG with its tag, and the connection goes on', async (t) => {
  const f = await startServer(t);
  const c = await f.ready();
  const frame = (type: number, tag: number, body: number[]): Buffer => {
    const b = Buffer.alloc(7 + body.length);
    b.writeUInt32LE(b.length, 0);
    b[4] = type;
    b.writeUInt16LE(tag, 5);
    Buffer.from(body).copy(b, 7);
    return b;
  };
  const cases: Array<[Buffer, number, number, string]> = [
    [frame(200, 50, []), 50, Errno.ENOSYS, 'unknown type'],
    [frame(7, 51, [0, 0, 0, 0]), 51, Errno.ENOSYS, 'Rlerror sent to the server'],
    [encodeMessage(52, new Rversion(8192, '9P2000.L')), 52, Errno.ENOSYS, 'Rversion sent to the server'],
    [frame(MsgType.Twalk, 53, [0, 0, 0, 0, 1, 0, 0, 0, 5, 0]), 53, Errno.EBADMSG, 'Twalk announcing 5 names, holding none'],
    [frame(MsgType.Tread, 54, [0, 0, 0]), 54, Errno.EBADMSG, 'truncated Tread'],
    [frame(MsgType.Tattach, 55, [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00]), 55, Errno.EBADMSG, 'string longer than the frame'],
  ];
  for (const [b, tag, errno, what] of cases) {
    c.sendRaw(b);
    t.is(errnoOf((await c.reply(tag)).msg), errno, what);
  }
  expect(await c.rpc(new Tgetattr(0, AttrMaskAll())), Rgetattr);
  t.false(c.closed);
});

test('frame errors that desynchronise the stream close the connection: size < 7, size > msize, truncated then EOF', async (t) => {
  const f = await startServer(t);
  const cases: Array<[string, (c: RawConn) => void]> = [
    ['size below a header', (c) => c.sendRaw(Buffer.from([3, 0, 0, 0, 100, 0, 0]))],
    [
      'size above the negotiated msize',
      (c) => {
        const b = Buffer.alloc(7);
        b.writeUInt32LE(9000, 0);
        b[4] = MsgType.Twrite;
        c.sendRaw(b);
      },
    ],
    [
      'size above maximumLength before Tversion',
      (c) => c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0x7f, 100, 0, 0])),
    ],
    [
      'a truncated frame, then end of stream',
      (c) => {
        const b = encodeMessage(60, new Tgetattr(0, AttrMaskAll()));
        c.sendRaw(b.subarray(0, b.length - 3));
        c.sock.end();
      },
    ],
  ];
  for (const [what, send] of cases) {
    const c = await f.conn();
    if (what !== 'size above maximumLength before Tversion') {
      expect(await c.version(8192), Rversion);
      expect(await c.attach(0), Rattach);
    }
    send(c);
    await c.closedP;
    t.pass(what);
  }
  await f.server.waitIdle();
  t.is(f.server.fidCount(), 0);
  t.is(f.fs.openFiles, 0);
});

test('a client that shuts down its side still gets the replies to what it sent (half-close)', async (t) => {
  const f = await startServer(t);
  const c = await f.conn();
  c.send(1, new Tversion(65536, '9P2000.L'));
  c.send(2, new Tattach(0, new Tauth(NoFID, '', '/', NoUID)));
  c.send(3, new Twalk(0, 1, []));
  c.send(4, new Tclunk(1));
  c.sock.end();
  await c.closedP;
  // Pipelined requests are served concurrently, so in any order.
  t.deepEqual([...c.order].sort(), [1, 2, 3, 4]);
});

test('many requests in one write, with a small in-flight bound: all are answered (the socket is paused, not dropped)', async (t) => {
  const f = await startServer(t, { server: { maxPendingPerConn: 4 } });
  const c = await f.ready();
  const frames: Buffer[] = [];
  for (let tag = 100; tag < 400; tag++) frames.push(encodeMessage(tag, new Tgetattr(0, AttrMaskAll())));
  c.sendRaw(Buffer.concat(frames));
  for (let tag = 100; tag < 400; tag++) expect((await c.reply(tag)).msg, Rgetattr);
  t.pass();
});

test('a client that does not read its replies: requests wait (write backpressure), and every reply arrives once it reads', async (t) => {
  const mfs = new MemFS();
  mfs.writeFile('big', Buffer.alloc(60000, 1));
  const f = await startServer(t, { fs: mfs });
  const c = await f.ready();
  expect(await c.rpc(new Twalk(0, 1, ['big'])), Rwalk);
  expect(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  c.sock.pause();
  const frames: Buffer[] = [];
  for (let tag = 1000; tag < 1200; tag++) frames.push(encodeMessage(tag, new Tread(1, 0, 60000)));
  c.sendRaw(Buffer.concat(frames)); // 12 MB of replies, far above the socket's buffers
  await new Promise((r) => setTimeout(r, 50));
  c.sock.resume();
  let bytes = 0;
  for (let tag = 1000; tag < 1200; tag++) bytes += expect((await c.reply(tag)).msg, Rread).data.length;
  t.is(bytes, 200 * 60000);
});

test('TCP: listen on tcp:127.0.0.1:0 and serve', async (t) => {
  const server = new Server(new MemFS());
  t.teardown(() => server.close());
  const l = await server.listen('tcp:127.0.0.1:0');
  const a = l.address();
  if (a === null || typeof a !== 'object') throw new Error('no address');
  const sock = net.createConnection({ host: '127.0.0.1', port: a.port });
  const c = new RawConn(sock);
  t.teardown(() => c.close());
  t.is(expect(await c.version(65536, '9P2000.L'), Rversion).version, '9P2000.L');
  expect(await c.attach(0), Rattach);
  t.is(server.fidCount(), 1);
});

test('listen failures are Linux errors (EADDRINUSE; EINVAL for a bad address)', async (t) => {
  const f = await startServer(t);
  const other = new Server(new MemFS());
  t.teardown(() => other.close());
  await t.throwsAsync(other.listen(`unix:${f.sockPath}`), { is: syserror.EADDRINUSE });
  const e = await t.throwsAsync(other.listen('bogus'));
  t.is(syserror.errnoOf(e), Errno.EINVAL);
});

test('an inherited, connected socket fd (handleFD) is served: a child process serving on fd 3', async (t) => {
  const root = path.resolve(__dirname, '..', '..');
  const code = `
    const { Server } = require(${JSON.stringify(path.join(root, 'pkg/p9/server'))});
    const { MemFS } = require(${JSON.stringify(path.join(root, 'pkg/p9/p9test/memfile'))});
    const mfs = new MemFS();
    mfs.writeFile('hello', 'from the child');
    const s = new Server(mfs);
    s.handleFD(3).then(() => process.exit(s.fidCount() === 0 && mfs.openFiles === 0 ? 0 : 3));
  `;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', code], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const sock = child.stdio[3];
  if (!(sock instanceof net.Socket)) throw new Error('fd 3 is not a socket');
  const c = new RawConn(sock);
  expect(await c.version(65536, '9P2000.L'), Rversion);
  expect(await c.attach(0), Rattach);
  expect(await c.rpc(new Twalk(0, 1, ['hello'])), Rwalk);
  expect(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  t.is(expect(await c.rpc(new Tread(1, 0, 100)), Rread).data.toString(), 'from the child');
  c.sock.end();
  t.is(await exited, 0, 'the child saw every fid and File released');
});

test('server.close() waits for requests in flight, closes every connection and releases every File', async (t) => {
  const g = gatedFS();
  const server = new Server(g.fs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p9close-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await server.listen(`unix:${dir}/sock`);
  const a = await RawConn.connect(`${dir}/sock`);
  const b = await RawConn.connect(`${dir}/sock`);
  for (const c of [a, b]) {
    expect(await c.version(), Rversion);
    expect(await c.attach(0), Rattach);
  }
  await openA(a);
  const slow = g.gate(0);
  a.send(5, new Tread(1, 0, 3));
  await slow.entered;
  let closed = false;
  const p = server.close().then(() => {
    closed = true;
  });
  await Promise.all([a.closedP, b.closedP]);
  // Yield a turn: close must still be waiting for the blocked Tread.
  await new Promise((r) => setImmediate(r));
  t.false(closed);
  slow.open();
  await p;
  t.is(server.fidCount(), 0);
  t.is(server.liveRefs, 0);
  t.is(g.fs.openFiles, 0);
  await t.throwsAsync(server.listen(`unix:${dir}/sock2`));
});

test('attach then clunk leaks nothing (gVisor TestAttachNoLeak)', async (t) => {
  const f = await startServer(t);
  const c = await f.ready();
  for (let fid = 1; fid < 50; fid++) {
    expect(await c.attach(fid), Rattach);
    expect(await c.rpc(new Twalk(fid, fid + 1000, [])), Rwalk);
  }
  t.is(f.server.fidCount(), 99);
  for (let fid = 1; fid < 50; fid++) {
    expect(await c.rpc(new Tclunk(fid)), Rclunk);
    expect(await c.rpc(new Tclunk(fid + 1000)), Rclunk);
  }
  await f.server.settled();
  t.is(f.server.fidCount(), 1);
  t.is(f.fs.openFiles, 1);
});

test('renames, walks, creates and unlinks racing on three connections: no deadlock, fids follow renames (gVisor TestConcurrency)', async (t) => {
  const mfs = new MemFS();
  for (let i = 0; i < 10; i++) mfs.writeFile(`a/f${i}`, `file ${i}`);
  const f = await startServer(t, { fs: mfs });
  const renamer = await f.ready();
  const walker = await f.ready();
  const holder = await f.ready();
  expect(await holder.rpc(new Twalk(0, 5, ['a', 'f0'])), Rwalk);
  expect(await holder.rpc(new Twalk(0, 6, ['a'])), Rwalk);

  const errors = new Map<number, number>();
  const note = (m: Message): void => {
    const e = errnoOf(m);
    if (e !== 0) errors.set(e, (errors.get(e) ?? 0) + 1);
  };
  const renames = (async () => {
    for (let i = 0; i < 100; i++) {
      expect(await renamer.rpc(new Trenameat(0, 'a', 0, 'c')), Rrenameat);
      expect(await renamer.rpc(new Trenameat(0, 'c', 0, 'a')), Rrenameat);
    }
  })();
  const walks = (async () => {
    for (let i = 0; i < 200; i++) {
      const fid = 100 + (i % 7);
      const w = await walker.rpc(new Twalk(0, fid, [i % 2 === 0 ? 'a' : 'c', `f${i % 10}`]));
      note(w);
      if (errnoOf(w) === 0) {
        expect(await walker.rpc(new Tgetattr(fid, AttrMaskAll())), Rgetattr);
        expect(await walker.rpc(new Tclunk(fid)), Rclunk);
      }
    }
  })();
  const creates = (async () => {
    for (let i = 0; i < 100; i++) {
      expect(await holder.rpc(new Twalk(6, 7, [])), Rwalk);
      expect(await holder.rpc(new Tlcreate(7, `new${i}`, ReadWrite, 0o644, 0)), Rlcreate);
      expect(await holder.rpc(new Tunlinkat(6, `new${i}`, 0)), Runlinkat);
      expect(await holder.rpc(new Tgetattr(7, AttrMaskAll())), Rgetattr); // a deleted, open file
      expect(await holder.rpc(new Tclunk(7)), Rclunk);
      expect(await holder.rpc(new Tgetattr(5, AttrMaskAll())), Rgetattr);
    }
  })();
  await Promise.all([renames, walks, creates]);
  for (const e of errors.keys()) t.is(e, Errno.ENOENT, 'walks only ever miss a name mid-rename');
  // fid 5 followed every rename of its directory: Tremove finds a/f0.
  expect(await holder.rpc(new Tremove(5)), Rremove);
  t.throws(() => mfs.lookup('a/f0'));
  t.truthy(mfs.lookup('a/f1'));
  await closeAndSettle(f.server, [renamer, walker, holder]);
  t.is(f.server.fidCount(), 0);
  t.is(f.server.liveRefs, 0);
  t.is(mfs.openFiles, 0);
});
