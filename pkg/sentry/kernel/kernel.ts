// The Kernel: the part of gVisor's pkg/sentry/kernel/kernel.go that the
// filesystem slice needs — the VirtualFilesystem, the root mount namespace,
// the registered filesystem types, a realtime clock, and the tasks.
//
// Differs from gVisor: there is no scheduler, no memory manager, no
// processes; a Task is a credentialed thread of filesystem calls (task.ts).
// Kernel.create() does what gVisor's Kernel.Init plus runsc's
// setupContainerFS/createMountNamespace do for the root filesystem: it
// registers the filesystem types (runsc/boot/vfs.go:registerFilesystems:
// "tmpfs" and the gofer's "9p") and mounts the root. As runsc, the default
// root is a "9p" mount over a gofer child process (runsc/cmd/gofer.go; here
// cmd/gofer spawned by startGofer) serving a host directory, a fresh
// temporary one when none is given; release() stops that gofer. Extra
// filesystem types are added with registerFilesystemType() before
// Kernel.create(), or through KernelOptions.filesystemTypes.

import * as fs from 'node:fs';

import type { Context } from '../../context';
import * as context from '../../context';
import * as fspath from '../../fspath';
import * as syserror from '../../syserror/syserror';
import * as gofer from '../fsimpl/gofer/gofer';
import { startGofer, type startedGofer } from '../fsimpl/gofer/start_gofer';
import * as tmpfs from '../fsimpl/tmpfs/tmpfs';
import { contextWithCredentials, newRootCredentials, type Credentials } from './auth';
import type { FilesystemType, RegisterFilesystemTypeOptions } from '../vfs/filesystem_type';
import type { MountNamespace } from '../vfs/mount';
import type { MountOptions } from '../vfs/options';
import { VirtualFilesystem, type VirtualDentry } from '../vfs/vfs';
import { Task, type NewTaskOptions } from './task';

/** CtxKernel is a Context.value key for the Kernel (gVisor: kernel.CtxKernel). */
export const CtxKernel: unique symbol = Symbol('kernel.CtxKernel');

/** kernelFromContext returns the Kernel in which ctx is executing, or null. */
export function kernelFromContext(ctx: Context): Kernel | null {
  const v = ctx.value(CtxKernel);
  return v instanceof Kernel ? v : null;
}

/** FilesystemTypeRegistration describes a filesystem type Kernel.create() registers. */
export interface FilesystemTypeRegistration {
  /** name is the type's name for mount(2) ("tmpfs", "9p"). */
  name: string;
  /** factory makes the FilesystemType for one kernel. */
  factory: () => FilesystemType;
  /** opts are the VFS registration options. */
  opts: RegisterFilesystemTypeOptions;
}

// The filesystem types every new kernel registers (gVisor registers them in
// runsc/boot/vfs.go:registerFilesystems).
const defaultFilesystemTypes = new Map<string, FilesystemTypeRegistration>();

/**
 * registerFilesystemType adds a filesystem type that every kernel created
 * afterwards registers (the gofer filesystem adds "9p" this way). A later
 * registration of the same name replaces the earlier one.
 */
export function registerFilesystemType(name: string, factory: () => FilesystemType, opts: RegisterFilesystemTypeOptions): void {
  defaultFilesystemTypes.set(name, { name, factory, opts: { ...opts } });
}

registerFilesystemType(gofer.Name, () => new gofer.FilesystemType(), { allowUserList: true });
registerFilesystemType(tmpfs.Name, () => new tmpfs.FilesystemType(), { allowUserMount: true, allowUserList: true });

/** MountSpec says what to mount: the arguments of mount(2) beside the target. */
export interface MountSpec {
  /** fsType is a registered filesystem type name ("tmpfs", "9p"). */
  fsType: string;
  /** source is mount(2)'s source (the 9P address for "9p"; ignored by tmpfs). */
  source?: string;
  /** options is mount(2)'s data string ("mode=0755,uid=1000" for tmpfs). */
  options?: string;
  /** readOnly mounts read-only (MS_RDONLY). */
  readOnly?: boolean;
  /** internalData is FilesystemType-specific data only the sentry can pass (GetFilesystemOptions.internalData). */
  internalData?: unknown;
}

/**
 * FileAccessType is runsc's --file-access (runsc/config.FileAccessType): how
 * the root gofer mount caches. "exclusive" (the default): the sandbox is the
 * only user of the directory, the cache is authoritative (cache=fscache).
 * "shared": the directory may change under the sandbox, every lookup
 * revalidates (cache=remote_revalidating).
 */
export type FileAccessType = 'exclusive' | 'shared';

/** KernelOptions are the options of Kernel.create(). */
export interface KernelOptions {
  /**
   * root is the root filesystem. Default: "9p" over a gofer child process
   * serving goferRoot (gVisor: runsc's root mount); give
   * `{ fsType: 'tmpfs' }` for an in-memory root, or
   * `{ fsType: '9p', source: 'tcp:HOST:PORT', options: 'aname=/dir' }` for
   * another 9P2000.L server (diod).
   */
  root?: MountSpec;
  /**
   * goferRoot is the existing host directory the default root's gofer
   * serves; it is kept by release(). When absent, a fresh temporary directory
   * (mode 0755, as a root filesystem) is served and release() removes it.
   * Only with the default root.
   */
  goferRoot?: string;
  /** fileAccess is the default root's cache policy (runsc --file-access); default "exclusive". */
  fileAccess?: FileAccessType;
  /** mounts are mounted after the root, in order, creating missing mount points. */
  mounts?: Array<MountSpec & { target: string }>;
  /** filesystemTypes are registered in this kernel besides the default ones. */
  filesystemTypes?: FilesystemTypeRegistration[];
}

// The realtime clock, nanoseconds: Date.now() anchors it and hrtime advances
// it, so that it never goes backwards within one process.
const hrtimeBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

// p9MountData returns the mount options of the default root's "9p" mount
// (gVisor: runsc/boot/fs.go:p9MountData, with our unix: address in place of
// trans=fd,rfdno,wfdno).
function p9MountData(fa: FileAccessType): string {
  return fa === 'shared' ? 'cache=remote_revalidating' : '';
}

function mountOptionsOf(spec: MountSpec): MountOptions {
  return {
    readOnly: spec.readOnly === true,
    internalMount: true,
    getFilesystemOptions: { data: spec.options ?? '', internalData: spec.internalData },
  };
}

/**
 * Kernel represents an emulated Linux kernel, as far as the filesystem
 * slice goes.
 */
export class Kernel {
  /** vfs holds virtual filesystem state (gVisor: Kernel.vfs). */
  readonly vfs = new VirtualFilesystem();

  /**
   * mntns is the root mount namespace (gVisor: Kernel.globalInit's
   * mount namespace). The kernel holds one reference.
   */
  private mntns: MountNamespace | null = null;

  /** rootCredentials are the credentials of the kernel's own operations (mounting the root). */
  readonly rootCredentials: Credentials = newRootCredentials();

  /** tasks are the live tasks, for release(). */
  private readonly tasks = new Set<Task>();

  private nextTID = 1;

  /** rootGofer is the gofer child process behind the default root, or null. */
  private rootGofer: startedGofer | null = null;

  /** rootFilesystem is the default root's gofer filesystem, whose connection release() waits for. */
  private rootFilesystem: gofer.filesystem | null = null;

  private constructor() {}

  /**
   * create returns a new Kernel with the filesystem types registered and the
   * root filesystem mounted (gVisor: Kernel.Init + the root mount of
   * runsc's createMountNamespace).
   */
  static async create(opts: KernelOptions = {}): Promise<Kernel> {
    const k = new Kernel();
    const ctx = k.supervisorContext();
    k.vfs.init(ctx);
    const types = new Map(defaultFilesystemTypes);
    for (const r of opts.filesystemTypes ?? []) types.set(r.name, r);
    for (const r of types.values()) k.vfs.mustRegisterFilesystemType(r.name, r.factory(), r.opts);

    let root = opts.root;
    try {
      if (root === undefined) {
        if (opts.goferRoot !== undefined) {
          // The gofer would only say so on its stderr: check here, as errnos.
          const st = fs.statSync(opts.goferRoot, { throwIfNoEntry: false });
          if (st === undefined) throw syserror.ENOENT;
          if (!st.isDirectory()) throw syserror.ENOTDIR;
        }
        k.rootGofer = await startGofer({ root: opts.goferRoot });
        // mkdtemp makes 0700; a root filesystem is 0755.
        if (opts.goferRoot === undefined) fs.chmodSync(k.rootGofer.root, 0o755);
        root = {
          fsType: gofer.Name,
          source: k.rootGofer.address,
          options: p9MountData(opts.fileAccess ?? 'exclusive'),
        };
      }
      k.mntns = await k.vfs.newMountNamespace(ctx, k.rootCredentials, root.source ?? '', root.fsType, mountOptionsOf(root));
      if (k.rootGofer !== null) k.rootFilesystem = k.mntns.root().mount().filesystem().impl as gofer.filesystem;
      for (const m of opts.mounts ?? []) await k.mount(m.target, m);
    } catch (err) {
      await k.release();
      throw err;
    }
    return k;
  }

  /**
   * mount mounts spec at the absolute path target in the root mount
   * namespace, creating the mount point and its parents if missing (gVisor:
   * runsc's mountSubmount with makeSyntheticMountpoint).
   */
  async mount(target: string, spec: MountSpec): Promise<void> {
    const ctx = this.supervisorContext();
    const root = this.rootMountNamespace().root();
    await this.vfs.makeSyntheticMountpoint(ctx, target, root, this.rootCredentials);
    const pop = { root, start: root, path: fspath.parse(target), followFinalSymlink: false };
    await this.vfs.mountAt(ctx, this.rootCredentials, spec.source ?? '', pop, spec.fsType, mountOptionsOf(spec));
  }

  /** supervisorContext returns a context with root credentials and no task (gVisor: Kernel.SupervisorContext). */
  supervisorContext(): Context {
    return context.withValue(contextWithCredentials(context.background(), this.rootCredentials), CtxKernel, this);
  }

  /** VFS returns the virtual filesystem for the kernel (gVisor: Kernel.VFS). */
  VFS(): VirtualFilesystem {
    return this.vfs;
  }

  /** rootMountNamespace returns the root mount namespace, without taking a reference. */
  rootMountNamespace(): MountNamespace {
    if (this.mntns === null) throw new Error('kernel: no root mount namespace (released?)');
    return this.mntns;
  }

  /**
   * goferHostRoot returns the host directory the default root's gofer
   * serves, or null when the root is not the default gofer mount.
   */
  goferHostRoot(): string | null {
    return this.rootGofer?.root ?? null;
  }

  /** goferPID returns the process id of the default root's gofer, or null. */
  goferPID(): number | null {
    return this.rootGofer?.pid ?? null;
  }

  /** rootDirectory returns the root of the root mount namespace, without taking a reference. */
  rootDirectory(): VirtualDentry {
    return this.rootMountNamespace().root();
  }

  /** realtimeNanoseconds reads the realtime clock (CLOCK_REALTIME) in nanoseconds. */
  realtimeNanoseconds(): bigint {
    return hrtimeBase + process.hrtime.bigint();
  }

  /**
   * newTask creates a task in the root mount namespace: credentials from
   * opts (root by default), a new FD table, and an FSContext whose root and
   * working directory are opts.root and opts.cwd (resolved from the
   * namespace root; "/" by default).
   */
  async newTask(opts: NewTaskOptions = {}): Promise<Task> {
    const t = await Task.create(this, this.nextTID++, this.rootMountNamespace(), opts);
    this.tasks.add(t);
    return t;
  }

  /**
   * pidOfLockOwner returns the thread group ID of the task whose FD table
   * owns a POSIX lock (fcntl(F_GETLK)'s l_pid), or 0 if none is alive.
   */
  pidOfLockOwner(uid: unknown): number {
    for (const t of this.tasks) if (t.fdTable === uid) return t.tid;
    return 0;
  }

  /** taskExited is called by Task.release(). */
  taskExited(t: Task): void {
    this.tasks.delete(t);
  }

  /**
   * release releases every task still alive, the root mount namespace and
   * the VFS: afterwards every reference count is back where it started.
   * Then it stops the default root's gofer (once the filesystem's connection
   * is closed) and removes the temporary directory it served.
   */
  async release(): Promise<void> {
    for (const t of [...this.tasks]) await t.release();
    const ctx = this.supervisorContext();
    if (this.mntns !== null) {
      this.mntns.decRef(ctx);
      this.mntns = null;
    }
    this.vfs.release(ctx);
    const g = this.rootGofer;
    if (g !== null) {
      this.rootGofer = null;
      if (this.rootFilesystem !== null) await this.rootFilesystem.closed;
      this.rootFilesystem = null;
      await g.close();
    }
  }
}
