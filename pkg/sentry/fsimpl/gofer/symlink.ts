// Symbolic links: gVisor's pkg/sentry/fsimpl/gofer/symlink.go.

import * as linux from '../../../abi/linux/file';
import type { Context } from '../../../context';
import type * as vfs from '../../vfs';
import { dentry, InteropMode } from './gofer';

declare module './gofer' {
  interface dentry {
    isSymlink(): boolean;
    readlink(ctx: Context, mnt: vfs.Mount): Promise<string>;
  }
}

dentry.prototype.isSymlink = function isSymlink(this: dentry): boolean {
  return this.fileType() === linux.S_IFLNK;
};

/**
 * readlink returns the symlink's target, cached outside InteropModeShared.
 *
 * Precondition: d.isSymlink().
 *
 * Differs from gVisor: no dataMu around haveTarget/target; two concurrent
 * first readlinks both ask the server and store the same answer.
 */
dentry.prototype.readlink = async function readlink(this: dentry, ctx: Context, mnt: vfs.Mount): Promise<string> {
  if (this.fs.opts.interop !== InteropMode.Shared) {
    this.touchAtime(mnt);
    if (this.haveTarget) return this.target;
  }
  const target = await this.file.readlink(ctx);
  if (this.fs.opts.interop !== InteropMode.Shared) {
    this.haveTarget = true;
    this.target = target;
  }
  return target;
};
