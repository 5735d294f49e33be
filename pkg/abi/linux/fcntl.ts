// fcntl(2), flock(2) and lock constants (include/uapi/asm-generic/fcntl.h),
// as gVisor's pkg/abi/linux/fcntl.go defines them, and the ioctls the
// filesystem slice answers.

// fcntl(2) commands.
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_SETLKW = 7;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const F_SETSIG = 10;
export const F_GETSIG = 11;
export const F_SETOWN_EX = 15;
export const F_GETOWN_EX = 16;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_DUPFD_CLOEXEC = 1024 + 6;
export const F_SETPIPE_SZ = 1024 + 7;
export const F_GETPIPE_SZ = 1024 + 8;

/** FD_CLOEXEC is the close-on-exec file descriptor flag. */
export const FD_CLOEXEC = 1;

// struct flock l_type values.
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

// flock(2) operations.
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** SizeOfFlock is sizeof(struct flock) on x86_64. */
export const SizeOfFlock = 32;

/** Flock represents struct flock. */
export interface Flock {
  type: number;
  whence: number;
  start: number;
  len: number;
  pid: number;
}

// ioctl(2) requests answered by files of the filesystem slice.
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const FIOCLEX = 0x5451;
export const FIONCLEX = 0x5450;

// preadv2(2)/pwritev2(2) flags (RWF_*).
export const RWF_HIPRI = 0x1;
export const RWF_DSYNC = 0x2;
export const RWF_SYNC = 0x4;
export const RWF_NOWAIT = 0x8;
export const RWF_APPEND = 0x10;
export const RWF_VALID = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;

