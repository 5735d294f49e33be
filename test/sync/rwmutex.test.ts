// Mirrors gVisor's pkg/sync/rwmutex_test.go (TryLock/TryRLock tests,
// TestParallelReaders, HammerDowngradableRWMutex as a fast-check property)
// plus ordering, writer preference and misuse.
import test from 'ava';
import fc from 'fast-check';
import { RWMutex } from '../../pkg/sync/rwmutex';

test('TestRWDoubleTryLock', (t) => {
  const rwm = new RWMutex();
  t.true(rwm.tryLock());
  t.false(rwm.tryLock());
});

test('TestRWTryLockAfterLock', async (t) => {
  const rwm = new RWMutex();
  await rwm.lock();
  t.false(rwm.tryLock());
});

test('TestRWTryLockUnlock', (t) => {
  const rwm = new RWMutex();
  t.true(rwm.tryLock());
  rwm.unlock();
  t.true(rwm.tryLock());
});

test('TestTryRLockAfterLock', async (t) => {
  const rwm = new RWMutex();
  await rwm.lock();
  t.false(rwm.tryRLock());
});

test('TestTryLockAfterRLock', async (t) => {
  const rwm = new RWMutex();
  await rwm.rLock();
  t.false(rwm.tryLock());
});

test('TestDoubleTryRLock', (t) => {
  const rwm = new RWMutex();
  t.true(rwm.tryRLock());
  t.true(rwm.tryRLock());
});

test('TestParallelReaders: many readers hold the lock at once', async (t) => {
  const rwm = new RWMutex();
  const p = [rwm.rLock(), rwm.rLock(), rwm.rLock(), rwm.rLock()];
  await Promise.all(p);
  t.true(rwm.isRLocked());
  for (let i = 0; i < 4; i++) rwm.rUnlock();
  t.false(rwm.isRLocked());
  t.true(rwm.tryLock());
});

test('uncontended lock and rLock return a shared resolved Promise', (t) => {
  const rwm = new RWMutex();
  const a = rwm.lock();
  rwm.unlock();
  const b = rwm.rLock();
  const c = rwm.rLock();
  t.is(a, b);
  t.is(b, c);
});

test('writer preference: a waiting writer excludes new readers and goes first', async (t) => {
  const rwm = new RWMutex();
  await rwm.rLock();
  const order: string[] = [];
  const w = rwm.lock().then(() => order.push('w'));
  t.false(rwm.tryRLock(), 'pending writer excludes new readers (Go semantics)');
  const r = rwm.rLock().then(() => order.push('r2'));
  await Promise.resolve();
  t.deepEqual(order, []);
  rwm.rUnlock();
  await w;
  t.deepEqual(order, ['w']);
  t.true(rwm.isLocked());
  rwm.unlock();
  await r;
  t.deepEqual(order, ['w', 'r2']);
});

test('FIFO: consecutive readers at the head enter together; a later writer waits for them; later readers wait for it', async (t) => {
  const rwm = new RWMutex();
  await rwm.lock();
  const order: string[] = [];
  const r1 = rwm.rLock().then(() => order.push('r1'));
  const r2 = rwm.rLock().then(() => order.push('r2'));
  const w2 = rwm.lock().then(() => order.push('w2'));
  const r3 = rwm.rLock().then(() => order.push('r3'));
  rwm.unlock();
  await Promise.all([r1, r2]);
  t.deepEqual(order, ['r1', 'r2']);
  rwm.rUnlock();
  await Promise.resolve();
  t.deepEqual(order, ['r1', 'r2'], 'w2 waits for the last reader');
  rwm.rUnlock();
  await w2;
  t.deepEqual(order, ['r1', 'r2', 'w2']);
  rwm.unlock();
  await r3;
  t.deepEqual(order, ['r1', 'r2', 'w2', 'r3']);
  rwm.rUnlock();
  t.false(rwm.isLocked() || rwm.isRLocked());
});

test('downgradeLock is atomic: queued readers join, a queued writer still waits', async (t) => {
  const rwm = new RWMutex();
  await rwm.lock();
  const order: string[] = [];
  const r1 = rwm.rLock().then(() => order.push('r1'));
  const w2 = rwm.lock().then(() => order.push('w2'));
  rwm.downgradeLock();
  t.false(rwm.isLocked());
  t.true(rwm.isRLocked());
  await r1;
  t.deepEqual(order, ['r1']);
  rwm.rUnlock(); // the downgraded reader
  rwm.rUnlock(); // r1
  await w2;
  t.deepEqual(order, ['r1', 'w2']);
});

test('misuse throws programming-error Errors', (t) => {
  const rwm = new RWMutex();
  t.throws(() => rwm.unlock(), { message: /Unlock of unlocked RWMutex/ });
  t.throws(() => rwm.rUnlock(), { message: /RUnlock of unlocked RWMutex/ });
  t.throws(() => rwm.downgradeLock(), { message: /DowngradeLock of unlocked RWMutex/ });
  rwm.tryRLock();
  t.throws(() => rwm.unlock(), { message: /Unlock of unlocked RWMutex/ }, 'unlock while only read-locked');
  rwm.rUnlock();
  rwm.tryLock();
  t.throws(() => rwm.rUnlock(), { message: /RUnlock of unlocked RWMutex/ }, 'rUnlock while write-locked');
});

type Op = 'r' | 'w' | 'd' | 'tr' | 'tw';

test('HammerDowngradableRWMutex: exclusion and no lost wakeups under random interleavings (fast-check scheduler)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(
        fc.array(fc.record({ op: fc.constantFrom<Op>('r', 'w', 'd', 'tr', 'tw'), hold: fc.nat(3) }), {
          minLength: 1,
          maxLength: 4,
        }),
        { minLength: 1, maxLength: 6 },
      ),
      async (s, tasks) => {
        const rwm = new RWMutex();
        // activity as in gVisor's test: +1 per reader, +10000 per writer.
        let activity = 0;
        let done = 0;
        const check = (): void => {
          if (activity >= 10000 ? activity !== 10000 : activity < 0) throw new Error(`activity ${activity}`);
        };
        const yieldNow = (): Promise<void> => s.schedule(Promise.resolve());
        const hold = async (n: number): Promise<void> => {
          for (let k = 0; k < n; k++) {
            await yieldNow();
            check();
          }
        };
        const run = async (ops: Array<{ op: Op; hold: number }>): Promise<void> => {
          for (const { op, hold: n } of ops) {
            await yieldNow();
            const read = op === 'r' || (op === 'tr' && rwm.tryRLock());
            const write = op === 'w' || op === 'd' || (op === 'tw' && rwm.tryLock());
            if (op === 'r') await rwm.rLock();
            if (op === 'w' || op === 'd') await rwm.lock();
            if (read) {
              activity += 1;
              check();
              await hold(n);
              activity -= 1;
              rwm.rUnlock();
            } else if (write) {
              activity += 10000;
              check();
              await hold(n);
              if (op === 'd') {
                activity += 1 - 10000;
                rwm.downgradeLock();
                check();
                await hold(n);
                activity -= 1;
                rwm.rUnlock();
              } else {
                activity -= 10000;
                rwm.unlock();
              }
            }
          }
          done++;
        };
        const errors: unknown[] = [];
        for (const ops of tasks) run(ops).catch((e: unknown) => errors.push(e));
        await s.waitIdle();
        // A lost wakeup leaves a task blocked forever: done falls short.
        if (errors.length > 0) throw errors[0];
        return done === tasks.length && activity === 0 && !rwm.isLocked() && !rwm.isRLocked();
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});
