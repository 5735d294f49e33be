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
//     whether listings are linear).
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

interface env {
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
  return {
    ctx, creds, vfsObj, root,
    pop: (p: string, follow = false) => ({ root, start: root, path: fspath.parse(p), followFinalSymlink: follow }),
    close: () => {
      root.decRef(base);
      mntns.decRef(base);
    },
  };
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

async function createBench(g: { address: string; root: string }, n: number): Promise<void> {
  const e = await mount(g.address, '');
  try {
    await e.vfsObj.mkdirAt(e.ctx, e.creds, e.pop('cw'), { mode: 0o755 });
    const data = Buffer.alloc(4096, 0x5a);
    const m0 = metrics.messages;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop(`cw/f${i}`), { flags: linux.O_CREAT | linux.O_WRONLY | linux.O_EXCL, mode: 0o644 });
      await fd.write(e.ctx, data);
      fd.decRef(e.ctx);
      await e.vfsObj.unlinkAt(e.ctx, e.creds, e.pop(`cw/f${i}`));
    }
    const ours = nsPer(t0, n);
    const per = (metrics.messages - m0) / n;
    const dir = path.join(g.root, 'cw-native');
    fs.mkdirSync(dir);
    t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const f = path.join(dir, `f${i}`);
      const fd = fs.openSync(f, 'wx', 0o644);
      fs.writeSync(fd, data);
      fs.closeSync(fd);
      fs.unlinkSync(f);
    }
    const native = nsPer(t0, n);
    line('create+write 4KiB+close+unlink', ours, native, `  9P messages/op ${per.toFixed(1)}`);
  } finally {
    e.close();
  }
}

async function readdirBench(g: { address: string; root: string }, entries: number): Promise<void> {
  const name = `ls${entries}`;
  const dir = path.join(g.root, name);
  fs.mkdirSync(dir);
  for (let i = 0; i < entries; i++) fs.writeFileSync(path.join(dir, `e${i}`), '');
  // The default dentry bound (1000): every cached dentry holds a fid, and the
  // gofer a host fd per fid, so a bound of 40,000 would exceed RLIMIT_NOFILE.
  const e = await mount(g.address, '');
  try {
    let t0 = process.hrtime.bigint();
    const fd = await e.vfsObj.openAt(e.ctx, e.creds, e.pop(name), { flags: linux.O_RDONLY | linux.O_DIRECTORY });
    const names: string[] = [];
    await fd.iterDirents(e.ctx, { handle: (d) => { names.push(d.name); } });
    fd.decRef(e.ctx);
    for (const n of names) if (n !== '.' && n !== '..') await e.vfsObj.statAt(e.ctx, e.creds, e.pop(`${name}/${n}`), {});
    const ours = nsPer(t0, entries);
    t0 = process.hrtime.bigint();
    for (const n of fs.readdirSync(dir)) fs.statSync(path.join(dir, n));
    const native = nsPer(t0, entries);
    line(`readdir+stat ${entries} entries (per entry)`, ours, native);
  } finally {
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function rttBench(g: { address: string }, n: number): Promise<void> {
  const c = await Client.connect(g.address, {});
  try {
    const r = await c.attach('/', 0);
    for (let i = 0; i < 50; i++) await r.getAttr(AttrMaskAll());
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await r.getAttr(AttrMaskAll());
    console.log(`${'raw p9 Tgetattr round trip (reference)'.padEnd(46)} ${fmt(nsPer(t0, n))}`);
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

export async function run(): Promise<void> {
  const g = await startGofer();
  try {
    await rttBench(g, 1000);
    fs.mkdirSync(path.join(g.root, deep), { recursive: true });
    fs.writeFileSync(path.join(g.root, deep, 'file'), 'x');
    await statBench(g, '', 'exclusive, warm', 50000);
    await statBench(g, 'cache=remote_revalidating', 'shared', 1000);
    await createBench(g, 500);
    await readdirBench(g, 10000);
    await readdirBench(g, 40000);
    await memoryBench(g, 5000);
  } finally {
    await g.close();
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
