// Package gofer provides a filesystem implementation that is backed by a 9p
// server, interchangably referred to as "gofers" throughout this package
// (gVisor's pkg/sentry/fsimpl/gofer/gofer.go).
//
// Lock order:
//   regularFileFD/directoryFD.mu
//     filesystem.renameMu
//       dentry.dirMu
//         filesystem.syncMu
//         dentry.metadataMu
//           *** "memmap.Mappable locks" below this point
//           dentry.mapsMu
//             *** "memmap.Mappable locks taken by Translate" below this point
//             dentry.handleMu
//               dentry.dataMu
//           filesystem.inoMu
//   specialFileFD.mu
//     specialFileFD.bufMu
//
// Locking dentry.dirMu in multiple dentries requires that either ancestor
// dentries are locked before descendant dentries, or that filesystem.renameMu
// is locked for writing.
//
// Differs from gVisor, and why:
//   - The locks are pkg/sync's async locks (DESIGN decision 1), taken with
//     tryLock first so that a cache hit never waits a tick. syncMu, inoMu,
//     mapsMu and dataMu guard only synchronous steps here (one JavaScript
//     thread cannot interleave inside them), so they are not objects.
//   - There is no page cache and no mmap (memmap/pgalloc are out of scope):
//     regular file data goes through the dentry's shared handles: pread/
//     pwrite on the host fd the gofer donated with the open (handle.ts;
//     fdpass.ts carries it), else Tread/Twrite in msize chunks. The fd lives
//     on the opened p9file, so readFD/writeFD/mmapFD stay -1.
//   - DentryImpl.decRef is synchronous (vfs/dentry.ts). When the count drops
//     to zero and renameMu is free, checkCachingLocked runs at once; when
//     another task holds renameMu (across an await), the dentry is queued
//     and checked as soon as renameMu can be locked. Clunks run in the
//     background (handle.ts trackClunk); filesystem.settled() waits for
//     both (tests' leak checks).
//   - Hard links share one inode (metadata, inotify watches, file locks)
//     keyed by QID path (gVisor issue #6739; gVisor gives each name its own
//     copy). Directories are never shared. A synthetic file (socket, device,
//     FIFO the server would not make) can be hard-linked too: each link is a
//     synthetic dentry holding the same inode (gVisor: EPERM or a crash).
//   - The connection is trans=fd (rfdno=wfdno, as gVisor) or, our addition,
//     a "unix:PATH" / "tcp:HOST:PORT" address given as the mount source or
//     as server=ADDRESS.
//   - save_restore.go is out of scope.

import * as nodefs from 'node:fs';

import * as linux from '../../../abi/linux/file';
import {
  STATX_ATIME, STATX_BLOCKS, STATX_BTIME, STATX_CTIME, STATX_GID, STATX_INO, STATX_MODE, STATX_MTIME,
  STATX_BASIC_STATS, STATX_NLINK, STATX_SIZE, STATX_TYPE, STATX_UID, UNNAMED_MAJOR, V9FS_MAGIC,
  type Statfs, type Statx, type StatxTimestamp,
} from '../../../abi/linux/stat';
import { CAP_FSETID } from '../../../abi/linux/capability';
import { IN_ATTRIB, IN_ISDIR } from '../../../abi/linux/inotify';
import { logger, type Context } from '../../../context';
import { Client } from '../../../p9/client';
import { Attr, AttrMask, SetAttr, SetAttrMask, fileModeFileType, toAllocateMode, uidOk, gidOk } from '../../../p9/p9';
import { HighestVersionString } from '../../../p9/version';
import { Mutex, RWMutex } from '../../../sync';
import * as syserror from '../../../syserror/syserror';
import type { UniqueID, LockType } from '../../fs/lock';
import { credentialsFromContext, OverflowGID, OverflowUID, type Credentials, type KGID, type KUID } from '../../kernel/auth';
import type { VFSPipe } from '../../kernel/pipe';
import * as vfs from '../../vfs';
import { clunksSettled, handle, openHandle, trackClunk } from './handle';
import { p9file } from './p9file';

const log = logger('gvisor:gofer');

/** Name is the default filesystem name. */
export const Name = '9p';

/** hostFsync is fsync(2) on a donated host fd, its error as a LinuxError. */
function hostFsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    nodefs.fsync(fd, (err) => (err === null ? resolve() : reject(syserror.fromNodeError(err))));
  });
}

/**
 * lazyClunks batches the clunks of destroyed dentries' fids. Differs from
 * gVisor, whose clunk is a synchronous call: a scan that evicts one cached
 * dentry per lookup (stat over a listing larger than the dentry cache)
 * would otherwise send each Tclunk in a socket write of its own; they go
 * out together once the event loop turns (setImmediate), or at once when
 * lazyClunkBatch are waiting. Open handles' fids are not delayed (closing
 * one may release host locks or a FIFO end).
 */
let lazyClunks: { files: p9file[]; resolve: (p: Promise<void>) => void } | null = null;
const lazyClunkBatch = 128;

function clunkLater(f: p9file): void {
  if (lazyClunks === null) {
    let resolve!: (p: Promise<void>) => void;
    trackClunk(new Promise<void>((r) => { resolve = r; }));
    lazyClunks = { files: [], resolve };
    setImmediate(flushLazyClunks);
  }
  lazyClunks.files.push(f);
  if (lazyClunks.files.length >= lazyClunkBatch) flushLazyClunks();
}

function flushLazyClunks(): void {
  const b = lazyClunks;
  if (b === null) return;
  lazyClunks = null;
  b.resolve(Promise.all(b.files.map((f) => f.close().catch(() => undefined))).then(() => undefined));
}

/**
 * assignedInoFloor: QID paths from here up are not used as inode numbers
 * (filesystem.inoFromQIDPath); numbers assigned count down from 2^53 and
 * are assumed never to reach it (2^52 assignments).
 */
const assignedInoFloor = 2n ** 52n;

/** InteropMode controls the client's interaction with other remote filesystem users. */
export enum InteropMode {
  /**
   * InteropModeExclusive is appropriate when the filesystem client is the
   * only user of the remote filesystem.
   *
   * - The client may cache arbitrary filesystem state (file data, metadata,
   * filesystem structure, etc.).
   *
   * - Client changes to filesystem state may be sent to the remote
   * filesystem asynchronously, except when server permission checks are
   * necessary.
   *
   * - File timestamps are based on client clocks. This ensures that users of
   * the client observe timestamps that are coherent with their own clocks
   * and consistent with Linux's semantics.
   */
  Exclusive = 0,

  /**
   * InteropModeWritethrough is appropriate when there are read-only users of
   * the remote filesystem that expect to observe changes made by the
   * filesystem client.
   *
   * - The client may cache arbitrary filesystem state.
   *
   * - Client changes to filesystem state must be sent to the remote
   * filesystem synchronously.
   *
   * - File timestamps are based on client clocks. As a corollary, access
   * timestamp changes from other remote filesystem users will not be visible
   * to the client.
   */
  Writethrough = 1,

  /**
   * InteropModeShared is appropriate when there are users of the remote
   * filesystem that may mutate its state other than the client.
   *
   * - The client must verify ("revalidate") cached filesystem state before
   * using it.
   *
   * - Client changes to filesystem state must be sent to the remote
   * filesystem synchronously.
   *
   * - File timestamps are based on server clocks. This is necessary to
   * ensure that timestamp changes are synchronized between remote filesystem
   * users.
   *
   * Note that the correctness of InteropModeShared depends on the server
   * correctly implementing 9P fids (i.e. each fid immutably represents a
   * single filesystem object), even in the presence of remote filesystem
   * mutations from other users. If this is violated, the behavior of the
   * client is undefined.
   */
  Shared = 2,
}

/** filesystemOptions are a filesystem's immutable options. */
export interface filesystemOptions {
  // "Standard" 9P options.
  /** address is what the client dials: "fd:R,W", "unix:PATH" or "tcp:HOST:PORT". */
  address: string;
  aname: string;
  /** interop is derived from the "cache" mount option. */
  interop: InteropMode;
  dfltuid: KUID;
  dfltgid: KGID;
  msize: number;
  version: string;

  /** maxCachedDentries is the maximum size of filesystem.cachedDentries. */
  maxCachedDentries: number;

  /** Accepted for compatibility; no page cache here, so they have no effect. */
  forcePageCache: boolean;
  limitHostFDTranslation: boolean;
  overlayfsStaleRead: boolean;

  /**
   * If regularFilesUseSpecialFileFD is true, application FDs representing
   * regular files will use distinct file handles for each FD, in the same
   * way that application FDs representing "special files" such as sockets
   * do. ("cache=none".)
   */
  regularFilesUseSpecialFileFD: boolean;
}

/**
 * InternalFilesystemOptions may be passed as
 * vfs.GetFilesystemOptions.internalData to FilesystemType.getFilesystem.
 */
export class InternalFilesystemOptions {
  /**
   * If leakConnection is true, do not close the connection to the server
   * when the Filesystem is released.
   */
  leakConnection = false;

  /**
   * If openSocketsByConnecting is true, silently translate attempts to open
   * files identifying as sockets to connect RPCs (which fail here: no host
   * fds in Node).
   */
  openSocketsByConnecting = false;

  constructor(init: Partial<InternalFilesystemOptions> = {}) {
    Object.assign(this, init);
  }
}

// _V9FS_DEFUID and _V9FS_DEFGID (from Linux's fs/9p/v9fs.h) are the default
// UIDs and GIDs used for files that do not provide a specific owner or group
// respectively.
const _V9FS_DEFUID: KUID = 4294967294;
const _V9FS_DEFGID: KGID = 4294967294;

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
    ctx: Context, vfsObj: vfs.VirtualFilesystem, creds: Credentials, source: string, opts: vfs.GetFilesystemOptions,
  ): Promise<[vfs.Filesystem, vfs.Dentry]> {
    const mopts = vfs.genericParseMountOptions(opts.data ?? '');
    const fsopts = parseFilesystemOptions(mopts, source);

    // Handle internal options.
    let iopts = new InternalFilesystemOptions();
    if (opts.internalData !== undefined && opts.internalData !== null) {
      if (!(opts.internalData instanceof InternalFilesystemOptions)) {
        log.warningf('gofer.FilesystemType.getFilesystem: GetFilesystemOptions.internalData is not a gofer.InternalFilesystemOptions');
        throw syserror.EINVAL;
      }
      iopts = opts.internalData;
    }

    // Construct the filesystem object.
    const devMinor = vfsObj.getAnonBlockDevMinor();
    const fs = new filesystem(fsopts, iopts, devMinor, ctx);
    fs.vfsfs.init(vfsObj, this, fs);

    // Connect to the server.
    try {
      await fs.dial(ctx);
    } catch (err) {
      fs.vfsfs.decRef(ctx);
      throw err;
    }

    // Perform attach to obtain the filesystem root. Differs from gVisor,
    // which attaches as NoUID: we attach as the mounting user, as Linux's
    // v9fs does (access=user); diod refuses NoUID.
    let attachFile: p9file;
    try {
      attachFile = new p9file(await fs.client!.attach(fsopts.aname, creds.effectiveKUID));
    } catch (err) {
      fs.vfsfs.decRef(ctx);
      throw err;
    }
    let root: dentry;
    try {
      const [qid, attrMask, attr] = await attachFile.getAttr(ctx, dentryAttrMask());
      // Construct the root dentry.
      root = fs.newDentry(ctx, attachFile, qid.path, attrMask, attr);
    } catch (err) {
      trackClunk(attachFile.close(ctx));
      fs.vfsfs.decRef(ctx);
      throw err;
    }
    // Set the root's reference count to 2. One reference is returned to the
    // caller, and the other is held by fs to prevent the root from being
    // "cached" and subsequently evicted.
    root.refs = 2;
    fs.root = root;
    return [fs.vfsfs, root.vfsd];
  }
}

/**
 * parseFilesystemOptions parses the mount options of a "9p" mount as
 * gVisor's GetFilesystem does (and Linux's v9fs for the standard ones).
 */
export function parseFilesystemOptions(mopts: Map<string, string>, source: string): filesystemOptions {
  const address = getAddressFromMountOptionsMap(mopts, source);
  const fsopts: filesystemOptions = {
    address,
    aname: '/',
    interop: InteropMode.Exclusive,
    dfltuid: _V9FS_DEFUID,
    dfltgid: _V9FS_DEFGID,
    msize: 1024 * 1024, // 1M, tested to give good enough performance up to 64M
    version: HighestVersionString(),
    maxCachedDentries: 1000,
    forcePageCache: false,
    limitHostFDTranslation: false,
    overlayfsStaleRead: false,
    regularFilesUseSpecialFileFD: false,
  };

  // Get the attach name.
  const aname = mopts.get('aname');
  if (aname !== undefined) {
    mopts.delete('aname');
    fsopts.aname = aname;
  }

  // Parse the cache policy. For historical reasons, this defaults to the
  // least generally-applicable option, InteropModeExclusive.
  const cache = mopts.get('cache');
  if (cache !== undefined) {
    mopts.delete('cache');
    switch (cache) {
      case 'fscache':
        fsopts.interop = InteropMode.Exclusive;
        break;
      case 'fscache_writethrough':
        fsopts.interop = InteropMode.Writethrough;
        break;
      case 'none':
        fsopts.regularFilesUseSpecialFileFD = true;
        fsopts.interop = InteropMode.Shared;
        break;
      case 'remote_revalidating':
        fsopts.interop = InteropMode.Shared;
        break;
      default:
        log.warningf('gofer.FilesystemType.GetFilesystem: invalid cache policy: cache=%s', cache);
        throw syserror.EINVAL;
    }
  }

  // Parse the default UID and GID.
  const dfltuid = mopts.get('dfltuid');
  if (dfltuid !== undefined) {
    mopts.delete('dfltuid');
    const v = parseUint(dfltuid, 0xffffffff);
    if (v === null) {
      log.warningf('gofer.FilesystemType.GetFilesystem: invalid default UID: dfltuid=%s', dfltuid);
      throw syserror.EINVAL;
    }
    // In Linux, dfltuid is interpreted as a UID and is converted to a KUID
    // in the caller's user namespace, but goferfs isn't
    // application-mountable.
    fsopts.dfltuid = v;
  }
  const dfltgid = mopts.get('dfltgid');
  if (dfltgid !== undefined) {
    mopts.delete('dfltgid');
    const v = parseUint(dfltgid, 0xffffffff);
    if (v === null) {
      log.warningf('gofer.FilesystemType.GetFilesystem: invalid default UID: dfltgid=%s', dfltgid);
      throw syserror.EINVAL;
    }
    fsopts.dfltgid = v;
  }

  // Parse the 9P message size.
  const msize = mopts.get('msize');
  if (msize !== undefined) {
    mopts.delete('msize');
    const v = parseUint(msize, 0xffffffff);
    if (v === null) {
      log.warningf('gofer.FilesystemType.GetFilesystem: invalid message size: msize=%s', msize);
      throw syserror.EINVAL;
    }
    fsopts.msize = v;
  }

  // Parse the 9P protocol version.
  const version = mopts.get('version');
  if (version !== undefined) {
    mopts.delete('version');
    fsopts.version = version;
  }

  // Parse the dentry cache limit.
  const limit = mopts.get('dentry_cache_limit');
  if (limit !== undefined) {
    mopts.delete('dentry_cache_limit');
    const v = parseUint(limit, Number.MAX_SAFE_INTEGER);
    if (v === null) {
      log.warningf('gofer.FilesystemType.GetFilesystem: invalid dentry cache limit: dentry_cache_limit=%s', limit);
      throw syserror.EINVAL;
    }
    fsopts.maxCachedDentries = v;
  }

  // Handle simple flags.
  if (mopts.has('force_page_cache')) {
    mopts.delete('force_page_cache');
    fsopts.forcePageCache = true;
  }
  if (mopts.has('limit_host_fd_translation')) {
    mopts.delete('limit_host_fd_translation');
    fsopts.limitHostFDTranslation = true;
  }
  if (mopts.has('overlayfs_stale_read')) {
    mopts.delete('overlayfs_stale_read');
    fsopts.overlayfsStaleRead = true;
  }
  // fsopts.regularFilesUseSpecialFileFD can only be enabled by specifying
  // "cache=none".

  // Check for unparsed options.
  if (mopts.size !== 0) {
    log.warningf('gofer.FilesystemType.GetFilesystem: unknown options: %o', [...mopts.keys()]);
    throw syserror.EINVAL;
  }
  return fsopts;
}

function parseUint(s: string, max: number): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const v = Number(s);
  return v > max ? null : v;
}

/**
 * getAddressFromMountOptionsMap is gVisor's getFDFromMountOptionsMap, plus
 * our addresses: server=ADDRESS, or a source that is one.
 */
function getAddressFromMountOptionsMap(mopts: Map<string, string>, source: string): string {
  const server = mopts.get('server');
  if (server !== undefined) {
    mopts.delete('server');
    if (mopts.has('trans')) {
      log.warningf('gofer.getFDFromMountOptionsMap: server= and trans= are exclusive');
      throw syserror.EINVAL;
    }
    return checkAddress(server);
  }
  if (!mopts.has('trans') && /^(unix|tcp):/.test(source)) return checkAddress(source);

  // Check that the transport is "fd".
  const trans = mopts.get('trans');
  if (trans !== 'fd') {
    log.warningf("gofer.getFDFromMountOptionsMap: transport must be specified as 'trans=fd'");
    throw syserror.EINVAL;
  }
  mopts.delete('trans');

  // Check that read and write FDs are provided and identical.
  const rfdstr = mopts.get('rfdno');
  if (rfdstr === undefined) {
    log.warningf("gofer.getFDFromMountOptionsMap: read FD must be specified as 'rfdno=<file descriptor>'");
    throw syserror.EINVAL;
  }
  mopts.delete('rfdno');
  const rfd = parseUint(rfdstr, 0x7fffffff);
  if (rfd === null) {
    log.warningf('gofer.getFDFromMountOptionsMap: invalid read FD: rfdno=%s', rfdstr);
    throw syserror.EINVAL;
  }
  const wfdstr = mopts.get('wfdno');
  if (wfdstr === undefined) {
    log.warningf("gofer.getFDFromMountOptionsMap: write FD must be specified as 'wfdno=<file descriptor>'");
    throw syserror.EINVAL;
  }
  mopts.delete('wfdno');
  const wfd = parseUint(wfdstr, 0x7fffffff);
  if (wfd === null) {
    log.warningf('gofer.getFDFromMountOptionsMap: invalid write FD: wfdno=%s', wfdstr);
    throw syserror.EINVAL;
  }
  if (rfd !== wfd) {
    log.warningf('gofer.getFDFromMountOptionsMap: read FD (%d) and write FD (%d) must be equal', rfd, wfd);
    throw syserror.EINVAL;
  }
  return `fd:${rfd},${wfd}`;
}

function checkAddress(a: string): string {
  if (!/^(unix:.+|tcp:.+:[0-9]+)$/.test(a)) {
    log.warningf('gofer: invalid server address %s (want unix:PATH or tcp:HOST:PORT)', a);
    throw syserror.EINVAL;
  }
  return a;
}

/** specialFileFDLike is what filesystem needs of special_file.ts's specialFileFD. */
export interface specialFileFDLike {
  readonly vfsfd: vfs.FileDescription;
  readonly handle: handle;
  syncFD(ctx: Context, forFilesystemSync: boolean): Promise<void>;
}

/**
 * filesystem implements vfs.FilesystemImpl. The path operations are added to
 * its prototype by filesystem.ts (Go defines methods of one type in several
 * files).
 */
export class filesystem {
  readonly vfsfs = new vfs.Filesystem();

  /** Immutable options. */
  readonly opts: filesystemOptions;
  readonly iopts: InternalFilesystemOptions;

  /** client is the client used by this filesystem. client is immutable once dialed. */
  client: Client | null = null;

  /** devMinor is the filesystem's minor device number. devMinor is immutable. */
  readonly devMinor: number;

  /** root is the root dentry. root is immutable. */
  root!: dentry;

  /**
   * renameMu serves two purposes:
   *
   * - It synchronizes path resolution with renaming initiated by this
   * client.
   *
   * - It is held by path resolution to ensure that reachable dentries remain
   * valid. A dentry is reachable by path resolution if it has a non-zero
   * reference count (such that it is usable as vfs.ResolvingPath.start() or
   * is reachable from its children), or if it is a child dentry (such that
   * it is reachable from its parent).
   */
  readonly renameMu = new RWMutex();

  /**
   * cachedDentries contains all dentries with 0 references, least recently
   * used first (gVisor's list, most recent at the front; a Set keeps
   * insertion order, so re-adding moves to the back). It is protected by
   * renameMu.
   */
  readonly cachedDentries = new Set<dentry>();

  /**
   * syncableDentries contains the dentries that hold open handles (gVisor:
   * all non-synthetic dentries; without a page cache, a dentry with no
   * handle has nothing to sync, and tracking only these keeps idle cached
   * dentries small). remoteDentries counts live non-synthetic dentries.
   * specialFileFDs
   * contains all open specialFileFDs. (gVisor: protected by syncMu.)
   */
  readonly syncableDentries = new Set<dentry>();
  remoteDentries = 0;
  readonly specialFileFDs = new Set<specialFileFDLike>();

  /**
   * inoByQIDPath maps previously-observed QID.Paths to inode numbers
   * assigned to those paths (only QID paths that are not inode numbers
   * themselves: see inoFromQIDPath).
   */
  readonly inoByQIDPath = new Map<bigint, number>();

  /**
   * lastIno is the last inode number assigned to a file. Differs from
   * gVisor: assigned numbers count down from 2^53 (see inoFromQIDPath).
   */
  lastIno = 2 ** 53;

  /**
   * inodeByQIDPath maps the QID path of every non-directory file known to
   * have several links (nlink > 1 when its dentry was made, or linked by
   * this client) to its shared inode (hard links; our addition).
   */
  readonly inodeByQIDPath = new Map<bigint, inode>();

  /** released is true once filesystem.release has been called. */
  released = false;

  /** pendingCaching holds dentries whose refs dropped to 0 while renameMu was busy. */
  private readonly pendingCaching: dentry[] = [];
  private draining: Promise<void> | null = null;

  /** bgCtx is the context background work (queued caching checks) runs with. */
  readonly bgCtx: Context;

  /** closed settles once the connection is closed after release. */
  closed: Promise<void> = Promise.resolve();

  /** liveDentries counts dentries not yet destroyed (leak checks). */
  liveDentries = 0;

  constructor(opts: filesystemOptions, iopts: InternalFilesystemOptions, devMinor: number, ctx: Context) {
    this.opts = opts;
    this.iopts = iopts;
    this.devMinor = devMinor;
    this.bgCtx = ctx;
  }

  /**
   * dial connects to the server and negotiates the version.
   *
   * Preconditions: fs.client === null.
   */
  async dial(_ctx: Context): Promise<void> {
    this.client = await Client.connect(this.opts.address, { msize: this.opts.msize, version: this.opts.version });
  }

  /** release implements vfs.FilesystemImpl.release. */
  release(ctx: Context): void {
    this.released = true;
    // No dirty cached data to write back (no page cache); handles are
    // closed as their dentries are destroyed below.
    if (this.root !== undefined && this.renameMu.tryLock()) {
      this.root.releaseSyntheticRecursiveLocked(ctx);
      this.evictAllCachedDentriesLocked(ctx);
      this.renameMu.unlock();
      // An extra reference was held by the filesystem on the root to
      // prevent it from being cached/evicted.
      this.root.decRef(ctx);
    }
    const client = this.client;
    if (client !== null && !this.iopts.leakConnection) {
      // Close the connection to the server once the clunks sent above are
      // answered. Closing implicitly clunks all fids.
      this.closed = clunksSettled().then(() => client.close()).catch(() => undefined);
    }
    this.vfsfs.virtualFilesystem().putAnonBlockDevMinor(this.devMinor);
  }

  /**
   * newDentry creates a new dentry representing the given file. The dentry
   * initially has no references, but is not cached; it is the caller's
   * responsibility to set the dentry's reference count and/or call
   * dentry.checkCachingLocked() as appropriate.
   *
   * Preconditions: !file.isNil().
   */
  newDentry(_ctx: Context, file: p9file, qidPath: bigint, mask: AttrMask, attr: Attr): dentry {
    if (!mask.mode) {
      log.warningf("can't create gofer.dentry without file type");
      throw syserror.EIO;
    }
    const ftype = fileModeFileType(attr.mode);
    if (ftype === linux.S_IFREG && !mask.size) {
      log.warningf("can't create regular file gofer.dentry without file size");
      throw syserror.EIO;
    }
    let ino: inode | undefined;
    // A file registered as multi-linked stays shared even if its other names
    // are gone now (its open files must see the link count drop to 0).
    const multiLink = ftype !== linux.S_IFDIR &&
      ((mask.nLink && attr.nLink > 1) || this.inodeByQIDPath.has(qidPath));
    if (multiLink) {
      ino = this.inodeByQIDPath.get(qidPath);
      if (ino !== undefined && ino.fileType() === ftype) {
        // Another name of the same file (a hard link): share its metadata.
        ino.updateFromP9AttrsLocked(mask, attr);
      } else {
        ino = undefined;
      }
    }
    if (ino === undefined) {
      ino = new inode(this.inoFromQIDPath(qidPath), attr.mode, this.opts.dfltuid, this.opts.dfltgid);
      ino.qidPath = qidPath;
      ino.initFromP9Attrs(mask, attr);
      if (multiLink) this.inodeByQIDPath.set(qidPath, ino);
    }
    const d = new dentry(this, ino, file, qidPath);
    this.remoteDentries++;
    return d;
  }

  /**
   * inoFromQIDPath returns the inode number of the file with QID path qidPath.
   *
   * Differs from gVisor at dbe41765, which numbers every file in the order
   * it first sees it and remembers the number in inoByQIDPath forever (its
   * numbers must survive checkpoint/restore, where QIDs may change): that
   * map grows by one entry per file ever seen, about 6 MiB per 100,000
   * files, so memory is not flat while walking a large tree. Save/restore is
   * out of scope here, so a QID path that is a positive safe integer is the
   * inode number itself: stable for as long as the server keeps the QID, and
   * for fsgofer's first host device and for diod it is the host's st_ino.
   * Other QID paths (fsgofer's further devices, dev << 56) are mapped as
   * gVisor does, to numbers counted down from 2^53 (nextIno), far above any
   * inode number a real Linux filesystem hands out.
   */
  inoFromQIDPath(qidPath: bigint): number {
    if (qidPath > 0n && qidPath < assignedInoFloor) return Number(qidPath);
    const ino = this.inoByQIDPath.get(qidPath);
    if (ino !== undefined) return ino;
    const n = this.nextIno();
    this.inoByQIDPath.set(qidPath, n);
    return n;
  }

  /** nextIno assigns an inode number (a synthetic file, or inoFromQIDPath). */
  nextIno(): number {
    return --this.lastIno;
  }

  /** cachedDentriesLen is the number of dentries in cachedDentries. */
  get cachedDentriesLen(): number {
    return this.cachedDentries.size;
  }

  /**
   * evictAllCachedDentriesLocked evicts every cached dentry.
   *
   * Preconditions: fs.renameMu must be locked for writing.
   */
  evictAllCachedDentriesLocked(ctx: Context): void {
    while (this.cachedDentries.size !== 0) this.evictCachedDentryLocked(ctx);
  }

  /**
   * evictCachedDentryLocked evicts the least recently used cached dentry,
   * releasing its fids.
   *
   * Preconditions:
   * * fs.renameMu must be locked for writing.
   * * fs.cachedDentriesLen !== 0.
   */
  evictCachedDentryLocked(ctx: Context): void {
    const victim = this.cachedDentries.values().next().value as dentry;
    victim.removeFromCacheLocked();
    // victim.refs may have become non-zero from an earlier path resolution
    // since it was inserted into fs.cachedDentries.
    if (victim.refs === 0 && victim.inode.watchesSize() === 0) {
      if (victim.parent !== null) {
        // With renameMu locked for writing no task holds any dirMu (every
        // holder of a dirMu holds renameMu), so victim.parent.dirMu is free
        // and taking it would change nothing observable.
        if (!victim.vfsd.isDead()) {
          // Note that victim can't be a mount point (in any mount
          // namespace), since VFS holds references on mount points.
          this.vfsfs.virtualFilesystem().invalidateDentry(ctx, victim.vfsd);
          victim.parent.children?.delete(victim.name);
          // victim.refs may have become non-zero due to the above.
        }
      }
      victim.destroyLocked(ctx);
    }
  }

  /**
   * checkCachingSoon runs d.checkCachingLocked with renameMu locked for
   * writing: now if renameMu is free, else as soon as it can be locked (see
   * the module comment).
   */
  checkCachingSoon(ctx: Context, d: dentry): void {
    if (this.renameMu.tryLock()) {
      try {
        d.checkCachingLocked(ctx);
      } finally {
        this.renameMu.unlock();
      }
      return;
    }
    this.pendingCaching.push(d);
    if (this.draining === null) this.draining = this.drainPendingCaching();
  }

  private async drainPendingCaching(): Promise<void> {
    await this.renameMu.lock();
    try {
      while (this.pendingCaching.length !== 0) {
        this.pendingCaching.shift()!.checkCachingLocked(this.bgCtx);
      }
    } finally {
      this.draining = null;
      this.renameMu.unlock();
    }
  }

  /**
   * settled resolves once every deferred caching check has run and every
   * clunk has been answered by the server (leak checks in tests).
   */
  async settled(): Promise<void> {
    for (;;) {
      if (this.draining !== null) await this.draining;
      await clunksSettled();
      if (this.draining === null && this.pendingCaching.length === 0) return;
    }
  }

  /**
   * fidCount returns the number of fids this filesystem holds on the server:
   * one per live non-synthetic dentry, plus its distinct open handles, plus
   * the special files' handles.
   */
  fidCount(): number {
    let n = this.remoteDentries;
    for (const d of this.syncableDentries) {
      if (!d.readFile.isNil()) n++;
      if (!d.writeFile.isNil() && d.writeFile !== d.readFile) n++;
    }
    for (const sffd of this.specialFileFDs) if (sffd.handle.isOpen()) n++;
    return n;
  }
}

/**
 * inode holds the metadata of one file, shared by all of its dentries (hard
 * links; our addition, see the module comment). Its fields are gVisor's
 * dentry metadata fields, protected by metadataMu.
 */
export class inode {
  /** metadataMu protects the fields below (allocated on first use, as locks). */
  private _metadataMu: Mutex | null = null;
  get metadataMu(): Mutex {
    return (this._metadataMu ??= new Mutex());
  }

  /** qidPath is the QID path the inode is registered under (-1n: synthetic). */
  qidPath = -1n;

  /** ino is the inode number. Immutable. */
  readonly ino: number;
  /** mode's type is immutable, perms are mutable. */
  mode: number;
  uid: KUID;
  gid: KGID;
  /** blockSize is 0 if unknown. */
  blockSize = 4096;

  /** Timestamps, all nsecs from the Unix epoch. */
  atime = 0n;
  mtime = 0n;
  ctime = 0n;
  btime = 0n;

  /** File size. */
  size = 0;

  /**
   * rdevMajor/rdevMinor are the device a synthetic character or block
   * device file stands for (not in gVisor at our commit, which has no
   * synthetic devices).
   */
  rdevMajor = 0;
  rdevMinor = 0;

  /**
   * endpoint and pipe are a synthetic socket's bound endpoint and a
   * synthetic named pipe's pipe (gVisor's dentry.endpoint and dentry.pipe;
   * here in the inode, shared by the file's hard links: see dentry).
   */
  endpoint: vfs.BoundEndpoint | null = null;
  pipe: VFSPipe | null = null;

  /**
   * If this inode does not represent a synthetic file, its dentries are not
   * deleted, and atimeDirty/mtimeDirty are set, atime/mtime may have
   * diverged from the remote file's timestamps.
   */
  atimeDirty = false;
  mtimeDirty = false;

  /** nlink counts the number of hard links to this file. */
  nlink = 0;

  /**
   * nlinkKnown is true once the server sent a link count (or the file is
   * synthetic). gVisor uses nlink === 0 for "the remote filesystem doesn't
   * support link count", which makes an unlinked file's or a removed
   * directory's 0 read as 1; Linux shows 0 (v9fs_remove's
   * clear_nlink/drop_nlink), so we keep the two apart.
   */
  nlinkKnown = false;

  // locks and watches are allocated on first use: most cached files never
  // have either, and they are the largest part of an idle dentry.
  private _locks: vfs.FileLocks | null = null;
  private _watches: vfs.Watches | null = null;

  /** locks are the file's advisory locks. */
  get locks(): vfs.FileLocks {
    return (this._locks ??= new vfs.FileLocks());
  }

  /** watches are the inotify watches for this file. */
  get watches(): vfs.Watches {
    return (this._watches ??= new vfs.Watches());
  }

  /** watchesOrNull returns the watches if any were ever added (vfs.inotify* accept null). */
  watchesOrNull(): vfs.Watches | null {
    return this._watches;
  }

  /** watchesSize is watches.size(), without allocating them. */
  watchesSize(): number {
    return this._watches === null ? 0 : this._watches.size();
  }

  /** notify is watches.notify, without allocating them. */
  notify(ctx: Context, name: string, events: number, cookie: number, et: vfs.EventType, unlinked: boolean): void {
    if (this._watches !== null) this._watches.notify(ctx, name, events, cookie, et, unlinked);
  }

  /** handleDeletion is watches.handleDeletion, without allocating them. */
  handleDeletion(ctx: Context): void {
    if (this._watches !== null) this._watches.handleDeletion(ctx);
  }

  /** dentries is the number of live dentries sharing this inode. */
  dentries = 0;

  constructor(ino: number, mode: number, uid: KUID, gid: KGID) {
    this.ino = ino;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
  }

  fileType(): number {
    return this.mode & linux.S_IFMT;
  }

  /** initFromP9Attrs is newDentry's part that fills the metadata. */
  initFromP9Attrs(mask: AttrMask, attr: Attr): void {
    if (mask.uid) this.uid = dentryUIDFromP9UID(attr.uid);
    if (mask.gid) this.gid = dentryGIDFromP9GID(attr.gid);
    if (mask.size) this.size = attr.size;
    if (attr.blockSize !== 0) this.blockSize = attr.blockSize;
    if (mask.aTime) this.atime = dentryTimestampFromP9(attr.aTimeSeconds, attr.aTimeNanoSeconds);
    if (mask.mTime) this.mtime = dentryTimestampFromP9(attr.mTimeSeconds, attr.mTimeNanoSeconds);
    if (mask.cTime) this.ctime = dentryTimestampFromP9(attr.cTimeSeconds, attr.cTimeNanoSeconds);
    if (mask.bTime) this.btime = dentryTimestampFromP9(attr.bTimeSeconds, attr.bTimeNanoSeconds);
    if (mask.nLink) {
      this.nlink = attr.nLink;
      this.nlinkKnown = true;
    }
  }

  /**
   * updateFromP9AttrsLocked is called to update the metadata after an update
   * from the remote filesystem.
   *
   * Precondition: metadataMu must be locked.
   *
   * Differs from gVisor: a changed file type is logged and ignored where
   * gVisor panics; revalidation treats a type change as a different file
   * (filesystem.ts revalidateChildLocked), so this is only reachable by a
   * misbehaving server.
   */
  updateFromP9AttrsLocked(mask: AttrMask, attr: Attr): void {
    if (mask.mode) {
      const got = fileModeFileType(attr.mode);
      if (got !== this.fileType()) {
        log.warningf('gofer.dentry file type changed from %o to %o; ignored', this.fileType(), got);
      } else {
        this.mode = attr.mode;
      }
    }
    if (mask.uid) this.uid = dentryUIDFromP9UID(attr.uid);
    if (mask.gid) this.gid = dentryGIDFromP9GID(attr.gid);
    // There is no P9_GETATTR_* bit for I/O block size.
    if (attr.blockSize !== 0) this.blockSize = attr.blockSize;
    // Don't override newer client-defined timestamps with old server-defined
    // ones.
    if (mask.aTime && !this.atimeDirty) this.atime = dentryTimestampFromP9(attr.aTimeSeconds, attr.aTimeNanoSeconds);
    if (mask.mTime && !this.mtimeDirty) this.mtime = dentryTimestampFromP9(attr.mTimeSeconds, attr.mTimeNanoSeconds);
    if (mask.cTime) this.ctime = dentryTimestampFromP9(attr.cTimeSeconds, attr.cTimeNanoSeconds);
    if (mask.bTime) this.btime = dentryTimestampFromP9(attr.bTimeSeconds, attr.bTimeNanoSeconds);
    if (mask.nLink) {
      this.nlink = attr.nLink;
      this.nlinkKnown = true;
    }
    if (mask.size) this.updateSizeLocked(attr.size);
  }

  /**
   * updateSizeLocked sets the size. (gVisor also invalidates mappings and
   * truncates the page cache; there is neither here.)
   *
   * Preconditions: metadataMu must be locked.
   */
  updateSizeLocked(newSize: number): void {
    this.size = newSize;
  }
}

/**
 * shouldDropSGID is Linux's setattr_should_drop_sgid (fs/attr.c, since
 * 6.2): a set-group-ID file loses S_ISGID on write, truncate or chown when
 * it is group-executable, or when the caller is neither in its group nor
 * has CAP_FSETID over it. (vfs.clearSUIDAndSGID, which tmpfs uses, is the
 * older rule: group-executable only; the host kernel, our oracle, is 6.x.)
 */
export function shouldDropSGID(creds: Credentials, mode: number, kuid: KUID, kgid: KGID): boolean {
  if ((mode & linux.S_ISGID) === 0) return false;
  if ((mode & linux.S_IXGRP) !== 0) return true;
  return !creds.inGroup(kgid) && !vfs.hasCapabilityOnFile(creds, CAP_FSETID, kuid, kgid);
}

/** dentryAttrMask returns a p9.AttrMask enabling all attributes used by the gofer client. */
export function dentryAttrMask(): AttrMask {
  // gVisor omits NLink and relies on its gofer filling it anyway; we ask
  // for it so that any 9P2000.L server (diod) sends it.
  return AttrMask.with({ mode: true, uid: true, gid: true, aTime: true, mTime: true, cTime: true, size: true, bTime: true, nLink: true });
}

/** dentryTimestampFromP9 converts a 9P timestamp to nanoseconds (time.go). */
export function dentryTimestampFromP9(s: number, ns: number): bigint {
  return BigInt(s) * 1_000_000_000n + BigInt(ns);
}

function nsecToStatxTimestamp(ns: bigint): StatxTimestamp {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

function statxTimestampToNsec(ts: StatxTimestamp): bigint {
  return BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.nsec);
}

export function dentryUIDFromP9UID(uid: number): KUID {
  if (!uidOk(uid)) return OverflowUID;
  return uid;
}

export function dentryGIDFromP9GID(gid: number): KGID {
  if (!gidOk(gid)) return OverflowGID;
  return gid;
}

/** nowNs is the realtime clock in nanoseconds (gVisor's fs.clock). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/**
 * dentry implements vfs.DentryImpl.
 *
 * Methods of dentry are also defined by directory.ts, time.ts, symlink.ts,
 * regular_file.ts and socket.ts (as in gVisor), through declaration merging.
 */
export class dentry implements vfs.DentryImpl {
  readonly vfsd = new vfs.Dentry();

  /**
   * refs is the reference count. Each dentry holds a reference on its
   * parent, even if disowned. An additional reference is held on all
   * synthetic dentries until they are unlinked or invalidated. When refs
   * reaches 0, the dentry may be added to the cache or destroyed. If refs ===
   * -1, the dentry has already been destroyed.
   */
  refs = 0;

  /** fs is the owning filesystem. fs is immutable. */
  readonly fs: filesystem;

  /**
   * parent is this dentry's parent directory. Each dentry holds a reference
   * on its parent. If this dentry is a filesystem root, parent is null.
   * parent is protected by filesystem.renameMu.
   */
  parent: dentry | null = null;

  /**
   * name is the name of this dentry in its parent. If this dentry is a
   * filesystem root, name is the empty string. name is protected by
   * filesystem.renameMu.
   */
  name = '';

  /** qidPath is the p9.QID.path for this file. qidPath is immutable. */
  readonly qidPath: bigint;

  /**
   * file is the unopened p9.File that backs this dentry.
   *
   * If file.isNil(), this dentry represents a synthetic file, i.e. a file
   * that does not exist on the remote filesystem. As of this writing, the
   * only files that can be synthetic are sockets, pipes, and directories
   * (here also character and block devices; several synthetic dentries
   * share one inode when the file has hard links).
   * (It is reset to nil when the dentry is destroyed.)
   */
  file: p9file;

  /** synthetic is fixed at creation (file is reset on destruction). */
  private readonly synthetic: boolean;

  /** If deleted is true, the file represented by this dentry has been deleted. */
  deleted = false;

  /**
   * If cached is true, this dentry is in filesystem.cachedDentries. cached is
   * protected by filesystem.renameMu.
   */
  cached = false;

  // dirMu and handleMu are allocated on first use (see inode.locks).
  private _dirMu: Mutex | null = null;
  get dirMu(): Mutex {
    return (this._dirMu ??= new Mutex());
  }

  /**
   * If this dentry represents a directory, children contains:
   *
   * - Mappings of child filenames to dentries representing those children.
   *
   * - Mappings of child filenames that are known not to exist to null
   * dentries (only if InteropModeShared is not in effect and the directory
   * is not synthetic).
   *
   * children is protected by dirMu.
   */
  children: Map<string, dentry | null> | null = null;

  /**
   * If this dentry represents a directory, syntheticChildren is the number
   * of child dentries for which dentry.isSynthetic() is true.
   * syntheticChildren is protected by dirMu.
   */
  syntheticChildren = 0;

  /**
   * If this dentry represents a directory, cachedMetadataAuthoritative() is
   * true, and dirents is not null, it is a cache of all entries in the
   * directory, in the order they were returned by the server. dirents is
   * protected by dirMu.
   */
  dirents: vfs.Dirent[] | null = null;

  /** inode holds the cached metadata (shared by hard links). */
  readonly inode: inode;

  /**
   * - If this dentry represents a regular file or directory, readFile is the
   * p9.File used for reads by all regularFileFDs/directoryFDs representing
   * this dentry.
   *
   * - If this dentry represents a regular file, writeFile is the p9.File
   * used for writes by all regularFileFDs representing this dentry.
   *
   * These fields are protected by handleMu. readFile and writeFile may or
   * may not represent the same p9.File. Once either p9.File transitions from
   * closed (isNil() === true) to open (isNil() === false), it may be mutated
   * with handleMu locked, but cannot be closed until the dentry is
   * destroyed. readFD/writeFD/mmapFD are always -1 (a donated host fd is
   * readFile.hostFD/writeFile.hostFD).
   */
  private _handleMu: RWMutex | null = null;
  get handleMu(): RWMutex {
    return (this._handleMu ??= new RWMutex());
  }
  readFile: p9file = p9file.nil;
  writeFile: p9file = p9file.nil;
  readFD = -1;
  writeFD = -1;
  mmapFD = -1;

  /**
   * If this dentry represents a symbolic link, InteropModeShared is not in
   * effect, and haveTarget is true, target is the symlink target.
   */
  haveTarget = false;
  target = '';

  /**
   * If this dentry represents a synthetic socket file, endpoint is the
   * transport endpoint bound to this file. It lives in the inode, so that
   * every hard link of a synthetic socket reaches the same endpoint (as a
   * Unix socket is found by its inode on Linux).
   */
  get endpoint(): vfs.BoundEndpoint | null { return this.inode.endpoint; }
  set endpoint(ep: vfs.BoundEndpoint | null) { this.inode.endpoint = ep; }

  /**
   * If this dentry represents a synthetic named pipe, pipe is the pipe
   * endpoint bound to this file (in the inode: every hard link of a
   * synthetic FIFO opens the same pipe, as fifo_open's inode->i_pipe).
   */
  get pipe(): VFSPipe | null { return this.inode.pipe; }
  set pipe(p: VFSPipe | null) { this.inode.pipe = p; }

  constructor(fs: filesystem, ino: inode, file: p9file, qidPath: bigint) {
    this.fs = fs;
    this.inode = ino;
    this.file = file;
    this.synthetic = file.isNil();
    this.qidPath = qidPath;
    ino.dentries++;
    fs.liveDentries++;
    this.vfsd.init(this);
  }

  // Metadata accessors, as gVisor's atomic loads of the dentry's fields.
  get mode(): number { return this.inode.mode; }
  get uid(): KUID { return this.inode.uid; }
  get gid(): KGID { return this.inode.gid; }
  get ino(): number { return this.inode.ino; }
  get size(): number { return this.inode.size; }
  get nlink(): number { return this.inode.nlink; }
  get locks(): vfs.FileLocks { return this.inode.locks; }
  get metadataMu(): Mutex { return this.inode.metadataMu; }

  isSynthetic(): boolean {
    return this.synthetic;
  }

  /** cachedMetadataAuthoritative reports whether the cached metadata can be used without revalidation. */
  cachedMetadataAuthoritative(): boolean {
    return this.fs.opts.interop !== InteropMode.Shared || this.isSynthetic();
  }

  /**
   * updateFromP9AttrsLocked is called to update d's metadata after an update
   * from the remote filesystem.
   *
   * Precondition: d.metadataMu must be locked.
   */
  updateFromP9AttrsLocked(mask: AttrMask, attr: Attr): void {
    this.inode.updateFromP9AttrsLocked(mask, attr);
  }

  /**
   * updateFromGetattr refreshes d's metadata from the server.
   *
   * Preconditions: !d.isSynthetic().
   */
  async updateFromGetattr(ctx: Context): Promise<void> {
    // Use d.readFile or d.writeFile, which represent 9P fids that have been
    // opened, in preference to d.file, which represents a 9P fid that has
    // not. Prefer d.writeFile over d.readFile since some filesystem
    // implementations may update a writable handle's metadata after writes
    // to that handle, without making metadata updates immediately visible to
    // read-only handles representing the same file.
    //
    // d.metadataMu must be locked *before* we getAttr so that we do not end
    // up updating stale attributes in d.updateFromP9AttrsLocked().
    const mu = this.metadataMu;
    if (!mu.tryLock()) await mu.lock();
    try {
      if (!this.handleMu.tryRLock()) await this.handleMu.rLock();
      let file: p9file;
      if (!this.writeFile.isNil()) file = this.writeFile;
      else if (!this.readFile.isNil()) file = this.readFile;
      else file = this.file;
      let attrMask: AttrMask;
      let attr: Attr;
      try {
        [, attrMask, attr] = await file.getAttr(ctx, dentryAttrMask());
      } finally {
        this.handleMu.rUnlock();
      }
      this.updateFromP9AttrsLocked(attrMask, attr);
    } finally {
      mu.unlock();
    }
  }

  fileType(): number {
    return this.inode.mode & linux.S_IFMT;
  }

  /** statTo fills stat from d's cached metadata. */
  statTo(stat: Statx): void {
    const i = this.inode;
    stat.mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME |
      STATX_CTIME | STATX_INO | STATX_SIZE | STATX_BLOCKS | STATX_BTIME;
    stat.blksize = i.blockSize;
    stat.nlink = i.nlink;
    if (!i.nlinkKnown) {
      // The remote filesystem doesn't support link count; just make
      // something up. This is consistent with Linux, where
      // fs/inode.c:inode_init_always() initializes link count to 1, and
      // fs/9p/vfs_inode_dotl.c:v9fs_stat2inode_dotl() doesn't touch it if
      // it's not provided by the remote filesystem.
      stat.nlink = 1;
    }
    stat.uid = i.uid;
    stat.gid = i.gid;
    stat.mode = i.mode & 0xffff;
    stat.ino = i.ino;
    stat.size = i.size;
    // This is consistent with regularFileFD.seek(), which treats regular
    // files as having no holes.
    stat.blocks = Math.floor((stat.size + 511) / 512);
    stat.atime = nsecToStatxTimestamp(i.atime);
    stat.btime = nsecToStatxTimestamp(i.btime);
    stat.ctime = nsecToStatxTimestamp(i.ctime);
    stat.mtime = nsecToStatxTimestamp(i.mtime);
    stat.devMajor = UNNAMED_MAJOR;
    stat.devMinor = this.fs.devMinor;
    stat.rdevMajor = i.rdevMajor;
    stat.rdevMinor = i.rdevMinor;
  }

  /** setStat implements the metadata changes of SetStatAt and fileDescription.setStat. */
  async setStat(ctx: Context, creds: Credentials, opts: vfs.SetStatOptions, mnt: vfs.Mount): Promise<void> {
    const stat = { ...opts.stat };
    if (stat.mask === 0) return;
    if ((stat.mask & ~(STATX_MODE | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME | STATX_SIZE)) !== 0) {
      throw syserror.EPERM;
    }
    const mode = this.mode;
    vfs.checkSetStat(ctx, creds, opts, mode, this.uid, this.gid);
    // Set-ID bits, as Linux (gVisor at dbe41765 leaves them; tmpfs here
    // follows Linux too). The gofer runs as root, so the host kernel keeps
    // what an unprivileged caller would lose: the client sends the mode.
    if ((stat.mask & STATX_MODE) !== 0) {
      // setattr_copy: chmod by a caller outside the file's group without
      // CAP_FSETID drops S_ISGID.
      const kgid = (stat.mask & STATX_GID) !== 0 ? stat.gid : this.gid;
      stat.mode = vfs.clearSGIDForChmod(creds, stat.mode & ~linux.S_IFMT & 0xffff, kgid);
    } else {
      let killed = mode;
      if ((stat.mask & STATX_SIZE) !== 0) {
        // do_truncate: dentry_needs_remove_privs.
        killed = this.removePrivsMode(creds);
      } else if ((stat.mask & (STATX_UID | STATX_GID)) !== 0 && this.fileType() !== linux.S_IFDIR) {
        // chown_common: a non-directory loses S_ISUID, and S_ISGID as
        // setattr_should_drop_sgid says, whoever the caller. The server's
        // chown as root clears no more than root's would: the mode goes
        // with the chown (pkg/fsgofer stores a mode sent with it).
        killed = mode & ~linux.S_ISUID;
        if (shouldDropSGID(creds, killed, this.uid, this.gid)) killed &= ~linux.S_ISGID;
      }
      if (killed !== mode) {
        stat.mask |= STATX_MODE;
        stat.mode = killed;
      }
    }
    mnt.checkBeginWrite();
    try {
      if ((stat.mask & STATX_SIZE) !== 0) {
        // Reject attempts to truncate files other than regular files, since
        // filesystem implementations may return the wrong errno.
        switch (mode & linux.S_IFMT) {
          case linux.S_IFREG:
            // ok
            break;
          case linux.S_IFDIR:
            throw syserror.EISDIR;
          default:
            throw syserror.EINVAL;
        }
      }

      let now = 0n;
      if (this.cachedMetadataAuthoritative()) {
        // Truncate updates mtime.
        if ((stat.mask & (STATX_SIZE | STATX_MTIME)) === STATX_SIZE) {
          stat.mask |= STATX_MTIME;
          stat.mtime = { sec: 0, nsec: linux.UTIME_NOW };
        }

        // Use client clocks for timestamps.
        now = nowNs();
        if ((stat.mask & STATX_ATIME) !== 0 && stat.atime.nsec === linux.UTIME_NOW) {
          stat.atime = nsecToStatxTimestamp(now);
        }
        if ((stat.mask & STATX_MTIME) !== 0 && stat.mtime.nsec === linux.UTIME_NOW) {
          stat.mtime = nsecToStatxTimestamp(now);
        }
      }

      const mu = this.metadataMu;
      if (!mu.tryLock()) await mu.lock();
      try {
        if (!this.isSynthetic()) {
          if (stat.mask !== 0) {
            await this.file.setAttr(ctx, SetAttrMask.with({
              permissions: (stat.mask & STATX_MODE) !== 0,
              uid: (stat.mask & STATX_UID) !== 0,
              gid: (stat.mask & STATX_GID) !== 0,
              size: (stat.mask & STATX_SIZE) !== 0,
              aTime: (stat.mask & STATX_ATIME) !== 0,
              mTime: (stat.mask & STATX_MTIME) !== 0,
              aTimeNotSystemTime: (stat.mask & STATX_ATIME) !== 0 && stat.atime.nsec !== linux.UTIME_NOW,
              mTimeNotSystemTime: (stat.mask & STATX_MTIME) !== 0 && stat.mtime.nsec !== linux.UTIME_NOW,
            }), new SetAttr(
              stat.mode & 0o7777,
              stat.uid,
              stat.gid,
              stat.size,
              stat.atime.sec,
              stat.atime.nsec,
              stat.mtime.sec,
              stat.mtime.nsec,
            ));
            if ((stat.mask & STATX_SIZE) !== 0) {
              // d.size should be kept up to date even if InteropModeShared
              // is in effect.
              this.inode.updateSizeLocked(stat.size);
            }
          }
          if (this.fs.opts.interop === InteropMode.Shared) {
            // There's no point to updating d's metadata in this case since
            // it'll be overwritten by revalidation before the next time it's
            // used anyway.
            return;
          }
        }
        const i = this.inode;
        if ((stat.mask & STATX_MODE) !== 0) i.mode = this.fileType() | (stat.mode & ~linux.S_IFMT & 0xffff);
        if ((stat.mask & STATX_UID) !== 0) i.uid = stat.uid;
        if ((stat.mask & STATX_GID) !== 0) i.gid = stat.gid;
        // Note that stat.atime.nsec and stat.mtime.nsec can't be UTIME_NOW
        // because if d.cachedMetadataAuthoritative() then we converted
        // stat.atime and stat.mtime to client-local timestamps above, and if
        // !d.cachedMetadataAuthoritative() then we returned after calling
        // d.file.setAttr(). For the same reason, now must have been
        // initialized.
        if ((stat.mask & STATX_ATIME) !== 0) {
          i.atime = statxTimestampToNsec(stat.atime);
          i.atimeDirty = false;
        }
        if ((stat.mask & STATX_MTIME) !== 0) {
          i.mtime = statxTimestampToNsec(stat.mtime);
          i.mtimeDirty = false;
        }
        i.ctime = now;
        if ((stat.mask & STATX_SIZE) !== 0 && this.isSynthetic()) i.updateSizeLocked(stat.size);
      } finally {
        mu.unlock();
      }
    } finally {
      mnt.endWrite();
    }
  }

  /**
   * removePrivsMode returns the mode d keeps when creds write or truncate
   * it (Linux's file_remove_privs and do_truncate, through
   * setattr_should_drop_suidgid): unless creds have CAP_FSETID, a regular
   * file loses set-user-ID, and set-group-ID as shouldDropSGID says.
   */
  removePrivsMode(creds: Credentials): number {
    const mode = this.inode.mode;
    if ((mode & (linux.S_ISUID | linux.S_ISGID)) === 0 || this.fileType() !== linux.S_IFREG) return mode;
    if (vfs.hasCapabilityOnFile(creds, CAP_FSETID, this.inode.uid, this.inode.gid)) return mode;
    let m = mode & ~linux.S_ISUID;
    if (shouldDropSGID(creds, m, this.inode.uid, this.inode.gid)) m &= ~linux.S_ISGID;
    return m;
  }

  /**
   * removePrivsLocked clears the set-ID bits a write by the caller must
   * clear (removePrivsMode), on the server too: the gofer runs as root, so
   * the host kernel would keep them. gVisor at dbe41765 does not (Linux's
   * __generic_file_write_iter => file_remove_privs does).
   *
   * Preconditions: d.metadataMu must be locked.
   */
  async removePrivsLocked(ctx: Context): Promise<void> {
    const mode = this.removePrivsMode(credentialsFromContext(ctx));
    if (mode === this.inode.mode) return;
    if (!this.isSynthetic()) {
      await this.file.setAttr(ctx, SetAttrMask.with({ permissions: true }),
        new SetAttr(mode & 0o7777, 0, 0, 0, 0, 0, 0, 0));
    }
    // Kept in InteropModeShared too: the server has it now, and later writes
    // need not send it again before the next revalidation.
    this.inode.mode = mode;
    if (this.cachedMetadataAuthoritative()) this.touchCtime();
  }

  /**
   * doAllocate performs an allocate operation on d. Note that d.metadataMu
   * will be held when allocate is called.
   */
  async doAllocate(ctx: Context, offset: number, length: number, allocate: () => Promise<void>): Promise<void> {
    const mu = this.metadataMu;
    if (!mu.tryLock()) await mu.lock();
    try {
      // Allocating a smaller size is a noop.
      const size = offset + length;
      if (this.cachedMetadataAuthoritative() && size <= this.inode.size) return;
      // Linux's fallocate implementations call file_modified (as tmpfs's
      // removePrivs here); gVisor at dbe41765 does not.
      await this.removePrivsLocked(ctx);
      await allocate();
      this.inode.updateSizeLocked(size);
      if (this.cachedMetadataAuthoritative()) this.touchCMtimeLocked();
    } finally {
      mu.unlock();
    }
  }

  /** updateSizeLocked: Preconditions: d.metadataMu must be locked. */
  updateSizeLocked(newSize: number): void {
    this.inode.updateSizeLocked(newSize);
  }

  checkPermissions(creds: Credentials, ats: vfs.AccessTypes): void {
    vfs.genericCheckPermissions(creds, ats, this.inode.mode, this.inode.uid, this.inode.gid);
  }

  checkXattrPermissions(creds: Credentials, name: string, ats: vfs.AccessTypes): void {
    // We only support xattrs prefixed with "user." (see b/148380782).
    // Currently, there is no need to expose any other xattrs through a gofer.
    if (!name.startsWith(linux.XATTR_USER_PREFIX)) throw syserror.EOPNOTSUPP;
    const mode = this.mode;
    const kuid = this.uid;
    const kgid = this.gid;
    vfs.genericCheckPermissions(creds, ats, mode, kuid, kgid);
    vfs.checkXattrPermissions(creds, ats, mode, kuid, name);
  }

  mayDelete(creds: Credentials, child: dentry): void {
    vfs.checkDeleteSticky(creds, this.mode, child.uid, this.uid, child.gid);
  }

  /** incRef implements vfs.DentryImpl.incRef. */
  incRef(): void {
    // d.refs may be 0 if d.fs.renameMu is locked, which serializes against
    // d.checkCachingLocked().
    this.refs++;
  }

  /** tryIncRef implements vfs.DentryImpl.tryIncRef. */
  tryIncRef(): boolean {
    if (this.refs <= 0) return false;
    this.refs++;
    return true;
  }

  /** decRef implements vfs.DentryImpl.decRef. */
  decRef(ctx: Context): void {
    if (this.decRefNoCaching() === 0) this.fs.checkCachingSoon(ctx, this);
  }

  /**
   * decRefNoCaching decrements d's reference count without calling
   * d.checkCachingLocked, even if d's reference count reaches 0; callers are
   * responsible for ensuring that d.checkCachingLocked will be called later.
   */
  decRefNoCaching(): number {
    const r = --this.refs;
    if (r < 0) throw new Error('gofer.dentry.decRefNoCaching() called without holding a reference');
    return r;
  }

  /** inotifyWithParent implements vfs.DentryImpl.inotifyWithParent. */
  inotifyWithParent(ctx: Context, events: number, cookie: number, et: vfs.EventType): void {
    if (this.isDir()) events |= IN_ISDIR;
    // gVisor holds renameMu for reading so that d.parent and d.name are
    // stable; here the two reads below cannot interleave with a rename.
    if (this.parent !== null) {
      this.parent.inode.notify(ctx, this.name, events, cookie, et, this.isDeleted());
    }
    this.inode.notify(ctx, '', events, cookie, et, this.isDeleted());
  }

  /**
   * watches implements vfs.DentryImpl.watches. Hard links share them (see
   * the module comment).
   */
  watches(): vfs.Watches {
    return this.inode.watches;
  }

  /**
   * onZeroWatches implements vfs.DentryImpl.onZeroWatches.
   *
   * If no watches are left on this dentry and it has no references, cache
   * it.
   */
  onZeroWatches(ctx: Context): void {
    if (this.refs === 0) this.fs.checkCachingSoon(ctx, this);
  }

  /**
   * checkCachingLocked should be called after d's reference count becomes 0
   * or it becomes disowned.
   *
   * For performance, checkCachingLocked can also be called after d's
   * reference count becomes non-zero, so that d can be removed from the LRU
   * cache. This may help in reducing the size of the cache and hence reduce
   * evictions. Note that this is not necessary for correctness.
   *
   * It may be called on a destroyed dentry. For example,
   * renameMuRUnlockAndCheckCaching may call checkCachingLocked multiple
   * times for the same dentry when the dentry is visited more than once in
   * the same operation. One of the calls may destroy the dentry, so
   * subsequent calls will do nothing.
   *
   * Preconditions: d.fs.renameMu must be locked for writing.
   */
  checkCachingLocked(ctx: Context): void {
    const refs = this.refs;
    if (refs === -1) {
      // Dentry has already been destroyed.
      return;
    }
    if (refs > 0) {
      // This isn't strictly necessary (fs.cachedDentries is permitted to
      // contain dentries with non-zero refs, which are skipped by
      // fs.evictCachedDentryLocked() upon reaching the end of the LRU), but
      // since we are already holding fs.renameMu for writing we may as well.
      this.removeFromCacheLocked();
      return;
    }
    // Deleted and invalidated dentries with zero references are no longer
    // reachable by path resolution and should be dropped immediately.
    if (this.vfsd.isDead()) {
      if (this.isDeleted()) this.inode.handleDeletion(ctx);
      this.removeFromCacheLocked();
      this.destroyLocked(ctx);
      return;
    }
    // If d still has inotify watches and it is not deleted or invalidated,
    // it can't be evicted. Otherwise, we will lose its watches, even if a
    // new dentry is created for the same file in the future. Note that the
    // size of d.watches cannot concurrently transition from zero to
    // non-zero, because adding a watch requires holding a reference on d.
    if (this.inode.watchesSize() > 0) {
      // As in the refs > 0 case, this is not strictly necessary.
      this.removeFromCacheLocked();
      return;
    }

    if (this.fs.released) {
      this.parent?.children?.delete(this.name);
      this.destroyLocked(ctx);
      // Differs from gVisor, which goes on to cache the destroyed dentry.
      return;
    }

    // If d is already cached, just move it to the front of the LRU.
    const cd = this.fs.cachedDentries;
    if (this.cached) {
      cd.delete(this);
      cd.add(this);
      return;
    }
    // Cache the dentry, then evict the least recently used cached dentry if
    // the cache becomes over-full.
    cd.add(this);
    this.cached = true;
    if (cd.size > this.fs.opts.maxCachedDentries) this.fs.evictCachedDentryLocked(ctx);
  }

  /** Preconditions: d.fs.renameMu must be locked for writing. */
  removeFromCacheLocked(): void {
    if (this.cached) {
      this.fs.cachedDentries.delete(this);
      this.cached = false;
    }
  }

  /**
   * destroyLocked destroys the dentry.
   *
   * Preconditions:
   * * d.fs.renameMu must be locked for writing.
   * * d.refs === 0.
   * * d is not a child dentry.
   *
   * Differs from gVisor: synchronous (no dirty data to write back); the
   * fids are clunked in the background (see the module comment).
   */
  destroyLocked(ctx: Context): void {
    switch (this.refs) {
      case 0:
        // Mark the dentry destroyed.
        this.refs = -1;
        break;
      case -1:
        throw new Error('dentry.destroyLocked() called on already destroyed dentry');
      default:
        throw new Error('dentry.destroyLocked() called with references on the dentry');
    }

    // Close any resources held by the dentry.
    if (!this.readFile.isNil()) trackClunk(this.readFile.close(ctx));
    if (!this.writeFile.isNil() && this.readFile !== this.writeFile) trackClunk(this.writeFile.close(ctx));
    this.readFile = p9file.nil;
    this.writeFile = p9file.nil;
    this.readFD = -1;
    this.writeFD = -1;
    this.mmapFD = -1;

    if (!this.file.isNil()) {
      clunkLater(this.file);
      this.file = p9file.nil;
      this.fs.remoteDentries--;
    }
    this.fs.syncableDentries.delete(this);
    this.fs.liveDentries--;
    const ino = this.inode;
    if (--ino.dentries === 0 && this.fs.inodeByQIDPath.get(ino.qidPath) === ino) {
      this.fs.inodeByQIDPath.delete(ino.qidPath);
    }

    // Drop the reference held by d on its parent without recursively
    // locking d.fs.renameMu.
    if (this.parent !== null && this.parent.decRefNoCaching() === 0) {
      this.parent.checkCachingLocked(ctx);
    }
  }

  isDeleted(): boolean {
    return this.deleted;
  }

  setDeleted(): void {
    this.deleted = true;
  }

  /**
   * releaseSyntheticRecursiveLocked traverses the tree with root d and
   * decrements the reference count on every synthetic dentry. Synthetic
   * dentries have one reference for existence that should be dropped during
   * filesystem.release.
   *
   * Precondition: d.fs.renameMu is locked.
   */
  releaseSyntheticRecursiveLocked(ctx: Context): void {
    if (this.isSynthetic()) {
      this.decRefNoCaching();
      this.checkCachingLocked(ctx);
    }
    if (this.isDir() && this.children !== null) {
      for (const child of [...this.children.values()]) {
        if (child !== null) child.releaseSyntheticRecursiveLocked(ctx);
      }
    }
  }

  async listXattr(ctx: Context, _creds: Credentials, size: number): Promise<string[]> {
    if (this.file.isNil() || !this.userXattrSupported()) return [];
    const xattrMap = await this.file.listXattr(ctx, size);
    const xattrs: string[] = [];
    for (const x of xattrMap) {
      // We only support xattrs in the user namespace.
      if (x.startsWith(linux.XATTR_USER_PREFIX)) xattrs.push(x);
    }
    return xattrs;
  }

  getXattr(ctx: Context, creds: Credentials, opts: vfs.GetXattrOptions): Promise<string> {
    if (this.file.isNil()) return Promise.reject(syserror.ENODATA);
    this.checkXattrPermissions(creds, opts.name, vfs.MayRead);
    return this.file.getXattr(ctx, opts.name, opts.size);
  }

  setXattr(ctx: Context, creds: Credentials, opts: vfs.SetXattrOptions): Promise<void> {
    if (this.file.isNil()) return Promise.reject(syserror.EPERM);
    this.checkXattrPermissions(creds, opts.name, vfs.MayWrite);
    return this.file.setXattr(ctx, opts.name, opts.value, opts.flags ?? 0);
  }

  removeXattr(ctx: Context, creds: Credentials, name: string): Promise<void> {
    if (this.file.isNil()) return Promise.reject(syserror.EPERM);
    this.checkXattrPermissions(creds, name, vfs.MayWrite);
    return this.file.removeXattr(ctx, name);
  }

  /** userXattrSupported: extended attributes in the user.* namespace are only supported for regular files and directories. */
  userXattrSupported(): boolean {
    const filetype = this.fileType();
    return filetype === linux.S_IFREG || filetype === linux.S_IFDIR;
  }

  /**
   * ensureSharedHandle ensures that d has a readable and/or writable shared
   * handle.
   *
   * Preconditions: !d.isSynthetic().
   */
  async ensureSharedHandle(ctx: Context, read: boolean, write: boolean, trunc: boolean): Promise<void> {
    // O_TRUNC unconditionally requires us to obtain a new handle (opened with
    // O_TRUNC).
    if (!trunc) {
      if ((!read || !this.readFile.isNil()) && (!write || !this.writeFile.isNil())) {
        // Current handles are sufficient.
        return;
      }
    }

    if (!this.handleMu.tryLock()) await this.handleMu.lock();
    try {
      if ((read && this.readFile.isNil()) || (write && this.writeFile.isNil()) || trunc) {
        // Get a new handle. If this file has been opened for both reading and
        // writing, try to get a single handle that is usable for both:
        //
        // - Writable memory mappings of a host FD require that the host FD is
        // opened for both reading and writing.
        //
        // - NOTE(b/141991141): Some filesystems may not ensure coherence
        // between multiple handles for the same file.
        let openReadable = !this.readFile.isNil() || read;
        let openWritable = !this.writeFile.isNil() || write;
        let h: handle;
        try {
          h = await openHandle(ctx, this.file, openReadable, openWritable, trunc);
        } catch (err) {
          if (err === syserror.EACCES && (openReadable !== read || openWritable !== write)) {
            // It may not be possible to use a single handle for both
            // reading and writing, since permissions on the file may have
            // changed to e.g. disallow reading after previously being
            // opened for reading. In this case, we have no choice but to
            // use separate handles for reading and writing.
            log.debugf('gofer.dentry.ensureSharedHandle: bifurcating read/write handles for dentry');
            openReadable = read;
            openWritable = write;
            h = await openHandle(ctx, this.file, openReadable, openWritable, trunc);
          } else {
            throw err;
          }
        }

        // Switch to new fids.
        let oldReadFile = p9file.nil;
        if (openReadable) {
          oldReadFile = this.readFile;
          this.readFile = h.file;
        }
        let oldWriteFile = p9file.nil;
        if (openWritable) {
          oldWriteFile = this.writeFile;
          this.writeFile = h.file;
        }
        // NOTE(b/141991141): Closing a file may cause a flush, which would
        // update the file's metadata on the server.
        if (!oldReadFile.isNil()) trackClunk(oldReadFile.close(ctx));
        if (!oldWriteFile.isNil() && oldReadFile !== oldWriteFile) trackClunk(oldWriteFile.close(ctx));
        this.fs.syncableDentries.add(this);
      }
    } finally {
      this.handleMu.unlock();
    }
  }

  /** Preconditions: d.handleMu must be locked. */
  readHandleLocked(): handle {
    return new handle(this.readFile, this.readFD);
  }

  /** Preconditions: d.handleMu must be locked. */
  writeHandleLocked(): handle {
    return new handle(this.writeFile, this.writeFD);
  }

  async syncRemoteFile(ctx: Context): Promise<void> {
    if (!this.handleMu.tryRLock()) await this.handleMu.rLock();
    try {
      await this.syncRemoteFileLocked(ctx);
    } finally {
      this.handleMu.rUnlock();
    }
  }

  /** Preconditions: d.handleMu must be locked. */
  async syncRemoteFileLocked(ctx: Context): Promise<void> {
    // If we have a host FD, fsyncing it is likely to be faster than an fsync
    // RPC. Prefer syncing write handles over read handles, since some remote
    // filesystem implementations may not sync changes made through write
    // handles otherwise. (The donated fd lives on the opened p9file, see
    // handle.ts, not in d.writeFD/d.readFD; fsync runs in Node's thread pool,
    // gVisor's uninterruptible sleep.)
    if (this.writeFile.hostFD >= 0) return hostFsync(this.writeFile.hostFD);
    if (!this.writeFile.isNil()) return this.writeFile.fsync(ctx);
    if (this.readFile.hostFD >= 0) return hostFsync(this.readFile.hostFD);
    if (!this.readFile.isNil()) return this.readFile.fsync(ctx);
  }

  async syncCachedFile(ctx: Context, forFilesystemSync: boolean): Promise<void> {
    if (!this.handleMu.tryRLock()) await this.handleMu.rLock();
    try {
      const h = this.writeHandleLocked();
      // No dirty cached data to write back (no page cache).
      try {
        await this.syncRemoteFileLocked(ctx);
      } catch (err) {
        if (!forFilesystemSync) throw err;
        // Only return err if we can reasonably have expected sync to
        // succeed (d is a regular file and was opened for writing).
        if (this.isRegularFile() && h.isOpen()) throw err;
        log.debugf('gofer.dentry.syncCachedFile: syncing non-writable or non-regular-file dentry failed: %s', String(err));
      }
    } finally {
      this.handleMu.rUnlock();
    }
  }

  /** incLinks increments link count. */
  incLinks(): void {
    // The remote filesystem doesn't support link count.
    if (!this.inode.nlinkKnown) return;
    this.inode.nlink++;
  }

  /** decLinks decrements link count. */
  decLinks(): void {
    if (!this.inode.nlinkKnown || this.inode.nlink === 0) return;
    this.inode.nlink--;
  }

  /**
   * clearLinks sets the link count of a removed directory (or a replaced
   * one) to 0, as Linux's v9fs_remove and v9fs_vfs_rename (clear_nlink).
   * Our addition; gVisor at dbe41765 leaves it.
   */
  clearLinks(): void {
    if (!this.inode.nlinkKnown) return;
    this.inode.nlink = 0;
  }
}

/**
 * fileDescription is embedded by gofer implementations of
 * vfs.FileDescriptionImpl.
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

  /** stat implements vfs.FileDescriptionImpl.stat. */
  override async stat(ctx: Context, opts: vfs.StatOptions): Promise<Statx> {
    const d = this.dentry();
    const validMask = STATX_MODE | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME | STATX_CTIME | STATX_SIZE | STATX_BLOCKS | STATX_BTIME;
    if (!d.cachedMetadataAuthoritative() && ((opts.mask ?? STATX_BASIC_STATS) & validMask) !== 0 &&
        opts.sync !== linux.AT_STATX_DONT_SYNC) {
      // TODO(jamieliu): Use specialFileFD.handle.file for the getattr if
      // available?
      await d.updateFromGetattr(ctx);
    }
    const stat = newStatxLike();
    d.statTo(stat);
    return stat;
  }

  /** setStat implements vfs.FileDescriptionImpl.setStat. */
  override async setStat(ctx: Context, opts: vfs.SetStatOptions): Promise<void> {
    const d = this.dentry();
    await d.setStat(ctx, credentialsFromContext(ctx), opts, this.vfsfd.mount());
    const ev = vfs.inotifyEventFromStatMask(opts.stat.mask);
    if (ev !== 0) d.inotifyWithParent(ctx, ev, 0, vfs.InodeEvent);
  }

  /** statFS implements vfs.FileDescriptionImpl.statFS (as StatFSAt on the FD's dentry). */
  override async statFS(ctx: Context): Promise<Statfs> {
    let d = this.dentry();
    while (d.isSynthetic() && d.parent !== null) d = d.parent;
    return statfsFromP9(await d.file.statFS(ctx));
  }

  /** listXattr implements vfs.FileDescriptionImpl.listXattr. */
  override listXattr(ctx: Context, size: number): Promise<string[]> {
    return this.dentry().listXattr(ctx, credentialsFromContext(ctx), size);
  }

  /** getXattr implements vfs.FileDescriptionImpl.getXattr. */
  override getXattr(ctx: Context, opts: vfs.GetXattrOptions): Promise<string> {
    return this.dentry().getXattr(ctx, credentialsFromContext(ctx), opts);
  }

  /** setXattr implements vfs.FileDescriptionImpl.setXattr. */
  override async setXattr(ctx: Context, opts: vfs.SetXattrOptions): Promise<void> {
    const d = this.dentry();
    await d.setXattr(ctx, credentialsFromContext(ctx), opts);
    d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
  }

  /** removeXattr implements vfs.FileDescriptionImpl.removeXattr. */
  override async removeXattr(ctx: Context, name: string): Promise<void> {
    const d = this.dentry();
    await d.removeXattr(ctx, credentialsFromContext(ctx), name);
    d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
  }

  /** lockBSD implements vfs.FileDescriptionImpl.lockBSD (locks are handled in the sentry, as gVisor). */
  override lockBSD(ctx: Context, uid: UniqueID, t: LockType, block: boolean): Promise<void> {
    return this.lockFD.lockBSD(ctx, uid, t, block);
  }

  /** unlockBSD implements vfs.FileDescriptionImpl.unlockBSD. */
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
}

/** maxFilenameLen is the maximum length of a filename, dictated by 9P's 2-byte string length prefix. */
export const maxFilenameLen = (1 << 16) - 1;

/** statfsFromP9 is StatFSAt's conversion of a p9.FSStat. */
export function statfsFromP9(fsstat: { blockSize: number; blocks: number; blocksFree: number; blocksAvailable: number; files: number; filesFree: number; nameLength: number }): Statfs {
  let nameLen = fsstat.nameLength;
  if (nameLen > maxFilenameLen) nameLen = maxFilenameLen;
  return {
    // This is primarily for distinguishing a gofer file system in tests.
    // Testing is important, so instead of defining something completely
    // random, use a standard value.
    type: V9FS_MAGIC,
    blockSize: fsstat.blockSize,
    blocks: fsstat.blocks,
    blocksFree: fsstat.blocksFree,
    blocksAvailable: fsstat.blocksAvailable,
    files: fsstat.files,
    filesFree: fsstat.filesFree,
    fsid: [0, 0],
    nameLength: nameLen,
    fragmentSize: 0,
    flags: 0,
  };
}

/** newStatxLike returns a zero linux.Statx. */
export function newStatxLike(): Statx {
  return {
    mask: 0, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size: 0,
    blocks: 0, attributesMask: 0,
    atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 },
    ctime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
    rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}

// Used by regular_file.ts and special_file.ts.
export { toAllocateMode };

// The other modules of the package come last: they add methods to dentry
// and filesystem and define the FDs, which extend fileDescription above
// (CommonJS resolves the cycle because the classes above exist before those
// modules run; gVisor's Go package has one namespace).
import './time';
import './directory';
import './symlink';
import './regular_file';
import './socket';
import './special_file';
import './filesystem';
