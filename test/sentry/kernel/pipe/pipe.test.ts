// Mirrors gVisor's pkg/sentry/kernel/pipe/pipe_test.go (TestPipeRW,
// TestPipeReadBlock, TestPipeWriteBlock, TestPipeWriteUntilEnd) and
// node_test.go (FIFO open semantics), plus Linux's pipe(7) rules: PIPE_BUF
// atomicity, EPIPE without readers, EOF without writers, O_NONBLOCK EAGAIN.
import test from 'ava';
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../../../../pkg/abi/linux/file';
import * as context from '../../../../pkg/context/context';
import * as syserror from '../../../../pkg/syserror/syserror';
import {
  atomicIOBytes,
  blockingRead,
  blockingWrite,
  DefaultPipeSize,
  MinimumPipeSize,
  VFSPipe,
  type VFSPipeFD,
} from '../../../../pkg/sentry/kernel/pipe';
import { EventErr, EventHUp, EventIn, EventOut } from '../../../../pkg/waiter/waiter';

const bg = context.background();
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function pair(size = DefaultPipeSize): [VFSPipeFD, VFSPipeFD] {
  return new VFSPipe(false, size).readerWriterPair(0);
}

test('TestPipeRW: what is written is read back', (t) => {
  const [r, w] = pair(65536);
  const msg = bytes("here's some bytes");
  t.is(w.write(msg), msg.length);
  const buf = new Uint8Array(msg.length);
  t.is(r.read(buf), msg.length);
  t.is(text(buf), "here's some bytes");
  r.release();
  w.release();
});

test('TestPipeReadBlock: reading an empty pipe with a writer would block (EAGAIN)', (t) => {
  const [r, w] = pair(65536);
  t.throws(() => r.read(new Uint8Array(1)), { is: syserror.EAGAIN });
  t.is(r.read(new Uint8Array(0)), 0, 'a zero-length read never blocks');
  r.release();
  w.release();
});

test('TestPipeWriteBlock: a write larger than the capacity writes what fits', (t) => {
  const [r, w] = pair(MinimumPipeSize);
  t.is(w.write(new Uint8Array(MinimumPipeSize + 1)), MinimumPipeSize);
  t.throws(() => w.write(new Uint8Array(1)), { is: syserror.EAGAIN }, 'full');
  r.release();
  w.release();
});

test('PIPE_BUF atomicity: a write of at most PIPE_BUF bytes is all or nothing', (t) => {
  const [r, w] = pair(MinimumPipeSize);
  t.is(w.write(new Uint8Array(MinimumPipeSize - 10)), MinimumPipeSize - 10);
  t.throws(() => w.write(new Uint8Array(11)), { is: syserror.EAGAIN }, '11 bytes do not fit in 10: nothing written');
  t.is(w.write(new Uint8Array(10)), 10);
  t.is(r.queued(), MinimumPipeSize);
  t.is(atomicIOBytes, 4096);
  r.release();
  w.release();
});

test('default capacity is 64 KiB (16 pages)', (t) => {
  const [r, w] = pair();
  t.is(w.pipeSize(), 65536);
  t.is(w.write(new Uint8Array(100000)), 65536);
  r.release();
  w.release();
});

test('EPIPE when there are no readers; a zero-length write still succeeds (Linux)', (t) => {
  const [r, w] = pair();
  r.release();
  t.throws(() => w.write(bytes('x')), { is: syserror.EPIPE });
  t.is(w.write(new Uint8Array(0)), 0);
  t.is(w.readiness(EventErr | EventOut), EventErr | EventOut);
  w.release();
});

test('EOF (0) once the writers are gone and the pipe is drained; POLLHUP', (t) => {
  const [r, w] = pair();
  w.write(bytes('abc'));
  w.release();
  t.is(r.readiness(EventIn | EventHUp), EventIn | EventHUp);
  const buf = new Uint8Array(10);
  t.is(r.read(buf), 3);
  t.is(r.read(buf), 0);
  t.is(r.readiness(EventIn | EventHUp), EventHUp);
  r.release();
});

test('TestPipeWriteUntilEnd: blocking writer and reader move a message through a small pipe', async (t) => {
  const [r, w] = pair(MinimumPipeSize);
  const msg = new Uint8Array(3 * MinimumPipeSize + 123).map((_, i) => i & 0xff);
  const got = new Uint8Array(msg.length);
  const reader = (async () => {
    let off = 0;
    while (off < msg.length) {
      const n = await blockingRead(bg, r, got.subarray(off, Math.min(off + 1000, msg.length)));
      t.true(n > 0);
      off += n;
    }
  })();
  t.is(await blockingWrite(bg, w, msg), msg.length);
  await reader;
  t.deepEqual(got, msg);
  w.release();
  t.is(await blockingRead(bg, r, new Uint8Array(1)), 0, 'EOF');
  r.release();
});

test('blockingRead waits for data and is woken by a write; EINTR when interrupted', async (t) => {
  const [r, w] = pair();
  let got = -1;
  const buf = new Uint8Array(10);
  const p = blockingRead(bg, r, buf).then((n) => (got = n));
  await flush();
  t.is(got, -1);
  w.write(bytes('hi'));
  await p;
  t.is(got, 2);
  const ac = new AbortController();
  const q = blockingRead(context.withSignal(bg, ac.signal), r, buf);
  await flush();
  ac.abort();
  await t.throwsAsync(q, { is: syserror.EINTR });
  t.true(r.pipe.queue.isEmpty(), 'the waiter was unregistered');
  r.release();
  w.release();
});

test('blockingWrite returns the partial count when interrupted after progress, EINTR with none', async (t) => {
  const [r, w] = pair(MinimumPipeSize);
  const ac = new AbortController();
  const ctx = context.withSignal(bg, ac.signal);
  const p = blockingWrite(ctx, w, new Uint8Array(MinimumPipeSize + 5000));
  await flush();
  ac.abort();
  t.is(await p, MinimumPipeSize);
  await t.throwsAsync(blockingWrite(ctx, w, bytes('x')), { is: syserror.EINTR });
  r.release();
  w.release();
});

test('blockingWrite: the reader going away mid-write gives the partial count, then EPIPE', async (t) => {
  const [r, w] = pair(MinimumPipeSize);
  const p = blockingWrite(bg, w, new Uint8Array(MinimumPipeSize * 2));
  await flush();
  r.release();
  t.is(await p, MinimumPipeSize);
  await t.throwsAsync(blockingWrite(bg, w, bytes('x')), { is: syserror.EPIPE });
  w.release();
});

test('F_SETPIPE_SZ rounds up to a power-of-two number of pages; EBUSY below the queued bytes; EPERM above the maximum', (t) => {
  const [r, w] = pair();
  t.is(w.setPipeSize(0), 4096);
  t.is(w.setPipeSize(4097), 8192);
  t.is(w.setPipeSize(3 * 4096), 16384);
  t.is(w.pipeSize(), 16384);
  w.write(new Uint8Array(10000));
  t.throws(() => w.setPipeSize(4096), { is: syserror.EBUSY });
  t.throws(() => w.setPipeSize(1048577), { is: syserror.EPERM });
  t.throws(() => w.setPipeSize(-1), { is: syserror.EINVAL });
  t.is(r.queued(), 10000, 'FIONREAD');
  t.throws(() => r.allocate(), { is: syserror.ESPIPE });
  r.release();
  w.release();
});

test('release twice is a programming error', (t) => {
  const [r, w] = pair();
  r.release();
  t.throws(() => r.release(), { message: /released twice/ });
  w.release();
});

// ---- FIFO open semantics (node_test.go, fifo(7)) ----

function opened(p: Promise<VFSPipeFD>): { fd?: VFSPipeFD; err?: unknown; done: boolean } {
  const s: { fd?: VFSPipeFD; err?: unknown; done: boolean } = { done: false };
  p.then(
    (fd) => Object.assign(s, { fd, done: true }),
    (err: unknown) => Object.assign(s, { err, done: true }),
  );
  return s;
}

test('TestReadOpenBlocksForWriteOpen', async (t) => {
  const vp = new VFSPipe(true);
  const rd = opened(vp.open(bg, O_RDONLY));
  await flush();
  t.false(rd.done, 'open for read blocks without a writer');
  const w = await vp.open(bg, O_WRONLY);
  await flush();
  t.true(rd.done);
  rd.fd!.release();
  w.release();
});

test('TestWriteOpenBlocksForReadOpen', async (t) => {
  const vp = new VFSPipe(true);
  const wr = opened(vp.open(bg, O_WRONLY));
  await flush();
  t.false(wr.done, 'open for write blocks without a reader');
  const r = await vp.open(bg, O_RDONLY);
  await flush();
  t.true(wr.done);
  wr.fd!.release();
  r.release();
});

test('TestMultipleWriteOpenDoesntCountAsReadOpen', async (t) => {
  const vp = new VFSPipe(true);
  const r1 = opened(vp.open(bg, O_RDONLY));
  const w1 = opened(vp.open(bg, O_WRONLY));
  await flush();
  t.true(r1.done && w1.done, 'a reader and a writer unblock each other');
  const w2 = opened(vp.open(bg, O_WRONLY));
  await flush();
  t.true(w2.done, 'a second writer opens at once: the reader is there');
  r1.fd!.release();
  w1.fd!.release();
  w2.fd!.release();
});

test('TestClosedReaderBlocksWriteOpen', async (t) => {
  const vp = new VFSPipe(true);
  const r = await vp.open(bg, O_RDONLY | O_NONBLOCK);
  r.release();
  // This open for write should block because the reader is now gone.
  const wr = opened(vp.open(bg, O_WRONLY));
  await flush();
  t.false(wr.done);
  // Open for read again. This should unblock the open for write.
  const r2 = await vp.open(bg, O_RDONLY);
  await flush();
  t.true(wr.done);
  r2.release();
  wr.fd!.release();
});

test('TestReadWriteOpenNeverBlocks (with or without O_NONBLOCK)', async (t) => {
  const vp = new VFSPipe(true);
  const a = await vp.open(bg, O_RDWR);
  const b = await vp.open(bg, O_RDWR | O_NONBLOCK);
  t.is(vp.pipe.readerCount(), 2);
  t.is(vp.pipe.writerCount(), 2);
  a.release();
  b.release();
});

test('TestReadWriteOpenUnblocksReadOpen / WriteOpen', async (t) => {
  const vp = new VFSPipe(true);
  const rd = opened(vp.open(bg, O_RDONLY));
  await flush();
  t.false(rd.done);
  const rw = await vp.open(bg, O_RDWR);
  await flush();
  t.true(rd.done);
  rd.fd!.release();
  rw.release();

  const vp2 = new VFSPipe(true);
  const wr = opened(vp2.open(bg, O_WRONLY));
  await flush();
  t.false(wr.done);
  const rw2 = await vp2.open(bg, O_RDWR);
  await flush();
  t.true(wr.done);
  wr.fd!.release();
  rw2.release();
});

test('TestBlockedOpenIsCancellable: EINTR, and the half-open end is released', async (t) => {
  const vp = new VFSPipe(true);
  const ac = new AbortController();
  const rd = opened(vp.open(context.withSignal(bg, ac.signal), O_RDONLY));
  await flush();
  t.is(vp.pipe.readerCount(), 1);
  ac.abort();
  await flush();
  t.true(rd.done);
  t.is(rd.err, syserror.EINTR);
  t.is(vp.pipe.readerCount(), 0);
});

test('TestNonblockingReadOpenFileNoWriters: succeeds; a read then sees EOF', async (t) => {
  const vp = new VFSPipe(true);
  const r = await vp.open(bg, O_RDONLY | O_NONBLOCK);
  t.is(r.read(new Uint8Array(1)), 0);
  t.is(r.readiness(EventHUp), 0, 'no POLLHUP before any writer (hadWriter)');
  r.release();
});

test('TestNonblockingWriteOpenFileNoReaders: ENXIO, and the counts are restored', async (t) => {
  const vp = new VFSPipe(true);
  await t.throwsAsync(vp.open(bg, O_WRONLY | O_NONBLOCK), { is: syserror.ENXIO });
  t.is(vp.pipe.writerCount(), 0);
});

test('TestNonBlockingReadOpenWithWriter / TestNonBlockingWriteOpenWithReader', async (t) => {
  const vp = new VFSPipe(true);
  const wr = opened(vp.open(bg, O_WRONLY));
  await flush();
  t.false(wr.done);
  const r = await vp.open(bg, O_RDONLY | O_NONBLOCK);
  await flush();
  t.true(wr.done, 'a non-blocking read open unblocks the writer');
  const w2 = await vp.open(bg, O_WRONLY | O_NONBLOCK);
  t.is(vp.pipe.writerCount(), 2, 'a non-blocking write open succeeds with a reader');
  r.release();
  wr.fd!.release();
  w2.release();
});

test('TestAnonReadOpen: an anonymous pipe never blocks on open; no access mode is EINVAL', async (t) => {
  const vp = new VFSPipe(false);
  const r = await vp.open(bg, O_RDONLY);
  t.is(vp.pipe.readerCount(), 1);
  await t.throwsAsync(vp.open(bg, 3), { is: syserror.EINVAL });
  r.release();
});

// ---- the non-blocking core against a byte-queue model (fast-check) ----

import fc from 'fast-check';

test('read/write agree with a FIFO byte model: PIPE_BUF all-or-nothing, larger writes fill, reads drain in order (fast-check)', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(
        fc.record({ op: fc.constant('w' as const), n: fc.integer({ min: 0, max: 9000 }) }),
        fc.record({ op: fc.constant('r' as const), n: fc.integer({ min: 0, max: 9000 }) }),
      ), { maxLength: 30 }),
      (ops) => {
        const [r, w] = new VFSPipe(false, 8192).readerWriterPair(0);
        const model: number[] = [];
        let next = 0;
        for (const { op, n } of ops) {
          if (op === 'w') {
            const src = new Uint8Array(n).map(() => next++ & 0xff);
            const avail = 8192 - model.length;
            let want: number | 'EAGAIN';
            if (n === 0) want = 0;
            else if (n <= avail) want = n;
            else if (n <= atomicIOBytes || avail === 0) want = 'EAGAIN';
            else want = avail;
            let got: number | 'EAGAIN';
            try {
              got = w.write(src);
            } catch (e) {
              if (e !== syserror.EAGAIN) throw e;
              got = 'EAGAIN';
            }
            if (got !== want) return false;
            if (typeof got === 'number') model.push(...src.subarray(0, got));
          } else {
            const dst = new Uint8Array(n);
            let got: number | 'EAGAIN';
            try {
              got = r.read(dst);
            } catch (e) {
              if (e !== syserror.EAGAIN) throw e;
              got = 'EAGAIN';
            }
            const want = n === 0 ? 0 : model.length === 0 ? 'EAGAIN' : Math.min(n, model.length);
            if (got !== want) return false;
            if (typeof got === 'number') {
              const exp = model.splice(0, got);
              for (let i = 0; i < got; i++) if (dst[i] !== exp[i]) return false;
            }
          }
          if (r.queued() !== model.length) return false;
        }
        r.release();
        w.release();
        return true;
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});
