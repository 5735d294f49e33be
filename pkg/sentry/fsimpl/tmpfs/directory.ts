// Directories and the directory file description (gVisor's
// pkg/sentry/fsimpl/tmpfs/directory.go).

import * as linux from '../../../abi/linux';
import { IN_ACCESS } from '../../../abi/linux/inotify';
import type { Context } from '../../../context';
import * as syserror from '../../../syserror/syserror';
import type { Credentials, KGID, KUID } from '../../kernel/auth';
import * as vfs from '../../vfs';
import { dentry, fileDescription, inode, type dirEntry, type filesystem } from './tmpfs';

/**
 * dentryList is the intrusive list of a directory's children and of the
 * cursors of its open directory FDs (gVisor's generated dentryList).
 */
export class dentryList {
  head: dirEntry | null = null;
  tail: dirEntry | null = null;

  front(): dirEntry | null {
    return this.head;
  }

  pushBack(e: dirEntry): void {
    e.next = null;
    e.prev = this.tail;
    if (this.tail !== null) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }

  /** insertBefore inserts e before a (a is in the list). */
  insertBefore(a: dirEntry, e: dirEntry): void {
    const prev = a.prev;
    e.next = a;
    e.prev = prev;
    a.prev = e;
    if (prev !== null) prev.next = e;
    else this.head = e;
  }

  remove(e: dirEntry): void {
    const { prev, next } = e;
    if (prev !== null) prev.next = next;
    else if (this.head === e) this.head = next;
    if (next !== null) next.prev = prev;
    else if (this.tail === e) this.tail = prev;
    e.prev = null;
    e.next = null;
  }
}

/**
 * dirCursor is the iteration position of a directoryFD in its directory's
 * childList (gVisor uses a fake dentry with a nil inode).
 */
class dirCursor implements dirEntry {
  prev: dirEntry | null = null;
  next: dirEntry | null = null;
}

export class directory {
  /**
   * Since directories can't be hard-linked, each directory can only be
   * associated with a single dentry, which we can store in the directory
   * object.
   */
  readonly dentry: dentry;
  readonly inode: inode;

  /**
   * childMap maps the names of the directory's children to their dentries.
   * childMap is protected by filesystem.mu.
   */
  readonly childMap = new Map<string, dentry>();

  /** numChildren is childMap.size (gVisor keeps it apart to read it atomically). */
  numChildren = 0;

  /**
   * childList is a list containing (1) child dentries and (2) cursors that
   * represent the iteration position of directoryFDs. childList is used to
   * support directoryFD.iterDirents() efficiently.
   *
   * Differs from gVisor: not guarded by an iterMu; every change to it is
   * synchronous (see the package comment).
   */
  readonly childList = new dentryList();

  constructor(fs: filesystem, kuid: KUID, kgid: KGID, mode: number) {
    this.inode = new inode(this, fs, kuid, kgid, linux.S_IFDIR | mode);
    this.inode.nlink = 2; // from "." and parent directory or ".." for root
    this.dentry = new dentry(this.inode);
  }

  /**
   * Preconditions:
   * * filesystem.mu must be locked for writing.
   * * dir must not already contain a child with the given name.
   */
  insertChildLocked(child: dentry, name: string): void {
    child.parent = this.dentry;
    child.name = name;
    this.childMap.set(name, child);
    this.numChildren++;
    this.childList.pushBack(child);
  }

  /** Preconditions: filesystem.mu must be locked for writing. */
  removeChildLocked(child: dentry): void {
    this.childMap.delete(child.name);
    this.numChildren--;
    this.childList.remove(child);
  }

  /**
   * mayDelete checks the sticky bit. Differs from gVisor at dbe41765, which
   * forgets that the directory's owner may delete too (Linux's
   * check_sticky).
   */
  mayDelete(creds: Credentials, child: dentry): void {
    vfs.checkDeleteSticky(creds, this.inode.mode, child.inode.uid, this.inode.uid, child.inode.gid);
  }
}

/** newDirectory is gVisor's filesystem.newDirectory. */
export function newDirectory(fs: filesystem, kuid: KUID, kgid: KGID, mode: number): directory {
  return new directory(fs, kuid, kgid, mode);
}

/**
 * directoryFD implements vfs.FileDescriptionImpl for directories.
 *
 * getdents offsets: "." is 0, ".." is 1, and the n-th child in childList
 * order is n+2. The fd keeps a cursor in childList, so that children created
 * or removed while the directory is being read neither repeat nor hide the
 * others (as Linux's dcache_readdir and its cursor dentry).
 */
export class directoryFD extends fileDescription {
  // Protected by directory.iterMu in gVisor.
  iter: dirCursor | null = null;
  off = 0;

  /** release implements vfs.FileDescriptionImpl.release. */
  override release(_ctx: Context): void {
    if (this.iter !== null) {
      const dir = this.inode().impl as directory;
      dir.childList.remove(this.iter);
      this.iter = null;
    }
  }

  /** allocate implements vfs.FileDescriptionImpl.allocate (vfs.DirectoryFileDescriptionDefaultImpl). */
  override async allocate(_ctx: Context, _mode: number, _offset: number, _length: number): Promise<void> {
    throw syserror.EISDIR;
  }

  /** iterDirents implements vfs.FileDescriptionImpl.iterDirents. */
  override async iterDirents(ctx: Context, cb: vfs.IterDirentsCallback): Promise<void> {
    const fs = this.filesystem();
    const dir = this.inode().impl as directory;

    // fs.mu is required to read d.parent and dentry.name.
    if (!fs.mu.tryRLock()) await fs.mu.rLock();
    try {
      this.iterDirentsLocked(dir, cb);
    } finally {
      fs.mu.rUnlock();
      this.dentry().inotifyWithParent(ctx, IN_ACCESS, 0, vfs.PathEvent);
    }
  }

  /** Preconditions: filesystem.mu is locked. */
  private iterDirentsLocked(dir: directory, cb: vfs.IterDirentsCallback): void {
    if ((this.vfsfd.statusFlags() & linux.O_NOATIME) === 0) this.inode().touchAtime(this.vfsfd.mount());

    if (this.off === 0) {
      cb.handle({ name: '.', type: linux.DT_DIR, ino: dir.inode.ino, nextOff: 1 });
      this.off++;
    }

    if (this.off === 1) {
      const parentInode = (dir.dentry.parent ?? dir.dentry).inode;
      cb.handle({ name: '..', type: parentInode.direntType(), ino: parentInode.ino, nextOff: 2 });
      this.off++;
    }

    let child: dirEntry | null;
    if (this.iter === null) {
      // Start iteration at the beginning of dir.
      child = dir.childList.front();
      this.iter = new dirCursor();
    } else {
      // Continue iteration from where we left off.
      child = this.iter.next;
      dir.childList.remove(this.iter);
    }
    while (child !== null) {
      // Skip other directoryFD iterators.
      if (child instanceof dentry) {
        try {
          cb.handle({ name: child.name, type: child.inode.direntType(), ino: child.inode.ino, nextOff: this.off + 1 });
        } catch (err) {
          dir.childList.insertBefore(child, this.iter);
          throw err;
        }
        this.off++;
      }
      child = child.next;
    }
    dir.childList.pushBack(this.iter);
  }

  /** seek implements vfs.FileDescriptionImpl.seek. */
  override async seek(_ctx: Context, offset: number, whence: number): Promise<number> {
    const dir = this.inode().impl as directory;
    switch (whence) {
      case linux.SEEK_SET:
        // Use offset as given.
        break;
      case linux.SEEK_CUR:
        offset += this.off;
        break;
      default:
        throw syserror.EINVAL;
    }
    if (offset < 0) throw syserror.EINVAL;

    // If the offset isn't changing (e.g. due to lseek(0, SEEK_CUR)), don't
    // seek even if doing so might reposition the iterator due to concurrent
    // mutation of the directory. Compare fs/libfs.c:dcache_dir_lseek().
    if (this.off === offset) return offset;

    this.off = offset;
    // Compensate for "." and "..".
    let remChildren = offset >= 2 ? offset - 2 : 0;

    // Ensure that fd.iter exists and is not linked into dir.childList.
    if (this.iter === null) this.iter = new dirCursor();
    else dir.childList.remove(this.iter);
    // Insert fd.iter before the remChildren'th child, or at the end of the
    // list if remChildren >= number of children.
    let child = dir.childList.front();
    while (child !== null) {
      // Skip other directoryFD iterators.
      if (child instanceof dentry) {
        if (remChildren === 0) {
          dir.childList.insertBefore(child, this.iter);
          return offset;
        }
        remChildren--;
      }
      child = child.next;
    }
    dir.childList.pushBack(this.iter);
    return offset;
  }

  // vfs.DirectoryFileDescriptionDefaultImpl: read and write on a directory
  // fail with EISDIR.

  override async pread(): Promise<number> {
    throw syserror.EISDIR;
  }

  override async read(): Promise<number> {
    throw syserror.EISDIR;
  }

  override async pwrite(): Promise<number> {
    throw syserror.EISDIR;
  }

  override async write(): Promise<number> {
    throw syserror.EISDIR;
  }
}
