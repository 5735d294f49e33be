// Options of VirtualFilesystem, FilesystemImpl and FileDescription methods,
// in the order of gVisor's pkg/sentry/vfs/options.go.
//
// Differs from gVisor: Go passes these structs by value or pointer; here they
// are plain objects. VFS methods that adjust options (OpenAt's flag masking,
// MkdirAt's mode masking) copy them first instead of mutating the caller's.

import type { Statx } from '../../abi/linux/stat';

/**
 * BoundEndpoint is the part of transport.BoundEndpoint that the VFS sees: an
 * opaque object a socket file carries. (pkg/sentry/socket/unix/transport is
 * outside this package; the kernel defines the real interface.)
 */
export interface BoundEndpoint {
  /** release drops the reference BoundEndpointAt took. */
  release?(): void;
}

/**
 * GetDentryOptions contains options to VirtualFilesystem.getDentryAt() and
 * FilesystemImpl.getDentryAt().
 */
export interface GetDentryOptions {
  /**
   * If checkSearchable is true, FilesystemImpl.getDentryAt() must check that
   * the returned Dentry is a directory for which creds has search permission.
   */
  checkSearchable?: boolean;
}

/**
 * MkdirOptions contains options to VirtualFilesystem.mkdirAt() and
 * FilesystemImpl.mkdirAt().
 */
export interface MkdirOptions {
  /** mode is the file mode bits for the created directory. */
  mode: number;

  /**
   * If forSyntheticMountpoint is true, FilesystemImpl.mkdirAt() may create
   * the given directory in memory only (as opposed to persistent storage).
   * FilesystemImpls are permitted to ignore it. It exists because the OCI
   * runtime spec permits mount points that do not exist.
   */
  forSyntheticMountpoint?: boolean;
}

/**
 * MknodOptions contains options to VirtualFilesystem.mknodAt() and
 * FilesystemImpl.mknodAt().
 */
export interface MknodOptions {
  /** mode is the file type and mode bits for the created file. */
  mode: number;

  /**
   * If mode specifies a character or block device special file, devMajor and
   * devMinor are the major and minor device numbers for the created device.
   */
  devMajor?: number;
  devMinor?: number;

  /**
   * endpoint is the endpoint to bind to the created file, if a socket file is
   * being created for bind(2) on a Unix domain socket.
   */
  endpoint?: BoundEndpoint | null;
}

/**
 * MountFlags contains flags as specified for mount(2), e.g. MS_NOEXEC.
 * MS_RDONLY is not part of MountFlags because it's tracked in Mount.writers.
 */
export interface MountFlags {
  /** noExec is equivalent to MS_NOEXEC. */
  noExec?: boolean;
  /** noATime is equivalent to MS_NOATIME. */
  noATime?: boolean;
  /** noDev is equivalent to MS_NODEV. */
  noDev?: boolean;
  /** noSUID is equivalent to MS_NOSUID. */
  noSUID?: boolean;
}

/** GetFilesystemOptions contains options to FilesystemType.getFilesystem(). */
export interface GetFilesystemOptions {
  /**
   * data is the string passed as the 5th argument to mount(2), usually a
   * comma-separated list of filesystem-specific mount options.
   */
  data?: string;

  /**
   * internalData holds opaque FilesystemType-specific data. Applications
   * cannot specify it; if set, the call originates from within the sentry.
   */
  internalData?: unknown;
}

/** MountOptions contains options to VirtualFilesystem.mountAt(). */
export interface MountOptions {
  /** flags contains flags as specified for mount(2), e.g. MS_NOEXEC. */
  flags?: MountFlags;

  /** readOnly is equivalent to MS_RDONLY. */
  readOnly?: boolean;

  /** getFilesystemOptions contains options to FilesystemType.getFilesystem(). */
  getFilesystemOptions?: GetFilesystemOptions;

  /**
   * internalMount indicates whether the mount operation is coming from the
   * sentry rather than mount(2). If true, allow filesystem types for which
   * RegisterFilesystemTypeOptions.allowUserMount is false.
   */
  internalMount?: boolean;
}

/**
 * OpenOptions contains options to VirtualFilesystem.openAt() and
 * FilesystemImpl.openAt().
 */
export interface OpenOptions {
  /**
   * flags contains access mode and flags as specified for open(2).
   *
   * FilesystemImpls are responsible for implementing the following flags:
   * O_RDONLY, O_WRONLY, O_RDWR, O_APPEND, O_CREAT, O_DIRECT, O_DSYNC,
   * O_EXCL, O_NOATIME, O_NOCTTY, O_NONBLOCK, O_SYNC, O_TMPFILE, and
   * O_TRUNC. VFS is responsible for handling O_DIRECTORY, O_LARGEFILE,
   * O_NOFOLLOW and O_PATH (opath.ts, as later gVisor's d8c330254a7d). VFS users are responsible for handling O_CLOEXEC, since file
   * descriptors are mostly outside the scope of VFS.
   */
  flags: number;

  /** If FilesystemImpl.openAt() creates a file, mode is its file mode. */
  mode?: number;

  /**
   * fileExec is set when the file is being opened to be executed.
   * VirtualFilesystem.openAt() checks that the caller has execute
   * permissions on the file, that the file is a regular file, and that the
   * mount doesn't have MS_NOEXEC set.
   */
  fileExec?: boolean;
}

/** ReadOptions contains options to FileDescription.pread() and read(). */
export interface ReadOptions {
  /** flags contains flags as specified for preadv2(2). */
  flags?: number;
}

/**
 * RenameOptions contains options to VirtualFilesystem.renameAt() and
 * FilesystemImpl.renameAt().
 */
export interface RenameOptions {
  /** flags contains flags as specified for renameat2(2). */
  flags?: number;

  /** If mustBeDir is true, the renamed file must be a directory. */
  mustBeDir?: boolean;
}

/**
 * SetStatOptions contains options to VirtualFilesystem.setStatAt(),
 * FilesystemImpl.setStatAt(), FileDescription.setStat(), and
 * FileDescriptionImpl.setStat().
 */
export interface SetStatOptions {
  /**
   * stat is the metadata that should be set. Only fields indicated by
   * stat.mask should be set.
   *
   * If stat specifies that a timestamp should be set, implementations must
   * special-case nsec == UTIME_NOW as described by utimensat(2); they do not
   * need to check for UTIME_OMIT (VFS users must unset the corresponding bit
   * in stat.mask instead).
   */
  stat: Statx;

  /**
   * needWritePerm indicates that write permission on the file is needed for
   * this operation (truncate(2); ftruncate(2) checks the fd instead).
   */
  needWritePerm?: boolean;
}

/**
 * BoundEndpointOptions contains options to VirtualFilesystem.boundEndpointAt()
 * and FilesystemImpl.boundEndpointAt().
 */
export interface BoundEndpointOptions {
  /**
   * addr is the path of the file whose socket endpoint is being retrieved
   * (best effort; used when the endpoint is created by boundEndpointAt).
   */
  addr: string;
}

/**
 * GetXattrOptions contains options to VirtualFilesystem.getXattrAt(),
 * FilesystemImpl.getXattrAt(), FileDescription.getXattr(), and
 * FileDescriptionImpl.getXattr().
 */
export interface GetXattrOptions {
  /** name is the name of the extended attribute to retrieve. */
  name: string;

  /**
   * size is the maximum value size that the caller will tolerate. If the
   * value is larger than size, getxattr methods may throw ERANGE, but they
   * are also free to ignore the hint (size checks are done at the syscall
   * layer).
   */
  size: number;
}

/**
 * SetXattrOptions contains options to VirtualFilesystem.setXattrAt(),
 * FilesystemImpl.setXattrAt(), FileDescription.setXattr(), and
 * FileDescriptionImpl.setXattr().
 */
export interface SetXattrOptions {
  /** name is the name of the extended attribute being mutated. */
  name: string;
  /** value is the extended attribute's new value (bytes as a latin1 string, as Go's string). */
  value: string;
  /** flags contains flags as specified for setxattr(2) (XATTR_CREATE, XATTR_REPLACE). */
  flags?: number;
}

/**
 * StatOptions contains options to VirtualFilesystem.statAt(),
 * FilesystemImpl.statAt(), FileDescription.stat(), and
 * FileDescriptionImpl.stat().
 */
export interface StatOptions {
  /**
   * mask is the set of fields in the returned Statx that the implementation
   * should provide (STATX_*). Implementations may return fields not
   * requested and may omit requested fields they do not support.
   */
  mask?: number;

  /**
   * sync specifies the synchronization required: AT_STATX_SYNC_AS_STAT (0,
   * the default), AT_STATX_FORCE_SYNC, or AT_STATX_DONT_SYNC.
   */
  sync?: number;
}

/** UmountOptions contains options to VirtualFilesystem.umountAt(). */
export interface UmountOptions {
  /** flags contains flags as specified for umount2(2). */
  flags?: number;
}

/** WriteOptions contains options to FileDescription.pwrite() and write(). */
export interface WriteOptions {
  /** flags contains flags as specified for pwritev2(2). */
  flags?: number;
}
