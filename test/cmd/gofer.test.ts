// Tests for cmd/gofer.ts, the program: usage, --listen on a Unix socket and
// TCP, --fd on an inherited socketpair end (exits when its client goes
// away), clean stop on SIGTERM, and interop with diod's clients (diodls,
// diodcat) and our p9 tool against diod exporting the same tree.
import test, { ExecutionContext } from 'ava';
import * as child_process from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from '../../pkg/p9/client';
import { DIOD, startDiod } from '../p9/client_util';
import { ReadOnly } from '../../pkg/p9/p9';

const repo = path.join(__dirname, '..', '..');
const goferTS = path.join(repo, 'cmd', 'gofer.ts');
const p9TS = path.join(repo, 'cmd', 'p9.ts');
const tsNode = require.resolve('ts-node/register/transpile-only');
const DIODLS = '/usr/sbin/diodls';
const DIODCAT = '/usr/sbin/diodcat';

function tree(t: ExecutionContext): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-cmd-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a.txt'), 'hello from a\n');
  fs.writeFileSync(path.join(root, 'sub', 'b.bin'), Buffer.from([0, 1, 2, 250, 255, 10]));
  fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(200_000, 0x42));
  return root;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    child_process.execFile(process.execPath, ['-r', tsNode, goferTS, ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

interface running {
  proc: child_process.ChildProcess;
  address: string;
  exited: Promise<number | null>;
}

// start runs the gofer with --listen and resolves once it printed the
// address it listens on.
function start(t: ExecutionContext, args: string[]): Promise<running> {
  const proc = child_process.spawn(process.execPath, ['-r', tsNode, goferTS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^listening (\S+)$/m.exec(out);
      if (m !== null) resolve({ proc, address: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`gofer exited with ${code} before listening`)));
  });
}

test('--help prints the usage with examples; bad usage exits 2; a missing root exits 1 with one line', async (t) => {
  const [help, bad, unknown, missing] = await Promise.all([
    run(['--help']),
    run(['--root', '/tmp']),
    run(['--bogus']),
    run(['--root', '/nonexistent/dir', '--listen', 'tcp:127.0.0.1:0']),
  ]);
  t.is(help.code, 0);
  t.regex(help.stdout, /usage:/);
  t.regex(help.stdout, /gofer --root \/srv\/data --listen unix:/);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^gofer: exactly one of --listen and --fd is required/);
  t.is(unknown.code, 2);
  t.is(missing.code, 1);
  t.is(missing.stderr, 'gofer: --root /nonexistent/dir: no such file or directory\n');
});

test('--listen unix: serves our client; SIGTERM stops it cleanly and removes the socket', async (t) => {
  const root = tree(t);
  const sock = path.join(path.dirname(root), 'g.sock');
  const g = await start(t, ['--root', root, '--listen', `unix:${sock}`]);
  t.is(g.address, `unix:${sock}`);
  const client = await Client.connect(g.address);
  const r = await client.attach('/', 0);
  const [, f] = await r.walk(['sub', 'b.bin']);
  await f.open(ReadOnly);
  const b = Buffer.alloc(16);
  const n = await f.readAt(b, 0);
  t.deepEqual(b.subarray(0, n), fs.readFileSync(path.join(root, 'sub', 'b.bin')));
  // A second client gets its own attach.
  const client2 = await Client.connect(g.address);
  await client2.attach('/', 0);
  g.proc.kill('SIGTERM');
  t.is(await g.exited, 0);
  t.false(fs.existsSync(sock));
  await client.close();
  await client2.close();
});

test('--fd N serves one connection on an inherited socket and exits when the client goes away; --msize caps the msize', async (t) => {
  const root = tree(t);
  // Node gives a child's extra 'pipe' stdio entries as one end of a Unix
  // socketpair: fd 3 in the gofer.
  const proc = child_process.spawn(process.execPath, ['-r', tsNode, goferTS, '--root', root, '--fd', '3', '--ro', '--msize', '8192'], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const sock = proc.stdio[3] as net.Socket;
  const client = await Client.connect(sock, { msize: 65536 });
  t.is(client.messageSize, 8192, '--msize caps what Tversion agrees to');
  const r = await client.attach('/', 0);
  const [, f] = await r.walk(['a.txt']);
  await f.open(ReadOnly);
  const b = Buffer.alloc(64);
  t.is(b.toString('utf8', 0, await f.readAt(b, 0)), 'hello from a\n');
  await t.throwsAsync(r.mkdir('x', 0o755, 0, 0)); // --ro
  await client.close();
  t.is(await exited, 0);
});

function execFile(file: string, args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    child_process.execFile(file, args, { encoding: 'buffer', timeout: 110_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      const why = err !== null && err.killed ? `killed (${String(err.signal)}) after the timeout\n` : '';
      resolve({ code, stdout, stderr: why + stderr.toString() });
    });
  });
}

if (!fs.existsSync(DIOD) || !fs.existsSync(DIODLS) || !fs.existsSync(DIODCAT)) {
  test('interop with diod (diodls, diodcat)', (t) => {
    t.log('SKIPPED: diod not installed');
    process.stderr.write('\n*** SKIPPED: diod not installed: interop of cmd/gofer with diodls/diodcat not tested ***\n\n');
    t.pass();
  });
} else {
  test('interop: diodls and diodcat list and read a tree served by our gofer over TCP; our p9 tool sees the same from our gofer and from diod', async (t) => {
    const root = tree(t);
    const g = await start(t, ['--root', root, '--listen', 'tcp:127.0.0.1:0']);
    const hostPort = g.address.replace(/^tcp:/, '');
    // diodls lists names (ours omits "." and "..", as gVisor's fsgofer).
    const ls = await execFile(DIODLS, ['-s', hostPort, '-a', '/', '/']);
    t.is(ls.code, 0, ls.stderr);
    const names = ls.stdout
      .toString()
      .split('\n')
      .filter((n) => n !== '' && n !== '.' && n !== '..')
      .sort();
    t.deepEqual(names, fs.readdirSync(root).sort());
    const lsSub = await execFile(DIODLS, ['-s', hostPort, '-a', '/', '/sub']);
    t.is(lsSub.stdout.toString().trim(), 'b.bin');
    for (const f of ['a.txt', 'sub/b.bin', 'big']) {
      const cat = await execFile(DIODCAT, ['-s', hostPort, '-a', '/', `/${f}`]);
      t.is(cat.code, 0, cat.stderr);
      t.deepEqual(cat.stdout, fs.readFileSync(path.join(root, f)), f);
    }

    // diod exporting the same directory; our p9 tool against both.
    const diod = await startDiod(root);
    t.teardown(() => diod.stop());
    const port = diod.port;
    const p9 = (args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> =>
      execFile(process.execPath, ['-r', tsNode, p9TS, ...args]);
    const [oursLs, diodLs, oursCat, diodCat] = await Promise.all([
      p9(['ls', g.address, '/', '--json']),
      p9(['ls', `tcp:127.0.0.1:${port}`, '/', '--json', '--aname', root]),
      p9(['cat', g.address, '/sub/b.bin']),
      p9(['cat', `tcp:127.0.0.1:${port}`, '/sub/b.bin', '--aname', root]),
    ]);
    t.is(oursLs.code, 0, oursLs.stderr);
    t.is(diodLs.code, 0, diodLs.stderr);
    const namesOf = (b: Buffer): string[] => {
      const v: unknown = JSON.parse(b.toString());
      const arr = Array.isArray(v) ? v : [];
      return arr
        .map((e: unknown) => (typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name) : ''))
        .filter((n) => n !== '.' && n !== '..')
        .sort();
    };
    t.deepEqual(namesOf(oursLs.stdout), namesOf(diodLs.stdout));
    t.is(oursCat.code, 0, oursCat.stderr);
    t.is(diodCat.code, 0, diodCat.stderr);
    t.deepEqual(oursCat.stdout, diodCat.stdout);
    t.deepEqual(oursCat.stdout, fs.readFileSync(path.join(root, 'sub', 'b.bin')));
    g.proc.kill('SIGTERM');
    t.is(await g.exited, 0);
  });
}
