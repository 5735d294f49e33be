// Tests for pkg/fsgofer/syscalls.ts: each wrapper against a real temp
// directory, compared with what Node's fs sees on the host.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import * as sc from '../../pkg/fsgofer/syscalls';
import * as syserror from '../../pkg/syserror/syserror';
import { rootSuite } from './_root';

const test = rootSuite('test/fsgofer/syscalls.test.ts');

const DIR_FLAGS = linux.O_DIRECTORY | linux.O_RDONLY | linux.O_NOFOLLOW | linux.O_CLOEXEC;

function tempDir(t: { teardown(fn: () => void): void }): { dir: string; dfd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-sc-'));
  const dfd = sc.openat(linux.AT_FDCWD, dir, DIR_FLAGS);
  t.teardown(() => {
    sc.close(dfd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, dfd };
}

test('fstat/fstatat decode struct stat like Node fs.lstat (bigint)', (t) => {
  const { dir, dfd } = tempDir(t);
  fs.writeFileSync(path.join(dir, 'f'), 'hello world');
  fs.mkdirSync(path.join(dir, 'd'));
  fs.symlinkSync('f', path.join(dir, 'l'));
  for (const name of ['f', 'd', 'l']) {
    const st = sc.fstatat(dfd, name, linux.AT_SYMLINK_NOFOLLOW);
    const n = fs.lstatSync(path.join(dir, name), { bigint: true });
    t.is(st.ino, n.ino, name);
    t.is(st.dev, n.dev, name);
    t.is(st.mode, Number(n.mode), name);
    t.is(st.nlink, Number(n.nlink), name);
    t.is(st.uid, Number(n.uid), name);
    t.is(st.gid, Number(n.gid), name);
    t.is(st.size, Number(n.size), name);
    t.is(st.blocks, Number(n.blocks), name);
    t.is(st.blksize, Number(n.blksize), name);
    t.is(BigInt(st.mtimeSec) * 1_000_000_000n + BigInt(st.mtimeNsec), n.mtimeNs, name);
    t.is(BigInt(st.ctimeSec) * 1_000_000_000n + BigInt(st.ctimeNsec), n.ctimeNs, name);
  }
  const fd = sc.openat(dfd, 'f', linux.O_RDONLY | linux.O_NOFOLLOW);
  t.teardown(() => sc.close(fd));
  t.is(sc.fstat(fd).ino, fs.statSync(path.join(dir, 'f'), { bigint: true }).ino);
});

test('openat with O_NOFOLLOW refuses a symlink (ELOOP); O_PATH opens the link itself', (t) => {
  const { dfd } = tempDir(t);
  sc.symlinkat('/etc/passwd', dfd, 'out');
  t.throws(() => sc.openat(dfd, 'out', linux.O_RDONLY | linux.O_NOFOLLOW), { is: syserror.ELOOP });
  const p = sc.openat(dfd, 'out', linux.O_PATH | linux.O_NOFOLLOW);
  t.teardown(() => sc.close(p));
  t.is(sc.fstat(p).mode & linux.S_IFMT, linux.S_IFLNK);
  t.is(sc.readlinkat(p, '').toString(), '/etc/passwd');
  t.throws(() => sc.openat(dfd, 'missing', linux.O_RDONLY), { is: syserror.ENOENT });
});

test('mkdirat, mknodat (regular, FIFO), symlinkat, linkat, renameat, unlinkat match the host', (t) => {
  const { dir, dfd } = tempDir(t);
  sc.mkdirat(dfd, 'd', 0o750);
  t.is(fs.lstatSync(path.join(dir, 'd')).mode & 0o7777, 0o750 & ~process.umask());
  t.throws(() => sc.mkdirat(dfd, 'd', 0o750), { is: syserror.EEXIST });
  sc.mknodat(dfd, 'r', linux.S_IFREG | 0o600);
  t.true(fs.lstatSync(path.join(dir, 'r')).isFile());
  sc.mknodat(dfd, 'p', linux.S_IFIFO | 0o600);
  t.true(fs.lstatSync(path.join(dir, 'p')).isFIFO());
  sc.symlinkat('r', dfd, 's');
  t.is(fs.readlinkSync(path.join(dir, 's')), 'r');
  const r = sc.openat(dfd, 'r', linux.O_RDONLY | linux.O_NOFOLLOW);
  sc.linkat(r, '', dfd, 'hard', linux.AT_EMPTY_PATH);
  sc.close(r);
  t.is(fs.statSync(path.join(dir, 'r')).nlink, 2);
  sc.renameat(dfd, 'hard', dfd, 'hard2');
  t.false(fs.existsSync(path.join(dir, 'hard')));
  t.true(fs.existsSync(path.join(dir, 'hard2')));
  t.throws(() => sc.renameat(dfd, 'hard2', dfd, 'r', linux.RENAME_NOREPLACE), { is: syserror.EEXIST });
  t.throws(() => sc.unlinkat(dfd, 'd', 0), { is: syserror.EISDIR });
  sc.unlinkat(dfd, 'd', linux.AT_REMOVEDIR);
  sc.unlinkat(dfd, 'hard2', 0);
  t.deepEqual(fs.readdirSync(dir).sort(), ['p', 'r', 's']);
});

test('fchmod, fchownat(AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW), ftruncate, fallocate, utimensat', (t) => {
  const { dir, dfd } = tempDir(t);
  const fd = sc.openat(dfd, 'f', linux.O_CREAT | linux.O_RDWR | linux.O_NOFOLLOW, 0o644);
  t.teardown(() => sc.close(fd));
  sc.fchmod(fd, 0o4755);
  t.is(fs.statSync(path.join(dir, 'f')).mode & 0o7777, 0o4755);
  sc.fchownat(fd, '', 1234, 5678, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
  let st = fs.statSync(path.join(dir, 'f'));
  t.is(st.uid, 1234);
  t.is(st.gid, 5678);
  sc.fchownat(fd, '', -1, 42, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
  st = fs.statSync(path.join(dir, 'f'));
  t.is(st.uid, 1234);
  t.is(st.gid, 42);
  sc.ftruncate(fd, 10000);
  t.is(fs.statSync(path.join(dir, 'f')).size, 10000);
  sc.fallocate(fd, 0, 0, 20000);
  t.is(fs.statSync(path.join(dir, 'f')).size, 20000);
  sc.utimensat(fd, '', { sec: 1000, nsec: 5 }, { sec: 0, nsec: linux.UTIME_OMIT }, linux.AT_EMPTY_PATH);
  const bst = fs.statSync(path.join(dir, 'f'), { bigint: true });
  t.is(bst.atimeNs, 1000_000_000_005n);
  // A symlink's own times through its O_PATH fd.
  sc.symlinkat('/nowhere', dfd, 'l');
  const l = sc.openat(dfd, 'l', linux.O_PATH | linux.O_NOFOLLOW);
  t.teardown(() => sc.close(l));
  sc.utimensat(l, '', { sec: 0, nsec: linux.UTIME_OMIT }, { sec: 77, nsec: 0 }, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
  t.is(fs.lstatSync(path.join(dir, 'l')).mtimeMs, 77000);
  sc.fchownat(l, '', 9, 9, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
  t.is(fs.lstatSync(path.join(dir, 'l')).uid, 9);
});

test('pread/pwrite/fsync match Node reads', (t) => {
  const { dir, dfd } = tempDir(t);
  const fd = sc.openat(dfd, 'f', linux.O_CREAT | linux.O_RDWR, 0o644);
  t.teardown(() => sc.close(fd));
  t.is(sc.pwrite(fd, Buffer.from('abcdef'), 0), 6);
  t.is(sc.pwrite(fd, Buffer.from('XY'), 10), 2);
  sc.fsync(fd);
  t.deepEqual(fs.readFileSync(path.join(dir, 'f')), Buffer.from('abcdef\0\0\0\0XY'));
  const b = Buffer.alloc(4);
  t.is(sc.pread(fd, b, 2), 4);
  t.is(b.toString(), 'cdef');
  t.is(sc.pread(fd, b, 100), 0);
});

test('getdents64 lists what readdir lists, with d_off cookies that lseek back to', (t) => {
  const { dir, dfd } = tempDir(t);
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, `file-${i}`), '');
  const fd = sc.openat(dfd, '.', DIR_FLAGS);
  t.teardown(() => sc.close(fd));
  const buf = Buffer.alloc(4096);
  const all: sc.Dirent64[] = [];
  for (;;) {
    const ents = sc.getdents64(fd, buf);
    if (ents.length === 0) break;
    all.push(...ents);
  }
  const names = all.map((d) => d.name).filter((n) => n !== '.' && n !== '..');
  t.deepEqual(names.sort(), fs.readdirSync(dir).sort());
  // Seek to the cookie of entry 100: the next read starts at entry 101.
  sc.lseekCookie(fd, all[100].off);
  const next = sc.getdents64(fd, buf);
  t.is(next[0].name, all[101].name);
  t.is(sc.lseek(fd, 0, linux.SEEK_SET), 0);
  t.is(sc.getdents64(fd, buf)[0].name, all[0].name);
});

test('fstatfs agrees with Node statfs', (t) => {
  const { dir, dfd } = tempDir(t);
  const s = sc.fstatfs(dfd);
  const n = fs.statfsSync(dir);
  t.is(s.type, n.type);
  t.is(s.bsize, n.bsize);
  t.is(s.blocks, n.blocks);
  t.is(s.files, n.files);
  t.is(s.namelen, 255);
});

test('xattrs: Linux errors ENODATA, ERANGE, EEXIST/ENODATA for XATTR_CREATE/XATTR_REPLACE, E2BIG', (t) => {
  const { dfd } = tempDir(t);
  const fd = sc.openat(dfd, 'f', linux.O_CREAT | linux.O_RDWR, 0o644);
  t.teardown(() => sc.close(fd));
  t.throws(() => sc.fgetxattr(fd, 'user.x', 10), { is: syserror.ENODATA });
  t.throws(() => sc.fsetxattr(fd, 'user.x', Buffer.from('v'), linux.XATTR_REPLACE), { is: syserror.ENODATA });
  sc.fsetxattr(fd, 'user.x', Buffer.from('value'), linux.XATTR_CREATE);
  t.throws(() => sc.fsetxattr(fd, 'user.x', Buffer.from('v'), linux.XATTR_CREATE), { is: syserror.EEXIST });
  t.is(sc.fgetxattr(fd, 'user.x', 0).n, 5);
  t.throws(() => sc.fgetxattr(fd, 'user.x', 2), { is: syserror.ERANGE });
  t.is(sc.fgetxattr(fd, 'user.x', 100).value.toString(), 'value');
  sc.fsetxattr(fd, 'user.empty', Buffer.alloc(0), 0);
  t.is(sc.fgetxattr(fd, 'user.empty', 10).n, 0);
  const list = sc.flistxattr(fd, 1000).list.toString().split('\0').filter((s) => s !== '');
  t.deepEqual(list.sort(), ['user.empty', 'user.x']);
  t.throws(() => sc.fsetxattr(fd, 'user.big', Buffer.alloc(linux.XATTR_SIZE_MAX + 1), 0), { is: syserror.E2BIG });
  sc.fremovexattr(fd, 'user.x');
  t.throws(() => sc.fremovexattr(fd, 'user.x'), { is: syserror.ENODATA });
});

test('OFD locks: a second open file description sees the conflict (F_OFD_GETLK) and gets EAGAIN', (t) => {
  const { dfd } = tempDir(t);
  const a = sc.openat(dfd, 'f', linux.O_CREAT | linux.O_RDWR, 0o644);
  const b = sc.openat(dfd, 'f', linux.O_RDWR);
  t.teardown(() => {
    sc.close(a);
    sc.close(b);
  });
  sc.fcntlLock(a, sc.F_OFD_SETLK, { type: sc.F_WRLCK, whence: 0, start: 0, len: 10, pid: 0 });
  const got = sc.fcntlLock(b, sc.F_OFD_GETLK, { type: sc.F_RDLCK, whence: 0, start: 5, len: 1, pid: 0 });
  t.is(got.type, sc.F_WRLCK);
  t.is(got.start, 0);
  t.is(got.len, 10);
  t.throws(() => sc.fcntlLock(b, sc.F_OFD_SETLK, { type: sc.F_RDLCK, whence: 0, start: 0, len: 1, pid: 0 }), {
    is: syserror.EAGAIN,
  });
  sc.fcntlLock(a, sc.F_OFD_SETLK, { type: sc.F_UNLCK, whence: 0, start: 0, len: 0, pid: 0 });
  sc.fcntlLock(b, sc.F_OFD_SETLK, { type: sc.F_RDLCK, whence: 0, start: 0, len: 1, pid: 0 });
  t.pass();
});
