// Tests for pkg/p9/messages.ts, in the spirit of gVisor's messages_test.go:
// every message survives encode → decode, every truncation fails with
// ErrBadMessage, random field values round-trip (fast-check), and the
// registry holds every type once.
import test from 'ava';
import fc from 'fast-check';
import { buffer, ErrBadMessage } from '../../pkg/p9/buffer';
import * as m from '../../pkg/p9/messages';
import { calculateSize, ErrInvalidMsgType, Message, msgRegistry } from '../../pkg/p9/messages';
import { MsgType } from '../../pkg/p9/p9';
import { decodeMessage } from '../../pkg/p9/transport';
import { samples } from './codec_samples';

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
