// mount(2)/umount2(2) and the behaviour of mount points: EBUSY for removing
// or renaming a mount point, EXDEV across mounts, read-only mounts. The
// sequence runs on the sandbox and, when this process may mount, on the
// host with the same tmpfs mounted (the host kernel is the oracle); the
// sandbox results are also pinned to the Linux values.

import { spawnSync } from 'node:child_process';
import test from 'ava';
import { O_CREAT, O_RDONLY, O_WRONLY } from '../../../../pkg/abi/linux/file';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT } from '../../../../pkg/abi/linux/mount';
import { errnoName } from '../../../../pkg/abi/linux/errors';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { HostDir, runHost, runSandbox, type Op, type Result } from './oracle';

// The sequence, with the value Linux returns for each op.
const sequence: Array<[Op, Result | string]> = [
  [['rmdir', 'mnt'], 'EBUSY'],
  [['rename', 'mnt', 'moved', 0], 'EBUSY'],
  [['rename', 'other', 'mnt', 0], 'EBUSY'],
  [['unlink', 'mnt'], 'EISDIR'],
  [['open', 'f', 'mnt/file', O_CREAT | O_WRONLY, 0o644], 0],
  [['close', 'f'], 0],
  [['rename', 'mnt/file', 'file', 0], 'EXDEV'],
  [['link', 'mnt/file', 'hard'], 'EXDEV'],
  [['rename', 'top', 'mnt/top', 0], 'EXDEV'],
  [['rename', 'mnt/file', 'mnt/file2', 0], 0],
  [['stat', 'mnt/..'], 'dir'],
  [['mkdir', 'mnt/sub', 0o755], 0],
  [['rmdir', 'mnt/sub'], 0],
];

function opsOf(): Op[] {
  return sequence.map(([op]) => op);
}

function norm(r: Result): Result | string {
  if (typeof r === 'number' && r < 0) return errnoName(-r);
  if (typeof r === 'object' && !Array.isArray(r) && r.type === 0o040000) return 'dir';
  return r;
}

test('mount points: EBUSY for rmdir/rename, EXDEV across mounts (Linux values; host kernel when mountable)', async (t) => {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  t.teardown(() => k.release());
  const root = await k.newTask();
  await root.fs.mkdir('/w');
  await root.fs.mkdir('/w/mnt');
  await root.fs.mkdir('/w/other');
  await root.fs.writeFile('/w/top', '');
  await root.fs.mount('none', '/w/mnt', 'tmpfs');
  const task = await k.newTask({ cwd: '/w' });
  const sandbox = (await runSandbox(task, opsOf())).map(norm);
  t.deepEqual(sandbox, sequence.map(([, want]) => want));
  await task.release();

  const host = new HostDir();
  t.teardown(() => host.cleanup());
  if (!host.tmpfs) {
    t.log('SKIPPED host comparison: cannot mount here');
    return;
  }
  const dir = host.sub('w', 0o755);
  runHost(dir, [['mkdir', 'mnt', 0o755], ['mkdir', 'other', 0o755], ['open', 't', 'top', O_CREAT | O_WRONLY, 0o644], ['close', 't']]);
  t.is(spawnSync('mount', ['-t', 'tmpfs', 'none', `${dir}/mnt`]).status, 0);
  try {
    t.deepEqual(runHost(dir, opsOf()).map(norm), sandbox);
  } finally {
    spawnSync('umount', ['-l', `${dir}/mnt`]);
  }
});

test('mount(2)/umount2(2) argument checks and effects', async (t) => {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  t.teardown(() => k.release());
  const root = await k.newTask();
  const s = root.sys;
  const e = (n: number): string | number => (n < 0 ? errnoName(-n) : n);
  await root.fs.mkdir('/m');
  await root.fs.mkdir('/src');
  await root.fs.writeFile('/src/x', 'bind');
  t.is(e(await s.mount(null, '/m', 'nosuchfs', 0, null)), 'ENODEV');
  t.is(e(await s.mount(null, '/nonexist', 'tmpfs', 0, null)), 'ENOENT');
  t.is(e(await s.mount(null, '/m', 'tmpfs', MS_REMOUNT, null)), 'EINVAL', 'MS_REMOUNT unsupported (gVisor)');
  t.is(e(await s.umount2('/m', 0)), 'EINVAL', 'not a mount point');
  t.is(e(await s.umount2('/m', 0x100)), 'EINVAL', 'unknown flag');
  const user = await k.newTask({ uid: 1000, gid: 1000 });
  t.is(e(await user.sys.mount(null, '/m', 'tmpfs', 0, null)), 'EPERM', 'mount needs CAP_SYS_ADMIN');
  t.is(e(await user.sys.umount2('/m', 0)), 'EPERM');
  await user.release();

  // A read-only tmpfs: creation and writes are EROFS.
  t.is(await s.mount(null, '/m', 'tmpfs', MS_RDONLY, 'mode=0755'), 0);
  t.is(e(await s.open('/m/f', O_CREAT | O_WRONLY, 0o644)), 'EROFS');
  t.is(e(await s.mkdir('/m/d', 0o755)), 'EROFS');
  t.is((await root.fs.stat('/m')).mode & 0o7777, 0o755, 'mount data mode= applies');
  t.is(await s.umount2('/m', 0), 0);
  t.is(e(await s.mkdir('/m/d', 0o755)), 0, 'after umount the underlying directory is back');

  // A bind mount shows the source; an open file keeps a lazily detached mount alive.
  t.is(await s.mount('/src', '/m', null, MS_BIND, null), 0);
  t.is((await root.fs.readFile('/m/x')).toString(), 'bind');
  const fd = await s.open('/m/x', O_RDONLY);
  t.is(e(await s.umount2('/m', 0)), 'EBUSY', 'umount of a busy mount');
  t.is(await s.umount2('/m', MNT_DETACH), 0);
  t.is((await root.fs.read(fd, 10)).toString(), 'bind');
  t.is(await s.close(fd), 0);
  t.deepEqual((await root.fs.readdir('/m')).map((d) => d.name).sort(), ['.', '..', 'd']);
});
