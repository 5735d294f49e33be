// Fuzzing the live server: 100,000 frames — random messages of every T type,
// mutations of them (flipped bytes, truncated or extended bodies, changed
// type bytes, random bodies) and raw garbage — over many connections to one
// server on a MemFS. The server must answer every well-delimited frame
// exactly once or close the connection, never crash, and hold no fid and no
// open File once every connection has closed.
//
// The PRNG is seeded (printed on failure), so a failure replays.

import test from 'ava';
import * as net from 'node:net';

import { Message, MessageClass, Tattach, Tauth, Tlopen, Tversion, Twalk, msgRegistry } from '../../pkg/p9/messages';
import { MsgType, NoFID, NoUID, ReadWrite, ReadOnly } from '../../pkg/p9/p9';
import { MessageReader, encodeMessage } from '../../pkg/p9/transport';
import { HighestVersionString } from '../../pkg/p9/version';
import { MemFS } from '../../pkg/p9/p9test/memfile';
import { startServer } from './server_util';

const TOTAL_FRAMES = 100_000;
const BATCH = 1000;
const PARALLEL = 4;

// mulberry32: a small seeded PRNG.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class fuzzer {
  readonly rand: () => number;
  constructor(seed: number) {
    this.rand = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  private static readonly names = ['', '.', '..', 'a', 'f', 'd', 'sub', 'x', 'new', 'a/b', '/', 'x\0y', 'é', 'n'.repeat(256), 'link'];
  private static readonly fids = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NoFID];

  // value returns a random value shaped like v, for field key.
  value(key: string, v: unknown): unknown {
    if (typeof v === 'number') {
      const k = key.toLowerCase();
      if (k.includes('fid') || k === 'directory' || k === 'olddirectory' || k === 'newdirectory' || k === 'target') {
        return this.pick(fuzzer.fids);
      }
      if (k === 'msize') return this.pick([0, 100, 256, 4096, 65536, 1 << 20, 1 << 24]);
      if (k === 'count' || k === 'size' || k === 'attrsize') return this.pick([0, 1, 13, 100, 4096, 65536, 1 << 20, 0xffffffff]);
      if (k === 'offset' || k === 'start' || k === 'length') return this.pick([0, 1, 100, 1 << 20, 2 ** 40, Number.MAX_SAFE_INTEGER]);
      if (k === 'locktype') return this.pick([0, 1, 2, 3, 255]);
      if (k === 'oldtag') return this.int(BATCH + 2);
      return this.pick([0, 1, 2, 0o644, 0o40755, 0o100644, 0o120777, 0o140755, 0o10644, 0x200, 0xffff, 0xffffffff, this.int(2 ** 32)]);
    }
    if (typeof v === 'string') return this.pick(fuzzer.names);
    if (typeof v === 'bigint') return this.pick([0n, 1n, 2n, 3n, 5n, 2n ** 63n, BigInt(this.int(2 ** 32))]);
    if (typeof v === 'boolean') return this.int(2) === 1;
    if (Buffer.isBuffer(v)) return this.bytes(this.pick([0, 1, 8, 100, 3000]));
    if (Array.isArray(v)) {
      const n = this.pick([0, 1, 1, 2, 3, 4, 17, 40]);
      return Array.from({ length: n }, () => this.pick(fuzzer.names.filter((s) => s !== '' && s !== '.')));
    }
    if (typeof v === 'object' && v !== null) {
      this.fill(v as Record<string, unknown>);
      return v;
    }
    return v;
  }

  // fill randomises every own field of an object (a message or a struct in it).
  fill(o: Record<string, unknown>): void {
    for (const key of Object.keys(o)) o[key] = this.value(key, o[key]);
  }

  // message returns a random message of class cls, encoded with tag.
  frame(cls: MessageClass, tag: number): Buffer | undefined {
    for (let attempt = 0; attempt < 4; attempt++) {
      const m: Message = new cls();
      this.fill(m as unknown as Record<string, unknown>);
      try {
        return encodeMessage(tag, m);
      } catch {
        // A value the wire cannot carry: try again.
      }
    }
    return undefined;
  }

  // mutate returns a damaged copy of a well-formed frame, still well
  // delimited (its size field matches its length) and carrying tag.
  mutate(f: Buffer, tag: number): Buffer {
    let out: Buffer;
    switch (this.int(5)) {
      case 0: {
        out = Buffer.from(f);
        for (let i = 0, n = 1 + this.int(4); i < n && out.length > 7; i++) out[7 + this.int(out.length - 7)] = this.int(256);
        break;
      }
      case 1:
        out = Buffer.from(f.subarray(0, 7 + this.int(f.length - 6)));
        break;
      case 2:
        out = Buffer.concat([f, this.bytes(1 + this.int(64))]);
        break;
      case 3:
        out = Buffer.from(f);
        out[4] = this.int(256);
        // Not Tversion: it changes msize, so it only ever ends a batch.
        if (out[4] === MsgType.Tversion) out[4] = MsgType.Rversion;
        break;
      default:
        out = Buffer.concat([f.subarray(0, 7), this.bytes(this.int(200))]);
        break;
    }
    out.writeUInt32LE(out.length, 0);
    out.writeUInt16LE(tag, 5);
    return out;
  }
}

// tClasses are the request classes the registry knows (Tversion apart: it
// changes msize, so it only ever ends a batch).
const tClasses: MessageClass[] = msgRegistry
  .types()
  .map((t) => msgRegistry.lookup(t)!)
  .filter((c) => c.name.startsWith('T') && c.type !== MsgType.Tversion);

function seed(mfs: MemFS): void {
  for (const p of ['a', 'f', 'd/f', 'd/sub/x', 'd/sub/y']) {
    try {
      mfs.writeFile(p, 'some data');
    } catch {
      // A fuzz frame made a directory of it, or similar: fine.
    }
  }
  mfs.mkdirAll('e');
}

interface batchResult {
  sent: number;
  answered: number;
  duplicates: number;
  strict: boolean;
  closed: boolean;
  decodeError?: string;
}

// runBatch opens a connection, sets up fids 0-5, sends the frames, shuts
// down its side and collects replies until the server closes.
async function runBatch(sockPath: string, z: fuzzer): Promise<batchResult> {
  const sock = net.createConnection({ path: sockPath, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => undefined);
  const reader = new MessageReader();
  const answers = new Map<number, number>();
  let decodeError: string | undefined;
  const setupReplies = new Map<number, () => void>();
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  sock.on('end', () => sock.end());
  sock.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    try {
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        const tag = reader.tag;
        const w = setupReplies.get(tag);
        if (w !== undefined) {
          setupReplies.delete(tag);
          w();
          continue;
        }
        answers.set(tag, (answers.get(tag) ?? 0) + 1);
      }
    } catch (e) {
      decodeError = e instanceof Error ? e.message : String(e);
      sock.destroy();
    }
  });
  // Setup, one request at a time, on tags above the batch's.
  const setup: Message[] = [
    new Tversion(65536, z.int(3) === 0 ? '9P2000.L' : HighestVersionString()),
    new Tattach(0, new Tauth(NoFID, '', '/', NoUID)),
    new Twalk(0, 1, ['d']),
    new Twalk(0, 2, ['f']),
    new Twalk(0, 3, ['d', 'sub']),
    new Twalk(0, 4, []),
    new Twalk(0, 5, ['d', 'f']),
    new Tlopen(5, ReadWrite),
    new Twalk(0, 6, ['e']),
    new Tlopen(6, ReadOnly),
  ];
  let setupTag = 60000;
  for (const m of setup) {
    const tag = setupTag++;
    const done = new Promise<void>((resolve) => setupReplies.set(tag, resolve));
    sock.write(encodeMessage(tag, m));
    await Promise.race([done, closed]);
  }

  // strict: every frame is well delimited and none changes msize, so every
  // one must be answered; the extras below may end the connection early.
  let strict = true;
  const frames: Buffer[] = [];
  for (let tag = 1; tag <= BATCH; tag++) {
    const cls = z.pick(tClasses);
    const f = z.frame(cls, tag);
    if (f === undefined) continue;
    const r = z.int(10);
    // 60% well-formed random messages, 40% mutated frames.
    frames.push(r < 6 ? f : z.mutate(f, tag));
  }
  const sent = frames.length;
  if (z.int(10) === 0) {
    frames.push(encodeMessage(BATCH + 1, new Tversion(z.pick([0, 256, 8192]), z.pick(['9P2000.L', '9P2000', 'x']))));
    strict = false;
  }
  if (z.int(10) === 0) {
    frames.push(z.bytes(1 + z.int(100)));
    strict = false;
  }
  sock.end(Buffer.concat(frames));
  await closed;
  let answered = 0;
  let duplicates = 0;
  for (let tag = 1; tag <= BATCH; tag++) {
    const n = answers.get(tag) ?? 0;
    if (n > 0) answered++;
    if (n > 1) duplicates++;
  }
  return { sent, answered, duplicates, strict, closed: true, decodeError };
}

test(`fuzz: ${TOTAL_FRAMES} random and mutated frames; every frame answered or the connection closed; no fid left`, async (t) => {
  const seedValue = Number(process.env.P9_FUZZ_SEED ?? Date.now() % 1_000_000);
  t.log(`seed ${seedValue} (P9_FUZZ_SEED=${seedValue} replays it)`);
  const mfs = new MemFS({ maxFileSize: 1 << 20 });
  seed(mfs);
  const f = await startServer(t, { fs: mfs });
  const z = new fuzzer(seedValue);
  let frames = 0;
  let batches = 0;
  let strictBatches = 0;
  let answered = 0;
  while (frames < TOTAL_FRAMES) {
    const results = await Promise.all(Array.from({ length: PARALLEL }, () => runBatch(f.sockPath, z)));
    for (const r of results) {
      batches++;
      frames += r.sent;
      answered += r.answered;
      t.is(r.decodeError, undefined, `seed ${seedValue}: a reply the client cannot decode`);
      t.is(r.duplicates, 0, `seed ${seedValue}: a tag answered twice`);
      if (r.strict) {
        strictBatches++;
        if (r.answered !== r.sent) t.fail(`seed ${seedValue}: batch ${batches}: ${r.answered} of ${r.sent} frames answered`);
      }
    }
    if (batches % 40 === 0) seed(mfs);
  }
  t.log(`${frames} frames in ${batches} connections (${strictBatches} fully checked), ${answered} answered`);
  t.true(strictBatches > batches / 2);
  await f.server.waitIdle();
  t.is(f.server.fidCount(), 0, 'no fid left once every connection closed');
  t.is(f.server.liveRefs, 0, 'no fidRef left');
  t.is(mfs.openFiles, 0, 'every File closed');
});
