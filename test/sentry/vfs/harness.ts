// Shared setup for the vfs tests (not a test file): a VirtualFilesystem with
// testfs registered, a mount namespace rooted at a testfs, and a context
// carrying credentials and the namespace.

import * as context from '../../../pkg/context';
import type { Context } from '../../../pkg/context';
import * as fspath from '../../../pkg/fspath';
import * as auth from '../../../pkg/sentry/kernel/auth';
import * as vfs from '../../../pkg/sentry/vfs';
import { FilesystemType as TmpfsType } from '../../../pkg/sentry/fsimpl/tmpfs';
import { TestFSType, type tdentry } from './testfs';

export interface Env {
  ctx: Context;
  creds: auth.Credentials;
  vfsObj: vfs.VirtualFilesystem;
  mntns: vfs.MountNamespace;
  root: vfs.VirtualDentry;
  fsType: TestFSType;
  /** pop builds a PathOperation from root (or start); the final symlink is not followed unless follow. */
  pop(path: string, opts?: { start?: vfs.VirtualDentry; follow?: boolean; root?: vfs.VirtualDentry }): vfs.PathOperation;
  /** as returns a context and credentials for another user. */
  as(uid: number, gid: number, groups?: number[]): { ctx: Context; creds: auth.Credentials };
  /**
   * teardown releases the namespace and the VFS, then checks for leaks
   * (DESIGN decision 4): every Filesystem (anonfs included) released, every testfs
   * dentry back to its own single reference. It throws on a leak, which
   * fails the test that registered it with t.teardown.
   */
  teardown(): void;
}

/**
 * newEnv makes the environment; rootFS picks the root filesystem: testfs
 * (the tiny in-test FilesystemImpl, the default) or tmpfs. Both types are
 * registered either way.
 */
export async function newEnv(rootFS: 'testfs' | 'tmpfs' = 'testfs'): Promise<Env> {
  const creds = auth.newRootCredentials();
  const vfsObj = new vfs.VirtualFilesystem();
  const bg = auth.withCredentials(context.background(), creds);
  vfsObj.init(bg);
  const fsType = new TestFSType();
  vfsObj.mustRegisterFilesystemType('testfs', fsType, { allowUserMount: true, allowUserList: true });
  vfsObj.mustRegisterFilesystemType('tmpfs', new TmpfsType(), { allowUserMount: true });
  const mntns = await vfsObj.newMountNamespace(bg, creds, '', rootFS, {});
  const ctx = vfs.withMountNamespace(bg, mntns);
  const root = mntns.root();
  return {
    ctx, creds, vfsObj, mntns, root, fsType,
    pop(path, opts = {}) {
      const r = opts.root ?? root;
      const p = fspath.parse(path);
      return { root: r, start: p.absolute ? r : (opts.start ?? r), path: p, followFinalSymlink: opts.follow ?? false };
    },
    as(uid, gid, groups = []) {
      const c = auth.newUserCredentials(uid, gid, groups);
      return { ctx: vfs.withMountNamespace(auth.withCredentials(context.background(), c), mntns), creds: c };
    },
    teardown() {
      mntns.decRef(ctx);
      vfsObj.release(ctx);
      const leaks: string[] = [];
      // vfsObj.release dropped anonfs' mount: no Filesystem at all should be left.
      if (vfsObj.filesystems.size !== 0) leaks.push(`${vfsObj.filesystems.size} filesystem(s) not released`);
      for (const fs of fsType.instances) {
        const walk = (d: tdentry, p: string): void => {
          if (d.refs !== 1) leaks.push(`testfs dentry ${p || '/'} has ${d.refs} references`);
          for (const [name, c] of d.inode.children) if (c.parent === d) walk(c, `${p}/${name}`);
        };
        walk(fs.root, '');
      }
      if (leaks.length !== 0) throw new Error(`reference leak: ${leaks.join('; ')}`);
    },
  };
}
