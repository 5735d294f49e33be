// p9file: gVisor's pkg/sentry/fsimpl/gofer/p9file.go, the wrapper over
// p9.ClientFile with the gofer's method names, plus the fsmetric-style
// counters of 9P requests the gofer client sends.
//
// Differs from gVisor, and why:
//   - Every method returns a Promise (DESIGN decision 1); ctx.signal is
//     passed down so an interrupted task flushes its request (Tflush).
//   - Go's p9file{} zero value is `p9file.nil` here; isNil() tests it.
//   - Host fds: gVisor's open and create return the *fd.FD the gofer
//     donated, and the caller (openHandle, the dentry) keeps it beside the
//     fid. Here the p9file that open or create returns keeps it (hostFD)
//     and close/setAttrClose close it with the fid: gofer.ts and
//     filesystem.ts keep opened p9files (readFile, writeFile, a create's
//     openFile) exactly as long as gVisor keeps the fd, so handle finds the
//     fd on its file. connect fails (see p9.ClientFile.connect).
//   - metrics counts requests issued through p9file, one per call (a call
//     the client splits, e.g. a walkGetAttr on a plain 9P2000.L server or
//     a large readAt, counts once per message it sends where we know it).

import * as fs from 'node:fs';

import type { Context } from '../../../context';
import type { ClientFile } from '../../../p9/client_file';
import {
  type AllocateMode, type Attr, type AttrMask, type Dirent, type FSStat, type FileMode, type FullStat,
  type OpenFlags, type QID, type SetAttr, type SetAttrMask,
} from '../../../p9/p9';
import { versionSupportsMultiGetAttr, versionSupportsTwalkgetattr } from '../../../p9/version';

/**
 * metrics are the gofer client's 9P request counters (gVisor's fsmetric
 * counters, at the granularity of 9P messages). They are process-wide, as
 * fsmetric's are; benchmarks and tests read differences.
 */
export const metrics = {
  /** messages is the number of 9P requests sent through p9file. */
  messages: 0,
  walks: 0,
  getAttrs: 0,
  multiGetAttrs: 0,
  reads: 0,
  writes: 0,
  opens: 0,
  clunks: 0,
  other: 0,
};

/** resetMetrics zeroes every counter (tests and benchmarks). */
export function resetMetrics(): void {
  for (const k of Object.keys(metrics) as (keyof typeof metrics)[]) metrics[k] = 0;
}

/** p9file is a wrapper around p9.ClientFile that provides methods named as the gofer uses them. */
export class p9file {
  /** nil is the zero p9file (gVisor's p9file{}). */
  static readonly nil = new p9file(null);

  /**
   * hostFD is the host fd the gofer donated when this file was opened or
   * created (a regular file on a server with an fd channel), or -1. It is
   * owned by this p9file and closed with it.
   */
  hostFD = -1;

  constructor(readonly file: ClientFile | null) {}

  // closeHostFD closes hostFD, if any.
  private closeHostFD(): void {
    const fd = this.hostFD;
    if (fd < 0) return;
    this.hostFD = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing to do: the fd is gone either way.
    }
  }

  /** isNil reports whether f wraps no file. */
  isNil(): boolean {
    return this.file === null;
  }

  private f(): ClientFile {
    return this.file!;
  }

  async walk(ctx: Context, names: readonly string[]): Promise<[QID[], p9file]> {
    metrics.messages++;
    metrics.walks++;
    const [qids, newfile] = await this.f().walk(names, ctx.signal);
    return [qids, new p9file(newfile)];
  }

  async walkGetAttr(ctx: Context, names: readonly string[]): Promise<[QID[], p9file, AttrMask, Attr]> {
    const twoMessages = !versionSupportsTwalkgetattr(this.f().client.version);
    metrics.messages += twoMessages ? 2 : 1;
    metrics.walks++;
    if (twoMessages) metrics.getAttrs++;
    const [qids, newfile, mask, attr] = await this.f().walkGetAttr(names, ctx.signal);
    return [qids, new p9file(newfile), mask, attr];
  }

  /**
   * walkGetAttrOne is a wrapper around p9.File.WalkGetAttr that takes a
   * single path component and returns a single qid.
   */
  async walkGetAttrOne(ctx: Context, name: string): Promise<[QID, p9file, AttrMask, Attr]> {
    const [qids, newfile, attrMask, attr] = await this.walkGetAttr(ctx, [name]);
    if (qids.length !== 1) {
      // Unreachable: ClientFile.walkGetAttr throws ENOENT on a short walk.
      throw new Error(`p9.File.WalkGetAttr returned ${qids.length} qids, wanted 1`);
    }
    return [qids[0], newfile, attrMask, attr];
  }

  /**
   * multiGetAttr is gVisor's later p9file.multiGetAttr: the attributes of
   * this file (names[0] === "") and of each following component, in one
   * Tmultigetattr when the server has it (a walk per component otherwise).
   */
  async multiGetAttr(ctx: Context, names: readonly string[]): Promise<FullStat[]> {
    const f = this.f();
    if (versionSupportsMultiGetAttr(f.client.version)) {
      metrics.messages++;
    } else {
      // defaultMultiGetAttr: one getattr or walkgetattr (+ clunk) per component.
      const per = versionSupportsTwalkgetattr(f.client.version) ? 2 : 3;
      metrics.messages += names.length * per;
    }
    metrics.multiGetAttrs++;
    return f.multiGetAttr(names, ctx.signal);
  }

  statFS(ctx: Context): Promise<FSStat> {
    metrics.messages++;
    metrics.other++;
    return this.f().statFS(ctx.signal);
  }

  getAttr(ctx: Context, req: AttrMask): Promise<[QID, AttrMask, Attr]> {
    metrics.messages++;
    metrics.getAttrs++;
    return this.f().getAttr(req, ctx.signal);
  }

  setAttr(ctx: Context, valid: SetAttrMask, attr: SetAttr): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().setAttr(valid, attr, ctx.signal);
  }

  listXattr(ctx: Context, size: number): Promise<Set<string>> {
    metrics.messages++;
    metrics.other++;
    return this.f().listXattr(size, ctx.signal);
  }

  getXattr(ctx: Context, name: string, size: number): Promise<string> {
    metrics.messages++;
    metrics.other++;
    return this.f().getXattr(name, size, ctx.signal);
  }

  setXattr(ctx: Context, name: string, value: string, flags: number): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().setXattr(name, value, flags, ctx.signal);
  }

  removeXattr(ctx: Context, name: string): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().removeXattr(name, ctx.signal);
  }

  allocate(ctx: Context, mode: AllocateMode, offset: number, length: number): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().allocate(mode, offset, length, ctx.signal);
  }

  /**
   * close closes f. It is not interrupted by ctx: a fid must be clunked
   * whatever happens to the task (gVisor: the uninterruptible sleep).
   */
  close(_ctx?: Context): Promise<void> {
    metrics.messages++;
    metrics.clunks++;
    this.closeHostFD();
    return this.f().close();
  }

  setAttrClose(ctx: Context, valid: SetAttrMask, attr: SetAttr): Promise<void> {
    metrics.messages++;
    metrics.clunks++;
    this.closeHostFD();
    return this.f().setAttrClose(valid, attr, ctx.signal);
  }

  /**
   * open opens f; it returns [QID, ioUnit, fd]: fd is the donated host fd,
   * also kept in f.hostFD and owned by f (see the module comment), or -1.
   */
  async open(ctx: Context, flags: OpenFlags): Promise<[QID, number, number]> {
    metrics.messages++;
    metrics.opens++;
    const [fd, qid, ioUnit] = await this.f().openFD(flags, ctx.signal);
    this.closeHostFD();
    this.hostFD = fd;
    return [qid, ioUnit, fd];
  }

  /**
   * readAt reads p at offset in msize chunks; with parallel (a regular file
   * only; not in gVisor) all the chunks' Treads are in flight at once (see
   * p9.ClientFile.readAtParallel).
   */
  readAt(ctx: Context, p: Buffer, offset: number, parallel = false): Promise<number> {
    const f = this.f();
    const n = Math.max(1, Math.ceil(p.length / f.client.payloadSize));
    metrics.messages += n;
    metrics.reads += n;
    return parallel ? f.readAtParallel(p, offset, ctx.signal) : f.readAt(p, offset, ctx.signal);
  }

  writeAt(ctx: Context, p: Buffer, offset: number): Promise<number> {
    const f = this.f();
    const n = Math.max(1, Math.ceil(p.length / f.client.payloadSize));
    metrics.messages += n;
    metrics.writes += n;
    return f.writeAt(p, offset, ctx.signal);
  }

  fsync(ctx: Context): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().fSync(ctx.signal);
  }

  /**
   * create creates and opens name in the directory f; as in 9P, f's fid
   * becomes the open file. It returns [openFile, QID, ioUnit]; openFile
   * owns the donated host fd, if any (openFile.hostFD).
   */
  async create(
    ctx: Context, name: string, flags: OpenFlags, permissions: FileMode, uid: number, gid: number,
  ): Promise<[p9file, QID, number]> {
    metrics.messages++;
    metrics.opens++;
    const [fd, newfile, qid, ioUnit] = await this.f().createFD(name, flags, permissions, uid, gid, ctx.signal);
    const nf = new p9file(newfile);
    nf.hostFD = fd;
    return [nf, qid, ioUnit];
  }

  mkdir(ctx: Context, name: string, permissions: FileMode, uid: number, gid: number): Promise<QID> {
    metrics.messages++;
    metrics.other++;
    return this.f().mkdir(name, permissions, uid, gid, ctx.signal);
  }

  symlink(ctx: Context, oldName: string, newName: string, uid: number, gid: number): Promise<QID> {
    metrics.messages++;
    metrics.other++;
    return this.f().symlink(oldName, newName, uid, gid, ctx.signal);
  }

  link(ctx: Context, target: p9file, newName: string): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().link(target.f(), newName, ctx.signal);
  }

  mknod(ctx: Context, name: string, mode: FileMode, major: number, minor: number, uid: number, gid: number): Promise<QID> {
    metrics.messages++;
    metrics.other++;
    return this.f().mknod(name, mode, major, minor, uid, gid, ctx.signal);
  }

  rename(ctx: Context, newDir: p9file, newName: string): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().rename(newDir.f(), newName, ctx.signal);
  }

  unlinkAt(ctx: Context, name: string, flags: number): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().unlinkAt(name, flags, ctx.signal);
  }

  readdir(ctx: Context, offset: bigint, count: number): Promise<Dirent[]> {
    metrics.messages++;
    metrics.reads++;
    return this.f().readdir(offset, count, ctx.signal);
  }

  readlink(ctx: Context): Promise<string> {
    metrics.messages++;
    metrics.other++;
    return this.f().readlink(ctx.signal);
  }

  flush(ctx: Context): Promise<void> {
    metrics.messages++;
    metrics.other++;
    return this.f().flush(ctx.signal);
  }
}
