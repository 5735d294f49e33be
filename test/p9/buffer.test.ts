// Tests for pkg/p9/buffer.ts: gVisor's buffer_test.go (TestBufferOverrun)
// and the widths, signs and limits of every primitive.
import test from 'ava';
import fc from 'fast-check';
import { buffer, ErrBadMessage, ErrNoValidMessage } from '../../pkg/p9/buffer';
import { LinuxError } from '../../pkg/syserror/syserror';
import * as syserror from '../../pkg/syserror/syserror';

test('a string header promising more than the buffer holds overruns (TestBufferOverrun)', (t) => {
  const buf = new buffer(Buffer.from([0x0, 0x16]));
  t.is(buf.readString(), '');
  t.true(buf.isOverrun());
});

test('reads past the end return zero and mark the buffer overrun, for every width', (t) => {
  const reads: [string, (b: buffer) => unknown, unknown, number][] = [
    ['read8', (b) => b.read8(), 0, 1],
    ['read16', (b) => b.read16(), 0, 2],
    ['read32', (b) => b.read32(), 0, 4],
    ['read64', (b) => b.read64(), 0, 8],
    ['read64Signed', (b) => b.read64Signed(), 0, 8],
    ['read64Big', (b) => b.read64Big(), 0n, 8],
    ['readString', (b) => b.readString(), '', 2],
    ['readBytes16', (b) => b.readBytes16().length, 0, 2],
  ];
  for (const [name, read, zero, width] of reads) {
    for (let n = 0; n < width; n++) {
      const b = new buffer(Buffer.alloc(n, 0xff));
      t.is(read(b), zero, `${name} of ${n} bytes`);
      t.true(b.isOverrun(), name);
      // Once overrun, every later read fails too (markOverrun consumes the rest).
      t.is(b.remaining(), 0);
    }
    const ok = new buffer(Buffer.alloc(width));
    read(ok);
    t.false(ok.isOverrun(), name);
  }
});

test('little endian on the wire', (t) => {
  const b = new buffer();
  b.write8(0x01);
  b.write16(0x0203);
  b.write32(0x04050607);
  b.write64(0x08090a0b0c0d0e);
  b.write64Big(0x1112131415161718n);
  t.deepEqual(
    b.bytes(),
    Buffer.from([1, 3, 2, 7, 6, 5, 4, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11]),
  );
  const r = new buffer(b.bytes());
  t.is(r.read8(), 1);
  t.is(r.read16(), 0x0203);
  t.is(r.read32(), 0x04050607);
  t.is(r.read64(), 0x08090a0b0c0d0e);
  t.is(r.read64Big(), 0x1112131415161718n);
  t.false(r.isOverrun());
});

test('read32 is unsigned: 0xffffffff is NoFID, not -1', (t) => {
  const b = new buffer(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  t.is(b.read32(), 0xffffffff);
});

test('read64 into a number: up to 2^53-1; above is malformed (overrun)', (t) => {
  const b = new buffer(Buffer.alloc(16));
  b.data.writeBigUInt64LE(BigInt(Number.MAX_SAFE_INTEGER), 0);
  b.data.writeBigUInt64LE(1n << 53n, 8);
  t.is(b.read64(), Number.MAX_SAFE_INTEGER);
  t.false(b.isOverrun());
  t.is(b.read64(), 0);
  t.true(b.isOverrun());
});

test('read64Signed: times before 1970 come as uint64(int64) and read back negative', (t) => {
  for (const v of [0, 1, -1, -86400, 1700000000, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]) {
    const w = new buffer();
    w.write64(v);
    t.is(w.bytes().readBigInt64LE(0), BigInt(v), `${v}`);
    const r = new buffer(w.bytes());
    t.is(r.read64Signed(), v);
    t.false(r.isOverrun());
  }
  const r = new buffer(Buffer.alloc(8));
  r.data.writeBigInt64LE(-(1n << 53n), 0);
  r.read64Signed();
  t.true(r.isOverrun());
});

test('read64Mask returns the low 32 bits (unknown high mask bits are ignored)', (t) => {
  const b = new buffer(Buffer.from([0xff, 0x3f, 0, 0, 0xff, 0xff, 0xff, 0xff]));
  t.is(b.read64Mask(), 0x3fff);
  t.false(b.isOverrun());
});

test('fast-check: u64 bigints and safe numbers round-trip', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.maxSafeNat(), (big, n) => {
      const w = new buffer();
      w.write64Big(big);
      w.write64(n);
      const r = new buffer(w.bytes());
      return r.read64Big() === big && r.read64() === n && !r.isOverrun();
    }),
  );
  t.pass();
});

test('strings: UTF-8, short ASCII fast path and long ones agree; invalid UTF-8 is replaced', (t) => {
  for (const s of ['', 'a', 'usr', 'x86_64-linux-gnu', 'a'.repeat(24), 'a'.repeat(25), 'héllo', '日本語のファイル名', '😀 emoji']) {
    const w = new buffer();
    w.writeString(s);
    t.is(w.bytes().readUInt16LE(0), Buffer.byteLength(s), s);
    const r = new buffer(w.bytes());
    t.is(r.readString(), s);
    t.false(r.isOverrun());
  }
  const r = new buffer(Buffer.from([2, 0, 0xff, 0x61]));
  t.is(r.readString(), '\ufffda');
});

test('fast-check: any well-formed string round-trips', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
      const w = new buffer();
      w.writeString(s);
      return new buffer(w.bytes()).readString() === s;
    }),
  );
  t.pass();
});

test('payloads: a view of stable memory, a copy otherwise', (t) => {
  const data = Buffer.from([3, 0, 1, 2, 3]);
  const stable = new buffer(data, 0, data.length, true);
  const v = stable.readBytes16();
  const copy = new buffer(data).readBytes16();
  data[2] = 9;
  t.deepEqual([...v], [9, 2, 3]);
  t.deepEqual([...copy], [1, 2, 3]);
  const neg = new buffer(data);
  t.is(neg.readPayload(-1).length, 0);
  t.true(neg.isOverrun());
});

test('writes grow the buffer from empty', (t) => {
  const b = new buffer();
  for (let i = 0; i < 10000; i++) b.write32(i);
  t.is(b.off, 40000);
  const r = new buffer(b.bytes());
  for (let i = 0; i < 10000; i++) if (r.read32() !== i) t.fail(`at ${i}`);
  t.false(r.isOverrun());
});

test('permissions are masked to 07777 both ways (gVisor 92374e519: set-ID bits travel, the file type does not)', (t) => {
  const w = new buffer();
  w.writePermissions(0o104755);
  t.is(w.bytes().readUInt32LE(0), 0o4755);
  const r = new buffer(Buffer.from([0xff, 0xff, 0, 0]));
  t.is(r.readPermissions(), 0o7777);
});

test('ErrBadMessage is a LinuxError (EBADMSG) that carries a tag; ErrNoValidMessage is shared', (t) => {
  const e = new ErrBadMessage('x', 7);
  t.true(e instanceof LinuxError);
  t.is(e.errno, syserror.EBADMSG.errno);
  t.is(e.code, 'EBADMSG');
  t.is(e.tag, 7);
  t.false(e.fatal);
  t.is(syserror.errnoOf(e), syserror.EBADMSG.errno);
  t.true(ErrNoValidMessage instanceof ErrBadMessage);
  t.is(ErrNoValidMessage.tag, 0xffff);
});

test('counts and byte strings that do not fit 16 bits cannot be encoded', (t) => {
  const b = new buffer();
  t.throws(() => b.writeCount(65536), { instanceOf: ErrBadMessage });
  t.throws(() => b.writeBytes16(Buffer.alloc(65536)), { instanceOf: ErrBadMessage });
  t.notThrows(() => b.writeCount(65535));
});
