// File locks through FileDescription (gVisor's lock.go over
// pkg/sentry/fs/lock): flock(2) and fcntl(2) record locks.

import test from 'ava';
import { O_RDWR, SEEK_CUR, SEEK_END, SEEK_SET, S_IFREG } from '../../../pkg/abi/linux/file';
import * as fslock from '../../../pkg/sentry/fs/lock';
import * as syserror from '../../../pkg/syserror/syserror';
import { newEnv } from './harness';

test('lock: flock is per open file description; LOCK_NB conflicts are EWOULDBLOCK; blocking waits', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/f'), { mode: S_IFREG | 0o644 });
  const a = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/f'), { flags: O_RDWR });
  const b = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/f'), { flags: O_RDWR });
  await a.lockBSD(e.ctx, fslock.WriteLock, false);
  await t.throwsAsync(b.lockBSD(e.ctx, fslock.ReadLock, false), { is: syserror.ErrWouldBlock });
  let got = false;
  const p = b.lockBSD(e.ctx, fslock.ReadLock, true).then(() => (got = true));
  await new Promise((r) => setImmediate(r));
  t.false(got);
  // Closing a releases its flock (FileDescription.decRef => unlockBSD).
  a.decRef(e.ctx);
  await p;
  t.true(got);
  b.decRef(e.ctx);
});

test('lock: POSIX record locks by owner; whence SEEK_SET/SEEK_CUR/SEEK_END ranges', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/f'), { mode: S_IFREG | 0o644 });
  const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/f'), { flags: O_RDWR });
  t.teardown(() => fd.decRef(e.ctx));
  await fd.write(e.ctx, Buffer.alloc(100));
  const owner1 = { pid: 1 };
  const owner2 = { pid: 2 };
  await fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, 0, 10, SEEK_SET, false);
  // Different owner, overlapping range: EAGAIN; disjoint: fine.
  await t.throwsAsync(fd.lockPOSIX(e.ctx, owner2, fslock.ReadLock, 5, 1, SEEK_SET, false), { is: syserror.EAGAIN });
  await fd.lockPOSIX(e.ctx, owner2, fslock.WriteLock, 10, 10, SEEK_SET, false);
  // SEEK_CUR is relative to the offset (100 after the write), SEEK_END to the size.
  await t.throwsAsync(fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, -90, 1, SEEK_CUR, false), { is: syserror.EAGAIN });
  await t.throwsAsync(fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, -85, 1, SEEK_END, false), { is: syserror.EAGAIN });
  await t.throwsAsync(fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, -101, 1, SEEK_END, false), { is: syserror.EINVAL });
  await t.throwsAsync(fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, 0, 1, 7, false), { is: syserror.EINVAL });
  await fd.unlockPOSIX(e.ctx, owner2, 0, 0, SEEK_SET);
  await fd.lockPOSIX(e.ctx, owner1, fslock.WriteLock, 0, 0, SEEK_SET, false);
});

test('lock: a blocking POSIX lock that would deadlock is EDEADLK', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/f'), { mode: S_IFREG | 0o644 });
  const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/f'), { flags: O_RDWR });
  t.teardown(() => fd.decRef(e.ctx));
  const o1 = { pid: 1 };
  const o2 = { pid: 2 };
  await fd.lockPOSIX(e.ctx, o1, fslock.WriteLock, 0, 1, SEEK_SET, false);
  await fd.lockPOSIX(e.ctx, o2, fslock.WriteLock, 1, 1, SEEK_SET, false);
  const waiting = fd.lockPOSIX(e.ctx, o1, fslock.WriteLock, 1, 1, SEEK_SET, true);
  await new Promise((r) => setImmediate(r));
  await t.throwsAsync(fd.lockPOSIX(e.ctx, o2, fslock.WriteLock, 0, 1, SEEK_SET, true), { is: syserror.EDEADLK });
  await fd.unlockPOSIX(e.ctx, o2, 0, 0, SEEK_SET);
  await waiting;
  t.pass();
});
