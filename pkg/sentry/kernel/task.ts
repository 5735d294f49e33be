// Task: a thread of filesystem calls with its credentials, FD table and
// FSContext — the parts of gVisor's pkg/sentry/kernel/task.go,
// task_context.go, task_identity.go and task_usermem.go that the file-system
// syscalls use.
//
// As in gVisor, a Task is a context.Context: value() answers the
// credentials (auth.CtxCredentials), the mount namespace
// (vfs.CtxMountNamespace), the root (vfs.CtxRoot), the kernel, and the
// rlimits the VFS reads. Differs from gVisor: interruption is the AbortSignal
// of the Context (DESIGN decision 3). task.interrupt() aborts the signal: a
// call sleeping, or going to sleep before it returns, fails with EINTR (as
// gVisor's pending interrupt is consumed by the next interruptible sleep);
// the next system call to start arms a fresh signal (syscallEnter).

import type { Capability } from '../../abi/linux/capability';
import type { Context } from '../../context';
import { CtxThreadGroupID } from '../../context';
import * as fspath from '../../fspath';
import { CtxCredentials, newUserCredentials, type Credentials } from './auth';
import { FDTable, type FDFlags, CtxNumberOfFilesLimit } from './fd_table';
import { FSContext } from './fs_context';
import { CtxKernel, type Kernel } from './kernel';
import { CtxMountNamespace, CtxRoot } from '../vfs/context';
import type { FileDescription } from '../vfs/file_description';
import type { MountNamespace } from '../vfs/mount';
import { CtxFileSizeLimit } from '../vfs/permissions';
import type { VirtualDentry } from '../vfs/vfs';
import { Syscalls } from '../syscalls/linux/sys';
import { TaskFS } from '../syscalls/linux/fs_api';

/** NewTaskOptions are the options of Kernel.newTask(). */
export interface NewTaskOptions {
  /** uid, gid: the real, effective and saved IDs (default 0: root, with every capability). */
  uid?: number;
  gid?: number;
  /** groups are the supplementary group IDs. */
  groups?: number[];
  /** credentials, if given, replace uid/gid/groups. */
  credentials?: Credentials;
  /** umask is the file mode creation mask (default 0o022). */
  umask?: number;
  /** root is the task's root directory (chroot), a path from the namespace root (default "/"). */
  root?: string;
  /** cwd is the working directory, a path from the task's root (default "/"). */
  cwd?: string;
  /** rlimitNofile is the RLIMIT_NOFILE soft limit (default 1024, as Linux's default). */
  rlimitNofile?: number;
  /** rlimitFsize is the RLIMIT_FSIZE soft limit in bytes (default unlimited). */
  rlimitFsize?: number;
}

/** Task represents a thread of execution issuing filesystem calls. */
export class Task implements Context {
  /** creds are the task's credentials (gVisor: Task.Credentials(); treat as immutable, replace to change). */
  creds: Credentials;

  /** rlimits the filesystem reads (gVisor: the task's limits.LimitSet). */
  readonly limits: { numberOfFiles: number; fileSize: number };

  private abort = new AbortController();
  private _sys: Syscalls | null = null;
  private _fs: TaskFS | null = null;
  private released = false;

  private constructor(
    /** k is the kernel this task belongs to. */
    readonly k: Kernel,
    /** tid is the task's thread ID (and thread group ID). */
    readonly tid: number,
    /** mntns is the task's mount namespace; the task holds a reference. */
    readonly mntns: MountNamespace,
    /** fdTable is the task's file descriptor table; the task holds a reference. */
    readonly fdTable: FDTable,
    /** fsContext is the task's root, cwd and umask; the task holds a reference. */
    readonly fsContext: FSContext,
    creds: Credentials,
    opts: NewTaskOptions,
  ) {
    this.creds = creds;
    this.limits = {
      numberOfFiles: opts.rlimitNofile ?? 1024,
      fileSize: opts.rlimitFsize ?? Infinity,
    };
  }

  /** create builds a task; Kernel.newTask is the public entry. */
  static async create(k: Kernel, tid: number, mntns: MountNamespace, opts: NewTaskOptions): Promise<Task> {
    const creds = opts.credentials ?? newUserCredentials(opts.uid ?? 0, opts.gid ?? 0, opts.groups ?? []);
    const vfsObj = k.vfs;
    const nsRoot = mntns.root();
    const ctx = k.supervisorContext();
    let root: VirtualDentry = nsRoot;
    let haveRootRef = false;
    if (opts.root !== undefined && opts.root !== '/') {
      root = await vfsObj.getDentryAt(ctx, creds, {
        root: nsRoot, start: nsRoot, path: fspath.parse(opts.root), followFinalSymlink: true,
      }, { checkSearchable: true });
      haveRootRef = true;
    }
    try {
      let cwd: VirtualDentry = root;
      let haveCwdRef = false;
      if (opts.cwd !== undefined && opts.cwd !== '/') {
        cwd = await vfsObj.getDentryAt(ctx, creds, {
          root, start: root, path: fspath.parse(opts.cwd), followFinalSymlink: true,
        }, { checkSearchable: true });
        haveCwdRef = true;
      }
      try {
        const fsContext = new FSContext(root, cwd, opts.umask ?? 0o022);
        mntns.incRef();
        return new Task(k, tid, mntns, new FDTable(), fsContext, creds, opts);
      } finally {
        if (haveCwdRef) cwd.decRef(ctx);
      }
    } finally {
      if (haveRootRef) root.decRef(ctx);
    }
  }

  // Context.

  /** signal aborts when the task is interrupted (see interrupt()). */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** value implements context.Context.value (gVisor: Task.Value in task_context.go). */
  value(key: unknown): unknown {
    switch (key) {
      case CtxCredentials:
        return this.creds;
      case CtxMountNamespace:
        this.mntns.incRef();
        return this.mntns;
      case CtxRoot:
        return this.fsContext.rootDirectoryVFS2();
      case CtxNumberOfFilesLimit:
        return this.limits.numberOfFiles;
      case CtxFileSizeLimit:
        return this.limits.fileSize === Infinity ? undefined : this.limits.fileSize;
      case CtxKernel:
        return this.k;
      case CtxThreadGroupID:
        return this.tid;
      default:
        return undefined;
    }
  }

  /**
   * interrupt interrupts the task's sleeping calls (a blocked read of a
   * pipe, F_SETLKW, flock, a FIFO open), including one that has started
   * but not yet begun to wait: they fail with EINTR. Calls started later are
   * not affected (gVisor: Task.Interrupt).
   */
  interrupt(): void {
    this.abort.abort();
  }

  /**
   * syscallEnter is called as each system call starts (task.sys, task.fs):
   * it re-arms the interruption signal once an interrupt has been
   * delivered, so that an interrupt does not outlive the calls it was meant
   * for. (Calls already in flight keep the aborted signal.)
   */
  syscallEnter(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
  }

  // Accessors, in gVisor's names.

  /** Kernel returns the kernel the task belongs to. */
  kernel(): Kernel {
    return this.k;
  }

  /** credentials returns the task's credentials. */
  credentials(): Credentials {
    return this.creds;
  }

  /** setCredentials replaces the task's credentials (setuid(2) and friends, for tests). */
  setCredentials(creds: Credentials): void {
    this.creds = creds;
  }

  /** hasCapability checks if the task has capability cp in its user namespace. */
  hasCapability(cp: Capability): boolean {
    return this.creds.hasCapability(cp);
  }

  /** FDTable returns the task's file descriptor table. */
  FDTable(): FDTable {
    return this.fdTable;
  }

  /** FSContext returns the task's filesystem context. */
  FSContext(): FSContext {
    return this.fsContext;
  }

  /** mountNamespaceVFS2 returns the task's mount namespace, without a reference. */
  mountNamespaceVFS2(): MountNamespace {
    return this.mntns;
  }

  /**
   * getFileVFS2 is a convenience wrapper for t.FDTable().get. Precondition:
   * the caller decRefs the result.
   */
  getFileVFS2(fd: number): FileDescription | null {
    return this.fdTable.get(fd);
  }

  /**
   * newFDFromVFS2 is a convenience wrapper for t.FDTable().newFDVFS2: it
   * installs file at the lowest free fd >= fd.
   */
  newFDFromVFS2(fd: number, file: FileDescription, flags: FDFlags): number {
    return this.fdTable.newFDVFS2(this, fd, file, flags);
  }

  /** newFDsVFS2 is a convenience wrapper for t.FDTable().newFDsVFS2. */
  newFDsVFS2(fd: number, files: FileDescription[], flags: FDFlags): number[] {
    return this.fdTable.newFDsVFS2(this, fd, files, flags);
  }

  /** newFDAtVFS2 is a convenience wrapper for t.FDTable().newFDAtVFS2. */
  newFDAtVFS2(fd: number, file: FileDescription, flags: FDFlags): Promise<void> {
    return this.fdTable.newFDAtVFS2(this, fd, file, flags);
  }

  // The syscall API.

  /**
   * sys is the raw system call interface: Linux's calling convention, each
   * call resolving to its result or -errno, with "user memory" given as
   * Uint8Arrays (see pkg/sentry/syscalls/linux/sys.ts).
   */
  get sys(): Syscalls {
    return (this._sys ??= new Syscalls(this));
  }

  /** fs is the typed convenience API: results as values, errors thrown as LinuxError. */
  get fs(): TaskFS {
    return (this._fs ??= new TaskFS(this));
  }

  /**
   * release ends the task: every descriptor is closed (close(2) semantics:
   * locks released, inotify close events), the FSContext and the mount
   * namespace reference dropped.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.fdTable.decRef(this);
    this.fsContext.decRef(this);
    this.mntns.decRef(this);
    this.k.taskExited(this);
  }
}
