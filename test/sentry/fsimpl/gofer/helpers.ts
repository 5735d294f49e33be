// Test helpers for the gofer filesystem: a VirtualFilesystem whose root mount
// is a "9p" filesystem over a real p9 server (pkg/fsgofer serving a fresh
// host temp directory) on a real Unix socket, as gVisor's runsc mounts its
// root. The test compares with the host directory through Node's fs.
//
// Every teardown releases the mount namespace and checks for leaks: every
// filesystem released, and the server left holding no fids.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { background, type Context } from '../../../../pkg/context';
import * as fspath from '../../../../pkg/fspath';
import { newAttachPoint } from '../../../../pkg/fsgofer/fsgofer';
import type { Attacher } from '../../../../pkg/p9/file';
import { Server } from '../../../../pkg/p9/server';
import { newRootCredentials, newUserCredentials, withCredentials, type Credentials } from '../../../../pkg/sentry/kernel/auth';
import * as vfs from '../../../../pkg/sentry/vfs';
import { FilesystemType, type filesystem } from '../../../../pkg/sentry/fsimpl/gofer';
import { clunksSettled } from '../../../../pkg/sentry/fsimpl/gofer/handle';
import { LinuxError } from '../../../../pkg/syserror/syserror';
import { haveDiod, startDiod } from '../../../p9/client_util';

// The gofer runs with umask 0 (runsc/cmd/gofer.go): modes arrive already
// masked by the sandbox.
process.umask(0);

export interface Env {
  ctx: Context;
  creds: Credentials;
  vfsObj: vfs.VirtualFilesystem;
  mntns: vfs.MountNamespace;
  root: vfs.VirtualDentry;
  /** host is the host directory the gofer serves. */
  host: string;
  /** server is the in-process p9 server (null over diod). */
  server: Server | null;
  /** fs is the gofer filesystem of the root mount. */
  fs: filesystem;
  pop(p: string, followFinalSymlink?: boolean, start?: vfs.VirtualDentry): vfs.PathOperation;
  as(uid: number, gid: number): { ctx: Context; creds: Credentials };
  cleanup(): void;
}

export interface Options {
  /** data is the mount options besides the connection (e.g. "cache=remote_revalidating"). */
  data?: string;
  /** address connects to an existing server instead of starting one (host must be given). */
  address?: string;
  host?: string;
  /** ro serves the host directory read-only (every mutation EROFS). */
  ro?: boolean;
  /** donate: the server gives regular files' host fds to the client (default true; false: data by Tread/Twrite). */
  donate?: boolean;
}

/** tmpDir makes a temp dir removed at teardown. */
export function tmpDir(t: ExecutionContext, prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** serve starts an in-process gofer server for host on a Unix socket. */
export async function serve(t: ExecutionContext, host: string, ro = false, donate = true): Promise<{ server: Server; address: string }> {
  const attacher: Attacher = { attach: () => newAttachPoint(host, { roMount: ro }).attach() };
  const server = new Server(attacher, { donateFDs: donate });
  const sockDir = tmpDir(t, 'gofer-sock-');
  const address = `unix:${path.join(sockDir, 'g.sock')}`;
  await server.listen(address);
  return { server, address };
}

/**
 * newGoferRoot creates a new VFS whose root mount is a "9p" filesystem over
 * a gofer serving a fresh temp dir. Teardown releases everything and checks
 * that nothing leaked.
 */
export async function newGoferRoot(t: ExecutionContext, opts: Options = {}): Promise<Env> {
  let host: string;
  let server: Server | null = null;
  let address: string;
  if (opts.address !== undefined) {
    host = opts.host!;
    address = opts.address;
  } else {
    host = tmpDir(t, 'gofer-host-');
    const s = await serve(t, host, opts.ro === true, opts.donate !== false);
    server = s.server;
    address = s.address;
  }
  const creds = newRootCredentials();
  const base = withCredentials(background(), creds);
  const vfsObj = new vfs.VirtualFilesystem();
  vfsObj.init(base);
  vfsObj.mustRegisterFilesystemType('9p', new FilesystemType(), { allowUserMount: true });
  const mntns = await vfsObj.newMountNamespace(base, creds, address, '9p', { getFilesystemOptions: { data: opts.data ?? '' } });
  const ctx = vfs.withMountNamespace(base, mntns);
  const root = mntns.root();
  root.incRef();
  const gfs = root.mount().filesystem().impl as filesystem;
  let released = false;
  const env: Env = {
    ctx, creds, vfsObj, mntns, root, host, server, fs: gfs,
    pop(p: string, followFinalSymlink = false, start = root): vfs.PathOperation {
      return { root, start, path: fspath.parse(p), followFinalSymlink };
    },
    as(uid: number, gid: number) {
      const c = newUserCredentials(uid, gid, []);
      return { ctx: vfs.withMountNamespace(withCredentials(background(), c), mntns), creds: c };
    },
    cleanup() {
      if (released) return;
      released = true;
      root.decRef(base);
      mntns.decRef(base);
    },
  };
  t.teardown(async () => {
    env.cleanup();
    await gfs.settled();
    await gfs.closed;
    await server?.close();
  });
  return env;
}

/**
 * leakCheck asserts that the server holds no more fids than the client's
 * live dentries and open handles, and that the LRU respects its bound.
 */
export async function leakCheck(t: ExecutionContext, env: Env): Promise<void> {
  await env.fs.settled();
  await clunksSettled();
  if (env.server !== null) {
    await env.server.settled();
    t.true(env.server.fidCount() <= env.fs.fidCount(), `server fids ${env.server.fidCount()} <= client fids ${env.fs.fidCount()}`);
  }
  t.true(env.fs.cachedDentriesLen <= env.fs.opts.maxCachedDentries, 'dentry cache within its bound');
}

/** openAt opens path (creating it with O_CREAT). */
export function openAt(env: Env, p: string, flags: number, mode = 0o644, ctx = env.ctx, creds = env.creds): Promise<vfs.FileDescription> {
  return env.vfsObj.openAt(ctx, creds, env.pop(p, true), { flags, mode });
}

/** errnoOf awaits p and returns the name of the LinuxError it rejected with, or 'ok'. */
export async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof LinuxError) return err.code;
    throw err;
  }
}

/** hostErrno runs f on the host and returns the errno code, or 'ok'. */
export function hostErrno(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw err;
  }
}

/** listDir lists a directory through the VFS (names only, "." and ".." included). */
export async function listDir(env: Env, p: string): Promise<string[]> {
  const fd = await env.vfsObj.openAt(env.ctx, env.creds, env.pop(p, true), { flags: 0o200000 /* O_DIRECTORY */ });
  try {
    const names: string[] = [];
    await fd.iterDirents(env.ctx, { handle: (d) => { names.push(d.name); } });
    return names;
  } finally {
    fd.decRef(env.ctx);
  }
}

/** backend is a way to get a gofer root: our gofer in a mode, or diod. */
export interface backend {
  name: string;
  make(t: ExecutionContext): Promise<Env>;
}

/**
 * backends are the servers and interop modes the differential tests run
 * over: our gofer in exclusive and shared mode, and diod (plain 9P2000.L)
 * when installed (absent: left out, and said loudly).
 */
export function backends(): backend[] {
  const b: backend[] = [
    { name: 'exclusive', make: (t) => newGoferRoot(t) },
    { name: 'shared', make: (t) => newGoferRoot(t, { data: 'cache=remote_revalidating' }) },
  ];
  if (haveDiod()) {
    b.push({
      name: 'diod',
      make: async (t) => {
        const host = tmpDir(t, 'gofer-diod-');
        const diod = await startDiod(host);
        t.teardown(() => diod.stop());
        return newGoferRoot(t, { address: diod.address, host, data: `aname=${host},msize=65536` });
      },
    });
  } else {
    process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): the gofer tests run over our gofer only ***\n\n');
  }
  return b;
}
