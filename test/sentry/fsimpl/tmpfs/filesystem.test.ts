// tmpfs path operations through the VFS (gVisor's filesystem.go): open and
// create, symlinks, hard links, rename edge cases, unlink/rmdir, mknod,
// xattrs, permissions for a non-root credential, the sticky bit, inotify
// events, paths, socket endpoints, and operations racing at their awaits.
// Expected errnos are Linux's (checked on Linux 6.x tmpfs where they differ
// from gVisor at dbe41765; each such case says so).

import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import { IN_ALL_EVENTS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_NONBLOCK, parseInotifyEvents } from '../../../../pkg/abi/linux/inotify';
import { STATX_MODE, newStatx } from '../../../../pkg/abi/linux/stat';
import * as fspath from '../../../../pkg/fspath';
import * as syserror from '../../../../pkg/syserror/syserror';
import * as vfs from '../../../../pkg/sentry/vfs';
import { directory } from '../../../../pkg/sentry/fsimpl/tmpfs/directory';
import type { dentry } from '../../../../pkg/sentry/fsimpl/tmpfs/tmpfs';
import { errnoOf, leakCheck, newTmpfsRoot, openAt, readAll, type Env } from './helpers';

async function touch(env: Env, path: string, mode = 0o644, c = { ctx: env.ctx, creds: env.creds }): Promise<void> {
  (await openAt(env, path, linux.O_CREAT | linux.O_WRONLY, mode, c.ctx, c.creds)).decRef(env.ctx);
}

async function writeFile(env: Env, path: string, data: string): Promise<void> {
  const fd = await openAt(env, path, linux.O_CREAT | linux.O_WRONLY | linux.O_TRUNC, 0o644);
  await fd.write(env.ctx, Buffer.from(data));
  fd.decRef(env.ctx);
}

async function readFile(env: Env, path: string): Promise<string> {
  const fd = await openAt(env, path, linux.O_RDONLY);
  try {
    return (await readAll(env.ctx, fd)).toString();
  } finally {
    fd.decRef(env.ctx);
  }
}

const exists = async (env: Env, p: string) => (await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop(p), {}))) === 'ok';

test('open: O_CREAT|O_EXCL, O_DIRECTORY, trailing slashes, ENOTDIR, ENOENT, ENAMETOOLONG, O_TMPFILE', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await touch(env, 'f');
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  const cases: [string, number, string][] = [
    ['f', linux.O_CREAT | linux.O_EXCL | linux.O_RDWR, 'EEXIST'],
    ['f', linux.O_CREAT | linux.O_RDWR, 'ok'],
    ['d', linux.O_CREAT | linux.O_RDONLY, 'EISDIR'], // Linux's do_open (gVisor at dbe41765 opens it)
    ['/', linux.O_CREAT | linux.O_RDONLY, 'EISDIR'],
    ['d', linux.O_CREAT | linux.O_EXCL | linux.O_RDONLY, 'EEXIST'],
    ['new/', linux.O_CREAT | linux.O_RDWR, 'EISDIR'],
    ['f', linux.O_DIRECTORY | linux.O_RDONLY, 'ENOTDIR'],
    ['f/', linux.O_RDONLY, 'ENOTDIR'],
    ['f/x', linux.O_RDONLY, 'ENOTDIR'],
    ['f/x', linux.O_CREAT | linux.O_RDWR, 'ENOTDIR'],
    ['missing', linux.O_RDONLY, 'ENOENT'],
    ['missing/x', linux.O_CREAT | linux.O_RDWR, 'ENOENT'],
    ['d/.', linux.O_CREAT | linux.O_RDONLY, 'EISDIR'],
    ['x'.repeat(256), linux.O_CREAT | linux.O_RDWR, 'ENAMETOOLONG'],
    ['x'.repeat(256), linux.O_RDONLY, 'ENAMETOOLONG'],
    ['x'.repeat(255), linux.O_CREAT | linux.O_RDWR, 'ok'],
    ['d', linux.O_TMPFILE | linux.O_RDWR, 'EOPNOTSUPP'],
  ];
  for (const [path, flags, want] of cases) {
    const p = openAt(env, path, flags, 0o644).then((fd) => fd.decRef(ctx));
    t.is(await errnoOf(p), want, `open(${path.length > 20 ? path.slice(0, 8) + '...' : path}, ${flags.toString(8)})`);
  }
});

test('symlinks: readlink, following, O_NOFOLLOW ELOOP, loops ELOOP, dangling + O_CREAT creates the target, st_size', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await writeFile(env, 'd/f', 'hello');
  await vfsObj.symlinkAt(ctx, creds, env.pop('rel'), 'd/f');
  await vfsObj.symlinkAt(ctx, creds, env.pop('abs'), '/d/f');
  await vfsObj.symlinkAt(ctx, creds, env.pop('dirlink'), 'd');
  await vfsObj.symlinkAt(ctx, creds, env.pop('loop1'), 'loop2');
  await vfsObj.symlinkAt(ctx, creds, env.pop('loop2'), 'loop1');
  await vfsObj.symlinkAt(ctx, creds, env.pop('dangling'), 'd/created');
  t.is(await vfsObj.readlinkAt(ctx, creds, env.pop('rel')), 'd/f');
  t.is(await readFile(env, 'rel'), 'hello');
  t.is(await readFile(env, 'abs'), 'hello');
  t.is(await readFile(env, 'dirlink/f'), 'hello', 'symlink as an intermediate component');
  t.is(await errnoOf(openAt(env, 'rel', linux.O_RDONLY | linux.O_NOFOLLOW)), 'ELOOP');
  t.is(await errnoOf(openAt(env, 'loop1', linux.O_RDONLY)), 'ELOOP');
  t.is(await errnoOf(vfsObj.readlinkAt(ctx, creds, env.pop('d/f'))), 'EINVAL');
  const lst = await vfsObj.statAt(ctx, creds, env.pop('rel', false), {});
  t.is(lst.mode, linux.S_IFLNK | 0o777);
  t.is(lst.size, 3);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('rel', true), {})).size, 5);
  // open(O_CREAT) through a dangling symlink creates its target.
  (await openAt(env, 'dangling', linux.O_CREAT | linux.O_WRONLY, 0o600)).decRef(ctx);
  t.true(await exists(env, 'd/created'));
  t.is(await errnoOf(openAt(env, 'rel', linux.O_CREAT | linux.O_EXCL | linux.O_RDWR)), 'EEXIST', 'O_EXCL does not follow');
  t.is(await errnoOf(vfsObj.symlinkAt(ctx, creds, env.pop('rel'), 'x')), 'EEXIST');
  t.is(await errnoOf(vfsObj.symlinkAt(ctx, creds, env.pop('empty'), '')), 'ok', 'tmpfs stores an empty target (the syscall layer rejects it)');
  t.is(await errnoOf(openAt(env, 'empty', linux.O_RDONLY)), 'ENOENT');
  // "." and ".." through symlinks.
  t.is(await readFile(env, 'dirlink/../d/./f'), 'hello');
});

test('hard links: nlink, data shared, EPERM for directories, EEXIST, ENOENT for an unlinked file, EXDEV across mounts', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await writeFile(env, 'a', 'data');
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('mnt'), { mode: 0o755 });
  const link = (from: string, to: string) => errnoOf(vfsObj.linkAt(ctx, creds, env.pop(from), env.pop(to)));
  t.is(await link('a', 'b'), 'ok');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('a'), {})).nlink, 2);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('a'), {})).ino, (await vfsObj.statAt(ctx, creds, env.pop('b'), {})).ino);
  await writeFile(env, 'b', 'changed');
  t.is(await readFile(env, 'a'), 'changed');
  t.is(await link('d', 'd2'), 'EPERM');
  t.is(await link('a', 'd'), 'EEXIST');
  t.is(await link('a', 'b'), 'EEXIST');
  t.is(await link('nope', 'c'), 'ENOENT');
  await vfsObj.unlinkAt(ctx, creds, env.pop('b'));
  t.is((await vfsObj.statAt(ctx, creds, env.pop('a'), {})).nlink, 1);
  // An open file with no links left cannot be linked back.
  const fd = await openAt(env, 'a', linux.O_RDONLY);
  t.teardown(() => fd.decRef(ctx));
  await vfsObj.unlinkAt(ctx, creds, env.pop('a'));
  t.is((await fd.stat(ctx, {})).nlink, 0);
  t.is(await readAll(ctx, fd).then((b) => b.toString()), 'changed', 'data lives while the file is open');
  t.is(await errnoOf(vfsObj.linkAt(ctx, creds, { root: env.root, start: fd.virtualDentry(), path: fspath.parse(''), followFinalSymlink: false }, env.pop('back'))), 'ENOENT');
  // Across mounts: EXDEV.
  await vfsObj.mountAt(ctx, creds, '', env.pop('mnt'), 'tmpfs', {});
  await writeFile(env, 'c', 'x');
  t.is(await link('c', 'mnt/c'), 'EXDEV');
});

test('rename: edge cases (onto itself, hard links of one inode, dir over dirs and files, into itself, NOREPLACE, EXCHANGE, EXDEV, mount points)', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const mkdir = (p: string) => vfsObj.mkdirAt(ctx, creds, env.pop(p), { mode: 0o755 });
  const rename = (a: string, b: string, flags = 0) => errnoOf(vfsObj.renameAt(ctx, creds, env.pop(a), env.pop(b), { flags }));
  await mkdir('d1');
  await mkdir('d1/sub');
  await mkdir('d2');
  await mkdir('empty');
  await mkdir('full');
  await touch(env, 'full/x');
  await writeFile(env, 'f', 'F');
  await writeFile(env, 'g', 'G');
  await vfsObj.linkAt(ctx, creds, env.pop('f'), env.pop('f2'));

  t.is(await rename('f', 'f'), 'ok', 'onto itself');
  t.is(await rename('f', 'f2'), 'ok', 'onto another link of the same inode: nothing happens (Linux; gVisor drops a link)');
  t.true(await exists(env, 'f'));
  t.true(await exists(env, 'f2'));
  t.is((await vfsObj.statAt(ctx, creds, env.pop('f'), {})).nlink, 2);
  t.is(await rename('d1', 'full'), 'ENOTEMPTY');
  t.is(await rename('f', 'empty'), 'EISDIR');
  t.is(await rename('d1', 'g'), 'ENOTDIR');
  t.is(await rename('d1', 'd1/sub/x'), 'EINVAL', 'into its own subdirectory');
  t.is(await rename('d1', 'd1/x'), 'EINVAL');
  t.is(await rename('missing', 'x'), 'ENOENT');
  t.is(await rename('f', 'g', linux.RENAME_NOREPLACE), 'EEXIST');
  t.is(await rename('f', 'd2/f', linux.RENAME_NOREPLACE), 'ok');
  t.is(await rename('d2/f', 'f'), 'ok');
  t.is(await rename('f', 'g', linux.RENAME_EXCHANGE), 'EINVAL', 'RENAME_EXCHANGE as gVisor at dbe41765');
  t.is(await rename('f', 'g', linux.RENAME_WHITEOUT), 'EINVAL');
  t.is(await rename('f/', 'h'), 'ENOTDIR', 'trailing slash on a non-directory source');
  t.is(await rename('f', 'h/'), 'ENOTDIR');
  t.is(await rename('d1', 'd1moved/'), 'ok', 'a directory may be named with a trailing slash');
  t.is(await rename('d1moved', 'd1'), 'ok');

  // A file over a file: the replaced file stays readable through its fd.
  const gfd = await openAt(env, 'g', linux.O_RDONLY);
  t.teardown(() => gfd.decRef(ctx));
  t.is(await rename('f', 'g'), 'ok');
  t.is(await readFile(env, 'g'), 'F');
  t.is((await readAll(ctx, gfd)).toString(), 'G');
  t.is((await gfd.stat(ctx, {})).nlink, 0);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('g'), {})).nlink, 2, 'the renamed inode keeps its other link');

  // A directory over an empty directory, moving between parents: link counts.
  t.is(await rename('d1', 'd2/empty2'), 'ok');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('d2'), {})).nlink, 3);
  t.is(await rename('d2/empty2', 'empty'), 'ok');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('d2'), {})).nlink, 2);
  t.true(await exists(env, 'empty/sub'));
  const rootNlink = (await vfsObj.statAt(ctx, creds, env.pop('/'), {})).nlink;
  t.is(rootNlink, 2 + 3, 'root: ".", "..", and d2, empty, full');

  // Mount points cannot be renamed or replaced (EBUSY); across mounts EXDEV.
  await mkdir('mnt');
  await vfsObj.mountAt(ctx, creds, '', env.pop('mnt'), 'tmpfs', {});
  t.is(await rename('mnt', 'mnt2'), 'EBUSY');
  t.is(await rename('full', 'mnt'), 'EBUSY');
  await touch(env, 'mnt/inner');
  t.is(await rename('mnt/inner', 'outer'), 'EXDEV');
  t.is(await rename('mnt/inner', 'mnt/inner2'), 'ok');
  t.is(await rename('d2/.', 'x'), 'EBUSY');
  t.is(await rename('x', 'd2/..'), 'EBUSY');
});

test('unlink: EISDIR for directories, ENOTDIR with a trailing slash, EBUSY for a mount point', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('mnt'), { mode: 0o755 });
  await touch(env, 'f');
  const unlink = (p: string) => errnoOf(vfsObj.unlinkAt(ctx, creds, env.pop(p)));
  t.is(await unlink('d'), 'EISDIR');
  t.is(await unlink('f/'), 'ENOTDIR');
  t.is(await unlink('missing'), 'ENOENT');
  t.is(await unlink('d/.'), 'EISDIR');
  await vfsObj.mountAt(ctx, creds, '', env.pop('mnt'), 'tmpfs', {});
  t.is(await errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('mnt'))), 'EBUSY');
  t.is(await unlink('f'), 'ok');
  t.false(await exists(env, 'f'));
});

test('mknod: FIFOs and sockets for anyone; devices need CAP_MKNOD (EPERM, as Linux); a device without a driver opens ENXIO; a socket file ENXIO', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const user = env.as(1000, 1000);
  const mknod = (c: { ctx: typeof ctx; creds: typeof creds }, p: string, mode: number, major = 0, minor = 0) =>
    errnoOf(vfsObj.mknodAt(c.ctx, c.creds, env.pop(p), { mode, devMajor: major, devMinor: minor }));
  t.is(await mknod(user, 'cdev', linux.S_IFCHR | 0o644, 1, 3), 'EPERM');
  t.is(await mknod(user, 'bdev', linux.S_IFBLK | 0o644, 8, 0), 'EPERM');
  t.is(await mknod(user, 'whiteout', linux.S_IFCHR | 0o644, 0, 0), 'ok', 'a 0:0 character device is a whiteout (no CAP_MKNOD needed)');
  t.is(await mknod(user, 'fifo', linux.S_IFIFO | 0o644), 'ok');
  t.is(await mknod(user, 'sock', linux.S_IFSOCK | 0o644), 'ok');
  t.is(await mknod(user, 'reg', linux.S_IFREG | 0o644), 'ok');
  t.is(await mknod({ ctx, creds }, 'cdev', linux.S_IFCHR | 0o644, 1, 3), 'ok');
  t.is(await mknod({ ctx, creds }, 'bdev', linux.S_IFBLK | 0o644, 8, 1), 'ok');
  t.is(await mknod({ ctx, creds }, 'cdev', linux.S_IFCHR | 0o644, 1, 3), 'EEXIST');
  t.is(await mknod({ ctx, creds }, 'bad', 0o170000 | 0o644), 'EINVAL');
  const st = await vfsObj.statAt(ctx, creds, env.pop('cdev'), {});
  t.is(st.mode, linux.S_IFCHR | 0o644);
  t.deepEqual([st.rdevMajor, st.rdevMinor], [1, 3]);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('bdev'), {})).mode, linux.S_IFBLK | 0o644);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('sock'), {})).mode, linux.S_IFSOCK | 0o644);
  t.is(await errnoOf(openAt(env, 'cdev', linux.O_RDONLY)), 'ENXIO');
  t.is(await errnoOf(openAt(env, 'sock', linux.O_RDONLY)), 'ENXIO');
});

test('bound sockets: boundEndpointAt returns the endpoint slot; other files ECONNREFUSED; write permission needed', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const ep: vfs.BoundEndpoint = {};
  await vfsObj.mknodAt(ctx, creds, env.pop('sock'), { mode: linux.S_IFSOCK | 0o600, endpoint: ep });
  await vfsObj.mknodAt(ctx, creds, env.pop('unbound'), { mode: linux.S_IFSOCK | 0o600 });
  await touch(env, 'f');
  t.is(await vfsObj.boundEndpointAt(ctx, creds, env.pop('sock'), { addr: '/sock' }), ep);
  t.is(await errnoOf(vfsObj.boundEndpointAt(ctx, creds, env.pop('unbound'), { addr: '/unbound' })), 'ECONNREFUSED');
  t.is(await errnoOf(vfsObj.boundEndpointAt(ctx, creds, env.pop('f'), { addr: '/f' })), 'ECONNREFUSED');
  const user = env.as(1000, 1000);
  t.is(await errnoOf(vfsObj.boundEndpointAt(user.ctx, user.creds, env.pop('sock'), { addr: '/sock' })), 'EACCES');
});

test('xattrs: user.* set/get/list/remove with XATTR_CREATE/REPLACE, ERANGE, ENODATA; other namespaces EOPNOTSUPP; trusted.* needs CAP_SYS_ADMIN', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await touch(env, 'f', 0o666);
  const user = env.as(1000, 1000);
  const set = (name: string, value: string, flags = 0, c = { ctx, creds }, p = 'f') =>
    errnoOf(vfsObj.setXattrAt(c.ctx, c.creds, env.pop(p), { name, value, flags }));
  const get = (name: string, size = 0, c = { ctx, creds }, p = 'f') => vfsObj.getXattrAt(c.ctx, c.creds, env.pop(p), { name, size });
  t.is(await set('user.a', 'one'), 'ok');
  t.is(await get('user.a'), 'one');
  t.is(await set('user.a', 'two', linux.XATTR_CREATE), 'EEXIST');
  t.is(await set('user.b', 'x', linux.XATTR_REPLACE), 'ENODATA');
  t.is(await set('user.a', 'two', linux.XATTR_REPLACE), 'ok');
  t.is(await get('user.a'), 'two');
  t.is(await errnoOf(get('user.a', 1)), 'ERANGE');
  t.is(await errnoOf(get('user.none')), 'ENODATA');
  t.is(await set('security.selinux', 'x'), 'EOPNOTSUPP');
  t.is(await set('system.posix_acl_access', 'x'), 'EOPNOTSUPP');
  t.is(await set('trusted.t', 'root only'), 'ok');
  t.is(await get('trusted.t'), 'root only');
  t.is(await set('trusted.u', 'x', 0, user), 'EPERM', 'trusted.* write without CAP_SYS_ADMIN');
  t.is(await errnoOf(get('trusted.t', 0, user)), 'ENODATA', 'trusted.* read without CAP_SYS_ADMIN');
  t.deepEqual((await vfsObj.listXattrAt(ctx, creds, env.pop('f'), 0)).sort(), ['trusted.t', 'user.a']);
  t.is(await errnoOf(vfsObj.listXattrAt(ctx, creds, env.pop('f'), 5)), 'ERANGE');
  t.is(await errnoOf(vfsObj.removeXattrAt(ctx, creds, env.pop('f'), 'user.a')), 'ok');
  t.is(await errnoOf(vfsObj.removeXattrAt(ctx, creds, env.pop('f'), 'user.a')), 'ENODATA');
  // Permissions: user.* needs write (set) or read (get) permission on the file.
  await touch(env, 'ro', 0o644);
  t.is(await set('user.x', 'v', 0, user, 'ro'), 'EACCES');
  t.is(await set('user.x', 'v', 0, user, 'f'), 'ok', 'a writable file');
  // user.* only on regular files and directories: EPERM to set on others.
  await vfsObj.mknodAt(ctx, creds, env.pop('fifo'), { mode: linux.S_IFIFO | 0o666 });
  t.is(await set('user.x', 'v', 0, { ctx, creds }, 'fifo'), 'EPERM');
  // Sticky directories: only the owner may set user.* xattrs.
  await vfsObj.mkdirAt(ctx, creds, env.pop('sticky'), { mode: 0o1777 });
  t.is(await set('user.x', 'v', 0, user, 'sticky'), 'EPERM');
  // Through a file description.
  const fd = await openAt(env, 'f', linux.O_RDONLY);
  t.teardown(() => fd.decRef(ctx));
  await fd.setXattr(ctx, { name: 'user.fd', value: 'v', flags: 0 });
  t.is(await fd.getXattr(ctx, { name: 'user.fd', size: 0 }), 'v');
});

test('permissions for a non-root task: search, read, write, create, delete', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const user = env.as(1000, 1000);
  const mkdir = (p: string, mode: number) => vfsObj.mkdirAt(ctx, creds, env.pop(p), { mode });
  await mkdir('pub', 0o755);
  await mkdir('nosearch', 0o766);
  await mkdir('mine', 0o700);
  await vfsObj.setStatAt(ctx, creds, env.pop('mine'), { stat: Object.assign(newStatx(), { mask: 0x8 | 0x10, uid: 1000, gid: 1000 }) });
  await touch(env, 'pub/secret', 0o600);
  await touch(env, 'pub/readable', 0o644);
  await touch(env, 'nosearch/f', 0o666);
  const uopen = (p: string, flags: number) => errnoOf(openAt(env, p, flags, 0o644, user.ctx, user.creds).then((fd) => fd.decRef(ctx)));
  t.is(await uopen('pub/secret', linux.O_RDONLY), 'EACCES');
  t.is(await uopen('pub/readable', linux.O_RDONLY), 'ok');
  t.is(await uopen('pub/readable', linux.O_WRONLY), 'EACCES');
  t.is(await uopen('pub/readable', linux.O_RDONLY | linux.O_TRUNC), 'EACCES', 'O_TRUNC needs write permission');
  t.is(await uopen('nosearch/f', linux.O_RDONLY), 'EACCES', 'no search permission on the directory');
  t.is(await uopen('pub/new', linux.O_CREAT | linux.O_WRONLY), 'EACCES');
  t.is(await uopen('pub/readable', linux.O_CREAT | linux.O_RDONLY), 'ok', 'O_CREAT of an existing file needs no write permission on the directory');
  t.is(await uopen('mine/new', linux.O_CREAT | linux.O_WRONLY), 'ok');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('mine/new'), {})).uid, 1000, 'owned by the creator');
  t.is(await errnoOf(vfsObj.unlinkAt(user.ctx, user.creds, env.pop('pub/readable'))), 'EACCES');
  t.is(await errnoOf(vfsObj.mkdirAt(user.ctx, user.creds, env.pop('pub/d'), { mode: 0o755 })), 'EACCES');
  t.is(await errnoOf(vfsObj.accessAt(user.ctx, user.creds, vfs.MayRead, env.pop('pub/secret'))), 'EACCES');
  t.is(await errnoOf(vfsObj.accessAt(user.ctx, user.creds, vfs.MayRead, env.pop('pub/readable'))), 'ok');
  t.is(await errnoOf(vfsObj.accessAt(ctx, creds, vfs.MayExec, env.pop('pub/readable'))), 'EACCES', 'root cannot execute a file with no x bit');
  t.is(await errnoOf(vfsObj.accessAt(ctx, creds, vfs.MayRead | vfs.MayWrite, env.pop('pub/secret'))), 'ok', 'root overrides rw');
  // Hard links to a file the caller cannot read and write: EPERM (may_linkat).
  await vfsObj.mkdirAt(ctx, creds, env.pop('tmp'), { mode: 0o1777 });
  t.is(await errnoOf(vfsObj.linkAt(user.ctx, user.creds, env.pop('pub/readable'), env.pop('tmp/l'))), 'EPERM');
  // Group permissions through supplementary groups.
  await touch(env, 'pub/group', 0o640);
  await vfsObj.setStatAt(ctx, creds, env.pop('pub/group'), { stat: Object.assign(newStatx(), { mask: 0x10, gid: 2000 }) });
  const member = env.as(1001, 1001, [2000]);
  t.is(await errnoOf(openAt(env, 'pub/group', linux.O_RDONLY, 0, member.ctx, member.creds).then((fd) => fd.decRef(ctx))), 'ok');
  t.is(await uopen('pub/group', linux.O_RDONLY), 'EACCES');
});

test('sticky bit: only the file owner, the directory owner, or CAP_FOWNER may unlink or rename within', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const alice = env.as(1000, 1000);
  const bob = env.as(1001, 1001);
  await vfsObj.mkdirAt(ctx, creds, env.pop('tmp'), { mode: 0o1777 });
  await vfsObj.mkdirAt(bob.ctx, bob.creds, env.pop('tmp/bobs'), { mode: 0o1777 });
  await touch(env, 'tmp/a', 0o666, alice);
  await touch(env, 'tmp/a2', 0o666, alice);
  await touch(env, 'tmp/bobs/a', 0o666, alice);
  await touch(env, 'tmp/b', 0o666, bob);
  t.is(await errnoOf(vfsObj.unlinkAt(bob.ctx, bob.creds, env.pop('tmp/a'))), 'EPERM');
  t.is(await errnoOf(vfsObj.renameAt(bob.ctx, bob.creds, env.pop('tmp/a'), env.pop('tmp/c'), {})), 'EPERM');
  t.is(await errnoOf(vfsObj.renameAt(bob.ctx, bob.creds, env.pop('tmp/b'), env.pop('tmp/a'), {})), 'EPERM', 'replacing another user\'s file (Linux may_delete on the target)');
  t.is(await errnoOf(vfsObj.unlinkAt(bob.ctx, bob.creds, env.pop('tmp/bobs/a'))), 'ok', 'the directory owner may (check_sticky)');
  t.is(await errnoOf(vfsObj.renameAt(alice.ctx, alice.creds, env.pop('tmp/a'), env.pop('tmp/c'), {})), 'ok', 'the file owner may');
  t.is(await errnoOf(vfsObj.unlinkAt(ctx, creds, env.pop('tmp/a2'))), 'ok', 'root (CAP_FOWNER) may');
  t.is(await errnoOf(vfsObj.unlinkAt(bob.ctx, bob.creds, env.pop('tmp/b'))), 'ok');
});

test('set-group-ID directories: new files take the directory\'s group; new directories inherit S_ISGID', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('g'), { mode: 0o777 });
  await vfsObj.setStatAt(ctx, creds, env.pop('g'), { stat: Object.assign(newStatx(), { mask: 0x10, gid: 500 }) });
  await vfsObj.setStatAt(ctx, creds, env.pop('g'), { stat: Object.assign(newStatx(), { mask: STATX_MODE, mode: 0o2777 }) });
  const user = env.as(1000, 1000);
  await touch(env, 'g/f', 0o644, user);
  await vfsObj.mkdirAt(user.ctx, user.creds, env.pop('g/d'), { mode: 0o755 });
  const f = await vfsObj.statAt(ctx, creds, env.pop('g/f'), {});
  const d = await vfsObj.statAt(ctx, creds, env.pop('g/d'), {});
  t.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 500, 0o644]);
  t.deepEqual([d.uid, d.gid, d.mode & 0o7777], [1000, 500, 0o2755]);
});

test('inotify: events tmpfs raises for create, write, attrib, rename (one cookie), unlink, mkdir, rmdir', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('w'), { mode: 0o755 });
  const ino = vfs.newInotifyFD(ctx, vfsObj, IN_NONBLOCK);
  t.teardown(() => ino.decRef(ctx));
  const wd = await vfs.addWatchAt(ctx, vfsObj, creds, ino, env.pop('w'), IN_ALL_EVENTS);
  const drain = async () => {
    const buf = Buffer.alloc(4096);
    try {
      const n = await ino.read(ctx, buf);
      return parseInotifyEvents(buf.subarray(0, n));
    } catch {
      return [];
    }
  };
  await drain();
  await vfsObj.mknodAt(ctx, creds, env.pop('w/f'), { mode: linux.S_IFREG | 0o644 });
  await vfsObj.setXattrAt(ctx, creds, env.pop('w/f'), { name: 'user.x', value: 'v', flags: 0 });
  await vfsObj.setStatAt(ctx, creds, env.pop('w/f'), { stat: Object.assign(newStatx(), { mask: STATX_MODE, mode: 0o600 }) });
  await vfsObj.renameAt(ctx, creds, env.pop('w/f'), env.pop('w/g'), {});
  await vfsObj.unlinkAt(ctx, creds, env.pop('w/g'));
  await vfsObj.mkdirAt(ctx, creds, env.pop('w/d'), { mode: 0o755 });
  await vfsObj.rmdirAt(ctx, creds, env.pop('w/d'));
  const evs = await drain();
  t.deepEqual(evs.map((e) => [e.wd, e.mask, e.name]), [
    [wd, IN_CREATE, 'f'],
    [wd, IN_ATTRIB, 'f'], // setxattr and chmod: identical consecutive events coalesce, as Linux's
    [wd, IN_MOVED_FROM, 'f'],
    [wd, IN_MOVED_TO, 'g'],
    [wd, IN_DELETE, 'g'],
    [wd, IN_CREATE | IN_ISDIR, 'd'],
    [wd, IN_DELETE | IN_ISDIR, 'd'],
  ]);
  t.not(evs[2].cookie, 0);
  t.is(evs[2].cookie, evs[3].cookie);
  // Truncate through setStat: IN_MODIFY.
  await writeFile(env, 'w/h', '');
  await drain();
  await vfsObj.setStatAt(ctx, creds, env.pop('w/h'), { stat: Object.assign(newStatx(), { mask: 0x200, size: 10 }) });
  t.deepEqual((await drain()).map((e) => [e.mask, e.name]), [[IN_MODIFY, 'h']]);
});

test('paths: pathnameWithDeleted for nested directories, " (deleted)" after removal', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('a'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('a/b'), { mode: 0o755 });
  const fd = await openAt(env, 'a/b', linux.O_RDONLY);
  t.teardown(() => fd.decRef(ctx));
  t.is(await vfsObj.pathnameWithDeleted(ctx, env.root, fd.virtualDentry()), '/a/b');
  await vfsObj.renameAt(ctx, creds, env.pop('a/b'), env.pop('c'), {});
  t.is(await vfsObj.pathnameWithDeleted(ctx, env.root, fd.virtualDentry()), '/c');
  await vfsObj.rmdirAt(ctx, creds, env.pop('c'));
  t.is(await vfsObj.pathnameWithDeleted(ctx, env.root, fd.virtualDentry()), '/c (deleted)');
});

test('concurrency: rmdir racing a create inside never loses the file; concurrent creates of one name: one wins', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  for (let i = 0; i < 20; i++) {
    await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
    const [rm, mk] = await Promise.all([
      errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('d'))),
      errnoOf(vfsObj.mknodAt(ctx, creds, env.pop('d/f'), { mode: linux.S_IFREG | 0o644 })),
    ]);
    t.true((rm === 'ok' && mk === 'ENOENT') || (rm === 'ENOTEMPTY' && mk === 'ok'), `rmdir ${rm}, create ${mk}`);
    if (mk === 'ok') {
      await vfsObj.unlinkAt(ctx, creds, env.pop('d/f'));
      await vfsObj.rmdirAt(ctx, creds, env.pop('d'));
    }
  }
  const results = await Promise.all(Array.from({ length: 10 }, () =>
    errnoOf(openAt(env, 'one', linux.O_CREAT | linux.O_EXCL | linux.O_WRONLY).then((fd) => fd.decRef(ctx)))));
  t.is(results.filter((r) => r === 'ok').length, 1);
  t.is(results.filter((r) => r === 'EEXIST').length, 9);
  // Many renames in flight: every file ends up somewhere, exactly once.
  for (let i = 0; i < 10; i++) await touch(env, `r${i}`);
  await Promise.all(Array.from({ length: 10 }, (_, i) => vfsObj.renameAt(ctx, creds, env.pop(`r${i}`), env.pop(`s${i}`), {})));
  for (let i = 0; i < 10; i++) t.true(await exists(env, `s${i}`));
});

test('reference counts: after closing every file and dropping the mount, every inode of a populated tree is released', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('a'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('a/b'), { mode: 0o755 });
  await writeFile(env, 'a/b/f', 'x');
  await vfsObj.linkAt(ctx, creds, env.pop('a/b/f'), env.pop('a/g'));
  await vfsObj.symlinkAt(ctx, creds, env.pop('a/s'), 'b/f');
  await vfsObj.mknodAt(ctx, creds, env.pop('a/p'), { mode: linux.S_IFIFO | 0o644 });
  await writeFile(env, 'gone', 'y');
  const fd = await openAt(env, 'gone', linux.O_RDONLY);
  await vfsObj.unlinkAt(ctx, creds, env.pop('gone'));
  const dfd = await openAt(env, 'a', linux.O_RDONLY);
  await dfd.iterDirents(ctx, { handle: () => undefined });
  // Collect every inode, including the unlinked one held by fd.
  const inodes = new Set<{ refs: number }>();
  const walk = (d: dentry): void => {
    inodes.add(d.inode);
    if (d.inode.impl instanceof directory) for (const c of d.inode.impl.childMap.values()) walk(c);
  };
  walk(env.root.dentry().impl as dentry);
  inodes.add((fd.dentry().impl as dentry).inode);
  t.is(inodes.size, 7); // root, a, b, f (= g), s, p, gone
  const fs = (env.root.dentry().impl as dentry).inode.fs;
  t.is(fs.inodes.used, 7);
  t.is(fs.pages.used, 2);
  fd.decRef(ctx);
  dfd.decRef(ctx);
  leakCheck(t, env);
  t.deepEqual([...inodes].map((i) => i.refs), Array(7).fill(0));
  t.is(fs.inodes.used, 0, 'every inode given back');
  t.is(fs.pages.used, 0, 'every page given back');
});

test('check order as Linux (do_unlinkat, do_rmdir, do_renameat2, do_linkat), where gVisor at dbe41765 differs', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const user = env.as(1000, 1000);
  const long = 'n'.repeat(256);
  await vfsObj.mkdirAt(ctx, creds, env.pop('ro'), { mode: 0o755 });
  await touch(env, 'ro/file', 0o600);
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  await touch(env, 'd/x');
  await touch(env, 'f');
  const u = <T>(p: Promise<T>) => errnoOf(p);
  // ENAMETOOLONG from the lookup of the final component.
  t.is(await u(vfsObj.unlinkAt(ctx, creds, env.pop(long))), 'ENAMETOOLONG');
  t.is(await u(vfsObj.rmdirAt(ctx, creds, env.pop(long))), 'ENAMETOOLONG');
  t.is(await u(vfsObj.renameAt(ctx, creds, env.pop('f'), env.pop(long), {})), 'ENAMETOOLONG');
  t.is(await u(vfsObj.renameAt(ctx, creds, env.pop(long), env.pop('g'), {})), 'ENAMETOOLONG');
  // ENOENT before may_delete's EACCES.
  t.is(await u(vfsObj.unlinkAt(user.ctx, user.creds, env.pop('ro/nonexist'))), 'ENOENT');
  t.is(await u(vfsObj.rmdirAt(user.ctx, user.creds, env.pop('ro/nonexist'))), 'ENOENT');
  t.is(await u(vfsObj.unlinkAt(user.ctx, user.creds, env.pop('ro/file'))), 'EACCES');
  // A trailing slash: EISDIR for a directory... unlink("d/") is EISDIR, unlink("f/") ENOTDIR.
  t.is(await u(vfsObj.unlinkAt(ctx, creds, env.pop('d/'))), 'EISDIR');
  t.is(await u(vfsObj.unlinkAt(ctx, creds, env.pop('f/'))), 'ENOTDIR');
  // Renaming a non-empty directory onto itself succeeds.
  t.is(await u(vfsObj.renameAt(ctx, creds, env.pop('d'), env.pop('d'), {})), 'ok');
  t.is(await u(vfsObj.renameAt(ctx, creds, env.pop('d'), env.pop('d'), { flags: linux.RENAME_NOREPLACE })), 'EEXIST');
  // The target must not be an ancestor of the source: ENOTEMPTY.
  t.is(await u(vfsObj.renameAt(ctx, creds, env.pop('d/x'), env.pop('d'), {})), 'ENOTEMPTY');
  // may_linkat's EPERM before may_create's EACCES.
  t.is(await u(vfsObj.linkAt(user.ctx, user.creds, env.pop('ro/file'), env.pop('ro/h'))), 'EPERM');
  // A user's rename in a directory it cannot write: EACCES, after ENOENT.
  t.is(await u(vfsObj.renameAt(user.ctx, user.creds, env.pop('ro/none'), env.pop('ro/x'), {})), 'ENOENT');
  t.is(await u(vfsObj.renameAt(user.ctx, user.creds, env.pop('ro/file'), env.pop('ro/x'), {})), 'EACCES');
});

test('O_PATH: any file type, no permission check on the file, no FIFO wait; only fstat works', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await touch(env, 'secret', 0o000);
  await vfsObj.symlinkAt(ctx, creds, env.pop('link'), 'secret');
  await vfsObj.mknodAt(ctx, creds, env.pop('fifo'), { mode: linux.S_IFIFO | 0o644 });
  const user = env.as(1000, 1000);
  const opath = (p: string, extra = 0, c = user) => vfsObj.openAt(c.ctx, c.creds, env.pop(p, (extra & linux.O_NOFOLLOW) === 0), { flags: linux.O_PATH | extra });
  const fd = await opath('secret');
  t.teardown(() => fd.decRef(ctx));
  t.is((await fd.stat(ctx, {})).mode, linux.S_IFREG);
  t.is(await errnoOf(fd.read(ctx, Buffer.alloc(1))), 'EBADF');
  t.is(await errnoOf(fd.setXattr(ctx, { name: 'user.x', value: 'v', flags: 0 })), 'EBADF');
  const lfd = await opath('link', linux.O_NOFOLLOW);
  t.teardown(() => lfd.decRef(ctx));
  t.is((await lfd.stat(ctx, {})).mode & linux.S_IFMT, linux.S_IFLNK, 'O_PATH|O_NOFOLLOW opens the symlink itself');
  const pfd = await opath('fifo');
  t.teardown(() => pfd.decRef(ctx));
  t.is((await pfd.stat(ctx, {})).mode & linux.S_IFMT, linux.S_IFIFO, 'no wait for a writer');
  t.is(await errnoOf(opath('secret', linux.O_DIRECTORY)), 'ENOTDIR');
});

test('mounts: ".." out of a mounted tmpfs, absolute symlinks back to the root, ".." stops at the VFS root', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('mnt'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('jail'), { mode: 0o755 });
  await writeFile(env, 'top', 'root fs');
  await writeFile(env, 'jail/inside', 'jailed');
  await vfsObj.mountAt(ctx, creds, '', env.pop('mnt'), 'tmpfs', {});
  await vfsObj.mkdirAt(ctx, creds, env.pop('mnt/sub'), { mode: 0o755 });
  await vfsObj.symlinkAt(ctx, creds, env.pop('mnt/sub/abs'), '/top');
  t.is(await readFile(env, 'mnt/sub/../../top'), 'root fs', '".." crosses from the mount root to the mount point\'s parent');
  t.is(await readFile(env, 'mnt/sub/abs'), 'root fs');
  const st = await vfsObj.statAt(ctx, creds, env.pop('mnt'), {});
  t.is(st.mode & 0o7777, 0o1777, 'the mounted root, not the directory under it');
  // A VFS root inside the tree (chroot): ".." at it stays there.
  const jail = await vfsObj.getDentryAt(ctx, creds, env.pop('jail'), {});
  t.teardown(() => jail.decRef(ctx));
  const jailed = { root: jail, start: jail, path: fspath.parse('../../inside'), followFinalSymlink: true };
  const fd = await vfsObj.openAt(ctx, creds, jailed, { flags: linux.O_RDONLY });
  t.teardown(() => fd.decRef(ctx));
  t.is((await readAll(ctx, fd)).toString(), 'jailed');
  t.is(await vfsObj.pathnameWithDeleted(ctx, jail, fd.virtualDentry()), '/inside');
});

test('read-only mounts: every change is EROFS (in Linux\'s order), reads and stat work, atime stays', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('ro'), { mode: 0o755 });
  const mnt = await vfsObj.mountAt(ctx, creds, '', env.pop('ro'), 'tmpfs', {});
  await writeFile(env, 'ro/f', 'data');
  await vfsObj.mkdirAt(ctx, creds, env.pop('ro/d'), { mode: 0o755 });
  await vfsObj.setXattrAt(ctx, creds, env.pop('ro/f'), { name: 'user.x', value: 'v', flags: 0 });
  await vfsObj.setMountReadOnly(mnt, true);
  const stat = () => vfsObj.statAt(ctx, creds, env.pop('ro/f'), {});
  const before = await stat();
  const e = (p: Promise<unknown>) => errnoOf(p);
  const set = (mask: number, v: object) => e(vfsObj.setStatAt(ctx, creds, env.pop('ro/f'), { stat: Object.assign(newStatx(), v, { mask }) }));
  t.is(await set(STATX_MODE, { mode: 0o600 }), 'EROFS');
  t.is(await set(0x8, { uid: 5 }), 'EROFS');
  t.is(await set(0x200, { size: 0 }), 'EROFS');
  t.is(await set(0x20 | 0x40, { atime: { sec: 0, nsec: linux.UTIME_NOW }, mtime: { sec: 0, nsec: linux.UTIME_NOW } }), 'EROFS');
  t.is(await e(vfsObj.setXattrAt(ctx, creds, env.pop('ro/f'), { name: 'user.y', value: 'v', flags: 0 })), 'EROFS');
  t.is(await e(vfsObj.removeXattrAt(ctx, creds, env.pop('ro/f'), 'user.x')), 'EROFS');
  t.is(await vfsObj.getXattrAt(ctx, creds, env.pop('ro/f'), { name: 'user.x', size: 0 }), 'v');
  t.is(await e(openAt(env, 'ro/f', linux.O_RDONLY | linux.O_TRUNC)), 'EROFS');
  t.is(await e(openAt(env, 'ro/f', linux.O_WRONLY)), 'EROFS');
  t.is(await e(openAt(env, 'ro/new', linux.O_CREAT | linux.O_RDONLY)), 'EROFS');
  t.is(await e(openAt(env, 'ro/f', linux.O_CREAT | linux.O_RDONLY)), 'ok', 'O_CREAT of an existing file needs no write access');
  t.is(await e(vfsObj.mkdirAt(ctx, creds, env.pop('ro/d'), { mode: 0o755 })), 'EEXIST', 'EEXIST before EROFS (filename_create)');
  t.is(await e(vfsObj.mkdirAt(ctx, creds, env.pop('ro/e'), { mode: 0o755 })), 'EROFS');
  t.is(await e(vfsObj.unlinkAt(ctx, creds, env.pop('ro/missing'))), 'EROFS', 'EROFS before ENOENT (do_unlinkat)');
  t.is(await e(vfsObj.unlinkAt(ctx, creds, env.pop('ro/f'))), 'EROFS');
  t.is(await e(vfsObj.rmdirAt(ctx, creds, env.pop('ro/d'))), 'EROFS');
  t.is(await e(vfsObj.renameAt(ctx, creds, env.pop('ro/f'), env.pop('ro/g'), {})), 'EROFS');
  t.is(await e(vfsObj.linkAt(ctx, creds, env.pop('ro/f'), env.pop('ro/h'))), 'EROFS');
  t.is(await e(vfsObj.symlinkAt(ctx, creds, env.pop('ro/s'), 'f')), 'EROFS');
  t.is(await e(vfsObj.mknodAt(ctx, creds, env.pop('ro/p'), { mode: linux.S_IFIFO | 0o644 })), 'EROFS');
  t.is(await readFile(env, 'ro/f'), 'data');
  t.is((await stat()).atime.sec * 1e9 + (await stat()).atime.nsec, before.atime.sec * 1e9 + before.atime.nsec, 'no atime update on a read-only mount');
});

test('inotify on a file: IN_ATTRIB for a link or an unlink, IN_DELETE_SELF and IN_IGNORED once the last link and reference go', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await writeFile(env, 'f', 'x');
  const ino = vfs.newInotifyFD(ctx, vfsObj, IN_NONBLOCK);
  t.teardown(() => ino.decRef(ctx));
  await vfs.addWatchAt(ctx, vfsObj, creds, ino, env.pop('f'), IN_ALL_EVENTS);
  const drain = async () => {
    const buf = Buffer.alloc(4096);
    try {
      return parseInotifyEvents(buf.subarray(0, await ino.read(ctx, buf))).map((e) => e.mask);
    } catch {
      return [];
    }
  };
  await vfsObj.linkAt(ctx, creds, env.pop('f'), env.pop('g'));
  t.deepEqual(await drain(), [IN_ATTRIB]);
  await vfsObj.unlinkAt(ctx, creds, env.pop('f'));
  t.deepEqual(await drain(), [IN_ATTRIB], 'one link left');
  const fd = await openAt(env, 'g', linux.O_RDONLY);
  await drain();
  await vfsObj.unlinkAt(ctx, creds, env.pop('g'));
  t.deepEqual(await drain(), [IN_ATTRIB], 'an open file description keeps the inode');
  fd.decRef(ctx);
  t.deepEqual(await drain(), [0x400 /* IN_DELETE_SELF */, 0x8000 /* IN_IGNORED */]);
});

test('O_PATH: no IN_OPEN (Linux\'s do_open skips fsnotify_open for FMODE_PATH); unlockPOSIX and unlockBSD are no-ops (no locks)', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await writeFile(env, 'f', 'x');
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  const ino = vfs.newInotifyFD(ctx, vfsObj, IN_NONBLOCK);
  t.teardown(() => ino.decRef(ctx));
  await vfs.addWatchAt(ctx, vfsObj, creds, ino, env.pop(''), IN_ALL_EVENTS);
  await vfs.addWatchAt(ctx, vfsObj, creds, ino, env.pop('f'), IN_ALL_EVENTS);
  const drain = async () => {
    const buf = Buffer.alloc(4096);
    try {
      return parseInotifyEvents(buf.subarray(0, await ino.read(ctx, buf))).map((e) => e.mask);
    } catch (err) {
      t.is(err, syserror.EAGAIN);
      return [];
    }
  };
  for (const [p, extra] of [['f', 0], ['d', linux.O_DIRECTORY], ['', 0]] as Array<[string, number]>) {
    const fd = await openAt(env, p, linux.O_PATH | extra);
    t.deepEqual(await drain(), [], `O_PATH open of "${p}" queues nothing`);
    // What close(2) and the last reference do with an O_PATH file: no lock
    // to release (filp_close skips locks_remove_posix for FMODE_PATH).
    await fd.unlockPOSIX(ctx, fd, 0, 0, linux.SEEK_SET);
    await fd.unlockBSD(ctx);
    fd.decRef(ctx);
    t.deepEqual(await drain(), [], `nor does its release ("${p}")`);
  }
  // A non-O_PATH open still queues IN_OPEN, on the file and its parent.
  const fd = await openAt(env, 'f', linux.O_RDONLY);
  fd.decRef(ctx);
  t.deepEqual(await drain(), [linux.IN_OPEN, linux.IN_OPEN]);
});
