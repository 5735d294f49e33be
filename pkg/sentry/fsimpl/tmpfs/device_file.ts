// Device special files (gVisor's pkg/sentry/fsimpl/tmpfs/device_file.go).

import * as linux from '../../../abi/linux';
import type { KGID, KUID } from '../../kernel/auth';
import * as vfs from '../../vfs';
import { inode, type filesystem } from './tmpfs';

export class deviceFile {
  readonly inode: inode;

  constructor(
    fs: filesystem, kuid: KUID, kgid: KGID, mode: number,
    readonly kind: vfs.DeviceKind, readonly major: number, readonly minor: number,
  ) {
    switch (kind) {
      case vfs.BlockDevice:
        mode |= linux.S_IFBLK;
        break;
      case vfs.CharDevice:
        mode |= linux.S_IFCHR;
        break;
      default:
        throw new Error(`invalid DeviceKind: ${String(kind)}`);
    }
    this.inode = new inode(this, fs, kuid, kgid, mode);
    this.inode.nlink = 1; // from parent directory
  }
}

/** newDeviceFile is gVisor's filesystem.newDeviceFile. */
export function newDeviceFile(
  fs: filesystem, kuid: KUID, kgid: KGID, mode: number, kind: vfs.DeviceKind, major: number, minor: number,
): inode {
  return new deviceFile(fs, kuid, kgid, mode, kind, major, minor).inode;
}
