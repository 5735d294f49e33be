// Port of gVisor pkg/p9/messages.go: every 9P2000.L message (and gVisor's
// extensions) with its decode, encode and String, and the registry from type
// number to class. Added beside gVisor's set: the standard 9P2000.L
// Tlock/Rlock and Tgetlock/Rgetlock (gVisor leaves them out) and
// Tmultigetattr/Rmultigetattr (gVisor commit 276ff149a, version 13).
//
// Conventions (pkg/p9 contract): class names are gVisor's; fields are Go's
// field names in lowerCamelCase (FID → fid, NewFID → newFID, QIDs → qids);
// every constructor takes the fields in struct order, all optional. A Go
// embedded struct becomes a base class (Tucreate extends Tlcreate, Rlcreate
// extends Rlopen), so its fields are promoted as in Go.
//
// Differs from gVisor:
//   - No file payload (filePayload/filer) in the messages: Node's sockets
//     cannot carry SCM_RIGHTS, so the host fd of an Rlopen/Rlcreate travels
//     on a side socket of its own (fdpass.ts); Rlconnect and Rchannel carry
//     none.
//   - Payload messages (Rread, Twrite) encode their payload inline after the
//     fixed part (gVisor sends it as a separate iovec); fixedSize/payload keep
//     the payloader shape for calculateSize and transport.ts.
//   - Rreaddir decodes strictly: its count must match the bytes that follow
//     and they must hold whole dirents (gVisor ignores count and drops a
//     partial trailing dirent).
//   - Binary xattr values (Tsetxattr.value, Rgetxattr.value) are Buffers on
//     the same wire form as gVisor's string (length[2] then bytes).
//   - The registry keeps no message cache (gVisor's msgFactory.cache): in
//     JavaScript a fresh object is cheaper and cannot be aliased by mistake.
//   - Go structs are values, JavaScript objects are references: decode fills
//     nested encoders (QID, Attr, AttrMask...) in place, so decode only into
//     a fresh message (msgRegistry.get gives one), never into one built
//     around objects the caller still uses.
//
// Tlerror (6) has a MsgType but no class, as in gVisor: 9P2000.L reserves the
// number and nobody sends it, so a frame of that type is ErrInvalidMsgType.

import { buffer, encoder, ErrBadMessage } from './buffer';
import {
  Attr,
  AttrMask,
  ConnectFlags,
  FID,
  FileMode,
  FSStat,
  FullStat,
  GID,
  MsgType,
  OpenFlags,
  QID,
  QIDType,
  SetAttr,
  SetAttrMask,
  AllocateMode,
  Dirent,
  Tag,
  UID,
  openFlagsString,
} from './p9';

const EMPTY = Buffer.alloc(0);

/** message is a generic 9P message (gVisor's message interface). */
export interface Message extends encoder {
  /** type returns the message type number. */
  readonly type: MsgType;
  toString(): string;
}

/** MessageClass is the constructor of a message, as the registry holds it. */
export interface MessageClass<M extends Message = Message> {
  new (): M;
  readonly type: MsgType;
}

/** payloader is a special message which may include an inline payload. */
export interface payloader {
  /** fixedSize returns the size of the fixed portion of this message. */
  fixedSize(): number;
  /** payload returns the payload for sending. */
  payload(): Buffer;
  /** setPayload sets the payload. */
  setPayload(p: Buffer): void;
}

/** isPayloader returns true if m carries a payload (Rread, Twrite, Rreaddir). */
export function isPayloader(m: Message): m is Message & payloader {
  return typeof (m as Partial<payloader>).fixedSize === 'function';
}

/**
 * ErrInvalidMsgType is thrown when an unsupported message type is found. It
 * is an ErrBadMessage: the frame around it was sound, so the connection may
 * go on (gVisor's server answers it with Rlerror).
 */
export class ErrInvalidMsgType extends ErrBadMessage {
  readonly msgType: number;

  constructor(msgType: number, tag = 0xffff) {
    super(`invalid message type: ${msgType}`, tag);
    this.name = 'ErrInvalidMsgType';
    this.msgType = msgType;
  }
}

// readNames reads a u16 count of strings (Twalk, Twalkgetattr,
// Tmultigetattr). A count that cannot fit in what remains (each string is at
// least its 2-byte length) marks the buffer overrun at once.
function readNames(b: buffer): string[] {
  const n = b.read16();
  if (n * 2 > b.remaining()) {
    b.markOverrun();
    return [];
  }
  const names = new Array<string>(n);
  for (let i = 0; i < n; i++) names[i] = b.readString();
  return names;
}

function writeNames(b: buffer, names: readonly string[]): void {
  b.writeCount(names.length);
  for (let i = 0; i < names.length; i++) b.writeString(names[i]);
}

// qidSize is the wire size of a QID: type[1] version[4] path[8].
const qidSize = 13;

function readQIDs(b: buffer): QID[] {
  const n = b.read16();
  if (n * qidSize > b.remaining()) {
    b.markOverrun();
    return [];
  }
  const qids = new Array<QID>(n);
  for (let i = 0; i < n; i++) {
    const q = new QID();
    q.decode(b);
    qids[i] = q;
  }
  return qids;
}

function writeQIDs(b: buffer, qids: readonly QID[]): void {
  b.writeCount(qids.length);
  for (let i = 0; i < qids.length; i++) qids[i].encode(b);
}

function fmtStrings(ss: readonly string[]): string {
  return '[' + ss.join(' ') + ']';
}

function fmtList(xs: readonly { toString(): string }[]): string {
  return '[' + xs.map((x) => x.toString()).join(' ') + ']';
}

/** Tversion is a version request. */
export class Tversion implements Message {
  static readonly type: MsgType = MsgType.Tversion;

  get type(): MsgType {
    return MsgType.Tversion;
  }

  constructor(
    /** mSize is the message size to use. */
    public mSize: number = 0,
    /**
     * version is the version string.
     *
     * For this implementation, this must be 9P2000.L (optionally with a .Google.N extension).
     */
    public version: string = '',
  ) {}

  decode(b: buffer): void {
    this.mSize = b.read32();
    this.version = b.readString();
  }

  encode(b: buffer): void {
    b.write32(this.mSize);
    b.writeString(this.version);
  }

  toString(): string {
    return `Tversion{MSize: ${this.mSize}, Version: ${this.version}}`;
  }
}

/** Rversion is a version response. */
export class Rversion implements Message {
  static readonly type: MsgType = MsgType.Rversion;

  get type(): MsgType {
    return MsgType.Rversion;
  }

  constructor(
    /** mSize is the negotiated size. */
    public mSize: number = 0,
    /** version is the negotiated version. */
    public version: string = '',
  ) {}

  decode(b: buffer): void {
    this.mSize = b.read32();
    this.version = b.readString();
  }

  encode(b: buffer): void {
    b.write32(this.mSize);
    b.writeString(this.version);
  }

  toString(): string {
    return `Rversion{MSize: ${this.mSize}, Version: ${this.version}}`;
  }
}

/** Tflush is a flush request. */
export class Tflush implements Message {
  static readonly type: MsgType = MsgType.Tflush;

  get type(): MsgType {
    return MsgType.Tflush;
  }

  constructor(
    /** oldTag is the tag to wait on. */
    public oldTag: Tag = 0,
  ) {}

  decode(b: buffer): void {
    this.oldTag = b.readTag();
  }

  encode(b: buffer): void {
    b.writeTag(this.oldTag);
  }

  toString(): string {
    return `Tflush{OldTag: ${this.oldTag}}`;
  }
}

/** Rflush is a flush response. */
export class Rflush implements Message {
  static readonly type: MsgType = MsgType.Rflush;

  get type(): MsgType {
    return MsgType.Rflush;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rflush{}`;
  }
}

/** Twalk is a walk request. */
export class Twalk implements Message {
  static readonly type: MsgType = MsgType.Twalk;

  get type(): MsgType {
    return MsgType.Twalk;
  }

  constructor(
    /** fid is the FID to be walked. */
    public fid: FID = 0,
    /** newFID is the resulting FID. */
    public newFID: FID = 0,
    /** names are the set of names to be walked. */
    public names: string[] = [],
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.newFID = b.readFID();
    this.names = readNames(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeFID(this.newFID);
    writeNames(b, this.names);
  }

  toString(): string {
    return `Twalk{FID: ${this.fid}, NewFID: ${this.newFID}, Names: ${fmtStrings(this.names)}}`;
  }
}

/** Rwalk is a walk response. */
export class Rwalk implements Message {
  static readonly type: MsgType = MsgType.Rwalk;

  get type(): MsgType {
    return MsgType.Rwalk;
  }

  constructor(
    /** qids are the set of QIDs returned. */
    public qids: QID[] = [],
  ) {}

  decode(b: buffer): void {
    this.qids = readQIDs(b);
  }

  encode(b: buffer): void {
    writeQIDs(b, this.qids);
  }

  toString(): string {
    return `Rwalk{QIDs: ${fmtList(this.qids)}}`;
  }
}

/** Tclunk is a close request. */
export class Tclunk implements Message {
  static readonly type: MsgType = MsgType.Tclunk;

  get type(): MsgType {
    return MsgType.Tclunk;
  }

  constructor(
    /** fid is the FID to be closed. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Tclunk{FID: ${this.fid}}`;
  }
}

/** Rclunk is a close response. */
export class Rclunk implements Message {
  static readonly type: MsgType = MsgType.Rclunk;

  get type(): MsgType {
    return MsgType.Rclunk;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rclunk{}`;
  }
}

/** Tsetattrclunk is a setattr+close request. */
export class Tsetattrclunk implements Message {
  static readonly type: MsgType = MsgType.Tsetattrclunk;

  get type(): MsgType {
    return MsgType.Tsetattrclunk;
  }

  constructor(
    /** fid is the FID to change. */
    public fid: FID = 0,
    /** valid is the set of bits which will be used. */
    public valid: SetAttrMask = new SetAttrMask(),
    /** setAttr is the set request. */
    public setAttr: SetAttr = new SetAttr(),
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.valid.decode(b);
    this.setAttr.decode(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    this.valid.encode(b);
    this.setAttr.encode(b);
  }

  toString(): string {
    return `Tsetattrclunk{FID: ${this.fid}, Valid: ${this.valid.toString()}, SetAttr: ${this.setAttr.toString()}}`;
  }
}

/** Rsetattrclunk is a setattr+close response. */
export class Rsetattrclunk implements Message {
  static readonly type: MsgType = MsgType.Rsetattrclunk;

  get type(): MsgType {
    return MsgType.Rsetattrclunk;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rsetattrclunk{}`;
  }
}

/**
 * Tremove is a remove request.
 *
 * This will eventually be replaced by Tunlinkat.
 */
export class Tremove implements Message {
  static readonly type: MsgType = MsgType.Tremove;

  get type(): MsgType {
    return MsgType.Tremove;
  }

  constructor(
    /** fid is the FID to be removed. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Tremove{FID: ${this.fid}}`;
  }
}

/** Rremove is a remove response. */
export class Rremove implements Message {
  static readonly type: MsgType = MsgType.Rremove;

  get type(): MsgType {
    return MsgType.Rremove;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rremove{}`;
  }
}

/**
 * Rlerror is an error response.
 *
 * Note that this replaces the error code used in 9p.
 */
export class Rlerror implements Message {
  static readonly type: MsgType = MsgType.Rlerror;

  get type(): MsgType {
    return MsgType.Rlerror;
  }

  constructor(
    /** error is the Linux errno. */
    public error: number = 0,
  ) {}

  decode(b: buffer): void {
    this.error = b.read32();
  }

  encode(b: buffer): void {
    b.write32(this.error);
  }

  toString(): string {
    return `Rlerror{Error: ${this.error}}`;
  }
}

/** Tauth is an authentication request. */
export class Tauth implements Message {
  static readonly type: MsgType = MsgType.Tauth;

  get type(): MsgType {
    return MsgType.Tauth;
  }

  constructor(
    /** authenticationFID is the FID to attach the authentication result. */
    public authenticationFID: FID = 0,
    /** userName is the user to attach. */
    public userName: string = '',
    /** attachName is the attach name. */
    public attachName: string = '',
    /** uid is the numeric identifier for userName. */
    public uid: UID = 0,
  ) {}

  decode(b: buffer): void {
    this.authenticationFID = b.readFID();
    this.userName = b.readString();
    this.attachName = b.readString();
    this.uid = b.readUID();
  }

  encode(b: buffer): void {
    b.writeFID(this.authenticationFID);
    b.writeString(this.userName);
    b.writeString(this.attachName);
    b.writeUID(this.uid);
  }

  toString(): string {
    return `Tauth{AuthFID: ${this.authenticationFID}, UserName: ${this.userName}, AttachName: ${this.attachName}, UID: ${this.uid}}`;
  }
}

/** Rauth is an authentication response. */
export class Rauth implements Message {
  static readonly type: MsgType = MsgType.Rauth;

  get type(): MsgType {
    return MsgType.Rauth;
  }

  constructor(
    /** qid is the QID of the authentication file (Go embeds QID). */
    public qid: QID = new QID(),
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
  }

  toString(): string {
    return `Rauth{QID: ${this.qid.toString()}}`;
  }
}

/** Tattach is an attach request. */
export class Tattach implements Message {
  static readonly type: MsgType = MsgType.Tattach;

  get type(): MsgType {
    return MsgType.Tattach;
  }

  constructor(
    /** fid is the FID to be attached. */
    public fid: FID = 0,
    /**
     * auth is the embedded authentication request.
     *
     * See client.attach for information regarding authentication.
     */
    public auth: Tauth = new Tauth(),
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.auth.decode(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    this.auth.encode(b);
  }

  toString(): string {
    const a = this.auth;
    return `Tattach{FID: ${this.fid}, AuthFID: ${a.authenticationFID}, UserName: ${a.userName}, AttachName: ${a.attachName}, UID: ${a.uid}}`;
  }
}

/** Rattach is an attach response. */
export class Rattach implements Message {
  static readonly type: MsgType = MsgType.Rattach;

  get type(): MsgType {
    return MsgType.Rattach;
  }

  constructor(
    /** qid is the root's QID (Go embeds QID). */
    public qid: QID = new QID(),
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
  }

  toString(): string {
    return `Rattach{QID: ${this.qid.toString()}}`;
  }
}

/** Tlopen is an open request. */
export class Tlopen implements Message {
  static readonly type: MsgType = MsgType.Tlopen;

  get type(): MsgType {
    return MsgType.Tlopen;
  }

  constructor(
    /** fid is the FID to be opened. */
    public fid: FID = 0,
    /** flags are the open flags. */
    public flags: OpenFlags = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.flags = b.readOpenFlags();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeOpenFlags(this.flags);
  }

  toString(): string {
    return `Tlopen{FID: ${this.fid}, Flags: ${openFlagsString(this.flags)}}`;
  }
}

/** Rlopen is a open response. */
export class Rlopen implements Message {
  static readonly type: MsgType = MsgType.Rlopen;

  get type(): MsgType {
    return MsgType.Rlopen;
  }

  constructor(
    /** qid is the file's QID. */
    public qid: QID = new QID(),
    /** ioUnit is the recommended I/O unit. */
    public ioUnit = 0,
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
    this.ioUnit = b.read32();
  }

  encode(b: buffer): void {
    this.qid.encode(b);
    b.write32(this.ioUnit);
  }

  toString(): string {
    return `Rlopen{QID: ${this.qid.toString()}, IoUnit: ${this.ioUnit}}`;
  }
}

/** Tlcreate is a create request. */
export class Tlcreate implements Message {
  static readonly type: MsgType = MsgType.Tlcreate;

  get type(): MsgType {
    return MsgType.Tlcreate;
  }

  constructor(
    /**
     * fid is the parent FID.
     *
     * This becomes the new file.
     */
    public fid: FID = 0,
    /** name is the file name to create. */
    public name = '',
    /**
     * openFlags is the open mode (O_RDWR, etc.).
     *
     * Note that flags like O_TRUNC are ignored, as is O_EXCL. All
     * create operations are exclusive.
     */
    public openFlags: OpenFlags = 0,
    /** permissions is the set of permission bits. */
    public permissions: FileMode = 0,
    /** gid is the group ID to use for creating the file. */
    public gid: GID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.name = b.readString();
    this.openFlags = b.readOpenFlags();
    this.permissions = b.readPermissions();
    this.gid = b.readGID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeString(this.name);
    b.writeOpenFlags(this.openFlags);
    b.writePermissions(this.permissions);
    b.writeGID(this.gid);
  }

  toString(): string {
    return `Tlcreate{FID: ${this.fid}, Name: ${this.name}, OpenFlags: ${openFlagsString(this.openFlags)}, Permissions: 0o${this.permissions.toString(8)}, GID: ${this.gid}}`;
  }
}

/**
 * Rlcreate is a create response.
 *
 * The encode, decode, etc. methods are inherited from Rlopen.
 */
export class Rlcreate extends Rlopen {
  static override readonly type: MsgType = MsgType.Rlcreate;

  override get type(): MsgType {
    return MsgType.Rlcreate;
  }

  /**
   * The constructor takes Go's struct shape (the embedded Rlopen) or the
   * fields flattened as Go promotes them.
   */
  constructor(rlopen?: Rlopen);
  constructor(qid?: QID, ioUnit?: number);
  constructor(first?: Rlopen | QID, ioUnit?: number) {
    if (first instanceof Rlopen) super(first.qid, first.ioUnit);
    else super(first, ioUnit);
  }

  override toString(): string {
    return `Rlcreate{QID: ${this.qid.toString()}, IoUnit: ${this.ioUnit}}`;
  }
}

/** Tsymlink is a symlink request. */
export class Tsymlink implements Message {
  static readonly type: MsgType = MsgType.Tsymlink;

  get type(): MsgType {
    return MsgType.Tsymlink;
  }

  constructor(
    /** directory is the directory FID. */
    public directory: FID = 0,
    /** name is the new in the directory. */
    public name = '',
    /** target is the symlink target. */
    public target = '',
    /** gid is the owning group. */
    public gid: GID = 0,
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.name = b.readString();
    this.target = b.readString();
    this.gid = b.readGID();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.writeString(this.name);
    b.writeString(this.target);
    b.writeGID(this.gid);
  }

  toString(): string {
    return `Tsymlink{DirectoryFID: ${this.directory}, Name: ${this.name}, Target: ${this.target}, GID: ${this.gid}}`;
  }
}

/** Rsymlink is a symlink response. */
export class Rsymlink implements Message {
  static readonly type: MsgType = MsgType.Rsymlink;

  get type(): MsgType {
    return MsgType.Rsymlink;
  }

  constructor(
    /** qid is the new symlink's QID. */
    public qid: QID = new QID(),
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
  }

  toString(): string {
    return `Rsymlink{QID: ${this.qid.toString()}}`;
  }
}

/** Tlink is a link request. */
export class Tlink implements Message {
  static readonly type: MsgType = MsgType.Tlink;

  get type(): MsgType {
    return MsgType.Tlink;
  }

  constructor(
    /** directory is the directory to contain the link. */
    public directory: FID = 0,
    /** target is the target of the link. */
    public target: FID = 0,
    /** name is the new source name. */
    public name: string = '',
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.target = b.readFID();
    this.name = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.writeFID(this.target);
    b.writeString(this.name);
  }

  toString(): string {
    return `Tlink{DirectoryFID: ${this.directory}, TargetFID: ${this.target}, Name: ${this.name}}`;
  }
}

/** Rlink is a link response. */
export class Rlink implements Message {
  static readonly type: MsgType = MsgType.Rlink;

  get type(): MsgType {
    return MsgType.Rlink;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rlink{}`;
  }
}

/** Trenameat is a rename request. */
export class Trenameat implements Message {
  static readonly type: MsgType = MsgType.Trenameat;

  get type(): MsgType {
    return MsgType.Trenameat;
  }

  constructor(
    /** oldDirectory is the FID of the directory containing the old name. */
    public oldDirectory: FID = 0,
    /** oldName is the name of the file being renamed. */
    public oldName: string = '',
    /** newDirectory is the FID of the directory receiving the new name. */
    public newDirectory: FID = 0,
    /** newName is the new name of the file. */
    public newName: string = '',
  ) {}

  decode(b: buffer): void {
    this.oldDirectory = b.readFID();
    this.oldName = b.readString();
    this.newDirectory = b.readFID();
    this.newName = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.oldDirectory);
    b.writeString(this.oldName);
    b.writeFID(this.newDirectory);
    b.writeString(this.newName);
  }

  toString(): string {
    return `Trenameat{OldDirectoryFID: ${this.oldDirectory}, OldName: ${this.oldName}, NewDirectoryFID: ${this.newDirectory}, NewName: ${this.newName}}`;
  }
}

/** Rrenameat is a rename response. */
export class Rrenameat implements Message {
  static readonly type: MsgType = MsgType.Rrenameat;

  get type(): MsgType {
    return MsgType.Rrenameat;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rrenameat{}`;
  }
}

/** Tunlinkat is an unlink request. */
export class Tunlinkat implements Message {
  static readonly type: MsgType = MsgType.Tunlinkat;

  get type(): MsgType {
    return MsgType.Tunlinkat;
  }

  constructor(
    /** directory is the originating directory. */
    public directory: FID = 0,
    /** name is the name of the entry to unlink. */
    public name: string = '',
    /** flags are extra flags (e.g. O_DIRECTORY). These are not interpreted by p9. */
    public flags: number = 0,
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.name = b.readString();
    this.flags = b.read32();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.writeString(this.name);
    b.write32(this.flags);
  }

  toString(): string {
    return `Tunlinkat{DirectoryFID: ${this.directory}, Name: ${this.name}, Flags: 0x${this.flags.toString(16).toUpperCase()}}`;
  }
}

/** Runlinkat is an unlink response. */
export class Runlinkat implements Message {
  static readonly type: MsgType = MsgType.Runlinkat;

  get type(): MsgType {
    return MsgType.Runlinkat;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Runlinkat{}`;
  }
}

/**
 * Trename is a rename request.
 *
 * Note that this generally isn't used anymore, and ideally all rename calls
 * should Trenameat below.
 */
export class Trename implements Message {
  static readonly type: MsgType = MsgType.Trename;

  get type(): MsgType {
    return MsgType.Trename;
  }

  constructor(
    /** fid is the FID to rename. */
    public fid: FID = 0,
    /** directory is the target directory. */
    public directory: FID = 0,
    /** name is the new file name. */
    public name: string = '',
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.directory = b.readFID();
    this.name = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeFID(this.directory);
    b.writeString(this.name);
  }

  toString(): string {
    return `Trename{FID: ${this.fid}, DirectoryFID: ${this.directory}, Name: ${this.name}}`;
  }
}

/** Rrename is a rename response. */
export class Rrename implements Message {
  static readonly type: MsgType = MsgType.Rrename;

  get type(): MsgType {
    return MsgType.Rrename;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rrename{}`;
  }
}

/** Treadlink is a readlink request. */
export class Treadlink implements Message {
  static readonly type: MsgType = MsgType.Treadlink;

  get type(): MsgType {
    return MsgType.Treadlink;
  }

  constructor(
    /** fid is the symlink. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Treadlink{FID: ${this.fid}}`;
  }
}

/** Rreadlink is a readlink response. */
export class Rreadlink implements Message {
  static readonly type: MsgType = MsgType.Rreadlink;

  get type(): MsgType {
    return MsgType.Rreadlink;
  }

  constructor(
    /** target is the symlink target. */
    public target: string = '',
  ) {}

  decode(b: buffer): void {
    this.target = b.readString();
  }

  encode(b: buffer): void {
    b.writeString(this.target);
  }

  toString(): string {
    return `Rreadlink{Target: ${this.target}}`;
  }
}

/** Tread is a read request. */
export class Tread implements Message {
  static readonly type: MsgType = MsgType.Tread;

  get type(): MsgType {
    return MsgType.Tread;
  }

  constructor(
    /** fid is the FID to read. */
    public fid: FID = 0,
    /** offset indicates the file offset. */
    public offset: number = 0,
    /** count is the number of bytes to read. */
    public count: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.offset = b.read64();
    this.count = b.read32();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.write64(this.offset);
    b.write32(this.count);
  }

  toString(): string {
    return `Tread{FID: ${this.fid}, Offset: ${this.offset}, Count: ${this.count}}`;
  }
}

/**
 * rreadFrameHeader is the size of an Rread frame without data: size[4]
 * type[1] tag[2] count[4].
 */
export const rreadFrameHeader = 11;

// rreadFrames maps an Rread made by Rread.inFrame to its frame: memory of
// that reply's own whose bytes from rreadFrameHeader on are its data (a
// server read the file straight into it). transport's encodeMessage fills in
// the header in front and sends the frame itself, without copying the data
// (not in gVisor, whose send writes header and payload with one writev).
// Kept beside the message, not in a field, so that an Rread stays its
// fields (data) for comparison and printing.
const rreadFrames = new WeakMap<Rread, Buffer>();

/** rreadFrame returns the frame r's data was read into (Rread.inFrame), if any. */
export function rreadFrame(r: Rread): Buffer | undefined {
  return rreadFrames.get(r);
}

/** Rread is the response for a Tread. */
export class Rread implements Message, payloader {
  static readonly type: MsgType = MsgType.Rread;

  get type(): MsgType {
    return MsgType.Rread;
  }

  constructor(
    /** data is the resulting data. */
    public data: Buffer = EMPTY,
  ) {}

  /**
   * inFrame returns an Rread whose data is frame[rreadFrameHeader,
   * rreadFrameHeader+n), frame being memory the caller gives up.
   */
  static inFrame(frame: Buffer, n: number): Rread {
    const r = new Rread(frame.subarray(rreadFrameHeader, rreadFrameHeader + n));
    rreadFrames.set(r, frame);
    return r;
  }

  decode(b: buffer): void {
    // As gVisor: count must match the payload exactly.
    const count = b.read32();
    if (count !== b.remaining()) {
      b.markOverrun();
      return;
    }
    this.data = b.readPayload(count);
  }

  encode(b: buffer): void {
    b.write32(this.data.length);
    b.writeBytes(this.data);
  }

  fixedSize(): number {
    return 4;
  }

  payload(): Buffer {
    return this.data;
  }

  setPayload(p: Buffer): void {
    this.data = p;
    rreadFrames.delete(this);
  }

  toString(): string {
    return `Rread{len(Data): ${this.data.length}}`;
  }
}

/** Twrite is a write request. */
export class Twrite implements Message, payloader {
  static readonly type: MsgType = MsgType.Twrite;

  get type(): MsgType {
    return MsgType.Twrite;
  }

  constructor(
    /** fid is the FID to write. */
    public fid: FID = 0,
    /** offset is the file offset. */
    public offset = 0,
    /** data is the data to be written. */
    public data: Buffer = EMPTY,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.offset = b.read64();
    // As gVisor: count must match the payload exactly.
    const count = b.read32();
    if (count !== b.remaining()) {
      b.markOverrun();
      return;
    }
    this.data = b.readPayload(count);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.write64(this.offset);
    b.write32(this.data.length);
    b.writeBytes(this.data);
  }

  fixedSize(): number {
    return 16;
  }

  payload(): Buffer {
    return this.data;
  }

  setPayload(p: Buffer): void {
    this.data = p;
  }

  toString(): string {
    return `Twrite{FID: ${this.fid}, Offset ${this.offset}, len(Data): ${this.data.length}}`;
  }
}

/** Rwrite is the response for a Twrite. */
export class Rwrite implements Message {
  static readonly type: MsgType = MsgType.Rwrite;

  get type(): MsgType {
    return MsgType.Rwrite;
  }

  constructor(
    /** count indicates the number of bytes successfully written. */
    public count: number = 0,
  ) {}

  decode(b: buffer): void {
    this.count = b.read32();
  }

  encode(b: buffer): void {
    b.write32(this.count);
  }

  toString(): string {
    return `Rwrite{Count: ${this.count}}`;
  }
}

/** Tmknod is a mknod request. */
export class Tmknod implements Message {
  static readonly type: MsgType = MsgType.Tmknod;

  get type(): MsgType {
    return MsgType.Tmknod;
  }

  constructor(
    /** directory is the parent directory. */
    public directory: FID = 0,
    /** name is the device name. */
    public name = '',
    /** mode is the device mode and permissions. */
    public mode: FileMode = 0,
    /** major is the device major number. */
    public major = 0,
    /** minor is the device minor number. */
    public minor = 0,
    /** gid is the device GID. */
    public gid: GID = 0,
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.name = b.readString();
    this.mode = b.readFileMode();
    this.major = b.read32();
    this.minor = b.read32();
    this.gid = b.readGID();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.writeString(this.name);
    b.writeFileMode(this.mode);
    b.write32(this.major);
    b.write32(this.minor);
    b.writeGID(this.gid);
  }

  toString(): string {
    return `Tmknod{DirectoryFID: ${this.directory}, Name: ${this.name}, Mode: 0o${this.mode.toString(8)}, Major: ${this.major}, Minor: ${this.minor}, GID: ${this.gid}}`;
  }
}

/** Rmknod is a mknod response. */
export class Rmknod implements Message {
  static readonly type: MsgType = MsgType.Rmknod;

  get type(): MsgType {
    return MsgType.Rmknod;
  }

  constructor(
    /** qid is the resulting QID. */
    public qid: QID = new QID(),
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
  }

  toString(): string {
    return `Rmknod{QID: ${this.qid.toString()}}`;
  }
}

/** Tmkdir is a mkdir request. */
export class Tmkdir implements Message {
  static readonly type: MsgType = MsgType.Tmkdir;

  get type(): MsgType {
    return MsgType.Tmkdir;
  }

  constructor(
    /** directory is the parent directory. */
    public directory: FID = 0,
    /** name is the new directory name. */
    public name = '',
    /** permissions is the set of permission bits. */
    public permissions: FileMode = 0,
    /** gid is the owning group. */
    public gid: GID = 0,
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.name = b.readString();
    this.permissions = b.readPermissions();
    this.gid = b.readGID();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.writeString(this.name);
    b.writePermissions(this.permissions);
    b.writeGID(this.gid);
  }

  toString(): string {
    return `Tmkdir{DirectoryFID: ${this.directory}, Name: ${this.name}, Permissions: 0o${this.permissions.toString(8)}, GID: ${this.gid}}`;
  }
}

/** Rmkdir is a mkdir response. */
export class Rmkdir implements Message {
  static readonly type: MsgType = MsgType.Rmkdir;

  get type(): MsgType {
    return MsgType.Rmkdir;
  }

  constructor(
    /** qid is the resulting QID. */
    public qid: QID = new QID(),
  ) {}

  decode(b: buffer): void {
    this.qid.decode(b);
  }

  encode(b: buffer): void {
    this.qid.encode(b);
  }

  toString(): string {
    return `Rmkdir{QID: ${this.qid.toString()}}`;
  }
}

/** Tgetattr is a getattr request. */
export class Tgetattr implements Message {
  static readonly type: MsgType = MsgType.Tgetattr;

  get type(): MsgType {
    return MsgType.Tgetattr;
  }

  constructor(
    /** fid is the FID to get attributes for. */
    public fid: FID = 0,
    /** attrMask is the set of attributes to get. */
    public attrMask: AttrMask = new AttrMask(),
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.attrMask.decode(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    this.attrMask.encode(b);
  }

  toString(): string {
    return `Tgetattr{FID: ${this.fid}, AttrMask: ${this.attrMask.toString()}}`;
  }
}

/** Rgetattr is a getattr response. */
export class Rgetattr implements Message {
  static readonly type: MsgType = MsgType.Rgetattr;

  get type(): MsgType {
    return MsgType.Rgetattr;
  }

  constructor(
    /** valid indicates which fields are valid. */
    public valid: AttrMask = new AttrMask(),
    /** qid is the QID for this file (Go embeds QID). */
    public qid: QID = new QID(),
    /** attr is the set of attributes. */
    public attr: Attr = new Attr(),
  ) {}

  decode(b: buffer): void {
    this.valid.decode(b);
    this.qid.decode(b);
    this.attr.decode(b);
  }

  encode(b: buffer): void {
    this.valid.encode(b);
    this.qid.encode(b);
    this.attr.encode(b);
  }

  toString(): string {
    return `Rgetattr{Valid: ${this.valid.toString()}, QID: ${this.qid.toString()}, Attr: ${this.attr.toString()}}`;
  }
}

/** Tsetattr is a setattr request. */
export class Tsetattr implements Message {
  static readonly type: MsgType = MsgType.Tsetattr;

  get type(): MsgType {
    return MsgType.Tsetattr;
  }

  constructor(
    /** fid is the FID to change. */
    public fid: FID = 0,
    /** valid is the set of bits which will be used. */
    public valid: SetAttrMask = new SetAttrMask(),
    /** setAttr is the set request. */
    public setAttr: SetAttr = new SetAttr(),
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.valid.decode(b);
    this.setAttr.decode(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    this.valid.encode(b);
    this.setAttr.encode(b);
  }

  toString(): string {
    return `Tsetattr{FID: ${this.fid}, Valid: ${this.valid.toString()}, SetAttr: ${this.setAttr.toString()}}`;
  }
}

/** Rsetattr is a setattr response. */
export class Rsetattr implements Message {
  static readonly type: MsgType = MsgType.Rsetattr;

  get type(): MsgType {
    return MsgType.Rsetattr;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rsetattr{}`;
  }
}

/**
 * Tallocate is an allocate request. This is an extension to 9P protocol, not
 * present in the 9P2000.L standard.
 */
export class Tallocate implements Message {
  static readonly type: MsgType = MsgType.Tallocate;

  get type(): MsgType {
    return MsgType.Tallocate;
  }

  constructor(
    /** fid is the FID to allocate. */
    public fid: FID = 0,
    /** mode is the fallocate(2) mode. */
    public mode: AllocateMode = new AllocateMode(),
    /** offset is where the range starts. */
    public offset: number = 0,
    /** length is the size of the range. */
    public length: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.mode.decode(b);
    this.offset = b.read64();
    this.length = b.read64();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    this.mode.encode(b);
    b.write64(this.offset);
    b.write64(this.length);
  }

  toString(): string {
    return `Tallocate{FID: ${this.fid}, Mode: ${this.mode.toString()}, Offset: ${this.offset}, Length: ${this.length}}`;
  }
}

/** Rallocate is a response for Tallocate. */
export class Rallocate implements Message {
  static readonly type: MsgType = MsgType.Rallocate;

  get type(): MsgType {
    return MsgType.Rallocate;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rallocate{}`;
  }
}

/** Tlistxattr is a listxattr request. */
export class Tlistxattr implements Message {
  static readonly type: MsgType = MsgType.Tlistxattr;

  get type(): MsgType {
    return MsgType.Tlistxattr;
  }

  constructor(
    /** fid refers to the file on which to list xattrs. */
    public fid: FID = 0,
    /** size is the buffer size for the xattr list. */
    public size: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.size = b.read64();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.write64(this.size);
  }

  toString(): string {
    return `Tlistxattr{FID: ${this.fid}, Size: ${this.size}}`;
  }
}

/** Rlistxattr is a listxattr response. */
export class Rlistxattr implements Message {
  static readonly type: MsgType = MsgType.Rlistxattr;

  get type(): MsgType {
    return MsgType.Rlistxattr;
  }

  constructor(
    /** xattrs is a list of extended attribute names. */
    public xattrs: string[] = [],
  ) {}

  decode(b: buffer): void {
    this.xattrs = readNames(b);
  }

  encode(b: buffer): void {
    writeNames(b, this.xattrs);
  }

  toString(): string {
    return `Rlistxattr{Xattrs: ${fmtStrings(this.xattrs)}}`;
  }
}

/** Txattrwalk walks extended attributes. */
export class Txattrwalk implements Message {
  static readonly type: MsgType = MsgType.Txattrwalk;

  get type(): MsgType {
    return MsgType.Txattrwalk;
  }

  constructor(
    /** fid is the FID to check for attributes. */
    public fid: FID = 0,
    /** newFID is the new FID associated with the attributes. */
    public newFID: FID = 0,
    /** name is the attribute name. */
    public name: string = '',
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.newFID = b.readFID();
    this.name = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeFID(this.newFID);
    b.writeString(this.name);
  }

  toString(): string {
    return `Txattrwalk{FID: ${this.fid}, NewFID: ${this.newFID}, Name: ${this.name}}`;
  }
}

/** Rxattrwalk is a xattrwalk response. */
export class Rxattrwalk implements Message {
  static readonly type: MsgType = MsgType.Rxattrwalk;

  get type(): MsgType {
    return MsgType.Rxattrwalk;
  }

  constructor(
    /** size is the size of the extended attribute. */
    public size: number = 0,
  ) {}

  decode(b: buffer): void {
    this.size = b.read64();
  }

  encode(b: buffer): void {
    b.write64(this.size);
  }

  toString(): string {
    return `Rxattrwalk{Size: ${this.size}}`;
  }
}

/** Txattrcreate prepare to set extended attributes. */
export class Txattrcreate implements Message {
  static readonly type: MsgType = MsgType.Txattrcreate;

  get type(): MsgType {
    return MsgType.Txattrcreate;
  }

  constructor(
    /**
     * fid is input/output parameter, it identifies the file on which
     * extended attributes will be set but after successful Rxattrcreate
     * it is used to write the extended attribute value.
     */
    public fid: FID = 0,
    /** name is the attribute name. */
    public name: string = '',
    /** attrSize is the size of the value to be set. */
    public attrSize: number = 0,
    /** flags are the setxattr(2) flags. */
    public flags: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.name = b.readString();
    this.attrSize = b.read64();
    this.flags = b.read32();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeString(this.name);
    b.write64(this.attrSize);
    b.write32(this.flags);
  }

  toString(): string {
    return `Txattrcreate{FID: ${this.fid}, Name: ${this.name}, AttrSize: ${this.attrSize}, Flags: ${this.flags}}`;
  }
}

/** Rxattrcreate is a xattrcreate response. */
export class Rxattrcreate implements Message {
  static readonly type: MsgType = MsgType.Rxattrcreate;

  get type(): MsgType {
    return MsgType.Rxattrcreate;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rxattrcreate{}`;
  }
}

/** Tgetxattr is a getxattr request. */
export class Tgetxattr implements Message {
  static readonly type: MsgType = MsgType.Tgetxattr;

  get type(): MsgType {
    return MsgType.Tgetxattr;
  }

  constructor(
    /** fid refers to the file for which to get xattrs. */
    public fid: FID = 0,
    /** name is the xattr to get. */
    public name: string = '',
    /** size is the buffer size for the xattr to get. */
    public size: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.name = b.readString();
    this.size = b.read64();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeString(this.name);
    b.write64(this.size);
  }

  toString(): string {
    return `Tgetxattr{FID: ${this.fid}, Name: ${this.name}, Size: ${this.size}}`;
  }
}

/** Rgetxattr is a getxattr response. */
export class Rgetxattr implements Message {
  static readonly type: MsgType = MsgType.Rgetxattr;

  get type(): MsgType {
    return MsgType.Rgetxattr;
  }

  constructor(
    /** value is the extended attribute value (binary: gVisor's string). */
    public value: Buffer = EMPTY,
  ) {}

  decode(b: buffer): void {
    this.value = b.readBytes16();
  }

  encode(b: buffer): void {
    b.writeBytes16(this.value);
  }

  toString(): string {
    return `Rgetxattr{len(Value): ${this.value.length}}`;
  }
}

/** Tsetxattr sets extended attributes. */
export class Tsetxattr implements Message {
  static readonly type: MsgType = MsgType.Tsetxattr;

  get type(): MsgType {
    return MsgType.Tsetxattr;
  }

  constructor(
    /** fid refers to the file on which to set xattrs. */
    public fid: FID = 0,
    /** name is the attribute name. */
    public name: string = '',
    /** value is the attribute value (binary: gVisor's string). */
    public value: Buffer = EMPTY,
    /** flags are the setxattr(2) flags (XATTR_CREATE, XATTR_REPLACE). */
    public flags: number = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.name = b.readString();
    this.value = b.readBytes16();
    this.flags = b.read32();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeString(this.name);
    b.writeBytes16(this.value);
    b.write32(this.flags);
  }

  toString(): string {
    return `Tsetxattr{FID: ${this.fid}, Name: ${this.name}, len(Value): ${this.value.length}, Flags: ${this.flags}}`;
  }
}

/** Rsetxattr is a setxattr response. */
export class Rsetxattr implements Message {
  static readonly type: MsgType = MsgType.Rsetxattr;

  get type(): MsgType {
    return MsgType.Rsetxattr;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rsetxattr{}`;
  }
}

/** Tremovexattr is a removexattr request. */
export class Tremovexattr implements Message {
  static readonly type: MsgType = MsgType.Tremovexattr;

  get type(): MsgType {
    return MsgType.Tremovexattr;
  }

  constructor(
    /** fid refers to the file on which to remove xattrs. */
    public fid: FID = 0,
    /** name is the name of the xattr to remove. */
    public name: string = '',
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.name = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeString(this.name);
  }

  toString(): string {
    return `Tremovexattr{FID: ${this.fid}, Name: ${this.name}}`;
  }
}

/** Rremovexattr is a removexattr response. */
export class Rremovexattr implements Message {
  static readonly type: MsgType = MsgType.Rremovexattr;

  get type(): MsgType {
    return MsgType.Rremovexattr;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rremovexattr{}`;
  }
}

/** Treaddir is a readdir request. */
export class Treaddir implements Message {
  static readonly type: MsgType = MsgType.Treaddir;

  get type(): MsgType {
    return MsgType.Treaddir;
  }

  constructor(
    /** directory is the directory FID to read. */
    public directory: FID = 0,
    /** offset is the offset to read at (a cookie from a previous Dirent). */
    public offset: bigint = 0n,
    /** count is the number of bytes to read. */
    public count: number = 0,
  ) {}

  decode(b: buffer): void {
    this.directory = b.readFID();
    this.offset = b.read64Big();
    this.count = b.read32();
  }

  encode(b: buffer): void {
    b.writeFID(this.directory);
    b.write64Big(this.offset);
    b.write32(this.count);
  }

  toString(): string {
    return `Treaddir{DirectoryFID: ${this.directory}, Offset: ${this.offset}, Count: ${this.count}}`;
  }
}

/** Rreaddir is a readdir response. */
export class Rreaddir implements Message, payloader {
  static readonly type: MsgType = MsgType.Rreaddir;

  get type(): MsgType {
    return MsgType.Rreaddir;
  }

  constructor(
    /**
     * count is the byte limit on entries. encode sends as many whole entries
     * as fit in count bytes and sets count to the bytes sent (gVisor).
     */
    public count = 0,
    /** entries are the resulting entries. */
    public entries: Dirent[] = [],
  ) {}

  decode(b: buffer): void {
    const count = b.read32();
    this.count = count;
    this.entries = [];
    if (count > b.remaining()) {
      b.markOverrun();
      return;
    }
    const end = b.off + count;
    const saved = b.end;
    // Decode entries from exactly count bytes; a partial trailing entry makes
    // the message malformed.
    b.end = end;
    while (b.off < end && !b.overflow) {
      const d = new Dirent();
      d.decode(b);
      if (!b.overflow) this.entries.push(d);
    }
    if (!b.overflow) b.end = saved;
  }

  encode(b: buffer): void {
    const countAt = b.off;
    b.write32(0);
    const start = b.off;
    let good = start;
    for (let i = 0; i < this.entries.length; i++) {
      this.entries[i].encode(b);
      if (b.off - start > this.count) break;
      good = b.off;
    }
    b.off = good;
    this.count = good - start;
    const d = b.data;
    const c = this.count;
    d[countAt] = c;
    d[countAt + 1] = c >>> 8;
    d[countAt + 2] = c >>> 16;
    d[countAt + 3] = c >>> 24;
  }

  fixedSize(): number {
    return 4;
  }

  payload(): Buffer {
    const b = new buffer();
    for (const e of this.entries) e.encode(b);
    return b.bytes();
  }

  setPayload(p: Buffer): void {
    const b = new buffer(p, 0, p.length, true);
    const entries: Dirent[] = [];
    while (b.off < b.end && !b.overflow) {
      const d = new Dirent();
      d.decode(b);
      if (!b.overflow) entries.push(d);
    }
    this.entries = entries;
    this.count = p.length;
  }

  toString(): string {
    return `Rreaddir{Count: ${this.count}, Entries: ${fmtList(this.entries)}}`;
  }
}

/** Tfsync is an fsync request. */
export class Tfsync implements Message {
  static readonly type: MsgType = MsgType.Tfsync;

  get type(): MsgType {
    return MsgType.Tfsync;
  }

  constructor(
    /** fid is the fid to sync. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Tfsync{FID: ${this.fid}}`;
  }
}

/** Rfsync is an fsync response. */
export class Rfsync implements Message {
  static readonly type: MsgType = MsgType.Rfsync;

  get type(): MsgType {
    return MsgType.Rfsync;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rfsync{}`;
  }
}

/** Tstatfs is a stat request. */
export class Tstatfs implements Message {
  static readonly type: MsgType = MsgType.Tstatfs;

  get type(): MsgType {
    return MsgType.Tstatfs;
  }

  constructor(
    /** fid is the root. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Tstatfs{FID: ${this.fid}}`;
  }
}

/** Rstatfs is the response for a Tstatfs. */
export class Rstatfs implements Message {
  static readonly type: MsgType = MsgType.Rstatfs;

  get type(): MsgType {
    return MsgType.Rstatfs;
  }

  constructor(
    /** fsStat is the stat result. */
    public fsStat: FSStat = new FSStat(),
  ) {}

  decode(b: buffer): void {
    this.fsStat.decode(b);
  }

  encode(b: buffer): void {
    this.fsStat.encode(b);
  }

  toString(): string {
    return `Rstatfs{FSStat: ${this.fsStat.toString()}}`;
  }
}

/** Tflushf is a flush file request, not to be confused with Tflush. */
export class Tflushf implements Message {
  static readonly type: MsgType = MsgType.Tflushf;

  get type(): MsgType {
    return MsgType.Tflushf;
  }

  constructor(
    /** fid is the FID to be flushed. */
    public fid: FID = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
  }

  toString(): string {
    return `Tflushf{FID: ${this.fid}}`;
  }
}

/** Rflushf is a flush file response. */
export class Rflushf implements Message {
  static readonly type: MsgType = MsgType.Rflushf;

  get type(): MsgType {
    return MsgType.Rflushf;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rflushf{}`;
  }
}

/** Twalkgetattr is a walk request. */
export class Twalkgetattr implements Message {
  static readonly type: MsgType = MsgType.Twalkgetattr;

  get type(): MsgType {
    return MsgType.Twalkgetattr;
  }

  constructor(
    /** fid is the FID to be walked. */
    public fid: FID = 0,
    /** newFID is the resulting FID. */
    public newFID: FID = 0,
    /** names are the set of names to be walked. */
    public names: string[] = [],
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.newFID = b.readFID();
    this.names = readNames(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeFID(this.newFID);
    writeNames(b, this.names);
  }

  toString(): string {
    return `Twalkgetattr{FID: ${this.fid}, NewFID: ${this.newFID}, Names: ${fmtStrings(this.names)}}`;
  }
}

/** Rwalkgetattr is a walk response. */
export class Rwalkgetattr implements Message {
  static readonly type: MsgType = MsgType.Rwalkgetattr;

  get type(): MsgType {
    return MsgType.Rwalkgetattr;
  }

  constructor(
    /** valid indicates which fields are valid in the Attr below. */
    public valid: AttrMask = new AttrMask(),
    /** attr is the set of attributes for the last QID (the file walked to). */
    public attr: Attr = new Attr(),
    /** qids are the set of QIDs returned. */
    public qids: QID[] = [],
  ) {}

  decode(b: buffer): void {
    this.valid.decode(b);
    this.attr.decode(b);
    this.qids = readQIDs(b);
  }

  encode(b: buffer): void {
    this.valid.encode(b);
    this.attr.encode(b);
    writeQIDs(b, this.qids);
  }

  toString(): string {
    return `Rwalkgetattr{Valid: ${this.valid.toString()}, Attr: ${this.attr.toString()}, QIDs: ${fmtList(this.qids)}}`;
  }
}

/** Tucreate is a Tlcreate message that includes a UID. */
export class Tucreate extends Tlcreate {
  static override readonly type: MsgType = MsgType.Tucreate;

  override get type(): MsgType {
    return MsgType.Tucreate;
  }

  /** uid is the UID to use as the effective UID in creation messages. */
  uid: UID;

  /**
   * The constructor takes Go's struct shape, (Tlcreate, UID), or the fields
   * flattened as Go promotes them.
   */
  constructor(tlcreate?: Tlcreate, uid?: UID);
  constructor(fid?: FID, name?: string, openFlags?: OpenFlags, permissions?: FileMode, gid?: GID, uid?: UID);
  constructor(
    first?: Tlcreate | FID,
    ...rest: unknown[]
  ) {
    if (first instanceof Tlcreate) {
      super(first.fid, first.name, first.openFlags, first.permissions, first.gid);
      this.uid = (rest[0] as UID | undefined) ?? 0;
    } else {
      super(
        first,
        rest[0] as string | undefined,
        rest[1] as OpenFlags | undefined,
        rest[2] as FileMode | undefined,
        rest[3] as GID | undefined,
      );
      this.uid = (rest[4] as UID | undefined) ?? 0;
    }
  }

  /** tlcreate is the embedded Tlcreate (Go's t.Tlcreate): this message itself. */
  get tlcreate(): Tlcreate {
    return this;
  }

  override decode(b: buffer): void {
    super.decode(b);
    this.uid = b.readUID();
  }

  override encode(b: buffer): void {
    super.encode(b);
    b.writeUID(this.uid);
  }

  override toString(): string {
    return `Tucreate{Tlcreate: ${super.toString()}, UID: ${this.uid}}`;
  }
}

/** Rucreate is a file creation response. */
export class Rucreate extends Rlcreate {
  static override readonly type: MsgType = MsgType.Rucreate;

  override get type(): MsgType {
    return MsgType.Rucreate;
  }

  /**
   * The constructor takes Go's struct shape (the embedded Rlcreate) or the
   * fields flattened as Go promotes them.
   */
  constructor(rlcreate?: Rlopen);
  constructor(qid?: QID, ioUnit?: number);
  constructor(first?: Rlopen | QID, ioUnit?: number) {
    if (first instanceof Rlopen) super(first.qid, first.ioUnit);
    else super(first, ioUnit);
  }

  override toString(): string {
    return `Rucreate{${super.toString()}}`;
  }
}

/** Tumkdir is a Tmkdir message that includes a UID. */
export class Tumkdir extends Tmkdir {
  static override readonly type: MsgType = MsgType.Tumkdir;

  override get type(): MsgType {
    return MsgType.Tumkdir;
  }

  /** uid is the UID to use as the effective UID in creation messages. */
  uid: UID;

  /**
   * The constructor takes Go's struct shape, (Tmkdir, UID), or the fields
   * flattened as Go promotes them.
   */
  constructor(tmkdir?: Tmkdir, uid?: UID);
  constructor(directory?: FID, name?: string, permissions?: FileMode, gid?: GID, uid?: UID);
  constructor(
    first?: Tmkdir | FID,
    ...rest: unknown[]
  ) {
    if (first instanceof Tmkdir) {
      super(first.directory, first.name, first.permissions, first.gid);
      this.uid = (rest[0] as UID | undefined) ?? 0;
    } else {
      super(
        first,
        rest[0] as string | undefined,
        rest[1] as FileMode | undefined,
        rest[2] as GID | undefined,
      );
      this.uid = (rest[3] as UID | undefined) ?? 0;
    }
  }

  /** tmkdir is the embedded Tmkdir (Go's t.Tmkdir): this message itself. */
  get tmkdir(): Tmkdir {
    return this;
  }

  override decode(b: buffer): void {
    super.decode(b);
    this.uid = b.readUID();
  }

  override encode(b: buffer): void {
    super.encode(b);
    b.writeUID(this.uid);
  }

  override toString(): string {
    return `Tumkdir{Tmkdir: ${super.toString()}, UID: ${this.uid}}`;
  }
}

/** Rumkdir is a umkdir response. */
export class Rumkdir extends Rmkdir {
  static override readonly type: MsgType = MsgType.Rumkdir;

  override get type(): MsgType {
    return MsgType.Rumkdir;
  }

  /**
   * The constructor takes Go's struct shape (the embedded Rmkdir) or the
   * fields flattened as Go promotes them.
   */
  constructor(rmkdir?: Rmkdir);
  constructor(qid?: QID);
  constructor(first?: Rmkdir | QID) {
    if (first instanceof Rmkdir) super(first.qid);
    else super(first);
  }

  override toString(): string {
    return `Rumkdir{${super.toString()}}`;
  }
}

/** Tumknod is a Tmknod message that includes a UID. */
export class Tumknod extends Tmknod {
  static override readonly type: MsgType = MsgType.Tumknod;

  override get type(): MsgType {
    return MsgType.Tumknod;
  }

  /** uid is the UID to use as the effective UID in creation messages. */
  uid: UID;

  /**
   * The constructor takes Go's struct shape, (Tmknod, UID), or the fields
   * flattened as Go promotes them.
   */
  constructor(tmknod?: Tmknod, uid?: UID);
  constructor(directory?: FID, name?: string, mode?: FileMode, major?: number, minor?: number, gid?: GID, uid?: UID);
  constructor(
    first?: Tmknod | FID,
    ...rest: unknown[]
  ) {
    if (first instanceof Tmknod) {
      super(first.directory, first.name, first.mode, first.major, first.minor, first.gid);
      this.uid = (rest[0] as UID | undefined) ?? 0;
    } else {
      super(
        first,
        rest[0] as string | undefined,
        rest[1] as FileMode | undefined,
        rest[2] as number | undefined,
        rest[3] as number | undefined,
        rest[4] as GID | undefined,
      );
      this.uid = (rest[5] as UID | undefined) ?? 0;
    }
  }

  /** tmknod is the embedded Tmknod (Go's t.Tmknod): this message itself. */
  get tmknod(): Tmknod {
    return this;
  }

  override decode(b: buffer): void {
    super.decode(b);
    this.uid = b.readUID();
  }

  override encode(b: buffer): void {
    super.encode(b);
    b.writeUID(this.uid);
  }

  override toString(): string {
    return `Tumknod{Tmknod: ${super.toString()}, UID: ${this.uid}}`;
  }
}

/** Rumknod is a umknod response. */
export class Rumknod extends Rmknod {
  static override readonly type: MsgType = MsgType.Rumknod;

  override get type(): MsgType {
    return MsgType.Rumknod;
  }

  /**
   * The constructor takes Go's struct shape (the embedded Rmknod) or the
   * fields flattened as Go promotes them.
   */
  constructor(rmknod?: Rmknod);
  constructor(qid?: QID);
  constructor(first?: Rmknod | QID) {
    if (first instanceof Rmknod) super(first.qid);
    else super(first);
  }

  override toString(): string {
    return `Rumknod{${super.toString()}}`;
  }
}

/** Tusymlink is a Tsymlink message that includes a UID. */
export class Tusymlink extends Tsymlink {
  static override readonly type: MsgType = MsgType.Tusymlink;

  override get type(): MsgType {
    return MsgType.Tusymlink;
  }

  /** uid is the UID to use as the effective UID in creation messages. */
  uid: UID;

  /**
   * The constructor takes Go's struct shape, (Tsymlink, UID), or the fields
   * flattened as Go promotes them.
   */
  constructor(tsymlink?: Tsymlink, uid?: UID);
  constructor(directory?: FID, name?: string, target?: string, gid?: GID, uid?: UID);
  constructor(
    first?: Tsymlink | FID,
    ...rest: unknown[]
  ) {
    if (first instanceof Tsymlink) {
      super(first.directory, first.name, first.target, first.gid);
      this.uid = (rest[0] as UID | undefined) ?? 0;
    } else {
      super(
        first,
        rest[0] as string | undefined,
        rest[1] as string | undefined,
        rest[2] as GID | undefined,
      );
      this.uid = (rest[3] as UID | undefined) ?? 0;
    }
  }

  /** tsymlink is the embedded Tsymlink (Go's t.Tsymlink): this message itself. */
  get tsymlink(): Tsymlink {
    return this;
  }

  override decode(b: buffer): void {
    super.decode(b);
    this.uid = b.readUID();
  }

  override encode(b: buffer): void {
    super.encode(b);
    b.writeUID(this.uid);
  }

  override toString(): string {
    return `Tusymlink{Tsymlink: ${super.toString()}, UID: ${this.uid}}`;
  }
}

/** Rusymlink is a usymlink response. */
export class Rusymlink extends Rsymlink {
  static override readonly type: MsgType = MsgType.Rusymlink;

  override get type(): MsgType {
    return MsgType.Rusymlink;
  }

  /**
   * The constructor takes Go's struct shape (the embedded Rsymlink) or the
   * fields flattened as Go promotes them.
   */
  constructor(rsymlink?: Rsymlink);
  constructor(qid?: QID);
  constructor(first?: Rsymlink | QID) {
    if (first instanceof Rsymlink) super(first.qid);
    else super(first);
  }

  override toString(): string {
    return `Rusymlink{${super.toString()}}`;
  }
}

/** Tlconnect is a connect request. */
export class Tlconnect implements Message {
  static readonly type: MsgType = MsgType.Tlconnect;

  get type(): MsgType {
    return MsgType.Tlconnect;
  }

  constructor(
    /** fid is the FID to be connected. */
    public fid: FID = 0,
    /** flags are the connect flags. */
    public flags: ConnectFlags = 0,
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.flags = b.readConnectFlags();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.writeConnectFlags(this.flags);
  }

  toString(): string {
    return `Tlconnect{FID: ${this.fid}, Flags: ${this.flags}}`;
  }
}

/**
 * Rlconnect is a connect response. (gVisor's carries a host socket FD, which
 * Node cannot receive: see the module comment.)
 */
export class Rlconnect implements Message {
  static readonly type: MsgType = MsgType.Rlconnect;

  get type(): MsgType {
    return MsgType.Rlconnect;
  }

  decode(_b: buffer): void {}

  encode(_b: buffer): void {}

  toString(): string {
    return `Rlconnect{}`;
  }
}

/** Tchannel creates a new channel. */
export class Tchannel implements Message {
  static readonly type: MsgType = MsgType.Tchannel;

  get type(): MsgType {
    return MsgType.Tchannel;
  }

  constructor(
    /** id is the channel ID. */
    public id: number = 0,
    /**
     * control is 0 if the Rchannel response should provide the flipcall
     * component of the channel, and 1 if the Rchannel response should
     * provide the fdchannel component of the channel.
     */
    public control: number = 0,
  ) {}

  decode(b: buffer): void {
    this.id = b.read32();
    this.control = b.read32();
  }

  encode(b: buffer): void {
    b.write32(this.id);
    b.write32(this.control);
  }

  toString(): string {
    return `Tchannel{ID: ${this.id}, Control: ${this.control}}`;
  }
}

/** Rchannel is the channel response. */
export class Rchannel implements Message {
  static readonly type: MsgType = MsgType.Rchannel;

  get type(): MsgType {
    return MsgType.Rchannel;
  }

  constructor(
    /** offset is the offset of the channel's memory in the shared region. */
    public offset: number = 0,
    /** length is the size of the channel's memory. */
    public length: number = 0,
  ) {}

  decode(b: buffer): void {
    this.offset = b.read64();
    this.length = b.read64();
  }

  encode(b: buffer): void {
    b.write64(this.offset);
    b.write64(this.length);
  }

  toString(): string {
    return `Rchannel{Offset: ${this.offset}, Length: ${this.length}}`;
  }
}

/** Tmultigetattr is a multi-getattr request (gVisor commit 276ff149a). */
export class Tmultigetattr implements Message {
  static readonly type: MsgType = MsgType.Tmultigetattr;

  get type(): MsgType {
    return MsgType.Tmultigetattr;
  }

  constructor(
    /** fid is the FID to be walked. */
    public fid: FID = 0,
    /** names are the set of names to be walked. */
    public names: string[] = [],
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.names = readNames(b);
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    writeNames(b, this.names);
  }

  toString(): string {
    return `Tmultigetattr{FID: ${this.fid}, Names: ${fmtStrings(this.names)}}`;
  }
}

// fullStatSize is the wire size of a FullStat: qid[13] valid[8] attr[...].
const fullStatSize = 13 + 8 + 4 + 4 + 4 + 8 * 15;

/** Rmultigetattr is a multi-getattr response (gVisor commit 276ff149a). */
export class Rmultigetattr implements Message {
  static readonly type: MsgType = MsgType.Rmultigetattr;

  get type(): MsgType {
    return MsgType.Rmultigetattr;
  }

  constructor(
    /**
     * stats are the set of FullStat returned for each of the names in the
     * request.
     */
    public stats: FullStat[] = [],
  ) {}

  decode(b: buffer): void {
    const n = b.read16();
    if (n * fullStatSize > b.remaining()) {
      b.markOverrun();
      this.stats = [];
      return;
    }
    const stats = new Array<FullStat>(n);
    for (let i = 0; i < n; i++) {
      const fs = new FullStat();
      fs.decode(b);
      stats[i] = fs;
    }
    this.stats = stats;
  }

  encode(b: buffer): void {
    b.writeCount(this.stats.length);
    for (let i = 0; i < this.stats.length; i++) this.stats[i].encode(b);
  }

  toString(): string {
    return `Rmultigetattr{Stats: ${fmtList(this.stats)}}`;
  }
}

// ---------------------------------------------------------------------------
// Standard 9P2000.L byte-range locks, which gVisor leaves out
// (Documentation/filesystems/9p and diod's protocol.md).

/** LockType is the type field of Tlock/Tgetlock/Rgetlock (P9_LOCK_TYPE_*). */
export const LockType = {
  RDLCK: 0,
  WRLCK: 1,
  UNLCK: 2,
} as const;

/** LockFlags are the flags of Tlock (P9_LOCK_FLAGS_*). */
export const LockFlags = {
  BLOCK: 1,
  RECLAIM: 2,
} as const;

/** LockStatus is the status of Rlock (P9_LOCK_*). */
export const LockStatus = {
  SUCCESS: 0,
  BLOCKED: 1,
  ERROR: 2,
  GRACE: 3,
} as const;

/**
 * Tlock acquires or releases a POSIX byte-range lock (9P2000.L):
 * fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s].
 */
export class Tlock implements Message {
  static readonly type: MsgType = MsgType.Tlock;

  get type(): MsgType {
    return MsgType.Tlock;
  }

  constructor(
    /** fid is the open file to lock. */
    public fid: FID = 0,
    /** lockType is LockType.RDLCK, WRLCK or UNLCK (the wire's "type"). */
    public lockType: number = 0,
    /** flags are LockFlags (BLOCK, RECLAIM). */
    public flags: number = 0,
    /** start is the first byte of the range. */
    public start: number = 0,
    /** length is the size of the range; 0 means to the end of the file. */
    public length: number = 0,
    /** procID is the owner's process ID. */
    public procID: number = 0,
    /** clientID identifies the client (its host name). */
    public clientID: string = '',
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.lockType = b.read8();
    this.flags = b.read32();
    this.start = b.read64();
    this.length = b.read64();
    this.procID = b.read32();
    this.clientID = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.write8(this.lockType);
    b.write32(this.flags);
    b.write64(this.start);
    b.write64(this.length);
    b.write32(this.procID);
    b.writeString(this.clientID);
  }

  toString(): string {
    return `Tlock{FID: ${this.fid}, Type: ${this.lockType}, Flags: ${this.flags}, Start: ${this.start}, Length: ${this.length}, ProcID: ${this.procID}, ClientID: ${this.clientID}}`;
  }
}

/** Rlock is the response to Tlock: status[1]. */
export class Rlock implements Message {
  static readonly type: MsgType = MsgType.Rlock;

  get type(): MsgType {
    return MsgType.Rlock;
  }

  constructor(
    /** status is a LockStatus. */
    public status: number = 0,
  ) {}

  decode(b: buffer): void {
    this.status = b.read8();
  }

  encode(b: buffer): void {
    b.write8(this.status);
  }

  toString(): string {
    return `Rlock{Status: ${this.status}}`;
  }
}

/**
 * Tgetlock tests for a conflicting POSIX lock (9P2000.L):
 * fid[4] type[1] start[8] length[8] proc_id[4] client_id[s].
 */
export class Tgetlock implements Message {
  static readonly type: MsgType = MsgType.Tgetlock;

  get type(): MsgType {
    return MsgType.Tgetlock;
  }

  constructor(
    /** fid is the open file to test. */
    public fid: FID = 0,
    /** lockType is the type of the lock that would be taken. */
    public lockType: number = 0,
    /** start is the first byte of the range. */
    public start: number = 0,
    /** length is the size of the range; 0 means to the end of the file. */
    public length: number = 0,
    /** procID is the owner's process ID. */
    public procID: number = 0,
    /** clientID identifies the client. */
    public clientID: string = '',
  ) {}

  decode(b: buffer): void {
    this.fid = b.readFID();
    this.lockType = b.read8();
    this.start = b.read64();
    this.length = b.read64();
    this.procID = b.read32();
    this.clientID = b.readString();
  }

  encode(b: buffer): void {
    b.writeFID(this.fid);
    b.write8(this.lockType);
    b.write64(this.start);
    b.write64(this.length);
    b.write32(this.procID);
    b.writeString(this.clientID);
  }

  toString(): string {
    return `Tgetlock{FID: ${this.fid}, Type: ${this.lockType}, Start: ${this.start}, Length: ${this.length}, ProcID: ${this.procID}, ClientID: ${this.clientID}}`;
  }
}

/**
 * Rgetlock is the response to Tgetlock: the conflicting lock, or the
 * request with lockType UNLCK when there is none:
 * type[1] start[8] length[8] proc_id[4] client_id[s].
 */
export class Rgetlock implements Message {
  static readonly type: MsgType = MsgType.Rgetlock;

  get type(): MsgType {
    return MsgType.Rgetlock;
  }

  constructor(
    /** lockType is the type of the conflicting lock, or LockType.UNLCK. */
    public lockType: number = 0,
    /** start is the first byte of the range. */
    public start: number = 0,
    /** length is the size of the range. */
    public length: number = 0,
    /** procID is the holder's process ID. */
    public procID: number = 0,
    /** clientID identifies the holder's client. */
    public clientID: string = '',
  ) {}

  decode(b: buffer): void {
    this.lockType = b.read8();
    this.start = b.read64();
    this.length = b.read64();
    this.procID = b.read32();
    this.clientID = b.readString();
  }

  encode(b: buffer): void {
    b.write8(this.lockType);
    b.write64(this.start);
    b.write64(this.length);
    b.write32(this.procID);
    b.writeString(this.clientID);
  }

  toString(): string {
    return `Rgetlock{Type: ${this.lockType}, Start: ${this.start}, Length: ${this.length}, ProcID: ${this.procID}, ClientID: ${this.clientID}}`;
  }
}

// ---------------------------------------------------------------------------
// Registry

/** registry indexes all message classes by type. */
export class registry {
  private readonly factories: (MessageClass | undefined)[] = new Array<MessageClass | undefined>(256).fill(undefined);

  /**
   * largestFixedSize is computed so that given some message size M, you can
   * compute the maximum payload size (e.g. for Twrite, Rread) with
   * M-largestFixedSize. You could do this individual on a per-message basis,
   * but it's easier to compute a single maximum safe payload.
   */
  largestFixedSize = 0;

  /**
   * get returns a new message by type.
   *
   * ErrInvalidMsgType is thrown in the case of an unknown message.
   */
  get(t: number, tag = 0xffff): Message {
    const cls = this.factories[t];
    if (cls === undefined) throw new ErrInvalidMsgType(t, tag);
    return new cls();
  }

  /** lookup returns the class registered for t, if any. */
  lookup(t: number): MessageClass | undefined {
    return this.factories[t];
  }

  /** types returns every registered type number, in increasing order. */
  types(): MsgType[] {
    const r: MsgType[] = [];
    this.factories.forEach((c, t) => {
      if (c !== undefined) r.push(t);
    });
    return r;
  }

  /**
   * register registers the given message class.
   *
   * This throws on failure and should only be used at module load.
   */
  register(cls: MessageClass): void {
    const t = cls.type;
    if (!Number.isInteger(t) || t < 0 || t >= this.factories.length) {
      throw new Error(`message type ${t} is too large. It must be smaller than ${this.factories.length}`);
    }
    const prev = this.factories[t];
    if (prev !== undefined) {
      throw new Error(`duplicate message type ${t}: first is ${prev.name}, second is ${cls.name}`);
    }
    this.factories[t] = cls;
    const size = calculateSize(new cls());
    if (size > this.largestFixedSize) this.largestFixedSize = size;
  }
}

/**
 * calculateSize returns the size of a message's fixed part: fixedSize() for
 * a payloader, the size of its encoding (with zero values) otherwise.
 */
export function calculateSize(m: Message): number {
  if (isPayloader(m)) return m.fixedSize();
  const b = new buffer();
  m.encode(b);
  return b.off;
}

/** msgRegistry indexes all message classes by type. */
export const msgRegistry = new registry();

for (const cls of [
  Rlerror,
  Tstatfs,
  Rstatfs,
  Tlopen,
  Rlopen,
  Tlcreate,
  Rlcreate,
  Tsymlink,
  Rsymlink,
  Tmknod,
  Rmknod,
  Trename,
  Rrename,
  Treadlink,
  Rreadlink,
  Tgetattr,
  Rgetattr,
  Tsetattr,
  Rsetattr,
  Tlistxattr,
  Rlistxattr,
  Txattrwalk,
  Rxattrwalk,
  Txattrcreate,
  Rxattrcreate,
  Tgetxattr,
  Rgetxattr,
  Tsetxattr,
  Rsetxattr,
  Tremovexattr,
  Rremovexattr,
  Treaddir,
  Rreaddir,
  Tfsync,
  Rfsync,
  Tlock,
  Rlock,
  Tgetlock,
  Rgetlock,
  Tlink,
  Rlink,
  Tmkdir,
  Rmkdir,
  Trenameat,
  Rrenameat,
  Tunlinkat,
  Runlinkat,
  Tversion,
  Rversion,
  Tauth,
  Rauth,
  Tattach,
  Rattach,
  Tflush,
  Rflush,
  Twalk,
  Rwalk,
  Tread,
  Rread,
  Twrite,
  Rwrite,
  Tclunk,
  Rclunk,
  Tremove,
  Rremove,
  Tflushf,
  Rflushf,
  Twalkgetattr,
  Rwalkgetattr,
  Tucreate,
  Rucreate,
  Tumkdir,
  Rumkdir,
  Tumknod,
  Rumknod,
  Tusymlink,
  Rusymlink,
  Tlconnect,
  Rlconnect,
  Tallocate,
  Rallocate,
  Tsetattrclunk,
  Rsetattrclunk,
  Tmultigetattr,
  Rmultigetattr,
  Tchannel,
  Rchannel,
] as MessageClass[]) {
  msgRegistry.register(cls);
}
