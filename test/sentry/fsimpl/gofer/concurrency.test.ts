// Many tasks at once on one gofer filesystem, interleaving at every await
// as goroutines interleave in gVisor: creates, stats, renames, unlinks and
// listings race over a small tree with a tiny dentry cache (so evictions
// happen while other operations hold renameMu and dirMu). Nothing deadlocks,
// no invariant breaks, the host agrees at the end, and no fid leaks.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { LinuxError } from '../../../../pkg/syserror/syserror';
import { leakCheck, listDir, newGoferRoot, openAt, type Env } from './helpers';

const expected = new Set(['ENOENT', 'EEXIST', 'ENOTEMPTY', 'EISDIR', 'ENOTDIR', 'EINVAL', 'EBUSY']);

async function worker(env: Env, id: number, rounds: number): Promise<number> {
  let ok = 0;
  const { ctx, creds, vfsObj } = env;
  let seed = id * 7919 + 1;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const name = (): string => `d${rnd(3)}/f${rnd(6)}`;
  for (let i = 0; i < rounds; i++) {
    try {
      switch (rnd(7)) {
        case 0: {
          const fd = await openAt(env, name(), linux.O_CREAT | linux.O_RDWR);
          await fd.write(ctx, Buffer.from(`w${id}`));
          fd.decRef(ctx);
          break;
        }
        case 1:
          await vfsObj.statAt(ctx, creds, env.pop(name()), {});
          break;
        case 2:
          await vfsObj.renameAt(ctx, creds, env.pop(name()), env.pop(name()), {});
          break;
        case 3:
          await vfsObj.unlinkAt(ctx, creds, env.pop(name()));
          break;
        case 4:
          await listDir(env, `d${rnd(3)}`);
          break;
        case 5:
          await vfsObj.mkdirAt(ctx, creds, env.pop(`d${rnd(3)}/sub`), { mode: 0o755 });
          break;
        case 6:
          await vfsObj.rmdirAt(ctx, creds, env.pop(`d${rnd(3)}/sub`));
          break;
      }
      ok++;
    } catch (err) {
      if (!(err instanceof LinuxError) || !expected.has(err.code)) throw err;
    }
  }
  return ok;
}

for (const data of ['dentry_cache_limit=4', 'cache=remote_revalidating,dentry_cache_limit=4']) {
  test(`concurrent tasks (${data}): no deadlock, the client agrees with the host, no leak`, async (t) => {
    const env = await newGoferRoot(t, { data });
    for (const d of ['d0', 'd1', 'd2']) fs.mkdirSync(path.join(env.host, d));
    const oks = await Promise.all(Array.from({ length: 12 }, (_, i) => worker(env, i, 60)));
    t.true(oks.reduce((a, b) => a + b, 0) > 12 * 60 / 3, `successful operations: ${oks.join(',')}`);
    await env.fs.settled();
    for (const d of ['d0', 'd1', 'd2']) {
      const ours = (await listDir(env, d)).filter((x) => x !== '.' && x !== '..').sort();
      t.deepEqual(ours, fs.readdirSync(path.join(env.host, d)).sort(), d);
      for (const n of ours) {
        const st = await env.vfsObj.statAt(env.ctx, env.creds, env.pop(`${d}/${n}`), {});
        t.is(st.size, fs.statSync(path.join(env.host, d, n)).size, `${d}/${n}`);
      }
    }
    await leakCheck(t, env);
  });
}
