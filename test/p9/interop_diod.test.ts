// Interop with a real 9P2000.L server: diod on loopback, exporting a temp
// directory. Our client walks, reads, writes, creates, renames, unlinks and
// reads directories on the export, and the host directory (Node fs) shows
// exactly that. diod answers Rlerror(EIO) to "9P2000.L.Google.13", so this
// is also the plain-9P2000.L path of the client: Twalk+Tgetattr,
// Txattrwalk/Txattrcreate, Tlcreate/Tmkdir/Tsymlink/Tmknod, Trename/Tremove
// (diod lacks Trenameat/Tunlinkat), and the per-component multiGetAttr.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { AT_REMOVEDIR, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, S_IFIFO } from '../../pkg/abi/linux/file';
import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import { AttrMaskAll, NoGID, SetAttr, SetAttrMask, fileModeIsDir } from '../../pkg/p9/p9';
import * as syserror from '../../pkg/syserror/syserror';
import { Diod, haveDiod, startDiod, tempDir } from './client_util';

if (!haveDiod()) {
  process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): test/p9/interop_diod.test.ts ***\n\n');
  test('interop with diod', (t) => {
    t.log('SKIPPED: diod not installed');
    t.pass();
  });
} else {
  interop();
}

interface Env {
  diod: Diod;
  dir: string;
  client: Client;
  root: ClientFile;
}

async function setup(t: { teardown(fn: () => Promise<void> | void): void }, msize = 8192, extraArgs: string[] = []): Promise<Env> {
  const dir = tempDir('p9interop-');
  const diod = await startDiod(dir, extraArgs);
  t.teardown(async () => {
    await diod.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const client = await Client.connect(diod.address, { msize });
  t.teardown(() => client.close());
  const root = await client.attach(dir, process.getuid?.() ?? 0);
  return { diod, dir, client, root };
}

async function readAll(f: ClientFile, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size + 10);
  let off = 0;
  for (;;) {
    const n = await f.readAt(buf.subarray(off), off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

function interop(): void {
  test('version: diod refuses 9P2000.L.Google.13 and the client falls back to plain 9P2000.L', async (t) => {
    const env = await setup(t, 8192, ['-d', '1']);
    t.is(env.client.version, 0);
    t.regex(env.diod.log(), /version '9P2000\.L\.Google\.13'/);
    t.regex(env.diod.log(), /P9_RVERSION tag 65535 msize 8192 version '9P2000\.L'/);
  });

  test('walk and read: a host file reads back, in msize chunks', async (t) => {
    const env = await setup(t, 4096);
    const data = Buffer.alloc(50000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    fs.mkdirSync(path.join(env.dir, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(env.dir, 'a/b/f'), data);
    const [qids, f, , attr] = await env.root.walkGetAttr(['a', 'b', 'f']);
    t.is(qids.length, 3);
    t.is(attr.size, data.length);
    t.is(qids[2].path, BigInt(fs.statSync(path.join(env.dir, 'a/b/f')).ino));
    await f.open(O_RDONLY);
    t.deepEqual(await readAll(f, data.length), data);
    await f.close();
    // Missing names: ENOENT, first or later component.
    await t.throwsAsync(env.root.walk(['nope']), { is: syserror.ENOENT });
    await t.throwsAsync(env.root.walk(['a', 'nope']), { is: syserror.ENOENT });
  });

  test('walkGetAttr on plain 9P2000.L is Twalk then Tgetattr', async (t) => {
    const env = await setup(t, 8192, ['-d', '1']);
    fs.writeFileSync(path.join(env.dir, 'x'), 'x');
    const [, f, valid, attr] = await env.root.walkGetAttr(['x']);
    t.true(valid.mode);
    t.is(attr.size, 1);
    await f.close();
    t.regex(env.diod.log(), /P9_TWALK tag \d+ fid \d+ newfid \d+ nwname 1 'x'/);
    t.regex(env.diod.log(), /P9_TGETATTR/);
  });

  test('create and write: the host sees exactly the bytes written', async (t) => {
    const env = await setup(t, 4096);
    const [, d] = await env.root.walk([]);
    const [f, qid] = await d.create('new.bin', O_RDWR, 0o640, 0, NoGID);
    t.is(f, d);
    const data = Buffer.from(Array.from({ length: 30000 }, (_, i) => (i * 13) & 0xff));
    t.is(await f.writeAt(data, 0), data.length);
    t.is(await f.writeAt(Buffer.from('tail'), 40000), 4);
    await f.close();
    const host = fs.readFileSync(path.join(env.dir, 'new.bin'));
    t.is(host.length, 40004);
    t.deepEqual(host.subarray(0, 30000), data);
    t.true(host.subarray(30000, 40000).every((b) => b === 0));
    t.is(host.subarray(40000).toString(), 'tail');
    const st = fs.statSync(path.join(env.dir, 'new.bin'));
    t.is(st.mode & 0o777, 0o640);
    t.is(BigInt(st.ino), qid.path);
    // Creating an existing name with O_EXCL is EEXIST.
    const [, d2] = await env.root.walk([]);
    await t.throwsAsync(d2.create('new.bin', O_WRONLY | O_EXCL, 0o600, 0, NoGID), { is: syserror.EEXIST });
    await d2.close();
  });

  test('mkdir, symlink, link, mknod: the host sees them', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'target'), 'T');
    await env.root.mkdir('dir', 0o750, 0, NoGID);
    await env.root.symlink('target', 'sym', 0, NoGID);
    const [, target] = await env.root.walk(['target']);
    await env.root.link(target, 'hard');
    await env.root.mknod('fifo', S_IFIFO | 0o600, 0, 0, 0, NoGID);
    t.true(fs.statSync(path.join(env.dir, 'dir')).isDirectory());
    t.is(fs.statSync(path.join(env.dir, 'dir')).mode & 0o777, 0o750);
    t.is(fs.readlinkSync(path.join(env.dir, 'sym')), 'target');
    t.is(fs.statSync(path.join(env.dir, 'hard')).ino, fs.statSync(path.join(env.dir, 'target')).ino);
    t.true(fs.statSync(path.join(env.dir, 'fifo')).isFIFO());
    const [, sym] = await env.root.walk(['sym']);
    t.is(await sym.readlink(), 'target');
    await t.throwsAsync(env.root.mkdir('dir', 0o700, 0, NoGID), { is: syserror.EEXIST });
  });

  test('renameAt and rename: the host sees the names moved (Trename: diod has no Trenameat)', async (t) => {
    const env = await setup(t);
    fs.mkdirSync(path.join(env.dir, 'd1'));
    fs.mkdirSync(path.join(env.dir, 'd2'));
    fs.writeFileSync(path.join(env.dir, 'd1/a'), 'A');
    fs.writeFileSync(path.join(env.dir, 'd1/b'), 'B');
    const [, d1] = await env.root.walk(['d1']);
    const [, d2] = await env.root.walk(['d2']);
    await d1.renameAt('a', d2, 'a2');
    t.deepEqual(fs.readdirSync(path.join(env.dir, 'd1')), ['b']);
    t.is(fs.readFileSync(path.join(env.dir, 'd2/a2'), 'utf8'), 'A');
    const [, b] = await d1.walk(['b']);
    await b.rename(env.root, 'top');
    t.is(fs.readFileSync(path.join(env.dir, 'top'), 'utf8'), 'B');
    t.deepEqual(fs.readdirSync(path.join(env.dir, 'd1')), []);
    // The renamed fid still names the file.
    const [, , a] = await b.getAttr(AttrMaskAll());
    t.is(a.size, 1);
    await t.throwsAsync(d1.renameAt('missing', d2, 'x'), { is: syserror.ENOENT });
    t.true(env.client.noRenameAt);
  });

  test('unlinkAt: files and (with AT_REMOVEDIR) directories go from the host; unlinkat(2) errors', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'f'), 'x');
    fs.mkdirSync(path.join(env.dir, 'd'));
    fs.mkdirSync(path.join(env.dir, 'full'));
    fs.writeFileSync(path.join(env.dir, 'full/x'), 'x');
    await t.throwsAsync(env.root.unlinkAt('d', 0), { is: syserror.EISDIR });
    await t.throwsAsync(env.root.unlinkAt('f', AT_REMOVEDIR), { is: syserror.ENOTDIR });
    await t.throwsAsync(env.root.unlinkAt('full', AT_REMOVEDIR), { is: syserror.ENOTEMPTY });
    await t.throwsAsync(env.root.unlinkAt('missing', 0), { is: syserror.ENOENT });
    await env.root.unlinkAt('f', 0);
    await env.root.unlinkAt('d', AT_REMOVEDIR);
    t.deepEqual(fs.readdirSync(env.dir), ['full']);
  });

  test('readdir: the entries are the host directory, page by page with offsets as cookies', async (t) => {
    const env = await setup(t);
    const names = Array.from({ length: 300 }, (_, i) => `file-with-a-longish-name-${i}`);
    for (const n of names) fs.writeFileSync(path.join(env.dir, n), '');
    fs.mkdirSync(path.join(env.dir, 'subdir'));
    const [, d] = await env.root.walk([]);
    await d.open(O_RDONLY);
    const got: string[] = [];
    let offset = 0n;
    let pages = 0;
    for (;;) {
      const ents = await d.readdir(offset, 1024);
      if (ents.length === 0) break;
      pages++;
      for (const e of ents) got.push(e.name);
      offset = ents[ents.length - 1].offset;
    }
    t.true(pages > 5);
    t.deepEqual(got.filter((n) => n !== '.' && n !== '..').sort(), [...names, 'subdir'].sort());
  });

  test('getAttr and setAttr: mode, size, times agree with the host', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'f'), 'hello world');
    const [, f] = await env.root.walk(['f']);
    const mask = SetAttrMask.with({ permissions: true, size: true, aTime: true, mTime: true, aTimeNotSystemTime: true, mTimeNotSystemTime: true });
    const attr = Object.assign(new SetAttr(), {
      permissions: 0o604,
      size: 5,
      aTimeSeconds: 1000000000,
      aTimeNanoSeconds: 5,
      mTimeSeconds: 1200000000,
      mTimeNanoSeconds: 7,
    });
    await f.setAttr(mask, attr);
    const st = fs.statSync(path.join(env.dir, 'f'), { bigint: true });
    t.is(Number(st.mode & 0o777n), 0o604);
    t.is(st.size, 5n);
    t.is(st.atimeNs, 1000000000n * 1000000000n + 5n);
    t.is(st.mtimeNs, 1200000000n * 1000000000n + 7n);
    const [qid, valid, a] = await f.getAttr(AttrMaskAll());
    t.true(valid.size && valid.mode);
    t.is(a.mode & 0o777, 0o604);
    t.is(a.size, 5);
    t.is(a.nLink, 1);
    t.is(a.mTimeSeconds, 1200000000);
    t.is(qid.path, st.ino);
  });

  test('xattrs through Txattrwalk/Txattrcreate: set, get (binary-safe), list, remove', async (t) => {
    const env = await setup(t, 1024, ['-d', '1']);
    fs.writeFileSync(path.join(env.dir, 'f'), '');
    const [, f] = await env.root.walk(['f']);
    const value = 'v\x00\xff\x80' + 'x'.repeat(3000); // more than one msize chunk
    await f.setXattr('user.one', value, 0);
    await f.setXattr('user.two', '2', 0);
    t.is(await f.getXattr('user.one', 0), value);
    await t.throwsAsync(f.getXattr('user.one', 3), { is: syserror.ERANGE });
    t.deepEqual([...(await f.listXattr(0))].sort(), ['user.one', 'user.two']);
    // XATTR_CREATE (1) on an existing name: EEXIST, from the Tclunk.
    await t.throwsAsync(f.setXattr('user.two', '3', 1), { is: syserror.EEXIST });
    await f.removeXattr('user.one');
    await t.throwsAsync(f.getXattr('user.one', 0), { is: syserror.ENODATA });
    t.deepEqual([...(await f.listXattr(0))], ['user.two']);
    t.regex(env.diod.log(), /P9_TXATTRCREATE/);
    t.regex(env.diod.log(), /P9_TXATTRWALK/);
  });

  test('statFS: diod statfs (a 64-bit fsid) decodes', async (t) => {
    const env = await setup(t);
    const s = await env.root.statFS();
    t.true(s.blockSize > 0);
    t.true(s.nameLength >= 255);
  });

  test('lock and getLock: standard Tlock/Tgetlock against diod', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'f'), 'data');
    const [, f] = await env.root.walk(['f']);
    await f.open(O_RDWR);
    t.is(await f.lock(1, 0, 0, 0, 100, 'us'), 0);
    const l = await f.getLock({ type: 1, start: 0, length: 0, procID: 100, clientID: 'us' });
    t.is(l.type, 2); // F_UNLCK: our own lock does not conflict
    t.is(await f.lock(2, 0, 0, 0, 100, 'us'), 0);
  });

  test('multiGetAttr without Tmultigetattr: one walk per component, stopping at a missing name', async (t) => {
    const env = await setup(t);
    fs.mkdirSync(path.join(env.dir, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(env.dir, 'a/b/f'), 'xyz');
    const all = await env.root.multiGetAttr(['', 'a', 'b', 'f']);
    t.is(all.length, 4);
    t.true(fileModeIsDir(all[0].attr.mode));
    t.is(all[3].attr.size, 3);
    const part = await env.root.multiGetAttr(['a', 'missing', 'x']);
    t.is(part.length, 1);
    const stopAtFile = await env.root.multiGetAttr(['a', 'b', 'f', 'beyond']);
    t.is(stopAtFile.length, 3);
  });

  test('version-gated calls on plain 9P2000.L: allocate EOPNOTSUPP, connect ECONNREFUSED, flush a no-op (gVisor)', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'f'), '');
    const [, f] = await env.root.walk(['f']);
    await f.open(O_RDWR);
    const { AllocateMode } = await import('../../pkg/p9/p9');
    await t.throwsAsync(f.allocate(new AllocateMode(), 0, 10), { is: syserror.EOPNOTSUPP });
    await t.throwsAsync(f.connect(0), { is: syserror.ECONNREFUSED });
    await t.notThrowsAsync(f.flush());
    await t.notThrowsAsync(f.fSync());
  });

  test('abort: a call blocked in diod (opening a FIFO) sends Tflush; the call then settles (EINTR or honored reply)', async (t) => {
    const env = await setup(t, 8192, ['-d', '1']);
    const fifo = path.join(env.dir, 'fifo');
    await env.root.mknod('fifo', S_IFIFO | 0o600, 0, 0, 0, NoGID);
    const [, f] = await env.root.walk(['fifo']);
    const ac = new AbortController();
    const opening = f.open(O_RDONLY, ac.signal);
    let outcome: 'ok' | 'EINTR' | 'other' | undefined;
    const done = opening.then(
      () => (outcome = 'ok'),
      (e: unknown) => (outcome = e === syserror.EINTR ? 'EINTR' : 'other'),
    );
    // Wait until diod is inside the open, then abort.
    while (!/P9_TLOPEN/.test(env.diod.log())) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    while (!/P9_TFLUSH/.test(env.diod.log())) await new Promise((r) => setTimeout(r, 10));
    // Let the open finish: a writer appears (O_RDWR|O_NONBLOCK never blocks).
    const w = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    t.teardown(() => fs.closeSync(w));
    await done;
    t.true(outcome === 'ok' || outcome === 'EINTR', `outcome ${outcome}`);
    const m = /P9_TLOPEN tag (\d+)/.exec(env.diod.log())!;
    t.regex(env.diod.log(), new RegExp(`P9_TFLUSH tag \\d+ oldtag ${m[1]}`));
    // The connection is fine afterwards.
    await t.notThrowsAsync(env.root.getAttr(AttrMaskAll()));
  });

  test('death: killing diod gives EIO to every waiting call, and to later calls', async (t) => {
    const env = await setup(t);
    const fifos = ['p1', 'p2', 'p3'];
    for (const n of fifos) await env.root.mknod(n, S_IFIFO | 0o600, 0, 0, 0, NoGID);
    const files = await Promise.all(fifos.map(async (n) => (await env.root.walk([n]))[1]));
    // Each open blocks a diod worker: no writer will ever come.
    const waiting = files.map((f) => f.open(O_RDONLY));
    await new Promise((r) => setTimeout(r, 100));
    env.diod.proc.kill('SIGKILL');
    const results = await Promise.allSettled(waiting);
    t.true(results.every((r) => r.status === 'rejected' && r.reason === syserror.EIO));
    await t.throwsAsync(env.root.getAttr(AttrMaskAll()), { is: syserror.EIO });
    await t.throwsAsync(env.root.walk(['p1']), { is: syserror.EIO });
  });

  test('many in flight: 64 concurrent reads of different files all come back right', async (t) => {
    const env = await setup(t);
    for (let i = 0; i < 64; i++) fs.writeFileSync(path.join(env.dir, `f${i}`), `content of ${i}`);
    const got = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const [, f] = await env.root.walk([`f${i}`]);
        await f.open(O_RDONLY);
        const b = await readAll(f, 100);
        await f.close();
        return b.toString();
      }),
    );
    t.deepEqual(
      got,
      Array.from({ length: 64 }, (_, i) => `content of ${i}`),
    );
  });

  test('fids are clunked and reused (fid pool)', async (t) => {
    const env = await setup(t);
    fs.writeFileSync(path.join(env.dir, 'f'), 'x');
    const fids = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const [, f] = await env.root.walk(['f']);
      fids.add(f.fid);
      await f.close();
    }
    t.is(fids.size, 1);
  });
}
