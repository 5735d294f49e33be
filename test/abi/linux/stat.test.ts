// struct statx / stat / statfs layouts (include/uapi/linux/stat.h,
// arch/x86/include/uapi/asm/stat.h, asm-generic/statfs.h) and dev_t
// encoding (new_encode_dev).

import test from 'ava';
import {
  SizeOfStat, SizeOfStatfs, SizeOfStatx, decodeDeviceID, makeDeviceID, marshalStat, marshalStatfs, marshalStatx,
  newStatfs, newStatx, statFromStatx, STATX_BASIC_STATS,
} from '../../../pkg/abi/linux/stat';

test('statx: 256 bytes, fields at their offsets', (t) => {
  const s = newStatx();
  s.mask = STATX_BASIC_STATS;
  s.blksize = 4096;
  s.nlink = 3;
  s.uid = 1000;
  s.gid = 1001;
  s.mode = 0o100644;
  s.ino = 2 ** 40 + 5;
  s.size = 123456789;
  s.blocks = 8;
  s.atime = { sec: -1, nsec: 999999999 };
  s.mtime = { sec: 1700000000, nsec: 1 };
  s.rdevMajor = 1;
  s.rdevMinor = 2;
  s.devMajor = 0;
  s.devMinor = 42;
  const b = marshalStatx(s);
  t.is(b.length, SizeOfStatx);
  t.is(b.readUInt32LE(0), STATX_BASIC_STATS);
  t.is(b.readUInt32LE(4), 4096);
  t.is(b.readUInt32LE(16), 3);
  t.is(b.readUInt32LE(20), 1000);
  t.is(b.readUInt32LE(24), 1001);
  t.is(b.readUInt16LE(28), 0o100644);
  t.is(Number(b.readBigUInt64LE(32)), 2 ** 40 + 5);
  t.is(Number(b.readBigUInt64LE(40)), 123456789);
  t.is(Number(b.readBigUInt64LE(48)), 8);
  t.is(b.readBigInt64LE(64), -1n);
  t.is(b.readUInt32LE(72), 999999999);
  t.is(b.readBigInt64LE(112), 1700000000n);
  t.is(b.readUInt32LE(120), 1);
  t.deepEqual([b.readUInt32LE(128), b.readUInt32LE(132), b.readUInt32LE(136), b.readUInt32LE(140)], [1, 2, 0, 42]);
});

test('stat: 144 bytes on x86_64; statFromStatx encodes dev_t', (t) => {
  const s = newStatx();
  s.mode = 0o40755;
  s.nlink = 2;
  s.ino = 7;
  s.devMajor = 8;
  s.devMinor = 300;
  s.size = 4096;
  s.mtime = { sec: 5, nsec: 6 };
  const st = statFromStatx(s);
  const b = marshalStat(st);
  t.is(b.length, SizeOfStat);
  t.is(Number(b.readBigUInt64LE(0)), makeDeviceID(8, 300));
  t.is(Number(b.readBigUInt64LE(8)), 7);
  t.is(Number(b.readBigUInt64LE(16)), 2);
  t.is(b.readUInt32LE(24), 0o40755);
  t.is(Number(b.readBigInt64LE(48)), 4096);
  t.is(b.readBigInt64LE(88), 5n);
  t.is(b.readBigInt64LE(96), 6n);
});

test('dev_t: new_encode_dev / new_decode_dev round trip', (t) => {
  const table: Array<[number, number, number]> = [
    [0, 0, 0], [1, 3, 0x103], [8, 1, 0x801], [0, 256, 0x100000], [4095, 0xfffff, 0xffffffff],
  ];
  for (const [major, minor, dev] of table) {
    t.is(makeDeviceID(major, minor), dev >>> 0, `${major}:${minor}`);
    t.deepEqual(decodeDeviceID(makeDeviceID(major, minor)), { major, minor });
  }
});

test('statfs: 120 bytes on x86_64', (t) => {
  const s = newStatfs();
  s.type = 0x01021994;
  s.blockSize = 4096;
  s.nameLength = 255;
  s.fsid = [1, -2];
  const b = marshalStatfs(s);
  t.is(b.length, SizeOfStatfs);
  t.is(Number(b.readBigUInt64LE(0)), 0x01021994);
  t.is(Number(b.readBigInt64LE(8)), 4096);
  t.deepEqual([b.readInt32LE(56), b.readInt32LE(60)], [1, -2]);
  t.is(Number(b.readBigUInt64LE(64)), 255);
});
