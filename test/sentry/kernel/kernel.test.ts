// Kernel, Task and FSContext (gVisor's kernel.go, task*.go, fs_context.go):
// creating a kernel with a root filesystem and extra mounts, tasks with
// credentials, root, cwd and umask, the Context values a task answers,
// interruption, and reference counts returning to their start after tasks
// have run every kind of call (DESIGN decision 4: leak check).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, S_IFDIR } from '../../../pkg/abi/linux/file';
import { IN_ALL_EVENTS } from '../../../pkg/abi/linux/inotify';
import { TMPFS_MAGIC, V9FS_MAGIC } from '../../../pkg/abi/linux/stat';
import * as context from '../../../pkg/context';
import * as fspath from '../../../pkg/fspath';
import { credentialsFromContext } from '../../../pkg/sentry/kernel/auth';
import { FSContext } from '../../../pkg/sentry/kernel/fs_context';
import { CtxKernel, Kernel, kernelFromContext, registerFilesystemType } from '../../../pkg/sentry/kernel/kernel';
import * as tmpfs from '../../../pkg/sentry/fsimpl/tmpfs/tmpfs';
import { CtxMountNamespace, mountNamespaceFromContext, rootFromContext } from '../../../pkg/sentry/vfs/context';
import type { VirtualDentry } from '../../../pkg/sentry/vfs/vfs';
import * as syserror from '../../../pkg/syserror/syserror';
import { haveDiod, startDiod, tempDir } from '../../p9/client_util';

// refsOf reads the reference counts behind a VirtualDentry: the Mount's and
// the tmpfs inode's (tmpfs dentries count on their inode).
function refsOf(vd: VirtualDentry): [number, number] {
  const impl = vd.dentry().impl as unknown as { inode?: { refs: number } };
  return [vd.mount().refs, impl.inode?.refs ?? -1];
}

test('Kernel.create mounts the root it is given (tmpfs), with mount options and extra mounts', async (t) => {
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
  const k2 = await Kernel.create({ root: { fsType: 'tmpfs' }, filesystemTypes: [{ name: 'mine', factory: () => new tmpfs.FilesystemType(), opts: {} }] });
  t.teardown(() => k2.release());
  t.truthy(k2.vfs.getFilesystemType('mine'));
});

test('newTask: credentials, umask, root and cwd; the Task is a Context answering gVisor\'s keys', async (t) => {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
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
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
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
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
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
  const k = await Kernel.create({ root: { fsType: 'tmpfs' }, mounts: [{ target: '/mnt', fsType: 'tmpfs' }] });
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

// alive reports whether process pid exists (kill(pid, 0)).
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('Kernel.create: the default root is "9p" over a gofer child process serving a fresh temp dir; release() stops the child and removes the dir (runsc\'s root mount)', async (t) => {
  const k = await Kernel.create();
  let released = false;
  t.teardown(() => (released ? undefined : k.release()));
  const host = k.goferHostRoot();
  const pid = k.goferPID();
  if (host === null || pid === null) return t.fail('no gofer behind the default root');
  t.true(alive(pid), 'the gofer is a live child process');
  const task = await k.newTask();
  t.is((await task.fs.statfs('/')).type, V9FS_MAGIC);
  t.is((await task.fs.stat('/')).mode, S_IFDIR | 0o755, 'the fresh root is 0755, as a root filesystem');
  await task.fs.mkdir('/d');
  await task.fs.writeFile('/d/hello', 'through the gofer');
  t.is(fs.readFileSync(path.join(host, 'd', 'hello'), 'utf8'), 'through the gofer', 'a file created through the task is in the host dir');
  fs.writeFileSync(path.join(host, 'from-host'), 'x');
  t.is((await task.fs.readFile('/from-host')).toString(), 'x');
  t.true(k.vfs.generateProcFilesystems().includes('nodev\t9p'), '"9p" is registered (AllowUserList, as runsc)');
  await k.release();
  released = true;
  t.false(alive(pid), 'release() stopped the gofer');
  t.false(fs.existsSync(host), 'release() removed the temp dir it created');
  t.is(k.goferHostRoot(), null);
});

test('Kernel.create: goferRoot serves an existing dir and release() keeps it; fileAccess "shared" sees host changes on the next lookup', async (t) => {
  const dir = tempDir('kernel-goferroot-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o711);
  fs.writeFileSync(path.join(dir, 'old'), 'kept');
  const k = await Kernel.create({ goferRoot: dir, fileAccess: 'shared' });
  let released = false;
  t.teardown(() => (released ? undefined : k.release()));
  t.is(k.goferHostRoot(), dir);
  const task = await k.newTask();
  t.is((await task.fs.stat('/')).mode, S_IFDIR | 0o711, 'a given dir keeps its mode');
  t.is((await task.fs.readFile('/old')).toString(), 'kept');
  await task.fs.writeFile('/new', 'n');
  fs.writeFileSync(path.join(dir, 'old'), 'changed on the host');
  t.is((await task.fs.readFile('/old')).toString(), 'changed on the host', 'shared: revalidated');
  fs.unlinkSync(path.join(dir, 'new'));
  await t.throwsAsync(task.fs.stat('/new'), { is: syserror.ENOENT }, 'shared: a removal on the host is seen');
  await k.release();
  released = true;
  t.true(fs.existsSync(path.join(dir, 'old')), 'a given dir is kept');
  await t.throwsAsync(Kernel.create({ goferRoot: path.join(dir, 'nonexist') }), { is: syserror.ENOENT });
  await t.throwsAsync(Kernel.create({ goferRoot: path.join(dir, 'old') }), { is: syserror.ENOTDIR });
});

test('Kernel.create: the "9p" root runs unchanged over diod (plain 9P2000.L)', async (t) => {
  if (!haveDiod()) {
    console.error('SKIPPED: diod not installed (kernel root over diod)');
    t.log('SKIPPED: diod not installed');
    t.pass();
    return;
  }
  const diod = await startDiod();
  t.teardown(() => diod.stop());
  const k = await Kernel.create({ root: { fsType: '9p', source: diod.address, options: `aname=${diod.dir},msize=65536` } });
  t.teardown(() => k.release());
  t.is(k.goferHostRoot(), null, 'no gofer of ours');
  const task = await k.newTask();
  t.is((await task.fs.statfs('/')).type, V9FS_MAGIC);
  await task.fs.mkdir('/d');
  await task.fs.writeFile('/d/f', 'over diod');
  t.is(fs.readFileSync(path.join(diod.dir, 'd', 'f'), 'utf8'), 'over diod');
  t.deepEqual((await task.fs.readdir('/d')).map((d) => d.name).filter((n) => n !== '.' && n !== '..'), ['f']);
});

// transpileTree writes every .ts file under pkg/ and cmd/ as CommonJS .js
// into out (what `npm run build` puts in dist/, without type checking).
function transpileTree(repo: string, out: string): void {
  for (const top of ['pkg', 'cmd']) {
    const walk = (rel: string): void => {
      for (const e of fs.readdirSync(path.join(repo, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name);
        if (e.isDirectory()) walk(r);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
          const src = fs.readFileSync(path.join(repo, r), 'utf8');
          const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
          fs.mkdirSync(path.join(out, rel), { recursive: true });
          fs.writeFileSync(path.join(out, r.replace(/\.ts$/, '.js')), js.outputText);
        }
      }
    };
    walk(top);
  }
}

test('Kernel.create: the default gofer root works from compiled JavaScript under plain node (dist/), spawning cmd/gofer.js', async (t) => {
  const repo = path.resolve(__dirname, '../../..');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-dist-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  transpileTree(repo, out);
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(out, 'node_modules'));
  const script = `
    const fs = require('node:fs');
    const { Kernel } = require(${JSON.stringify(path.join(out, 'pkg/sentry/kernel/kernel.js'))});
    (async () => {
      const k = await Kernel.create();
      const host = k.goferHostRoot();
      const t = await k.newTask();
      await t.fs.writeFile('/f', 'from dist');
      const seen = fs.readFileSync(host + '/f', 'utf8');
      const cmdline = fs.readFileSync('/proc/' + k.goferPID() + '/cmdline', 'utf8').split('\\0');
      await k.release();
      console.log(JSON.stringify({ seen, cmdline, removed: !fs.existsSync(host) }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  // Plain node: no ts-node in the environment or the arguments.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.TS_NODE_TRANSPILE_ONLY;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: out, env, encoding: 'utf8', timeout: 60000 });
  t.is(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { seen: string; cmdline: string[]; removed: boolean };
  t.is(res.seen, 'from dist');
  t.true(res.cmdline.includes(path.join(out, 'cmd', 'gofer.js')), `the gofer runs the compiled cmd/gofer.js: ${res.cmdline.join(' ')}`);
  t.false(res.cmdline.some((a) => a.includes('ts-node')), 'without ts-node');
  t.true(res.removed);
});
