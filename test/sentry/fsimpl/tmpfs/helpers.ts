// Test helpers for tmpfs: a VirtualFilesystem with a tmpfs root mount, as
// gVisor's tmpfs tests build it (tmpfs_test.go: newTmpfsRoot, newFileFD,
// newDirFD, newPipeFD).

import type { ExecutionContext } from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import { background, type Context } from '../../../../pkg/context';
import * as fspath from '../../../../pkg/fspath';
import { newRootCredentials, newUserCredentials, withCredentials, type Credentials } from '../../../../pkg/sentry/kernel/auth';
import * as vfs from '../../../../pkg/sentry/vfs';
import { FilesystemType } from '../../../../pkg/sentry/fsimpl/tmpfs';
import { LinuxError } from '../../../../pkg/syserror/syserror';

export interface Env {
  ctx: Context;
  creds: Credentials;
  vfsObj: vfs.VirtualFilesystem;
  mntns: vfs.MountNamespace;
  root: vfs.VirtualDentry;
  /** as returns a context and credentials for another user (no capabilities unless uid 0). */
  as(uid: number, gid: number, extraGIDs?: number[]): { ctx: Context; creds: Credentials };
  pop(path: string, followFinalSymlink?: boolean, start?: vfs.VirtualDentry): vfs.PathOperation;
  cleanup(): void;
}

let nextFileID = 0;

/** uniqueName returns a name no other test in this process uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${++nextFileID}`;
}

/**
 * newTmpfsRoot creates a new VFS with a tmpfs root mount (mntns root). The
 * test's teardown releases it and checks that the filesystem was released
 * (no reference leaked).
 */
export async function newTmpfsRoot(t: ExecutionContext, data = ''): Promise<Env> {
  const creds = newRootCredentials();
  const base = withCredentials(background(), creds);
  const vfsObj = new vfs.VirtualFilesystem();
  vfsObj.init(base);
  vfsObj.mustRegisterFilesystemType('tmpfs', new FilesystemType(), { allowUserMount: true });
  const mntns = await vfsObj.newMountNamespace(base, creds, '', 'tmpfs', { getFilesystemOptions: { data } });
  const ctx = vfs.withMountNamespace(base, mntns);
  const root = mntns.root();
  root.incRef();
  let released = false;
  const env: Env = {
    ctx, creds, vfsObj, mntns, root,
    as(uid: number, gid: number, extraGIDs: number[] = []) {
      const c = newUserCredentials(uid, gid, extraGIDs);
      return { ctx: vfs.withMountNamespace(withCredentials(background(), c), mntns), creds: c };
    },
    pop(path: string, followFinalSymlink = false, start = root): vfs.PathOperation {
      return { root, start, path: fspath.parse(path), followFinalSymlink };
    },
    cleanup() {
      if (released) return;
      released = true;
      root.decRef(base);
      mntns.decRef(base);
    },
  };
  t.teardown(() => {
    env.cleanup();
  });
  return env;
}

/** leakCheck asserts, after env.cleanup(), that only the anonymous filesystem is left. */
export function leakCheck(t: ExecutionContext, env: Env): void {
  env.cleanup();
  t.is(env.vfsObj.filesystems.size, 1, 'every tmpfs Filesystem released (reference counts back to zero)');
}

/** openAt opens path (creating it with O_CREAT). */
export function openAt(env: Env, path: string, flags: number, mode = 0o644, ctx = env.ctx, creds = env.creds): Promise<vfs.FileDescription> {
  return env.vfsObj.openAt(ctx, creds, env.pop(path, true), { flags, mode });
}

/** newFileFD creates a new file in a new tmpfs mount, and returns the FD (closed at teardown). */
export async function newFileFD(t: ExecutionContext, mode = 0o644): Promise<{ env: Env; fd: vfs.FileDescription; name: string }> {
  const env = await newTmpfsRoot(t);
  const name = uniqueName('tmpfs-test-file');
  const fd = await openAt(env, name, linux.O_RDWR | linux.O_CREAT | linux.O_EXCL, linux.S_IFREG | mode);
  t.teardown(() => fd.decRef(env.ctx));
  return { env, fd, name };
}

/** newDirFD is like newFileFD, but for directories. */
export async function newDirFD(t: ExecutionContext, mode = 0o644): Promise<{ env: Env; fd: vfs.FileDescription; name: string }> {
  const env = await newTmpfsRoot(t);
  const name = uniqueName('tmpfs-test-dir');
  await env.vfsObj.mkdirAt(env.ctx, env.creds, env.pop(name), { mode: linux.S_IFDIR | mode });
  const fd = await openAt(env, name, linux.O_RDONLY | linux.O_DIRECTORY);
  t.teardown(() => fd.decRef(env.ctx));
  return { env, fd, name };
}

/** newPipeFD is like newFileFD, but for pipes. */
export async function newPipeFD(t: ExecutionContext, mode = 0o644): Promise<{ env: Env; fd: vfs.FileDescription; name: string }> {
  const env = await newTmpfsRoot(t);
  const name = uniqueName('tmpfs-test');
  await env.vfsObj.mknodAt(env.ctx, env.creds, env.pop(name), { mode: linux.S_IFIFO | mode });
  const fd = await openAt(env, name, linux.O_RDWR);
  t.teardown(() => fd.decRef(env.ctx));
  return { env, fd, name };
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

/** readAll reads fd from offset 0 to EOF with pread. */
export async function readAll(ctx: Context, fd: vfs.FileDescription): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let off = 0;
  for (;;) {
    const buf = Buffer.alloc(4096);
    const n = await fd.pread(ctx, buf, off);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    off += n;
  }
  return Buffer.concat(chunks);
}

/** nsOf returns a statx timestamp as bigint nanoseconds. */
export function nsOf(ts: { sec: number; nsec: number }): bigint {
  return BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.nsec);
}

/** listDir reads the names of a directory through getdents (iterDirents). */
export async function listDir(env: Env, path: string): Promise<string[]> {
  const fd = await openAt(env, path, linux.O_RDONLY | linux.O_DIRECTORY);
  try {
    const names: string[] = [];
    await fd.iterDirents(env.ctx, { handle: (d) => void names.push(d.name) });
    return names;
  } finally {
    fd.decRef(env.ctx);
  }
}
