// inotify(7): Inotify instances, watch sets and events (gVisor's inotify.go).
//
// Differs from gVisor: Inotify.mu, Watches.mu and Inotify.evMu are gone:
// every critical section they guard is synchronous here, so it cannot
// interleave with another task. A blocking read() awaits readiness (a
// Promise) instead of returning EWOULDBLOCK to a syscall loop. Past
// maxQueuedEvents pending events, one IN_Q_OVERFLOW event is queued and
// further events are dropped, as Linux's fsnotify_add_event() does (gVisor
// at this commit has no queue limit). IN_MASK_CREATE is honoured as Linux
// 4.18+ does.

import type { Context } from '../../context';
import { FIONREAD } from '../../abi/linux/fcntl';
import { O_CLOEXEC, O_NONBLOCK, S_IFDIR, S_IFMT } from '../../abi/linux/file';
import {
  ALL_INOTIFY_BITS, IN_ACCESS, IN_ALL_EVENTS, IN_ATTRIB, IN_DELETE, IN_DELETE_SELF, IN_DONT_FOLLOW, IN_EXCL_UNLINK,
  IN_IGNORED, IN_ISDIR, IN_MASK_ADD, IN_MASK_CREATE, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_ONESHOT,
  IN_ONLYDIR, IN_Q_OVERFLOW, InotifyMaxQueuedEvents, SizeOfInotifyEvent,
} from '../../abi/linux/inotify';
import { STATX_ATIME, STATX_GID, STATX_MODE, STATX_MTIME, STATX_SIZE, STATX_TYPE, STATX_UID } from '../../abi/linux/stat';
import type { Credentials } from '../kernel/auth';
import * as syserror from '../../syserror/syserror';
import { EventIn, Queue, waitFor, type Entry, type EventMask } from '../../waiter/waiter';
import type { Dentry } from './dentry';
import { FileDescription } from './file_description';
import { DentryMetadataFileDescriptionImpl } from './file_description_impl_util';
import type { ReadOptions, WriteOptions } from './options';
import { MayRead } from './permissions';
import type { PathOperation, VirtualFilesystem } from './vfs';

/**
 * inotifyEventBaseSize is the base size of linux's struct inotify_event.
 * This must be a power 2 for rounding below.
 */
const inotifyEventBaseSize = SizeOfInotifyEvent;

/**
 * EventType defines different kinds of inotfiy events.
 *
 * The way events are labelled appears somewhat arbitrary, but they must
 * match Linux so that IN_EXCL_UNLINK behaves as it does in Linux.
 *
 * PathEvent and InodeEvent correspond to FSNOTIFY_EVENT_PATH and
 * FSNOTIFY_EVENT_INODE in Linux.
 */
export type EventType = 0 | 1;
export const PathEvent: EventType = 0;
export const InodeEvent: EventType = 1;

// gVisor's uniqueid.GlobalFromContext and uniqueid.InotifyCookie: the kernel
// hands out these numbers; here the vfs package does, from process-wide
// counters.
let lastInotifyID = 0;
let lastInotifyCookie = 0;

/** inotifyCookie returns a new cookie for a pair of IN_MOVED_FROM/IN_MOVED_TO events. */
export function inotifyCookie(_ctx: Context): number {
  lastInotifyCookie = (lastInotifyCookie + 1) >>> 0;
  if (lastInotifyCookie === 0) lastInotifyCookie = 1;
  return lastInotifyCookie;
}

/**
 * Inotify represents an inotify instance created by inotify_init(2) or
 * inotify_init1(2). Inotify implements FileDescriptionImpl.
 */
export class Inotify extends DentryMetadataFileDescriptionImpl {
  readonly vfsfd = new FileDescription();

  /**
   * Unique identifier for this inotify instance. We don't just reuse the
   * inotify fd because fds can be duped.
   */
  readonly id: number;

  /** queue is used to notify interested parties when the inotify instance becomes readable or writable. */
  private readonly queue = new Queue();

  /** A list of pending events for this inotify instance. */
  private events: Event[] = [];

  /** overflowQueued is true while an IN_Q_OVERFLOW event is pending (Linux: overflow_event on the list). */
  private overflowQueued = false;

  /**
   * maxQueuedEvents is /proc/sys/fs/inotify/max_queued_events for this
   * instance (Linux: group->max_events). Tests may lower it.
   */
  maxQueuedEvents = InotifyMaxQueuedEvents;

  /**
   * nextWatchMinusOne is used to allocate watch descriptors on this Inotify
   * instance. Note that Linux starts numbering watch descriptors from 1.
   */
  private nextWatchMinusOne = 0;

  /** Map from watch descriptors to watch objects. */
  readonly watches = new Map<number, Watch>();

  constructor(id: number) {
    super();
    this.id = id;
  }

  /** release implements FileDescriptionImpl.release. It removes all watches and frees all resources for an inotify instance. */
  release(ctx: Context): void {
    const ds: Dentry[] = [];
    for (const w of this.watches.values()) {
      // Remove references to the watch from the watches set on the target.
      // We don't need to worry about the references from i.watches, since
      // this file description is about to be destroyed.
      const d = w.target;
      const ws = d.watches();
      // Watchable dentries should never return a null watch set.
      if (ws === null) throw new Error('Cannot remove watch from an unwatchable dentry');
      ws.remove(this.id);
      if (ws.size() === 0) ds.push(d);
    }
    this.watches.clear();
    for (const d of ds) d.onZeroWatches(ctx);
  }

  /** allocate implements FileDescriptionImpl.allocate. */
  override allocate(): Promise<void> {
    throw new Error('Allocate should not be called on read-only inotify fds');
  }

  /** eventRegister implements waiter.Waitable. */
  override eventRegister(e: Entry, mask: EventMask): void {
    this.queue.eventRegister(e, mask);
  }

  /** eventUnregister implements waiter.Waitable. */
  override eventUnregister(e: Entry): void {
    this.queue.eventUnregister(e);
  }

  /** readiness indicates whether there are pending events for an inotify instance. */
  override readiness(mask: EventMask): EventMask {
    let ready = 0;
    if (this.events.length !== 0) ready |= EventIn;
    return mask & ready;
  }

  /** pread implements FileDescriptionImpl.pread. */
  override pread(): Promise<number> {
    return Promise.reject(syserror.ESPIPE);
  }

  /** pwrite implements FileDescriptionImpl.pwrite. */
  override pwrite(): Promise<number> {
    return Promise.reject(syserror.ESPIPE);
  }

  /** write implements FileDescriptionImpl.write. */
  override write(_ctx: Context, _src: Buffer, _opts: WriteOptions): Promise<number> {
    return Promise.reject(syserror.EBADF);
  }

  /**
   * read implements FileDescriptionImpl.read: it copies as many whole
   * pending events as fit in dst, in the struct inotify_event layout. With
   * no pending event it throws EAGAIN if the description is O_NONBLOCK, and
   * otherwise waits for one (rejecting with EINTR if ctx is interrupted).
   */
  override async read(ctx: Context, dst: Buffer, _opts: ReadOptions): Promise<number> {
    if (dst.length < inotifyEventBaseSize) throw syserror.EINVAL;
    while (this.events.length === 0) {
      // Nothing to read yet, tell caller to block (gVisor returns
      // ErrWouldBlock and the read(2) loop waits).
      if ((this.vfsfd.statusFlags() & O_NONBLOCK) !== 0) throw syserror.ErrWouldBlock;
      await waitFor(ctx, this, EventIn);
    }
    let writeLen = 0;
    while (this.events.length !== 0) {
      const event = this.events[0];
      // Does the buffer have enough remaining space to hold the event we're
      // about to write out?
      if (dst.length - writeLen < event.sizeOf()) {
        // Buffer wasn't big enough for all pending events, but we did write
        // some events out.
        if (writeLen > 0) return writeLen;
        throw syserror.EINVAL;
      }
      // Linux always dequeues an available event as long as there's enough
      // buffer space to copy it out, even if the copy below fails. Emulate
      // this behaviour.
      this.events.shift();
      if (event.isOverflow) this.overflowQueued = false;
      writeLen += event.copyTo(dst, writeLen);
    }
    return writeLen;
  }

  /** ioctl implements FileDescriptionImpl.ioctl: FIONREAD returns the number of bytes pending. */
  override ioctl(_ctx: Context, request: number, _arg: number): Promise<number> {
    if (request === FIONREAD) {
      let n = 0;
      for (const e of this.events) n += e.sizeOf();
      return Promise.resolve(n);
    }
    return Promise.reject(syserror.ENOTTY);
  }

  /** pendingEvents returns the number of queued events (for tests). */
  pendingEvents(): number {
    return this.events.length;
  }

  queueEvent(ev: Event): void {
    // Past the queue limit, queue one overflow event and drop the rest, as
    // Linux's fsnotify_add_event() does (the check precedes merging).
    if (this.events.length >= this.maxQueuedEvents) {
      if (this.overflowQueued) return;
      ev = newEvent(-1, '', IN_Q_OVERFLOW, 0);
      ev.isOverflow = true;
      this.overflowQueued = true;
    } else if (this.events.length !== 0) {
      // Check if we should coalesce the event we're about to queue with the
      // last one currently in the queue. Events are coalesced if they are
      // identical.
      const last = this.events[this.events.length - 1];
      if (ev.equals(last)) {
        // "Coalesce" the two events by simply not queuing the new one. We
        // don't need to raise a waiter.EventIn notification because no new
        // data is available for reading.
        return;
      }
    }
    this.events.push(ev);
    this.queue.notify(EventIn);
  }

  /**
   * newWatchLocked creates and adds a new watch to target.
   *
   * Precondition: ws must be the watch set for target d.
   */
  private newWatchLocked(d: Dentry, ws: Watches, mask: number): Watch {
    const w = new Watch(this, this.nextWatchIDLocked(), d, mask);
    // Hold the watch in this inotify instance as well as the watch set on
    // the target.
    this.watches.set(w.wd, w);
    ws.add(w);
    return w;
  }

  /** nextWatchIDLocked allocates and returns a new watch descriptor. */
  private nextWatchIDLocked(): number {
    this.nextWatchMinusOne++;
    return this.nextWatchMinusOne;
  }

  /**
   * addWatch constructs a new inotify watch and adds it to the target. It
   * returns the watch descriptor returned by inotify_add_watch(2).
   *
   * The caller must hold a reference on target.
   */
  addWatch(target: Dentry, mask: number): number {
    const ws = target.watches();
    if (ws === null) {
      // While Linux supports inotify watches on all filesystem types,
      // watches on filesystems like kernfs are not generally useful, so we
      // do not.
      throw syserror.EPERM;
    }
    // Does the target already have a watch from this inotify instance?
    const existing = ws.lookup(this.id);
    if (existing !== null) {
      // "IN_MASK_CREATE: Watch pathname only if it does not already have a
      // watch associated with it; the error EEXIST results if pathname is
      // already being watched." -- inotify(7)
      if ((mask & IN_MASK_CREATE) !== 0) throw syserror.EEXIST;
      let newmask = mask;
      if ((mask & IN_MASK_ADD) !== 0) {
        // "Add (OR) events to watch mask for this pathname if it already
        // exists (instead of replacing mask)." -- inotify(7)
        newmask |= existing.mask;
      }
      existing.mask = newmask >>> 0;
      return existing.wd;
    }
    // No existing watch, create a new watch.
    return this.newWatchLocked(target, ws, mask >>> 0).wd;
  }

  /**
   * rmWatch looks up an inotify watch for the given wd and configures the
   * target to stop sending events to this inotify instance.
   */
  rmWatch(ctx: Context, wd: number): void {
    // Find the watch we were asked to removed.
    const w = this.watches.get(wd);
    if (w === undefined) throw syserror.EINVAL;
    // Remove the watch from this instance.
    this.watches.delete(wd);
    // Remove the watch from the watch target.
    const ws = w.target.watches();
    // addWatch ensures that w.target has a non-null watch set.
    if (ws === null) throw new Error('Watched dentry cannot have nil watch set');
    ws.remove(w.ownerID());
    const remaining = ws.size();
    if (remaining === 0) w.target.onZeroWatches(ctx);
    // Generate the event for the removal.
    this.queueEvent(newEvent(wd, '', IN_IGNORED, 0));
  }
}

/**
 * newInotifyFD constructs a new Inotify instance and returns its
 * FileDescription (with a reference).
 */
export function newInotifyFD(ctx: Context, vfsObj: VirtualFilesystem, flags: number): FileDescription {
  // O_CLOEXEC affects file descriptors, so it must be handled outside of vfs.
  flags &= ~O_CLOEXEC;
  if ((flags & ~O_NONBLOCK) !== 0) throw syserror.EINVAL;
  const id = ++lastInotifyID;
  const vd = vfsObj.newAnonVirtualDentry(`[inotifyfd:${id}]`);
  try {
    const fd = new Inotify(id);
    fd.vfsfd.init(fd, flags, vd.mount(), vd.dentry(), {
      useDentryMetadata: true,
      denyPRead: true,
      denyPWrite: true,
    });
    return fd.vfsfd;
  } finally {
    vd.decRef(ctx);
  }
}

/**
 * addWatchAt implements the path part of inotify_add_watch(2), as gVisor's
 * syscalls/linux/vfs2/inotify.go does: it checks the mask, resolves pop
 * (following a final symlink unless IN_DONT_FOLLOW), requires read
 * permission, enforces IN_ONLYDIR, and adds the watch to the Inotify of fd.
 */
export async function addWatchAt(
  ctx: Context, vfsObj: VirtualFilesystem, creds: Credentials, fd: FileDescription, pop: PathOperation, mask: number,
): Promise<number> {
  // "EINVAL: The given event mask contains no valid events."
  // -- inotify_add_watch(2)
  if ((mask & ALL_INOTIFY_BITS) === 0) throw syserror.EINVAL;
  // "EINVAL: Both IN_MASK_ADD and IN_MASK_CREATE were specified in mask."
  if ((mask & IN_MASK_ADD) !== 0 && (mask & IN_MASK_CREATE) !== 0) throw syserror.EINVAL;
  if (!(fd.impl instanceof Inotify)) throw syserror.EINVAL;
  const ino = fd.impl;
  // "IN_DONT_FOLLOW: Don't dereference pathname if it is a symbolic link."
  // -- inotify(7)
  const p: PathOperation = { ...pop, followFinalSymlink: (mask & IN_DONT_FOLLOW) === 0 };
  const vd = await vfsObj.getDentryAt(ctx, creds, p, {});
  try {
    // Linux's inotify_find_inode() requires read permission on the file.
    await vfsObj.accessAt(ctx, creds, MayRead, { root: p.root, start: vd, path: emptyPath, followFinalSymlink: false });
    if ((mask & IN_ONLYDIR) !== 0) {
      // "IN_ONLYDIR: Only watch pathname if it is a directory." -- inotify(7)
      const stat = await vfsObj.statAt(ctx, creds, { root: p.root, start: vd, path: emptyPath, followFinalSymlink: false }, { mask: STATX_TYPE });
      if ((stat.mode & S_IFMT) !== S_IFDIR) throw syserror.ENOTDIR;
    }
    return ino.addWatch(vd.dentry(), mask);
  } finally {
    vd.decRef(ctx);
  }
}

import * as fspath from '../../fspath';
const emptyPath = fspath.parse('');

/** Watches is the collection of all inotify watches on a single file. */
export class Watches {
  /**
   * ws is the map of active watches in this collection, keyed by the inotify
   * instance id of the owner. It is null once the target is destroyed.
   */
  private ws: Map<number, Watch> | null = new Map();

  /** size returns the number of watches held by w. */
  size(): number {
    return this.ws === null ? 0 : this.ws.size;
  }

  /**
   * lookup returns the watch owned by an inotify instance with the given id,
   * or null if no such watch exists.
   */
  lookup(id: number): Watch | null {
    return this.ws?.get(id) ?? null;
  }

  /** add adds watch into this set of watches. */
  add(watch: Watch): void {
    const owner = watch.ownerID();
    // Sanity check, we should never have two watches for one owner on the
    // same target.
    if (this.ws === null) this.ws = new Map();
    if (this.ws.has(owner)) throw new Error(`Watch collision with ID ${owner}`);
    this.ws.set(owner, watch);
  }

  /**
   * remove removes a watch with the given id from this set of watches and
   * releases it. The caller is responsible for generating any watch removal
   * event, as appropriate. It is possible for remove() to be called for the
   * same watch multiple times (one-shot watches), and after the set has
   * been destroyed.
   */
  remove(id: number): void {
    if (this.ws === null) return;
    this.ws.delete(id);
  }

  /**
   * notify queues a new event with watches in this set. Watches with
   * IN_EXCL_UNLINK are skipped if the event is coming from a child that has
   * been unlinked.
   */
  notify(ctx: Context, name: string, events: number, cookie: number, et: EventType, unlinked: boolean): void {
    if (this.ws === null) return;
    let hasExpired = false;
    for (const watch of this.ws.values()) {
      if (unlinked && watch.excludeUnlinked() && et === PathEvent) continue;
      if (watch.notify(name, events, cookie)) hasExpired = true;
    }
    if (hasExpired) this.cleanupExpiredWatches(ctx);
  }

  // This function is relatively expensive and should only be called where
  // there are expired watches.
  private cleanupExpiredWatches(ctx: Context): void {
    if (this.ws === null) return;
    const toRemove: Watch[] = [];
    for (const watch of this.ws.values()) {
      if (watch.expired) toRemove.push(watch);
    }
    for (const watch of toRemove) {
      try {
        watch.owner.rmWatch(ctx, watch.wd);
      } catch {
        // Already removed by its owner.
      }
    }
  }

  /**
   * handleDeletion is called when the watch target is destroyed. Clear the
   * watch set, detach watches from the inotify instances they belong to,
   * and generate the appropriate events.
   */
  handleDeletion(ctx: Context): void {
    this.notify(ctx, '', IN_DELETE_SELF, 0, InodeEvent, true /* unlinked */);
    const ws = this.ws;
    this.ws = null;
    if (ws === null) return;
    // Remove each watch from its owner's watch set, and generate a
    // corresponding watch removal event.
    for (const watch of ws.values()) {
      const i = watch.owner;
      const found = i.watches.delete(watch.wd);
      // If watch was not found, it was removed from the inotify instance
      // before we could get to it, in which case we should not generate an
      // event.
      if (found) i.queueEvent(newEvent(watch.wd, '', IN_IGNORED, 0));
    }
  }
}

/** Watch represent a particular inotify watch created by inotify_add_watch. */
export class Watch {
  /**
   * expired is set to indicate that this watch is a one-shot that has
   * already sent a notification and therefore can be removed.
   */
  expired = false;

  constructor(
    /** Inotify instance which owns this watch. Immutable. */
    readonly owner: Inotify,
    /** Descriptor for this watch. This is unique across an inotify instance. Immutable. */
    readonly wd: number,
    /** target is a dentry representing the watch target. Its watch set contains this watch. Immutable. */
    readonly target: Dentry,
    /** Events being monitored via this watch. */
    public mask: number,
  ) {}

  /** ownerID returns the id of the inotify instance that owns this watch. */
  ownerID(): number {
    return this.owner.id;
  }

  /**
   * excludeUnlinked indicates whether the watched object should continue to
   * be notified of events originating from a path that has been unlinked.
   *
   * For example, if "foo/bar" is opened and then unlinked, operations on the
   * open fd may be ignored by watches on "foo" and "foo/bar" with
   * IN_EXCL_UNLINK.
   */
  excludeUnlinked(): boolean {
    return (this.mask & IN_EXCL_UNLINK) !== 0;
  }

  /**
   * notify queues a new event on this watch. Returns true if this is a
   * one-shot watch that should be deleted, after this event was
   * successfully queued.
   */
  notify(name: string, events: number, cookie: number): boolean {
    if (this.expired) {
      // This is a one-shot watch that is already in the process of being
      // removed. This may happen if a second event reaches the watch target
      // before this watch has been removed.
      return false;
    }
    const mask = this.mask;
    if ((mask & events) === 0) {
      // We weren't watching for this event.
      return false;
    }
    // Event mask should include bits matched from the watch plus all control
    // event bits.
    const unmaskableBits = ~IN_ALL_EVENTS >>> 0;
    const effectiveMask = (unmaskableBits | mask) >>> 0;
    const matchedEvents = (effectiveMask & events) >>> 0;
    this.owner.queueEvent(newEvent(this.wd, name, matchedEvents, cookie));
    if ((mask & IN_ONESHOT) !== 0) {
      this.expired = true;
      return true;
    }
    return false;
  }
}

/** Event represents a struct inotify_event from linux. */
export class Event {
  /**
   * len is computed based on the name field and is set automatically by
   * setName. It should be 0 when no name is set; otherwise it is the length
   * of the (padded) name buffer.
   */
  len = 0;

  /** The name field has special padding requirements and should only be set by calling setName. */
  name: Buffer = emptyName;

  /** isOverflow marks the IN_Q_OVERFLOW event (Linux: group->overflow_event). */
  isOverflow = false;

  constructor(readonly wd: number, readonly mask: number, readonly cookie: number) {}

  /** setName sets the optional name for this event. */
  setName(name: string): void {
    // We need to pad the name such that the entire event length ends up a
    // multiple of inotifyEventBaseSize.
    const raw = Buffer.from(name, 'utf8');
    const unpaddedLen = raw.length + 1;
    // Round up to nearest multiple of inotifyEventBaseSize.
    this.len = (unpaddedLen + inotifyEventBaseSize - 1) & ~(inotifyEventBaseSize - 1);
    this.name = paddedBytes(raw, this.len);
  }

  sizeOf(): number {
    return inotifyEventBaseSize + this.len;
  }

  /** copyTo serializes this event into dst at off and returns the number of bytes written. */
  copyTo(dst: Buffer, off: number): number {
    dst.writeInt32LE(this.wd | 0, off);
    dst.writeUInt32LE(this.mask >>> 0, off + 4);
    dst.writeUInt32LE(this.cookie >>> 0, off + 8);
    dst.writeUInt32LE(this.len >>> 0, off + 12);
    let writeLen = inotifyEventBaseSize;
    if (this.len > 0) writeLen += this.name.copy(dst, off + inotifyEventBaseSize);
    // Sanity check.
    if (writeLen !== this.sizeOf()) {
      throw new Error(`Serialized unexpected amount of data for an event, expected ${this.sizeOf()}, wrote ${writeLen}.`);
    }
    return writeLen;
  }

  equals(other: Event): boolean {
    return this.wd === other.wd && this.mask === other.mask && this.cookie === other.cookie &&
      this.len === other.len && this.name.equals(other.name);
  }
}

const emptyName = Buffer.alloc(0);

function newEvent(wd: number, name: string, events: number, cookie: number): Event {
  const e = new Event(wd, events >>> 0, cookie >>> 0);
  if (name !== '') e.setName(name);
  return e;
}

/**
 * paddedBytes converts a name to a null-terminated c-string, padded with
 * null bytes to a total size of l. l must be large enough for all the bytes
 * of the name plus at least one null byte.
 */
function paddedBytes(s: Buffer, l: number): Buffer {
  if (l < s.length + 1) {
    throw new Error('Converting string to byte array results in truncation, this can lead to buffer-overflow due to the missing null-byte!');
  }
  const b = Buffer.alloc(l);
  s.copy(b);
  return b;
}

/**
 * inotifyEventFromStatMask generates the appropriate events for an operation
 * that set the stats specified in mask.
 */
export function inotifyEventFromStatMask(mask: number): number {
  let ev = 0;
  if ((mask & (STATX_UID | STATX_GID | STATX_MODE)) !== 0) ev |= IN_ATTRIB;
  if ((mask & STATX_SIZE) !== 0) ev |= IN_MODIFY;
  if ((mask & (STATX_ATIME | STATX_MTIME)) === (STATX_ATIME | STATX_MTIME)) {
    // Both times indicates a utime(s) call.
    ev |= IN_ATTRIB;
  } else if ((mask & STATX_ATIME) !== 0) {
    ev |= IN_ACCESS;
  } else if ((mask & STATX_MTIME) !== 0) {
    ev |= IN_MODIFY;
  }
  return ev;
}

/**
 * inotifyRemoveChild sends the appriopriate notifications to the watch sets
 * of the child being removed and its parent. Note that unlike most pairs of
 * parent/child notifications, the child is notified first in this case.
 */
export function inotifyRemoveChild(ctx: Context, self: Watches | null, parent: Watches | null, name: string): void {
  if (self !== null) self.notify(ctx, '', IN_ATTRIB, 0, InodeEvent, true /* unlinked */);
  if (parent !== null) parent.notify(ctx, name, IN_DELETE, 0, InodeEvent, true /* unlinked */);
}

/**
 * inotifyRename sends the appriopriate notifications to the watch sets of
 * the file being renamed and its old/new parents.
 *
 * Differs from gVisor: replaced, when given, is the watch set of the file
 * that the rename replaced, which gets IN_ATTRIB (with IN_ISDIR for a
 * directory) between IN_MOVED_TO and IN_MOVE_SELF, as Linux's
 * fsnotify_move() sends it through fsnotify_link_count(target). Its
 * IN_DELETE_SELF, if any, is the caller's to send after this returns.
 */
export function inotifyRename(
  ctx: Context, renamed: Watches | null, oldParent: Watches | null, newParent: Watches | null,
  oldName: string, newName: string, isDir: boolean, replaced: Watches | null = null, replacedIsDir = false,
): void {
  const dirEv = isDir ? IN_ISDIR : 0;
  const cookie = inotifyCookie(ctx);
  if (oldParent !== null) oldParent.notify(ctx, oldName, dirEv | IN_MOVED_FROM, cookie, InodeEvent, false /* unlinked */);
  if (newParent !== null) newParent.notify(ctx, newName, dirEv | IN_MOVED_TO, cookie, InodeEvent, false /* unlinked */);
  if (replaced !== null) replaced.notify(ctx, '', IN_ATTRIB | (replacedIsDir ? IN_ISDIR : 0), 0, InodeEvent, true /* unlinked */);
  // Somewhat surprisingly, self move events do not have a cookie.
  if (renamed !== null) renamed.notify(ctx, '', IN_MOVE_SELF, 0, InodeEvent, false /* unlinked */);
}
