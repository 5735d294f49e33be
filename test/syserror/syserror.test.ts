import test from 'ava';
import { Errno, errnoName, errnoMessages, MaxErrno } from '../../pkg/abi/linux/errors';
import * as syserror from '../../pkg/syserror/syserror';

test('errno table: numbers of Linux x86_64', (t) => {
  t.is(Errno.EPERM, 1);
  t.is(Errno.ENOENT, 2);
  t.is(Errno.ENAMETOOLONG, 36);
  t.is(Errno.ENOTEMPTY, 39);
  t.is(Errno.ELOOP, 40);
  t.is(Errno.ENODATA, 61);
  t.is(Errno.EOPNOTSUPP, 95);
  t.is(Errno.ESTALE, 116);
  t.is(Errno.EHWPOISON, MaxErrno);
  // Every number from 1 to 133 but the two Linux leaves unused (41, 58).
  const nums = new Set<number>(Object.values(Errno));
  for (let i = 1; i <= MaxErrno; i++) t.is(nums.has(i), i !== 41 && i !== 58, `errno ${i}`);
  for (const n of nums) t.true(errnoMessages.has(n), `message for ${errnoName(n)}`);
});

test('syserror: one shared value per errno, compared by identity', (t) => {
  t.is(syserror.fromErrno(2), syserror.ENOENT);
  t.is(syserror.ENOENT.errno, 2);
  t.is(syserror.ENOENT.code, 'ENOENT');
  t.is(syserror.fromErrno(999), syserror.fromErrno(999));
  t.is(syserror.fromErrno(999).code, 'E999');
});

test('syserror: Node errors map to their errno, EIO otherwise', (t) => {
  t.is(syserror.fromNodeError(Object.assign(new Error('x'), { code: 'EEXIST' })), syserror.EEXIST);
  t.is(syserror.fromNodeError(Object.assign(new Error('x'), { errno: -20 })), syserror.ENOTDIR);
  t.is(syserror.fromNodeError(new Error('plain')), syserror.EIO);
  t.is(syserror.fromNodeError('string'), syserror.EIO);
  t.is(syserror.errnoOf(syserror.EACCES), 13);
});
