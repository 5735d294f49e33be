// Tests of the p9 tool (cmd/p9.ts), run as people run it, through ts-node:
// against a real diod and, when pkg/p9/server.ts exists, against our own
// server over a Unix socket. Output for people, --json for scripts, one
// error line and exit 1 (2 for bad usage).
import test, { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

import { main } from '../../cmd/p9';

import { newAttachPoint } from '../../pkg/fsgofer/fsgofer';
import { Server } from '../../pkg/p9/server';
import { Diod, haveDiod, startDiod, tempDir } from '../p9/client_util';

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// spawnP9 runs the tool as a program, through ts-node (slow to start: used
// for a few runs only).
function spawnP9(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'cmd/p9.ts'), ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(stdin ?? '');
  });
}

// p9 runs the tool's main in this process, with its own streams.
async function p9(args: string[], stdin?: string): Promise<Run> {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  let stdout = '';
  let stderr = '';
  io.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  io.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  io.stdin.end(stdin ?? '');
  const code = await main(args, io);
  return { code, stdout, stderr };
}

test('usage (as a program): --help shows an example for every command; bad usage exits 2 with one clear line', async (t) => {
  const help = await spawnP9(['--help']);
  t.is(help.code, 0);
  for (const cmd of ['ls', 'stat', 'cat', 'put', 'mkdir', 'rm', 'tree']) t.regex(help.stdout, new RegExp(`\\n\\s+(.*\\| )?p9 ${cmd} `));
  const bad = await spawnP9(['frob', 'tcp:127.0.0.1:1', '/']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^p9: unknown command "frob"\n/);
  const missing = await p9(['ls']);
  t.is(missing.code, 2);
  const badAddr = await p9(['ls', 'nowhere', '/']);
  t.is(badAddr.code, 2);
  t.regex(badAddr.stderr, /^p9: bad address "nowhere"/);
});

test('errors: a refused connection is one line, exit 1', async (t) => {
  const r = await p9(['ls', 'unix:/nonexistent/p9.sock', '/']);
  t.is(r.code, 1);
  t.is(r.stderr, 'p9: connect unix:/nonexistent/p9.sock: ENOENT (No such file or directory)\n');
});

// session runs the whole tour against one server.
async function tour(t: ExecutionContext, address: string, dir: string, extra: string[]): Promise<void> {
  fs.mkdirSync(path.join(dir, 'sub/deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello\n');
  fs.writeFileSync(path.join(dir, 'sub/deeper/z'), 'z');
  fs.symlinkSync('a.txt', path.join(dir, 'link'));

  const ls = await p9(['ls', address, '/', ...extra]);
  t.is(ls.code, 0, ls.stderr);
  t.regex(ls.stdout, /^-rw-r--r-- .* 6 .* a\.txt$/m);
  t.regex(ls.stdout, /^l.* link -> a\.txt$/m);
  t.regex(ls.stdout, /^d.* sub$/m);

  const lsj = await p9(['ls', address, '/', '--json', ...extra]);
  t.is(lsj.code, 0, lsj.stderr);
  const rows = JSON.parse(lsj.stdout) as Array<{ name: string; type: string; size: number; target?: string }>;
  t.deepEqual(
    rows.map((r) => [r.name, r.type]),
    [
      ['a.txt', 'regular file'],
      ['link', 'symbolic link'],
      ['sub', 'directory'],
    ],
  );
  t.is(rows[1].target, 'a.txt');

  const st = await p9(['stat', address, '/a.txt', '--json', ...extra]);
  t.is(st.code, 0, st.stderr);
  const sj = JSON.parse(st.stdout) as { size: number; mode: string; nlink: number; type: string };
  t.is(sj.size, 6);
  t.is(sj.type, 'regular file');
  t.is(sj.nlink, 1);

  const stp = await p9(['stat', address, '/sub', ...extra]);
  t.regex(stp.stdout, /Type: directory/);

  const cat = await p9(['cat', address, '/a.txt', ...extra]);
  t.is(cat.code, 0, cat.stderr);
  t.is(cat.stdout, 'hello\n');

  const big = 'line\n'.repeat(40000);
  const put = await p9(['put', address, '/sub/new.txt', ...extra], big);
  t.is(put.code, 0, put.stderr);
  t.is(fs.readFileSync(path.join(dir, 'sub/new.txt'), 'utf8'), big);
  const put2 = await p9(['put', address, '/sub/new.txt', ...extra], 'short');
  t.is(put2.code, 0, put2.stderr);
  t.is(fs.readFileSync(path.join(dir, 'sub/new.txt'), 'utf8'), 'short');

  const mk = await p9(['mkdir', address, '/newdir', '--mode', '700', ...extra]);
  t.is(mk.code, 0, mk.stderr);
  t.is(fs.statSync(path.join(dir, 'newdir')).mode & 0o777, 0o700);

  const tree = await p9(['tree', address, '/', ...extra]);
  t.is(tree.code, 0, tree.stderr);
  t.is(
    tree.stdout,
    [
      '/',
      '├── a.txt',
      '├── link -> a.txt',
      '├── newdir',
      '└── sub',
      '    ├── deeper',
      '    │   └── z',
      '    └── new.txt',
      '',
      '3 directories, 4 files',
      '',
    ].join('\n'),
  );

  const rm = await p9(['rm', address, '/newdir', ...extra]);
  t.is(rm.code, 0, rm.stderr);
  const rmf = await p9(['rm', address, '/sub/new.txt', ...extra]);
  t.is(rmf.code, 0, rmf.stderr);
  t.deepEqual(fs.readdirSync(dir).sort(), ['a.txt', 'link', 'sub']);
  t.deepEqual(fs.readdirSync(path.join(dir, 'sub')), ['deeper']);

  const enoent = await p9(['stat', address, '/x', ...extra]);
  t.is(enoent.code, 1);
  t.is(enoent.stderr, 'p9: stat /x: ENOENT (No such file or directory)\n');
  const notempty = await p9(['rm', address, '/sub', ...extra]);
  t.is(notempty.code, 1);
  t.is(notempty.stderr, 'p9: rm /sub: ENOTEMPTY (Directory not empty)\n');
}

if (!haveDiod()) {
  process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): test/cmd/p9.test.ts diod tour ***\n\n');
  test('p9 against diod', (t) => {
    t.log('SKIPPED: diod not installed');
    t.pass();
  });
} else {
  test('p9 against diod: ls, stat, cat, put, mkdir, tree, rm, and errors', async (t) => {
    const dir = tempDir('p9cmd-');
    let diod: Diod | undefined;
    t.teardown(async () => {
      await diod?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    diod = await startDiod(dir);
    await tour(t, diod.address, dir, ['--aname', dir]);
    // And once as a program.
    const cat = await spawnP9(['cat', diod.address, '/a.txt', '--aname', dir]);
    t.is(cat.code, 0, cat.stderr);
    t.is(cat.stdout, 'hello\n');
    // diod refuses an attach name it does not export.
    const r = await p9(['ls', diod.address, '/', '--aname', '/not/exported']);
    t.is(r.code, 1);
    t.is(r.stderr, 'p9: attach /not/exported: EPERM (Operation not permitted)\n');
  });
}

test('p9 against our server (pkg/p9 Server over pkg/fsgofer): the same tour', async (t) => {
  const dir = tempDir('p9cmd-ours-');
  const sockDir = tempDir('p9cmd-sock-');
  const server = new Server({ attach: () => newAttachPoint(dir, { roMount: false }).attach() });
  t.teardown(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(sockDir, { recursive: true, force: true });
  });
  const address = `unix:${path.join(sockDir, 'gofer.sock')}`;
  await server.listen(address);
  await tour(t, address, dir, []);
  // Every run clunked what it walked: nothing is left once it has gone.
  await server.waitIdle();
  t.is(server.fidCount(), 0);
});
