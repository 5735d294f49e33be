// The differential cases and the comparison of one case, shared by every
// differential test file: the same call sequences on the sandbox (a task on
// whatever root the test file gives it: tmpfs, or the gofer filesystem in
// each interop mode over each server) and on the host kernel (libc through
// koffi in a host temp directory — a host tmpfs when this process may mount
// one), results and errno compared (DESIGN decision 9: the host kernel is
// the oracle).
//
// Each case runs its setup as root, then its ops as root or as an
// unprivileged user (uid/gid 65534: on the host through setpriv in a child
// process), in a fresh directory on both sides.

import type { ExecutionContext } from 'ava';
import {
  O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RENAME_NOREPLACE,
  S_IFBLK, S_IFDIR, S_IFIFO, S_IFREG, SEEK_CUR, SEEK_END, SEEK_SET, XATTR_CREATE, XATTR_REPLACE,
} from '../../../../pkg/abi/linux/file';
import { errnoName } from '../../../../pkg/abi/linux/errors';
import type { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { canSetpriv, type HostDir, runHost, runHostAs, runSandbox, type Op, type Result } from './oracle';

/** NOBODY is the unprivileged uid/gid the asUser cases run as. */
export const NOBODY = 65534;

/** Case is one differential case: setup as root, then ops as root or as NOBODY. */
export interface Case {
  name: string;
  setup?: Op[];
  ops: Op[];
  /** asUser runs ops as uid/gid 65534 instead of root. */
  asUser?: boolean;
}

const long255 = 'n'.repeat(255);
const long256 = 'n'.repeat(256);

function symlinkChain(n: number): Op[] {
  const ops: Op[] = [['open', 'f', 'target', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['symlink', 'target', 's0']];
  for (let i = 1; i <= n; i++) ops.push(['symlink', `s${i - 1}`, `s${i}`]);
  return ops;
}

/** cases are the differential cases, run on every sandbox root (tmpfs here, the gofer in test/sentry/fsimpl/gofer). */
export const cases: Case[] = [
  {
    name: 'empty paths are ENOENT',
    setup: [['mkdir', 'd', 0o755]],
    ops: [
      ['stat', ''], ['lstat', ''], ['open', 'x', '', O_RDONLY, 0], ['open', 'x', '', O_CREAT | O_WRONLY, 0o644],
      ['mkdir', '', 0o755], ['rmdir', ''], ['unlink', ''], ['rename', '', 'd2', 0], ['rename', 'd', '', 0],
      ['symlink', '', 'l'], ['symlink', 'd', ''], ['readlink', ''], ['link', '', 'h'], ['chmod', '', 0o700],
      ['truncate', '', 0], ['access', '', 0], ['chdir', ''], ['mknod', '', S_IFIFO | 0o644],
    ],
  },
  {
    name: 'trailing slashes: directories only',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'd', 0o755], ['symlink', 'f', 'lf'], ['symlink', 'd', 'ld']],
    ops: [
      ['stat', 'f/'], ['lstat', 'f/'], ['stat', 'd/'], ['stat', 'd//'], ['stat', 'lf/'], ['stat', 'ld/'], ['lstat', 'ld/'],
      ['open', 'a', 'f/', O_RDONLY, 0], ['open', 'b', 'new/', O_CREAT | O_WRONLY, 0o644], ['open', 'c', 'd/', O_RDONLY, 0],
      ['unlink', 'f/'], ['unlink', 'lf/'], ['rmdir', 'f/'], ['mkdir', 'e/', 0o755], ['stat', 'e'], ['rmdir', 'e/'],
      ['rename', 'f', 'g/', 0], ['rename', 'f/', 'g', 0], ['mkdir', 'm', 0o755], ['rename', 'm/', 'n/', 0], ['stat', 'n'],
      ['link', 'f', 'h/'], ['symlink', 'f', 'sl/'], ['mknod', 'p/', S_IFIFO | 0o644], ['truncate', 'f/', 0],
      ['readlink', 'lf/'], ['chdir', 'f/'], ['chdir', 'd/'],
    ],
  },
  {
    name: '"." and ".." components',
    setup: [['mkdir', 'a', 0o755], ['mkdir', 'a/b', 0o755], ['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f']],
    ops: [
      ['stat', 'a/b/..'], ['stat', 'a/b/../..'], ['stat', 'a/./b/.'], ['stat', 'f/..'], ['stat', 'f/.'], ['stat', 'nonexist/..'],
      ['rmdir', 'a/b/..'], ['rmdir', 'a/.'], ['rmdir', '.'], ['rmdir', '..'], ['unlink', 'a/..'], ['unlink', '.'],
      ['mkdir', 'a/..', 0o755], ['mkdir', '.', 0o755], ['rename', 'a/.', 'x', 0], ['rename', 'a/..', 'x', 0],
      ['rename', 'a/b', 'a/b/.', 0], ['rename', 'a/b', '.', 0], ['link', 'f', '.'], ['symlink', 'f', '..'],
      ['open', 'o', '.', O_RDONLY, 0], ['open', 'o2', '.', O_WRONLY, 0], ['open', 'o3', '..', O_CREAT | O_RDONLY, 0o644],
      ['chdir', 'a/b/../b'], ['stat', '../f'], ['stat', '../../' + 'f'],
    ],
  },
  {
    name: 'symlink loops and the 40-link limit (ELOOP)',
    setup: [['symlink', 'l2', 'l1'], ['symlink', 'l1', 'l2'], ['symlink', 'self', 'self'], ...symlinkChain(40)],
    ops: [
      ['stat', 'l1'], ['lstat', 'l1'], ['open', 'x', 'l1', O_CREAT | O_WRONLY, 0o644], ['stat', 'self/x'],
      ['open', 'y', 'self', O_RDONLY, 0], ['open', 'z', 'self', O_RDONLY | O_NOFOLLOW, 0], ['chdir', 'self'],
      ['stat', 's39'], ['stat', 's40'], ['lstat', 's40'], ['readlink', 's40'], ['access', 's40', 0], ['truncate', 's40', 1],
      ['open', 'w', 's39', O_WRONLY | O_TRUNC, 0], ['open', 'v', 's40', O_WRONLY | O_TRUNC, 0],
    ],
  },
  {
    name: 'ENAMETOOLONG: a component over 255 bytes, a path over 4095',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f']],
    ops: [
      ['mkdir', long255, 0o755], ['stat', long255], ['mkdir', long256, 0o755], ['stat', long256],
      ['open', 'a', long256, O_CREAT | O_WRONLY, 0o644], ['symlink', 'f', long256], ['stat', `${long256}/x`],
      ['stat', `nonexist/${long256}`], ['stat', './'.repeat(2046) + 'f'], ['stat', './'.repeat(2047) + 'f'],
      ['stat', './'.repeat(2048) + 'f'], ['symlink', 'x'.repeat(4095), 'long'], ['readlink', 'long'],
      ['symlink', 'x'.repeat(4096), 'long2'], ['rmdir', long255], ['unlink', long256], ['rmdir', long256],
      ['link', 'f', long256], ['rename', 'f', long256, 0],
    ],
  },
  {
    name: 'open flags: O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_TRUNC, O_APPEND, access modes',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['write', 'f', 'hello'], ['close', 'f'], ['mkdir', 'd', 0o755],
      ['symlink', 'f', 'lf'], ['symlink', 'dangling-target', 'dl']],
    ops: [
      ['open', 'a', 'f', O_CREAT | O_EXCL | O_WRONLY, 0o644], ['open', 'b', 'f', O_RDONLY | O_DIRECTORY, 0],
      ['open', 'c', 'd', O_WRONLY, 0], ['open', 'c2', 'd', O_RDWR, 0], ['open', 'e', 'lf', O_RDONLY | O_NOFOLLOW, 0],
      ['open', 'g', 'dl', O_CREAT | O_EXCL | O_WRONLY, 0o644], ['open', 'h', 'dl', O_CREAT | O_WRONLY, 0o600],
      ['stat', 'dangling-target'], ['close', 'h'], ['open', 'd2', 'd', O_RDONLY | O_DIRECTORY, 0], ['close', 'd2'],
      ['open', 'r', 'f', O_RDONLY, 0], ['write', 'r', 'x'], ['read', 'r', 3], ['read', 'r', 10], ['read', 'r', 10],
      ['lseek', 'r', 1, SEEK_SET], ['read', 'r', 2], ['lseek', 'r', -1, SEEK_SET], ['lseek', 'r', 0, 7],
      ['lseek', 'r', 10, SEEK_END], ['read', 'r', 4], ['close', 'r'], ['close', 'r'],
      ['open', 'w', 'f', O_WRONLY | O_APPEND, 0], ['lseek', 'w', 0, SEEK_SET], ['write', 'w', ' world'], ['read', 'w', 1],
      ['ftruncate', 'w', 3], ['fstat', 'w'], ['close', 'w'], ['open', 't', 'f', O_RDWR | O_TRUNC, 0], ['fstat', 't'],
      ['ftruncate', 't', -1], ['write', 't', 'abc'], ['lseek', 't', 0, SEEK_SET], ['read', 't', 10], ['close', 't'],
      ['open', 'ro', 'f', O_RDONLY, 0], ['ftruncate', 'ro', 0], ['close', 'ro'],
    ],
  },
  {
    name: 'O_PATH descriptors: name the file, allow fstat/fchdir, nothing else',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['write', 'f', 'data'], ['close', 'f'], ['mkdir', 'd', 0o755],
      ['symlink', 'f', 'lf']],
    ops: [
      ['open', 'p', 'f', O_PATH, 0], ['read', 'p', 4], ['write', 'p', 'x'], ['fstat', 'p'], ['fchmod', 'p', 0o600],
      ['ftruncate', 'p', 0], ['lseek', 'p', 0, SEEK_SET], ['close', 'p'], ['close', 'p'],
      ['open', 'q', 'd', O_PATH | O_DIRECTORY, 0], ['getdents', 'q'], ['fchdir', 'q'], ['stat', 'f'], ['close', 'q'],
      ['open', 'r', 'lf', O_PATH | O_NOFOLLOW, 0], ['fstat', 'r'], ['read', 'r', 1], ['close', 'r'],
      ['open', 's', 'f', O_PATH | O_WRONLY | O_TRUNC, 0], ['fstat', 's'], ['close', 's'],
    ],
  },
  {
    name: 'open flag corner cases',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['write', 'f', 'abcdef'], ['close', 'f'], ['mkdir', 'd', 0o755]],
    ops: [
      ['open', 'a', 'new', O_CREAT | O_DIRECTORY | O_RDONLY, 0o755], ['stat', 'new'], ['open', 'b', 'd', O_CREAT | O_DIRECTORY | O_RDONLY, 0o755],
      ['open', 'c', 'f', O_RDONLY | O_TRUNC, 0], ['stat', 'f'], ['write', 'f', 'x'],
      ['open', 'w', 'f', O_WRONLY | O_APPEND, 0], ['write', 'w', 'xyz'], ['lseek', 'w', 0, SEEK_CUR], ['close', 'w'],
      ['open', 'e', 'd', O_CREAT | O_EXCL | O_RDONLY, 0o644], ['open', 'g', 'd/', O_CREAT | O_RDONLY, 0o644],
      ['open', 'h', 'f', 3, 0], ['read', 'h', 1], ['write', 'h', 'q'], ['close', 'h'],
      ['open', 'i', 'd', O_RDONLY | 0x4000000, 0], ['open', 'j', 'f', O_RDWR | 0o40000, 0],
    ],
  },
  {
    name: 'set-ID bits: chown and chmod as root',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'd', 0o755]],
    ops: [
      ['chmod', 'f', 0o6755], ['stat', 'f'], ['chown', 'f', 1, 1], ['stat', 'f'], ['chmod', 'f', 0o6745], ['chown', 'f', -1, 2],
      ['stat', 'f'], ['chmod', 'd', 0o2755], ['mkdir', 'd/sub', 0o755], ['stat', 'd/sub'], ['chown', 'd', 5, 5],
      ['open', 'g', 'd/file', O_CREAT | O_WRONLY, 0o644], ['close', 'g'], ['stat', 'd/file'], ['stat', 'd'],
      ['chmod', 'f', 0o7777], ['lchown', 'f', 0, 0], ['stat', 'f'],
    ],
  },
  {
    name: 'set-ID bits as an unprivileged owner: write, truncate and chmod clear or refuse them',
    asUser: true,
    setup: [
      ['mkdir', 'mine', 0o777], ['chown', 'mine', NOBODY, NOBODY], ['open', 'f', 'mine/s', O_CREAT | O_WRONLY, 0o644],
      ['close', 'f'], ['chown', 'mine/s', NOBODY, NOBODY], ['chmod', 'mine/s', 0o6755],
      ['open', 'g', 'mine/t', O_CREAT | O_WRONLY, 0o644], ['close', 'g'], ['chown', 'mine/t', NOBODY, 0], ['chmod', 'mine/t', 0o6755],
    ],
    ops: [
      ['stat', 'mine/s'], ['open', 'w', 'mine/s', O_WRONLY, 0], ['write', 'w', 'x'], ['close', 'w'], ['stat', 'mine/s'],
      ['chmod', 'mine/s', 0o6755], ['stat', 'mine/s'], ['truncate', 'mine/s', 0], ['stat', 'mine/s'],
      ['stat', 'mine/t'], ['chmod', 'mine/t', 0o2755], ['stat', 'mine/t'], ['chown', 'mine/t', -1, NOBODY], ['stat', 'mine/t'],
      ['mkdir', 'mine/sgid', 0o777], ['chmod', 'mine/sgid', 0o2777], ['stat', 'mine/sgid'],
    ],
  },
  {
    name: 'FIFOs: non-blocking opens, data, EOF, ENXIO without readers',
    setup: [['mknod', 'fifo', S_IFIFO | 0o666]],
    ops: [
      ['open', 'w0', 'fifo', O_WRONLY | O_NONBLOCK, 0], ['open', 'r', 'fifo', O_RDONLY | O_NONBLOCK, 0], ['read', 'r', 4],
      ['open', 'w', 'fifo', O_WRONLY | O_NONBLOCK, 0], ['write', 'w', 'data'], ['read', 'r', 2], ['read', 'r', 10],
      ['read', 'r', 10], ['fstat', 'w'], ['lseek', 'r', 0, SEEK_SET], ['close', 'w'], ['read', 'r', 10], ['close', 'r'],
      ['open', 'rw', 'fifo', O_RDWR | O_NONBLOCK, 0], ['write', 'rw', 'xy'], ['read', 'rw', 5], ['close', 'rw'],
      ['truncate', 'fifo', 0], ['stat', 'fifo'],
    ],
  },
  {
    name: 'rename edge cases',
    setup: [
      ['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['link', 'f', 'f2'],
      ['open', 'g', 'g', O_CREAT | O_WRONLY, 0o644], ['close', 'g'],
      ['mkdir', 'd', 0o755], ['mkdir', 'empty', 0o755], ['mkdir', 'full', 0o755], ['mkdir', 'full/x', 0o755],
      ['mkdir', 'd/sub', 0o755],
    ],
    ops: [
      ['rename', 'f', 'f', 0], ['rename', 'f', 'f2', 0], ['stat', 'f'], ['stat', 'f2'], ['rename', 'd', 'd', 0],
      ['rename', 'f', 'd', 0], ['rename', 'd', 'g', 0], ['rename', 'd', 'full', 0], ['rename', 'd', 'd/sub', 0],
      ['rename', 'd', 'd/sub/deeper', 0], ['rename', 'f', 'g', RENAME_NOREPLACE], ['rename', 'nonexist', 'x', 0],
      ['rename', 'f', 'nonexist/x', 0], ['rename', 'g', 'f/x', 0], ['rename', 'd', 'empty', 0], ['stat', 'empty/sub'],
      ['stat', 'd'], ['rename', 'empty', 'd', RENAME_NOREPLACE], ['rename', 'g', 'h', 0], ['getdents', 'x'],
      ['open', 'dir', '.', O_RDONLY | O_DIRECTORY, 0], ['getdents', 'dir'], ['close', 'dir'], ['rename', 'f', 'g', 0x100],
    ],
  },
  {
    name: 'unlink, rmdir, link: wrong file types',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'd', 0o755], ['mkdir', 'full', 0o755],
      ['mkdir', 'full/x', 0o755]],
    ops: [
      ['unlink', 'd'], ['rmdir', 'f'], ['rmdir', 'full'], ['link', 'd', 'd2'], ['link', 'f', 'd'], ['link', 'nonexist', 'z'],
      ['link', 'f', 'f3'], ['stat', 'f'], ['unlink', 'f3'], ['stat', 'f'], ['readlink', 'f'], ['readlink', 'nonexist'],
      ['truncate', 'd', 0], ['truncate', 'f', -1], ['chdir', 'f'], ['chdir', 'nonexist'], ['rmdir', 'full/x'], ['rmdir', 'full'],
    ],
  },
  {
    name: 'umask and creation modes',
    ops: [
      ['umask', 0o077], ['open', 'a', 'a', O_CREAT | O_WRONLY, 0o666], ['stat', 'a'], ['mkdir', 'd', 0o777], ['stat', 'd'],
      ['umask', 0o022], ['mkdir', 'sticky', 0o1777], ['stat', 'sticky'], ['open', 'b', 'b', O_CREAT | O_WRONLY, 0o4755],
      ['stat', 'b'], ['mknod', 'fifo', S_IFIFO | 0o666], ['stat', 'fifo'], ['mknod', 'reg', 0o644], ['stat', 'reg'],
      ['mknod', 'reg2', S_IFREG | 0o600], ['mknod', 'dir', S_IFDIR | 0o755], ['mknod', 'bad', 0o170000 | 0o644],
      ['chmod', 'a', 0o7777], ['stat', 'a'], ['chmod', 'nonexist', 0o600], ['mknod', 'fifo', S_IFIFO | 0o644],
    ],
  },
  {
    name: 'user extended attributes',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f']],
    ops: [
      ['getxattr', 'f', 'user.a'], ['setxattr', 'f', 'user.a', 'v1', 0], ['getxattr', 'f', 'user.a'],
      ['setxattr', 'f', 'user.a', 'v2', XATTR_CREATE], ['setxattr', 'f', 'user.b', 'v', XATTR_REPLACE],
      ['setxattr', 'f', 'user.a', 'v3', XATTR_REPLACE], ['getxattr', 'f', 'user.a'], ['setxattr', 'f', 'user.b', '', 0],
      ['getxattr', 'f', 'user.b'], ['listxattr', 'f'], ['removexattr', 'f', 'user.a'], ['removexattr', 'f', 'user.a'],
      ['listxattr', 'f'], ['setxattr', 'f', 'user.c', 'v', 3], ['setxattr', 'f', '', 'v', 0], ['getxattr', 'nonexist', 'user.a'],
      ['setxattr', 'f', 'user.' + 'x'.repeat(251), 'v', 0], ['setxattr', 'f', 'user.' + 'x'.repeat(250), 'v', 0],
    ],
  },
  {
    name: 'permissions as an unprivileged user',
    asUser: true,
    setup: [
      ['mkdir', 'ro', 0o755], ['open', 'f', 'ro/file', O_CREAT | O_WRONLY, 0o644], ['close', 'f'],
      ['open', 's', 'secret', O_CREAT | O_WRONLY, 0o600], ['close', 's'], ['open', 'p', 'public', O_CREAT | O_WRONLY, 0o666],
      ['close', 'p'], ['mkdir', 'nosearch', 0o766], ['open', 'n', 'nosearch/x', O_CREAT | O_WRONLY, 0o644], ['close', 'n'],
      ['mkdir', 'mine', 0o755], ['chown', 'mine', NOBODY, NOBODY], ['open', 'm', 'mine/file', O_CREAT | O_WRONLY, 0o644],
      ['close', 'm'], ['chown', 'mine/file', NOBODY, NOBODY], ['symlink', 'secret', 'lsecret'],
    ],
    ops: [
      ['open', 'a', 'ro/new', O_CREAT | O_WRONLY, 0o644], ['mkdir', 'ro/d', 0o755], ['unlink', 'ro/file'], ['rename', 'ro/file', 'x', 0],
      ['symlink', 'x', 'ro/l'], ['link', 'ro/file', 'ro/h'], ['open', 'b', 'ro/file', O_WRONLY, 0], ['open', 'c', 'ro/file', O_RDONLY, 0],
      ['close', 'c'], ['open', 'd', 'secret', O_RDONLY, 0], ['stat', 'secret'], ['access', 'secret', 4], ['access', 'secret', 0],
      ['access', 'public', 6], ['access', 'public', 1], ['stat', 'nosearch/x'], ['open', 'e', 'nosearch/x', O_RDONLY, 0],
      ['open', 'nd', 'nosearch', O_RDONLY | O_DIRECTORY, 0], ['getdents', 'nd'], ['close', 'nd'], ['chdir', 'nosearch'],
      ['chmod', 'secret', 0o666], ['chown', 'secret', NOBODY, NOBODY], ['chown', 'mine/file', 0, -1],
      ['chown', 'mine/file', NOBODY, NOBODY], ['chown', 'mine/file', -1, 0], ['chmod', 'mine/file', 0o600], ['stat', 'mine/file'],
      ['utimens', 'public'], ['utimens', 'secret'], ['truncate', 'ro/file', 0], ['truncate', 'public', 1], ['stat', 'public'],
      ['link', 'secret', 'mine/hl'], ['link', 'public', 'mine/hl2'], ['stat', 'lsecret'], ['lstat', 'lsecret'], ['readlink', 'lsecret'],
      ['lchown', 'lsecret', NOBODY, -1], ['rename', 'mine/file', 'mine/file2', 0], ['rename', 'mine', 'mine2', 0],
      ['mkdir', 'mine/sub', 0o700], ['rmdir', 'mine/sub'], ['mknod', 'mine/fifo', S_IFIFO | 0o600], ['mknod', 'mine/blk', S_IFBLK | 0o600],
      ['setxattr', 'public', 'user.a', 'v', 0], ['setxattr', 'mine/file2', 'user.a', 'v', 0], ['getxattr', 'mine/file2', 'user.a'],
      ['setxattr', 'mine/file2', 'trusted.a', 'v', 0], ['getxattr', 'secret', 'user.a'],
      ['unlink', 'ro/nonexist'], ['rmdir', 'ro/nonexist'], ['rename', 'ro/nonexist', 'mine2/x', 0], ['mkdir', 'ro/file', 0o755],
      ['open', 'x', 'ro/file', O_CREAT | O_EXCL | O_WRONLY, 0o644], ['symlink', 'x', 'ro/file'], ['link', 'public', 'ro/file'],
      ['mknod', 'ro/file', S_IFIFO | 0o644], ['rename', 'mine2/file2', 'ro/file', 0],
    ],
  },
  {
    name: 'sticky directories (restricted deletion)',
    asUser: true,
    setup: [
      ['mkdir', 'st', 0o777], ['chmod', 'st', 0o1777], ['open', 'r', 'st/rootfile', O_CREAT | O_WRONLY, 0o666], ['close', 'r'],
      ['mkdir', 'st/rootdir', 0o777], ['mkdir', 'plain', 0o777], ['open', 'q', 'plain/rootfile', O_CREAT | O_WRONLY, 0o666],
      ['close', 'q'], ['mkdir', 'st2', 0o777], ['chmod', 'st2', 0o1777], ['chown', 'st2', NOBODY, NOBODY], ['open', 'u', 'st2/rootfile', O_CREAT | O_WRONLY, 0o644],
      ['close', 'u'],
    ],
    ops: [
      ['unlink', 'st/rootfile'], ['rename', 'st/rootfile', 'st/x', 0], ['rmdir', 'st/rootdir'], ['rename', 'st/rootdir', 'st/y', 0],
      ['open', 'm', 'st/mine', O_CREAT | O_WRONLY, 0o644], ['close', 'm'], ['rename', 'st/mine', 'st/rootfile', 0],
      ['rename', 'st/mine', 'st/mine2', 0], ['unlink', 'st/mine2'], ['unlink', 'plain/rootfile'],
      ['unlink', 'st2/rootfile'], ['open', 'w', 'st/rootfile', O_WRONLY, 0], ['write', 'w', 'ok'], ['close', 'w'],
      ['unlink', 'st/nonexist'], ['rename', 'st/nonexist', 'st/x', 0], ['rmdir', 'st/nonexist'],
    ],
  },
];

/** show prints an op for a message, long names shortened. */
export function show(op: Op): string {
  return JSON.stringify(op.map((a) => (typeof a === 'string' && a.length > 40 ? `${a.slice(0, 12)}…(${a.length})` : a)));
}

/** norm turns -errno into its name. */
export function norm(r: Result): Result {
  return typeof r === 'number' && r < 0 ? errnoName(-r) : r;
}

/** Sandbox says where a case runs in the sandbox: a kernel and the absolute directory its case directories go in. */
export interface Sandbox {
  k: Kernel;
  /** base is an absolute sandbox path of a directory that root may create entries in ("/w"). */
  base: string;
}

/**
 * runCase runs case c in a fresh directory dirName of the sandbox (under
 * sb.base) and of host, and compares. known lists accepted differences by
 * "case name" + " " + show(op): each is logged loudly when it occurs; one
 * that stops occurring fails the test, so that the list stays true.
 */
export async function runCase(t: ExecutionContext, c: Case, sb: Sandbox, host: HostDir, dirName: string,
  known: Record<string, string>): Promise<void> {
  if (c.asUser && !canSetpriv()) {
    t.log('SKIPPED: the host side needs root and /usr/bin/setpriv to run as an unprivileged user');
    process.stderr.write(`SKIPPED differential "${c.name}": not root or no setpriv\n`);
    t.pass();
    return;
  }
  const { k } = sb;
  const cwd = `${sb.base}/${dirName}`;
  // Sandbox: a fresh directory, setup as root, ops as root or nobody.
  const rootTask = await k.newTask();
  await rootTask.fs.mkdir(cwd, 0o777);
  await rootTask.fs.chmod(cwd, 0o777);
  await rootTask.release();
  const setupTask = await k.newTask({ cwd });
  const sandboxSetup = await runSandbox(setupTask, c.setup ?? []);
  await setupTask.release();
  const opsTask = await k.newTask(c.asUser ? { uid: NOBODY, gid: NOBODY, cwd } : { cwd });
  const sandbox = await runSandbox(opsTask, c.ops);
  await opsTask.release();

  // Host: the same in a fresh host directory.
  const dir = host.sub(dirName);
  const hostSetup = runHost(dir, c.setup ?? []);
  const hostRes = c.asUser ? runHostAs(dir, c.ops, NOBODY, NOBODY) : runHost(dir, c.ops);

  t.deepEqual(sandboxSetup.map(norm), hostSetup.map(norm), 'setup');
  const mismatches: string[] = [];
  const knownHere = new Set(Object.keys(known).filter((key) => key.startsWith(c.name + ' ')));
  const knownSeen = new Set<string>();
  c.ops.forEach((op, i) => {
    const a = JSON.stringify(norm(sandbox[i]!));
    const b = JSON.stringify(norm(hostRes[i]!));
    const key = `${c.name} ${show(op)}`;
    if (a === b) return;
    if (knownHere.has(key)) {
      knownSeen.add(key);
      t.log(`KNOWN DIFFERENCE ${show(op)}: sandbox ${a}, host ${b} — ${known[key]}`);
      process.stderr.write(`KNOWN DIFFERENCE (${c.name}) ${show(op)}: sandbox ${a}, host ${b} — ${known[key]}\n`);
      return;
    }
    mismatches.push(`${show(op)}: sandbox ${a}, host ${b}`);
  });
  t.deepEqual([...knownHere].filter((k) => !knownSeen.has(k)), [], 'known differences that no longer occur: remove them from the list');
  if (!host.tmpfs) t.log('host side on the temp directory\'s filesystem (no tmpfs mount)');
  t.deepEqual(mismatches, []);
}
