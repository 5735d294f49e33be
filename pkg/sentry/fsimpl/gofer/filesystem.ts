// The gofer's path operations: vfs.FilesystemImpl for filesystem, in the
// order of gVisor's pkg/sentry/fsimpl/gofer/filesystem.go (the seed).
//
// Differs from gVisor, and why:
//   - Go defines methods of one type in several files; the class is in
//     gofer.ts and this module adds the path operations to its prototype,
//     with declaration merging telling the type checker so (as tmpfs does).
//   - `ds **[]*dentry` is a dentrySlice object allocated per operation: the
//     slice of dentries to check for caching, plus (our addition) the set of
//     dentries revalidated in this operation by revalidatePath.
//   - stepLocked and getChildLocked return a dentry synchronously when the
//     cache answers (no await, no microtask), and a Promise when the server
//     must be asked; callers await only then. stepLocked's `goto
//     afterSymlink` is the loop of stepComponentLocked.
//   - InteropModeShared: before walking, revalidatePath revalidates the
//     start and every cached dentry along the path in one Tmultigetattr
//     (gVisor's later revalidate.go; a walk per component on servers without
//     it); dentries it confirmed are trusted by getChildLocked for the rest
//     of the operation. The seed instead revalidates each component with its
//     own Twalkgetattr. Anything revalidatePath could not confirm is
//     revalidated as the seed does (revalidateChildLocked).
//   - revalidateChildLocked treats a changed file type under the same QID
//     path (a reused host inode number) as a different file; gVisor panics.
//   - unlinkAt decrements the unlinked file's link count when metadata is
//     authoritative, so that other hard links see it (gVisor issue #6739).
//   - linkAt links synthetic files (another synthetic dentry sharing the
//     inode: linkSyntheticLocked); in InteropModeShared, a change of a
//     remote directory's entries the server cannot see (a synthetic child)
//     asks the server to touch the directory's times
//     (touchRemoteDirForSyntheticChild); renameAt over a directory with
//     synthetic children is ENOTEMPTY.
//   - gVisor's unexported unlinkAt(ctx, rp, dir) is doUnlinkAt here (its
//     lowerCamelCase name would collide with UnlinkAt's).

import { CAP_MKNOD } from '../../../abi/linux/capability';
import * as linux from '../../../abi/linux/file';
import { CAP_FSETID } from '../../../abi/linux/capability';
import { IN_CREATE, IN_DELETE, IN_ISDIR, IN_ATTRIB } from '../../../abi/linux/inotify';
import type { Statfs, Statx } from '../../../abi/linux/stat';
import type { Context } from '../../../context';
import type { Builder } from '../../../fspath';
import { fileModeFileType, OpenFlagsModeMask, SetAttr, SetAttrMask } from '../../../p9/p9';
import * as syserror from '../../../syserror/syserror';
import type { Credentials, KGID } from '../../kernel/auth';
import { DefaultPipeSize, VFSPipe } from '../../kernel/pipe';
import * as vfs from '../../vfs';
import { logger } from '../../../context';
import { directoryFD } from './directory';
import {
  dentry, filesystem, InteropMode, maxFilenameLen, newStatxLike, statfsFromP9, dentryAttrMask,
} from './gofer';
import { handle, openHandle, trackClunk } from './handle';
import { sleepBetweenNamedPipeOpenChecks } from './host_named_pipe';
import { p9file } from './p9file';
import { newRegularFileFD } from './regular_file';
import { endpoint } from './socket';
import { newSpecialFileFD, openSyntheticPipe } from './special_file';

const log = logger('gvisor:gofer');

/**
 * dentrySlice is gVisor's `ds **[]*dentry`: the dentries for which
 * dentry.checkCachingLocked() must be called when the operation ends, and
 * the dentries revalidatePath confirmed (InteropModeShared).
 */
export class dentrySlice {
  ds: dentry[] | null = null;
  revalidated: Set<dentry> | null = null;
}

/** appendDentry appends d to ds. */
function appendDentry(ds: dentrySlice, d: dentry): void {
  if (ds.ds === null) ds.ds = [];
  ds.ds.push(d);
}

type createInRemoteDirFn = (parent: dentry, name: string, ds: dentrySlice) => Promise<void>;
type createInSyntheticDirFn = (parent: dentry, name: string) => void;

declare module './gofer' {
  // The methods below, defined on filesystem.prototype.
  interface filesystem extends vfs.FilesystemImpl {
    renameMuRUnlockAndCheckCaching(ctx: Context, ds: dentrySlice): void;
    renameMuUnlockAndCheckCaching(ctx: Context, ds: dentrySlice): void;
    stepLocked(ctx: Context, rp: vfs.ResolvingPath, d: dentry, mayFollowSymlinks: boolean, ds: dentrySlice): dentry | Promise<dentry>;
    stepComponentLocked(ctx: Context, rp: vfs.ResolvingPath, d: dentry, mayFollowSymlinks: boolean, ds: dentrySlice): dentry | Promise<dentry>;
    getChildLocked(ctx: Context, vfsObj: vfs.VirtualFilesystem, parent: dentry, name: string, ds: dentrySlice): dentry | null | Promise<dentry | null>;
    revalidateChildLocked(ctx: Context, vfsObj: vfs.VirtualFilesystem, parent: dentry, name: string, child: dentry | null, ds: dentrySlice): Promise<dentry | null>;
    revalidatePath(ctx: Context, rp: vfs.ResolvingPath, start: dentry, ds: dentrySlice): Promise<void>;
    walkParentDirLocked(ctx: Context, rp: vfs.ResolvingPath, d: dentry, ds: dentrySlice): Promise<dentry>;
    resolveLocked(ctx: Context, rp: vfs.ResolvingPath, ds: dentrySlice): Promise<dentry>;
    doCreateAt(
      ctx: Context, rp: vfs.ResolvingPath, dir: boolean, createInRemoteDir: createInRemoteDirFn,
      createInSyntheticDir: createInSyntheticDirFn | null, checkBeforeMayCreate?: (() => void) | null,
    ): Promise<void>;
    doUnlinkAt(ctx: Context, rp: vfs.ResolvingPath, dir: boolean): Promise<void>;
  }
  interface dentry {
    open(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions): Promise<vfs.FileDescription>;
    openSocketByConnecting(ctx: Context, opts: vfs.OpenOptions): Promise<vfs.FileDescription>;
    openSpecialFile(ctx: Context, mnt: vfs.Mount, opts: vfs.OpenOptions): Promise<vfs.FileDescription>;
    createAndOpenChildLocked(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions, ds: dentrySlice, cloning?: Promise<p9file> | null): Promise<vfs.FileDescription>;
  }
}

/** lock/rLock take an async lock without waiting a tick when it is free. */
async function lockSlow(mu: { lock(): Promise<void> }): Promise<void> {
  await mu.lock();
}

/** sync implements vfs.FilesystemImpl.sync. */
filesystem.prototype.sync = async function sync(this: filesystem, ctx: Context): Promise<void> {
  // Snapshot current syncable dentries and special file FDs.
  const ds: dentry[] = [];
  for (const d of this.syncableDentries) {
    d.incRef();
    ds.push(d);
  }
  const sffds = [...this.specialFileFDs];
  for (const sffd of sffds) sffd.vfsfd.incRef();

  // Return the first error we encounter, but sync everything we can
  // regardless.
  let retErr: unknown = null;

  // Sync syncable dentries.
  for (const d of ds) {
    try {
      await d.syncCachedFile(ctx, true /* forFilesystemSync */);
    } catch (err) {
      if (retErr === null) retErr = err;
    } finally {
      d.decRef(ctx);
    }
  }

  // Sync special files, which may be writable but do not use dentry shared
  // handles (so they won't be synced by the above).
  for (const sffd of sffds) {
    try {
      await sffd.syncFD(ctx, true /* forFilesystemSync */);
    } catch (err) {
      if (retErr === null) retErr = err;
    } finally {
      sffd.vfsfd.decRef(ctx);
    }
  }
  if (retErr !== null) throw retErr;
};

/**
 * renameMuRUnlockAndCheckCaching calls fs.renameMu.rUnlock(), then calls
 * dentry.checkCachingLocked on all dentries in ds with fs.renameMu locked
 * for writing.
 *
 * Differs from gVisor: synchronous; when renameMu cannot be locked at once
 * (another task holds it across an await), the checks are queued and run as
 * soon as it can (filesystem.checkCachingSoon).
 */
filesystem.prototype.renameMuRUnlockAndCheckCaching = function renameMuRUnlockAndCheckCaching(
  this: filesystem, ctx: Context, ds: dentrySlice,
): void {
  this.renameMu.rUnlock();
  const dl = ds.ds;
  if (dl === null) return;
  // Only go through calling dentry.checkCachingLocked() (which requires
  // re-locking renameMu) if we actually have any dentries with zero refs.
  let checkAny = false;
  for (const d of dl) {
    if (d.refs === 0) {
      checkAny = true;
      break;
    }
  }
  if (!checkAny) return;
  if (this.renameMu.tryLock()) {
    try {
      for (const d of dl) d.checkCachingLocked(ctx);
    } finally {
      this.renameMu.unlock();
    }
    return;
  }
  for (const d of dl) this.checkCachingSoon(ctx, d);
};

/** renameMuUnlockAndCheckCaching: Preconditions: fs.renameMu is locked for writing. */
filesystem.prototype.renameMuUnlockAndCheckCaching = function renameMuUnlockAndCheckCaching(
  this: filesystem, ctx: Context, ds: dentrySlice,
): void {
  try {
    if (ds.ds !== null) for (const d of ds.ds) d.checkCachingLocked(ctx);
  } finally {
    this.renameMu.unlock();
  }
};

/**
 * stepLocked resolves rp.component() to an existing file, starting from the
 * given directory.
 *
 * Dentries which may become cached as a result of the traversal are
 * appended to ds.
 *
 * Preconditions:
 * * fs.renameMu must be locked.
 * * d.dirMu must be locked.
 * * !rp.done().
 * * If !d.cachedMetadataAuthoritative(), then d's cached metadata must be up
 *   to date.
 *
 * Postconditions: The returned dentry's cached metadata is up to date.
 */
filesystem.prototype.stepLocked = function stepLocked(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, d: dentry, mayFollowSymlinks: boolean, ds: dentrySlice,
): dentry | Promise<dentry> {
  if (!d.isDir()) throw syserror.ENOTDIR;
  d.checkPermissions(rp.credentials(), vfs.MayExec);
  return this.stepComponentLocked(ctx, rp, d, mayFollowSymlinks, ds);
};

/**
 * stepComponentLocked is stepLocked from its afterSymlink label: it
 * resolves rp.component() without checking d again. It answers
 * synchronously from the dentry cache, and continues in stepSlowLocked when
 * the server must be asked.
 *
 * Preconditions: as stepLocked, plus d.isDir() and d is searchable.
 */
filesystem.prototype.stepComponentLocked = function stepComponentLocked(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, d: dentry, mayFollowSymlinks: boolean, ds: dentrySlice,
): dentry | Promise<dentry> {
  for (;;) {
    const name = rp.component();
    if (name === '.') {
      rp.advance();
      return d;
    }
    if (name === '..') {
      if (rp.checkRoot(ctx, d.vfsd) || d.parent === null) {
        rp.advance();
        return d;
      }
      // We must assume that d.parent is correct, because if d has been
      // moved elsewhere in the remote filesystem so that its parent has
      // changed, we have no way of determining its new parent's location in
      // the filesystem.
      //
      // Call rp.checkMount() before updating d.parent's metadata, since if
      // we traverse to another mount then d.parent's metadata is irrelevant.
      rp.checkMount(ctx, d.parent.vfsd);
      if (d !== d.parent && !d.cachedMetadataAuthoritative()) {
        const parent = d.parent;
        return parent.updateFromGetattr(ctx).then(() => {
          rp.advance();
          return parent;
        });
      }
      rp.advance();
      return d.parent;
    }
    const c = this.getChildLocked(ctx, rp.virtualFilesystem(), d, name, ds);
    if (c instanceof Promise) return stepSlowLocked(this, ctx, rp, d, mayFollowSymlinks, ds, c);
    const child = c;
    if (child === null) throw syserror.ENOENT;
    rp.checkMount(ctx, child.vfsd);
    if (child.isSymlink() && mayFollowSymlinks && rp.shouldFollowSymlink()) {
      if (this.opts.interop !== InteropMode.Shared && child.haveTarget) {
        // dentry.readlink's cached answer, without a tick.
        child.touchAtime(rp.mount());
        rp.handleSymlink(child.target);
        continue; // don't check the current directory again
      }
      return stepSlowLocked(this, ctx, rp, d, mayFollowSymlinks, ds, Promise.resolve(child));
    }
    rp.advance();
    return child;
  }
};

/**
 * stepSlowLocked is stepComponentLocked once the server must be asked: pending
 * is getChildLocked's answer for rp.component().
 */
async function stepSlowLocked(
  fs: filesystem, ctx: Context, rp: vfs.ResolvingPath, d: dentry, mayFollowSymlinks: boolean, ds: dentrySlice,
  pending: Promise<dentry | null>,
): Promise<dentry> {
  const child = await pending;
  if (child === null) throw syserror.ENOENT;
  rp.checkMount(ctx, child.vfsd);
  if (child.isSymlink() && mayFollowSymlinks && rp.shouldFollowSymlink()) {
    const target = await child.readlink(ctx, rp.mount());
    rp.handleSymlink(target);
    // Don't check the current directory again.
    const next = fs.stepComponentLocked(ctx, rp, d, mayFollowSymlinks, ds);
    return next instanceof Promise ? await next : next;
  }
  rp.advance();
  return child;
}

/**
 * getChildLocked returns a dentry representing the child of parent with
 * the given name. If no such child exists, getChildLocked returns null.
 *
 * Preconditions:
 * * fs.renameMu must be locked.
 * * parent.dirMu must be locked.
 * * parent.isDir().
 * * name is not "." or "..".
 *
 * Postconditions: If getChildLocked returns a non-null dentry, its cached
 * metadata is up to date.
 */
filesystem.prototype.getChildLocked = function getChildLocked(
  this: filesystem, ctx: Context, vfsObj: vfs.VirtualFilesystem, parent: dentry, name: string, ds: dentrySlice,
): dentry | null | Promise<dentry | null> {
  if (name.length > maxFilenameLen) throw syserror.ENAMETOOLONG;
  const child = parent.children?.get(name);
  if ((child !== undefined && this.opts.interop !== InteropMode.Shared) || parent.isSynthetic()) {
    // Whether child is null or not, it is cached information that is
    // assumed to be correct.
    return child ?? null;
  }
  if (child !== undefined && child !== null && ds.revalidated !== null && ds.revalidated.has(child)) {
    // Confirmed by revalidatePath in this operation.
    return child;
  }
  // We either don't have cached information or need to verify that it's
  // still correct, either of which requires a remote lookup. Check if this
  // name is valid before performing the lookup.
  if (child === undefined && parent.dirents !== null && this.opts.interop !== InteropMode.Shared) {
    const more = walkAheadNames(parent.dirents, parent, name, this.opts.maxCachedDentries);
    if (more !== null) return walkAheadLocked(this, ctx, vfsObj, parent, name, more, ds);
  }
  return this.revalidateChildLocked(ctx, vfsObj, parent, name, child ?? null, ds);
};

/**
 * speculativeClone starts duplicating parent's fid for an O_CREAT open
 * while the lookup of the final component is in flight, when that lookup
 * cannot be answered by a positive cached dentry: if the file turns out not
 * to exist, createAndOpenChildLocked's Tlcreate goes out one round trip
 * sooner (gVisor waits for the lookup, then clones). Otherwise the clone is
 * clunked (clunkClone), in the background like other clunks.
 *
 * Preconditions: parent.dirMu must be locked.
 */
function speculativeClone(ctx: Context, rp: vfs.ResolvingPath, parent: dentry): Promise<p9file> | null {
  if (parent.isSynthetic() || parent.file.isNil()) return null;
  const name = rp.component();
  if (name === '.' || name === '..' || name.length > maxFilenameLen) return null;
  if (parent.children?.get(name) instanceof dentry) return null;
  const p = parent.file.walk(ctx, []).then(([, f]) => f);
  p.catch(() => {}); // a failed clone fails the create that awaits it
  return p;
}

/** clunkClone releases a speculativeClone that no create used. */
function clunkClone(ctx: Context, cloning: Promise<p9file>): void {
  trackClunk(cloning.then((f) => f.close(ctx), () => undefined));
}

/**
 * walkAhead is the lookup read-ahead state of one cached listing
 * (dentry.dirents): next is the listing index after the names last looked
 * up, window how many names the next sequential miss looks up.
 */
interface walkAhead {
  index: Map<string, number> | null;
  next: number;
  window: number;
}

// walkAheads is keyed by the listing, so a new listing (dirents is dropped
// whenever the directory changes) starts over.
const walkAheads = new WeakMap<vfs.Dirent[], walkAhead>();

/** maxWalkAhead bounds the names looked up together on one miss. */
const maxWalkAhead = 64;

/**
 * walkAheadNames returns the names to look up together with name, a miss in
 * parent's cached listing, or null to look up name alone. Beyond gVisor, in
 * the spirit of Linux's readahead and NFS's READDIRPLUS: a program that
 * stats the entries of a listing in order (ls -l, find, du) would pay one
 * serial round trip per entry; once two misses follow each other in the
 * listing, the window doubles (up to maxWalkAhead, and a quarter of the
 * dentry cache), and the next names not yet cached are walked in the same
 * batch of requests, pipelined.
 *
 * Preconditions: parent.dirMu must be locked; dirents === parent.dirents
 * (so the cached metadata is authoritative, not InteropModeShared).
 */
function walkAheadNames(dirents: vfs.Dirent[], parent: dentry, name: string, maxCached: number): string[] | null {
  let st = walkAheads.get(dirents);
  if (st === undefined) {
    st = { index: null, next: -1, window: 1 };
    walkAheads.set(dirents, st);
  }
  let i: number;
  if (st.next >= 0 && st.next < dirents.length && dirents[st.next].name === name) {
    i = st.next;
    st.window = Math.min(st.window * 2, maxWalkAhead, Math.max(1, maxCached >>> 2));
  } else {
    if (st.index === null) {
      st.index = new Map();
      for (let j = 0; j < dirents.length; j++) st.index.set(dirents[j].name, j);
    }
    const j = st.index.get(name);
    if (j === undefined) return null;
    i = j;
    st.window = 1;
  }
  const names: string[] = [];
  let k = i + 1;
  for (; k < dirents.length && k < i + st.window; k++) {
    const n = dirents[k].name;
    if (n !== '.' && n !== '..' && parent.children?.has(n) !== true) names.push(n);
  }
  st.next = k;
  return names.length === 0 ? null : names;
}

/**
 * walkAheadLocked looks name up as revalidateChildLocked does, and in the
 * same batch of requests the names in more (walkAheadNames), caching what
 * it finds for them as a lookup would (positive or negative dentries,
 * appended to ds so that they enter the dentry cache). A failure on one of
 * more is not name's failure: that name is just left uncached.
 *
 * Preconditions: as getChildLocked, plus !parent.isSynthetic(), name and
 * every name in more are distinct and have no entry in parent.children.
 */
async function walkAheadLocked(
  fs: filesystem, ctx: Context, vfsObj: vfs.VirtualFilesystem, parent: dentry, name: string, more: string[], ds: dentrySlice,
): Promise<dentry | null> {
  // The requests go out together: each walkGetAttrOne queues its Twalkgetattr
  // before the first await, and the client sends the queue in one write.
  const first = fs.revalidateChildLocked(ctx, vfsObj, parent, name, null, ds);
  first.catch(() => {}); // handled by our caller, after the rest settle
  const rest = more.map((n) => parent.file.walkGetAttrOne(ctx, n).then(
    (found) => found, (err: unknown) => (err === syserror.ENOENT ? null : undefined)));
  const found = await Promise.all(rest);
  for (let i = 0; i < more.length; i++) {
    const f = found[i];
    if (f === undefined) continue;
    if (parent.children?.has(more[i]) === true) {
      if (f !== null) trackClunk(f[1].close(ctx));
      continue;
    }
    if (f === null) {
      parent.cacheNegativeLookupLocked(more[i]);
      continue;
    }
    const [qid, file, attrMask, attr] = f;
    let c: dentry;
    try {
      c = fs.newDentry(ctx, file, qid.path, attrMask, attr);
    } catch {
      trackClunk(file.close(ctx));
      continue;
    }
    parent.cacheNewChildLocked(c, more[i]);
    appendDentry(ds, c);
  }
  return first;
}

/**
 * revalidateChildLocked looks name up on the server and reconciles the
 * cached child with the answer.
 *
 * Preconditions: Same as getChildLocked, plus:
 * * !parent.isSynthetic().
 */
filesystem.prototype.revalidateChildLocked = async function revalidateChildLocked(
  this: filesystem, ctx: Context, vfsObj: vfs.VirtualFilesystem, parent: dentry, name: string, child: dentry | null, ds: dentrySlice,
): Promise<dentry | null> {
  if (child !== null) {
    // Need to lock child.metadataMu because we might be updating child
    // metadata. We need to hold the lock *before* getting metadata from the
    // server and release it after updating local metadata.
    if (!child.metadataMu.tryLock()) await child.metadataMu.lock();
  }
  let found: Awaited<ReturnType<p9file['walkGetAttrOne']>> | null = null;
  try {
    found = await parent.file.walkGetAttrOne(ctx, name);
  } catch (err) {
    if (err !== syserror.ENOENT) {
      if (child !== null) child.metadataMu.unlock();
      throw err;
    }
  }
  if (child !== null) {
    if (found !== null && found[0].path === child.qidPath &&
        (!found[2].mode || fileModeFileType(found[3].mode) === child.fileType())) {
      // The file at this path hasn't changed. Just update cached metadata.
      trackClunk(found[1].close(ctx));
      child.updateFromP9AttrsLocked(found[2], found[3]);
      child.metadataMu.unlock();
      return child;
    }
    child.metadataMu.unlock();
    if (found === null && child.isSynthetic()) {
      // We have a synthetic file, and no remote file has arisen to replace
      // it.
      return child;
    }
    // The file at this path has changed or no longer exists. Mark the
    // dentry invalidated, and re-evaluate its caching status (i.e. if it has
    // 0 references, drop it). Wait to update parent.children until we know
    // what to replace the existing dentry with (i.e. one of the returns
    // below), to avoid a redundant map access.
    vfsObj.invalidateDentry(ctx, child.vfsd);
    if (child.isSynthetic()) {
      // Normally we don't mark invalidated dentries as deleted since they
      // may still exist (but at a different path), and also for consistency
      // with Linux. However, synthetic files are guaranteed to become
      // unreachable if their dentries are invalidated, so treat their
      // invalidation as deletion.
      child.setDeleted();
      parent.syntheticChildren--;
      // Its other hard links (linkSyntheticLocked) lose this name.
      if (!child.isDir()) child.decLinks();
      child.decRefNoCaching();
      parent.dirents = null;
    }
    appendDentry(ds, child);
  }
  if (found === null) {
    // No file exists at this path now. Cache the negative lookup if
    // allowed.
    parent.cacheNegativeLookupLocked(name);
    return null;
  }
  // Create a new dentry representing the file.
  const [qid, file, attrMask, attr] = found;
  let newChild: dentry;
  try {
    newChild = this.newDentry(ctx, file, qid.path, attrMask, attr);
  } catch (err) {
    trackClunk(file.close(ctx));
    parent.children?.delete(name);
    throw err;
  }
  parent.cacheNewChildLocked(newChild, name);
  // For now, child has 0 references, so our caller should call
  // child.checkCachingLocked().
  appendDentry(ds, newChild);
  return newChild;
};

/**
 * revalidatePath brings start and the cached dentries along the rest of rp
 * up to date in InteropModeShared, in one Tmultigetattr round trip when the
 * server has it; it marks the dentries it confirmed in ds.revalidated. It
 * stands where the seed calls start.updateFromGetattr(). It does not advance
 * rp.
 *
 * Preconditions: fs.renameMu must be locked.
 */
filesystem.prototype.revalidatePath = async function revalidatePath(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, start: dentry, ds: dentrySlice,
): Promise<void> {
  if (start.cachedMetadataAuthoritative()) return;
  // Collect the cached dentries along the rest of the current path part.
  const names: string[] = [''];
  const dentries: dentry[] = [start];
  let cur = start;
  for (let it = rp.pit; it.ok(); it = it.next()) {
    const name = it.string();
    if (name === '.' || name === '..' || !cur.isDir()) break;
    const child = cur.children?.get(name);
    if (child === undefined || child === null || child.isSynthetic()) break;
    names.push(name);
    dentries.push(child);
    if (!child.isDir()) break;
    cur = child;
  }
  if (names.length === 1) {
    await start.updateFromGetattr(ctx);
    return;
  }
  const stats = await start.file.multiGetAttr(ctx, names);
  for (let i = 0; i < dentries.length && i < stats.length; i++) {
    const d = dentries[i];
    const st = stats[i];
    if (i > 0 && (st.qid.path !== d.qidPath || (st.valid.mode && fileModeFileType(st.attr.mode) !== d.fileType()))) {
      // Changed: revalidateChildLocked will replace it during the walk.
      break;
    }
    if (!d.metadataMu.tryLock()) await d.metadataMu.lock();
    try {
      d.updateFromP9AttrsLocked(st.valid, st.attr);
    } finally {
      d.metadataMu.unlock();
    }
    if (i > 0) {
      if (ds.revalidated === null) ds.revalidated = new Set();
      ds.revalidated.add(d);
    }
  }
};

/**
 * walkParentDirLocked resolves all but the last path component of rp to an
 * existing directory, starting from the given directory (which is usually
 * rp.start().impl). It does not check that the returned directory is
 * searchable by the provider of rp.
 *
 * Preconditions:
 * * fs.renameMu must be locked.
 * * !rp.done().
 * * If !d.cachedMetadataAuthoritative(), then d's cached metadata must be up
 *   to date.
 */
filesystem.prototype.walkParentDirLocked = async function walkParentDirLocked(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, d: dentry, ds: dentrySlice,
): Promise<dentry> {
  while (!rp.final()) {
    if (!d.dirMu.tryLock()) await lockSlow(d.dirMu);
    let next: dentry;
    try {
      const n = this.stepLocked(ctx, rp, d, true /* mayFollowSymlinks */, ds);
      next = n instanceof Promise ? await n : n;
    } finally {
      d.dirMu.unlock();
    }
    d = next;
  }
  if (!d.isDir()) throw syserror.ENOTDIR;
  return d;
};

/**
 * resolveLocked resolves rp to an existing file.
 *
 * Preconditions: fs.renameMu must be locked.
 */
filesystem.prototype.resolveLocked = async function resolveLocked(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, ds: dentrySlice,
): Promise<dentry> {
  let d = rp.start().impl as dentry;
  if (!d.cachedMetadataAuthoritative()) {
    // Get updated metadata for rp.start() as required by fs.stepLocked().
    await this.revalidatePath(ctx, rp, d, ds);
  }
  while (!rp.done()) {
    if (!d.dirMu.tryLock()) await lockSlow(d.dirMu);
    let next: dentry;
    try {
      const n = this.stepLocked(ctx, rp, d, true /* mayFollowSymlinks */, ds);
      next = n instanceof Promise ? await n : n;
    } finally {
      d.dirMu.unlock();
    }
    d = next;
  }
  if (rp.mustBeDir() && !d.isDir()) throw syserror.ENOTDIR;
  return d;
};

/** rLockRename takes fs.renameMu for reading, without a tick when it is free. */
function rLockRename(fs: filesystem): Promise<void> | null {
  return fs.renameMu.tryRLock() ? null : fs.renameMu.rLock();
}

/**
 * doCreateAt checks that creating a file at rp is permitted, then invokes
 * createInRemoteDir (if the parent directory is a real remote directory) or
 * createInSyntheticDir (if the parent directory is synthetic) to do so.
 *
 * Preconditions:
 * * !rp.done().
 * * For the final path component in rp, !rp.shouldFollowSymlink().
 */
filesystem.prototype.doCreateAt = async function doCreateAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, dir: boolean, createInRemoteDir: createInRemoteDirFn,
  createInSyntheticDir: createInSyntheticDirFn | null, checkBeforeMayCreate: (() => void) | null = null,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const start = rp.start().impl as dentry;
    if (!start.cachedMetadataAuthoritative()) {
      // Get updated metadata for start as required by
      // fs.walkParentDirLocked().
      await this.revalidatePath(ctx, rp, start, ds);
    }
    const parent = await this.walkParentDirLocked(ctx, rp, start, ds);

    // Order of checks is important. First check if parent directory can be
    // executed, then check for existence, and lastly check if mount is
    // writable.
    parent.checkPermissions(rp.credentials(), vfs.MayExec);
    const name = rp.component();
    if (name === '.' || name === '..') throw syserror.EEXIST;
    if (parent.isDeleted()) throw syserror.ENOENT;

    if (!parent.dirMu.tryLock()) await lockSlow(parent.dirMu);
    try {
      let child: dentry | null = null;
      try {
        const c = this.getChildLocked(ctx, rp.virtualFilesystem(), parent, name, ds);
        child = c instanceof Promise ? await c : c;
      } catch (err) {
        if (err !== syserror.ENOENT) throw err;
      }
      if (child !== null) throw syserror.EEXIST;

      const mnt = rp.mount();
      mnt.checkBeginWrite();
      try {
        // Linux's do_linkat runs may_linkat here, between filename_create
        // (EEXIST, EROFS) and may_create (EACCES).
        checkBeforeMayCreate?.();
        parent.checkPermissions(rp.credentials(), vfs.MayWrite);
        if (!dir && rp.mustBeDir()) throw syserror.ENOENT;
        if (parent.isSynthetic()) {
          if (createInSyntheticDir === null) throw syserror.EPERM;
          createInSyntheticDir(parent, name);
          parent.touchCMtime();
          parent.dirents = null;
          let ev = IN_CREATE;
          if (dir) ev |= IN_ISDIR;
          parent.inode.notify(ctx, name, ev, 0, vfs.InodeEvent, false /* unlinked */);
          return;
        }
        // No cached dentry exists; however, in InteropModeShared there might
        // still be an existing file at name. Just attempt the file creation
        // RPC anyways. If a file does exist, the RPC will fail with EEXIST
        // like we would have.
        await createInRemoteDir(parent, name, ds);
        if (this.opts.interop !== InteropMode.Shared) {
          if (parent.children !== null && parent.children.get(name) === null) {
            // Delete the now-stale negative dentry.
            parent.children.delete(name);
          }
          parent.touchCMtime();
          parent.dirents = null;
        }
        let ev = IN_CREATE;
        if (dir) ev |= IN_ISDIR;
        parent.inode.notify(ctx, name, ev, 0, vfs.InodeEvent, false /* unlinked */);
      } finally {
        mnt.endWrite();
      }
    } finally {
      parent.dirMu.unlock();
    }
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/**
 * childOwner returns the group and mode of a file created in parent, as
 * Linux's fs/inode.c:inode_init_owner() sets them: in a set-group-ID
 * directory the file takes the directory's group, and a new directory
 * inherits S_ISGID; a set-group-ID group-executable file created there by a
 * caller outside that group and without CAP_FSETID loses S_ISGID. The
 * client sends both in Tlcreate/Tmkdir/Tmknod/Tsymlink (the gofer creates
 * as root, then chowns to what it is given). gVisor at dbe41765 sends the
 * caller's group (as tmpfs's childOwner here, followed Linux).
 */
function childOwner(parent: dentry, creds: Credentials, mode: number, isDir: boolean): [KGID, number] {
  const pmode = parent.mode;
  if ((pmode & linux.S_ISGID) === 0) return [creds.effectiveKGID, mode];
  const kgid = parent.gid;
  if (isDir) {
    mode |= linux.S_ISGID;
  } else if ((mode & (linux.S_ISGID | linux.S_IXGRP)) === (linux.S_ISGID | linux.S_IXGRP) &&
    !creds.inGroup(kgid) && !vfs.hasCapabilityOnFile(creds, CAP_FSETID, creds.effectiveKUID, kgid)) {
    mode &= ~linux.S_ISGID;
  }
  return [kgid, mode];
}

/**
 * mountNamespaceOf returns the task's mount namespace (with a reference, as
 * vfs.mountNamespaceFromContext takes one) and true; for a context without
 * one, the namespace of the mount rp stands on, without a reference, and
 * false (as tmpfs does).
 */
function mountNamespaceOf(ctx: Context, rp: vfs.ResolvingPath): [vfs.MountNamespace, boolean] {
  const mntns = vfs.mountNamespaceFromContext(ctx);
  if (mntns !== null) return [mntns, true];
  const ns = rp.mount().ns;
  if (ns === null) throw syserror.EINVAL;
  return [ns, false];
}

/**
 * doUnlinkAt is gVisor's filesystem.unlinkAt (see the module comment).
 *
 * Preconditions: !rp.done().
 */
filesystem.prototype.doUnlinkAt = async function doUnlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, dir: boolean,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const start = rp.start().impl as dentry;
    if (!start.cachedMetadataAuthoritative()) {
      // Get updated metadata for start as required by
      // fs.walkParentDirLocked().
      await this.revalidatePath(ctx, rp, start, ds);
    }
    const parent = await this.walkParentDirLocked(ctx, rp, start, ds);
    try {
      parent.checkPermissions(rp.credentials(), vfs.MayWrite | vfs.MayExec);
    } catch (err) {
      // Linux looks the name up (ENOENT) before may_delete() checks write
      // permission on the parent (EACCES); gVisor at dbe41765 checks first.
      // Followed Linux, paying for the lookup only on this error path.
      await enoentBeforeEACCES(this, ctx, rp, parent, err, ds);
    }
    rp.mount().checkBeginWrite();
    try {
      const name = rp.component();
      if (dir) {
        if (name === '.') throw syserror.EINVAL;
        if (name === '..') throw syserror.ENOTEMPTY;
      } else {
        if (name === '.' || name === '..') throw syserror.EISDIR;
      }

      const vfsObj = rp.virtualFilesystem();
      const [mntns, mntnsRef] = mountNamespaceOf(ctx, rp);
      try {
        if (!parent.dirMu.tryLock()) await lockSlow(parent.dirMu);
        try {
          await unlinkChildLocked(this, ctx, rp, vfsObj, mntns, parent, name, dir, ds);
        } finally {
          parent.dirMu.unlock();
        }
      } finally {
        if (mntnsRef) mntns.decRef(ctx);
      }
    } finally {
      rp.mount().endWrite();
    }
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/**
 * enoentBeforeEACCES rethrows err (a failed write permission check on
 * parent), or ENOENT when the parent is searchable and the final component
 * of rp names nothing, as Linux orders them.
 */
async function enoentBeforeEACCES(
  fs: filesystem, ctx: Context, rp: vfs.ResolvingPath, parent: dentry, err: unknown, ds: dentrySlice,
): Promise<never> {
  if (err !== syserror.EACCES) throw err;
  parent.checkPermissions(rp.credentials(), vfs.MayExec);
  const name = rp.component();
  if (name === '.' || name === '..' || name.length > linux.NAME_MAX) throw err;
  if (!parent.dirMu.tryLock()) await lockSlow(parent.dirMu);
  let child: dentry | null;
  try {
    const r = fs.getChildLocked(ctx, rp.virtualFilesystem(), parent, name, ds);
    child = r instanceof Promise ? await r : r;
  } finally {
    parent.dirMu.unlock();
  }
  if (child === null) throw syserror.ENOENT;
  throw err;
}

/** unlinkChildLocked is the rest of doUnlinkAt, with parent.dirMu locked. */
async function unlinkChildLocked(
  fs: filesystem, ctx: Context, rp: vfs.ResolvingPath, vfsObj: vfs.VirtualFilesystem, mntns: vfs.MountNamespace,
  parent: dentry, name: string, dir: boolean, ds: dentrySlice,
): Promise<void> {
  const cached = parent.children?.get(name);
  const ok = cached !== undefined;
  let child: dentry | null = cached ?? null;
  if (ok && child === null) throw syserror.ENOENT;

  const sticky = (parent.mode & linux.S_ISVTX) !== 0;
  // Our addition (gVisor issue #6739): when some file has several names, an
  // uncached name may be another link of a cached inode whose nlink must
  // drop, so look it up as the sticky case does (Linux always looks it up).
  const mayShareInode = !ok && !dir && fs.inodeByQIDPath.size > 0;
  if (sticky || mayShareInode) {
    if (!ok) {
      // If the sticky bit is set, we need to retrieve the child to determine
      // whether removing it is allowed.
      const c = fs.stepLocked(ctx, rp, parent, false /* mayFollowSymlinks */, ds);
      child = c instanceof Promise ? await c : c;
    } else if (child !== null && !child.cachedMetadataAuthoritative()) {
      // Make sure the dentry representing the file at name is up to date
      // before examining its metadata.
      child = await fs.revalidateChildLocked(ctx, vfsObj, parent, name, child, ds);
    }
    if (child === null) throw syserror.ENOENT;
    if (sticky) parent.mayDelete(rp.credentials(), child);
  }

  // If a child dentry exists, prepare to delete it. This should fail if it
  // is a mount point. We detect mount points by speculatively calling
  // prepareDeleteDentry, which fails if child is a mount point. However, we
  // may need to revalidate the file in this case to make sure that it has
  // not been deleted or replaced on the remote fs, in which case the mount
  // point will have disappeared. If calling prepareDeleteDentry fails again
  // on the up-to-date dentry, we can be sure that it is a mount point.
  //
  // Also note that if child is null, then it can't be a mount point.
  let childDirLocked: dentry | null = null;
  try {
    if (child !== null) {
      // Hold child.dirMu so we can check child.children and
      // child.syntheticChildren. We don't access these fields until a bit
      // later, but locking child.dirMu after calling
      // vfs.prepareDeleteDentry() would create an inconsistent lock ordering
      // between dentry.dirMu and vfs.Dentry.mu (in the VFS lock order, it
      // would make dentry.dirMu both "a FilesystemImpl lock" and "a lock
      // acquired by a FilesystemImpl between prepareDeleteDentry and
      // commitDeleteDentry). To avoid this, lock child.dirMu before calling
      // prepareDeleteDentry.
      if (!child.dirMu.tryLock()) await lockSlow(child.dirMu);
      childDirLocked = child;
      try {
        await vfsObj.prepareDeleteDentry(mntns, child.vfsd);
      } catch (err) {
        // We can skip revalidation in several cases:
        // - We are not in InteropModeShared
        // - The parent directory is synthetic, in which case the child must
        //   also be synthetic
        // - We already updated the child during the sticky bit check above
        if (parent.cachedMetadataAuthoritative() || sticky) throw err;
        child = await fs.revalidateChildLocked(ctx, vfsObj, parent, name, child, ds);
        if (child !== null) {
          if (child !== childDirLocked) {
            childDirLocked.dirMu.unlock();
            childDirLocked = null;
            if (!child.dirMu.tryLock()) await lockSlow(child.dirMu);
            childDirLocked = child;
          }
          await vfsObj.prepareDeleteDentry(mntns, child.vfsd);
        }
      }
    }
    let flags = 0;
    // If a dentry exists, use it for best-effort checks on its deletability.
    if (dir) {
      if (child !== null) {
        // child must be an empty directory.
        if (child.syntheticChildren !== 0) {
          // This is definitely not an empty directory, irrespective of
          // fs.opts.interop.
          vfsObj.abortDeleteDentry(child.vfsd);
          throw syserror.ENOTEMPTY;
        }
        // If InteropModeShared is in effect and the first call to
        // prepareDeleteDentry above succeeded, then child wasn't revalidated
        // (so we can't expect its file type to be correct) and individually
        // revalidating its children (to confirm that they still exist) would
        // be a waste of time.
        if (child.cachedMetadataAuthoritative()) {
          if (!child.isDir()) {
            vfsObj.abortDeleteDentry(child.vfsd);
            throw syserror.ENOTDIR;
          }
          if (child.children !== null) {
            for (const grandchild of child.children.values()) {
              if (grandchild !== null) {
                vfsObj.abortDeleteDentry(child.vfsd);
                throw syserror.ENOTEMPTY;
              }
            }
          }
        }
      }
      flags = linux.AT_REMOVEDIR;
    } else {
      // child must be a non-directory file.
      if (child !== null && child.isDir()) {
        vfsObj.abortDeleteDentry(child.vfsd);
        throw syserror.EISDIR;
      }
      if (rp.mustBeDir()) {
        if (child !== null) vfsObj.abortDeleteDentry(child.vfsd);
        throw syserror.ENOTDIR;
      }
    }
    if (parent.isSynthetic()) {
      if (child === null) throw syserror.ENOENT;
    } else if (child === null || !child.isSynthetic()) {
      try {
        await parent.file.unlinkAt(ctx, name, flags);
      } catch (err) {
        if (child !== null) vfsObj.abortDeleteDentry(child.vfsd);
        throw err;
      }
    }

    // Generate inotify events for rmdir or unlink.
    if (dir) {
      parent.inode.notify(ctx, name, IN_DELETE | IN_ISDIR, 0, vfs.InodeEvent, true /* unlinked */);
    } else {
      // With hard links sharing watches, the child's own IN_ATTRIB goes to
      // the file's watches (Linux: the inode's).
      vfs.inotifyRemoveChild(ctx, child !== null ? child.inode.watchesOrNull() : null, parent.inode.watchesOrNull(), name);
    }

    if (child !== null) {
      vfsObj.commitDeleteDentry(ctx, child.vfsd);
      child.setDeleted();
      if (child.isSynthetic()) {
        parent.syntheticChildren--;
        child.decRefNoCaching();
        parent.dirents = null;
      }
      if (!dir && child.cachedMetadataAuthoritative()) {
        // Our addition (gVisor issue #6739): the file's other names see it
        // (a synthetic file's other links share its inode too); Linux's
        // unlink drops the link count and sets the file's ctime.
        child.decLinks();
        child.touchCtime();
      } else if (dir && child.cachedMetadataAuthoritative()) {
        // Our addition: fstat of the removed directory's open fds shows
        // nlink 0, as Linux (v9fs_remove: clear_nlink).
        child.clearLinks();
      }
      appendDentry(ds, child);
    }
    parent.cacheNegativeLookupLocked(name);
    if (parent.cachedMetadataAuthoritative()) {
      parent.dirents = null;
      parent.touchCMtime();
      if (dir) parent.decLinks();
    } else if (child !== null && child.isSynthetic()) {
      // The server saw no unlink: see touchRemoteDirForSyntheticChild.
      await touchRemoteDirForSyntheticChild(ctx, parent);
    }
  } finally {
    if (childDirLocked !== null) childDirLocked.dirMu.unlock();
  }
}

/** accessAt implements vfs.FilesystemImpl.accessAt. */
filesystem.prototype.accessAt = async function accessAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, creds: Credentials, ats: vfs.AccessTypes,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    d.checkPermissions(creds, ats);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** getDentryAt implements vfs.FilesystemImpl.getDentryAt. */
filesystem.prototype.getDentryAt = async function getDentryAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.GetDentryOptions,
): Promise<vfs.Dentry> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    if (opts.checkSearchable) {
      if (!d.isDir()) throw syserror.ENOTDIR;
      d.checkPermissions(rp.credentials(), vfs.MayExec);
    }
    d.incRef();
    // Call d.checkCachingLocked() so it can be removed from the cache if
    // needed.
    appendDentry(ds, d);
    return d.vfsd;
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** getParentDentryAt implements vfs.FilesystemImpl.getParentDentryAt. */
filesystem.prototype.getParentDentryAt = async function getParentDentryAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<vfs.Dentry> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const start = rp.start().impl as dentry;
    if (!start.cachedMetadataAuthoritative()) {
      // Get updated metadata for start as required by
      // fs.walkParentDirLocked().
      await this.revalidatePath(ctx, rp, start, ds);
    }
    const d = await this.walkParentDirLocked(ctx, rp, start, ds);
    d.incRef();
    // Call d.checkCachingLocked() so it can be removed from the cache if
    // needed.
    appendDentry(ds, d);
    return d.vfsd;
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** linkAt implements vfs.FilesystemImpl.linkAt. */
filesystem.prototype.linkAt = function linkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, vd: vfs.VirtualDentry,
): Promise<void> {
  // checkLink is the seed's checks, in its order, for both kinds of parent.
  const checkLink = (): dentry => {
    if (rp.mount() !== vd.mount()) throw syserror.EXDEV;
    const d = vd.dentry().impl as dentry;
    if (d.isDir()) throw syserror.EPERM;
    // An unknown link count (a server that sends none) reads as 1, as in
    // Linux's v9fs; gVisor refuses it as if it were 0.
    if (d.inode.nlinkKnown && d.nlink === 0) throw syserror.ENOENT;
    if (d.nlink === 0xffffffff) throw syserror.EMLINK;
    return d;
  };
  // linkedLocked is the part after success common to both kinds of file.
  const linkedLocked = (d: dentry): void => {
    d.incLinks();
    if (d.cachedMetadataAuthoritative()) {
      // Linux's v9fs refreshes the inode; its ctime changes on link(2).
      d.touchCtime();
      d.inode.notify(ctx, '', IN_ATTRIB, 0, vfs.InodeEvent, false /* unlinked */);
    }
  };
  return this.doCreateAt(ctx, rp, false /* dir */, async (parent, childName) => {
    const d = checkLink();
    if (d.isSynthetic()) {
      // Differs from gVisor (which dereferences the synthetic dentry's nil
      // file): Linux links sockets, devices and FIFOs like any file, so the
      // new name is a second synthetic dentry sharing d's inode. doCreateAt's
      // getChildLocked, under parent.dirMu, just found no file at childName
      // on the server.
      linkSyntheticLocked(parent, d, childName);
      linkedLocked(d);
      await touchRemoteDirForSyntheticChild(ctx, parent);
      return;
    }
    await parent.file.link(ctx, d.file, childName);

    // Success!
    // The file has several names now: later lookups of them share d's inode.
    if (!this.inodeByQIDPath.has(d.qidPath)) {
      d.inode.qidPath = d.qidPath;
      this.inodeByQIDPath.set(d.qidPath, d.inode);
    }
    linkedLocked(d);
  }, (parent, childName) => {
    const d = checkLink();
    // A remote file cannot get a name the server does not see (gVisor
    // passes no createInSyntheticDir: EPERM); a synthetic one can.
    if (!d.isSynthetic()) throw syserror.EPERM;
    linkSyntheticLocked(parent, d, childName);
    linkedLocked(d);
  }, () => {
    // gVisor at dbe41765 checks vfs.MayLink inside the callback, after the
    // parent's write permission; Linux checks may_linkat (EPERM) first.
    const d = vd.dentry().impl as dentry;
    vfs.mayLink(rp.credentials(), d.mode, d.uid, d.gid);
  });
};

/**
 * linkSyntheticLocked adds name in parent as another hard link of the
 * synthetic file d: a synthetic dentry sharing d's inode (mode, owner,
 * times, link count, device, pipe, endpoint), as remote hard links share
 * theirs (see gofer.ts); a synthetic file has no QID path to key it by, so
 * the dentries hold the inode themselves. Not in gVisor.
 *
 * Preconditions:
 * * parent.dirMu must be locked.
 * * d.isSynthetic() && !d.isDir().
 * * parent has no child named name.
 */
function linkSyntheticLocked(parent: dentry, d: dentry, name: string): void {
  const child = new dentry(parent.fs, d.inode, p9file.nil, -1n);
  child.refs = 1; // held by parent, as createSyntheticChildLocked's
  parent.cacheNewChildLocked(child, name);
  parent.syntheticChildren++;
  parent.dirents = null;
}

/**
 * touchRemoteDirForSyntheticChild gives parent, a remote directory, the
 * mtime/ctime update Linux makes when an entry is added to or removed from
 * it, for a change the server never sees: a synthetic child created,
 * linked, removed or renamed. Outside InteropModeShared the sentry's own
 * metadata is authoritative and its callers touch it with the client clock,
 * as gVisor does (dentry.touchCMtime). In InteropModeShared the server owns
 * timestamps and revalidation re-reads them, so a client-side touch would
 * be lost (gVisor at dbe41765 loses it); instead the server is asked to set
 * mtime to its own "now" (Tsetattr of MTime without MTimeNotSystemTime:
 * utimensat(UTIME_NOW) on the host, which sets ctime too). A failure is
 * logged, not returned: the entry has already changed.
 */
async function touchRemoteDirForSyntheticChild(ctx: Context, parent: dentry): Promise<void> {
  if (parent.isSynthetic() || parent.cachedMetadataAuthoritative()) return;
  try {
    await parent.file.setAttr(ctx, SetAttrMask.with({ mTime: true }), new SetAttr(0, 0, 0, 0, 0, 0, 0, 0));
  } catch (err) {
    log.debugf('gofer: touching the times of a synthetic file\'s parent failed: %s', String(err));
  }
}

/** mkdirAt implements vfs.FilesystemImpl.mkdirAt. */
filesystem.prototype.mkdirAt = function mkdirAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MkdirOptions,
): Promise<void> {
  const creds = rp.credentials();
  return this.doCreateAt(ctx, rp, true /* dir */, async (parent, name) => {
    const [kgid, mode] = childOwner(parent, creds, opts.mode & 0o7777, true /* isDir */);
    try {
      await parent.file.mkdir(ctx, name, mode, creds.effectiveKUID, kgid);
    } catch (err) {
      if (!opts.forSyntheticMountpoint || err === syserror.EEXIST) throw err;
      log.infof('Failed to create remote directory %s: %s; falling back to synthetic directory', name, String(err));
      parent.createSyntheticChildLocked({
        name,
        mode: linux.S_IFDIR | mode,
        kuid: creds.effectiveKUID,
        kgid,
      });
    }
    if (this.opts.interop !== InteropMode.Shared) parent.incLinks();
  }, (parent, name) => {
    if (!opts.forSyntheticMountpoint) {
      // Can't create non-synthetic files in synthetic directories.
      throw syserror.EPERM;
    }
    const [kgid, mode] = childOwner(parent, creds, opts.mode & 0o7777, true /* isDir */);
    parent.createSyntheticChildLocked({
      name,
      mode: linux.S_IFDIR | mode,
      kuid: creds.effectiveKUID,
      kgid,
    });
    parent.incLinks();
  });
};

/** mknodAt implements vfs.FilesystemImpl.mknodAt. */
filesystem.prototype.mknodAt = function mknodAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MknodOptions,
): Promise<void> {
  return this.doCreateAt(ctx, rp, false /* dir */, async (parent, name, ds) => {
    const creds = rp.credentials();
    const [kgid, perm] = childOwner(parent, creds, opts.mode & ~linux.S_IFMT, false /* isDir */);
    const mode = (opts.mode & linux.S_IFMT) | perm;
    try {
      await parent.file.mknod(ctx, name, mode, opts.devMajor ?? 0, opts.devMinor ?? 0, creds.effectiveKUID, kgid);
      return;
    } catch (err) {
      if (err !== syserror.EPERM) throw err;
    }

    // EPERM means that gofer does not allow creating a socket or pipe.
    // Fallback to creating a synthetic one, i.e. one that is kept entirely
    // in memory. Differs from gVisor at our commit: character and block
    // device files fall back to synthetic ones too (the gofer makes no
    // device nodes on the host, which host users could open), so mknod of
    // a device succeeds as on Linux; opening one goes to the sentry's device
    // registry.

    // Check that we're not overriding an existing file with a synthetic one.
    try {
      const c = this.stepLocked(ctx, rp, parent, true, ds);
      if (c instanceof Promise) await c;
      // Step succeeded, another file exists.
      throw syserror.EEXIST;
    } catch (err) {
      if (err !== syserror.ENOENT) {
        // Unexpected error (or EEXIST).
        throw err;
      }
    }

    switch (opts.mode & linux.S_IFMT) {
      case linux.S_IFSOCK:
        parent.createSyntheticChildLocked({
          name,
          mode,
          kuid: creds.effectiveKUID,
          kgid,
          endpoint: opts.endpoint ?? null,
        });
        break;
      case linux.S_IFIFO:
        parent.createSyntheticChildLocked({
          name,
          mode,
          kuid: creds.effectiveKUID,
          kgid,
          pipe: new VFSPipe(true /* isNamed */, DefaultPipeSize),
        });
        break;
      case linux.S_IFCHR:
      case linux.S_IFBLK:
        // Linux's vfs_mknod: a device needs CAP_MKNOD, but for a whiteout
        // (character device 0:0).
        if (!creds.hasCapability(CAP_MKNOD) &&
            ((opts.mode & linux.S_IFMT) === linux.S_IFBLK || (opts.devMajor ?? 0) !== 0 || (opts.devMinor ?? 0) !== 0)) {
          throw syserror.EPERM;
        }
        parent.createSyntheticChildLocked({
          name,
          mode,
          kuid: creds.effectiveKUID,
          kgid,
          devMajor: opts.devMajor ?? 0,
          devMinor: opts.devMinor ?? 0,
        });
        break;
      default:
        // Retain error from gofer if synthetic file cannot be created internally.
        throw syserror.EPERM;
    }
    await touchRemoteDirForSyntheticChild(ctx, parent);
  }, null);
};

/** openAt implements vfs.FilesystemImpl.openAt. */
filesystem.prototype.openAt = async function openAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions,
): Promise<vfs.FileDescription> {
  // Reject O_TMPFILE, which is not supported; supporting it correctly in the
  // presence of other remote filesystem users requires remote filesystem
  // support, and it isn't clear that there's any way to implement this in
  // 9P.
  // (linux.O_TMPFILE here includes O_DIRECTORY, as Linux's uapi does.)
  if ((opts.flags & linux.O_TMPFILE) === linux.O_TMPFILE) throw syserror.EOPNOTSUPP;
  const mayCreate = (opts.flags & linux.O_CREAT) !== 0;
  const mustCreate = (opts.flags & (linux.O_CREAT | linux.O_EXCL)) === (linux.O_CREAT | linux.O_EXCL);

  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  let unlocked = false;
  const unlock = (): void => {
    if (!unlocked) {
      this.renameMuRUnlockAndCheckCaching(ctx, ds);
      unlocked = true;
    }
  };
  let toOpen: dentry;
  try {
    let start = rp.start().impl as dentry;
    if (!start.cachedMetadataAuthoritative()) {
      // Get updated metadata for start as required by fs.stepLocked().
      await this.revalidatePath(ctx, rp, start, ds);
    }
    if (rp.done()) {
      // Reject attempts to open mount root directory with O_CREAT.
      if (mayCreate && rp.mustBeDir()) throw syserror.EISDIR;
      if (mustCreate) throw syserror.EEXIST;
      toOpen = start;
    } else {
      for (;;) { // afterTrailingSymlink:
        const parent = await this.walkParentDirLocked(ctx, rp, start, ds);
        // Check for search permission in the parent directory.
        parent.checkPermissions(rp.credentials(), vfs.MayExec);
        // Reject attempts to open directories with O_CREAT.
        if (mayCreate && rp.mustBeDir()) throw syserror.EISDIR;
        // Determine whether or not we need to create a file.
        if (!parent.dirMu.tryLock()) await lockSlow(parent.dirMu);
        let child: dentry;
        const cloning = mayCreate ? speculativeClone(ctx, rp, parent) : null;
        try {
          const c = this.stepLocked(ctx, rp, parent, false /* mayFollowSymlinks */, ds);
          child = c instanceof Promise ? await c : c;
        } catch (err) {
          if (err === syserror.ENOENT && mayCreate) {
            try {
              if (parent.isSynthetic()) throw syserror.EPERM;
              return await parent.createAndOpenChildLocked(ctx, rp, opts, ds, cloning);
            } finally {
              parent.dirMu.unlock();
            }
          }
          if (cloning !== null) clunkClone(ctx, cloning);
          parent.dirMu.unlock();
          throw err;
        }
        if (cloning !== null) clunkClone(ctx, cloning);
        parent.dirMu.unlock();
        if (mustCreate) throw syserror.EEXIST;
        // Open existing child or follow symlink.
        if (child.isSymlink() && rp.shouldFollowSymlink()) {
          const target = await child.readlink(ctx, rp.mount());
          rp.handleSymlink(target);
          start = parent;
          continue; // goto afterTrailingSymlink
        }
        if (rp.mustBeDir() && !child.isDir()) throw syserror.ENOTDIR;
        toOpen = child;
        break;
      }
    }
    toOpen.incRef();
  } finally {
    unlock();
  }
  try {
    return await toOpen.open(ctx, rp, opts);
  } finally {
    toOpen.decRef(ctx);
  }
};

/**
 * open opens d for opts.
 *
 * Preconditions: The caller must hold no locks (since opening pipes may
 * block indefinitely).
 */
dentry.prototype.open = async function open(
  this: dentry, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions,
): Promise<vfs.FileDescription> {
  const ats = vfs.accessTypesForOpenFlags(opts);
  this.checkPermissions(rp.credentials(), ats);

  const trunc = (opts.flags & linux.O_TRUNC) !== 0 && this.fileType() === linux.S_IFREG;
  if (trunc) {
    // Lock metadataMu *while* we open a regular file with O_TRUNC because
    // open(2) will change the file size on server.
    if (!this.metadataMu.tryLock()) await lockSlow(this.metadataMu);
  }
  try {
    let vfd: vfs.FileDescription | null = null;
    const mnt = rp.mount();
    switch (this.fileType()) {
      case linux.S_IFREG:
        if (!this.fs.opts.regularFilesUseSpecialFileFD) {
          await this.ensureSharedHandle(ctx, vfs.accessMayRead(ats), vfs.accessMayWrite(ats), trunc);
          vfd = newRegularFileFD(mnt, this, opts.flags).vfsfd;
        }
        break;
      case linux.S_IFDIR: {
        // Can't open directories with O_CREAT.
        if ((opts.flags & linux.O_CREAT) !== 0) throw syserror.EISDIR;
        // Can't open directories writably.
        if ((ats & vfs.MayWrite) !== 0) throw syserror.EISDIR;
        if ((opts.flags & linux.O_DIRECT) !== 0) throw syserror.EINVAL;
        // Differs from gVisor: a deleted directory (a removed working
        // directory's ".") opens without a handle, as on Linux; the p9
        // server refuses Tlopen of a deleted file (EINVAL), and there is
        // nothing to read: getdents of it is ENOENT (iterate_dir).
        if (!this.isSynthetic() && !this.isDeleted()) {
          await this.ensureSharedHandle(ctx, (ats & vfs.MayRead) !== 0, false /* write */, false /* trunc */);
        }
        const fd = new directoryFD();
        fd.lockFD.init(this.locks);
        fd.vfsfd.init(fd, opts.flags, mnt, this.vfsd, {});
        return fd.vfsfd;
      }
      case linux.S_IFLNK:
        // Can't open symlinks without O_PATH.
        throw syserror.ELOOP;
      case linux.S_IFCHR:
      case linux.S_IFBLK:
        if (this.isSynthetic()) {
          const kind = (this.inode.mode & linux.S_IFMT) === linux.S_IFCHR ? vfs.CharDevice : vfs.BlockDevice;
          return rp.virtualFilesystem().openDeviceSpecialFile(ctx, mnt, this.vfsd, kind, this.inode.rdevMajor, this.inode.rdevMinor, opts);
        }
        break;
      case linux.S_IFSOCK:
        if (this.isSynthetic()) throw syserror.ENXIO;
        if (this.fs.iopts.openSocketsByConnecting) return this.openSocketByConnecting(ctx, opts);
        break;
      case linux.S_IFIFO:
        // Differs from gVisor: access mode 3 (O_WRONLY|O_RDWR) passes
        // may_open but Linux's fifo_open rejects it with EINVAL.
        if ((opts.flags & linux.O_ACCMODE) === linux.O_ACCMODE) throw syserror.EINVAL;
        if (this.isSynthetic()) return openSyntheticPipe(ctx, mnt, this, opts.flags);
        break;
    }

    if (vfd === null) vfd = await this.openSpecialFile(ctx, mnt, opts);

    if (trunc) {
      // If no errors occured so far then update file size in memory. This
      // step is required even if !d.cachedMetadataAuthoritative() because
      // d.mappings has to be updated.
      // d.metadataMu has already been acquired if trunc === true.
      this.updateSizeLocked(0);
      // Linux's handle_truncate => do_truncate clears set-ID bits as a
      // truncate does (gVisor at dbe41765 does not).
      await this.removePrivsLocked(ctx);

      if (this.cachedMetadataAuthoritative()) this.touchCMtimeLocked();
    }
    return vfd;
  } finally {
    if (trunc) this.metadataMu.unlock();
  }
};

/**
 * openSocketByConnecting would connect to the socket and wrap the host fd
 * the server returns; Node cannot receive one (see socket.ts), so it fails
 * as a refused connection.
 */
dentry.prototype.openSocketByConnecting = async function openSocketByConnecting(
  this: dentry, _ctx: Context, opts: vfs.OpenOptions,
): Promise<vfs.FileDescription> {
  if ((opts.flags & linux.O_DIRECT) !== 0) throw syserror.EINVAL;
  throw syserror.ECONNREFUSED;
};

/** openSpecialFile opens d with a handle of its own (specialFileFD). */
dentry.prototype.openSpecialFile = async function openSpecialFile(
  this: dentry, ctx: Context, mnt: vfs.Mount, opts: vfs.OpenOptions,
): Promise<vfs.FileDescription> {
  if ((opts.flags & linux.O_DIRECT) !== 0) throw syserror.EINVAL;
  // Differs from gVisor (which opens the handle for the access types of
  // the permission check, where O_TRUNC adds MayWrite): the handle gets
  // the access mode only, and O_TRUNC only for a regular file. Linux
  // ignores O_TRUNC on a FIFO: O_RDONLY|O_TRUNC opens a reader, not a
  // writer whose presence would turn the reader's EOF into EAGAIN.
  const read = vfs.mayReadFileWithOpenFlags(opts.flags);
  const write = vfs.mayWriteFileWithOpenFlags(opts.flags);
  const trunc = (opts.flags & linux.O_TRUNC) !== 0 && this.fileType() === linux.S_IFREG;
  // We assume that the server silently inserts O_NONBLOCK in the open flags
  // for all named pipes (because all existing gofers do this).
  //
  // NOTE(b/133875563): This makes named pipe opens racy, because the
  // mechanisms for translating nonblocking to blocking opens can only detect
  // the instantaneous presence of a peer holding the other end of the pipe
  // open, not whether the pipe was *previously* opened by a peer that has
  // since closed its end.
  const isBlockingOpenOfNamedPipe = this.fileType() === linux.S_IFIFO && (opts.flags & linux.O_NONBLOCK) === 0;
  let h: handle;
  for (;;) { // retry:
    try {
      h = await openHandle(ctx, this.file, read, write, trunc);
      break;
    } catch (err) {
      if (isBlockingOpenOfNamedPipe && !read && write && err === syserror.ENXIO) {
        // An attempt to open a named pipe with O_WRONLY|O_NONBLOCK fails
        // with ENXIO if opening the same named pipe with O_WRONLY would
        // block because there are no readers of the pipe.
        await sleepBetweenNamedPipeOpenChecks(ctx);
        continue;
      }
      throw err;
    }
  }
  // A blocking read-only open of a named pipe would wait here for a writer
  // (blockUntilNonblockingPipeHasWriter); it needs a host fd (h.fd >= 0),
  // which Node never has: see host_named_pipe.ts.
  try {
    return newSpecialFileFD(h, mnt, this, opts.flags).vfsfd;
  } catch (err) {
    h.close(ctx);
    throw err;
  }
};

/**
 * createAndOpenChildLocked creates rp.component() in d and opens it.
 *
 * Preconditions:
 * * d.fs.renameMu must be locked.
 * * d.dirMu must be locked.
 * * !d.isSynthetic().
 */
dentry.prototype.createAndOpenChildLocked = async function createAndOpenChildLocked(
  this: dentry, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions, ds: dentrySlice,
  cloning: Promise<p9file> | null = null,
): Promise<vfs.FileDescription> {
  try {
    this.checkPermissions(rp.credentials(), vfs.MayWrite);
    if (this.isDeleted()) throw syserror.ENOENT;
  } catch (err) {
    if (cloning !== null) clunkClone(ctx, cloning);
    throw err;
  }
  const mnt = rp.mount();
  try {
    mnt.checkBeginWrite();
  } catch (err) {
    if (cloning !== null) clunkClone(ctx, cloning);
    throw err;
  }
  try {
    // 9P2000.L's lcreate takes a fid representing the parent directory, and
    // converts it into an open fid representing the created file, so we
    // need to duplicate the directory fid first (openAt may have started it
    // already: speculativeClone).
    const dirfile = await (cloning ?? this.file.walk(ctx, []).then(([, f]) => f));
    const creds = rp.credentials();
    const name = rp.component();
    // We only want the access mode for creating the file.
    const createFlags = opts.flags & OpenFlagsModeMask;
    let openFile: p9file;
    let createQIDPath: bigint;
    try {
      const [kgid, mode] = childOwner(this, creds, (opts.mode ?? 0) & 0o7777, false /* isDir */);
      const [f, createQID] = await dirfile.create(ctx, name, createFlags, mode, creds.effectiveKUID, kgid);
      openFile = f;
      createQIDPath = createQID.path;
    } catch (err) {
      trackClunk(dirfile.close(ctx));
      throw err;
    }
    // Then we need to walk to the file we just created to get a non-open fid
    // representing it, and to get its metadata. This must use d.file since,
    // as explained above, dirfile was invalidated by dirfile.create().
    let nonOpenFile: p9file;
    let child: dentry;
    try {
      const [, f, attrMask, attr] = await this.file.walkGetAttrOne(ctx, name);
      nonOpenFile = f;
      // Construct the new dentry.
      try {
        child = this.fs.newDentry(ctx, nonOpenFile, createQIDPath, attrMask, attr);
      } catch (err) {
        trackClunk(nonOpenFile.close(ctx));
        throw err;
      }
    } catch (err) {
      trackClunk(openFile.close(ctx));
      throw err;
    }
    appendDentry(ds, child);
    // Incorporate the fid that was opened by lcreate.
    const useRegularFileFD = child.fileType() === linux.S_IFREG && !this.fs.opts.regularFilesUseSpecialFileFD;
    if (useRegularFileFD) {
      // handleMu: child is new and not yet reachable by any other task.
      const read = vfs.mayReadFileWithOpenFlags(opts.flags);
      const write = vfs.mayWriteFileWithOpenFlags(opts.flags);
      if (read) child.readFile = openFile;
      if (write) child.writeFile = openFile;
      if (!read && !write) trackClunk(openFile.close(ctx));
      else this.fs.syncableDentries.add(child);
    }
    // Insert the dentry into the tree.
    this.cacheNewChildLocked(child, name);
    if (this.cachedMetadataAuthoritative()) {
      this.touchCMtime();
      this.dirents = null;
    }

    // Finally, construct a file description representing the created file.
    let childVFSFD: vfs.FileDescription;
    if (useRegularFileFD) {
      childVFSFD = newRegularFileFD(mnt, child, opts.flags).vfsfd;
    } else {
      const h = new handle(openFile, -1);
      try {
        childVFSFD = newSpecialFileFD(h, mnt, child, opts.flags).vfsfd;
      } catch (err) {
        h.close(ctx);
        throw err;
      }
    }
    this.inode.notify(ctx, name, IN_CREATE, 0, vfs.PathEvent, false /* unlinked */);
    return childVFSFD;
  } finally {
    mnt.endWrite();
  }
};

/** readlinkAt implements vfs.FilesystemImpl.readlinkAt. */
filesystem.prototype.readlinkAt = async function readlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<string> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    if (!d.isSymlink()) throw syserror.EINVAL;
    return await d.readlink(ctx, rp.mount());
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** renameAt implements vfs.FilesystemImpl.renameAt. */
filesystem.prototype.renameAt = async function renameAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, oldParentVD: vfs.VirtualDentry, oldName: string,
  opts: vfs.RenameOptions,
): Promise<void> {
  // gVisor at dbe41765 refuses every flag ("Requires 9P support"). Linux
  // supports RENAME_NOREPLACE on every local filesystem; we check it here,
  // on the dentry found below (revalidated first in shared mode), as gVisor
  // did later. RENAME_EXCHANGE and RENAME_WHITEOUT still need 9P support.
  const flags = opts.flags ?? 0;
  if ((flags & ~linux.RENAME_NOREPLACE) !== 0) throw syserror.EINVAL;

  const ds = new dentrySlice();
  if (!this.renameMu.tryLock()) await lockSlow(this.renameMu);
  try {
    const newParent = await this.walkParentDirLocked(ctx, rp, rp.start().impl as dentry, ds);
    // Linux's path walk checks search permission on the last directory too
    // (gVisor checks it with write permission, after the lookups).
    newParent.checkPermissions(rp.credentials(), vfs.MayExec);
    const newName = rp.component();
    if (newName === '.' || newName === '..') {
      // do_renameat2: "if (new_type != LAST_NORM)".
      if ((flags & linux.RENAME_NOREPLACE) !== 0) throw syserror.EEXIST;
      throw syserror.EBUSY;
    }
    const mnt = rp.mount();
    if (mnt !== oldParentVD.mount()) throw syserror.EXDEV;
    mnt.checkBeginWrite();
    try {
      const oldParent = oldParentVD.dentry().impl as dentry;
      if (!oldParent.cachedMetadataAuthoritative()) await oldParent.updateFromGetattr(ctx);
      const creds = rp.credentials();
      // Linux looks the old name up (ENOENT) before may_delete() checks
      // write permission (EACCES); gVisor at dbe41765 checks first. Followed
      // Linux: search permission here, write permission after the lookup.
      oldParent.checkPermissions(creds, vfs.MayExec);

      const vfsObj = rp.virtualFilesystem();
      // We need a dentry representing the renamed file since, if it's a
      // directory, we need to check for write permission on it.
      if (!oldParent.dirMu.tryLock()) await lockSlow(oldParent.dirMu);
      try {
        const r = this.getChildLocked(ctx, vfsObj, oldParent, oldName, ds);
        const renamed = r instanceof Promise ? await r : r;
        if (renamed === null) throw syserror.ENOENT;

        let newParentLocked = false;
        try {
          if (oldParent !== newParent) {
            if (!newParent.dirMu.tryLock()) await lockSlow(newParent.dirMu);
            newParentLocked = true;
          }
          // A deleted directory has no children; its ENOENT comes with
          // may_create below, as in Linux.
          let replaced: dentry | null = null;
          if (!newParent.isDeleted()) {
            const rr = this.getChildLocked(ctx, vfsObj, newParent, newName, ds);
            replaced = rr instanceof Promise ? await rr : rr;
          }
          // The checks run in the order of Linux's do_renameat2 and
          // vfs_rename, as tmpfs does: ENOENT, EEXIST (RENAME_NOREPLACE),
          // ENOTDIR (a trailing slash on a non-directory), EINVAL,
          // ENOTEMPTY and the rename onto itself come before any EACCES.
          // gVisor at dbe41765 checks permissions first and refuses every
          // flag; followed Linux.
          if (replaced !== null && (flags & linux.RENAME_NOREPLACE) !== 0) throw syserror.EEXIST;
          const isDir = renamed.isDir();
          if (!isDir && (opts.mustBeDir || rp.mustBeDir())) throw syserror.ENOTDIR;
          // Source should not be an ancestor of the target.
          if (isDir && (renamed === newParent || genericIsAncestorDentry(renamed, newParent))) throw syserror.EINVAL;
          // The target should not be an ancestor of the source.
          if (replaced !== null && (replaced === oldParent || genericIsAncestorDentry(replaced, oldParent))) {
            throw syserror.ENOTEMPTY;
          }
          if (replaced !== null) {
            if (replaced === renamed) return;
            // Linux (vfs_rename: "if (source == target) return 0"):
            // renaming a file onto another link of itself does nothing;
            // the host's rename(2) does nothing either, so the dentry tree
            // must not move. gVisor at dbe41765 compares dentries only, and
            // drops the old name from its cache (our addition, following
            // Linux).
            if (!renamed.isSynthetic() && !replaced.isSynthetic() && replaced.qidPath === renamed.qidPath) return;
            // Two links of one synthetic file share their inode.
            if (replaced.inode === renamed.inode) return;
          }

          // may_delete(old_dir, old_dentry).
          oldParent.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
          oldParent.mayDelete(creds, renamed);
          let replacedVFSD: vfs.Dentry | null = null;
          if (replaced !== null) {
            replacedVFSD = replaced.vfsd;
            // may_delete(new_dir, new_dentry): the sticky bit of the new
            // parent protects the replaced file too (missing in gVisor at
            // dbe41765; followed Linux).
            newParent.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
            newParent.mayDelete(creds, replaced);
            if (isDir && !replaced.isDir()) throw syserror.ENOTDIR;
            if (!isDir && replaced.isDir()) throw syserror.EISDIR;
          } else {
            // may_create(new_dir).
            if (newParent.isDeleted()) throw syserror.ENOENT;
            newParent.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
          }
          // Writability is needed to change renamed's "..".
          if (isDir && oldParent !== newParent) renamed.checkPermissions(creds, vfs.MayWrite);

          if (oldParent === newParent && oldName === newName) return;
          // The server cannot see a replaced directory's synthetic
          // children, so it would let the rename empty it; rmdir checks them
          // the same way (unlinkChildLocked). Missing in gVisor at dbe41765.
          // Linux's ENOTEMPTY comes from the filesystem, after may_delete.
          if (replaced !== null && replaced.isDir() && replaced.syntheticChildren !== 0) throw syserror.ENOTEMPTY;
          const [mntns, mntnsRef] = mountNamespaceOf(ctx, rp);
          try {
            await vfsObj.prepareRenameDentry(mntns, renamed.vfsd, replacedVFSD);
          } finally {
            if (mntnsRef) mntns.decRef(ctx);
          }

          // Update the remote filesystem.
          if (!renamed.isSynthetic()) {
            try {
              await renamed.file.rename(ctx, newParent.file, newName);
            } catch (err) {
              vfsObj.abortRenameDentry(renamed.vfsd, replacedVFSD);
              throw err;
            }
          } else if (replaced !== null && !replaced.isSynthetic()) {
            // We are replacing an existing real file with a synthetic one, so
            // we need to unlink the former.
            const flags = replaced.isDir() ? linux.AT_REMOVEDIR : 0;
            try {
              await newParent.file.unlinkAt(ctx, newName, flags);
            } catch (err) {
              vfsObj.abortRenameDentry(renamed.vfsd, replacedVFSD);
              throw err;
            }
          }

          // Update the dentry tree.
          vfsObj.commitRenameReplaceDentry(ctx, renamed.vfsd, replacedVFSD);
          if (replaced !== null) {
            replaced.setDeleted();
            if (replaced.isSynthetic()) {
              newParent.syntheticChildren--;
              replaced.decRefNoCaching();
            }
            if (replaced.cachedMetadataAuthoritative()) {
              // Our addition (gVisor issue #6739), as in unlink; a replaced
              // directory's count drops to 0 (v9fs_vfs_rename: clear_nlink).
              // A replaced synthetic file's other links share its inode.
              // Linux sets the replaced file's ctime (ext4_rename,
              // shmem_rename2).
              if (replaced.isDir()) {
                replaced.clearLinks();
              } else {
                replaced.decLinks();
                replaced.touchCtime();
              }
            }
            appendDentry(ds, replaced);
          }
          oldParent.cacheNegativeLookupLocked(oldName);
          // We don't use newParent.cacheNewChildLocked() since we don't want
          // to mess with reference counts and queue oldParent for
          // checkCachingLocked if the parent isn't actually changing.
          if (oldParent !== newParent) {
            oldParent.decRefNoCaching();
            appendDentry(ds, oldParent);
            newParent.incRef();
            if (renamed.isSynthetic()) {
              oldParent.syntheticChildren--;
              newParent.syntheticChildren++;
            }
            renamed.parent = newParent;
          }
          renamed.name = newName;
          if (newParent.children === null) newParent.children = new Map();
          newParent.children.set(newName, renamed);

          // Update metadata.
          if (renamed.cachedMetadataAuthoritative()) renamed.touchCtime();
          if (oldParent.cachedMetadataAuthoritative()) {
            oldParent.dirents = null;
            oldParent.touchCMtime();
            if (renamed.isDir()) oldParent.decLinks();
          }
          if (newParent.cachedMetadataAuthoritative()) {
            newParent.dirents = null;
            newParent.touchCMtime();
            if (renamed.isDir() && (replaced === null || !replaced.isDir())) {
              // Increase the link count if we did not replace another
              // directory.
              newParent.incLinks();
            }
          }
          if (renamed.isSynthetic()) {
            // The server saw no rename (at most an unlink in newParent):
            // see touchRemoteDirForSyntheticChild.
            await touchRemoteDirForSyntheticChild(ctx, oldParent);
            if (newParent !== oldParent) await touchRemoteDirForSyntheticChild(ctx, newParent);
          }
          vfs.inotifyRename(ctx, renamed.inode.watchesOrNull(), oldParent.inode.watchesOrNull(), newParent.inode.watchesOrNull(), oldName, newName, renamed.isDir());
        } finally {
          if (newParentLocked) newParent.dirMu.unlock();
        }
      } finally {
        oldParent.dirMu.unlock();
      }
    } finally {
      mnt.endWrite();
    }
  } finally {
    this.renameMuUnlockAndCheckCaching(ctx, ds);
  }
};

/** genericIsAncestorDentry returns true if d is an ancestor of d2. */
function genericIsAncestorDentry(d: dentry, d2: dentry): boolean {
  for (let p = d2.parent; p !== null; p = p.parent) {
    if (p === d) return true;
  }
  return false;
}

/** rmdirAt implements vfs.FilesystemImpl.rmdirAt. */
filesystem.prototype.rmdirAt = function rmdirAt(this: filesystem, ctx: Context, rp: vfs.ResolvingPath): Promise<void> {
  return this.doUnlinkAt(ctx, rp, true /* dir */);
};

/** setStatAt implements vfs.FilesystemImpl.setStatAt. */
filesystem.prototype.setStatAt = async function setStatAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.SetStatOptions,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  let d: dentry;
  try {
    d = await this.resolveLocked(ctx, rp, ds);
    await d.setStat(ctx, rp.credentials(), opts, rp.mount());
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
  const ev = vfs.inotifyEventFromStatMask(opts.stat.mask);
  if (ev !== 0) d.inotifyWithParent(ctx, ev, 0, vfs.InodeEvent);
};

/** statAt implements vfs.FilesystemImpl.statAt. */
filesystem.prototype.statAt = async function statAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.StatOptions,
): Promise<Statx> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    // Since walking updates metadata for all traversed dentries under
    // InteropModeShared, including the returned one, we can return cached
    // metadata here regardless of fs.opts.interop.
    const stat = newStatxLike();
    d.statTo(stat);
    return stat;
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** statFSAt implements vfs.FilesystemImpl.statFSAt. */
filesystem.prototype.statFSAt = async function statFSAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<Statfs> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    let d = await this.resolveLocked(ctx, rp, ds);
    // If d is synthetic, invoke statfs on the first ancestor of d that
    // isn't.
    while (d.isSynthetic() && d.parent !== null) d = d.parent;
    const fsstat = await d.file.statFS(ctx);
    return statfsFromP9(fsstat);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** symlinkAt implements vfs.FilesystemImpl.symlinkAt. */
filesystem.prototype.symlinkAt = function symlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, target: string,
): Promise<void> {
  return this.doCreateAt(ctx, rp, false /* dir */, async (parent, name) => {
    const creds = rp.credentials();
    const [kgid] = childOwner(parent, creds, 0o777, false /* isDir */);
    await parent.file.symlink(ctx, target, name, creds.effectiveKUID, kgid);
  }, null);
};

/** unlinkAt implements vfs.FilesystemImpl.unlinkAt. */
filesystem.prototype.unlinkAt = function unlinkAt(this: filesystem, ctx: Context, rp: vfs.ResolvingPath): Promise<void> {
  return this.doUnlinkAt(ctx, rp, false /* dir */);
};

/** boundEndpointAt implements vfs.FilesystemImpl.boundEndpointAt. */
filesystem.prototype.boundEndpointAt = async function boundEndpointAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.BoundEndpointOptions,
): Promise<vfs.BoundEndpoint> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    d.checkPermissions(rp.credentials(), vfs.MayWrite);
    if (d.isSocket()) {
      if (!d.isSynthetic()) {
        d.incRef();
        appendDentry(ds, d);
        return new endpoint(d, opts.addr);
      }
      if (d.endpoint !== null) return d.endpoint;
    }
    throw syserror.ECONNREFUSED;
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** listXattrAt implements vfs.FilesystemImpl.listXattrAt. */
filesystem.prototype.listXattrAt = async function listXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, size: number,
): Promise<string[]> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    return await d.listXattr(ctx, rp.credentials(), size);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** getXattrAt implements vfs.FilesystemImpl.getXattrAt. */
filesystem.prototype.getXattrAt = async function getXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.GetXattrOptions,
): Promise<string> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    const d = await this.resolveLocked(ctx, rp, ds);
    return await d.getXattr(ctx, rp.credentials(), opts);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
};

/** setXattrAt implements vfs.FilesystemImpl.setXattrAt. */
filesystem.prototype.setXattrAt = async function setXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.SetXattrOptions,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  let d: dentry;
  try {
    d = await this.resolveLocked(ctx, rp, ds);
    await d.setXattr(ctx, rp.credentials(), opts);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
  d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
};

/** removeXattrAt implements vfs.FilesystemImpl.removeXattrAt. */
filesystem.prototype.removeXattrAt = async function removeXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, name: string,
): Promise<void> {
  const ds = new dentrySlice();
  const w = rLockRename(this);
  if (w !== null) await w;
  let d: dentry;
  try {
    d = await this.resolveLocked(ctx, rp, ds);
    await d.removeXattr(ctx, rp.credentials(), name);
  } finally {
    this.renameMuRUnlockAndCheckCaching(ctx, ds);
  }
  d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
};

/** prependPath implements vfs.FilesystemImpl.prependPath. */
filesystem.prototype.prependPath = async function prependPath(
  this: filesystem, _ctx: Context, vfsroot: vfs.VirtualDentry, vd: vfs.VirtualDentry, b: Builder,
): Promise<void> {
  const w = rLockRename(this);
  if (w !== null) await w;
  try {
    vfs.genericPrependPath(vfsroot, vd.mount(), vd.dentry().impl as dentry, b);
  } finally {
    this.renameMu.rUnlock();
  }
};

// dentryAttrMask is re-exported for tests that speak p9 directly.
export { dentryAttrMask };
