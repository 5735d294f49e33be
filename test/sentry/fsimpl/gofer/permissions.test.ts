// Permission checks of the gofer filesystem, made in the client on the
// cached metadata as gVisor does (dentry.checkPermissions, mayDelete): search
// and write permission on directories, open access modes, the sticky bit,
// and files owned by the creating user (Tucreate carries the sandbox's
// uid/gid to the gofer).

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { STATX_MODE, type Statx } from '../../../../pkg/abi/linux/stat';
import { errnoOf, leakCheck, newGoferRoot, openAt, type Env } from './helpers';

/** openRoot makes the mount root (a 0700 temp dir) searchable by everyone, through the client. */
async function openRoot(env: Env): Promise<void> {
  const stat: Statx = {
    mask: STATX_MODE, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0o755, ino: 0, size: 0, blocks: 0,
    attributesMask: 0, atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 },
    mtime: { sec: 0, nsec: 0 }, rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
  await env.vfsObj.setStatAt(env.ctx, env.creds, env.pop('/'), { stat });
}

test('permissions: EACCES without search or write permission; open access modes checked', async (t) => {
  const env = await newGoferRoot(t);
  await openRoot(env);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('private'), { mode: 0o700 });
  await vfsObj.mkdirAt(ctx, creds, env.pop('public'), { mode: 0o755 });
  (await openAt(env, 'private/f', linux.O_CREAT | linux.O_WRONLY, 0o644)).decRef(ctx);
  (await openAt(env, 'public/ro', linux.O_CREAT | linux.O_WRONLY, 0o644)).decRef(ctx);
  const u = env.as(1000, 1000);
  t.is(await errnoOf(vfsObj.statAt(u.ctx, u.creds, env.pop('private/f'), {})), 'EACCES');
  t.is(await errnoOf(vfsObj.mkdirAt(u.ctx, u.creds, env.pop('public/x'), { mode: 0o755 })), 'EACCES');
  t.is(await errnoOf(openAt(env, 'public/new', linux.O_CREAT | linux.O_WRONLY, 0o644, u.ctx, u.creds)), 'EACCES');
  t.is(await errnoOf(openAt(env, 'public/ro', linux.O_WRONLY, 0o644, u.ctx, u.creds)), 'EACCES');
  const fd = await openAt(env, 'public/ro', linux.O_RDONLY, 0o644, u.ctx, u.creds);
  fd.decRef(u.ctx);
  t.is(await errnoOf(vfsObj.unlinkAt(u.ctx, u.creds, env.pop('public/ro'))), 'EACCES');
  // access(2): AccessAt checks the cached mode against other credentials.
  await vfsObj.accessAt(u.ctx, u.creds, 4 /* MayRead */, env.pop('public/ro'));
  t.is(await errnoOf(vfsObj.accessAt(u.ctx, u.creds, 2 /* MayWrite */, env.pop('public/ro'))), 'EACCES');
  t.is(await errnoOf(vfsObj.accessAt(u.ctx, u.creds, 1 /* MayExec */, env.pop('private'))), 'EACCES');
  await leakCheck(t, env);
});

test('permissions: a file created by a user belongs to that user, on the host too', async (t) => {
  if (process.getuid?.() !== 0) {
    t.log('SKIPPED: needs root to chown on the host');
    t.pass();
    return;
  }
  const env = await newGoferRoot(t);
  await openRoot(env);
  const { ctx, creds, vfsObj } = env;
  await vfsObj.mkdirAt(ctx, creds, env.pop('tmp'), { mode: 0o1777 });
  const u = env.as(1000, 1000);
  (await openAt(env, 'tmp/mine', linux.O_CREAT | linux.O_WRONLY, 0o644, u.ctx, u.creds)).decRef(u.ctx);
  const st = await vfsObj.statAt(ctx, creds, env.pop('tmp/mine'), {});
  t.is(st.uid, 1000);
  t.is(fs.statSync(path.join(env.host, 'tmp/mine')).uid, 1000);
  // Sticky directory: another user may not remove it.
  const v = env.as(1001, 1001);
  t.is(await errnoOf(vfsObj.unlinkAt(v.ctx, v.creds, env.pop('tmp/mine'))), 'EPERM');
  await vfsObj.unlinkAt(u.ctx, u.creds, env.pop('tmp/mine'));
  t.false(fs.existsSync(path.join(env.host, 'tmp/mine')));
  await leakCheck(t, env);
});
