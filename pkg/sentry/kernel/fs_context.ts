// FSContext: a task's root, working directory and umask (gVisor's
// pkg/sentry/kernel/fs_context.go, VFS2 half).
//
// Differs from gVisor: FSContext.mu guarded in-memory fields only; a JS
// critical section cannot interleave, so it is gone.

import type { Context } from '../../context';
import type { VirtualDentry } from '../vfs/vfs';

/**
 * FSContext contains filesystem context.
 *
 * This includes umask and working directory.
 */
export class FSContext {
  /** refs is the reference count (gVisor's FSContextRefs). */
  private refs = 1;

  /**
   * rootVFS2 is the filesystem root. cwdVFS2 is the current working
   * directory. Both hold a reference.
   */
  private rootVFS2: VirtualDentry;
  private cwdVFS2: VirtualDentry;

  /** umask is the current file mode creation mask. */
  private umask: number;

  /**
   * NewFSContextVFS2 returns a new filesystem context: references are taken
   * on root and cwd.
   */
  constructor(root: VirtualDentry, cwd: VirtualDentry, umask: number) {
    root.incRef();
    cwd.incRef();
    this.rootVFS2 = root;
    this.cwdVFS2 = cwd;
    this.umask = umask;
  }

  /**
   * decRef implements RefCounter.DecRef with destructor: when f reaches zero
   * references, the references on root and cwd are dropped.
   */
  decRef(ctx: Context): void {
    this.refs--;
    if (this.refs > 0) return;
    if (this.refs < 0) throw new Error('kernel.FSContext: decRef with no references');
    this.rootVFS2.decRef(ctx);
    this.cwdVFS2.decRef(ctx);
  }

  /** incRef increments f's reference count (CLONE_FS sharing). */
  incRef(): void {
    this.refs++;
  }

  /**
   * fork forks this FSContext.
   *
   * This is not a valid call after f is destroyed.
   */
  fork(): FSContext {
    if (this.refs <= 0) throw new Error('FSContext.Fork() called after destroy');
    return new FSContext(this.rootVFS2, this.cwdVFS2, this.umask);
  }

  /**
   * workingDirectoryVFS2 returns the current working directory. This will
   * return an empty vfs.VirtualDentry if called after f is destroyed,
   * otherwise it will return a VirtualDentry with a reference taken.
   */
  workingDirectoryVFS2(): VirtualDentry {
    if (this.cwdVFS2.ok()) this.cwdVFS2.incRef();
    return this.cwdVFS2;
  }

  /**
   * setWorkingDirectoryVFS2 sets the current working directory. This will
   * take an extra reference on the VirtualDentry.
   *
   * This is not a valid call after f is destroyed.
   */
  setWorkingDirectoryVFS2(ctx: Context, d: VirtualDentry): void {
    if (this.refs <= 0) throw new Error('FSContext.SetWorkingDirectoryVFS2() called after destroy');
    const old = this.cwdVFS2;
    this.cwdVFS2 = d;
    d.incRef();
    old.decRef(ctx);
  }

  /**
   * rootDirectoryVFS2 returns the current filesystem root, with a reference
   * taken (an empty VirtualDentry after f is destroyed).
   */
  rootDirectoryVFS2(): VirtualDentry {
    if (this.rootVFS2.ok()) this.rootVFS2.incRef();
    return this.rootVFS2;
  }

  /**
   * peekRootDirectoryVFS2 returns the root without taking a reference: the
   * hot path of the syscall layer borrows it for the duration of one call,
   * during which nothing else of this task can replace it (gVisor takes
   * and drops a reference instead).
   */
  peekRootDirectoryVFS2(): VirtualDentry {
    return this.rootVFS2;
  }

  /** peekWorkingDirectoryVFS2 is peekRootDirectoryVFS2 for the working directory. */
  peekWorkingDirectoryVFS2(): VirtualDentry {
    return this.cwdVFS2;
  }

  /**
   * setRootDirectoryVFS2 sets the root directory. It takes a reference on
   * vd.
   *
   * This is not a valid call after f is destroyed.
   */
  setRootDirectoryVFS2(ctx: Context, vd: VirtualDentry): void {
    if (!vd.ok()) throw new Error('FSContext.SetRootDirectoryVFS2 called with zero-value VirtualDentry');
    if (this.refs <= 0) throw new Error('FSContext.SetRootDirectoryVFS2() called after destroy');
    const old = this.rootVFS2;
    vd.incRef();
    this.rootVFS2 = vd;
    old.decRef(ctx);
  }

  /** getUmask returns the current umask (gVisor: Umask). */
  getUmask(): number {
    return this.umask;
  }

  /** swapUmask atomically sets the current umask and returns the old umask. */
  swapUmask(mask: number): number {
    const old = this.umask;
    this.umask = mask;
    return old;
  }
}
