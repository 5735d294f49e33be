// Interop modes (gVisor's InteropMode): in InteropModeShared
// (cache=remote_revalidating) a change made directly on the host directory
// is seen on the next lookup, and a warm stat of a deep path costs one
// Tmultigetattr round trip; in InteropModeExclusive (cache=fscache, the
// default) the client's cache is authoritative and is served without any
// message. (The message-counting tests are serial: the counters are
// process-wide, as gVisor's fsmetric counters are.)

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { metrics } from '../../../../pkg/sentry/fsimpl/gofer';
import { InteropMode } from '../../../../pkg/sentry/fsimpl/gofer';
import { errnoOf, leakCheck, listDir, newGoferRoot, openAt } from './helpers';

const deep = 'a/b/c/d/e/f/g/h';

test('shared: files created, changed, replaced and removed on the host are seen on the next lookup', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=remote_revalidating' });
  t.is(env.fs.opts.interop, InteropMode.Shared);
  const { ctx, creds, vfsObj } = env;
  const h = (p: string): string => path.join(env.host, p);
  t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('x'), {})), 'ENOENT');
  fs.writeFileSync(h('x'), '12345');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('x'), {})).size, 5, 'no negative dentry in shared mode');
  fs.appendFileSync(h('x'), '678');
  t.is((await vfsObj.statAt(ctx, creds, env.pop('x'), {})).size, 8, 'metadata revalidated');
  const ino1 = (await vfsObj.statAt(ctx, creds, env.pop('x'), {})).ino;
  fs.rmSync(h('x'));
  fs.mkdirSync(h('x'));
  const st = await vfsObj.statAt(ctx, creds, env.pop('x'), {});
  t.is(st.mode & linux.S_IFMT, linux.S_IFDIR, 'replaced by a directory');
  t.not(st.ino, ino1);
  fs.rmdirSync(h('x'));
  t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('x'), {})), 'ENOENT');
  // Deep paths: a component replaced in the middle.
  fs.mkdirSync(h(deep), { recursive: true });
  fs.writeFileSync(h(`${deep}/f`), 'v1');
  t.is((await vfsObj.statAt(ctx, creds, env.pop(`${deep}/f`), {})).size, 2);
  fs.rmSync(h('a/b/c'), { recursive: true });
  t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop(`${deep}/f`), {})), 'ENOENT');
  fs.mkdirSync(h(deep), { recursive: true });
  fs.writeFileSync(h(`${deep}/f`), 'v2-longer');
  t.is((await vfsObj.statAt(ctx, creds, env.pop(`${deep}/f`), {})).size, 9);
  // Listings are read from the server every time.
  fs.writeFileSync(h('a/new'), '');
  t.true((await listDir(env, 'a')).includes('new'));
  await leakCheck(t, env);
});

test.serial('shared: a warm stat of a depth-8 path is one 9P round trip (Tmultigetattr)', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=remote_revalidating' });
  const { ctx, creds, vfsObj } = env;
  fs.mkdirSync(path.join(env.host, deep), { recursive: true });
  fs.writeFileSync(path.join(env.host, deep, 'file'), 'x');
  await vfsObj.statAt(ctx, creds, env.pop(`${deep}/file`), {}); // warm the dentries
  const before = metrics.messages;
  await vfsObj.statAt(ctx, creds, env.pop(`${deep}/file`), {});
  t.is(metrics.messages - before, 1);
  await leakCheck(t, env);
});

test('shared: reads and O_APPEND writes see the size the host gives the file', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=remote_revalidating' });
  const { ctx } = env;
  fs.writeFileSync(path.join(env.host, 'f'), 'abc');
  const fd = await openAt(env, 'f', linux.O_RDWR | linux.O_APPEND);
  fs.appendFileSync(path.join(env.host, 'f'), 'def');
  await fd.write(ctx, Buffer.from('g'));
  t.is(fs.readFileSync(path.join(env.host, 'f'), 'utf8'), 'abcdefg');
  t.is((await fd.stat(ctx, {})).size, 7);
  fd.decRef(ctx);
  await leakCheck(t, env);
});

test.serial('exclusive: the cache is authoritative; a warm stat sends no message', async (t) => {
  const env = await newGoferRoot(t);
  t.is(env.fs.opts.interop, InteropMode.Exclusive);
  const { ctx, creds, vfsObj } = env;
  fs.mkdirSync(path.join(env.host, deep), { recursive: true });
  fs.writeFileSync(path.join(env.host, deep, 'file'), 'x');
  t.is((await vfsObj.statAt(ctx, creds, env.pop(`${deep}/file`), {})).size, 1);
  const before = metrics.messages;
  t.is((await vfsObj.statAt(ctx, creds, env.pop(`${deep}/file`), {})).size, 1);
  t.is(metrics.messages - before, 0);
  // Changes behind the client's back are not seen (that is what the mode means).
  fs.appendFileSync(path.join(env.host, deep, 'file'), 'yyyy');
  t.is((await vfsObj.statAt(ctx, creds, env.pop(`${deep}/file`), {})).size, 1);
  // And a negative lookup is cached.
  t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('late'), {})), 'ENOENT');
  fs.writeFileSync(path.join(env.host, 'late'), '');
  t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('late'), {})), 'ENOENT');
  await leakCheck(t, env);
});

test('writethrough: like exclusive for reads, every change sent to the server at once', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=fscache_writethrough' });
  t.is(env.fs.opts.interop, InteropMode.Writethrough);
  const fd = await openAt(env, 'w', linux.O_CREAT | linux.O_WRONLY);
  await fd.write(env.ctx, Buffer.from('now'));
  t.is(fs.readFileSync(path.join(env.host, 'w'), 'utf8'), 'now');
  fd.decRef(env.ctx);
  await leakCheck(t, env);
});

test('cache=none: regular files use a handle per open file (specialFileFD), shared revalidation', async (t) => {
  const env = await newGoferRoot(t, { data: 'cache=none' });
  t.true(env.fs.opts.regularFilesUseSpecialFileFD);
  const { ctx } = env;
  const a = await openAt(env, 'n', linux.O_CREAT | linux.O_RDWR);
  const b = await openAt(env, 'n', linux.O_RDONLY);
  await a.write(ctx, Buffer.from('xyz'));
  const buf = Buffer.alloc(8);
  t.is(await b.read(ctx, buf), 3);
  t.is(await b.seek(ctx, 0, linux.SEEK_END), 3);
  a.decRef(ctx);
  b.decRef(ctx);
  await leakCheck(t, env);
});
