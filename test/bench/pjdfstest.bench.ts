// Benchmark: the cost of one pjdfstest-sandbox call (cmd/pjdfstest-sandbox:
// node start-up, one request to `sandbox serve`, the answer printed), which
// the upstream pjdfstest suite pays thousands of times. Baselines in the
// same run: `true` (spawning a process), `node -e 0` (node's own start-up,
// the floor for any driver written for node) and, when PJDFSTEST names the
// C program of a pjdfstest checkout, the native call. Each command runs
// CALLS times in a loop of sh; printed per call: wall ms and the CPU ms the
// children used (from sh's `times`: on a loaded machine wall time mostly
// measures the scheduler), and the driver's ratio to `node -e 0`.
// Runnable directly after `npm run build`:
//   node dist/test/bench/pjdfstest.bench.js
//   PJDFSTEST=/path/to/pjdfstest/pjdfstest node dist/test/bench/pjdfstest.bench.js
import * as child_process from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// PJDFSTEST_BENCH_CALLS: calls per command (default 50).
const CALLS = Math.max(1, Number(process.env.PJDFSTEST_BENCH_CALLS ?? 50));

interface Cost {
  wallMs: number;
  cpuMs: number;
}

// seconds parses a `times` field such as 0m1.234s.
function seconds(s: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(s);
  return m === null ? NaN : Number(m[1]) * 60 + Number(m[2]);
}

/** measure runs argv CALLS times from one sh (cwd, env) and returns the cost per call. */
function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Cost {
  const script = `i=0; while [ $i -lt ${CALLS} ]; do "$@" >/dev/null 2>&1 || exit 3; i=$((i+1)); done; times`;
  const start = process.hrtime.bigint();
  const r = child_process.spawnSync('/bin/sh', ['-c', script, 'sh', ...argv], { cwd, env, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / CALLS;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit status ${String(r.status)} ${r.stderr}`);
  // times prints the shell's own user/sys, then its children's.
  const children = r.stdout.trim().split('\n').pop()!.trim().split(/\s+/);
  return { wallMs, cpuMs: ((seconds(children[0]!) + seconds(children[1]!)) * 1000) / CALLS };
}

function line(name: string, c: Cost, base?: Cost): string {
  const ratio = base === undefined ? '' : `  (x${(c.cpuMs / base.cpuMs).toFixed(2)} CPU of node -e 0)`;
  return `${name.padEnd(34)} ${c.wallMs.toFixed(1).padStart(8)} ms/call wall ${c.cpuMs.toFixed(1).padStart(8)} ms/call CPU${ratio}`;
}

export async function run(): Promise<void> {
  const dist = path.join(__dirname, '..', '..');
  const driver = path.join(dist, 'cmd', 'pjdfstest-sandbox.js');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pjdfstest-bench-'));
  const root = path.join(base, 'root');
  fs.mkdirSync(root);
  const sock = path.join(base, 'sandbox.sock');
  const serve = child_process.spawn(process.execPath, [path.join(dist, 'cmd', 'sandbox.js'), 'serve', '--root', root, '--listen', `unix:${sock}`, '--interop', 'shared'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      serve.stdout!.setEncoding('utf8');
      serve.stdout!.on('data', (d: string) => {
        out += d;
        if (out.includes('listening')) resolve();
      });
      serve.once('exit', (code) => reject(new Error(`sandbox serve exited (${String(code)})`)));
    });
    const env = { ...process.env, SANDBOX_ADDRESS: `unix:${sock}` };
    fs.writeFileSync(path.join(root, 'f'), '');
    // One untimed call each: page cache, the server's JIT and dentry cache.
    for (const argv of [['true'], [process.execPath, '-e', '0'], [process.execPath, driver, 'stat', 'f', 'mode']]) measure(argv, root, env);
    console.log(`${CALLS} calls each, in ${root} (a gofer root, interop shared, for the driver)`);
    const t = measure(['true'], root, env);
    console.log(line('true', t));
    const node = measure([process.execPath, '-e', '0'], root, env);
    console.log(line('node -e 0', node));
    const stat = measure([process.execPath, driver, 'stat', 'f', 'mode'], root, env);
    console.log(line('pjdfstest-sandbox stat f mode', stat, node));
    const chain = measure([process.execPath, driver, 'create', 'g', '0644', ':', 'unlink', 'g'], root, env);
    console.log(line('pjdfstest-sandbox create : unlink', chain, node));
    const native = process.env.PJDFSTEST;
    if (native !== undefined && native !== '') {
      console.log(line('native pjdfstest stat f mode', measure([native, 'stat', 'f', 'mode'], root, env)));
    } else {
      console.log('(set PJDFSTEST=/path/to/pjdfstest for the native program as a baseline)');
    }
    console.log(`driver beyond node's start-up: ${(stat.cpuMs - node.cpuMs).toFixed(1)} ms CPU/call in the driver process (the server's work is not in it)`);
  } finally {
    serve.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      if (serve.exitCode !== null || serve.signalCode !== null) resolve();
      else serve.once('exit', () => resolve());
    });
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error('pjdfstest bench:', err);
    process.exitCode = 1;
  });
}
