// Reports of a conformance run: the per-syscall table and the divergences
// for people, TAP, JUnit XML, and one self-contained HTML page.

import { firstDivergence, type CaseResult } from './runner';

/** SyscallRow is one row of the table. */
export interface SyscallRow {
  name: string;
  cases: number;
  pass: number;
  diverge: number;
  allowed: number;
}

/**
 * syscallTable counts, for each system call, the cases that make it, and
 * how many of them pass, diverge or diverge as allowed. A case that fails
 * counts as diverging for the call where it first diverges (or, for a tree
 * difference or a runner error, for its last call), and as passing for the
 * others it makes.
 */
export function syscallRows(results: CaseResult[]): SyscallRow[] {
  const rows = new Map<string, SyscallRow>();
  for (const r of results) {
    const steps = [...r.case.setup, ...r.case.body];
    const names = [...new Set(steps.map((s) => s.call.name))];
    const blamed = firstDivergence(r)?.step.call.name ?? steps[steps.length - 1]?.call.name;
    for (const n of names) {
      let row = rows.get(n);
      if (row === undefined) {
        row = { name: n, cases: 0, pass: 0, diverge: 0, allowed: 0 };
        rows.set(n, row);
      }
      row.cases++;
      if (r.status === 'pass' || n !== blamed) row.pass++;
      else if (r.status === 'allowed') row.allowed++;
      else row.diverge++;
    }
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** formatTable renders the rows as a text table with a total line. */
export function formatTable(results: CaseResult[]): string {
  const rows = syscallRows(results);
  const w = Math.max(8, ...rows.map((r) => r.name.length));
  const line = (a: string, b: string, c: string, d: string, e: string): string =>
    `${a.padEnd(w)}  ${b.padStart(6)}  ${c.padStart(6)}  ${d.padStart(7)}  ${e.padStart(7)}`;
  const out = [line('syscall', 'cases', 'pass', 'diverge', 'allowed'), '-'.repeat(w + 34)];
  for (const r of rows) out.push(line(r.name, String(r.cases), String(r.pass), String(r.diverge), String(r.allowed)));
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  out.push('-'.repeat(w + 34));
  out.push(`${results.length} cases: ${count('pass')} pass, ${count('diverge')} diverge, ${count('allowed')} allowed (known), ${count('error')} errors`);
  return out.join('\n');
}

/** describe explains a failing case in a few lines: the call, the sandbox's answer, the host's. */
export function describe(r: CaseResult): string {
  const out = [`${r.status.toUpperCase()} ${r.case.name} (${r.case.file}:${r.case.line})${r.reason === undefined ? '' : ` — known: ${r.reason}`}`];
  if (r.error !== undefined) out.push(`  error: ${r.error}`);
  for (const l of r.lines) {
    if (l.sandbox === l.host) continue;
    out.push(`  line ${l.step.line}: ${l.step.text}`);
    out.push(`    sandbox: ${l.sandbox}`);
    out.push(`    host:    ${l.host}`);
  }
  for (const d of r.tree) out.push(`  tree ${d.path}:`, `    sandbox: ${d.sandbox}`, `    host:    ${d.host}`);
  for (const d of r.backing) out.push(`  gofer's directory ${d.path}:`, `    sandbox: ${d.sandbox}`, `    backing: ${d.host}`);
  return out.join('\n');
}

/** tap renders TAP version 13. */
export function tap(results: CaseResult[]): string {
  const out = ['TAP version 13', `1..${results.length}`];
  results.forEach((r, i) => {
    const ok = r.status === 'pass' || r.status === 'allowed';
    out.push(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${r.case.name}${r.status === 'allowed' ? ` # TODO known: ${r.reason ?? ''}` : ''}`);
    if (!ok) {
      out.push('  ---');
      for (const l of describe(r).split('\n').slice(1)) out.push(`  # ${l.trim()}`);
      out.push('  ...');
    }
  });
  return `${out.join('\n')}\n`;
}

/** xmlEscape escapes text for XML and HTML. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!)
    // XML 1.0 forbids most control characters.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** junit renders JUnit XML: one testsuite per case group. */
export function junit(results: CaseResult[], suiteName = 'conformance'): string {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    const g = groups.get(r.case.group) ?? [];
    g.push(r);
    groups.set(r.case.group, g);
  }
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = results.filter((r) => r.status === 'diverge').length;
  const errors = results.filter((r) => r.status === 'error').length;
  out.push(`<testsuites name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" errors="${errors}">`);
  for (const [g, rs] of groups) {
    const f = rs.filter((r) => r.status === 'diverge').length;
    const e = rs.filter((r) => r.status === 'error').length;
    out.push(`  <testsuite name="${xmlEscape(g)}" tests="${rs.length}" failures="${f}" errors="${e}">`);
    for (const r of rs) {
      out.push(`    <testcase classname="${xmlEscape(g)}" name="${xmlEscape(r.case.name)}">`);
      if (r.status === 'diverge') out.push(`      <failure message="diverges from Linux">${xmlEscape(describe(r))}</failure>`);
      if (r.status === 'error') out.push(`      <error message="${xmlEscape(r.error ?? '')}">${xmlEscape(describe(r))}</error>`);
      if (r.status === 'allowed') out.push(`      <skipped message="${xmlEscape(`known difference: ${r.reason ?? ''}`)}"/>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** html renders one self-contained page: the per-syscall matrix, then every case. */
export function html(results: CaseResult[], title = 'conformance'): string {
  const rows = syscallRows(results);
  const cls = (r: { diverge: number; allowed: number }): string => (r.diverge > 0 ? 'bad' : r.allowed > 0 ? 'known' : 'good');
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${xmlEscape(title)}</title>`);
  out.push('<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.good{background:#dfd}.bad{background:#fdd}.known{background:#ffd}.error{background:#fcc}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}details{margin:2px 0}</style>');
  out.push('</head><body>', `<h1>${xmlEscape(title)}</h1>`);
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  out.push(`<p>${results.length} cases: ${count('pass')} pass, ${count('diverge')} diverge, ${count('allowed')} known differences, ${count('error')} errors.</p>`);
  out.push('<table><tr><th>syscall</th><th>cases</th><th>pass</th><th>diverge</th><th>known</th></tr>');
  for (const r of rows) {
    out.push(`<tr class="${cls(r)}"><td>${xmlEscape(r.name)}</td><td>${r.cases}</td><td>${r.pass}</td><td>${r.diverge}</td><td>${r.allowed}</td></tr>`);
  }
  out.push('</table><h2>Cases</h2>');
  for (const r of results) {
    const c = r.status === 'pass' ? 'good' : r.status === 'allowed' ? 'known' : r.status === 'error' ? 'error' : 'bad';
    out.push(`<details class="${c}"${r.status === 'diverge' || r.status === 'error' ? ' open' : ''}><summary>${r.status} — ${xmlEscape(r.case.name)}</summary>`);
    out.push(`<pre>${xmlEscape(r.case.text)}</pre>`);
    if (r.status !== 'pass') out.push(`<pre>${xmlEscape(describe(r))}</pre>`);
    out.push('</details>');
  }
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}
