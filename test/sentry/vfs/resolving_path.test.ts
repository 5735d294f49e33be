// ResolvingPath semantics through VirtualFilesystem (gVisor's
// resolving_path.go, Linux's fs/namei.c): ".", "..", the task root, symlink
// following and its 40-link limit, trailing slashes, mount crossings.

import test from 'ava';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_WRONLY } from '../../../pkg/abi/linux/file';
import * as syserror from '../../../pkg/syserror/syserror';
import { newEnv, type Env } from './harness';

async function setup(): Promise<Env> {
  const e = await newEnv();
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mkdirAt(ctx, creds, e.pop('/a'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, e.pop('/a/b'), { mode: 0o755 });
  await vfsObj.mknodAt(ctx, creds, e.pop('/a/b/file'), { mode: S_IFREG | 0o644 });
  await vfsObj.symlinkAt(ctx, creds, e.pop('/rel', { follow: false }), 'a/b');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/abs', { follow: false }), '/a/b/file');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/a/up', { follow: false }), '..');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/loop1', { follow: false }), 'loop2');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/loop2', { follow: false }), 'loop1');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/empty', { follow: false }), '');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/dirslash', { follow: false }), 'a/');
  await vfsObj.symlinkAt(ctx, creds, e.pop('/fileslash', { follow: false }), 'a/b/file/');
  return e;
}

async function typeOf(e: Env, path: string, follow = true): Promise<number> {
  const st = await e.vfsObj.statAt(e.ctx, e.creds, e.pop(path, { follow }), {});
  return st.mode & S_IFMT;
}

const cases: Array<[string, string, boolean, number | syserror.LinuxError]> = [
  // [name, path, followFinalSymlink, file type or error]
  ['"." is the directory itself', '/a/.', true, S_IFDIR],
  ['".." goes to the parent', '/a/b/..', true, S_IFDIR],
  ['".." at the root stays at the root (fs/namei.c:follow_dotdot)', '/../../a/b/file', true, S_IFREG],
  ['relative symlink is followed', '/rel/file', true, S_IFREG],
  ['absolute symlink restarts at the root', '/abs', true, S_IFREG],
  ['final symlink not followed without follow', '/abs', false, S_IFLNK],
  ['symlink to ".." inside a directory', '/a/up/a/b/file', true, S_IFREG],
  ['trailing slash follows a final symlink (lookup_last)', '/rel/', false, S_IFDIR],
  ['trailing slash on a regular file is ENOTDIR', '/a/b/file/', true, syserror.ENOTDIR],
  ['"." after a regular file is ENOTDIR', '/a/b/file/.', true, syserror.ENOTDIR],
  ['symlink loop is ELOOP', '/loop1', true, syserror.ELOOP],
  ['a loop inside the path is ELOOP', '/loop1/x', false, syserror.ELOOP],
  ['empty symlink target is ENOENT', '/empty', true, syserror.ENOENT],
  ['target ending in "/" must be a directory (relpathPrepend)', '/fileslash', true, syserror.ENOTDIR],
  ['target ending in "/" to a directory', '/dirslash', true, S_IFDIR],
  ['missing component is ENOENT', '/a/nope/file', true, syserror.ENOENT],
  ['component through a regular file is ENOTDIR', '/a/b/file/x', true, syserror.ENOTDIR],
];

for (const [name, path, follow, want] of cases) {
  test(`path: ${name}`, async (t) => {
    const e = await setup();
    t.teardown(() => e.teardown());
    if (typeof want === 'number') {
      t.is(await typeOf(e, path, follow), want);
    } else {
      await t.throwsAsync(typeOf(e, path, follow), { is: want });
    }
  });
}

test('path: 40 symlinks are followed, the 41st is ELOOP (MAXSYMLINKS)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  // s0 -> s1 -> ... -> s40 -> a
  await vfsObj.symlinkAt(ctx, creds, e.pop('/s40', { follow: false }), 'a');
  for (let i = 39; i >= 0; i--) await vfsObj.symlinkAt(ctx, creds, e.pop(`/s${i}`, { follow: false }), `s${i + 1}`);
  t.is(await typeOf(e, '/s1'), S_IFDIR); // 40 links
  await t.throwsAsync(typeOf(e, '/s0'), { is: syserror.ELOOP }); // 41 links
});

test('path: ".." stops at the task root (chroot)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const chroot = await vfsObj.getDentryAt(ctx, creds, e.pop('/a'), {});
  t.teardown(() => chroot.decRef(ctx));
  // From the chroot, "/../.." is the chroot, and "/b/file" is /a/b/file.
  const st = await vfsObj.statAt(ctx, creds, e.pop('/../../b/file', { root: chroot }), {});
  t.is(st.mode & S_IFMT, S_IFREG);
  // An absolute symlink inside the chroot resolves against it: /abs is not
  // there, and /a/up -> ".." stops at the chroot.
  await t.throwsAsync(vfsObj.statAt(ctx, creds, e.pop('/a/b/file', { root: chroot }), {}), { is: syserror.ENOENT });
  const up = await vfsObj.statAt(ctx, creds, e.pop('/up/b/file', { root: chroot }), {});
  t.is(up.mode & S_IFMT, S_IFREG);
});

test('path: O_DIRECTORY makes the final file a directory (rp.mustBeDir)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await t.throwsAsync(vfsObj.openAt(ctx, creds, e.pop('/a/b/file'), { flags: O_RDONLY | O_DIRECTORY }), { is: syserror.ENOTDIR });
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/rel', { follow: true }), { flags: O_RDONLY | O_DIRECTORY });
  fd.decRef(ctx);
  t.pass();
});

test('path: O_NOFOLLOW on a final symlink is ELOOP', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  await t.throwsAsync(e.vfsObj.openAt(e.ctx, e.creds, e.pop('/abs', { follow: true }), { flags: O_RDONLY | O_NOFOLLOW }), { is: syserror.ELOOP });
});

test('path: O_CREAT through a dangling symlink creates at the relative target', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.symlinkAt(ctx, creds, e.pop('/dangling', { follow: false }), 'a/new');
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/dangling', { follow: true }), { flags: O_WRONLY | O_CREAT, mode: 0o644 });
  fd.decRef(ctx);
  t.is(await typeOf(e, '/a/new'), S_IFREG);
});

test('path: creation and deletion of "" and "/" (vfs.go preconditions)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await t.throwsAsync(vfsObj.mkdirAt(ctx, creds, e.pop('', { follow: false }), { mode: 0o755 }), { is: syserror.ENOENT });
  await t.throwsAsync(vfsObj.mkdirAt(ctx, creds, e.pop('/', { follow: false }), { mode: 0o755 }), { is: syserror.EEXIST });
  await t.throwsAsync(vfsObj.symlinkAt(ctx, creds, e.pop('', { follow: false }), 'x'), { is: syserror.ENOENT });
  await t.throwsAsync(vfsObj.unlinkAt(ctx, creds, e.pop('', { follow: false })), { is: syserror.ENOENT });
  await t.throwsAsync(vfsObj.rmdirAt(ctx, creds, e.pop('/', { follow: false })), { is: syserror.EBUSY });
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/', { follow: false }), e.pop('/x', { follow: false }), {}), { is: syserror.EBUSY });
  await t.throwsAsync(vfsObj.renameAt(ctx, creds, e.pop('/a/.', { follow: false }), e.pop('/x', { follow: false }), {}), { is: syserror.EBUSY });
  await t.throwsAsync(vfsObj.mkdirAt(ctx, creds, e.pop('/x', { follow: true }), { mode: 0o755 }), { is: syserror.EINVAL }, 'creation paths cannot follow');
});

test('path: resolution crosses mounts downwards and ".." upwards', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/a/b'), 'testfs', {});
  // /a/b is now the other filesystem's root: its file is hidden.
  await t.throwsAsync(typeOf(e, '/a/b/file'), { is: syserror.ENOENT });
  await vfsObj.mkdirAt(ctx, creds, e.pop('/a/b/inner', { follow: false }), { mode: 0o755 });
  const inner = await vfsObj.statAt(ctx, creds, e.pop('/a/b/inner'), {});
  const top = await vfsObj.statAt(ctx, creds, e.pop('/a'), {});
  t.not(inner.devMinor, top.devMinor, 'inner lives on the mounted filesystem');
  // ".." from the mounted root goes to the mount point's parent.
  const dotdot = await vfsObj.statAt(ctx, creds, e.pop('/a/b/inner/../..'), {});
  t.is(dotdot.ino, top.ino);
  t.is(dotdot.devMinor, top.devMinor);
  // An absolute symlink inside the mount resolves from the VFS root.
  await vfsObj.symlinkAt(ctx, creds, e.pop('/a/b/inner/toabs', { follow: false }), '/a/up');
  t.is(await typeOf(e, '/a/b/inner/toabs/a'), S_IFDIR);
});

test('path: stacked mounts: the last mount at a point wins, ".." skips the stack', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mountAt(ctx, creds, '', e.pop('/a'), 'testfs', {});
  await vfsObj.mkdirAt(ctx, creds, e.pop('/a/first', { follow: false }), { mode: 0o755 });
  await vfsObj.mountAt(ctx, creds, '', e.pop('/a'), 'testfs', {});
  await t.throwsAsync(typeOf(e, '/a/first'), { is: syserror.ENOENT });
  const root = await vfsObj.statAt(ctx, creds, e.pop('/'), {});
  const up = await vfsObj.statAt(ctx, creds, e.pop('/a/..'), {});
  t.is(up.ino, root.ino);
  t.is(up.devMinor, root.devMinor);
});

test('open: O_TMPFILE needs O_DIRECTORY, no O_CREAT and a writable mode (EINVAL)', async (t) => {
  const e = await setup();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  const tmpfileBit = 0o20000000; // __O_TMPFILE
  for (const flags of [tmpfileBit | O_WRONLY, tmpfileBit | O_DIRECTORY | O_RDONLY, tmpfileBit | O_DIRECTORY | O_WRONLY | O_CREAT]) {
    await t.throwsAsync(vfsObj.openAt(ctx, creds, e.pop('/a', { follow: true }), { flags, mode: 0o600 }), { is: syserror.EINVAL }, flags.toString(8));
  }
});
