// Package tmpfs provides an in-memory filesystem whose contents are
// application-mutable, consistent with Linux's tmpfs (gVisor's
// pkg/sentry/fsimpl/tmpfs/tmpfs.go).
//
// Lock order:
//
// filesystem.mu
//   vfs.Dentry.mu (through VirtualFilesystem.prepareDeleteDentry/prepareRenameDentry)
//
// Differs from gVisor (DESIGN decision 1): filesystem.mu is pkg/sync's async
// RWMutex, because rmdir, unlink and rename hold it across
// VirtualFilesystem.prepare*Dentry, which awaits the VFS mount lock. gVisor's
// other locks (inode.mu, regularFileFD.offMu, regularFile.mapsMu/dataMu,
// directory.iterMu) only serialize goroutines inside code that never blocks;
// that code is synchronous here, so no other task can run inside it and the
// locks are left out (each place says so). Every operation takes fs.mu with
// tryLock/tryRLock first, so an uncontended operation never waits a tick.

import * as os from 'node:os';
import * as linux from '../../../abi/linux';
import { STATX_ATIME, STATX_BLOCKS, STATX_CTIME, STATX_GID, STATX_INO, STATX_MODE, STATX_MTIME, STATX_NLINK,
  STATX_SIZE, STATX_TYPE, STATX_UID, TMPFS_MAGIC, UNNAMED_MAJOR, newStatfs, newStatx, type Statfs, type Statx,
  type StatxTimestamp } from '../../../abi/linux/stat';
import { IN_ATTRIB, IN_ISDIR } from '../../../abi/linux/inotify';
import { logger, type Context } from '../../../context';
import type { LockType, UniqueID } from '../../fs/lock';
import { RWMutex } from '../../../sync';
import * as syserror from '../../../syserror/syserror';
import { credentialsFromContext, idOk, type Credentials, type KGID, type KUID } from '../../kernel/auth';
import * as vfs from '../../vfs';

/** Name is the default filesystem name. */
export const Name = 'tmpfs';

/** FilesystemOpts is used to pass configuration data to tmpfs (GetFilesystemOptions.internalData). */
export class FilesystemOpts {
  /**
   * rootFileType is the file type of the filesystem root. Valid values are
   * S_IFDIR, S_IFREG, and S_IFLNK. Defaults to S_IFDIR.
   */
  rootFileType = 0;

  /** rootSymlinkTarget is the target of the root symlink. Only valid if rootFileType === S_IFLNK. */
  rootSymlinkTarget = '';

  /**
   * filesystemType allows setting a different FilesystemType for this tmpfs
   * filesystem. This allows tmpfs to "impersonate" other filesystems.
   */
  filesystemType: vfs.FilesystemType | null = null;

  constructor(init?: Partial<FilesystemOpts>) {
    Object.assign(this, init);
  }
}

/** FilesystemType implements vfs.FilesystemType. */
export class FilesystemType implements vfs.FilesystemType {
  /** name implements vfs.FilesystemType.name. */
  name(): string {
    return Name;
  }

  /** release implements vfs.FilesystemType.release. */
  release(_ctx: Context): void {}

  /** getFilesystem implements vfs.FilesystemType.getFilesystem. */
  async getFilesystem(
    ctx: Context, vfsObj: vfs.VirtualFilesystem, creds: Credentials, _source: string, opts: vfs.GetFilesystemOptions,
  ): Promise<[vfs.Filesystem, vfs.Dentry]> {
    let rootFileType = linux.S_IFDIR;
    let newFSType: vfs.FilesystemType = this;
    const tmpfsOpts = opts.internalData instanceof FilesystemOpts ? opts.internalData : new FilesystemOpts();
    if (tmpfsOpts.rootFileType !== 0) rootFileType = tmpfsOpts.rootFileType;
    if (tmpfsOpts.filesystemType !== null) newFSType = tmpfsOpts.filesystemType;

    const mopts = vfs.genericParseMountOptions(opts.data ?? '');
    let rootMode = rootFileType === linux.S_IFDIR ? 0o1777 : 0o777;
    const modeStr = mopts.get('mode');
    if (modeStr !== undefined) {
      mopts.delete('mode');
      const mode = parseUint(modeStr, 8);
      if (mode === null) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: invalid mode: %s', modeStr);
        throw syserror.EINVAL;
      }
      rootMode = mode & 0o7777;
    }
    let rootKUID = creds.effectiveKUID;
    const uidStr = mopts.get('uid');
    if (uidStr !== undefined) {
      mopts.delete('uid');
      const uid = parseUint(uidStr, 10);
      if (uid === null) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: invalid uid: %s', uidStr);
        throw syserror.EINVAL;
      }
      const kuid = creds.userNamespace.mapToKUID(uid);
      if (!idOk(kuid)) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: unmapped uid: %d', uid);
        throw syserror.EINVAL;
      }
      rootKUID = kuid;
    }
    let rootKGID = creds.effectiveKGID;
    const gidStr = mopts.get('gid');
    if (gidStr !== undefined) {
      mopts.delete('gid');
      const gid = parseUint(gidStr, 10);
      if (gid === null) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: invalid gid: %s', gidStr);
        throw syserror.EINVAL;
      }
      const kgid = creds.userNamespace.mapToKGID(gid);
      if (!idOk(kgid)) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: unmapped gid: %d', gid);
        throw syserror.EINVAL;
      }
      rootKGID = kgid;
    }
    // size=, nr_blocks= and nr_inodes= (Linux's shmem_parse_one; gVisor at
    // dbe41765 rejects them): 0 means no limit.
    let maxPages = Infinity;
    let maxInodes = Infinity;
    for (const [key, percentOK] of [['size', true], ['nr_blocks', false], ['nr_inodes', false]] as const) {
      const str = mopts.get(key);
      if (str === undefined) continue;
      mopts.delete(key);
      const v = memparse(str, percentOK);
      if (v === null) {
        log.warningf('tmpfs.FilesystemType.getFilesystem: invalid %s: %s', key, str);
        throw syserror.EINVAL;
      }
      const n = key === 'size' ? Math.ceil(v / vfs.PageSize) : v;
      if (key === 'nr_inodes') maxInodes = n === 0 ? Infinity : n;
      else maxPages = n === 0 ? Infinity : n;
    }
    if (mopts.size !== 0) {
      log.warningf('tmpfs.FilesystemType.getFilesystem: unknown options: %o', [...mopts.keys()]);
      throw syserror.EINVAL;
    }

    const devMinor = vfsObj.getAnonBlockDevMinor();
    const fs = new filesystem(realtimeClock, devMinor);
    fs.pages.max = maxPages;
    fs.inodes.max = maxInodes;
    fs.vfsfs.init(vfsObj, newFSType, fs);

    let root: dentry;
    switch (rootFileType) {
      case linux.S_IFREG:
        root = fs.newDentry(newRegularFile(fs, rootKUID, rootKGID, rootMode));
        break;
      case linux.S_IFLNK:
        root = fs.newDentry(newSymlink(fs, rootKUID, rootKGID, rootMode, tmpfsOpts.rootSymlinkTarget));
        break;
      case linux.S_IFDIR:
        root = newDirectory(fs, rootKUID, rootKGID, rootMode).dentry;
        break;
      default:
        fs.vfsfs.decRef(ctx);
        log.warningf('invalid tmpfs root file type: %o', rootFileType);
        throw syserror.EINVAL;
    }
    fs.root = root;
    return [fs.vfsfs, root.vfsd];
  }
}

/** newFilesystem returns a new tmpfs filesystem. */
export function newFilesystem(
  ctx: Context, vfsObj: vfs.VirtualFilesystem, creds: Credentials,
): Promise<[vfs.Filesystem, vfs.Dentry]> {
  return new FilesystemType().getFilesystem(ctx, vfsObj, creds, '', {});
}

/** Clock is the part of gVisor's time.Clock tmpfs uses: the realtime clock in nanoseconds. */
export interface Clock {
  nowNanoseconds(): bigint;
}

// The realtime clock, with nanosecond resolution: Date.now() anchors it and
// process.hrtime advances it, so consecutive timestamps never go backwards
// and differ across calls (as CLOCK_REALTIME, save for wall-clock steps).
const hrtimeBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const realtimeClock: Clock = {
  nowNanoseconds(): bigint {
    return hrtimeBase + process.hrtime.bigint();
  },
};

/**
 * filesystem implements vfs.FilesystemImpl. Its path operations are in
 * filesystem.ts, in the order of gVisor's filesystem.go (declaration merging
 * puts them on this class, as Go puts methods of one type in several files).
 */
export class filesystem {
  readonly vfsfs = new vfs.Filesystem();

  /** mu serializes changes to the Dentry tree. */
  readonly mu = new RWMutex();

  nextInoMinusOne = 0;

  /**
   * pages counts the pages of all regular files against the size= mount
   * option; inodes counts inodes against nr_inodes= (Linux's
   * shmem_sb_info.max_blocks/max_inodes; gVisor at dbe41765 rejects both
   * options).
   */
  readonly pages = new pageAccount();
  readonly inodes = new pageAccount();

  root!: dentry;

  constructor(
    /** clock is a realtime clock used to set timestamps in file operations. */
    readonly clock: Clock,
    /** devMinor is the filesystem's minor device number. devMinor is immutable. */
    readonly devMinor: number,
  ) {}

  /**
   * release implements vfs.FilesystemImpl.release.
   *
   * Differs from gVisor: release is synchronous (it is called from a
   * reference drop), so it does not take fs.mu; no other reference to the
   * filesystem remains to race with it.
   */
  release(ctx: Context): void {
    this.vfsfs.virtualFilesystem().putAnonBlockDevMinor(this.devMinor);
    if (this.root.inode.isDir()) this.root.releaseChildrenLocked(ctx);
  }

  newDentry(i: inode): dentry {
    return new dentry(i);
  }

  /**
   * statfs returns globalStatfs, with the size= and nr_inodes= limits and
   * their use when the mount has them (Linux's shmem_statfs).
   */
  statfs(): Statfs {
    const s = globalStatfs();
    if (this.pages.max !== Infinity) {
      s.blocks = this.pages.max;
      s.blocksFree = s.blocksAvailable = Math.max(0, this.pages.max - this.pages.used);
    }
    if (this.inodes.max !== Infinity) {
      s.files = this.inodes.max;
      s.filesFree = Math.max(0, this.inodes.max - this.inodes.used);
    }
    return s;
  }
}

/**
 * globalStatfs returns tmpfs' statfs, the same for every tmpfs (a fresh
 * object each time, since callers may change it; gVisor's immutable
 * globalStatfs variable).
 */
export function globalStatfs(): Statfs {
  const s = newStatfs();
  s.type = TMPFS_MAGIC;
  s.blockSize = vfs.PageSize;
  s.fragmentSize = vfs.PageSize;
  s.nameLength = linux.NAME_MAX;
  // For a tmpfs mounted without size= (gVisor at dbe41765 does not support
  // one; filesystem.statfs() reports it when given). In Linux, such a tmpfs
  // mount will return f_blocks == f_bfree == f_bavail == 0 from statfs(2).
  // However, many applications treat this as having a size limit of 0. To
  // work around this, claim to have a very large but non-zero size, chosen to
  // ensure that BlockSize * Blocks does not overflow int64 (which
  // applications may also handle incorrectly). (Here: 2^53 bytes, the
  // largest exact number.)
  s.blocks = Math.floor(Number.MAX_SAFE_INTEGER / vfs.PageSize);
  s.blocksFree = s.blocks;
  s.blocksAvailable = s.blocks;
  return s;
}

/** dirEntry is a link in a directory's childList: a child dentry or an iteration cursor. */
export interface dirEntry {
  prev: dirEntry | null;
  next: dirEntry | null;
}

/**
 * dentry implements vfs.DentryImpl.
 *
 * tmpfs doesn't count references on dentries; because the dentry tree is the
 * sole source of truth, it is by definition always consistent with the state
 * of the filesystem. However, it does count references on inodes, because
 * inode resources are released when all references are dropped. dentry
 * therefore forwards reference counting directly to inode.
 */
export class dentry implements vfs.DentryImpl, dirEntry {
  readonly vfsd = new vfs.Dentry();

  /**
   * parent is this dentry's parent directory. If this dentry is a filesystem
   * root, parent is null. parent is protected by filesystem.mu.
   */
  parent: dentry | null = null;

  /**
   * name is the name of this dentry in its parent. If this dentry is a
   * filesystem root, name is the empty string. name is protected by
   * filesystem.mu.
   */
  name = '';

  // dentryEntry links dentries into their parent directory.childList.
  prev: dirEntry | null = null;
  next: dirEntry | null = null;

  /**
   * inode is the inode represented by this dentry. Multiple Dentries may
   * share a single non-directory inode (with hard links). inode is
   * immutable.
   */
  constructor(readonly inode: inode) {
    this.vfsd.init(this);
  }

  /** incRef implements vfs.DentryImpl.incRef. */
  incRef(): void {
    this.inode.incRef();
  }

  /** tryIncRef implements vfs.DentryImpl.tryIncRef. */
  tryIncRef(): boolean {
    return this.inode.tryIncRef();
  }

  /** decRef implements vfs.DentryImpl.decRef. */
  decRef(ctx: Context): void {
    this.inode.decRef(ctx);
  }

  /**
   * inotifyWithParent implements vfs.DentryImpl.inotifyWithParent.
   *
   * Differs from gVisor: no fs.mu read lock (this method is synchronous);
   * d.parent and d.name are read in one synchronous step, and tmpfs changes
   * them in one synchronous step, so no half-done rename can be observed.
   */
  inotifyWithParent(ctx: Context, events: number, cookie: number, et: vfs.EventType): void {
    if (this.inode.isDir()) events |= IN_ISDIR;
    // tmpfs never calls VFS.InvalidateDentry(), so d.vfsd.isDead() indicates
    // that d was deleted.
    const deleted = this.vfsd.isDead();
    // The ordering below is important, Linux always notifies the parent first.
    if (this.parent !== null) {
      this.parent.inode.watches.notify(ctx, this.name, events, cookie, et, deleted);
    }
    this.inode.watches.notify(ctx, '', events, cookie, et, deleted);
  }

  /** watches implements vfs.DentryImpl.watches. */
  watches(): vfs.Watches {
    return this.inode.watches;
  }

  /** onZeroWatches implements vfs.DentryImpl.onZeroWatches. */
  onZeroWatches(_ctx: Context): void {}

  /**
   * releaseChildrenLocked is called on the mount point by
   * filesystem.release() to destroy all objects in the mount. It performs a
   * depth-first walk of the filesystem and "unlinks" everything by
   * decrementing link counts appropriately. There should be no open file
   * descriptors when this is called, so each inode should only have one
   * outstanding reference that is removed once its link count hits zero.
   *
   * Note that we do not update filesystem state precisely while tearing down
   * (for instance, the child maps are ignored)--we only care to remove all
   * remaining references so that every filesystem object gets destroyed.
   *
   * Precondition: filesystem.mu is held (or, as here, nothing else can reach
   * the filesystem).
   */
  releaseChildrenLocked(ctx: Context): void {
    const dir = this.inode.impl as directory;
    for (const child of dir.childMap.values()) {
      if (child.inode.isDir()) {
        child.releaseChildrenLocked(ctx);
        child.inode.decLinksLocked(ctx); // link for child/.
        dir.inode.decLinksLocked(ctx); // link for child/..
      }
      child.inode.decLinksLocked(ctx); // link for child
    }
  }
}

/** inodeImpl is the type-specific part of an inode (gVisor's inode.impl interface{}). */
export type inodeImpl = regularFile | directory | symlink | namedPipe | socketFile | deviceFile;

/** maxLinks is the maximum link count (math.MaxUint32). */
export const maxLinks = 0xffffffff;

/**
 * inode represents a filesystem object.
 *
 * Differs from gVisor: timestamps are bigint nanoseconds (an int64 there; a
 * number cannot hold nanoseconds since 1970 exactly); inode.mu is left out
 * (see the package comment).
 */
export class inode {
  /**
   * A reference is held on all inodes as long as they are reachable in the
   * filesystem tree, i.e. nlink is nonzero. This reference is dropped when
   * nlink reaches 0. (gVisor's inodeRefs; InitRefs sets 1.)
   */
  refs = 1;

  /**
   * xattrs implements extended attributes (gVisor's
   * memxattr.SimpleExtendedAttributes: a map of names to values).
   */
  xattrs: Map<string, string> | null = null;

  mode: number; // file type and mode
  nlink = 0; // protected by filesystem.mu
  uid: KUID;
  gid: KGID;
  readonly ino: number;

  // Linux's tmpfs has no concept of btime.
  atime: bigint; // nanoseconds
  ctime: bigint; // nanoseconds
  mtime: bigint; // nanoseconds

  readonly locks = new vfs.FileLocks();

  /** Inotify watches for this inode. */
  readonly watches = new vfs.Watches();

  constructor(readonly impl: inodeImpl, readonly fs: filesystem, kuid: KUID, kgid: KGID, mode: number) {
    if ((mode & linux.S_IFMT) === 0) throw new Error('file type is required in FileMode');
    // shmem_reserve_inode: past nr_inodes, ENOSPC.
    if (fs.inodes.used >= fs.inodes.max) throw syserror.ENOSPC;
    fs.inodes.used++;
    this.mode = mode;
    this.uid = kuid;
    this.gid = kgid;
    this.ino = ++fs.nextInoMinusOne;
    // Tmpfs creation sets atime, ctime, and mtime to current time.
    const now = fs.clock.nowNanoseconds();
    this.atime = now;
    this.ctime = now;
    this.mtime = now;
    // i.nlink initialized by caller
  }

  /**
   * incLinksLocked increments i's link count.
   *
   * Preconditions:
   * * filesystem.mu must be locked for writing.
   * * i.nlink != 0.
   * * i.nlink < maxLinks.
   */
  incLinksLocked(): void {
    if (this.nlink === 0) throw new Error('tmpfs.inode.incLinksLocked() called with no existing links');
    if (this.nlink === maxLinks) throw new Error('tmpfs.inode.incLinksLocked() called with maximum link count');
    this.nlink++;
  }

  /**
   * decLinksLocked decrements i's link count. If the link count reaches 0, we
   * remove a reference on i as well.
   *
   * Preconditions:
   * * filesystem.mu must be locked for writing.
   * * i.nlink != 0.
   */
  decLinksLocked(ctx: Context): void {
    if (this.nlink === 0) throw new Error('tmpfs.inode.decLinksLocked() called with no existing links');
    if (--this.nlink === 0) this.decRef(ctx);
  }

  incRef(): void {
    if (this.refs <= 0) throw new Error('tmpfs.inode.incRef() on a released inode');
    this.refs++;
  }

  tryIncRef(): boolean {
    if (this.refs <= 0) return false;
    this.refs++;
    return true;
  }

  decRef(ctx: Context): void {
    if (--this.refs > 0) return;
    if (this.refs < 0) throw new Error('tmpfs.inode.decRef() with no references');
    this.fs.inodes.used--;
    this.watches.handleDeletion(ctx);
    if (this.impl instanceof regularFile) {
      // Release memory used by regFile to store data. Since regFile is no
      // longer usable, we don't need to update any metadata.
      this.impl.data.dropAll();
    }
  }

  checkPermissions(creds: Credentials, ats: vfs.AccessTypes): void {
    vfs.genericCheckPermissions(creds, ats, this.mode, this.uid, this.gid);
  }

  /**
   * statTo fills stat from i. (Go passes an output parameter to avoid
   * copying linux.Statx; here the caller allocates it once, likewise.)
   */
  statTo(stat: Statx): void {
    stat.mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_SIZE |
      STATX_BLOCKS | STATX_ATIME | STATX_CTIME | STATX_MTIME;
    stat.blksize = vfs.PageSize;
    stat.nlink = this.nlink;
    stat.uid = this.uid;
    stat.gid = this.gid;
    stat.mode = this.mode & 0xffff;
    stat.ino = this.ino;
    stat.atime = nsecToStatxTimestamp(this.atime);
    stat.ctime = nsecToStatxTimestamp(this.ctime);
    stat.mtime = nsecToStatxTimestamp(this.mtime);
    stat.devMajor = UNNAMED_MAJOR;
    stat.devMinor = this.fs.devMinor;
    const impl = this.impl;
    if (impl instanceof regularFile) {
      stat.size = impl.data.size;
      // Differs from gVisor (which derives it from the size): the 512-byte
      // blocks of the pages the file really holds, as Linux's shmem reports.
      stat.blocks = impl.data.blocks();
    } else if (impl instanceof directory) {
      // "20" is mm/shmem.c:BOGO_DIRENT_SIZE.
      stat.size = 20 * (2 + impl.numChildren);
      // stat.blocks is 0.
    } else if (impl instanceof symlink) {
      stat.size = Buffer.byteLength(impl.target, 'latin1');
      // stat.blocks is 0.
    } else if (impl instanceof deviceFile) {
      // stat.size and stat.blocks are 0.
      stat.rdevMajor = impl.major;
      stat.rdevMinor = impl.minor;
    }
    // namedPipe, socketFile: stat.size and stat.blocks are 0.
  }

  /** stat returns a new Statx for i. */
  stat(): Statx {
    const s = newStatx();
    this.statTo(s);
    return s;
  }

  /**
   * setStat changes i's metadata as opts says, after vfs.checkSetStat.
   *
   * Differs from gVisor: a size change in the mask (truncate(2),
   * ftruncate(2), open(O_TRUNC)) bumps mtime and ctime even when the size
   * does not change, as Linux does (do_truncate passes ATTR_MTIME|ATTR_CTIME;
   * gVisor at dbe41765 skips the bump for a same-size truncate).
   */
  setStat(ctx: Context, creds: Credentials, opts: vfs.SetStatOptions, mnt: vfs.Mount): void {
    const stat = opts.stat;
    if (stat.mask === 0) return;
    if ((stat.mask & ~(STATX_MODE | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME | STATX_CTIME | STATX_SIZE)) !== 0) {
      throw syserror.EPERM;
    }
    if ((stat.mask & STATX_SIZE) !== 0) {
      // Checked before anything changes (gVisor changes mode/uid/gid first,
      // then fails EISDIR/EINVAL with them changed; Linux's vfs_truncate
      // checks the type first, before EROFS).
      if (this.impl instanceof directory) throw syserror.EISDIR;
      if (!(this.impl instanceof regularFile)) throw syserror.EINVAL;
    }
    // Differs from gVisor at dbe41765: a read-only mount refuses metadata
    // changes (EROFS), before the permission checks, as Linux's
    // mnt_want_write in chmod_common, chown_common, utimes and vfs_truncate.
    mnt.checkBeginWrite();
    try {
      this.setStatLocked(ctx, creds, opts);
    } finally {
      mnt.endWrite();
    }
  }

  /** Preconditions: mnt.checkBeginWrite() has succeeded; the mask holds only supported bits. */
  private setStatLocked(ctx: Context, creds: Credentials, opts: vfs.SetStatOptions): void {
    const stat = opts.stat;
    vfs.checkSetStat(ctx, creds, opts, this.mode, this.uid, this.gid);
    let needsMtimeBump = false;
    let needsCtimeBump = false;
    const mask = stat.mask;
    if ((mask & STATX_SIZE) !== 0) {
      (this.impl as regularFile).truncateLocked(stat.size);
      removePrivs(ctx, this);
      needsMtimeBump = true;
      needsCtimeBump = true;
    }
    const ft = this.mode & linux.S_IFMT;
    if ((mask & STATX_MODE) !== 0) {
      // Linux's setattr_copy drops S_ISGID for a caller outside the file's
      // group without CAP_FSETID (a TODO in gVisor at dbe41765).
      const kgid = (mask & STATX_GID) !== 0 ? stat.gid : this.gid;
      this.mode = ft | vfs.clearSGIDForChmod(creds, stat.mode & ~linux.S_IFMT & 0xffff, kgid);
      needsCtimeBump = true;
    }
    if ((mask & STATX_UID) !== 0) {
      this.uid = stat.uid;
      needsCtimeBump = true;
    }
    if ((mask & STATX_GID) !== 0) {
      this.gid = stat.gid;
      needsCtimeBump = true;
    }
    if ((mask & (STATX_UID | STATX_GID)) !== 0 && (mask & STATX_MODE) === 0 && ft !== linux.S_IFDIR) {
      // chown(2) of a non-directory drops set-user-ID, and set-group-ID if
      // group-executable (fs/open.c:chown_common sets ATTR_KILL_SUID and
      // ATTR_KILL_SGID), whoever the caller.
      this.mode = ft | vfs.clearSUIDAndSGID(this.mode & ~linux.S_IFMT);
    }
    const now = this.fs.clock.nowNanoseconds();
    if ((mask & STATX_ATIME) !== 0) {
      this.atime = stat.atime.nsec === linux.UTIME_NOW ? now : statxTimestampToNsecCapped(stat.atime);
      needsCtimeBump = true;
    }
    if ((mask & STATX_MTIME) !== 0) {
      this.mtime = stat.mtime.nsec === linux.UTIME_NOW ? now : statxTimestampToNsecCapped(stat.mtime);
      needsCtimeBump = true;
      // Ignore the mtime bump, since we just set it ourselves.
      needsMtimeBump = false;
    }
    if ((mask & STATX_CTIME) !== 0) {
      this.ctime = stat.ctime.nsec === linux.UTIME_NOW ? now : statxTimestampToNsecCapped(stat.ctime);
      // Ignore the ctime bump, since we just set it ourselves.
      needsCtimeBump = false;
    }
    if (needsMtimeBump) this.mtime = now;
    if (needsCtimeBump) this.ctime = now;
  }

  direntType(): number {
    const impl = this.impl;
    if (impl instanceof regularFile) return linux.DT_REG;
    if (impl instanceof directory) return linux.DT_DIR;
    if (impl instanceof symlink) return linux.DT_LNK;
    if (impl instanceof socketFile) return linux.DT_SOCK;
    if (impl instanceof namedPipe) return linux.DT_FIFO;
    return impl.kind === vfs.BlockDevice ? linux.DT_BLK : linux.DT_CHR;
  }

  isDir(): boolean {
    return (this.mode & linux.S_IFMT) === linux.S_IFDIR;
  }

  touchAtime(mnt: vfs.Mount): void {
    if (mnt.flags.noATime) return;
    try {
      mnt.checkBeginWrite();
    } catch {
      return;
    }
    this.atime = this.fs.clock.nowNanoseconds();
    mnt.endWrite();
  }

  /** Preconditions: The caller has called vfs.Mount.checkBeginWrite(). */
  touchCtime(): void {
    this.ctime = this.fs.clock.nowNanoseconds();
  }

  /** Preconditions: The caller has called vfs.Mount.checkBeginWrite(). */
  touchCMtime(): void {
    const now = this.fs.clock.nowNanoseconds();
    this.mtime = now;
    this.ctime = now;
  }

  /** touchCMtimeLocked is touchCMtime (inode.mu is left out, see the package comment). */
  touchCMtimeLocked(): void {
    this.touchCMtime();
  }

  listXattr(size: number): string[] {
    // memxattr.SimpleExtendedAttributes.ListXattr.
    let listSize = 0;
    const names: string[] = [];
    if (this.xattrs !== null) {
      for (const n of this.xattrs.keys()) {
        names.push(n);
        // Add one byte per null terminator.
        listSize += Buffer.byteLength(n, 'latin1') + 1;
      }
    }
    if (size !== 0 && listSize > size) throw syserror.ERANGE;
    return names;
  }

  getXattr(creds: Credentials, opts: vfs.GetXattrOptions): string {
    this.checkXattrPermissions(creds, opts.name, vfs.MayRead);
    // memxattr.SimpleExtendedAttributes.GetXattr.
    const value = this.xattrs?.get(opts.name);
    if (value === undefined) throw syserror.ENODATA;
    // Check that the size of the buffer provided in getxattr(2) is large
    // enough to contain the value.
    if (opts.size !== 0 && value.length > opts.size) throw syserror.ERANGE;
    return value;
  }

  /** setXattr: EROFS on a read-only mount first, as Linux's path_setxattr (gVisor at dbe41765 does not check). */
  setXattr(creds: Credentials, opts: vfs.SetXattrOptions, mnt: vfs.Mount): void {
    // The change below is synchronous, so the write access need not be held
    // across it.
    mnt.checkBeginWrite();
    mnt.endWrite();
    this.checkXattrPermissions(creds, opts.name, vfs.MayWrite);
    // memxattr.SimpleExtendedAttributes.SetXattr.
    const flags = opts.flags ?? 0;
    if (this.xattrs === null) {
      if ((flags & linux.XATTR_REPLACE) !== 0) throw syserror.ENODATA;
      this.xattrs = new Map();
    }
    const ok = this.xattrs.has(opts.name);
    if (ok && (flags & linux.XATTR_CREATE) !== 0) throw syserror.EEXIST;
    if (!ok && (flags & linux.XATTR_REPLACE) !== 0) throw syserror.ENODATA;
    this.xattrs.set(opts.name, opts.value);
  }

  /** removeXattr: EROFS on a read-only mount first, as setXattr. */
  removeXattr(creds: Credentials, name: string, mnt: vfs.Mount): void {
    mnt.checkBeginWrite();
    mnt.endWrite();
    this.checkXattrPermissions(creds, name, vfs.MayWrite);
    // memxattr.SimpleExtendedAttributes.RemoveXattr.
    if (this.xattrs === null || !this.xattrs.delete(name)) throw syserror.ENODATA;
  }

  checkXattrPermissions(creds: Credentials, name: string, ats: vfs.AccessTypes): void {
    // We currently only support extended attributes in the user.* and
    // trusted.* namespaces. See b/148380782.
    if (!name.startsWith(linux.XATTR_USER_PREFIX) && !name.startsWith(linux.XATTR_TRUSTED_PREFIX)) {
      throw syserror.EOPNOTSUPP;
    }
    // Differs from gVisor (which checks the file's permission bits first):
    // Linux's xattr_permission rules on the namespace (trusted.* EPERM/ENODATA
    // without CAP_SYS_ADMIN, user.* EPERM on special files and others' sticky
    // directories) before inode_permission.
    vfs.checkXattrPermissions(creds, ats, this.mode, this.uid, name);
    vfs.genericCheckPermissions(creds, ats, this.mode, this.uid, this.gid);
    // Differs from gVisor: a bare namespace prefix ("user.") names no
    // attribute; Linux's xattr_resolve_name, run after xattr_permission,
    // rejects it with EINVAL.
    if (name === linux.XATTR_USER_PREFIX || name === linux.XATTR_TRUSTED_PREFIX) throw syserror.EINVAL;
  }
}

/** nsecToStatxTimestamp is linux.NsecToStatxTimestamp. */
export function nsecToStatxTimestamp(ns: bigint): StatxTimestamp {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

const maxInt64 = (1n << 63n) - 1n;
const minInt64 = -(1n << 63n);

/** statxTimestampToNsecCapped is linux.StatxTimestamp.ToNsecCapped: saturates at the int64 range. */
export function statxTimestampToNsecCapped(ts: StatxTimestamp): bigint {
  const ns = BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.nsec);
  if (ns > maxInt64) return maxInt64;
  if (ns < minInt64) return minInt64;
  return ns;
}

/**
 * memparse parses a size as Linux's memparse does for tmpfs options: digits
 * with an optional k, m, g, t, p or e suffix (either case), or, if
 * percentOK, a percentage of the memory (size=50%). null if invalid.
 */
function memparse(s: string, percentOK: boolean): number | null {
  const m = /^([0-9]+)([kKmMgGtTpPeE%]?)$/.exec(s);
  if (m === null) return null;
  const v = Number(m[1]);
  if (m[2] === '%') {
    if (!percentOK || v > 100) return null;
    return Math.floor((os.totalmem() * v) / 100);
  }
  const shift = ' kmgtpe'.indexOf((m[2] ?? '').toLowerCase() || ' ') * 10;
  const r = v * 2 ** shift;
  return Number.isSafeInteger(r) ? r : null;
}

/** parseUint is strconv.ParseUint(s, base, 32): null unless s is all digits of base and fits 32 bits. */
function parseUint(s: string, base: 8 | 10): number | null {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return null;
  const v = parseInt(s, base);
  return v > 0xffffffff ? null : v;
}

/**
 * fileDescription is extended by tmpfs implementations of
 * vfs.FileDescriptionImpl (gVisor embeds it, with
 * vfs.FileDescriptionDefaultImpl and vfs.LockFD).
 */
export abstract class fileDescription extends vfs.FileDescriptionDefaultImpl {
  readonly vfsfd = new vfs.FileDescription();
  readonly lockFD = new vfs.LockFD();

  filesystem(): filesystem {
    return this.vfsfd.mount().filesystem().impl as filesystem;
  }

  dentry(): dentry {
    return this.vfsfd.dentry().impl as dentry;
  }

  inode(): inode {
    return this.dentry().inode;
  }

  /** stat implements vfs.FileDescriptionImpl.stat. */
  override async stat(_ctx: Context, _opts: vfs.StatOptions): Promise<Statx> {
    return this.inode().stat();
  }

  /** setStat implements vfs.FileDescriptionImpl.setStat. */
  override async setStat(ctx: Context, opts: vfs.SetStatOptions): Promise<void> {
    const creds = credentialsFromContext(ctx);
    const d = this.dentry();
    d.inode.setStat(ctx, creds, opts, this.vfsfd.mount());
    const ev = vfs.inotifyEventFromStatMask(opts.stat.mask);
    if (ev !== 0) d.inotifyWithParent(ctx, ev, 0, vfs.InodeEvent);
  }

  /** statFS implements vfs.FileDescriptionImpl.statFS. */
  override async statFS(_ctx: Context): Promise<Statfs> {
    return this.filesystem().statfs();
  }

  /** listXattr implements vfs.FileDescriptionImpl.listXattr. */
  override async listXattr(_ctx: Context, size: number): Promise<string[]> {
    return this.inode().listXattr(size);
  }

  /** getXattr implements vfs.FileDescriptionImpl.getXattr. */
  override async getXattr(ctx: Context, opts: vfs.GetXattrOptions): Promise<string> {
    return this.inode().getXattr(credentialsFromContext(ctx), opts);
  }

  /** setXattr implements vfs.FileDescriptionImpl.setXattr. */
  override async setXattr(ctx: Context, opts: vfs.SetXattrOptions): Promise<void> {
    const d = this.dentry();
    d.inode.setXattr(credentialsFromContext(ctx), opts, this.vfsfd.mount());
    // Generate inotify events.
    d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
  }

  /** removeXattr implements vfs.FileDescriptionImpl.removeXattr. */
  override async removeXattr(ctx: Context, name: string): Promise<void> {
    const d = this.dentry();
    d.inode.removeXattr(credentialsFromContext(ctx), name, this.vfsfd.mount());
    // Generate inotify events.
    d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
  }

  /** lockBSD implements vfs.FileDescriptionImpl.lockBSD (vfs.LockFD). */
  override lockBSD(ctx: Context, uid: UniqueID, t: LockType, block: boolean): Promise<void> {
    return this.lockFD.lockBSD(ctx, uid, t, block);
  }

  /** unlockBSD implements vfs.FileDescriptionImpl.unlockBSD (vfs.LockFD). */
  override unlockBSD(ctx: Context, uid: UniqueID): Promise<void> {
    return this.lockFD.unlockBSD(ctx, uid);
  }

  /** lockPOSIX implements vfs.FileDescriptionImpl.lockPOSIX. */
  override lockPOSIX(
    ctx: Context, uid: UniqueID, t: LockType, start: number, length: number, whence: number, block: boolean,
  ): Promise<void> {
    return this.lockFD.locks().lockPOSIX(ctx, this.vfsfd, uid, t, start, length, whence, block);
  }

  /** unlockPOSIX implements vfs.FileDescriptionImpl.unlockPOSIX. */
  override unlockPOSIX(ctx: Context, uid: UniqueID, start: number, length: number, whence: number): Promise<void> {
    return this.lockFD.locks().unlockPOSIX(ctx, this.vfsfd, uid, start, length, whence);
  }

  /** sync implements vfs.FileDescriptionImpl.sync. It does nothing because all filesystem state is in-memory. */
  override async sync(_ctx: Context): Promise<void> {}
}

const log = logger('gvisor:vfs:tmpfs');

// The file-type modules come last: their classes extend fileDescription and
// use inode, defined above, and they import this module (Go has no import
// cycles inside a package; CommonJS resolves this one if the classes above
// exist before those modules run). filesystem.ts adds the path operations to
// filesystem's prototype.
import { deviceFile } from './device_file';
import { directory, newDirectory } from './directory';
import { namedPipe } from './named_pipe';
import { newRegularFile, pageAccount, regularFile, removePrivs } from './regular_file';
import { socketFile } from './socket_file';
import { newSymlink, symlink } from './symlink';
import './filesystem';
