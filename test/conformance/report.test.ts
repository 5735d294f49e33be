// Tests of the report formats (pkg/conformance/report.ts): the per-syscall
// table, TAP, JUnit XML and the HTML page.

import test from 'ava';

import { parseCases } from '../../pkg/conformance/parse';
import { formatTable, html, junit, syscallRows, tap, xmlEscape } from '../../pkg/conformance/report';
import type { CaseResult } from '../../pkg/conformance/runner';

function results(): CaseResult[] {
  const [a, b, c] = parseCases('case ok\n  mkdir d 0755\ncase bad\n  mkdir d 0755\n  rmdir d\ncase k<&>\n  rmdir x', 'g.cases', 'g');
  return [
    { case: a!, status: 'pass', lines: [{ step: a!.setup[0]!, sandbox: '0', host: '0' }], tree: [], backing: [] },
    {
      case: b!, status: 'diverge', tree: [{ path: 'd', sandbox: '(absent)', host: 'd {dir 0755}' }], backing: [],
      lines: [{ step: b!.setup[0]!, sandbox: '0', host: '0' }, { step: b!.setup[1]!, sandbox: '0', host: 'EBUSY' }],
    },
    { case: c!, status: 'allowed', reason: 'gVisor says so', lines: [{ step: c!.setup[0]!, sandbox: 'EINVAL', host: 'ENOENT' }], tree: [], backing: [] },
  ];
}

test('syscallRows blames the first diverging call; others in the case pass', (t) => {
  t.deepEqual(syscallRows(results()), [
    { name: 'mkdir', cases: 2, pass: 2, diverge: 0, allowed: 0 },
    { name: 'rmdir', cases: 2, pass: 0, diverge: 1, allowed: 1 },
  ]);
  const table = formatTable(results());
  t.regex(table, /^syscall\s+cases\s+pass\s+diverge\s+allowed$/m);
  t.regex(table, /^rmdir\s+2\s+0\s+1\s+1$/m);
  t.regex(table, /3 cases: 1 pass, 1 diverge, 1 allowed \(known\), 0 errors/);
});

test('tap: a plan, ok/not ok per case, known differences as TODO, diagnostics', (t) => {
  const out = tap(results()).split('\n');
  t.is(out[0], 'TAP version 13');
  t.is(out[1], '1..3');
  t.is(out[2], 'ok 1 - g/ok');
  t.is(out[3], 'not ok 2 - g/bad');
  t.true(out.includes('  # sandbox: 0'));
  t.true(out.includes('  # host:    EBUSY'));
  t.true(out.some((l) => l === 'ok 3 - g/k<&> # TODO known: gVisor says so'));
});

test('junit: suites per group, failures and skipped known differences, escaped', (t) => {
  const x = junit(results());
  t.regex(x, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  t.regex(x, /<testsuites name="conformance" tests="3" failures="1" errors="0">/);
  t.regex(x, /<testsuite name="g" tests="3" failures="1" errors="0">/);
  t.regex(x, /<failure message="diverges from Linux">/);
  t.regex(x, /<skipped message="known difference: gVisor says so"\/>/);
  t.regex(x, /name="g\/k&lt;&amp;&gt;"/);
  t.is(xmlEscape('a\u0001"&'), 'a\\x01&quot;&amp;');
});

test('html: one self-contained page with the matrix and every case', (t) => {
  const h = html(results(), 'run <1>');
  t.regex(h, /^<!DOCTYPE html>/);
  t.regex(h, /<title>run &lt;1&gt;<\/title>/);
  t.regex(h, /<tr class="bad"><td>rmdir<\/td><td>2<\/td><td>0<\/td><td>1<\/td><td>1<\/td><\/tr>/);
  t.regex(h, /<tr class="good"><td>mkdir<\/td>/);
  t.notRegex(h, /<(script|link)\b/, 'no external resources');
  t.is((h.match(/<details/g) ?? []).length, 3);
});
