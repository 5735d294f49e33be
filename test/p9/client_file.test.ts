// Tests of pkg/p9/client_file.ts: every operation of gVisor's clientFile
// against our own server (pkg/p9/server.ts over p9test's MemFS), once with
// the extended version (9P2000.L.Google.13: Twalkgetattr, Tucreate & co,
// Tgetxattr..., Tallocate, Tsetattrclunk, Tflushf, Tmultigetattr) and once
// offering plain 9P2000.L, where the client must use only standard
// messages (as against diod).
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { AT_REMOVEDIR, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, S_IFIFO } from '../../pkg/abi/linux/file';
import { Client } from '../../pkg/p9/client';
import { ClientFile, ReadWriterFile, LockStatusBlocked, LockStatusOK, LockTypeRdlck, LockTypeUnlck, LockTypeWrlck, chunk } from '../../pkg/p9/client_file';
import { Message } from '../../pkg/p9/messages';
import { AllocateMode, AttrMaskAll, NoGID, NoUID, SetAttr, SetAttrMask, fileModeIsDir, fileModeIsSymlink } from '../../pkg/p9/p9';
import { MemFS } from '../../pkg/p9/p9test/memfile';
import { Server } from '../../pkg/p9/server';
import * as syserror from '../../pkg/syserror/syserror';
import { tempDir } from './client_util';

interface Env {
  memfs: MemFS;
  server: Server;
  client: Client;
  root: ClientFile;
  // sent lists the class names of the requests the client sent.
  sent: string[];
}

async function setup(t: ExecutionContext, version: string, msize = 8192, multiGetAttr = false): Promise<Env> {
  const dir = tempDir('p9cf-');
  const memfs = new MemFS({ multiGetAttr });
  const server = new Server(memfs);
  const sock = path.join(dir, 'sock');
  await server.listen(`unix:${sock}`);
  const client = await Client.connect(`unix:${sock}`, { msize, version });
  t.teardown(async () => {
    await client.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const sent: string[] = [];
  const orig = client.sendRecv.bind(client);
  client.sendRecv = ((m: Message, want: never, signal?: AbortSignal) => {
    sent.push(m.constructor.name);
    return orig(m, want, signal);
  }) as typeof client.sendRecv;
  const root = await client.attach('');
  return { memfs, server, client, root, sent };
}

const versions = [
  { name: '9P2000.L.Google.13', version: 13 },
  { name: '9P2000.L', version: 0 },
];

for (const V of versions) {
  const ext = V.version > 0;
  const title = (s: string): string => `[${V.name}] ${s}`;

  test(title('the negotiated version is the offer'), async (t) => {
    const env = await setup(t, V.name);
    t.is(env.client.version, V.version);
  });

  test(title('walk and walkGetAttr: QIDs per name, attributes, ENOENT, a clone for no names'), async (t) => {
    const env = await setup(t, V.name);
    env.memfs.mkdirAll('a/b');
    const [qids, b] = await env.root.walk(['a', 'b']);
    t.is(qids.length, 2);
    t.is(qids[1].path, env.memfs.lookup('a/b').ino);
    const [q2, f2, valid, attr] = await env.root.walkGetAttr(['a']);
    t.is(q2[0].path, env.memfs.lookup('a').ino);
    t.true(valid.mode);
    t.true(fileModeIsDir(attr.mode));
    t.deepEqual(env.sent.includes('Twalkgetattr'), ext);
    const [none, clone] = await env.root.walk([]);
    t.is(none.length, 0);
    t.not(clone.fid, env.root.fid);
    await t.throwsAsync(env.root.walk(['nope']), { is: syserror.ENOENT });
    await t.throwsAsync(env.root.walkGetAttr(['a', 'nope']), { is: syserror.ENOENT });
    for (const f of [b, f2, clone]) await f.close();
  });

  test(title('create, writeAt and readAt in msize chunks; the data lands in the server file'), async (t) => {
    const env = await setup(t, V.name, 2048);
    const [, d] = await env.root.walk([]);
    const [f, qid, ioUnit] = await d.create('f', O_RDWR, 0o640, 1234, 5678);
    t.is(f, d);
    t.is(typeof ioUnit, 'number');
    const data = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 31) & 0xff));
    t.is(await f.writeAt(data, 0), data.length);
    const n = env.memfs.lookup('f');
    t.is(n.ino, qid.path);
    t.deepEqual(n.data.subarray(0, n.size), data);
    t.is(n.mode & 0o777, 0o640);
    // Tucreate carries the uid and gid; Tlcreate carries neither.
    t.is(n.uid, ext ? 1234 : env.memfs.uid);
    t.is(n.gid, ext ? 5678 : env.memfs.gid);
    t.true(env.sent.includes(ext ? 'Tucreate' : 'Tlcreate'));
    const back = Buffer.alloc(25000);
    t.is(await f.readAt(back, 0), 20000);
    t.deepEqual(back.subarray(0, 20000), data);
    t.is(await f.readAt(back, 20000), 0); // end of file
    t.is(await f.readAt(Buffer.alloc(0), 0), 0);
    const [, d2] = await env.root.walk([]);
    await t.throwsAsync(d2.create('f', O_WRONLY | O_EXCL, 0o600, NoUID, NoGID), { is: syserror.EEXIST });
    await d2.close();
  });

  test(title('open, then readAt/writeAt on an opened clone; EBADF once closed'), async (t) => {
    const env = await setup(t, V.name);
    env.memfs.writeFile?.('x', Buffer.from('12345'));
    const [, d] = await env.root.walk([]);
    const [f] = await d.create('x2', O_RDWR, 0o600, NoUID, NoGID);
    await f.writeAt(Buffer.from('hello'), 0);
    await f.close();
    const [, g] = await env.root.walk(['x2']);
    const [qid] = await g.open(O_RDONLY);
    t.is(qid.path, env.memfs.lookup('x2').ino);
    const b = Buffer.alloc(10);
    t.is(await g.readAt(b, 1), 4);
    t.is(b.subarray(0, 4).toString(), 'ello');
    await g.close();
    await t.throwsAsync(g.readAt(b, 0), { is: syserror.EBADF });
    await t.throwsAsync(g.writeAt(b, 0), { is: syserror.EBADF });
    await t.throwsAsync(g.open(O_RDONLY), { is: syserror.EBADF });
  });

  test(title('mkdir, symlink, link, mknod, readlink'), async (t) => {
    const env = await setup(t, V.name);
    const q = await env.root.mkdir('dir', 0o750, 77, 88);
    const dn = env.memfs.lookup('dir');
    t.is(q.path, dn.ino);
    t.true(dn.isDir());
    t.is(dn.mode & 0o777, 0o750);
    t.is(dn.uid, ext ? 77 : env.memfs.uid);
    await env.root.symlink('dir', 'sym', NoUID, NoGID);
    const [, sym, , sa] = await env.root.walkGetAttr(['sym']);
    t.true(fileModeIsSymlink(sa.mode));
    t.is(await sym.readlink(), 'dir');
    await env.root.mknod('fifo', S_IFIFO | 0o600, 0, 0, NoUID, NoGID);
    t.is(env.memfs.lookup('fifo').mode & 0o170000, S_IFIFO);
    const [, d] = await env.root.walk([]);
    await d.create('file', O_RDWR, 0o600, NoUID, NoGID);
    const [, file] = await env.root.walk(['file']);
    await env.root.link(file, 'hard');
    t.is(env.memfs.lookup('hard'), env.memfs.lookup('file'));
    t.is(env.memfs.lookup('file').nlink, 2);
    await t.throwsAsync(env.root.mkdir('dir', 0o700, NoUID, NoGID), { is: syserror.EEXIST });
    for (const m of ['Tmkdir', 'Tsymlink', 'Tmknod']) t.true(env.sent.includes(ext ? m.replace('T', 'Tu') : m), m);
  });

  test(title('renameAt, rename, unlinkAt (AT_REMOVEDIR), remove'), async (t) => {
    const env = await setup(t, V.name);
    env.memfs.mkdirAll('d1');
    env.memfs.mkdirAll('d2');
    const [, d1] = await env.root.walk(['d1']);
    const [, d2] = await env.root.walk(['d2']);
    const [, tmp] = await d1.walk([]);
    await tmp.create('a', O_RDWR, 0o600, NoUID, NoGID);
    await tmp.close();
    const ino = env.memfs.lookup('d1/a').ino;
    await d1.renameAt('a', d2, 'b');
    t.is(env.memfs.lookup('d2/b').ino, ino);
    t.throws(() => env.memfs.lookup('d1/a'), { is: syserror.ENOENT });
    const [, b] = await d2.walk(['b']);
    await b.rename(d1, 'c');
    t.is(env.memfs.lookup('d1/c').ino, ino);
    // The renamed fid still reaches the file.
    const [qid] = await b.getAttr(AttrMaskAll());
    t.is(qid.path, ino);
    await t.throwsAsync(env.root.unlinkAt('d1', 0), { is: syserror.EISDIR });
    await t.throwsAsync(env.root.unlinkAt('d1', AT_REMOVEDIR), { is: syserror.ENOTEMPTY });
    await d1.unlinkAt('c', 0);
    await env.root.unlinkAt('d1', AT_REMOVEDIR);
    t.throws(() => env.memfs.lookup('d1'), { is: syserror.ENOENT });
    await t.throwsAsync(env.root.unlinkAt('d1', AT_REMOVEDIR), { is: syserror.ENOENT });
    t.false(env.client.noUnlinkAt);
    t.false(env.client.noRenameAt);
    // remove (deprecated): removes and clunks (gVisor's server removes as
    // unlinkat(name, 0): files only).
    const [, d2c] = await d2.walk([]);
    await d2c.create('gone', O_RDWR, 0o600, NoUID, NoGID);
    const fids = env.server.fidCount();
    await d2c.remove();
    t.throws(() => env.memfs.lookup('d2/gone'), { is: syserror.ENOENT });
    t.is(env.server.fidCount(), fids - 1);
    await t.throwsAsync(d2c.remove(), { is: syserror.EBADF });
  });

  test(title('readdir: every entry once, page by page, offsets as cookies; count clamped to msize'), async (t) => {
    const env = await setup(t, V.name, 1024);
    const names = Array.from({ length: 200 }, (_, i) => `entry-${i}`);
    const [, d] = await env.root.walk([]);
    for (const n of names) await d.mkdir(n, 0o755, NoUID, NoGID);
    await d.open(O_RDONLY);
    const got: string[] = [];
    let offset = 0n;
    for (;;) {
      const ents = await d.readdir(offset, 1 << 20);
      if (ents.length === 0) break;
      got.push(...ents.map((e) => e.name));
      offset = ents[ents.length - 1].offset;
    }
    t.deepEqual(got.filter((n) => n !== '.' && n !== '..').sort(), names.sort());
  });

  test(title('getAttr, setAttr, setAttrClose'), async (t) => {
    const env = await setup(t, V.name);
    const [, d] = await env.root.walk([]);
    const [f] = await d.create('f', O_RDWR, 0o644, NoUID, NoGID);
    await f.writeAt(Buffer.from('0123456789'), 0);
    await f.setAttr(
      SetAttrMask.with({ permissions: true, size: true, mTime: true, mTimeNotSystemTime: true }),
      Object.assign(new SetAttr(), { permissions: 0o600, size: 4, mTimeSeconds: 1234567890, mTimeNanoSeconds: 99 }),
    );
    const [qid, valid, a] = await f.getAttr(AttrMaskAll());
    t.true(valid.size);
    t.is(qid.path, env.memfs.lookup('f').ino);
    t.is(a.mode & 0o777, 0o600);
    t.is(a.size, 4);
    t.is(a.mTimeSeconds, 1234567890);
    t.is(a.mTimeNanoSeconds, 99);
    const fids = env.server.fidCount();
    await f.setAttrClose(SetAttrMask.with({ size: true }), Object.assign(new SetAttr(), { size: 1 }));
    t.is(env.memfs.lookup('f').size, 1);
    t.true(f.isClosed());
    t.is(env.server.fidCount(), fids - 1);
    t.is(env.sent.includes('Tsetattrclunk'), ext);
    await t.throwsAsync(f.getAttr(AttrMaskAll()), { is: syserror.EBADF });
    await t.throwsAsync(f.setAttrClose(SetAttrMask.with({ size: true }), new SetAttr()), { is: syserror.EBADF });
  });

  test(title('statFS and fSync'), async (t) => {
    const env = await setup(t, V.name);
    const s = await env.root.statFS();
    t.is(s.type, 0x01021994);
    const [, d] = await env.root.walk([]);
    const [f] = await d.create('f', O_RDWR, 0o600, NoUID, NoGID);
    await t.notThrowsAsync(f.fSync());
  });

  if (ext) {
    test(title('xattrs: Tsetxattr, Tgetxattr (binary-safe, ERANGE), Tlistxattr, Tremovexattr'), async (t) => {
      const env = await setup(t, V.name);
      const value = 'a\x00\xff\x80b';
      await env.root.setXattr('user.k', value, 0);
      t.is(env.memfs.root.xattrs.get('user.k'), value);
      t.is(await env.root.getXattr('user.k', 0), value);
      await t.throwsAsync(env.root.getXattr('user.k', 2), { is: syserror.ERANGE });
      t.deepEqual([...(await env.root.listXattr(0))], ['user.k']);
      await env.root.removeXattr('user.k');
      await t.throwsAsync(env.root.getXattr('user.k', 0), { is: syserror.ENODATA });
      for (const m of ['Tsetxattr', 'Tgetxattr', 'Tlistxattr', 'Tremovexattr']) t.true(env.sent.includes(m), m);
    });
  } else {
    test(title('xattrs go as Txattrwalk/Txattrcreate (standard 9P2000.L, which our server serves beyond gVisor)'), async (t) => {
      const env = await setup(t, V.name);
      await t.throwsAsync(env.root.getXattr('user.k', 0), { is: syserror.ENODATA });
      await env.root.setXattr('user.k', 'v', 0);
      t.is(env.memfs.root.xattrs.get('user.k'), 'v');
      t.is(await env.root.getXattr('user.k', 0), 'v');
      await env.root.removeXattr('user.k');
      await t.throwsAsync(env.root.removeXattr('user.k'), { is: syserror.ENODATA });
      t.true(env.sent.includes('Txattrwalk'));
      t.true(env.sent.includes('Txattrcreate'));
      t.false(env.sent.some((m) => /^T(get|set|list|remove)xattr$/.test(m)));
      // The clone made for Txattrcreate was clunked: only the root is left.
      t.is(env.server.fidCount(), 1);
    });
  }

  test(title('allocate (Tallocate from version 7), flush (Tflushf from version 1), connect'), async (t) => {
    const env = await setup(t, V.name);
    const [, d] = await env.root.walk([]);
    const [f] = await d.create('f', O_RDWR, 0o600, NoUID, NoGID);
    if (ext) {
      await f.allocate(new AllocateMode(), 0, 100);
      t.is(env.memfs.lookup('f').size, 100);
      await f.flush();
      t.true(env.sent.includes('Tflushf'));
      // A socket cannot come back as an fd in Node.
      await t.throwsAsync(f.connect(0), { is: syserror.EOPNOTSUPP });
    } else {
      await t.throwsAsync(f.allocate(new AllocateMode(), 0, 100), { is: syserror.EOPNOTSUPP });
      await f.flush();
      t.false(env.sent.includes('Tflushf'));
      await t.throwsAsync(f.connect(0), { is: syserror.ECONNREFUSED });
    }
  });

  test(title('lock and getLock: a conflicting owner is Blocked and is reported by getLock'), async (t) => {
    const env = await setup(t, V.name);
    const [, d] = await env.root.walk([]);
    const [f] = await d.create('f', O_RDWR, 0o600, NoUID, NoGID);
    t.is(await f.lock(LockTypeWrlck, 0, 0, 10, 1, 'host'), LockStatusOK);
    t.is(await f.lock(LockTypeRdlck, 0, 5, 10, 2, 'host'), LockStatusBlocked);
    const l = await f.getLock({ type: LockTypeRdlck, start: 5, length: 10, procID: 2, clientID: 'host' });
    t.deepEqual(l, { type: LockTypeWrlck, start: 0, length: 10, procID: 1, clientID: 'host' });
    t.is(await f.lock(LockTypeUnlck, 0, 0, 10, 1, 'host'), LockStatusOK);
    t.is(await f.lock(LockTypeRdlck, 0, 5, 10, 2, 'host'), LockStatusOK);
    t.is((await f.getLock({ type: LockTypeRdlck, start: 0, length: 0, procID: 3, clientID: 'x' })).type, LockTypeUnlck);
  });

  for (const serverMulti of [false, true]) {
    test(title(`multiGetAttr (server File ${serverMulti ? 'with' : 'without'} multiGetAttr): stops at a missing name or a non-directory`), async (t) => {
      const env = await setup(t, V.name, 8192, serverMulti);
      env.memfs.mkdirAll('a/b');
      const [, b] = await env.root.walk(['a', 'b']);
      await b.create('f', O_RDWR, 0o600, NoUID, NoGID);
      await b.close();
      const all = await env.root.multiGetAttr(['', 'a', 'b', 'f']);
      t.deepEqual(
        all.map((s) => s.qid.path),
        [env.memfs.root.ino, env.memfs.lookup('a').ino, env.memfs.lookup('a/b').ino, env.memfs.lookup('a/b/f').ino],
      );
      t.is((await env.root.multiGetAttr(['a', 'missing', 'b'])).length, 1);
      t.is((await env.root.multiGetAttr(['a', 'b', 'f', 'beyond'])).length, 3);
      t.is(env.sent.includes('Tmultigetattr'), ext);
      // Every intermediate fid was clunked.
      t.is(env.server.fidCount(), 1);
    });
  }

  test(title('no fid leaks: after closing every file only the root fid is left; none after the client closes'), async (t) => {
    const env = await setup(t, V.name);
    env.memfs.mkdirAll('a/b/c');
    const files = await Promise.all(Array.from({ length: 50 }, () => env.root.walk(['a', 'b']).then(([, f]) => f)));
    t.is(env.server.fidCount(), 51);
    await Promise.all(files.map((f) => f.close()));
    t.is(env.server.fidCount(), 1);
    await env.client.close();
    await env.server.waitIdle();
    t.is(env.server.fidCount(), 0);
  });
}

test('chunk: stops at a short result and returns what was done before an error (gVisor chunk)', async (t) => {
  const env = await setup(t, '9P2000.L.Google.13');
  const calls: Array<[number, number]> = [];
  const fn = async function (this: ClientFile, p: Buffer, off: number): Promise<number> {
    calls.push([p.length, off]);
    if (off >= 25) throw syserror.EIO;
    return off === 20 ? 3 : p.length;
  };
  t.is(await chunk(10, env.root, fn, Buffer.alloc(100), 0), 23);
  t.deepEqual(calls, [
    [10, 0],
    [10, 10],
    [10, 20],
  ]);
  calls.length = 0;
  const fn2 = async function (this: ClientFile, p: Buffer, off: number): Promise<number> {
    calls.push([p.length, off]);
    if (off >= 20) throw syserror.EIO;
    return p.length;
  };
  t.is(await chunk(10, env.root, fn2, Buffer.alloc(100), 0), 20);
  await t.throwsAsync(chunk(10, env.root, fn2, Buffer.alloc(100), 20), { is: syserror.EIO });
});

test('concurrency: 32 walks, reads and closes interleaved on one connection all succeed', async (t) => {
  const env = await setup(t, '9P2000.L.Google.13');
  const [, d] = await env.root.walk([]);
  for (let i = 0; i < 32; i++) {
    const [, c] = await d.walk([]);
    const [f] = await c.create(`f${i}`, O_RDWR, 0o600, NoUID, NoGID);
    await f.writeAt(Buffer.from(`file ${i}`), 0);
    await f.close();
  }
  const got = await Promise.all(
    Array.from({ length: 32 }, async (_, i) => {
      const [, f] = await env.root.walk([`f${i}`]);
      await f.open(O_RDONLY);
      const b = Buffer.alloc(32);
      const n = await f.readAt(b, 0);
      await f.close();
      return b.subarray(0, n).toString();
    }),
  );
  t.deepEqual(
    got,
    Array.from({ length: 32 }, (_, i) => `file ${i}`),
  );
});

test('ReadWriterFile: read and write advance the offset; readAt and writeAt do not; 0 at end of file', async (t) => {
  const env = await setup(t, '9P2000.L.Google.13');
  const [, d] = await env.root.walk([]);
  const [f] = await d.create('rw', O_RDWR, 0o600, NoUID, NoGID);
  const rw = new ReadWriterFile(f);
  t.is(await rw.write(Buffer.from('hello ')), 6);
  t.is(await rw.write(Buffer.from('world')), 5);
  t.is(rw.offset, 11);
  t.is(await rw.writeAt(Buffer.from('W'), 6), 1);
  t.is(rw.offset, 11);
  rw.offset = 0;
  const b = Buffer.alloc(8);
  t.is(await rw.read(b), 8);
  t.is(b.toString(), 'hello Wo');
  t.is(await rw.read(b), 3);
  t.is(b.subarray(0, 3).toString(), 'rld');
  t.is(await rw.read(b), 0);
  t.is(await rw.readAt(b, 0), 8);
  t.is(rw.offset, 11);
});
