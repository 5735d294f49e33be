// inotify through the syscalls: event sequences for create, write, close,
// rename, unlink, rmdir, attrib compared with the host kernel
// (/usr/bin/inotifywait -m on a host directory running the same calls),
// and the struct inotify_event byte layout that read(2) of the fd returns.

import * as fs from 'node:fs';
import test from 'ava';
import {
  IN_ALL_EVENTS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_NONBLOCK, IN_ONESHOT, parseInotifyEvents,
} from '../../../../pkg/abi/linux/inotify';
import { O_CREAT, O_RDONLY, O_WRONLY } from '../../../../pkg/abi/linux/file';
import { errnoName } from '../../../../pkg/abi/linux/errors';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { HostDir, runHost, runSandbox, type Op } from './oracle';
import { dedup, hostEvents, INOTIFYWAIT, maskNames, sequence } from './inotify_oracle';

if (!fs.existsSync(INOTIFYWAIT)) {
  test('inotify event sequences match the host kernel (inotifywait)', (t) => {
    t.log('SKIPPED: inotifywait not installed');
    process.stderr.write('SKIPPED: inotify differential test: /usr/bin/inotifywait not installed (Debian: inotify-tools)\n');
    t.pass();
  });
} else {
  test('inotify event sequences match the host kernel (inotifywait)', async (t) => {
    const host = new HostDir();
    t.teardown(() => host.cleanup());
    const dir = host.sub('w', 0o755);
    const expected = await hostEvents(dir, sequence);

    const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
    t.teardown(() => k.release());
    const root = await k.newTask();
    await root.fs.mkdir('/w', 0o755);
    const ino = await root.fs.inotifyInit(IN_NONBLOCK);
    t.is(await root.fs.inotifyAddWatch(ino, '/w', IN_ALL_EVENTS), 1);
    const task = await k.newTask({ cwd: '/w' });
    await runSandbox(task, sequence);
    const events = await root.fs.readInotifyEvents(ino);
    const got = events.map((e) => `${maskNames(e.mask)} ${e.name}`.trimEnd());
    // Linux merges an event identical to the last one still queued; whether
    // inotifywait had read it yet is timing, so runs of identical events
    // count once on both sides.
    t.deepEqual(dedup(got), dedup(expected));
    // MOVED_FROM/MOVED_TO pairs share one nonzero cookie (inotify(7)).
    const moves = events.filter((e) => (e.mask & (IN_MOVED_FROM | IN_MOVED_TO)) !== 0);
    for (let i = 0; i + 1 < moves.length; i += 2) {
      t.not(moves[i]!.cookie, 0);
      t.is(moves[i]!.cookie, moves[i + 1]!.cookie);
    }
    t.is(errnoName(-(await root.sys.read(ino, Buffer.alloc(64), 64))), 'EAGAIN', 'empty non-blocking inotify fd: EAGAIN');
    await task.release();
    await root.release();
  });
}

// Watches on a file and a subdirectory beside the directory watch:
// IN_ATTRIB for link count changes, IN_MOVE_SELF, IN_DELETE_SELF, in
// Linux's order: unlink queues the file's IN_ATTRIB, IN_DELETE_SELF (and
// IN_IGNORED) before the parent's IN_DELETE, rmdir the directory's
// IN_DELETE_SELF before the parent's IN_DELETE, and a rename over a watched
// file queues IN_MOVED_FROM, IN_MOVED_TO, the replaced file's IN_ATTRIB,
// the renamed file's IN_MOVE_SELF, then the replaced file's IN_DELETE_SELF.
const selfSequence: Op[] = [
  ['open', 'n', 'n', O_CREAT | O_WRONLY, 0o644], ['close', 'n'], ['rename', 'n', 't', 0],
  ['chmod', 'f', 0o600], ['open', 'w', 'f', O_WRONLY, 0], ['write', 'w', 'x'], ['close', 'w'], ['rename', 'f', 'g', 0],
  ['link', 'g', 'h'], ['unlink', 'g'], ['unlink', 'h'], ['rmdir', 'sub'],
];

if (fs.existsSync(INOTIFYWAIT)) {
  test('inotify watches on a file and a directory themselves match the host kernel (inotifywait)', async (t) => {
    const host = new HostDir();
    t.teardown(() => host.cleanup());
    const dir = host.sub('w', 0o755);
    runHost(dir, [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'sub', 0o755],
      ['open', 't', 't', O_CREAT | O_WRONLY, 0o644], ['close', 't']]);
    const expected = await hostEvents(dir, selfSequence, [['f', 'file'], ['sub', 'sub'], ['t', 'target']]);

    const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
    t.teardown(() => k.release());
    const root = await k.newTask();
    await root.fs.mkdir('/w', 0o755);
    await root.fs.writeFile('/w/f', '', 0o644);
    await root.fs.mkdir('/w/sub', 0o755);
    await root.fs.writeFile('/w/t', '', 0o644);
    const ino = await root.fs.inotifyInit(IN_NONBLOCK);
    const wdDir = await root.fs.inotifyAddWatch(ino, '/w', IN_ALL_EVENTS);
    const label = new Map([[await root.fs.inotifyAddWatch(ino, '/w/f', IN_ALL_EVENTS), 'file'],
      [await root.fs.inotifyAddWatch(ino, '/w/sub', IN_ALL_EVENTS), 'sub'],
      [await root.fs.inotifyAddWatch(ino, '/w/t', IN_ALL_EVENTS), 'target']]);
    const task = await k.newTask({ cwd: '/w' });
    await runSandbox(task, selfSequence);
    const events = await root.fs.readInotifyEvents(ino);
    // inotifywait prints no IN_IGNORED; check them here instead.
    t.deepEqual(events.filter((e) => e.mask === IN_IGNORED).map((e) => label.get(e.wd)).sort(), ['file', 'sub', 'target']);
    // Each IN_IGNORED follows its watch's IN_DELETE_SELF at once (Linux's
    // fsnotify_inoderemove: the event, then the marks' destruction).
    events.forEach((e, i) => {
      if (e.mask !== IN_IGNORED) return;
      t.is(events[i - 1]?.mask, IN_DELETE_SELF, `IN_IGNORED of ${label.get(e.wd)}`);
      t.is(events[i - 1]?.wd, e.wd, `IN_IGNORED of ${label.get(e.wd)}`);
    });
    const got = events.filter((e) => e.mask !== IN_IGNORED)
      .map((e) => (e.wd === wdDir ? `${maskNames(e.mask)} ${e.name}`.trimEnd() : `${label.get(e.wd)}: ${maskNames(e.mask)}`));
    t.log(dedup(got).join('; '));
    t.deepEqual(dedup(got), dedup(expected));
    await task.release();
    await root.release();
  });
}

test('read(2) of an inotify fd: struct inotify_event layout, EINVAL for a too-small buffer, blocking read waits', async (t) => {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  t.teardown(() => k.release());
  const task = await k.newTask();
  const s = task.sys;
  await task.fs.mkdir('/w');
  const fd = await s.inotify_init1(0);
  t.true(fd >= 0);
  const wd = await s.inotify_add_watch(fd, '/w', IN_CREATE | IN_DELETE);
  t.is(wd, 1);
  // A blocking read waits for the event (gVisor: read() blocks on ErrWouldBlock).
  const buf = Buffer.alloc(256);
  const pending = s.read(fd, buf, buf.length);
  await task.fs.writeFile('/w/name', '');
  const n = await pending;
  // wd[4] mask[4] cookie[4] len[4] name[len]: len is the name with its NUL,
  // padded to a multiple of 16 (sizeof(struct inotify_event)).
  t.is(n, 16 + 16);
  t.is(buf.readInt32LE(0), wd);
  t.is(buf.readUInt32LE(4), IN_CREATE);
  t.is(buf.readUInt32LE(8), 0);
  t.is(buf.readUInt32LE(12), 16);
  t.is(buf.subarray(16, 20).toString(), 'name');
  t.true(buf.subarray(20, 32).every((b) => b === 0));
  await task.fs.unlink('/w/name');
  t.is(errnoName(-(await s.read(fd, Buffer.alloc(20), 20))), 'EINVAL', 'a buffer smaller than the next event: EINVAL');
  const events = parseInotifyEvents(await task.fs.read(fd, 64));
  t.deepEqual(events, [{ wd, mask: IN_DELETE, cookie: 0, name: 'name' }]);
  // Argument checks of inotify_add_watch/rm_watch/init1 (inotify(7)).
  t.is(errnoName(-(await s.inotify_add_watch(fd, '/w', 0))), 'EINVAL', 'no valid event bits');
  t.is(errnoName(-(await s.inotify_add_watch(99, '/w', IN_CREATE))), 'EBADF');
  const notIno = await s.open('/w', O_RDONLY);
  t.is(errnoName(-(await s.inotify_add_watch(notIno, '/w', IN_CREATE))), 'EINVAL', 'not an inotify fd');
  t.is(errnoName(-(await s.inotify_add_watch(fd, '/nonexist', IN_CREATE))), 'ENOENT');
  t.is(errnoName(-(await s.inotify_rm_watch(fd, 42))), 'EINVAL');
  t.is(errnoName(-(await s.inotify_init1(0x1))), 'EINVAL');
  t.is(await s.inotify_rm_watch(fd, wd), 0);
  const ev = parseInotifyEvents(await task.fs.read(fd, 64));
  t.deepEqual(ev.map((e) => e.mask), [IN_IGNORED], 'rm_watch queues IN_IGNORED');
  // IN_ONESHOT: one event, then IN_IGNORED.
  const wd2 = await s.inotify_add_watch(fd, '/w', IN_CREATE | IN_ONESHOT);
  await task.fs.writeFile('/w/one', '');
  await task.fs.writeFile('/w/two', '');
  const ev2 = parseInotifyEvents(await task.fs.read(fd, 256));
  t.deepEqual(ev2.map((e) => [e.wd, e.mask, e.name]), [[wd2, IN_CREATE, 'one'], [wd2, IN_IGNORED, '']]);
  // An interrupted blocking read fails with EINTR.
  const blocked = s.read(fd, Buffer.alloc(64), 64);
  task.interrupt();
  t.is(errnoName(-(await blocked)), 'EINTR');
  await task.release();
});




