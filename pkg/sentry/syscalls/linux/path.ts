// Path arguments of the file-system syscalls: gVisor's
// pkg/sentry/syscalls/linux/vfs2/path.go, plus the part of the task's
// usermem (CopyInString) that reads a pathname.
//
// "User memory" (DESIGN decision 9, the brief): a pathname argument is a JS
// string or the bytes of a C string (a Uint8Array, up to its first NUL, or
// all of it without one); a string is cut at its first NUL as C would see
// it. Pathnames are UTF-8 on the wire, as everywhere in this port.

import { AT_FDCWD, PATH_MAX } from '../../../abi/linux/file';
import * as fspath from '../../../fspath';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import { VirtualDentry, type PathOperation } from '../../vfs/vfs';

/** PathArg is a pathname argument: a string, or the bytes of a C string. */
export type PathArg = string | Uint8Array;

/**
 * copyInString reads a C string argument of at most maxlen bytes including
 * its NUL (gVisor: Task.CopyInString): ENAMETOOLONG if it does not fit,
 * EFAULT if it is not a string at all (a bad pointer).
 */
export function copyInString(s: unknown, maxlen: number): string {
  if (typeof s === 'string') {
    const nul = s.indexOf('\0');
    if (nul >= 0) s = s.slice(0, nul);
    const str = s as string;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: count only when needed.
    if (str.length * 3 >= maxlen && Buffer.byteLength(str, 'utf8') >= maxlen) throw syserror.ENAMETOOLONG;
    return str;
  }
  if (s instanceof Uint8Array) {
    let end = s.indexOf(0);
    if (end < 0) end = s.length;
    if (end >= maxlen) throw syserror.ENAMETOOLONG;
    return Buffer.from(s.buffer, s.byteOffset, end).toString('utf8');
  }
  throw syserror.EFAULT;
}

/** copyInPath reads a pathname argument and parses it (gVisor: copyInPath). */
export function copyInPath(path: unknown): fspath.Path {
  return fspath.parse(copyInString(path, PATH_MAX));
}

/** shouldAllowEmptyPath: may a relative empty path name the start directory (AT_EMPTY_PATH)? */
export type shouldAllowEmptyPath = boolean;
export const disallowEmptyPath: shouldAllowEmptyPath = false;
export const allowEmptyPath: shouldAllowEmptyPath = true;

/** shouldFollowFinalSymlink: should a final symlink be followed? */
export type shouldFollowFinalSymlink = boolean;
export const nofollowFinalSymlink: shouldFollowFinalSymlink = false;
export const followFinalSymlink: shouldFollowFinalSymlink = true;

/**
 * taskPathOperation is a PathOperation whose references (on root, and on
 * start if haveStartRef) belong to it until release().
 */
export class taskPathOperation {
  constructor(readonly pop: PathOperation, private haveStartRef: boolean) {}

  /** release drops the references the taskPathOperation holds (gVisor: Release). */
  release(t: Task): void {
    this.pop.root.decRef(t);
    if (this.haveStartRef) {
      this.pop.start.decRef(t);
      this.haveStartRef = false;
    }
  }
}

/**
 * getTaskPathOperation builds the PathOperation of a *at syscall: root is
 * the task's root; start is the root for an absolute path, the working
 * directory for AT_FDCWD, else the directory of dirfd (EBADF if it is not
 * open). An empty relative path is ENOENT unless allowed.
 */
export function getTaskPathOperation(
  t: Task, dirfd: number, path: fspath.Path, allowEmpty: shouldAllowEmptyPath, follow: shouldFollowFinalSymlink,
): taskPathOperation {
  const root = t.fsContext.rootDirectoryVFS2();
  let start: VirtualDentry = root;
  let haveStartRef = false;
  if (!path.absolute) {
    if (!path.hasComponents() && !allowEmpty) {
      root.decRef(t);
      throw syserror.ENOENT;
    }
    if (dirfd === AT_FDCWD) {
      start = t.fsContext.workingDirectoryVFS2();
      haveStartRef = true;
    } else {
      const dirfile = t.getFileVFS2(dirfd);
      if (dirfile === null) {
        root.decRef(t);
        throw syserror.EBADF;
      }
      start = dirfile.virtualDentry();
      start.incRef();
      haveStartRef = true;
      dirfile.decRef(t);
    }
  }
  return new taskPathOperation({ root, start, path, followFinalSymlink: follow }, haveStartRef);
}

/** emptyPath is fspath.Path{} (a path operation on the start directory itself). */
export const emptyPath: fspath.Path = fspath.parse('');
