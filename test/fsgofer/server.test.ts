// Every operation of the gofer end to end: our p9 client, a real p9 server
// on a real Unix socket, pkg/fsgofer over a real temp directory; each result
// compared with what Node fs sees on the host.
import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import { LockStatus, LockType } from '../../pkg/p9/messages';
import {
  AllocateMode,
  AttrMaskAll,
  ModeNamedPipe,
  ModeRegular,
  OpenTruncate,
  ReadOnly,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  TypeDir,
  TypeRegular,
  TypeSymlink,
  WriteOnly,
} from '../../pkg/p9/p9';
import * as sc from '../../pkg/fsgofer/syscalls';
import * as syserror from '../../pkg/syserror/syserror';
import { haveDiod, startDiod } from '../p9/client_util';
import { connect, serve, served } from './_harness';
import { rootSuite } from './_root';

const test = rootSuite('test/fsgofer/server.test.ts');

process.umask(0);

interface env {
  dir: string;
  s: served;
  client: Client;
  root: ClientFile;
}

async function setup(t: ExecutionContext, ro = false, version?: string): Promise<env> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-e2e-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'root');
  fs.mkdirSync(dir);
  fs.mkdirSync(path.join(dir, 'dir'));
  fs.writeFileSync(path.join(dir, 'file'), 'file content');
  fs.symlinkSync('file', path.join(dir, 'symlink'));
  const s = await serve(t, dir, base, { roMount: ro });
  if (version === undefined) {
    const { client, root } = await connect(t, s);
    return { dir, s, client, root };
  }
  const client = await Client.connect(s.address, { version });
  t.teardown(() => client.close());
  const root = await client.attach('/', 0);
  return { dir, s, client, root };
}

async function walk1(root: ClientFile, ...names: string[]): Promise<ClientFile> {
  const [, f] = await root.walk(names);
  return f;
}

function ino(p: string): bigint {
  return fs.lstatSync(p, { bigint: true }).ino;
}

test('attach, walk, walkGetAttr, getAttr: QIDs and attributes are the host lstat', async (t) => {
  const { dir, root, client } = await setup(t);
  t.is(client.getVersion(), 13);
  for (const [name, type] of [
    ['dir', TypeDir],
    ['file', TypeRegular],
    ['symlink', TypeSymlink],
  ] as const) {
    const [qids, f, , attr] = await root.walkGetAttr([name]);
    t.is(qids[0].type, type);
    t.is(qids[0].path & 0x00ff_ffff_ffff_ffffn, ino(path.join(dir, name)));
    const st = fs.lstatSync(path.join(dir, name), { bigint: true });
    t.is(attr.mode, Number(st.mode));
    t.is(attr.size, Number(st.size));
    t.is(attr.nLink, Number(st.nlink));
    t.is(BigInt(attr.mTimeSeconds) * 1_000_000_000n + BigInt(attr.mTimeNanoSeconds), st.mtimeNs);
    const [qid, , a2] = await f.getAttr(AttrMaskAll());
    t.is(qid.path, qids[0].path);
    t.is(a2.mode, attr.mode);
    await f.close();
  }
  await t.throwsAsync(root.walk(['nope']), { is: syserror.ENOENT });
});

test('open, read, write (with O_TRUNC), fsync, flush, close', async (t) => {
  const { dir, root } = await setup(t);
  const r = await walk1(root, 'file');
  await r.open(ReadOnly);
  const b = Buffer.alloc(100);
  t.is(b.toString('utf8', 0, await r.readAt(b, 0)), 'file content');
  t.is(await r.readAt(b, 100), 0);
  await t.throwsAsync(r.writeAt(Buffer.from('x'), 0));
  await r.close();
  const w = await walk1(root, 'file');
  await w.open(WriteOnly | OpenTruncate);
  t.is(fs.statSync(path.join(dir, 'file')).size, 0);
  const big = Buffer.alloc(300_000, 0x41);
  t.is(await w.writeAt(big, 5), big.length);
  await w.fSync();
  await w.flush();
  await w.close();
  const data = fs.readFileSync(path.join(dir, 'file'));
  t.is(data.length, 300_005);
  t.deepEqual(data.subarray(5), big);
});

test('create/ucreate, mkdir, symlink, mknod (file, FIFO; EPERM for devices), link, readlink', async (t) => {
  const { dir, root } = await setup(t);
  const [, c] = await root.walk([]);
  const [, qid] = await c.create('new', ReadWrite, 0o640, 123, 456);
  t.is(qid.path & 0x00ff_ffff_ffff_ffffn, ino(path.join(dir, 'new')));
  await c.writeAt(Buffer.from('hello'), 0);
  await c.close();
  let st = fs.statSync(path.join(dir, 'new'));
  t.is(st.mode, linux.S_IFREG | 0o640);
  t.is(st.uid, 123);
  t.is(st.gid, 456);
  t.is(fs.readFileSync(path.join(dir, 'new'), 'utf8'), 'hello');
  await root.mkdir('sub', 0o711, 7, 8);
  st = fs.statSync(path.join(dir, 'sub'));
  t.true(st.isDirectory());
  t.is(st.mode & 0o7777, 0o711);
  t.is(st.uid, 7);
  await root.symlink('../target', 'sl', 9, 10);
  t.is(fs.readlinkSync(path.join(dir, 'sl')), '../target');
  t.is(fs.lstatSync(path.join(dir, 'sl')).uid, 9);
  t.is(await (await walk1(root, 'sl')).readlink(), '../target');
  await root.mknod('nod', ModeRegular | 0o600, 0, 0, 0, 0);
  t.true(fs.statSync(path.join(dir, 'nod')).isFile());
  await root.mknod('fifo', ModeNamedPipe | 0o600, 0, 0, 0, 0);
  t.true(fs.lstatSync(path.join(dir, 'fifo')).isFIFO());
  await t.throwsAsync(root.mknod('chr', linux.S_IFCHR | 0o600, 1, 3, 0, 0), { is: syserror.EPERM });
  await root.link(await walk1(root, 'new'), 'new-link');
  t.is(ino(path.join(dir, 'new-link')), ino(path.join(dir, 'new')));
  await t.throwsAsync(root.mkdir('sub', 0o755, 0, 0), { is: syserror.EEXIST });
});

test('renameAt and unlinkAt (AT_REMOVEDIR) on the host', async (t) => {
  const { dir, root } = await setup(t);
  const d = await walk1(root, 'dir');
  await root.renameAt('file', d, 'moved');
  t.false(fs.existsSync(path.join(dir, 'file')));
  t.is(fs.readFileSync(path.join(dir, 'dir', 'moved'), 'utf8'), 'file content');
  // A fid walked before the rename still reads the file (it holds the fd).
  const m = await walk1(root, 'dir', 'moved');
  await m.open(ReadOnly);
  const b = Buffer.alloc(4);
  await m.readAt(b, 0);
  t.is(b.toString(), 'file');
  await t.throwsAsync(root.unlinkAt('dir', 0), { is: syserror.EISDIR });
  await t.throwsAsync(root.unlinkAt('dir', linux.AT_REMOVEDIR), { is: syserror.ENOTEMPTY });
  await d.unlinkAt('moved', 0);
  await root.unlinkAt('dir', linux.AT_REMOVEDIR);
  t.deepEqual(fs.readdirSync(dir), ['symlink']);
});

test('setAttr: mode, uid/gid, size, atime/mtime (explicit, UTIME_NOW, omitted); setAttrClose', async (t) => {
  const { dir, root } = await setup(t);
  const p = path.join(dir, 'file');
  const f = await walk1(root, 'file');
  await f.setAttr(SetAttrMask.with({ permissions: true, uid: true, gid: true }), new SetAttr(0o604, 11, 12));
  let st = fs.statSync(p, { bigint: true });
  t.is(Number(st.mode) & 0o7777, 0o604);
  t.is(Number(st.uid), 11);
  t.is(Number(st.gid), 12);
  await f.setAttr(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 4));
  t.is(fs.readFileSync(p, 'utf8'), 'file');
  await f.setAttr(
    SetAttrMask.with({ aTime: true, aTimeNotSystemTime: true, mTime: true, mTimeNotSystemTime: true }),
    new SetAttr(0, 0, 0, 0, 100, 1, 200, 2),
  );
  st = fs.statSync(p, { bigint: true });
  t.is(st.atimeNs, 100_000_000_001n);
  t.is(st.mtimeNs, 200_000_000_002n);
  const before = Date.now();
  await f.setAttr(SetAttrMask.with({ mTime: true }), new SetAttr());
  st = fs.statSync(p, { bigint: true });
  t.is(st.atimeNs, 100_000_000_001n, 'atime omitted');
  t.true(Number(st.mtimeNs / 1_000_000n) >= before - 1000, 'mtime now');
  // ctime moved with every change.
  t.true(st.ctimeNs > 200_000_000_002n);
  await f.setAttrClose(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 1));
  t.is(fs.statSync(p).size, 1);
});

test('readdir: all entries once, types, offsets resume, through the 9P byte count', async (t) => {
  const { dir, root } = await setup(t);
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, 'dir', `n-${i}-${'x'.repeat(i % 50)}`), '');
  const d = await walk1(root, 'dir');
  await d.open(ReadOnly);
  const seen: string[] = [];
  let off = 0n;
  for (;;) {
    const ents = await d.readdir(off, 512);
    if (ents.length === 0) break;
    for (const e of ents) seen.push(e.name);
    off = ents[ents.length - 1].offset;
  }
  t.deepEqual(seen.sort(), fs.readdirSync(path.join(dir, 'dir')).sort());
  const r = await walk1(root);
  await r.open(ReadOnly);
  const ents = await r.readdir(0n, 8192);
  t.deepEqual(
    ents.map((e) => [e.name, e.type]).sort(),
    [
      // The host's d_type (diod, Linux v9fs), not the QID type.
      ['dir', linux.DT_DIR],
      ['file', linux.DT_REG],
      ['symlink', linux.DT_LNK],
    ],
  );
});

test('statFS and allocate match the host', async (t) => {
  const { dir, root } = await setup(t);
  const s = await root.statFS();
  const n = fs.statfsSync(dir);
  t.is(s.type, n.type);
  t.is(s.blockSize, n.bsize);
  t.is(s.nameLength, 255);
  const f = await walk1(root, 'file');
  await f.open(ReadWrite);
  await f.allocate(new AllocateMode(), 0, 65536);
  t.is(fs.statSync(path.join(dir, 'file')).size, 65536);
});

test('xattrs through Tgetxattr/Tsetxattr/Tlistxattr/Tremovexattr: user. namespace with Linux errors', async (t) => {
  const { root } = await setup(t);
  const f = await walk1(root, 'file');
  await t.throwsAsync(f.getXattr('user.k', 0), { is: syserror.ENODATA });
  await f.setXattr('user.k', 'v\u0000\u00ff', linux.XATTR_CREATE);
  await t.throwsAsync(f.setXattr('user.k', 'v', linux.XATTR_CREATE), { is: syserror.EEXIST });
  await t.throwsAsync(f.setXattr('user.other', 'v', linux.XATTR_REPLACE), { is: syserror.ENODATA });
  t.is(await f.getXattr('user.k', 0), 'v\u0000\u00ff');
  await t.throwsAsync(f.getXattr('user.k', 1), { is: syserror.ERANGE });
  t.deepEqual([...(await f.listXattr(0))], ['user.k']);
  await t.throwsAsync(f.setXattr('trusted.k', 'v', 0), { is: syserror.EOPNOTSUPP });
  await t.throwsAsync(f.setXattr('user.big', 'x'.repeat(linux.XATTR_SIZE_MAX + 1), 0));
  await f.removeXattr('user.k');
  await t.throwsAsync(f.removeXattr('user.k'), { is: syserror.ENODATA });
});

// The standard 9P2000.L path (Txattrwalk + Tread, Txattrcreate + Twrite +
// Tclunk), served by pkg/p9/handlers.ts beyond gVisor (see also
// xattr_standard.test.ts).
test('xattrs through Txattrwalk/Txattrcreate (plain 9P2000.L client)', async (t) => {
  const { root, client } = await setup(t, false, '9P2000.L');
  t.is(client.getVersion(), 0);
  const f = await walk1(root, 'file');
  await f.setXattr('user.k', 'value', 0);
  t.is(await f.getXattr('user.k', 0), 'value');
  t.deepEqual([...(await f.listXattr(0))], ['user.k']);
  await f.removeXattr('user.k');
  await t.throwsAsync(f.getXattr('user.k', 0), { is: syserror.ENODATA });
  // Linux's errors come through the standard path too.
  await t.throwsAsync(f.setXattr('user.n', 'v', linux.XATTR_REPLACE), { is: syserror.ENODATA });
  await f.setXattr('user.n', 'v\u0000\u00ff', linux.XATTR_CREATE);
  await t.throwsAsync(f.setXattr('user.n', 'w', linux.XATTR_CREATE), { is: syserror.EEXIST });
  t.is(await f.getXattr('user.n', 0), 'v\u0000\u00ff');
  await t.throwsAsync(f.getXattr('user.n', 1), { is: syserror.ERANGE });
  await t.throwsAsync(f.setXattr('trusted.n', 'v', 0), { is: syserror.EOPNOTSUPP });
  const l = await walk1(root, 'symlink');
  await t.throwsAsync(l.setXattr('user.n', 'v', 0), { is: syserror.EPERM });
});

test('locks: Tlock/Tgetlock are host OFD locks; a conflict answers Blocked', async (t) => {
  const { root } = await setup(t);
  const a = await walk1(root, 'file');
  const b = await walk1(root, 'file');
  await a.open(ReadWrite);
  await b.open(ReadWrite);
  t.is(await a.lock(LockType.WRLCK, 0, 0, 100, 1, 'a'), LockStatus.SUCCESS);
  t.is(await b.lock(LockType.RDLCK, 0, 50, 10, 2, 'b'), LockStatus.BLOCKED);
  const g = await b.getLock({ type: LockType.RDLCK, start: 50, length: 10, procID: 2, clientID: 'b' });
  t.is(g.type, LockType.WRLCK);
  t.is(g.start, 0);
  t.is(g.length, 100);
  t.is(await a.lock(LockType.UNLCK, 0, 0, 0, 1, 'a'), LockStatus.SUCCESS);
  t.is(await b.lock(LockType.RDLCK, 0, 50, 10, 2, 'b'), LockStatus.SUCCESS);
  t.is((await a.getLock({ type: LockType.WRLCK, start: 0, length: 0, procID: 1, clientID: 'a' })).type, LockType.RDLCK);
});

test('--ro: every mutation is EROFS, reads work', async (t) => {
  const { dir, root } = await setup(t, true);
  const f = await walk1(root, 'file');
  const [, c] = await root.walk([]);
  const ops: [string, () => Promise<unknown>][] = [
    ['create', () => c.create('x', ReadWrite, 0o644, 0, 0)],
    ['mkdir', () => root.mkdir('x', 0o755, 0, 0)],
    ['symlink', () => root.symlink('t', 'x', 0, 0)],
    ['mknod', () => root.mknod('x', ModeRegular | 0o644, 0, 0, 0, 0)],
    ['link', () => root.link(f, 'x')],
    ['renameAt', () => root.renameAt('file', root, 'x')],
    ['unlinkAt', () => root.unlinkAt('file', 0)],
    ['setAttr', () => f.setAttr(SetAttrMask.with({ size: true }), new SetAttr())],
    ['setXattr', () => f.setXattr('user.a', 'b', 0)],
    ['removeXattr', () => f.removeXattr('user.a')],
    ['open for write', async () => (await walk1(root, 'file')).open(WriteOnly)],
    ['open O_TRUNC', async () => (await walk1(root, 'file')).open(ReadOnly | OpenTruncate)],
  ];
  for (const [name, op] of ops) await t.throwsAsync(op(), { is: syserror.EROFS }, name);
  await f.open(ReadOnly);
  const b = Buffer.alloc(20);
  t.is(b.toString('utf8', 0, await f.readAt(b, 0)), 'file content');
  t.deepEqual(fs.readdirSync(dir).sort(), ['dir', 'file', 'symlink']);
});

test('fid accounting: closing every fid closes every host fd; a dropped connection releases its fids', async (t) => {
  const { s, root, client } = await setup(t);
  const base = s.openFiles();
  t.is(s.server.fidCount(), 1);
  const files = await Promise.all(['dir', 'file', 'symlink'].map((n) => walk1(root, n)));
  t.is(s.server.fidCount(), 4);
  t.is(s.openFiles(), base + 3);
  for (const f of files) await f.close();
  t.is(s.server.fidCount(), 1);
  t.is(s.openFiles(), base);
  await Promise.all(['dir', 'file'].map((n) => walk1(root, n)));
  await client.close();
  for (let i = 0; i < 100 && s.server.fidCount() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await s.server.settled();
  t.is(s.server.fidCount(), 0);
  t.is(s.openFiles(), 0);
});

test('Tmultigetattr: the client gets every component\'s attributes in one round trip', async (t) => {
  const { dir, root, client } = await setup(t);
  t.true(client.getVersion() >= 13);
  fs.writeFileSync(path.join(dir, 'dir', 'f'), 'abc');
  const st = await root.multiGetAttr(['dir', 'f']);
  t.is(st.length, 2);
  t.is(st[0].qid.type, TypeDir);
  t.is(st[1].attr.size, 3);
  t.is(st[1].qid.path & 0x00ff_ffff_ffff_ffffn, ino(path.join(dir, 'dir', 'f')));
  t.is((await root.multiGetAttr(['symlink', 'f'])).length, 1);
});

// sameTree fills dir with one file of each type, made on the host.
function sameTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'dir'));
  fs.writeFileSync(path.join(dir, 'file'), '');
  fs.symlinkSync('file', path.join(dir, 'symlink'));
  const dfd = sc.openat(linux.AT_FDCWD, dir, linux.O_DIRECTORY | linux.O_RDONLY);
  try {
    sc.mknodat(dfd, 'fifo', linux.S_IFIFO | 0o600);
    sc.mknodat(dfd, 'sock', linux.S_IFSOCK | 0o600);
    sc.mknodat(dfd, 'chr', linux.S_IFCHR | 0o600, (1 << 8) | 3);
    sc.mknodat(dfd, 'blk', linux.S_IFBLK | 0o600, 7 << 8);
  } finally {
    sc.close(dfd);
  }
}

async function readAll(root: ClientFile): Promise<Map<string, number>> {
  const [, d] = await root.walk([]);
  try {
    await d.open(ReadOnly);
    const out = new Map<string, number>();
    let off = 0n;
    for (;;) {
      const ents = await d.readdir(off, 4096);
      if (ents.length === 0) break;
      for (const e of ents) if (e.name !== '.' && e.name !== '..') out.set(e.name, e.type);
      off = ents[ents.length - 1].offset;
    }
    return out;
  } finally {
    await d.close();
  }
}

test('like diod: Rreaddir type bytes are the host d_type; Tlcreate and Tsetattr modes keep S_ISUID/S_ISGID', async (t) => {
  if (!haveDiod()) {
    process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): test/fsgofer/server.test.ts "like diod" ***\n\n');
    t.log('SKIPPED: diod not installed');
    t.pass();
    return;
  }
  const ours = await setup(t);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-diod-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  for (const n of ['fifo', 'sock', 'chr', 'blk']) fs.rmSync(path.join(ours.dir, n), { force: true });
  fs.rmSync(path.join(ours.dir, 'dir'), { recursive: true });
  fs.rmSync(path.join(ours.dir, 'file'));
  fs.rmSync(path.join(ours.dir, 'symlink'));
  sameTree(ours.dir);
  sameTree(base);
  const diod = await startDiod(base);
  t.teardown(() => diod.stop());
  const client = await Client.connect(diod.address, { msize: 65536 });
  t.teardown(() => client.close());
  const droot = await client.attach(base, process.getuid?.() ?? 0);

  const got = await readAll(ours.root);
  const want = await readAll(droot);
  t.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
  t.is(got.get('fifo'), linux.DT_FIFO);

  for (const [root, dir] of [
    [ours.root, ours.dir],
    [droot, base],
  ] as const) {
    const [, c] = await root.walk([]);
    await c.create('suid', ReadWrite, 0o4755, 0, 0);
    await c.close();
    t.is(fs.statSync(path.join(dir, 'suid')).mode & 0o7777, 0o4755, dir);
    const f = await walk1(root, 'suid');
    await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o6710));
    await f.close();
    t.is(fs.statSync(path.join(dir, 'suid')).mode & 0o7777, 0o6710, dir);
  }
});
