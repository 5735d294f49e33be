// Running the steps of a case on one side (the sandbox or the host): words
// become arguments (the same argument vector for both sides: numbers,
// strings, Buffers laid out as x86_64 Linux structures, null), and each
// raw result (value or -errno) becomes a normalized string.

import { errnoName } from '../abi/linux/errors';
import { parseDirents64 } from '../abi/linux/dirent';
import { S_IFMT } from '../abi/linux/file';
import { SIZEOF_FLOCK, SIZEOF_STAT, SIZEOF_STATFS, SIZEOF_STATX, symbols, type CallSpec } from './calls';
import { alignWords, consumesWord, parseIovList, parseTimesOrFlock, resolveInt, resolveString, type FdTable, type Step } from './parse';

/** SyscallArg is one argument as both sides take it (Buffer[]: an iovec array). */
export type SyscallArg = number | string | Buffer | Buffer[] | null;

/** Side is where steps run: call makes one raw system call (result or -errno). */
export interface Side {
  call(spec: CallSpec, args: SyscallArg[]): Promise<number> | number;
  /** cwdPrefix is the absolute path of the case directory on this side, for getcwd. */
  cwdPrefix: string;
}

const F_DUPFD = symbols.get('F_DUPFD')!;
const F_DUPFD_CLOEXEC = symbols.get('F_DUPFD_CLOEXEC')!;
const F_GETLK = symbols.get('F_GETLK')!;
const F_SETLK = symbols.get('F_SETLK')!;
const F_SETLKW = symbols.get('F_SETLKW')!;
const F_OFD_GETLK = symbols.get('F_OFD_GETLK')!;
const F_OFD_SETLK = symbols.get('F_OFD_SETLK')!;
const F_OFD_SETLKW = symbols.get('F_OFD_SETLKW')!;
const lockCmds = new Set([F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW]);

const typeNames = new Map<number, string>([
  [0o140000, 'sock'], [0o120000, 'lnk'], [0o100000, 'reg'], [0o060000, 'blk'],
  [0o040000, 'dir'], [0o020000, 'chr'], [0o010000, 'fifo'],
]);

/** typeName names a file type (mode & S_IFMT). */
export function typeName(mode: number): string {
  return typeNames.get(mode & S_IFMT) ?? `type${(mode & S_IFMT).toString(8)}`;
}

/** timeField shows a timestamp only when a case set it (before 2001): "now" times differ. */
function timeField(name: string, sec: number, nsec: number): string {
  return sec < 1_000_000_000 ? ` ${name}=${sec}.${String(nsec).padStart(9, '0')}` : '';
}

/** StatFields are the comparable fields of struct stat/statx. */
export interface StatFields {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  atime: [number, number];
  mtime: [number, number];
}

/** formatStat is the normalized form of a stat result. */
export function formatStat(s: StatFields): string {
  const t = typeName(s.mode);
  let out = `{${t} ${(s.mode & 0o7777).toString(8).padStart(4, '0')}`;
  // A directory's size is its filesystem's business.
  if (t !== 'dir') out += ` size=${s.size}`;
  out += ` nlink=${s.nlink} uid=${s.uid} gid=${s.gid}`;
  if (t === 'chr' || t === 'blk') out += ` rdev=${s.rdev}`;
  out += timeField('atime', s.atime[0], s.atime[1]) + timeField('mtime', s.mtime[0], s.mtime[1]);
  return `${out}}`;
}

/** decodeStat reads struct stat (x86_64). */
export function decodeStat(b: Buffer): StatFields {
  return {
    nlink: Number(b.readBigUInt64LE(16)),
    mode: b.readUInt32LE(24),
    uid: b.readUInt32LE(28),
    gid: b.readUInt32LE(32),
    rdev: Number(b.readBigUInt64LE(40)),
    size: Number(b.readBigInt64LE(48)),
    atime: [Number(b.readBigInt64LE(72)), Number(b.readBigInt64LE(80))],
    mtime: [Number(b.readBigInt64LE(88)), Number(b.readBigInt64LE(96))],
  };
}

/** decodeStatx reads struct statx. */
export function decodeStatx(b: Buffer): StatFields {
  const major = b.readUInt32LE(128);
  const minor = b.readUInt32LE(132);
  return {
    nlink: b.readUInt32LE(16),
    uid: b.readUInt32LE(20),
    gid: b.readUInt32LE(24),
    mode: b.readUInt16LE(28),
    size: Number(b.readBigUInt64LE(40)),
    rdev: ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12),
    atime: [Number(b.readBigInt64LE(64)), b.readUInt32LE(72)],
    mtime: [Number(b.readBigInt64LE(112)), b.readUInt32LE(120)],
  };
}

/** quote shows bytes as a JSON string of their latin1 characters. */
export function quote(b: Buffer): string {
  return JSON.stringify(b.toString('latin1'));
}

// timesBuffer lays out a times argument: timespec[2] (unit nanoseconds),
// timeval[2] (microseconds) or struct utimbuf (seconds).
function timesBuffer(kind: 'timespec2' | 'timeval2' | 'utimbuf', w: string | undefined): Buffer | null {
  if (w === undefined || w === 'NULL') return null;
  const v = parseTimesOrFlock(w, 0);
  const [as, an, ms, mn] = v.length === 4 ? v : [v[0]!, 0, v[1]!, 0];
  if (kind === 'utimbuf') {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(as!), 0);
    b.writeBigInt64LE(BigInt(ms!), 8);
    return b;
  }
  const b = Buffer.alloc(32);
  b.writeBigInt64LE(BigInt(as!), 0);
  b.writeBigInt64LE(BigInt(an!), 8);
  b.writeBigInt64LE(BigInt(ms!), 16);
  b.writeBigInt64LE(BigInt(mn!), 24);
  return b;
}

function flockBuffer(w: string): Buffer {
  const [type, whence, start, len] = parseTimesOrFlock(w, 4);
  const b = Buffer.alloc(SIZEOF_FLOCK);
  b.writeInt16LE(type!, 0);
  b.writeInt16LE(whence!, 2);
  b.writeBigInt64LE(BigInt(start!), 8);
  b.writeBigInt64LE(BigInt(len!), 16);
  return b;
}

/** BuiltArgs are a step's arguments, and its output buffers by role. */
interface BuiltArgs {
  args: SyscallArg[];
  out: Buffer | null;
  /** iov are the output iovecs of readv/preadv (null: NULL or none). */
  iov: Buffer[] | null;
}

/** buildArgs turns a step's words into the argument vector. */
export function buildArgs(step: Step, fds: FdTable): BuiltArgs {
  const aligned = alignWords(step.call, step.words);
  let wi = 0;
  const args: SyscallArg[] = [];
  let out: Buffer | null = null;
  let iov: Buffer[] | null = null;
  let lastLen = 0;
  for (const k of step.call.args) {
    const w = consumesWord(k) ? aligned[wi++] : undefined;
    switch (k) {
      case 'fd':
      case 'int':
        args.push(w === undefined ? 0 : resolveInt(w, fds));
        break;
      case 'path': {
        const s = w === undefined ? null : resolveString(w);
        args.push(s);
        break;
      }
      case 'data': {
        const s = w === undefined ? '' : resolveString(w) ?? '';
        const b = Buffer.from(s, 'latin1');
        lastLen = b.length;
        args.push(w === 'NULL' ? null : b);
        break;
      }
      case 'out': {
        const n = w === undefined || w === 'NULL' ? 0 : resolveInt(w, fds);
        out = Buffer.alloc(Math.max(0, n));
        lastLen = n;
        args.push(w === 'NULL' ? null : out);
        break;
      }
      case 'len':
        args.push(w === undefined ? lastLen : resolveInt(w, fds));
        break;
      case 'stat':
        out = Buffer.alloc(SIZEOF_STAT);
        args.push(out);
        break;
      case 'statx':
        out = Buffer.alloc(SIZEOF_STATX);
        args.push(out);
        break;
      case 'statfs':
        out = Buffer.alloc(SIZEOF_STATFS);
        args.push(out);
        break;
      case 'pipefd':
        out = Buffer.alloc(8);
        args.push(out);
        break;
      case 'timespec2':
      case 'timeval2':
      case 'utimbuf':
        args.push(timesBuffer(k, w));
        break;
      case 'intOrFlock':
        if (w !== undefined && w.includes(',')) {
          out = flockBuffer(w);
          args.push(out);
        } else {
          args.push(w === undefined ? 0 : resolveInt(w, fds));
        }
        break;
      case 'iovIn': {
        const items = w === undefined ? [] : parseIovList(w);
        args.push(items === null ? null : items.map((it) => Buffer.from(resolveString(it) ?? '', 'latin1')));
        break;
      }
      case 'iovOut': {
        const items = w === undefined ? [] : parseIovList(w);
        iov = items === null ? null : items.map((it) => Buffer.alloc(Math.max(0, resolveInt(it, fds))));
        args.push(iov);
        break;
      }
    }
  }
  return { args, out, iov };
}

/** normalize turns a raw result into the string compared across sides, binding descriptors. */
export function normalize(step: Step, r: number, built: BuiltArgs, fds: FdTable, side: Side): string {
  if (r < 0) return errnoName(-r);
  const out = built.out;
  switch (step.call.result) {
    case 'int':
      return String(r);
    case 'fd':
      fds.set(step.fdBind, r);
      return 'fd';
    case 'fds2':
      fds.set(step.fdBind, out!.readInt32LE(0));
      fds.set(step.fdBind + 1, out!.readInt32LE(4));
      return `${r} fd fd`;
    case 'data':
      return out === null || out.length === 0 ? String(r) : `${r} ${quote(out.subarray(0, r))}`;
    case 'stat':
      return `${r} ${formatStat(decodeStat(out!))}`;
    case 'statx':
      return `${r} ${formatStat(decodeStatx(out!))}`;
    case 'names': {
      if (r === 0) return '0';
      const ents = parseDirents64(out!.subarray(0, r)).map((d) => `${d.name}:${d.type}`).sort();
      return `>0 [${ents.join(' ')}]`;
    }
    case 'xattrs': {
      if (out === null || out.length === 0) return String(r);
      const names = out.subarray(0, r).toString('latin1').split('\0').filter((n) => n.startsWith('user.')).sort();
      return `${r} [${names.join(' ')}]`;
    }
    case 'cwd': {
      const s = out!.subarray(0, Math.max(0, r - 1)).toString('utf8');
      const p = side.cwdPrefix;
      // A working directory outside the root (after chroot) is
      // "(unreachable)" followed by its path from the real root.
      const unreachable = '(unreachable)';
      const u = s.startsWith(unreachable) ? unreachable : '';
      const t = s.slice(u.length);
      const rel = t === p ? '.' : t.startsWith(`${p}/`) ? `./${t.slice(p.length + 1)}` : t;
      return `${r - s.length} ${JSON.stringify(u + rel)}`;
    }
    case 'fcntl': {
      const cmd = built.args[1] as number;
      if (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) {
        fds.set(step.fdBind, r);
        return 'fd';
      }
      if ((cmd === F_GETLK || cmd === F_OFD_GETLK) && out !== null) {
        const type = out.readInt16LE(0);
        const pid = out.readInt32LE(24);
        return `${r} {type=${type} whence=${out.readInt16LE(2)} start=${out.readBigInt64LE(8)} len=${out.readBigInt64LE(16)} pid=${pid > 0 ? 'set' : pid}}`;
      }
      if (lockCmds.has(cmd)) return String(r);
      return String(r);
    }
    case 'iovdata': {
      // Each iovec shows what it received: readv fills them in order.
      if (built.iov === null) return String(r);
      let left = r;
      const parts = built.iov.map((b) => {
        const k = Math.min(left, b.length);
        left -= k;
        return quote(b.subarray(0, k));
      });
      return `${r} [${parts.join(',')}]`;
    }
  }
}

/** runSteps runs steps on a side, returning one normalized result per step. */
export async function runSteps(steps: Step[], side: Side, fds: FdTable = new Map()): Promise<string[]> {
  const results: string[] = [];
  for (const step of steps) {
    const built = buildArgs(step, fds);
    const r = await side.call(step.call, built.args);
    if (r < 0 && step.fdBind >= 0) {
      fds.delete(step.fdBind);
    }
    results.push(normalize(step, r, built, fds, side));
  }
  return results;
}

/** openFds lists the descriptors a run left open (to close them). */
export function openFds(fds: FdTable): number[] {
  return [...new Set(fds.values())].filter((n) => n >= 0);
}
