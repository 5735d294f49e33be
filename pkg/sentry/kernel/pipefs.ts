// Anonymous pipes for pipe(2)/pipe2(2): gVisor's pkg/sentry/fsimpl/pipefs
// (NewConnectedPipeFDs) with the vfs.FileDescription half of gVisor's
// kernel/pipe VFSPipeFD.
//
// Differs from gVisor: pkg/sentry/kernel/pipe here keeps the pipe apart from
// vfs (see pipe/vfs.ts), and there is no pipefs filesystem: the file
// descriptions stand on the VFS's anonymous mount (as Linux's pipefs is
// internal too) and answer stat themselves with a pipefs-like inode
// (S_IFIFO | 0600, owned by the creator, PIPEFS_MAGIC for statfs). As tmpfs'
// FIFO, read and write block inside the file description unless O_NONBLOCK.

import { FIONREAD } from '../../abi/linux/fcntl';
import { O_NONBLOCK, S_IFIFO, S_IFMT, UTIME_NOW } from '../../abi/linux/file';
import {
  newStatfs, newStatx, PIPEFS_MAGIC, STATX_ATIME, STATX_BASIC_STATS, STATX_CTIME, STATX_GID, STATX_MODE, STATX_MTIME,
  STATX_SIZE, STATX_UID, type Statfs, type Statx, type StatxTimestamp,
} from '../../abi/linux/stat';
import type { Context } from '../../context';
import * as syserror from '../../syserror/syserror';
import type { Entry, EventMask } from '../../waiter/waiter';
import { credentialsFromContext, type KGID, type KUID } from './auth';
import { blockingRead, blockingWrite, VFSPipe, type VFSPipeFD } from './pipe';
import { FileDescription } from '../vfs/file_description';
import { FileDescriptionDefaultImpl } from '../vfs/file_description_impl_util';
import type { ReadOptions, SetStatOptions, StatOptions, WriteOptions } from '../vfs/options';
import { checkSetStat } from '../vfs/permissions';
import type { VirtualFilesystem } from '../vfs/vfs';

// pipefs' block size (fs/libfs.c:pseudo_fs_fill_super()).
const pipefsBlockSize = 4096;

let lastPipeIno = 0;

/** pipeInode is the inode two connected pipe FDs share (gVisor: pipefs.inode). */
class pipeInode {
  readonly ino = ++lastPipeIno;
  readonly pipe = new VFSPipe(false /* isNamed */);
  mode = S_IFIFO | 0o600;
  atime: StatxTimestamp;
  mtime: StatxTimestamp;
  ctime: StatxTimestamp;

  constructor(public uid: KUID, public gid: KGID, now: StatxTimestamp) {
    this.atime = { ...now };
    this.mtime = { ...now };
    this.ctime = { ...now };
  }
}

function nowTimestamp(): StatxTimestamp {
  const ns = Date.now();
  return { sec: Math.floor(ns / 1000), nsec: (ns % 1000) * 1_000_000 };
}

/** pipeFD is the vfs.FileDescriptionImpl of one end of an anonymous pipe. */
export class pipeFD extends FileDescriptionDefaultImpl {
  readonly vfsfd = new FileDescription();

  constructor(private readonly inode: pipeInode, readonly pipeFD: VFSPipeFD) {
    super();
  }

  /** release implements vfs.FileDescriptionImpl.release. */
  release(_ctx: Context): void {
    this.pipeFD.release();
  }

  private nonblocking(): boolean {
    return (this.vfsfd.statusFlags() & O_NONBLOCK) !== 0;
  }

  /** read implements vfs.FileDescriptionImpl.read. */
  override async read(ctx: Context, dst: Buffer, _opts: ReadOptions): Promise<number> {
    if (dst.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.read(dst);
    return blockingRead(ctx, this.pipeFD, dst);
  }

  /** write implements vfs.FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, _opts: WriteOptions): Promise<number> {
    if (src.length === 0) return 0;
    if (this.nonblocking()) return this.pipeFD.write(src);
    return blockingWrite(ctx, this.pipeFD, src);
  }

  override async pread(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async pwrite(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async seek(): Promise<number> {
    throw syserror.ESPIPE;
  }

  override async allocate(): Promise<void> {
    throw syserror.ESPIPE;
  }

  /** ioctl implements vfs.FileDescriptionImpl.ioctl: FIONREAD. */
  override async ioctl(ctx: Context, request: number, arg: number): Promise<number> {
    if (request === FIONREAD) return this.pipeFD.queued();
    return super.ioctl(ctx, request, arg);
  }

  /** stat implements vfs.FileDescriptionImpl.stat (the pipefs inode). */
  async stat(_ctx: Context, _opts: StatOptions): Promise<Statx> {
    const s = newStatx();
    const i = this.inode;
    s.mask = STATX_BASIC_STATS;
    s.blksize = pipefsBlockSize;
    s.nlink = 1;
    s.uid = i.uid;
    s.gid = i.gid;
    s.mode = i.mode;
    s.ino = i.ino;
    s.size = 0;
    s.blocks = 0;
    s.atime = { ...i.atime };
    s.mtime = { ...i.mtime };
    s.ctime = { ...i.ctime };
    // Device numbers are the anonymous mount's (zero here).
    s.devMajor = 0;
    s.devMinor = 0;
    return s;
  }

  /** setStat implements vfs.FileDescriptionImpl.setStat (fchmod/fchown/futimens on a pipe). */
  async setStat(ctx: Context, opts: SetStatOptions): Promise<void> {
    const i = this.inode;
    const creds = credentialsFromContext(ctx);
    const stat = opts.stat;
    if ((stat.mask & STATX_SIZE) !== 0) throw syserror.EINVAL;
    checkSetStat(ctx, creds, opts, i.mode, i.uid, i.gid);
    const now = nowTimestamp();
    if ((stat.mask & STATX_MODE) !== 0) i.mode = (i.mode & S_IFMT) | (stat.mode & ~S_IFMT & 0o7777);
    if ((stat.mask & STATX_UID) !== 0) i.uid = stat.uid;
    if ((stat.mask & STATX_GID) !== 0) i.gid = stat.gid;
    if ((stat.mask & STATX_ATIME) !== 0) i.atime = stat.atime.nsec === UTIME_NOW ? { ...now } : { ...stat.atime };
    if ((stat.mask & STATX_MTIME) !== 0) i.mtime = stat.mtime.nsec === UTIME_NOW ? { ...now } : { ...stat.mtime };
    if ((stat.mask & (STATX_MODE | STATX_UID | STATX_GID | STATX_ATIME | STATX_MTIME | STATX_CTIME)) !== 0) {
      i.ctime = { ...now };
    }
  }

  /** statFS implements vfs.FileDescriptionImpl.statFS. */
  override async statFS(_ctx: Context): Promise<Statfs> {
    const s = newStatfs();
    s.type = PIPEFS_MAGIC;
    s.blockSize = pipefsBlockSize;
    s.fragmentSize = pipefsBlockSize;
    s.nameLength = 255;
    return s;
  }

  /** readiness implements waiter.Waitable.readiness. */
  override readiness(mask: EventMask): EventMask {
    return this.pipeFD.readiness(mask);
  }

  /** eventRegister implements waiter.Waitable.eventRegister. */
  override eventRegister(e: Entry, mask: EventMask): void {
    this.pipeFD.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable.eventUnregister. */
  override eventUnregister(e: Entry): void {
    this.pipeFD.eventUnregister(e);
  }
}

/**
 * newConnectedPipeFDs returns a pair of FileDescriptions representing the
 * read and write ends of a newly-created pipe, as for pipe(2) and pipe2(2).
 * Each is returned with a reference held by the caller.
 *
 * Preconditions: statusFlags should not contain an open access mode.
 */
export function newConnectedPipeFDs(ctx: Context, vfsObj: VirtualFilesystem, statusFlags: number): [FileDescription, FileDescription] {
  const creds = credentialsFromContext(ctx);
  const inode = new pipeInode(creds.effectiveKUID, creds.effectiveKGID, nowTimestamp());
  const [r, w] = inode.pipe.readerWriterPair(statusFlags);
  const vd = vfsObj.newAnonVirtualDentry(`pipe:[${inode.ino}]`);
  try {
    const rfd = new pipeFD(inode, r);
    rfd.vfsfd.init(rfd, r.statusFlags, vd.mount(), vd.dentry(), { denyPRead: true, denyPWrite: true });
    const wfd = new pipeFD(inode, w);
    wfd.vfsfd.init(wfd, w.statusFlags, vd.mount(), vd.dentry(), { denyPRead: true, denyPWrite: true });
    return [rfd.vfsfd, wfd.vfsfd];
  } finally {
    vd.decRef(ctx);
  }
}
