// The standard 9P2000.L xattr messages on our server (pkg/p9/handlers.ts
// Txattrwalk, Txattrcreate, and the xattr fids' Tread, Twrite and Tclunk),
// beyond gVisor at dbe41765 (which answers ENODATA / ENOSYS): first through
// our client negotiated down to plain "9P2000.L" (what Linux's v9fs and
// diod's clients send), then as raw frames for the error paths.
import test, { ExecutionContext } from 'ava';

import * as linux from '../../pkg/abi/linux';
import { Errno } from '../../pkg/abi/linux/errors';
import * as syserror from '../../pkg/syserror/syserror';
import { Client } from '../../pkg/p9/client';
import * as p9 from '../../pkg/p9';
import { defaultMultiGetAttr } from '../../pkg/p9/file';
import { CanOpen, checkSafeName } from '../../pkg/p9/handlers';
import { Server, fidRef } from '../../pkg/p9/server';
import type { ClientFile } from '../../pkg/p9/client_file';
import {
  Message,
  Rclunk,
  Rlopen,
  Rread,
  Rwalk,
  Rwrite,
  Rxattrcreate,
  Rxattrwalk,
  Tclunk,
  Tgetattr,
  Tgetxattr,
  Tlopen,
  Tread,
  Twalk,
  Twrite,
  Txattrcreate,
  Txattrwalk,
} from '../../pkg/p9/messages';
import { AttrMask, ReadOnly } from '../../pkg/p9/p9';
import { MemFS } from '../../pkg/p9/p9test/memfile';
import { RawConn, errnoOf, expect, startServer } from './server_util';

function seeded(): MemFS {
  const fs = new MemFS();
  fs.writeFile('file', 'hello, world');
  return fs;
}

// --- our client at version 0 ----------------------------------------------

async function plainClient(t: ExecutionContext): Promise<{ fs: MemFS; f: ClientFile; server: Server }> {
  const fx = await startServer(t, { fs: seeded() });
  const client = await Client.connect(`unix:${fx.sockPath}`, { version: '9P2000.L' });
  t.teardown(() => client.close());
  t.is(client.version, 0, 'negotiated plain 9P2000.L');
  const root = await client.attach('/', 0);
  const [, f] = await root.walk(['file']);
  return { fs: fx.fs, f, server: fx.server };
}

test('plain 9P2000.L client: set, get, list and remove user.* xattrs land in the File (Linux v9fs over Txattrwalk/Txattrcreate)', async (t) => {
  const { fs, f } = await plainClient(t);
  const node = fs.lookup('file');
  const bin = 'a\x00\xff\x80b';
  await f.setXattr('user.bin', bin, 0);
  await f.setXattr('user.txt', 'text', linux.XATTR_CREATE);
  t.is(node.xattrs.get('user.bin'), bin, 'binary value survives');
  t.is(node.xattrs.get('user.txt'), 'text');
  t.is(await f.getXattr('user.bin', 0), bin);
  t.deepEqual([...(await f.listXattr(0))].sort(), ['user.bin', 'user.txt']);
  t.deepEqual([...(await f.listXattr(0))].sort(), [...node.xattrs.keys()].sort());
  await f.setXattr('user.txt', 'replaced', linux.XATTR_REPLACE);
  t.is(node.xattrs.get('user.txt'), 'replaced');
  await f.removeXattr('user.bin');
  t.false(node.xattrs.has('user.bin'));
  t.deepEqual([...(await f.listXattr(0))], ['user.txt']);
  // A non-ASCII name: UTF-8 on the wire in Txattrwalk's name and in the list alike.
  await f.setXattr('user.é€', 'u', 0);
  t.true(node.xattrs.has('user.é€'));
  t.deepEqual([...(await f.listXattr(0))].sort(), ['user.txt', 'user.é€']);
  t.is(await f.getXattr('user.é€', 0), 'u');
});

test('plain 9P2000.L client: Linux errors (EEXIST, ENODATA, ERANGE) and size 0 returns the whole value (getxattr(2) size probing)', async (t) => {
  const { fs, f } = await plainClient(t);
  await f.setXattr('user.k', 'value', 0);
  // setxattr(2): XATTR_CREATE on an existing attribute is EEXIST, XATTR_REPLACE on a missing one ENODATA.
  await t.throwsAsync(f.setXattr('user.k', 'other', linux.XATTR_CREATE), { is: syserror.EEXIST });
  await t.throwsAsync(f.setXattr('user.none', 'other', linux.XATTR_REPLACE), { is: syserror.ENODATA });
  t.is(fs.lookup('file').xattrs.get('user.k'), 'value', 'failed sets changed nothing');
  t.false(fs.lookup('file').xattrs.has('user.none'));
  // getxattr(2): a missing attribute is ENODATA; size 0 gives the size; a short buffer ERANGE.
  await t.throwsAsync(f.getXattr('user.none', 0), { is: syserror.ENODATA });
  t.is((await f.getXattr('user.k', 0)).length, 5);
  t.is(await f.getXattr('user.k', 5), 'value');
  await t.throwsAsync(f.getXattr('user.k', 4), { is: syserror.ERANGE });
  // listxattr(2) with a too small buffer: ERANGE ("user.k\0" is 7 bytes).
  await t.throwsAsync(f.listXattr(6), { is: syserror.ERANGE });
  t.deepEqual([...(await f.listXattr(7))], ['user.k']);
  // removexattr(2) of a missing attribute: ENODATA.
  await t.throwsAsync(f.removeXattr('user.none'), { is: syserror.ENODATA });
});

test('plain 9P2000.L client: the fids of xattr operations are all released (clones, xattr walk fids), also on failure', async (t) => {
  const { f, server } = await plainClient(t);
  const fids = server.fidCount();
  const refs = server.liveRefs;
  await f.setXattr('user.a', '1', 0);
  for (let i = 0; i < 3; i++) {
    await f.getXattr('user.a', 0);
    await f.listXattr(0);
    await t.throwsAsync(f.getXattr('user.none', 0), { is: syserror.ENODATA });
    await t.throwsAsync(f.setXattr('user.a', '2', linux.XATTR_CREATE), { is: syserror.EEXIST });
  }
  await f.removeXattr('user.a');
  t.is(server.fidCount(), fids);
  t.is(server.liveRefs, refs);
});

// --- raw frames -------------------------------------------------------------

async function ready(t: ExecutionContext): Promise<{ c: RawConn; fs: MemFS; fidCount: () => number; liveRefs: () => number }> {
  const fx = await startServer(t, { fs: seeded() });
  const c = await fx.ready('9P2000.L');
  expect(await c.rpc(new Twalk(0, 1, ['file'])), Rwalk);
  return { c, fs: fx.fs, fidCount: () => fx.server.fidCount(), liveRefs: () => fx.server.liveRefs };
}

function rpcErr(c: RawConn, m: Message): Promise<number> {
  return c.rpc(m).then(errnoOf);
}

test('Txattrwalk: Rxattrwalk carries the size, Tread slices the value, empty at and beyond the end (diod xattr_pread)', async (t) => {
  const { c, fs } = await ready(t);
  fs.lookup('file').xattrs.set('user.k', 'abcde');
  t.is(expect(await c.rpc(new Txattrwalk(1, 2, 'user.k')), Rxattrwalk).size, 5);
  t.deepEqual(expect(await c.rpc(new Tread(2, 0, 2)), Rread).data, Buffer.from('ab'));
  t.deepEqual(expect(await c.rpc(new Tread(2, 2, 100)), Rread).data, Buffer.from('cde'));
  t.is(expect(await c.rpc(new Tread(2, 5, 100)), Rread).data.length, 0);
  t.is(expect(await c.rpc(new Tread(2, 1000, 100)), Rread).data.length, 0);
  expect(await c.rpc(new Tclunk(2)), Rclunk);
  t.is(await rpcErr(c, new Tread(2, 0, 1)), Errno.EBADF, 'clunked');
});

test('Txattrwalk with name "" reads the list of names, each followed by NUL (llistxattr(2))', async (t) => {
  const { c, fs } = await ready(t);
  const x = fs.lookup('file').xattrs;
  x.set('user.a', '1');
  x.set('user.bb', '2');
  const size = expect(await c.rpc(new Txattrwalk(1, 2, '')), Rxattrwalk).size;
  t.is(size, 'user.a\0user.bb\0'.length);
  const data = expect(await c.rpc(new Tread(2, 0, 100)), Rread).data.toString();
  t.deepEqual(data.split('\0').slice(0, -1).sort(), ['user.a', 'user.bb']);
  t.true(data.endsWith('\0'));
  expect(await c.rpc(new Tclunk(2)), Rclunk);
  // No attributes: an empty list.
  x.clear();
  t.is(expect(await c.rpc(new Txattrwalk(1, 2, '')), Rxattrwalk).size, 0);
  expect(await c.rpc(new Tclunk(2)), Rclunk);
});

test('Txattrwalk errors: missing attribute ENODATA (no fid made), unknown fid EBADF, name over XATTR_NAME_MAX ERANGE', async (t) => {
  const { c } = await ready(t);
  t.is(await rpcErr(c, new Txattrwalk(1, 2, 'user.none')), Errno.ENODATA);
  t.is(await rpcErr(c, new Tread(2, 0, 1)), Errno.EBADF, 'no fid installed on failure');
  t.is(await rpcErr(c, new Txattrwalk(99, 2, 'user.k')), Errno.EBADF);
  t.is(await rpcErr(c, new Txattrwalk(1, 2, `user.${'x'.repeat(linux.XATTR_NAME_MAX)}`)), Errno.ERANGE);
});

test('Txattrwalk works on an open fid (fgetxattr(2)) and its fid outlives the source fid', async (t) => {
  const { c, fs, liveRefs } = await ready(t);
  fs.lookup('file').xattrs.set('user.k', 'v');
  const before = liveRefs();
  expect(await c.rpc(new Twalk(1, 3, [])), Rwalk);
  expect(await c.rpc(new Tlopen(3, ReadOnly)), Rlopen);
  t.is(expect(await c.rpc(new Txattrwalk(3, 4, 'user.k')), Rxattrwalk).size, 1);
  expect(await c.rpc(new Tclunk(3)), Rclunk);
  t.deepEqual(expect(await c.rpc(new Tread(4, 0, 10)), Rread).data, Buffer.from('v'));
  expect(await c.rpc(new Tclunk(4)), Rclunk);
  t.is(liveRefs(), before, 'every fidRef released');
});

test('xattr fids serve only Tread/Twrite/Tclunk: other requests on them are EINVAL (diod, QEMU)', async (t) => {
  const { c, fs } = await ready(t);
  fs.lookup('file').xattrs.set('user.k', 'v');
  expect(await c.rpc(new Txattrwalk(1, 2, 'user.k')), Rxattrwalk);
  t.is(await rpcErr(c, new Tgetattr(2, AttrMask.with({ mode: true }))), Errno.EINVAL);
  t.is(await rpcErr(c, new Twalk(2, 3, [])), Errno.EINVAL);
  t.is(await rpcErr(c, new Tlopen(2, ReadOnly)), Errno.EINVAL);
  t.is(await rpcErr(c, new Txattrwalk(2, 3, 'user.k')), Errno.EINVAL);
  t.is(await rpcErr(c, new Txattrcreate(2, 'user.k', 1, 0)), Errno.EINVAL);
  t.is(await rpcErr(c, new Tgetxattr(2, 'user.k', 10)), Errno.EINVAL);
  // A Txattrwalk fid cannot be written.
  t.is(await rpcErr(c, new Twrite(2, 0, Buffer.from('x'))), Errno.EINVAL);
  expect(await c.rpc(new Tclunk(2)), Rclunk);

  expect(await c.rpc(new Twalk(1, 3, [])), Rwalk);
  expect(await c.rpc(new Txattrcreate(3, 'user.new', 1, 0)), Rxattrcreate);
  // A Txattrcreate fid cannot be read (diod: EINVAL), nor made an xattr fid again.
  t.is(await rpcErr(c, new Tread(3, 0, 1)), Errno.EINVAL);
  t.is(await rpcErr(c, new Txattrcreate(3, 'user.new', 1, 0)), Errno.EINVAL);
  t.is(await rpcErr(c, new Tgetattr(3, AttrMask.with({ mode: true }))), Errno.EINVAL);
  expect(await c.rpc(new Twrite(3, 0, Buffer.from('z'))), Rwrite);
  expect(await c.rpc(new Tclunk(3)), Rclunk);
  t.is(fs.lookup('file').xattrs.get('user.new'), 'z');
});

test('Txattrcreate + Twrite + Tclunk sets the value at the clunk; writes in pieces, rewrites allowed', async (t) => {
  const { c, fs, fidCount } = await ready(t);
  const x = fs.lookup('file').xattrs;
  const fids = fidCount();
  expect(await c.rpc(new Twalk(1, 2, [])), Rwalk);
  expect(await c.rpc(new Txattrcreate(2, 'user.k', 5, 0)), Rxattrcreate);
  t.is(expect(await c.rpc(new Twrite(2, 0, Buffer.from('ab'))), Rwrite).count, 2);
  t.is(expect(await c.rpc(new Twrite(2, 2, Buffer.from('cd'))), Rwrite).count, 2);
  t.is(expect(await c.rpc(new Twrite(2, 0, Buffer.from('A'))), Rwrite).count, 1);
  t.false(x.has('user.k'), 'nothing set before the clunk');
  t.is(expect(await c.rpc(new Twrite(2, 4, Buffer.from('e'))), Rwrite).count, 1);
  expect(await c.rpc(new Tclunk(2)), Rclunk);
  t.is(x.get('user.k'), 'Abcde');
  t.is(fidCount(), fids);
});

test('Twrite on a Txattrcreate fid: beyond attrSize ENOSPC, a hole EINVAL; a short value fails the clunk with EINVAL and sets nothing', async (t) => {
  const { c, fs } = await ready(t);
  const x = fs.lookup('file').xattrs;
  expect(await c.rpc(new Twalk(1, 2, [])), Rwalk);
  expect(await c.rpc(new Txattrcreate(2, 'user.k', 3, 0)), Rxattrcreate);
  t.is(await rpcErr(c, new Twrite(2, 0, Buffer.from('abcd'))), Errno.ENOSPC);
  t.is(await rpcErr(c, new Twrite(2, 4, Buffer.from('a'))), Errno.ENOSPC);
  t.is(await rpcErr(c, new Twrite(2, 1, Buffer.from('b'))), Errno.EINVAL, 'offset beyond what was written');
  expect(await c.rpc(new Twrite(2, 0, Buffer.from('a'))), Rwrite);
  t.is(await rpcErr(c, new Tclunk(2)), Errno.EINVAL);
  t.false(x.has('user.k'));
  t.is(await rpcErr(c, new Tclunk(2)), Errno.EBADF, 'the fid is gone even though the clunk failed');
  t.is(await rpcErr(c, new Twrite(99, 0, Buffer.from('a'))), Errno.EBADF, 'unknown fid');
});

test('Txattrcreate checks as setxattr(2): bad flags EINVAL, empty name ERANGE, size above XATTR_SIZE_MAX E2BIG, unknown fid EBADF, open fid EINVAL', async (t) => {
  const { c } = await ready(t);
  expect(await c.rpc(new Twalk(1, 2, [])), Rwalk);
  t.is(await rpcErr(c, new Txattrcreate(2, 'user.k', 1, 4)), Errno.EINVAL);
  t.is(await rpcErr(c, new Txattrcreate(2, '', 1, 0)), Errno.ERANGE);
  t.is(await rpcErr(c, new Txattrcreate(2, `user.${'x'.repeat(linux.XATTR_NAME_MAX)}`, 1, 0)), Errno.ERANGE);
  t.is(await rpcErr(c, new Txattrcreate(2, 'user.k', linux.XATTR_SIZE_MAX + 1, 0)), Errno.E2BIG);
  t.is(await rpcErr(c, new Txattrcreate(99, 'user.k', 1, 0)), Errno.EBADF);
  // Failures left fid 2 an ordinary fid.
  expect(await c.rpc(new Tlopen(2, ReadOnly)), Rlopen);
  t.is(await rpcErr(c, new Txattrcreate(2, 'user.k', 1, 0)), Errno.EINVAL);
  expect(await c.rpc(new Tclunk(2)), Rclunk);
  // XATTR_SIZE_MAX itself is accepted.
  expect(await c.rpc(new Twalk(1, 3, [])), Rwalk);
  expect(await c.rpc(new Txattrcreate(3, 'user.big', linux.XATTR_SIZE_MAX, 0)), Rxattrcreate);
  t.is(await rpcErr(c, new Tclunk(3)), Errno.EINVAL, 'nothing was written');
});

test('Tclunk of a Txattrcreate fid answers setxattr(2)/removexattr(2) errors: EEXIST, ENODATA; size 0 removes (diod, QEMU) unless XATTR_CREATE', async (t) => {
  const { c, fs } = await ready(t);
  const x = fs.lookup('file').xattrs;
  x.set('user.k', 'v');
  const cases: { name: string; size: number; flags: number; data: string; errno: number; after: string | undefined }[] = [
    { name: 'user.k', size: 1, flags: linux.XATTR_CREATE, data: 'w', errno: Errno.EEXIST, after: 'v' },
    { name: 'user.none', size: 1, flags: linux.XATTR_REPLACE, data: 'w', errno: Errno.ENODATA, after: undefined },
    // removexattr(2) as Linux's v9fs sends it: size 0, XATTR_REPLACE.
    { name: 'user.none', size: 0, flags: linux.XATTR_REPLACE, data: '', errno: Errno.ENODATA, after: undefined },
    { name: 'user.k', size: 0, flags: linux.XATTR_REPLACE, data: '', errno: 0, after: undefined },
    // size 0 with XATTR_CREATE is setxattr(2) of an empty value.
    { name: 'user.e', size: 0, flags: linux.XATTR_CREATE, data: '', errno: 0, after: '' },
    { name: 'user.e', size: 0, flags: linux.XATTR_CREATE, data: '', errno: Errno.EEXIST, after: '' },
    // size 0 without flags removes (diod xattr_close).
    { name: 'user.e', size: 0, flags: 0, data: '', errno: 0, after: undefined },
  ];
  for (const k of cases) {
    const label = JSON.stringify(k);
    expect(await c.rpc(new Twalk(1, 2, [])), Rwalk);
    expect(await c.rpc(new Txattrcreate(2, k.name, k.size, k.flags)), Rxattrcreate);
    if (k.data !== '') expect(await c.rpc(new Twrite(2, 0, Buffer.from(k.data))), Rwrite);
    t.is(await rpcErr(c, new Tclunk(2)), k.errno, label);
    t.is(x.get(k.name), k.after, label);
    t.is(await rpcErr(c, new Tclunk(2)), Errno.EBADF, label);
  }
});

// --- the package index --------------------------------------------------------

test('pkg/p9/index.ts exports the server side (file, server, path_tree) and handlers.ts helpers', (t) => {
  t.is(p9.Server, Server);
  t.is(p9.fidRef, fidRef);
  t.is(p9.xattrCreate, 'create');
  t.is(typeof p9.newPathNode, 'function');
  t.is(typeof p9.walkGetAttrOne, 'function');
  t.is(p9.checkSafeName, checkSafeName);
  t.is(p9.CanOpen, CanOpen);
  t.true(p9.CanOpen(p9.ModeRegular));
  t.is(p9.defaultMultiGetAttr, defaultMultiGetAttr);
});
