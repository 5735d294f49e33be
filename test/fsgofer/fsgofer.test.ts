// Tests for pkg/fsgofer/fsgofer.ts driven directly (no server), in the
// manner of gVisor's runsc/fsgofer/fsgofer_test.go: every operation against
// a real temp directory, the result compared with what Node fs sees.
import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import { attachPoint, checkName, localFile, newAttachPoint } from '../../pkg/fsgofer/fsgofer';
import * as sc from '../../pkg/fsgofer/syscalls';
import {
  AllocateMode,
  AttrMask,
  ModeNamedPipe,
  ModeRegular,
  ModeSocket,
  ModeCharacterDevice,
  ModeBlockDevice,
  OpenTruncate,
  ReadOnly,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  TypeDir,
  TypeRegular,
  TypeSymlink,
  WriteOnly,
  fileModeQIDType,
} from '../../pkg/p9/p9';
import * as syserror from '../../pkg/syserror/syserror';
import { rootSuite } from './_root';

const test = rootSuite('test/fsgofer/fsgofer.test.ts');

// The gofer runs with umask 0 (runsc/cmd/gofer.go): modes arrive already
// masked by the sandbox.
process.umask(0);

interface fixture {
  dir: string;
  ap: attachPoint;
  root: localFile;
}

function setup(t: ExecutionContext, ro = false): fixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-'));
  fs.mkdirSync(path.join(dir, 'dir'));
  fs.writeFileSync(path.join(dir, 'file'), 'file content');
  fs.symlinkSync('file', path.join(dir, 'symlink'));
  const ap = newAttachPoint(dir, { roMount: ro });
  const root = ap.attachSync();
  const files: localFile[] = [root];
  t.teardown(() => {
    for (const f of files) f.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, ap, root };
}

// walkTo walks root to name and registers the result for closing.
async function walkTo(t: ExecutionContext, root: localFile, ...names: string[]): Promise<localFile> {
  const [, f] = await root.walk(names);
  t.teardown(() => (f as localFile).closeSync());
  return f as localFile;
}

test('attach: second Attach on the same attach point fails (TestDoubleAttachError)', async (t) => {
  const { ap } = setup(t);
  await t.throwsAsync(async () => await ap.attach(), { is: syserror.EBUSY });
});

test('attach: prefix must be absolute; a file can be the root (TestAttachFile)', async (t) => {
  await t.throwsAsync(async () => newAttachPoint('relative/path', { roMount: false }), { is: syserror.EINVAL });
  const { dir } = setup(t);
  const ap = newAttachPoint(path.join(dir, 'file'), { roMount: false });
  const f = ap.attachSync();
  t.teardown(() => (f as localFile).closeSync());
  await f.open(ReadOnly);
  const b = Buffer.alloc(100);
  t.is(b.toString('utf8', 0, await f.readAt(b, 0)), 'file content');
});

test('walk: QIDs carry the QID type and the host inode (makeQID)', async (t) => {
  const { dir, root } = setup(t);
  for (const [name, type] of [
    ['dir', TypeDir],
    ['file', TypeRegular],
    ['symlink', TypeSymlink],
  ] as const) {
    const [qids, f] = await root.walk([name]);
    t.is(qids.length, 1);
    t.is(qids[0].type, type, name);
    t.is(qids[0].path & 0x00ff_ffff_ffff_ffffn, fs.lstatSync(path.join(dir, name), { bigint: true }).ino);
    await f.close();
  }
});

test('walk: empty names clone the file (TestWalkDup); multiple names (TestWalkMultiple); ENOENT', async (t) => {
  const { dir, root } = setup(t);
  fs.mkdirSync(path.join(dir, 'a/b/c'), { recursive: true });
  // A clone answers no QID (this tree's p9 server wants one per name).
  const [qids, f] = await root.walk([]);
  t.is(qids.length, 0);
  t.is((f as localFile).qid.path, root.qid.path);
  await f.close();
  const [qs, c] = await root.walk(['a', 'b', 'c']);
  t.is(qs.length, 3);
  t.is(qs[2].path & 0x00ff_ffff_ffff_ffffn, fs.statSync(path.join(dir, 'a/b/c'), { bigint: true }).ino);
  await c.close();
  await t.throwsAsync(async () => await root.walk(['a', 'nope']), { is: syserror.ENOENT });
});

test('walkGetAttr: attributes are those of lstat', async (t) => {
  const { dir, root } = setup(t);
  const [, f, mask, attr] = await root.walkGetAttr(['file']);
  t.teardown(() => (f as localFile).closeSync());
  const st = fs.lstatSync(path.join(dir, 'file'), { bigint: true });
  t.true(mask.mode && mask.size && mask.mTime && mask.blocks);
  t.is(attr.mode, Number(st.mode));
  t.is(attr.size, Number(st.size));
  t.is(attr.nLink, Number(st.nlink));
  t.is(BigInt(attr.mTimeSeconds) * 1_000_000_000n + BigInt(attr.mTimeNanoSeconds), st.mtimeNs);
  const [, mask2, attr2] = await f.getAttr(new AttrMask());
  t.true(mask2.mode);
  t.is(attr2.size, 12);
});

test('names: "", ".", "..", "a/b", NUL and > NAME_MAX bytes are refused before any host call', async (t) => {
  const { root } = setup(t);
  const bad: [string, syserror.LinuxError][] = [
    ['', syserror.EINVAL],
    ['.', syserror.EINVAL],
    ['..', syserror.EINVAL],
    ['a/b', syserror.EINVAL],
    ['/', syserror.EINVAL],
    ['a\0b', syserror.EINVAL],
    ['x'.repeat(256), syserror.ENAMETOOLONG],
    ['é'.repeat(128), syserror.ENAMETOOLONG],
  ];
  for (const [name, err] of bad) {
    await t.throwsAsync(async () => checkName(name), { is: err }, JSON.stringify(name));
    await t.throwsAsync(async () => await root.walk([name]), { is: err });
    await t.throwsAsync(async () => await root.walk(['dir', name]), { is: err });
    await t.throwsAsync(async () => await root.create(name, ReadWrite, 0o644, 0, 0), { is: err });
    await t.throwsAsync(async () => await root.mkdir(name, 0o755, 0, 0), { is: err });
    await t.throwsAsync(async () => await root.symlink('x', name, 0, 0), { is: err });
    await t.throwsAsync(async () => await root.mknod(name, ModeRegular | 0o644, 0, 0, 0, 0), { is: err });
    await t.throwsAsync(async () => await root.unlinkAt(name, 0), { is: err });
    await t.throwsAsync(async () => await root.renameAt('file', root, name), { is: err });
    await t.throwsAsync(async () => await root.renameAt(name, root, 'x'), { is: err });
    await t.throwsAsync(async () => await root.link(await walkTo(t, root, 'file'), name), { is: err });
  }
  t.notThrows(() => checkName('x'.repeat(255)));
  t.notThrows(() => checkName('..a'));
});

test('open/readAt/writeAt (TestReadWrite): modes gate reads and writes with EBADF', async (t) => {
  const { dir, root } = setup(t);
  const r = await walkTo(t, root, 'file');
  await t.throwsAsync(async () => await r.readAt(Buffer.alloc(1), 0), { is: syserror.EBADF }); // TestUnopened
  await r.open(ReadOnly);
  const b = Buffer.alloc(4);
  t.is(await r.readAt(b, 5), 4);
  t.is(b.toString(), 'cont');
  await t.throwsAsync(async () => await r.writeAt(Buffer.from('x'), 0), { is: syserror.EBADF });
  await t.throwsAsync(async () => await r.open(ReadOnly), { is: syserror.EINVAL }); // already open

  const w = await walkTo(t, root, 'file');
  await w.open(WriteOnly);
  t.is(await w.writeAt(Buffer.from('FILE'), 0), 4);
  await t.throwsAsync(async () => await w.readAt(b, 0), { is: syserror.EBADF });
  t.is(fs.readFileSync(path.join(dir, 'file'), 'utf8'), 'FILE content');

  const rw = await walkTo(t, root, 'file');
  await rw.open(ReadWrite | OpenTruncate);
  t.is(fs.statSync(path.join(dir, 'file')).size, 0);
  await rw.writeAt(Buffer.from('abc'), 10);
  t.is(await rw.readAt(b, 9), 4);
  t.deepEqual(b, Buffer.from('\0abc'));
  await rw.fSync();
  const d = await walkTo(t, root, 'dir');
  await t.throwsAsync(async () => await d.fSync(), { is: syserror.EBADF });
});

test('create (TestCreate): O_EXCL, owner from the client, set-ID bits kept past the chown (Linux open(O_CREAT) by root), fid is open', async (t) => {
  const { dir, root } = setup(t);
  const [f, qid] = await root.create('new', WriteOnly, 0o6755, 1234, 5678);
  t.teardown(() => (f as localFile).closeSync());
  const st = fs.lstatSync(path.join(dir, 'new'), { bigint: true });
  t.is(qid.path & 0x00ff_ffff_ffff_ffffn, st.ino);
  t.is(Number(st.mode), linux.S_IFREG | 0o6755);
  t.is(Number(st.uid), 1234);
  t.is(Number(st.gid), 5678);
  t.is(await f.writeAt(Buffer.from('data'), 0), 4);
  t.is(fs.readFileSync(path.join(dir, 'new'), 'utf8'), 'data');
  await t.throwsAsync(async () => await root.create('new', ReadWrite, 0o644, 0, 0), { is: syserror.EEXIST });
  await t.throwsAsync(async () => await root.create('symlink', ReadWrite, 0o644, 0, 0), { is: syserror.EEXIST });
  const file = await walkTo(t, root, 'file');
  await t.throwsAsync(async () => await file.create('x', ReadWrite, 0o644, 0, 0), { is: syserror.ENOTDIR });
});

test('mkdir, symlink, mknod: created on the host with the mode and owner given', async (t) => {
  const { dir, root } = setup(t);
  const q = await root.mkdir('d2', 0o1750, 11, 12);
  let st = fs.lstatSync(path.join(dir, 'd2'), { bigint: true });
  t.is(q.type, TypeDir);
  t.is(q.path & 0x00ff_ffff_ffff_ffffn, st.ino);
  t.is(Number(st.mode), linux.S_IFDIR | 0o1750);
  t.is(Number(st.uid), 11);
  await t.throwsAsync(async () => await root.mkdir('d2', 0o755, 0, 0), { is: syserror.EEXIST });

  const sq = await root.symlink('../../etc/passwd', 'sl', 21, 22);
  st = fs.lstatSync(path.join(dir, 'sl'), { bigint: true });
  t.is(sq.type, TypeSymlink);
  t.is(Number(st.uid), 21);
  t.is(fs.readlinkSync(path.join(dir, 'sl')), '../../etc/passwd');
  t.is(await (await walkTo(t, root, 'sl')).readlink(), '../../etc/passwd');

  // mkdir(2) drops S_ISUID/S_ISGID from its mode: the gofer adds them.
  await root.mkdir('sgid', 0o2775, 11, 12);
  t.is(fs.lstatSync(path.join(dir, 'sgid')).mode & 0o7777, 0o2775);
  // The host's own rule still applies: a directory made in a set-group-ID
  // one inherits S_ISGID (and the gofer then sets the client's group).
  const sgid = await walkTo(t, root, 'sgid');
  await sgid.mkdir('child', 0o755, 0, 12);
  t.is(fs.lstatSync(path.join(dir, 'sgid', 'child')).mode & 0o7777, 0o2755);

  // TestMknod: regular files; named pipes too (beyond gVisor); others EPERM.
  await root.mknod('reg', ModeRegular | 0o640, 0, 0, 31, 32);
  st = fs.lstatSync(path.join(dir, 'reg'), { bigint: true });
  t.is(Number(st.mode), linux.S_IFREG | 0o640);
  t.is(Number(st.gid), 32);
  await root.mknod('sreg', ModeRegular | 0o4750, 0, 0, 31, 32);
  t.is(fs.lstatSync(path.join(dir, 'sreg')).mode & 0o7777, 0o4750);
  await root.mknod('sfifo', ModeNamedPipe | 0o2670, 0, 0, 31, 32);
  t.is(fs.lstatSync(path.join(dir, 'sfifo')).mode & 0o7777, 0o2670);
  const pq = await root.mknod('fifo', ModeNamedPipe | 0o600, 0, 0, 0, 0);
  t.true(fs.lstatSync(path.join(dir, 'fifo')).isFIFO());
  t.is(pq.path & 0x00ff_ffff_ffff_ffffn, fs.lstatSync(path.join(dir, 'fifo'), { bigint: true }).ino);
  for (const m of [ModeSocket, ModeCharacterDevice, ModeBlockDevice]) {
    await t.throwsAsync(async () => await root.mknod('dev', m | 0o666, 1, 3, 0, 0), { is: syserror.EPERM });
  }
  t.false(fs.existsSync(path.join(dir, 'dev')));
});

test('named pipe: walk and open never block the gofer', async (t) => {
  const { dir, root } = setup(t);
  await root.mknod('fifo', ModeNamedPipe | 0o666, 0, 0, 0, 0);
  const r = await walkTo(t, root, 'fifo');
  await r.open(ReadOnly);
  const w = await walkTo(t, root, 'fifo');
  await w.open(WriteOnly);
  t.is(await w.writeAt(Buffer.from('ping'), 0), 4);
  const b = Buffer.alloc(10);
  t.is(await r.readAt(b, 0), 4);
  t.is(b.toString('utf8', 0, 4), 'ping');
  await t.throwsAsync(async () => await r.readAt(b, 0), { is: syserror.EAGAIN });
  // No writer left: end of file, as read(2) on a named pipe.
  await w.close();
  t.is(await r.readAt(b, 0), 0);
  t.true(fs.lstatSync(path.join(dir, 'fifo')).isFIFO());
});

test('named pipe: walked, cloned and stat-ed fids hold no reader (O_PATH); O_WRONLY finds no reader (ENXIO) as open(2) with O_NONBLOCK', async (t) => {
  const { dir, root } = setup(t);
  const p = path.join(dir, 'fifo');
  await root.mknod('fifo', ModeNamedPipe | 0o666, 0, 0, 0, 0);
  const f = await walkTo(t, root, 'fifo');
  const [, clone] = await f.walk([]);
  t.teardown(() => (clone as localFile).closeSync());
  const [, , , attr] = await root.walkGetAttr(['fifo']).then(([q, g, m, a]) => {
    t.teardown(() => (g as localFile).closeSync());
    return [q, g, m, a] as const;
  });
  t.is(attr.mode & linux.S_IFMT, linux.S_IFIFO);
  t.is((await f.getAttr(new AttrMask()))[2].mode & linux.S_IFMT, linux.S_IFIFO);
  // user.* xattrs on a named pipe: Linux's xattr_permission (no fd needed).
  await t.throwsAsync(f.getXattr('user.x', 0), { is: syserror.ENODATA });
  await t.throwsAsync(f.setXattr('user.x', 'v', 0), { is: syserror.EPERM });
  t.is((await f.listXattr(0)).size, 0);
  t.is((await f.statFS()).nameLength, 255);
  // Nobody on the host sees a reader.
  t.throws(() => sc.openat(linux.AT_FDCWD, p, linux.O_WRONLY | linux.O_NONBLOCK), { is: syserror.ENXIO });
  // Nor does the gofer's own write-only open.
  const w = await walkTo(t, root, 'fifo');
  await t.throwsAsync(w.open(WriteOnly), { is: syserror.ENXIO });
  // Once a reader is open (a Tlopen ReadOnly), writers get in.
  await f.open(ReadOnly);
  await w.open(WriteOnly);
  const hw = sc.openat(linux.AT_FDCWD, p, linux.O_WRONLY | linux.O_NONBLOCK);
  sc.close(hw);
  // Reading with no writer left (and nothing written) is end of file.
  await w.close();
  t.is(await f.readAt(Buffer.alloc(4), 0), 0);
  // A clone of the opened fid holds no reader either: after closing f,
  // writers are refused again.
  const [, c2] = await f.walk([]);
  t.teardown(() => (c2 as localFile).closeSync());
  await f.close();
  t.throws(() => sc.openat(linux.AT_FDCWD, p, linux.O_WRONLY | linux.O_NONBLOCK), { is: syserror.ENXIO });
});

test('socket and device files are held by O_PATH (HostUDS): stat, chmod through the magic link, chown; open is refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dfd = sc.openat(linux.AT_FDCWD, dir, linux.O_DIRECTORY | linux.O_RDONLY);
  sc.mknodat(dfd, 'sock', linux.S_IFSOCK | 0o600);
  sc.close(dfd);
  const ap = newAttachPoint(dir, { roMount: false, hostUDS: true });
  const root = ap.attachSync();
  t.teardown(() => root.closeSync());
  const s = await walkTo(t, root, 'sock');
  t.is((await s.getAttr(new AttrMask()))[2].mode & linux.S_IFMT, linux.S_IFSOCK);
  await s.setAttr(SetAttrMask.with({ permissions: true, uid: true }), new SetAttr(0o4604, 1000));
  const st = fs.lstatSync(path.join(dir, 'sock'));
  t.is(st.mode & 0o7777, 0o4604);
  t.is(st.uid, 1000);
  await t.throwsAsync(s.open(ReadOnly), { is: syserror.ENXIO });
});

test('setAttr (TestSetAttrPerm/Size/Time/Owner): each field lands on the host', async (t) => {
  const { dir, root } = setup(t);
  const p = path.join(dir, 'file');
  const f = await walkTo(t, root, 'file');
  await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o4741));
  t.is(fs.statSync(p).mode & 0o7777, 0o4741);
  await f.setAttr(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 3));
  t.is(fs.readFileSync(p, 'utf8'), 'fil');
  await f.setAttr(
    SetAttrMask.with({ aTime: true, aTimeNotSystemTime: true, mTime: true, mTimeNotSystemTime: true }),
    new SetAttr(0, 0, 0, 0, 1000, 1, 2000, 2),
  );
  let st = fs.statSync(p, { bigint: true });
  t.is(st.atimeNs, 1000_000_000_001n);
  t.is(st.mtimeNs, 2000_000_000_002n);
  // UTIME_NOW when NotSystemTime is clear; the other time is omitted.
  await f.setAttr(SetAttrMask.with({ mTime: true }), new SetAttr());
  st = fs.statSync(p, { bigint: true });
  t.is(st.atimeNs, 1000_000_000_001n);
  t.true(st.mtimeNs > 2000_000_000_002n);
  await f.setAttr(SetAttrMask.with({ uid: true }), new SetAttr(0, 77, 0));
  st = fs.statSync(p, { bigint: true });
  t.is(Number(st.uid), 77);
  t.is(Number(st.gid), 0);
  // chown by the gofer clears setuid as Linux's chown does.
  t.is(Number(st.mode) & linux.S_ISUID, 0);
  await f.setAttr(SetAttrMask.with({ gid: true }), new SetAttr(0, 0, 88));
  t.is(fs.statSync(p).gid, 88);
  // A mode and an owner in one Tsetattr: the mode asked for is stored, not
  // what the chown would leave of it.
  await f.setAttr(SetAttrMask.with({ permissions: true, uid: true, gid: true }), new SetAttr(0o6755, 78, 89));
  st = fs.statSync(p, { bigint: true });
  t.is(Number(st.mode) & 0o7777, 0o6755);
  t.is(Number(st.uid), 78);
  // A chown alone clears S_ISGID only with group execute (Linux).
  await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o6745));
  await f.setAttr(SetAttrMask.with({ uid: true }), new SetAttr(0, 79));
  t.is(fs.statSync(p).mode & 0o7777, 0o2745);
  await t.throwsAsync(async () => await f.setAttr(SetAttrMask.with({ cTime: true }), new SetAttr()), { is: syserror.EPERM });
  await f.setAttr(new SetAttrMask(), new SetAttr()); // empty: nothing to do

  // A symlink: times and owner of the link itself; mode is EOPNOTSUPP.
  const l = await walkTo(t, root, 'symlink');
  await l.setAttr(SetAttrMask.with({ mTime: true, mTimeNotSystemTime: true, uid: true }), new SetAttr(0, 5, 0, 0, 0, 0, 3000, 0));
  const lst = fs.lstatSync(path.join(dir, 'symlink'));
  t.is(lst.mtimeMs, 3000_000);
  t.is(lst.uid, 5);
  t.not(fs.statSync(p).mtimeMs, 3000_000);
  await t.throwsAsync(async () => await l.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o777)), { is: syserror.EOPNOTSUPP });

  // A directory: mode and times; size is refused by the host.
  const d = await walkTo(t, root, 'dir');
  await d.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o700));
  t.is(fs.statSync(path.join(dir, 'dir')).mode & 0o7777, 0o700);
  await t.throwsAsync(async () => await d.setAttr(SetAttrMask.with({ size: true }), new SetAttr()));
});

test('setAttrClose applies the change and closes the fid', async (t) => {
  const { dir, ap, root } = setup(t);
  const [, f] = await root.walk(['file']);
  const before = ap.openFiles;
  await f.setAttrClose(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 1));
  t.is(fs.statSync(path.join(dir, 'file')).size, 1);
  t.is(ap.openFiles, before - 1);
});

test('link (TestLink), renameAt, unlinkAt match the host', async (t) => {
  const { dir, root } = setup(t);
  const f = await walkTo(t, root, 'file');
  await root.link(f, 'hard');
  t.is(fs.statSync(path.join(dir, 'hard')).ino, fs.statSync(path.join(dir, 'file')).ino);
  // A link to a symlink links the symlink itself (no AT_SYMLINK_FOLLOW).
  await root.link(await walkTo(t, root, 'symlink'), 'hardsym');
  t.true(fs.lstatSync(path.join(dir, 'hardsym')).isSymbolicLink());
  await t.throwsAsync(async () => await root.link(f, 'hard'), { is: syserror.EEXIST });
  const d = await walkTo(t, root, 'dir');
  await root.renameAt('hard', d, 'moved');
  t.true(fs.existsSync(path.join(dir, 'dir/moved')));
  await t.throwsAsync(async () => await root.renameAt('hard', d, 'moved'), { is: syserror.ENOENT });
  await t.throwsAsync(async () => await root.unlinkAt('dir', 0), { is: syserror.EISDIR });
  await t.throwsAsync(async () => await root.unlinkAt('dir', linux.AT_REMOVEDIR), { is: syserror.ENOTEMPTY });
  await d.unlinkAt('moved', 0);
  await root.unlinkAt('dir', linux.AT_REMOVEDIR);
  await t.throwsAsync(async () => await root.unlinkAt('file', 0x1234), { is: syserror.EINVAL });
  t.deepEqual(fs.readdirSync(dir).sort(), ['file', 'hardsym', 'symlink']);
});

test('renamed updates hostPath (Renamed hook)', async (t) => {
  const { dir, root } = setup(t);
  const d = await walkTo(t, root, 'dir');
  const f = await walkTo(t, root, 'file');
  await root.renameAt('file', d, 'f2');
  f.renamed(d, 'f2');
  t.is(f.hostPath, path.join(dir, 'dir', 'f2'));
});

test('read-only mount: every mutation is EROFS (TestROMountChecks)', async (t) => {
  const { root } = setup(t, true);
  const f = await walkTo(t, root, 'file');
  const ops: [string, () => Promise<unknown>][] = [
    ['open W', async () => (await walkTo(t, root, 'file')).open(WriteOnly)],
    ['open RW', async () => (await walkTo(t, root, 'file')).open(ReadWrite)],
    ['open TRUNC', async () => (await walkTo(t, root, 'file')).open(ReadOnly | OpenTruncate)],
    ['create', async () => await root.create('some_file', ReadWrite, 0o777, 0, 0)],
    ['mkdir', async () => await root.mkdir('some_dir', 0o777, 0, 0)],
    ['renameAt', async () => await root.renameAt('file', root, 'other_file')],
    ['symlink', async () => await root.symlink('some_place', 'some_symlink', 0, 0)],
    ['unlinkAt', async () => await root.unlinkAt('file', 0)],
    ['link', async () => await root.link(f, 'some_link')],
    ['mknod', async () => await root.mknod('some-nod', ModeRegular | 0o777, 1, 2, 0, 0)],
    ['setAttr', async () => await f.setAttr(SetAttrMask.with({ size: true }), new SetAttr())],
    ['setXattr', async () => await f.setXattr('user.a', 'b', 0)],
    ['removeXattr', async () => await f.removeXattr('user.a')],
  ];
  for (const [name, op] of ops) await t.throwsAsync(op, { is: syserror.EROFS }, name);
  (await walkTo(t, root, 'file')).open(ReadOnly);
});

test('readdir (TestReaddir): every entry once, no "." or "..", offsets are host cookies', async (t) => {
  const { dir, root } = setup(t);
  for (let i = 0; i < 500; i++) fs.writeFileSync(path.join(dir, 'dir', `entry-${i}`), '');
  const d = await walkTo(t, root, 'dir');
  await t.throwsAsync(async () => await d.readdir(0n, 1000), { is: syserror.EBADF });
  await d.open(ReadOnly);
  const names: string[] = [];
  let off = 0n;
  for (;;) {
    const ents = await d.readdir(off, 300); // ~10 entries per call
    if (ents.length === 0) break;
    t.true(ents.reduce((n, e) => n + 24 + e.name.length, 0) <= 300);
    for (const e of ents) {
      names.push(e.name);
      t.is(e.type, linux.DT_REG);
      t.is(e.qid.path & 0x00ff_ffff_ffff_ffffn, fs.lstatSync(path.join(dir, 'dir', e.name), { bigint: true }).ino);
    }
    off = ents[ents.length - 1].offset;
  }
  t.deepEqual(names.sort(), fs.readdirSync(path.join(dir, 'dir')).sort());
  // Offset 0 rewinds.
  t.is((await d.readdir(0n, 1 << 16)).length, 500);
  // Types of the root's entries.
  const r = await walkTo(t, root, 'dir', 'entry-0');
  void r;
  const rootDir = await walkTo(t, root);
  await rootDir.open(ReadOnly);
  const types = new Map((await rootDir.readdir(0n, 1 << 16)).map((e) => [e.name, e.type]));
  t.deepEqual(
    [...types.entries()].sort(),
    [
      ['dir', linux.DT_DIR],
      ['file', linux.DT_REG],
      ['symlink', linux.DT_LNK],
    ],
  );
});

test('readdir: the type byte is the host d_type (diod, Linux v9fs), a named pipe DT_FIFO, a device DT_CHR; the QID type stays the QID type', async (t) => {
  const { dir, root } = setup(t);
  const dfd = sc.openat(linux.AT_FDCWD, dir, linux.O_DIRECTORY | linux.O_RDONLY);
  sc.mknodat(dfd, 'fifo', linux.S_IFIFO | 0o600);
  sc.mknodat(dfd, 'sock', linux.S_IFSOCK | 0o600);
  sc.mknodat(dfd, 'null', linux.S_IFCHR | 0o600, (1 << 8) | 3);
  sc.mknodat(dfd, 'blk', linux.S_IFBLK | 0o600, (7 << 8) | 0);
  sc.close(dfd);
  const d = await walkTo(t, root);
  await d.open(ReadOnly);
  const ents = new Map((await d.readdir(0n, 1 << 16)).map((e) => [e.name, e]));
  const want: Array<[string, number, number]> = [
    ['dir', linux.DT_DIR, TypeDir],
    ['file', linux.DT_REG, TypeRegular],
    ['symlink', linux.DT_LNK, TypeSymlink],
    ['fifo', linux.DT_FIFO, fileModeQIDType(linux.S_IFIFO)],
    ['sock', linux.DT_SOCK, fileModeQIDType(linux.S_IFSOCK)],
    ['null', linux.DT_CHR, fileModeQIDType(linux.S_IFCHR)],
    ['blk', linux.DT_BLK, fileModeQIDType(linux.S_IFBLK)],
  ];
  for (const [name, dt, qt] of want) {
    const e = ents.get(name);
    t.is(e?.type, dt, name);
    t.is(e?.qid.type, qt, name);
    t.is(e?.type, linux.direntTypeOfMode(fs.lstatSync(path.join(dir, name)).mode), name);
  }
  t.is(ents.size, want.length);
});

test('readdir: offsets survive concurrent creates and removes (each surviving entry exactly once)', async (t) => {
  const { dir, root } = setup(t);
  const sub = path.join(dir, 'dir');
  for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(sub, `keep-${i}`), '');
  for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(sub, `gone-${i}`), '');
  const d = await walkTo(t, root, 'dir');
  await d.open(ReadOnly);
  const seen = new Map<string, number>();
  let off = 0n;
  let round = 0;
  for (;;) {
    const ents = await d.readdir(off, 500);
    if (ents.length === 0) break;
    for (const e of ents) seen.set(e.name, (seen.get(e.name) ?? 0) + 1);
    off = ents[ents.length - 1].offset;
    // Meanwhile another client removes and adds entries.
    for (let i = 0; i < 20; i++) {
      fs.rmSync(path.join(sub, `gone-${round * 20 + i}`), { force: true });
      fs.writeFileSync(path.join(sub, `new-${round}-${i}`), '');
    }
    round++;
  }
  for (let i = 0; i < 400; i++) t.is(seen.get(`keep-${i}`), 1, `keep-${i}`);
  for (const [name, n] of seen) t.is(n, 1, name);
});

test('statFS agrees with the host statfs', async (t) => {
  const { dir, root } = setup(t);
  const s = await root.statFS();
  const n = fs.statfsSync(dir);
  t.is(s.type, n.type);
  t.is(s.blockSize, n.bsize);
  t.is(s.blocks, n.blocks);
  t.is(s.nameLength, 255);
});

test('allocate: fallocate on the open file (EBADF unopened)', async (t) => {
  const { dir, root } = setup(t);
  const f = await walkTo(t, root, 'file');
  await t.throwsAsync(async () => await f.allocate(new AllocateMode(), 0, 100), { is: syserror.EBADF });
  await f.open(WriteOnly);
  await f.allocate(new AllocateMode(), 0, 100000);
  t.is(fs.statSync(path.join(dir, 'file')).size, 100000);
  const keep = new AllocateMode();
  keep.keepSize = true;
  await f.allocate(keep, 0, 200000);
  t.is(fs.statSync(path.join(dir, 'file')).size, 100000);
});

test('xattrs: user. namespace on files and dirs with Linux errors; others EOPNOTSUPP', async (t) => {
  const { dir, root } = setup(t);
  const f = await walkTo(t, root, 'file');
  await t.throwsAsync(async () => await f.getXattr('user.a', 0), { is: syserror.ENODATA });
  await t.throwsAsync(async () => await f.setXattr('user.a', 'v', linux.XATTR_REPLACE), { is: syserror.ENODATA });
  await f.setXattr('user.a', 'value\u00ff\u0000', linux.XATTR_CREATE);
  await t.throwsAsync(async () => await f.setXattr('user.a', 'v', linux.XATTR_CREATE), { is: syserror.EEXIST });
  t.is(await f.getXattr('user.a', 0), 'value\u00ff\u0000');
  t.is(await f.getXattr('user.a', 7), 'value\u00ff\u0000');
  await t.throwsAsync(async () => await f.getXattr('user.a', 3), { is: syserror.ERANGE });
  await f.setXattr('user.b', '', 0);
  t.is(await f.getXattr('user.b', 0), '');
  t.deepEqual([...(await f.listXattr(0))].sort(), ['user.a', 'user.b']);
  await t.throwsAsync(async () => await f.listXattr(5), { is: syserror.ERANGE });
  t.deepEqual([...(await f.listXattr(14))].sort(), ['user.a', 'user.b']);
  await t.throwsAsync(async () => await f.setXattr('user.big', 'x'.repeat(linux.XATTR_SIZE_MAX + 1), 0), { is: syserror.E2BIG });
  for (const name of ['trusted.a', 'security.a', 'system.posix_acl_access', 'other']) {
    await t.throwsAsync(async () => await f.getXattr(name, 0), { is: syserror.EOPNOTSUPP }, name);
    await t.throwsAsync(async () => await f.setXattr(name, 'x', 0), { is: syserror.EOPNOTSUPP }, name);
    await t.throwsAsync(async () => await f.removeXattr(name), { is: syserror.EOPNOTSUPP }, name);
  }
  await t.throwsAsync(async () => await f.getXattr('', 0), { is: syserror.ERANGE });
  await t.throwsAsync(async () => await f.getXattr('user.' + 'x'.repeat(251), 0), { is: syserror.ERANGE });
  await f.removeXattr('user.a');
  await t.throwsAsync(async () => await f.removeXattr('user.a'), { is: syserror.ENODATA });
  // The host sees the same attributes (getfattr equivalent through a fresh fid).
  const d = await walkTo(t, root, 'dir');
  await d.setXattr('user.dir', 'yes', 0);
  t.is(await (await walkTo(t, root, 'dir')).getXattr('user.dir', 0), 'yes');
  // Symlinks: user.* is ENODATA to read and EPERM to write, as Linux.
  const l = await walkTo(t, root, 'symlink');
  await t.throwsAsync(async () => await l.getXattr('user.a', 0), { is: syserror.ENODATA });
  await t.throwsAsync(async () => await l.setXattr('user.a', 'v', 0), { is: syserror.EPERM });
  await t.throwsAsync(async () => await l.removeXattr('user.a'), { is: syserror.EPERM });
  t.deepEqual([...(await l.listXattr(0))], []);
  // And the target of the symlink was not touched.
  t.deepEqual([...(await (await walkTo(t, root, 'file')).listXattr(0))], ['user.b']);
  void dir;
});

test('locks: Tlock is a host OFD lock per open fid; conflicts answer Blocked; Tgetlock reports them', async (t) => {
  const { root } = setup(t);
  const a = await walkTo(t, root, 'file');
  const b = await walkTo(t, root, 'file');
  await t.throwsAsync(async () => await a.lock(1, 0, 0, 10, 1, 'c'), { is: syserror.EBADF });
  await a.open(ReadWrite);
  await b.open(ReadWrite);
  t.is(await a.lock(1, 0, 0, 10, 100, 'client-a'), 0); // OK
  t.is(await b.lock(0, 0, 5, 1, 200, 'client-b'), 1); // Blocked
  const got = await b.getLock({ type: 0, start: 5, length: 1, procID: 200, clientID: 'client-b' });
  t.is(got.type, 1);
  t.is(got.start, 0);
  t.is(got.length, 10);
  t.is(await b.lock(0, 0, 20, 5, 200, 'client-b'), 0); // no overlap
  t.is(await a.lock(2, 0, 0, 0, 100, 'client-a'), 0); // unlock
  t.is(await b.lock(1, 0, 0, 10, 200, 'client-b'), 0);
  t.is((await a.getLock({ type: 0, start: 0, length: 1, procID: 100, clientID: 'client-a' })).type, 1);
  await b.close();
  t.is((await a.getLock({ type: 1, start: 0, length: 1, procID: 100, clientID: 'client-a' })).type, 2); // closing released it
});

test('close: every fid closes its host fd (openFiles back to the start)', async (t) => {
  const { ap, root } = setup(t);
  const start = ap.openFiles;
  const files = [(await root.walk(['dir']))[1], (await root.walk(['file']))[1], (await root.walk([]))[1], (await root.walkGetAttr(['symlink']))[1]];
  const [c] = await root.create('c', ReadWrite, 0o600, 0, 0);
  files.push(c);
  t.is(ap.openFiles, start + 5);
  for (const f of files) await f.close();
  t.is(ap.openFiles, start);
  await t.throwsAsync(async () => await c.getAttr(new AttrMask()), { is: syserror.EBADF });
});

test('multiGetAttr: stats each component, stops at a non-directory or a missing name, never follows', async (t) => {
  const { dir, ap, root } = setup(t);
  fs.mkdirSync(path.join(dir, 'dir', 'sub'));
  fs.writeFileSync(path.join(dir, 'dir', 'sub', 'f'), 'x');
  const start = ap.openFiles;
  const st = await root.multiGetAttr(['', 'dir', 'sub', 'f']);
  t.deepEqual(
    st.map((s) => s.qid.path & 0x00ff_ffff_ffff_ffffn),
    ['.', 'dir', 'dir/sub', 'dir/sub/f'].map((p) => fs.lstatSync(path.join(dir, p), { bigint: true }).ino),
  );
  t.is(st[3].attr.size, 1);
  t.true(st[3].valid.mode);
  t.is((await root.multiGetAttr(['dir', 'nope', 'x'])).length, 1);
  const viaLink = await root.multiGetAttr(['symlink', 'x']);
  t.is(viaLink.length, 1);
  t.is(viaLink[0].qid.type, TypeSymlink);
  t.is((await root.multiGetAttr(['file', 'x'])).length, 1);
  await t.throwsAsync(root.multiGetAttr(['..']), { is: syserror.EINVAL });
  t.is(ap.openFiles, start);
});

test('sockets: a host Unix socket cannot be walked to (EPERM without HostUDS); connect is ECONNREFUSED', async (t) => {
  const { dir, root } = setup(t);
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(path.join(dir, 'sock'), resolve));
  t.teardown(() => srv.close());
  await t.throwsAsync(root.walk(['sock']), { is: syserror.EPERM });
  await t.throwsAsync(root.connect(0), { is: syserror.ECONNREFUSED });
});

test('readdir: a count too small for the next entry is EINVAL (getdents), not the end of the directory', async (t) => {
  const { root } = setup(t);
  const d = await walkTo(t, root);
  await d.open(ReadOnly);
  await t.throwsAsync(d.readdir(0n, 10), { is: syserror.EINVAL });
  await t.throwsAsync(d.readdir(1n << 63n, 4096), { is: syserror.EINVAL });
  // The position is unchanged: a large enough count then lists everything.
  t.is((await d.readdir(0n, 4096)).length, 3);
  // Exactly one entry fits in 24 + 7 bytes (names are at most 7 bytes).
  t.is((await d.readdir(0n, 24 + 7)).length, 1);
});

test('C strings: a symlink target or an xattr name with a NUL is EINVAL, never truncated on the host', async (t) => {
  const { dir, root } = setup(t);
  await t.throwsAsync(root.symlink('/etc\0/passwd', 'l', 0, 0), { is: syserror.EINVAL });
  t.false(fs.existsSync(path.join(dir, 'l')));
  const f = await walkTo(t, root, 'file');
  await t.throwsAsync(f.setXattr('user.a\0b', 'v', 0), { is: syserror.EINVAL });
  t.deepEqual([...(await f.listXattr(0))], []);
});
