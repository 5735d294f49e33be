// The pjdfstest program's contract (github.com/pjd/pjdfstest, pjdfstest.c,
// as configure builds it on Linux with glibc), executed on a sandbox task:
// `[-U umask] [-u uid] [-g gid1[,gid2...]] syscall args [: syscall args ...]`.
// Each call prints "0", an errno name (and the chain stops, exit status 1),
// or the requested stat fields; descriptors are named by their position
// among the descriptors the chain opened. Calls configure leaves out on
// Linux (chflags and its variants, lpathconf, bindat, connectat, ACLs) are
// "not supported", as there. C library wrappers that are not one system
// call (lchmod, pathconf, posix_fallocate) do what glibc does; bind and
// connect, which need a socket layer the sandbox does not have, do what
// Linux's unix_bind/unix_find_bsd do to the filesystem.

import { Errno, errnoName } from '../abi/linux/errors';
import {
  AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_APPEND, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL,
  O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
  S_IFMT, S_IFLNK, S_IFREG, S_IFSOCK, UTIME_NOW, UTIME_OMIT, W_OK,
} from '../abi/linux/file';
import type { Kernel } from '../sentry/kernel/kernel';
import type { Task } from '../sentry/kernel/task';
import { syscallTable } from '../sentry/syscalls/linux/sys';

/** PjdResult is what the pjdfstest program would print, and its exit status. */
export interface PjdResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** PjdCreds are the caller's credentials, which pjdfstest inherits before -u/-g. */
export interface PjdCreds {
  uid: number;
  gid: number;
  groups: number[];
}

const rootCreds: PjdCreds = { uid: 0, gid: 0, groups: [] };

type ArgType = 'str' | 'num' | 'fd';
interface Desc {
  args: ArgType[];
  /** optional is the index of the first optional argument (TYPE_OPTIONAL). */
  optional?: number;
}

const S = 'str' as const;
const N = 'num' as const;
const D = 'fd' as const;

// The syscall table of pjdfstest.c as configure builds it on Linux/glibc:
// HAVE_LCHMOD, HAVE_POSIX_FALLOCATE and HAVE_UTIMENSAT are set; chflags,
// lpathconf, bindat, connectat and the NFSv4 ACL calls are not.
const descs: Record<string, Desc> = {
  open: { args: [S, S, N], optional: 2 },
  openat: { args: [D, S, S, N], optional: 3 },
  create: { args: [S, N] },
  unlink: { args: [S] },
  unlinkat: { args: [D, S, S] },
  mkdir: { args: [S, N] },
  mkdirat: { args: [D, S, N] },
  rmdir: { args: [S] },
  link: { args: [S, S] },
  linkat: { args: [D, S, D, S, S] },
  symlink: { args: [S, S] },
  symlinkat: { args: [S, D, S] },
  rename: { args: [S, S] },
  renameat: { args: [D, S, D, S] },
  mkfifo: { args: [S, N] },
  mkfifoat: { args: [D, S, N] },
  mknod: { args: [S, S, N, N, N] },
  mknodat: { args: [D, S, S, N, N, N] },
  bind: { args: [S] },
  connect: { args: [S] },
  chmod: { args: [S, N] },
  fchmod: { args: [D, N] },
  lchmod: { args: [S, N] },
  fchmodat: { args: [D, S, N, S] },
  chown: { args: [S, N, N] },
  fchown: { args: [D, N, N] },
  lchown: { args: [S, N, N] },
  fchownat: { args: [D, S, N, N, S] },
  truncate: { args: [S, N] },
  ftruncate: { args: [D, N] },
  posix_fallocate: { args: [D, N, N] },
  stat: { args: [S, S] },
  fstat: { args: [D, S] },
  lstat: { args: [S, S] },
  fstatat: { args: [D, S, S, S] },
  pathconf: { args: [S, S] },
  fpathconf: { args: [D, S] },
  pread: { args: [D, N, N] },
  pwrite: { args: [D, S, N] },
  write: { args: [D, S] },
  utimensat: { args: [D, S, N, S, N, S, S] },
};

const openFlags: Record<string, number> = {
  // glibc defines O_FSYNC as O_SYNC.
  O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC, O_EXCL, O_DIRECT, O_FSYNC: O_SYNC, O_SYNC, O_NOFOLLOW, O_NOCTTY, O_DIRECTORY,
};

class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/**
 * badPointer stands for the "DEADCODE" string argument, pjdfstest's
 * (void *)0xdeadc0de: not a string nor bytes, so the sandbox's syscalls
 * answer EFAULT, as Linux does for an unmapped address.
 */
const badPointer: unknown = Object.freeze({ address: 0xdeadc0de });

/**
 * strtoll parses a C number as strtoll(s, &end, 0) with pjdfstest's check
 * (only white space may follow): 0x hex, 0 octal, decimal, a sign, leading
 * white space; null when something else follows. Out of range saturates.
 */
export function strtoll(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[ \t\n\v\f\r].*)?$/s.exec(s);
  if (m === null) return null;
  const body = m[2]!;
  const big = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body.startsWith('0') ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
  const v = m[1] === '-' ? -big : big;
  const max = (1n << 63n) - 1n;
  return Number(v > max ? max : v < -max - 1n ? -max - 1n : v);
}

// strtol10 is strtol(s, NULL, 10): the leading decimal number, 0 when none.
function strtol10(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  return m === null ? 0 : parseInt(m[1]!, 10);
}

function flagsOf(table: Record<string, number>, s: string, err: (m: string) => never): number {
  if (s === 'none' || s === '0') return 0;
  let v = 0;
  for (const f of s.split(/[,|]/).filter((x) => x !== '')) {
    const n = table[f];
    if (n === undefined) err(`unknown flag '${f}'`);
    v |= n;
  }
  return v;
}

const typeWords = new Map<number, string>([
  [S_IFIFO, 'fifo'], [S_IFCHR, 'char'], [S_IFDIR, 'dir'], [S_IFBLK, 'block'], [S_IFREG, 'regular'], [S_IFLNK, 'symlink'], [S_IFSOCK, 'socket'],
]);

// showStats formats the requested fields of a struct stat (x86_64 layout),
// as pjdfstest.c's show_stats does with glibc's st_* fields.
function showStats(b: Buffer, what: string): string {
  const mode = b.readUInt32LE(24);
  const rdev = b.readBigUInt64LE(40);
  const field = (w: string): string => {
    switch (w) {
      case 'mode': return `0${(mode & 0o7777).toString(8)}`;
      case 'inode': return b.readBigUInt64LE(8).toString();
      case 'nlink': return b.readBigUInt64LE(16).toString();
      case 'uid': return String(b.readInt32LE(28));
      case 'gid': return String(b.readInt32LE(32));
      case 'size': return b.readBigInt64LE(48).toString();
      case 'blocks': return b.readBigInt64LE(64).toString();
      case 'atime': return b.readBigInt64LE(72).toString();
      case 'atime_ns': return b.readBigInt64LE(80).toString();
      case 'mtime': return b.readBigInt64LE(88).toString();
      case 'mtime_ns': return b.readBigInt64LE(96).toString();
      case 'ctime': return b.readBigInt64LE(104).toString();
      case 'ctime_ns': return b.readBigInt64LE(112).toString();
      // glibc's major()/minor() of a 64-bit dev_t.
      case 'major': return (((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn & 0xffffffffn)).toString();
      case 'minor': return ((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn & 0xffffffffn)).toString();
      case 'type': return typeWords.get(mode & S_IFMT) ?? 'unknown';
      default: return 'unknown';
    }
  };
  return what.split(',').filter((w) => w !== '').map(field).join(',');
}

/**
 * runPjdfstest runs one pjdfstest command line (argv without the program
 * name) on a new task of kernel k whose working directory is cwd. creds
 * are the caller's credentials (pjdfstest keeps them unless -u/-g change
 * them); root's by default.
 */
export async function runPjdfstest(k: Kernel, argv: string[], cwd: string, creds: PjdCreds = rootCreds): Promise<PjdResult> {
  let stdout = '';
  let stderr = '';
  const usage = 'usage: pjdfstest [-U umask] [-u uid] [-g gid1[,gid2[...]]] syscall args ...\n';
  // getopt("g:u:U:"): options come first.
  let uid = -1;
  let gids: number[] | null = null;
  let umask = 0;
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-' && argv[i] !== '--') {
    const opt = argv[i]!;
    const letter = opt[1];
    const val = opt.length > 2 ? opt.slice(2) : argv[++i];
    i++;
    if (val === undefined || (letter !== 'g' && letter !== 'u' && letter !== 'U')) return { stdout, stderr: usage, status: 1 };
    if (letter === 'g') {
      gids = [];
      for (const g of val.split(',').filter((x) => x !== '')) {
        const n = strtoll(g);
        if (n === null) return { stdout, stderr: `invalid gid '${g}' - number expected\n`, status: 1 };
        gids.push(n);
      }
    } else {
      const n = strtoll(val);
      if (n === null) return { stdout, stderr: `invalid ${letter === 'u' ? 'uid' : 'umask'} '${val}' - number expected\n`, status: 1 };
      if (letter === 'u') uid = n;
      else umask = n;
    }
  }
  if (argv[i] === '--') i++;
  if (i >= argv.length) return { stdout, stderr: `too few arguments\n${usage}`, status: 1 };
  // pjdfstest sets the groups to -g and the effective gid to its first,
  // then setuid(-u); what it was not told to change stays the caller's.
  let gid = creds.gid;
  let groups = creds.groups;
  if (gids !== null) {
    stderr += `changing groups to ${gids.join(',')}\n`;
    groups = gids;
    if (gids.length > 0) gid = gids[0]!;
  }
  if (uid !== -1) stderr += `changing uid to ${uid}\n`;
  const t: Task = await k.newTask({ uid: uid === -1 ? creds.uid : uid, gid, groups, umask: umask & 0o777, cwd });
  const descriptors: number[] = [];
  let status = 0;
  try {
    let args = argv.slice(i);
    for (;;) {
      const name = args[0]!;
      const desc = descs[name];
      if (desc === undefined) throw fail(`syscall '${name}' not supported`);
      const rest = args.slice(1);
      const end = rest.indexOf(':');
      const words = end === -1 ? rest : rest.slice(0, end);
      if (words.length > desc.args.length) throw fail(`too many arguments [${words[desc.args.length]!}]`);
      if (words.length < (desc.optional ?? desc.args.length)) throw fail('too few arguments');
      const v: unknown[] = words.map((w, j) => {
        const ty = desc.args[j]!;
        if (ty === 'str') return w === 'NULL' ? null : w === 'DEADCODE' ? badPointer : w;
        if (ty === 'num') {
          const n = strtoll(w);
          if (n === null) throw fail(`invalid argument ${j}, number expected [${w}]`);
          return n;
        }
        if (w === 'AT_FDCWD') return AT_FDCWD;
        if (w === 'BADFD') return -1;
        const pos = strtoll(w);
        if (pos === null) throw fail(`invalid argument ${j}, number expected [${w}]`);
        if (pos < 0 || pos >= descriptors.length) throw fail(`invalid descriptor ${pos}`);
        return descriptors[pos]!;
      });
      const out = await callOne(t, name, v, words.length, descriptors);
      if (typeof out === 'string') {
        stdout += `${out}\n`;
      } else if (out < 0) {
        stderr += `${name} returned -1\n`;
        stdout += `${errName(-out)}\n`;
        throw new Exit(1);
      } else {
        stdout += '0\n';
      }
      if (end === -1) break;
      args = rest.slice(end + 1);
      if (args.length === 0) break;
    }
  } catch (e) {
    if (e instanceof Failure) {
      stderr += e.message;
      status = 1;
    } else if (e instanceof Exit) {
      status = e.status;
    } else {
      throw e;
    }
  } finally {
    await t.release();
  }
  return { stdout, stderr, status };
}

// Failure is pjdfstest's fprintf(stderr, ...); exit(1) for bad arguments.
class Failure extends Error {}

function fail(m: string, newline = true): Failure {
  return new Failure(newline ? `${m}\n` : m);
}

// errName is pjdfstest's err2str: the errno's name, or its number.
function errName(n: number): string {
  const s = errnoName(n);
  return s === `E${n}` ? String(n) : s;
}

// glibc's __statfs_link_max: the link limit of a filesystem type. The
// sandbox's filesystems (9p, tmpfs) are not in glibc's list: LINUX_LINK_MAX.
const linkMaxByMagic = new Map<bigint, number>([
  [0x58465342n, 2147483647], // XFS_SUPER_MAGIC
  [0x9123683en, 65535], // BTRFS_SUPER_MAGIC
]);
const LINUX_LINK_MAX = 127;
const PATH_MAX = 4096;

// callOne makes one call: a raw result (or -errno), or a line to print.
async function callOne(t: Task, name: string, v: unknown[], n: number, descriptors: number[]): Promise<number | string> {
  const sys = (call: string, ...args: unknown[]): Promise<number> => {
    const h = syscallTable.get(call);
    if (h === undefined) return Promise.resolve(-Errno.ENOSYS);
    return h(t, ...args);
  };
  const num = (j: number): number => v[j] as number;
  const flagStr = (j: number): string => {
    // pjdfstest hands the flag word to strcmp/strtok: NULL would crash it.
    const s = v[j];
    if (typeof s !== 'string') throw fail(`invalid argument ${j}, flags expected`);
    return s;
  };
  const flags = (table: Record<string, number>, j: number): number => flagsOf(table, flagStr(j), (m) => {
    throw fail(m);
  });
  const b = Buffer.alloc(144);
  const stat = async (r: Promise<number>, j: number): Promise<number | string> => {
    const x = await r;
    return x < 0 ? x : showStats(b, flagStr(j));
  };
  switch (name) {
    case 'open':
    case 'openat': {
      const at = name === 'openat' ? 1 : 0;
      const f = flags(openFlags, at + 1);
      if (f & O_CREAT && n === at + 2) throw fail('too few arguments');
      if (!(f & O_CREAT) && n === at + 3) throw fail('too many arguments');
      const fd = await sys('openat', at ? num(0) : AT_FDCWD, v[at], f, f & O_CREAT ? num(at + 2) : 0);
      if (fd >= 0) descriptors.push(fd);
      return fd;
    }
    case 'create': {
      const fd = await sys('open', v[0], O_CREAT | O_EXCL | O_RDONLY, num(1));
      if (fd >= 0) await sys('close', fd);
      return fd;
    }
    case 'unlink': return sys('unlink', v[0]);
    case 'unlinkat': return sys('unlinkat', num(0), v[1], flags({ AT_REMOVEDIR }, 2));
    case 'mkdir': return sys('mkdir', v[0], num(1));
    case 'mkdirat': return sys('mkdirat', num(0), v[1], num(2));
    case 'rmdir': return sys('rmdir', v[0]);
    case 'link': return sys('link', v[0], v[1]);
    case 'linkat': return sys('linkat', num(0), v[1], num(2), v[3], flags({ AT_SYMLINK_FOLLOW }, 4));
    case 'symlink': return sys('symlink', v[0], v[1]);
    case 'symlinkat': return sys('symlinkat', v[0], num(1), v[2]);
    case 'rename': return sys('rename', v[0], v[1]);
    case 'renameat': return sys('renameat', num(0), v[1], num(2), v[3]);
    // glibc's mkfifo is mknod(path, S_IFIFO | mode, 0).
    case 'mkfifo': return sys('mknodat', AT_FDCWD, v[0], S_IFIFO | (num(1) & 0o7777), 0);
    case 'mkfifoat': return sys('mknodat', num(0), v[1], S_IFIFO | (num(2) & 0o7777), 0);
    case 'mknod':
    case 'mknodat': {
      const fa = name === 'mknod' ? 0 : 1;
      const types: Record<string, number> = { c: S_IFCHR, b: S_IFBLK, f: S_IFIFO, d: S_IFDIR, o: S_IFREG };
      const ty = types[flagStr(fa + 1)];
      if (ty === undefined) throw fail('wrong argument 1');
      const major = num(fa + 3);
      const minor = num(fa + 4);
      // glibc's makedev; the kernel takes the low 32 bits (new_decode_dev).
      const dev = (((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)) >>> 0;
      return sys('mknodat', fa ? num(0) : AT_FDCWD, v[fa], (ty | num(fa + 2)) >>> 0, dev);
    }
    case 'bind':
    case 'connect': {
      // The sandbox has no socket layer. pjdfstest copies the path into
      // sun_path (107 bytes and a NUL); then Linux's unix_bind makes the
      // socket inode (mknod S_IFSOCK, mode 0777 less the umask; EEXIST is
      // EADDRINUSE) and unix_find_bsd looks the path up, wants write
      // permission, and, with no socket listening, refuses (ECONNREFUSED).
      if (typeof v[0] !== 'string') return -Errno.EFAULT;
      const p = Buffer.from(v[0]).subarray(0, 107);
      if (name === 'bind') {
        const r = await sys('mknodat', AT_FDCWD, p, S_IFSOCK | 0o777, 0);
        return r === -Errno.EEXIST ? -Errno.EADDRINUSE : r;
      }
      const r = await sys('faccessat', AT_FDCWD, p, W_OK, 0);
      return r < 0 ? r : -Errno.ECONNREFUSED;
    }
    case 'chmod': return sys('chmod', v[0], num(1));
    case 'fchmod': return sys('fchmod', num(0), num(1));
    case 'lchmod':
    case 'fchmodat': {
      const at = name === 'fchmodat' ? 1 : 0;
      const dirfd = at ? num(0) : AT_FDCWD;
      const f = at ? flags({ AT_SYMLINK_NOFOLLOW }, 3) : AT_SYMLINK_NOFOLLOW;
      if (f & AT_SYMLINK_NOFOLLOW) {
        // glibc 2.36's fchmodat(AT_SYMLINK_NOFOLLOW) (lchmod is that):
        // open the file O_PATH|O_NOFOLLOW, refuse a symlink with
        // EOPNOTSUPP, else chmod it through /proc/self/fd.
        const x = await sys('newfstatat', dirfd, v[at], b, AT_SYMLINK_NOFOLLOW);
        if (x < 0) return x;
        if ((b.readUInt32LE(24) & S_IFMT) === S_IFLNK) return -Errno.EOPNOTSUPP;
      }
      return sys('fchmodat', dirfd, v[at], num(at + 1));
    }
    case 'chown': return sys('chown', v[0], num(1), num(2));
    case 'fchown': return sys('fchown', num(0), num(1), num(2));
    case 'lchown': return sys('lchown', v[0], num(1), num(2));
    case 'fchownat': return sys('fchownat', num(0), v[1], num(2), num(3), flags({ AT_SYMLINK_NOFOLLOW }, 4));
    case 'truncate': return sys('truncate', v[0], num(1));
    case 'ftruncate': return sys('ftruncate', num(0), num(1));
    case 'posix_fallocate': {
      // glibc: fallocate(fd, 0, offset, len), emulated when the
      // filesystem does not support it (EOPNOTSUPP): the size grows to
      // offset+len, blocks are not reserved.
      const r = await sys('fallocate', num(0), 0, num(1), num(2));
      if (r !== -Errno.EOPNOTSUPP) return r;
      if (num(1) < 0 || num(2) < 0) return -Errno.EINVAL;
      const x = await sys('fstat', num(0), b);
      if (x < 0) return x;
      const type = b.readUInt32LE(24) & S_IFMT;
      if (type === S_IFIFO) return -Errno.ESPIPE;
      if (type !== S_IFREG) return -Errno.ENODEV;
      const size = Number(b.readBigInt64LE(48));
      return size >= num(1) + num(2) ? 0 : sys('ftruncate', num(0), num(1) + num(2));
    }
    case 'stat': return stat(sys('stat', v[0], b), 1);
    case 'fstat': return stat(sys('fstat', num(0), b), 1);
    case 'lstat': return stat(sys('lstat', v[0], b), 1);
    case 'fstatat': return stat(sys('newfstatat', num(0), v[1], b, flags({ AT_SYMLINK_NOFOLLOW }, 2)), 3);
    case 'pathconf':
    case 'fpathconf': {
      // glibc's Linux pathconf/fpathconf: the limits that depend on the
      // filesystem come from (f)statfs; the others are constants, the
      // file unchecked (but "" is ENOENT, a negative fd EBADF).
      const what = flagStr(1);
      if (!['_PC_LINK_MAX', '_PC_NAME_MAX', '_PC_PATH_MAX', '_PC_SYMLINK_MAX'].includes(what)) throw fail(`unknown name ${what}`, false);
      if (name === 'pathconf' && v[0] === '') return -Errno.ENOENT;
      if (name === 'fpathconf' && num(0) < 0) return -Errno.EBADF;
      if (what === '_PC_PATH_MAX') return String(PATH_MAX);
      if (what === '_PC_SYMLINK_MAX') return 'unlimited';
      const sb = Buffer.alloc(120);
      const x = name === 'pathconf' ? await sys('statfs', v[0], sb) : await sys('fstatfs', num(0), sb);
      if (x < 0) return x;
      if (what === '_PC_NAME_MAX') return sb.readBigInt64LE(64).toString();
      return String(linkMaxByMagic.get(sb.readBigUInt64LE(0)) ?? LINUX_LINK_MAX);
    }
    case 'pread': {
      // pjdfstest reads up to min(count, 1024) bytes in a loop until a read
      // returns 0, then prints the buffer as a C string.
      const count = Math.min(num(1), 1024);
      const buf = Buffer.alloc(1024);
      let got = 0;
      for (;;) {
        const r = await sys('pread64', num(0), buf.subarray(got), count - got, num(2) + got);
        if (r < 0) return r;
        if (r === 0) break;
        got += r;
      }
      const nul = buf.indexOf(0);
      return buf.subarray(0, nul < 0 ? buf.length : nul).toString('latin1');
    }
    case 'pwrite':
    case 'write': {
      if (typeof v[1] !== 'string') return -Errno.EFAULT;
      const data = Buffer.from(v[1]);
      const x = name === 'write' ? await sys('write', num(0), data, data.length) : await sys('pwrite64', num(0), data, data.length, num(2));
      return x < 0 ? x : 0;
    }
    case 'utimensat': {
      const ts = Buffer.alloc(32);
      const nsec = (s: unknown): number => (s === 'UTIME_NOW' ? UTIME_NOW : s === 'UTIME_OMIT' ? UTIME_OMIT : strtol10(typeof s === 'string' ? s : ''));
      ts.writeBigInt64LE(BigInt(num(2)), 0);
      ts.writeBigInt64LE(BigInt(nsec(v[3])), 8);
      ts.writeBigInt64LE(BigInt(num(4)), 16);
      ts.writeBigInt64LE(BigInt(nsec(v[5])), 24);
      const fl = flagStr(6) === 'AT_SYMLINK_NOFOLLOW' ? AT_SYMLINK_NOFOLLOW : strtol10(flagStr(6));
      return sys('utimensat', num(0), v[1], ts, fl);
    }
    default:
      throw fail(`syscall '${name}' not supported`);
  }
}
