// The security contract of the gofer (issue 3, "Confinement"): a client can
// name nothing outside --root, and nothing outside it is ever read, written,
// created, removed, chmod'ed or stat'ed. Every test serves base/root through
// a real p9 server on a Unix socket and checks that base/outside (a sibling
// with sentinel files whose atime would move on any read) is identical
// before and after.
import type { ExecutionContext } from 'ava';
import * as child_process from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import * as sc from '../../pkg/fsgofer/syscalls';
import { ClientFile } from '../../pkg/p9/client_file';
import { Server } from '../../pkg/p9/server';
import {
  Message,
  Rlerror,
  Tattach,
  Tauth,
  Tclunk,
  Tlcreate,
  Tlink,
  Tmkdir,
  Tmknod,
  Trenameat,
  Tsymlink,
  Tunlinkat,
  Tversion,
  Twalk,
} from '../../pkg/p9/messages';
import {
  AttrMaskAll,
  ModeBlockDevice,
  ModeCharacterDevice,
  ModeNamedPipe,
  ModeRegular,
  ModeSocket,
  NoFID,
  OpenTruncate,
  ReadOnly,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  WriteOnly,
  fileModeIsSymlink,
} from '../../pkg/p9/p9';
import * as syserror from '../../pkg/syserror/syserror';
import { connect, rawConn, serve } from './_harness';
import { layout, makeLayout, snapshot } from './_outside';
import { rootSuite } from './_root';

const test = rootSuite('test/fsgofer/confinement.test.ts');

process.umask(0);

interface env extends layout {
  before: string[];
  root9: ClientFile;
  address: string;
  openFiles(): number;
  server: Server;
}

async function setup(t: ExecutionContext): Promise<env> {
  const l = makeLayout();
  t.teardown(() => fs.rmSync(l.base, { recursive: true, force: true }));
  fs.mkdirSync(path.join(l.root, 'dir'));
  fs.writeFileSync(path.join(l.root, 'file'), 'inside\n');
  // Symlinks pointing out, absolute and relative, to a directory and a file.
  fs.symlinkSync(l.outside, path.join(l.root, 'absdir'));
  fs.symlinkSync('../outside', path.join(l.root, 'reldir'));
  fs.symlinkSync('..', path.join(l.root, 'dotdot'));
  fs.symlinkSync('/', path.join(l.root, 'slash'));
  fs.symlinkSync(path.join(l.outside, 'secret'), path.join(l.root, 'absfile'));
  fs.symlinkSync('../outside/secret', path.join(l.root, 'relfile'));
  fs.symlinkSync('../../outside/secret', path.join(l.root, 'dir', 'deepfile'));
  const s = await serve(t, l.root, l.base);
  const { root } = await connect(t, s);
  return { ...l, before: snapshot(l.outside), root9: root, address: s.address, openFiles: s.openFiles, server: s.server };
}

function unchanged(t: ExecutionContext, e: env): void {
  t.deepEqual(snapshot(e.outside), e.before, 'the host outside the root changed');
}

async function walk1(root: ClientFile, ...names: string[]): Promise<ClientFile> {
  const [, f] = await root.walk(names);
  return f;
}

// refusedWith checks that p fails with one of errs.
async function refusedWith(t: ExecutionContext, p: Promise<unknown>, errs: syserror.LinuxError[], what: string): Promise<void> {
  const e = await t.throwsAsync(p, undefined, what);
  t.true(errs.includes(e as syserror.LinuxError), `${what}: ${String(e)}`);
}

// What a directory operation on a symlink fid answers: the p9 server's
// EINVAL (not a directory fid) or fsgofer's ENOTDIR.
const dirErrs = [syserror.EINVAL, syserror.ENOTDIR];

const dirLinks = ['absdir', 'reldir', 'dotdot', 'slash'];
const fileLinks = ['absfile', 'relfile'];

test('symlinks to directories outside are never followed: walk, open, create, mkdir, mknod, symlink, link, rename, unlink, readdir, xattr', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  for (const L of dirLinks) {
    for (const inner of ['secret', 'dir', 'outside']) {
      // The p9 server refuses to walk past a non-directory (EINVAL) before
      // fsgofer would (ENOTDIR).
      await refusedWith(t, r.walk([L, inner]), [syserror.EINVAL, syserror.ENOTDIR], `walk ${L}/${inner}`);
    }
    const f = await walk1(r, L);
    const [, , attr] = await f.getAttr(AttrMaskAll());
    t.true(fileModeIsSymlink(attr.mode), `${L} is seen as the symlink itself`);
    await refusedWith(t, f.walk(['secret']), [syserror.EINVAL, syserror.ENOTDIR], `walk from ${L}`);
    const g = await walk1(r, L);
    await t.throwsAsync(g.open(ReadOnly), undefined, `open ${L}`);
    await g.close();
    await refusedWith(t, f.mkdir('evil', 0o777, 0, 0), dirErrs, `mkdir in ${L}`);
    await refusedWith(t, f.symlink('x', 'evil', 0, 0), dirErrs, `symlink in ${L}`);
    await refusedWith(t, f.mknod('evil', ModeRegular | 0o644, 0, 0, 0, 0), dirErrs, `mknod in ${L}`);
    await refusedWith(t, f.unlinkAt('secret', 0), dirErrs, `unlinkAt in ${L}`);
    await refusedWith(t, f.renameAt('secret', r, 'stolen'), dirErrs, `renameAt in ${L}`);
    await refusedWith(t, r.renameAt('file', f, 'planted'), dirErrs, `renameAt in ${L}`);
    await refusedWith(t, f.link(await walk1(r, 'file'), 'planted'), dirErrs, `link in ${L}`);
    // user.* xattrs do not exist on symlinks (Linux): nothing reaches the target.
    await t.throwsAsync(f.getXattr('user.sentinel', 0), { is: syserror.ENODATA });
    await t.throwsAsync(f.setXattr('user.evil', 'x', 0), { is: syserror.EPERM });
    await t.throwsAsync(f.removeXattr('user.sentinel'), { is: syserror.EPERM });
    t.deepEqual([...(await f.listXattr(0))], []);
    // setattr acts on the link itself, never on the directory it names.
    await t.throwsAsync(f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o777)));
    await f.setAttr(SetAttrMask.with({ mTime: true, mTimeNotSystemTime: true }), new SetAttr(0, 0, 0, 0, 0, 0, 5, 0));
    t.is(fs.lstatSync(path.join(e.root, L)).mtimeMs, 5000);
    const c = await walk1(r, L);
    await refusedWith(t, c.create('evil', ReadWrite, 0o666, 0, 0), dirErrs, `create in ${L}`);
    await c.close().catch(() => undefined);
    await f.close();
  }
  // Creating over a link's name never follows it (O_EXCL, mkdirat, ...).
  for (const L of [...dirLinks, ...fileLinks]) {
    const [, c] = await r.walk([]);
    await t.throwsAsync(c.create(L, ReadWrite, 0o666, 0, 0), { is: syserror.EEXIST });
    await c.close().catch(() => undefined);
    await t.throwsAsync(r.mkdir(L, 0o777, 0, 0), { is: syserror.EEXIST });
    await t.throwsAsync(r.symlink('x', L, 0, 0), { is: syserror.EEXIST });
    await t.throwsAsync(r.mknod(L, ModeRegular | 0o644, 0, 0, 0, 0), { is: syserror.EEXIST });
  }
  // readdir of the root lists the links, nothing behind them.
  const d = await walk1(r);
  await d.open(ReadOnly);
  const names = (await d.readdir(0n, 65536)).map((x) => x.name).sort();
  t.deepEqual(names, fs.readdirSync(e.root).sort());
  await d.close();
  // Renaming and removing a link moves or removes the link only.
  await r.renameAt('absdir', r, 'moved');
  await r.unlinkAt('moved', 0);
  await t.throwsAsync(r.unlinkAt('reldir', linux.AT_REMOVEDIR), { is: syserror.ENOTDIR });
  await r.unlinkAt('reldir', 0);
  unchanged(t, e);
});

test('symlinks to files outside are never followed: open (read, write, truncate), setattr, xattr, link', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  for (const L of [...fileLinks, 'dir/deepfile']) {
    const names = L.split('/');
    for (const flags of [ReadOnly, WriteOnly, ReadWrite, ReadOnly | OpenTruncate]) {
      const f = await walk1(r, ...names);
      await t.throwsAsync(f.open(flags), undefined, `open ${L} ${flags}`);
      await f.close();
    }
    const f = await walk1(r, ...names);
    await t.throwsAsync(f.setAttr(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 0)), undefined, `truncate ${L}`);
    await t.throwsAsync(f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o777)), undefined, `chmod ${L}`);
    // chown and utimes change the link itself (lchown, utimensat NOFOLLOW).
    await f.setAttr(SetAttrMask.with({ uid: true, gid: true }), new SetAttr(0, 4242, 4242));
    t.is(fs.lstatSync(path.join(e.root, L)).uid, 4242);
    await t.throwsAsync(f.getXattr('user.sentinel', 0), { is: syserror.ENODATA });
    await t.throwsAsync(f.setXattr('user.evil', 'x', 0), { is: syserror.EPERM });
    t.is(await f.readlink(), fs.readlinkSync(path.join(e.root, L)));
    const [, , attr] = await f.getAttr(AttrMaskAll());
    t.true(fileModeIsSymlink(attr.mode));
    t.is(attr.size, fs.readlinkSync(path.join(e.root, L)).length, 'stat is of the link, not of the target');
    // A hard link to the link is a link to the symlink inode.
    await r.link(f, `hl-${names[names.length - 1]}`);
    t.true(fs.lstatSync(path.join(e.root, `hl-${names[names.length - 1]}`)).isSymbolicLink());
    await f.setAttrClose(SetAttrMask.with({ mTime: true }), new SetAttr());
  }
  unchanged(t, e);
});

test('hard links: linking from inside works; no name reaches an outside file', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  const f = await walk1(r, 'file');
  await r.link(f, 'hl');
  t.is(fs.statSync(path.join(e.root, 'hl')).ino, fs.statSync(path.join(e.root, 'file')).ino);
  const d = await walk1(r, 'dir');
  await d.link(f, 'hl2');
  t.is(fs.statSync(path.join(e.root, 'file')).nlink, 3);
  for (const name of ['../hl3', '..', '/etc/x', 'a\0b']) {
    await t.throwsAsync(r.link(f, name), { is: syserror.EINVAL }, name);
  }
  t.is(fs.statSync(path.join(e.outside, 'secret')).nlink, 1);
  unchanged(t, e);
});

test('device nodes: mknod of devices and sockets is EPERM; a host device node inside the root cannot be reached', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  for (const m of [ModeCharacterDevice, ModeBlockDevice, ModeSocket]) {
    await t.throwsAsync(r.mknod('dev', m | 0o666, 1, 3, 0, 0), { is: syserror.EPERM });
  }
  t.false(fs.existsSync(path.join(e.root, 'dev')));
  // One put there by the host (a /dev/null twin).
  const dfd = sc.openat(linux.AT_FDCWD, e.root, linux.O_DIRECTORY | linux.O_RDONLY);
  sc.mknodat(dfd, 'hostnull', linux.S_IFCHR | 0o666, (1 << 8) | 3);
  sc.close(dfd);
  await t.throwsAsync(r.walk(['hostnull']), { is: syserror.EPERM });
  unchanged(t, e);
});

test('set-ID bits are stored inside the root only (07777 as Linux chmod; gVisor 92374e519): create, mkdir, mknod, setattr, chown through the codec', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  const [, c] = await r.walk([]);
  // Through the 9P codec: Tlcreate/Tmkdir/Tmknod/Tsetattr carry 07777.
  await c.create('suid', ReadWrite, 0o6777, 1000, 1000);
  await c.close();
  await r.mkdir('suiddir', 0o6777, 1000, 1000);
  await r.mknod('suidnod', ModeRegular | 0o6777, 0, 0, 1000, 1000);
  await r.mknod('suidfifo', ModeNamedPipe | 0o6777, 0, 0, 1000, 1000);
  for (const n of ['suid', 'suiddir', 'suidnod', 'suidfifo']) {
    // The chown to the client's ids that follows each creation does not
    // take them away: the mode stored is the one asked for.
    t.is(fs.lstatSync(path.join(e.root, n)).mode & 0o7777, 0o6777, n);
  }
  const f = await walk1(r, 'suid');
  await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o6755));
  t.is(fs.statSync(path.join(e.root, 'suid')).mode & 0o7777, 0o6755);
  // Linux's chown(2) clears S_ISUID, and S_ISGID with group execute, of a
  // non-directory even for root: the host does it for the gofer.
  await f.setAttr(SetAttrMask.with({ uid: true }), new SetAttr(0, 1001));
  t.is(fs.statSync(path.join(e.root, 'suid')).mode & 0o7777, 0o755);
  // S_ISGID without group execute (a mandatory-locking mark) stays.
  await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o6745));
  await f.setAttr(SetAttrMask.with({ gid: true }), new SetAttr(0, 0, 1001));
  t.is(fs.statSync(path.join(e.root, 'suid')).mode & 0o7777, 0o2745);
  // A directory keeps both.
  const d = await walk1(r, 'suiddir');
  await d.setAttr(SetAttrMask.with({ uid: true, gid: true }), new SetAttr(0, 1002, 1002));
  t.is(fs.statSync(path.join(e.root, 'suiddir')).mode & 0o7777, 0o6777);
  // A symlink pointing out: its mode cannot be set, the target is untouched.
  for (const L of [...fileLinks, ...dirLinks]) {
    const l = await walk1(r, L);
    await t.throwsAsync(l.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o6777)), { is: syserror.EOPNOTSUPP }, L);
    await l.close();
  }
  unchanged(t, e);
});

test('a named pipe is held by O_PATH: setattr of mode and owner works through its magic link, nothing outside changes', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  await r.mknod('fifo', ModeNamedPipe | 0o600, 0, 0, 0, 0);
  const f = await walk1(r, 'fifo');
  await f.setAttr(SetAttrMask.with({ permissions: true }), new SetAttr(0o4640));
  t.is(fs.lstatSync(path.join(e.root, 'fifo')).mode & 0o7777, 0o4640);
  await f.setAttr(SetAttrMask.with({ uid: true, gid: true, permissions: true }), new SetAttr(0o2604, 1000, 1000));
  const st = fs.lstatSync(path.join(e.root, 'fifo'));
  t.is(st.mode & 0o7777, 0o2604);
  t.is(st.uid, 1000);
  // Truncate is Linux's EINVAL for anything but a regular file.
  await t.throwsAsync(f.setAttr(SetAttrMask.with({ size: true }), new SetAttr(0, 0, 0, 0)), { is: syserror.EINVAL });
  await f.close();
  unchanged(t, e);
});

test('raw crafted frames: "..", ".", "", "a/b", "/", NUL and over-long names are refused; nothing outside is touched', async (t) => {
  const e = await setup(t);
  const c = await rawConn.open(t, e.address);
  const v = await c.call(0xffff, new Tversion(65536, '9P2000.L'));
  t.truthy(v);
  t.false(v instanceof Rlerror);
  const a = await c.call(1, new Tattach(1, new Tauth(NoFID, 'root', '/', 0)));
  t.false(a instanceof Rlerror, String(a));
  const bad = ['..', '.', '', 'a/b', '/', '../outside', '..\0', 'a\0b', '\0', 'x'.repeat(256)];
  let tag = 2;
  const refused = async (m: Message, what: string): Promise<void> => {
    const r = await c.call(tag++, m);
    t.true(r instanceof Rlerror, `${what}: ${String(r)}`);
    if (r instanceof Rlerror) t.true([syserror.EINVAL.errno, syserror.ENAMETOOLONG.errno].includes(r.error), `${what}: errno ${r.error}`);
  };
  // Walk to dir to have a second directory fid.
  t.false((await c.call(tag++, new Twalk(1, 3, ['dir']))) instanceof Rlerror);
  for (const name of bad) {
    const n = JSON.stringify(name);
    await refused(new Twalk(1, 2, [name]), `walk ${n}`);
    await refused(new Twalk(1, 2, ['dir', name]), `walk dir/${n}`);
    await refused(new Twalk(1, 2, [name, 'secret']), `walk ${n}/secret`);
    await refused(new Tmkdir(1, name, 0o777, 0), `mkdir ${n}`);
    await refused(new Tsymlink(1, name, '/etc/passwd', 0), `symlink ${n}`);
    await refused(new Tmknod(1, name, ModeRegular | 0o666, 0, 0, 0), `mknod ${n}`);
    await refused(new Tunlinkat(3, name, 0), `unlinkat ${n}`);
    await refused(new Tunlinkat(1, name, linux.AT_REMOVEDIR), `rmdir ${n}`);
    await refused(new Trenameat(1, 'file', 3, name), `renameat to ${n}`);
    await refused(new Trenameat(3, name, 1, 'stolen'), `renameat from ${n}`);
    await refused(new Tlink(3, 1, name), `link ${n}`);
    // Tlcreate needs an fid of its own (it becomes the new file).
    t.false((await c.call(tag++, new Twalk(1, 4, []))) instanceof Rlerror);
    await refused(new Tlcreate(4, name, ReadWrite, 0o666, 0), `create ${n}`);
    await c.call(tag++, new Tclunk(4));
  }
  // Names the encoder might normalize, written byte by byte: Twalk(fid 1,
  // newfid 2, ["../outside"]) and ["a/b"] and ["..\0x"].
  for (const raw of [Buffer.from('../outside'), Buffer.from('a/b'), Buffer.from('..\0x', 'latin1'), Buffer.from([0x2e, 0x2e])]) {
    const body = Buffer.alloc(4 + 4 + 2 + 2 + raw.length);
    body.writeUInt32LE(1, 0);
    body.writeUInt32LE(2, 4);
    body.writeUInt16LE(1, 8);
    body.writeUInt16LE(raw.length, 10);
    raw.copy(body, 12);
    const hdr = Buffer.alloc(7);
    hdr.writeUInt32LE(7 + body.length, 0);
    hdr.writeUInt8(110, 4); // Twalk
    hdr.writeUInt16LE(tag++, 5);
    c.sendBytes(Buffer.concat([hdr, body]));
    const r = await c.recv();
    t.true(r !== null && r.msg instanceof Rlerror, `raw walk ${JSON.stringify(raw.toString('latin1'))}`);
  }
  // A garbled frame (unknown type) is refused, and the connection still works
  // or is closed; either way nothing outside moved.
  const junk = Buffer.from([7 + 4, 0, 0, 0, 0xee, 0x33, 0x00, 1, 2, 3, 4]);
  c.sendBytes(junk);
  await c.recv();
  unchanged(t, e);
  t.false(fs.existsSync(path.join(e.base, 'stolen')));
  t.deepEqual(fs.readdirSync(e.base).filter((n) => !n.endsWith('.sock')).sort(), ['outside', 'root']);
});

test('a symlink swapped in for a directory while clients walk through it never leads outside (race)', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  fs.mkdirSync(path.join(e.root, 'd'));
  fs.writeFileSync(path.join(e.root, 'd', 'secret'), 'inside\n');
  // The swapper is another process: it really runs at the same time as the
  // gofer's host calls. It swaps root/d between the real directory and a
  // symlink to outside (absolute, then relative) as fast as it can.
  const stopFile = path.join(e.base, 'stop-swapper');
  const script = `
    const fs = require('fs');
    const [root, outside, stopFile, ms] = process.argv.slice(1);
    const end = Date.now() + Number(ms);
    let n = 0;
    while (Date.now() < end && !(n % 16 === 0 && fs.existsSync(stopFile))) {
      try {
        fs.renameSync(root + '/d', root + '/d.real');
        fs.symlinkSync(n % 2 ? outside : '../outside', root + '/d');
        fs.renameSync(root + '/d', root + '/d.link');
        fs.renameSync(root + '/d.real', root + '/d');
        fs.unlinkSync(root + '/d.link');
      } catch (e) {}
      n++;
    }
    process.stdout.write(String(n));
  `;
  // The walkers stop after MAX_WALKS walks (a few seconds on an idle
  // machine) or WALK_MS, whichever comes first: on a loaded machine the
  // count is lower, so it is logged and only a floor is asserted.
  const MAX_WALKS = 3000;
  const WALK_MS = 20000;
  const swapper = child_process.spawn(process.execPath, ['-e', script, e.root, e.outside, stopFile, String(WALK_MS + 30000)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (swapper.exitCode === null) swapper.kill('SIGKILL');
  });
  let swaps = '';
  swapper.stdout.on('data', (b: Buffer) => (swaps += b.toString()));
  const done = new Promise<void>((resolve) => swapper.once('exit', () => resolve()));
  let finished = false;
  void done.then(() => (finished = true));
  const walkEnd = Date.now() + WALK_MS;

  let attempts = 0;
  let walks = 0;
  let reads = 0;
  let creates = 0;
  // Four walkers at once, each keeping requests in flight while the
  // swapper runs.
  const walker = async (w: number): Promise<void> => {
    const buf = Buffer.alloc(64);
    while (!finished && walks < MAX_WALKS && Date.now() < walkEnd) {
      const i = ++attempts;
      walks += 3;
      // Walk through d to the file and read it.
      try {
        const [, f] = await r.walk(['d', 'secret']);
        try {
          await f.open(ReadOnly);
          const n = await f.readAt(buf, 0);
          t.is(buf.toString('utf8', 0, n), 'inside\n');
          reads++;
        } finally {
          await f.close();
        }
      } catch (err) {
        if (!(err instanceof syserror.LinuxError)) throw err;
      }
      // Stat through d.
      try {
        const [, f, , attr] = await r.walkGetAttr(['d', 'secret']);
        t.is(attr.size, 7, 'stat through the swapped name reached outside');
        await f.close();
      } catch (err) {
        if (!(err instanceof syserror.LinuxError)) throw err;
      }
      // Create, mkdir and unlink through a fid walked to d.
      try {
        const [, dd] = await r.walk(['d']);
        try {
          await dd.mkdir(`m${w}-${i}`, 0o755, 0, 0);
          await dd.unlinkAt(`m${w}-${i}`, linux.AT_REMOVEDIR);
          const [, c] = await dd.walk([]);
          await c.create(`c${w}-${i}`, WriteOnly, 0o644, 0, 0);
          await c.writeAt(Buffer.from('planted'), 0);
          await c.close();
          await dd.unlinkAt(`c${w}-${i}`, 0);
          creates++;
        } finally {
          await dd.close();
        }
      } catch (err) {
        if (!(err instanceof syserror.LinuxError)) throw err;
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(walker));
  fs.writeFileSync(stopFile, '');
  await done;
  t.log(`${walks} walks through the swapped name in ${attempts} rounds, ${reads} reads and ${creates} creates went through, ${swaps} swaps`);
  t.true(walks >= 30, `only ${walks} walks`);
  t.true(Number(swaps) >= 10, `only ${swaps} swaps`);
  unchanged(t, e);
});

test('fids: the server holds no more fids, and fsgofer no more host fds, than the client has open', async (t) => {
  const e = await setup(t);
  const r = e.root9;
  const start = e.openFiles();
  const files: ClientFile[] = [];
  for (const n of ['dir', 'file', 'absdir', 'relfile']) files.push(await walk1(r, n));
  t.is(e.openFiles(), start + 4);
  t.is(e.server.fidCount(), 1 + 4, 'server fids: the root and the four walked');
  for (const f of files) await f.close();
  t.is(e.server.fidCount(), 1);
  t.is(e.openFiles(), start);
  unchanged(t, e);
});
