// The sandbox side of the conformance suite: a Kernel whose root is tmpfs
// or a "9p" filesystem over a gofer (ours, spawned on a temp dir, or any
// 9P2000.L server), one task per part of a case, and the tree of a case
// directory as the sandbox shows it.

import { Kernel } from '../sentry/kernel/kernel';
import type { Task } from '../sentry/kernel/task';
import { syscallTable } from '../sentry/syscalls/linux/sys';
import { FilesystemType as GoferFilesystemType, Name as GoferName, startGofer, type startedGofer } from '../sentry/fsimpl/gofer';
import { parseDirents64 } from '../abi/linux/dirent';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_DIRECTORY, O_NOFOLLOW, O_RDONLY } from '../abi/linux/file';
import type { CallSpec } from './calls';
import { decodeStat, openFds, runSteps, type Side, type SyscallArg } from './exec';
import type { Creds, Step } from './parse';
import type { TreeEntry } from './tree';

/** InteropMode names the gofer mount's cache policy. */
export type Interop = 'exclusive' | 'writethrough' | 'shared';

const cachePolicy: Record<Interop, string> = {
  exclusive: 'fscache',
  writethrough: 'fscache_writethrough',
  shared: 'remote_revalidating',
};

/** SandboxOptions choose the sandbox's root filesystem. */
export interface SandboxOptions {
  fs: 'tmpfs' | '9p';
  /** server is "ours" (spawn cmd/gofer) or a 9P address (unix:PATH, tcp:HOST:PORT). */
  server: string;
  interop: Interop;
  /** root is the directory our gofer serves (a fresh temp dir when absent). */
  root?: string;
  /** aname is the attach name for another server (diod wants its export path). */
  aname?: string;
}

/** Sandbox is a kernel the cases run in. */
export class Sandbox {
  private constructor(
    readonly kernel: Kernel,
    /** backing is the host directory behind the root (our gofer's), or null. */
    readonly backing: string | null,
    private readonly gofer: startedGofer | null,
    private readonly admin: Task,
  ) {}

  static async create(opts: SandboxOptions): Promise<Sandbox> {
    let gofer: startedGofer | null = null;
    let kernel: Kernel;
    let backing: string | null = null;
    if (opts.fs === 'tmpfs') {
      kernel = await Kernel.create({ root: { fsType: 'tmpfs' } });
    } else {
      let address = opts.server;
      if (address === 'ours') {
        gofer = await startGofer({ root: opts.root });
        address = gofer.address;
        backing = gofer.root;
      }
      try {
        kernel = await Kernel.create({
          root: {
            fsType: GoferName,
            source: address,
            options: `cache=${cachePolicy[opts.interop]}${opts.aname === undefined ? '' : `,aname=${opts.aname}`}`,
          },
          filesystemTypes: [{ name: GoferName, factory: () => new GoferFilesystemType(), opts: {} }],
        });
      } catch (err) {
        if (gofer !== null) await gofer.close();
        throw err;
      }
    }
    const admin = await kernel.newTask({ umask: 0 });
    // Unprivileged tasks must reach the case directories: our gofer's fresh
    // temp dir is 0700. A directory the user gave is left as it is.
    if (gofer !== null && opts.root === undefined) await admin.sys.chmod('/', 0o755);
    return new Sandbox(kernel, backing, gofer, admin);
  }

  /** call makes a raw system call as task t. */
  static call(t: Task, spec: CallSpec, args: SyscallArg[]): Promise<number> {
    const h = syscallTable.get(spec.name);
    if (h === undefined) return Promise.resolve(-38); // ENOSYS
    return h(t, ...args);
  }

  /** makeCaseDir makes /NAME, owned by root, mode 0777, and returns its path. */
  async makeCaseDir(name: string): Promise<string> {
    const p = `/${name}`;
    const r = await this.admin.sys.mkdir(p, 0o777);
    if (r < 0) throw new Error(`sandbox: mkdir ${p}: ${-r}`);
    return p;
  }

  /** runPart runs steps as creds (root when null) with the case directory as working directory. */
  async runPart(dir: string, creds: Creds | null, steps: Step[]): Promise<string[]> {
    if (steps.length === 0) return [];
    const t = await this.kernel.newTask(creds === null ? { cwd: dir } : { cwd: dir, uid: creds.uid, gid: creds.gid, groups: creds.groups });
    const fds = new Map<number, number>();
    const side: Side = { call: (spec, args) => Sandbox.call(t, spec, args), cwdPrefix: dir };
    try {
      return await runSteps(steps, side, fds);
    } finally {
      for (const fd of openFds(fds)) await t.sys.close(fd);
      await t.release();
    }
  }

  /** tree lists dir recursively as the sandbox sees it (through the admin task's syscalls). */
  async tree(dir: string): Promise<TreeEntry[]> {
    const out: TreeEntry[] = [];
    const s = this.admin.sys;
    const walk = async (abs: string, rel: string): Promise<void> => {
      const st = Buffer.alloc(144);
      const r = await s.newfstatat(AT_FDCWD, abs, st, AT_SYMLINK_NOFOLLOW);
      if (r < 0) {
        out.push({ path: rel, error: -r });
        return;
      }
      const f = decodeStat(st);
      const e: TreeEntry = { path: rel, stat: f };
      out.push(e);
      const type = f.mode & 0o170000;
      if (type === 0o120000) {
        const b = Buffer.alloc(4096);
        const n = await s.readlinkat(AT_FDCWD, abs, b, b.length);
        e.target = n < 0 ? `errno ${-n}` : b.subarray(0, n).toString('latin1');
      } else if (type === 0o100000) {
        const fd = await s.openat(AT_FDCWD, abs, O_RDONLY | O_NOFOLLOW, 0);
        if (fd < 0) {
          e.content = `errno ${-fd}`;
        } else {
          const b = Buffer.alloc(Math.min(f.size, 1 << 20));
          let off = 0;
          while (off < b.length) {
            const n = await s.pread64(fd, b.subarray(off), b.length - off, off);
            if (n <= 0) break;
            off += n;
          }
          e.content = b.subarray(0, off).toString('latin1');
          await s.close(fd);
        }
      } else if (type === 0o040000) {
        const names = await childNames(this.admin, abs, O_NOFOLLOW);
        if (typeof names === 'number') return;
        for (const n of names) await walk(`${abs}/${n}`, rel === '.' ? n : `${rel}/${n}`);
      }
    };
    await walk(dir, '.');
    return out;
  }

  /** removeCaseDir removes a case directory (best effort; the backing dir goes with the gofer). */
  async close(): Promise<void> {
    await this.admin.release();
    await this.kernel.release();
    if (this.gofer !== null) await this.gofer.close();
  }
}

/**
 * childNames lists directory abs through t's syscalls (openat with
 * O_DIRECTORY|extraFlags, getdents64), sorted, without "." and "..", or
 * returns the failing call's -errno.
 */
export async function childNames(t: Task, abs: string, extraFlags = 0): Promise<string[] | number> {
  const s = t.sys;
  const fd = await s.openat(AT_FDCWD, abs, O_RDONLY | O_DIRECTORY | extraFlags, 0);
  if (fd < 0) return fd;
  const names: string[] = [];
  const b = Buffer.alloc(32768);
  try {
    for (;;) {
      const n = await s.getdents64(fd, b, b.length);
      if (n < 0) return n;
      if (n === 0) break;
      for (const d of parseDirents64(b.subarray(0, n))) if (d.name !== '.' && d.name !== '..') names.push(d.name);
    }
  } finally {
    await s.close(fd);
  }
  return names.sort();
}
