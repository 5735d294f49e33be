// Realistic sample values of every 9P message, shared by the codec tests
// (messages.test.ts, transport.test.ts) and the codec benchmark.
import {
  AllocateMode,
  Attr,
  AttrMask,
  AttrMaskAll,
  Dirent,
  FSStat,
  FullStat,
  ModeDirectory,
  ModeRegular,
  ModeSymlink,
  NoGID,
  NoUID,
  OpenTruncate,
  QID,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  TypeDir,
  TypeRegular,
  TypeSymlink,
  toAllocateMode,
} from '../../pkg/p9/p9';
import * as m from '../../pkg/p9/messages';
import { Message } from '../../pkg/p9/messages';

const rootQID = new QID(TypeDir, 0, 2n);
const fileQID = new QID(TypeRegular, 7, 1311768467463790320n);
const linkQID = new QID(TypeSymlink, 0, 0xffffffffffffffffn);

export function sampleAttr(): Attr {
  return new Attr(
    ModeRegular | 0o644,
    1000,
    1000,
    1,
    0,
    123456789,
    4096,
    241136,
    1700000000,
    123456789,
    1700000001,
    999999999,
    -1,
    5,
    0,
    0,
    0,
    0,
  );
}

export function sampleSetAttr(): SetAttr {
  return new SetAttr(0o1755, 0, 100, 1 << 40, 1700000000, 1073741823, -86400, 1073741822);
}

function fullMask(): AttrMask {
  return AttrMaskAll();
}

/** samples returns one realistic instance of every registered message type. */
export function samples(): Message[] {
  const statMask = AttrMask.with({ mode: true, nLink: true, uid: true, gid: true, size: true, blocks: true });
  return [
    new m.Rlerror(2),
    new m.Tstatfs(1),
    new m.Rstatfs(new FSStat(0x01021994, 4096, 1 << 30, 1 << 29, 1 << 28, 1 << 20, 1 << 19, 0x9a1b2c3d4e5f6071n, 255)),
    new m.Tlopen(3, ReadWrite | OpenTruncate),
    new m.Rlopen(fileQID, 65536 - 24),
    new m.Tlcreate(3, 'new-file.txt', ReadWrite, 0o644, 1000),
    new m.Rlcreate(fileQID, 8192),
    new m.Tsymlink(1, 'link', '../target/file', NoGID),
    new m.Rsymlink(linkQID),
    new m.Tmknod(1, 'fifo', 0o010644, 0, 0, 100),
    new m.Rmknod(fileQID),
    new m.Trename(4, 1, 'renamed'),
    new m.Rrename(),
    new m.Treadlink(5),
    new m.Rreadlink('/usr/lib/x86_64-linux-gnu/libc.so.6'),
    new m.Tgetattr(7, fullMask()),
    new m.Rgetattr(statMask, fileQID, sampleAttr()),
    new m.Tsetattr(7, SetAttrMask.with({ permissions: true, size: true, mTime: true, mTimeNotSystemTime: true }), sampleSetAttr()),
    new m.Rsetattr(),
    new m.Tlistxattr(7, 65536),
    new m.Rlistxattr(['user.mime_type', 'security.selinux', 'trusted.overlay.opaque']),
    new m.Txattrwalk(7, 8, 'user.comment'),
    new m.Rxattrwalk(27),
    new m.Txattrcreate(8, 'user.comment', 27, 1),
    new m.Rxattrcreate(),
    new m.Tgetxattr(7, 'security.capability', 20),
    new m.Rgetxattr(Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe])),
    new m.Tsetxattr(7, 'user.bin', Buffer.from([0, 1, 2, 0xff, 0x80]), 2),
    new m.Rsetxattr(),
    new m.Tremovexattr(7, 'user.comment'),
    new m.Rremovexattr(),
    new m.Treaddir(9, 0x7fffffffffffffffn, 8192),
    new m.Rreaddir(8192, [
      new Dirent(rootQID, 1n, TypeDir, '.'),
      new Dirent(rootQID, 2n, TypeDir, '..'),
      new Dirent(fileQID, 3n, TypeRegular, 'hello.txt'),
      new Dirent(linkQID, 0xffffffffffffffffn, TypeSymlink, 'liên-kết'),
    ]),
    new m.Tfsync(10),
    new m.Rfsync(),
    new m.Tlock(10, m.LockType.WRLCK, m.LockFlags.BLOCK, 100, 0, 4242, 'host.example'),
    new m.Rlock(m.LockStatus.BLOCKED),
    new m.Tgetlock(10, m.LockType.RDLCK, 0, 4096, 4242, 'host.example'),
    new m.Rgetlock(m.LockType.WRLCK, 100, 0, 1717, 'other.example'),
    new m.Tlink(1, 5, 'hardlink'),
    new m.Rlink(),
    new m.Tmkdir(1, 'subdir', 0o1777, 100),
    new m.Rmkdir(new QID(TypeDir, 0, 99n)),
    new m.Trenameat(1, 'old name', 2, 'new name'),
    new m.Rrenameat(),
    new m.Tunlinkat(1, 'victim', 0x200),
    new m.Runlinkat(),
    new m.Tversion(1 << 20, '9P2000.L.Google.13'),
    new m.Rversion(65536, '9P2000.L'),
    new m.Tauth(0, 'root', '/', 0),
    new m.Rauth(new QID(0x08, 0, 1n)),
    new m.Tattach(0, new m.Tauth(0xffffffff, 'nobody', '/srv/export', NoUID)),
    new m.Rattach(rootQID),
    new m.Tflush(17),
    new m.Rflush(),
    new m.Twalk(0, 1, ['usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6']),
    new m.Rwalk([rootQID, new QID(TypeDir, 0, 3n), new QID(TypeDir, 0, 4n), fileQID]),
    new m.Tread(11, 4096 * 1024, 65536 - 24),
    new m.Rread(Buffer.from('hello, world\n')),
    new m.Twrite(11, 2 ** 40, Buffer.alloc(3000, 0xab)),
    new m.Rwrite(3000),
    new m.Tclunk(11),
    new m.Rclunk(),
    new m.Tremove(12),
    new m.Rremove(),
    new m.Tflushf(13),
    new m.Rflushf(),
    new m.Twalkgetattr(0, 14, ['etc', 'passwd']),
    new m.Rwalkgetattr(statMask, sampleAttr(), [new QID(TypeDir, 0, 5n), fileQID]),
    new m.Tucreate(new m.Tlcreate(1, 'u-file', ReadWrite, 0o600, 100), 1000),
    new m.Rucreate(new m.Rlcreate(fileQID, 4096)),
    new m.Tumkdir(new m.Tmkdir(1, 'u-dir', 0o755, 100), 1000),
    new m.Rumkdir(new m.Rmkdir(new QID(TypeDir, 1, 77n))),
    new m.Tumknod(new m.Tmknod(1, 'u-sock', 0o140755, 0, 0, 100), 1000),
    new m.Rumknod(new m.Rmknod(fileQID)),
    new m.Tusymlink(new m.Tsymlink(1, 'u-link', '/etc/hosts', 100), 1000),
    new m.Rusymlink(new m.Rsymlink(linkQID)),
    new m.Tlconnect(15, 1),
    new m.Rlconnect(),
    new m.Tallocate(16, toAllocateMode(0x03), 4096, 1 << 30),
    new m.Rallocate(),
    new m.Tsetattrclunk(17, SetAttrMask.with({ aTime: true, mTime: true }), sampleSetAttr()),
    new m.Rsetattrclunk(),
    new m.Tmultigetattr(0, ['home', 'user', '.bashrc']),
    new m.Rmultigetattr([
      new FullStat(rootQID, statMask, new Attr(ModeDirectory | 0o755, 0, 0, 3)),
      new FullStat(linkQID, statMask, new Attr(ModeSymlink | 0o777, 1000, 1000, 1, 0, 11)),
    ]),
    new m.Tchannel(1, 0),
    new m.Rchannel(4096, 8192),
  ];
}

/** allocateModeAll returns an AllocateMode with every flag set. */
export function allocateModeAll(): AllocateMode {
  return toAllocateMode(0x7f);
}
