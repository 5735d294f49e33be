// Mirrors gVisor's pkg/sync/mutex_test.go (TryLock tests) plus the async
// properties this port adds: FIFO hand-off, no allocation when uncontended,
// no lost wakeups under random interleavings, misuse errors.
import test from 'ava';
import fc from 'fast-check';
import { Mutex } from '../../pkg/sync/mutex';

test('TestDoubleTryLock: a second tryLock fails', (t) => {
  const m = new Mutex();
  t.true(m.tryLock(), 'failed to acquire lock');
  t.false(m.tryLock(), 'unexpectedly succeeded in acquiring locked mutex');
});

test('TestTryLockAfterLock: tryLock fails after lock', async (t) => {
  const m = new Mutex();
  await m.lock();
  t.false(m.tryLock());
});

test('TestTryLockUnlock: tryLock succeeds after unlock', (t) => {
  const m = new Mutex();
  t.true(m.tryLock());
  m.unlock();
  t.true(m.tryLock());
});

test('uncontended lock is taken synchronously and returns a shared resolved Promise', (t) => {
  const m = new Mutex();
  const p1 = m.lock();
  t.true(m.isLocked());
  m.unlock();
  const p2 = m.lock();
  t.is(p1, p2, 'no Promise allocated on the fast path');
  m.unlock();
});

test('waiters acquire in FIFO order, and unlock hands off (no barging by tryLock)', async (t) => {
  const m = new Mutex();
  await m.lock();
  const order: number[] = [];
  const all = [0, 1, 2, 3, 4].map(async (i) => {
    await m.lock();
    order.push(i);
    // Yield a few times while holding it.
    for (let k = 0; k < 3; k++) await Promise.resolve();
    m.unlock();
  });
  m.unlock();
  // Ownership passed to waiter 0 at unlock time: a newcomer cannot take it.
  t.false(m.tryLock());
  await Promise.all(all);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
  t.false(m.isLocked());
});

test('unlock of an unlocked Mutex throws a programming-error Error', (t) => {
  const m = new Mutex();
  const err = t.throws(() => m.unlock());
  t.regex(err!.message, /unlock of unlocked Mutex/);
  m.tryLock();
  m.unlock();
  t.throws(() => m.unlock(), { message: /unlock of unlocked Mutex/ });
});

test('no lost wakeups and mutual exclusion under random interleavings (fast-check scheduler)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.array(fc.record({ tryFirst: fc.boolean(), hold: fc.nat(3) }), { minLength: 1, maxLength: 4 }), {
        minLength: 1,
        maxLength: 6,
      }),
      async (s, tasks) => {
        const m = new Mutex();
        let inside = 0;
        let done = 0;
        const yieldNow = (): Promise<void> => s.schedule(Promise.resolve());
        const run = async (ops: Array<{ tryFirst: boolean; hold: number }>): Promise<void> => {
          for (const op of ops) {
            await yieldNow();
            if (!(op.tryFirst && m.tryLock())) await m.lock();
            inside++;
            if (inside !== 1) throw new Error(`mutual exclusion broken: ${inside} inside`);
            for (let k = 0; k < op.hold; k++) await yieldNow();
            inside--;
            m.unlock();
          }
          done++;
        };
        const errors: unknown[] = [];
        for (const ops of tasks) run(ops).catch((e: unknown) => errors.push(e));
        await s.waitIdle();
        // A lost wakeup leaves a task blocked forever: done falls short.
        if (errors.length > 0) throw errors[0];
        return done === tasks.length && !m.isLocked();
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});
