// The system calls a conformance case may make: for each, its x86_64
// number (the host side calls it raw, through syscall(2)), how the words of
// a case line become its arguments, and how its result is normalized so
// that the sandbox's answer and the host's can be compared as strings.
//
// Not a gVisor file: gVisor's syscall tests are C++ (test/syscalls); this is
// the data-driven counterpart of the differential harness DESIGN decision 9
// asks for.

import * as fcntl from '../abi/linux/fcntl';
import * as file from '../abi/linux/file';
import * as inotify from '../abi/linux/inotify';
import * as mount from '../abi/linux/mount';

/**
 * ArgKind says how one word of a case line becomes syscall arguments:
 *  - fd: an integer expression, usually $fdN or AT_FDCWD;
 *  - int: an integer expression (flags, modes, sizes, uids);
 *  - path: a string (bare word or "quoted"), or NULL;
 *  - data: input bytes (a string), passed as a buffer;
 *  - len: an integer that may be omitted when it is the last word: it then
 *    defaults to the length of the preceding data or out buffer;
 *  - out: an output buffer of the given size (the word is the size);
 *  - stat/statx/statfs/pipefd: an output structure, no word;
 *  - timespec2/timeval2/utimbuf: times, NULL or "A:a,M:m" (seconds:nanos, or
 *    microseconds for timeval; UTIME_NOW/UTIME_OMIT allowed);
 *  - flock: a struct flock "TYPE,WHENCE,START,LEN" (for fcntl F_*LK);
 *  - iovIn: input iovecs, a list of strings ["ab","cd"] (or [] or NULL),
 *    optionally repeated (["x"]*1025); iovcnt is the list's length;
 *  - iovOut: output iovecs, a list of sizes [3,0,5] (or [] or NULL),
 *    optionally repeated ([1]*1025).
 * An iovec argument is one Buffer[] for both sides: the sandbox's readv
 * takes the array, the host side lays out struct iovec[] and passes its
 * address and length (iovcnt) as two raw arguments.
 */
export type ArgKind =
  | 'fd' | 'int' | 'path' | 'data' | 'len' | 'out'
  | 'stat' | 'statx' | 'statfs' | 'pipefd'
  | 'timespec2' | 'timeval2' | 'utimbuf' | 'intOrFlock'
  | 'iovIn' | 'iovOut';

/**
 * ResultKind says how a result is normalized:
 *  - int: the number;
 *  - fd: a new file descriptor, bound to the line's $fdN name;
 *  - fds2: pipe/pipe2: two descriptors bound to $fdN and $fdN+1;
 *  - data: the bytes of the out buffer up to the result;
 *  - stat/statx: the comparable fields of the structure;
 *  - names: getdents64 entries (sorted names with types);
 *  - xattrs: a listxattr list (user.* names, sorted);
 *  - cwd: getcwd's path, relative to the case directory;
 *  - fcntl: fd for F_DUPFD*, the struct for F_GETLK, else int;
 *  - iovdata: readv/preadv: the bytes each output iovec received.
 */
export type ResultKind = 'int' | 'fd' | 'fds2' | 'data' | 'stat' | 'statx' | 'names' | 'xattrs' | 'cwd' | 'fcntl' | 'iovdata';

/** CallSpec describes one system call. */
export interface CallSpec {
  name: string;
  /** nr is the x86_64 system call number. */
  nr: number;
  args: ArgKind[];
  result: ResultKind;
  /** hostless calls cannot run on the host (they would change the host process for good). */
  hostless?: boolean;
  /**
   * isolated calls change the calling process or its mount namespace
   * (chroot, mount, umount2): on the host, a case that makes one runs in a
   * worker of its own, in a private mount namespace, thrown away after the
   * case (host.ts); on the sandbox, its mounts are undone after the case
   * (runner.ts). Their path words must stay inside the case directory
   * (parse.ts checks).
   */
  isolated?: boolean;
}

function c(name: string, nr: number, args: ArgKind[], result: ResultKind = 'int', hostless = false): CallSpec {
  return { name, nr, args, result, hostless };
}

function isolated(s: CallSpec): CallSpec {
  return { ...s, isolated: true };
}

/** calls is every system call a case may make, by name. */
export const calls: ReadonlyMap<string, CallSpec> = new Map([
  c('read', 0, ['fd', 'out', 'len'], 'data'),
  c('write', 1, ['fd', 'data', 'len']),
  c('open', 2, ['path', 'int', 'int'], 'fd'),
  c('close', 3, ['fd']),
  c('stat', 4, ['path', 'stat'], 'stat'),
  c('fstat', 5, ['fd', 'stat'], 'stat'),
  c('lstat', 6, ['path', 'stat'], 'stat'),
  c('lseek', 8, ['fd', 'int', 'int']),
  c('pread64', 17, ['fd', 'out', 'len', 'int'], 'data'),
  c('pwrite64', 18, ['fd', 'data', 'len', 'int']),
  c('readv', 19, ['fd', 'iovOut'], 'iovdata'),
  c('writev', 20, ['fd', 'iovIn']),
  c('access', 21, ['path', 'int']),
  c('pipe', 22, ['pipefd'], 'fds2'),
  c('dup', 32, ['fd'], 'fd'),
  c('dup2', 33, ['fd', 'fd'], 'fd'),
  c('fcntl', 72, ['fd', 'int', 'intOrFlock'], 'fcntl'),
  c('flock', 73, ['fd', 'int']),
  c('fsync', 74, ['fd']),
  c('fdatasync', 75, ['fd']),
  c('truncate', 76, ['path', 'int']),
  c('ftruncate', 77, ['fd', 'int']),
  c('getcwd', 79, ['out', 'len'], 'cwd'),
  c('chdir', 80, ['path']),
  c('fchdir', 81, ['fd']),
  c('rename', 82, ['path', 'path']),
  c('mkdir', 83, ['path', 'int']),
  c('rmdir', 84, ['path']),
  c('creat', 85, ['path', 'int'], 'fd'),
  c('link', 86, ['path', 'path']),
  c('unlink', 87, ['path']),
  c('symlink', 88, ['path', 'path']),
  c('readlink', 89, ['path', 'out', 'len'], 'data'),
  c('chmod', 90, ['path', 'int']),
  c('fchmod', 91, ['fd', 'int']),
  c('chown', 92, ['path', 'int', 'int']),
  c('fchown', 93, ['fd', 'int', 'int']),
  c('lchown', 94, ['path', 'int', 'int']),
  c('umask', 95, ['int']),
  c('utime', 132, ['path', 'utimbuf']),
  c('mknod', 133, ['path', 'int', 'int']),
  c('statfs', 137, ['path', 'statfs']),
  c('fstatfs', 138, ['fd', 'statfs']),
  isolated(c('chroot', 161, ['path'])),
  isolated(c('mount', 165, ['path', 'path', 'path', 'int', 'path'])),
  isolated(c('umount2', 166, ['path', 'int'])),
  c('setxattr', 188, ['path', 'path', 'data', 'len', 'int']),
  c('lsetxattr', 189, ['path', 'path', 'data', 'len', 'int']),
  c('fsetxattr', 190, ['fd', 'path', 'data', 'len', 'int']),
  c('getxattr', 191, ['path', 'path', 'out', 'len'], 'data'),
  c('lgetxattr', 192, ['path', 'path', 'out', 'len'], 'data'),
  c('fgetxattr', 193, ['fd', 'path', 'out', 'len'], 'data'),
  c('listxattr', 194, ['path', 'out', 'len'], 'xattrs'),
  c('llistxattr', 195, ['path', 'out', 'len'], 'xattrs'),
  c('flistxattr', 196, ['fd', 'out', 'len'], 'xattrs'),
  c('removexattr', 197, ['path', 'path']),
  c('lremovexattr', 198, ['path', 'path']),
  c('fremovexattr', 199, ['fd', 'path']),
  c('getdents64', 217, ['fd', 'out', 'len'], 'names'),
  c('utimes', 235, ['path', 'timeval2']),
  c('inotify_init', 253, [], 'fd'),
  c('inotify_add_watch', 254, ['fd', 'path', 'int']),
  c('inotify_rm_watch', 255, ['fd', 'int']),
  c('openat', 257, ['fd', 'path', 'int', 'int'], 'fd'),
  c('mkdirat', 258, ['fd', 'path', 'int']),
  c('mknodat', 259, ['fd', 'path', 'int', 'int']),
  c('fchownat', 260, ['fd', 'path', 'int', 'int', 'int']),
  c('futimesat', 261, ['fd', 'path', 'timeval2']),
  c('newfstatat', 262, ['fd', 'path', 'stat', 'int'], 'stat'),
  c('unlinkat', 263, ['fd', 'path', 'int']),
  c('renameat', 264, ['fd', 'path', 'fd', 'path']),
  c('linkat', 265, ['fd', 'path', 'fd', 'path', 'int']),
  c('symlinkat', 266, ['path', 'fd', 'path']),
  c('readlinkat', 267, ['fd', 'path', 'out', 'len'], 'data'),
  c('fchmodat', 268, ['fd', 'path', 'int']),
  c('faccessat', 269, ['fd', 'path', 'int', 'int']),
  c('utimensat', 280, ['fd', 'path', 'timespec2', 'int']),
  c('fallocate', 285, ['fd', 'int', 'int', 'int']),
  c('dup3', 292, ['fd', 'fd', 'int'], 'fd'),
  c('pipe2', 293, ['pipefd', 'int'], 'fds2'),
  c('inotify_init1', 294, ['int'], 'fd'),
  c('preadv', 295, ['fd', 'iovOut', 'int'], 'iovdata'),
  c('pwritev', 296, ['fd', 'iovIn', 'int']),
  c('syncfs', 306, ['fd']),
  c('renameat2', 316, ['fd', 'path', 'fd', 'path', 'int']),
  c('statx', 332, ['fd', 'path', 'int', 'int', 'statx'], 'statx'),
].map((s) => [s.name, s] as const));

function numericExports(...mods: Array<Record<string, unknown>>): Map<string, number> {
  const m = new Map<string, number>();
  for (const mod of mods) {
    for (const [k, v] of Object.entries(mod)) {
      if (typeof v === 'number' && /^[A-Z][A-Z0-9_]+$/.test(k)) m.set(k, v);
    }
  }
  return m;
}

/** symbols are the constants a case line may name (O_*, AT_*, S_*, F_*, LOCK_*, IN_*, ...). */
export const symbols: ReadonlyMap<string, number> = numericExports(
  file as unknown as Record<string, unknown>,
  fcntl as unknown as Record<string, unknown>,
  inotify as unknown as Record<string, unknown>,
  mount as unknown as Record<string, unknown>,
);

/** Sizes of the output structures (x86_64). */
export const SIZEOF_STAT = 144;
export const SIZEOF_STATX = 256;
export const SIZEOF_STATFS = 120;
export const SIZEOF_FLOCK = 32;

/** BAD_FD stands for a $fdN whose call failed: no such descriptor on either side. */
export const BAD_FD = 9999;
