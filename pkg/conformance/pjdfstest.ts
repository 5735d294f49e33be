// The pjdfstest program's contract (github.com/pjd/pjdfstest, pjdfstest.c),
// executed on a sandbox task: `[-U umask] [-u uid] [-g gid1[,gid2...]]
// syscall args [: syscall args ...]`. Each call prints "0", an errno name
// (and the chain stops, exit status 1), or the requested stat fields;
// descriptors are named by their position among the descriptors the chain
// opened. Calls pjdfstest.c does not build on Linux (chflags, lchmod, ACLs)
// are "not supported", as there.

import { errnoName } from '../abi/linux/errors';
import {
  AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_APPEND, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL,
  O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG,
} from '../abi/linux/file';
import type { Kernel } from '../sentry/kernel/kernel';
import type { Task } from '../sentry/kernel/task';
import { typeName } from './exec';

/** PjdResult is what the pjdfstest program would print, and its exit status. */
export interface PjdResult {
  stdout: string;
  stderr: string;
  status: number;
}

type ArgType = 'str' | 'num' | 'fd';
interface Desc {
  args: ArgType[];
  optional?: number;
}

const S = 'str' as const;
const N = 'num' as const;
const D = 'fd' as const;

// The syscall table of pjdfstest.c (Linux build).
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
  fchmodat: { args: [D, S, N, S] },
  chown: { args: [S, N, N] },
  fchown: { args: [D, N, N] },
  lchown: { args: [S, N, N] },
  fchownat: { args: [D, S, N, N, S] },
  truncate: { args: [S, N] },
  ftruncate: { args: [D, N] },
  stat: { args: [S, S] },
  fstat: { args: [D, S] },
  lstat: { args: [S, S] },
  fstatat: { args: [D, S, S, S] },
  pathconf: { args: [S, S] },
  fpathconf: { args: [D, S] },
  lpathconf: { args: [S, S] },
  write: { args: [D, S] },
};

const openFlags: Record<string, number> = {
  O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC, O_EXCL, O_DIRECT, O_SYNC, O_NOFOLLOW, O_NOCTTY, O_DIRECTORY,
};

class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/** strtoll parses a C number (base 0: 0x hex, 0 octal, decimal, sign). */
export function strtoll(s: string): number | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*$/.exec(s);
  if (m === null) return null;
  const body = m[2]!;
  const v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body.startsWith('0') ? parseInt(body, 8) : parseInt(body, 10);
  return m[1] === '-' ? -v : v;
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

const typeWords: Record<string, string> = { fifo: 'fifo', chr: 'char', dir: 'dir', blk: 'block', reg: 'regular', lnk: 'symlink', sock: 'socket' };

function showStats(b: Buffer, what: string): string {
  const mode = b.readUInt32LE(24);
  const rdev = Number(b.readBigUInt64LE(40));
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
      case 'mtime': return b.readBigInt64LE(88).toString();
      case 'ctime': return b.readBigInt64LE(104).toString();
      case 'major': return String(((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff));
      case 'minor': return String((rdev & 0xff) | ((rdev >>> 12) & ~0xff));
      case 'type': return typeWords[typeName(mode)] ?? 'unknown';
      default: return 'unknown';
    }
  };
  return what.split(',').filter((w) => w !== '').map(field).join(',');
}

/**
 * runPjdfstest runs one pjdfstest command line (argv without the program
 * name) on a new task of kernel k whose working directory is cwd.
 */
export async function runPjdfstest(k: Kernel, argv: string[], cwd: string): Promise<PjdResult> {
  let stdout = '';
  let stderr = '';
  const err = (m: string): never => {
    stderr += `${m}\n`;
    throw new Exit(1);
  };
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
    if (val === undefined || (letter !== 'g' && letter !== 'u' && letter !== 'U')) {
      return { stdout, stderr: 'usage: pjdfstest [-U umask] [-u uid] [-g gid1[,gid2[...]]] syscall args ...\n', status: 1 };
    }
    if (letter === 'g') {
      gids = val.split(',').map((g) => strtoll(g) ?? NaN);
      if (gids.some((g) => Number.isNaN(g))) return { stdout, stderr: `invalid gid '${val}' - number expected\n`, status: 1 };
    } else {
      const n = strtoll(val);
      if (n === null) return { stdout, stderr: `invalid ${letter === 'u' ? 'uid' : 'umask'} '${val}' - number expected\n`, status: 1 };
      if (letter === 'u') uid = n;
      else umask = n;
    }
  }
  if (argv[i] === '--') i++;
  if (i >= argv.length) return { stdout, stderr: 'too few arguments\nusage: pjdfstest [-U umask] [-u uid] [-g gid1[,gid2[...]]] syscall args ...\n', status: 1 };
  // pjdfstest runs as root and then drops to -g/-u: groups and egid from
  // -g, uid from -u (both default to the caller's, root).
  const t: Task = await k.newTask({
    uid: uid === -1 ? 0 : uid,
    gid: gids === null ? 0 : gids[0]!,
    groups: gids ?? [],
    umask: umask & 0o777,
    cwd,
  });
  const descriptors: number[] = [];
  let status = 0;
  try {
    let args = argv.slice(i);
    for (;;) {
      const name = args[0]!;
      const desc = descs[name];
      if (desc === undefined) err(`syscall '${name}' not supported`);
      const rest = args.slice(1);
      const end = rest.indexOf(':');
      const words = end === -1 ? rest : rest.slice(0, end);
      const need = desc!.optional ?? desc!.args.length;
      if (words.length > desc!.args.length) err(`too many arguments [${words[desc!.args.length]!}]`);
      if (words.length < need) err('too few arguments');
      const v: Array<string | number | null> = words.map((w, j) => {
        const ty = desc!.args[j]!;
        if (ty === 'str') return w === 'NULL' ? null : w;
        if (ty === 'num') {
          const n = strtoll(w);
          if (n === null) err(`invalid argument ${j}, number expected [${w}]`);
          return n;
        }
        if (w === 'AT_FDCWD') return AT_FDCWD;
        if (w === 'BADFD') return -1;
        const pos = strtoll(w);
        if (pos === null) err(`invalid argument ${j}, number expected [${w}]`);
        if (pos! < 0 || pos! >= descriptors.length) err(`invalid descriptor ${pos!}`);
        return descriptors[pos!]!;
      });
      const out = await callOne(t, name, v, words.length, descriptors, err);
      if (typeof out === 'string') {
        stdout += `${out}\n`;
      } else if (out < 0) {
        stderr += `${name} returned -1\n`;
        stdout += `${errnoName(-out)}\n`;
        throw new Exit(1);
      } else {
        stdout += '0\n';
      }
      if (end === -1) break;
      args = rest.slice(end + 1);
      if (args.length === 0) break;
    }
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    status = e.status;
  } finally {
    await t.release();
  }
  return { stdout, stderr, status };
}

type Val = string | number | null;

// callOne makes one call: a raw result (or -errno), or a line of stat output.
async function callOne(t: Task, name: string, v: Val[], n: number, descriptors: number[], err: (m: string) => never): Promise<number | string> {
  const s = t.sys;
  const str = (j: number): string => (v[j] as string | null) ?? '';
  const num = (j: number): number => v[j] as number;
  const stat = async (r: Promise<number>, b: Buffer, what: string): Promise<number | string> => {
    const x = await r;
    return x < 0 ? x : showStats(b, what);
  };
  const b = Buffer.alloc(144);
  switch (name) {
    case 'open': {
      const flags = flagsOf(openFlags, str(1), err);
      if (flags & O_CREAT && n === 2) err('too few arguments');
      if (!(flags & O_CREAT) && n === 3) err('too many arguments');
      const fd = await s.open(str(0), flags, flags & O_CREAT ? num(2) : 0);
      if (fd >= 0) descriptors.push(fd);
      return fd;
    }
    case 'openat': {
      const flags = flagsOf(openFlags, str(2), err);
      if (flags & O_CREAT && n === 3) err('too few arguments');
      if (!(flags & O_CREAT) && n === 4) err('too many arguments');
      const fd = await s.openat(num(0), str(1), flags, flags & O_CREAT ? num(3) : 0);
      if (fd >= 0) descriptors.push(fd);
      return fd;
    }
    case 'create': {
      const fd = await s.open(str(0), O_CREAT | O_EXCL | O_RDONLY, num(1));
      if (fd >= 0) await s.close(fd);
      return fd;
    }
    case 'unlink': return s.unlink(str(0));
    case 'unlinkat': return s.unlinkat(num(0), str(1), flagsOf({ AT_REMOVEDIR }, str(2), err));
    case 'mkdir': return s.mkdir(str(0), num(1));
    case 'mkdirat': return s.mkdirat(num(0), str(1), num(2));
    case 'rmdir': return s.rmdir(str(0));
    case 'link': return s.link(str(0), str(1));
    case 'linkat': return s.linkat(num(0), str(1), num(2), str(3), flagsOf({ AT_SYMLINK_FOLLOW }, str(4), err));
    case 'symlink': return s.symlink(str(0), str(1));
    case 'symlinkat': return s.symlinkat(str(0), num(1), str(2));
    case 'rename': return s.rename(str(0), str(1));
    case 'renameat': return s.renameat(num(0), str(1), num(2), str(3));
    case 'mkfifo': return s.mknod(str(0), S_IFIFO | (num(1) & 0o7777), 0);
    case 'mkfifoat': return s.mknodat(num(0), str(1), S_IFIFO | (num(2) & 0o7777), 0);
    case 'mknod':
    case 'mknodat': {
      const fa = name === 'mknod' ? 0 : 1;
      const types: Record<string, number> = { c: S_IFCHR, b: S_IFBLK, f: S_IFIFO, d: S_IFDIR, o: S_IFREG };
      const ty = types[str(fa + 1)];
      if (ty === undefined) err('wrong argument 1');
      const major = num(fa + 3);
      const minor = num(fa + 4);
      // glibc's makedev, within 32 bits (what the sandbox's dev argument holds).
      const dev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
      return fa === 0 ? s.mknod(str(0), ty! | num(2), dev >>> 0) : s.mknodat(num(0), str(1), ty! | num(3), dev >>> 0);
    }
    case 'bind':
    case 'connect':
      // The sandbox has no socket(2); Unix sockets are out of this slice.
      return err(`syscall '${name}' not supported by the sandbox (no sockets)`);
    case 'chmod': return s.chmod(str(0), num(1));
    case 'fchmod': return s.fchmod(num(0), num(1));
    case 'fchmodat': {
      const flags = flagsOf({ AT_SYMLINK_NOFOLLOW }, str(3), err);
      // glibc's fchmodat: AT_SYMLINK_NOFOLLOW is not supported for symlinks (EOPNOTSUPP) and any other flag is EINVAL.
      if (flags & AT_SYMLINK_NOFOLLOW) {
        const x = await s.newfstatat(num(0), str(1), b, AT_SYMLINK_NOFOLLOW);
        if (x < 0) return x;
        if (typeName(b.readUInt32LE(24)) === 'lnk') return -95;
      }
      return s.fchmodat(num(0), str(1), num(2));
    }
    case 'chown': return s.chown(str(0), num(1), num(2));
    case 'fchown': return s.fchown(num(0), num(1), num(2));
    case 'lchown': return s.lchown(str(0), num(1), num(2));
    case 'fchownat': return s.fchownat(num(0), str(1), num(2), num(3), flagsOf({ AT_SYMLINK_NOFOLLOW }, str(4), err));
    case 'truncate': return s.truncate(str(0), num(1));
    case 'ftruncate': return s.ftruncate(num(0), num(1));
    case 'stat': return stat(s.stat(str(0), b), b, str(1));
    case 'fstat': return stat(s.fstat(num(0), b), b, str(1));
    case 'lstat': return stat(s.lstat(str(0), b), b, str(1));
    case 'fstatat': return stat(s.newfstatat(num(0), str(1), b, flagsOf({ AT_SYMLINK_NOFOLLOW }, str(2), err)), b, str(3));
    case 'pathconf':
    case 'fpathconf':
    case 'lpathconf': {
      // glibc's Linux pathconf: the file must exist; values for Linux filesystems.
      const x = name === 'fpathconf' ? await s.fstat(num(0), b) : name === 'lpathconf' ? await s.lstat(str(0), b) : await s.stat(str(0), b);
      const names: Record<string, string> = { _PC_LINK_MAX: '127', _PC_NAME_MAX: '255', _PC_PATH_MAX: '4096', _PC_SYMLINK_MAX: 'unlimited' };
      const val = names[str(1)];
      if (val === undefined) err(`unknown name ${str(1)}`);
      return x < 0 ? x : val!;
    }
    case 'write': {
      const data = Buffer.from(str(1));
      const x = await s.write(num(0), data, data.length);
      return x < 0 ? x : 0;
    }
    default:
      return err(`syscall '${name}' not supported`);
  }
}
