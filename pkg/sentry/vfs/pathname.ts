// Pathnames of VirtualDentries: d_path(), __d_path() and getcwd(2)
// (gVisor's pathname.go).

import type { Context } from '../../context';
import { Builder } from '../../fspath';
import * as syserror from '../../syserror/syserror';
import {
  PrependPathAtNonMountRootError, PrependPathAtVFSRootError, PrependPathSyntheticError,
} from './filesystem';
import type { VirtualDentry, VirtualFilesystem } from './vfs';

// prependPathStep calls vd's FilesystemImpl.prependPath and turns its
// outcome into one of the cases gVisor switches on.
type prependOutcome = 'ok' | 'vfsroot' | 'nonmountroot' | 'synthetic';

async function prependPathStep(ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry, b: Builder): Promise<prependOutcome> {
  try {
    await vd._mount!.fs.impl.prependPath(ctx, vfsroot, vd, b);
    return 'ok';
  } catch (err) {
    if (err instanceof PrependPathAtVFSRootError) return 'vfsroot';
    if (err instanceof PrependPathAtNonMountRootError) return 'nonmountroot';
    if (err instanceof PrependPathSyntheticError) return 'synthetic';
    throw err;
  }
}

/**
 * pathnameWithDeleted returns an absolute pathname to vd, consistent with
 * Linux's d_path(). In particular, if vd.dentry() has been disowned,
 * pathnameWithDeleted appends " (deleted)" to the returned pathname.
 */
export async function pathnameWithDeleted(
  vfs: VirtualFilesystem, ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry,
): Promise<string> {
  const b = new Builder();
  let haveRef = false;
  const origD = vd._dentry!;
  try {
    loop: for (;;) {
      switch (await prependPathStep(ctx, vfsroot, vd, b)) {
        case 'ok': {
          if (vd._mount === vfsroot._mount && vd._mount!._root === vfsroot._dentry) {
            // genericPrependPath() will have thrown PrependPathAtVFSRootError
            // in this case since it checks against vfsroot before mnt.root,
            // but other implementations of FilesystemImpl.prependPath() may
            // return normally instead.
            break loop;
          }
          const nextVD = vfs.getMountpointAt(ctx, vd._mount!, vfsroot);
          if (!nextVD.ok()) break loop;
          if (haveRef) vd.decRef(ctx);
          vd = nextVD;
          haveRef = true;
          break; // continue loop
        }
        case 'synthetic':
          // Skip prepending "/" and appending " (deleted)".
          return b.toString();
        case 'vfsroot':
        case 'nonmountroot':
          break loop;
      }
    }
  } finally {
    if (haveRef) vd.decRef(ctx);
  }
  b.prependByte('/');
  if (origD.isDead()) b.appendString(' (deleted)');
  return b.toString();
}

/**
 * pathnameReachable returns an absolute pathname to vd, consistent with
 * Linux's __d_path() (as used by seq_path_root()). If vfsroot.ok() and vd is
 * not reachable from vfsroot, such that seq_path_root() would return
 * SEQ_SKIP (causing the entire containing entry to be skipped),
 * pathnameReachable returns "".
 */
export async function pathnameReachable(
  vfs: VirtualFilesystem, ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry,
): Promise<string> {
  const b = new Builder();
  let haveRef = false;
  try {
    loop: for (;;) {
      switch (await prependPathStep(ctx, vfsroot, vd, b)) {
        case 'ok': {
          if (vd._mount === vfsroot._mount && vd._mount!._root === vfsroot._dentry) break loop;
          const nextVD = vfs.getMountpointAt(ctx, vd._mount!, vfsroot);
          if (!nextVD.ok()) return '';
          if (haveRef) vd.decRef(ctx);
          vd = nextVD;
          haveRef = true;
          break;
        }
        case 'vfsroot':
          break loop;
        case 'nonmountroot':
        case 'synthetic':
          return '';
      }
    }
  } finally {
    if (haveRef) vd.decRef(ctx);
  }
  b.prependByte('/');
  return b.toString();
}

/**
 * pathnameForGetcwd returns an absolute pathname to vd, consistent with
 * Linux's sys_getcwd(): ENOENT if vd has been deleted, "(unreachable)/..."
 * if vd is not reachable from vfsroot.
 */
export async function pathnameForGetcwd(
  vfs: VirtualFilesystem, ctx: Context, vfsroot: VirtualDentry, vd: VirtualDentry,
): Promise<string> {
  if (vd._dentry!.isDead()) throw syserror.ENOENT;
  const b = new Builder();
  let haveRef = false;
  let unreachable = false;
  try {
    loop: for (;;) {
      switch (await prependPathStep(ctx, vfsroot, vd, b)) {
        case 'ok': {
          if (vd._mount === vfsroot._mount && vd._mount!._root === vfsroot._dentry) break loop;
          const nextVD = vfs.getMountpointAt(ctx, vd._mount!, vfsroot);
          if (!nextVD.ok()) {
            unreachable = true;
            break loop;
          }
          if (haveRef) vd.decRef(ctx);
          vd = nextVD;
          haveRef = true;
          break;
        }
        case 'vfsroot':
          break loop;
        case 'nonmountroot':
        case 'synthetic':
          unreachable = true;
          break loop;
      }
    }
  } finally {
    if (haveRef) vd.decRef(ctx);
  }
  b.prependByte('/');
  if (unreachable) b.prependString('(unreachable)');
  return b.toString();
}

// As of this writing, we do not have equivalents to:
//
// - d_absolute_path(), which returns EINVAL if (effectively) any call to
// FilesystemImpl.prependPath() would throw PrependPathAtNonMountRootError.
//
// - dentry_path(), which does not walk up mounts (and only returns the path
// relative to Filesystem root), but also appends "//deleted" for disowned
// Dentries.
//
// These should be added as necessary.
