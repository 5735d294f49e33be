// The gofer filesystem through the VFS over a real gofer on a real Unix
// socket, in exclusive and shared mode, and over diod: every path operation
// of gVisor's filesystem.go, each result compared with what the host
// directory shows through Node's fs (the host kernel is the oracle).

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR, IN_MOVED_FROM, IN_MOVED_TO } from '../../../../pkg/abi/linux/inotify';
import { STATX_ATIME, STATX_MODE, STATX_MTIME, STATX_SIZE, V9FS_MAGIC } from '../../../../pkg/abi/linux/stat';
import * as vfs from '../../../../pkg/sentry/vfs';
import { backends, errnoOf, leakCheck, listDir, openAt } from './helpers';

for (const be of backends()) {
  test(`${be.name}: mount: the root is the host directory, statfs says V9FS_MAGIC`, async (t) => {
    const env = await be.make(t);
    const st = await env.vfsObj.statAt(env.ctx, env.creds, env.pop('/'), {});
    t.is(st.mode & linux.S_IFMT, linux.S_IFDIR);
    t.is(st.mode & 0o7777, fs.statSync(env.host).mode & 0o7777);
    const sfs = await env.vfsObj.statFSAt(env.ctx, env.creds, env.pop('/'));
    t.is(sfs.type, V9FS_MAGIC);
    await leakCheck(t, env);
  });

  test(`${be.name}: open(O_CREAT)+write+read: data reaches the host file; stat matches the host`, async (t) => {
    const env = await be.make(t);
    const { ctx } = env;
    const fd = await openAt(env, 'f', linux.O_RDWR | linux.O_CREAT | linux.O_EXCL, 0o640);
    t.is(await fd.write(ctx, Buffer.from('hello, gofer')), 12);
    t.is(fs.readFileSync(path.join(env.host, 'f'), 'utf8'), 'hello, gofer');
    const buf = Buffer.alloc(64);
    t.is(await fd.pread(ctx, buf, 7), 5);
    t.is(buf.subarray(0, 5).toString(), 'gofer');
    t.is(await fd.seek(ctx, 0, linux.SEEK_SET), 0);
    t.is(await fd.read(ctx, buf), 12);
    t.is(await fd.read(ctx, buf), 0, 'end of file');
    fd.decRef(ctx);
    const st = await env.vfsObj.statAt(ctx, env.creds, env.pop('f'), {});
    const hst = fs.statSync(path.join(env.host, 'f'));
    t.is(st.size, hst.size);
    t.is(st.mode, hst.mode);
    t.is(st.nlink, 1);
    // O_EXCL on an existing file.
    t.is(await errnoOf(openAt(env, 'f', linux.O_RDWR | linux.O_CREAT | linux.O_EXCL)), 'EEXIST');
    // O_TMPFILE is not supported on a 9P filesystem.
    t.is(await errnoOf(openAt(env, '/', linux.O_RDWR | linux.O_TMPFILE)), 'EOPNOTSUPP');
    await leakCheck(t, env);
  });

  test(`${be.name}: a file created on the host before the first lookup is found`, async (t) => {
    const env = await be.make(t);
    fs.mkdirSync(path.join(env.host, 'a/b/c'), { recursive: true });
    fs.writeFileSync(path.join(env.host, 'a/b/c/data'), 'x'.repeat(1000));
    const st = await env.vfsObj.statAt(env.ctx, env.creds, env.pop('a/b/c/data'), {});
    t.is(st.size, 1000);
    t.is(await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop('a/b/nope'), {})), 'ENOENT');
    t.is(await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop('a/b/c/data/x'), {})), 'ENOTDIR');
    await leakCheck(t, env);
  });

  test(`${be.name}: O_TRUNC truncates on the server; O_APPEND writes at the end`, async (t) => {
    const env = await be.make(t);
    const { ctx } = env;
    fs.writeFileSync(path.join(env.host, 'f'), '0123456789');
    const fd = await openAt(env, 'f', linux.O_WRONLY | linux.O_TRUNC);
    t.is(fs.statSync(path.join(env.host, 'f')).size, 0);
    t.is((await fd.stat(ctx, {})).size, 0);
    await fd.write(ctx, Buffer.from('abc'));
    fd.decRef(ctx);
    const afd = await openAt(env, 'f', linux.O_WRONLY | linux.O_APPEND);
    await afd.pwrite(ctx, Buffer.from('de'), 0);
    await afd.write(ctx, Buffer.from('f'));
    afd.decRef(ctx);
    t.is(fs.readFileSync(path.join(env.host, 'f'), 'utf8'), 'abcdef');
    t.is((await env.vfsObj.statAt(ctx, env.creds, env.pop('f'), {})).size, 6);
    await leakCheck(t, env);
  });

  test(`${be.name}: lseek: SEEK_END, SEEK_DATA and SEEK_HOLE treat the file as one extent (gVisor)`, async (t) => {
    const env = await be.make(t);
    const { ctx } = env;
    const fd = await openAt(env, 'f', linux.O_RDWR | linux.O_CREAT);
    await fd.write(ctx, Buffer.alloc(100, 1));
    const cases: Array<[number, number, number | string]> = [
      [0, linux.SEEK_END, 100], [-10, linux.SEEK_END, 90], [5, linux.SEEK_DATA, 5], [5, linux.SEEK_HOLE, 100],
      [101, linux.SEEK_DATA, 'ENXIO'], [101, linux.SEEK_HOLE, 'ENXIO'], [-1, linux.SEEK_SET, 'EINVAL'], [0, 9, 'EINVAL'],
    ];
    for (const [off, whence, want] of cases) {
      if (typeof want === 'number') t.is(await fd.seek(ctx, off, whence), want, `lseek(${off}, ${whence})`);
      else t.is(await errnoOf(fd.seek(ctx, off, whence)), want, `lseek(${off}, ${whence})`);
    }
    fd.decRef(ctx);
    await leakCheck(t, env);
  });

  test(`${be.name}: mkdir, readdir, rmdir, unlink: the host sees each change; errors as Linux`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
    t.true(fs.statSync(path.join(env.host, 'd')).isDirectory());
    t.is((await vfsObj.statAt(ctx, creds, env.pop('/'), {})).nlink, fs.statSync(env.host).nlink);
    for (const n of ['x', 'y', 'z']) (await openAt(env, `d/${n}`, linux.O_CREAT | linux.O_WRONLY)).decRef(ctx);
    t.deepEqual((await listDir(env, 'd')).sort(), ['.', '..', 'x', 'y', 'z']);
    t.is(await errnoOf(vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 })), 'EEXIST');
    t.is(await errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('d'))), 'ENOTEMPTY');
    t.is(await errnoOf(vfsObj.unlinkAt(ctx, creds, env.pop('d'))), 'EISDIR');
    t.is(await errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('d/x'))), 'ENOTDIR');
    for (const n of ['x', 'y', 'z']) await vfsObj.unlinkAt(ctx, creds, env.pop(`d/${n}`));
    t.deepEqual(fs.readdirSync(path.join(env.host, 'd')), []);
    t.deepEqual(await listDir(env, 'd'), ['.', '..']);
    await vfsObj.rmdirAt(ctx, creds, env.pop('d'));
    t.false(fs.existsSync(path.join(env.host, 'd')));
    t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('d'), {})), 'ENOENT');
    t.is(await errnoOf(vfsObj.unlinkAt(ctx, creds, env.pop('d'))), 'ENOENT');
    await leakCheck(t, env);
  });

  test(`${be.name}: symlink and readlink; open follows a trailing symlink; O_NOFOLLOW-like open of a link is ELOOP`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    fs.mkdirSync(path.join(env.host, 'dir'));
    fs.writeFileSync(path.join(env.host, 'dir/target'), 'T');
    await vfsObj.symlinkAt(ctx, creds, env.pop('link'), 'dir/target');
    t.is(fs.readlinkSync(path.join(env.host, 'link')), 'dir/target');
    t.is(await vfsObj.readlinkAt(ctx, creds, env.pop('link')), 'dir/target');
    t.is(await errnoOf(vfsObj.readlinkAt(ctx, creds, env.pop('dir'))), 'EINVAL');
    const fd = await openAt(env, 'link', linux.O_RDONLY);
    const b = Buffer.alloc(4);
    t.is(await fd.read(ctx, b), 1);
    fd.decRef(ctx);
    // A symlink in the middle of a path, and one to a directory.
    await vfsObj.symlinkAt(ctx, creds, env.pop('dl'), 'dir');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('dl/target'), {})).size, 1);
    t.is((await vfsObj.statAt(ctx, creds, env.pop('dl', false), {})).mode & linux.S_IFMT, linux.S_IFLNK);
    t.is(await errnoOf(vfsObj.openAt(ctx, creds, env.pop('link', false), { flags: linux.O_RDONLY })), 'ELOOP');
    t.is(await errnoOf(vfsObj.symlinkAt(ctx, creds, env.pop('link'), 'x')), 'EEXIST');
    await leakCheck(t, env);
  });

  test(`${be.name}: link: a hard link shares the inode: nlink and size seen through both names (gVisor #6739)`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    const fd = await openAt(env, 'a', linux.O_RDWR | linux.O_CREAT);
    const vd = await vfsObj.getDentryAt(ctx, creds, env.pop('a'), {});
    await vfsObj.linkAt(ctx, creds, env.pop('a'), env.pop('b'));
    vd.decRef(ctx);
    t.is(fs.statSync(path.join(env.host, 'b')).nlink, 2);
    const sa = await vfsObj.statAt(ctx, creds, env.pop('a'), {});
    const sb = await vfsObj.statAt(ctx, creds, env.pop('b'), {});
    t.is(sa.nlink, 2);
    t.is(sb.nlink, 2);
    t.is(sa.ino, sb.ino);
    await fd.write(ctx, Buffer.alloc(33));
    t.is((await vfsObj.statAt(ctx, creds, env.pop('b'), {})).size, 33, 'a write through one name is seen through the other');
    await vfsObj.unlinkAt(ctx, creds, env.pop('a'));
    t.is((await vfsObj.statAt(ctx, creds, env.pop('b'), {})).nlink, fs.statSync(path.join(env.host, 'b')).nlink);
    fd.decRef(ctx);
    await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
    t.is(await errnoOf(vfsObj.linkAt(ctx, creds, env.pop('d'), env.pop('d2'))), 'EPERM');
    await leakCheck(t, env);
  });

  test(`${be.name}: rename: files and directories, replace, EINVAL into itself, ENOTEMPTY, host agrees`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    fs.mkdirSync(path.join(env.host, 'src/sub'), { recursive: true });
    fs.mkdirSync(path.join(env.host, 'dst'));
    fs.writeFileSync(path.join(env.host, 'src/f'), 'F');
    fs.writeFileSync(path.join(env.host, 'dst/g'), 'G');
    const rename = (a: string, b: string, flags = 0): Promise<void> =>
      vfsObj.renameAt(ctx, creds, env.pop(a), env.pop(b), { flags });
    await rename('src/f', 'dst/g');
    t.is(fs.readFileSync(path.join(env.host, 'dst/g'), 'utf8'), 'F');
    t.false(fs.existsSync(path.join(env.host, 'src/f')));
    t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('src/f'), {})), 'ENOENT');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('dst/g'), {})).size, 1);
    await rename('src/sub', 'dst/sub');
    t.true(fs.statSync(path.join(env.host, 'dst/sub')).isDirectory());
    t.is(await errnoOf(rename('dst', 'dst/sub/x')), 'EINVAL');
    t.is(await errnoOf(rename('dst/g', 'dst/sub')), 'EISDIR');
    t.is(await errnoOf(rename('dst/sub', 'dst/g')), 'ENOTDIR');
    t.is(await errnoOf(rename('nope', 'x')), 'ENOENT');
    // Linux: RENAME_NOREPLACE onto an existing name is EEXIST (gVisor at dbe41765: EINVAL for any flag; we follow
    // Linux); RENAME_EXCHANGE still needs 9P support (EINVAL).
    fs.writeFileSync(path.join(env.host, 'dst/h'), 'H');
    t.is(await errnoOf(rename('dst/g', 'dst/h', linux.RENAME_NOREPLACE)), 'EEXIST', 'Linux: RENAME_NOREPLACE onto an existing name');
    t.is(await errnoOf(rename('dst/g', 'dst/h', 2 /* RENAME_EXCHANGE */)), 'EINVAL', 'RENAME_EXCHANGE needs 9P support');
    await rename('dst/h', 'dst/h2', linux.RENAME_NOREPLACE);
    t.is(fs.readFileSync(path.join(env.host, 'dst/h2'), 'utf8'), 'H', 'RENAME_NOREPLACE onto a free name renames');
    fs.writeFileSync(path.join(env.host, 'dst/sub/k'), '');
    await vfsObj.mkdirAt(ctx, creds, env.pop('e'), { mode: 0o755 });
    await vfsObj.mkdirAt(ctx, creds, env.pop('e/full'), { mode: 0o755 });
    (await openAt(env, 'e/full/k', linux.O_CREAT | linux.O_WRONLY)).decRef(ctx);
    t.is(await errnoOf(rename('dst/sub', 'e/full')), 'ENOTEMPTY');
    await rename('dst/g', 'dst/g');
    t.true(fs.existsSync(path.join(env.host, 'dst/g')));
    await leakCheck(t, env);
  });

  test(`${be.name}: setStat: chmod, truncate, utimes reach the host; stat reflects them`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    fs.writeFileSync(path.join(env.host, 'f'), 'abcdef');
    const stat = { ...newStat(), mask: STATX_MODE, mode: 0o600 };
    await vfsObj.setStatAt(ctx, creds, env.pop('f'), { stat });
    t.is(fs.statSync(path.join(env.host, 'f')).mode & 0o7777, 0o600);
    t.is((await vfsObj.statAt(ctx, creds, env.pop('f'), {})).mode & 0o7777, 0o600);
    await vfsObj.setStatAt(ctx, creds, env.pop('f'), { stat: { ...newStat(), mask: STATX_SIZE, size: 2 } });
    t.is(fs.readFileSync(path.join(env.host, 'f'), 'utf8'), 'ab');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('f'), {})).size, 2);
    await vfsObj.setStatAt(ctx, creds, env.pop('f'), {
      stat: { ...newStat(), mask: STATX_ATIME | STATX_MTIME, atime: { sec: 1000, nsec: 5 }, mtime: { sec: 2000, nsec: 7 } },
    });
    const hst = fs.statSync(path.join(env.host, 'f'), { bigint: true });
    t.is(hst.mtimeNs, 2000n * 1_000_000_000n + 7n);
    const st = await vfsObj.statAt(ctx, creds, env.pop('f'), {});
    t.deepEqual(st.mtime, { sec: 2000, nsec: 7 });
    t.deepEqual(st.atime, { sec: 1000, nsec: 5 });
    await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
    t.is(await errnoOf(vfsObj.setStatAt(ctx, creds, env.pop('d'), { stat: { ...newStat(), mask: STATX_SIZE, size: 0 } })), 'EISDIR');
    await leakCheck(t, env);
  });

  test(`${be.name}: inotify events from gofer operations: create, attrib, delete, move`, async (t) => {
    const env = await be.make(t);
    const { ctx, creds, vfsObj } = env;
    await vfsObj.mkdirAt(ctx, creds, env.pop('w'), { mode: 0o755 });
    const ifd = vfs.newInotifyFD(ctx, vfsObj, linux.O_NONBLOCK);
    await vfs.addWatchAt(ctx, vfsObj, creds, ifd, env.pop('w'), 0xfff);
    (await openAt(env, 'w/f', linux.O_CREAT | linux.O_WRONLY)).decRef(ctx);
    await vfsObj.mkdirAt(ctx, creds, env.pop('w/sub'), { mode: 0o755 });
    await vfsObj.setStatAt(ctx, creds, env.pop('w/f'), { stat: { ...newStat(), mask: STATX_MODE, mode: 0o600 } });
    await vfsObj.renameAt(ctx, creds, env.pop('w/f'), env.pop('w/g'), {});
    await vfsObj.unlinkAt(ctx, creds, env.pop('w/g'));
    await vfsObj.rmdirAt(ctx, creds, env.pop('w/sub'));
    const evs = await drain(ctx, ifd);
    ifd.decRef(ctx);
    const masks = evs.map((e) => [e.name, e.mask & ~0x8 /* IN_CLOSE_WRITE, delivered by the FD layer */]);
    t.deepEqual(masks.filter(([, m]) => m !== 0x20 /* IN_OPEN */), [
      ['f', IN_CREATE], ['sub', IN_CREATE | IN_ISDIR], ['f', IN_ATTRIB], ['f', IN_MOVED_FROM], ['g', IN_MOVED_TO],
      ['g', IN_DELETE], ['sub', IN_DELETE | IN_ISDIR],
    ]);
    await leakCheck(t, env);
  });
}

function newStat(): linux_Statx {
  return {
    mask: 0, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size: 0,
    blocks: 0, attributesMask: 0,
    atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 },
    ctime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
    rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}
type linux_Statx = import('../../../../pkg/abi/linux/stat').Statx;

async function drain(ctx: import('../../../../pkg/context').Context, fd: vfs.FileDescription): Promise<Array<{ name: string; mask: number }>> {
  const buf = Buffer.alloc(64 * 1024);
  const n = await fd.read(ctx, buf);
  const out: Array<{ name: string; mask: number }> = [];
  for (let off = 0; off < n;) {
    const mask = buf.readUInt32LE(off + 4);
    const len = buf.readUInt32LE(off + 12);
    const name = buf.subarray(off + 16, off + 16 + len).toString().replace(/\0+$/, '');
    out.push({ name, mask });
    off += 16 + len;
  }
  return out;
}
