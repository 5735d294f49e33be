// The gofer filesystem, unchanged, over diod (a plain 9P2000.L server with
// none of gVisor's extensions: no Twalkgetattr, Tucreate, Tmultigetattr,
// Trenameat/Tunlinkat): the same operations as filesystem.test.ts, in
// exclusive and shared mode, compared with the host directory diod serves.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { STATX_MODE, STATX_SIZE } from '../../../../pkg/abi/linux/stat';
import { haveDiod, startDiod } from '../../../p9/client_util';
import { errnoOf, listDir, newGoferRoot, openAt, tmpDir, type Env } from './helpers';
import type { ExecutionContext } from 'ava';

async function overDiod(t: ExecutionContext, data = ''): Promise<Env> {
  const host = tmpDir(t, 'gofer-diod-');
  const diod = await startDiod(host);
  t.teardown(() => diod.stop());
  return newGoferRoot(t, { address: diod.address, host, data: `aname=${host},msize=65536${data === '' ? '' : `,${data}`}` });
}

function zeroStat(): import('../../../../pkg/abi/linux/stat').Statx {
  return {
    mask: 0, blksize: 0, attributes: 0, nlink: 0, uid: 0, gid: 0, mode: 0, ino: 0, size: 0, blocks: 0, attributesMask: 0,
    atime: { sec: 0, nsec: 0 }, btime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 },
    rdevMajor: 0, rdevMinor: 0, devMajor: 0, devMinor: 0,
  };
}

if (!haveDiod()) {
  process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): test/sentry/fsimpl/gofer/diod.test.ts ***\n\n');
  test('gofer filesystem over diod', (t) => {
    t.log('SKIPPED: diod not installed');
    t.pass();
  });
} else {
  test('diod: create, write, read, stat, mkdir, readdir, rename, link, symlink, setattr, unlink, rmdir', async (t) => {
    const env = await overDiod(t);
    t.is(env.fs.client!.version, 0, 'plain 9P2000.L');
    const { ctx, creds, vfsObj } = env;
    const h = (p: string): string => path.join(env.host, p);
    const fd = await openAt(env, 'f', linux.O_RDWR | linux.O_CREAT | linux.O_EXCL, 0o640);
    const data = Buffer.alloc(200000, 7);
    t.is(await fd.write(ctx, data), data.length);
    const back = Buffer.alloc(data.length + 10);
    t.is(await fd.pread(ctx, back, 0), data.length);
    t.true(back.subarray(0, data.length).equals(data));
    fd.decRef(ctx);
    t.is(fs.statSync(h('f')).size, data.length);
    const st = await vfsObj.statAt(ctx, creds, env.pop('f'), {});
    t.is(st.size, data.length);
    t.is(st.mode, fs.statSync(h('f')).mode);
    await vfsObj.mkdirAt(ctx, creds, env.pop('d'), { mode: 0o755 });
    await vfsObj.renameAt(ctx, creds, env.pop('f'), env.pop('d/g'), {});
    t.true(fs.existsSync(h('d/g')));
    t.deepEqual((await listDir(env, 'd')).sort(), ['.', '..', 'g']);
    await vfsObj.linkAt(ctx, creds, env.pop('d/g'), env.pop('d/hard'));
    t.is(fs.statSync(h('d/hard')).nlink, 2);
    t.is((await vfsObj.statAt(ctx, creds, env.pop('d/g'), {})).nlink, 2);
    await vfsObj.symlinkAt(ctx, creds, env.pop('d/s'), 'g');
    t.is(await vfsObj.readlinkAt(ctx, creds, env.pop('d/s')), 'g');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('d/s', true), {})).size, data.length);
    await vfsObj.setStatAt(ctx, creds, env.pop('d/g'), { stat: { ...zeroStat(), mask: STATX_MODE | STATX_SIZE, mode: 0o600, size: 10 } });
    t.is(fs.statSync(h('d/g')).mode & 0o7777, 0o600);
    t.is(fs.statSync(h('d/g')).size, 10);
    t.is(await errnoOf(vfsObj.rmdirAt(ctx, creds, env.pop('d'))), 'ENOTEMPTY');
    t.is(await errnoOf(vfsObj.unlinkAt(ctx, creds, env.pop('d'))), 'EISDIR');
    for (const n of ['g', 'hard', 's']) await vfsObj.unlinkAt(ctx, creds, env.pop(`d/${n}`));
    await vfsObj.rmdirAt(ctx, creds, env.pop('d'));
    t.deepEqual(fs.readdirSync(env.host), []);
    await env.fs.settled();
    t.true(env.fs.cachedDentriesLen <= env.fs.opts.maxCachedDentries);
  });

  test('diod: shared mode sees host changes on the next lookup (a walk per component)', async (t) => {
    const env = await overDiod(t, 'cache=remote_revalidating');
    const { ctx, creds, vfsObj } = env;
    fs.mkdirSync(path.join(env.host, 'a/b/c'), { recursive: true });
    t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('a/b/c/x'), {})), 'ENOENT');
    fs.writeFileSync(path.join(env.host, 'a/b/c/x'), 'abc');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('a/b/c/x'), {})).size, 3);
    fs.appendFileSync(path.join(env.host, 'a/b/c/x'), 'de');
    t.is((await vfsObj.statAt(ctx, creds, env.pop('a/b/c/x'), {})).size, 5);
    fs.rmSync(path.join(env.host, 'a/b'), { recursive: true });
    t.is(await errnoOf(vfsObj.statAt(ctx, creds, env.pop('a/b/c/x'), {})), 'ENOENT');
  });
}
