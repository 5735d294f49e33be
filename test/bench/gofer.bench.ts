// Benchmark: the gofer filesystem (pkg/sentry/fsimpl/gofer) through the VFS,
// over a gofer child process (cmd/gofer on a Unix socket, as the kernel's
// default root), against the host's own fs calls on the same directory, in
// one run. Workloads:
//   - stat of a depth-8 path, exclusive mode, warm cache, vs fs.statSync;
//   - the same in shared mode (cache=remote_revalidating), with the 9P
//     messages per stat (gVisor's fsmetric-style counters);
//   - create + write 4 KiB + close + unlink, vs native;
//   - readdir + stat of every entry of a 10,000- and a 40,000-entry
//     directory, vs fs.readdirSync + fs.statSync (per-entry cost shows
//     whether listings are linear);
//   - 256 MiB sequential write and read, 1 MiB per call, through a task's
//     write(2)/read(2) on the kernel's default root (a gofer child over a
//     temp dir), vs fs.writeSync/fs.readSync on the host, same sizes;
//   - memory per cached dentry (V8 heap delta over N cached dentries, after
//     a full GC);
//   - RSS while walking (stat) 100,000 files with the default dentry bound
//     (1000): it must stay flat.
// GOFER_BENCH_SCALE (default 1) scales the counts (0.1 for a quick run);
// GOFER_BENCH=name,name runs only those workloads (rtt, stat, create,
// readdir, seqio, memory, walk).
// Each workload runs a warm-up pass first (both processes JIT-compile their
// hot paths; a cold first pass cost 2-3x the steady state), on both sides.
// Ratios are native time / our time (>= 1.0: as fast as the host). Every
// 9P message is a round trip to another process: on a loaded machine that
// round trip, not this package, dominates the shared-mode and create times
// (the raw p9 client's Tgetattr round trip is printed for reference).
// Runnable directly after `npm run build`: node dist/test/bench/gofer.bench.js
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import * as linux from '../../pkg/abi/linux';
import { background, type Context } from '../../pkg/context';
import * as fspath from '../../pkg/fspath';
import { newRootCredentials, withCredentials, type Credentials } from '../../pkg/sentry/kernel/auth';
import * as vfs from '../../pkg/sentry/vfs';
import { Client } from '../../pkg/p9/client';
import { AttrMaskAll } from '../../pkg/p9/p9';
import { FilesystemType, metrics, startGofer } from '../../pkg/sentry/fsimpl/gofer';
import { Kernel } from '../../pkg/sentry/kernel/kernel';

const scale = Number(process.env.GOFER_BENCH_SCALE ?? '1') > 0 ? Number(process.env.GOFER_BENCH_SCALE ?? '1') : 1;
const only = new Set((process.env.GOFER_BENCH ?? '').split(',').filter((x) => x !== ''));

// scaled returns n scaled by GOFER_BENCH_SCALE (at least min).
function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * scale));
}

// want reports whether workload name runs (GOFER_BENCH).
function want(name: string): boolean {
  return only.size === 0 || only.has(name);
}

interface env {
  /** batches reads the mount's p9 client's socket writes (Client.batches). */
  batches(): number;
  ctx: Context;
  creds: Credentials;
  vfsObj: vfs.VirtualFilesystem;
  root: vfs.VirtualDentry;
  pop(p: string, follow?: boolean): vfs.PathOperation;
  close(): void;
}

async function mount(address: string, data: string): Promise<env> {
  const creds = newRootCredentials();
  const base = withCredentials(background(), creds);
  const vfsObj = new vfs.VirtualFilesystem();
  vfsObj.init(base);
  vfsObj.mustRegisterFilesystemType('9p', new FilesystemType(), {});
  const mntns = await vfsObj.newMountNamespace(base, creds, address, '9p', { getFilesystemOptions: { data } });
  const ctx = vfs.withMountNamespace(base, mntns);
  const root = mntns.root();
  root.incRef();
  const client = (root.mount().filesystem().impl as unknown as { client: { batches: number } }).client;
  return {
    batches: () => client.batches,
    ctx, creds, vfsObj, root,
    pop: (p: string, follow = false) => ({ root, start: root, path: fspath.parse(p), followFinalSymlink: follow }),
    close: () => {
      root.decRef(base);
      mntns.decRef(base);
    },
  };
}

// cpuMeter measures CPU time, load-independent where wall time is not: this
// process's (process.cpuUsage) and the gofer child's (/proc/PID/schedstat,
// nanoseconds on CPU).
interface cpuMark { self: NodeJS.CpuUsage; gofer: number }

function goferCPU(pid: number): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

function cpuMark(pid: number): cpuMark {
  return { self: process.cpuUsage(), gofer: goferCPU(pid) };
}

// cpuSince formats the CPU time per op since m: ours (client) and the gofer's.
function cpuSince(m: cpuMark, pid: number, n: number): string {
  const d = process.cpuUsage(m.self);
  const self = ((d.user + d.system) * 1e3) / n;
  const gofer = (goferCPU(pid) - m.gofer) / n;
  return `, CPU/op client ${fmt(self).trim()} gofer ${Number.isNaN(gofer) ? '?' : fmt(gofer).trim()}`;
}

// msgMark / msgsSince: the 9P messages per op since a mark, by kind
// (p9file's fsmetric-style counters).
type msgMark = typeof metrics;

function msgMark(): msgMark {
  return { ...metrics };
}

function msgsSince(m: msgMark, n: number): string {
  const kinds = ['walks', 'getAttrs', 'multiGetAttrs', 'opens', 'reads', 'writes', 'clunks', 'other'] as const;
  const parts = kinds.map((k) => [k, (metrics[k] - m[k]) / n] as const).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  return `9P messages/op ${((metrics.messages - m.messages) / n).toFixed(2)} (${parts.join(', ')})`;
}

function nsPer(t0: bigint, n: number): number {
  return Number(process.hrtime.bigint() - t0) / n;
}

function line(name: string, oursNs: number, nativeNs: number, extra = ''): void {
  const ratio = nativeNs / oursNs;
  console.log(`${name.padEnd(46)} ours ${fmt(oursNs)}  native ${fmt(nativeNs)}  ratio ${ratio.toFixed(2)}x${extra}`);
}

function fmt(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms`.padStart(10) : `${(ns / 1e3).toFixed(2)} µs`.padStart(10);
}

const deep = 'a/b/c/d/e/f/g/h';

async function statBench(g: { address: string; root: string }, data: string, label: string, n: number): Promise<void> {
  const e = await mount(g.address, data);
  try {
    const p = `${deep}/file`;
    for (let i = 0; i < 100; i++) await e.vfsObj.statAt(e.ctx, e.creds, e.pop(p), {});
    const m0 = metrics.messages;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await e.vfsObj.statAt(e.ctx, e.creds, e.pop(p), {});
    const ours = nsPer(t0, n);
    const perStat = (metrics.messages - m0) / n;
    const hp = path.join(g.root, p);
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fs.statSync(hp);
    const native = nsPer(t0, n);
    line(`stat depth-8, ${label}`, ours, native, `  9P messages/stat ${perStat.toFixed(2)}`);
  } finally {
    e.close();
  }
}

async function createBench(g: { address: string; root: string; pid: number }, n: number): Promise<void> {
  const e = await mount(g.address, '');
  try {
    await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('cw'), { mode: 0o755 });
    const data = Buffer.alloc(4096, 0x5a);
    const oursOps = async (k: number): Promise<void> => {
      for (let i = 0; i < k; i++) {
        const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop(`cw/f${i}`), { flags: linux.O_CREAT | linux.O_WRONLY | linux.O_EXCL, mode: 0o644 });
        await fd.write(e.ctx, data);
        fd.decRef(e.ctx);
        await e.vfsObj.unlinkAt(e.ctx, e.creds, e.pop(`cw/f${i}`));
      }
    };
    const dir = path.join(g.root, 'cw-native');
    fs.mkdirSync(dir);
    const nativeOps = (k: number): void => {
      for (let i = 0; i < k; i++) {
        const f = path.join(dir, `f${i}`);
        const fd = fs.openSync(f, 'wx', 0o644);
        fs.writeSync(fd, data);
        fs.closeSync(fd);
        fs.unlinkSync(f);
      }
    };
    // Warm up both sides (JIT on both processes) before measuring.
    await oursOps(n);
    nativeOps(n);
    const m0 = msgMark();
    const b0 = e.batches();
    const c0 = cpuMark(g.pid);
    let t0 = process.hrtime.bigint();
    await oursOps(n);
    const ours = nsPer(t0, n);
    const per = `${msgsSince(m0, n)}, serial round trips/op ${((e.batches() - b0) / n).toFixed(2)}`;
    const cpu = cpuSince(c0, g.pid, n);
    t0 = process.hrtime.bigint();
    nativeOps(n);
    const native = nsPer(t0, n);
    line('create+write 4KiB+close+unlink', ours, native, `  ${per}${cpu}${inRTTs(ours)}`);
  } finally {
    e.close();
  }
}

async function readdirBench(g: { address: string; root: string; pid: number }, entries: number, warm = false): Promise<void> {
  const name = `ls${entries}${warm ? 'w' : ''}`;
  const dir = path.join(g.root, name);
  fs.mkdirSync(dir);
  for (let i = 0; i < entries; i++) fs.writeFileSync(path.join(dir, `e${i}`), '');
  // The default dentry bound (1000): every cached dentry holds a fid, and the
  // gofer a host fd per fid, so a bound of 40,000 would exceed RLIMIT_NOFILE.
  const e = await mount(g.address, '');
  try {
    const m0 = msgMark();
    const b0 = e.batches();
    const c0 = cpuMark(g.pid);
    let t0 = process.hrtime.bigint();
    const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop(name), { flags: linux.O_RDONLY | linux.O_DIRECTORY });
    const names: string[] = [];
    await fd.iterDirents(e.ctx, { handle: (d) => { names.push(d.name); } });
    fd.decRef(e.ctx);
    for (const n of names) if (n !== '.' && n !== '..') await e.vfsObj.statAt(e.ctx, e.creds, e.pop(`${name}/${n}`), {});
    const ours = nsPer(t0, entries);
    const per = `${msgsSince(m0, entries)}, serial round trips/entry ${((e.batches() - b0) / entries).toFixed(2)}`;
    const cpu = cpuSince(c0, g.pid, entries);
    t0 = process.hrtime.bigint();
    for (const n of fs.readdirSync(dir)) fs.statSync(path.join(dir, n));
    const native = nsPer(t0, entries);
    if (warm) return;
    line(`readdir+stat ${entries} entries (per entry)`, ours, native, `  ${per.replace('/op', '/entry')}${cpu}${inRTTs(ours)}`);
  } finally {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// rawRTT is the raw p9 Tgetattr round trip measured by rttBench (0 before):
// the create and readdir lines divide by it, a load-independent view of how
// many round trips an op costs.
let rawRTT = 0;

function inRTTs(ns: number): string {
  return rawRTT > 0 ? `, = ${(ns / rawRTT).toFixed(1)} raw round trips` : '';
}

async function rttBench(g: { address: string }, n: number): Promise<void> {
  const c = await Client.connect(g.address, {});
  try {
    const r = await c.attach('/', 0);
    for (let i = 0; i < Math.max(50, n); i++) await r.getAttr(AttrMaskAll());
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await r.getAttr(AttrMaskAll());
    rawRTT = nsPer(t0, n);
    console.log(`${'raw p9 Tgetattr round trip (reference)'.padEnd(46)} ${fmt(rawRTT)}`);
  } finally {
    await c.close();
  }
}

function gc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

async function memoryBench(g: { address: string; root: string }, n: number): Promise<void> {
  const dir = path.join(g.root, 'mem');
  fs.mkdirSync(dir);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `m${i}`), '');
  const e = await mount(g.address, `dentry_cache_limit=${n + 10}`);
  try {
    await e.vfsObj.statAt(e.ctx, e.creds, e.pop('mem'), {});
    gc();
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) await e.vfsObj.statAt(e.ctx, e.creds, e.pop(`mem/m${i}`), {});
    gc();
    const per = (process.memoryUsage().heapUsed - h0) / n;
    console.log(`${'memory per cached dentry'.padEnd(46)} ${per.toFixed(0)} bytes (goal <= 1024; inoByQIDPath included)`);
  } finally {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// seqioBench writes then reads a file of `total` bytes, `chunk` bytes per
// call, through a task on the kernel's default root (a gofer child over a
// fresh temp dir), and the same on the host in the same directory.
async function seqioBench(total: number, chunk: number): Promise<void> {
  const k = await Kernel.create();
  try {
    const host = k.goferHostRoot()!;
    const task = await k.newTask();
    const s = task.sys;
    const buf = Buffer.alloc(chunk, 0x5a);
    const n = Math.floor(total / chunk);
    const label = `${total >> 20} MiB, ${chunk >> 10} KiB per call`;
    const client = (k.rootDirectory().mount().filesystem().impl as unknown as { client: { batches: number } }).client;
    // Write.
    const m0 = metrics.messages;
    const b0 = client.batches;
    let t0 = process.hrtime.bigint();
    let fd = await s.open('/seq', linux.O_CREAT | linux.O_WRONLY | linux.O_TRUNC, 0o644);
    for (let i = 0; i < n; i++) if ((await s.write(fd, buf, chunk)) !== chunk) throw new Error('short write');
    await s.close(fd);
    const oursW = nsPer(t0, 1);
    const msgsW = (metrics.messages - m0) / n;
    const rtW = (client.batches - b0) / n;
    const hp = path.join(host, 'seq-native');
    t0 = process.hrtime.bigint();
    let hfd = fs.openSync(hp, 'w', 0o644);
    for (let i = 0; i < n; i++) if (fs.writeSync(hfd, buf, 0, chunk) !== chunk) throw new Error('short write');
    fs.closeSync(hfd);
    const nativeW = nsPer(t0, 1);
    line(`sequential write ${label}`, oursW, nativeW, `  ${mibps(total, oursW)} vs ${mibps(total, nativeW)}, 9P messages/call ${msgsW.toFixed(2)}, serial round trips/call ${rtW.toFixed(2)}`);
    // Read.
    const m1 = metrics.messages;
    const b1 = client.batches;
    t0 = process.hrtime.bigint();
    fd = await s.open('/seq', linux.O_RDONLY);
    let got = 0;
    for (;;) {
      const r = await s.read(fd, buf, chunk);
      if (r < 0) throw new Error(`read: errno ${-r}`);
      if (r === 0) break;
      got += r;
    }
    await s.close(fd);
    const oursR = nsPer(t0, 1);
    const msgsR = (metrics.messages - m1) / n;
    const rtR = (client.batches - b1) / n;
    if (got !== n * chunk) throw new Error(`read ${got} bytes, want ${n * chunk}`);
    t0 = process.hrtime.bigint();
    hfd = fs.openSync(hp, 'r');
    while (fs.readSync(hfd, buf, 0, chunk, null) > 0);
    fs.closeSync(hfd);
    const nativeR = nsPer(t0, 1);
    line(`sequential read ${label}`, oursR, nativeR, `  ${mibps(total, oursR)} vs ${mibps(total, nativeR)}, 9P messages/call ${msgsR.toFixed(2)}, serial round trips/call ${rtR.toFixed(2)}`);
    await task.release();
  } finally {
    await k.release();
  }
}

function mibps(bytes: number, ns: number): string {
  return `${((bytes / (1 << 20)) / (ns / 1e9)).toFixed(0)} MiB/s`;
}

// walkBench stats n files of one directory through the gofer with the
// default dentry bound (1000) and prints RSS samples along the way: with
// the bound, RSS must stay flat after the first thousand.
async function walkBench(g: { address: string; root: string }, n: number): Promise<void> {
  const dir = path.join(g.root, 'walk');
  fs.mkdirSync(dir);
  for (let i = 0; i < n; i++) fs.closeSync(fs.openSync(path.join(dir, `w${i}`), 'w'));
  const e = await mount(g.address, '');
  try {
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const samples: string[] = [];
    const mib = (b: number): string => (b / (1 << 20)).toFixed(1);
    const step = Math.max(1, Math.floor(n / 10));
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      await e.vfsObj.statAt(e.ctx, e.creds, e.pop(`walk/w${i}`), {});
      if ((i + 1) % step === 0) {
        const rss = process.memoryUsage().rss;
        peak = Math.max(peak, rss);
        samples.push(mib(rss));
      }
    }
    const per = nsPer(t0, n);
    const cached = (e.root.mount().filesystem().impl as unknown as { cachedDentriesLen: number }).cachedDentriesLen;
    gc();
    const heapDelta = process.memoryUsage().heapUsed - heap0;
    console.log(`${`RSS walking ${n} files (MiB, every ${step})`.padEnd(46)} start ${mib(rss0)}: ${samples.join(' ')}  (peak +${mib(peak - rss0)} MiB; live heap after GC ${heapDelta >= 0 ? '+' : ''}${mib(heapDelta)} MiB; ${fmt(per).trim()}/stat; cached dentries ${cached})`);
  } finally {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const g = await startGofer();
  try {
    if (want('rtt')) await rttBench(g, scaled(1000, 50));
    fs.mkdirSync(path.join(g.root, deep), { recursive: true });
    fs.writeFileSync(path.join(g.root, deep, 'file'), 'x');
    if (want('stat')) {
      await statBench(g, '', 'exclusive, warm', scaled(50000, 100));
      await statBench(g, 'cache=remote_revalidating', 'shared', scaled(1000, 50));
    }
    if (want('create')) await createBench(g, scaled(2000, 20));
    if (want('readdir')) {
      await readdirBench(g, scaled(5000, 100), true); // warm-up, not printed
      await readdirBench(g, scaled(10000, 100));
      await readdirBench(g, scaled(40000, 400));
    }
    if (want('memory')) await memoryBench(g, scaled(5000, 2000));
    if (want('walk')) await walkBench(g, scaled(100000, 2000));
  } finally {
    await g.close();
  }
  if (want('seqio')) await seqioBench(scaled(256, 4) << 20, 1 << 20);
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
