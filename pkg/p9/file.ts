// Port of gVisor pkg/p9/file.go (commit dbe41765): the interfaces a 9P
// server is built on (Attacher, File), plus gVisor's helpers for them.
//
// Differs from gVisor (DESIGN decision 1): every method that may reach the
// host returns a Promise; Go's multiple results become tuples in Go's order
// (walk → [QID[], File]). Errors are thrown LinuxError values, never
// returned. Two more differences:
//   - No host fds cross the 9P connection: Node's net sockets cannot send
//     SCM_RIGHTS, so open and create return no *fd.FD and connect is left
//     to the implementation (the server answers Tlconnect without an fd; see
//     handlers.ts).
//   - Go's io.EOF from readAt/readdir is "fewer bytes/entries than asked":
//     readAt returns 0 at end of file, readdir returns [] at the end.
//
// Added (not in gVisor at this commit): multiGetAttr (gVisor 276ff149a) and
// lock/getLock (9P2000.L Tlock/Tgetlock), all optional.

import * as syserror from '../syserror/syserror';
import {
  AllocateMode,
  Attr,
  AttrMask,
  AttrMaskAll,
  ConnectFlags,
  Dirent,
  FSStat,
  FileMode,
  FullStat,
  GID,
  OpenFlags,
  QID,
  SetAttr,
  SetAttrMask,
  UID,
  fileModeIsDir,
} from './p9';

/**
 * LockDescription describes a POSIX record lock as Tgetlock/Rgetlock carry it
 * (the same shape as client_file.ts's Lock).
 */
export interface LockDescription {
  type: number;
  start: number;
  length: number;
  procID: number;
  clientID: string;
}

/** Attacher is provided by the server. */
export interface Attacher {
  /**
   * attach returns a new File.
   *
   * The client-side attach will be translated to a series of walks from the
   * file returned by this attach call.
   */
  attach(): Promise<File>;
}

/**
 * File is a set of operations corresponding to a single node.
 *
 * Note that on the server side, the server logic places constraints on
 * concurrent operations to make things easier. This may reduce the need for
 * complex, error-prone locking and logic in the backend. These are documented
 * for each method.
 *
 * There are three different types of guarantees provided:
 *
 * none: There is no concurrency guarantee. The method may be invoked
 * concurrently with any other method on any other file.
 *
 * read: The method is guaranteed to be exclusive of any write or global
 * operation that is mutating the state of the directory tree starting at this
 * node. For example, this means creating new files, symlinks, directories or
 * renaming a directory entry (or renaming in to this target), but the method
 * may be called concurrently with other read methods.
 *
 * write: The method is guaranteed to be exclusive of any read, write or global
 * operation that is mutating the state of the directory tree starting at this
 * node, as described in read above. There may however, be other write
 * operations executing concurrently on other components in the directory tree.
 *
 * global: The method is guaranteed to be exclusive of any read, write or
 * global operation.
 *
 * ("Concurrently" here means interleaved at awaits: a method's Promise may be
 * pending while other methods run.)
 */
export interface File {
  /**
   * walk walks to the path components given in names.
   *
   * walk returns QIDs in the same order that the names were passed in.
   *
   * An empty list of arguments should return a copy of the current file.
   *
   * On the server, walk has a read concurrency guarantee.
   */
  walk(names: readonly string[]): Promise<[QID[], File]>;

  /**
   * walkGetAttr walks to the next file and returns its maximal set of
   * attributes.
   *
   * Server-side p9.Files may throw ENOSYS to indicate that walk and getAttr
   * should be used separately to satisfy this request.
   *
   * On the server, walkGetAttr has a read concurrency guarantee.
   */
  walkGetAttr(names: readonly string[]): Promise<[QID[], File, AttrMask, Attr]>;

  /**
   * multiGetAttr batches up multiple calls to getAttr(). names is a list of
   * path components similar to walk(). If the first component name is empty,
   * the current file is stat'd and included in the results. If the walk
   * reaches a file that doesn't exist or not a directory, multiGetAttr
   * returns the partial result with no error.
   *
   * Optional (gVisor 276ff149a). When a server-side File leaves it out, the
   * server walks the names itself, one locked path node at a time (as gVisor
   * 65a26689c does when MultiGetAttrSupported is false).
   *
   * On the server, multiGetAttr has a read concurrency guarantee on this
   * file only.
   */
  multiGetAttr?(names: readonly string[]): Promise<FullStat[]>;

  /**
   * statFS returns information about the file system associated with this
   * file.
   *
   * On the server, statFS has no concurrency guarantee.
   */
  statFS(): Promise<FSStat>;

  /**
   * getAttr returns attributes of this node.
   *
   * On the server, getAttr has a read concurrency guarantee.
   */
  getAttr(req: AttrMask): Promise<[QID, AttrMask, Attr]>;

  /**
   * setAttr sets attributes on this node.
   *
   * On the server, setAttr has a write concurrency guarantee.
   */
  setAttr(valid: SetAttrMask, attr: SetAttr): Promise<void>;

  /**
   * getXattr returns extended attributes of this node.
   *
   * size indicates the size of the buffer that has been allocated to hold the
   * attribute value. If the value is larger than size, implementations may
   * throw ERANGE to indicate that the buffer is too small, but they are also
   * free to ignore the hint entirely (i.e. the value returned may be larger
   * than size). All size checking is done independently at the syscall layer.
   *
   * On the server, getXattr has a read concurrency guarantee.
   */
  getXattr(name: string, size: number): Promise<string>;

  /**
   * setXattr sets extended attributes on this node.
   *
   * On the server, setXattr has a write concurrency guarantee.
   */
  setXattr(name: string, value: string, flags: number): Promise<void>;

  /**
   * listXattr lists the names of the extended attributes on this node.
   *
   * size indicates the size of the buffer that has been allocated to hold the
   * attribute list. If the list would be larger than size, implementations
   * may throw ERANGE to indicate that the buffer is too small, but they are
   * also free to ignore the hint entirely. All size checking is done
   * independently at the syscall layer.
   *
   * On the server, listXattr has a read concurrency guarantee.
   */
  listXattr(size: number): Promise<Set<string>>;

  /**
   * removeXattr removes extended attributes on this node.
   *
   * On the server, removeXattr has a write concurrency guarantee.
   */
  removeXattr(name: string): Promise<void>;

  /**
   * allocate allows the caller to directly manipulate the allocated disk
   * space for the file. See fallocate(2) for more details.
   */
  allocate(mode: AllocateMode, offset: number, length: number): Promise<void>;

  /**
   * close is called when all references are dropped on the server side, and
   * close should be called by the client to drop all references.
   *
   * For server-side implementations of close, the error is ignored.
   *
   * close must be called even when open has not been called.
   *
   * On the server, close has no concurrency guarantee.
   */
  close(): Promise<void>;

  /**
   * setAttrClose is the equivalent of calling setAttr() followed by close().
   * This can be used to set file times before closing the file in a single
   * operation.
   *
   * On the server, setAttr has a write concurrency guarantee.
   * On the server, close has no concurrency guarantee.
   */
  setAttrClose(valid: SetAttrMask, attr: SetAttr): Promise<void>;

  /**
   * open must be called prior to using readAt, writeAt or readdir. Once open
   * is called, some operations, such as walk, will no longer work.
   *
   * On the client, open should be called only once. It returns the QID and
   * the ioUnit (gVisor also returns an optional host fd; none here, see the
   * file comment).
   *
   * On the server, open has a read concurrency guarantee. open is guaranteed
   * to be called only once.
   *
   * N.B. The server must resolve any lazy paths when open is called. After
   * this point, read and write may be called on files with no deletion
   * check, so resolving in the data path is not viable.
   */
  open(flags: OpenFlags): Promise<[QID, number]>;

  /**
   * readAt reads from this file into p at offset and returns the number of
   * bytes read. open must be called first. 0 means end of file (gVisor's
   * io.EOF).
   *
   * On the server, readAt has a read concurrency guarantee. See open for
   * additional requirements regarding lazy path resolution.
   */
  readAt(p: Buffer, offset: number): Promise<number>;

  /**
   * writeAt writes p to this file at offset and returns the number of bytes
   * written. open must be called first.
   *
   * On the server, writeAt has a read concurrency guarantee. See open for
   * additional requirements regarding lazy path resolution.
   */
  writeAt(p: Buffer, offset: number): Promise<number>;

  /**
   * fSync syncs this node. open must be called first.
   *
   * On the server, fSync has a read concurrency guarantee.
   */
  fSync(): Promise<void>;

  /**
   * create creates a new regular file and opens it according to the flags
   * given. This file is already open. It returns the new file, its QID and
   * the ioUnit.
   *
   * N.B. On the client, the returned file is a reference to the current
   * file, which now represents the created file. This is not the case on the
   * server. These semantics are very subtle and can easily lead to bugs, but
   * are a consequence of the 9P create operation.
   *
   * On the server, create has a write concurrency guarantee.
   */
  create(name: string, flags: OpenFlags, permissions: FileMode, uid: UID, gid: GID): Promise<[File, QID, number]>;

  /**
   * mkdir creates a subdirectory.
   *
   * On the server, mkdir has a write concurrency guarantee.
   */
  mkdir(name: string, permissions: FileMode, uid: UID, gid: GID): Promise<QID>;

  /**
   * symlink makes a new symbolic link.
   *
   * On the server, symlink has a write concurrency guarantee.
   */
  symlink(oldName: string, newName: string, uid: UID, gid: GID): Promise<QID>;

  /**
   * link makes a new hard link.
   *
   * On the server, link has a write concurrency guarantee.
   */
  link(target: File, newName: string): Promise<void>;

  /**
   * mknod makes a new device node.
   *
   * On the server, mknod has a write concurrency guarantee.
   */
  mknod(name: string, mode: FileMode, major: number, minor: number, uid: UID, gid: GID): Promise<QID>;

  /**
   * rename renames the file.
   *
   * rename will never be called on the server, and renameAt will always be
   * used instead.
   */
  rename(newDir: File, newName: string): Promise<void>;

  /**
   * renameAt renames a given file to a new name in a potentially new
   * directory.
   *
   * oldName must be a name relative to this file, which must be a directory.
   * newName is a name relative to newDir.
   *
   * On the server, renameAt has a global concurrency guarantee.
   */
  renameAt(oldName: string, newDir: File, newName: string): Promise<void>;

  /**
   * unlinkAt unlinks the given named file.
   *
   * name must be a file relative to this directory.
   *
   * Flags are implementation-specific (e.g. O_DIRECTORY), but are generally
   * Linux unlinkat(2) flags.
   *
   * On the server, unlinkAt has a write concurrency guarantee.
   */
  unlinkAt(name: string, flags: number): Promise<void>;

  /**
   * readdir reads directory entries: those after the entry whose offset
   * (cookie) is offset, at most count bytes of them encoded. [] means the end
   * (gVisor's io.EOF).
   *
   * On the server, readdir has a read concurrency guarantee.
   */
  readdir(offset: bigint, count: number): Promise<Dirent[]>;

  /**
   * readlink reads the link target.
   *
   * On the server, readlink has a read concurrency guarantee.
   */
  readlink(): Promise<string>;

  /**
   * flush is called prior to close.
   *
   * Whereas close drops all references to the file, flush cleans up the file
   * state. Behavior is implementation-specific.
   *
   * flush is not related to flush(9p). flush is an extension to 9P2000.L,
   * see version.ts.
   *
   * On the server, flush has a read concurrency guarantee.
   */
  flush(): Promise<void>;

  /**
   * connect establishes a new host-socket backed connection with a socket.
   * In gVisor it returns the connected host fd, passed to the client over
   * SCM_RIGHTS, which Node cannot do: here it returns the fd number (owned by
   * the caller) and the server refuses Tlconnect before calling it (see
   * handlers.ts). Implementations may simply throw EOPNOTSUPP.
   *
   * On the server, connect has a read concurrency guarantee.
   */
  connect(flags: ConnectFlags): Promise<number>;

  /**
   * renamed is called when this node is renamed.
   *
   * This may not fail. The file will hold a reference to its parent within
   * the p9 package, and is therefore safe to use for the lifetime of this
   * File (until close is called).
   *
   * This method should not be called by clients, who should use the relevant
   * rename methods. (Although the method will be a no-op.)
   *
   * On the server, renamed has a global concurrency guarantee.
   */
  renamed(newDir: File, newName: string): void;

  /**
   * lock acquires, or releases (type LockTypeUnlck), a POSIX record lock
   * (9P2000.L Tlock) and returns the status (LockStatusOK, LockStatusBlocked,
   * ...). It does not wait: a client retries on LockStatusBlocked.
   *
   * Optional: the server answers Tlock for a File without it with ENOSYS.
   * Not in gVisor (whose sentry keeps locks itself).
   *
   * On the server, lock has a read concurrency guarantee.
   */
  lock?(type: number, flags: number, start: number, length: number, procID: number, clientID: string): Promise<number>;

  /**
   * getLock returns the first lock conflicting with l, or l with type
   * LockTypeUnlck when there is none (9P2000.L Tgetlock). Optional, as lock.
   *
   * On the server, getLock has a read concurrency guarantee.
   */
  getLock?(l: LockDescription): Promise<LockDescription>;
}

/**
 * DefaultWalkGetAttr implements File.walkGetAttr to throw ENOSYS for
 * server-side Files (mix it in: `walkGetAttr = DefaultWalkGetAttr.prototype.walkGetAttr`,
 * or extend it).
 */
export class DefaultWalkGetAttr {
  /** walkGetAttr implements File.walkGetAttr. */
  walkGetAttr(_names: readonly string[]): Promise<[QID[], File, AttrMask, Attr]> {
    return Promise.reject(syserror.ENOSYS);
  }
}

/**
 * ErrDisallowedCall is thrown by the Disallow* helpers (gVisor panics; a thrown
 * non-LinuxError becomes EIO at the server's handler boundary and is
 * logged).
 */
export class ErrDisallowedCall extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'ErrDisallowedCall';
  }
}

/** DisallowClientCalls throws if a client-only function is called. */
export class DisallowClientCalls {
  /** setAttrClose implements File.setAttrClose. */
  setAttrClose(_valid: SetAttrMask, _attr: SetAttr): Promise<void> {
    return Promise.reject(new ErrDisallowedCall('SetAttrClose should not be called on the server'));
  }
}

/** DisallowServerCalls throws if a server-only function is called. */
export class DisallowServerCalls {
  /** renamed implements File.renamed. */
  renamed(_newDir: File, _newName: string): void {
    throw new ErrDisallowedCall('Renamed should not be called on the client');
  }
}

/**
 * defaultMultiGetAttr implements File.multiGetAttr on top of getAttr and
 * walkGetAttr (gVisor 276ff149a's DefaultMultiGetAttr, with the file leak
 * fixes of ddaa36bde/a2a07f17d: every intermediate File is closed). A File
 * whose walkGetAttr throws ENOSYS is walked with walk + getAttr.
 *
 * It takes no locks: a server-side File using it must itself be safe against
 * concurrent changes of the tree below it (the reason gVisor's server walks
 * itself, see handlers.ts).
 */
export async function defaultMultiGetAttr(start: File, names: readonly string[]): Promise<FullStat[]> {
  const stats: FullStat[] = [];
  const mask = AttrMaskAll();
  let parent = start;
  // closeParent: Go's deferred closure; close errors are ignored, as gVisor.
  const closeParent = async (): Promise<void> => {
    if (parent !== start) {
      const p = parent;
      parent = start;
      await p.close().catch(() => undefined);
    }
  };
  try {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name.length === 0 && i === 0) {
        const [qid, valid, attr] = await parent.getAttr(mask);
        stats.push(new FullStat(qid, valid, attr));
        continue;
      }
      let r: [QID[], File, AttrMask, Attr];
      try {
        r = await walkGetAttrOne(parent, name);
      } catch (e) {
        if (e === syserror.ENOENT) return stats;
        throw e;
      }
      const [qids, child, valid, attr] = r;
      await closeParent();
      parent = child;
      stats.push(new FullStat(qids[0], valid, attr));
      if (!fileModeIsDir(attr.mode)) {
        // Doesn't need to continue if entry is not a dir. Including symlinks
        // that cannot be followed.
        break;
      }
    }
    return stats;
  } finally {
    await closeParent();
  }
}

/**
 * walkGetAttrOne walks one name with walkGetAttr, or with walk + getAttr
 * when the File answers ENOSYS (as the server's walkOne does).
 */
export async function walkGetAttrOne(from: File, name: string): Promise<[QID[], File, AttrMask, Attr]> {
  try {
    return await from.walkGetAttr([name]);
  } catch (e) {
    if (e !== syserror.ENOSYS) throw e;
  }
  const [qids, sf] = await from.walk([name]);
  try {
    const [, valid, attr] = await sf.getAttr(AttrMaskAll());
    return [qids, sf, valid, attr];
  } catch (e) {
    // Don't leak the file.
    await sf.close().catch(() => undefined);
    throw e;
  }
}
