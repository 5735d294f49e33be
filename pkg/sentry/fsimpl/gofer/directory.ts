// Directories: gVisor's pkg/sentry/fsimpl/gofer/directory.go.
//
// getDirents builds the whole listing once per open directory (and, outside
// InteropModeShared, caches it in the dentry until the directory changes):
// readdir reads from the server in 64 KiB batches (O(entries) messages of
// work, never O(entries²): gVisor issue #6578), and iterDirents indexes the
// array by the file offset.

import * as linux from '../../../abi/linux/file';
import { IN_ACCESS } from '../../../abi/linux/inotify';
import type { Context } from '../../../context';
import { TypeDir, TypeSymlink } from '../../../p9/p9';
import { Mutex } from '../../../sync';
import * as syserror from '../../../syserror/syserror';
import type { KGID, KUID } from '../../kernel/auth';
import type { VFSPipe } from '../../kernel/pipe';
import * as vfs from '../../vfs';
import { dentry, fileDescription, InteropMode, inode, nowNs } from './gofer';

declare module './gofer' {
  interface dentry {
    isDir(): boolean;
    cacheNewChildLocked(child: dentry, name: string): void;
    cacheNegativeLookupLocked(name: string): void;
    createSyntheticChildLocked(opts: createSyntheticOpts): void;
    getDirents(ctx: Context): Promise<vfs.Dirent[]>;
  }
}

dentry.prototype.isDir = function isDir(this: dentry): boolean {
  return this.fileType() === linux.S_IFDIR;
};

/**
 * cacheNewChildLocked adds child to d.children.
 *
 * Preconditions:
 * * filesystem.renameMu must be locked.
 * * d.dirMu must be locked.
 * * d.isDir().
 * * child must be a newly-created dentry that has never had a parent.
 */
dentry.prototype.cacheNewChildLocked = function cacheNewChildLocked(this: dentry, child: dentry, name: string): void {
  this.incRef(); // reference held by child on its parent
  child.parent = this;
  child.name = name;
  if (this.children === null) this.children = new Map();
  this.children.set(name, child);
};

/**
 * cacheNegativeLookupLocked caches the fact that the given name does not
 * exist as a child of this directory.
 *
 * Preconditions:
 * * d.dirMu must be locked.
 * * d.isDir().
 */
dentry.prototype.cacheNegativeLookupLocked = function cacheNegativeLookupLocked(this: dentry, name: string): void {
  // Don't cache negative lookups if InteropModeShared is in effect (since
  // this makes remote lookup unavoidable), or if d.isSynthetic() (in which
  // case the only files in the directory are those for which a dentry
  // exists in d.children). Instead, just delete any previously-cached
  // dentry.
  if (this.fs.opts.interop === InteropMode.Shared || this.isSynthetic()) {
    this.children?.delete(name);
    return;
  }
  if (this.children === null) this.children = new Map();
  this.children.set(name, null);
};

/** createSyntheticOpts are the options of createSyntheticChildLocked. */
export interface createSyntheticOpts {
  name: string;
  mode: number;
  kuid: KUID;
  kgid: KGID;

  /** The endpoint for a synthetic socket. endpoint should be null if mode's type is not S_IFSOCK. */
  endpoint?: vfs.BoundEndpoint | null;

  /** The pipe for a synthetic fifo. pipe should be null if mode's type is not S_IFIFO. */
  pipe?: VFSPipe | null;

  /** The device a synthetic character or block device file stands for. */
  devMajor?: number;
  devMinor?: number;
}

/**
 * createSyntheticChildLocked creates a synthetic file with the given name
 * in d.
 *
 * Preconditions:
 * * d.dirMu must be locked.
 * * d.isDir().
 * * d does not already contain a child with the given name.
 */
dentry.prototype.createSyntheticChildLocked = function createSyntheticChildLocked(this: dentry, opts: createSyntheticOpts): void {
  const ino = new inode(this.fs.nextIno(), opts.mode, opts.kuid, opts.kgid);
  ino.blockSize = 4096; // arbitrary
  // Differs from gVisor (nlink 2 for every synthetic file): a synthetic
  // socket or pipe has one link, as the file Linux would have created.
  ino.nlink = (opts.mode & linux.S_IFMT) === linux.S_IFDIR ? 2 : 1;
  ino.nlinkKnown = true;
  // A new file's times are the time of its creation (Linux's
  // inode_init_owner callers set them to current_time).
  const t = nowNs();
  ino.atime = ino.mtime = ino.ctime = ino.btime = t;
  const child = new dentry(this.fs, ino, p9fileNil(), -1n);
  child.refs = 1; // held by d
  switch (opts.mode & linux.S_IFMT) {
    case linux.S_IFDIR:
      // Nothing else needs to be done.
      break;
    case linux.S_IFSOCK:
      child.endpoint = opts.endpoint ?? null;
      break;
    case linux.S_IFIFO:
      child.pipe = opts.pipe ?? null;
      break;
    case linux.S_IFCHR:
    case linux.S_IFBLK:
      // Not in gVisor at our commit (it panics here): device files are
      // synthetic too, since the gofer creates no device nodes on the host.
      ino.rdevMajor = opts.devMajor ?? 0;
      ino.rdevMinor = opts.devMinor ?? 0;
      break;
    default:
      throw new Error(`failed to create synthetic file of unrecognized type: ${(opts.mode & linux.S_IFMT).toString(8)}`);
  }
  this.cacheNewChildLocked(child, opts.name);
  this.syntheticChildren++;
};

/** directoryFD implements vfs.FileDescriptionImpl for directories. */
export class directoryFD extends fileDescription {
  readonly mu = new Mutex();
  off = 0;
  dirents: vfs.Dirent[] | null = null;

  /** release implements vfs.FileDescriptionImpl.release. */
  release(_ctx: Context): void {}

  /** iterDirents implements vfs.FileDescriptionImpl.iterDirents. */
  override async iterDirents(ctx: Context, cb: vfs.IterDirentsCallback): Promise<void> {
    if (!this.mu.tryLock()) await this.mu.lock();
    try {
      const d = this.dentry();
      if (this.dirents === null) this.dirents = await d.getDirents(ctx);

      d.inotifyWithParent(ctx, IN_ACCESS, 0, vfs.PathEvent);
      if (d.cachedMetadataAuthoritative()) d.touchAtime(this.vfsfd.mount());

      const dirents = this.dirents;
      while (this.off < dirents.length) {
        cb.handle(dirents[this.off]);
        this.off++;
      }
    } finally {
      this.mu.unlock();
    }
  }

  /** seek implements vfs.FileDescriptionImpl.seek. */
  override async seek(_ctx: Context, offset: number, whence: number): Promise<number> {
    if (!this.mu.tryLock()) await this.mu.lock();
    try {
      switch (whence) {
        case linux.SEEK_SET:
          if (offset < 0) throw syserror.EINVAL;
          if (offset === 0) {
            // Ensure that the next call to iterDirents() calls
            // dentry.getDirents().
            this.dirents = null;
          }
          this.off = offset;
          return this.off;
        case linux.SEEK_CUR:
          offset += this.off;
          if (offset < 0) throw syserror.EINVAL;
          // Don't clear fd.dirents in this case, even if offset === 0.
          this.off = offset;
          return this.off;
        default:
          throw syserror.EINVAL;
      }
    } finally {
      this.mu.unlock();
    }
  }

  /** sync implements vfs.FileDescriptionImpl.sync. */
  override sync(ctx: Context): Promise<void> {
    return this.dentry().syncRemoteFile(ctx);
  }

  // Directories refuse data I/O as vfs.DirectoryFileDescriptionDefaultImpl does.
  override allocate(): Promise<void> { return Promise.reject(syserror.EISDIR); }
  override pread(): Promise<number> { return Promise.reject(syserror.EISDIR); }
  override read(): Promise<number> { return Promise.reject(syserror.EISDIR); }
  override pwrite(): Promise<number> { return Promise.reject(syserror.EISDIR); }
  override write(): Promise<number> { return Promise.reject(syserror.EISDIR); }
}

/**
 * getDirents returns the listing of directory d.
 *
 * Preconditions:
 * * d.isDir().
 * * There exists at least one directoryFD representing d.
 */
dentry.prototype.getDirents = async function getDirents(this: dentry, ctx: Context): Promise<vfs.Dirent[]> {
  // NOTE(b/135560623): 9P2000.L's readdir does not specify behavior in the
  // presence of concurrent mutation of an iterated directory, so
  // implementations may duplicate or omit entries in this case, which
  // violates POSIX semantics. Thus we read all directory entries while
  // holding d.dirMu to exclude directory mutations. (Note that it is
  // impossible for the client to exclude concurrent mutation from other
  // remote filesystem users. Since there is no way to detect if the server
  // has incorrectly omitted directory entries, we simply assume that the
  // server is well-behaved under InteropModeShared.) This is inconsistent
  // with Linux (which appears to assume that directory fids have the
  // correct semantics, and translates struct file_operations::readdir calls
  // directly to readdir RPCs), but is consistent with VFS1.

  const fs = this.fs;
  if (!fs.renameMu.tryRLock()) await fs.renameMu.rLock();
  try {
    if (!this.dirMu.tryLock()) await this.dirMu.lock();
    try {
      if (this.dirents !== null) return this.dirents;

      // It's not clear if 9P2000.L's readdir is expected to return "." and
      // "..", so we generate them here.
      const parent = this.parent ?? this;
      const dirents: vfs.Dirent[] = [
        { name: '.', type: linux.DT_DIR, ino: this.ino, nextOff: 1 },
        { name: '..', type: (parent.mode >>> 12) & 0xf, ino: parent.ino, nextOff: 2 },
      ];
      let realChildren: Set<string> | null = null;
      if (!this.isSynthetic()) {
        if (this.syntheticChildren !== 0 && fs.opts.interop === InteropMode.Shared) {
          // Record the set of children d actually has so that we don't emit
          // duplicate entries for synthetic children.
          realChildren = new Set();
        }
        let off = 0n;
        const count = 64 * 1024; // for consistency with the vfs1 client
        if (!this.handleMu.tryRLock()) await this.handleMu.rLock();
        try {
          // A deleted directory may be open without a handle (dentry.open).
          if (this.readFile.isNil() && this.isDeleted()) throw syserror.ENOENT;
          if (this.readFile.isNil()) {
            // This should not be possible because a readable handle should
            // have been opened when the calling directoryFD was opened.
            throw new Error('gofer.dentry.getDirents called without a readable handle');
          }
          for (;;) {
            const p9ds = await this.readFile.readdir(ctx, off, count);
            if (p9ds.length === 0) break;
            for (const p9d of p9ds) {
              if (p9d.name === '.' || p9d.name === '..') continue;
              const type = direntTypeFromP9(p9d.qid.type, p9d.type);
              dirents.push({ name: p9d.name, type, ino: fs.inoFromQIDPath(p9d.qid.path), nextOff: dirents.length + 1 });
              realChildren?.add(p9d.name);
            }
            off = p9ds[p9ds.length - 1].offset;
          }
        } finally {
          this.handleMu.rUnlock();
        }
      }
      // Emit entries for synthetic children.
      if (this.syntheticChildren !== 0 && this.children !== null) {
        for (const child of this.children.values()) {
          if (child === null || !child.isSynthetic()) continue;
          if (realChildren !== null && realChildren.has(child.name)) continue;
          dirents.push({ name: child.name, type: (child.mode >>> 12) & 0xf, ino: child.ino, nextOff: dirents.length + 1 });
        }
      }
      // Cache dirents for future directoryFDs if permitted.
      if (this.cachedMetadataAuthoritative()) this.dirents = dirents;
      return dirents;
    } finally {
      this.dirMu.unlock();
    }
  } finally {
    fs.renameMu.rUnlock();
  }
};

/**
 * direntTypeFromP9 is the d_type of a Rreaddir entry. gVisor at dbe41765
 * decodes the entry's type byte as a QID type (what runsc's fsgofer sends):
 * directory, symlink, else regular file. Other 9P2000.L servers (diod, and
 * our fsgofer) send the host's d_type there, as Linux's v9fs expects
 * (v9fs_dir_readdir_dotl passes it to dir_emit). Differs from gVisor, to
 * follow Linux with either kind of server: the QID type decides directories
 * and symlinks; a type byte that is a d_type of another file type is kept;
 * anything else is a regular file. (A QID type never collides with those
 * d_types for a file the server serves: QID types of non-directory,
 * non-symlink files are 0, or flag bits fsgofer never sets.)
 */
export function direntTypeFromP9(qidType: number, typ: number): number {
  if ((qidType & TypeDir) !== 0) return linux.DT_DIR;
  if ((qidType & TypeSymlink) !== 0) return linux.DT_LNK;
  switch (typ) {
    case linux.DT_FIFO:
    case linux.DT_CHR:
    case linux.DT_BLK:
    case linux.DT_REG:
    case linux.DT_SOCK:
      return typ;
    default:
      return linux.DT_REG;
  }
}

// p9file.nil, without a second import cycle edge at module load.
import { p9file } from './p9file';
function p9fileNil(): p9file {
  return p9file.nil;
}
