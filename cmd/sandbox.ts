#!/usr/bin/env node
// sandbox drives a sandbox kernel from the outside: a script of system call
// lines, an interactive shell, or a server that runs requests from other
// programs (one JSON request per line on a Unix socket).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';

import { Sandbox, type Interop, type SandboxOptions } from '../pkg/conformance/sandbox';
import { runPjdfstest, type PjdCreds } from '../pkg/conformance/pjdfstest';
import { Session, helpText, type TaskOptions } from '../pkg/conformance/session';

const usage = `usage:
  sandbox run SCRIPT [options]       run the lines of SCRIPT ("-" for stdin), printing each result
  sandbox shell [options]            an interactive shell (history, "help" lists the commands)
  sandbox serve --listen unix:PATH [options]
                                     execute requests of other programs: one JSON line
                                     {"calls": [LINE...], "uid": 0, "gid": 0, "groups": [],
                                      "umask": 18, "cwd": "/"} answered by {"results": [...]};
                                     or {"pjdfstest": [ARGV...], "cwd": HOST_CWD} (the
                                     pjdfstest-sandbox driver) answered by {stdout, stderr, status}

options:
  --root DIR               the directory the gofer serves (default: a fresh temp dir,
                           removed at exit)
  --server ADDRESS         use a 9P2000.L server (unix:PATH, tcp:HOST:PORT; e.g. diod)
                           instead of spawning our gofer
  --aname PATH             attach name for another server (diod: its export path)
  --fs 9p|tmpfs            the root filesystem (default 9p)
  --interop MODE           exclusive (default), writethrough or shared
  --uid N --gid N          the task's credentials (default 0: root)
  --groups G1,G2           supplementary groups
  --umask MASK             octal (default 022)
  -h, --help               this text

A line is a system call with Linux-style arguments, as in the conformance cases:
  openat AT_FDCWD /a O_CREAT|O_WRONLY 0644
  write $fd0 "hello\\n"
  stat /a
Conveniences: ls [-l] [PATH], cat PATH, write PATH TEXT, tree [PATH], mount, help.

examples:
  sandbox shell --root /srv/data
  echo 'mkdir /d 0755' | sandbox run - --fs tmpfs
  sandbox run script.txt --server tcp:127.0.0.1:5640 --aname /srv/export --interop shared --uid 1000 --gid 1000
  sandbox serve --root /srv/data --listen unix:/tmp/sandbox.sock --interop shared
`;

class UsageError extends Error {}

interface Options {
  sandbox: SandboxOptions;
  task: TaskOptions;
  listen?: string;
}

function parseOptions(argv: string[]): { cmd: string; arg?: string; opts: Options } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      aname: { type: 'string' },
      server: { type: 'string', default: 'ours' },
      fs: { type: 'string', default: '9p' },
      interop: { type: 'string', default: 'exclusive' },
      uid: { type: 'string', default: '0' },
      gid: { type: 'string', default: '0' },
      groups: { type: 'string', default: '' },
      umask: { type: 'string', default: '022' },
      listen: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { cmd: 'help', opts: { sandbox: { fs: '9p', server: 'ours', interop: 'exclusive' }, task: {} } };
  const [cmd, arg, ...extra] = positionals;
  if (cmd === undefined) throw new UsageError('missing command (run, shell or serve)');
  if (!['run', 'shell', 'serve'].includes(cmd)) throw new UsageError(`unknown command: ${cmd}`);
  if (cmd === 'run' && arg === undefined) throw new UsageError('run: missing SCRIPT');
  if (extra.length > 0 || (cmd !== 'run' && arg !== undefined)) throw new UsageError('too many arguments');
  if (values.fs !== '9p' && values.fs !== 'tmpfs') throw new UsageError(`--fs ${values.fs}: want 9p or tmpfs`);
  if (!['exclusive', 'writethrough', 'shared'].includes(values.interop)) throw new UsageError(`--interop ${values.interop}: want exclusive, writethrough or shared`);
  const int = (name: string, v: string, radix = 10): number => {
    const n = parseInt(v, radix);
    if (!Number.isInteger(n) || n < 0 || !/^[0-9]+$/.test(v)) throw new UsageError(`--${name} ${v}: want a non-negative number`);
    return n;
  };
  if (cmd === 'serve' && (values.listen === undefined || !values.listen.startsWith('unix:'))) throw new UsageError('serve: --listen unix:PATH is required');
  return {
    cmd,
    arg,
    opts: {
      sandbox: { fs: values.fs, server: values.server, interop: values.interop as Interop, root: values.root, aname: values.aname },
      task: {
        uid: int('uid', values.uid),
        gid: int('gid', values.gid),
        groups: values.groups === '' ? [] : values.groups.split(',').map((g) => int('groups', g)),
        umask: int('umask', values.umask, 8),
      },
      listen: values.listen,
    },
  };
}

function describe(o: SandboxOptions, sb: Sandbox): string {
  if (o.fs === 'tmpfs') return 'tmpfs on / (in memory)';
  const src = o.server === 'ours' ? `our gofer serving ${sb.backing ?? '?'}` : o.server;
  return `9p on / (${src}, interop ${o.interop})`;
}

async function run(session: Session, script: string): Promise<number> {
  const text = script === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(script, 'utf8');
  let status = 0;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const out = line === 'help' ? helpText() : await session.exec(line);
      process.stdout.write(`${line}\n  = ${out.replace(/\n/g, '\n    ')}\n`);
    } catch (err) {
      process.stderr.write(`sandbox: ${script}:${i + 1}: ${err instanceof Error ? err.message : String(err)}\n`);
      status = 1;
    }
  }
  return status;
}

async function shell(session: Session): Promise<number> {
  const histFile = path.join(os.homedir(), '.sandbox_history');
  let history: string[] = [];
  try {
    history = fs.readFileSync(histFile, 'utf8').split('\n').filter((l) => l !== '').reverse().slice(0, 500);
  } catch {
    // No history yet.
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'sandbox> ', history, terminal: process.stdin.isTTY });
  process.stdout.write('sandbox shell: "help" lists the commands, "exit" or ^D leaves.\n');
  rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === 'exit' || line === 'quit') break;
    if (line !== '') {
      try {
        const out = line === 'help' ? helpText() : await session.exec(line);
        if (out !== '') process.stdout.write(`${out}\n`);
      } catch (err) {
        process.stdout.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      try {
        fs.appendFileSync(histFile, `${line}\n`);
      } catch {
        // History is a convenience.
      }
    }
    rl.prompt();
  }
  rl.close();
  return 0;
}

interface Request {
  calls: string[];
  uid?: number;
  gid?: number;
  groups?: number[];
  umask?: number;
  cwd?: string;
}

function parseRequest(line: string): Request {
  const v: unknown = JSON.parse(line);
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { calls?: unknown }).calls)) throw new Error('want {"calls": [...]}');
  const r = v as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  return {
    calls: (r.calls as unknown[]).map(String),
    uid: num('uid'),
    gid: num('gid'),
    umask: num('umask'),
    groups: Array.isArray(r.groups) ? r.groups.map(Number) : undefined,
    cwd: typeof r.cwd === 'string' ? r.cwd : undefined,
  };
}

/**
 * PjdRequest is a pjdfstest-sandbox call: its argv, the caller's host
 * working directory and credentials (root's when absent).
 */
interface PjdRequest {
  argv: string[];
  cwd: string;
  creds: PjdCreds;
}

function parsePjdRequest(line: string): PjdRequest | null {
  const v: unknown = JSON.parse(line);
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (!Array.isArray(r.pjdfstest)) return null;
  const id = (k: string): number => (typeof r[k] === 'number' && Number.isInteger(r[k]) && (r[k] as number) >= 0 ? (r[k] as number) : 0);
  return {
    argv: r.pjdfstest.map(String),
    cwd: typeof r.cwd === 'string' ? r.cwd : '/',
    creds: { uid: id('uid'), gid: id('gid'), groups: Array.isArray(r.groups) ? r.groups.map(Number).filter((g) => Number.isInteger(g) && g >= 0) : [] },
  };
}

/**
 * sandboxPath maps a host path inside the served directory to the same
 * path in the sandbox ("/" when outside it or when nothing is served).
 */
export function sandboxPath(hostRoot: string | null, hostPath: string): string {
  if (hostRoot === null) return '/';
  const root = path.resolve(hostRoot);
  const p = path.resolve(hostPath);
  if (p === root) return '/';
  return p.startsWith(`${root}/`) ? p.slice(root.length) : '/';
}

async function serve(sb: Sandbox, listen: string, mount: string, hostRoot: string | null): Promise<number> {
  const sock = listen.slice('unix:'.length);
  if (fs.existsSync(sock)) fs.unlinkSync(sock);
  const server = net.createServer((conn) => {
    const rl = readline.createInterface({ input: conn });
    let chain = Promise.resolve();
    rl.on('line', (line) => {
      // One request at a time per connection, in order.
      chain = chain.then(async () => {
        let answer: unknown;
        try {
          const pjd = parsePjdRequest(line);
          if (pjd !== null) {
            answer = await runPjdfstest(sb.kernel, pjd.argv, sandboxPath(hostRoot, pjd.cwd), pjd.creds);
            if (!conn.destroyed) conn.write(`${JSON.stringify(answer)}\n`);
            return;
          }
          const req = parseRequest(line);
          const session = await Session.create(sb, req, mount);
          try {
            const results: string[] = [];
            for (const c of req.calls) {
              try {
                results.push(await session.exec(c));
              } catch (err) {
                results.push(`error: ${err instanceof Error ? err.message : String(err)}`);
              }
            }
            answer = { results };
          } finally {
            await session.release();
          }
        } catch (err) {
          answer = { error: err instanceof Error ? err.message : String(err) };
        }
        if (!conn.destroyed) conn.write(`${JSON.stringify(answer)}\n`);
      });
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, resolve);
  });
  process.stdout.write(`listening unix:${sock} (${mount})\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  fs.rmSync(sock, { force: true });
  return 0;
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    return 2;
  }
  if (parsed.cmd === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const { opts } = parsed;
  if (opts.sandbox.root !== undefined && !fs.statSync(opts.sandbox.root, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`sandbox: --root ${opts.sandbox.root}: no such directory\n`);
    return 1;
  }
  if (parsed.cmd === 'run' && parsed.arg !== '-' && !fs.existsSync(parsed.arg!)) {
    process.stderr.write(`sandbox: ${parsed.arg!}: no such file\n`);
    return 1;
  }
  const sb = await Sandbox.create(opts.sandbox);
  const mount = describe(opts.sandbox, sb);
  try {
    if (parsed.cmd === 'serve') return await serve(sb, opts.listen!, mount, sb.backing ?? opts.sandbox.root ?? null);
    const session = await Session.create(sb, opts.task, mount);
    try {
      return parsed.cmd === 'run' ? await run(session, parsed.arg!) : await shell(session);
    } finally {
      await session.release();
    }
  } finally {
    await sb.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
