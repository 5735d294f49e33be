// O_PATH file descriptions (gVisor's pkg/sentry/vfs/opath.go).
//
// From a later gVisor than dbe41765: added by d8c330254a7d ("Add O_PATH
// support in vfs2", the next week), ported in its shape at 3c5eee17dc45
// (openOPathFD with the O_DIRECTORY check). At dbe41765 each filesystem
// handled O_PATH itself; here, as there, the VFS handles it once for every
// FilesystemImpl.

import type { Context } from '../../context';
import { O_DIRECTORY, S_IFDIR, S_IFMT } from '../../abi/linux/file';
import { STATX_MODE, type Statfs, type Statx } from '../../abi/linux/stat';
import * as fspath from '../../fspath';
import type { LockType, UniqueID } from '../fs/lock';
import { credentialsFromContext, type Credentials } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import { FileDescription, type IterDirentsCallback } from './file_description';
import { FileDescriptionDefaultImpl } from './file_description_impl_util';
import type { GetXattrOptions, ReadOptions, SetStatOptions, SetXattrOptions, StatOptions, WriteOptions } from './options';
import { getResolvingPath, putResolvingPath } from './resolving_path';
import type { PathOperation, VirtualFilesystem } from './vfs';

// A path with no components: the PathOperations of opathFD name fd.vd
// itself (gVisor leaves PathOperation.Path zero-valued).
const emptyPath = fspath.parse('');

/**
 * opathFD implements FileDescriptionImpl for a file description opened with
 * O_PATH (Linux's FMODE_PATH with empty_fops): it names a file, of any type,
 * without opening it. Only stat and statFS work, through the filesystem's
 * statAt/statFSAt on the file's dentry; everything else fails EBADF, as
 * Linux's fdget() refuses an O_PATH file to every call but fstat, fstatfs,
 * fchdir, close, dup, fcntl(F_GETFL...) and use as a dirfd. (The syscall
 * layer refuses O_PATH files itself; this makes direct VFS users see the
 * same.)
 */
export class opathFD extends FileDescriptionDefaultImpl {
  readonly vfsfd = new FileDescription();

  /** release implements FileDescriptionImpl.release. */
  release(_ctx: Context): void {
    // noop
  }

  /** allocate implements FileDescriptionImpl.allocate. */
  override allocate(_ctx: Context, _mode: number, _offset: number, _length: number): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** pread implements FileDescriptionImpl.pread. */
  override pread(_ctx: Context, _dst: Buffer, _offset: number, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /** read implements FileDescriptionImpl.read. */
  override read(_ctx: Context, _dst: Buffer, _opts: ReadOptions): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /** pwrite implements FileDescriptionImpl.pwrite. */
  override pwrite(_ctx: Context, _src: Buffer, _offset: number, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /** write implements FileDescriptionImpl.write. */
  override write(_ctx: Context, _src: Buffer, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /** ioctl implements FileDescriptionImpl.ioctl. */
  override ioctl(_ctx: Context, _request: number, _arg: number): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /** iterDirents implements FileDescriptionImpl.iterDirents. */
  override iterDirents(_ctx: Context, _cb: IterDirentsCallback): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** seek implements FileDescriptionImpl.seek. */
  override seek(_ctx: Context, _offset: number, _whence: number): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  // ConfigureMMap: none here (no memory manager; see FileDescriptionImpl).

  /** listXattr implements FileDescriptionImpl.listXattr. */
  override listXattr(_ctx: Context, _size: number): Promise<string[]> {
    return Promise.reject(syserror.EBADF);
  }

  /** getXattr implements FileDescriptionImpl.getXattr. */
  override getXattr(_ctx: Context, _opts: GetXattrOptions): Promise<string> {
    return Promise.reject(syserror.EBADF);
  }

  /** setXattr implements FileDescriptionImpl.setXattr. */
  override setXattr(_ctx: Context, _opts: SetXattrOptions): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** removeXattr implements FileDescriptionImpl.removeXattr. */
  override removeXattr(_ctx: Context, _name: string): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** sync implements FileDescriptionImpl.sync. */
  override sync(_ctx: Context): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** setStat implements FileDescriptionImpl.setStat. */
  setStat(_ctx: Context, _opts: SetStatOptions): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** stat implements FileDescriptionImpl.stat. */
  async stat(ctx: Context, opts: StatOptions): Promise<Statx> {
    const vd = this.vfsfd.vd;
    const rp = getResolvingPath(vd.mount().vfs, credentialsFromContext(ctx), {
      root: vd, start: vd, path: emptyPath, followFinalSymlink: false,
    });
    try {
      return await vd.mount().fs.impl.statAt(ctx, rp, opts);
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  /** statFS returns metadata for the filesystem containing the file represented by fd. */
  override async statFS(ctx: Context): Promise<Statfs> {
    const vd = this.vfsfd.vd;
    const rp = getResolvingPath(vd.mount().vfs, credentialsFromContext(ctx), {
      root: vd, start: vd, path: emptyPath, followFinalSymlink: false,
    });
    try {
      return await vd.mount().fs.impl.statFSAt(ctx, rp);
    } finally {
      putResolvingPath(ctx, rp);
    }
  }

  // Locks: gVisor's BadLockFD (EBADF), except that the unlocks are no-ops:
  // an O_PATH file holds no locks, and Linux's filp_close() and __fput()
  // skip locks_remove_posix() and locks_remove_file() for FMODE_PATH, so
  // what a close does must not fail (flock/fcntl on an O_PATH fd are EBADF
  // in the syscall layer before reaching here).

  /** lockBSD implements FileDescriptionImpl.lockBSD. */
  override lockBSD(_ctx: Context, _uid: UniqueID, _t: LockType, _block: boolean): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** unlockBSD implements FileDescriptionImpl.unlockBSD: a no-op. */
  override unlockBSD(_ctx: Context, _uid: UniqueID): Promise<void> {
    return Promise.resolve();
  }

  /** lockPOSIX implements FileDescriptionImpl.lockPOSIX. */
  override lockPOSIX(
    _ctx: Context, _uid: UniqueID, _t: LockType, _start: number, _length: number, _whence: number, _block: boolean,
  ): Promise<void> {
    return Promise.reject(syserror.EBADF);
  }

  /** unlockPOSIX implements FileDescriptionImpl.unlockPOSIX: a no-op. */
  override unlockPOSIX(_ctx: Context, _uid: UniqueID, _start: number, _length: number, _whence: number): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * openOPathFD is VirtualFilesystem.openAt for O_PATH (gVisor's
 * VirtualFilesystem.openOPathFD; a function of vfs, as mount.ts's, to keep
 * opath.ts beside opath.go). It resolves pop as getDentryAt does, so only
 * search permission on the path is checked, the final symlink is followed
 * unless pop.followFinalSymlink is false (O_NOFOLLOW), and nothing is opened:
 * no FIFO rendezvous, no device, no remote handle.
 *
 * Preconditions: flags has been masked to O_DIRECTORY | O_NOFOLLOW | O_PATH.
 */
export async function openOPathFD(
  vfsObj: VirtualFilesystem, ctx: Context, creds: Credentials, pop: PathOperation, flags: number,
): Promise<FileDescription> {
  const vd = await vfsObj.getDentryAt(ctx, creds, pop, {});
  try {
    if ((flags & O_DIRECTORY) !== 0) {
      // Not rp.mustBeDir, which would also make the final symlink be
      // followed: Linux's do_open checks LOOKUP_DIRECTORY on what the walk
      // ended at, so O_PATH|O_NOFOLLOW|O_DIRECTORY of a symlink is ENOTDIR.
      const stat = await vfsObj.statAt(ctx, creds, { root: vd, start: vd, path: emptyPath, followFinalSymlink: false }, { mask: STATX_MODE });
      if ((stat.mode & S_IFMT) !== S_IFDIR) throw syserror.ENOTDIR;
    }
    const fd = new opathFD();
    fd.vfsfd.init(fd, flags, vd.mount(), vd.dentry(), {});
    return fd.vfsfd;
  } finally {
    vd.decRef(ctx);
  }
}
