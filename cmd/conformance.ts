#!/usr/bin/env node
// conformance runs the differential suite: every case of test/conformance/
// (and the generated families) on the sandbox and on the host kernel, every
// result and the final trees compared. Exit status 1 on any divergence not
// on the allowlist, 2 for bad usage.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { describe, formatTable, html, junit, tap } from '../pkg/conformance/report';
import { loadSuite, modeString, parseAllowlist, repoRoot, runSuite, type CaseResult } from '../pkg/conformance/runner';
import type { Interop } from '../pkg/conformance/sandbox';

const usage = `usage: conformance [options]

Run the differential conformance suite: each case runs on the sandbox (a
kernel over a gofer filesystem, or tmpfs) and on a host temp directory
through the host kernel (as root, or as the case's unprivileged user in a
child process that dropped its privileges); every result and errno and the
final trees are compared. Cases that call chroot, mount or umount2 run
their host side in a worker of their own, in a private mount namespace
(util-linux unshare; needs root), undone and thrown away after the case.

options:
  --fs tmpfs|9p            the sandbox's root filesystem (default 9p)
  --server ours|ADDRESS    9p server: ours (spawn cmd/gofer, default) or a
                           9P2000.L address (unix:PATH, tcp:HOST:PORT)
  --root DIR               the directory our gofer serves (default: a fresh
                           temp dir; ignored for tmpfs or another server)
  --aname PATH             attach name for another server (diod: its export)
  --interop MODE           exclusive (default), writethrough or shared;
                           repeat it (or give a comma list) to run each mode
  --filter TEXT            only cases whose name contains TEXT (repeatable)
  --jobs N                 cases run at once (default 4)
  --cases DIR              case files (default test/conformance of the repo)
  --allowlist FILE         known divergences (default DIR/allowlist.txt)
  --report FORMAT FILE     also write tap, junit or html to FILE (FORMAT:FILE
                           or two words; repeatable)
  --list                   list the cases and exit
  -v, --verbose            print every case's result line
  -h, --help               this text

examples:
  conformance                                   # 9p over our gofer, exclusive mode
  conformance --interop exclusive,shared        # what npm start runs
  conformance --fs tmpfs --filter rename
  conformance --server tcp:127.0.0.1:5640 --aname /srv/export --interop shared   # diod
  conformance --report html out.html --report junit out.xml
`;

class UsageError extends Error {}

interface Report {
  format: 'tap' | 'junit' | 'html';
  file: string;
}

function parseReports(argv: string[]): { argv: string[]; reports: Report[] } {
  // --report takes two words (FORMAT FILE) or one (FORMAT:FILE); parseArgs
  // takes one, so the two-word form is joined here.
  const out: string[] = [];
  const reports: Report[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a !== '--report' && !a.startsWith('--report=')) {
      out.push(a);
      continue;
    }
    let spec = a.startsWith('--report=') ? a.slice('--report='.length) : argv[++i];
    if (spec === undefined) throw new UsageError('--report needs FORMAT FILE');
    if (!spec.includes(':')) {
      const file = argv[++i];
      if (file === undefined) throw new UsageError('--report needs FORMAT FILE');
      spec = `${spec}:${file}`;
    }
    const [format, ...rest] = spec.split(':');
    if (format !== 'tap' && format !== 'junit' && format !== 'html') throw new UsageError(`--report: unknown format ${format ?? ''} (tap, junit, html)`);
    reports.push({ format, file: rest.join(':') });
  }
  return { argv: out, reports };
}

async function main(): Promise<number> {
  let argv: string[];
  let reports: Report[];
  let values;
  try {
    ({ argv, reports } = parseReports(process.argv.slice(2)));
    ({ values } = parseArgs({
      args: argv,
      options: {
        fs: { type: 'string', default: '9p' },
        server: { type: 'string', default: 'ours' },
        root: { type: 'string' },
        aname: { type: 'string' },
        interop: { type: 'string', multiple: true },
        filter: { type: 'string', multiple: true },
        jobs: { type: 'string', default: '4' },
        cases: { type: 'string' },
        allowlist: { type: 'string' },
        list: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`conformance: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.fs !== 'tmpfs' && values.fs !== '9p') {
    process.stderr.write(`conformance: --fs ${values.fs}: want tmpfs or 9p\n`);
    return 2;
  }
  const interops = (values.interop ?? ['exclusive']).flatMap((s) => s.split(',')).filter((s) => s !== '');
  for (const m of interops) {
    if (m !== 'exclusive' && m !== 'writethrough' && m !== 'shared') {
      process.stderr.write(`conformance: --interop ${m}: want exclusive, writethrough or shared\n`);
      return 2;
    }
  }
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    process.stderr.write(`conformance: --jobs ${values.jobs}: want a positive integer\n`);
    return 2;
  }
  if (values.root !== undefined && !fs.statSync(values.root, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`conformance: --root ${values.root}: no such directory\n`);
    return 1;
  }

  const casesDir = values.cases ?? path.join(repoRoot(), 'test', 'conformance');
  let cases = loadSuite(casesDir);
  const filters = values.filter ?? [];
  if (filters.length > 0) cases = cases.filter((c) => filters.some((f) => c.name.includes(f)));
  if (values.list) {
    for (const c of cases) process.stdout.write(`${c.name}\n`);
    return 0;
  }
  const allowFile = values.allowlist ?? path.join(casesDir, 'allowlist.txt');
  const allow = fs.existsSync(allowFile) ? parseAllowlist(fs.readFileSync(allowFile, 'utf8')) : [];

  const tty = process.stderr.isTTY === true;
  const modes = values.fs === 'tmpfs' ? [null] : interops;
  let failed = false;
  const all: CaseResult[] = [];
  for (const m of modes) {
    const opts = {
      fs: values.fs,
      server: values.server,
      interop: (m ?? 'exclusive') as Interop,
      root: values.root,
      aname: values.aname,
    } as const;
    const mode = modeString(opts);
    process.stdout.write(`\n== conformance: ${cases.length} cases on ${mode}${values.fs === '9p' && values.server === 'ours' ? ' (our gofer)' : ''}\n`);
    const started = Date.now();
    const results = await runSuite({
      ...opts,
      cases,
      jobs,
      allow,
      onResult: (r, done, total) => {
        if (tty) {
          const width = 30;
          const fill = Math.round((done / total) * width);
          process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${r.case.name.slice(0, 40).padEnd(40)}`);
          if (done === total) process.stderr.write('\r\x1b[K');
        } else if (values.verbose || (r.status !== 'pass' && r.status !== 'allowed')) {
          process.stdout.write(`${r.status} ${r.case.name}\n`);
        }
      },
    });
    process.stdout.write(`${formatTable(results)}\n(${mode}, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    const bad = results.filter((r) => r.status === 'diverge' || r.status === 'error');
    if (bad.length > 0) {
      failed = true;
      process.stdout.write(`\ndivergences (${mode}):\n`);
      for (const r of bad) process.stdout.write(`${describe(r)}\n`);
    }
    const known = results.filter((r) => r.status === 'allowed');
    if (known.length > 0) {
      process.stdout.write(`\nknown differences (${mode}, allowlisted):\n`);
      const byReason = new Map<string, string[]>();
      for (const r of known) byReason.set(r.reason ?? '', [...(byReason.get(r.reason ?? '') ?? []), r.case.name]);
      for (const [reason, names] of byReason) {
        const shown = values.verbose || names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
        process.stdout.write(`  ${reason}\n    ${shown}\n`);
      }
    }
    for (const r of results) all.push({ ...r, case: { ...r.case, name: modes.length > 1 ? `${mode}: ${r.case.name}` : r.case.name } });
  }
  for (const rep of reports) {
    const text = rep.format === 'tap' ? tap(all) : rep.format === 'junit' ? junit(all) : html(all, 'conformance');
    fs.writeFileSync(rep.file, text);
    process.stdout.write(`wrote ${rep.format} report to ${rep.file}\n`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`conformance: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
