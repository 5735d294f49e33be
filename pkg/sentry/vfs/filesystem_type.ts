// FilesystemType and its registration (gVisor's filesystem_type.go).

import type { Context } from '../../context';
import type { Credentials } from '../kernel/auth';
import type { Dentry } from './dentry';
import type { Filesystem } from './filesystem';
import type { GetFilesystemOptions } from './options';
import type { VirtualFilesystem } from './vfs';

/**
 * A FilesystemType constructs filesystems.
 *
 * FilesystemType is analogous to Linux's struct file_system_type.
 */
export interface FilesystemType {
  /**
   * getFilesystem returns a Filesystem configured by the given options,
   * along with its mount root. A reference is taken on the returned
   * Filesystem and Dentry.
   */
  getFilesystem(
    ctx: Context, vfsObj: VirtualFilesystem, creds: Credentials, source: string, opts: GetFilesystemOptions,
  ): Promise<[Filesystem, Dentry]>;

  /** name returns the name of this FilesystemType. */
  name(): string;

  /** release releases all resources held by this FilesystemType. */
  release(ctx: Context): void;
}

/** RegisterFilesystemTypeOptions contains options to VirtualFilesystem.registerFilesystemType(). */
export interface RegisterFilesystemTypeOptions {
  /**
   * allowUserMount determines whether users are allowed to mount a file
   * system of this type, i.e. through mount(2). If true, allow calls to
   * VirtualFilesystem.mountAt() for which MountOptions.internalMount is
   * false to use this filesystem type.
   */
  allowUserMount?: boolean;

  /** If allowUserList is true, make this filesystem type visible in /proc/filesystems. */
  allowUserList?: boolean;

  /**
   * If requiresDevice is true, indicate that mounting this filesystem
   * requires a block device as the mount source in /proc/filesystems.
   */
  requiresDevice?: boolean;
}

/** registeredFilesystemType is an entry of VirtualFilesystem.fsTypes. */
export interface registeredFilesystemType {
  fsType: FilesystemType;
  opts: RegisterFilesystemTypeOptions;
}
