// An in-memory p9.Attacher and p9.File: directories, regular files, symlinks
// and device/fifo/socket nodes, with modes, uid/gid, times, hard links,
// xattrs and 9P2000.L record locks. It stands in for a host directory in the
// tests of the server, of the client and of the interop with diod's own
// clients. (gVisor's p9test builds gomock Files instead; a working file
// system lets the client and interop tests run real sequences.)
//
// Behaviour follows Linux where a syscall would be the oracle: ENOENT,
// EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL for a rename into its own
// subtree, ENAMETOOLONG above NAME_MAX, ERANGE for a too small xattr buffer.
// It checks no permissions (neither does gVisor's fsgofer: the host does,
// and the sentry checks before it calls).

import * as linux from '../../abi/linux';
import * as syserror from '../../syserror/syserror';
import {
  AllocateMode,
  Attr,
  AttrMask,
  AttrMaskAll,
  ConnectFlags,
  Dirent,
  FSStat,
  FileMode,
  FileModeMask,
  FullStat,
  GID,
  ModeDirectory,
  ModeRegular,
  ModeSymlink,
  NoGID,
  NoUID,
  OpenFlags,
  OpenFlagsModeMask,
  OpenTruncate,
  QID,
  ReadOnly,
  SetAttr,
  SetAttrMask,
  UID,
  fileModeIsDir,
  fileModeIsRegular,
  fileModeQIDType,
} from '../p9';
import type { Attacher, File, LockDescription } from '../file';
import { defaultMultiGetAttr } from '../file';

// 9P2000.L lock constants (P9_LOCK_*), as client_file.ts names them.
const LockStatusOK = 0;
const LockStatusBlocked = 1;
const LockTypeRdlck = 0;
const LockTypeWrlck = 1;
const LockTypeUnlck = 2;

/** TMPFS_MAGIC, what statfs reports for this file system. */
export const MemFSMagic = 0x01021994;

interface timespec {
  sec: number;
  nsec: number;
}

function now(): timespec {
  const ns = process.hrtime.bigint(); // monotonic; mixed with the epoch below
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 + Number(ns % 1000000n) };
}

interface lockEntry {
  type: number;
  start: number;
  end: number; // exclusive; Infinity for "to end of file" (length 0)
  procID: number;
  clientID: string;
}

interface dirEntry {
  node: inode;
  cookie: bigint;
}

/** inode is one file of a MemFS. */
export class inode {
  readonly ino: bigint;
  mode: FileMode;
  uid: UID;
  gid: GID;
  nlink: number;
  rdev = 0;
  atime: timespec;
  mtime: timespec;
  ctime: timespec;
  readonly btime: timespec;
  /** data holds a regular file's bytes (data.length >= size). */
  data: Buffer = Buffer.alloc(0);
  size = 0;
  /** target is a symlink's target. */
  target = '';
  /** children holds a directory's entries, in cookie order. */
  readonly children = new Map<string, dirEntry>();
  nextCookie = 3n; // 1 and 2 are "." and ".."
  /** parent is a directory's parent (itself for the root). */
  parent: inode;
  readonly xattrs = new Map<string, string>();
  locks: lockEntry[] = [];

  constructor(ino: bigint, mode: FileMode, uid: UID, gid: GID, parent?: inode) {
    this.ino = ino;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.nlink = fileModeIsDir(mode) ? 2 : 1;
    const t = now();
    this.atime = t;
    this.mtime = t;
    this.ctime = t;
    this.btime = t;
    this.parent = parent ?? this;
  }

  qid(): QID {
    return new QID(fileModeQIDType(this.mode), 0, this.ino);
  }

  isDir(): boolean {
    return fileModeIsDir(this.mode);
  }

  attr(): Attr {
    const a = new Attr();
    a.mode = this.mode;
    a.uid = this.uid;
    a.gid = this.gid;
    a.nLink = this.nlink;
    a.rDev = this.rdev;
    a.size = this.isDir() ? 4096 : fileModeIsRegular(this.mode) ? this.size : Buffer.byteLength(this.target);
    a.blockSize = 4096;
    a.blocks = Math.ceil(a.size / 512);
    a.aTimeSeconds = this.atime.sec;
    a.aTimeNanoSeconds = this.atime.nsec;
    a.mTimeSeconds = this.mtime.sec;
    a.mTimeNanoSeconds = this.mtime.nsec;
    a.cTimeSeconds = this.ctime.sec;
    a.cTimeNanoSeconds = this.ctime.nsec;
    a.bTimeSeconds = this.btime.sec;
    a.bTimeNanoSeconds = this.btime.nsec;
    return a;
  }

  touchM(): void {
    const t = now();
    this.mtime = t;
    this.ctime = t;
  }

  truncate(size: number, max: number): void {
    if (size > max) throw syserror.EFBIG;
    if (size > this.data.length) {
      const d = Buffer.alloc(Math.min(Math.max(size, this.data.length * 2), max));
      this.data.copy(d, 0, 0, this.size);
      this.data = d;
    } else if (size < this.size) {
      this.data.fill(0, size, this.size);
    }
    this.size = size;
  }

  addChild(name: string, child: inode): void {
    this.children.set(name, { node: child, cookie: this.nextCookie++ });
  }
}

/** MemFSOptions tune a MemFS for tests. */
export interface MemFSOptions {
  /** uid and gid of the root and of files created with NoUID/NoGID (default: this process's). */
  uid?: number;
  gid?: number;
  /** rootMode is the root's permissions (default 0o755). */
  rootMode?: number;
  /** walkGetAttrENOSYS makes walkGetAttr throw ENOSYS (as gVisor's DefaultWalkGetAttr). */
  walkGetAttrENOSYS?: boolean;
  /** multiGetAttr gives the Files a multiGetAttr (defaultMultiGetAttr); by default they have none. */
  multiGetAttr?: boolean;
  /** maxFileSize bounds a regular file's size (EFBIG above it; default 64 MiB). */
  maxFileSize?: number;
}

/** MemFS is an in-memory file system and its Attacher. */
export class MemFS implements Attacher {
  readonly root: inode;
  readonly options: MemFSOptions;
  private nextIno = 1n;
  /** openFiles counts MemFiles not yet closed (leak checks). */
  openFiles = 0;
  readonly uid: number;
  readonly gid: number;
  readonly maxFileSize: number;

  constructor(options: MemFSOptions = {}) {
    this.options = options;
    this.maxFileSize = options.maxFileSize ?? 64 << 20;
    this.uid = options.uid ?? (process.getuid?.() ?? 0);
    this.gid = options.gid ?? (process.getgid?.() ?? 0);
    this.root = this.newInode(ModeDirectory | (options.rootMode ?? 0o755), this.uid, this.gid);
  }

  newInode(mode: FileMode, uid: UID, gid: GID, parent?: inode): inode {
    return new inode(this.nextIno++, mode, uid === NoUID ? this.uid : uid, gid === NoGID ? this.gid : gid, parent);
  }

  /** attach implements Attacher.attach. */
  attach(): Promise<File> {
    return Promise.resolve(this.fileFor(this.root));
  }

  fileFor(n: inode): MemFile {
    this.openFiles++;
    const f = new MemFile(this, n);
    if (this.options.multiGetAttr) {
      f.multiGetAttr = (names: readonly string[]): Promise<FullStat[]> => defaultMultiGetAttr(f, names);
    }
    return f;
  }

  // --- direct (synchronous) construction helpers for tests ---

  /** lookup returns the inode at a slash-separated path below the root. */
  lookup(path: string): inode {
    let n = this.root;
    for (const c of path.split('/').filter((s) => s !== '')) {
      const e = n.children.get(c);
      if (e === undefined) throw syserror.ENOENT;
      n = e.node;
    }
    return n;
  }

  // parentOf returns the directory (made if missing) and name for path.
  private parentOf(path: string): [inode, string] {
    const parts = path.split('/').filter((s) => s !== '');
    const name = parts.pop();
    if (name === undefined) throw syserror.EEXIST;
    const dir = this.mkdirAll(parts.join('/'));
    if (!dir.isDir()) throw syserror.ENOTDIR;
    if (dir.children.has(name)) throw syserror.EEXIST;
    return [dir, name];
  }

  /** mkdirAll makes a directory (and its missing parents) for tests. */
  mkdirAll(path: string, mode = 0o755): inode {
    let n = this.root;
    for (const c of path.split('/').filter((s) => s !== '')) {
      const e = n.children.get(c);
      if (e !== undefined) {
        n = e.node;
        continue;
      }
      const d = this.newInode(ModeDirectory | mode, NoUID, NoGID, n);
      n.addChild(c, d);
      n.nlink++;
      n = d;
    }
    return n;
  }

  /** writeFile makes (or replaces the contents of) a regular file, and its missing parents, for tests. */
  writeFile(path: string, contents: string | Buffer, mode = 0o644): inode {
    let n: inode;
    try {
      n = this.lookup(path);
    } catch {
      const [dir, name] = this.parentOf(path);
      n = this.newInode(ModeRegular | mode, NoUID, NoGID);
      dir.addChild(name, n);
    }
    const b = typeof contents === 'string' ? Buffer.from(contents) : contents;
    n.truncate(0, Infinity);
    n.truncate(b.length, Infinity);
    b.copy(n.data);
    return n;
  }

  /** symlink makes a symbolic link (and its missing parents) for tests. */
  symlink(path: string, target: string): inode {
    const [dir, name] = this.parentOf(path);
    const n = this.newInode(ModeSymlink | 0o777, NoUID, NoGID);
    n.target = target;
    dir.addChild(name, n);
    return n;
  }
}

function checkName(name: string): void {
  if (Buffer.byteLength(name) > linux.NAME_MAX) throw syserror.ENAMETOOLONG;
}

// lockEnd returns the exclusive end of the range [start, start+length), or
// Infinity for length 0 ("to end of file"); a range past 2^53 is EINVAL (the
// offsets travel as numbers).
function lockEnd(start: number, length: number): number {
  if (length === 0) return Infinity;
  const end = start + length;
  if (!Number.isSafeInteger(end)) throw syserror.EINVAL;
  return end;
}

function direntSize(name: string): number {
  // qid[13] offset[8] type[1] name[s]
  return 13 + 8 + 1 + 2 + Buffer.byteLength(name);
}

/** MemFile is a p9.File over an inode of a MemFS. */
export class MemFile implements File {
  readonly fs: MemFS;
  readonly node: inode;
  opened = false;
  openFlags: OpenFlags = 0;
  closed = false;
  multiGetAttr?: (names: readonly string[]) => Promise<FullStat[]>;

  constructor(fs: MemFS, node: inode) {
    this.fs = fs;
    this.node = node;
  }

  private dir(): inode {
    if (!this.node.isDir()) throw syserror.ENOTDIR;
    return this.node;
  }

  private child(name: string): inode {
    checkName(name);
    const d = this.dir();
    if (name === '.') return d;
    if (name === '..') return d.parent;
    const e = d.children.get(name);
    if (e === undefined) throw syserror.ENOENT;
    return e.node;
  }

  private async walkSync(names: readonly string[]): Promise<[QID[], MemFile]> {
    let n = this.node;
    const qids: QID[] = [];
    for (const name of names) {
      const f = new MemFile(this.fs, n);
      n = f.child(name);
      qids.push(n.qid());
    }
    return [qids, this.fs.fileFor(n)];
  }

  /** walk implements File.walk. */
  walk(names: readonly string[]): Promise<[QID[], File]> {
    return this.walkSync(names);
  }

  /** walkGetAttr implements File.walkGetAttr. */
  async walkGetAttr(names: readonly string[]): Promise<[QID[], File, AttrMask, Attr]> {
    if (this.fs.options.walkGetAttrENOSYS) throw syserror.ENOSYS;
    const [qids, f] = await this.walkSync(names);
    return [qids, f, AttrMaskAll(), f.node.attr()];
  }

  /** statFS implements File.statFS. */
  async statFS(): Promise<FSStat> {
    const s = new FSStat();
    s.type = MemFSMagic;
    s.blockSize = 4096;
    s.blocks = 1 << 20;
    s.blocksFree = 1 << 19;
    s.blocksAvailable = 1 << 19;
    s.files = 1 << 20;
    s.filesFree = (1 << 20) - Number(this.fs.root.ino);
    s.nameLength = linux.NAME_MAX;
    return s;
  }

  /** getAttr implements File.getAttr. */
  async getAttr(_req: AttrMask): Promise<[QID, AttrMask, Attr]> {
    return [this.node.qid(), AttrMaskAll(), this.node.attr()];
  }

  /** setAttr implements File.setAttr. */
  async setAttr(valid: SetAttrMask, attr: SetAttr): Promise<void> {
    const n = this.node;
    if (valid.size) {
      if (n.isDir()) throw syserror.EISDIR;
      if (!fileModeIsRegular(n.mode)) throw syserror.EINVAL;
      n.truncate(attr.size, this.fs.maxFileSize);
      n.touchM();
    }
    if (valid.permissions) n.mode = (n.mode & FileModeMask) | (attr.permissions & 0o7777);
    if (valid.uid) n.uid = attr.uid;
    if (valid.gid) n.gid = attr.gid;
    const t = now();
    if (valid.aTime) n.atime = valid.aTimeNotSystemTime ? { sec: attr.aTimeSeconds, nsec: attr.aTimeNanoSeconds } : t;
    if (valid.mTime) n.mtime = valid.mTimeNotSystemTime ? { sec: attr.mTimeSeconds, nsec: attr.mTimeNanoSeconds } : t;
    n.ctime = t;
  }

  /** getXattr implements File.getXattr. */
  async getXattr(name: string, size: number): Promise<string> {
    const v = this.node.xattrs.get(name);
    if (v === undefined) throw syserror.ENODATA;
    if (size !== 0 && Buffer.byteLength(v, 'latin1') > size) throw syserror.ERANGE;
    return v;
  }

  /** setXattr implements File.setXattr. */
  async setXattr(name: string, value: string, flags: number): Promise<void> {
    if (name.length === 0 || Buffer.byteLength(name) > linux.XATTR_NAME_MAX) throw syserror.ERANGE;
    const has = this.node.xattrs.has(name);
    if (flags & linux.XATTR_CREATE && has) throw syserror.EEXIST;
    if (flags & linux.XATTR_REPLACE && !has) throw syserror.ENODATA;
    this.node.xattrs.set(name, value);
    this.node.ctime = now();
  }

  /** listXattr implements File.listXattr. */
  async listXattr(_size: number): Promise<Set<string>> {
    return new Set(this.node.xattrs.keys());
  }

  /** removeXattr implements File.removeXattr. */
  async removeXattr(name: string): Promise<void> {
    if (!this.node.xattrs.delete(name)) throw syserror.ENODATA;
    this.node.ctime = now();
  }

  /** allocate implements File.allocate. */
  async allocate(mode: AllocateMode, offset: number, length: number): Promise<void> {
    if (!fileModeIsRegular(this.node.mode)) throw syserror.ENODEV;
    if (mode.punchHole || mode.collapseRange || mode.insertRange || mode.zeroRange) throw syserror.EOPNOTSUPP;
    if (!mode.keepSize && offset + length > this.node.size) {
      this.node.truncate(offset + length, this.fs.maxFileSize);
      this.node.touchM();
    }
  }

  /** close implements File.close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fs.openFiles--;
  }

  /** setAttrClose implements File.setAttrClose. */
  async setAttrClose(valid: SetAttrMask, attr: SetAttr): Promise<void> {
    try {
      await this.setAttr(valid, attr);
    } finally {
      await this.close();
    }
  }

  /** open implements File.open. */
  async open(flags: OpenFlags): Promise<[QID, number]> {
    const n = this.node;
    if (n.isDir() && (flags & OpenFlagsModeMask) !== ReadOnly) throw syserror.EISDIR;
    if (flags & OpenTruncate && fileModeIsRegular(n.mode) && (flags & OpenFlagsModeMask) !== ReadOnly) {
      n.truncate(0, Infinity);
      n.touchM();
    }
    this.opened = true;
    this.openFlags = flags;
    return [n.qid(), 0];
  }

  /** readAt implements File.readAt. */
  async readAt(p: Buffer, offset: number): Promise<number> {
    const n = this.node;
    if (n.isDir()) throw syserror.EISDIR;
    if (!fileModeIsRegular(n.mode)) throw syserror.EINVAL;
    if (offset >= n.size) return 0;
    const c = Math.min(p.length, n.size - offset);
    n.data.copy(p, 0, offset, offset + c);
    n.atime = now();
    return c;
  }

  /** writeAt implements File.writeAt. */
  async writeAt(p: Buffer, offset: number): Promise<number> {
    const n = this.node;
    if (n.isDir()) throw syserror.EISDIR;
    if (!fileModeIsRegular(n.mode)) throw syserror.EINVAL;
    if (offset + p.length > n.size) n.truncate(offset + p.length, this.fs.maxFileSize);
    p.copy(n.data, offset);
    n.touchM();
    return p.length;
  }

  /** fSync implements File.fSync. */
  async fSync(): Promise<void> {}

  private newChild(name: string, mode: FileMode, uid: UID, gid: GID): inode {
    checkName(name);
    const d = this.dir();
    if (d.children.has(name)) throw syserror.EEXIST;
    if (d.nlink === 0) throw syserror.ENOENT; // removed directory
    const n = this.fs.newInode(mode, uid, gid, fileModeIsDir(mode) ? d : undefined);
    d.addChild(name, n);
    if (n.isDir()) d.nlink++;
    d.touchM();
    return n;
  }

  /** create implements File.create. */
  async create(name: string, flags: OpenFlags, permissions: FileMode, uid: UID, gid: GID): Promise<[File, QID, number]> {
    const n = this.newChild(name, ModeRegular | (permissions & 0o7777), uid, gid);
    const f = this.fs.fileFor(n);
    f.opened = true;
    f.openFlags = flags;
    return [f, n.qid(), 0];
  }

  /** mkdir implements File.mkdir. */
  async mkdir(name: string, permissions: FileMode, uid: UID, gid: GID): Promise<QID> {
    return this.newChild(name, ModeDirectory | (permissions & 0o7777), uid, gid).qid();
  }

  /** symlink implements File.symlink. */
  async symlink(oldName: string, newName: string, uid: UID, gid: GID): Promise<QID> {
    if (Buffer.byteLength(oldName) >= linux.PATH_MAX) throw syserror.ENAMETOOLONG;
    const n = this.newChild(newName, ModeSymlink | 0o777, uid, gid);
    n.target = oldName;
    return n.qid();
  }

  /** link implements File.link. */
  async link(target: File, newName: string): Promise<void> {
    if (!(target instanceof MemFile) || target.fs !== this.fs) throw syserror.EXDEV;
    const t = target.node;
    if (t.isDir()) throw syserror.EPERM;
    if (t.nlink === 0) throw syserror.ENOENT;
    checkName(newName);
    const d = this.dir();
    if (d.children.has(newName)) throw syserror.EEXIST;
    d.addChild(newName, t);
    t.nlink++;
    t.ctime = now();
    d.touchM();
  }

  /** mknod implements File.mknod. */
  async mknod(name: string, mode: FileMode, major: number, minor: number, uid: UID, gid: GID): Promise<QID> {
    let t = mode & FileModeMask;
    if (t === 0) t = ModeRegular;
    switch (t) {
      case linux.S_IFREG:
      case linux.S_IFIFO:
      case linux.S_IFSOCK:
      case linux.S_IFCHR:
      case linux.S_IFBLK:
        break;
      case linux.S_IFDIR:
        throw syserror.EPERM;
      default:
        throw syserror.EINVAL;
    }
    const n = this.newChild(name, t | (mode & 0o7777), uid, gid);
    // Linux's new_encode_dev, as an unsigned 32-bit number.
    n.rdev = (((major & 0xfff) << 8) | (minor & 0xff) | ((minor & 0xfff00) << 12)) >>> 0;
    return n.qid();
  }

  /** rename implements File.rename (never called on the server). */
  async rename(_newDir: File, _newName: string): Promise<void> {
    throw syserror.ENOSYS;
  }

  /** renameAt implements File.renameAt, with rename(2)'s checks. */
  async renameAt(oldName: string, newDir: File, newName: string): Promise<void> {
    if (!(newDir instanceof MemFile) || newDir.fs !== this.fs) throw syserror.EXDEV;
    checkName(oldName);
    checkName(newName);
    const od = this.dir();
    const nd = newDir.dir();
    const oe = od.children.get(oldName);
    if (oe === undefined) throw syserror.ENOENT;
    const src = oe.node;
    if (nd.nlink === 0) throw syserror.ENOENT;
    // A directory may not move below itself.
    if (src.isDir()) {
      for (let p = nd; ; p = p.parent) {
        if (p === src) throw syserror.EINVAL;
        if (p.parent === p) break;
      }
    }
    const ne = nd.children.get(newName);
    if (ne !== undefined) {
      const dst = ne.node;
      if (dst === src) return; // same file: nothing to do, as rename(2)
      if (src.isDir()) {
        if (!dst.isDir()) throw syserror.ENOTDIR;
        if (dst.children.size > 0) throw syserror.ENOTEMPTY;
      } else if (dst.isDir()) {
        throw syserror.EISDIR;
      }
      nd.children.delete(newName);
      if (dst.isDir()) {
        dst.nlink = 0;
        nd.nlink--;
      } else {
        dst.nlink--;
      }
      dst.ctime = now();
    }
    od.children.delete(oldName);
    nd.addChild(newName, src);
    if (src.isDir()) {
      od.nlink--;
      nd.nlink++;
      src.parent = nd;
    }
    src.ctime = now();
    od.touchM();
    nd.touchM();
  }

  /** unlinkAt implements File.unlinkAt (flags: AT_REMOVEDIR). */
  async unlinkAt(name: string, flags: number): Promise<void> {
    checkName(name);
    const d = this.dir();
    const e = d.children.get(name);
    if (e === undefined) throw syserror.ENOENT;
    const n = e.node;
    if (flags & linux.AT_REMOVEDIR) {
      if (!n.isDir()) throw syserror.ENOTDIR;
      if (n.children.size > 0) throw syserror.ENOTEMPTY;
      n.nlink = 0;
      d.nlink--;
    } else {
      if (n.isDir()) throw syserror.EISDIR;
      n.nlink--;
    }
    d.children.delete(name);
    n.ctime = now();
    d.touchM();
  }

  /** readdir implements File.readdir: ".", "..", then the entries, cookies increasing. */
  async readdir(offset: bigint, count: number): Promise<Dirent[]> {
    const d = this.dir();
    const out: Dirent[] = [];
    let used = 0;
    const add = (name: string, n: inode, cookie: bigint): boolean => {
      if (cookie <= offset) return true;
      const sz = direntSize(name);
      if (used + sz > count) return false;
      used += sz;
      out.push(new Dirent(n.qid(), cookie, fileModeQIDType(n.mode), name));
      return true;
    };
    if (!add('.', d, 1n) || !add('..', d.parent, 2n)) return out;
    for (const [name, e] of d.children) {
      if (!add(name, e.node, e.cookie)) break;
    }
    d.atime = now();
    return out;
  }

  /** readlink implements File.readlink. */
  async readlink(): Promise<string> {
    if ((this.node.mode & FileModeMask) !== ModeSymlink) throw syserror.EINVAL;
    return this.node.target;
  }

  /** flush implements File.flush. */
  async flush(): Promise<void> {}

  /** connect implements File.connect: there is no host socket behind a MemFS node. */
  async connect(_flags: ConnectFlags): Promise<number> {
    throw syserror.ECONNREFUSED;
  }

  /** renamed implements File.renamed: a MemFile holds its inode, not a path. */
  renamed(_newDir: File, _newName: string): void {}

  /**
   * lock implements File.lock: POSIX record locks owned by (clientID,
   * procID); a conflicting request answers LockStatusBlocked (the client
   * retries), an unlock releases the owner's locks in the range.
   */
  async lock(type: number, _flags: number, start: number, length: number, procID: number, clientID: string): Promise<number> {
    const n = this.node;
    const end = lockEnd(start, length);
    const mine = (l: lockEntry): boolean => l.procID === procID && l.clientID === clientID;
    if (type !== LockTypeUnlck && type !== LockTypeRdlck && type !== LockTypeWrlck) throw syserror.EINVAL;
    if (type !== LockTypeUnlck) {
      for (const l of n.locks) {
        if (mine(l) || l.end <= start || l.start >= end) continue;
        if (type === LockTypeWrlck || l.type === LockTypeWrlck) return LockStatusBlocked;
      }
    }
    // Remove the owner's locks over [start, end), splitting at the edges.
    const kept: lockEntry[] = [];
    for (const l of n.locks) {
      if (!mine(l) || l.end <= start || l.start >= end) {
        kept.push(l);
        continue;
      }
      if (l.start < start) kept.push({ ...l, end: start });
      if (l.end > end) kept.push({ ...l, start: end });
    }
    if (type !== LockTypeUnlck) kept.push({ type, start, end, procID, clientID });
    n.locks = kept;
    return LockStatusOK;
  }

  /** getLock implements File.getLock. */
  async getLock(l: LockDescription): Promise<LockDescription> {
    const end = lockEnd(l.start, l.length);
    for (const h of this.node.locks) {
      if ((h.procID === l.procID && h.clientID === l.clientID) || h.end <= l.start || h.start >= end) continue;
      if (l.type === LockTypeWrlck || h.type === LockTypeWrlck) {
        return { type: h.type, start: h.start, length: h.end === Infinity ? 0 : h.end - h.start, procID: h.procID, clientID: h.clientID };
      }
    }
    return { type: LockTypeUnlck, start: l.start, length: l.length, procID: l.procID, clientID: l.clientID };
  }
}
