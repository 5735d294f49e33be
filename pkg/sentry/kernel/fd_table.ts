// The file descriptor table of a task: gVisor's pkg/sentry/kernel/fd_table.go
// (VFS2 half only: there is no fs.File here).
//
// Differs from gVisor: FDTable.mu guards only in-memory bookkeeping that runs
// without interleaving on the JS thread, so it is gone. dropVFS2 awaits
// UnlockPOSIX (a Promise here), so remove() and removeIf() are async: the
// table changes synchronously, before the first await, as under gVisor's mu;
// only the drop of the removed files (lock release, inotify, DecRef) waits.

import { FD_CLOEXEC } from '../../abi/linux/fcntl';
import { O_CLOEXEC, O_PATH, SEEK_SET } from '../../abi/linux/file';
import { IN_CLOSE_NOWRITE, IN_CLOSE_WRITE } from '../../abi/linux/inotify';
import type { Context } from '../../context';
import * as syserror from '../../syserror/syserror';
import type { FileDescription } from '../vfs/file_description';
import { PathEvent } from '../vfs/inotify';

/** FDFlags define flags for an individual descriptor. */
export interface FDFlags {
  /** closeOnExec indicates the descriptor should be closed on exec. */
  closeOnExec: boolean;
}

/** toLinuxFileFlags converts a kernel.FDFlags object to a Linux file flags representation. */
export function toLinuxFileFlags(f: FDFlags): number {
  return f.closeOnExec ? O_CLOEXEC : 0;
}

/** toLinuxFDFlags converts a kernel.FDFlags object to a Linux descriptor flags representation. */
export function toLinuxFDFlags(f: FDFlags): number {
  return f.closeOnExec ? FD_CLOEXEC : 0;
}

const noFlags: FDFlags = Object.freeze({ closeOnExec: false });

/** descriptor holds the details about a file descriptor, namely a pointer to the file itself and the descriptor flags. */
interface descriptor {
  fileVFS2: FileDescription;
  flags: FDFlags;
}

/**
 * CtxNumberOfFilesLimit is a Context.value key for the task's RLIMIT_NOFILE
 * soft limit (a number; Infinity for none). gVisor reads it through
 * limits.FromContext(ctx).Get(limits.NumberOfFiles); the limits package is
 * outside the filesystem slice, so this one value has its own key.
 */
export const CtxNumberOfFilesLimit: unique symbol = Symbol('kernel.CtxNumberOfFilesLimit');

// MaxInt32 is the default limit: fds are int32.
const maxInt32 = 0x7fffffff;

function numberOfFilesLimit(ctx: Context): number | null {
  const v = ctx.value(CtxNumberOfFilesLimit);
  if (typeof v !== 'number' || v === Infinity) return null;
  return v;
}

/**
 * FDTable is used to manage File references and flags.
 *
 * The table is reference counted (gVisor's FDTableRefs): a Task holds one
 * reference; at zero every descriptor is removed.
 */
export class FDTable {
  /** refs is the reference count. */
  private refs = 1;

  /** next is start position to find fd. */
  private next = 0;

  /** used contains the number of non-null entries. */
  private used = 0;

  /** descriptorTable holds descriptors, indexed by fd. */
  private readonly descriptorTable = new Map<number, descriptor>();

  /** incRef increments the table's reference count. */
  incRef(): void {
    if (this.refs <= 0) throw new Error('kernel.FDTable: incRef on a released table');
    this.refs++;
  }

  /**
   * decRef implements RefCounter.DecRef with destructor: when the last
   * reference goes, every descriptor is removed and its file dropped.
   */
  async decRef(ctx: Context): Promise<void> {
    this.refs--;
    if (this.refs > 0) return;
    if (this.refs < 0) throw new Error('kernel.FDTable: decRef with no references');
    await this.removeIf(ctx, () => true);
  }

  /**
   * dropVFS2 drops the table reference: it releases the POSIX locks the
   * table holds on file, generates the close inotify events, and drops the
   * table's reference.
   */
  private async dropVFS2(ctx: Context, file: FileDescription): Promise<void> {
    // An O_PATH file holds no locks and generates no inotify events (Linux's
    // filp_close skips locks_remove_posix for FMODE_PATH, and fsnotify
    // ignores such files); it only drops the table's reference.
    if ((file.statusFlags() & O_PATH) !== 0) {
      file.decRef(ctx);
      return;
    }
    // Release any POSIX lock possibly held by the FDTable. Range {0, 0}
    // means the entire file.
    try {
      await file.unlockPOSIX(ctx, this, 0, 0, SEEK_SET);
    } catch (err) {
      if (err !== syserror.ENOLCK) throw err;
    }
    // Generate inotify events.
    const ev = file.isWritable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE;
    file.dentry().inotifyWithParent(ctx, ev, 0, PathEvent);
    // Drop the table's reference.
    file.decRef(ctx);
  }

  /** size returns the number of open descriptors (gVisor reads f.used). */
  size(): number {
    return this.used;
  }

  /**
   * forEach iterates over all non-null files in sorted order.
   *
   * It is the caller's responsibility to acquire an appropriate lock.
   */
  forEach(ctx: Context, fn: (fd: number, file: FileDescription, flags: FDFlags) => void): void {
    const fds = [...this.descriptorTable.keys()].sort((a, b) => a - b);
    for (const fd of fds) {
      const d = this.descriptorTable.get(fd);
      if (d === undefined) continue;
      if (!d.fileVFS2.tryIncRef()) throw new Error(`File in FD table has been destroyed. FD: ${fd}`);
      try {
        fn(fd, d.fileVFS2, d.flags);
      } finally {
        d.fileVFS2.decRef(ctx);
      }
    }
  }

  /** getFDs returns a list of valid fds, sorted. */
  getFDs(): number[] {
    return [...this.descriptorTable.keys()].sort((a, b) => a - b);
  }

  // get/set are gVisor's fd_table_unsafe.go accessors.

  private getVFS2(fd: number): descriptor | undefined {
    return this.descriptorTable.get(fd);
  }

  /**
   * setVFS2 sets the descriptor at fd, taking a reference on file, and
   * returns the file previously there (whose table reference the caller
   * must drop), or null.
   */
  private setVFS2(fd: number, file: FileDescription | null, flags: FDFlags): FileDescription | null {
    const orig = this.descriptorTable.get(fd);
    if (file === null) {
      this.descriptorTable.delete(fd);
    } else {
      file.incRef();
      this.descriptorTable.set(fd, { fileVFS2: file, flags: { closeOnExec: flags.closeOnExec } });
    }
    if (orig === undefined && file !== null) this.used++;
    else if (orig !== undefined && file === null) this.used--;
    return orig === undefined ? null : orig.fileVFS2;
  }

  /**
   * newFDsVFS2 allocates new FDs guaranteed to be the lowest number
   * available greater than or equal to the fd parameter. All files will
   * share the set flags. Success is guaranteed to be all or none.
   */
  newFDsVFS2(ctx: Context, fd: number, files: FileDescription[], flags: FDFlags): number[] {
    if (fd < 0) {
      // Don't accept negative FDs.
      throw syserror.EINVAL;
    }
    // Default limit.
    let end = maxInt32;
    // Ensure we don't get past the provided limit.
    const lim = numberOfFilesLimit(ctx);
    if (lim !== null) {
      end = lim;
      if (fd >= end) throw syserror.EMFILE;
    }
    // From f.next to find available fd.
    if (fd < this.next) fd = this.next;
    const fds: number[] = [];
    // Install all entries.
    for (let i = fd; i < end && fds.length < files.length; i++) {
      if (this.getVFS2(i) === undefined) {
        // Set the descriptor.
        this.setVFS2(i, files[fds.length]!, flags);
        fds.push(i); // Record the file descriptor.
      }
    }
    // Failure? Unwind existing FDs.
    if (fds.length < files.length) {
      for (const i of fds) this.setVFS2(i, null, noFlags);
      // Drop the reference taken by the call to setVFS2() that originally
      // installed the file. Don't call dropVFS2() (generating inotify
      // events, etc.) since the file should appear to have never been
      // inserted into f.
      for (const file of files.slice(0, fds.length)) file.decRef(ctx);
      throw syserror.EMFILE;
    }
    if (fd === this.next) {
      // Update next search start position.
      this.next = fds[fds.length - 1]! + 1;
    }
    return fds;
  }

  /**
   * newFDVFS2 allocates a file descriptor greater than or equal to minfd for
   * the given file description. If it succeeds, it takes a reference on
   * file.
   */
  newFDVFS2(ctx: Context, minfd: number, file: FileDescription, flags: FDFlags): number {
    if (minfd < 0) {
      // Don't accept negative FDs.
      throw syserror.EINVAL;
    }
    // Default limit.
    let end = maxInt32;
    // Ensure we don't get past the provided limit.
    const lim = numberOfFilesLimit(ctx);
    if (lim !== null) {
      end = lim;
      if (minfd >= end) throw syserror.EMFILE;
    }
    // From f.next to find available fd.
    let fd = minfd;
    if (fd < this.next) fd = this.next;
    for (; fd < end; fd++) {
      if (this.getVFS2(fd) === undefined) {
        this.setVFS2(fd, file, flags);
        if (fd === this.next) {
          // Update next search start position.
          this.next = fd + 1;
        }
        return fd;
      }
    }
    throw syserror.EMFILE;
  }

  /**
   * newFDAtVFS2 sets the file reference for the given FD. If there is an
   * active reference for that FD, the ref count for that existing reference
   * is decremented (dup2(2), dup3(2)).
   */
  async newFDAtVFS2(ctx: Context, fd: number, file: FileDescription, flags: FDFlags): Promise<void> {
    if (fd < 0) {
      // Don't accept negative FDs.
      throw syserror.EBADF;
    }
    // Check the limit for the provided file. Linux's ksys_dup3 answers
    // EBADF here ("newfd is out of the allowed range", dup2(2)); gVisor
    // answered EMFILE.
    const lim = numberOfFilesLimit(ctx);
    if (lim !== null && fd >= lim) throw syserror.EBADF;
    // Install the entry.
    const df = this.setVFS2(fd, file, flags);
    if (df !== null) await this.dropVFS2(ctx, df);
  }

  /** setFlagsVFS2 sets the flags for the given file descriptor (fcntl(F_SETFD)). */
  setFlagsVFS2(fd: number, flags: FDFlags): void {
    if (fd < 0) {
      // Don't accept negative FDs.
      throw syserror.EBADF;
    }
    const d = this.getVFS2(fd);
    if (d === undefined) {
      // No file found.
      throw syserror.EBADF;
    }
    // Update the flags.
    d.flags = { closeOnExec: flags.closeOnExec };
  }

  /**
   * getVFS2 returns a reference to the file and the flags for the FD, or
   * [null, noFlags] if no file is defined for the given fd.
   *
   * N.B. Callers are required to use decRef when they are done.
   */
  getVFS2WithFlags(fd: number): [FileDescription | null, FDFlags] {
    if (fd < 0) return [null, noFlags];
    const d = this.getVFS2(fd);
    if (d === undefined || !d.fileVFS2.tryIncRef()) return [null, noFlags];
    return [d.fileVFS2, d.flags];
  }

  /**
   * get returns a reference to the file for the FD, or null (gVisor's
   * GetVFS2 without the flags). Callers must decRef it.
   */
  get(fd: number): FileDescription | null {
    if (fd < 0) return null;
    const d = this.descriptorTable.get(fd);
    if (d === undefined || !d.fileVFS2.tryIncRef()) return null;
    return d.fileVFS2;
  }

  /**
   * fork returns an independent FDTable, sharing the same file
   * descriptions (dup'ed references) and flags.
   */
  fork(): FDTable {
    const clone = new FDTable();
    for (const fd of this.getFDs()) {
      const d = this.descriptorTable.get(fd)!;
      // The set function here will acquire an appropriate table reference
      // for the clone. We don't need anything else.
      clone.setVFS2(fd, d.fileVFS2, d.flags);
    }
    clone.next = this.next;
    return clone;
  }

  /**
   * remove removes an FD from f. It returns the removed file, with a
   * reference for the caller (close(2) uses it to flush), or null if fd was
   * not open.
   */
  async remove(ctx: Context, fd: number): Promise<FileDescription | null> {
    if (fd < 0) return null;
    const orig = this.getVFS2(fd);
    if (orig === undefined) return null;
    // Update current available position.
    if (fd < this.next) this.next = fd;
    // Add reference for caller.
    orig.fileVFS2.incRef();
    this.setVFS2(fd, null, noFlags); // Zap entry.
    await this.dropVFS2(ctx, orig.fileVFS2);
    return orig.fileVFS2;
  }

  /** removeIf removes all FDs where cond is true (exec's close-on-exec pass, table destruction). */
  async removeIf(ctx: Context, cond: (file: FileDescription, flags: FDFlags) => boolean): Promise<void> {
    const files: FileDescription[] = [];
    for (const fd of this.getFDs()) {
      const d = this.descriptorTable.get(fd)!;
      if (cond(d.fileVFS2, d.flags)) {
        // Clear from table; setVFS2 hands back the table's reference.
        files.push(this.setVFS2(fd, null, noFlags)!);
        // Update current available position.
        if (fd < this.next) this.next = fd;
      }
    }
    for (const file of files) await this.dropVFS2(ctx, file);
  }

  /** removeCloseOnExec closes every descriptor marked close-on-exec, as execve(2) does. */
  removeCloseOnExec(ctx: Context): Promise<void> {
    return this.removeIf(ctx, (_file, flags) => flags.closeOnExec);
  }
}
