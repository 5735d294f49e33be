// Kernel, Task and FSContext (gVisor's kernel.go, task*.go, fs_context.go):
// creating a kernel with a root filesystem and extra mounts, tasks with
// credentials, root, cwd and umask, the Context values a task answers,
// interruption, and reference counts returning to their start after tasks
// have run every kind of call (DESIGN decision 4: leak check).

import test from 'ava';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, S_IFDIR } from '../../../pkg/abi/linux/file';
import { IN_ALL_EVENTS } from '../../../pkg/abi/linux/inotify';
import { TMPFS_MAGIC } from '../../../pkg/abi/linux/stat';
import * as context from '../../../pkg/context';
import * as fspath from '../../../pkg/fspath';
import { credentialsFromContext } from '../../../pkg/sentry/kernel/auth';
import { FSContext } from '../../../pkg/sentry/kernel/fs_context';
import { CtxKernel, Kernel, kernelFromContext, registerFilesystemType } from '../../../pkg/sentry/kernel/kernel';
import * as tmpfs from '../../../pkg/sentry/fsimpl/tmpfs/tmpfs';
import { CtxMountNamespace, mountNamespaceFromContext, rootFromContext } from '../../../pkg/sentry/vfs/context';
import type { VirtualDentry } from '../../../pkg/sentry/vfs/vfs';
import * as syserror from '../../../pkg/syserror/syserror';

// refsOf reads the reference counts behind a VirtualDentry: the Mount's and
// the tmpfs inode's (tmpfs dentries count on their inode).
function refsOf(vd: VirtualDentry): [number, number] {
  const impl = vd.dentry().impl as unknown as { inode?: { refs: number } };
  return [vd.mount().refs, impl.inode?.refs ?? -1];
}

test('Kernel.create mounts a tmpfs root by default, with mount options and extra mounts', async (t) => {
  const k = await Kernel.create({
    root: { fsType: 'tmpfs', options: 'mode=0755' },
    mounts: [{ target: '/tmp/deep/mnt', fsType: 'tmpfs', options: 'mode=01777' }],
  });
  t.teardown(() => k.release());
  const task = await k.newTask();
  t.is((await task.fs.stat('/')).mode, S_IFDIR | 0o755);
  t.is((await task.fs.stat('/tmp/deep/mnt')).mode, S_IFDIR | 0o1777, 'the mount point and its parents are created');
  t.is((await task.fs.statfs('/tmp/deep/mnt')).type, TMPFS_MAGIC);
  t.not((await task.fs.stat('/tmp/deep/mnt')).devMinor, (await task.fs.stat('/')).devMinor, 'another filesystem');
  t.true(k.vfs.generateProcFilesystems().includes('nodev\ttmpfs'));
  await t.throwsAsync(Kernel.create({ root: { fsType: 'nosuchfs' } }), { is: syserror.ENODEV });
  await t.throwsAsync(Kernel.create({ root: { fsType: 'tmpfs', options: 'bogus=1' } }), { is: syserror.EINVAL });
});

test('registerFilesystemType: later kernels register the type (as the gofer adds "9p")', async (t) => {
  registerFilesystemType('tmpfs-alias', () => new tmpfs.FilesystemType(), { allowUserMount: true });
  const k = await Kernel.create({ root: { fsType: 'tmpfs-alias' } });
  t.teardown(() => k.release());
  const task = await k.newTask();
  await task.fs.mkdir('/m');
  await task.fs.mount('none', '/m', 'tmpfs-alias');
  t.is((await task.fs.statfs('/m')).type, TMPFS_MAGIC);
  const k2 = await Kernel.create({ filesystemTypes: [{ name: 'mine', factory: () => new tmpfs.FilesystemType(), opts: {} }] });
  t.teardown(() => k2.release());
  t.truthy(k2.vfs.getFilesystemType('mine'));
});

test('newTask: credentials, umask, root and cwd; the Task is a Context answering gVisor\'s keys', async (t) => {
  const k = await Kernel.create();
  t.teardown(() => k.release());
  const root = await k.newTask();
  await root.fs.mkdir('/jail');
  await root.fs.mkdir('/jail/home');
  await root.fs.chmod('/jail/home', 0o777);
  await root.fs.writeFile('/jail/home/hello', 'hi');
  const task = await k.newTask({ uid: 1000, gid: 100, groups: [5, 6], umask: 0o077, root: '/jail', cwd: '/home' });
  t.is(task.credentials().effectiveKUID, 1000);
  t.is(task.credentials().realKGID, 100);
  t.deepEqual([...task.credentials().extraKGIDs], [5, 6]);
  t.false(task.hasCapability(21 /* CAP_SYS_ADMIN */));
  t.true(root.hasCapability(21));
  t.is(await task.fs.getcwd(), '/home');
  t.is((await task.fs.readFile('hello')).toString(), 'hi');
  t.is((await task.fs.readFile('/home/hello')).toString(), 'hi', 'absolute paths start at the task root');
  await task.fs.writeFile('/home/new', '');
  t.is((await root.fs.stat('/jail/home/new')).mode & 0o777, 0o600, 'umask 077');
  t.is((await root.fs.stat('/jail/home/new')).uid, 1000);
  // Context values.
  t.is(credentialsFromContext(task), task.credentials());
  t.is(kernelFromContext(task), k);
  t.is(task.value(CtxKernel), k);
  t.is(context.threadGroupIDFromContext(task), task.tid);
  const mntns = mountNamespaceFromContext(task)!;
  t.is(mntns, k.rootMountNamespace());
  mntns.decRef(task);
  const vroot = rootFromContext(task);
  t.true(vroot.equals(task.fsContext.peekRootDirectoryVFS2()));
  vroot.decRef(task);
  t.is(task.value(Symbol('other')), undefined);
  t.is(task.value(CtxMountNamespace) !== undefined, true);
  k.rootMountNamespace().decRef(task);
  await t.throwsAsync(k.newTask({ cwd: '/nonexist' }), { is: syserror.ENOENT });
  await t.throwsAsync(k.newTask({ root: '/jail/home/hello' }), { is: syserror.ENOTDIR });
});

test('interrupt: a call sleeping or about to sleep fails with EINTR; the next call is not affected', async (t) => {
  const k = await Kernel.create();
  t.teardown(() => k.release());
  const task = await k.newTask();
  const [r] = await task.fs.pipe();
  const p1 = task.sys.read(r, Buffer.alloc(1), 1);
  task.interrupt();
  t.is(await p1, -syserror.EINTR.errno);
  t.true(task.signal.aborted, 'the interrupt stays pending until the next call starts');
  const p2 = task.sys.read(r, Buffer.alloc(1), 1);
  t.false(task.signal.aborted, 're-armed by the new call');
  task.interrupt();
  t.is(await p2, -syserror.EINTR.errno);
});

test('FSContext: references on root and cwd, swapUmask, fork', async (t) => {
  const k = await Kernel.create();
  t.teardown(() => k.release());
  const task = await k.newTask();
  await task.fs.mkdir('/d');
  const rootVD = k.rootDirectory();
  const before = refsOf(rootVD);
  const f = new FSContext(rootVD, rootVD, 0o022);
  t.deepEqual(refsOf(rootVD), [before[0] + 2, before[1] + 2], 'root and cwd each hold a reference');
  t.is(f.swapUmask(0o077), 0o022);
  t.is(f.getUmask(), 0o077);
  const g = f.fork();
  t.deepEqual(refsOf(rootVD), [before[0] + 4, before[1] + 4]);
  const d = await k.vfs.getDentryAt(task, task.creds, { root: rootVD, start: rootVD, path: fspath.parse('/d'), followFinalSymlink: true }, {});
  f.setWorkingDirectoryVFS2(task, d);
  d.decRef(task);
  t.deepEqual(refsOf(rootVD), [before[0] + 4, before[1] + 3], 'the old cwd reference is dropped (same mount)');
  const cwd = f.workingDirectoryVFS2();
  t.true(cwd.equals(d));
  cwd.decRef(task);
  f.setRootDirectoryVFS2(task, d);
  t.deepEqual(refsOf(rootVD), [before[0] + 4, before[1] + 2]);
  f.decRef(task);
  g.decRef(task);
  t.deepEqual(refsOf(rootVD), before, 'destroying both contexts drops every reference');
  t.throws(() => f.fork());
});

test('leak check: after tasks ran every kind of call (errors included) and were released, reference counts are back', async (t) => {
  const k = await Kernel.create({ mounts: [{ target: '/mnt', fsType: 'tmpfs' }] });
  t.teardown(() => k.release());
  const rootVD = k.rootDirectory();
  const setup = await k.newTask();
  await setup.fs.mkdir('/d');
  await setup.fs.writeFile('/d/f', 'data');
  await setup.release();
  const before = refsOf(rootVD);
  const mntnsBefore = k.rootMountNamespace().refs;
  const task = await k.newTask({ cwd: '/d' });
  const s = task.sys;
  const b = Buffer.alloc(4096);
  const fd = await s.open('f', O_RDWR);
  await s.read(fd, b, 10);
  await s.write(fd, b, 3);
  await s.fstat(fd, b);
  await s.stat('/d/f', b);
  await s.stat('/nonexist/x', b);
  await s.stat('f/x', b);
  await s.newfstatat(fd, '', b, 0x1000);
  await s.statx(fd, 'x', 0, 0x7ff, b);
  await s.dup2(fd, 10);
  await s.dup(fd);
  const dfd = await s.open('/d', O_RDONLY | O_DIRECTORY);
  await s.getdents64(dfd, b, b.length);
  await s.openat(dfd, 'g', O_CREAT | O_RDWR, 0o644);
  await s.mkdirat(dfd, 'sub', 0o755);
  await s.renameat(dfd, 'sub', dfd, 'sub2');
  await s.rename('/d/g', '/mnt/g'); // EXDEV
  await s.symlink('f', 'l');
  await s.readlink('l', b, 100);
  await s.link('f', 'h');
  await s.unlink('h');
  await s.chmod('f', 0o600);
  await s.fchmod(fd, 0o644);
  await s.utimensat(dfd, 'f', null, 0);
  await s.utimensat(fd, null, null, 0);
  await s.setxattr('f', 'user.a', Buffer.from('v'), 1, 0);
  await s.getxattr('f', 'user.a', b, 10);
  await s.listxattr('f', b, 100);
  await s.truncate('f', 2);
  await s.access('f', 4);
  await s.chdir('sub2');
  await s.fchdir(dfd);
  await s.getcwd(b, 100);
  await s.statfs('/', b);
  await s.fstatfs(fd, b);
  const ino = await s.inotify_init1(0);
  await s.inotify_add_watch(ino, '/d', IN_ALL_EVENTS);
  await s.flock(fd, 2);
  const fl = Buffer.alloc(32);
  fl.writeInt16LE(1, 0);
  await s.fcntl(fd, 6, fl);
  await s.pipe2(new Int32Array(2), 0);
  await s.mount(null, '/d/sub2', 'tmpfs', 0, null);
  await s.umount2('/d/sub2', 0);
  await s.rmdir('sub2');
  await s.fsync(fd);
  await s.sync();
  await task.release();
  t.is(task.fdTable.size(), 0, 'every descriptor is closed');
  t.deepEqual(refsOf(rootVD), before);
  t.is(k.rootMountNamespace().refs, mntnsBefore, 'mount namespace references taken through the Context are dropped');
});
