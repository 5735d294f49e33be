// The cached-dentry LRU (gVisor's filesystem.cachedDentries with
// maxCachedDentries): dentries with no references are kept up to the bound
// and evicted least recently used first, releasing their fids; the server
// never holds more fids than the client's live dentries and open handles.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { leakCheck, newGoferRoot, openAt } from './helpers';

test('LRU: dentry_cache_limit bounds the cache; evicted dentries release their fids', async (t) => {
  const env = await newGoferRoot(t, { data: 'dentry_cache_limit=10' });
  const { ctx, creds, vfsObj } = env;
  t.is(env.fs.opts.maxCachedDentries, 10);
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(env.host, `f${i}`), String(i));
  for (let i = 0; i < 100; i++) t.is((await vfsObj.statAt(ctx, creds, env.pop(`f${i}`), {})).size, String(i).length);
  await env.fs.settled();
  t.is(env.fs.cachedDentriesLen, 10);
  t.true(env.fs.liveDentries <= 11 + 1, `live dentries ${env.fs.liveDentries}`);
  await leakCheck(t, env);
  await env.server!.settled();
  t.true(env.server!.fidCount() <= 12, `server fids ${env.server!.fidCount()}`);
  // The most recently used are the ones kept: f99 is served from the cache.
  const kept = [...env.fs.cachedDentries].map((d) => d.name);
  t.true(kept.includes('f99'));
  t.false(kept.includes('f0'));
  // An evicted name is looked up again and still works.
  t.is((await vfsObj.statAt(ctx, creds, env.pop('f0'), {})).size, 1);
});

test('LRU: dentries with references (open files, cwd-like holds) are never evicted', async (t) => {
  const env = await newGoferRoot(t, { data: 'dentry_cache_limit=2' });
  const { ctx, creds, vfsObj } = env;
  const fds = [];
  for (let i = 0; i < 8; i++) fds.push(await openAt(env, `o${i}`, linux.O_CREAT | linux.O_RDWR));
  const vd = await vfsObj.getDentryAt(ctx, creds, env.pop('o0'), {});
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(env.host, `c${i}`), '');
  for (let i = 0; i < 20; i++) await vfsObj.statAt(ctx, creds, env.pop(`c${i}`), {});
  await env.fs.settled();
  t.true(env.fs.cachedDentriesLen <= 2);
  for (const fd of fds) await fd.write(ctx, Buffer.from('still usable'));
  await leakCheck(t, env);
  t.true(env.fs.fidCount() >= 8 + 8, 'each open file keeps its dentry fid and handle');
  for (const fd of fds) fd.decRef(ctx);
  vd.decRef(ctx);
  await env.fs.settled();
  t.true(env.fs.cachedDentriesLen <= 2);
  await leakCheck(t, env);
});

test('LRU: default bound is 1000 (gVisor)', async (t) => {
  const env = await newGoferRoot(t);
  t.is(env.fs.opts.maxCachedDentries, 1000);
  await leakCheck(t, env);
});

test('release: unmounting clunks every fid (server left with none)', async (t) => {
  const env = await newGoferRoot(t);
  const { ctx, creds, vfsObj } = env;
  fs.mkdirSync(path.join(env.host, 'x/y'), { recursive: true });
  await vfsObj.statAt(ctx, creds, env.pop('x/y'), {});
  const fd = await openAt(env, 'x/f', linux.O_CREAT | linux.O_RDWR);
  fd.decRef(ctx);
  env.cleanup();
  await env.fs.settled();
  await env.fs.closed;
  await env.server!.settled();
  t.is(env.server!.fidCount(), 0);
  t.is(env.fs.liveDentries, 0, 'every dentry destroyed');
});
