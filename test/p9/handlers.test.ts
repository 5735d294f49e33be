// Tests of pkg/p9/handlers.ts: every request handler against a MemFS, over
// raw frames on a real Unix socket. They pin gVisor's server-side checks
// (pkg/p9/handlers.go; p9test/client_test.go's TestWalkInvalid, TestOpen,
// TestUnlinkAtInvalid, TestRenameInvalid...) and the differences this port
// documents (Tversion negotiation, Tauth, NUL in names, msize limits).

import test from 'ava';

import { Errno } from '../../pkg/abi/linux/errors';
import * as linux from '../../pkg/abi/linux';
import {
  Message,
  Rallocate,
  Rattach,
  Rclunk,
  Rflushf,
  Rfsync,
  Rgetattr,
  Rgetlock,
  Rgetxattr,
  Rlcreate,
  Rlink,
  Rlistxattr,
  Rlock,
  Rlopen,
  Rmkdir,
  Rmknod,
  Rmultigetattr,
  Rread,
  Rreaddir,
  Rreadlink,
  Rremove,
  Rremovexattr,
  Rrename,
  Rrenameat,
  Rsetattr,
  Rsetattrclunk,
  Rsetxattr,
  Rstatfs,
  Rsymlink,
  Rucreate,
  Rumkdir,
  Rumknod,
  Runlinkat,
  Rusymlink,
  Rversion,
  Rwalk,
  Rwalkgetattr,
  Rwrite,
  Tallocate,
  Tattach,
  Tauth,
  Tchannel,
  Tclunk,
  Tflushf,
  Tfsync,
  Tgetattr,
  Tgetlock,
  Tgetxattr,
  Tlcreate,
  Tlconnect,
  Tlink,
  Tlistxattr,
  Tlock,
  Tlopen,
  Tmkdir,
  Tmknod,
  Tmultigetattr,
  Tread,
  Treaddir,
  Treadlink,
  Tremove,
  Tremovexattr,
  Trename,
  Trenameat,
  Tsetattr,
  Tsetattrclunk,
  Tsetxattr,
  Tstatfs,
  Tsymlink,
  Tucreate,
  Tumkdir,
  Tumknod,
  Tunlinkat,
  Tusymlink,
  Tversion,
  Twalk,
  Twalkgetattr,
  Twrite,
  Txattrcreate,
  Txattrwalk,
} from '../../pkg/p9/messages';
import {
  AllocateMode,
  AttrMask,
  AttrMaskAll,
  ModeDirectory,
  ModeRegular,
  NoUID,
  OpenTruncate,
  ReadOnly,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  TypeDir,
  WriteOnly,
} from '../../pkg/p9/p9';
import { maximumLength } from '../../pkg/p9/transport';
import { checkSafeName, CanOpen } from '../../pkg/p9/handlers';
import { DefaultWalkGetAttr, DisallowClientCalls, DisallowServerCalls, ErrDisallowedCall, defaultMultiGetAttr } from '../../pkg/p9/file';
import * as syserror from '../../pkg/syserror/syserror';
import { MemFS } from '../../pkg/p9/p9test/memfile';
import { RawConn, errnoOf, expect, startServer } from './server_util';

// ok asserts that m is not an Rlerror and returns it narrowed to cls.
function ok<M extends Message>(m: Message, cls: new (...args: never[]) => M): M {
  return expect(m, cls);
}

// walk walks fid to newFID through names.
function walk(c: RawConn, fid: number, newFID: number, ...names: string[]): Promise<Message> {
  return c.rpc(new Twalk(fid, newFID, names));
}

function seeded(): MemFS {
  const fs = new MemFS();
  fs.writeFile('file', 'hello, world');
  fs.writeFile('dir/inner', 'inner');
  fs.mkdirAll('dir/sub');
  fs.mkdirAll('empty');
  fs.symlink('link', 'file');
  return fs;
}

// --- names ---------------------------------------------------------------

test('checkSafeName refuses "", ".", "..", "/" and NUL with EINVAL (gVisor checkSafeName, plus NUL)', (t) => {
  for (const bad of ['', '.', '..', 'a/b', '/', 'a\0b', '\0']) {
    t.is(t.throws(() => checkSafeName(bad)), syserror.EINVAL, JSON.stringify(bad));
  }
  for (const good of ['a', '...', '.a', 'a..', ' ', 'x'.repeat(300)]) t.notThrows(() => checkSafeName(good));
});

test('CanOpen: regular, directory, fifo, block and char devices; not symlinks or sockets (gVisor CanOpen)', (t) => {
  const cases: Array<[number, boolean]> = [
    [linux.S_IFREG, true],
    [linux.S_IFDIR, true],
    [linux.S_IFIFO, true],
    [linux.S_IFBLK, true],
    [linux.S_IFCHR, true],
    [linux.S_IFLNK, false],
    [linux.S_IFSOCK, false],
  ];
  for (const [mode, want] of cases) t.is(CanOpen(mode | 0o644), want, mode.toString(8));
});

// --- Tversion ------------------------------------------------------------

test('Tversion: answers the highest version both support, plain 9P2000.L for diod, msize = min(client, server)', async (t) => {
  const f = await startServer(t);
  const cases: Array<{ msize: number; version: string; want: { msize: number; version: string } | number }> = [
    { msize: 65536, version: '9P2000.L.Google.13', want: { msize: 65536, version: '9P2000.L.Google.13' } },
    { msize: 8192, version: '9P2000.L', want: { msize: 8192, version: '9P2000.L' } },
    { msize: 65536, version: '9P2000.L.Google.7', want: { msize: 65536, version: '9P2000.L.Google.7' } },
    { msize: 65536, version: '9P2000.L.Google.0', want: { msize: 65536, version: '9P2000.L' } },
    { msize: 65536, version: '9P2000.L.Google.99', want: { msize: 65536, version: '9P2000.L.Google.13' } },
    { msize: 1 << 24, version: '9P2000.L', want: { msize: maximumLength, version: '9P2000.L' } },
    { msize: 65536, version: '9P2000.u', want: { msize: 65536, version: 'unknown' } },
    { msize: 65536, version: '9P2000', want: { msize: 65536, version: 'unknown' } },
    { msize: 0, version: '9P2000.L', want: Errno.EINVAL },
    { msize: 100, version: '9P2000.L', want: Errno.EINVAL },
  ];
  for (const c of cases) {
    const conn = await f.conn();
    const r = await conn.rpc(new Tversion(c.msize, c.version));
    if (typeof c.want === 'number') {
      t.is(errnoOf(r), c.want, `${c.msize} ${c.version}`);
    } else {
      const rv = ok(r, Rversion);
      t.is(rv.mSize, c.want.msize, `${c.msize} ${c.version}`);
      t.is(rv.version, c.want.version, `${c.msize} ${c.version}`);
    }
    conn.close();
  }
  // A server with a smaller maximum (ServerOptions.maxMessageSize).
  const small = await startServer(t, { server: { maxMessageSize: 16384 } });
  const c = await small.conn();
  t.is(expect(await c.version(65536, '9P2000.L'), Rversion).mSize, 16384);
  t.is(expect(await c.version(8192, '9P2000.L'), Rversion).mSize, 8192);
});

// --- Tattach, Tauth ------------------------------------------------------

test('Tattach: "/" and "" attach the root; a path walks from it; afid must be NoFID (gVisor Tattach.handle)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.conn();
  await c.version();
  const root = ok(await c.attach(1, '/'), Rattach);
  t.is(root.qid.type, TypeDir);
  t.is(root.qid.path, f.fs.root.ino);
  ok(await c.attach(2, ''), Rattach);
  const sub = ok(await c.attach(3, '/dir/sub'), Rattach);
  t.is(sub.qid.path, f.fs.lookup('dir/sub').ino, 'the attached file, not the root (differs from gVisor)');
  t.is(errnoOf(await c.attach(4, '/nope')), Errno.ENOENT);
  t.is(errnoOf(await c.attach(4, '/dir/../file')), Errno.EINVAL);
  t.is(errnoOf(await c.attach(4, '/file/x')), Errno.EINVAL, 'walk through a non-directory');
  t.is(errnoOf(await c.rpc(new Tattach(4, new Tauth(7, '', '/', NoUID)))), Errno.EINVAL);
  t.is(f.server.fidCount(), 3);
});

test('Tauth answers ENOENT ("auth not required" for diod clients)', async (t) => {
  const f = await startServer(t);
  const c = await f.conn();
  await c.version();
  t.is(errnoOf(await c.rpc(new Tauth(5, 'u', '/', 0))), Errno.ENOENT);
  t.is(f.server.fidCount(), 0);
});

// --- Twalk, Twalkgetattr -------------------------------------------------

test('Twalk: clone, multi-name walks, and the invalid walks of gVisor TestWalkInvalid', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  t.deepEqual(ok(await walk(c, 0, 1), Rwalk).qids, [], 'clone returns no QIDs');
  const r = ok(await walk(c, 0, 2, 'dir', 'sub'), Rwalk);
  t.deepEqual(
    r.qids.map((q) => q.path),
    [f.fs.lookup('dir').ino, f.fs.lookup('dir/sub').ino],
  );
  const cases: Array<[string[], number, string]> = [
    [['missing'], Errno.ENOENT, 'missing name'],
    [['dir', 'missing'], Errno.ENOENT, 'missing second name'],
    [['file', 'x'], Errno.EINVAL, 'through a regular file'],
    [['link', 'x'], Errno.EINVAL, 'through a symlink (never followed)'],
    [[''], Errno.EINVAL, 'empty name'],
    [['.'], Errno.EINVAL, '"."'],
    [['..'], Errno.EINVAL, '".."'],
    [['dir', '..'], Errno.EINVAL, '".." after a name'],
    [['dir/sub'], Errno.EINVAL, 'a name with "/"'],
    [['a\0b'], Errno.EINVAL, 'a name with NUL'],
  ];
  for (const [names, errno, what] of cases) t.is(errnoOf(await walk(c, 0, 9, ...names)), errno, what);
  t.is(errnoOf(await walk(c, 42, 9, 'dir')), Errno.EBADF, 'bad fid');
  // Walking from an opened fid is EBUSY.
  ok(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  t.is(errnoOf(await walk(c, 1, 9, 'dir')), Errno.EBUSY);
  t.is(f.server.fidCount(), 3, 'failed walks install nothing');
  // Newfid replacing an existing fid closes the old one (InsertFID).
  ok(await walk(c, 0, 2, 'file'), Rwalk);
  t.is(f.server.fidCount(), 3);
});

test('Twalk refuses more names than an Rwalk can carry in msize (EMSGSIZE)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.conn();
  await c.version(256);
  ok(await c.attach(0), Rattach);
  // 256-byte msize: an Rwalk has room for (256-9)/13 = 19 QIDs; a Twalk of 30
  // one-letter names still fits in 256 bytes.
  t.is(errnoOf(await walk(c, 0, 1, ...new Array<string>(30).fill('a'))), Errno.EMSGSIZE);
});

for (const enosys of [false, true]) {
  test(`Twalkgetattr returns the walked file's attributes${enosys ? ' (File answers ENOSYS: walk + getAttr, gVisor walkOne)' : ''}`, async (t) => {
    const f = await startServer(t, { fs: seeded(), memfs: undefined });
    if (enosys) f.fs.options.walkGetAttrENOSYS = true;
    const c = await f.ready();
    const r = ok(await c.rpc(new Twalkgetattr(0, 1, ['dir', 'inner'])), Rwalkgetattr);
    t.is(r.qids.length, 2);
    t.true(r.valid.mode);
    t.is(r.attr.mode, ModeRegular | 0o644);
    t.is(r.attr.size, 5);
    const clone = ok(await c.rpc(new Twalkgetattr(1, 2, [])), Rwalkgetattr);
    t.is(clone.qids.length, 0);
    t.is(clone.attr.size, 5, 'a clone also gets attributes');
    t.is(errnoOf(await c.rpc(new Twalkgetattr(0, 3, ['nope']))), Errno.ENOENT);
    t.is(f.server.fidCount(), 3);
  });
}

// --- Tlopen, Tread, Twrite ----------------------------------------------

test('Tlopen: the checks of gVisor TestOpen (opened twice, directory modes, symlink, deleted)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  const r = ok(await c.rpc(new Tlopen(1, ReadWrite)), Rlopen);
  t.is(r.qid.path, f.fs.lookup('file').ino);
  t.is(errnoOf(await c.rpc(new Tlopen(1, ReadOnly))), Errno.EINVAL, 'opened twice');
  ok(await walk(c, 0, 2, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlopen(2, WriteOnly))), Errno.EISDIR, 'directory for writing');
  t.is(errnoOf(await c.rpc(new Tlopen(2, ReadOnly | OpenTruncate))), Errno.EISDIR, 'directory with truncate');
  ok(await c.rpc(new Tlopen(2, ReadOnly)), Rlopen);
  ok(await walk(c, 0, 3, 'link'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlopen(3, ReadOnly))), Errno.EINVAL, 'symlinks cannot be opened');
  ok(await walk(c, 0, 4, 'dir', 'inner'), Rwalk);
  ok(await walk(c, 0, 5, 'dir'), Rwalk);
  ok(await c.rpc(new Tunlinkat(5, 'inner', 0)), Runlinkat);
  t.is(errnoOf(await c.rpc(new Tlopen(4, ReadOnly))), Errno.EINVAL, 'deleted');
  t.is(errnoOf(await c.rpc(new Tlopen(77, ReadOnly))), Errno.EBADF);
});

test('Tread/Twrite: data round trip, open mode checks (EPERM), unopened (EINVAL), count above msize (ENOBUFS)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tread(1, 0, 10))), Errno.EINVAL, 'not opened');
  ok(await c.rpc(new Tlopen(1, ReadWrite)), Rlopen);
  t.is(ok(await c.rpc(new Twrite(1, 7, Buffer.from('there'))), Rwrite).count, 5);
  t.is(ok(await c.rpc(new Tread(1, 0, 100)), Rread).data.toString(), 'hello, there');
  t.is(ok(await c.rpc(new Tread(1, 5, 3)), Rread).data.toString(), ', t');
  t.is(ok(await c.rpc(new Tread(1, 100, 10)), Rread).data.length, 0, 'EOF is an empty Rread');
  t.is(errnoOf(await c.rpc(new Tread(1, 0, 65537))), Errno.ENOBUFS, 'count above msize');
  // A count between msize-11 and msize is clamped so that Rread fits msize.
  f.fs.writeFile('big', Buffer.alloc(70000, 7));
  ok(await walk(c, 0, 4, 'big'), Rwalk);
  ok(await c.rpc(new Tlopen(4, ReadOnly)), Rlopen);
  t.is(ok(await c.rpc(new Tread(4, 0, 65536)), Rread).data.length, 65536 - 11);

  ok(await walk(c, 0, 2, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(2, WriteOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Tread(2, 0, 10))), Errno.EPERM, 'read on a write-only fid');
  ok(await walk(c, 0, 3, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(3, ReadOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Twrite(3, 0, Buffer.from('x')))), Errno.EPERM, 'write on a read-only fid');
  t.is(errnoOf(await c.rpc(new Twrite(9, 0, Buffer.from('x')))), Errno.EBADF);
});

// --- creation ------------------------------------------------------------

test('Tlcreate: the fid becomes the new open file; gVisor TestCreateInvalid checks', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir'), Rwalk);
  const r = ok(await c.rpc(new Tlcreate(1, 'new', ReadWrite, 0o640, 0)), Rlcreate);
  const n = f.fs.lookup('dir/new');
  t.is(r.qid.path, n.ino);
  t.is(n.mode, ModeRegular | 0o640);
  t.is(ok(await c.rpc(new Twrite(1, 0, Buffer.from('abc'))), Rwrite).count, 3, 'fid 1 is the new, open file');
  t.is(n.size, 3);
  ok(await walk(c, 0, 2, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlcreate(2, 'new', ReadWrite, 0o640, 0))), Errno.EEXIST);
  for (const bad of ['', '.', '..', 'a/b', 'a\0']) {
    t.is(errnoOf(await c.rpc(new Tlcreate(2, bad, ReadWrite, 0o640, 0))), Errno.EINVAL, JSON.stringify(bad));
  }
  ok(await walk(c, 0, 3, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlcreate(3, 'x', ReadWrite, 0o640, 0))), Errno.EINVAL, 'not a directory');
  ok(await c.rpc(new Tlopen(2, ReadOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Tlcreate(2, 'y', ReadWrite, 0o640, 0))), Errno.EINVAL, 'open directory');
  t.is(errnoOf(await c.rpc(new Tlcreate(2, 'x'.repeat(256), ReadWrite, 0o640, 0))), Errno.EINVAL);
  ok(await walk(c, 0, 4, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlcreate(4, 'x'.repeat(256), ReadWrite, 0o640, 0))), Errno.ENAMETOOLONG, 'the File decides NAME_MAX');
});

test('Tmkdir, Tsymlink, Treadlink, Tmknod, Tlink (and their gVisor invalid cases)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  const d = ok(await c.rpc(new Tmkdir(0, 'made', 0o700, 0)), Rmkdir);
  t.is(d.qid.type, TypeDir);
  t.is(f.fs.lookup('made').mode, ModeDirectory | 0o700);
  t.is(errnoOf(await c.rpc(new Tmkdir(0, 'made', 0o700, 0))), Errno.EEXIST);
  t.is(errnoOf(await c.rpc(new Tmkdir(0, '..', 0o700, 0))), Errno.EINVAL);

  ok(await c.rpc(new Tsymlink(0, 'sl', '../target', 0)), Rsymlink);
  ok(await walk(c, 0, 1, 'sl'), Rwalk);
  t.is(ok(await c.rpc(new Treadlink(1)), Rreadlink).target, '../target');
  ok(await walk(c, 0, 2, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Treadlink(2))), Errno.EINVAL, 'readlink of a regular file');
  t.is(errnoOf(await c.rpc(new Tsymlink(0, 'a/b', 'x', 0))), Errno.EINVAL);

  ok(await c.rpc(new Tmknod(0, 'fifo', linux.S_IFIFO | 0o600, 0, 0, 0)), Rmknod);
  t.is(f.fs.lookup('fifo').mode, linux.S_IFIFO | 0o600);
  t.is(errnoOf(await c.rpc(new Tmknod(0, '.', linux.S_IFIFO | 0o600, 0, 0, 0))), Errno.EINVAL);

  ok(await c.rpc(new Tlink(0, 2, 'hard')), Rlink);
  t.is(f.fs.lookup('hard'), f.fs.lookup('file'));
  t.is(f.fs.lookup('file').nlink, 2);
  t.is(errnoOf(await c.rpc(new Tlink(0, 2, ''))), Errno.EINVAL);
  t.is(errnoOf(await c.rpc(new Tlink(0, 99, 'x'))), Errno.EBADF);
  t.is(errnoOf(await c.rpc(new Tlink(2, 2, 'x'))), Errno.EINVAL, 'link into a non-directory');
});

test('Tucreate, Tumkdir, Tusymlink, Tumknod create with the given uid (gVisor Tu* handlers)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await c.rpc(new Tumkdir(0, 'ud', 0o755, 55, 1001)), Rumkdir);
  ok(await c.rpc(new Tusymlink(0, 'us', 'x', 55, 1002)), Rusymlink);
  ok(await c.rpc(new Tumknod(0, 'un', linux.S_IFIFO | 0o644, 0, 0, 55, 1003)), Rumknod);
  ok(await walk(c, 0, 1, 'ud'), Rwalk);
  ok(await c.rpc(new Tucreate(1, 'uc', ReadWrite, 0o600, 55, 1004)), Rucreate);
  const cases: Array<[string, number]> = [
    ['ud', 1001],
    ['us', 1002],
    ['un', 1003],
    ['ud/uc', 1004],
  ];
  for (const [p, uid] of cases) {
    t.is(f.fs.lookup(p).uid, uid, p);
    t.is(f.fs.lookup(p).gid, 55, p);
  }
});

// --- rename, unlink, remove: the path tree ------------------------------

test('Trenameat moves the fids below the old name with it (path tree; gVisor TestRename)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir', 'inner'), Rwalk);
  ok(await walk(c, 0, 2, 'empty'), Rwalk);
  ok(await c.rpc(new Trenameat(0, 'dir', 2, 'moved')), Rrenameat);
  t.throws(() => f.fs.lookup('dir'));
  const inner = f.fs.lookup('empty/moved/inner');
  // fid 1 still names the file; Tremove now removes empty/moved/inner.
  ok(await c.rpc(new Tremove(1)), Rremove);
  t.throws(() => f.fs.lookup('empty/moved/inner'));
  t.is(inner.nlink, 0);
  t.is(errnoOf(await c.rpc(new Tgetattr(1, AttrMaskAll()))), Errno.EBADF, 'Tremove clunks');
  // Same name, same directory: success without calling the File.
  ok(await c.rpc(new Trenameat(0, 'file', 0, 'file')), Rrenameat);
  const cases: Array<[Trenameat, number, string]> = [
    [new Trenameat(0, 'nope', 0, 'x'), Errno.ENOENT, 'missing source'],
    [new Trenameat(0, '..', 0, 'x'), Errno.EINVAL, 'old name ".."'],
    [new Trenameat(0, 'file', 0, 'a/b'), Errno.EINVAL, 'new name with "/"'],
    [new Trenameat(0, 'file', 9, 'x'), Errno.EBADF, 'bad target fid'],
  ];
  for (const [m, errno, what] of cases) t.is(errnoOf(await c.rpc(m)), errno, what);
  ok(await walk(c, 0, 3, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Trenameat(3, 'x', 0, 'y'))), Errno.EINVAL, 'from a non-directory');
  t.is(errnoOf(await c.rpc(new Trenameat(0, 'empty', 2, 'x'))), Errno.EINVAL, 'into its own subtree (the File says)');
});

test('Trename renames the fid\'s own file; root and deleted files are refused (gVisor TestRenameInvalid)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  ok(await walk(c, 0, 2, 'dir'), Rwalk);
  ok(await c.rpc(new Trename(1, 2, 'renamed')), Rrename);
  t.is(f.fs.lookup('dir/renamed').size, 12);
  ok(await c.rpc(new Tgetattr(1, AttrMaskAll())), Rgetattr);
  t.is(errnoOf(await c.rpc(new Trename(0, 2, 'x'))), Errno.EINVAL, 'root');
  t.is(errnoOf(await c.rpc(new Trename(1, 2, '..'))), Errno.EINVAL);
  ok(await c.rpc(new Tunlinkat(2, 'renamed', 0)), Runlinkat);
  t.is(errnoOf(await c.rpc(new Trename(1, 0, 'back'))), Errno.EINVAL, 'deleted');
});

test('Tunlinkat marks fids of the removed name deleted (gVisor TestUnlink, TestUnlinkAtInvalid)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir', 'sub'), Rwalk);
  ok(await walk(c, 0, 2, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tunlinkat(2, 'sub', 0))), Errno.EISDIR, 'directory without AT_REMOVEDIR');
  ok(await c.rpc(new Tunlinkat(2, 'sub', linux.AT_REMOVEDIR)), Runlinkat);
  // getattr is allowed on deleted files; setattr, walk-creation are not.
  ok(await c.rpc(new Tgetattr(1, AttrMaskAll())), Rgetattr);
  t.is(errnoOf(await c.rpc(new Tsetattr(1, SetAttrMask.with({ permissions: true }), new SetAttr(0o700)))), Errno.EINVAL);
  t.is(errnoOf(await c.rpc(new Tmkdir(1, 'x', 0o700, 0))), Errno.EINVAL, 'create in a deleted directory');
  const cases: Array<[string, number, number, string]> = [
    ['nope', 0, Errno.ENOENT, 'missing'],
    ['..', 0, Errno.EINVAL, '".."'],
    ['', 0, Errno.EINVAL, 'empty'],
    ['inner/x', 0, Errno.EINVAL, 'with "/"'],
  ];
  for (const [name, flags, errno, what] of cases) t.is(errnoOf(await c.rpc(new Tunlinkat(2, name, flags))), errno, what);
  ok(await walk(c, 0, 3, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tunlinkat(3, 'x', 0))), Errno.EINVAL, 'from a non-directory');
  ok(await c.rpc(new Tlopen(2, ReadOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Tunlinkat(2, 'inner', 0))), Errno.EINVAL, 'from an open directory');
});

test('Tremove: removes and clunks, even when the removal fails; root is EINVAL', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tremove(1))), Errno.EISDIR, 'unlinkAt(name, 0) of a directory');
  t.is(errnoOf(await c.rpc(new Tclunk(1))), Errno.EBADF, 'clunked anyway');
  ok(await walk(c, 0, 2), Rwalk);
  t.is(errnoOf(await c.rpc(new Tremove(2))), Errno.EINVAL, 'root');
  ok(await walk(c, 0, 3, 'file'), Rwalk);
  ok(await c.rpc(new Tremove(3)), Rremove);
  t.throws(() => f.fs.lookup('file'));
  t.is(f.server.fidCount(), 1);
});

// --- attributes ------------------------------------------------------------

test('Tgetattr, Tsetattr, Tsetattrclunk', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  const g = ok(await c.rpc(new Tgetattr(1, AttrMaskAll())), Rgetattr);
  t.is(g.attr.size, 12);
  t.is(g.qid.path, f.fs.lookup('file').ino);
  const set = new SetAttr(0o600, 0, 0, 4, 0, 0, 1234, 5);
  ok(await c.rpc(new Tsetattr(1, SetAttrMask.with({ permissions: true, size: true, mTime: true, mTimeNotSystemTime: true }), set)), Rsetattr);
  const n = f.fs.lookup('file');
  t.is(n.mode, ModeRegular | 0o600);
  t.is(n.size, 4);
  t.deepEqual(n.mtime, { sec: 1234, nsec: 5 });
  ok(await c.rpc(new Tsetattrclunk(1, SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 1))), Rsetattrclunk);
  t.is(n.size, 1);
  t.is(errnoOf(await c.rpc(new Tclunk(1))), Errno.EBADF, 'clunked');
  ok(await walk(c, 0, 2, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tsetattrclunk(2, SetAttrMask.with({ size: true }), new SetAttr()))), Errno.EISDIR);
  t.is(errnoOf(await c.rpc(new Tclunk(2))), Errno.EBADF, 'clunked even on failure');
  t.is(errnoOf(await c.rpc(new Tgetattr(2, new AttrMask()))), Errno.EBADF);
});

test('xattrs: Tsetxattr/Tgetxattr/Tlistxattr/Tremovexattr (binary values survive); Txattrwalk/Txattrcreate errors (the rest: xattr_standard.test.ts)', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  const value = Buffer.from([0, 1, 2, 0xff, 0x80, 0x41]);
  ok(await c.rpc(new Tsetxattr(1, 'user.bin', value, 0)), Rsetxattr);
  ok(await c.rpc(new Tsetxattr(1, 'user.txt', Buffer.from('v'), linux.XATTR_CREATE)), Rsetxattr);
  t.is(errnoOf(await c.rpc(new Tsetxattr(1, 'user.txt', Buffer.from('w'), linux.XATTR_CREATE))), Errno.EEXIST);
  t.is(errnoOf(await c.rpc(new Tsetxattr(1, 'user.none', Buffer.from('w'), linux.XATTR_REPLACE))), Errno.ENODATA);
  t.deepEqual(ok(await c.rpc(new Tgetxattr(1, 'user.bin', 64)), Rgetxattr).value, value);
  t.is(errnoOf(await c.rpc(new Tgetxattr(1, 'user.bin', 2))), Errno.ERANGE);
  t.is(errnoOf(await c.rpc(new Tgetxattr(1, 'user.none', 64))), Errno.ENODATA);
  t.deepEqual(ok(await c.rpc(new Tlistxattr(1, 0)), Rlistxattr).xattrs.sort(), ['user.bin', 'user.txt']);
  ok(await c.rpc(new Tremovexattr(1, 'user.bin')), Rremovexattr);
  t.is(errnoOf(await c.rpc(new Tremovexattr(1, 'user.bin'))), Errno.ENODATA);
  t.is(errnoOf(await c.rpc(new Txattrwalk(1, 2, 'user.bin'))), Errno.ENODATA);
  t.is(errnoOf(await c.rpc(new Txattrcreate(1, 'user.txt', linux.XATTR_SIZE_MAX + 1, 0))), Errno.E2BIG);
  t.is(errnoOf(await c.rpc(new Txattrwalk(9, 2, 'user.txt'))), Errno.EBADF);
});

// --- directories ------------------------------------------------------------

test('Treaddir: entries after offset, limited to count bytes; unopened and non-directories refused', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir'), Rwalk);
  t.is(errnoOf(await c.rpc(new Treaddir(1, 0n, 4096))), Errno.EINVAL, 'not opened');
  ok(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  const all = ok(await c.rpc(new Treaddir(1, 0n, 4096)), Rreaddir).entries;
  t.deepEqual(
    all.map((d) => d.name),
    ['.', '..', 'inner', 'sub'],
  );
  // One entry at a time, resuming at each offset.
  const names: string[] = [];
  let off = 0n;
  for (;;) {
    const es = ok(await c.rpc(new Treaddir(1, off, 30)), Rreaddir).entries;
    if (es.length === 0) break;
    t.is(es.length, 1);
    names.push(es[0].name);
    off = es[0].offset;
  }
  t.deepEqual(names, ['.', '..', 'inner', 'sub']);
  t.is(errnoOf(await c.rpc(new Treaddir(1, 0n, 70000))), Errno.ENOBUFS, 'count above msize');
  ok(await walk(c, 0, 2, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(2, ReadOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Treaddir(2, 0n, 4096))), Errno.EINVAL, 'not a directory');
});

// --- misc ----------------------------------------------------------------

test('Tfsync, Tstatfs, Tflushf, Tallocate', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tfsync(1))), Errno.EINVAL, 'fsync before open');
  t.is(errnoOf(await c.rpc(new Tallocate(1, new AllocateMode(), 0, 100))), Errno.EINVAL, 'allocate before open');
  ok(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  ok(await c.rpc(new Tfsync(1)), Rfsync);
  t.is(errnoOf(await c.rpc(new Tallocate(1, new AllocateMode(), 0, 100))), Errno.EBADF, 'allocate read-only');
  ok(await walk(c, 0, 2, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(2, ReadWrite)), Rlopen);
  ok(await c.rpc(new Tallocate(2, new AllocateMode(), 0, 100)), Rallocate);
  t.is(f.fs.lookup('file').size, 100);
  const st = ok(await c.rpc(new Tstatfs(0)), Rstatfs);
  t.is(st.fsStat.nameLength, 255);
  ok(await c.rpc(new Tflushf(1)), Rflushf);
  t.is(errnoOf(await c.rpc(new Tstatfs(9))), Errno.EBADF);
});

test('Tlconnect: EINVAL unless a socket, then EOPNOTSUPP (no fd passing in Node); Tchannel: ENOSYS', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await c.rpc(new Tmknod(0, 'sock', linux.S_IFSOCK | 0o600, 0, 0, 0)), Rmknod);
  ok(await walk(c, 0, 1, 'sock'), Rwalk);
  ok(await walk(c, 0, 2, 'file'), Rwalk);
  t.is(errnoOf(await c.rpc(new Tlconnect(1, 0))), Errno.EOPNOTSUPP);
  t.is(errnoOf(await c.rpc(new Tlconnect(2, 0))), Errno.EINVAL);
  t.is(errnoOf(await c.rpc(new Tchannel(0, 0))), Errno.ENOSYS);
});

test('Tmultigetattr: attributes of each prefix it can reach (gVisor 276ff149a / 65a26689c)', async (t) => {
  for (const own of [false, true]) {
    const f = await startServer(t, { fs: seeded(), memfs: undefined });
    f.fs.options.multiGetAttr = own;
    const c = await f.ready();
    const cases: Array<[string[], string[] | number, string]> = [
      [['', 'dir', 'inner'], ['', 'dir', 'dir/inner'], 'start included'],
      [['dir', 'sub'], ['dir', 'dir/sub'], 'no start'],
      [['dir', 'missing', 'x'], ['dir'], 'stops at ENOENT'],
      [['file', 'x'], ['file'], 'stops at a non-directory'],
      [['link', 'x'], ['link'], 'stops at a symlink'],
      [[], [], 'nothing'],
      [['dir', '..'], Errno.EINVAL, 'unsafe name'],
      [['dir', ''], Errno.EINVAL, 'empty name after the first'],
    ];
    for (const [names, want, what] of cases) {
      const r = await c.rpc(new Tmultigetattr(0, names));
      if (typeof want === 'number') {
        t.is(errnoOf(r), want, what);
        continue;
      }
      const stats = ok(r, Rmultigetattr).stats;
      t.deepEqual(
        stats.map((s) => s.qid.path),
        want.map((p) => f.fs.lookup(p).ino),
        `${what} (File multiGetAttr: ${own})`,
      );
    }
    t.is(errnoOf(await c.rpc(new Tmultigetattr(9, ['dir']))), Errno.EBADF);
    c.close();
  }
});

test('Tlock/Tgetlock: POSIX record locks through the File; ENOSYS for a File without locks', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(1, ReadWrite)), Rlopen);
  const WR = 1;
  const UN = 2;
  t.is(ok(await c.rpc(new Tlock(1, WR, 0, 0, 10, 100, 'a')), Rlock).status, 0, 'granted');
  t.is(ok(await c.rpc(new Tlock(1, WR, 0, 5, 10, 200, 'b')), Rlock).status, 1, 'blocked by a');
  const g = ok(await c.rpc(new Tgetlock(1, WR, 5, 10, 200, 'b')), Rgetlock);
  t.deepEqual([g.lockType, g.start, g.length, g.procID, g.clientID], [WR, 0, 10, 100, 'a']);
  t.is(ok(await c.rpc(new Tlock(1, UN, 0, 0, 0, 100, 'a')), Rlock).status, 0, 'unlock');
  t.is(ok(await c.rpc(new Tgetlock(1, WR, 5, 10, 200, 'b')), Rgetlock).lockType, UN);
  t.is(errnoOf(await c.rpc(new Tlock(1, 7, 0, 0, 0, 1, 'a'))), Errno.EINVAL, 'bad type');

  const noLocks = new MemFS();
  const orig = noLocks.fileFor.bind(noLocks);
  noLocks.fileFor = (n) => {
    const file = orig(n);
    Object.defineProperty(file, 'lock', { value: undefined });
    Object.defineProperty(file, 'getLock', { value: undefined });
    return file;
  };
  const f2 = await startServer(t, { fs: noLocks });
  const c2 = await f2.ready();
  t.is(errnoOf(await c2.rpc(new Tlock(0, WR, 0, 0, 0, 1, 'a'))), Errno.ENOSYS);
  t.is(errnoOf(await c2.rpc(new Tgetlock(0, WR, 0, 0, 1, 'a'))), Errno.ENOSYS);
});

test('Tclunk: EBADF for an unknown fid; every fid and File released at the end', async (t) => {
  const f = await startServer(t, { fs: seeded() });
  const c = await f.ready();
  ok(await walk(c, 0, 1, 'dir', 'inner'), Rwalk);
  t.is(f.fs.openFiles, 3, 'root, inner and its parent dir (held by the path tree)');
  ok(await c.rpc(new Tclunk(1)), Rclunk);
  t.is(errnoOf(await c.rpc(new Tclunk(1))), Errno.EBADF);
  ok(await c.rpc(new Tclunk(0)), Rclunk);
  await f.server.settled();
  t.is(f.fs.openFiles, 0);
  t.is(f.server.liveRefs, 0);
  t.is(f.server.fidCount(), 0);
});

test('a File that throws something other than a LinuxError gets EIO (gVisor: a panic becomes EFAULT)', async (t) => {
  const fs = seeded();
  const orig = fs.fileFor.bind(fs);
  fs.fileFor = (n) => {
    const file = orig(n);
    file.statFS = () => Promise.reject(new TypeError('boom'));
    file.fSync = () => {
      throw new RangeError('sync boom');
    };
    return file;
  };
  const f = await startServer(t, { fs });
  const c = await f.ready();
  t.is(errnoOf(await c.rpc(new Tstatfs(0))), Errno.EIO);
  ok(await walk(c, 0, 1, 'file'), Rwalk);
  ok(await c.rpc(new Tlopen(1, ReadOnly)), Rlopen);
  t.is(errnoOf(await c.rpc(new Tfsync(1))), Errno.EIO);
  ok(await c.rpc(new Tgetattr(0, AttrMaskAll())), Rgetattr); // the connection goes on
});

// --- file.ts helpers ---------------------------------------------------------

test('file.ts: DefaultWalkGetAttr is ENOSYS; Disallow*Calls throw; defaultMultiGetAttr walks prefixes and closes what it opened', async (t) => {
  await t.throwsAsync(new DefaultWalkGetAttr().walkGetAttr(['a']), { is: syserror.ENOSYS });
  await t.throwsAsync(new DisallowClientCalls().setAttrClose(new SetAttrMask(), new SetAttr()), { instanceOf: ErrDisallowedCall });
  t.throws(() => new DisallowServerCalls().renamed(new MemFS().fileFor(new MemFS().root), 'x'), { instanceOf: ErrDisallowedCall });
  const fs = seeded();
  const root = await fs.attach();
  const cases: Array<[string[], string[]]> = [
    [['', 'dir', 'sub'], ['', 'dir', 'dir/sub']],
    [['dir', 'nope', 'x'], ['dir']],
    [['file', 'x'], ['file']],
  ];
  for (const [names, want] of cases) {
    const stats = await defaultMultiGetAttr(root, names);
    t.deepEqual(
      stats.map((s) => s.qid.path),
      want.map((p) => fs.lookup(p).ino),
    );
    t.is(fs.openFiles, 1, 'only the start file stays open');
  }
  fs.options.walkGetAttrENOSYS = true;
  t.is((await defaultMultiGetAttr(root, ['dir', 'inner'])).length, 2, 'walk + getAttr when walkGetAttr is ENOSYS');
  t.is(fs.openFiles, 1);
  await root.close();
  t.is(fs.openFiles, 0);
});
