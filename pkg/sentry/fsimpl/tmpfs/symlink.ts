// Symbolic links (gVisor's pkg/sentry/fsimpl/tmpfs/symlink.go).

import * as linux from '../../../abi/linux';
import type { KGID, KUID } from '../../kernel/auth';
import { inode, type filesystem } from './tmpfs';

export class symlink {
  readonly inode: inode;

  constructor(fs: filesystem, kuid: KUID, kgid: KGID, mode: number, readonly target: string) {
    this.inode = new inode(this, fs, kuid, kgid, linux.S_IFLNK | mode);
    this.inode.nlink = 1; // from parent directory
  }
}

/** newSymlink is gVisor's filesystem.newSymlink. */
export function newSymlink(fs: filesystem, kuid: KUID, kgid: KGID, mode: number, target: string): inode {
  return new symlink(fs, kuid, kgid, mode, target).inode;
}

// An O_PATH open of a symlink is the VFS's opathFD (vfs/opath.ts), so there
// is no FileDescription implementation for symlinks here.
