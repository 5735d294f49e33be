// The p9 server assembles large Twrite frames in reused memory
// (transport.ts MessageReader.takeFrame/releaseFrame, server.ts
// handleRequest/finish). These tests pin that reuse is safe: a frame goes
// back to the pool only when its handler is done, so File.writeAt always
// sees its own bytes, however many Twrites are in flight and however slowly
// they are handled; and that reuse really happens (sequential writes share
// one buffer). Over MemFS and over pkg/fsgofer on a real directory.
import type { ExecutionContext } from 'ava';
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import { ReadOnly, ReadWrite } from '../../pkg/p9/p9';
import { inode, MemFile, MemFS } from '../../pkg/p9/p9test/memfile';
import { Server } from '../../pkg/p9/server';
import { connect, serve } from '../fsgofer/_harness';

// pattern returns n bytes that differ from those of any other seed.
function pattern(seed: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 101 + (i >> 9)) & 0xff;
  return b;
}

// Above the reader's pooling threshold (64 KiB), so that every Twrite frame
// spans several socket chunks and is assembled in pooled memory.
const CHUNK = 200 << 10;
const MSIZE = 1 << 20;

type writeAtFn = (p: Buffer, offset: number) => Promise<number>;

/** hookedMemFS is a MemFS whose files' writeAt goes through hook when set. */
class hookedMemFS extends MemFS {
  hook: ((p: Buffer, offset: number, orig: writeAtFn) => Promise<number>) | undefined;

  override fileFor(n: inode): MemFile {
    const f = super.fileFor(n);
    const orig: writeAtFn = f.writeAt.bind(f);
    f.writeAt = (p, offset) => (this.hook !== undefined ? this.hook(p, offset, orig) : orig(p, offset));
    return f;
  }
}

async function serveMemFS(t: ExecutionContext, memfs: MemFS): Promise<Client> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p9frames-'));
  const server = new Server(memfs);
  const sock = path.join(dir, 'sock');
  await server.listen(`unix:${sock}`);
  const client = await Client.connect(`unix:${sock}`, { msize: MSIZE });
  t.teardown(async () => {
    await client.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return client;
}

async function openFile(root: ClientFile, name: string): Promise<ClientFile> {
  const [, f] = await root.walk([name]);
  await f.open(ReadWrite);
  return f;
}

test('slow handlers: 24 Twrites held at once each see their own bytes, never a reused frame', async (t) => {
  const memfs = new hookedMemFS();
  memfs.writeFile('f', '');
  const client = await serveMemFS(t, memfs);
  const root = await client.attach('/', 0);
  const f = await openFile(root, 'f');
  const N = 24;
  // Every writeAt waits until all N have arrived (all frames in use at
  // once, far more than the pool keeps), then a few more turns of the event
  // loop while the others are checked, then checks its bytes.
  let arrived = 0;
  let release!: () => void;
  const allArrived = new Promise<void>((resolve) => (release = resolve));
  const seen: string[] = [];
  memfs.hook = async (p, offset, orig) => {
    const seed = offset / CHUNK;
    if (++arrived === N) release();
    await allArrived;
    for (let i = 0; i < seed % 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!p.equals(pattern(seed, CHUNK))) seen.push(`writeAt at ${offset} saw bytes not its own`);
    return orig(p, offset);
  };
  const ns = await Promise.all(Array.from({ length: N }, (_, i) => f.writeAt(pattern(i, CHUNK), i * CHUNK)));
  t.deepEqual(seen, []);
  t.deepEqual(ns, Array(N).fill(CHUNK));
  const data = memfs.lookup('f').data.subarray(0, N * CHUNK);
  for (let i = 0; i < N; i++) t.true(data.subarray(i * CHUNK, (i + 1) * CHUNK).equals(pattern(i, CHUNK)), `chunk ${i}`);
  await f.close();
  await root.close();
});

test('reuse happens: sequential 1 MiB-class Twrites are assembled in one buffer, and the bytes land right', async (t) => {
  const memfs = new hookedMemFS();
  memfs.writeFile('f', '');
  const client = await serveMemFS(t, memfs);
  const root = await client.attach('/', 0);
  const f = await openFile(root, 'f');
  const backing = new Set<ArrayBufferLike>();
  memfs.hook = (p, offset, orig) => {
    backing.add(p.buffer);
    return orig(p, offset);
  };
  const size = client.payloadSize;
  for (let i = 0; i < 6; i++) t.is(await f.writeAt(pattern(i, size), i * size), size);
  t.is(backing.size, 1, 'one pooled frame served every sequential Twrite');
  const data = memfs.lookup('f').data;
  for (let i = 0; i < 6; i++) t.true(data.subarray(i * size, (i + 1) * size).equals(pattern(i, size)), `chunk ${i}`);
  await f.close();
  await root.close();
});

test('a handler that fails does not leak its frame into later Twrites (EPERM on a file open read-only)', async (t) => {
  const memfs = new hookedMemFS();
  memfs.writeFile('f', '');
  const client = await serveMemFS(t, memfs);
  const root = await client.attach('/', 0);
  const [, ro] = await root.walk(['f']);
  await ro.open(ReadOnly); // The server refuses its Twrites (EPERM) before any writeAt.
  const f = await openFile(root, 'f');
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? ro : f).writeAt(pattern(i, CHUNK), i * CHUNK)),
  );
  results.forEach((r, i) => t.is(r.status, i % 2 === 0 ? 'rejected' : 'fulfilled', `write ${i}`));
  const data = memfs.lookup('f').data;
  for (let i = 1; i < 12; i += 2) t.true(data.subarray(i * CHUNK, (i + 1) * CHUNK).equals(pattern(i, CHUNK)), `chunk ${i}`);
  await ro.close();
  await f.close();
  await root.close();
});

test('fsgofer: many concurrent Twrites of distinct patterns from three clients land exactly on the host', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'p9frames-host-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'root');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'shared'), '');
  const s = await serve(t, dir, base);
  const PER = 16;
  const clients = await Promise.all([0, 1, 2].map(() => connect(t, s, MSIZE)));
  await Promise.all(
    clients.map(async ({ root }, c) => {
      const [, d] = await root.walk([]);
      await d.create(`own${c}`, ReadWrite, 0o644, 0, 0);
      const shared = await openFile(root, 'shared');
      // Own file: PER chunks at once. Shared file: client c writes every
      // third chunk, interleaved with the other clients'.
      await Promise.all([
        ...Array.from({ length: PER }, (_, i) => d.writeAt(pattern(c * 1000 + i, CHUNK), i * CHUNK)),
        ...Array.from({ length: PER }, (_, i) => shared.writeAt(pattern(5000 + i * 3 + c, CHUNK), (i * 3 + c) * CHUNK)),
      ]);
      await d.close();
      await shared.close();
    }),
  );
  for (let c = 0; c < 3; c++) {
    const own = fs.readFileSync(path.join(dir, `own${c}`));
    t.is(own.length, PER * CHUNK);
    for (let i = 0; i < PER; i++) t.true(own.subarray(i * CHUNK, (i + 1) * CHUNK).equals(pattern(c * 1000 + i, CHUNK)), `own${c} chunk ${i}`);
  }
  const shared = fs.readFileSync(path.join(dir, 'shared'));
  t.is(shared.length, 3 * PER * CHUNK);
  for (let k = 0; k < 3 * PER; k++) t.true(shared.subarray(k * CHUNK, (k + 1) * CHUNK).equals(pattern(5000 + k, CHUNK)), `shared chunk ${k}`);
});
