// Host fd donation (gVisor's handle.fd: fsgofer's Open/Create donate the
// host fd of a regular file, the sentry's handle reads and writes it with
// preadv2/pwritev2 instead of Tread/Twrite). Pins: data through donated fds
// matches the host, byte for byte, against the same calls on a host file
// (differential); O_APPEND, pread/pwrite at offsets and past the end,
// truncate and fallocate; sizes and mtimes seen by stat after writes in
// exclusive and shared mode; every donated fd closed once the files and the
// filesystem are released; the same over a real gofer child, and with
// --no-donate (9P data path), and over diod (no fd channel at all).

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as linux from '../../../../pkg/abi/linux';
import { STATX_BASIC_STATS, STATX_SIZE, type Statx } from '../../../../pkg/abi/linux/stat';
import { openProcSelfFD } from '../../../../pkg/fsgofer/fsgofer';
import { metrics, startGofer } from '../../../../pkg/sentry/fsimpl/gofer';
import type { dentry } from '../../../../pkg/sentry/fsimpl/gofer/gofer';
import { p9file } from '../../../../pkg/sentry/fsimpl/gofer/p9file';
import type { regularFileFD } from '../../../../pkg/sentry/fsimpl/gofer/regular_file';
import type * as vfs from '../../../../pkg/sentry/vfs';
import { haveDiod, startDiod } from '../../../p9/client_util';
import { leakCheck, newGoferRoot, openAt, tmpDir, type Env } from './helpers';

function sizeStat(size: number): Statx {
  return {
    mask: STATX_SIZE, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size, blocks: 0,
    attributesMask: 0, atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 },
    mtime: { sec: 0, nsec: 0 }, rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}

function dentryOf(fd: vfs.FileDescription): dentry {
  return (fd.impl as regularFileFD).dentry();
}

// handleFDs returns the host fds of d's read and write handles.
function handleFDs(fd: vfs.FileDescription): [number, number] {
  const d = dentryOf(fd);
  return [d.readFile.hostFD, d.writeFile.hostFD];
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

// rng is a small deterministic generator (xorshift32).
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

for (const mode of ['exclusive', 'shared'] as const) {
  const data = mode === 'shared' ? 'cache=remote_revalidating' : '';

  test(`${mode}: random pread/pwrite through donated fds match the same calls on a host file`, async (t) => {
    const env = await newGoferRoot(t, { data });
    const { ctx } = env;
    const ref = path.join(tmpDir(t, 'donation-ref-'), 'ref');
    const hfd = fs.openSync(ref, 'w+');
    t.teardown(() => fs.closeSync(hfd));
    const fd = await openAt(env, 'f', linux.O_CREAT | linux.O_RDWR);
    const [rfd, wfd] = handleFDs(fd);
    t.true(rfd >= 0 && wfd >= 0, 'the handles carry host fds');
    const r0 = metrics.reads;
    const w0 = metrics.writes;
    const next = rng(mode === 'shared' ? 7 : 3);
    for (let i = 0; i < 200; i++) {
      const off = next() % 300000;
      const len = next() % 70000;
      if (next() % 2 === 0) {
        const src = Buffer.alloc(len);
        for (let j = 0; j < len; j++) src[j] = (i + j * 13) & 0xff;
        t.is(await fd.pwrite(ctx, src, off), fs.writeSync(hfd, src, 0, len, off), `pwrite ${len}@${off}`);
      } else {
        const a = Buffer.alloc(len);
        const b = Buffer.alloc(len);
        const n = await fd.pread(ctx, a, off);
        t.is(n, fs.readSync(hfd, b, 0, len, off), `pread ${len}@${off}`);
        t.true(a.subarray(0, n).equals(b.subarray(0, n)));
      }
    }
    t.is(metrics.reads - r0, 0, 'no Tread');
    t.is(metrics.writes - w0, 0, 'no Twrite');
    t.true(fs.readFileSync(path.join(env.host, 'f')).equals(fs.readFileSync(ref)));
    const st = await fd.stat(ctx, { mask: STATX_BASIC_STATS });
    t.is(st.size, fs.fstatSync(hfd).size);
    fd.decRef(ctx);
    await leakCheck(t, env);
  });

  test(`${mode}: O_APPEND writes land at the end, also after the host grew the file`, async (t) => {
    const env = await newGoferRoot(t, { data });
    const { ctx } = env;
    fs.writeFileSync(path.join(env.host, 'log'), 'one\n');
    const fd = await openAt(env, 'log', linux.O_WRONLY | linux.O_APPEND);
    t.true(handleFDs(fd)[1] >= 0);
    t.is(await fd.write(ctx, Buffer.from('two\n')), 4);
    t.is(await fd.pwrite(ctx, Buffer.from('three\n'), 0), 6, 'pwrite with O_APPEND appends (Linux)');
    if (mode === 'shared') {
      fs.appendFileSync(path.join(env.host, 'log'), 'host\n');
      t.is(await fd.write(ctx, Buffer.from('four\n')), 5);
      t.is(fs.readFileSync(path.join(env.host, 'log'), 'utf8'), 'one\ntwo\nthree\nhost\nfour\n');
    } else {
      t.is(fs.readFileSync(path.join(env.host, 'log'), 'utf8'), 'one\ntwo\nthree\n');
    }
    fd.decRef(ctx);
    await leakCheck(t, env);
  });

  test(`${mode}: ftruncate and fallocate, then reads through the donated fd see the new size`, async (t) => {
    const env = await newGoferRoot(t, { data });
    const { ctx } = env;
    const fd = await openAt(env, 't', linux.O_CREAT | linux.O_RDWR);
    t.is(await fd.pwrite(ctx, Buffer.alloc(10000, 0x61), 0), 10000);
    await fd.setStat(ctx, { stat: sizeStat(100) });
    const b = Buffer.alloc(10000);
    t.is(await fd.pread(ctx, b, 0), 100, 'shrunk');
    t.is(fs.statSync(path.join(env.host, 't')).size, 100);
    await fd.allocate(ctx, 0, 0, 5000);
    t.is(await fd.pread(ctx, b, 0), 5000, 'grown by fallocate');
    t.true(b.subarray(100, 5000).equals(Buffer.alloc(4900)), 'zeros past the old end');
    t.is((await fd.stat(ctx, { mask: STATX_BASIC_STATS })).size, 5000);
    t.is(await fd.pwrite(ctx, Buffer.from('z'), 8191), 1, 'pwrite past the end leaves a hole');
    t.is((await fd.stat(ctx, { mask: STATX_BASIC_STATS })).size, 8192);
    t.is(fs.statSync(path.join(env.host, 't')).size, 8192);
    fd.decRef(ctx);
    await leakCheck(t, env);
  });

  test(`${mode}: size and mtime after writes through the donated fd`, async (t) => {
    const env = await newGoferRoot(t, { data });
    const { ctx } = env;
    const p = path.join(env.host, 'm');
    fs.writeFileSync(p, '');
    const old = new Date(1_000_000_000_000);
    fs.utimesSync(p, old, old);
    const fd = await openAt(env, 'm', linux.O_RDWR);
    t.is(await fd.write(ctx, Buffer.alloc(4096, 1)), 4096);
    const st = await fd.stat(ctx, { mask: STATX_BASIC_STATS });
    t.is(st.size, 4096);
    t.true(st.mtime.sec > old.getTime() / 1000, 'mtime moved by the write');
    const host = fs.statSync(p);
    t.is(host.size, 4096);
    t.true(host.mtimeMs > old.getTime(), 'the host file\'s mtime moved too');
    if (mode === 'shared') t.is(st.mtime.sec, Math.floor(host.mtimeMs / 1000), 'shared: stat is the host\'s');
    fd.decRef(ctx);
    await leakCheck(t, env);
  });
}

test.serial('every donated fd is closed once the files and the filesystem are released (/proc/self/fd)', async (t) => {
  // fsgofer keeps /proc/self/fd open once it has reopened a file: open it first.
  openProcSelfFD();
  const before = fdCount();
  {
    const env = await newGoferRoot(t);
    const { ctx } = env;
    for (let i = 0; i < 16; i++) {
      const fd = await openAt(env, `f${i}`, linux.O_CREAT | (i % 3 === 0 ? linux.O_RDONLY : i % 3 === 1 ? linux.O_WRONLY : linux.O_RDWR));
      await fd.pwrite(ctx, Buffer.from('x'), 0).catch(() => 0);
      fd.decRef(ctx);
    }
    // A file opened for reading, then for writing: the read handle is
    // replaced by a read-write one (ensureSharedHandle), the old fd closed.
    const r = await openAt(env, 'f0', linux.O_RDONLY);
    const w = await openAt(env, 'f0', linux.O_RDWR);
    t.true(handleFDs(w)[0] >= 0);
    r.decRef(ctx);
    w.decRef(ctx);
    env.cleanup();
    await env.fs.settled();
    await env.fs.closed;
    await env.server!.close();
  }
  t.is(fdCount(), before);
});

async function childGoferRoot(t: ExecutionContext, noDonate: boolean): Promise<Env> {
  const g = await startGofer({ noDonate });
  t.teardown(() => g.close());
  return newGoferRoot(t, { address: g.address, host: g.root });
}

for (const noDonate of [false, true]) {
  test(`a gofer child${noDonate ? ' with --no-donate' : ''}: 1 MiB written and read back ${noDonate ? 'by Tread/Twrite' : 'through the donated fd'}`, async (t) => {
    const env = await childGoferRoot(t, noDonate);
    const { ctx } = env;
    const src = Buffer.alloc(1 << 20);
    for (let i = 0; i < src.length; i++) src[i] = (i * 7) & 0xff;
    const fd = await openAt(env, 'big', linux.O_CREAT | linux.O_RDWR);
    const w0 = metrics.writes;
    t.is(await fd.pwrite(ctx, src, 0), src.length);
    const back = Buffer.alloc(src.length);
    t.is(await fd.pread(ctx, back, 0), src.length);
    t.true(back.equals(src));
    t.true(fs.readFileSync(path.join(env.host, 'big')).equals(src));
    const [rfd, wfd] = handleFDs(fd);
    if (noDonate) {
      t.is(rfd, -1);
      t.is(wfd, -1);
      t.true(metrics.writes - w0 > 0, 'Twrites');
    } else {
      t.true(rfd >= 0 && wfd >= 0);
      t.true(env.fs.client!.hasFDChannel());
    }
    fd.decRef(ctx);
    env.cleanup();
    await env.fs.settled();
    await env.fs.closed;
  });
}

test('diod (plain 9P2000.L): no fd channel, data by Tread/Twrite as before', async (t) => {
  if (!haveDiod()) {
    process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod) ***\n\n');
    t.log('SKIPPED: diod not installed');
    t.pass();
    return;
  }
  const host = tmpDir(t, 'donation-diod-');
  const diod = await startDiod(host);
  t.teardown(() => diod.stop());
  const env = await newGoferRoot(t, { address: diod.address, host, data: `aname=${host},msize=65536` });
  const { ctx } = env;
  t.false(env.fs.client!.hasFDChannel());
  const fd = await openAt(env, 'd', linux.O_CREAT | linux.O_RDWR);
  t.deepEqual(handleFDs(fd), [-1, -1]);
  t.is(await fd.pwrite(ctx, Buffer.from('over diod'), 0), 9);
  t.is(fs.readFileSync(path.join(host, 'd'), 'utf8'), 'over diod');
  fd.decRef(ctx);
  env.cleanup();
  await env.fs.settled();
  await env.fs.closed;
});

test('fsync of a file with a donated fd is fsync(2) on that fd, no Tfsync (gVisor syncRemoteFileLocked)', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx } = env;
  const fd = await openAt(env, 'f', linux.O_CREAT | linux.O_WRONLY);
  t.true(handleFDs(fd)[1] >= 0);
  await fd.write(ctx, Buffer.from('synced'));
  let tfsyncs = 0;
  const orig = p9file.prototype.fsync;
  p9file.prototype.fsync = function fsync(this: p9file, c) {
    tfsyncs++;
    return orig.call(this, c);
  };
  try {
    await fd.sync(ctx);
  } finally {
    p9file.prototype.fsync = orig;
  }
  t.is(tfsyncs, 0, 'no Tfsync sent');
  t.is(fs.readFileSync(path.join(env.host, 'f'), 'utf8'), 'synced');
  fd.decRef(ctx);
  await leakCheck(t, env);
});
