// FDTable semantics (gVisor's pkg/sentry/kernel/fd_table_test.go and
// Linux's fs/file.c): lowest free descriptor, RLIMIT_NOFILE, dup family,
// close-on-exec flags, removal.

import test from 'ava';
import { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, FD_CLOEXEC } from '../../../pkg/abi/linux/fcntl';
import { O_CLOEXEC, O_CREAT, O_RDONLY, O_RDWR } from '../../../pkg/abi/linux/file';
import { errnoName } from '../../../pkg/abi/linux/errors';
import * as syserror from '../../../pkg/syserror/syserror';
import { FDTable } from '../../../pkg/sentry/kernel/fd_table';
import { Kernel } from '../../../pkg/sentry/kernel/kernel';
import type { Task } from '../../../pkg/sentry/kernel/task';

async function setup(t: { teardown(fn: () => Promise<void>): void }, opts: { rlimitNofile?: number } = {}): Promise<Task> {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  const task = await k.newTask(opts);
  t.teardown(() => k.release());
  return task;
}

function e(n: number): string {
  return n < 0 ? errnoName(-n) : String(n);
}

test('open returns the lowest free descriptor (POSIX.1: "the lowest-numbered file descriptor not currently open")', async (t) => {
  const task = await setup(t);
  const s = task.sys;
  t.is(await s.open('/f', O_CREAT | O_RDWR, 0o644), 0);
  t.is(await s.open('/f', O_RDONLY), 1);
  t.is(await s.open('/f', O_RDONLY), 2);
  t.is(await s.close(1), 0);
  t.is(await s.open('/f', O_RDONLY), 1);
  t.is(await s.close(0), 0);
  t.is(await s.close(2), 0);
  t.is(await s.open('/f', O_RDONLY), 0);
  t.is(await s.open('/f', O_RDONLY), 2);
  t.is(await s.open('/f', O_RDONLY), 3);
  t.deepEqual(task.fdTable.getFDs(), [0, 1, 2, 3]);
});

test('close of a closed or negative descriptor is EBADF', async (t) => {
  const task = await setup(t);
  t.is(e(await task.sys.close(0)), 'EBADF');
  t.is(e(await task.sys.close(-1)), 'EBADF');
  t.is(e(await task.sys.close(1 << 30)), 'EBADF');
});

test('RLIMIT_NOFILE: open and dup past the limit are EMFILE, F_DUPFD EINVAL, dup2 EBADF (Linux)', async (t) => {
  const task = await setup(t, { rlimitNofile: 3 });
  const s = task.sys;
  t.is(await s.open('/x', O_CREAT | O_RDWR, 0o600), 0);
  t.is(await s.dup(0), 1);
  t.is(await s.dup(0), 2);
  t.is(e(await s.dup(0)), 'EMFILE');
  t.is(e(await s.open('/x', O_RDONLY)), 'EMFILE');
  t.is(e(await s.fcntl(0, F_DUPFD, 3)), 'EINVAL', 'F_DUPFD with arg >= RLIMIT_NOFILE is EINVAL (fs/fcntl.c:f_dupfd)');
  t.is(e(await s.dup2(0, 3)), 'EBADF', 'dup2 to newfd >= RLIMIT_NOFILE is EBADF (dup2(2))');
  t.is(e(await s.pipe(new Int32Array(2))), 'EMFILE');
  t.is(await s.close(2), 0);
  t.is(e(await s.pipe(new Int32Array(2))), 'EMFILE', 'pipe needs two descriptors: all or none');
  t.deepEqual(task.fdTable.getFDs(), [0, 1]);
});

test('dup2/dup3 semantics (dup2(2))', async (t) => {
  const task = await setup(t);
  const s = task.sys;
  const fd = await s.open('/y', O_CREAT | O_RDWR, 0o600);
  t.is(await s.dup2(fd, fd), fd, 'dup2(fd, fd) on a valid fd returns fd');
  t.is(e(await s.dup2(7, 7)), 'EBADF', 'dup2(bad, bad) is EBADF');
  t.is(e(await s.dup3(fd, fd, 0)), 'EINVAL', 'dup3(fd, fd) is EINVAL');
  t.is(e(await s.dup3(fd, 5, 0x1)), 'EINVAL', 'dup3 with flags other than O_CLOEXEC is EINVAL');
  t.is(e(await s.dup2(9, 5)), 'EBADF');
  t.is(e(await s.dup2(fd, -1)), 'EBADF');
  t.is(await s.dup2(fd, 10), 10, 'dup2 to a free high fd');
  t.is(await s.fcntl(10, F_GETFD), 0, 'dup2 clears close-on-exec');
  t.is(await s.dup3(fd, 11, O_CLOEXEC), 11);
  t.is(await s.fcntl(11, F_GETFD), FD_CLOEXEC);
  // dup2 onto an open descriptor closes it silently and reuses the number.
  const other = await s.open('/z', O_CREAT | O_RDWR, 0o600);
  t.is(await s.dup2(other, 10), 10);
  const st10 = await task.fs.fstat(10);
  const stz = await task.fs.stat('/z');
  t.is(st10.ino, stz.ino);
  // The lowest free fd after a gap.
  t.is(await s.dup(fd), 2);
});

test('close-on-exec flags: O_CLOEXEC, F_SETFD, F_DUPFD_CLOEXEC, and removeCloseOnExec (execve)', async (t) => {
  const task = await setup(t);
  const s = task.sys;
  const a = await s.open('/c', O_CREAT | O_RDWR | O_CLOEXEC, 0o600);
  const b = await s.open('/c', O_RDONLY);
  t.is(await s.fcntl(a, F_GETFD), FD_CLOEXEC);
  t.is(await s.fcntl(b, F_GETFD), 0);
  t.is(await s.fcntl(b, F_SETFD, FD_CLOEXEC), 0);
  t.is(await s.fcntl(b, F_GETFD), FD_CLOEXEC);
  t.is(await s.fcntl(b, F_SETFD, 0), 0);
  const c = await s.fcntl(b, F_DUPFD_CLOEXEC, 5);
  t.is(c, 5, 'F_DUPFD_CLOEXEC returns the lowest free fd >= arg');
  t.is(await s.fcntl(c, F_GETFD), FD_CLOEXEC);
  const d = await s.fcntl(b, F_DUPFD, 5);
  t.is(d, 6);
  t.is(await s.fcntl(d, F_GETFD), 0);
  t.is(e(await s.fcntl(42, F_GETFD)), 'EBADF');
  await task.fdTable.removeCloseOnExec(task);
  t.deepEqual(task.fdTable.getFDs(), [b, d]);
});

test('FDTable directly: newFDVFS2 with minfd, get/remove reference counting, fork', async (t) => {
  const task = await setup(t);
  const fd = await task.sys.open('/r', O_CREAT | O_RDWR, 0o600);
  const file = task.fdTable.get(fd)!;
  const base = file.refs;
  const table = new FDTable();
  t.is(table.newFDVFS2(task, 4, file, { closeOnExec: false }), 4);
  t.is(table.newFDVFS2(task, 0, file, { closeOnExec: true }), 0);
  t.is(table.newFDVFS2(task, 0, file, { closeOnExec: false }), 1);
  t.is(file.refs, base + 3, 'each descriptor holds a reference');
  t.throws(() => table.newFDVFS2(task, -1, file, { closeOnExec: false }), { is: syserror.EINVAL });
  const forked = table.fork();
  t.deepEqual(forked.getFDs(), [0, 1, 4]);
  t.is(file.refs, base + 6);
  const [f0, flags0] = forked.getVFS2WithFlags(0);
  t.is(flags0.closeOnExec, true);
  f0!.decRef(task);
  const removed = await table.remove(task, 1);
  t.is(removed, file);
  removed!.decRef(task);
  t.is(await table.remove(task, 1), null);
  t.is(table.newFDVFS2(task, 0, file, { closeOnExec: false }), 1, 'a removed fd is reused first');
  await table.decRef(task);
  await forked.decRef(task);
  t.is(file.refs, base, 'destroying the tables drops every reference');
  file.decRef(task);
});

test('model check (fast-check): random open/dup/dup2/close sequences allocate as Linux\'s lowest-free rule says', async (t) => {
  const fc = await import('fast-check');
  const task = await setup(t, { rlimitNofile: 16 });
  await task.sys.open('/m', O_CREAT | O_RDWR, 0o600).then((fd) => task.sys.close(fd));
  type Cmd = { op: 'open' } | { op: 'dup'; fd: number } | { op: 'dup2'; fd: number; to: number } | { op: 'close'; fd: number };
  const cmd = fc.oneof(
    fc.constant<Cmd>({ op: 'open' }),
    fc.record({ op: fc.constant('dup' as const), fd: fc.integer({ min: 0, max: 17 }) }),
    fc.record({ op: fc.constant('dup2' as const), fd: fc.integer({ min: 0, max: 17 }), to: fc.integer({ min: 0, max: 17 }) }),
    fc.record({ op: fc.constant('close' as const), fd: fc.integer({ min: 0, max: 17 }) }),
  );
  await fc.assert(fc.asyncProperty(fc.array(cmd, { maxLength: 40 }), async (cmds) => {
    const open = new Set<number>();
    const lowest = (): number => { let i = 0; while (open.has(i)) i++; return i; };
    for (const c of cmds) {
      let want: number;
      let got: number;
      switch (c.op) {
        case 'open':
          want = lowest() >= 16 ? -syserror.EMFILE.errno : lowest();
          got = await task.sys.open('/m', O_RDONLY);
          break;
        case 'dup':
          want = !open.has(c.fd) ? -syserror.EBADF.errno : lowest() >= 16 ? -syserror.EMFILE.errno : lowest();
          got = await task.sys.dup(c.fd);
          break;
        case 'dup2':
          want = !open.has(c.fd) ? -syserror.EBADF.errno : c.to >= 16 ? -syserror.EBADF.errno : c.to;
          got = await task.sys.dup2(c.fd, c.to);
          break;
        case 'close':
          want = open.has(c.fd) ? 0 : -syserror.EBADF.errno;
          got = await task.sys.close(c.fd);
          if (got === 0) open.delete(c.fd);
          break;
      }
      if (got !== want) return false;
      if (c.op !== 'close' && got >= 0) open.add(got);
    }
    const ok = JSON.stringify(task.fdTable.getFDs()) === JSON.stringify([...open].sort((a, b) => a - b));
    await task.fdTable.removeIf(task, () => true);
    return ok;
  }), { numRuns: 150 });
  t.pass();
});
