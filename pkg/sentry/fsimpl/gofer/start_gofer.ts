// startGofer spawns the gofer program (cmd/gofer.ts) as a child process
// serving a directory on a Unix socket, for the kernel's default root mount
// and for tests. Not a gVisor file: runsc starts its gofer the same way
// (runsc/cmd/gofer.go), with a socketpair instead of a socket path.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { logger } from '../../../context';

const log = logger('gvisor:gofer');

/** startedGofer is a running gofer child process. */
export interface startedGofer {
  /** address is the gofer's address ("unix:/path"), the mount source of a "9p" mount. */
  address: string;
  /** root is the directory served. */
  root: string;
  /** pid is the child's process id. */
  pid: number;
  /** close stops the gofer (SIGTERM) and removes what startGofer created. */
  close(): Promise<void>;
}

export interface startGoferOptions {
  /** root is the directory to serve; a fresh temporary directory when absent (removed by close). */
  root?: string;
  /** ro serves the directory read-only. */
  ro?: boolean;
  /** noDonate starts the gofer with --no-donate: no host fds for the client, data by Tread/Twrite. */
  noDonate?: boolean;
}

/**
 * startGofer spawns `node -r ts-node/register/transpile-only cmd/gofer.ts
 * --root DIR --listen unix:PATH` and resolves once it accepts connections.
 */
export async function startGofer(opts: startGoferOptions = {}): Promise<startedGofer> {
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-sock-'));
  let root = opts.root;
  let ownRoot = false;
  if (root === undefined) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-root-'));
    ownRoot = true;
  }
  const sock = path.join(sockDir, 'gofer.sock');
  // From the sources (ts-node) run cmd/gofer.ts; from a build (dist/) run
  // the compiled cmd/gofer.js beside this module's tree.
  const repo = path.resolve(__dirname, '../../../..');
  const compiled = path.join(repo, 'cmd', 'gofer.js');
  const args = fs.existsSync(compiled) && __filename.endsWith('.js')
    ? [compiled, '--root', root, '--listen', `unix:${sock}`]
    : ['-r', 'ts-node/register/transpile-only', path.join(repo, 'cmd', 'gofer.ts'), '--root', root, '--listen', `unix:${sock}`];
  if (opts.ro) args.push('--ro');
  if (opts.noDonate) args.push('--no-donate');
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  const cleanup = (): void => {
    fs.rmSync(sockDir, { recursive: true, force: true });
    if (ownRoot) fs.rmSync(root!, { recursive: true, force: true });
  };
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (b: Buffer): void => {
        out += b.toString();
        if (out.includes('listening ')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`gofer exited (${String(code)}) before listening: ${stderr.trim()}`)));
      child.once('error', reject);
    });
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  }
  log.infof('gofer pid %d serving %s on unix:%s', child.pid, root, sock);
  let closed: Promise<void> | null = null;
  return {
    address: `unix:${sock}`,
    root,
    pid: child.pid!,
    close(): Promise<void> {
      if (closed === null) {
        closed = new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }).then(cleanup);
      }
      return closed;
    },
  };
}
