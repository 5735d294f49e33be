// File types, mode bits, open flags and *at flags of Linux x86_64, as
// gVisor's pkg/abi/linux/file.go defines them.

// Mode: file type bits (S_IF*) and permission bits.
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const PermissionsMask = 0o777;
export const ModeSetIDMask = S_ISUID | S_ISGID | S_ISVTX;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IXUSR = 0o100;
export const S_IRWXG = 0o070;
export const S_IRGRP = 0o040;
export const S_IWGRP = 0o020;
export const S_IXGRP = 0o010;
export const S_IRWXO = 0o007;
export const S_IROTH = 0o004;
export const S_IWOTH = 0o002;
export const S_IXOTH = 0o001;

// Dirent types (DT_*), as getdents64 reports them.
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;
export const DT_WHT = 14;

/** FileMode.DirentType: S_IF* type bits → DT_* (the type bits shifted by 12). */
export function direntTypeOfMode(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

/** direntTypeToFileMode: DT_* → S_IF* bits. */
export function direntTypeToFileMode(dt: number): number {
  return (dt << 12) & S_IFMT;
}

// Open flags (fcntl.h, x86_64).
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

// *at flags.
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_EACCESS = 0x200;
export const AT_STATX_SYNC_TYPE = 0x6000;
export const AT_STATX_SYNC_AS_STAT = 0x0000;
export const AT_STATX_FORCE_SYNC = 0x2000;
export const AT_STATX_DONT_SYNC = 0x4000;

// access(2) modes.
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

// renameat2(2) flags.
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

// lseek(2) whence.
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// utimensat(2) special nanosecond values.
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

// xattr flags.
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 1 << 16;
export const XATTR_LIST_MAX = 1 << 16;

// fallocate(2) modes.
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_NO_HIDE_STALE = 0x04;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;

// Limits (limits.h).
export const NAME_MAX = 255;
export const PATH_MAX = 4096;
export const MAXSYMLINKS = 40;

// Extended attribute namespaces (include/uapi/linux/xattr.h).
export const XATTR_SECURITY_PREFIX = 'security.';
export const XATTR_SYSTEM_PREFIX = 'system.';
export const XATTR_TRUSTED_PREFIX = 'trusted.';
export const XATTR_USER_PREFIX = 'user.';

/** MaxSymlinkTraversals is gVisor's name for MAXSYMLINKS (40). */
export const MaxSymlinkTraversals = MAXSYMLINKS;
