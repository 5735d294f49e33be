// The host side of the conformance suite: the same steps, made as raw
// system calls of the host kernel (syscall(2) through koffi), in a worker
// process whose working directory is the case's host directory. Workers
// for an unprivileged case drop their privileges (setgroups, setgid, setuid)
// before they take any work, so the host kernel checks permissions exactly
// as it would for that user.
//
// Run as a program, this module is the worker: one JSON request per line
// on stdin ({dir, text, part}), one JSON answer per line on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type koffiT from 'koffi';

import type { CallSpec } from './calls';
import { openFds, runSteps, type Side, type SyscallArg } from './exec';
import { parseCases, type Creds } from './parse';

let syscallFn: koffiT.KoffiFunction | null = null;
let koffiMod: typeof koffiT | null = null;

function hostSyscall(): { fn: koffiT.KoffiFunction; koffi: typeof koffiT } {
  if (syscallFn === null || koffiMod === null) {
    // Loaded lazily: the coordinating process never calls the host directly.
    koffiMod = require('koffi') as typeof koffiT;
    syscallFn = koffiMod.load('libc.so.6').func('long syscall(long number, ...)');
  }
  return { fn: syscallFn, koffi: koffiMod };
}

/** hostCall makes one raw system call on the host: its result or -errno. */
export function hostCall(spec: CallSpec, args: SyscallArg[]): number {
  const { fn, koffi } = hostSyscall();
  const va: unknown[] = [];
  for (const a of args) {
    if (typeof a === 'number') va.push('long', a);
    else if (typeof a === 'string') va.push('const char *', a);
    else va.push('void *', a);
  }
  const r = Number(fn(spec.nr, ...va));
  return r === -1 ? -koffi.errno() : r;
}

const closeSpec: CallSpec = { name: 'close', nr: 3, args: ['fd'], result: 'int' };
const umaskSpec: CallSpec = { name: 'umask', nr: 95, args: ['int'], result: 'int' };

/** HostRequest asks a worker to run one part of a case in dir. */
export interface HostRequest {
  dir: string;
  /** text is the case source; part says which of its steps to run. */
  text: string;
  part: 'setup' | 'body';
}

/** HostAnswer is a worker's answer: the normalized results, or an error. */
export interface HostAnswer {
  results?: string[];
  error?: string;
}

/** runHostPart runs one part of a case in this process (the worker). */
export async function runHostPart(req: HostRequest): Promise<string[]> {
  const c = parseCases(req.text, 'request', 'request')[0];
  if (c === undefined) throw new Error('no case in request');
  const steps = req.part === 'setup' ? c.setup : c.body;
  process.chdir(req.dir);
  hostCall(umaskSpec, [0o022]);
  const fds = new Map<number, number>();
  const side: Side = { call: hostCall, cwdPrefix: req.dir };
  try {
    return await runSteps(steps, side, fds);
  } finally {
    for (const fd of openFds(fds)) if (fd > 2) hostCall(closeSpec, [fd]);
    process.chdir('/');
  }
}

function workerMain(): void {
  const args = process.argv.slice(2);
  const creds = args[0];
  if (creds !== undefined && creds !== 'root') {
    const [uid, gid, groups] = creds.split(':');
    if (process.setgroups === undefined || process.setgid === undefined || process.setuid === undefined) {
      throw new Error('host worker: cannot change credentials on this platform');
    }
    process.setgroups((groups ?? '').split(',').filter((g) => g !== '').map(Number));
    process.setgid(Number(gid));
    process.setuid(Number(uid));
  }
  const rl = readline.createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let ans: HostAnswer;
      try {
        ans = { results: await runHostPart(JSON.parse(line) as HostRequest) };
      } catch (err) {
        ans = { error: err instanceof Error ? err.stack ?? err.message : String(err) };
      }
      process.stdout.write(`${JSON.stringify(ans)}\n`);
    });
  });
}

/** credsKey names a credential set ("root" or "uid:gid:g1,g2"). */
export function credsKey(c: Creds | null): string {
  return c === null ? 'root' : `${c.uid}:${c.gid}:${c.groups.join(',')}`;
}

// HostWorker is one worker process, running one request at a time.
class HostWorker {
  private pending: Array<(a: HostAnswer) => void> = [];
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const resolve = this.pending.shift();
      if (resolve !== undefined) resolve(JSON.parse(line) as HostAnswer);
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString();
    });
    child.once('exit', (code, sig) => {
      for (const r of this.pending.splice(0)) r({ error: `host worker exited (${code ?? sig}): ${this.stderr.trim()}` });
    });
  }

  request(req: HostRequest): Promise<HostAnswer> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    });
  }
}

/**
 * HostPool hands out worker processes by credentials, starting them on
 * demand (at most one per concurrent case).
 */
export class HostPool {
  private idle = new Map<string, HostWorker[]>();
  private all: HostWorker[] = [];

  private start(key: string): HostWorker {
    // From a build (dist/) run the compiled worker; from the sources, ts-node.
    const args = __filename.endsWith('.js')
      ? [__filename, key]
      : ['-r', require.resolve('ts-node/register/transpile-only'), __filename, key];
    const child = spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    });
    const w = new HostWorker(child);
    this.all.push(w);
    return w;
  }

  /** run runs one part of a case on the host with the given credentials. */
  async run(creds: Creds | null, req: HostRequest): Promise<string[]> {
    const key = credsKey(creds);
    const list = this.idle.get(key) ?? [];
    this.idle.set(key, list);
    const w = list.pop() ?? this.start(key);
    try {
      const ans = await w.request(req);
      if (ans.error !== undefined) throw new Error(`host side: ${ans.error}`);
      return ans.results ?? [];
    } finally {
      if (w.child.exitCode === null) list.push(w);
    }
  }

  /** close stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => new Promise<void>((resolve) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) {
        resolve();
        return;
      }
      w.child.once('exit', () => resolve());
      w.child.stdin!.end();
    })));
    this.all = [];
    this.idle.clear();
  }
}

/** makeHostDir makes the host directory of a case: owned by root, mode 0777. */
export function makeHostDir(base: string, name: string): string {
  const d = path.join(base, name);
  fs.mkdirSync(d);
  fs.chmodSync(d, 0o777);
  return d;
}

if (require.main === module) workerMain();
