// Port of gVisor pkg/p9/handlers.go (commit dbe41765): the server's handler
// of every request message, in gVisor's order, plus Tmultigetattr (gVisor
// 276ff149a, with the locked walk of 65a26689c) and the standard 9P2000.L
// Tlock/Tgetlock, which gVisor does not serve.
//
// Differs from gVisor:
//   - Go gives each message type a handle(cs) method; here handlers are
//     functions registered by message class in a table (handlerFor), since
//     the message classes live in messages.ts. Each is async: its File calls
//     are awaited under the same locks (safelyRead/Write/Global).
//   - Errors are thrown LinuxErrors; the connection turns any throw into
//     Rlerror (server.ts newErr), so `return newErr(x)` and `throw x` agree.
//   - Tversion answers the highest version both sides support (gVisor
//     answers EAGAIN to a newer client), clamps msize to the server's
//     maximum (gVisor: EINVAL) and answers "unknown" to a version string it
//     cannot parse, as version(5) says (gVisor: EINVAL).
//   - checkSafeName also refuses NUL (a Go string may hold one, and so may a
//     9P name, but no host path can).
//   - Tread/Treaddir: a count above the negotiated msize is ENOBUFS (gVisor
//     checks against maximumLength), and the count is clamped so that the
//     reply fits msize.
//   - Tattach with a path answers the QID of the file attached to (gVisor
//     answers the root's).
//   - Tauth answers ENOENT (gVisor: ENOSYS), for diod's clients: see there.
//   - Tlconnect and Tchannel cannot pass host fds in Node: see there.
//     Rlopen/Rlcreate/Rucreate do carry the host fd a File donates
//     (fdpass.ts donatingFile, gVisor's FilePayload), but on the
//     connection's fd channel, bound by Tfdchannel (not in gVisor).
//   - Txattrwalk and Txattrcreate serve the standard 9P2000.L xattr fids
//     (gVisor: ENODATA and ENOSYS), as Linux's v9fs, diod and QEMU use
//     them: see there, and Tread, Twrite and Tclunk.

import { XATTR_CREATE, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX } from '../abi/linux/file';
import * as syserror from '../syserror/syserror';
import { Rfdchannel, Tfdchannel, isDonatingFile } from './fdpass';
import { walkGetAttrOne } from './file';
import type { File } from './file';
import {
  Message,
  MessageClass,
  Rallocate,
  Rattach,
  Rclunk,
  Rflush,
  Rflushf,
  Rfsync,
  Rgetattr,
  Rgetlock,
  Rgetxattr,
  Rlcreate,
  Rlerror,
  Rlink,
  Rlistxattr,
  Rlock,
  Rlopen,
  Rmkdir,
  Rmknod,
  Rmultigetattr,
  Rread,
  rreadFrameHeader,
  Rreaddir,
  Rreadlink,
  Rremove,
  Rremovexattr,
  Rrename,
  Rrenameat,
  Rsetattr,
  Rsetattrclunk,
  Rsetxattr,
  Rstatfs,
  Rsymlink,
  Rucreate,
  Rumkdir,
  Rumknod,
  Runlinkat,
  Rusymlink,
  Rversion,
  Rwalk,
  Rwalkgetattr,
  Rwrite,
  Rxattrcreate,
  Rxattrwalk,
  Tallocate,
  Tattach,
  Tauth,
  Tchannel,
  Tclunk,
  Tflush,
  Tflushf,
  Tfsync,
  Tgetattr,
  Tgetlock,
  Tgetxattr,
  Tlcreate,
  Tlconnect,
  Tlink,
  Tlistxattr,
  Tlock,
  Tlopen,
  Tmkdir,
  Tmknod,
  Tmultigetattr,
  Tread,
  Treaddir,
  Treadlink,
  Tremove,
  Tremovexattr,
  Trename,
  Trenameat,
  Tsetattr,
  Tsetattrclunk,
  Tsetxattr,
  Tstatfs,
  Tsymlink,
  Tucreate,
  Tumkdir,
  Tumknod,
  Tunlinkat,
  Tusymlink,
  Tversion,
  Twalk,
  Twalkgetattr,
  Twrite,
  Txattrcreate,
  Txattrwalk,
  calculateSize,
} from './messages';
import {
  Attr,
  AttrMask,
  AttrMaskAll,
  FileMode,
  FullStat,
  MsgType,
  ModeRegular,
  NoFID,
  NoUID,
  OpenFlagsModeMask,
  OpenTruncate,
  QID,
  ReadOnly,
  Tag,
  UID,
  WriteOnly,
  fileModeFileType,
  fileModeIsBlockDevice,
  fileModeIsCharacterDevice,
  fileModeIsDir,
  fileModeIsNamedPipe,
  fileModeIsRegular,
  fileModeIsSocket,
  fileModeIsSymlink,
} from './p9';
import { connState, fidRef, newErr, xattrCreate, xattrFID, xattrWalk } from './server';
import { headerLength } from './transport';
import { highestSupportedVersion, parseVersion, versionString } from './version';

/**
 * minimumMessageSize is the smallest msize Tversion accepts: every reply
 * whose size does not depend on the request fits in it (gVisor has no
 * minimum; a tiny msize would make even Rlerror unsendable).
 */
export const minimumMessageSize = 256;

/**
 * handler is implemented for server-handled messages.
 *
 * It may modify the server state. It resolves with the message which will be
 * sent back to the client; it may throw a LinuxError (or resolve with newErr)
 * instead. tag is the request's own tag (Tflush needs it).
 */
export type handler = (cs: connState, m: Message, tag: Tag) => Promise<Message>;

const handlers = new Array<handler | undefined>(256).fill(undefined);

// register installs fn as the handler of messages of class cls. The
// instanceof check narrows the message without a cast.
function register<M extends Message>(cls: MessageClass<M> & (abstract new (...args: never[]) => M), fn: (cs: connState, m: M, tag: Tag) => Promise<Message>): void {
  handlers[cls.type] = (cs, m, tag) => {
    if (!(m instanceof cls)) return Promise.resolve(new Rlerror(syserror.EINVAL.errno));
    return fn(cs, m, tag);
  };
}

/** handlerFor returns the handler of a message type, if the server serves it. */
export function handlerFor(t: MsgType): handler | undefined {
  return handlers[t];
}

// lookupAny is cs.lookupFID throwing EBADF for an unknown fid.
function lookupAny(cs: connState, fid: number): fidRef {
  const ref = cs.lookupFID(fid);
  if (ref === undefined) throw syserror.EBADF;
  return ref;
}

// lookup is lookupAny for the handlers that do not serve xattr fids (all
// but Tread, Twrite and Tclunk): an xattr fid is EINVAL, as diod and QEMU
// answer operations on it (not in gVisor, which makes no xattr fids).
function lookup(cs: connState, fid: number): fidRef {
  const ref = lookupAny(cs, fid);
  if (ref.xattr !== undefined) {
    ref.decRef();
    throw syserror.EINVAL;
  }
  return ref;
}

// replySize returns the frame size of r.
function replySize(r: Message): number {
  return headerLength + calculateSize(r);
}

/** handle implements handler for Tversion. */
async function handleTversion(cs: connState, t: Tversion): Promise<Message> {
  if (t.mSize === 0) return newErr(syserror.EINVAL);
  if (t.mSize < minimumMessageSize) return newErr(syserror.EINVAL);
  // msize = min(client, server).
  const msize = Math.max(Math.min(t.mSize, cs.server.maxMessageSize), minimumMessageSize);
  const [requested, ok] = parseVersion(t.version);
  if (!ok) {
    // version(5): "If the server does not understand the client's version
    // string, it should respond with an Rversion message (not Rerror) with
    // the version string the 7 characters 'unknown'."
    return new Rversion(msize, 'unknown');
  }
  // The server cannot support newer versions that it doesn't know about: it
  // answers the highest version both support. From Tversion(9P): "The server
  // may respond with the client's version string, or a version string
  // identifying an earlier defined protocol version". A client offering
  // plain "9P2000.L" (diod's) gets exactly that back.
  const version = Math.min(requested, highestSupportedVersion);
  cs.setMessageSize(msize);
  cs.version = version;
  return new Rversion(msize, versionString(version));
}

/**
 * handle implements handler for Tflush: it answers once the flushed
 * request's reply has been sent (or at once if the tag is not active).
 */
async function handleTflush(cs: connState, t: Tflush, tag: Tag): Promise<Message> {
  await cs.waitTag(t.oldTag, tag);
  return new Rflush();
}

/**
 * checkSafeName validates the name and throws EINVAL unless it is a single
 * path component: not "", ".", "..", and without "/" or NUL.
 */
export function checkSafeName(name: string): void {
  if (name !== '' && !name.includes('/') && name !== '.' && name !== '..' && !name.includes('\0')) {
    return;
  }
  throw syserror.EINVAL;
}

/**
 * handle implements handler for Tclunk.
 *
 * Clunking a Txattrcreate fid sets the attribute it collected, and the
 * reply carries that result (9P2000.L; Linux's v9fs reports it as
 * setxattr's). The fid is gone either way.
 */
async function handleTclunk(cs: connState, t: Tclunk): Promise<Message> {
  const ref = cs.lookupFID(t.fid);
  if (ref === undefined) return newErr(syserror.EBADF);
  try {
    // Remove it from the table first, so that no request finds it while
    // the attribute is being set.
    if (!cs.deleteFID(t.fid)) return newErr(syserror.EBADF);
    const x = ref.xattr;
    if (x !== undefined && x.kind === xattrCreate) await commitXattr(ref, x);
  } finally {
    ref.decRef();
  }
  return new Rclunk();
}

/** handle implements handler for Tsetattrclunk. */
async function handleTsetattrclunk(cs: connState, t: Tsetattrclunk): Promise<Message> {
  const ref = lookup(cs, t.fid);
  let setAttrErr: unknown;
  try {
    await ref.safelyWrite(async () => {
      // We don't allow setattr on files that have been deleted. This might
      // be technically incorrect, as it's possible that there were multiple
      // links and you can still change the corresponding inode information.
      if (ref.isDeleted()) throw syserror.EINVAL;
      // Set the attributes.
      await ref.file.setAttr(t.valid, t.setAttr);
    });
  } catch (e) {
    setAttrErr = e;
  } finally {
    ref.decRef();
  }
  // Try to delete FID even in case of failure above. Since the state of the
  // file is unknown to the caller, it will not attempt to close the file
  // again.
  if (!cs.deleteFID(t.fid)) return newErr(syserror.EBADF);
  if (setAttrErr !== undefined) return newErr(setAttrErr);
  return new Rsetattrclunk();
}

/** handle implements handler for Tremove. */
async function handleTremove(cs: connState, t: Tremove): Promise<Message> {
  const ref = lookup(cs, t.fid);
  let err: unknown;
  try {
    // Frustratingly, because we can't be guaranteed that a rename is not
    // occurring simultaneously with this removal, we need to acquire the
    // global rename lock for this kind of remove operation to ensure that
    // ref.parent does not change out from underneath us.
    //
    // This is why Tremove is a bad idea, and clients should generally use
    // Tunlinkat. All p9 clients will use Tunlinkat.
    await ref.safelyGlobal(async () => {
      // Is this a root? Can't remove that.
      if (ref.isRoot()) throw syserror.EINVAL;
      // N.B. this remove operation is permitted, even if the file is open.
      // See also rename below for reasoning.

      // Is this file already deleted?
      if (ref.isDeleted()) throw syserror.EINVAL;

      // Retrieve the file's proper name.
      const parent = ref.parent!;
      const name = parent.pathNode.nameFor(ref);

      // Attempt the removal.
      await parent.file.unlinkAt(name, 0);

      // Mark all relevant fids as deleted. We don't need to lock any
      // individual nodes because we already hold the global lock.
      parent.markChildDeleted(name);
    });
  } catch (e) {
    err = e;
  } finally {
    ref.decRef();
  }

  // "The remove request asks the file server both to remove the file
  // represented by fid and to clunk the fid, even if the remove fails."
  //
  // "It is correct to consider remove to be a clunk with the side effect of
  // removing the file if permissions allow."
  // https://swtch.com/plan9port/man/man9/remove.html
  if (!cs.deleteFID(t.fid)) return newErr(syserror.EBADF);
  if (err !== undefined) return newErr(err);
  return new Rremove();
}

/**
 * handle implements handler for Tauth.
 *
 * We don't support authentication. gVisor answers ENOSYS; here it is
 * ENOENT, which diod's clients (libnpclient npc_auth) read as "auth not
 * required" and go on to Tattach, while ENOSYS makes them give up. gVisor's
 * client never sends Tauth.
 */
async function handleTauth(_cs: connState, _t: Tauth): Promise<Message> {
  return newErr(syserror.ENOENT);
}

/** handle implements handler for Tattach. */
async function handleTattach(cs: connState, t: Tattach): Promise<Message> {
  // Ensure no authentication FID is provided.
  if (t.auth.authenticationFID !== NoFID) return newErr(syserror.EINVAL);

  // Must provide an absolute path. Trim off the leading / if the path is
  // absolute. We always treat attach paths as absolute and call attach with
  // the root argument on the server file for clarity.
  let attachName = t.auth.attachName;
  if (attachName.startsWith('/')) attachName = attachName.slice(1);

  // Do the attach on the root.
  const sf = await cs.server.attacher.attach();
  let qid: QID;
  let valid: AttrMask;
  let attr: Attr;
  try {
    [qid, valid, attr] = await sf.getAttr(AttrMaskAll());
  } catch (e) {
    await sf.close().catch(() => undefined); // Drop file.
    throw e;
  }
  if (!valid.mode) {
    await sf.close().catch(() => undefined); // Drop file.
    return newErr(syserror.EINVAL);
  }

  // Build a transient reference.
  const root = new fidRef({
    server: cs.server,
    file: sf,
    refs: 1,
    mode: fileModeFileType(attr.mode),
    pathNode: cs.server.pathTree,
  });
  try {
    // Attach the root?
    if (attachName.length === 0) {
      cs.insertFID(t.fid, root);
      return new Rattach(qid);
    }

    // We want the same traversal checks to apply on attach, so always attach
    // at the root and use the regular walk paths.
    const names = attachName.split('/');
    const [qids, newRef] = await doWalk(cs, root, names, false);
    try {
      // Insert the FID.
      cs.insertFID(t.fid, newRef);
    } finally {
      newRef.decRef();
    }
    return new Rattach(qids[qids.length - 1]);
  } finally {
    root.decRef();
  }
}

/**
 * CanOpen returns whether this file open can be opened, read and written to.
 *
 * This includes everything except symlinks and sockets.
 */
export function CanOpen(mode: FileMode): boolean {
  return (
    fileModeIsRegular(mode) ||
    fileModeIsDir(mode) ||
    fileModeIsNamedPipe(mode) ||
    fileModeIsBlockDevice(mode) ||
    fileModeIsCharacterDevice(mode)
  );
}

// opening marks fidRefs with a Tlopen in flight. gVisor sets opened after
// File.Open returns; here another Tlopen of the same fid can run while
// File.open is awaited, and open must be called only once.
const opening = new WeakSet<fidRef>();

/** handle implements handler for Tlopen. */
async function handleTlopen(cs: connState, t: Tlopen): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    const [qid, ioUnit] = await ref.safelyRead(async () => {
      // Has it been deleted already?
      if (ref.isDeleted()) throw syserror.EINVAL;

      // Has it been opened already?
      if (ref.opened || opening.has(ref) || !CanOpen(ref.mode)) throw syserror.EINVAL;

      if (fileModeIsDir(ref.mode)) {
        // Directory must be opened ReadOnly.
        if ((t.flags & OpenFlagsModeMask) !== ReadOnly) throw syserror.EISDIR;
        // Directory not truncatable.
        if ((t.flags & OpenTruncate) !== 0) throw syserror.EISDIR;
      }

      opening.add(ref);
      try {
        const r = await ref.file.open(t.flags);
        // Mark file as opened and set open mode.
        ref.opened = true;
        ref.openFlags = t.flags;
        return r;
      } finally {
        opening.delete(ref);
      }
    });
    const r = new Rlopen(qid, ioUnit);
    donateFrom(cs, r, ref.file);
    return r;
  } finally {
    ref.decRef();
  }
}

// donateFrom attaches the host fd file donates, if any, to the open reply
// r: gVisor's Rlopen/Rlcreate FilePayload, sent on the fd channel (see
// connState.donate). Only when an fd channel is bound: nothing is dup'ed
// for a client that cannot receive it. A failure to donate is not the
// open's: the client then uses Tread/Twrite.
function donateFrom(cs: connState, r: Message, file: File): void {
  if (!cs.hasFDChannel() || !isDonatingFile(file)) return;
  let fd = -1;
  try {
    fd = file.donateFD();
  } catch {
    fd = -1;
  }
  if (fd >= 0) cs.donate(r, fd);
}

/**
 * handle implements handler for Tfdchannel (not in gVisor): it binds the
 * side connection whose hello carried t.token as this connection's fd
 * channel (fdpass.ts). ENOSYS when the server does not donate fds, ENOENT
 * when no such side connection arrives.
 */
async function handleTfdchannel(cs: connState, t: Tfdchannel): Promise<Message> {
  if (cs.server.options.donateFDs === false) throw syserror.ENOSYS;
  if (cs.hasFDChannel() || !/^[0-9a-f]{32}$/.test(t.token)) throw syserror.EINVAL;
  const conn = await cs.server.claimFDChannel(t.token);
  if (conn === null) throw syserror.ENOENT;
  cs.bindFDChannel(conn);
  return new Rfdchannel();
}

// doTlcreate is gVisor's Tlcreate.do, shared with Tucreate.
async function doTlcreate(cs: connState, t: Tlcreate, uid: UID): Promise<[Rlcreate, File]> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.fid);
  try {
    let newRef: fidRef | undefined;
    const [qid, ioUnit] = await ref.safelyWrite(async (): Promise<[QID, number]> => {
      // Don't allow creation from non-directories or deleted directories.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Not allowed on open directories.
      if (ref.opened) throw syserror.EINVAL;

      // Do the create.
      const [nsf, q, iou] = await ref.file.create(t.name, t.openFlags, t.permissions, uid, t.gid);

      newRef = new fidRef({
        server: cs.server,
        parent: ref,
        file: nsf,
        opened: true,
        openFlags: t.openFlags,
        mode: ModeRegular,
        pathNode: ref.pathNode.pathNodeFor(t.name),
      });
      ref.pathNode.addChild(newRef, t.name);
      ref.incRef(); // Acquire parent reference.
      return [q, iou];
    });

    // Replace the FID reference.
    cs.insertFID(t.fid, newRef!);
    return [new Rlcreate(qid, ioUnit), newRef!.file];
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tlcreate. */
async function handleTlcreate(cs: connState, t: Tlcreate): Promise<Message> {
  const [r, file] = await doTlcreate(cs, t, NoUID);
  donateFrom(cs, r, file);
  return r;
}

/** handle implements handler for Tsymlink. */
function handleTsymlink(cs: connState, t: Tsymlink): Promise<Message> {
  return doTsymlink(cs, t, NoUID);
}

// doTsymlink is gVisor's Tsymlink.do, shared with Tusymlink.
async function doTsymlink(cs: connState, t: Tsymlink, uid: UID): Promise<Rsymlink> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.directory);
  try {
    const qid = await ref.safelyWrite(async () => {
      // Don't allow symlinks from non-directories or deleted directories.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Not allowed on open directories.
      if (ref.opened) throw syserror.EINVAL;

      // Do the symlink.
      return ref.file.symlink(t.target, t.name, uid, t.gid);
    });
    return new Rsymlink(qid);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tlink. */
async function handleTlink(cs: connState, t: Tlink): Promise<Message> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.directory);
  try {
    const refTarget = lookup(cs, t.target);
    try {
      await ref.safelyWrite(async () => {
        // Don't allow create links from non-directories or deleted
        // directories.
        if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

        // Not allowed on open directories.
        if (ref.opened) throw syserror.EINVAL;

        // Do the link.
        await ref.file.link(refTarget.file, t.name);
      });
      return new Rlink();
    } finally {
      refTarget.decRef();
    }
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Trenameat. */
async function handleTrenameat(cs: connState, t: Trenameat): Promise<Message> {
  checkSafeName(t.oldName);
  checkSafeName(t.newName);

  const ref = lookup(cs, t.oldDirectory);
  try {
    const refTarget = lookup(cs, t.newDirectory);
    try {
      // Perform the rename holding the global lock.
      await ref.safelyGlobal(async () => {
        // Don't allow renaming across deleted directories.
        if (ref.isDeleted() || !fileModeIsDir(ref.mode) || refTarget.isDeleted() || !fileModeIsDir(refTarget.mode)) {
          throw syserror.EINVAL;
        }

        // Not allowed on open directories.
        if (ref.opened) throw syserror.EINVAL;

        // Is this the same file? If yes, short-circuit and return success.
        if (ref.pathNode === refTarget.pathNode && t.oldName === t.newName) return;

        // Attempt the actual rename.
        await ref.file.renameAt(t.oldName, refTarget.file, t.newName);

        // Update the path tree.
        ref.renameChildTo(t.oldName, refTarget, t.newName);
      });
      return new Rrenameat();
    } finally {
      refTarget.decRef();
    }
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tunlinkat. */
async function handleTunlinkat(cs: connState, t: Tunlinkat): Promise<Message> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.directory);
  try {
    await ref.safelyWrite(async () => {
      // Don't allow deletion from non-directories or deleted directories.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Not allowed on open directories.
      if (ref.opened) throw syserror.EINVAL;

      // Before we do the unlink itself, we need to ensure that there are no
      // operations in flight on associated path node. The child's path node
      // lock must be held to ensure that the unlinkat marking the child
      // deleted below is atomic with respect to any other read or write
      // operations.
      //
      // This is one case where we have a lock ordering issue, but since we
      // always acquire deeper in the hierarchy, we know that we are free of
      // lock cycles.
      const childPathNode = ref.pathNode.pathNodeFor(t.name);
      if (!childPathNode.opMu.tryLock()) await childPathNode.opMu.lock();
      try {
        // Do the unlink.
        await ref.file.unlinkAt(t.name, t.flags);

        // Mark the path as deleted.
        ref.markChildDeleted(t.name);
      } finally {
        childPathNode.opMu.unlock();
      }
    });
    return new Runlinkat();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Trename. */
async function handleTrename(cs: connState, t: Trename): Promise<Message> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.fid);
  try {
    const refTarget = lookup(cs, t.directory);
    try {
      await ref.safelyGlobal(async () => {
        // Don't allow a root rename.
        if (ref.isRoot()) throw syserror.EINVAL;

        // Don't allow renaming deleting entries, or target non-directories.
        if (ref.isDeleted() || refTarget.isDeleted() || !fileModeIsDir(refTarget.mode)) throw syserror.EINVAL;

        const parent = ref.parent!;
        // If the parent is deleted, but we not, something is seriously
        // wrong. gVisor panics; here the request fails with EIO (logged).
        if (parent.isDeleted()) throw new Error('p9: Trename: parent deleted, child is not');

        // N.B. The rename operation is allowed to proceed on open files. It
        // does impact the state of its parent, but this is merely a sanity
        // check in any case, and the operation is safe. There may be other
        // files corresponding to the same path that are renamed anyways.

        // Check for the exact same file and short-circuit.
        const oldName = parent.pathNode.nameFor(ref);
        if (parent.pathNode === refTarget.pathNode && oldName === t.name) return;

        // Call the rename method on the parent.
        await parent.file.renameAt(oldName, refTarget.file, t.name);

        // Update the path tree.
        parent.renameChildTo(oldName, refTarget, t.name);
      });
      return new Rrename();
    } finally {
      refTarget.decRef();
    }
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Treadlink. */
async function handleTreadlink(cs: connState, t: Treadlink): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    const target = await ref.safelyRead(async () => {
      // Don't allow readlink on deleted files. There is no need to check if
      // this file is opened because symlinks cannot be opened.
      if (ref.isDeleted() || !fileModeIsSymlink(ref.mode)) throw syserror.EINVAL;

      // Do the read.
      return ref.file.readlink();
    });
    return new Rreadlink(target);
  } finally {
    ref.decRef();
  }
}

// rreadHeader is the size of Rread's frame without data: size[4] type[1]
// tag[2] count[4].
const rreadHeader = rreadFrameHeader;

/** handle implements handler for Tread. */
async function handleTread(cs: connState, t: Tread): Promise<Message> {
  const ref = lookupAny(cs, t.fid);
  try {
    // Constrain the size of the read buffer.
    const msize = cs.msize();
    if (t.count > msize) return newErr(syserror.ENOBUFS);
    const count = Math.min(t.count, msize - rreadHeader);

    // An xattr fid reads the value it holds (not in gVisor).
    if (ref.xattr !== undefined) return new Rread(xattrReadAt(ref.xattr, t.offset, count));

    // Read straight into the reply's frame (Rread.inFrame): one allocation
    // and no copy of the data on its way to the socket.
    const frame = Buffer.allocUnsafe(rreadHeader + count);
    const data = frame.subarray(rreadHeader);
    const n = await ref.safelyRead(async () => {
      // Has it been opened already?
      if (!ref.opened) throw syserror.EINVAL;

      // Can it be read? Check permissions.
      if ((ref.openFlags & OpenFlagsModeMask) === WriteOnly) throw syserror.EPERM;

      return ref.file.readAt(data, t.offset);
    });
    if (!Number.isInteger(n) || n < 0 || n > count) throw new Error(`p9: File.readAt returned ${n} for ${count} bytes`);
    return Rread.inFrame(frame, n);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Twrite. */
async function handleTwrite(cs: connState, t: Twrite): Promise<Message> {
  const ref = lookupAny(cs, t.fid);
  try {
    // A Txattrcreate fid collects the value (not in gVisor).
    if (ref.xattr !== undefined) return new Rwrite(xattrWriteAt(ref.xattr, t.data, t.offset));

    const n = await ref.safelyRead(async () => {
      // Has it been opened already?
      if (!ref.opened) throw syserror.EINVAL;

      // Can it be written? Check permissions.
      if ((ref.openFlags & OpenFlagsModeMask) === ReadOnly) throw syserror.EPERM;

      return ref.file.writeAt(t.data, t.offset);
    });
    return new Rwrite(n);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tmknod. */
function handleTmknod(cs: connState, t: Tmknod): Promise<Message> {
  return doTmknod(cs, t, NoUID);
}

// doTmknod is gVisor's Tmknod.do, shared with Tumknod.
async function doTmknod(cs: connState, t: Tmknod, uid: UID): Promise<Rmknod> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.directory);
  try {
    const qid = await ref.safelyWrite(async () => {
      // Don't allow mknod on deleted files.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Not allowed on open directories.
      if (ref.opened) throw syserror.EINVAL;

      // Do the mknod.
      return ref.file.mknod(t.name, t.mode, t.major, t.minor, uid, t.gid);
    });
    return new Rmknod(qid);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tmkdir. */
function handleTmkdir(cs: connState, t: Tmkdir): Promise<Message> {
  return doTmkdir(cs, t, NoUID);
}

// doTmkdir is gVisor's Tmkdir.do, shared with Tumkdir.
async function doTmkdir(cs: connState, t: Tmkdir, uid: UID): Promise<Rmkdir> {
  checkSafeName(t.name);

  const ref = lookup(cs, t.directory);
  try {
    const qid = await ref.safelyWrite(async () => {
      // Don't allow mkdir on deleted files.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Not allowed on open directories.
      if (ref.opened) throw syserror.EINVAL;

      // Do the mkdir.
      return ref.file.mkdir(t.name, t.permissions, uid, t.gid);
    });
    return new Rmkdir(qid);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tgetattr. */
async function handleTgetattr(cs: connState, t: Tgetattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    // We allow getattr on deleted files. Depending on the backing
    // implementation, it's possible that races exist that might allow
    // fetching attributes of other files. But we need to generally allow
    // refreshing attributes and this is a minor leak, if at all.
    const [qid, valid, attr] = await ref.safelyRead(() => ref.file.getAttr(t.attrMask));
    return new Rgetattr(valid, qid, attr);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tsetattr. */
async function handleTsetattr(cs: connState, t: Tsetattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyWrite(async () => {
      // We don't allow setattr on files that have been deleted. This might
      // be technically incorrect, as it's possible that there were multiple
      // links and you can still change the corresponding inode information.
      if (ref.isDeleted()) throw syserror.EINVAL;

      // Set the attributes.
      await ref.file.setAttr(t.valid, t.setAttr);
    });
    return new Rsetattr();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tallocate. */
async function handleTallocate(cs: connState, t: Tallocate): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyWrite(async () => {
      // Has it been opened already?
      if (!ref.opened) throw syserror.EINVAL;

      // Can it be written? Check permissions.
      if ((ref.openFlags & OpenFlagsModeMask) === ReadOnly) throw syserror.EBADF;

      // We don't allow allocate on files that have been deleted.
      if (ref.isDeleted()) throw syserror.EINVAL;

      await ref.file.allocate(t.mode, t.offset, t.length);
    });
    return new Rallocate();
  } finally {
    ref.decRef();
  }
}

/**
 * handle implements handler for Txattrwalk.
 *
 * Beyond gVisor at dbe41765 (which answers ENODATA): standard 9P2000.L, as
 * diod's xattr_open. The value of attribute name, or with name "" the list
 * of names (each followed by a NUL, as llistxattr(2) gives it), is read now
 * and held by newFID, an xattr fid that Tread reads and Tclunk frees;
 * Rxattrwalk carries its size, which is how a client (Linux's v9fs) answers
 * a getxattr(2) of size 0 and detects ERANGE. newFID shares fid's File (it
 * holds a reference on fid's fidRef), so fid may be open: fgetxattr(2)
 * works as getxattr(2) does.
 */
async function handleTxattrwalk(cs: connState, t: Txattrwalk): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    if (Buffer.byteLength(t.name) > XATTR_NAME_MAX) throw syserror.ERANGE;
    const value = await ref.safelyRead(async () => {
      // Don't allow getxattr on files that have been deleted (as Tgetxattr).
      if (ref.isDeleted()) throw syserror.EINVAL;
      if (t.name === '') return xattrList(await ref.file.listXattr(0));
      // Values are Go byte strings: one char per byte (as Tgetxattr).
      return Buffer.from(await ref.file.getXattr(t.name, 0), 'latin1');
    });
    const newRef = new fidRef({
      server: cs.server,
      file: ref.file,
      mode: ref.mode,
      pathNode: ref.pathNode,
      deleted: ref.deleted,
      xattr: { kind: xattrWalk, name: t.name, value, flags: 0, written: value.length },
      xattrSource: ref,
    });
    ref.incRef(); // newRef's reference on its source.
    cs.insertFID(t.newFID, newRef);
    return new Rxattrwalk(value.length);
  } finally {
    ref.decRef();
  }
}

// xattrList encodes names as llistxattr(2) lists them: each name's bytes
// (UTF-8, as names travel on the wire) followed by a NUL.
function xattrList(names: Iterable<string>): Buffer {
  const parts: Buffer[] = [];
  for (const n of names) parts.push(Buffer.from(`${n}\0`, 'utf8'));
  return Buffer.concat(parts);
}

// xattrReadAt answers a Tread of count bytes at offset on an xattr fid: the
// slice of the value there, empty at or beyond its end (diod, QEMU). A
// Txattrcreate fid cannot be read (diod: EINVAL).
function xattrReadAt(x: xattrFID, offset: number, count: number): Buffer {
  if (x.kind !== xattrWalk) throw syserror.EINVAL;
  if (offset >= x.value.length) return Buffer.alloc(0);
  return x.value.subarray(offset, offset + Math.min(count, x.value.length - offset));
}

// xattrWriteAt answers a Twrite of data at offset on an xattr fid and
// returns the count written. Only a Txattrcreate fid can be written (diod,
// QEMU: EINVAL); the bytes must stay within its attrSize (ENOSPC, QEMU's
// error for an offset beyond it; diod and QEMU cut a longer write short,
// which a client may retry forever, so here it is refused whole) and leave
// no hole before them (EINVAL: the value would hold bytes nobody wrote).
function xattrWriteAt(x: xattrFID, data: Buffer, offset: number): number {
  if (x.kind !== xattrCreate) throw syserror.EINVAL;
  if (offset + data.length > x.value.length) throw syserror.ENOSPC;
  if (offset > x.written) throw syserror.EINVAL;
  data.copy(x.value, offset);
  x.written = Math.max(x.written, offset + data.length);
  return data.length;
}

/**
 * commitXattr sets the attribute a Txattrcreate fid collected, at its
 * Tclunk.
 *
 * A value shorter than attrSize is EINVAL (QEMU) and sets nothing. An
 * attrSize of 0 is removexattr(2) (diod, QEMU): Linux's v9fs sends
 * removexattr as Txattrcreate(name, 0, XATTR_REPLACE); but with
 * XATTR_CREATE, which removexattr never sends, it sets an empty value, as
 * setxattr(2) with size 0 and XATTR_CREATE does.
 */
async function commitXattr(ref: fidRef, x: xattrFID): Promise<void> {
  if (x.written !== x.value.length) throw syserror.EINVAL;
  await ref.safelyWrite(async () => {
    // Don't allow setxattr on files that have been deleted (as Tsetxattr).
    if (ref.isDeleted()) throw syserror.EINVAL;
    if (x.value.length === 0 && (x.flags & XATTR_CREATE) === 0) {
      await ref.file.removeXattr(x.name);
      return;
    }
    await ref.file.setXattr(x.name, x.value.toString('latin1'), x.flags);
  });
}

/**
 * handle implements handler for Txattrcreate.
 *
 * Beyond gVisor at dbe41765 (which answers ENOSYS): standard 9P2000.L, as
 * diod's xattr_create and QEMU's v9fs_xattrcreate. fid itself becomes an
 * xattr fid that Twrite fills with attrSize bytes; its Tclunk sets the
 * attribute (commitXattr) and answers with the result. Errors found here
 * are setxattr(2)'s: flags other than XATTR_CREATE and XATTR_REPLACE are
 * EINVAL, an empty or too long name ERANGE, a size above XATTR_SIZE_MAX
 * E2BIG.
 */
async function handleTxattrcreate(cs: connState, t: Txattrcreate): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    if ((t.flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) throw syserror.EINVAL;
    if (t.name === '' || Buffer.byteLength(t.name) > XATTR_NAME_MAX) throw syserror.ERANGE;
    if (t.attrSize > XATTR_SIZE_MAX) throw syserror.E2BIG;
    await ref.safelyRead(async () => {
      // Don't allow setxattr on files that have been deleted (as Tsetxattr).
      if (ref.isDeleted()) throw syserror.EINVAL;
    });
    // Checked and set in one synchronous section, after the await: another
    // request may have opened fid or made it an xattr fid meanwhile. An open
    // fid reads and writes its file, not an attribute (QEMU: EINVAL).
    if (ref.xattr !== undefined || ref.opened) throw syserror.EINVAL;
    ref.xattr = { kind: xattrCreate, name: t.name, value: Buffer.alloc(t.attrSize), flags: t.flags, written: 0 };
    return new Rxattrcreate();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tgetxattr. */
async function handleTgetxattr(cs: connState, t: Tgetxattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    const val = await ref.safelyRead(async () => {
      // Don't allow getxattr on files that have been deleted.
      if (ref.isDeleted()) throw syserror.EINVAL;
      return ref.file.getXattr(t.name, t.size);
    });
    // Values are Go byte strings: one char per byte (client_file.ts agrees).
    return new Rgetxattr(Buffer.from(val, 'latin1'));
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tsetxattr. */
async function handleTsetxattr(cs: connState, t: Tsetxattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyWrite(async () => {
      // Don't allow setxattr on files that have been deleted.
      if (ref.isDeleted()) throw syserror.EINVAL;
      await ref.file.setXattr(t.name, t.value.toString('latin1'), t.flags);
    });
    return new Rsetxattr();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tlistxattr. */
async function handleTlistxattr(cs: connState, t: Tlistxattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    const xattrs = await ref.safelyRead(async () => {
      // Don't allow listxattr on files that have been deleted.
      if (ref.isDeleted()) throw syserror.EINVAL;
      return ref.file.listXattr(t.size);
    });
    return new Rlistxattr([...xattrs]);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tremovexattr. */
async function handleTremovexattr(cs: connState, t: Tremovexattr): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyWrite(async () => {
      // Don't allow removexattr on files that have been deleted.
      if (ref.isDeleted()) throw syserror.EINVAL;
      await ref.file.removeXattr(t.name);
    });
    return new Rremovexattr();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Treaddir. */
async function handleTreaddir(cs: connState, t: Treaddir): Promise<Message> {
  const ref = lookup(cs, t.directory);
  try {
    const msize = cs.msize();
    if (t.count > msize) return newErr(syserror.ENOBUFS);
    // Rreaddir is size[4] type[1] tag[2] count[4] then the entries.
    const count = Math.min(t.count, msize - rreadHeader);
    const entries = await ref.safelyRead(async () => {
      // Don't allow reading deleted directories.
      if (ref.isDeleted() || !fileModeIsDir(ref.mode)) throw syserror.EINVAL;

      // Has it been opened yet?
      if (!ref.opened) throw syserror.EINVAL;

      // Read the entries.
      return ref.file.readdir(t.offset, count);
    });
    // Rreaddir.encode sends the whole entries that fit in count.
    return new Rreaddir(count, entries);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tfsync. */
async function handleTfsync(cs: connState, t: Tfsync): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyRead(async () => {
      // Has it been opened yet?
      if (!ref.opened) throw syserror.EINVAL;

      // Perform the sync.
      await ref.file.fSync();
    });
    return new Rfsync();
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tstatfs. */
async function handleTstatfs(cs: connState, t: Tstatfs): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    const st = await ref.file.statFS();
    return new Rstatfs(st);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tflushf. */
async function handleTflushf(cs: connState, t: Tflushf): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyRead(() => ref.file.flush());
    return new Rflushf();
  } finally {
    ref.decRef();
  }
}

/**
 * walkOne walks zero or one path elements.
 *
 * The qids passed in are copied, the new one appended, and returned.
 */
async function walkOne(
  qids: readonly QID[],
  from: File,
  names: readonly string[],
  getattr: boolean,
): Promise<[QID[], File, AttrMask, Attr]> {
  if (names.length > 1) {
    // We require exactly zero or one elements.
    throw syserror.EINVAL;
  }
  let localQIDs: QID[];
  let sf: File;
  let valid = new AttrMask();
  let attr = new Attr();
  if (getattr && names.length === 1) {
    // walkGetAttrOne falls back to walk + getAttr on ENOSYS.
    [localQIDs, sf, valid, attr] = await walkGetAttrOne(from, names[0]);
  } else if (getattr) {
    try {
      [localQIDs, sf, valid, attr] = await from.walkGetAttr(names);
    } catch (e) {
      if (e !== syserror.ENOSYS) throw e;
      [localQIDs, sf] = await from.walk(names);
      try {
        [, valid, attr] = await sf.getAttr(AttrMaskAll());
      } catch (e2) {
        // Don't leak the file.
        await sf.close().catch(() => undefined);
        throw e2;
      }
    }
  } else {
    [localQIDs, sf] = await from.walk(names);
  }
  if (localQIDs.length !== names.length) {
    // Expected a single QID (none for a clone).
    await sf.close().catch(() => undefined);
    throw syserror.EINVAL;
  }
  return [[...qids, ...localQIDs], sf, valid, attr];
}

/**
 * doWalk walks from a given fidRef.
 *
 * This enforces that all intermediate nodes are walkable (directories). The
 * fidRef returned (newRef) has a reference associated with it that is now
 * owned by the caller and must be handled appropriately.
 */
export async function doWalk(
  cs: connState,
  ref: fidRef,
  names: readonly string[],
  getattr: boolean,
): Promise<[QID[], fidRef, AttrMask, Attr]> {
  // Check the names.
  for (const name of names) checkSafeName(name);

  // Has it been opened already?
  await ref.safelyRead(async () => {
    if (ref.opened) throw syserror.EBUSY;
  });

  // Is this an empty list? Handle specially. We don't actually need to
  // validate anything since this is always permitted.
  if (names.length === 0) {
    let newRef: fidRef | undefined;
    let valid = new AttrMask();
    let attr = new Attr();
    await ref.maybeParent().safelyRead(async () => {
      // Clone the single element.
      let sf: File;
      [, sf, valid, attr] = await walkOne([], ref.file, [], getattr);

      newRef = new fidRef({
        server: cs.server,
        parent: ref.parent,
        file: sf,
        mode: ref.mode,
        pathNode: ref.pathNode,

        // For the clone case, the cloned fid must preserve the deleted
        // property of the original FID.
        deleted: ref.deleted,
      });
      if (!ref.isRoot()) {
        if (!newRef.isDeleted()) {
          // Add only if a non-root node; the same node.
          ref.parent!.pathNode.addChild(newRef, ref.parent!.pathNode.nameFor(ref));
        }
        ref.parent!.incRef(); // Acquire parent reference.
      }
      // doWalk returns a reference.
      newRef.incRef();
    });
    // Do not return the new QID.
    return [[], newRef!, valid, attr];
  }

  // Do the walk, one element at a time.
  let walkRef = ref;
  walkRef.incRef();
  let qids: QID[] = [];
  let valid = new AttrMask();
  let attr = new Attr();
  for (let i = 0; i < names.length; i++) {
    // We won't allow beyond past symlinks; stop here if this isn't a proper
    // directory and we have additional paths to walk.
    if (!fileModeIsDir(walkRef.mode)) {
      walkRef.decRef(); // Drop walk reference; no lock required.
      throw syserror.EINVAL;
    }

    const from = walkRef;
    try {
      await from.safelyRead(async () => {
        // Pass getattr = true to walkOne since we need the file type for
        // newRef.
        let sf: File;
        [qids, sf, valid, attr] = await walkOne(qids, from.file, names.slice(i, i + 1), true);

        // Note that we don't need to acquire a lock on any of these
        // individual instances. That's because they are not actually
        // addressable via a FID. They are anonymous. They exist in the tree
        // for tracking purposes.
        const newRef = new fidRef({
          server: cs.server,
          parent: from,
          file: sf,
          mode: fileModeFileType(attr.mode),
          pathNode: from.pathNode.pathNodeFor(names[i]),
        });
        from.pathNode.addChild(newRef, names[i]);
        // We allow our walk reference to become the new parent reference
        // here and so we don't incRef. Instead, just set walkRef to the
        // newRef above and acquire a new walk reference.
        walkRef = newRef;
        walkRef.incRef();
      });
    } catch (e) {
      walkRef.decRef(); // Drop the old walkRef.
      throw e;
    }
  }

  // Success.
  return [qids, walkRef, valid, attr];
}

// rwalkSize returns the frame size of an Rwalk (getattr: Rwalkgetattr) of n
// QIDs.
function rwalkSize(n: number, getattr: boolean): number {
  return replySize(getattr ? new Rwalkgetattr() : new Rwalk()) + 13 * n;
}

/** handle implements handler for Twalk. */
async function handleTwalk(cs: connState, t: Twalk): Promise<Message> {
  // The reply must fit msize (checked before the walk installs the fid).
  if (rwalkSize(t.names.length, false) > cs.msize()) return newErr(syserror.EMSGSIZE);

  const ref = lookup(cs, t.fid);
  try {
    // Do the walk.
    const [qids, newRef] = await doWalk(cs, ref, t.names, false);
    try {
      // Install the new FID.
      cs.insertFID(t.newFID, newRef);
    } finally {
      newRef.decRef();
    }
    return new Rwalk(qids);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Twalkgetattr. */
async function handleTwalkgetattr(cs: connState, t: Twalkgetattr): Promise<Message> {
  if (rwalkSize(t.names.length, true) > cs.msize()) return newErr(syserror.EMSGSIZE);

  const ref = lookup(cs, t.fid);
  try {
    // Do the walk.
    const [qids, newRef, valid, attr] = await doWalk(cs, ref, t.names, true);
    try {
      // Install the new FID.
      cs.insertFID(t.newFID, newRef);
    } finally {
      newRef.decRef();
    }
    return new Rwalkgetattr(valid, attr, qids);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tucreate. */
async function handleTucreate(cs: connState, t: Tucreate): Promise<Message> {
  const [rlcreate, file] = await doTlcreate(cs, t, t.uid);
  const r = new Rucreate(rlcreate);
  donateFrom(cs, r, file);
  return r;
}

/** handle implements handler for Tumkdir. */
async function handleTumkdir(cs: connState, t: Tumkdir): Promise<Message> {
  const rmkdir = await doTmkdir(cs, t, t.uid);
  return new Rumkdir(rmkdir);
}

/** handle implements handler for Tusymlink. */
async function handleTusymlink(cs: connState, t: Tusymlink): Promise<Message> {
  const rsymlink = await doTsymlink(cs, t, t.uid);
  return new Rusymlink(rsymlink);
}

/** handle implements handler for Tumknod. */
async function handleTumknod(cs: connState, t: Tumknod): Promise<Message> {
  const rmknod = await doTmknod(cs, t, t.uid);
  return new Rumknod(rmknod);
}

/**
 * handle implements handler for Tlconnect.
 *
 * gVisor answers Rlconnect with the connected host socket as an fd payload.
 * Node cannot send fds over a socket, so after gVisor's checks the request
 * fails with EOPNOTSUPP, without calling File.connect (its fd would leak).
 */
async function handleTlconnect(cs: connState, t: Tlconnect): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    await ref.safelyRead(async () => {
      // Don't allow connecting to deleted files.
      if (ref.isDeleted() || !fileModeIsSocket(ref.mode)) throw syserror.EINVAL;
    });
    return newErr(syserror.EOPNOTSUPP);
  } finally {
    ref.decRef();
  }
}

/**
 * handle implements handler for Tchannel.
 *
 * Flipcall channels are shared memory plus fds passed over the socket;
 * neither is possible in Node. gVisor's own server answers ENOSYS for a
 * channel it does not have, and gVisor's client then goes on without
 * channels (it logs and stops opening them), so that is the answer here.
 */
async function handleTchannel(_cs: connState, _t: Tchannel): Promise<Message> {
  return newErr(syserror.ENOSYS);
}

/**
 * handle implements handler for Tmultigetattr (gVisor 276ff149a; the walk
 * below is 65a26689c's, used when the File has no multiGetAttr of its own).
 */
async function handleTmultigetattr(cs: connState, t: Tmultigetattr): Promise<Message> {
  for (let i = 0; i < t.names.length; i++) {
    const name = t.names[i];
    if (name.length === 0 && i === 0) {
      // Empty name is allowed on the first entry to indicate that the
      // current FID needs to be included in the result.
      continue;
    }
    checkSafeName(name);
  }
  const ref = lookup(cs, t.fid);
  try {
    const multiGetAttr = ref.file.multiGetAttr;
    if (multiGetAttr !== undefined) {
      const stats = await ref.safelyRead(() => multiGetAttr.call(ref.file, t.names));
      return new Rmultigetattr(stats);
    }

    // Walk ourselves, each step under the read lock of the path node walked
    // from, so that a client cannot swap a component while we walk it.
    const stats: FullStat[] = [];
    const mask = AttrMaskAll();
    const start = ref.file;
    const startNode = ref.pathNode;
    let parent = start;
    let parentNode = startNode;
    const closeParent = async (): Promise<void> => {
      if (parent !== start) {
        const p = parent;
        parent = start;
        await p.close().catch(() => undefined);
      }
    };

    const renameMu = cs.server.renameMu;
    if (!renameMu.tryRLock()) await renameMu.rLock();
    try {
      for (let i = 0; i < t.names.length; i++) {
        const name = t.names[i];
        if (name.length === 0 && i === 0) {
          if (!startNode.opMu.tryRLock()) await startNode.opMu.rLock();
          try {
            const [qid, valid, attr] = await start.getAttr(mask);
            stats.push(new FullStat(qid, valid, attr));
          } finally {
            startNode.opMu.rUnlock();
          }
          continue;
        }

        const node = parentNode;
        if (!node.opMu.tryRLock()) await node.opMu.rLock();
        let isDir: boolean;
        try {
          if (node.deleted) break;
          let r: [QID[], File, AttrMask, Attr];
          try {
            r = await walkGetAttrOne(parent, name);
          } catch (e) {
            if (e === syserror.ENOENT) break;
            throw e;
          }
          const [qids, child, valid, attr] = r;
          stats.push(new FullStat(qids[0], valid, attr));
          // Update with next generation.
          await closeParent();
          parent = child;
          parentNode = node.pathNodeFor(name);
          isDir = fileModeIsDir(attr.mode);
        } finally {
          node.opMu.rUnlock();
        }
        if (!isDir) {
          // Doesn't need to continue if entry is not a dir. Including
          // symlinks that cannot be followed.
          break;
        }
      }
    } finally {
      renameMu.rUnlock();
      await closeParent();
    }
    return new Rmultigetattr(stats);
  } finally {
    ref.decRef();
  }
}

// Lock types of Tlock/Tgetlock (9P2000.L P9_LOCK_TYPE_*).
const lockTypeUnlck = 2;

/**
 * handle implements handler for Tlock (9P2000.L; not in gVisor). The File
 * decides; a File without lock answers ENOSYS.
 */
async function handleTlock(cs: connState, t: Tlock): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    if (t.lockType > lockTypeUnlck) throw syserror.EINVAL;
    const lock = ref.file.lock;
    if (lock === undefined) throw syserror.ENOSYS;
    const status = await ref.safelyRead(() =>
      lock.call(ref.file, t.lockType, t.flags, t.start, t.length, t.procID, t.clientID),
    );
    return new Rlock(status);
  } finally {
    ref.decRef();
  }
}

/** handle implements handler for Tgetlock (9P2000.L; not in gVisor). */
async function handleTgetlock(cs: connState, t: Tgetlock): Promise<Message> {
  const ref = lookup(cs, t.fid);
  try {
    if (t.lockType > lockTypeUnlck) throw syserror.EINVAL;
    const getLock = ref.file.getLock;
    if (getLock === undefined) throw syserror.ENOSYS;
    const l = await ref.safelyRead(() =>
      getLock.call(ref.file, { type: t.lockType, start: t.start, length: t.length, procID: t.procID, clientID: t.clientID }),
    );
    return new Rgetlock(l.type, l.start, l.length, l.procID, l.clientID);
  } finally {
    ref.decRef();
  }
}

// The handler table. Tucreate and friends extend their base classes, so
// each is registered under its own type number.
register(Tversion, handleTversion);
register(Tflush, handleTflush);
register(Tclunk, handleTclunk);
register(Tsetattrclunk, handleTsetattrclunk);
register(Tremove, handleTremove);
register(Tauth, handleTauth);
register(Tattach, handleTattach);
register(Tlopen, handleTlopen);
register(Tlcreate, handleTlcreate);
register(Tsymlink, handleTsymlink);
register(Tlink, handleTlink);
register(Trenameat, handleTrenameat);
register(Tunlinkat, handleTunlinkat);
register(Trename, handleTrename);
register(Treadlink, handleTreadlink);
register(Tread, handleTread);
register(Twrite, handleTwrite);
register(Tmknod, handleTmknod);
register(Tmkdir, handleTmkdir);
register(Tgetattr, handleTgetattr);
register(Tsetattr, handleTsetattr);
register(Tallocate, handleTallocate);
register(Txattrwalk, handleTxattrwalk);
register(Txattrcreate, handleTxattrcreate);
register(Tgetxattr, handleTgetxattr);
register(Tsetxattr, handleTsetxattr);
register(Tlistxattr, handleTlistxattr);
register(Tremovexattr, handleTremovexattr);
register(Treaddir, handleTreaddir);
register(Tfsync, handleTfsync);
register(Tstatfs, handleTstatfs);
register(Tflushf, handleTflushf);
register(Twalk, handleTwalk);
register(Twalkgetattr, handleTwalkgetattr);
register(Tucreate, handleTucreate);
register(Tumkdir, handleTumkdir);
register(Tusymlink, handleTusymlink);
register(Tumknod, handleTumknod);
register(Tlconnect, handleTlconnect);
register(Tchannel, handleTchannel);
register(Tmultigetattr, handleTmultigetattr);
register(Tfdchannel, handleTfdchannel);
register(Tlock, handleTlock);
register(Tgetlock, handleTgetlock);
