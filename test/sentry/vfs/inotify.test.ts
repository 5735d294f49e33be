// inotify (gVisor's inotify.go, Linux's fs/notify/inotify): the event
// layout, masks, IN_ONESHOT, IN_MASK_ADD/IN_MASK_CREATE, IN_EXCL_UNLINK,
// IN_ONLYDIR, IN_DONT_FOLLOW, rename cookies, coalescing, IN_Q_OVERFLOW,
// IN_IGNORED, blocking reads.

import test from 'ava';
import * as context from '../../../pkg/context';
import { FIONREAD } from '../../../pkg/abi/linux/fcntl';
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_CLOEXEC, S_IFREG } from '../../../pkg/abi/linux/file';
import * as ino from '../../../pkg/abi/linux/inotify';
import { STATX_ATIME, STATX_GID, STATX_MODE, STATX_MTIME, STATX_SIZE, STATX_UID, newStatx } from '../../../pkg/abi/linux/stat';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';
import { newEnv, type Env } from './harness';

interface Ev { wd: number; mask: number; cookie: number; name: string }

async function setup(): Promise<{ e: Env; fd: vfs.FileDescription; i: vfs.Inotify }> {
  const e = await newEnv();
  await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/d'), { mode: 0o777 });
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/f'), { mode: S_IFREG | 0o666 });
  const fd = vfs.newInotifyFD(e.ctx, e.vfsObj, O_NONBLOCK);
  return { e, fd, i: fd.impl as vfs.Inotify };
}

async function watch(e: Env, fd: vfs.FileDescription, path: string, mask: number): Promise<number> {
  return vfs.addWatchAt(e.ctx, e.vfsObj, e.creds, fd, e.pop(path), mask);
}

async function drain(e: Env, fd: vfs.FileDescription): Promise<Ev[]> {
  const buf = Buffer.alloc(4096);
  try {
    const n = await fd.read(e.ctx, buf);
    return ino.parseInotifyEvents(buf.subarray(0, n));
  } catch (err) {
    if (err === syserror.EAGAIN) return [];
    throw err;
  }
}

test('inotify: struct inotify_event layout, name NUL-padded to 16 bytes', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const wd = await watch(e, fd, '/d', ino.IN_CREATE);
  t.is(wd, 1, 'watch descriptors start at 1');
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/abc'), { mode: S_IFREG | 0o644 });
  const buf = Buffer.alloc(64);
  const n = await fd.read(e.ctx, buf);
  t.is(n, 32);
  t.is(buf.readInt32LE(0), wd);
  t.is(buf.readUInt32LE(4), ino.IN_CREATE);
  t.is(buf.readUInt32LE(8), 0);
  t.is(buf.readUInt32LE(12), 16);
  t.deepEqual([...buf.subarray(16, 32)], [0x61, 0x62, 0x63, ...new Array<number>(13).fill(0)]);
});

test('inotify: read needs room for one event (EINVAL), returns whole events only', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  await watch(e, fd, '/d', ino.IN_CREATE);
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/a'), { mode: S_IFREG | 0o644 });
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/b'), { mode: S_IFREG | 0o644 });
  await t.throwsAsync(fd.read(e.ctx, Buffer.alloc(15)), { is: syserror.EINVAL });
  await t.throwsAsync(fd.read(e.ctx, Buffer.alloc(31)), { is: syserror.EINVAL });
  t.is(await fd.ioctl(e.ctx, FIONREAD, 0), 64);
  t.is(await fd.read(e.ctx, Buffer.alloc(40)), 32, 'one of two 32-byte events fits');
  t.is(await fd.read(e.ctx, Buffer.alloc(40)), 32);
  await t.throwsAsync(fd.read(e.ctx, Buffer.alloc(40)), { is: syserror.EAGAIN });
  await t.throwsAsync(fd.pread(e.ctx, Buffer.alloc(40), 0), { is: syserror.ESPIPE });
  await t.throwsAsync(fd.ioctl(e.ctx, 0x1234, 0), { is: syserror.ENOTTY });
});

test('inotify: open, modify, close-less sequence on a watched directory and file', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const dwd = await watch(e, fd, '/d', ino.IN_ALL_EVENTS);
  const fwd = await watch(e, fd, '/d/f', ino.IN_ALL_EVENTS);
  const f = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/d/f'), { flags: O_RDWR });
  await f.write(e.ctx, Buffer.from('x'));
  await f.write(e.ctx, Buffer.from('y'));
  f.decRef(e.ctx);
  t.deepEqual(await drain(e, fd), [
    { wd: dwd, mask: ino.IN_OPEN, cookie: 0, name: 'f' },
    { wd: fwd, mask: ino.IN_OPEN, cookie: 0, name: '' },
    { wd: dwd, mask: ino.IN_MODIFY, cookie: 0, name: 'f' },
    { wd: fwd, mask: ino.IN_MODIFY, cookie: 0, name: '' },
    // The second write's events alternate with the first's, so they are
    // not consecutive duplicates and are queued again.
    { wd: dwd, mask: ino.IN_MODIFY, cookie: 0, name: 'f' },
    { wd: fwd, mask: ino.IN_MODIFY, cookie: 0, name: '' },
  ]);
});

test('inotify: identical consecutive events are coalesced', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  await watch(e, fd, '/d/f', ino.IN_MODIFY);
  const f = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/d/f'), { flags: O_RDWR });
  for (let k = 0; k < 5; k++) await f.write(e.ctx, Buffer.from('x'));
  f.decRef(e.ctx);
  t.is((await drain(e, fd)).length, 1);
});

test('inotify: directory events carry IN_ISDIR', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const wd = await watch(e, fd, '/d', ino.IN_CREATE | ino.IN_DELETE);
  await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/d/sub'), { mode: 0o755 });
  await e.vfsObj.rmdirAt(e.ctx, e.creds, e.pop('/d/sub'));
  const evs = await drain(e, fd);
  t.deepEqual(evs.map((x) => [x.wd, x.mask, x.name]), [
    [wd, ino.IN_CREATE | ino.IN_ISDIR, 'sub'],
    [wd, ino.IN_DELETE, 'sub'],
  ]);
});

test('inotify: unlink: IN_ATTRIB and IN_DELETE_SELF then IN_IGNORED on the file, IN_DELETE on the dir', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const dwd = await watch(e, fd, '/d', ino.IN_ALL_EVENTS);
  const fwd = await watch(e, fd, '/d/f', ino.IN_ALL_EVENTS);
  await e.vfsObj.unlinkAt(e.ctx, e.creds, e.pop('/d/f'));
  t.deepEqual(await drain(e, fd), [
    { wd: fwd, mask: ino.IN_ATTRIB, cookie: 0, name: '' },
    { wd: dwd, mask: ino.IN_DELETE, cookie: 0, name: 'f' },
    { wd: fwd, mask: ino.IN_DELETE_SELF, cookie: 0, name: '' },
    { wd: fwd, mask: ino.IN_IGNORED, cookie: 0, name: '' },
  ]);
  t.false(i.watches.has(fwd));
  t.throws(() => i.rmWatch(e.ctx, fwd), { is: syserror.EINVAL });
});

test('inotify: rename: IN_MOVED_FROM/IN_MOVED_TO share a cookie, IN_MOVE_SELF has none', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/d2'), { mode: 0o777 });
  const dwd = await watch(e, fd, '/d', ino.IN_MOVE);
  const d2wd = await watch(e, fd, '/d2', ino.IN_MOVE);
  const fwd = await watch(e, fd, '/d/f', ino.IN_MOVE_SELF);
  await e.vfsObj.renameAt(e.ctx, e.creds, e.pop('/d/f'), e.pop('/d2/g'), {});
  const evs = await drain(e, fd);
  t.is(evs.length, 3);
  t.deepEqual([evs[0].wd, evs[0].mask, evs[0].name], [dwd, ino.IN_MOVED_FROM, 'f']);
  t.deepEqual([evs[1].wd, evs[1].mask, evs[1].name], [d2wd, ino.IN_MOVED_TO, 'g']);
  t.not(evs[0].cookie, 0);
  t.is(evs[0].cookie, evs[1].cookie);
  t.deepEqual(evs[2], { wd: fwd, mask: ino.IN_MOVE_SELF, cookie: 0, name: '' });
  // A second rename gets a different cookie.
  await e.vfsObj.renameAt(e.ctx, e.creds, e.pop('/d2/g'), e.pop('/d/f'), {});
  const evs2 = await drain(e, fd);
  t.not(evs2[0].cookie, evs[0].cookie);
});

test('inotify: IN_ONESHOT removes the watch after one event (IN_IGNORED follows)', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const wd = await watch(e, fd, '/d', ino.IN_CREATE | ino.IN_ONESHOT);
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/a'), { mode: S_IFREG | 0o644 });
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/b'), { mode: S_IFREG | 0o644 });
  t.deepEqual(await drain(e, fd), [
    { wd, mask: ino.IN_CREATE, cookie: 0, name: 'a' },
    { wd, mask: ino.IN_IGNORED, cookie: 0, name: '' },
  ]);
  t.is(i.watches.size, 0);
});

test('inotify: adding a watch twice returns the same wd; IN_MASK_ADD ORs, otherwise replaces; IN_MASK_CREATE is EEXIST', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const wd = await watch(e, fd, '/d', ino.IN_CREATE);
  t.is(await watch(e, fd, '/d', ino.IN_DELETE | ino.IN_MASK_ADD), wd);
  t.is(i.watches.get(wd)!.mask & ino.IN_ALL_EVENTS, ino.IN_CREATE | ino.IN_DELETE);
  t.is(await watch(e, fd, '/d', ino.IN_ATTRIB), wd);
  t.is(i.watches.get(wd)!.mask & ino.IN_ALL_EVENTS, ino.IN_ATTRIB);
  await t.throwsAsync(watch(e, fd, '/d', ino.IN_ATTRIB | ino.IN_MASK_CREATE), { is: syserror.EEXIST });
  await t.throwsAsync(watch(e, fd, '/d', ino.IN_ATTRIB | ino.IN_MASK_CREATE | ino.IN_MASK_ADD), { is: syserror.EINVAL });
  await t.throwsAsync(watch(e, fd, '/d', 0), { is: syserror.EINVAL });
  t.is(await watch(e, fd, '/d/f', ino.IN_ATTRIB), wd + 1);
});

test('inotify: IN_EXCL_UNLINK drops path events from unlinked children', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const other = vfs.newInotifyFD(e.ctx, e.vfsObj, O_NONBLOCK);
  t.teardown(() => other.decRef(e.ctx));
  const f = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/d/f'), { flags: O_RDWR });
  t.teardown(() => f.decRef(e.ctx));
  await watch(e, fd, '/d', ino.IN_MODIFY | ino.IN_EXCL_UNLINK);
  await vfs.addWatchAt(e.ctx, e.vfsObj, e.creds, other, e.pop('/d'), ino.IN_MODIFY);
  await e.vfsObj.unlinkAt(e.ctx, e.creds, e.pop('/d/f'));
  await f.write(e.ctx, Buffer.from('x'));
  t.deepEqual(await drain(e, fd), []);
  t.deepEqual((await drain(e, other)).map((x) => x.mask), [ino.IN_MODIFY]);
});

test('inotify: IN_ONLYDIR and IN_DONT_FOLLOW (inotify_add_watch(2))', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  await t.throwsAsync(watch(e, fd, '/d/f', ino.IN_ATTRIB | ino.IN_ONLYDIR), { is: syserror.ENOTDIR });
  t.is(await watch(e, fd, '/d', ino.IN_ATTRIB | ino.IN_ONLYDIR), 1);
  await e.vfsObj.symlinkAt(e.ctx, e.creds, e.pop('/link'), 'd');
  const wdLink = await watch(e, fd, '/link', ino.IN_ATTRIB | ino.IN_DONT_FOLLOW);
  t.not(wdLink, 1, 'IN_DONT_FOLLOW watches the symlink itself');
  t.is(await watch(e, fd, '/link', ino.IN_ATTRIB), 1, 'without it the target is watched');
  t.is(i.watches.get(wdLink)!.target.impl.constructor.name, 'tdentry');
});

test('inotify: inotify_add_watch needs read permission (EACCES)', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/secret'), { mode: S_IFREG | 0o600 });
  const user = e.as(1000, 1000);
  await t.throwsAsync(vfs.addWatchAt(user.ctx, e.vfsObj, user.creds, fd, e.pop('/secret'), ino.IN_ATTRIB), { is: syserror.EACCES });
});

test('inotify: rmWatch queues IN_IGNORED and empties the target\'s watch set', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const wd = await watch(e, fd, '/d', ino.IN_CREATE);
  const target = i.watches.get(wd)!.target;
  i.rmWatch(e.ctx, wd);
  t.is(target.watches()!.size(), 0);
  t.deepEqual(await drain(e, fd), [{ wd, mask: ino.IN_IGNORED, cookie: 0, name: '' }]);
  t.throws(() => i.rmWatch(e.ctx, wd), { is: syserror.EINVAL });
});

test('inotify: past max_queued_events one IN_Q_OVERFLOW (wd -1) is queued and the rest dropped', async (t) => {
  const { e, fd, i } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  i.maxQueuedEvents = 3;
  const wd = await watch(e, fd, '/d', ino.IN_CREATE);
  for (const n of ['a', 'b', 'c', 'd', 'e']) await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop(`/d/${n}`), { mode: S_IFREG | 0o644 });
  t.is(i.pendingEvents(), 4);
  t.deepEqual(await drain(e, fd), [
    { wd, mask: ino.IN_CREATE, cookie: 0, name: 'a' },
    { wd, mask: ino.IN_CREATE, cookie: 0, name: 'b' },
    { wd, mask: ino.IN_CREATE, cookie: 0, name: 'c' },
    { wd: -1, mask: ino.IN_Q_OVERFLOW, cookie: 0, name: '' },
  ]);
  // After the queue drains, events flow again.
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/f2'), { mode: S_IFREG | 0o644 });
  t.deepEqual((await drain(e, fd)).map((x) => x.name), ['f2']);
});

test('inotify: a blocking read waits for an event; an interrupted one is EINTR', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const blocking = vfs.newInotifyFD(e.ctx, e.vfsObj, 0);
  t.teardown(() => blocking.decRef(e.ctx));
  await vfs.addWatchAt(e.ctx, e.vfsObj, e.creds, blocking, e.pop('/d'), ino.IN_CREATE);
  const buf = Buffer.alloc(64);
  let settled = false;
  const p = blocking.read(e.ctx, buf).then((n) => {
    settled = true;
    return n;
  });
  await new Promise((r) => setImmediate(r));
  t.false(settled, 'read is still waiting');
  t.is(blocking.readiness(1), 0);
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/d/x'), { mode: S_IFREG | 0o644 });
  t.is(await p, 32);
  t.deepEqual(ino.parseInotifyEvents(buf.subarray(0, 32)).map((x) => x.name), ['x']);

  const ac = new AbortController();
  const ictx = context.withSignal(e.ctx, ac.signal);
  const p2 = blocking.read(ictx, buf);
  ac.abort();
  await t.throwsAsync(p2, { is: syserror.EINTR });
});

test('inotify: inotify_init1 flags: O_CLOEXEC ignored, others EINVAL; write is EBADF', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const f2 = vfs.newInotifyFD(e.ctx, e.vfsObj, O_CLOEXEC | O_NONBLOCK);
  t.is(f2.statusFlags() & O_NONBLOCK, O_NONBLOCK);
  f2.decRef(e.ctx);
  t.throws(() => vfs.newInotifyFD(e.ctx, e.vfsObj, O_RDWR), { is: syserror.EINVAL });
  await t.throwsAsync(fd.write(e.ctx, Buffer.from('x')), { is: syserror.EBADF });
  // The inotify fd's metadata comes from anonfs.
  const st = await fd.stat(e.ctx, {});
  t.is(st.mode, 0o600);
  t.is(await e.vfsObj.pathnameWithDeleted(e.ctx, e.root, fd.virtualDentry()), 'anon_inode:[inotifyfd:' + (fd.impl as vfs.Inotify).id + ']');
});

test('inotify: closing the instance removes its watches from their targets', async (t) => {
  const { e, fd, i } = await setup();
  const wd = await watch(e, fd, '/d', ino.IN_CREATE);
  const target = i.watches.get(wd)!.target;
  t.is(target.watches()!.size(), 1);
  fd.decRef(e.ctx);
  t.is(target.watches()!.size(), 0);
  e.teardown();
});

test('inotify: inotifyEventFromStatMask (chmod, chown, truncate, utimes, atime, mtime)', (t) => {
  const table: Array<[number, number]> = [
    [STATX_MODE, ino.IN_ATTRIB],
    [STATX_UID | STATX_GID, ino.IN_ATTRIB],
    [STATX_SIZE, ino.IN_MODIFY],
    [STATX_ATIME | STATX_MTIME, ino.IN_ATTRIB],
    [STATX_ATIME, ino.IN_ACCESS],
    [STATX_MTIME, ino.IN_MODIFY],
    [0, 0],
  ];
  for (const [mask, want] of table) t.is(vfs.inotifyEventFromStatMask(mask), want, `mask ${mask}`);
});

test('inotify: setStat events reach parent and file (IN_ATTRIB on chmod)', async (t) => {
  const { e, fd } = await setup();
  t.teardown(() => { fd.decRef(e.ctx); e.teardown(); });
  const dwd = await watch(e, fd, '/d', ino.IN_ATTRIB);
  const stat = newStatx();
  stat.mask = STATX_MODE;
  stat.mode = 0o600;
  await e.vfsObj.setStatAt(e.ctx, e.creds, e.pop('/d/f'), { stat });
  t.deepEqual(await drain(e, fd), [{ wd: dwd, mask: ino.IN_ATTRIB, cookie: 0, name: 'f' }]);
  const r = await e.vfsObj.openAt(e.ctx, e.creds, e.pop('/d/f'), { flags: O_RDONLY });
  r.decRef(e.ctx);
});
