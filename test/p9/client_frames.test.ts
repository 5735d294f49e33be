// Tests of the client's large-message paths (pkg/p9/client.ts,
// client_file.ts): a Twrite's payload goes to the socket without being
// copied into its frame, and large Rread frames are assembled in reused
// memory that readAtOne hands back once it has copied the data out. What
// they pin: reuse never corrupts data a caller already has, many large
// requests in flight at once all get their own bytes, and a caller's
// buffer is never written after its call returned; readAtParallel (all
// chunks in flight at once) returns exactly what the serial readAt does.
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { O_RDWR } from '../../pkg/abi/linux/file';
import { Client } from '../../pkg/p9/client';
import type { ClientFile } from '../../pkg/p9/client_file';
import { NoGID, NoUID } from '../../pkg/p9/p9';
import { MemFS } from '../../pkg/p9/p9test/memfile';
import { Server } from '../../pkg/p9/server';
import * as syserror from '../../pkg/syserror/syserror';
import { tempDir } from './client_util';

const MiB = 1 << 20;

// pattern returns n bytes that differ with seed and position.
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >>> 9)) & 0xff;
  return b;
}

async function setup(t: ExecutionContext, msize: number): Promise<{ client: Client; file: ClientFile }> {
  const dir = tempDir('p9frames-');
  const server = new Server(new MemFS());
  const sock = path.join(dir, 'sock');
  await server.listen(`unix:${sock}`);
  const client = await Client.connect(`unix:${sock}`, { msize });
  t.teardown(async () => {
    await client.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const root = await client.attach('');
  const [, d] = await root.walk([]);
  const [file] = await d.create('f', O_RDWR, 0o644, NoUID, NoGID);
  return { client, file };
}

for (const msize of [MiB, 256 << 10]) {
  test(`msize ${msize}: large Twrites (payload not copied) and Rreads (reused frames) carry every byte, one at a time`, async (t) => {
    const { file } = await setup(t, msize);
    const size = 3 * MiB + 12345;
    const src = pattern(size, 1);
    t.is(await file.writeAt(src, 0), size);
    // Read back in several sizes; each result must survive the reads after
    // it (a reused frame must not be a view the caller keeps).
    const results: Buffer[] = [];
    for (const n of [MiB, 700000, 128 << 10, MiB]) {
      const b = Buffer.alloc(n);
      const got = await file.readAt(b, 1000);
      t.is(got, n);
      results.push(b);
    }
    for (const b of results) t.true(b.equals(src.subarray(1000, 1000 + b.length)), 'earlier reads are intact after later ones');
    // Past the end: short, then 0.
    const tail = Buffer.alloc(MiB, 0xee);
    t.is(await file.readAt(tail, size - 100), 100);
    t.true(tail.subarray(0, 100).equals(src.subarray(size - 100)));
    t.true(tail.subarray(100).every((x) => x === 0xee), 'nothing written past the count returned');
  });

  test(`msize ${msize}: 16 large writes then 16 large reads in flight at once each get their own bytes`, async (t) => {
    const { file } = await setup(t, msize);
    const n = 300000;
    const srcs = Array.from({ length: 16 }, (_, i) => pattern(n, i + 2));
    const ws = await Promise.all(srcs.map((s, i) => file.writeAt(s, i * n)));
    t.deepEqual(ws, srcs.map(() => n));
    const dsts = srcs.map(() => Buffer.alloc(n));
    const rs = await Promise.all(dsts.map((d, i) => file.readAt(d, i * n)));
    t.deepEqual(rs, srcs.map(() => n));
    for (let i = 0; i < 16; i++) t.true(dsts[i].equals(srcs[i]), `read ${i}`);
  });
}

test('readAtParallel: all chunks in one round trip; same result as readAt at EOF, past EOF and for short files; nothing copied past the count', async (t) => {
  const { client, file } = await setup(t, 256 << 10);
  const size = MiB + 5000;
  const src = pattern(size, 9);
  t.is(await file.writeAt(src, 0), size);
  const cases = [
    { off: 0, len: MiB }, // four full chunks
    { off: 1000, len: MiB }, // the last chunk crosses EOF
    { off: size - 10, len: 600 << 10 }, // the first chunk is short: the rest is ignored
    { off: size + 10, len: 600 << 10 }, // past EOF: 0
    { off: 3, len: 100 }, // one chunk
  ];
  for (const c of cases) {
    const serial = Buffer.alloc(c.len, 0xab);
    const parallel = Buffer.alloc(c.len, 0xab);
    const n = await file.readAt(serial, c.off);
    const b0 = client.batches;
    const m = await file.readAtParallel(parallel, c.off);
    const batches = client.batches - b0;
    t.is(m, n, `off ${c.off} len ${c.len}: count`);
    t.true(parallel.equals(serial), `off ${c.off} len ${c.len}: bytes, and 0xab left past the count`);
    t.is(batches, 1, `off ${c.off} len ${c.len}: one batch of requests`);
  }
  // A closed file: EBADF, as readAt.
  const [, g] = await (await client.attach('')).walk(['f']);
  await g.close();
  await t.throwsAsync(g.readAtParallel(Buffer.alloc(MiB), 0), { is: syserror.EBADF });
});
