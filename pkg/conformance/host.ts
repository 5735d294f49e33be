// The host side of the conformance suite: the same steps, made as raw
// system calls of the host kernel (syscall(2) through koffi), in a worker
// process whose working directory is the case's host directory. Workers
// for an unprivileged case drop their privileges (setgroups, setgid, setuid)
// before they take any work, so the host kernel checks permissions exactly
// as it would for that user.
//
// A case that calls chroot, mount or umount2 (calls.ts: isolated) runs in
// a worker of its own instead, started as root in a private mount
// namespace (unshare -m --propagation private): its mounts never reach the
// host's namespace, and its root is restored after each part; at the end
// it unmounts whatever is still mounted under the case directory and the
// worker is thrown away (its namespace, and anything it could not undo
// after dropping privileges, goes with it) unless it stayed root, in which
// case, clean again, it serves the next such case.
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
import { parseCases, type Case, type Creds } from './parse';

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

// iovecs lays out struct iovec[] (x86_64: base, len) for bufs. The
// Buffers stay referenced by the caller's argument vector during the call.
function iovecs(koffi: typeof koffiT, bufs: Buffer[]): Buffer {
  const iov = Buffer.alloc(16 * bufs.length);
  bufs.forEach((b, i) => {
    iov.writeBigUInt64LE(b.length === 0 ? 0n : koffi.address(b), 16 * i);
    iov.writeBigUInt64LE(BigInt(b.length), 16 * i + 8);
  });
  return iov;
}

/**
 * hostCall makes one raw system call on the host: its result or -errno.
 * An iovec argument (Buffer[], or null for NULL) becomes two raw
 * arguments, the struct iovec[] and iovcnt (1 for NULL); preadv and
 * pwritev get pos_h = 0 after pos_l.
 */
export function hostCall(spec: CallSpec, args: SyscallArg[]): number {
  const { fn, koffi } = hostSyscall();
  const va: unknown[] = [];
  args.forEach((a, i) => {
    const k = spec.args[i];
    if (k === 'iovIn' || k === 'iovOut') {
      if (a === null) va.push('void *', null, 'long', 1);
      else {
        const bufs = a as Buffer[];
        va.push('void *', iovecs(koffi, bufs), 'long', bufs.length);
      }
    } else if (typeof a === 'number') va.push('long', a);
    else if (typeof a === 'string') va.push('const char *', a);
    else va.push('void *', a);
  });
  if (spec.name === 'preadv' || spec.name === 'pwritev') va.push('long', 0);
  const r = Number(fn(spec.nr, ...va));
  return r === -1 ? -koffi.errno() : r;
}

const closeSpec: CallSpec = { name: 'close', nr: 3, args: ['fd'], result: 'int' };
const umaskSpec: CallSpec = { name: 'umask', nr: 95, args: ['int'], result: 'int' };
const openSpec: CallSpec = { name: 'open', nr: 2, args: ['path', 'int', 'int'], result: 'fd' };
const fchdirSpec: CallSpec = { name: 'fchdir', nr: 81, args: ['fd'], result: 'int' };
const chrootSpec: CallSpec = { name: 'chroot', nr: 161, args: ['path'], result: 'int' };
const umount2Spec: CallSpec = { name: 'umount2', nr: 166, args: ['path', 'int'], result: 'int' };
const fcntlSpec: CallSpec = { name: 'fcntl', nr: 72, args: ['fd', 'int', 'int'], result: 'int' };
const F_DUPFD_CLOEXEC = 1030;
const O_RDONLY_DIRECTORY_CLOEXEC = 0o200000 | 0o2000000;
const MNT_DETACH = 2;

/**
 * HostRequest asks a worker to run one part of a case in dir. An isolated
 * worker also takes "cleanup" (unmount what the case left mounted under
 * dir) and, for the body, the credentials to drop to first.
 */
export interface HostRequest {
  dir: string;
  /** text is the case source; part says which of its steps to run. */
  text: string;
  part: 'setup' | 'body' | 'cleanup';
  /** creds (isolated workers only) are the body's credentials key (credsKey). */
  creds?: string;
}

/** HostAnswer is a worker's answer: the normalized results, or an error. */
export interface HostAnswer {
  results?: string[];
  error?: string;
}

/**
 * confinedCall is the host call of an isolated worker: an absolute path
 * (other than a symlink's target) is refused until a chroot of the part
 * succeeded, so that a chroot that failed on the host cannot turn the
 * case's "/x" into the host's /x.
 */
function confinedCall(): (spec: CallSpec, args: SyscallArg[]) => number {
  let chrooted = false;
  return (spec, args) => {
    if (!chrooted) {
      args.forEach((a, i) => {
        const isTarget = i === 0 && (spec.name === 'symlink' || spec.name === 'symlinkat');
        if (typeof a === 'string' && a.startsWith('/') && spec.args[i] === 'path' && !isTarget) {
          throw new Error(`host worker: ${spec.name}: absolute path ${JSON.stringify(a)} before a successful chroot`);
        }
      });
    }
    const r = hostCall(spec, args);
    if (spec.name === 'chroot' && r === 0) chrooted = true;
    return r;
  };
}

/** runHostPart runs one part of a case in this process (the worker); isolated workers confine absolute paths. */
export async function runHostPart(req: HostRequest, isolated = false): Promise<string[]> {
  const c = parseCases(req.text, 'request', 'request')[0];
  if (c === undefined) throw new Error('no case in request');
  const steps = req.part === 'setup' ? c.setup : req.part === 'body' ? c.body : [];
  process.chdir(req.dir);
  hostCall(umaskSpec, [0o022]);
  const fds = new Map<number, number>();
  const side: Side = { call: isolated ? confinedCall() : hostCall, cwdPrefix: req.dir };
  try {
    return await runSteps(steps, side, fds);
  } finally {
    for (const fd of openFds(fds)) if (fd > 2) hostCall(closeSpec, [fd]);
    process.chdir('/');
  }
}

// dropPrivileges makes this process the user of a credentials key for good.
function dropPrivileges(creds: string): void {
  const [uid, gid, groups] = creds.split(':');
  if (process.setgroups === undefined || process.setgid === undefined || process.setuid === undefined) {
    throw new Error('host worker: cannot change credentials on this platform');
  }
  process.setgroups((groups ?? '').split(',').filter((g) => g !== '').map(Number));
  process.setgid(Number(gid));
  process.setuid(Number(uid));
}

/** unescapeMountinfo decodes the octal escapes of /proc/self/mountinfo (\040 for a space). */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** mountsUnder lists the mount points at or under dir in a mountinfo text, innermost (latest) first. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = unescapeMountinfo(f[4]!);
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.reverse();
}

// IsolatedState is what an isolated worker restores between parts: the
// real root, held open from the start.
interface IsolatedState {
  rootFd: number;
  dropped: boolean;
}

// restoreRoot undoes a part's chroot (still root only): back to the real
// root through the descriptor held since the start.
function restoreRoot(st: IsolatedState): void {
  if (st.dropped) return;
  if (hostCall(fchdirSpec, [st.rootFd]) < 0 || hostCall(chrootSpec, ['.']) < 0) {
    throw new Error('host worker: cannot restore the root after a chroot');
  }
  process.chdir('/');
}

// unmountUnder detaches every mount at or under dir (innermost first),
// until none is left.
function unmountUnder(dir: string): void {
  const real = fs.realpathSync(dir);
  for (let round = 0; round < 64; round++) {
    const mps = mountsUnder(fs.readFileSync('/proc/self/mountinfo', 'utf8'), real);
    if (mps.length === 0) return;
    for (const mp of mps) hostCall(umount2Spec, [mp, MNT_DETACH]);
  }
  throw new Error(`host worker: mounts left under ${real}`);
}

async function isolatedRequest(st: IsolatedState, req: HostRequest): Promise<string[]> {
  if (req.part === 'cleanup') {
    if (!st.dropped) unmountUnder(req.dir);
    return [];
  }
  if (req.part === 'body' && req.creds !== undefined && req.creds !== 'root' && !st.dropped) {
    dropPrivileges(req.creds);
    st.dropped = true;
  }
  try {
    return await runHostPart(req, true);
  } finally {
    restoreRoot(st);
  }
}

function workerMain(): void {
  const args = process.argv.slice(2);
  const creds = args[0];
  let st: IsolatedState | null = null;
  if (creds === 'isolated') {
    // The real root is held on a high descriptor, out of the cases' way.
    const fd = hostCall(openSpec, ['/', O_RDONLY_DIRECTORY_CLOEXEC, 0]);
    const rootFd = fd < 0 ? fd : hostCall(fcntlSpec, [fd, F_DUPFD_CLOEXEC, 900]);
    if (rootFd < 0) throw new Error(`host worker: open /: errno ${-rootFd}`);
    hostCall(closeSpec, [fd]);
    st = { rootFd, dropped: false };
  } else if (creds !== undefined && creds !== 'root') {
    dropPrivileges(creds);
  }
  const rl = readline.createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let ans: HostAnswer;
      try {
        const req = JSON.parse(line) as HostRequest;
        ans = { results: st === null ? await runHostPart(req) : await isolatedRequest(st, req) };
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
    child.once('exit', (code, sig) => this.fail(`host worker exited (${code ?? sig}): ${this.stderr.trim()}`));
    // A worker that cannot start (no unshare(1), not allowed to unshare)
    // fails its requests instead of the run.
    child.once('error', (err) => this.fail(`host worker could not start: ${err.message}`));
    child.stdin!.on('error', () => undefined);
  }

  private failure: string | null = null;

  private fail(msg: string): void {
    this.failure ??= msg;
    for (const r of this.pending.splice(0)) r({ error: msg });
  }

  request(req: HostRequest): Promise<HostAnswer> {
    return new Promise((resolve) => {
      if (this.failure !== null) {
        resolve({ error: this.failure });
        return;
      }
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
    // An isolated worker gets a private mount namespace (util-linux unshare).
    const [cmd, argv] = key === 'isolated'
      ? ['unshare', ['--mount', '--propagation', 'private', process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(cmd, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    });
    const w = new HostWorker(child);
    this.all.push(w);
    return w;
  }

  /**
   * runIsolated runs a whole case (setup as root, body as the case's user,
   * then the cleanup) in a worker of its own, in a private mount namespace,
   * and stops the worker.
   */
  async runIsolated(c: Case, dir: string): Promise<{ setup: string[]; body: string[] }> {
    // A worker that stayed root and cleaned up after its case (its root
    // restored, nothing left mounted under the case directory) is as good
    // as new and serves the next case; one that dropped its privileges or
    // failed is thrown away.
    const idle = this.idle.get('isolated') ?? [];
    this.idle.set('isolated', idle);
    const w = idle.pop() ?? this.start('isolated');
    const ask = async (req: HostRequest): Promise<string[]> => {
      const ans = await w.request(req);
      if (ans.error !== undefined) throw new Error(`host side: ${ans.error}`);
      return ans.results ?? [];
    };
    let reusable = false;
    try {
      const setup = c.setup.length === 0 ? [] : await ask({ dir, text: c.text, part: 'setup' });
      const body = c.body.length === 0 ? [] : await ask({ dir, text: c.text, part: 'body', creds: credsKey(c.as) });
      await ask({ dir, text: c.text, part: 'cleanup' });
      reusable = c.as === null || c.body.length === 0;
      return { setup, body };
    } finally {
      if (reusable && w.child.exitCode === null) {
        idle.push(w);
      } else {
        await stopWorker(w);
        this.all = this.all.filter((x) => x !== w);
      }
    }
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
    await Promise.all(this.all.map(stopWorker));
    this.all = [];
    this.idle.clear();
  }
}

// stopWorker ends a worker's input and waits for it to exit.
function stopWorker(w: HostWorker): Promise<void> {
  return new Promise<void>((resolve) => {
    if (w.child.exitCode !== null || w.child.signalCode !== null || w.child.pid === undefined) {
      resolve();
      return;
    }
    w.child.once('exit', () => resolve());
    w.child.stdin!.end();
  });
}

/** makeHostDir makes the host directory of a case: owned by root, mode 0777. */
export function makeHostDir(base: string, name: string): string {
  const d = path.join(base, name);
  fs.mkdirSync(d);
  fs.chmodSync(d, 0o777);
  return d;
}

if (require.main === module) workerMain();
