#!/usr/bin/env node
// pjdfstest-sandbox is a drop-in replacement for the pjdfstest program of
// the pjdfstest suite: it sends its command line and working directory to a
// `sandbox serve` instance (SANDBOX_ADDRESS=unix:PATH) and prints what the
// sandbox answered, exiting with pjdfstest's status. It loads nothing but
// node:net, so that it starts fast: the suite runs it thousands of times.
//
//   SANDBOX_ADDRESS=unix:/tmp/sandbox.sock pjdfstest-sandbox [-U umask] [-u uid] [-g gids] syscall args [: syscall args ...]

import * as net from 'node:net';

const address = process.env.SANDBOX_ADDRESS ?? '';
if (!address.startsWith('unix:')) {
  process.stderr.write('pjdfstest-sandbox: set SANDBOX_ADDRESS=unix:PATH (a `sandbox serve --listen unix:PATH` instance)\n');
  process.exit(1);
}
const conn = net.connect(address.slice('unix:'.length));
let data = '';
conn.setEncoding('utf8');
conn.on('connect', () => {
  // pjdfstest inherits its caller's credentials (-u/-g change them).
  const creds = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, groups: process.getgroups?.() ?? [] };
  conn.write(`${JSON.stringify({ pjdfstest: process.argv.slice(2), cwd: process.cwd(), ...creds })}\n`);
});
conn.on('data', (chunk: string) => {
  data += chunk;
  const nl = data.indexOf('\n');
  if (nl === -1) return;
  conn.end();
  const v: unknown = JSON.parse(data.slice(0, nl));
  const r = (typeof v === 'object' && v !== null ? v : {}) as { stdout?: unknown; stderr?: unknown; status?: unknown; error?: unknown };
  if (typeof r.error === 'string') {
    process.stderr.write(`pjdfstest-sandbox: ${r.error}\n`);
    process.exitCode = 1;
    return;
  }
  if (typeof r.stderr === 'string') process.stderr.write(r.stderr);
  if (typeof r.stdout === 'string') process.stdout.write(r.stdout);
  process.exitCode = typeof r.status === 'number' ? r.status : 1;
});
conn.on('error', (err) => {
  process.stderr.write(`pjdfstest-sandbox: ${address}: ${err.message}\n`);
  process.exitCode = 1;
});
