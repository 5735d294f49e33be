// The remaining VirtualFilesystem path operations (gVisor's vfs.go):
// accessAt, readlinkAt, linkAt, the xattr calls, boundEndpointAt, statFSAt,
// syncAllFilesystems, and operations whose paths cross mounts (the retry
// loops around ResolvingPath.handleError).

import test from 'ava';
import { S_IFLNK, S_IFMT, S_IFREG, TMPFS_MAGIC } from '../../../pkg/abi/linux';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';
import { newEnv, type Env } from './harness';

async function setup(): Promise<Env> {
  const e = await newEnv();
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mkdirAt(ctx, creds, e.pop('/d'), { mode: 0o755 });
  await vfsObj.mknodAt(ctx, creds, e.pop('/d/f'), { mode: S_IFREG | 0o600 });
  await vfsObj.symlinkAt(ctx, creds, e.pop('/d/l'), 'f');
  return e;
}

test('vfs: accessAt checks permissions for the given credentials', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const user = e.as(1000, 1000);
  await e.vfsObj.accessAt(e.ctx, e.creds, vfs.MayRead | vfs.MayWrite, e.pop('/d/f'));
  await t.throwsAsync(e.vfsObj.accessAt(user.ctx, user.creds, vfs.MayRead, e.pop('/d/f')), { is: syserror.EACCES });
  await e.vfsObj.accessAt(user.ctx, user.creds, vfs.MayRead | vfs.MayExec, e.pop('/d'));
  await t.throwsAsync(e.vfsObj.accessAt(user.ctx, user.creds, vfs.MayWrite, e.pop('/d')), { is: syserror.EACCES });
});

test('vfs: readlinkAt returns the target; EINVAL for a non-symlink', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  t.is(await e.vfsObj.readlinkAt(e.ctx, e.creds, e.pop('/d/l')), 'f');
  await t.throwsAsync(e.vfsObj.readlinkAt(e.ctx, e.creds, e.pop('/d/f')), { is: syserror.EINVAL });
});

test('vfs: linkAt: new name, EEXIST, "" and "/" targets, final symlink not followed', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.linkAt(ctx, creds, e.pop('/d/f'), e.pop('/d/g'));
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/d/g'), {})).nlink, 2);
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/d/f'), e.pop('/d/g')), { is: syserror.EEXIST });
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/d/f'), e.pop('')), { is: syserror.ENOENT });
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/d/f'), e.pop('/')), { is: syserror.EEXIST });
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/d/f'), e.pop('/d/h', { follow: true })), { is: syserror.EINVAL });
  await t.throwsAsync(vfsObj.linkAt(ctx, creds, e.pop('/d/nope'), e.pop('/d/h')), { is: syserror.ENOENT });
  // The old path's final symlink is followed only when asked (AT_SYMLINK_FOLLOW).
  await vfsObj.linkAt(ctx, creds, e.pop('/d/l'), e.pop('/d/l2'));
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/d/l2'), {})).mode & S_IFMT, S_IFLNK);
  await vfsObj.linkAt(ctx, creds, e.pop('/d/l', { follow: true }), e.pop('/d/f2'));
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/d/f2'), {})).mode & S_IFMT, S_IFREG);
});

test('vfs: xattrs on a filesystem without them: listxattr is empty, the others ENOTSUP', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  t.deepEqual(await vfsObj.listXattrAt(ctx, creds, e.pop('/d/f'), 0), []);
  await t.throwsAsync(vfsObj.getXattrAt(ctx, creds, e.pop('/d/f'), { name: 'user.a', size: 0 }), { is: syserror.ENOTSUP });
  await t.throwsAsync(vfsObj.setXattrAt(ctx, creds, e.pop('/d/f'), { name: 'user.a', value: 'v' }), { is: syserror.ENOTSUP });
  await t.throwsAsync(vfsObj.removeXattrAt(ctx, creds, e.pop('/d/f'), 'user.a'), { is: syserror.ENOTSUP });
  await t.throwsAsync(vfsObj.listXattrAt(ctx, creds, e.pop('/d/nope'), 0), { is: syserror.ENOENT });
});

test('vfs: xattrs through a mount onto tmpfs', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/d'), 'tmpfs', {});
  await vfsObj.mknodAt(ctx, creds, e.pop('/d/x'), { mode: S_IFREG | 0o644 });
  await vfsObj.setXattrAt(ctx, creds, e.pop('/d/x'), { name: 'user.a', value: 'v' });
  t.is(await vfsObj.getXattrAt(ctx, creds, e.pop('/d/x'), { name: 'user.a', size: 0 }), 'v');
  t.deepEqual(await vfsObj.listXattrAt(ctx, creds, e.pop('/d/x'), 0), ['user.a']);
  await vfsObj.removeXattrAt(ctx, creds, e.pop('/d/x'), 'user.a');
  await t.throwsAsync(vfsObj.getXattrAt(ctx, creds, e.pop('/d/x'), { name: 'user.a', size: 0 }), { is: syserror.ENODATA });
  t.is((await vfsObj.statFSAt(ctx, creds, e.pop('/d/x'))).type, TMPFS_MAGIC);
  await vfsObj.syncAllFilesystems(ctx);
  await vfsObj.unlinkAt(ctx, creds, e.pop('/d/x'));
  await vfsObj.umountAt(ctx, creds, e.pop('/d'), {});
});

test('vfs: boundEndpointAt on a non-socket is ECONNREFUSED', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  await t.throwsAsync(e.vfsObj.boundEndpointAt(e.ctx, e.creds, e.pop('/d/f'), { addr: '/d/f' }), { is: syserror.ECONNREFUSED });
});

test('vfs: rename, link, unlink and symlink with both paths inside a mount reached from outside', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/d'), 'testfs', {});
  await vfsObj.mkdirAt(ctx, creds, e.pop('/d/sub'), { mode: 0o755 });
  await vfsObj.mknodAt(ctx, creds, e.pop('/d/sub/a'), { mode: S_IFREG | 0o644 });
  // Every path starts at the root filesystem and jumps into the mount.
  await vfsObj.renameAt(ctx, creds, e.pop('/d/sub/a'), e.pop('/d/b'), {});
  await vfsObj.linkAt(ctx, creds, e.pop('/d/b'), e.pop('/d/sub/c'));
  await vfsObj.symlinkAt(ctx, creds, e.pop('/d/sub/s'), '../b');
  t.is((await vfsObj.statAt(ctx, creds, e.pop('/d/sub/s', { follow: true }), {})).nlink, 2);
  // Relative paths from a start inside the mount, ".." leaving it.
  const start = await vfsObj.getDentryAt(ctx, creds, e.pop('/d/sub'), {});
  t.teardown(() => start.decRef(ctx));
  await vfsObj.renameAt(ctx, creds, e.pop('../b', { start }), e.pop('bb', { start }), {});
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('bb', { start }), e.pop('../../outside', { start }), {}), { is: syserror.EXDEV });
  await vfsObj.unlinkAt(ctx, creds, e.pop('bb', { start }));
  await vfsObj.unlinkAt(ctx, creds, e.pop('/d/sub/c'));
  // "../.." leaves the mount; "d" enters it again, so the covered /d/f is hidden.
  await t.throwsAsync(vfsObj.statAt(ctx, creds, e.pop('../../d/f', { start }), {}), { is: syserror.ENOENT });
  const again = await vfsObj.statAt(ctx, creds, e.pop('../../d/sub', { start }), {});
  t.is(again.ino, (await vfsObj.statAt(ctx, creds, e.pop('.', { start }), {})).ino);
});

test('vfs: filesystem types: duplicate registration, /proc/filesystems, mountDisconnected refuses internal-only types', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  t.throws(() => e.vfsObj.registerFilesystemType('testfs', e.fsType, {}), { is: syserror.EEXIST });
  e.vfsObj.registerFilesystemType('internal', e.fsType, { allowUserMount: false });
  await t.throwsAsync(e.vfsObj.mountAt(e.ctx, e.creds, '', e.pop('/d'), 'internal', {}), { is: syserror.ENODEV });
  const m = await e.vfsObj.mountAt(e.ctx, e.creds, '', e.pop('/d'), 'internal', { internalMount: true });
  t.is(m.filesystem().filesystemType().name(), 'testfs');
  t.true(e.vfsObj.generateProcFilesystems().includes('nodev\ttestfs\n'));
});
