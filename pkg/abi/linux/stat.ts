// struct stat, struct statx and struct statfs of Linux x86_64, with the
// STATX_* masks, as gVisor's pkg/abi/linux/file.go and fs.go define them.
//
// Differs from gVisor: 64-bit fields are JS numbers (exact below 2^53, which
// every size, inode number and block count of this project stays under);
// marshalling is by explicit little-endian writes instead of go-marshal.

// Statx.Mask bits (include/uapi/linux/stat.h).
export const STATX_TYPE = 0x00000001;
export const STATX_MODE = 0x00000002;
export const STATX_NLINK = 0x00000004;
export const STATX_UID = 0x00000008;
export const STATX_GID = 0x00000010;
export const STATX_ATIME = 0x00000020;
export const STATX_MTIME = 0x00000040;
export const STATX_CTIME = 0x00000080;
export const STATX_INO = 0x00000100;
export const STATX_SIZE = 0x00000200;
export const STATX_BLOCKS = 0x00000400;
export const STATX_BASIC_STATS = 0x000007ff;
export const STATX_BTIME = 0x00000800;
export const STATX_ALL = 0x00000fff;
export const STATX__RESERVED = 0x80000000;

// Statx.Attributes and Statx.AttributesMask bits.
export const STATX_ATTR_COMPRESSED = 0x00000004;
export const STATX_ATTR_IMMUTABLE = 0x00000010;
export const STATX_ATTR_APPEND = 0x00000020;
export const STATX_ATTR_NODUMP = 0x00000040;
export const STATX_ATTR_ENCRYPTED = 0x00000800;
export const STATX_ATTR_AUTOMOUNT = 0x00001000;

/** StatxTimestamp represents struct statx_timestamp. */
export interface StatxTimestamp {
  sec: number;
  nsec: number;
}

/** Timespec represents struct timespec. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/**
 * Statx represents struct statx. Only the fields named in mask are
 * meaningful; the others are zero.
 */
export interface Statx {
  mask: number;
  blksize: number;
  attributes: number;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  ino: number;
  size: number;
  blocks: number;
  attributesMask: number;
  atime: StatxTimestamp;
  btime: StatxTimestamp;
  ctime: StatxTimestamp;
  mtime: StatxTimestamp;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
}

/** newStatx returns a zero Statx (gVisor's linux.Statx{}). */
export function newStatx(): Statx {
  return {
    mask: 0, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size: 0,
    blocks: 0, attributesMask: 0,
    atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 },
    ctime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
    rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}

/** SizeOfStatx is sizeof(struct statx). */
export const SizeOfStatx = 256;

/** marshalStatx writes s as struct statx (little endian) into a new Buffer. */
export function marshalStatx(s: Statx): Buffer {
  const b = Buffer.alloc(SizeOfStatx);
  b.writeUInt32LE(s.mask >>> 0, 0);
  b.writeUInt32LE(s.blksize >>> 0, 4);
  writeU64(b, 8, s.attributes);
  b.writeUInt32LE(s.nlink >>> 0, 16);
  b.writeUInt32LE(s.uid >>> 0, 20);
  b.writeUInt32LE(s.gid >>> 0, 24);
  b.writeUInt16LE(s.mode & 0xffff, 28);
  writeU64(b, 32, s.ino);
  writeU64(b, 40, s.size);
  writeU64(b, 48, s.blocks);
  writeU64(b, 56, s.attributesMask);
  writeStatxTimestamp(b, 64, s.atime);
  writeStatxTimestamp(b, 80, s.btime);
  writeStatxTimestamp(b, 96, s.ctime);
  writeStatxTimestamp(b, 112, s.mtime);
  b.writeUInt32LE(s.rdevMajor >>> 0, 128);
  b.writeUInt32LE(s.rdevMinor >>> 0, 132);
  b.writeUInt32LE(s.devMajor >>> 0, 136);
  b.writeUInt32LE(s.devMinor >>> 0, 140);
  return b;
}

/** Stat represents struct stat (x86_64), as fstat(2) and friends return it. */
export interface Stat {
  dev: number;
  ino: number;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/** SizeOfStat is sizeof(struct stat) on x86_64. */
export const SizeOfStat = 144;

/** marshalStat writes s as struct stat (x86_64, little endian). */
export function marshalStat(s: Stat): Buffer {
  const b = Buffer.alloc(SizeOfStat);
  writeU64(b, 0, s.dev);
  writeU64(b, 8, s.ino);
  writeU64(b, 16, s.nlink);
  b.writeUInt32LE(s.mode >>> 0, 24);
  b.writeUInt32LE(s.uid >>> 0, 28);
  b.writeUInt32LE(s.gid >>> 0, 32);
  writeU64(b, 40, s.rdev);
  writeI64(b, 48, s.size);
  writeI64(b, 56, s.blksize);
  writeI64(b, 64, s.blocks);
  writeTimespec(b, 72, s.atime);
  writeTimespec(b, 88, s.mtime);
  writeTimespec(b, 104, s.ctime);
  return b;
}

/**
 * MakeDeviceID returns the encoding of the given major and minor device
 * numbers as the kernel's new_encode_dev() does.
 */
export function makeDeviceID(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor >>> 8) << 20)) >>> 0;
}

/** decodeDeviceID is the inverse of makeDeviceID (new_decode_dev()). */
export function decodeDeviceID(rdev: number): { major: number; minor: number } {
  return { major: (rdev >>> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) };
}

/** UNNAMED_MAJOR is the major device number of anonymous block devices. */
export const UNNAMED_MAJOR = 0;

/**
 * statFromStatx converts a Statx to a struct stat, as gVisor's
 * syscalls/linux/vfs2/stat.go:convertStatxToUserStat does.
 */
export function statFromStatx(s: Statx): Stat {
  return {
    dev: makeDeviceID(s.devMajor, s.devMinor),
    ino: s.ino,
    nlink: s.nlink,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    rdev: makeDeviceID(s.rdevMajor, s.rdevMinor),
    size: s.size,
    blksize: s.blksize,
    blocks: s.blocks,
    atime: { sec: s.atime.sec, nsec: s.atime.nsec },
    mtime: { sec: s.mtime.sec, nsec: s.mtime.nsec },
    ctime: { sec: s.ctime.sec, nsec: s.ctime.nsec },
  };
}

// Filesystem magic numbers (include/uapi/linux/magic.h).
export const ANON_INODE_FS_MAGIC = 0x09041934;
export const DEVPTS_SUPER_MAGIC = 0x00001cd1;
export const EXT_SUPER_MAGIC = 0xef53;
export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
export const PIPEFS_MAGIC = 0x50495045;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const RAMFS_MAGIC = 0x09041934;
export const SOCKFS_MAGIC = 0x534f434b;
export const SYSFS_MAGIC = 0x62656572;
export const TMPFS_MAGIC = 0x01021994;
export const V9FS_MAGIC = 0x01021997;
export const FUSE_SUPER_MAGIC = 0x65735546;

/** Statfs represents struct statfs (x86_64). */
export interface Statfs {
  type: number;
  blockSize: number;
  blocks: number;
  blocksFree: number;
  blocksAvailable: number;
  files: number;
  filesFree: number;
  fsid: [number, number];
  nameLength: number;
  fragmentSize: number;
  flags: number;
}

/** newStatfs returns a zero Statfs. */
export function newStatfs(): Statfs {
  return {
    type: 0, blockSize: 0, blocks: 0, blocksFree: 0, blocksAvailable: 0, files: 0, filesFree: 0,
    fsid: [0, 0], nameLength: 0, fragmentSize: 0, flags: 0,
  };
}

/** SizeOfStatfs is sizeof(struct statfs) on x86_64. */
export const SizeOfStatfs = 120;

/** marshalStatfs writes s as struct statfs (x86_64, little endian). */
export function marshalStatfs(s: Statfs): Buffer {
  const b = Buffer.alloc(SizeOfStatfs);
  writeU64(b, 0, s.type);
  writeI64(b, 8, s.blockSize);
  writeU64(b, 16, s.blocks);
  writeU64(b, 24, s.blocksFree);
  writeU64(b, 32, s.blocksAvailable);
  writeU64(b, 40, s.files);
  writeU64(b, 48, s.filesFree);
  b.writeInt32LE(s.fsid[0] | 0, 56);
  b.writeInt32LE(s.fsid[1] | 0, 60);
  writeU64(b, 64, s.nameLength);
  writeI64(b, 72, s.fragmentSize);
  writeU64(b, 80, s.flags);
  return b;
}

function writeU64(b: Buffer, off: number, v: number): void {
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(Math.trunc(v))), off);
}

function writeI64(b: Buffer, off: number, v: number): void {
  b.writeBigInt64LE(BigInt.asIntN(64, BigInt(Math.trunc(v))), off);
}

function writeStatxTimestamp(b: Buffer, off: number, t: StatxTimestamp): void {
  writeI64(b, off, t.sec);
  b.writeUInt32LE(t.nsec >>> 0, off + 8);
}

function writeTimespec(b: Buffer, off: number, t: Timespec): void {
  writeI64(b, off, t.sec);
  writeI64(b, off + 8, t.nsec);
}
