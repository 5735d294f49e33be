// The conformance runner: load the cases, run each on the sandbox and on
// the host, compare every result and the final trees, and collect the
// outcome for the reports.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { generatedCases } from './generate';
import { HostPool, makeHostDir } from './host';
import { MNT_DETACH } from '../abi/linux/mount';
import { calls } from './calls';
import { parseCases, resolveString, type Case, type Step } from './parse';
import { Sandbox, type SandboxOptions } from './sandbox';
import { diffTrees, formatTree, hostTree, type TreeDiff } from './tree';

/** LineResult is one call's two answers. */
export interface LineResult {
  step: Step;
  sandbox: string;
  host: string;
}

/** CaseStatus: pass, diverge, allowed (diverges, on the allowlist), error (the runner failed). */
export type CaseStatus = 'pass' | 'diverge' | 'allowed' | 'error';

/** CaseResult is the outcome of one case. */
export interface CaseResult {
  case: Case;
  status: CaseStatus;
  lines: LineResult[];
  /** tree lists the differences of the final trees (sandbox vs host). */
  tree: TreeDiff[];
  /** backing lists the differences between the sandbox's tree and the gofer's host directory. */
  backing: TreeDiff[];
  error?: string;
  /** reason is the allowlist's reason for an allowed divergence. */
  reason?: string;
}

/** firstDivergence returns the first differing line, or null. */
export function firstDivergence(r: CaseResult): LineResult | null {
  return r.lines.find((l) => l.sandbox !== l.host) ?? null;
}

/** repoRoot finds the directory holding package.json above this module. */
export function repoRoot(): string {
  let d = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'test', 'conformance'))) return d;
    const up = path.dirname(d);
    if (up === d) throw new Error('conformance: cannot find the repository root (test/conformance)');
    d = up;
  }
}

/** loadSuite reads every *.cases file of dir plus the generated families. */
export function loadSuite(dir: string): Case[] {
  const out: Case[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cases')).sort()) {
    const file = path.join(dir, f);
    out.push(...parseCases(fs.readFileSync(file, 'utf8'), file, path.basename(f, '.cases')));
  }
  out.push(...generatedCases());
  const seen = new Set<string>();
  for (const c of out) {
    if (seen.has(c.name)) throw new Error(`conformance: duplicate case ${c.name}`);
    seen.add(c.name);
  }
  return out;
}

/** AllowEntry is one known divergence: a case name (* matches anything), a mode condition, and why. */
export interface AllowEntry {
  pattern: string;
  /** when restricts the entry to runs whose mode string contains it ("9p", "shared", "tmpfs"). */
  when: string | null;
  reason: string;
}

/**
 * parseAllowlist reads "PATTERN [when=MODE] REASON..." lines; # starts a
 * comment line.
 */
export function parseAllowlist(src: string): AllowEntry[] {
  const out: AllowEntry[] = [];
  for (const raw of src.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)(?:\s+when=(\S+))?\s+(.+)$/.exec(line);
    if (m === null) throw new Error(`allowlist: want "CASE [when=MODE] REASON": ${line}`);
    out.push({ pattern: m[1]!, when: m[2] ?? null, reason: m[3]! });
  }
  return out;
}

/** allowed returns the reason a case's divergence is known, or null. */
export function allowed(entries: AllowEntry[], name: string, mode: string): string | null {
  for (const e of entries) {
    const re = new RegExp(`^${e.pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const match = re.test(name);
    if (match && (e.when === null || mode.split(',').includes(e.when))) return e.reason;
  }
  return null;
}

/** RunOptions configure a run. */
export interface RunOptions extends SandboxOptions {
  cases: Case[];
  jobs: number;
  allow: AllowEntry[];
  /** onResult is called after each case (progress). */
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

/** modeString names a configuration: "9p,exclusive" or "tmpfs". */
export function modeString(o: SandboxOptions): string {
  return o.fs === 'tmpfs' ? 'tmpfs' : `9p,${o.interop}${o.server === 'ours' ? '' : ',external'}`;
}

/**
 * isIsolated reports whether a case needs an isolated host worker
 * (calls.ts): it makes a chroot, mount or umount2 as root. An
 * unprivileged user's such calls fail (EPERM, or a lookup error first)
 * without changing anything, so a case that makes them only in its
 * unprivileged part runs in the ordinary workers.
 */
export function isIsolated(c: Case): boolean {
  const isolated = (s: Step): boolean => s.call.isolated === true;
  return c.setup.some(isolated) || (c.as !== null && c.as.uid === 0 && c.body.some(isolated));
}

const umount2Spec = calls.get('umount2')!;

/**
 * unmountSandbox undoes, as root in the case directory, the mounts the
 * case's mount lines may have left: each target (last first) is detached
 * until it is no longer a mount point. The sandbox's mount namespace is
 * shared by every case, unlike the host worker's.
 */
async function unmountSandbox(sandbox: Sandbox, dir: string, c: Case): Promise<void> {
  const targets = [...c.setup, ...c.body].filter((s) => s.call.name === 'mount').map((s) => s.words[1]).reverse();
  if (targets.length === 0) return;
  const t = await sandbox.kernel.newTask({ cwd: dir });
  try {
    for (const w of targets) {
      const target = w === undefined ? null : resolveString(w);
      if (target === null) continue;
      for (let i = 0; i < 16; i++) {
        if (await Sandbox.call(t, umount2Spec, [target, MNT_DETACH]) < 0) break;
      }
    }
  } finally {
    await t.release();
  }
}

/** runSuite runs the cases and returns their results in suite order. */
export async function runSuite(opts: RunOptions): Promise<CaseResult[]> {
  const sandbox = await Sandbox.create(opts);
  const pool = new HostPool();
  const hostBase = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-host-'));
  fs.chmodSync(hostBase, 0o755);
  const mode = modeString(opts);
  const results: CaseResult[] = new Array(opts.cases.length);
  let next = 0;
  let done = 0;
  const runOne = async (i: number): Promise<CaseResult> => {
    const c = opts.cases[i]!;
    const dirName = `case${i}`;
    const res: CaseResult = { case: c, status: 'pass', lines: [], tree: [], backing: [] };
    try {
      const sdir = await sandbox.makeCaseDir(dirName);
      const hdir = makeHostDir(hostBase, dirName);
      let s1: string[];
      let s2: string[];
      let h1: string[];
      let h2: string[];
      if (isIsolated(c)) {
        // chroot, mount, umount2: the host side runs in a worker of its
        // own (host.ts); the sandbox's mounts are undone before the trees
        // are listed, as the host worker's are.
        const sandboxSide = (async (): Promise<string[][]> => {
          try {
            return [await sandbox.runPart(sdir, null, c.setup), await sandbox.runPart(sdir, c.as, c.body)];
          } finally {
            await unmountSandbox(sandbox, sdir, c);
          }
        })();
        const [[a, b], h] = await Promise.all([sandboxSide, pool.runIsolated(c, hdir)]);
        [s1, s2, h1, h2] = [a!, b!, h.setup, h.body];
      } else {
        [s1, h1] = await Promise.all([
          sandbox.runPart(sdir, null, c.setup),
          c.setup.length === 0 ? Promise.resolve([]) : pool.run(null, { dir: hdir, text: c.text, part: 'setup' }),
        ]);
        [s2, h2] = await Promise.all([
          sandbox.runPart(sdir, c.as, c.body),
          c.body.length === 0 ? Promise.resolve([]) : pool.run(c.as, { dir: hdir, text: c.text, part: 'body' }),
        ]);
      }
      const steps = [...c.setup, ...c.body];
      const sr = [...s1, ...s2];
      const hr = [...h1, ...h2];
      res.lines = steps.map((step, k) => ({ step, sandbox: sr[k] ?? '(none)', host: hr[k] ?? '(none)' }));
      // The gofer's directory is listed first: the sandbox's walk reads
      // files through the gofer, and a host read may update atime
      // (relatime) behind the sandbox's back.
      const backing = sandbox.backing === null ? null : formatTree(hostTree(path.join(sandbox.backing, dirName)));
      const st = formatTree(await sandbox.tree(sdir));
      res.tree = diffTrees(st, formatTree(hostTree(hdir)));
      if (backing !== null) res.backing = diffTrees(st, backing);
      const diverged = res.lines.some((l) => l.sandbox !== l.host) || res.tree.length > 0 || res.backing.length > 0;
      if (diverged) {
        const reason = allowed(opts.allow, c.name, mode);
        res.status = reason === null ? 'diverge' : 'allowed';
        if (reason !== null) res.reason = reason;
      }
    } catch (err) {
      res.status = 'error';
      res.error = err instanceof Error ? err.message : String(err);
    }
    return res;
  };
  const worker = async (): Promise<void> => {
    while (next < opts.cases.length) {
      const i = next++;
      results[i] = await runOne(i);
      done++;
      opts.onResult?.(results[i]!, done, opts.cases.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
  } finally {
    await pool.close();
    await sandbox.close();
    fs.rmSync(hostBase, { recursive: true, force: true });
  }
  return results;
}
