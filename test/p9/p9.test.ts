// Tests for pkg/p9/p9.ts: a port of gVisor's p9_test.go (file mode helpers,
// QID types, mode converters, AttrMask.Contains) plus the encoders' helpers,
// statToAttr against real host files and Attr.apply.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buffer } from '../../pkg/p9/buffer';
import * as p9 from '../../pkg/p9/p9';
import {
  AllocateMode,
  Attr,
  AttrMask,
  AttrMaskAll,
  FileMode,
  ModeBlockDevice,
  ModeCharacterDevice,
  ModeDirectory,
  ModeNamedPipe,
  ModeRegular,
  ModeSocket,
  ModeSymlink,
  OSFileMode,
  QID,
  QIDGenerator,
  SetAttr,
  SetAttrMask,
} from '../../pkg/p9/p9';

const modeFns: [FileMode, string, (m: FileMode) => boolean][] = [
  [ModeRegular, 'regular', p9.fileModeIsRegular],
  [ModeDirectory, 'directory', p9.fileModeIsDir],
  [ModeNamedPipe, 'named pipe', p9.fileModeIsNamedPipe],
  [ModeCharacterDevice, 'character device', p9.fileModeIsCharacterDevice],
  [ModeBlockDevice, 'block device', p9.fileModeIsBlockDevice],
  [ModeSymlink, 'symlink', p9.fileModeIsSymlink],
  [ModeSocket, 'socket', p9.fileModeIsSocket],
];

test('each file type predicate is true for its mode only (TestFileModeHelpers)', (t) => {
  for (const [mode, name, fn] of modeFns) {
    for (const [testMode, testName, testFn] of modeFns) {
      if (mode !== testMode) t.false(testFn(mode | 0o777), `mode ${name} is not ${testName}`);
    }
    t.true(fn(mode | 0o644), name);
  }
});

test('file mode → QIDType (TestFileModeToQID)', (t) => {
  const cases: [string, FileMode, number][] = [
    ['Directories are of type directory', ModeDirectory, p9.TypeDir],
    ['Sockets are append-only files', ModeSocket, p9.TypeAppendOnly],
    ['Named pipes are append-only files', ModeNamedPipe, p9.TypeAppendOnly],
    ['Character devices are append-only files', ModeCharacterDevice, p9.TypeAppendOnly],
    ['Symlinks are of type symlink', ModeSymlink, p9.TypeSymlink],
    ['Regular files are of type regular', ModeRegular, p9.TypeRegular],
    ['Block devices are regular files', ModeBlockDevice, p9.TypeRegular],
  ];
  for (const [name, mode, want] of cases) t.is(p9.fileModeQIDType(mode), want, name);
});

test('p9 mode → OS mode → p9 mode is the identity (TestP9ModeConverters)', (t) => {
  for (const [mode] of modeFns) t.is(p9.modeFromOS(p9.fileModeOSMode(mode)), mode, mode.toString(8));
  t.is(p9.modeFromOS(p9.fileModeOSMode(ModeRegular | 0o755)), ModeRegular | 0o755);
});

test('OS mode → p9 mode → OS mode is the identity; append/exclusive/temporary are regular (TestOSModeConverters)', (t) => {
  for (const m of [
    0,
    OSFileMode.ModeDir,
    OSFileMode.ModeCharDevice + OSFileMode.ModeDevice,
    OSFileMode.ModeDevice,
    OSFileMode.ModeSocket,
    OSFileMode.ModeSymlink,
    OSFileMode.ModeNamedPipe,
  ]) {
    t.is(p9.fileModeOSMode(p9.modeFromOS(m)), m, m.toString(8));
  }
  for (const m of [OSFileMode.ModeAppend, OSFileMode.ModeExclusive, OSFileMode.ModeTemporary]) {
    t.is(p9.modeFromOS(m), ModeRegular);
  }
});

test('mode bits helpers: fileType, permissions (with sticky, setgid, setuid), writable, readable/writable/executable', (t) => {
  const m = ModeDirectory | 0o1750;
  t.is(p9.fileModeFileType(m), ModeDirectory);
  // permissionsMask is 07777 (gVisor 92374e519; Linux chmod keeps S_ISUID/S_ISGID).
  t.is(p9.fileModePermissions(m | p9.SetUID), 0o5750);
  t.is(p9.fileModePermissions(ModeRegular | p9.SetGID | 0o755), 0o2755);
  t.is(p9.permissionsMask, 0o7777);
  t.is(p9.fileModeWritable(ModeRegular | 0o444), ModeRegular | 0o666);
  t.true(p9.fileModeIsReadable(0o004));
  t.false(p9.fileModeIsReadable(0o333));
  t.true(p9.fileModeIsWritable(0o020));
  t.false(p9.fileModeIsWritable(0o555));
  t.true(p9.fileModeIsExecutable(0o100));
  t.false(p9.fileModeIsExecutable(0o666));
});

test('OpenFlags: OSFlags is the Linux value; String as gVisor', (t) => {
  t.is(p9.openFlagsOSFlags(p9.ReadWrite | p9.OpenTruncate), 0o1002);
  t.is(p9.openFlagsString(p9.ReadOnly), 'ReadOnly');
  t.is(p9.openFlagsString(p9.WriteOnly | p9.OpenTruncate), 'WriteOnly|OpenTruncate');
  t.is(p9.openFlagsString(3), '03');
  t.is(p9.openFlagsString(p9.ReadWrite | 0o40000), 'ReadWrite|040000');
});

test('UID/GID Ok and the sentinels', (t) => {
  t.false(p9.uidOk(p9.NoUID));
  t.true(p9.uidOk(0));
  t.false(p9.gidOk(p9.NoGID));
  t.true(p9.gidOk(1000));
  t.is(p9.NoTag, 0xffff);
  t.is(p9.NoFID, 0xffffffff);
});

test('AttrMask.contains (TestAttrMaskContains), empty, AttrMaskAll, toString', (t) => {
  const req = AttrMask.with({ mode: true, size: true });
  const have = new AttrMask();
  t.false(have.contains(req));
  have.mode = true;
  t.false(have.contains(req));
  have.size = true;
  have.mTime = true;
  t.true(have.contains(req));
  t.true(new AttrMask().empty());
  t.false(req.empty());
  t.is(AttrMaskAll().bits(), 0x3fff);
  t.true(AttrMaskAll().contains(have));
  t.is(req.toString(), 'AttrMask{with: Mode Size}');
  t.deepEqual(AttrMask.fromBits(req.bits()), req);
});

test('SetAttrMask: isSubsetOf, empty, bit layout of 9P2000.L (P9_ATTR_*)', (t) => {
  const s = SetAttrMask.with({ permissions: true, mTime: true });
  const m = SetAttrMask.with({ permissions: true, mTime: true, size: true });
  t.true(s.isSubsetOf(m));
  t.false(m.isSubsetOf(s));
  t.true(new SetAttrMask().empty());
  t.is(SetAttrMask.with({ permissions: true }).bitmask(), 0x1);
  t.is(SetAttrMask.with({ uid: true }).bitmask(), 0x2);
  t.is(SetAttrMask.with({ gid: true }).bitmask(), 0x4);
  t.is(SetAttrMask.with({ size: true }).bitmask(), 0x8);
  t.is(SetAttrMask.with({ aTime: true }).bitmask(), 0x10);
  t.is(SetAttrMask.with({ mTime: true }).bitmask(), 0x20);
  t.is(SetAttrMask.with({ cTime: true }).bitmask(), 0x40);
  t.is(SetAttrMask.with({ aTimeNotSystemTime: true }).bitmask(), 0x80);
  t.is(SetAttrMask.with({ mTimeNotSystemTime: true }).bitmask(), 0x100);
  t.is(s.toString(), 'SetAttrMask{with: Permissions MTime}');
});

test('Attr.apply changes only what the mask says; permissions keep the file type', (t) => {
  const a = new Attr(ModeRegular | 0o644, 1, 2, 1, 0, 10);
  const before = a.clone();
  a.apply(new SetAttrMask(), new SetAttr(0o777, 5, 6, 99, 1, 2, 3, 4));
  t.deepEqual(a, before);
  a.apply(SetAttrMask.with({ permissions: true, uid: true, size: true, aTime: true }), new SetAttr(0o1700, 5, 6, 99, 1, 2, 3, 4));
  t.is(a.mode, ModeRegular | 0o1700);
  // Set-ID bits are permissions too (Linux chmod stores 07777).
  a.apply(SetAttrMask.with({ permissions: true }), new SetAttr(0o6755));
  t.is(a.mode, ModeRegular | 0o6755);
  a.apply(SetAttrMask.with({ permissions: true }), new SetAttr(0o1700));
  t.is(a.uid, 5);
  t.is(a.gid, 2);
  t.is(a.size, 99);
  t.is(a.aTimeSeconds, 1);
  t.is(a.aTimeNanoSeconds, 2);
  t.is(a.mTimeSeconds, 0);
  // cTime in the mask changes nothing (gVisor's Apply has no CTime case).
  a.apply(SetAttrMask.with({ cTime: true, mTime: true }), new SetAttr(0, 0, 0, 0, 0, 0, 7, 8));
  t.is(a.mTimeSeconds, 7);
  t.is(a.cTimeSeconds, 0);
});

test('statToAttr from a host file (fs.BigIntStats): nanosecond times, and BTime/Gen/DataVersion dropped from the mask', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p9-stat-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, 'hello');
  fs.utimesSync(f, new Date(-1500), new Date(1700000000500));
  const st = fs.statSync(f, { bigint: true });
  const [attr, valid] = statToAttrChecked(t, st);
  t.is(attr.mode, Number(st.mode));
  t.is(attr.nLink, 1);
  t.is(attr.uid, Number(st.uid));
  t.is(attr.gid, Number(st.gid));
  t.is(attr.size, 5);
  t.is(attr.blockSize, Number(st.blksize));
  t.is(attr.blocks, Number(st.blocks));
  // atime -1.5s: a timespec of {-2, 500000000}.
  t.is(attr.aTimeSeconds, -2);
  t.is(attr.aTimeNanoSeconds, 500000000);
  t.is(attr.mTimeSeconds, 1700000000);
  t.is(attr.mTimeNanoSeconds, 500000000);
  t.is(attr.cTimeSeconds, Number(st.ctimeNs / 1000000000n));
  t.is(attr.cTimeNanoSeconds, Number(st.ctimeNs % 1000000000n));
  t.false(valid.bTime);
  t.false(valid.gen);
  t.false(valid.dataVersion);
  t.true(valid.mode && valid.size && valid.blocks && valid.iNo);
  // From fs.Stats (milliseconds) too.
  const [a2] = p9.statToAttr(fs.statSync(f), AttrMaskAll());
  t.is(a2.mTimeSeconds, 1700000000);
  t.is(a2.mTimeNanoSeconds, 500000000);
});

function statToAttrChecked(t: import('ava').ExecutionContext, st: fs.BigIntStats): [Attr, AttrMask] {
  const req = AttrMaskAll();
  const r = p9.statToAttr(st, req);
  t.deepEqual(req, AttrMaskAll(), 'the request is not modified');
  return r;
}

test('statToAttr: unrequested fields stay zero, UID/GID default to NoUID/NoGID; rdev is st_rdev', (t) => {
  const plain = {
    mode: 0o20620,
    nlink: 1n,
    uid: 0,
    gid: 5,
    rdev: (136 << 8) | 3,
    size: 0,
    blksize: 1024,
    blocks: 0,
    atimeNs: 5n,
    mtimeNs: 6n,
    ctimeNs: 7n,
  };
  const [attr, valid] = p9.statToAttr(plain, AttrMask.with({ mode: true, rDev: true, bTime: true }));
  t.is(attr.mode, 0o20620);
  t.is(attr.rDev, (136 << 8) | 3);
  t.is(attr.uid, p9.NoUID);
  t.is(attr.gid, p9.NoGID);
  t.is(attr.nLink, 0);
  t.is(attr.aTimeNanoSeconds, 0);
  t.deepEqual(valid, AttrMask.with({ mode: true, rDev: true }));
});

test('AllocateMode ↔ fallocate(2) mode (ToAllocateMode, ToLinux)', (t) => {
  for (let mode = 0; mode < 0x80; mode++) t.is(p9.toAllocateMode(mode).toLinux(), mode);
  const a = p9.toAllocateMode(0x01 | 0x02);
  t.true(a.keepSize && a.punchHole);
  t.false(a.zeroRange);
  const b = new buffer();
  a.encode(b);
  const d = new AllocateMode();
  d.decode(new buffer(b.bytes()));
  t.deepEqual(d, a);
});

test('QIDGenerator hands out increasing paths with version 0', (t) => {
  const g = new QIDGenerator();
  const a = g.get(p9.TypeDir);
  const b = g.get(p9.TypeRegular);
  t.deepEqual(a, new QID(p9.TypeDir, 0, 1n));
  t.deepEqual(b, new QID(p9.TypeRegular, 0, 2n));
  t.true(a.equals(new QID(p9.TypeDir, 0, 1n)));
  t.false(a.equals(b));
  t.is(a.toString(), 'QID{Type: 128, Version: 0, Path: 1}');
});

test('MsgType numbers are 9P2000.L and gVisor\'s', (t) => {
  t.is(p9.MsgType.Tlerror, 6);
  t.is(p9.MsgType.Rlerror, 7);
  t.is(p9.MsgType.Tlock, 52);
  t.is(p9.MsgType.Tgetlock, 54);
  t.is(p9.MsgType.Tversion, 100);
  t.is(p9.MsgType.Tflushf, 124);
  t.is(p9.MsgType.Tsetattrclunk, 140);
  t.is(p9.MsgType.Tmultigetattr, 142);
  t.is(p9.MsgType.Rmultigetattr, 143);
  t.is(p9.MsgType.Tchannel, 250);
});
