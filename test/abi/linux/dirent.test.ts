// struct linux_dirent64 as getdents64(2) writes it: 19-byte header, the
// name NUL-terminated, each record padded to 8 bytes.

import test from 'ava';
import { DT_DIR, DT_REG } from '../../../pkg/abi/linux/file';
import { dirent64Size, marshalDirent64, parseDirents64 } from '../../../pkg/abi/linux/dirent';

test('dirent64: record sizes', (t) => {
  t.is(dirent64Size(1), 24); // ".": 19 + 1 + 1 = 21 -> 24
  t.is(dirent64Size(4), 24); // 19 + 4 + 1 = 24
  t.is(dirent64Size(5), 32);
  t.is(dirent64Size(255), 280);
});

test('dirent64: marshal and parse round trip; a record that does not fit is not written', (t) => {
  const buf = Buffer.alloc(56);
  let off = 0;
  off += marshalDirent64(buf, off, 1, 1, DT_DIR, '.');
  off += marshalDirent64(buf, off, 9, 2, DT_REG, 'hello');
  t.is(off, 56);
  t.is(marshalDirent64(buf, off, 3, 3, DT_REG, 'x'), 0);
  t.is(buf.readUInt16LE(16), 24);
  t.is(buf.readUInt8(18), DT_DIR);
  t.is(buf[19 + 1], 0, 'NUL terminated');
  t.deepEqual(parseDirents64(buf), [
    { ino: 1, off: 1, type: DT_DIR, name: '.' },
    { ino: 9, off: 2, type: DT_REG, name: 'hello' },
  ]);
});
