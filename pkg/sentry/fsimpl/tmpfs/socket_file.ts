// Socket files bound in the filesystem (gVisor's
// pkg/sentry/fsimpl/tmpfs/socket_file.go).

import type { KGID, KUID } from '../../kernel/auth';
import type { BoundEndpoint } from '../../vfs';
import { inode, type filesystem } from './tmpfs';

/** socketFile is a socket (=S_IFSOCK) tmpfs file: a slot for the bound endpoint. */
export class socketFile {
  readonly inode: inode;

  constructor(fs: filesystem, kuid: KUID, kgid: KGID, mode: number, readonly ep: BoundEndpoint | null) {
    this.inode = new inode(this, fs, kuid, kgid, mode);
    this.inode.nlink = 1; // from parent directory
  }
}

/** newSocketFile is gVisor's filesystem.newSocketFile. */
export function newSocketFile(fs: filesystem, kuid: KUID, kgid: KGID, mode: number, ep: BoundEndpoint | null): inode {
  return new socketFile(fs, kuid, kgid, mode, ep).inode;
}
