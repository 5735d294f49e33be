// The differential test harness: one script of file-system calls, run on
// the sandbox (a task on a tmpfs root) and on the host kernel (libc through
// koffi, in a host temp directory, optionally as another user in a child
// process), with results normalized so that they can be compared.
//
// A script is a list of ops; every path is relative (the sandbox runs in a
// directory of its tmpfs, the host in its temp directory), and open file
// descriptors are named by labels, since fd numbers differ. The result of an
// op is -errno, or a normalized value (0, a byte count, a string read, a
// stat summary, sorted directory names).
//
// Run as a program (`node -r ts-node/register/transpile-only oracle.ts`),
// it reads {dir, ops} on stdin and prints the host results: that is how the
// host side runs as an unprivileged user (setpriv in front of it).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import { AT_FDCWD, S_IFMT } from '../../../../pkg/abi/linux/file';
import { parseDirents64 } from '../../../../pkg/abi/linux/dirent';
import type { Task } from '../../../../pkg/sentry/kernel/task';

/** Op is one call of a script. */
export type Op =
  | ['open', string, string, number, number]
  | ['close', string]
  | ['read', string, number]
  | ['write', string, string]
  | ['lseek', string, number, number]
  | ['ftruncate', string, number]
  | ['fstat', string]
  | ['fchmod', string, number]
  | ['fchdir', string]
  | ['getdents', string]
  | ['mkdir', string, number]
  | ['rmdir', string]
  | ['unlink', string]
  | ['rename', string, string, number]
  | ['link', string, string]
  | ['symlink', string, string]
  | ['readlink', string]
  | ['stat', string]
  | ['lstat', string]
  | ['chmod', string, number]
  | ['chown', string, number, number]
  | ['lchown', string, number, number]
  | ['truncate', string, number]
  | ['access', string, number]
  | ['chdir', string]
  | ['mknod', string, number]
  | ['utimens', string]
  | ['umask', number]
  | ['setxattr', string, string, string, number]
  | ['getxattr', string, string]
  | ['listxattr', string]
  | ['removexattr', string, string];

/** Result is an op's normalized result. */
export type Result = number | string | string[] | StatSummary;

/** StatSummary is the part of struct stat that is comparable across filesystems. */
export interface StatSummary {
  type: number;
  perm: number;
  size: number | null;
  nlink: number;
  uid: number;
  gid: number;
}

function summary(mode: number, size: number, nlink: number, uid: number, gid: number): StatSummary {
  const type = mode & S_IFMT;
  // Sizes of directories and symlinks differ across filesystems.
  return { type, perm: mode & 0o7777, size: type === 0o100000 ? size : null, nlink, uid, gid };
}

function decodeStat(b: Buffer): StatSummary {
  return summary(b.readUInt32LE(24), Number(b.readBigInt64LE(48)), Number(b.readBigUInt64LE(16)), b.readUInt32LE(28), b.readUInt32LE(32));
}

// Directory listings are sorted: their order is the filesystem's.
function names(buf: Buffer): string[] {
  return parseDirents64(buf).map((d) => d.name).sort();
}

/** runSandbox runs ops on task t (whose working directory is the test directory). */
export async function runSandbox(t: Task, ops: Op[]): Promise<Result[]> {
  const s = t.sys;
  const fds = new Map<string, number>();
  const fdOf = (l: string): number => fds.get(l) ?? 1_000_000;
  const out: Result[] = [];
  for (const op of ops) {
    let r: Result;
    switch (op[0]) {
      case 'open': {
        const fd = await s.openat(AT_FDCWD, op[2], op[3], op[4]);
        if (fd >= 0) fds.set(op[1], fd);
        r = fd >= 0 ? 0 : fd;
        break;
      }
      case 'close':
        r = await s.close(fdOf(op[1]));
        break;
      case 'read': {
        const b = Buffer.alloc(op[2]);
        const n = await s.read(fdOf(op[1]), b, op[2]);
        r = n < 0 ? n : b.subarray(0, n).toString('latin1');
        break;
      }
      case 'write': {
        const b = Buffer.from(op[2], 'latin1');
        r = await s.write(fdOf(op[1]), b, b.length);
        break;
      }
      case 'lseek':
        r = await s.lseek(fdOf(op[1]), op[2], op[3]);
        break;
      case 'ftruncate':
        r = await s.ftruncate(fdOf(op[1]), op[2]);
        break;
      case 'fstat': {
        const b = Buffer.alloc(144);
        const n = await s.fstat(fdOf(op[1]), b);
        r = n < 0 ? n : decodeStat(b);
        break;
      }
      case 'fchmod':
        r = await s.fchmod(fdOf(op[1]), op[2]);
        break;
      case 'fchdir':
        r = await s.fchdir(fdOf(op[1]));
        break;
      case 'getdents': {
        const b = Buffer.alloc(65536);
        const n = await s.getdents64(fdOf(op[1]), b, b.length);
        r = n < 0 ? n : names(b.subarray(0, n));
        break;
      }
      case 'mkdir':
        r = await s.mkdir(op[1], op[2]);
        break;
      case 'rmdir':
        r = await s.rmdir(op[1]);
        break;
      case 'unlink':
        r = await s.unlink(op[1]);
        break;
      case 'rename':
        r = await s.renameat2(AT_FDCWD, op[1], AT_FDCWD, op[2], op[3]);
        break;
      case 'link':
        r = await s.link(op[1], op[2]);
        break;
      case 'symlink':
        r = await s.symlink(op[1], op[2]);
        break;
      case 'readlink': {
        const b = Buffer.alloc(4096);
        const n = await s.readlink(op[1], b, b.length);
        r = n < 0 ? n : b.subarray(0, n).toString('utf8');
        break;
      }
      case 'stat':
      case 'lstat': {
        const b = Buffer.alloc(144);
        const n = op[0] === 'stat' ? await s.stat(op[1], b) : await s.lstat(op[1], b);
        r = n < 0 ? n : decodeStat(b);
        break;
      }
      case 'chmod':
        r = await s.chmod(op[1], op[2]);
        break;
      case 'chown':
        r = await s.chown(op[1], op[2], op[3]);
        break;
      case 'lchown':
        r = await s.lchown(op[1], op[2], op[3]);
        break;
      case 'truncate':
        r = await s.truncate(op[1], op[2]);
        break;
      case 'access':
        r = await s.access(op[1], op[2]);
        break;
      case 'chdir':
        r = await s.chdir(op[1]);
        break;
      case 'mknod':
        r = await s.mknod(op[1], op[2], 0);
        break;
      case 'utimens':
        r = await s.utimensat(AT_FDCWD, op[1], null, 0);
        break;
      case 'umask':
        r = await s.umask(op[1]);
        break;
      case 'setxattr': {
        const v = Buffer.from(op[3], 'latin1');
        r = await s.setxattr(op[1], op[2], v, v.length, op[4]);
        break;
      }
      case 'getxattr': {
        const b = Buffer.alloc(4096);
        const n = await s.getxattr(op[1], op[2], b, b.length);
        r = n < 0 ? n : b.subarray(0, n).toString('latin1');
        break;
      }
      case 'listxattr': {
        const b = Buffer.alloc(4096);
        const n = await s.listxattr(op[1], b, b.length);
        r = n < 0 ? n : b.subarray(0, n).toString('latin1').split('\0').filter((x) => x.startsWith('user.')).sort();
        break;
      }
      case 'removexattr':
        r = await s.removexattr(op[1], op[2]);
        break;
    }
    out.push(r);
  }
  return out;
}

// The host side: libc through koffi, each call answering -errno.

interface libcFuncs {
  [name: string]: koffi.KoffiFunction;
}

let libcCache: libcFuncs | null = null;

function libc(): libcFuncs {
  if (libcCache !== null) return libcCache;
  const lib = koffi.load('libc.so.6');
  const decls: Record<string, string> = {
    open: 'int open(const char *path, int flags, uint32_t mode)',
    close: 'int close(int fd)',
    read: 'int64_t read(int fd, _Out_ void *buf, uint64_t count)',
    write: 'int64_t write(int fd, const void *buf, uint64_t count)',
    lseek: 'int64_t lseek(int fd, int64_t offset, int whence)',
    ftruncate: 'int ftruncate(int fd, int64_t length)',
    fstat: 'int fstat(int fd, _Out_ void *statbuf)',
    fchmod: 'int fchmod(int fd, uint32_t mode)',
    fchdir: 'int fchdir(int fd)',
    getdents64: 'int64_t getdents64(int fd, _Out_ void *buf, uint64_t count)',
    mkdir: 'int mkdir(const char *path, uint32_t mode)',
    rmdir: 'int rmdir(const char *path)',
    unlink: 'int unlink(const char *path)',
    renameat2: 'int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, uint32_t flags)',
    link: 'int link(const char *oldpath, const char *newpath)',
    symlink: 'int symlink(const char *target, const char *linkpath)',
    readlink: 'int64_t readlink(const char *path, _Out_ void *buf, uint64_t bufsiz)',
    stat: 'int stat(const char *path, _Out_ void *statbuf)',
    lstat: 'int lstat(const char *path, _Out_ void *statbuf)',
    chmod: 'int chmod(const char *path, uint32_t mode)',
    chown: 'int chown(const char *path, uint32_t uid, uint32_t gid)',
    lchown: 'int lchown(const char *path, uint32_t uid, uint32_t gid)',
    truncate: 'int truncate(const char *path, int64_t length)',
    access: 'int access(const char *path, int mode)',
    chdir: 'int chdir(const char *path)',
    mknod: 'int mknod(const char *path, uint32_t mode, uint64_t dev)',
    utimensat: 'int utimensat(int dirfd, const char *path, const void *times, int flags)',
    umask: 'uint32_t umask(uint32_t mask)',
    setxattr: 'int setxattr(const char *path, const char *name, const void *value, uint64_t size, int flags)',
    getxattr: 'int64_t getxattr(const char *path, const char *name, _Out_ void *value, uint64_t size)',
    listxattr: 'int64_t listxattr(const char *path, _Out_ void *list, uint64_t size)',
    removexattr: 'int removexattr(const char *path, const char *name)',
  };
  const f: libcFuncs = {};
  for (const [name, decl] of Object.entries(decls)) f[name] = lib.func(decl);
  libcCache = f;
  return f;
}

function call(fn: koffi.KoffiFunction, ...args: unknown[]): number {
  const r = Number(fn(...args));
  return r < 0 ? -koffi.errno() : r;
}

/** runHost runs ops in this process, in directory dir (it chdirs there and back). */
export function runHost(dir: string, ops: Op[]): Result[] {
  const c = libc();
  const saved = process.cwd();
  const savedUmask = process.umask(0o022);
  process.chdir(dir);
  const fds = new Map<string, number>();
  const fdOf = (l: string): number => fds.get(l) ?? 1_000_000;
  const out: Result[] = [];
  try {
    for (const op of ops) {
      let r: Result;
      switch (op[0]) {
        case 'open': {
          const fd = call(c.open!, op[2], op[3], op[4]);
          if (fd >= 0) fds.set(op[1], fd);
          r = fd >= 0 ? 0 : fd;
          break;
        }
        case 'close':
          r = call(c.close!, fdOf(op[1]));
          if (r === 0) fds.delete(op[1]);
          break;
        case 'read': {
          const b = Buffer.alloc(op[2]);
          const n = call(c.read!, fdOf(op[1]), b, op[2]);
          r = n < 0 ? n : b.subarray(0, n).toString('latin1');
          break;
        }
        case 'write': {
          const b = Buffer.from(op[2], 'latin1');
          r = call(c.write!, fdOf(op[1]), b, b.length);
          break;
        }
        case 'lseek':
          r = call(c.lseek!, fdOf(op[1]), op[2], op[3]);
          break;
        case 'ftruncate':
          r = call(c.ftruncate!, fdOf(op[1]), op[2]);
          break;
        case 'fstat': {
          const b = Buffer.alloc(144);
          const n = call(c.fstat!, fdOf(op[1]), b);
          r = n < 0 ? n : decodeStat(b);
          break;
        }
        case 'fchmod':
          r = call(c.fchmod!, fdOf(op[1]), op[2]);
          break;
        case 'fchdir':
          r = call(c.fchdir!, fdOf(op[1]));
          break;
        case 'getdents': {
          const b = Buffer.alloc(65536);
          const n = call(c.getdents64!, fdOf(op[1]), b, b.length);
          r = n < 0 ? n : names(b.subarray(0, n));
          break;
        }
        case 'mkdir':
          r = call(c.mkdir!, op[1], op[2]);
          break;
        case 'rmdir':
          r = call(c.rmdir!, op[1]);
          break;
        case 'unlink':
          r = call(c.unlink!, op[1]);
          break;
        case 'rename':
          r = call(c.renameat2!, AT_FDCWD, op[1], AT_FDCWD, op[2], op[3]);
          break;
        case 'link':
          r = call(c.link!, op[1], op[2]);
          break;
        case 'symlink':
          r = call(c.symlink!, op[1], op[2]);
          break;
        case 'readlink': {
          const b = Buffer.alloc(4096);
          const n = call(c.readlink!, op[1], b, b.length);
          r = n < 0 ? n : b.subarray(0, n).toString('utf8');
          break;
        }
        case 'stat':
        case 'lstat': {
          const b = Buffer.alloc(144);
          const n = call(op[0] === 'stat' ? c.stat! : c.lstat!, op[1], b);
          r = n < 0 ? n : decodeStat(b);
          break;
        }
        case 'chmod':
          r = call(c.chmod!, op[1], op[2]);
          break;
        case 'chown':
          r = call(c.chown!, op[1], op[2] >>> 0, op[3] >>> 0);
          break;
        case 'lchown':
          r = call(c.lchown!, op[1], op[2] >>> 0, op[3] >>> 0);
          break;
        case 'truncate':
          r = call(c.truncate!, op[1], op[2]);
          break;
        case 'access':
          r = call(c.access!, op[1], op[2]);
          break;
        case 'chdir':
          r = call(c.chdir!, op[1]);
          break;
        case 'mknod':
          r = call(c.mknod!, op[1], op[2], 0);
          break;
        case 'utimens':
          r = call(c.utimensat!, AT_FDCWD, op[1], null, 0);
          break;
        case 'umask':
          r = call(c.umask!, op[1]);
          break;
        case 'setxattr': {
          const v = Buffer.from(op[3], 'latin1');
          r = call(c.setxattr!, op[1], op[2], v, v.length, op[4]);
          break;
        }
        case 'getxattr': {
          const b = Buffer.alloc(4096);
          const n = call(c.getxattr!, op[1], op[2], b, b.length);
          r = n < 0 ? n : b.subarray(0, n).toString('latin1');
          break;
        }
        case 'listxattr': {
          const b = Buffer.alloc(4096);
          const n = call(c.listxattr!, op[1], b, b.length);
          r = n < 0 ? n : b.subarray(0, n).toString('latin1').split('\0').filter((x) => x.startsWith('user.')).sort();
          break;
        }
        case 'removexattr':
          r = call(c.removexattr!, op[1], op[2]);
          break;
      }
      out.push(r);
    }
  } finally {
    for (const fd of fds.values()) call(c.close!, fd);
    process.chdir(saved);
    process.umask(savedUmask);
  }
  return out;
}

const tsNode = require.resolve('ts-node/register/transpile-only');

/**
 * runHostAs runs ops on the host as uid/gid (setpriv, in a child process),
 * with umask 022 (the sandbox task's default).
 */
export function runHostAs(dir: string, ops: Op[], uid: number, gid: number): Result[] {
  const res = spawnSync('/usr/bin/setpriv', [
    `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all',
    process.execPath, '-r', tsNode, __filename,
  ], { input: JSON.stringify({ dir, ops }), encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`host runner failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as Result[];
}

/** canSetpriv reports whether the host side can run as another user. */
export function canSetpriv(): boolean {
  return process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv');
}

/**
 * HostDir is a host temp directory for one test file: a tmpfs mounted on it
 * when this process may mount (so that the host side is the same
 * filesystem type as the sandbox's), else a plain directory.
 */
export class HostDir {
  readonly path: string;
  readonly tmpfs: boolean;

  constructor() {
    this.path = fs.mkdtempSync(path.join(os.tmpdir(), 'gvisor-ts-diff-'));
    fs.chmodSync(this.path, 0o755);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'none', this.path], { encoding: 'utf8' });
    this.tmpfs = r.status === 0;
  }

  /** sub makes a fresh subdirectory (mode 0777 so that any user may work in it) and returns its path. */
  sub(name: string, mode = 0o777): string {
    const p = path.join(this.path, name);
    fs.mkdirSync(p);
    fs.chmodSync(p, mode);
    return p;
  }

  cleanup(): void {
    if (this.tmpfs) spawnSync('umount', ['-l', this.path]);
    fs.rmSync(this.path, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // Child mode: {dir, ops} on stdin, results on stdout.
  const input = JSON.parse(fs.readFileSync(0, 'utf8')) as { dir: string; ops: Op[] };
  process.umask(0o022);
  process.stdout.write(JSON.stringify(runHost(input.dir, input.ops)));
}

