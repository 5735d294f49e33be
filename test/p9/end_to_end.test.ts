// End to end: our Client against our Server (pkg/p9/server.ts over
// p9test's MemFS), on TCP and Unix sockets, several clients at once, many
// requests in flight, small msizes, a Tflush the server must wait on
// (gVisor's server answers Tflush once the flushed request is done), and a
// server going away under waiting calls.
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { O_RDONLY, O_RDWR } from '../../pkg/abi/linux/file';
import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import { AttrMask, AttrMaskAll, Attr, NoGID, NoUID, QID } from '../../pkg/p9/p9';
import { MemFS, MemFile, inode } from '../../pkg/p9/p9test/memfile';
import { Server } from '../../pkg/p9/server';
import * as syserror from '../../pkg/syserror/syserror';
import { freePort, tempDir } from './client_util';

// gatedFS is a MemFS whose getAttr waits until the gate opens: a request
// the server is busy with, for as long as the test wants.
class gatedFS extends MemFS {
  gate: Promise<void> = Promise.resolve();
  open: () => void = () => {};
  entered = 0;

  close(): void {
    this.gate = new Promise<void>((r) => (this.open = r));
  }

  override fileFor(n: inode): MemFile {
    this.openFiles++;
    return new gatedFile(this, n);
  }
}

class gatedFile extends MemFile {
  override async getAttr(req: AttrMask): Promise<[QID, AttrMask, Attr]> {
    const g = this.fs as gatedFS;
    g.entered++;
    await g.gate;
    return super.getAttr(req);
  }
}

async function serve(t: ExecutionContext, memfs: MemFS, kind: 'unix' | 'tcp'): Promise<{ server: Server; address: string }> {
  const server = new Server(memfs);
  let address: string;
  if (kind === 'tcp') {
    address = `tcp:127.0.0.1:${await freePort()}`;
  } else {
    const dir = tempDir('p9e2e-');
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    address = `unix:${path.join(dir, 'sock')}`;
  }
  await server.listen(address);
  t.teardown(() => server.close());
  return { server, address };
}

async function connect(t: ExecutionContext, address: string, msize?: number): Promise<[Client, ClientFile]> {
  const c = await Client.connect(address, msize === undefined ? {} : { msize });
  t.teardown(() => c.close());
  return [c, await c.attach('')];
}

async function writeFile(dir: ClientFile, name: string, data: Buffer): Promise<void> {
  const [, d] = await dir.walk([]);
  const [f] = await d.create(name, O_RDWR, 0o644, NoUID, NoGID);
  let off = 0;
  while (off < data.length) off += await f.writeAt(data.subarray(off), off);
  await f.close();
}

async function readFile(dir: ClientFile, names: string[], size: number): Promise<Buffer> {
  const [, f] = await dir.walk(names);
  await f.open(O_RDONLY);
  const buf = Buffer.alloc(size + 1);
  let off = 0;
  for (;;) {
    const n = await f.readAt(buf.subarray(off), off);
    if (n === 0) break;
    off += n;
  }
  await f.close();
  return buf.subarray(0, off);
}

for (const kind of ['unix', 'tcp'] as const) {
  test(`${kind}: a tree written by one client at msize 512 reads back identically through another at 64 KiB`, async (t) => {
    const memfs = new MemFS();
    const { server, address } = await serve(t, memfs, kind);
    const [c1, r1] = await connect(t, address, 512);
    const [c2, r2] = await connect(t, address);
    t.is(c1.messageSize, 512);
    t.is(c1.version, 13);
    const files = new Map<string, Buffer>();
    for (let d = 0; d < 4; d++) {
      await r1.mkdir(`d${d}`, 0o755, NoUID, NoGID);
      const [, dir] = await r1.walk([`d${d}`]);
      for (let i = 0; i < 5; i++) {
        const data = Buffer.from(Array.from({ length: 1000 * (i + d) + 7 }, (_, k) => (k * (i + 3) + d) & 0xff));
        await writeFile(dir, `f${i}`, data);
        files.set(`d${d}/f${i}`, data);
      }
      await dir.close();
    }
    const back = await Promise.all(
      [...files.keys()].map(async (p) => [p, await readFile(r2, p.split('/'), files.get(p)!.length)] as const),
    );
    for (const [p, data] of back) t.deepEqual(data, files.get(p), p);
    for (const [p, data] of files) t.deepEqual(memfs.lookup(p).data.subarray(0, memfs.lookup(p).size), data);
    // One client's rename is the other's ENOENT.
    const [, d0] = await r2.walk(['d0']);
    const [, d1] = await r2.walk(['d1']);
    await d0.renameAt('f0', d1, 'moved');
    await t.throwsAsync(r1.walk(['d0', 'f0']), { is: syserror.ENOENT });
    t.deepEqual(await readFile(r1, ['d1', 'moved'], 10000), files.get('d0/f0'));
    await d0.close();
    await d1.close();
    t.is(server.fidCount(), 2); // the two roots
  });
}

test('many in flight: 4 clients × 64 concurrent walkGetAttr+read+close', async (t) => {
  const memfs = new MemFS();
  const { server, address } = await serve(t, memfs, 'unix');
  const [, setup] = await connect(t, address);
  for (let i = 0; i < 64; i++) await writeFile(setup, `f${i}`, Buffer.from(`data ${i}`));
  const clients = await Promise.all(Array.from({ length: 4 }, () => connect(t, address)));
  const results = await Promise.all(
    clients.flatMap(([, root], ci) =>
      Array.from({ length: 64 }, async (_, i) => {
        const j = (i + ci * 16) % 64;
        const [, f, , attr] = await root.walkGetAttr([`f${j}`]);
        await f.open(O_RDONLY);
        const b = Buffer.alloc(attr.size);
        await f.readAt(b, 0);
        await f.close();
        return b.toString() === `data ${j}`;
      }),
    ),
  );
  t.true(results.every((ok) => ok));
  t.is(server.fidCount(), 5);
});

test('abort against our server: Tflush waits for the busy request, whose reply is then honored (flush(5))', async (t) => {
  const memfs = new gatedFS();
  const { address } = await serve(t, memfs, 'unix');
  const [c, root] = await connect(t, address);
  memfs.close();
  const ac = new AbortController();
  const call = root.getAttr(AttrMaskAll(), ac.signal);
  while (memfs.entered === 0) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  // The server holds the Rflush until the getattr is done.
  await new Promise((r) => setTimeout(r, 30));
  let settled = false;
  void call.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  t.false(settled);
  memfs.open();
  const [qid] = await call;
  t.is(qid.path, memfs.root.ino);
  t.false(c.isClosed());
  await t.notThrowsAsync(root.walk([]).then(([, f]) => f.close()));
});

test('server going away: every waiting call gets EIO, later calls too, and nothing hangs', async (t) => {
  const memfs = new gatedFS();
  const { server, address } = await serve(t, memfs, 'tcp');
  const [c, root] = await connect(t, address);
  memfs.close();
  const waiting = Array.from({ length: 8 }, () => root.getAttr(AttrMaskAll()));
  while (memfs.entered < 8) await new Promise((r) => setTimeout(r, 5));
  const closing = server.close();
  const results = await Promise.allSettled(waiting);
  t.true(results.every((r) => r.status === 'rejected' && r.reason === syserror.EIO));
  await t.throwsAsync(root.walk([]), { is: syserror.EIO });
  t.true(c.isClosed());
  memfs.open();
  await closing;
});

test('large writes in flight together (frames written corked, not concatenated) land intact', async (t) => {
  const memfs = new MemFS();
  const { address } = await serve(t, memfs, 'unix');
  const [, root] = await connect(t, address, 1 << 20);
  const datas = Array.from({ length: 8 }, (_, i) => Buffer.from(Array.from({ length: 300000 }, (_, k) => (k * (i + 1)) & 0xff)));
  const files = await Promise.all(
    datas.map(async (_, i) => {
      const [, d] = await root.walk([]);
      const [f] = await d.create(`big${i}`, O_RDWR, 0o600, NoUID, NoGID);
      return f;
    }),
  );
  const written = await Promise.all(files.map((f, i) => f.writeAt(datas[i], 0)));
  t.deepEqual(
    written,
    datas.map((d) => d.length),
  );
  for (let i = 0; i < datas.length; i++) t.deepEqual(memfs.lookup(`big${i}`).data.subarray(0, 300000), datas[i]);
  await Promise.all(files.map((f) => f.close()));
});
