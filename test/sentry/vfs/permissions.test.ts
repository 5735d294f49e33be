// Permission checks (gVisor's permissions.go; Linux's generic_permission,
// may_linkat, setattr_prepare, check_sticky, xattr_permission).

import test from 'ava';
import { S_IFDIR, S_IFLNK, S_IFREG, S_ISUID, S_ISVTX, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, UTIME_NOW } from '../../../pkg/abi/linux/file';
import { STATX_ATIME, STATX_GID, STATX_MODE, STATX_SIZE, STATX_UID, newStatx } from '../../../pkg/abi/linux/stat';
import * as context from '../../../pkg/context';
import * as auth from '../../../pkg/sentry/kernel/auth';
import * as syserror from '../../../pkg/syserror/syserror';
import * as vfs from '../../../pkg/sentry/vfs';

const root = auth.newRootCredentials();
const alice = auth.newUserCredentials(1000, 1000, [2000]);
const bob = auth.newUserCredentials(1001, 1001);
const ctx = context.background();

test('genericCheckPermissions: owner, group, other bits and root capabilities', (t) => {
  const table: Array<[string, auth.Credentials, vfs.AccessTypes, number, number, number, boolean]> = [
    ['owner read on 0400', alice, vfs.MayRead, S_IFREG | 0o400, 1000, 1000, true],
    ['owner write on 0400', alice, vfs.MayWrite, S_IFREG | 0o400, 1000, 1000, false],
    ['owner bits win over group bits', alice, vfs.MayRead, S_IFREG | 0o070, 1000, 1000, false],
    ['supplementary group read', alice, vfs.MayRead, S_IFREG | 0o040, 0, 2000, true],
    ['other read on 0004', bob, vfs.MayRead, S_IFREG | 0o004, 1000, 1000, true],
    ['other exec on 0', bob, vfs.MayExec, S_IFDIR, 1000, 1000, false],
    ['root reads anything (CAP_DAC_READ_SEARCH)', root, vfs.MayRead, S_IFREG, 1000, 1000, true],
    ['root writes anything (CAP_DAC_OVERRIDE)', root, vfs.MayWrite, S_IFREG, 1000, 1000, true],
    ['root searches any directory', root, vfs.MayExec, S_IFDIR, 1000, 1000, true],
    ['root cannot exec a file with no exec bit', root, vfs.MayExec, S_IFREG | 0o600, 1000, 1000, false],
    ['root execs a file with any exec bit', root, vfs.MayExec, S_IFREG | 0o001, 1000, 1000, true],
  ];
  for (const [name, creds, ats, mode, uid, gid, ok] of table) {
    if (ok) t.notThrows(() => vfs.genericCheckPermissions(creds, ats, mode, uid, gid), name);
    else t.throws(() => vfs.genericCheckPermissions(creds, ats, mode, uid, gid), { is: syserror.EACCES }, name);
  }
});

test('mayLink: owners link anything; others only safe regular files', (t) => {
  t.notThrows(() => vfs.mayLink(alice, S_IFREG | 0o000, 1000, 1000));
  t.notThrows(() => vfs.mayLink(bob, S_IFREG | 0o606, 1000, 1000));
  t.throws(() => vfs.mayLink(bob, S_IFREG | 0o604, 1000, 1000), { is: syserror.EPERM }, 'unwritable source');
  t.throws(() => vfs.mayLink(bob, S_IFREG | S_ISUID | 0o606, 1000, 1000), { is: syserror.EPERM }, 'setuid');
  t.throws(() => vfs.mayLink(bob, S_IFLNK | 0o777, 1000, 1000), { is: syserror.EPERM }, 'not regular');
});

test('accessTypesForOpenFlags and may{Read,Write}FileWithOpenFlags', (t) => {
  t.is(vfs.accessTypesForOpenFlags({ flags: O_RDONLY }), vfs.MayRead);
  t.is(vfs.accessTypesForOpenFlags({ flags: O_RDONLY | O_TRUNC }), vfs.MayRead | vfs.MayWrite);
  t.is(vfs.accessTypesForOpenFlags({ flags: O_WRONLY }), vfs.MayWrite);
  t.is(vfs.accessTypesForOpenFlags({ flags: O_RDWR, fileExec: true }), vfs.MayRead | vfs.MayWrite | vfs.MayExec);
  t.is(vfs.accessTypesForOpenFlags({ flags: 3 }), vfs.MayRead | vfs.MayWrite, 'access mode 3');
  t.false(vfs.mayReadFileWithOpenFlags(3));
  t.false(vfs.mayWriteFileWithOpenFlags(3));
  t.true(vfs.mayWriteFileWithOpenFlags(O_RDWR));
});

test('checkSetStat: chmod needs ownership, chown needs CAP_CHOWN, utimes(NOW) needs write', (t) => {
  const st = (mask: number, f: (s: ReturnType<typeof newStatx>) => void = () => undefined): vfs.SetStatOptions => {
    const s = newStatx();
    s.mask = mask;
    f(s);
    return { stat: s };
  };
  t.notThrows(() => vfs.checkSetStat(ctx, alice, st(STATX_MODE), S_IFREG | 0o644, 1000, 1000));
  t.throws(() => vfs.checkSetStat(ctx, bob, st(STATX_MODE), S_IFREG | 0o666, 1000, 1000), { is: syserror.EPERM });
  t.throws(() => vfs.checkSetStat(ctx, alice, st(STATX_UID, (s) => (s.uid = 1001)), S_IFREG, 1000, 1000), { is: syserror.EPERM });
  t.notThrows(() => vfs.checkSetStat(ctx, alice, st(STATX_UID, (s) => (s.uid = 1000)), S_IFREG, 1000, 1000), 'chown to self');
  t.notThrows(() => vfs.checkSetStat(ctx, alice, st(STATX_GID, (s) => (s.gid = 2000)), S_IFREG, 1000, 1000), 'chgrp to own group');
  t.throws(() => vfs.checkSetStat(ctx, alice, st(STATX_GID, (s) => (s.gid = 3000)), S_IFREG, 1000, 1000), { is: syserror.EPERM });
  t.notThrows(() => vfs.checkSetStat(ctx, root, st(STATX_UID, (s) => (s.uid = 5)), S_IFREG, 1000, 1000));
  t.notThrows(() => vfs.checkSetStat(ctx, bob, st(STATX_ATIME, (s) => (s.atime.nsec = UTIME_NOW)), S_IFREG | 0o666, 1000, 1000));
  t.throws(() => vfs.checkSetStat(ctx, bob, st(STATX_ATIME, (s) => (s.atime.nsec = UTIME_NOW)), S_IFREG | 0o644, 1000, 1000), { is: syserror.EACCES });
  t.throws(() => vfs.checkSetStat(ctx, bob, st(STATX_ATIME, (s) => (s.atime.sec = 5)), S_IFREG | 0o666, 1000, 1000), { is: syserror.EPERM });
  t.throws(() => vfs.checkSetStat(ctx, bob, { ...st(STATX_SIZE), needWritePerm: true }, S_IFREG | 0o644, 1000, 1000), { is: syserror.EACCES });
  // RLIMIT_FSIZE.
  const limited = context.withValue(ctx, vfs.CtxFileSizeLimit, 10);
  t.throws(() => vfs.checkSetStat(limited, alice, st(STATX_SIZE, (s) => (s.size = 11)), S_IFREG, 1000, 1000), { is: syserror.EFBIG });
  t.is(vfs.checkLimit(limited, 4, 100), 6);
  t.throws(() => vfs.checkLimit(limited, 10, 1), { is: syserror.EFBIG });
  t.is(vfs.checkLimit(ctx, 1e12, 5), 5);
});

test('checkDeleteSticky: file owner, directory owner, CAP_FOWNER (check_sticky)', (t) => {
  const dir = S_IFDIR | S_ISVTX | 0o777;
  t.notThrows(() => vfs.checkDeleteSticky(alice, S_IFDIR | 0o777, 1001, 0, 1001), 'no sticky bit');
  t.notThrows(() => vfs.checkDeleteSticky(alice, dir, 1000, 0, 1000), 'own file');
  t.notThrows(() => vfs.checkDeleteSticky(alice, dir, 1001, 1000, 1001), 'own directory');
  t.throws(() => vfs.checkDeleteSticky(alice, dir, 1001, 0, 1001), { is: syserror.EPERM });
  t.notThrows(() => vfs.checkDeleteSticky(root, dir, 1001, 0, 1001), 'CAP_FOWNER');
});

test('clearSUIDAndSGID and clearSGIDForChmod', (t) => {
  t.is(vfs.clearSUIDAndSGID(S_IFREG | 0o6755), S_IFREG | 0o755);
  t.is(vfs.clearSUIDAndSGID(S_IFREG | 0o6745), S_IFREG | 0o2745, 'setgid without group exec is mandatory locking: kept');
  t.is(vfs.clearSGIDForChmod(alice, 0o2755, 3000), 0o755);
  t.is(vfs.clearSGIDForChmod(alice, 0o2755, 2000), 0o2755);
  t.is(vfs.clearSGIDForChmod(root, 0o2755, 3000), 0o2755);
});

test('checkXattrPermissions: trusted.* needs CAP_SYS_ADMIN; user.* only on files and dirs', (t) => {
  t.throws(() => vfs.checkXattrPermissions(alice, vfs.MayRead, S_IFREG, 1000, 'trusted.x'), { is: syserror.ENODATA });
  t.throws(() => vfs.checkXattrPermissions(alice, vfs.MayWrite, S_IFREG, 1000, 'trusted.x'), { is: syserror.EPERM });
  t.notThrows(() => vfs.checkXattrPermissions(root, vfs.MayWrite, S_IFREG, 1000, 'trusted.x'));
  t.throws(() => vfs.checkXattrPermissions(alice, vfs.MayWrite, S_IFLNK, 1000, 'user.x'), { is: syserror.EPERM });
  t.throws(() => vfs.checkXattrPermissions(alice, vfs.MayRead, S_IFLNK, 1000, 'user.x'), { is: syserror.ENODATA });
  t.throws(() => vfs.checkXattrPermissions(bob, vfs.MayWrite, S_IFDIR | S_ISVTX | 0o777, 1000, 'user.x'), { is: syserror.EPERM });
  t.notThrows(() => vfs.checkXattrPermissions(alice, vfs.MayWrite, S_IFDIR | S_ISVTX | 0o777, 1000, 'user.x'));
});
