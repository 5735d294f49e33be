// anonfs: the filesystem behind anonymous file descriptions such as inotify
// instances (gVisor's anonfs.go).

import type { Context } from '../../context';
import {
  STATX_BLOCKS, STATX_GID, STATX_INO, STATX_MODE, STATX_NLINK, STATX_SIZE, STATX_TYPE, STATX_UID,
  ANON_INODE_FS_MAGIC, UNNAMED_MAJOR, newStatfs, newStatx, type Statfs, type Statx,
} from '../../abi/linux/stat';
import type { Builder } from '../../fspath';
import { RootKGID, RootKUID, type Credentials } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import { Dentry, type DentryImpl } from './dentry';
import type { FileDescription } from './file_description';
import { Filesystem, errPrependPathSynthetic, type FilesystemImpl } from './filesystem';
import type { FilesystemType } from './filesystem_type';
import type { EventType, Watches } from './inotify';
import type {
  BoundEndpoint, BoundEndpointOptions, GetDentryOptions, GetXattrOptions, MkdirOptions, MknodOptions, OpenOptions,
  RenameOptions, SetStatOptions, SetXattrOptions, StatOptions,
} from './options';
import { genericCheckPermissions, MayWrite, type AccessTypes } from './permissions';
import type { ResolvingPath } from './resolving_path';
import { VirtualDentry, type VirtualFilesystem } from './vfs';

/**
 * newAnonVirtualDentry returns a VirtualDentry with the given synthetic name,
 * consistent with Linux's fs/anon_inodes.c:anon_inode_getfile(). References
 * are taken on the returned VirtualDentry.
 */
export function newAnonVirtualDentry(vfs: VirtualFilesystem, name: string): VirtualDentry {
  const d = new anonDentry(name);
  vfs.anonMount.incRef();
  return new VirtualDentry(vfs.anonMount, d.vfsd);
}

const anonfsBlockSize = 4096; // via fs/libfs.c:pseudo_fs_fill_super()

// Mode, UID, and GID for a generic anonfs file.
const anonFileMode = 0o600; // no type is correct
const anonFileUID = RootKUID;
const anonFileGID = RootKGID;

/** anonFilesystemType implements FilesystemType. */
class anonFilesystemType implements FilesystemType {
  getFilesystem(): Promise<[Filesystem, Dentry]> {
    throw new Error('cannot instaniate an anon filesystem');
  }

  name(): string {
    return 'none';
  }

  release(_ctx: Context): void {}
}

/**
 * newAnonFilesystem returns the anonFilesystem's Filesystem with a reference
 * held by the caller (gVisor builds it inline in VirtualFilesystem.Init).
 */
export function newAnonFilesystem(vfs: VirtualFilesystem, devMinor: number): Filesystem {
  const fs = new anonFilesystem(devMinor);
  fs.vfsfs.init(vfs, new anonFilesystemType(), fs);
  return fs.vfsfs;
}

/**
 * anonFilesystem is the implementation of FilesystemImpl that backs
 * VirtualDentries returned by newAnonVirtualDentry.
 *
 * Since all Dentries in anonFilesystem are non-directories, all FilesystemImpl
 * methods that would require an anonDentry to be a directory throw ENOTDIR.
 */
class anonFilesystem implements FilesystemImpl {
  readonly vfsfs = new Filesystem();

  constructor(readonly devMinor: number) {}

  release(_ctx: Context): void {}

  async sync(_ctx: Context): Promise<void> {}

  async accessAt(_ctx: Context, rp: ResolvingPath, creds: Credentials, ats: AccessTypes): Promise<void> {
    if (!rp.done()) throw syserror.ENOTDIR;
    genericCheckPermissions(creds, ats, anonFileMode, anonFileUID, anonFileGID);
  }

  async getDentryAt(_ctx: Context, rp: ResolvingPath, opts: GetDentryOptions): Promise<Dentry> {
    if (!rp.done()) throw syserror.ENOTDIR;
    if (opts.checkSearchable) throw syserror.ENOTDIR;
    // anonDentry no-ops refcounting.
    return rp.start();
  }

  async getParentDentryAt(_ctx: Context, rp: ResolvingPath): Promise<Dentry> {
    if (!rp.final()) throw syserror.ENOTDIR;
    // anonDentry no-ops refcounting.
    return rp.start();
  }

  async linkAt(_ctx: Context, rp: ResolvingPath, _vd: VirtualDentry): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async mkdirAt(_ctx: Context, rp: ResolvingPath, _opts: MkdirOptions): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async mknodAt(_ctx: Context, rp: ResolvingPath, _opts: MknodOptions): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async openAt(_ctx: Context, rp: ResolvingPath, _opts: OpenOptions): Promise<FileDescription> {
    if (!rp.done()) throw syserror.ENOTDIR;
    throw syserror.ENODEV;
  }

  async readlinkAt(_ctx: Context, rp: ResolvingPath): Promise<string> {
    if (!rp.done()) throw syserror.ENOTDIR;
    throw syserror.EINVAL;
  }

  async renameAt(_ctx: Context, rp: ResolvingPath, _oldParentVD: VirtualDentry, _oldName: string, _opts: RenameOptions): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async rmdirAt(_ctx: Context, rp: ResolvingPath): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async setStatAt(_ctx: Context, rp: ResolvingPath, _opts: SetStatOptions): Promise<void> {
    if (!rp.done()) throw syserror.ENOTDIR;
    // Linux actually permits anon_inode_inode's metadata to be set, which is
    // visible to all users of anon_inode_inode. We just silently ignore
    // metadata changes.
  }

  async statAt(_ctx: Context, rp: ResolvingPath, _opts: StatOptions): Promise<Statx> {
    if (!rp.done()) throw syserror.ENOTDIR;
    // See fs/anon_inodes.c:anon_inode_init() => fs/libfs.c:alloc_anon_inode().
    const s = newStatx();
    s.mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_SIZE | STATX_BLOCKS;
    s.blksize = anonfsBlockSize;
    s.nlink = 1;
    s.uid = anonFileUID;
    s.gid = anonFileGID;
    s.mode = anonFileMode;
    s.ino = 1;
    s.devMajor = UNNAMED_MAJOR;
    s.devMinor = this.devMinor;
    return s;
  }

  async statFSAt(_ctx: Context, rp: ResolvingPath): Promise<Statfs> {
    if (!rp.done()) throw syserror.ENOTDIR;
    const s = newStatfs();
    s.type = ANON_INODE_FS_MAGIC;
    s.blockSize = anonfsBlockSize;
    return s;
  }

  async symlinkAt(_ctx: Context, rp: ResolvingPath, _target: string): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async unlinkAt(_ctx: Context, rp: ResolvingPath): Promise<void> {
    if (!rp.final()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async boundEndpointAt(_ctx: Context, rp: ResolvingPath, _opts: BoundEndpointOptions): Promise<BoundEndpoint> {
    if (!rp.final()) throw syserror.ENOTDIR;
    genericCheckPermissions(rp.credentials(), MayWrite, anonFileMode, anonFileUID, anonFileGID);
    throw syserror.ECONNREFUSED;
  }

  async listXattrAt(_ctx: Context, rp: ResolvingPath, _size: number): Promise<string[]> {
    if (!rp.done()) throw syserror.ENOTDIR;
    return [];
  }

  async getXattrAt(_ctx: Context, rp: ResolvingPath, _opts: GetXattrOptions): Promise<string> {
    if (!rp.done()) throw syserror.ENOTDIR;
    throw syserror.ENOTSUP;
  }

  async setXattrAt(_ctx: Context, rp: ResolvingPath, _opts: SetXattrOptions): Promise<void> {
    if (!rp.done()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async removeXattrAt(_ctx: Context, rp: ResolvingPath, _name: string): Promise<void> {
    if (!rp.done()) throw syserror.ENOTDIR;
    throw syserror.EPERM;
  }

  async prependPath(_ctx: Context, _vfsroot: VirtualDentry, vd: VirtualDentry, b: Builder): Promise<void> {
    b.prependComponent(`anon_inode:${(vd.dentry().impl as anonDentry).name}`);
    throw errPrependPathSynthetic;
  }
}

/** anonDentry implements DentryImpl. */
class anonDentry implements DentryImpl {
  readonly vfsd = new Dentry();

  constructor(readonly name: string) {
    this.vfsd.init(this);
  }

  // anonDentries are not reference-counted: they are kept alive by the
  // FileDescriptions that hold them, and by the JS garbage collector.
  incRef(): void {}

  tryIncRef(): boolean {
    return true;
  }

  decRef(_ctx: Context): void {}

  // Although Linux technically supports inotify on pseudo filesystems (inotify
  // is implemented at the vfs layer), it is not particularly useful. It is left
  // unimplemented until someone actually needs it.
  inotifyWithParent(_ctx: Context, _events: number, _cookie: number, _et: EventType): void {}

  watches(): Watches | null {
    return null;
  }

  onZeroWatches(_ctx: Context): void {}
}
