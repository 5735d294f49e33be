// gVisor's pkg/sentry/fsimpl/tmpfs/stat_test.go, plus the timestamps and
// metadata changes Linux's tmpfs makes (checked against Linux 6.x /dev/shm).

import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import {
  STATX_ALL, STATX_ATIME, STATX_GID, STATX_MODE, STATX_MTIME, STATX_UID, newStatx, type Statx,
} from '../../../../pkg/abi/linux/stat';
import { credentialsFromContext } from '../../../../pkg/sentry/kernel/auth';
import type * as vfs from '../../../../pkg/sentry/vfs';
import { errnoOf, newDirFD, newFileFD, newPipeFD, newTmpfsRoot, nsOf, openAt, type Env } from './helpers';

type maker = (t: Parameters<typeof newFileFD>[0], mode: number) => Promise<{ env: Env; fd: vfs.FileDescription }>;
const types: [string, maker, number][] = [
  ['file', newFileFD, linux.S_IFREG],
  ['dir', newDirFD, linux.S_IFDIR],
  ['pipe', newPipeFD, linux.S_IFIFO],
];

// gVisor TestStatAfterCreate.
for (const [typ, make, ft] of types) {
  test(`StatAfterCreate type=${typ}: times equal and non-zero, btime 0, size, nlink, owner, mode, ino`, async (t) => {
    const { env, fd } = await make(t, 0o644);
    const got = await fd.stat(env.ctx, {});
    t.is(nsOf(got.atime), nsOf(got.ctime));
    t.is(nsOf(got.ctime), nsOf(got.mtime));
    t.not(nsOf(got.atime), 0n);
    // Btime should be 0, as it is not set by tmpfs.
    t.is(nsOf(got.btime), 0n);
    // 20 per entry, including "." and "..", for directories (BOGO_DIRENT_SIZE).
    t.is(got.size, typ === 'dir' ? 40 : 0);
    t.is(got.nlink, typ === 'dir' ? 2 : 1);
    const creds = credentialsFromContext(env.ctx);
    t.is(got.uid, creds.effectiveKUID);
    t.is(got.gid, creds.effectiveKGID);
    t.is(got.mode, ft | 0o644);
    t.not(got.ino, 0);
  });
}

function atimeStat(mask: number, ns: number): Statx {
  const s = newStatx();
  s.mask = mask;
  s.atime = { sec: Math.floor(ns / 1e9), nsec: ns % 1e9 };
  return s;
}

// gVisor TestSetStatAtime / TestSetStat.
for (const [typ, make] of types) {
  test(`SetStat type=${typ}: atime ignored without the mask bit, set with it`, async (t) => {
    const { env, fd } = await make(t, 0o644);
    const { ctx } = env;
    const initial = await fd.stat(ctx, { mask: STATX_ALL });
    await fd.setStat(ctx, { stat: atimeStat(0, 100) });
    t.deepEqual((await fd.stat(ctx, { mask: STATX_ALL })).atime, initial.atime);
    await fd.setStat(ctx, { stat: atimeStat(STATX_ATIME, 100) });
    t.deepEqual((await fd.stat(ctx, { mask: STATX_ALL })).atime, { sec: 0, nsec: 100 });
  });
}

test('timestamps: write bumps mtime/ctime; read bumps atime; empty write changes nothing', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  const s0 = await fd.stat(ctx, {});
  await fd.write(ctx, Buffer.from('abc'));
  const s1 = await fd.stat(ctx, {});
  t.true(nsOf(s1.mtime) > nsOf(s0.mtime));
  t.true(nsOf(s1.ctime) > nsOf(s0.ctime));
  t.is(nsOf(s1.atime), nsOf(s0.atime));
  await fd.write(ctx, Buffer.alloc(0));
  const s2 = await fd.stat(ctx, {});
  t.is(nsOf(s2.mtime), nsOf(s1.mtime), 'a 0-byte write does not touch mtime (Linux)');
  await fd.pread(ctx, Buffer.alloc(3), 0);
  const s3 = await fd.stat(ctx, {});
  t.true(nsOf(s3.atime) > nsOf(s2.atime));
  t.is(nsOf(s3.mtime), nsOf(s2.mtime));
});

test('timestamps: creating and removing entries bumps the directory mtime/ctime; link/unlink/rename bump the inode ctime', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
  const stat = (p: string) => vfsObj.statAt(ctx, creds, env.pop(p, false), {});
  const d0 = await stat('d');
  (await openAt(env, 'd/f', linux.O_CREAT | linux.O_WRONLY)).decRef(ctx);
  const d1 = await stat('d');
  t.true(nsOf(d1.mtime) > nsOf(d0.mtime), 'create bumps the parent mtime');
  const f0 = await stat('d/f');
  await vfsObj.linkAt(ctx, creds, env.pop('d/f', false), env.pop('d/g', false));
  const f1 = await stat('d/f');
  t.true(nsOf(f1.ctime) > nsOf(f0.ctime), 'link bumps the inode ctime (shmem_link)');
  t.is(f1.nlink, 2);
  await vfsObj.unlinkAt(ctx, creds, env.pop('d/g'));
  const f2 = await stat('d/f');
  t.true(nsOf(f2.ctime) > nsOf(f1.ctime), 'unlink bumps the inode ctime');
  t.is(f2.nlink, 1);
  const d2 = await stat('d');
  await vfsObj.renameAt(ctx, creds, env.pop('d/f', false), env.pop('d/h', false), {});
  const h = await stat('d/h');
  t.true(nsOf(h.ctime) > nsOf(f2.ctime), 'rename bumps the inode ctime');
  const d3 = await stat('d');
  t.true(nsOf(d3.mtime) > nsOf(d2.mtime), 'rename bumps the parent mtime');
  t.is(nsOf(h.mtime), nsOf(f2.mtime), 'rename leaves the inode mtime');
});

test('utimensat-style setStat: UTIME_NOW, explicit times, ctime follows', async (t) => {
  const { env, fd } = await newFileFD(t);
  const { ctx } = env;
  const s = newStatx();
  s.mask = STATX_ATIME | STATX_MTIME;
  s.atime = { sec: 1000, nsec: 5 };
  s.mtime = { sec: 0, nsec: linux.UTIME_NOW };
  const before = await fd.stat(ctx, {});
  await fd.setStat(ctx, { stat: s });
  const after = await fd.stat(ctx, {});
  t.deepEqual(after.atime, { sec: 1000, nsec: 5 });
  t.true(nsOf(after.mtime) > nsOf(before.mtime));
  t.true(nsOf(after.ctime) >= nsOf(after.mtime), 'ctime set to now as well');
});

test('chmod/chown: non-owner EPERM; setuid dropped by chown and by a write without CAP_FSETID; S_ISGID dropped by chmod outside the group', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, creds, vfsObj } = env;
  const user = env.as(1000, 1000);
  const other = env.as(1001, 1001);
  (await openAt(env, 'f', linux.O_CREAT | linux.O_WRONLY, 0o666)).decRef(ctx);
  const set = (c: { ctx: typeof ctx; creds: typeof creds }, mask: number, v: Partial<Statx>) => {
    const s = Object.assign(newStatx(), v, { mask });
    return vfsObj.setStatAt(c.ctx, c.creds, env.pop('f'), { stat: s });
  };
  const mode = async () => (await vfsObj.statAt(ctx, creds, env.pop('f'), {})).mode & 0o7777;
  await set({ ctx, creds }, STATX_UID | STATX_GID, { uid: 1000, gid: 1000 });
  t.is(await errnoOf(set(other, STATX_MODE, { mode: 0o777 })), 'EPERM', 'chmod by a non-owner');
  t.is(await errnoOf(set(user, STATX_UID, { uid: 1001 })), 'EPERM', 'chown to another user without CAP_CHOWN');
  t.is(await errnoOf(set(user, STATX_GID, { gid: 1001 })), 'EPERM', 'chgrp to a group the owner is not in');
  await set(user, STATX_MODE, { mode: 0o6755 });
  t.is(await mode(), 0o6755);
  await set({ ctx, creds }, STATX_UID, { uid: 1000 });
  t.is(await mode(), 0o755, 'chown drops S_ISUID and S_ISGID|S_IXGRP (even by root)');
  await set(user, STATX_MODE, { mode: 0o4755 });
  const fd = await openAt(env, 'f', linux.O_WRONLY, 0, user.ctx, user.creds);
  await fd.write(user.ctx, Buffer.from('x'));
  fd.decRef(ctx);
  t.is(await mode(), 0o755, 'a write without CAP_FSETID drops S_ISUID');
  // Root (CAP_FSETID) writing keeps it.
  await set(user, STATX_MODE, { mode: 0o4755 });
  const rfd = await openAt(env, 'f', linux.O_WRONLY);
  await rfd.write(ctx, Buffer.from('y'));
  rfd.decRef(ctx);
  t.is(await mode(), 0o4755);
  // chmod g+s by the owner outside the file's group (gid 1001): S_ISGID dropped silently.
  await set({ ctx, creds }, STATX_GID, { gid: 1001 });
  await set(user, STATX_MODE, { mode: 0o2755 });
  t.is(await mode(), 0o755);
});

test('utimes by a non-owner: UTIME_NOW with write permission is allowed, explicit times are EPERM', async (t) => {
  const env = await newTmpfsRoot(t);
  const { ctx, vfsObj } = env;
  (await openAt(env, 'f', linux.O_CREAT | linux.O_WRONLY, 0o666)).decRef(ctx);
  (await openAt(env, 'g', linux.O_CREAT | linux.O_WRONLY, 0o644)).decRef(ctx);
  const other = env.as(1001, 1001);
  const now = Object.assign(newStatx(), { mask: STATX_ATIME | STATX_MTIME, atime: { sec: 0, nsec: linux.UTIME_NOW }, mtime: { sec: 0, nsec: linux.UTIME_NOW } });
  const explicit = Object.assign(newStatx(), { mask: STATX_ATIME | STATX_MTIME, atime: { sec: 1, nsec: 0 }, mtime: { sec: 1, nsec: 0 } });
  t.is(await errnoOf(vfsObj.setStatAt(other.ctx, other.creds, env.pop('f'), { stat: now })), 'ok');
  t.is(await errnoOf(vfsObj.setStatAt(other.ctx, other.creds, env.pop('f'), { stat: explicit })), 'EPERM');
  t.is(await errnoOf(vfsObj.setStatAt(other.ctx, other.creds, env.pop('g'), { stat: now })), 'EACCES');
});

test('statfs: TMPFS_MAGIC, page-sized blocks, NAME_MAX', async (t) => {
  const env = await newTmpfsRoot(t);
  const s = await env.vfsObj.statFSAt(env.ctx, env.creds, env.pop('/'));
  t.is(s.type, 0x01021994);
  t.is(s.blockSize, 4096);
  t.is(s.nameLength, 255);
  t.true(s.blocks > 0);
});

test('mount options: mode, uid, gid of the root; unknown or invalid options EINVAL', async (t) => {
  const env = await newTmpfsRoot(t, 'mode=0700,uid=1000,gid=1001');
  const st = await env.vfsObj.statAt(env.ctx, env.creds, env.pop('/'), {});
  t.is(st.mode, linux.S_IFDIR | 0o700);
  t.is(st.uid, 1000);
  t.is(st.gid, 1001);
  const def = await newTmpfsRoot(t);
  t.is((await def.vfsObj.statAt(def.ctx, def.creds, def.pop('/'), {})).mode, linux.S_IFDIR | 0o1777, 'default root mode is 01777');
  for (const bad of ['mode=9', 'uid=x', 'size=1Q', 'nr_inodes=x', 'size=101%', 'nr_inodes=5%', 'bogus=1', 'gid=']) {
    await t.throwsAsync(newTmpfsRoot(t, bad), { code: 'EINVAL' }, bad);
  }
});

test('O_NOATIME: reads leave atime; only the owner (or CAP_FOWNER) may ask for it (EPERM)', async (t) => {
  const { env, fd, name } = await newFileFD(t);
  const { ctx } = env;
  await fd.write(ctx, Buffer.from('abc'));
  const before = await fd.stat(ctx, {});
  const nfd = await openAt(env, name, linux.O_RDONLY | linux.O_NOATIME);
  t.teardown(() => nfd.decRef(ctx));
  await nfd.read(ctx, Buffer.alloc(3));
  t.is(nsOf((await fd.stat(ctx, {})).atime), nsOf(before.atime));
  const user = env.as(1000, 1000);
  t.is(await errnoOf(openAt(env, name, linux.O_RDONLY | linux.O_NOATIME, 0, user.ctx, user.creds)), 'EPERM');
});

// The same sequence on Linux 6.x (mount -t tmpfs -o size=16k,nr_inodes=4)
// gives these results.
test('size= and nr_inodes= limits: short writes then ENOSPC, fallocate ENOSPC, statfs counts, inodes', async (t) => {
  const env = await newTmpfsRoot(t, 'size=16k,nr_inodes=4');
  const { ctx, creds, vfsObj } = env;
  const fd = await openAt(env, 'f', linux.O_CREAT | linux.O_RDWR, 0o644);
  t.teardown(() => fd.decRef(ctx));
  t.is(await fd.write(ctx, Buffer.alloc(20000, 'x')), 16384);
  t.is(await errnoOf(fd.write(ctx, Buffer.from('y'))), 'ENOSPC');
  let s = await vfsObj.statFSAt(ctx, creds, env.pop('/'));
  t.deepEqual([s.blocks, s.blocksFree, s.blockSize, s.files, s.filesFree], [4, 0, 4096, 4, 2]);
  const trunc = Object.assign(newStatx(), { mask: 0x200, size: 4096 });
  await fd.setStat(ctx, { stat: trunc });
  t.is((await fd.statFS(ctx)).blocksFree, 3);
  t.is(await errnoOf(fd.allocate(ctx, 0, 0, 5 * 4096)), 'ENOSPC');
  t.is(await errnoOf(fd.allocate(ctx, 0, 0, 3 * 4096)), 'ok');
  const mkdir = (p: string) => errnoOf(vfsObj.mkdirAt(ctx, creds, env.pop(p), { mode: 0o755 }));
  t.deepEqual([await mkdir('a'), await mkdir('b'), await mkdir('c')], ['ok', 'ok', 'ENOSPC']);
  s = await vfsObj.statFSAt(ctx, creds, env.pop('/'));
  t.is(s.filesFree, 0);
  t.is((await vfsObj.statAt(ctx, creds, env.pop('/'), {})).nlink, 4, 'a failed mkdir leaves the parent\'s link count');
  await vfsObj.rmdirAt(ctx, creds, env.pop('a'));
  t.is(await mkdir('c'), 'ok', 'a removed inode is given back');
  const big = await newTmpfsRoot(t, 'size=50%,nr_inodes=0');
  t.true((await big.vfsObj.statFSAt(big.ctx, big.creds, big.pop('/'))).blocks > 0);
});
