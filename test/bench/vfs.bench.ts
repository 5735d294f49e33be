// Benchmark of the VFS and syscall layer on tmpfs against the host's Node
// fs, in one run: stat(2) of a depth-8 path (task.sys.stat filling a struct
// stat, and task.fs.stat returning a Statx) vs fs.statSync and
// fs.promises.stat on a host directory of the same shape (goal: the sandbox
// ≥ 1.0× fs.statSync), then open+close and mkdir+rmdir operations per
// second. Runnable directly after build: node dist/test/bench/vfs.bench.js.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../pkg/abi/linux/file';
import { Kernel } from '../../pkg/sentry/kernel/kernel';

const depth8 = '/a/b/c/d/e/f/g/file';

async function measure(name: string, ms: number, op: () => Promise<unknown> | unknown): Promise<number> {
  // Warm up, then count batches until the deadline.
  for (let i = 0; i < 2000; i++) await op();
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(ms * 1e6));
  for (;;) {
    for (let i = 0; i < 500; i++) await op();
    n += 500;
    const now = process.hrtime.bigint();
    if (now >= deadline) {
      const rate = (n * 1e9) / Number(now - start);
      console.log(`  ${name.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s`);
      return rate;
    }
  }
}

function ratio(label: string, a: number, b: number): void {
  console.log(`  ${label.padEnd(44)} ${(a / b).toFixed(2).padStart(12)}×`);
}

export async function run(): Promise<void> {
  const ms = Number(process.env.VFS_BENCH_MS ?? 1000);
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'vfs-bench-'));
  try {
    const task = await k.newTask();
    let p = '';
    for (const c of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      p += '/' + c;
      await task.fs.mkdir(p);
    }
    await task.fs.writeFile(depth8, 'x');
    fs.mkdirSync(path.join(host, 'a/b/c/d/e/f/g'), { recursive: true });
    const hostFile = path.join(host, depth8);
    fs.writeFileSync(hostFile, 'x');

    console.log(`stat of a depth-8 path (${depth8}):`);
    const statbuf = Buffer.alloc(144);
    const sysStat = await measure('sandbox task.sys.stat (struct stat)', ms, () => task.sys.stat(depth8, statbuf));
    const fsStat = await measure('sandbox task.fs.stat (Statx)', ms, () => task.fs.stat(depth8));
    const statSync = await measure('host fs.statSync', ms, () => fs.statSync(hostFile));
    const promStat = await measure('host fs.promises.stat', ms, () => fs.promises.stat(hostFile));
    ratio('task.sys.stat / fs.statSync (goal ≥ 1.0)', sysStat, statSync);
    ratio('task.fs.stat / fs.statSync', fsStat, statSync);
    ratio('task.sys.stat / fs.promises.stat', sysStat, promStat);

    console.log('open+close of /a/file:');
    await task.fs.writeFile('/a/file', '');
    fs.writeFileSync(path.join(host, 'a/file'), '');
    const hostA = path.join(host, 'a/file');
    const oc = await measure('sandbox openat+close', ms, async () => {
      const fd = await task.sys.open('/a/file', O_RDONLY);
      await task.sys.close(fd);
    });
    const ocSync = await measure('host fs.openSync+closeSync', ms, () => fs.closeSync(fs.openSync(hostA, 'r')));
    ratio('sandbox / host sync', oc, ocSync);

    console.log('mkdir+rmdir of /a/dir:');
    const mr = await measure('sandbox mkdir+rmdir', ms, async () => {
      await task.sys.mkdir('/a/dir', 0o755);
      await task.sys.rmdir('/a/dir');
    });
    const hostD = path.join(host, 'a/dir');
    const mrSync = await measure('host fs.mkdirSync+rmdirSync', ms, () => {
      fs.mkdirSync(hostD);
      fs.rmdirSync(hostD);
    });
    ratio('sandbox / host sync', mr, mrSync);

    console.log('create+unlink of /a/new (O_CREAT):');
    await measure('sandbox open(O_CREAT)+close+unlink', ms, async () => {
      const fd = await task.sys.open('/a/new', O_CREAT | O_RDWR, 0o644);
      await task.sys.close(fd);
      await task.sys.unlink('/a/new');
    });
    await task.release();
  } finally {
    await k.release();
    fs.rmSync(host, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error('vfs bench:', err);
    process.exitCode = 1;
  });
}
