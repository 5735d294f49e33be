// Mirrors gVisor's pkg/sentry/fs/lock/lock_test.go (TestCanLockEmpty,
// TestCanLock, TestSetLock, TestUnlock: table-driven range arithmetic on a
// LockSet), then the async parts this port adds: blocking lockRegion woken on
// unlock, interruption (EINTR), EDEADLK as Linux, testRegion (F_GETLK).
import test from 'ava';
import * as context from '../../../../pkg/context/context';
import * as syserror from '../../../../pkg/syserror/syserror';
import {
  Lock,
  LockEOF,
  LockRange,
  LockSet,
  Locks,
  ReadLock,
  WriteLock,
  type Blocker,
  type LockType,
  type UniqueID,
} from '../../../../pkg/sentry/fs/lock/lock';

interface entry {
  readers?: number[];
  writer?: number;
  range: [number, number];
}

function mkLock(e: entry): Lock {
  return new Lock(new Set<UniqueID>(e.readers ?? []), e.writer ?? null);
}

// fill a LockSet with consecutive region locks (through insert, which merges
// as gVisor's Insert does). Throws if a range is not in a gap.
function fill(entries: entry[]): LockSet {
  const l = new LockSet();
  for (const e of entries) {
    const r = new LockRange(e.range[0], e.range[1]);
    const i = l.lowerBound(r.start);
    if (!l.gapBefore(i).isSupersetOf(r)) throw new Error('cannot insert into existing segment');
    l.insert(i, r, mkLock(e));
  }
  return l;
}

function dump(l: LockSet): entry[] {
  return l.segs.map((s) => {
    const e: entry = { range: [s.range.start, s.range.end] };
    if (s.value.readers.size > 0) e.readers = [...s.value.readers].map(Number).sort((a, b) => a - b);
    if (s.value.writer !== null) e.writer = Number(s.value.writer);
    return e;
  });
}

function norm(es: entry[]): entry[] {
  return es.map((e) => {
    const n: entry = { range: e.range };
    if (e.readers !== undefined && e.readers.length > 0) n.readers = [...e.readers].sort((a, b) => a - b);
    if (e.writer !== undefined) n.writer = e.writer;
    return n;
  });
}

const R = (s: number, e: number): LockRange => new LockRange(s, e);

test('TestCanLockEmpty: any lock can be taken on an empty set', (t) => {
  const l = new LockSet();
  const r = R(0, l.gapBefore(0).end);
  t.true(l.canLock(1, ReadLock, r));
  t.true(l.canLock(2, ReadLock, r));
  t.true(l.canLock(1, WriteLock, r));
  t.true(l.canLock(2, WriteLock, r));
});

test('TestCanLock', (t) => {
  // + -------------- + ---------- + -------------- + --------- +
  // | Readers 1 & 2  | Readers 1  | Readers 1 & 3  | Writer 1  |
  // + -------------  + ---------- + -------------- + --------- +
  // 0             1024         2048             3072        4096
  const l = fill([
    { readers: [1, 2], range: [0, 1024] },
    { readers: [1], range: [1024, 2048] },
    { readers: [1, 3], range: [2048, 3072] },
    { writer: 1, range: [3072, 4096] },
  ]);
  const checks: Array<[number, LockType, [number, number], boolean, string]> = [
    [1, ReadLock, [0, 8192], true, 'extend the read lock despite the writer lock, same uid'],
    [2, ReadLock, [0, 8192], false, 'overlapping writer region locked by someone else'],
    [2, ReadLock, [64, 3072], true, 'only other readers in the way'],
    [2, ReadLock, [4096, 10240], true, 'beyond the range of any existing locks'],
    [1, WriteLock, [0, 8192], false, 'other readers in the way'],
    [1, WriteLock, [3072, 8192], true, 'extend the write lock for the same uid'],
    [2, WriteLock, [3072, 8192], false, 'overlap a write lock for two different uids'],
    [2, WriteLock, [8192, 10240], true, 'write lock beyond the range of any existing locks'],
    [1, WriteLock, [1024, 2048], true, 'upgrade a read lock'],
    [1, WriteLock, [1080, 2000], true, 'upgrade any portion of a read lock'],
  ];
  for (const [uid, type, [s, e], want, why] of checks) {
    t.is(l.canLock(uid, type, R(s, e)), want, `canLock(${uid}, ${type}, [${s}, ${e})): ${why}`);
  }
});

interface setCase {
  name: string;
  before?: entry[];
  start: number;
  end: number;
  uid: number;
  lockType: LockType;
  success: boolean;
  after?: entry[];
}

const setCases: setCase[] = [
  { name: 'set zero length ReadLock on empty set', start: 0, end: 0, uid: 0, lockType: ReadLock, success: true },
  { name: 'set zero length WriteLock on empty set', start: 0, end: 0, uid: 0, lockType: WriteLock, success: true },
  {
    name: 'set ReadLock on empty set', start: 0, end: LockEOF, uid: 0, lockType: ReadLock, success: true,
    after: [{ readers: [0], range: [0, LockEOF] }],
  },
  {
    name: 'set WriteLock on empty set', start: 0, end: LockEOF, uid: 0, lockType: WriteLock, success: true,
    after: [{ writer: 0, range: [0, LockEOF] }],
  },
  {
    name: 'set ReadLock on WriteLock same uid',
    before: [{ writer: 0, range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 0, lockType: ReadLock, success: true,
    after: [{ readers: [0], range: [0, 4096] }, { writer: 0, range: [4096, LockEOF] }],
  },
  {
    name: 'set WriteLock on ReadLock same uid',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 0, lockType: WriteLock, success: true,
    after: [{ writer: 0, range: [0, 4096] }, { readers: [0], range: [4096, LockEOF] }],
  },
  {
    name: 'set ReadLock on WriteLock different uid',
    before: [{ writer: 0, range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 1, lockType: ReadLock, success: false,
  },
  {
    name: 'set WriteLock on ReadLock different uid',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 1, lockType: WriteLock, success: false,
  },
  {
    name: 'split ReadLock for overlapping lock at start 0',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 1, lockType: ReadLock, success: true,
    after: [{ readers: [0, 1], range: [0, 4096] }, { readers: [0], range: [4096, LockEOF] }],
  },
  {
    name: 'split ReadLock for overlapping lock at non-zero start',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 4096, end: 8192, uid: 1, lockType: ReadLock, success: true,
    after: [
      { readers: [0], range: [0, 4096] },
      { readers: [0, 1], range: [4096, 8192] },
      { readers: [0], range: [8192, LockEOF] },
    ],
  },
  {
    name: 'fill front gap with ReadLock',
    before: [{ readers: [0], range: [1024, LockEOF] }],
    start: 0, end: 8192, uid: 0, lockType: ReadLock, success: true,
    after: [{ readers: [0], range: [0, LockEOF] }],
  },
  {
    // Not merged after lock does a split. This is fine because the two locks
    // will still *behave* as one.
    name: 'fill end gap with ReadLock',
    before: [{ readers: [0], range: [0, 4096] }],
    start: 1024, end: LockEOF, uid: 0, lockType: ReadLock, success: true,
    after: [{ readers: [0], range: [0, 1024] }, { readers: [0], range: [1024, LockEOF] }],
  },
  {
    name: 'fill gap with ReadLock and split',
    before: [{ readers: [0], range: [1024, LockEOF] }],
    start: 0, end: 4096, uid: 1, lockType: ReadLock, success: true,
    after: [
      { readers: [1], range: [0, 1024] },
      { readers: [0, 1], range: [1024, 4096] },
      { readers: [0], range: [4096, LockEOF] },
    ],
  },
  {
    name: 'upgrade ReadLock to WriteLock for single uid fill gap',
    before: [
      { readers: [0, 1], range: [0, 1024] },
      { readers: [0], range: [1024, 2048] },
      { readers: [0, 2], range: [4096, LockEOF] },
    ],
    start: 1024, end: 4096, uid: 0, lockType: WriteLock, success: true,
    after: [
      { readers: [0, 1], range: [0, 1024] },
      { writer: 0, range: [1024, 4096] },
      { readers: [0, 2], range: [4096, LockEOF] },
    ],
  },
  {
    name: 'upgrade ReadLock to WriteLock for single uid keep gap',
    before: [
      { readers: [0, 1], range: [0, 1024] },
      { readers: [0], range: [1024, 2048] },
      { readers: [0, 2], range: [4096, LockEOF] },
    ],
    start: 1024, end: 3072, uid: 0, lockType: WriteLock, success: true,
    after: [
      { readers: [0, 1], range: [0, 1024] },
      { writer: 0, range: [1024, 3072] },
      { readers: [0, 2], range: [4096, LockEOF] },
    ],
  },
  {
    name: 'fail to upgrade ReadLock to WriteLock with conflicting Reader',
    before: [
      { readers: [0, 1], range: [0, 1024] },
      { readers: [0], range: [1024, 2048] },
    ],
    start: 0, end: 2048, uid: 0, lockType: WriteLock, success: false,
  },
  {
    // We do not manually merge locks. Semantically a fragmented lock held by
    // the same uid will behave as one lock so it makes no difference.
    name: 'take WriteLock on whole file if all uids are the same',
    before: [
      { writer: 0, range: [0, 1024] },
      { readers: [0], range: [1024, 2048] },
      { readers: [0], range: [2048, 4096] },
      { readers: [0], range: [4096, LockEOF] },
    ],
    start: 0, end: LockEOF, uid: 0, lockType: WriteLock, success: true,
    after: [{ writer: 0, range: [0, 1024] }, { writer: 0, range: [1024, LockEOF] }],
  },
  {
    // Not in gVisor's table: gVisor's lock skips the gap after a segment
    // that Insert merged with its successor, leaving [2, 3) unlocked.
    name: 'fill a gap that merges with the next segment, then the gap after it',
    before: [{ writer: 1, range: [1, 2] }],
    start: 0, end: 3, uid: 1, lockType: WriteLock, success: true,
    after: [{ writer: 1, range: [0, 3] }],
  },
  {
    name: 'fill several gaps around same-owner segments',
    before: [{ readers: [1], range: [2, 4] }, { readers: [1, 2], range: [6, 8] }],
    start: 0, end: 10, uid: 1, lockType: ReadLock, success: true,
    after: [{ readers: [1], range: [0, 6] }, { readers: [1, 2], range: [6, 8] }, { readers: [1], range: [8, 10] }],
  },
];

for (const c of setCases) {
  test(`TestSetLock: ${c.name}`, (t) => {
    const l = fill(c.before ?? []);
    const before = dump(l);
    const success = l.lock(c.uid, c.lockType, R(c.start, c.end));
    t.is(success, c.success);
    if (success) t.deepEqual(dump(l), norm(c.after ?? []));
    else t.deepEqual(dump(l), before, 'a failed lock changes nothing');
  });
}

interface unlockCase {
  name: string;
  before?: entry[];
  start: number;
  end: number;
  uid: number;
  after?: entry[];
}

const unlockCases: unlockCase[] = [
  { name: 'unlock zero length on empty set', start: 0, end: 0, uid: 0 },
  { name: 'unlock on empty set (no-op)', start: 0, end: LockEOF, uid: 0 },
  {
    name: 'unlock uid not locked (no-op)',
    before: [{ readers: [1, 2], range: [0, LockEOF] }],
    start: 1024, end: 4096, uid: 0,
    after: [{ readers: [1, 2], range: [0, LockEOF] }],
  },
  { name: 'unlock ReadLock over entire file', before: [{ readers: [0], range: [0, LockEOF] }], start: 0, end: LockEOF, uid: 0 },
  { name: 'unlock WriteLock over entire file', before: [{ writer: 0, range: [0, LockEOF] }], start: 0, end: LockEOF, uid: 0 },
  {
    name: 'unlock partial ReadLock (start)',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 0,
    after: [{ readers: [0], range: [4096, LockEOF] }],
  },
  {
    name: 'unlock partial WriteLock (start)',
    before: [{ writer: 0, range: [0, LockEOF] }],
    start: 0, end: 4096, uid: 0,
    after: [{ writer: 0, range: [4096, LockEOF] }],
  },
  {
    name: 'unlock partial ReadLock (end)',
    before: [{ readers: [0], range: [0, LockEOF] }],
    start: 4096, end: LockEOF, uid: 0,
    after: [{ readers: [0], range: [0, 4096] }],
  },
  {
    name: 'unlock partial WriteLock (end)',
    before: [{ writer: 0, range: [0, LockEOF] }],
    start: 4096, end: LockEOF, uid: 0,
    after: [{ writer: 0, range: [0, 4096] }],
  },
  {
    name: 'unlock for single uid',
    before: [
      { readers: [0, 1], range: [0, 1024] },
      { writer: 0, range: [1024, 4096] },
      { readers: [0, 1, 2], range: [4096, LockEOF] },
    ],
    start: 0, end: LockEOF, uid: 0,
    after: [{ readers: [1], range: [0, 1024] }, { readers: [1, 2], range: [4096, LockEOF] }],
  },
  {
    name: 'unlock subsection locked',
    before: [{ readers: [0, 1, 2], range: [0, LockEOF] }],
    start: 1024, end: 4096, uid: 0,
    after: [
      { readers: [0, 1, 2], range: [0, 1024] },
      { readers: [1, 2], range: [1024, 4096] },
      { readers: [0, 1, 2], range: [4096, LockEOF] },
    ],
  },
  {
    name: 'unlock mid-gap to increase gap',
    before: [{ writer: 0, range: [0, 1024] }, { readers: [0, 1], range: [4096, LockEOF] }],
    start: 8, end: 2048, uid: 0,
    after: [{ writer: 0, range: [0, 8] }, { readers: [0, 1], range: [4096, LockEOF] }],
  },
  {
    name: 'unlock split region on uid mid-gap',
    before: [{ writer: 0, range: [0, 1024] }, { readers: [0, 1], range: [4096, LockEOF] }],
    start: 2048, end: 8192, uid: 0,
    after: [
      { writer: 0, range: [0, 1024] },
      { readers: [1], range: [4096, 8192] },
      { readers: [0, 1], range: [8192, LockEOF] },
    ],
  },
];

for (const c of unlockCases) {
  test(`TestUnlock: ${c.name}`, (t) => {
    const l = fill(c.before ?? []);
    l.unlock(c.uid, R(c.start, c.end));
    t.deepEqual(dump(l), norm(c.after ?? []));
  });
}

test('split segments do not share reader sets (lockSetFunctions.split copies)', (t) => {
  const l = fill([{ readers: [0], range: [0, 100] }]);
  t.true(l.lock(1, ReadLock, R(10, 20)));
  t.deepEqual(dump(l), norm([
    { readers: [0], range: [0, 10] },
    { readers: [0, 1], range: [10, 20] },
    { readers: [0], range: [20, 100] },
  ]));
});

// ---- Locks: blocking, interruption, EDEADLK, testRegion ----

const bg = context.background();
const EOF = R(0, LockEOF);

test('lockRegion without blocking: EAGAIN on conflict (gVisor ErrWouldBlock), nothing changes', async (t) => {
  const l = new Locks();
  await l.lockRegion(bg, 'a', WriteLock, EOF, false);
  await t.throwsAsync(l.lockRegion(bg, 'b', ReadLock, R(5, 6), false), { is: syserror.EAGAIN });
  t.false(l.tryLockRegion('b', WriteLock, EOF));
  t.true(l.tryLockRegion('a', ReadLock, EOF), 'the holder may downgrade');
  t.true(l.tryLockRegion('b', ReadLock, EOF), 'readers share');
});

test('lockRegion blocks until the conflicting lock is unlocked, then holds it', async (t) => {
  const l = new Locks();
  await l.lockRegion(bg, 'a', WriteLock, R(0, 100), false);
  let granted = false;
  const p = l.lockRegion(bg, 'b', WriteLock, R(50, 150), true).then(() => (granted = true));
  await new Promise((r) => setImmediate(r));
  t.false(granted);
  t.is(l.waiters(), 1);
  l.unlockRegion('a', R(0, 40));
  await new Promise((r) => setImmediate(r));
  t.false(granted, 'unlocking a part that does not conflict keeps it waiting');
  l.unlockRegion('a', R(40, 100));
  await p;
  t.true(granted);
  t.is(l.waiters(), 0);
  t.false(l.tryLockRegion('a', ReadLock, R(60, 61)));
});

test('a downgrade (write → read by the holder) wakes blocked readers', async (t) => {
  const l = new Locks();
  l.tryLockRegion('a', WriteLock, EOF);
  const p = l.lockRegion(bg, 'b', ReadLock, R(0, 10), true);
  await new Promise((r) => setImmediate(r));
  t.true(l.tryLockRegion('a', ReadLock, EOF));
  await p;
  t.pass();
});

test('several waiters: each eventually gets the lock (no lost wakeups)', async (t) => {
  const l = new Locks();
  l.tryLockRegion('holder', WriteLock, EOF);
  const order: string[] = [];
  const ps = ['w1', 'w2', 'w3'].map((w) =>
    l.lockRegion(bg, w, WriteLock, R(0, 1), true).then(() => {
      order.push(w);
      l.unlockRegion(w, EOF);
    }),
  );
  await new Promise((r) => setImmediate(r));
  l.unlockRegion('holder', EOF);
  await Promise.all(ps);
  t.deepEqual([...order].sort(), ['w1', 'w2', 'w3']);
  t.is(l.waiters(), 0);
});

test('interrupted by ctx\'s AbortSignal: EINTR, and the waiter is withdrawn', async (t) => {
  const l = new Locks({ posix: true });
  l.tryLockRegion('a', WriteLock, EOF);
  const ac = new AbortController();
  const ctx = context.withSignal(bg, ac.signal);
  const p = l.lockRegion(ctx, 'b', WriteLock, EOF, true);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await t.throwsAsync(p, { is: syserror.EINTR });
  t.is(l.waiters(), 0);
  // b's blocked request is gone from the wait-for graph: a waiting for b's
  // (nonexistent) locks does not deadlock.
  l.tryLockRegion('b', WriteLock, R(100, 101));
  l.unlockRegion('a', EOF);
  t.true(l.tryLockRegion('a', WriteLock, R(0, 1)));
});

test('a Blocker decides how to wait; its rejection is returned', async (t) => {
  const l = new Locks();
  l.tryLockRegion('a', WriteLock, EOF);
  let calls = 0;
  const blocker: Blocker = {
    block: (wake) => {
      calls++;
      return calls === 1 ? wake : Promise.reject(syserror.EINTR);
    },
  };
  const p = l.lockRegion(bg, 'b', WriteLock, EOF, blocker);
  await new Promise((r) => setImmediate(r));
  l.tryLockRegion('a', ReadLock, R(0, 1)); // a change that still conflicts: b retries, blocks again
  await t.throwsAsync(p, { is: syserror.EINTR });
  t.is(calls, 2);
});

test('EDEADLK: A holds 0, B holds 1, A waits for 1, B asking for 0 deadlocks (Linux posix_locks_deadlock)', async (t) => {
  const l = new Locks({ posix: true });
  l.tryLockRegion('A', WriteLock, R(0, 1));
  l.tryLockRegion('B', WriteLock, R(1, 2));
  const pa = l.lockRegion(bg, 'A', WriteLock, R(1, 2), true);
  await new Promise((r) => setImmediate(r));
  await t.throwsAsync(l.lockRegion(bg, 'B', WriteLock, R(0, 1), true), { is: syserror.EDEADLK });
  // Non-blocking requests never report EDEADLK.
  await t.throwsAsync(l.lockRegion(bg, 'B', WriteLock, R(0, 1), false), { is: syserror.EAGAIN });
  l.unlockRegion('B', EOF);
  await pa;
  t.false(l.tryLockRegion('B', ReadLock, R(1, 2)));
});

test('EDEADLK across files and through a chain of three owners', async (t) => {
  const f1 = new Locks({ posix: true });
  const f2 = new Locks({ posix: true });
  const f3 = new Locks({ posix: true });
  f1.tryLockRegion('A', WriteLock, EOF);
  f2.tryLockRegion('B', WriteLock, EOF);
  f3.tryLockRegion('C', ReadLock, EOF);
  const pa = f2.lockRegion(bg, 'A', ReadLock, EOF, true); // A waits for B
  const pb = f3.lockRegion(bg, 'B', WriteLock, EOF, true); // B waits for C
  await new Promise((r) => setImmediate(r));
  await t.throwsAsync(f1.lockRegion(bg, 'C', WriteLock, R(0, 1), true), { is: syserror.EDEADLK }); // C → A closes the cycle
  // A request that does not close a cycle just waits.
  let dGranted = false;
  const pd = f1.lockRegion(bg, 'D', ReadLock, R(0, 1), true).then(() => (dGranted = true));
  await new Promise((r) => setImmediate(r));
  t.false(dGranted);
  f3.unlockRegion('C', EOF);
  await pb;
  f2.unlockRegion('B', EOF);
  await pa;
  f1.unlockRegion('A', EOF);
  await pd;
  t.true(dGranted);
});

test('flock (BSD) Locks never report EDEADLK', async (t) => {
  const l1 = new Locks();
  const l2 = new Locks();
  l1.tryLockRegion('A', WriteLock, EOF);
  l2.tryLockRegion('B', WriteLock, EOF);
  const ac = new AbortController();
  const ctx = context.withSignal(bg, ac.signal);
  const pa = l2.lockRegion(ctx, 'A', WriteLock, EOF, true);
  const pb = l1.lockRegion(ctx, 'B', WriteLock, EOF, true);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await t.throwsAsync(pa, { is: syserror.EINTR });
  await t.throwsAsync(pb, { is: syserror.EINTR });
});

test('testRegion (F_GETLK): the conflicting lock with its owner and whole extent, or null', (t) => {
  const l = new Locks({ posix: true });
  l.tryLockRegion('a', ReadLock, R(0, 100));
  l.tryLockRegion('a', ReadLock, R(100, 200)); // stored fragmented or merged, reported whole
  l.tryLockRegion('b', ReadLock, R(150, 300));
  l.tryLockRegion('c', WriteLock, R(400, 500));
  t.is(l.testRegion('x', ReadLock, R(0, 400)), null, 'readers do not conflict with a reader');
  const c1 = l.testRegion('x', WriteLock, R(50, 60));
  t.deepEqual(c1 && { type: c1.type, range: [c1.range.start, c1.range.end], uid: c1.uid }, { type: ReadLock, range: [0, 200], uid: 'a' });
  const c2 = l.testRegion('a', WriteLock, R(0, 1000));
  t.deepEqual(c2 && { type: c2.type, range: [c2.range.start, c2.range.end], uid: c2.uid }, { type: ReadLock, range: [150, 300], uid: 'b' }, 'own locks never conflict');
  const c3 = l.testRegion('b', ReadLock, R(0, LockEOF));
  t.deepEqual(c3 && { type: c3.type, range: [c3.range.start, c3.range.end], uid: c3.uid }, { type: WriteLock, range: [400, 500], uid: 'c' });
  t.is(l.testRegion('c', WriteLock, R(400, 500)), null);
  t.is(l.testRegion('x', WriteLock, R(10, 10)), null, 'empty range');
});

test('misuse: a null owner is a programming error', (t) => {
  const l = new Locks();
  t.throws(() => l.tryLockRegion(null, ReadLock, EOF), { message: /UniqueID/ });
  t.throws(() => new LockSet().lock(1, ReadLock, R(5, 4)), { message: /r.start 5 > r.end 4/ });
});

// ---- LockSet against a byte-by-byte model (fast-check) ----

import fc from 'fast-check';

interface byteState {
  writer: number | null;
  readers: Set<number>;
}

test('LockSet.lock/unlock/test agree with a per-byte model of POSIX locks (fast-check)', (t) => {
  const N = 24;
  const op = fc.record({
    kind: fc.constantFrom('lock', 'unlock', 'test'),
    uid: fc.integer({ min: 0, max: 2 }),
    type: fc.constantFrom<LockType>(ReadLock, WriteLock),
    a: fc.integer({ min: 0, max: N }),
    b: fc.integer({ min: 0, max: N }),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const l = new LockSet();
      const model: byteState[] = Array.from({ length: N }, () => ({ writer: null, readers: new Set<number>() }));
      const can = (uid: number, type: LockType, s: number, e: number): boolean => {
        for (let x = s; x < e; x++) {
          const b = model[x]!;
          if (type === ReadLock && b.writer !== null && b.writer !== uid) return false;
          if (type === WriteLock) {
            if (b.writer !== null && b.writer !== uid) return false;
            for (const r of b.readers) if (r !== uid) return false;
          }
        }
        return true;
      };
      for (const o of ops) {
        const s = Math.min(o.a, o.b);
        const e = Math.max(o.a, o.b);
        const r = R(s, e);
        if (o.kind === 'lock') {
          const want = can(o.uid, o.type, s, e);
          if (l.lock(o.uid, o.type, r) !== want) return false;
          if (want) {
            for (let x = s; x < e; x++) {
              const b = model[x]!;
              if (o.type === ReadLock) {
                b.writer = null;
                b.readers.add(o.uid);
              } else {
                b.readers.clear();
                b.writer = o.uid;
              }
            }
          }
        } else if (o.kind === 'unlock') {
          l.unlock(o.uid, r);
          for (let x = s; x < e; x++) {
            const b = model[x]!;
            if (b.writer === o.uid) b.writer = null;
            b.readers.delete(o.uid);
          }
        } else {
          const c = l.test(o.uid, o.type, r);
          if ((c === null) !== can(o.uid, o.type, s, e)) return false;
          if (c !== null && (c.uid === o.uid || !c.range.overlaps(r))) return false;
        }
        // Compare the whole state byte by byte; segments are non-empty,
        // sorted, disjoint, and never hold an empty lock.
        let prevEnd = 0;
        for (const seg of l.segs) {
          if (seg.range.start < prevEnd || seg.range.length() <= 0) return false;
          if (seg.value.writer === null && seg.value.readers.size === 0) return false;
          if (seg.value.writer !== null && seg.value.readers.size > 0) return false;
          prevEnd = seg.range.end;
        }
        for (let x = 0; x < N; x++) {
          const i = l.lowerBound(x);
          const seg = i < l.segs.length && l.segs[i]!.range.start <= x ? l.segs[i] : undefined;
          const b = model[x]!;
          const w = seg?.value.writer ?? null;
          const rs = seg ? [...seg.value.readers].sort() : [];
          if (w !== b.writer) return false;
          if (rs.join() !== [...b.readers].sort().join()) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
