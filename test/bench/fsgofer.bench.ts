// Benchmark: our gofer (cmd/gofer, pkg/fsgofer) against diod, with the same
// client (pkg/p9's Client) over TCP on 127.0.0.1, serving the same
// directory, in one run. Workloads:
//   - walk+getattr of every file of a 10,000-file tree;
//   - create + write 4 KiB + close + unlink, 2,000 files;
//   - 64 MiB sequential write, then read.
// Each prints both times and the throughput ratio ours/diod (>= 1.0: we are
// not slower), and the CPU time each server process spent on it (wall time
// on a loaded machine mostly measures the scheduler). Every workload first
// runs once untimed against each server (JIT, host caches, TCP buffers);
// the 64 MiB ones then run ROUNDS times, the servers taking turns, and print
// the medians (one 64 MiB transfer on a shared 2-core machine swings by
// 2-3x from run to run). Runnable directly after `npm run build`:
//   node dist/test/bench/fsgofer.bench.js
import * as child_process from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from '../../pkg/p9/client';
import { ClientFile } from '../../pkg/p9/client_file';
import { AttrMaskAll, ReadOnly, ReadWrite, WriteOnly } from '../../pkg/p9/p9';
import { DIOD, freePort, startDiod, waitForPort } from '../p9/client_util';
import { cpuMs } from './proc_cpu';

// FSGOFER_BENCH_MSIZE overrides the msize offered to both servers (diod caps it at 64 KiB).
const MSIZE = Number(process.env.FSGOFER_BENCH_MSIZE ?? 1 << 20);
const TREE_DIRS = 100;
const TREE_FILES_PER_DIR = 100;
const CREATE_FILES = 2000;
const BIG = 64 << 20;
const INFLIGHT = 16;
// FSGOFER_BENCH_ROUNDS: timed rounds of each 64 MiB workload (median printed).
const ROUNDS = Math.max(1, Number(process.env.FSGOFER_BENCH_ROUNDS ?? 3));
// FSGOFER_BENCH_ONLY runs only the workloads whose name contains it (e.g. "64 MiB").
const ONLY = process.env.FSGOFER_BENCH_ONLY ?? '';
// FSGOFER_BENCH_NODE_ARGS are extra node options for our gofer (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
const NODE_ARGS = (process.env.FSGOFER_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);

interface server {
  name: string;
  address: string;
  aname: string;
  proc: child_process.ChildProcess;
}

async function startOurs(root: string): Promise<server> {
  const port = await freePort();
  const gofer = path.join(__dirname, '..', '..', 'cmd', 'gofer.js');
  const proc = child_process.spawn(process.execPath, [...NODE_ARGS, gofer, '--root', root, '--listen', `tcp:127.0.0.1:${port}`, '--msize', String(MSIZE)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, proc);
  return { name: 'ours', address: `tcp:127.0.0.1:${port}`, aname: '/', proc };
}

async function startDiodServer(root: string): Promise<server> {
  // The same diod the tests start (numeric ids, no auth, root squash).
  const d = await startDiod(root);
  return { name: 'diod', address: d.address, aname: root, proc: d.proc };
}

function stopServer(s: server): Promise<void> {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null) return resolve();
    s.proc.once('exit', () => resolve());
    s.proc.kill('SIGTERM');
  });
}

// pool runs fn(i) for i in [0, n) with at most INFLIGHT calls in flight.
async function pool(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(INFLIGHT, n) }, worker));
}

async function walkGetAttrAll(root: ClientFile): Promise<void> {
  const mask = AttrMaskAll();
  await pool(TREE_DIRS * TREE_FILES_PER_DIR, async (i) => {
    const d = Math.floor(i / TREE_FILES_PER_DIR);
    const names = [`d${d}`, `f${i % TREE_FILES_PER_DIR}`];
    const [, f] = await root.walkGetAttr(names).catch(async () => {
      // 9P2000.L servers (diod): walk, then getattr.
      const [q, w] = await root.walk(names);
      await w.getAttr(mask);
      return [q, w] as const;
    });
    await f.close();
  });
}

async function createWriteUnlink(root: ClientFile, dir: string): Promise<void> {
  const data = Buffer.alloc(4096, 0x61);
  const [, d] = await root.walk([dir]);
  await pool(CREATE_FILES, async (i) => {
    const [, f] = await d.walk([]);
    await f.create(`c${i}`, WriteOnly, 0o644, 0, 0);
    await f.writeAt(data, 0);
    await f.close();
    await d.unlinkAt(`c${i}`, 0);
  });
  await d.close();
}

async function bigWrite(root: ClientFile, buf: Buffer): Promise<void> {
  const [, f] = await root.walk([]);
  await f.create('big', ReadWrite, 0o644, 0, 0);
  await f.writeAt(buf, 0);
  await f.close();
}

async function bigRead(root: ClientFile, buf: Buffer): Promise<void> {
  const [, f] = await root.walk(['big']);
  await f.open(ReadOnly);
  const n = await f.readAt(buf, 0);
  if (n !== buf.length) throw new Error(`short read ${n}`);
  await f.close();
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function run(): Promise<void> {
  if (!fs.existsSync(DIOD)) {
    console.log('SKIPPED: diod not installed (apt-get install diod); no baseline to compare with');
    return;
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-bench-'));
  const servers: server[] = [];
  try {
    const tree = path.join(base, 'tree');
    fs.mkdirSync(tree);
    for (let d = 0; d < TREE_DIRS; d++) {
      fs.mkdirSync(path.join(tree, `d${d}`));
      for (let f = 0; f < TREE_FILES_PER_DIR; f++) fs.writeFileSync(path.join(tree, `d${d}`, `f${f}`), 'x');
    }
    fs.mkdirSync(path.join(tree, 'create'));
    const ours = await startOurs(tree);
    servers.push(ours);
    const diod = await startDiodServer(tree);
    servers.push(diod);

    const clients = new Map<string, { client: Client; root: ClientFile }>();
    for (const s of servers) {
      const client = await Client.connect(s.address, { msize: MSIZE });
      const root = await client.attach(s.aname, 0);
      clients.set(s.name, { client, root });
      console.log(`${s.name}: ${s.address}, version ${client.getVersion()}, msize ${client.messageSize}`);
    }
    const big = Buffer.alloc(BIG, 0x5a);
    const readBuf = Buffer.alloc(BIG);
    const workloads: [string, (root: ClientFile) => Promise<void>][] = [
      [`walk+getattr ${TREE_DIRS * TREE_FILES_PER_DIR} files`, walkGetAttrAll],
      [`create+write 4K+close+unlink x${CREATE_FILES}`, (r) => createWriteUnlink(r, 'create')],
      ['64 MiB sequential write', (r) => bigWrite(r, big)],
      ['64 MiB sequential read', (r) => bigRead(r, readBuf)],
    ];
    for (const [name, fn] of workloads) {
      if (!name.includes(ONLY)) continue;
      const bigWorkload = name.startsWith('64 MiB');
      const rewrites = bigWorkload && name.includes('write');
      const times = new Map<string, number[]>(servers.map((s) => [s.name, []]));
      const cpus = new Map<string, number[]>(servers.map((s) => [s.name, []]));
      // One untimed round warms the host caches, the connection and the JIT.
      for (const s of servers) {
        if (rewrites) fs.rmSync(path.join(tree, 'big'), { force: true });
        await fn(clients.get(s.name)!.root);
      }
      for (let round = 0; round < (bigWorkload ? ROUNDS : 1); round++) {
        for (const s of servers) {
          const { root } = clients.get(s.name)!;
          if (rewrites) fs.rmSync(path.join(tree, 'big'), { force: true });
          const c0 = cpuMs(s.proc.pid);
          times.get(s.name)!.push(await timed(() => fn(root)));
          cpus.get(s.name)!.push(cpuMs(s.proc.pid) - c0);
        }
      }
      const o = median(times.get('ours')!);
      const d = median(times.get('diod')!);
      const oc = median(cpus.get('ours')!);
      const dc = median(cpus.get('diod')!);
      const of = bigWorkload && ROUNDS > 1 ? ` (median of ${ROUNDS})` : '';
      console.log(
        `${(name + of).padEnd(44)} ours ${o.toFixed(1).padStart(8)} ms   diod ${d.toFixed(1).padStart(8)} ms   ratio ours/diod ${(d / o).toFixed(2)}` +
          `   (server CPU: ours ${oc} ms, diod ${dc} ms)`,
      );
    }
    for (const { client, root } of clients.values()) {
      await root.close().catch(() => undefined);
      await client.close();
    }
  } finally {
    for (const s of servers) await stopServer(s);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().catch((e: unknown) => {
    console.error('fsgofer bench:', e);
    process.exitCode = 1;
  });
}
