// Lookup walk-ahead (filesystem.ts walkAheadNames/walkAheadLocked, beyond
// gVisor): once a program stats the entries of a cached listing in order,
// the names that follow are walked in the same batch of requests. What it
// must never change: every answer is the host's, the dentry cache keeps its
// bound, and the server holds no fid the client does not account for.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backends, errnoOf, leakCheck, listDir, newGoferRoot, openAt, type Env } from './helpers';
import * as linux from '../../../../pkg/abi/linux';

function batches(env: Env): number {
  return env.fs.client!.batches;
}

function makeFiles(env: Env, dir: string, n: number): void {
  fs.mkdirSync(path.join(env.host, dir));
  // Sizes differ, so a stat answered for the wrong name shows.
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(env.host, dir, `e${i}`), 'x'.repeat(i % 50));
  fs.mkdirSync(path.join(env.host, dir, 'sub'));
  fs.symlinkSync('e1', path.join(env.host, dir, 'link'));
}

async function statAll(t: import('ava').ExecutionContext, env: Env, dir: string, names: string[]): Promise<void> {
  for (const n of names) {
    if (n === '.' || n === '..') continue;
    const st = await env.vfsObj.statAt(env.ctx, env.creds, env.pop(`${dir}/${n}`), {});
    const host = fs.lstatSync(path.join(env.host, dir, n));
    t.is(st.size, host.size, n);
    t.is(st.mode, host.mode, n);
    t.is(st.nlink, host.nlink, n);
  }
}

for (const b of backends()) {
  if (b.name === 'shared') continue; // shared mode revalidates every lookup: no walk-ahead
  test(`walk-ahead (${b.name}): stat in listing order answers as the host, in far fewer serial round trips`, async (t) => {
    const env = await b.make(t);
    makeFiles(env, 'd', 300);
    const names = await listDir(env, 'd');
    const b0 = batches(env);
    await statAll(t, env, 'd', names);
    const serial = batches(env) - b0;
    t.true(serial < names.length / 4, `serial round trips ${serial} for ${names.length - 2} stats`);
    await leakCheck(t, env);
  });
}

test('walk-ahead: the window stays within a quarter of a small dentry cache, which keeps its bound', async (t) => {
  const env = await newGoferRoot(t, { data: 'dentry_cache_limit=16' });
  makeFiles(env, 'd', 200);
  const names = await listDir(env, 'd');
  const b0 = batches(env);
  await statAll(t, env, 'd', names);
  const serial = batches(env) - b0;
  // Window at most 4: about a quarter of the lookups go to the server serially.
  t.true(serial >= (names.length - 2) / 4 - 2, `serial round trips ${serial}`);
  t.true(serial < names.length - 2, `serial round trips ${serial}`);
  await leakCheck(t, env);
});

test('walk-ahead: random order stats and a listing made stale by a change still answer as the host', async (t) => {
  const env = await newGoferRoot(t);
  makeFiles(env, 'd', 120);
  const names = await listDir(env, 'd');
  const shuffled = names.slice().sort((a, b) => (a.length * 31 + a.charCodeAt(a.length - 1)) % 17 - (b.length * 31 + b.charCodeAt(b.length - 1)) % 17);
  await statAll(t, env, 'd', shuffled.slice(0, 40));
  // A creation through the sandbox drops the cached listing; the names after
  // it are looked up as before.
  const fd = await openAt(env, 'd/new', linux.O_CREAT | linux.O_WRONLY);
  fd.decRef(env.ctx);
  await statAll(t, env, 'd', names);
  t.is(await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop('d/missing'), {})), 'ENOENT');
  // A name walked ahead and then unlinked through the sandbox is gone.
  await env.vfsObj.unlinkAt(env.ctx, env.creds, env.pop('d/e119'));
  t.is(await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop('d/e119'), {})), 'ENOENT');
  t.false(fs.existsSync(path.join(env.host, 'd', 'e119')));
  await leakCheck(t, env);
});

test('walk-ahead: a name removed from the host after the listing is a negative entry, its neighbours still resolve', async (t) => {
  const env = await newGoferRoot(t);
  makeFiles(env, 'd', 40);
  const names = (await listDir(env, 'd')).filter((n) => n !== '.' && n !== '..');
  // Exclusive mode does not expect this, but a walk that fails for one
  // name must not fail the lookup of another.
  const victim = names[10];
  fs.rmSync(path.join(env.host, 'd', victim), { recursive: true });
  for (const n of names) {
    const r = await errnoOf(env.vfsObj.statAt(env.ctx, env.creds, env.pop(`d/${n}`), {}));
    t.is(r, n === victim ? 'ENOENT' : 'ok', n);
  }
  await leakCheck(t, env);
});
