// Port of gVisor pkg/p9/p9.go: the 9P2000.L primitive types (flags, modes,
// QIDs, attributes) shared by the codec, the client and the server.
//
// Go's named integer types (OpenFlags, FileMode, Tag, FID, UID, GID, MsgType,
// QIDType) are `number` aliases here; their methods are plain functions
// (fileModeIsDir(m), openFlagsString(o)) so that the hot paths pass numbers
// around without boxing them. Go structs with encode/decode (QID, FSStat,
// AttrMask, Attr, SetAttrMask, SetAttr, Dirent, AllocateMode, FullStat) are
// classes implementing encoder.

import type { BigIntStats, Stats } from 'node:fs';
import * as linux from '../abi/linux/file';
import type { buffer, encoder } from './buffer';

// ---------------------------------------------------------------------------
// OpenFlags

/**
 * OpenFlags is the mode passed to Open and Create operations.
 *
 * These correspond to bits sent over the wire.
 */
export type OpenFlags = number;

/** ReadOnly is a Tlopen and Tlcreate flag indicating read-only mode. */
export const ReadOnly: OpenFlags = 0;
/** WriteOnly is a Tlopen and Tlcreate flag indicating write-only mode. */
export const WriteOnly: OpenFlags = 1;
/** ReadWrite is a Tlopen flag indicates read-write mode. */
export const ReadWrite: OpenFlags = 2;
/** OpenFlagsModeMask is a mask of valid OpenFlags mode bits. */
export const OpenFlagsModeMask: OpenFlags = 3;
/** OpenTruncate is a Tlopen flag indicating that the opened file should be truncated. */
export const OpenTruncate: OpenFlags = 0o1000;

/** openFlagsOSFlags converts a p9.OpenFlags to an int compatible with open(2). */
export function openFlagsOSFlags(o: OpenFlags): number {
  // "flags contains Linux open(2) flags bits" - 9P2000.L
  return o;
}

/** openFlagsString implements OpenFlags.String. */
export function openFlagsString(o: OpenFlags): string {
  let buf: string;
  const mode = o & OpenFlagsModeMask;
  switch (mode) {
    case ReadOnly:
      buf = 'ReadOnly';
      break;
    case WriteOnly:
      buf = 'WriteOnly';
      break;
    case ReadWrite:
      buf = 'ReadWrite';
      break;
    default:
      buf = octal(mode);
  }
  let otherFlags = (o & ~OpenFlagsModeMask) >>> 0;
  if (otherFlags & OpenTruncate) {
    buf += '|OpenTruncate';
    otherFlags = (otherFlags & ~OpenTruncate) >>> 0;
  }
  if (otherFlags !== 0) buf += '|' + octal(otherFlags);
  return buf;
}

// Go's %#o.
function octal(n: number): string {
  return n === 0 ? '0' : '0' + n.toString(8);
}

// ---------------------------------------------------------------------------
// ConnectFlags

/** ConnectFlags is the mode passed to Connect operations (bits on the wire). */
export type ConnectFlags = number;

/** StreamSocket is a Tlconnect flag indicating SOCK_STREAM mode. */
export const StreamSocket: ConnectFlags = 0;
/** DgramSocket is a Tlconnect flag indicating SOCK_DGRAM mode. */
export const DgramSocket: ConnectFlags = 1;
/** SeqpacketSocket is a Tlconnect flag indicating SOCK_SEQPACKET mode. */
export const SeqpacketSocket: ConnectFlags = 2;
/**
 * AnonymousSocket is a Tlconnect flag indicating that the mode does not
 * matter and that the requester will accept any socket type.
 */
export const AnonymousSocket: ConnectFlags = 3;

// ---------------------------------------------------------------------------
// Tag, FID

/** Tag is a message tag (u16). */
export type Tag = number;

/** FID is a file identifier (u32 on the wire; gVisor's type is uint64). */
export type FID = number;

// ---------------------------------------------------------------------------
// FileMode

/**
 * FileMode are flags corresponding to file modes.
 *
 * These correspond to bits sent over the wire.
 * These also correspond to mode_t bits.
 */
export type FileMode = number;

/** FileModeMask is a mask of all the file mode bits of FileMode. */
export const FileModeMask: FileMode = 0o170000;
/** ModeSocket is an (unused) mode bit for a socket. */
export const ModeSocket: FileMode = 0o140000;
/** ModeSymlink is a mode bit for a symlink. */
export const ModeSymlink: FileMode = 0o120000;
/** ModeRegular is a mode bit for regular files. */
export const ModeRegular: FileMode = 0o100000;
/** ModeBlockDevice is a mode bit for block devices. */
export const ModeBlockDevice: FileMode = 0o60000;
/** ModeDirectory is a mode bit for directories. */
export const ModeDirectory: FileMode = 0o40000;
/** ModeCharacterDevice is a mode bit for a character device. */
export const ModeCharacterDevice: FileMode = 0o20000;
/** ModeNamedPipe is a mode bit for a named pipe. */
export const ModeNamedPipe: FileMode = 0o10000;
/** Read is a mode bit indicating read permission. */
export const Read: FileMode = 0o4;
/** Write is a mode bit indicating write permission. */
export const Write: FileMode = 0o2;
/** Exec is a mode bit indicating exec permission. */
export const Exec: FileMode = 0o1;
/** AllPermissions is a mask with rwx bits set for user, group and others. */
export const AllPermissions: FileMode = 0o777;
/** Sticky is a mode bit indicating sticky directories. */
export const Sticky: FileMode = 0o1000;
/** SetGID is the set group ID bit (gVisor 92374e519, later than dbe41765). */
export const SetGID: FileMode = 0o2000;
/** SetUID is the set user ID bit (gVisor 92374e519, later than dbe41765). */
export const SetUID: FileMode = 0o4000;
/**
 * permissionsMask is the mask to apply to FileModes for permissions. It
 * includes rwx bits for user, group, and others, as well as the sticky
 * bit, setuid bit, and setgid bit.
 *
 * Differs from gVisor at dbe41765 (01777, which dropped S_ISUID/S_ISGID
 * from every create, mkdir and chmod): this is 07777 as gVisor 92374e519
 * made it, diod passes and Linux's chmod(2) keeps; the client applies
 * Linux's clearing rules and sends the mode it wants stored.
 */
export const permissionsMask: FileMode = 0o7777;

/** fileModeQIDType returns the QIDType matching the file type of m (FileMode.QIDType). */
export function fileModeQIDType(m: FileMode): QIDType {
  if (fileModeIsDir(m)) return TypeDir;
  if (fileModeIsSocket(m) || fileModeIsNamedPipe(m) || fileModeIsCharacterDevice(m)) {
    // Best approximation.
    return TypeAppendOnly;
  }
  if (fileModeIsSymlink(m)) return TypeSymlink;
  return TypeRegular;
}

/** fileModeFileType returns the file mode without the permission bits. */
export function fileModeFileType(m: FileMode): FileMode {
  return m & FileModeMask;
}

/** fileModePermissions returns just the permission bits of the mode. */
export function fileModePermissions(m: FileMode): FileMode {
  return m & permissionsMask;
}

/** fileModeWritable returns the mode with write bits added. */
export function fileModeWritable(m: FileMode): FileMode {
  return (m | 0o222) >>> 0;
}

/** fileModeIsReadable returns true if m represents a file that can be read. */
export function fileModeIsReadable(m: FileMode): boolean {
  return (m & 0o444) !== 0;
}

/** fileModeIsWritable returns true if m represents a file that can be written to. */
export function fileModeIsWritable(m: FileMode): boolean {
  return (m & 0o222) !== 0;
}

/** fileModeIsExecutable returns true if m represents a file that can be executed. */
export function fileModeIsExecutable(m: FileMode): boolean {
  return (m & 0o111) !== 0;
}

/** fileModeIsRegular returns true if m is a regular file. */
export function fileModeIsRegular(m: FileMode): boolean {
  return (m & FileModeMask) === ModeRegular;
}

/** fileModeIsDir returns true if m represents a directory. */
export function fileModeIsDir(m: FileMode): boolean {
  return (m & FileModeMask) === ModeDirectory;
}

/** fileModeIsNamedPipe returns true if m represents a named pipe. */
export function fileModeIsNamedPipe(m: FileMode): boolean {
  return (m & FileModeMask) === ModeNamedPipe;
}

/** fileModeIsCharacterDevice returns true if m represents a character device. */
export function fileModeIsCharacterDevice(m: FileMode): boolean {
  return (m & FileModeMask) === ModeCharacterDevice;
}

/** fileModeIsBlockDevice returns true if m represents a block device. */
export function fileModeIsBlockDevice(m: FileMode): boolean {
  return (m & FileModeMask) === ModeBlockDevice;
}

/** fileModeIsSocket returns true if m represents a socket. */
export function fileModeIsSocket(m: FileMode): boolean {
  return (m & FileModeMask) === ModeSocket;
}

/** fileModeIsSymlink returns true if m represents a symlink. */
export function fileModeIsSymlink(m: FileMode): boolean {
  return (m & FileModeMask) === ModeSymlink;
}

/**
 * OSFileMode holds Go's os.FileMode bits, the "OS" side of ModeFromOS and
 * FileMode.OSMode. Node has no such type (fs.Stats.mode is already a mode_t,
 * that is a FileMode); they are kept so that the conversions stay testable
 * against gVisor's.
 */
export const OSFileMode = {
  ModeDir: 2 ** 31,
  ModeAppend: 2 ** 30,
  ModeExclusive: 2 ** 29,
  ModeTemporary: 2 ** 28,
  ModeSymlink: 2 ** 27,
  ModeDevice: 2 ** 26,
  ModeNamedPipe: 2 ** 25,
  ModeSocket: 2 ** 24,
  ModeSetuid: 2 ** 23,
  ModeSetgid: 2 ** 22,
  ModeCharDevice: 2 ** 21,
  ModeSticky: 2 ** 20,
  ModeIrregular: 2 ** 19,
  ModePerm: 0o777,
} as const;

function has(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** modeFromOS returns a FileMode from a Go os.FileMode (see OSFileMode). */
export function modeFromOS(mode: number): FileMode {
  let m = mode & OSFileMode.ModePerm;
  if (has(mode, OSFileMode.ModeDir)) m |= ModeDirectory;
  else if (has(mode, OSFileMode.ModeSymlink)) m |= ModeSymlink;
  else if (has(mode, OSFileMode.ModeSocket)) m |= ModeSocket;
  else if (has(mode, OSFileMode.ModeNamedPipe)) m |= ModeNamedPipe;
  else if (has(mode, OSFileMode.ModeCharDevice)) m |= ModeCharacterDevice;
  else if (has(mode, OSFileMode.ModeDevice)) m |= ModeBlockDevice;
  else m |= ModeRegular;
  return m;
}

/** fileModeOSMode converts a p9.FileMode to a Go os.FileMode (FileMode.OSMode). */
export function fileModeOSMode(m: FileMode): number {
  // Permissions include the sticky, setgid and setuid bits (07000) as raw
  // bits, as gVisor does (Go's os.FileMode has other bits for them).
  let osMode = fileModePermissions(m);
  if (fileModeIsDir(m)) osMode += OSFileMode.ModeDir;
  else if (fileModeIsSymlink(m)) osMode += OSFileMode.ModeSymlink;
  else if (fileModeIsSocket(m)) osMode += OSFileMode.ModeSocket;
  else if (fileModeIsNamedPipe(m)) osMode += OSFileMode.ModeNamedPipe;
  else if (fileModeIsCharacterDevice(m)) osMode += OSFileMode.ModeCharDevice + OSFileMode.ModeDevice;
  else if (fileModeIsBlockDevice(m)) osMode += OSFileMode.ModeDevice;
  return osMode;
}

// ---------------------------------------------------------------------------
// UID, GID and sentinels

/** UID represents a user ID. */
export type UID = number;
/** GID represents a group ID. */
export type GID = number;

/** NoTag is a sentinel used to indicate no valid tag. */
export const NoTag: Tag = 0xffff;
/** NoFID is a sentinel used to indicate no valid FID. */
export const NoFID: FID = 0xffffffff;
/** NoUID is a sentinel used to indicate no valid UID. */
export const NoUID: UID = 0xffffffff;
/** NoGID is a sentinel used to indicate no valid GID. */
export const NoGID: GID = 0xffffffff;

/** uidOk returns true if uid is not NoUID (UID.Ok). */
export function uidOk(uid: UID): boolean {
  return uid !== NoUID;
}

/** gidOk returns true if gid is not NoGID (GID.Ok). */
export function gidOk(gid: GID): boolean {
  return gid !== NoGID;
}

// ---------------------------------------------------------------------------
// MsgType

/**
 * MsgType is a type identifier: gVisor's MsgT... constants, plus the standard
 * 9P2000.L Tlock/Tgetlock (which gVisor leaves out) and Tmultigetattr (gVisor
 * commit 276ff149a, version 13).
 */
export enum MsgType {
  Tlerror = 6,
  Rlerror = 7,
  Tstatfs = 8,
  Rstatfs = 9,
  Tlopen = 12,
  Rlopen = 13,
  Tlcreate = 14,
  Rlcreate = 15,
  Tsymlink = 16,
  Rsymlink = 17,
  Tmknod = 18,
  Rmknod = 19,
  Trename = 20,
  Rrename = 21,
  Treadlink = 22,
  Rreadlink = 23,
  Tgetattr = 24,
  Rgetattr = 25,
  Tsetattr = 26,
  Rsetattr = 27,
  Tlistxattr = 28,
  Rlistxattr = 29,
  Txattrwalk = 30,
  Rxattrwalk = 31,
  Txattrcreate = 32,
  Rxattrcreate = 33,
  Tgetxattr = 34,
  Rgetxattr = 35,
  Tsetxattr = 36,
  Rsetxattr = 37,
  Tremovexattr = 38,
  Rremovexattr = 39,
  Treaddir = 40,
  Rreaddir = 41,
  Tfsync = 50,
  Rfsync = 51,
  Tlock = 52,
  Rlock = 53,
  Tgetlock = 54,
  Rgetlock = 55,
  Tlink = 70,
  Rlink = 71,
  Tmkdir = 72,
  Rmkdir = 73,
  Trenameat = 74,
  Rrenameat = 75,
  Tunlinkat = 76,
  Runlinkat = 77,
  Tversion = 100,
  Rversion = 101,
  Tauth = 102,
  Rauth = 103,
  Tattach = 104,
  Rattach = 105,
  Tflush = 108,
  Rflush = 109,
  Twalk = 110,
  Rwalk = 111,
  Tread = 116,
  Rread = 117,
  Twrite = 118,
  Rwrite = 119,
  Tclunk = 120,
  Rclunk = 121,
  Tremove = 122,
  Rremove = 123,
  Tflushf = 124,
  Rflushf = 125,
  Twalkgetattr = 126,
  Rwalkgetattr = 127,
  Tucreate = 128,
  Rucreate = 129,
  Tumkdir = 130,
  Rumkdir = 131,
  Tumknod = 132,
  Rumknod = 133,
  Tusymlink = 134,
  Rusymlink = 135,
  Tlconnect = 136,
  Rlconnect = 137,
  Tallocate = 138,
  Rallocate = 139,
  Tsetattrclunk = 140,
  Rsetattrclunk = 141,
  Tmultigetattr = 142,
  Rmultigetattr = 143,
  Tchannel = 250,
  Rchannel = 251,
}

// ---------------------------------------------------------------------------
// QIDType, QID

/**
 * QIDType represents the file type for QIDs.
 *
 * QIDType corresponds to the high 8 bits of a Plan 9 file mode.
 */
export type QIDType = number;

/** TypeDir represents a directory type. */
export const TypeDir: QIDType = 0x80;
/** TypeAppendOnly represents an append only file. */
export const TypeAppendOnly: QIDType = 0x40;
/** TypeExclusive represents an exclusive-use file. */
export const TypeExclusive: QIDType = 0x20;
/** TypeMount represents a mounted channel. */
export const TypeMount: QIDType = 0x10;
/** TypeAuth represents an authentication file. */
export const TypeAuth: QIDType = 0x08;
/** TypeTemporary represents a temporary file. */
export const TypeTemporary: QIDType = 0x04;
/** TypeSymlink represents a symlink. */
export const TypeSymlink: QIDType = 0x02;
/** TypeLink represents a hard link. */
export const TypeLink: QIDType = 0x01;
/** TypeRegular represents a regular file. */
export const TypeRegular: QIDType = 0x00;

/**
 * QID is a unique file identifier.
 *
 * This may be embedded in other requests and responses.
 */
export class QID implements encoder {
  constructor(
    /** type is the highest order byte of the file mode. */
    public type: QIDType = 0,
    /** version is an arbitrary server version number. */
    public version = 0,
    /** path is a unique server identifier for this path (e.g. inode). */
    public path = 0n,
  ) {}

  toString(): string {
    return `QID{Type: ${this.type}, Version: ${this.version}, Path: ${this.path}}`;
  }

  /** equals reports whether q and o are the same QID (Go's ==). */
  equals(o: QID): boolean {
    return this.type === o.type && this.version === o.version && this.path === o.path;
  }

  decode(b: buffer): void {
    this.type = b.readQIDType();
    this.version = b.read32();
    this.path = b.read64Big();
  }

  encode(b: buffer): void {
    b.writeQIDType(this.type);
    b.write32(this.version);
    b.write64Big(this.path);
  }
}

/**
 * QIDGenerator is a simple generator for QIDs that increments Path values.
 * (gVisor increments atomically; one JavaScript thread needs no atomics.)
 */
export class QIDGenerator {
  // uids is an ever increasing value that provides unique Path values for QIDs.
  private uids = 0n;

  /**
   * get returns a new 9P unique ID with a unique Path given a QID type.
   *
   * While the 9P spec allows Version to be incremented every time the file is
   * modified, we currently do not use the Version member for anything. Hence,
   * it is set to 0.
   */
  get(t: QIDType): QID {
    this.uids += 1n;
    return new QID(t, 0, this.uids);
  }
}

// ---------------------------------------------------------------------------
// FSStat

/** FSStat is used by statfs. */
export class FSStat implements encoder {
  constructor(
    /** type is the filesystem type. */
    public type = 0,
    /** blockSize is the blocksize. */
    public blockSize = 0,
    /** blocks is the number of blocks. */
    public blocks = 0,
    /** blocksFree is the number of free blocks. */
    public blocksFree = 0,
    /** blocksAvailable is the number of blocks *available*. */
    public blocksAvailable = 0,
    /** files is the number of files available. */
    public files = 0,
    /** filesFree is the number of free file nodes. */
    public filesFree = 0,
    /**
     * fsid is the filesystem ID (gVisor's FSID). A bigint: it is an identity,
     * and Linux servers send statfs(2)'s f_fsid, which often exceeds 2^53.
     */
    public fsid = 0n,
    /** nameLength is the maximum name length. */
    public nameLength = 0,
  ) {}

  toString(): string {
    return (
      `{Type:${this.type} BlockSize:${this.blockSize} Blocks:${this.blocks} BlocksFree:${this.blocksFree} ` +
      `BlocksAvailable:${this.blocksAvailable} Files:${this.files} FilesFree:${this.filesFree} ` +
      `FSID:${this.fsid} NameLength:${this.nameLength}}`
    );
  }

  decode(b: buffer): void {
    this.type = b.read32();
    this.blockSize = b.read32();
    this.blocks = b.read64();
    this.blocksFree = b.read64();
    this.blocksAvailable = b.read64();
    this.files = b.read64();
    this.filesFree = b.read64();
    this.fsid = b.read64Big();
    this.nameLength = b.read32();
  }

  encode(b: buffer): void {
    b.write32(this.type);
    b.write32(this.blockSize);
    b.write64(this.blocks);
    b.write64(this.blocksFree);
    b.write64(this.blocksAvailable);
    b.write64(this.files);
    b.write64(this.filesFree);
    b.write64Big(this.fsid);
    b.write32(this.nameLength);
  }
}

// ---------------------------------------------------------------------------
// AttrMask

const attrMaskBits = [
  ['mode', 'Mode', 0x1],
  ['nLink', 'NLink', 0x2],
  ['uid', 'UID', 0x4],
  ['gid', 'GID', 0x8],
  ['rDev', 'RDev', 0x10],
  ['aTime', 'ATime', 0x20],
  ['mTime', 'MTime', 0x40],
  ['cTime', 'CTime', 0x80],
  ['iNo', 'INo', 0x100],
  ['size', 'Size', 0x200],
  ['blocks', 'Blocks', 0x400],
  ['bTime', 'BTime', 0x800],
  ['gen', 'Gen', 0x1000],
  ['dataVersion', 'DataVersion', 0x2000],
] as const;

/** AttrMask is a mask of attributes for getattr. */
export class AttrMask implements encoder {
  mode = false;
  nLink = false;
  uid = false;
  gid = false;
  rDev = false;
  aTime = false;
  mTime = false;
  cTime = false;
  iNo = false;
  size = false;
  blocks = false;
  bTime = false;
  gen = false;
  dataVersion = false;

  /** fromBits returns the AttrMask of a 9P2000.L getattr mask (P9_GETATTR_*). */
  static fromBits(mask: number): AttrMask {
    const a = new AttrMask();
    a.setBits(mask);
    return a;
  }

  /** with returns a mask with the given fields set: AttrMask.with({mode: true}). */
  static with(fields: Partial<Pick<AttrMask, AttrMaskField>>): AttrMask {
    return Object.assign(new AttrMask(), fields);
  }

  /** clone returns a copy of a. */
  clone(): AttrMask {
    return AttrMask.fromBits(this.bits());
  }

  /** contains returns true if a contains all of the attributes masked as b. */
  contains(b: AttrMask): boolean {
    const ab = this.bits();
    return (ab | b.bits()) === ab;
  }

  /** empty returns true if no fields are masked. */
  empty(): boolean {
    return this.bits() === 0;
  }

  toString(): string {
    const masks: string[] = [];
    for (const [f, name] of attrMaskBits) if (this[f]) masks.push(name);
    return `AttrMask{with: ${masks.join(' ')}}`;
  }

  /** bits returns the wire mask. */
  bits(): number {
    let mask = 0;
    if (this.mode) mask |= 0x00000001;
    if (this.nLink) mask |= 0x00000002;
    if (this.uid) mask |= 0x00000004;
    if (this.gid) mask |= 0x00000008;
    if (this.rDev) mask |= 0x00000010;
    if (this.aTime) mask |= 0x00000020;
    if (this.mTime) mask |= 0x00000040;
    if (this.cTime) mask |= 0x00000080;
    if (this.iNo) mask |= 0x00000100;
    if (this.size) mask |= 0x00000200;
    if (this.blocks) mask |= 0x00000400;
    if (this.bTime) mask |= 0x00000800;
    if (this.gen) mask |= 0x00001000;
    if (this.dataVersion) mask |= 0x00002000;
    return mask;
  }

  /** setBits sets every field from a wire mask; unknown bits are ignored. */
  setBits(mask: number): void {
    this.mode = (mask & 0x00000001) !== 0;
    this.nLink = (mask & 0x00000002) !== 0;
    this.uid = (mask & 0x00000004) !== 0;
    this.gid = (mask & 0x00000008) !== 0;
    this.rDev = (mask & 0x00000010) !== 0;
    this.aTime = (mask & 0x00000020) !== 0;
    this.mTime = (mask & 0x00000040) !== 0;
    this.cTime = (mask & 0x00000080) !== 0;
    this.iNo = (mask & 0x00000100) !== 0;
    this.size = (mask & 0x00000200) !== 0;
    this.blocks = (mask & 0x00000400) !== 0;
    this.bTime = (mask & 0x00000800) !== 0;
    this.gen = (mask & 0x00001000) !== 0;
    this.dataVersion = (mask & 0x00002000) !== 0;
  }

  decode(b: buffer): void {
    this.setBits(b.read64Mask());
  }

  encode(b: buffer): void {
    b.write32(this.bits());
    b.write32(0);
  }
}

/** AttrMaskField names a field of AttrMask. */
export type AttrMaskField = (typeof attrMaskBits)[number][0];

/** AttrMaskAll returns an AttrMask with all fields masked. */
export function AttrMaskAll(): AttrMask {
  return AttrMask.fromBits(0x3fff);
}

// ---------------------------------------------------------------------------
// Attr

/**
 * Attr is a set of attributes for getattr.
 *
 * Times' seconds are signed (see buffer.read64Signed): Linux and gVisor send
 * uint64(int64), so a time before 1970 decodes as a negative number.
 */
export class Attr implements encoder {
  constructor(
    public mode: FileMode = 0,
    public uid: UID = 0,
    public gid: GID = 0,
    public nLink = 0,
    public rDev = 0,
    public size = 0,
    public blockSize = 0,
    public blocks = 0,
    public aTimeSeconds = 0,
    public aTimeNanoSeconds = 0,
    public mTimeSeconds = 0,
    public mTimeNanoSeconds = 0,
    public cTimeSeconds = 0,
    public cTimeNanoSeconds = 0,
    public bTimeSeconds = 0,
    public bTimeNanoSeconds = 0,
    public gen = 0,
    public dataVersion = 0,
  ) {}

  /** clone returns a copy of a. */
  clone(): Attr {
    return Object.assign(new Attr(), this);
  }

  toString(): string {
    return (
      `Attr{Mode: 0o${this.mode.toString(8)}, UID: ${this.uid}, GID: ${this.gid}, NLink: ${this.nLink}, ` +
      `RDev: ${this.rDev}, Size: ${this.size}, BlockSize: ${this.blockSize}, Blocks: ${this.blocks}, ` +
      `ATime: {Sec: ${this.aTimeSeconds}, NanoSec: ${this.aTimeNanoSeconds}}, ` +
      `MTime: {Sec: ${this.mTimeSeconds}, NanoSec: ${this.mTimeNanoSeconds}}, ` +
      `CTime: {Sec: ${this.cTimeSeconds}, NanoSec: ${this.cTimeNanoSeconds}}, ` +
      `BTime: {Sec: ${this.bTimeSeconds}, NanoSec: ${this.bTimeNanoSeconds}}, ` +
      `Gen: ${this.gen}, DataVersion: ${this.dataVersion}}`
    );
  }

  encode(b: buffer): void {
    b.writeFileMode(this.mode);
    b.writeUID(this.uid);
    b.writeGID(this.gid);
    b.write64(this.nLink);
    b.write64(this.rDev);
    b.write64(this.size);
    b.write64(this.blockSize);
    b.write64(this.blocks);
    b.write64(this.aTimeSeconds);
    b.write64(this.aTimeNanoSeconds);
    b.write64(this.mTimeSeconds);
    b.write64(this.mTimeNanoSeconds);
    b.write64(this.cTimeSeconds);
    b.write64(this.cTimeNanoSeconds);
    b.write64(this.bTimeSeconds);
    b.write64(this.bTimeNanoSeconds);
    b.write64(this.gen);
    b.write64(this.dataVersion);
  }

  decode(b: buffer): void {
    this.mode = b.readFileMode();
    this.uid = b.readUID();
    this.gid = b.readGID();
    this.nLink = b.read64();
    this.rDev = b.read64();
    this.size = b.read64();
    this.blockSize = b.read64();
    this.blocks = b.read64();
    this.aTimeSeconds = b.read64Signed();
    this.aTimeNanoSeconds = b.read64();
    this.mTimeSeconds = b.read64Signed();
    this.mTimeNanoSeconds = b.read64();
    this.cTimeSeconds = b.read64Signed();
    this.cTimeNanoSeconds = b.read64();
    this.bTimeSeconds = b.read64Signed();
    this.bTimeNanoSeconds = b.read64();
    this.gen = b.read64();
    this.dataVersion = b.read64();
  }

  /** apply applies attr (as masked by mask) to a (Attr.Apply). */
  apply(mask: SetAttrMask, attr: SetAttr): void {
    if (mask.permissions) {
      this.mode = ((this.mode & ~permissionsMask) | (attr.permissions & permissionsMask)) >>> 0;
    }
    if (mask.uid) this.uid = attr.uid;
    if (mask.gid) this.gid = attr.gid;
    if (mask.size) this.size = attr.size;
    if (mask.aTime) {
      this.aTimeSeconds = attr.aTimeSeconds;
      this.aTimeNanoSeconds = attr.aTimeNanoSeconds;
    }
    if (mask.mTime) {
      this.mTimeSeconds = attr.mTimeSeconds;
      this.mTimeNanoSeconds = attr.mTimeNanoSeconds;
    }
  }
}

/**
 * StatLike is what statToAttr accepts: a Node fs.BigIntStats (nanosecond
 * times), a fs.Stats (millisecond times), or a plain object of the same field
 * names, e.g. built from a raw `struct stat` (number or bigint fields, times
 * as atimeNs/mtimeNs/ctimeNs in nanoseconds).
 */
export interface StatLike {
  mode: number | bigint;
  nlink: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  rdev: number | bigint;
  size: number | bigint;
  blksize: number | bigint;
  blocks: number | bigint;
  atimeNs?: bigint | number;
  mtimeNs?: bigint | number;
  ctimeNs?: bigint | number;
  atimeMs?: number | bigint;
  mtimeMs?: number | bigint;
  ctimeMs?: number | bigint;
}

// splitTime returns [seconds, nanoseconds] of a time given in ns or ms;
// seconds are floored so that nanoseconds stay in [0, 1e9), as in a timespec.
function splitTime(ns: bigint | number | undefined, ms: bigint | number | undefined): [number, number] {
  if (ns !== undefined) {
    const n = BigInt(ns);
    let sec = n / 1000000000n;
    let nsec = n % 1000000000n;
    if (nsec < 0n) {
      nsec += 1000000000n;
      sec -= 1n;
    }
    return [Number(sec), Number(nsec)];
  }
  if (ms !== undefined) {
    const m = Number(ms);
    const sec = Math.floor(m / 1000);
    return [sec, Math.round((m - sec * 1000) * 1e6)];
  }
  return [0, 0];
}

/**
 * statToAttr converts a stat structure to an Attr (StatToAttr), and returns
 * the mask of what is valid in it: req without BTime, Gen and DataVersion.
 *
 * Differs from gVisor: gVisor sets RDev from st_dev (a bug: rdev is the
 * device a special file stands for, which Linux reports in st_rdev); we take
 * st_rdev, as Linux's v9fs and diod do.
 */
export function statToAttr(s: StatLike | Stats | BigIntStats, reqIn: AttrMask): [Attr, AttrMask] {
  const attr = new Attr();
  attr.uid = NoUID;
  attr.gid = NoGID;
  const req = reqIn.clone();
  if (req.mode) {
    // p9.FileMode corresponds to Linux mode_t.
    attr.mode = Number(s.mode);
  }
  if (req.nLink) attr.nLink = Number(s.nlink);
  if (req.uid) attr.uid = Number(s.uid);
  if (req.gid) attr.gid = Number(s.gid);
  if (req.rDev) attr.rDev = Number(s.rdev);
  const t = s as StatLike;
  if (req.aTime) [attr.aTimeSeconds, attr.aTimeNanoSeconds] = splitTime(t.atimeNs, t.atimeMs);
  if (req.mTime) [attr.mTimeSeconds, attr.mTimeNanoSeconds] = splitTime(t.mtimeNs, t.mtimeMs);
  if (req.cTime) [attr.cTimeSeconds, attr.cTimeNanoSeconds] = splitTime(t.ctimeNs, t.ctimeMs);
  if (req.size) attr.size = Number(s.size);
  if (req.blocks) {
    attr.blockSize = Number(s.blksize);
    attr.blocks = Number(s.blocks);
  }

  // Use the req field because we already have it.
  req.bTime = false;
  req.gen = false;
  req.dataVersion = false;

  return [attr, req];
}

// ---------------------------------------------------------------------------
// SetAttrMask, SetAttr

const setAttrMaskBits = [
  ['permissions', 'Permissions', 0x1],
  ['uid', 'UID', 0x2],
  ['gid', 'GID', 0x4],
  ['size', 'Size', 0x8],
  ['aTime', 'ATime', 0x10],
  ['mTime', 'MTime', 0x20],
  ['cTime', 'CTime', 0x40],
  ['aTimeNotSystemTime', 'ATimeNotSystemTime', 0x80],
  ['mTimeNotSystemTime', 'MTimeNotSystemTime', 0x100],
] as const;

/** SetAttrMaskField names a field of SetAttrMask. */
export type SetAttrMaskField = (typeof setAttrMaskBits)[number][0];

/** SetAttrMask specifies a valid mask for setattr. */
export class SetAttrMask implements encoder {
  permissions = false;
  uid = false;
  gid = false;
  size = false;
  aTime = false;
  mTime = false;
  cTime = false;
  aTimeNotSystemTime = false;
  mTimeNotSystemTime = false;

  /** fromBits returns the SetAttrMask of a 9P2000.L setattr mask (P9_ATTR_*). */
  static fromBits(mask: number): SetAttrMask {
    const s = new SetAttrMask();
    s.setBits(mask);
    return s;
  }

  /** with returns a mask with the given fields set: SetAttrMask.with({size: true}). */
  static with(fields: Partial<Pick<SetAttrMask, SetAttrMaskField>>): SetAttrMask {
    return Object.assign(new SetAttrMask(), fields);
  }

  /** isSubsetOf returns whether s is a subset of m. */
  isSubsetOf(m: SetAttrMask): boolean {
    const sb = this.bitmask();
    const sm = m.bitmask();
    return (sm | sb) === sm;
  }

  toString(): string {
    const masks: string[] = [];
    for (const [f, name] of setAttrMaskBits) if (this[f]) masks.push(name);
    return `SetAttrMask{with: ${masks.join(' ')}}`;
  }

  /** empty returns true if no fields are masked. */
  empty(): boolean {
    return this.bitmask() === 0;
  }

  /** setBits sets every field from a wire mask; unknown bits are ignored. */
  setBits(mask: number): void {
    this.permissions = (mask & 0x00000001) !== 0;
    this.uid = (mask & 0x00000002) !== 0;
    this.gid = (mask & 0x00000004) !== 0;
    this.size = (mask & 0x00000008) !== 0;
    this.aTime = (mask & 0x00000010) !== 0;
    this.mTime = (mask & 0x00000020) !== 0;
    this.cTime = (mask & 0x00000040) !== 0;
    this.aTimeNotSystemTime = (mask & 0x00000080) !== 0;
    this.mTimeNotSystemTime = (mask & 0x00000100) !== 0;
  }

  decode(b: buffer): void {
    this.setBits(b.read32());
  }

  /** bitmask returns the wire mask. */
  bitmask(): number {
    let mask = 0;
    if (this.permissions) mask |= 0x00000001;
    if (this.uid) mask |= 0x00000002;
    if (this.gid) mask |= 0x00000004;
    if (this.size) mask |= 0x00000008;
    if (this.aTime) mask |= 0x00000010;
    if (this.mTime) mask |= 0x00000020;
    if (this.cTime) mask |= 0x00000040;
    if (this.aTimeNotSystemTime) mask |= 0x00000080;
    if (this.mTimeNotSystemTime) mask |= 0x00000100;
    return mask;
  }

  encode(b: buffer): void {
    b.write32(this.bitmask());
  }
}

/** SetAttr specifies a set of attributes for a setattr. */
export class SetAttr implements encoder {
  constructor(
    public permissions: FileMode = 0,
    public uid: UID = 0,
    public gid: GID = 0,
    public size = 0,
    public aTimeSeconds = 0,
    public aTimeNanoSeconds = 0,
    public mTimeSeconds = 0,
    public mTimeNanoSeconds = 0,
  ) {}

  toString(): string {
    return (
      `SetAttr{Permissions: 0o${this.permissions.toString(8)}, UID: ${this.uid}, GID: ${this.gid}, ` +
      `Size: ${this.size}, ATime: {Sec: ${this.aTimeSeconds}, NanoSec: ${this.aTimeNanoSeconds}}, ` +
      `MTime: {Sec: ${this.mTimeSeconds}, NanoSec: ${this.mTimeNanoSeconds}}}`
    );
  }

  decode(b: buffer): void {
    this.permissions = b.readPermissions();
    this.uid = b.readUID();
    this.gid = b.readGID();
    this.size = b.read64();
    this.aTimeSeconds = b.read64Signed();
    this.aTimeNanoSeconds = b.read64();
    this.mTimeSeconds = b.read64Signed();
    this.mTimeNanoSeconds = b.read64();
  }

  encode(b: buffer): void {
    b.writePermissions(this.permissions);
    b.writeUID(this.uid);
    b.writeGID(this.gid);
    b.write64(this.size);
    b.write64(this.aTimeSeconds);
    b.write64(this.aTimeNanoSeconds);
    b.write64(this.mTimeSeconds);
    b.write64(this.mTimeNanoSeconds);
  }
}

// ---------------------------------------------------------------------------
// Dirent

/** Dirent is used for readdir. */
export class Dirent implements encoder {
  constructor(
    /** qid is the entry QID. */
    public qid: QID = new QID(),
    /**
     * offset is the offset in the directory.
     *
     * This will be communicated back the original caller.
     */
    public offset = 0n,
    /**
     * type is the 9P type. gVisor puts the entry's QID type here; diod and
     * Linux's v9fs put the Linux dirent type (DT_*), and this tree's
     * fsgofer does too (readdir in pkg/fsgofer): a reader decodes it with
     * the QID's type first (directory, symlink), then the DT_* value.
     */
    public type: QIDType = 0,
    /** name is the name of the entry (i.e. basename). */
    public name = '',
  ) {}

  toString(): string {
    return `Dirent{QID: ${this.qid.toString()}, Offset: ${this.offset}, Type: 0x${this.type.toString(16).toUpperCase()}, Name: ${this.name}}`;
  }

  decode(b: buffer): void {
    this.qid = new QID();
    this.qid.decode(b);
    this.offset = b.read64Big();
    this.type = b.readQIDType();
    this.name = b.readString();
  }

  encode(b: buffer): void {
    this.qid.encode(b);
    b.write64Big(this.offset);
    b.writeQIDType(this.type);
    b.writeString(this.name);
  }
}

// ---------------------------------------------------------------------------
// AllocateMode

/** AllocateMode are possible modes to p9.File.Allocate(). */
export class AllocateMode implements encoder {
  keepSize = false;
  punchHole = false;
  noHideStale = false;
  collapseRange = false;
  zeroRange = false;
  insertRange = false;
  unshare = false;

  /** toLinux converts to a value compatible with fallocate(2)'s mode. */
  toLinux(): number {
    let rv = 0;
    if (this.keepSize) rv |= linux.FALLOC_FL_KEEP_SIZE;
    if (this.punchHole) rv |= linux.FALLOC_FL_PUNCH_HOLE;
    if (this.noHideStale) rv |= linux.FALLOC_FL_NO_HIDE_STALE;
    if (this.collapseRange) rv |= linux.FALLOC_FL_COLLAPSE_RANGE;
    if (this.zeroRange) rv |= linux.FALLOC_FL_ZERO_RANGE;
    if (this.insertRange) rv |= linux.FALLOC_FL_INSERT_RANGE;
    if (this.unshare) rv |= linux.FALLOC_FL_UNSHARE_RANGE;
    return rv;
  }

  toString(): string {
    return `AllocateMode{0x${this.toLinux().toString(16)}}`;
  }

  decode(b: buffer): void {
    const mask = b.read32();
    this.keepSize = (mask & 0x01) !== 0;
    this.punchHole = (mask & 0x02) !== 0;
    this.noHideStale = (mask & 0x04) !== 0;
    this.collapseRange = (mask & 0x08) !== 0;
    this.zeroRange = (mask & 0x10) !== 0;
    this.insertRange = (mask & 0x20) !== 0;
    this.unshare = (mask & 0x40) !== 0;
  }

  encode(b: buffer): void {
    let mask = 0;
    if (this.keepSize) mask |= 0x01;
    if (this.punchHole) mask |= 0x02;
    if (this.noHideStale) mask |= 0x04;
    if (this.collapseRange) mask |= 0x08;
    if (this.zeroRange) mask |= 0x10;
    if (this.insertRange) mask |= 0x20;
    if (this.unshare) mask |= 0x40;
    b.write32(mask);
  }
}

/** toAllocateMode returns an AllocateMode from a fallocate(2) mode (ToAllocateMode). */
export function toAllocateMode(mode: number): AllocateMode {
  const a = new AllocateMode();
  a.keepSize = (mode & linux.FALLOC_FL_KEEP_SIZE) !== 0;
  a.punchHole = (mode & linux.FALLOC_FL_PUNCH_HOLE) !== 0;
  a.noHideStale = (mode & linux.FALLOC_FL_NO_HIDE_STALE) !== 0;
  a.collapseRange = (mode & linux.FALLOC_FL_COLLAPSE_RANGE) !== 0;
  a.zeroRange = (mode & linux.FALLOC_FL_ZERO_RANGE) !== 0;
  a.insertRange = (mode & linux.FALLOC_FL_INSERT_RANGE) !== 0;
  a.unshare = (mode & linux.FALLOC_FL_UNSHARE_RANGE) !== 0;
  return a;
}

// ---------------------------------------------------------------------------
// FullStat (gVisor commit 276ff149a)

/** FullStat is used in the result of a MultiGetAttr call. */
export class FullStat implements encoder {
  constructor(
    public qid: QID = new QID(),
    public valid: AttrMask = new AttrMask(),
    public attr: Attr = new Attr(),
  ) {}

  toString(): string {
    return `FullStat{QID: ${this.qid.toString()}, Valid: ${this.valid.toString()}, Attr: ${this.attr.toString()}}`;
  }

  decode(b: buffer): void {
    this.qid.decode(b);
    this.valid.decode(b);
    this.attr.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
    this.valid.encode(b);
    this.attr.encode(b);
  }
}
