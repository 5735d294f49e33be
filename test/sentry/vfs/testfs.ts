// A tiny in-memory FilesystemImpl for the vfs tests (not a test file):
// directories, regular files (data in memory), symlinks, hard links, inotify
// watches; one async Mutex per filesystem, held for each operation as
// gVisor's tmpfs holds filesystem.mu. It follows gVisor's tmpfs
// stepLocked/walkParentDirLocked shape so that the vfs path machinery
// (checkRoot, checkMount, handleSymlink, mustBeDir) is exercised as a real
// filesystem would.

import type { Context } from '../../../pkg/context';
import {
  DT_DIR, DT_LNK, DT_REG, NAME_MAX, O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_TRUNC, RENAME_EXCHANGE,
  RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SEEK_CUR, SEEK_END, SEEK_SET,
} from '../../../pkg/abi/linux/file';
import { IN_ATTRIB, IN_CREATE, IN_ISDIR, IN_MODIFY } from '../../../pkg/abi/linux/inotify';
import {
  STATX_BASIC_STATS, STATX_MODE, STATX_SIZE, TMPFS_MAGIC, newStatx, type Statfs, type Statx,
} from '../../../pkg/abi/linux/stat';
import type { Builder } from '../../../pkg/fspath';
import { credentialsFromContext, type Credentials } from '../../../pkg/sentry/kernel/auth';
import { Mutex } from '../../../pkg/sync';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';

let nextIno = 1;

class inode {
  readonly ino = nextIno++;
  nlink = 0;
  data = Buffer.alloc(0);
  target = '';
  readonly children = new Map<string, tdentry>();
  readonly watches = new vfs.Watches();
  readonly locks = new vfs.FileLocks();

  constructor(public mode: number, public uid: number, public gid: number) {}

  isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
}

export class tdentry implements vfs.DentryImpl, vfs.GenericDentry<tdentry> {
  readonly vfsd = new vfs.Dentry();
  parent: tdentry | null = null;
  name = '';
  refs = 1;

  constructor(readonly fs: TestFS, readonly inode: inode) {
    this.vfsd.init(this);
    inode.nlink++;
  }

  incRef(): void {
    this.refs++;
  }

  tryIncRef(): boolean {
    if (this.refs <= 0) return false;
    this.refs++;
    return true;
  }

  decRef(_ctx: Context): void {
    this.refs--;
    if (this.refs < 0) throw new Error(`testfs: dentry ${this.name} refcount below zero`);
  }

  inotifyWithParent(ctx: Context, events: number, cookie: number, et: vfs.EventType): void {
    if (this.inode.isDir()) events |= IN_ISDIR;
    if (this.parent !== null) this.parent.inode.watches.notify(ctx, this.name, events, cookie, et, this.vfsd.isDead());
    this.inode.watches.notify(ctx, '', events, cookie, et, this.vfsd.isDead());
  }

  watches(): vfs.Watches | null {
    return this.inode.watches;
  }

  onZeroWatches(_ctx: Context): void {}
}

/** TestFS is the FilesystemImpl. */
export class TestFS implements vfs.FilesystemImpl {
  readonly vfsfs = new vfs.Filesystem();
  readonly mu = new Mutex();
  root!: tdentry;
  released = false;
  readonly devMinor: number;

  constructor(vfsObj: vfs.VirtualFilesystem, fsType: vfs.FilesystemType, creds: Credentials) {
    this.vfsfs.init(vfsObj, fsType, this);
    this.devMinor = vfsObj.getAnonBlockDevMinor();
    this.root = new tdentry(this, new inode(S_IFDIR | 0o777, creds.effectiveKUID, creds.effectiveKGID));
    this.root.inode.nlink++; // "."
  }

  release(_ctx: Context): void {
    this.released = true;
    this.vfsfs.vfs.putAnonBlockDevMinor(this.devMinor);
  }

  async sync(_ctx: Context): Promise<void> {}

  // stepLocked resolves rp.component() in d, as tmpfs's stepLocked.
  private stepLocked(ctx: Context, rp: vfs.ResolvingPath, d: tdentry): tdentry {
    if (!d.inode.isDir()) throw syserror.ENOTDIR;
    checkPerms(rp.credentials(), vfs.MayExec, d.inode);
    const name = rp.component();
    if (name === '.') {
      rp.advance();
      return d;
    }
    if (name === '..') {
      if (rp.checkRoot(ctx, d.vfsd) || d.parent === null) {
        rp.advance();
        return d;
      }
      rp.checkMount(ctx, d.parent.vfsd);
      rp.advance();
      return d.parent;
    }
    if (Buffer.byteLength(name) > NAME_MAX) throw syserror.ENAMETOOLONG;
    const child = d.inode.children.get(name);
    if (child === undefined) throw syserror.ENOENT;
    rp.checkMount(ctx, child.vfsd);
    if ((child.inode.mode & S_IFMT) === S_IFLNK && rp.shouldFollowSymlink()) {
      rp.handleSymlink(child.inode.target);
      return d;
    }
    rp.advance();
    return child;
  }

  private resolveLocked(ctx: Context, rp: vfs.ResolvingPath): tdentry {
    let d = rp.start().impl as tdentry;
    while (!rp.done()) d = this.stepLocked(ctx, rp, d);
    if (rp.mustBeDir() && !d.inode.isDir()) throw syserror.ENOTDIR;
    return d;
  }

  private walkParentDirLocked(ctx: Context, rp: vfs.ResolvingPath, start?: tdentry): tdentry {
    let d = start ?? (rp.start().impl as tdentry);
    while (!rp.final()) d = this.stepLocked(ctx, rp, d);
    if (!d.inode.isDir()) throw syserror.ENOTDIR;
    return d;
  }

  private async locked<T>(f: () => T | Promise<T>): Promise<T> {
    await this.mu.lock();
    try {
      return await f();
    } finally {
      this.mu.unlock();
    }
  }

  // doCreateAt checks the parent and name, then calls create, as tmpfs's
  // doCreateAt.
  private doCreateAt(ctx: Context, rp: vfs.ResolvingPath, dir: boolean, create: (parent: tdentry, name: string) => void): Promise<void> {
    return this.locked(async () => {
      const parent = this.walkParentDirLocked(ctx, rp);
      checkPerms(rp.credentials(), vfs.MayWrite | vfs.MayExec, parent.inode);
      const name = rp.component();
      if (name === '.' || name === '..') throw syserror.EEXIST;
      if (Buffer.byteLength(name) > NAME_MAX) throw syserror.ENAMETOOLONG;
      if (parent.inode.children.has(name)) throw syserror.EEXIST;
      if (!dir && rp.mustBeDir()) throw syserror.ENOENT;
      if (parent.vfsd.isDead()) throw syserror.ENOENT;
      rp.mount().checkBeginWrite();
      try {
        create(parent, name);
      } finally {
        rp.mount().endWrite();
      }
    });
  }

  private insertChild(parent: tdentry, name: string, child: tdentry): void {
    child.parent = parent;
    child.name = name;
    parent.inode.children.set(name, child);
  }

  async accessAt(ctx: Context, rp: vfs.ResolvingPath, creds: Credentials, ats: vfs.AccessTypes): Promise<void> {
    return this.locked(() => {
      const d = this.resolveLocked(ctx, rp);
      checkPerms(creds, ats, d.inode);
    });
  }

  async getDentryAt(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.GetDentryOptions): Promise<vfs.Dentry> {
    return this.locked(() => {
      const d = this.resolveLocked(ctx, rp);
      if (opts.checkSearchable) {
        if (!d.inode.isDir()) throw syserror.ENOTDIR;
        checkPerms(rp.credentials(), vfs.MayExec, d.inode);
      }
      d.incRef();
      return d.vfsd;
    });
  }

  async getParentDentryAt(ctx: Context, rp: vfs.ResolvingPath): Promise<vfs.Dentry> {
    return this.locked(() => {
      const d = this.walkParentDirLocked(ctx, rp);
      d.incRef();
      return d.vfsd;
    });
  }

  async linkAt(ctx: Context, rp: vfs.ResolvingPath, vd: vfs.VirtualDentry): Promise<void> {
    return this.doCreateAt(ctx, rp, false, (parent, name) => {
      if (rp.mount() !== vd.mount()) throw syserror.EXDEV;
      const d = vd.dentry().impl as tdentry;
      if (d.inode.isDir()) throw syserror.EPERM;
      if (d.inode.nlink === 0) throw syserror.ENOENT;
      vfs.mayLink(rp.credentials(), d.inode.mode, d.inode.uid, d.inode.gid);
      const child = new tdentry(this, d.inode);
      this.insertChild(parent, name, child);
      d.inode.watches.notify(ctx, '', IN_ATTRIB, 0, vfs.InodeEvent, false);
      parent.inode.watches.notify(ctx, name, IN_CREATE, 0, vfs.InodeEvent, false);
    });
  }

  async mkdirAt(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MkdirOptions): Promise<void> {
    return this.doCreateAt(ctx, rp, true, (parent, name) => {
      const creds = rp.credentials();
      const child = new tdentry(this, new inode(S_IFDIR | opts.mode, creds.effectiveKUID, creds.effectiveKGID));
      child.inode.nlink++; // "."
      parent.inode.nlink++; // ".."
      this.insertChild(parent, name, child);
      parent.inode.watches.notify(ctx, name, IN_CREATE | IN_ISDIR, 0, vfs.InodeEvent, false);
    });
  }

  async mknodAt(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MknodOptions): Promise<void> {
    return this.doCreateAt(ctx, rp, false, (parent, name) => {
      const creds = rp.credentials();
      const mode = (opts.mode & S_IFMT) === 0 ? S_IFREG | opts.mode : opts.mode;
      this.insertChild(parent, name, new tdentry(this, new inode(mode, creds.effectiveKUID, creds.effectiveKGID)));
      parent.inode.watches.notify(ctx, name, IN_CREATE, 0, vfs.InodeEvent, false);
    });
  }

  async openAt(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions): Promise<vfs.FileDescription> {
    return this.locked(async () => {
      let d: tdentry;
      if ((opts.flags & O_CREAT) === 0) {
        d = this.resolveLocked(ctx, rp);
      } else {
        let start: tdentry | undefined;
        for (;;) {
          const parent = this.walkParentDirLocked(ctx, rp, start);
          const name = rp.component();
          const child = parent.inode.children.get(name);
          if (child === undefined) {
            checkPerms(rp.credentials(), vfs.MayWrite | vfs.MayExec, parent.inode);
            if (rp.mustBeDir()) throw syserror.EISDIR;
            const creds = rp.credentials();
            const c = new tdentry(this, new inode(S_IFREG | (opts.mode ?? 0), creds.effectiveKUID, creds.effectiveKGID));
            this.insertChild(parent, name, c);
            parent.inode.watches.notify(ctx, name, IN_CREATE, 0, vfs.InodeEvent, false);
            return this.newFD(rp.mount(), c, opts.flags);
          }
          if ((opts.flags & O_EXCL) !== 0) throw syserror.EEXIST;
          rp.checkMount(ctx, child.vfsd);
          if ((child.inode.mode & S_IFMT) === S_IFLNK && rp.shouldFollowSymlink()) {
            // afterTrailingSymlink: resolve the target's parent from here.
            rp.handleSymlink(child.inode.target);
            start = parent;
            continue;
          }
          rp.advance();
          d = child;
          break;
        }
      }
      if ((opts.flags & O_DIRECTORY) !== 0 && !d.inode.isDir()) throw syserror.ENOTDIR;
      if ((d.inode.mode & S_IFMT) === S_IFLNK) throw syserror.ELOOP;
      checkPerms(rp.credentials(), vfs.accessTypesForOpenFlags(opts), d.inode);
      if (d.inode.isDir() && (opts.flags & O_ACCMODE) !== O_RDONLY) throw syserror.EISDIR;
      if ((opts.flags & O_TRUNC) !== 0 && (d.inode.mode & S_IFMT) === S_IFREG) d.inode.data = Buffer.alloc(0);
      return this.newFD(rp.mount(), d, opts.flags);
    });
  }

  private newFD(mnt: vfs.Mount, d: tdentry, flags: number): vfs.FileDescription {
    const fd = d.inode.isDir() ? new dirFD(d) : new regFD(d);
    fd.vfsfd.init(fd, flags, mnt, d.vfsd, {});
    fd.lockFD.init(d.inode.locks);
    return fd.vfsfd;
  }

  async readlinkAt(ctx: Context, rp: vfs.ResolvingPath): Promise<string> {
    return this.locked(() => {
      const d = this.resolveLocked(ctx, rp);
      if ((d.inode.mode & S_IFMT) !== S_IFLNK) throw syserror.EINVAL;
      return d.inode.target;
    });
  }

  async renameAt(ctx: Context, rp: vfs.ResolvingPath, oldParentVD: vfs.VirtualDentry, oldName: string, opts: vfs.RenameOptions): Promise<void> {
    return this.locked(async () => {
      const flags = opts.flags ?? 0;
      if ((flags & ~RENAME_NOREPLACE) !== 0) throw syserror.EINVAL;
      const newParent = this.walkParentDirLocked(ctx, rp);
      const newName = rp.component();
      if (newName === '.' || newName === '..') {
        if ((flags & RENAME_NOREPLACE) !== 0) throw syserror.EEXIST;
        throw syserror.EBUSY;
      }
      if (rp.mount() !== oldParentVD.mount()) throw syserror.EXDEV;
      const oldParent = oldParentVD.dentry().impl as tdentry;
      const renamed = oldParent.inode.children.get(oldName);
      if (renamed === undefined) throw syserror.ENOENT;
      if (opts.mustBeDir && !renamed.inode.isDir()) throw syserror.ENOTDIR;
      const replaced = newParent.inode.children.get(newName) ?? null;
      if (replaced !== null && (flags & RENAME_NOREPLACE) !== 0) throw syserror.EEXIST;
      if (rp.mustBeDir() && !renamed.inode.isDir()) throw syserror.ENOTDIR;
      if (renamed.inode.isDir()) {
        if (renamed === newParent || vfs.genericIsAncestorDentry(renamed, newParent)) throw syserror.EINVAL;
      }
      if (replaced !== null && vfs.genericIsAncestorDentry(replaced, renamed)) throw syserror.ENOTEMPTY;
      if (renamed === replaced) return;
      const creds = rp.credentials();
      checkPerms(creds, vfs.MayWrite | vfs.MayExec, oldParent.inode);
      checkPerms(creds, vfs.MayWrite | vfs.MayExec, newParent.inode);
      vfs.checkDeleteSticky(creds, oldParent.inode.mode, renamed.inode.uid, oldParent.inode.uid, renamed.inode.gid);
      if (replaced !== null) {
        if (renamed.inode.isDir() && !replaced.inode.isDir()) throw syserror.ENOTDIR;
        if (!renamed.inode.isDir() && replaced.inode.isDir()) throw syserror.EISDIR;
        if (replaced.inode.isDir() && replaced.inode.children.size !== 0) throw syserror.ENOTEMPTY;
      }
      if (newParent.vfsd.isDead()) throw syserror.ENOENT;
      const mntns = vfs.mountNamespaceFromContext(ctx);
      if (mntns === null) throw syserror.EINVAL;
      try {
        rp.mount().checkBeginWrite();
        try {
          await rp.virtualFilesystem().prepareRenameDentry(mntns, renamed.vfsd, replaced?.vfsd ?? null);
          if (replaced !== null) {
            newParent.inode.children.delete(newName);
            replaced.inode.nlink--;
            if (replaced.inode.isDir()) {
              replaced.inode.nlink--;
              newParent.inode.nlink--;
            }
          }
          oldParent.inode.children.delete(oldName);
          if (renamed.inode.isDir() && oldParent !== newParent) {
            oldParent.inode.nlink--;
            newParent.inode.nlink++;
          }
          this.insertChild(newParent, newName, renamed);
          rp.virtualFilesystem().commitRenameReplaceDentry(ctx, renamed.vfsd, replaced?.vfsd ?? null);
          if (replaced !== null && replaced.inode.nlink === 0) replaced.inode.watches.handleDeletion(ctx);
        } finally {
          rp.mount().endWrite();
        }
        vfs.inotifyRename(ctx, renamed.inode.watches, oldParent.inode.watches, newParent.inode.watches, oldName, newName, renamed.inode.isDir());
      } finally {
        mntns.decRef(ctx);
      }
    });
  }

  async rmdirAt(ctx: Context, rp: vfs.ResolvingPath): Promise<void> {
    return this.removeAt(ctx, rp, true);
  }

  async unlinkAt(ctx: Context, rp: vfs.ResolvingPath): Promise<void> {
    return this.removeAt(ctx, rp, false);
  }

  private removeAt(ctx: Context, rp: vfs.ResolvingPath, dir: boolean): Promise<void> {
    return this.locked(async () => {
      const parent = this.walkParentDirLocked(ctx, rp);
      const name = rp.component();
      if (dir) {
        if (name === '.') throw syserror.EINVAL;
        if (name === '..') throw syserror.ENOTEMPTY;
      } else if (name === '.' || name === '..') {
        throw syserror.EISDIR;
      }
      const child = parent.inode.children.get(name);
      if (child === undefined) throw syserror.ENOENT;
      const creds = rp.credentials();
      checkPerms(creds, vfs.MayWrite | vfs.MayExec, parent.inode);
      vfs.checkDeleteSticky(creds, parent.inode.mode, child.inode.uid, parent.inode.uid, child.inode.gid);
      if (dir) {
        if (!child.inode.isDir()) throw syserror.ENOTDIR;
        if (child.inode.children.size !== 0) throw syserror.ENOTEMPTY;
      } else {
        if (child.inode.isDir()) throw syserror.EISDIR;
        if (rp.mustBeDir()) throw syserror.ENOTDIR;
      }
      const mntns = vfs.mountNamespaceFromContext(ctx);
      if (mntns === null) throw syserror.EINVAL;
      try {
        rp.mount().checkBeginWrite();
        try {
          const vfsObj = rp.virtualFilesystem();
          await vfsObj.prepareDeleteDentry(mntns, child.vfsd);
          parent.inode.children.delete(name);
          child.inode.nlink--;
          if (dir) {
            child.inode.nlink--;
            parent.inode.nlink--;
          }
          vfsObj.commitDeleteDentry(ctx, child.vfsd);
          vfs.inotifyRemoveChild(ctx, child.inode.watches, parent.inode.watches, name);
          if (child.inode.nlink === 0) child.inode.watches.handleDeletion(ctx);
        } finally {
          rp.mount().endWrite();
        }
      } finally {
        mntns.decRef(ctx);
      }
    });
  }

  async setStatAt(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.SetStatOptions): Promise<void> {
    return this.locked(() => {
      const d = this.resolveLocked(ctx, rp);
      setStat(ctx, rp.credentials(), d, opts);
    });
  }

  async statAt(ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.StatOptions): Promise<Statx> {
    return this.locked(() => statOf(this.resolveLocked(ctx, rp)));
  }

  async statFSAt(ctx: Context, rp: vfs.ResolvingPath): Promise<Statfs> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      return vfs.genericStatFS(TMPFS_MAGIC);
    });
  }

  async symlinkAt(ctx: Context, rp: vfs.ResolvingPath, target: string): Promise<void> {
    return this.doCreateAt(ctx, rp, false, (parent, name) => {
      const creds = rp.credentials();
      const child = new tdentry(this, new inode(S_IFLNK | 0o777, creds.effectiveKUID, creds.effectiveKGID));
      child.inode.target = target;
      this.insertChild(parent, name, child);
      parent.inode.watches.notify(ctx, name, IN_CREATE, 0, vfs.InodeEvent, false);
    });
  }

  async boundEndpointAt(ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.BoundEndpointOptions): Promise<vfs.BoundEndpoint> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      throw syserror.ECONNREFUSED;
    });
  }

  async listXattrAt(ctx: Context, rp: vfs.ResolvingPath, _size: number): Promise<string[]> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      throw syserror.ENOTSUP;
    });
  }

  async getXattrAt(ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.GetXattrOptions): Promise<string> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      throw syserror.ENOTSUP;
    });
  }

  async setXattrAt(ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.SetXattrOptions): Promise<void> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      throw syserror.ENOTSUP;
    });
  }

  async removeXattrAt(ctx: Context, rp: vfs.ResolvingPath, _name: string): Promise<void> {
    return this.locked(() => {
      this.resolveLocked(ctx, rp);
      throw syserror.ENOTSUP;
    });
  }

  async prependPath(_ctx: Context, vfsroot: vfs.VirtualDentry, vd: vfs.VirtualDentry, b: Builder): Promise<void> {
    vfs.genericPrependPath(vfsroot, vd.mount(), vd.dentry().impl as tdentry, b);
  }
}

function checkPerms(creds: Credentials, ats: vfs.AccessTypes, i: inode): void {
  vfs.genericCheckPermissions(creds, ats, i.mode, i.uid, i.gid);
}

function statOf(d: tdentry): Statx {
  const s = newStatx();
  s.mask = STATX_BASIC_STATS;
  s.mode = d.inode.mode;
  s.uid = d.inode.uid;
  s.gid = d.inode.gid;
  s.nlink = d.inode.nlink;
  s.ino = d.inode.ino;
  s.size = (d.inode.mode & S_IFMT) === S_IFLNK ? d.inode.target.length : d.inode.data.length;
  s.blksize = 4096;
  s.devMinor = d.fs.devMinor;
  return s;
}

function setStat(ctx: Context, creds: Credentials, d: tdentry, opts: vfs.SetStatOptions): void {
  vfs.checkSetStat(ctx, creds, opts, d.inode.mode, d.inode.uid, d.inode.gid);
  const st = opts.stat;
  if ((st.mask & STATX_MODE) !== 0) d.inode.mode = (d.inode.mode & S_IFMT) | (st.mode & ~S_IFMT);
  if ((st.mask & STATX_SIZE) !== 0) {
    const nb = Buffer.alloc(st.size);
    d.inode.data.copy(nb);
    d.inode.data = nb;
  }
  const ev = vfs.inotifyEventFromStatMask(st.mask);
  if (ev !== 0) d.inotifyWithParent(ctx, ev, 0, vfs.InodeEvent);
}

abstract class tfd extends vfs.FileDescriptionDefaultImpl {
  readonly vfsfd = new vfs.FileDescription();
  readonly lockFD = new vfs.LockFD();
  off = 0;

  constructor(readonly d: tdentry) {
    super();
  }

  release(_ctx: Context): void {}

  async stat(_ctx: Context, _opts: vfs.StatOptions): Promise<Statx> {
    return statOf(this.d);
  }

  async setStat(ctx: Context, opts: vfs.SetStatOptions): Promise<void> {
    setStat(ctx, credentialsFromContext(ctx), this.d, opts);
  }

  override lockBSD(ctx: Context, uid: unknown, t: 0 | 1, block: boolean): Promise<void> {
    return this.lockFD.lockBSD(ctx, uid, t, block);
  }

  override unlockBSD(ctx: Context, uid: unknown): Promise<void> {
    return this.lockFD.unlockBSD(ctx, uid);
  }

  override lockPOSIX(ctx: Context, uid: unknown, t: 0 | 1, start: number, length: number, whence: number, block: boolean): Promise<void> {
    return this.lockFD.locks().lockPOSIX(ctx, this.vfsfd, uid, t, start, length, whence, block);
  }

  override unlockPOSIX(ctx: Context, uid: unknown, start: number, length: number, whence: number): Promise<void> {
    return this.lockFD.locks().unlockPOSIX(ctx, this.vfsfd, uid, start, length, whence);
  }

  override async seek(_ctx: Context, offset: number, whence: number): Promise<number> {
    switch (whence) {
      case SEEK_SET: break;
      case SEEK_CUR: offset += this.off; break;
      case SEEK_END: offset += this.d.inode.data.length; break;
      default: throw syserror.EINVAL;
    }
    if (offset < 0) throw syserror.EINVAL;
    this.off = offset;
    return offset;
  }
}

class regFD extends tfd {
  override async pread(_ctx: Context, dst: Buffer, offset: number): Promise<number> {
    if (offset >= this.d.inode.data.length) return 0;
    return this.d.inode.data.copy(dst, 0, offset);
  }

  override async read(ctx: Context, dst: Buffer, opts: vfs.ReadOptions): Promise<number> {
    const n = await this.pread(ctx, dst, this.off);
    this.off += n;
    void opts;
    return n;
  }

  override async pwrite(ctx: Context, src: Buffer, offset: number): Promise<number> {
    const i = this.d.inode;
    const end = offset + src.length;
    if (end > i.data.length) {
      const nb = Buffer.alloc(end);
      i.data.copy(nb);
      i.data = nb;
    }
    src.copy(i.data, offset);
    this.d.inotifyWithParent(ctx, IN_MODIFY, 0, vfs.PathEvent);
    return src.length;
  }

  override async write(ctx: Context, src: Buffer, _opts: vfs.WriteOptions): Promise<number> {
    const n = await this.pwrite(ctx, src, this.off);
    this.off += n;
    return n;
  }
}

class dirFD extends tfd {
  override async iterDirents(_ctx: Context, cb: vfs.IterDirentsCallback): Promise<void> {
    const names = [...this.d.inode.children.keys()].sort();
    const all: vfs.Dirent[] = [
      { name: '.', type: DT_DIR, ino: this.d.inode.ino, nextOff: 1 },
      { name: '..', type: DT_DIR, ino: (this.d.parent ?? this.d).inode.ino, nextOff: 2 },
      ...names.map((n, i) => {
        const c = this.d.inode.children.get(n)!;
        const t = c.inode.isDir() ? DT_DIR : (c.inode.mode & S_IFMT) === S_IFLNK ? DT_LNK : DT_REG;
        return { name: n, type: t, ino: c.inode.ino, nextOff: i + 3 };
      }),
    ];
    for (; this.off < all.length; this.off++) cb.handle(all[this.off]);
  }
}

/** TestFSType is the FilesystemType of TestFS ("testfs"). */
export class TestFSType implements vfs.FilesystemType {
  readonly instances: TestFS[] = [];

  async getFilesystem(
    _ctx: Context, vfsObj: vfs.VirtualFilesystem, creds: Credentials, _source: string, _opts: vfs.GetFilesystemOptions,
  ): Promise<[vfs.Filesystem, vfs.Dentry]> {
    const fs = new TestFS(vfsObj, this, creds);
    this.instances.push(fs);
    fs.root.incRef();
    return [fs.vfsfs, fs.root.vfsd];
  }

  name(): string {
    return 'testfs';
  }

  release(_ctx: Context): void {}
}
