// Tests for pkg/p9/messages.ts, in the spirit of gVisor's messages_test.go:
// every message survives encode → decode, every truncation fails with
// ErrBadMessage, random field values round-trip (fast-check), and the
// registry holds every type once.
import test from 'ava';
import fc from 'fast-check';
import { buffer, ErrBadMessage } from '../../pkg/p9/buffer';
import * as m from '../../pkg/p9/messages';
import { calculateSize, ErrInvalidMsgType, Message, msgRegistry } from '../../pkg/p9/messages';
import { AttrMask, AttrMaskAll, Dirent, FullStat, MsgType, QID } from '../../pkg/p9/p9';
import { decodeMessage } from '../../pkg/p9/transport';
import { sampleAttr, samples } from './codec_samples';

function encodeBody(msg: Message): Buffer {
  const b = new buffer();
  msg.encode(b);
  return Buffer.from(b.bytes());
}

function roundTrip(msg: Message): Message {
  return decodeMessage(msg.type, encodeBody(msg));
}

test('every registered message type has a sample (the table below is complete)', (t) => {
  const have = new Set(samples().map((s) => s.type));
  for (const ty of msgRegistry.types()) t.true(have.has(ty), `no sample for ${MsgType[ty]}`);
  t.is(have.size, samples().length, 'one sample per type');
});

test('registry: gVisor set + Tlock/Tgetlock + Tmultigetattr, numbered as 9P2000.L and gVisor', (t) => {
  const want: [string, number][] = [
    ['Rlerror', 7], ['Tstatfs', 8], ['Tlopen', 12], ['Tlcreate', 14], ['Tsymlink', 16], ['Tmknod', 18],
    ['Trename', 20], ['Treadlink', 22], ['Tgetattr', 24], ['Tsetattr', 26], ['Tlistxattr', 28],
    ['Txattrwalk', 30], ['Txattrcreate', 32], ['Tgetxattr', 34], ['Tsetxattr', 36], ['Tremovexattr', 38],
    ['Treaddir', 40], ['Tfsync', 50], ['Tlock', 52], ['Rlock', 53], ['Tgetlock', 54], ['Rgetlock', 55],
    ['Tlink', 70], ['Tmkdir', 72], ['Trenameat', 74], ['Tunlinkat', 76], ['Tversion', 100], ['Tauth', 102],
    ['Tattach', 104], ['Tflush', 108], ['Twalk', 110], ['Tread', 116], ['Twrite', 118], ['Tclunk', 120],
    ['Tremove', 122], ['Tflushf', 124], ['Twalkgetattr', 126], ['Tucreate', 128], ['Tumkdir', 130],
    ['Tumknod', 132], ['Tusymlink', 134], ['Tlconnect', 136], ['Tallocate', 138], ['Tsetattrclunk', 140],
    ['Tmultigetattr', 142], ['Rmultigetattr', 143], ['Tchannel', 250], ['Rchannel', 251],
  ];
  for (const [name, num] of want) {
    const cls = msgRegistry.lookup(num);
    t.truthy(cls, name);
    t.is(cls!.name, name);
    t.is(cls!.type, num);
    t.is(new cls!().type, num);
  }
  // Tlerror is never sent (9P2000.L reserves it); gVisor does not register it.
  t.is(msgRegistry.lookup(MsgType.Tlerror), undefined);
  t.is(msgRegistry.types().length, 87); // gVisor's 81 (Rlerror has no T) + 4 lock + 2 multigetattr.
});

test('encode → decode gives every message back (TestEncodeDecode)', (t) => {
  for (const msg of samples()) {
    const got = roundTrip(msg);
    t.is(got.constructor, msg.constructor, MsgType[msg.type]);
    t.deepEqual(got, msg, MsgType[msg.type]);
    t.is(got.toString(), msg.toString());
  }
});

test('every truncation of every message fails with ErrBadMessage', (t) => {
  for (const msg of samples()) {
    const body = encodeBody(msg);
    for (let n = 0; n < body.length; n++) {
      const err = t.throws(() => decodeMessage(msg.type, body.subarray(0, n)), undefined, `${MsgType[msg.type]}[:${n}]`);
      t.true(err instanceof ErrBadMessage, `${MsgType[msg.type]}[:${n}]: ${String(err)}`);
    }
  }
});

test('an unknown type is ErrInvalidMsgType, an ErrBadMessage with errno EBADMSG', (t) => {
  const err = t.throws(() => decodeMessage(MsgType.Tlerror, Buffer.alloc(0), 5));
  t.true(err instanceof ErrInvalidMsgType);
  t.true(err instanceof ErrBadMessage);
  t.is((err as ErrInvalidMsgType).msgType, MsgType.Tlerror);
  t.is((err as ErrInvalidMsgType).tag, 5);
  t.is((err as ErrBadMessage).code, 'EBADMSG');
});

test('registering a duplicate type throws (TestRegisterDuplicate)', (t) => {
  t.throws(() => msgRegistry.register(m.Rlerror));
});

test('calculateSize: fixed sizes, payloaders report their fixed part', (t) => {
  t.is(calculateSize(new m.Rread()), 4);
  t.is(calculateSize(new m.Twrite()), 16);
  t.is(calculateSize(new m.Rreaddir()), 4);
  t.is(calculateSize(new m.Tclunk()), 4);
  t.is(calculateSize(new m.Rlopen()), 17);
  // Rgetattr (valid 8 + qid 13 + attr 132) is the largest fixed part.
  t.is(msgRegistry.largestFixedSize, calculateSize(new m.Rgetattr()));
});

test('fast-check: Twalk with random names round-trips', (t) => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.array(fc.string({ maxLength: 40 }), { maxLength: 20 }), (fid, newFID, names) => {
      const msg = new m.Twalk(fid, newFID, names);
      const got = roundTrip(msg) as m.Twalk;
      return got.fid === fid && got.newFID === newFID && JSON.stringify(got.names) === JSON.stringify(names.map(utf8RoundTrip));
    }),
  );
  t.pass();
});

function utf8RoundTrip(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

// ---------------------------------------------------------------------------
// fast-check: random field values for every message.
//
// The arbitrary of each message is derived from its sample: every own field
// gets random values of its wire type (width taken from the field's name, as
// gVisor's struct fields are typed), arrays get random elements shaped like
// the sample's first one, nested encoders recurse.

const u64Fields = new Set([
  'nLink', 'rDev', 'size', 'blockSize', 'blocks', 'aTimeNanoSeconds', 'mTimeNanoSeconds', 'cTimeNanoSeconds',
  'bTimeNanoSeconds', 'gen', 'dataVersion', 'offset', 'length', 'start', 'attrSize', 'blocksFree',
  'blocksAvailable', 'files', 'filesFree',
]);
const s64Fields = new Set(['aTimeSeconds', 'mTimeSeconds', 'cTimeSeconds', 'bTimeSeconds']);
const u8Fields = new Set(['lockType', 'status']);
const byClass: Record<string, fc.Arbitrary<number>> = {
  'QID.type': fc.nat(0xff),
  'Dirent.type': fc.nat(0xff),
  'FSStat.type': fc.nat(0xffffffff),
  'FSStat.blockSize': fc.nat(0xffffffff),
  'FSStat.nameLength': fc.nat(0xffffffff),
};

function numberArb(cls: string, field: string): fc.Arbitrary<number> {
  const special = byClass[`${cls}.${field}`];
  if (special !== undefined) return special;
  if (field === 'permissions') return fc.nat(0o7777); // readPermissions masks.
  if (field === 'oldTag') return fc.nat(0xffff);
  if (u8Fields.has(field)) return fc.nat(0xff);
  if (s64Fields.has(field)) return fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  if (u64Fields.has(field)) return fc.oneof(fc.nat(0xffffffff), fc.maxSafeNat());
  return fc.nat(0xffffffff);
}

const nameArb = fc.string({ unit: 'grapheme', maxLength: 24 });

function arbLike(sample: unknown, cls: string, field: string): fc.Arbitrary<unknown> {
  if (typeof sample === 'number') return numberArb(cls, field);
  if (typeof sample === 'bigint') return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  if (typeof sample === 'string') return nameArb;
  if (typeof sample === 'boolean') return fc.boolean();
  if (Buffer.isBuffer(sample)) return fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
  if (Array.isArray(sample)) return fc.array(arbLike(sample[0], cls, field), { maxLength: 8 });
  if (typeof sample === 'object' && sample !== null) return objectArb(sample);
  throw new Error(`no arbitrary for ${cls}.${field}`);
}

function objectArb(sample: object): fc.Arbitrary<object> {
  const ctor = sample.constructor as new () => object;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(sample)) fields[k] = arbLike(v, ctor.name, k);
  return fc.record(fields).map((vals) => Object.assign(new ctor(), vals));
}

for (const sample of samples()) {
  const name = MsgType[sample.type];
  test(`fast-check: ${name} with random field values round-trips`, (t) => {
    fc.assert(
      fc.property(objectArb(sample) as fc.Arbitrary<Message>, (msg) => {
        if (msg instanceof m.Rreaddir) msg.count = 0xffffffff; // Send every entry.
        const body = encodeBody(msg); // Rreaddir: sets count to the bytes sent.
        const got = decodeMessage(msg.type, body);
        t.deepEqual(got, msg);
        t.deepEqual(encodeBody(got), body);
      }),
      { numRuns: 60 },
    );
  });
}

test('every message prints (TestMessageStrings)', (t) => {
  for (const ty of msgRegistry.types()) {
    const msg = msgRegistry.get(ty);
    t.true(msg.toString().startsWith(MsgType[ty].slice(0, 2)), msg.toString());
    t.is(new ErrInvalidMsgType(ty).message, `invalid message type: ${ty}`);
  }
  t.is(new m.Twalk(1, 2, ['a', 'b']).toString(), 'Twalk{FID: 1, NewFID: 2, Names: [a b]}');
  t.is(new m.Tlopen(1, 2 | 0o1000).toString(), 'Tlopen{FID: 1, Flags: ReadWrite|OpenTruncate}');
  t.is(new m.Rread(Buffer.alloc(9)).toString(), 'Rread{len(Data): 9}');
});

// ---------------------------------------------------------------------------
// Wire layouts pinned byte for byte (9P2000.L and gVisor).

test('wire: Twalk is fid[4] newfid[4] nwname[2] nwname*(wname[s])', (t) => {
  t.deepEqual(
    encodeBody(new m.Twalk(0x01020304, 5, ['ab', 'c'])),
    Buffer.from([4, 3, 2, 1, 5, 0, 0, 0, 2, 0, 2, 0, 0x61, 0x62, 1, 0, 0x63]),
  );
});

test('wire: Rgetattr is valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] ... data_version[8] (160 bytes)', (t) => {
  const body = encodeBody(new m.Rgetattr(AttrMaskAll(), new QID(0x80, 1, 2n), sampleAttr()));
  t.is(body.length, 8 + 13 + 12 + 8 * 15);
  t.is(body.readUInt32LE(0), 0x3fff); // P9_GETATTR_ALL
  t.is(body[8], 0x80);
  t.is(body.readBigUInt64LE(13), 2n);
  t.is(body.readUInt32LE(21), sampleAttr().mode);
  // CTimeSeconds -1 travels as uint64(int64(-1)), as Linux and gVisor send it.
  t.is(body.readBigUInt64LE(21 + 12 + 8 * 9), 0xffffffffffffffffn);
});

test('wire: Tlock is fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]', (t) => {
  const body = encodeBody(new m.Tlock(7, m.LockType.WRLCK, m.LockFlags.BLOCK, 10, 20, 99, 'h'));
  t.deepEqual(body, Buffer.from([7, 0, 0, 0, 1, 1, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 1, 0, 0x68]));
  t.deepEqual(encodeBody(new m.Rlock(m.LockStatus.GRACE)), Buffer.from([3]));
});

test('wire: Rgetlock is type[1] start[8] length[8] proc_id[4] client_id[s]', (t) => {
  const body = encodeBody(new m.Rgetlock(m.LockType.UNLCK, 1, 2, 3, 'xy'));
  t.deepEqual(body, Buffer.from([2, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0x78, 0x79]));
});

test('wire: Tmultigetattr is fid[4] nwname[2] names; Rmultigetattr is n[2] (qid[13] valid[8] attr[132])*n', (t) => {
  t.deepEqual(encodeBody(new m.Tmultigetattr(1, ['a'])), Buffer.from([1, 0, 0, 0, 1, 0, 1, 0, 0x61]));
  const r = encodeBody(new m.Rmultigetattr([new FullStat(), new FullStat()]));
  t.is(r.length, 2 + 2 * (13 + 8 + 132));
  t.is(r.readUInt16LE(0), 2);
});

test('wire: Tucreate is Tlcreate then uid[4]; Rucreate is Rlopen', (t) => {
  const tl = encodeBody(new m.Tlcreate(1, 'f', 2, 0o644, 3));
  t.deepEqual(encodeBody(new m.Tucreate(new m.Tlcreate(1, 'f', 2, 0o644, 3), 0xabcd)), Buffer.concat([tl, Buffer.from([0xcd, 0xab, 0, 0])]));
  t.deepEqual(encodeBody(new m.Tucreate(1, 'f', 2, 0o644, 3, 0xabcd)), encodeBody(new m.Tucreate(new m.Tlcreate(1, 'f', 2, 0o644, 3), 0xabcd)));
  t.deepEqual(encodeBody(new m.Rucreate(new QID(1, 2, 3n), 4)), encodeBody(new m.Rlopen(new QID(1, 2, 3n), 4)));
  const tu = new m.Tucreate(new m.Tlcreate(1, 'f', 2, 0o644, 3), 9);
  t.is(tu.tlcreate, tu); // Go's t.Tlcreate
  t.is(tu.name, 'f'); // promoted as in Go
  t.true(tu instanceof m.Tlcreate);
});

test('Tlcreate/Tmkdir/Tsetattr permissions are masked to 07777 on the wire (ReadPermissions; set-ID bits kept as gVisor 92374e519)', (t) => {
  const got = decodeMessage(MsgType.Tmkdir, encodeBody(new m.Tmkdir(1, 'd', 0o104755, 0))) as m.Tmkdir;
  t.is(got.permissions, 0o4755);
  const raw = Buffer.from(encodeBody(new m.Tlcreate(1, 'f', 0, 0o644, 0)));
  raw.writeUInt32LE(0o177777, 4 + 2 + 1 + 4);
  t.is((decodeMessage(MsgType.Tlcreate, raw) as m.Tlcreate).permissions, 0o7777);
});

test('Rread/Twrite: count must equal the payload exactly (gVisor)', (t) => {
  const body = encodeBody(new m.Rread(Buffer.from('abc')));
  t.throws(() => decodeMessage(MsgType.Rread, Buffer.concat([body, Buffer.from([0])])), { instanceOf: ErrBadMessage });
  const w = Buffer.from(encodeBody(new m.Twrite(1, 2, Buffer.from('abc'))));
  w.writeUInt32LE(2, 12);
  t.throws(() => decodeMessage(MsgType.Twrite, w), { instanceOf: ErrBadMessage });
});

test('Rreaddir: encode keeps whole entries within count and sets count to the bytes sent', (t) => {
  const entries = [0, 1, 2, 3].map((i) => new Dirent(new QID(0, 0, BigInt(i)), BigInt(i + 1), 0, `entry-${i}`));
  const one = 13 + 8 + 1 + 2 + 'entry-0'.length;
  const r = new m.Rreaddir(one * 2 + one - 1, entries);
  const body = encodeBody(r);
  t.is(r.count, one * 2);
  t.is(body.length, 4 + one * 2);
  const got = decodeMessage(MsgType.Rreaddir, body) as m.Rreaddir;
  t.deepEqual(got.entries, entries.slice(0, 2));
  // A partial trailing dirent is malformed.
  const bad = Buffer.from(body.subarray(0, body.length - 1));
  bad.writeUInt32LE(one * 2 - 1, 0);
  t.throws(() => decodeMessage(MsgType.Rreaddir, bad), { instanceOf: ErrBadMessage });
  // payload/setPayload (gVisor's payloader) agree with the encoding.
  const p = new m.Rreaddir();
  p.setPayload(r.payload().subarray(0, one * 2));
  t.deepEqual(p.entries, entries.slice(0, 2));
});

test('counts larger than what follows fail at once (no allocation of 65535 names)', (t) => {
  const body = Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff, 0, 0]);
  t.throws(() => decodeMessage(MsgType.Twalk, body), { instanceOf: ErrBadMessage });
  t.throws(() => decodeMessage(MsgType.Rwalk, Buffer.from([0xff, 0xff])), { instanceOf: ErrBadMessage });
  t.throws(() => decodeMessage(MsgType.Rmultigetattr, Buffer.from([1, 0])), { instanceOf: ErrBadMessage });
});

test('a u64 above 2^53-1 in a number field is malformed (EBADMSG); in QID.path it is a bigint', (t) => {
  const body = Buffer.from(encodeBody(new m.Tread(1, 0, 10)));
  body.writeBigUInt64LE(1n << 53n, 4);
  t.throws(() => decodeMessage(MsgType.Tread, body), { instanceOf: ErrBadMessage });
  body.writeBigUInt64LE((1n << 53n) - 1n, 4);
  t.is((decodeMessage(MsgType.Tread, body) as m.Tread).offset, Number.MAX_SAFE_INTEGER);
  const q = decodeMessage(MsgType.Rattach, encodeBody(new m.Rattach(new QID(0, 0, (1n << 64n) - 1n)))) as m.Rattach;
  t.is(q.qid.path, (1n << 64n) - 1n);
});

test('AttrMask ignores unknown bits on the wire (gVisor decodes only the known ones)', (t) => {
  const body = Buffer.from(encodeBody(new m.Tgetattr(1, AttrMask.with({ mode: true }))));
  body.writeUInt32LE(0xffffc001, 4);
  body.writeUInt32LE(0xffffffff, 8);
  const got = decodeMessage(MsgType.Tgetattr, body) as m.Tgetattr;
  t.deepEqual(got.attrMask, AttrMask.with({ mode: true }));
});

test('strings are UTF-8 on the wire; over 65535 bytes they cannot be encoded', (t) => {
  t.deepEqual(encodeBody(new m.Rreadlink('é')), Buffer.from([2, 0, 0xc3, 0xa9]));
  t.throws(() => encodeBody(new m.Rreadlink('x'.repeat(65536))), { instanceOf: ErrBadMessage });
  t.throws(() => encodeBody(new m.Rreadlink('é'.repeat(40000))), { instanceOf: ErrBadMessage });
  t.notThrows(() => encodeBody(new m.Rreadlink('x'.repeat(65535))));
  t.throws(() => encodeBody(new m.Twalk(0, 1, new Array<string>(65536).fill(''))), { instanceOf: ErrBadMessage });
});
