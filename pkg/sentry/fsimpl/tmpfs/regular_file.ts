// Regular files and their file description (gVisor's
// pkg/sentry/fsimpl/tmpfs/regular_file.go).
//
// Differs from gVisor: no memory mappings (no memory manager in this port),
// so regularFile is not a memmap.Mappable and has no mapsMu/mappings; no
// memfd seals (memfd_create is outside the ported syscalls); the data lives
// in fileData below rather than in a pgalloc.MemoryFile.

import * as linux from '../../../abi/linux';
import { CAP_FSETID } from '../../../abi/linux/capability';
import { RWF_DSYNC, RWF_HIPRI, RWF_SYNC } from '../../../abi/linux/fcntl';
import type { Context } from '../../../context';
import * as syserror from '../../../syserror/syserror';
import { credentialsFromContext, type Credentials, type KGID, type KUID } from '../../kernel/auth';
import * as vfs from '../../vfs';
import { fileDescription, filesystem, inode } from './tmpfs';

/** regularFile is a regular (=S_IFREG) tmpfs file. */
export class regularFile {
  readonly inode: inode;

  /**
   * data holds the file's contents and size (gVisor: data, size; both
   * protected by dataMu there, which only guards synchronous code).
   */
  readonly data: fileData;

  constructor(fs: filesystem, kuid: KUID, kgid: KGID, mode: number) {
    this.data = new fileData(fs.pages);
    this.inode = new inode(this, fs, kuid, kgid, linux.S_IFREG | mode);
    this.inode.nlink = 1; // from parent directory
  }

  /** size is the size of data. */
  get size(): number {
    return this.data.size;
  }

  /**
   * truncate grows or shrinks the file to the given size. It returns true if
   * the file size was updated.
   */
  truncate(newSize: number): boolean {
    return this.truncateLocked(newSize);
  }

  /** Preconditions: rf.inode.mu must be held (a no-op here; see the package comment). */
  truncateLocked(newSize: number): boolean {
    const oldSize = this.data.size;
    if (newSize === oldSize) {
      // Nothing to do.
      return false;
    }
    if (newSize > MAX_FILE_SIZE) throw syserror.EFBIG;
    // Growing only updates the size; shrinking also drops the pages past the
    // new EOF (gVisor: mappings.Invalidate then data.Truncate).
    this.data.truncate(newSize);
    return true;
  }
}

/** newRegularFile is gVisor's filesystem.newRegularFile. */
export function newRegularFile(fs: filesystem, kuid: KUID, kgid: KGID, mode: number): inode {
  return new regularFile(fs, kuid, kgid, mode).inode;
}

/**
 * newUnlinkedRegularFileDescription creates a regular file on the tmpfs
 * filesystem represented by mount and returns an FD representing that file.
 * The new file is not reachable by path traversal from any other file.
 *
 * newUnlinkedRegularFileDescription is analogous to Linux's
 * mm/shmem.c:__shmem_file_setup().
 *
 * Preconditions: mount must be a tmpfs mount.
 */
export function newUnlinkedRegularFileDescription(
  ctx: Context, creds: Credentials, mount: vfs.Mount, name: string,
): regularFileFD {
  const fs = mount.filesystem().impl;
  if (!(fs instanceof filesystem)) {
    throw new Error('tmpfs.newUnlinkedRegularFileDescription() called with non-tmpfs mount');
  }
  const i = newRegularFile(fs, creds.effectiveKUID, creds.effectiveKGID, 0o777);
  // Differs from gVisor (nlink 1): the file has no link, and Linux's fstat
  // of a memfd says so. The reference that stands for the link is the one
  // d.decRef drops below, as in gVisor.
  i.nlink = 0;
  const d = fs.newDentry(i);
  d.name = name;
  const fd = new regularFileFD();
  fd.lockFD.init(i.locks);
  try {
    fd.vfsfd.init(fd, linux.O_RDWR, mount, d.vfsd, {});
  } finally {
    d.decRef(ctx);
  }
  return fd;
}

/**
 * newMemfd creates a new regular file and file description as for
 * memfd_create (without seals, see the file comment).
 *
 * Preconditions: mount must be a tmpfs mount.
 */
export function newMemfd(ctx: Context, creds: Credentials, mount: vfs.Mount, name: string): vfs.FileDescription {
  return newUnlinkedRegularFileDescription(ctx, creds, mount, name).vfsfd;
}

/**
 * regularFileFD implements vfs.FileDescriptionImpl for regular files.
 *
 * Differs from gVisor: no offMu. read, write and seek run synchronously from
 * reading the offset to storing it, so no other task can interleave (POSIX
 * 2.9.7 holds without a lock).
 */
export class regularFileFD extends fileDescription {
  /** off is the file offset. */
  off = 0;

  /** release implements vfs.FileDescriptionImpl.release. */
  override release(_ctx: Context): void {
    // noop
  }

  /**
   * allocate implements vfs.FileDescriptionImpl.allocate.
   *
   * Differs from gVisor (which only grows the size, whatever the mode): the
   * modes Linux's tmpfs supports, as mm/shmem.c:shmem_fallocate and
   * fs/open.c:vfs_fallocate do them: 0 reserves pages and grows the size,
   * FALLOC_FL_KEEP_SIZE only reserves, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE frees;
   * any other mode is EOPNOTSUPP. mtime and ctime change (file_modified).
   */
  override async allocate(ctx: Context, mode: number, offset: number, length: number): Promise<void> {
    if (offset < 0 || length <= 0) throw syserror.EINVAL;
    if ((mode & linux.FALLOC_FL_PUNCH_HOLE) !== 0 && (mode & linux.FALLOC_FL_KEEP_SIZE) === 0) {
      throw syserror.EOPNOTSUPP;
    }
    if ((mode & ~(linux.FALLOC_FL_KEEP_SIZE | linux.FALLOC_FL_PUNCH_HOLE)) !== 0) throw syserror.EOPNOTSUPP;
    const end = offset + length;
    if (end > MAX_FILE_SIZE) throw syserror.EFBIG;
    const f = this.inode().impl as regularFile;
    if ((mode & linux.FALLOC_FL_PUNCH_HOLE) !== 0) {
      f.data.punchHole(offset, length);
    } else {
      if ((mode & linux.FALLOC_FL_KEEP_SIZE) === 0 && end > f.data.size) {
        // inode_newsize_ok: RLIMIT_FSIZE.
        if (vfs.checkLimit(ctx, offset, length) < length) throw syserror.EFBIG;
      }
      f.data.reserve(offset, length);
      if ((mode & linux.FALLOC_FL_KEEP_SIZE) === 0 && end > f.data.size) f.data.size = end;
    }
    removePrivs(ctx, f.inode);
    f.inode.touchCMtime();
  }

  /** pread implements vfs.FileDescriptionImpl.pread. */
  override async pread(_ctx: Context, dst: Buffer, offset: number, opts: vfs.ReadOptions): Promise<number> {
    return this.preadSync(dst, offset, opts);
  }

  private preadSync(dst: Buffer, offset: number, opts: vfs.ReadOptions): number {
    if (offset < 0) throw syserror.EINVAL;
    // Check that flags are supported. RWF_DSYNC/RWF_SYNC can be ignored since
    // all state is in-memory.
    if (((opts.flags ?? 0) & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC)) !== 0) throw syserror.EOPNOTSUPP;
    if (dst.length === 0) return 0;
    const f = this.inode().impl as regularFile;
    const n = f.data.readAt(dst, offset);
    // O_NOATIME: Linux's touch_atime skips the update (gVisor ignores it).
    if ((this.vfsfd.statusFlags() & linux.O_NOATIME) === 0) this.inode().touchAtime(this.vfsfd.mount());
    return n;
  }

  /** read implements vfs.FileDescriptionImpl.read. */
  override async read(_ctx: Context, dst: Buffer, opts: vfs.ReadOptions): Promise<number> {
    const n = this.preadSync(dst, this.off, opts);
    this.off += n;
    return n;
  }

  /** pwrite implements vfs.FileDescriptionImpl.pwrite. */
  override async pwrite(ctx: Context, src: Buffer, offset: number, opts: vfs.WriteOptions): Promise<number> {
    return this.pwriteSync(ctx, src, offset, opts)[0];
  }

  /**
   * pwriteSync returns the number of bytes written and the final offset. The
   * final offset should be ignored by pwrite. (gVisor: pwrite.)
   */
  private pwriteSync(ctx: Context, src: Buffer, offset: number, opts: vfs.WriteOptions): [number, number] {
    if (offset < 0) throw syserror.EINVAL;
    // Check that flags are supported. RWF_DSYNC/RWF_SYNC can be ignored since
    // all state is in-memory.
    if (((opts.flags ?? 0) & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC)) !== 0) throw syserror.EOPNOTSUPP;

    let srclen = src.length;
    if (srclen === 0) return [0, offset];
    const f = this.inode().impl as regularFile;
    // If the file is opened with O_APPEND, update offset to file size.
    if ((this.vfsfd.statusFlags() & linux.O_APPEND) !== 0) offset = f.data.size;
    // Offsets past MAX_FILE_SIZE (Linux: s_maxbytes) are EFBIG.
    if (offset >= MAX_FILE_SIZE) throw syserror.EFBIG;
    if (offset + srclen > MAX_FILE_SIZE) srclen = MAX_FILE_SIZE - offset;

    srclen = vfs.checkLimit(ctx, offset, srclen);
    const n = f.data.writeAt(srclen === src.length ? src : src.subarray(0, srclen), offset);
    // Linux: file_remove_privs, then file_update_time.
    removePrivs(ctx, f.inode);
    f.inode.touchCMtimeLocked();
    return [n, n + offset];
  }

  /** write implements vfs.FileDescriptionImpl.write. */
  override async write(ctx: Context, src: Buffer, opts: vfs.WriteOptions): Promise<number> {
    const [n, off] = this.pwriteSync(ctx, src, this.off, opts);
    this.off = off;
    return n;
  }

  /**
   * seek implements vfs.FileDescriptionImpl.seek.
   *
   * Differs from gVisor (SEEK_SET/CUR/END only): SEEK_DATA and SEEK_HOLE as
   * Linux's tmpfs answers them (mm/shmem.c:shmem_file_llseek).
   */
  override async seek(_ctx: Context, offset: number, whence: number): Promise<number> {
    const f = this.inode().impl as regularFile;
    switch (whence) {
      case linux.SEEK_SET:
        // use offset as specified
        break;
      case linux.SEEK_CUR:
        offset += this.off;
        break;
      case linux.SEEK_END:
        offset += f.data.size;
        break;
      case linux.SEEK_DATA:
        offset = f.data.seekData(offset);
        break;
      case linux.SEEK_HOLE:
        offset = f.data.seekHole(offset);
        break;
      default:
        throw syserror.EINVAL;
    }
    if (offset < 0) throw syserror.EINVAL;
    this.off = offset;
    return offset;
  }
}

/**
 * removePrivs clears set-user-ID (and set-group-ID with group-execute) when a
 * caller without CAP_FSETID modifies a regular file, as Linux's
 * file_remove_privs() does on write, truncate and fallocate (gVisor at
 * dbe41765 does not).
 */
export function removePrivs(ctx: Context, i: inode): void {
  if ((i.mode & (linux.S_ISUID | linux.S_ISGID)) === 0) return;
  const creds = credentialsFromContext(ctx);
  if (vfs.hasCapabilityOnFile(creds, CAP_FSETID, i.uid, i.gid)) return;
  const mode = vfs.clearSUIDAndSGID(i.mode);
  if (mode !== i.mode) {
    i.mode = mode;
    i.touchCtime();
  }
}

/** PAGE_SIZE is usermem.PageSize. */
export const PAGE_SIZE = 4096;

/**
 * MAX_FILE_SIZE bounds offsets so that every offset stays an exact number
 * (Linux's tmpfs allows MAX_LFS_FILESIZE, 2^63-1; past 2^53 a JavaScript
 * number is no longer exact, so a write or truncate beyond is EFBIG here).
 */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/** MAX_PAGES bounds fallocate's reservations (Linux: the tmpfs size limit, ENOSPC). */
export const MAX_PAGES = 1 << 20;

/**
 * pageAccount counts the pages a filesystem's regular files hold, against
 * its size= limit (max, in pages; Infinity without one). (gVisor at
 * dbe41765 has no size limit, see tmpfs.ts.)
 */
export class pageAccount {
  used = 0;
  max = Infinity;
}

/**
 * fileData is the contents of a regular file: the part of gVisor's
 * regularFile that is fsutil.FileRangeSet over pgalloc.MemoryFile (data maps
 * file offsets to pages of the memory file).
 *
 * Differs from gVisor: there is no memory file to map; the file is a sparse
 * map from page index to a page-sized Buffer, which is what a FileRangeSet
 * over a MemoryFile amounts to for read(2)/write(2). A page that
 * fallocate(2) reserved but nothing has written yet is held as null: it
 * counts in st_blocks but is a hole for SEEK_DATA/SEEK_HOLE, as Linux's
 * shmem reports pages that are not uptodate.
 */
export class fileData {
  /** pages maps a page index to its bytes, or null for a reserved page never written. */
  readonly pages = new Map<number, Buffer | null>();

  /** size is the file size in bytes. */
  size = 0;

  /** account counts the pages of every file of the filesystem (the size= limit). */
  constructor(readonly account: pageAccount = new pageAccount()) {}

  /** dropAll releases every page (gVisor: data.DropAll). */
  dropAll(): void {
    this.account.used -= this.pages.size;
    this.pages.clear();
  }

  /** blocks returns st_blocks: 512-byte blocks held by the file's pages. */
  blocks(): number {
    return this.pages.size * (PAGE_SIZE / 512);
  }

  /**
   * readAt copies file bytes at off into dst, up to EOF, and returns the
   * count (0 at or past EOF). Holes read as zeroes.
   */
  readAt(dst: Buffer, off: number): number {
    if (off >= this.size) return 0;
    const end = Math.min(this.size, off + dst.length);
    let done = 0;
    let pos = off;
    while (pos < end) {
      const idx = Math.floor(pos / PAGE_SIZE);
      const pgoff = pos - idx * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pgoff, end - pos);
      const page = this.pages.get(idx);
      if (page) {
        page.copy(dst, done, pgoff, pgoff + n);
      } else {
        // Tmpfs holes are zero-filled.
        dst.fill(0, done, done + n);
      }
      done += n;
      pos += n;
    }
    return done;
  }

  /**
   * writeAt copies src into the file at off, growing it as needed, and
   * returns the count.
   *
   * Preconditions: off + src.length <= MAX_FILE_SIZE.
   */
  writeAt(src: Buffer, off: number): number {
    const end = off + src.length;
    let done = 0;
    let pos = off;
    while (pos < end) {
      const idx = Math.floor(pos / PAGE_SIZE);
      const pgoff = pos - idx * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pgoff, end - pos);
      let page = this.pages.get(idx);
      if (!page) {
        if (page === undefined) {
          // A new page: past the filesystem's size limit the write stops
          // there (shmem_write_begin: ENOSPC for that page).
          if (this.account.used >= this.account.max) break;
          this.account.used++;
        }
        page = Buffer.alloc(PAGE_SIZE);
        this.pages.set(idx, page);
      }
      src.copy(page, pgoff, done, done + n);
      done += n;
      pos += n;
    }
    if (done === 0 && src.length !== 0) throw syserror.ENOSPC;
    if (pos > this.size) this.size = pos;
    return done;
  }

  /**
   * truncate sets the size. Shrinking drops the pages wholly past the new
   * EOF and zeroes the tail of the page holding it, so that growing again
   * reads zeroes (mm/shmem.c:shmem_setattr => shmem_truncate_range).
   */
  truncate(newSize: number): void {
    if (newSize < this.size) this.dropRange(newSize, Infinity);
    this.size = newSize;
  }

  /**
   * punchHole zeroes [off, off+len): whole pages are released, partial ones
   * zeroed in place (fallocate(FALLOC_FL_PUNCH_HOLE); mm/shmem.c:
   * shmem_fallocate => shmem_truncate_range). The size does not change.
   */
  punchHole(off: number, len: number): void {
    this.dropRange(off, off + len);
  }

  /**
   * reserve allocates the pages of [off, off+len) that are not yet present,
   * without changing the size (fallocate mode 0 or FALLOC_FL_KEEP_SIZE; the
   * caller grows the size for mode 0). ENOSPC past MAX_PAGES.
   */
  reserve(off: number, len: number): void {
    const first = Math.floor(off / PAGE_SIZE);
    const last = Math.floor((off + len - 1) / PAGE_SIZE);
    let missing = 0;
    for (let idx = first; idx <= last; idx++) {
      if (!this.pages.has(idx)) missing++;
      if (this.pages.size + missing > MAX_PAGES || this.account.used + missing > this.account.max) {
        throw syserror.ENOSPC;
      }
    }
    for (let idx = first; idx <= last; idx++) {
      if (!this.pages.has(idx)) this.pages.set(idx, null);
    }
    this.account.used += missing;
  }

  /** dropRange zeroes [start, end) (end may be Infinity), releasing whole pages. */
  private dropRange(start: number, end: number): void {
    const firstWhole = Math.ceil(start / PAGE_SIZE);
    const endWhole = end === Infinity ? Infinity : Math.floor(end / PAGE_SIZE);
    for (const [idx, page] of this.pages) {
      if (idx >= firstWhole && idx < endWhole) {
        this.pages.delete(idx);
        this.account.used--;
        continue;
      }
      if (page === null) continue;
      const pgstart = idx * PAGE_SIZE;
      const zs = Math.max(start, pgstart);
      const ze = Math.min(end, pgstart + PAGE_SIZE);
      if (zs < ze) page.fill(0, zs - pgstart, ze - pgstart);
    }
  }

  /** isData reports whether page idx holds written data (not a hole). */
  private isData(idx: number): boolean {
    return this.pages.get(idx) != null;
  }

  /**
   * seekData returns the first offset >= off that is in data
   * (lseek(SEEK_DATA), mm/shmem.c:shmem_file_llseek: page granular, ENXIO at
   * or past EOF or when only holes follow).
   */
  seekData(off: number): number {
    if (off < 0 || off >= this.size) throw syserror.ENXIO;
    const first = Math.floor(off / PAGE_SIZE);
    let best = Infinity;
    for (const [idx, page] of this.pages) {
      if (page !== null && idx >= first && idx < best) best = idx;
    }
    if (best === Infinity) throw syserror.ENXIO;
    const res = Math.max(off, best * PAGE_SIZE);
    if (res >= this.size) throw syserror.ENXIO;
    return res;
  }

  /**
   * seekHole returns the first offset >= off in a hole; EOF counts as the
   * start of one (lseek(SEEK_HOLE)). ENXIO at or past EOF.
   */
  seekHole(off: number): number {
    if (off < 0 || off >= this.size) throw syserror.ENXIO;
    let idx = Math.floor(off / PAGE_SIZE);
    while (idx * PAGE_SIZE < this.size && this.isData(idx)) idx++;
    return Math.min(this.size, Math.max(off, idx * PAGE_SIZE));
  }
}
