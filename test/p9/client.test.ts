// Tests of pkg/p9/client.ts against a scripted peer: version negotiation
// (gVisor's version.go loop, plus the plain-9P2000.L fallback diod needs),
// msize, tags and many requests in flight, Tflush on abort (flush(5)),
// errors, and a dying connection (EIO to every waiter, never a hang).
import test from 'ava';
import * as net from 'node:net';

import { Client } from '../../pkg/p9/client';
import {
  Message,
  Rattach,
  Rclunk,
  Rflush,
  Rgetattr,
  Rlerror,
  Rread,
  Rwalk,
  Rwrite,
  Tattach,
  Tclunk,
  Tflush,
  Tgetattr,
  Tlopen,
  Tread,
  Tversion,
  Twalk,
  Twrite,
  Rlopen,
} from '../../pkg/p9/messages';
import { AttrMaskAll, QID, NoTag } from '../../pkg/p9/p9';
import { HighestVersionString } from '../../pkg/p9/version';
import { headerLength } from '../../pkg/p9/transport';
import * as syserror from '../../pkg/syserror/syserror';
import { FakePeer, PeerConn, fakePeer } from './client_util';

// basic answers attach, walk (every name exists), getattr, clunk, lopen,
// read (zeros) and write (all of it).
function basic(c: PeerConn, tag: number, m: Message): void {
  if (m instanceof Tattach) c.reply(tag, new Rattach(new QID(0x80, 0, 1n)));
  else if (m instanceof Twalk) c.reply(tag, new Rwalk(m.names.map((_, i) => new QID(0, 0, BigInt(i + 2)))));
  else if (m instanceof Tgetattr) c.reply(tag, new Rgetattr(AttrMaskAll(), new QID(), undefined));
  else if (m instanceof Tclunk) c.reply(tag, new Rclunk());
  else if (m instanceof Tlopen) c.reply(tag, new Rlopen(new QID(), 0));
  else if (m instanceof Tread) c.reply(tag, new Rread(Buffer.alloc(m.count)));
  else if (m instanceof Twrite) c.reply(tag, new Rwrite(m.data.length));
  else c.reply(tag, new Rlerror(syserror.ENOSYS.errno));
}

async function withPeer(
  t: { teardown(fn: () => Promise<void> | void): void },
  handler: (c: PeerConn, tag: number, m: Message) => void,
  opts?: Parameters<typeof fakePeer>[1],
): Promise<FakePeer> {
  const p = await fakePeer(handler, opts);
  t.teardown(() => p.close());
  return p;
}

function versionsOffered(p: FakePeer): string[] {
  return p.received.filter((r) => r.msg instanceof Tversion).map((r) => (r.msg as Tversion).version);
}

// ---- version negotiation ----

const versionCases: Array<{
  name: string;
  answer: (offered: string) => string | number;
  want: number;
  offered: string[];
}> = [
  {
    name: 'a gVisor server answering the offer: version 13',
    answer: (v) => v,
    want: 13,
    offered: ['9P2000.L.Google.13'],
  },
  {
    name: 'a server answering a lower version (version.go: the highest both support)',
    answer: () => '9P2000.L.Google.7',
    want: 7,
    offered: ['9P2000.L.Google.13'],
  },
  {
    name: 'EAGAIN steps the request down one version at a time (gVisor NewClient)',
    answer: (v) => (v === '9P2000.L.Google.10' ? v : syserror.EAGAIN.errno),
    want: 10,
    offered: ['9P2000.L.Google.13', '9P2000.L.Google.12', '9P2000.L.Google.11', '9P2000.L.Google.10'],
  },
  {
    name: 'diod: Rlerror(EIO) to anything but "9P2000.L" falls back to plain 9P2000.L',
    answer: (v) => (v === '9P2000.L' ? v : syserror.EIO.errno),
    want: 0,
    offered: ['9P2000.L.Google.13', '9P2000.L'],
  },
  {
    name: 'version(5): an "unknown" answer falls back to plain 9P2000.L',
    answer: (v) => (v === '9P2000.L' ? v : 'unknown'),
    want: 0,
    offered: ['9P2000.L.Google.13', '9P2000.L'],
  },
  {
    name: 'a server answering plain "9P2000.L" to the extended offer: version 0',
    answer: () => '9P2000.L',
    want: 0,
    offered: ['9P2000.L.Google.13'],
  },
];

for (const tc of versionCases) {
  test(`version: ${tc.name}`, async (t) => {
    const p = await withPeer(t, basic, { version: tc.answer });
    const c = await Client.connect(p.address);
    t.teardown(() => c.close());
    t.is(c.version, tc.want);
    t.deepEqual(versionsOffered(p), tc.offered);
    // Tversion goes with NOTAG (version(5)).
    t.true(p.received.filter((r) => r.msg instanceof Tversion).every((r) => r.tag === NoTag));
  });
}

test('version: the offer is HighestVersionString() = 9P2000.L.Google.13', (t) => {
  t.is(HighestVersionString(), '9P2000.L.Google.13');
});

const badVersionCases: Array<{ name: string; answer: string | number; want: syserror.LinuxError }> = [
  { name: 'a malformed version string is EINVAL (ErrBadVersionString)', answer: '9P2000.u', want: syserror.EINVAL },
  { name: 'a version above the offer is EINVAL', answer: '9P2000.L.Google.14', want: syserror.EINVAL },
  { name: 'an error to plain 9P2000.L too is that error', answer: syserror.EPERM.errno, want: syserror.EPERM },
];
for (const tc of badVersionCases) {
  test(`version: ${tc.name}`, async (t) => {
    const p = await withPeer(t, basic, { version: tc.answer });
    await t.throwsAsync(Client.connect(p.address), { is: tc.want });
  });
}

test('version: a requested version string that is not 9P2000.L[.Google.N] is EINVAL, nothing dialed', async (t) => {
  await t.throwsAsync(Client.connect('unix:/nonexistent/sock', { version: '9P2000' }), { is: syserror.EINVAL });
});

test('version: the client can be told to offer plain 9P2000.L', async (t) => {
  const p = await withPeer(t, basic);
  const c = await Client.connect(p.address, { version: '9P2000.L' });
  t.teardown(() => c.close());
  t.is(c.version, 0);
  t.deepEqual(versionsOffered(p), ['9P2000.L']);
});

// ---- msize ----

test('msize: the server may lower msize; no frame sent exceeds it and writes are chunked (gVisor chunk)', async (t) => {
  const p = await withPeer(t, basic, { msize: 4096 });
  const c = await Client.connect(p.address, { msize: 65536 });
  t.teardown(() => c.close());
  t.is(c.messageSize, 4096);
  t.true(c.payloadSize + headerLength + 16 <= 4096);
  const root = await c.attach('');
  const [, f] = await root.walk(['x']);
  await f.open(2);
  const data = Buffer.alloc(10000, 7);
  t.is(await f.writeAt(data, 0), 10000);
  const writes = p.received.filter((r) => r.msg instanceof Twrite).map((r) => r.msg as Twrite);
  t.true(writes.length >= 3);
  t.true(writes.every((w) => w.data.length <= c.payloadSize));
  t.deepEqual(
    writes.map((w) => w.offset),
    writes.map((_, i) => i * c.payloadSize),
  );
  const buf = Buffer.alloc(10000, 1);
  t.is(await f.readAt(buf, 0), 10000);
  t.true(buf.every((b) => b === 0));
  const reads = p.received.filter((r) => r.msg instanceof Tread).map((r) => r.msg as Tread);
  t.true(reads.every((r) => r.count <= c.payloadSize));
});

test('msize: a server msize above the offer is refused (EPROTO)', async (t) => {
  const p = await withPeer(t, basic, { msize: 1 << 20 });
  await t.throwsAsync(Client.connect(p.address, { msize: 8192 }), { is: syserror.EPROTO });
});

test('msize: a reply larger than msize kills the connection: EIO to the waiter and to later calls', async (t) => {
  const p = await withPeer(
    t,
    (c, tag, m) => {
      if (m instanceof Tread) c.reply(tag, new Rread(Buffer.alloc(9000)));
      else basic(c, tag, m);
    },
    { msize: 8192 },
  );
  const c = await Client.connect(p.address, { msize: 8192 });
  t.teardown(() => c.close());
  const root = await c.attach('');
  const pending = root.getAttr(AttrMaskAll()); // answered before the bad frame? not necessarily: either way no hang
  await t.throwsAsync(c.sendRecv(new Tread(1, 0, 8000), Rread), { is: syserror.EIO });
  await pending.catch(() => {});
  await t.throwsAsync(root.getAttr(AttrMaskAll()), { is: syserror.EIO });
  t.true(c.isClosed());
});

test('msize: a request that does not fit in msize is EMSGSIZE, nothing is sent, the connection lives', async (t) => {
  const p = await withPeer(t, basic, { msize: 1024 });
  const c = await Client.connect(p.address, { msize: 1024 });
  t.teardown(() => c.close());
  const root = await c.attach('');
  const before = p.received.length;
  await t.throwsAsync(root.walk(['x'.repeat(2000)]), { is: syserror.EMSGSIZE });
  t.is(p.received.length, before);
  await t.notThrowsAsync(root.getAttr(AttrMaskAll()));
});

// ---- errors ----

test('errors: Rlerror(errno) is thrown as syserror.fromErrno(errno), by identity', async (t) => {
  for (const e of [syserror.ENOENT, syserror.EACCES, syserror.ENOTEMPTY, syserror.fromErrno(200)]) {
    const p = await withPeer(t, (c, tag, m) => {
      if (m instanceof Twalk) c.reply(tag, new Rlerror(e.errno));
      else basic(c, tag, m);
    });
    const c = await Client.connect(p.address);
    const root = await c.attach('');
    await t.throwsAsync(root.walk(['x']), { is: e });
    // The fid went back to the pool: the next walk gets the same one.
    const fidsBefore = p.received.filter((r) => r.msg instanceof Twalk).map((r) => (r.msg as Twalk).newFID);
    await t.throwsAsync(root.walk(['y']), { is: e });
    const fids = p.received.filter((r) => r.msg instanceof Twalk).map((r) => (r.msg as Twalk).newFID);
    t.is(fids[fids.length - 1], fidsBefore[0]);
    await c.close();
  }
});

test('errors: a reply with a tag nobody waits for, or of the wrong type, is EIO for every waiter (gVisor handleOne)', async (t) => {
  for (const bad of ['tag', 'type'] as const) {
    const p = await withPeer(t, (c, tag, m) => {
      if (m instanceof Tgetattr) {
        if (bad === 'tag') c.reply(tag + 100, new Rgetattr());
        else c.reply(tag, new Rwalk());
      } else if (!(m instanceof Tread)) basic(c, tag, m); // Tread: never answered
    });
    const c = await Client.connect(p.address);
    const root = await c.attach('');
    const waiting = c.sendRecv(new Tread(1, 0, 10), Rread);
    await t.throwsAsync(root.getAttr(AttrMaskAll()), { is: syserror.EIO });
    await t.throwsAsync(waiting, { is: syserror.EIO });
    await c.close();
  }
});

// ---- tags, many in flight ----

test('tags: 32 requests in flight get distinct tags, go out in one write, and each gets its own reply', async (t) => {
  const held: Array<[PeerConn, number, Message]> = [];
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Tread) {
      held.push([c, tag, m]);
      if (held.length === 32) {
        // Answer in reverse order, each with data naming its request.
        for (const [hc, htag, hm] of held.reverse()) hc.reply(htag, new Rread(Buffer.from(String((hm as Tread).offset))));
      }
    } else basic(c, tag, m);
  });
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(p.path, () => resolve(s));
    s.once('error', reject);
  });
  const c = await Client.connect(sock);
  t.teardown(() => c.close());
  const root = await c.attach('');
  let writes = 0;
  const origWrite = sock.write.bind(sock) as (...a: unknown[]) => boolean;
  (sock as unknown as { write: (...a: unknown[]) => boolean }).write = (...a: unknown[]) => {
    writes++;
    return origWrite(...a);
  };
  const results = await Promise.all(
    Array.from({ length: 32 }, async (_, i) => {
      const buf = Buffer.alloc(16);
      const n = await root.readAtOne(buf, i * 1000);
      return buf.subarray(0, n).toString();
    }),
  );
  t.deepEqual(
    results,
    Array.from({ length: 32 }, (_, i) => String(i * 1000)),
  );
  t.is(writes, 1);
  const tags = new Set(p.received.filter((r) => r.msg instanceof Tread).map((r) => r.tag));
  t.is(tags.size, 32);
  t.false(tags.has(NoTag));
});

test('tags: a tag is reused once its request is done (tag pool)', async (t) => {
  const p = await withPeer(t, basic);
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  await root.getAttr(AttrMaskAll());
  await root.getAttr(AttrMaskAll());
  const tags = p.received.filter((r) => r.msg instanceof Tgetattr).map((r) => r.tag);
  t.is(tags[0], tags[1]);
});

// ---- abort and Tflush ----

test('abort: sends Tflush(oldTag); the Rflush rejects the call with EINTR; the tag is held until then', async (t) => {
  let flushConn: PeerConn | undefined;
  let flushTag = -1;
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Tread) return; // never answered
    if (m instanceof Tflush) {
      flushConn = c;
      flushTag = tag;
      return; // answered below
    }
    basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const ac = new AbortController();
  const call = c.sendRecv(new Tread(root.fid, 0, 10), Rread, ac.signal);
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!p.received.some((r) => r.msg instanceof Tread)) await new Promise((r) => setTimeout(r, 5));
  const readTag = p.received.find((r) => r.msg instanceof Tread)!.tag;
  ac.abort();
  while (flushTag < 0) await new Promise((r) => setTimeout(r, 5));
  const tflush = p.received.find((r) => r.msg instanceof Tflush)!.msg as Tflush;
  t.is(tflush.oldTag, readTag);
  t.not(flushTag, readTag);
  // Until the Rflush, the call waits and its tag is not reused.
  await root.getAttr(AttrMaskAll());
  t.false(settled);
  const getattrTag = p.received.filter((r) => r.msg instanceof Tgetattr).pop()!.tag;
  t.not(getattrTag, readTag);
  flushConn!.reply(flushTag, new Rflush());
  await t.throwsAsync(call, { is: syserror.EINTR });
  t.false(c.isClosed());
});

test('abort: a reply that arrives before the Rflush is honored (flush(5), Linux v9fs)', async (t) => {
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Tread) return; // answered on flush
    if (m instanceof Tflush) {
      c.reply(m.oldTag, new Rread(Buffer.from('done')));
      c.reply(tag, new Rflush());
      return;
    }
    basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const ac = new AbortController();
  const call = c.sendRecv(new Tread(root.fid, 0, 10), Rread, ac.signal);
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  const r = await call;
  t.is(r.data.toString(), 'done');
  // Both tags are free again and the connection works.
  await t.notThrowsAsync(root.getAttr(AttrMaskAll()));
});

test('abort: an already aborted signal is EINTR at once, and nothing is sent', async (t) => {
  const p = await withPeer(t, basic);
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const before = p.received.length;
  await t.throwsAsync(root.getAttr(AttrMaskAll(), AbortSignal.abort()), { is: syserror.EINTR });
  t.is(p.received.length, before);
});

// ---- connection death ----

test('death: when the server goes away, every waiting call gets EIO, and every later call', async (t) => {
  let reads = 0;
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Tread) {
      if (++reads === 10) c.socket.destroy();
      return;
    }
    basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const calls = Array.from({ length: 10 }, (_, i) => root.readAtOne(Buffer.alloc(4), i));
  const results = await Promise.allSettled(calls);
  t.true(results.every((r) => r.status === 'rejected' && r.reason === syserror.EIO));
  await t.throwsAsync(root.getAttr(AttrMaskAll()), { is: syserror.EIO });
  await t.throwsAsync(c.attach(''), { is: syserror.EIO });
  t.true(c.isClosed());
});

test('death: close() fails waiting calls with EIO and later ones too', async (t) => {
  const p = await withPeer(t, (c, tag, m) => {
    if (!(m instanceof Tread)) basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  const root = await c.attach('');
  const waiting = root.readAtOne(Buffer.alloc(4), 0);
  await new Promise((r) => setTimeout(r, 10));
  await c.close();
  await t.throwsAsync(waiting, { is: syserror.EIO });
  await t.throwsAsync(root.getAttr(AttrMaskAll()), { is: syserror.EIO });
});

test('death: connecting to nothing is the Linux error (ECONNREFUSED / ENOENT)', async (t) => {
  await t.throwsAsync(Client.connect('unix:/nonexistent/p9.sock'), { is: syserror.ENOENT });
});

// ---- fids and walks ----

test('fids: a closed file returns its fid to the pool; operations on it are EBADF', async (t) => {
  const p = await withPeer(t, basic);
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const [, a] = await root.walk(['a']);
  await a.close();
  await t.throwsAsync(a.getAttr(AttrMaskAll()), { is: syserror.EBADF });
  await t.throwsAsync(a.close(), { is: syserror.EBADF });
  const [, b] = await root.walk(['b']);
  t.is(b.fid, a.fid);
});

test('walk: a short Rwalk (a standard server when a later name is missing) is ENOENT, the new fid never made', async (t) => {
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Twalk) c.reply(tag, new Rwalk([new QID(0x80, 0, 5n)]));
    else basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  await t.throwsAsync(root.walk(['dir', 'missing']), { is: syserror.ENOENT });
  // No Tclunk for the fid the server did not create; it is reused.
  t.false(p.received.some((r) => r.msg instanceof Tclunk));
  const walks = p.received.filter((r) => r.msg instanceof Twalk).map((r) => r.msg as Twalk);
  await t.throwsAsync(root.walk(['dir', 'missing']), { is: syserror.ENOENT });
  t.is((p.received.filter((r) => r.msg instanceof Twalk).pop()!.msg as Twalk).newFID, walks[0].newFID);
});

test('walk: more than 16 names (MAXWELEM) go as successive Twalks of at most 16', async (t) => {
  const p = await withPeer(t, basic);
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const names = Array.from({ length: 40 }, (_, i) => `d${i}`);
  const [qids, f] = await root.walk(names);
  t.is(qids.length, 40);
  const walks = p.received.filter((r) => r.msg instanceof Twalk).map((r) => r.msg as Twalk);
  t.deepEqual(
    walks.map((w) => w.names.length),
    [16, 16, 8],
  );
  t.is(walks[0].fid, root.fid);
  t.true(walks.every((w) => w.newFID === f.fid));
  t.true(walks.slice(1).every((w) => w.fid === f.fid));
  t.deepEqual(walks.flatMap((w) => w.names), names);
});

test('tags: when all 65534 tags are in flight a call waits for one (an abort withdraws it: EINTR, nothing sent)', async (t) => {
  const held: Array<[PeerConn, number]> = [];
  const p = await withPeer(t, (c, tag, m) => {
    if (m instanceof Tread) {
      if (m.offset === 1) c.reply(tag, new Rread(Buffer.from('late')));
      else held.push([c, tag]);
    } else basic(c, tag, m);
  });
  const c = await Client.connect(p.address);
  t.teardown(() => c.close());
  const root = await c.attach('');
  const all = Array.from({ length: 65534 }, () => c.sendRecv(new Tread(root.fid, 0, 1), Rread));
  while (held.length < 65534) await new Promise((r) => setTimeout(r, 10));
  const ac = new AbortController();
  const aborted = c.sendRecv(new Tread(root.fid, 2, 1), Rread, ac.signal);
  const late = c.sendRecv(new Tread(root.fid, 1, 1), Rread);
  ac.abort();
  await t.throwsAsync(aborted, { is: syserror.EINTR });
  // One tag comes back: the waiting call goes out with it.
  const [hc, htag] = held.pop()!;
  hc.reply(htag, new Rread(Buffer.from('x')));
  t.is((await late).data.toString(), 'late');
  const lateTag = p.received.filter((r) => r.msg instanceof Tread && (r.msg as Tread).offset === 1)[0].tag;
  t.is(lateTag, htag);
  t.false(p.received.some((r) => r.msg instanceof Tread && (r.msg as Tread).offset === 2));
  await c.close();
  const settled = await Promise.allSettled(all);
  t.is(settled.filter((r) => r.status === 'rejected' && r.reason === syserror.EIO).length, 65533);
});
