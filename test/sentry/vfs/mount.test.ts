// Mounts (gVisor's mount.go, mount_test.go; Linux's fs/namespace.c): the
// mount table, mount/umount/MNT_DETACH, EBUSY, read-only mounts, bind
// mounts, mount points that cannot be removed, pathnames across mounts.

import test from 'ava';
import { O_RDONLY, O_RDWR, O_CREAT, O_WRONLY, S_IFDIR, S_IFMT, S_IFREG } from '../../../pkg/abi/linux/file';
import { MNT_DETACH, MNT_EXPIRE } from '../../../pkg/abi/linux/mount';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';
import { newEnv, type Env } from './harness';

async function setup(): Promise<Env> {
  const e = await newEnv();
  await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/mnt'), { mode: 0o755 });
  await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('/src'), { mode: 0o755 });
  await e.vfsObj.mknodAt(e.ctx, e.creds, e.pop('/src/f'), { mode: S_IFREG | 0o644 });
  return e;
}

test('mountTable: lookup in an empty table, insert, lookup, remove (mount_test.go)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const mt = new vfs.mountTable();
  const parent = e.root.mount();
  const point = e.root.dentry();
  t.is(mt.lookup(parent, point), null);
  const mnt = new vfs.Mount(e.vfsObj, parent.fs, null, null, {});
  mnt.keyParent = parent;
  mnt.keyPoint = point;
  mt.insert(mnt);
  t.is(mt.lookup(parent, point), mnt);
  t.is(mt.size(), 1);
  mt.remove(parent, point);
  t.is(mt.lookup(parent, point), null);
  t.is(mt.size(), 0);
});

test('mount: umount of a busy mount is EBUSY, MNT_DETACH detaches it lazily', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const mnt = await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  await vfsObj.mknodAt(ctx, creds, e.pop('/mnt/inner'), { mode: S_IFREG | 0o644 });
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/mnt/inner'), { flags: O_RDONLY });
  await t.throwsAsync(vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {}), { is: syserror.EBUSY });
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), { flags: MNT_DETACH });
  // The path now resolves to the underlying directory...
  await t.throwsAsync(vfsObj.statAt(ctx, creds, e.pop('/mnt/inner'), {}), { is: syserror.ENOENT });
  // ... while the open file still works on the detached mount.
  t.is(fd.mount(), mnt);
  const impl = mnt.fs.impl as unknown as { released: boolean };
  t.false(impl.released);
  const st = await fd.stat(ctx, {});
  t.is(st.mode & S_IFMT, S_IFREG);
  fd.decRef(ctx);
  t.true(impl.released, 'filesystem released with its last reference');
});

test('mount: umount without MNT_DETACH when idle; path is back to the mount point', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const before = await vfsObj.statAt(ctx, creds, e.pop('/mnt'), {});
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  const during = await vfsObj.statAt(ctx, creds, e.pop('/mnt'), {});
  t.not(during.devMinor, before.devMinor);
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {});
  const after = await vfsObj.statAt(ctx, creds, e.pop('/mnt'), {});
  t.is(after.ino, before.ino);
  t.is(after.devMinor, before.devMinor);
});

test('mount: umount of a mount with submounts is EBUSY; MNT_DETACH takes the tree', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  await vfsObj.mkdirAt(ctx, creds, e.pop('/mnt/sub'), { mode: 0o755 });
  const sub = await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt/sub'), 'testfs', {});
  await t.throwsAsync(vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {}), { is: syserror.EBUSY });
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), { flags: MNT_DETACH });
  t.true(sub.umounted);
  t.is(e.vfsObj.mounts.size(), 0);
});

test('mount: umount of a non-mount-root is EINVAL; bad flags are EINVAL', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await t.throwsAsync(vfsObj.umountAt(ctx, creds, e.pop('/src'), {}), { is: syserror.EINVAL });
  await t.throwsAsync(vfsObj.umountAt(ctx, creds, e.pop('/mnt'), { flags: MNT_EXPIRE }), { is: syserror.EINVAL });
  await t.throwsAsync(vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'nosuchfs', {}), { is: syserror.ENODEV });
});

test('mount: a mount point cannot be removed or renamed in its namespace (EBUSY)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  await t.throwsAsync(vfsObj.rmdirAt(ctx, creds, e.pop('/mnt')), { is: syserror.EBUSY });
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/mnt'), e.pop('/moved'), {}), { is: syserror.EBUSY });
  // Renaming over a mount point is EBUSY too.
  await vfsObj.mkdirAt(ctx, creds, e.pop('/other'), { mode: 0o755 });
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/other'), e.pop('/mnt'), {}), { is: syserror.EBUSY });
});

test('mount: rename across mounts is EXDEV; link across mounts is EXDEV', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/src/f'), e.pop('/mnt/f'), {}), { is: syserror.EXDEV });
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/src/f'), e.pop('/mnt/f')), { is: syserror.EXDEV });
});

test('mount: read-only mounts refuse writes with EROFS; MS_RDONLY remount is EBUSY with writers', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const mnt = await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', { readOnly: true });
  t.true(mnt.readOnly());
  t.deepEqual(mnt.options(), { flags: {}, readOnly: true });
  await t.throwsAsync(vfsObj.mkdirAt(ctx, creds, e.pop('/mnt/d'), { mode: 0o755 }), { is: syserror.EROFS });
  t.throws(() => mnt.checkBeginWrite(), { is: syserror.EROFS });
  await vfsObj.setMountReadOnly(mnt, false);
  await vfsObj.mknodAt(ctx, creds, e.pop('/mnt/f'), { mode: S_IFREG | 0o644 });
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/mnt/f'), { flags: O_RDWR });
  t.is(mnt.writers, 1, 'a writable file description holds a write count');
  await t.throwsAsync(vfsObj.setMountReadOnly(mnt, true), { is: syserror.EBUSY });
  fd.decRef(ctx);
  t.is(mnt.writers, 0);
  await vfsObj.setMountReadOnly(mnt, true);
  // Opening for writing on a read-only mount fails in FileDescription.init.
  await t.throwsAsync(vfsObj.openAt(ctx, creds, e.pop('/mnt/f'), { flags: O_WRONLY }), { is: syserror.EROFS });
  const rfd = await vfsObj.openAt(ctx, creds, e.pop('/mnt/f'), { flags: O_RDONLY });
  rfd.decRef(ctx);
});

test('mount: bind mount shows the same files at another place', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const bind = await vfsObj.bindAt(ctx, creds, e.pop('/src'), e.pop('/mnt'));
  const a = await vfsObj.statAt(ctx, creds, e.pop('/src/f'), {});
  const b = await vfsObj.statAt(ctx, creds, e.pop('/mnt/f'), {});
  t.is(a.ino, b.ino);
  t.is(bind.fs, e.root.mount().fs);
  // A file created through one is visible through the other.
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/mnt/g'), { flags: O_WRONLY | O_CREAT, mode: 0o600 });
  fd.decRef(ctx);
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/src/g'), {})).mode & S_IFMT, S_IFREG);
  // ".." from the bind mount's root leaves through its mount point.
  const up = await vfsObj.statAt(ctx, creds, e.pop('/mnt/..'), {});
  t.is(up.ino, (await vfsObj.statAt(ctx, creds, e.pop('/'), {})).ino);
  // Rename between the bind mount and the original is EXDEV (different mounts).
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/mnt/g'), e.pop('/src/h'), {}), { is: syserror.EXDEV });
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {});
  await t.throwsAsync(vfsObj.statAt(ctx, creds, e.pop('/mnt/f'), {}), { is: syserror.ENOENT });
});

test('mount: deleting a mount point in another namespace umounts it (forgetDeadMountpoint)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const mnt = await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  t.true(e.root.mount().children.has(mnt));
  // Invalidate the mount point as a remote filesystem would.
  const vd = await vfsObj.getDentryAt(ctx, creds, e.pop('/mnt'), {});
  // vd is the mounted root; its mount point is /mnt in the root filesystem.
  const point = mnt.point()!;
  vd.decRef(ctx);
  vfsObj.invalidateDentry(ctx, point);
  t.true(mnt.umounted);
  t.false(e.root.mount().children.has(mnt));
  t.true(point.isDead());
});

test('mount: pathnames across mounts, "(deleted)", getcwd', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  await vfsObj.mkdirAt(ctx, creds, e.pop('/mnt/d'), { mode: 0o755 });
  const vd = await vfsObj.getDentryAt(ctx, creds, e.pop('/mnt/d'), {});
  t.teardown(() => vd.decRef(ctx));
  t.is(await vfsObj.pathnameWithDeleted(ctx, e.root, vd), '/mnt/d');
  t.is(await vfsObj.pathnameForGetcwd(ctx, e.root, vd), '/mnt/d');
  t.is(await vfsObj.pathnameReachable(ctx, e.root, vd), '/mnt/d');
  // Relative to a chroot at /mnt.
  const chroot = await vfsObj.getDentryAt(ctx, creds, e.pop('/mnt'), {});
  t.teardown(() => chroot.decRef(ctx));
  t.is(await vfsObj.pathnameWithDeleted(ctx, chroot, vd), '/d');
  // Outside a chroot at /src: getcwd says unreachable, __d_path says "".
  const src = await vfsObj.getDentryAt(ctx, creds, e.pop('/src'), {});
  t.teardown(() => src.decRef(ctx));
  t.is(await vfsObj.pathnameForGetcwd(ctx, src, vd), '(unreachable)/mnt/d');
  t.is(await vfsObj.pathnameReachable(ctx, src, vd), '');
  await vfsObj.rmdirAt(ctx, creds, e.pop('/mnt/d'));
  t.is(await vfsObj.pathnameWithDeleted(ctx, e.root, vd), '/mnt/d (deleted)');
  await t.throwsAsync(vfsObj.pathnameForGetcwd(ctx, e.root, vd), { is: syserror.ENOENT });
});

test('mount: /proc/self/mounts and mountinfo', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', { readOnly: true, flags: { noExec: true } });
  const mounts = await vfsObj.generateProcMounts(ctx, e.root);
  t.is(mounts, 'none / testfs rw 0 0\nnone /mnt testfs ro,noexec 0 0\n');
  const info = (await vfsObj.generateProcMountInfo(ctx, creds, e.root)).split('\n');
  t.regex(info[1], /^\d+ \d+ 0:\d+ \/ \/mnt ro,noexec - testfs none ro$/);
  t.regex(vfsObj.generateProcFilesystems(), /^nodev\ttestfs\n$/);
});

test('mount: MS_NOEXEC refuses FileExec opens with EACCES', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', { flags: { noExec: true } });
  await vfsObj.mknodAt(ctx, creds, e.pop('/mnt/x'), { mode: S_IFREG | 0o755 });
  await t.throwsAsync(vfsObj.openAt(ctx, creds, e.pop('/mnt/x'), { flags: O_RDONLY, fileExec: true }), { is: syserror.EACCES });
  await vfsObj.mknodAt(ctx, creds, e.pop('/x'), { mode: S_IFREG | 0o755 });
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/x'), { flags: O_RDONLY, fileExec: true });
  fd.decRef(ctx);
  await t.throwsAsync(vfsObj.openAt(ctx, creds, e.pop('/src'), { flags: O_RDONLY, fileExec: true }), { is: syserror.EACCES });
});

test('mount: reference counts return to their start after mount/umount', async (t) => {
  const e = await setup();
  const { ctx, creds, vfsObj } = e;
  const rootMnt = e.root.mount();
  const refs0 = rootMnt.refs;
  const mnt = await vfsObj.mountAt(ctx, creds, '', e.pop('/mnt'), 'testfs', {});
  const fs = mnt.fs.impl as unknown as { root: { refs: number }; released: boolean };
  const st = await vfsObj.statAt(ctx, creds, e.pop('/mnt'), {});
  t.is(st.mode & S_IFMT, S_IFDIR);
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {});
  t.true(fs.released);
  t.is(rootMnt.refs, refs0);
  const mntpt = await vfsObj.getDentryAt(ctx, creds, e.pop('/mnt'), {});
  mntpt.decRef(ctx);
  t.is(mntpt.dentry().mounts, 0);
  e.teardown();
  t.is(rootMnt.refs, 0, 'namespace teardown drops the root mount');
});

test('mount: makeSyntheticMountpoint creates missing parents and tolerates an existing file', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.makeSyntheticMountpoint(ctx, '/x/y/z', e.root, creds);
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/x/y/z'), {})).mode & S_IFMT, S_IFDIR);
  await vfsObj.makeSyntheticMountpoint(ctx, '/src/f', e.root, creds);
  await t.throwsAsync(vfsObj.mkdirAllAt(ctx, '/src/f/g', e.root, creds, { mode: 0o755 }), { is: syserror.ENOTDIR });
  await vfsObj.mountAt(ctx, creds, '', e.pop('/x/y/z'), 'testfs', {});
  t.is(await vfsObj.generateProcMounts(ctx, e.root), 'none / testfs rw 0 0\nnone /x/y/z testfs rw 0 0\n');
});

test('mount: recursive bind mount (MS_BIND|MS_REC) copies the mounts below the source', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mkdirAt(ctx, creds, e.pop('/src/in'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, e.pop('/other'), { mode: 0o755 });
  await vfsObj.mountAt(ctx, creds, '', e.pop('/src/in'), 'testfs', {});
  await vfsObj.mknodAt(ctx, creds, e.pop('/src/in/deep'), { mode: S_IFREG | 0o644 });
  await vfsObj.mountAt(ctx, creds, '', e.pop('/other'), 'testfs', {}); // not under /src: not copied
  await vfsObj.mkdirAt(ctx, creds, e.pop('/mnt2'), { mode: 0o755 });

  await vfsObj.bindAt(ctx, creds, e.pop('/src'), e.pop('/mnt'), true);
  await vfsObj.bindAt(ctx, creds, e.pop('/src'), e.pop('/mnt2'), false);
  const a = await vfsObj.statAt(ctx, creds, e.pop('/src/in/deep'), {});
  const b = await vfsObj.statAt(ctx, creds, e.pop('/mnt/in/deep'), {});
  t.is(b.ino, a.ino);
  t.is(b.devMinor, a.devMinor, 'the submount was copied under the recursive bind');
  await t.throwsAsync(vfsObj.statAt(ctx, creds, e.pop('/mnt2/in/deep'), {}), { is: syserror.ENOENT }, 'a plain bind does not copy it');
  t.is(await vfsObj.generateProcMounts(ctx, e.root), [
    'none / testfs rw 0 0', 'none /src/in testfs rw 0 0', 'none /other testfs rw 0 0',
    'none /mnt testfs rw 0 0', 'none /mnt/in testfs rw 0 0', 'none /mnt2 testfs rw 0 0', '',
  ].join('\n'));
  // The copy is busy while its submount is there; MNT_DETACH takes both.
  await t.throwsAsync(vfsObj.umountAt(ctx, creds, e.pop('/mnt'), {}), { is: syserror.EBUSY });
  await vfsObj.umountAt(ctx, creds, e.pop('/mnt'), { flags: MNT_DETACH });
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/src/in/deep'), {})).ino, a.ino);
});
