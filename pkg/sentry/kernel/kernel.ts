// The Kernel: the part of gVisor's pkg/sentry/kernel/kernel.go that the
// filesystem slice needs — the VirtualFilesystem, the root mount namespace,
// the registered filesystem types, a realtime clock, and the tasks.
//
// Differs from gVisor: there is no scheduler, no memory manager, no
// processes; a Task is a credentialed thread of filesystem calls (task.ts).
// Kernel.create() does what gVisor's Kernel.Init plus runsc's
// setupContainerFS/createMountNamespace do for the root filesystem: it
// registers the filesystem types and mounts the root. Extra filesystem types
// (the gofer's "9p") are added with registerFilesystemType() before
// Kernel.create(), or through KernelOptions.filesystemTypes.

import type { Context } from '../../context';
import * as context from '../../context';
import * as fspath from '../../fspath';
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

/** KernelOptions are the options of Kernel.create(). */
export interface KernelOptions {
  /** root is the root filesystem; default tmpfs. */
  root?: MountSpec;
  /** mounts are mounted after the root, in order, creating missing mount points. */
  mounts?: Array<MountSpec & { target: string }>;
  /** filesystemTypes are registered in this kernel besides the default ones. */
  filesystemTypes?: FilesystemTypeRegistration[];
}

// The realtime clock, nanoseconds: Date.now() anchors it and hrtime advances
// it, so that it never goes backwards within one process.
const hrtimeBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

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

    const root = opts.root ?? { fsType: tmpfs.Name };
    k.mntns = await k.vfs.newMountNamespace(ctx, k.rootCredentials, root.source ?? '', root.fsType, mountOptionsOf(root));
    for (const m of opts.mounts ?? []) await k.mount(m.target, m);
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
   */
  async release(): Promise<void> {
    for (const t of [...this.tasks]) await t.release();
    const ctx = this.supervisorContext();
    if (this.mntns !== null) {
      this.mntns.decRef(ctx);
      this.mntns = null;
    }
    this.vfs.release(ctx);
  }
}
