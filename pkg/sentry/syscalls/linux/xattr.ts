// The twelve extended attribute calls: gVisor's
// pkg/sentry/syscalls/linux/vfs2/xattr.go.
//
// User memory: a name is a C string (string or bytes); a value or list
// buffer is a Uint8Array (null with size 0 asks for the needed size).
// Values are bytes; the VFS carries them as latin1 strings (Go's string).

import { AT_FDCWD, XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX } from '../../../abi/linux/file';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';
import {
  copyInPath, copyInString, disallowEmptyPath, followFinalSymlink, getTaskPathOperation, nofollowFinalSymlink,
  type PathArg, type shouldFollowFinalSymlink,
} from './path';
import { copyOut, userBuffer } from './usermem';

/** listxattr implements Linux syscall listxattr(2). */
export function listxattr(t: Task, path: PathArg, list: Uint8Array | null, size: number): Promise<number> {
  return listxattrImpl(t, path, list, size, followFinalSymlink);
}

/** llistxattr implements Linux syscall llistxattr(2). */
export function llistxattr(t: Task, path: PathArg, list: Uint8Array | null, size: number): Promise<number> {
  return listxattrImpl(t, path, list, size, nofollowFinalSymlink);
}

async function listxattrImpl(t: Task, pathAddr: PathArg, listAddr: Uint8Array | null, size: number, follow: shouldFollowFinalSymlink): Promise<number> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, follow);
  try {
    const names = await t.k.vfs.listXattrAt(t, t.creds, tpop.pop, size);
    return copyOutXattrNameList(listAddr, size, names);
  } finally {
    tpop.release(t);
  }
}

/** flistxattr implements Linux syscall flistxattr(2). */
export async function flistxattr(t: Task, fd: number, listAddr: Uint8Array | null, size: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const names = await file.listXattr(t, size);
    return copyOutXattrNameList(listAddr, size, names);
  } finally {
    file.decRef(t);
  }
}

/** getxattr implements Linux syscall getxattr(2). */
export function getxattr(t: Task, path: PathArg, name: PathArg, value: Uint8Array | null, size: number): Promise<number> {
  return getxattrImpl(t, path, name, value, size, followFinalSymlink);
}

/** lgetxattr implements Linux syscall lgetxattr(2). */
export function lgetxattr(t: Task, path: PathArg, name: PathArg, value: Uint8Array | null, size: number): Promise<number> {
  return getxattrImpl(t, path, name, value, size, nofollowFinalSymlink);
}

async function getxattrImpl(
  t: Task, pathAddr: PathArg, nameAddr: PathArg, valueAddr: Uint8Array | null, size: number, follow: shouldFollowFinalSymlink,
): Promise<number> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, follow);
  try {
    const name = copyInXattrName(nameAddr);
    const value = await t.k.vfs.getXattrAt(t, t.creds, tpop.pop, { name, size });
    return copyOutXattrValue(valueAddr, size, value);
  } finally {
    tpop.release(t);
  }
}

/** fgetxattr implements Linux syscall fgetxattr(2). */
export async function fgetxattr(t: Task, fd: number, nameAddr: PathArg, valueAddr: Uint8Array | null, size: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const name = copyInXattrName(nameAddr);
    const value = await file.getXattr(t, { name, size });
    return copyOutXattrValue(valueAddr, size, value);
  } finally {
    file.decRef(t);
  }
}

/** setxattr implements Linux syscall setxattr(2). */
export function setxattr(t: Task, path: PathArg, name: PathArg, value: Uint8Array | null, size: number, flags: number): Promise<number> {
  return setxattrImpl(t, path, name, value, size, flags, followFinalSymlink);
}

/** lsetxattr implements Linux syscall lsetxattr(2). */
export function lsetxattr(t: Task, path: PathArg, name: PathArg, value: Uint8Array | null, size: number, flags: number): Promise<number> {
  return setxattrImpl(t, path, name, value, size, flags, nofollowFinalSymlink);
}

async function setxattrImpl(
  t: Task, pathAddr: PathArg, nameAddr: PathArg, valueAddr: Uint8Array | null, size: number, flags: number,
  follow: shouldFollowFinalSymlink,
): Promise<number> {
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) throw syserror.EINVAL;
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, follow);
  try {
    const name = copyInXattrName(nameAddr);
    const value = copyInXattrValue(valueAddr, size);
    await t.k.vfs.setXattrAt(t, t.creds, tpop.pop, { name, value, flags });
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** fsetxattr implements Linux syscall fsetxattr(2). */
export async function fsetxattr(
  t: Task, fd: number, nameAddr: PathArg, valueAddr: Uint8Array | null, size: number, flags: number,
): Promise<number> {
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) throw syserror.EINVAL;
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const name = copyInXattrName(nameAddr);
    const value = copyInXattrValue(valueAddr, size);
    await file.setXattr(t, { name, value, flags });
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** removexattr implements Linux syscall removexattr(2). */
export function removexattr(t: Task, path: PathArg, name: PathArg): Promise<number> {
  return removexattrImpl(t, path, name, followFinalSymlink);
}

/** lremovexattr implements Linux syscall lremovexattr(2). */
export function lremovexattr(t: Task, path: PathArg, name: PathArg): Promise<number> {
  return removexattrImpl(t, path, name, nofollowFinalSymlink);
}

async function removexattrImpl(t: Task, pathAddr: PathArg, nameAddr: PathArg, follow: shouldFollowFinalSymlink): Promise<number> {
  const path = copyInPath(pathAddr);
  const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, follow);
  try {
    const name = copyInXattrName(nameAddr);
    await t.k.vfs.removeXattrAt(t, t.creds, tpop.pop, name);
    return 0;
  } finally {
    tpop.release(t);
  }
}

/** fremovexattr implements Linux syscall fremovexattr(2). */
export async function fremovexattr(t: Task, fd: number, nameAddr: PathArg): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    const name = copyInXattrName(nameAddr);
    await file.removeXattr(t, name);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** copyInXattrName copies in an xattr name: ERANGE if empty or longer than XATTR_NAME_MAX. */
export function copyInXattrName(nameAddr: unknown): string {
  let name: string;
  try {
    name = copyInString(nameAddr, XATTR_NAME_MAX + 1);
  } catch (err) {
    if (err === syserror.ENAMETOOLONG) throw syserror.ERANGE;
    throw err;
  }
  if (name.length === 0) throw syserror.ERANGE;
  return name;
}

/**
 * copyOutXattrNameList copies names to listAddr as NUL-terminated strings.
 * If size is 0, it only returns the length the list would have.
 */
function copyOutXattrNameList(listAddr: Uint8Array | null, size: number, names: string[]): number {
  if (size > XATTR_LIST_MAX) size = XATTR_LIST_MAX;
  const parts: Buffer[] = [];
  for (const name of names) parts.push(Buffer.from(name + '\0', 'utf8'));
  const buf = Buffer.concat(parts);
  if (size === 0) return buf.length;
  if (buf.length > size) {
    if (size >= XATTR_LIST_MAX) throw syserror.E2BIG;
    throw syserror.ERANGE;
  }
  if (buf.length === 0) return 0;
  return copyOut(listAddr, buf);
}

/** copyInXattrValue copies in an xattr value of size bytes (E2BIG past XATTR_SIZE_MAX). */
function copyInXattrValue(valueAddr: Uint8Array | null, size: number): string {
  if (size < 0) throw syserror.EINVAL;
  if (size > XATTR_SIZE_MAX) throw syserror.E2BIG;
  if (size === 0) return '';
  return userBuffer(valueAddr, size).toString('latin1');
}

/**
 * copyOutXattrValue copies value to valueAddr. If size is 0, it only returns
 * the length of value.
 */
function copyOutXattrValue(valueAddr: Uint8Array | null, size: number, value: string): number {
  if (size > XATTR_SIZE_MAX) size = XATTR_SIZE_MAX;
  const bytes = Buffer.from(value, 'latin1');
  if (size === 0) return bytes.length;
  if (bytes.length > size) {
    if (size >= XATTR_SIZE_MAX) throw syserror.E2BIG;
    throw syserror.ERANGE;
  }
  if (bytes.length === 0) return 0;
  return copyOut(valueAddr, bytes);
}
