// Interleavings of path operations with mounting and umounting (DESIGN
// decision 1: tasks interleave at awaits as goroutines do, and gVisor's
// mountMu / Dentry.mu order keeps each outcome consistent).

import test from 'ava';
import { O_RDONLY, S_IFDIR, S_IFMT, S_IFREG } from '../../../pkg/abi/linux/file';
import * as syserror from '../../../pkg/syserror/syserror';
import { newEnv } from './harness';

function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'ok', (err: unknown) => (err instanceof syserror.LinuxError ? err.code : String(err)));
}

test('concurrency: rmdir racing a mount on the same directory: exactly one wins', async (t) => {
  for (let round = 0; round < 20; round++) {
    const e = await newEnv();
    try {
      const { ctx, creds, vfsObj } = e;
      await vfsObj.mkdirAt(ctx, creds, e.pop('/d'), { mode: 0o755 });
      // Start both without awaiting in between; vary who starts first.
      const ops = round % 2 === 0
        ? [outcome(vfsObj.rmdirAt(ctx, creds, e.pop('/d'))), outcome(vfsObj.mountAt(ctx, creds, '', e.pop('/d'), 'testfs', {}))]
        : [outcome(vfsObj.mountAt(ctx, creds, '', e.pop('/d'), 'testfs', {})), outcome(vfsObj.rmdirAt(ctx, creds, e.pop('/d')))].reverse();
      const [rmdir, mount] = await Promise.all(ops);
      t.true((rmdir === 'ok' && mount === 'ENOENT') || (rmdir === 'EBUSY' && mount === 'ok'), `round ${round}: rmdir ${rmdir}, mount ${mount}`);
      if (mount === 'ok') await vfsObj.umountAt(ctx, creds, e.pop('/d'), {});
    } finally {
      e.teardown();
    }
  }
});

test('concurrency: many lookups across a mount while it is detached stay consistent', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mkdirAt(ctx, creds, e.pop('/m'), { mode: 0o755 });
  await vfsObj.mknodAt(ctx, creds, e.pop('/m/under'), { mode: S_IFREG | 0o644 });
  await vfsObj.mountAt(ctx, creds, '', e.pop('/m'), 'testfs', {});
  await vfsObj.mkdirAt(ctx, creds, e.pop('/m/over'), { mode: 0o755 });
  const lookups: Array<Promise<string>> = [];
  for (let i = 0; i < 50; i++) {
    lookups.push(outcome(vfsObj.statAt(ctx, creds, e.pop(i % 2 === 0 ? '/m/over' : '/m/under'), {}).then((s) => {
      if ((s.mode & S_IFMT) !== (i % 2 === 0 ? S_IFDIR : S_IFREG)) throw new Error('wrong file');
    })));
    if (i === 25) lookups.push(outcome(vfsObj.umountAt(ctx, creds, e.pop('/m'), { flags: 2 /* MNT_DETACH */ })));
  }
  const results = await Promise.all(lookups);
  // Each lookup saw either the mounted or the underlying tree, never a mix.
  for (const r of results) t.true(r === 'ok' || r === 'ENOENT', r);
  t.is(results.filter((r) => r !== 'ok' && r !== 'ENOENT').length, 0);
  // After the detach, the underlying file is visible again.
  const fd = await vfsObj.openAt(ctx, creds, e.pop('/m/under'), { flags: O_RDONLY });
  fd.decRef(ctx);
});

test('concurrency: renames racing on the same names keep the tree consistent', async (t) => {
  const e = await newEnv();
  t.teardown(() => e.teardown());
  const { ctx, creds, vfsObj } = e;
  await vfsObj.mkdirAt(ctx, creds, e.pop('/a'), { mode: 0o755 });
  await vfsObj.mkdirAt(ctx, creds, e.pop('/b'), { mode: 0o755 });
  await vfsObj.mknodAt(ctx, creds, e.pop('/a/f'), { mode: S_IFREG | 0o644 });
  const ops: Array<Promise<string>> = [];
  for (let i = 0; i < 40; i++) {
    ops.push(outcome(vfsObj.renameAt(ctx, creds, e.pop(i % 2 === 0 ? '/a/f' : '/b/f'), e.pop(i % 2 === 0 ? '/b/f' : '/a/f'), {})));
  }
  const results = await Promise.all(ops);
  for (const r of results) t.true(r === 'ok' || r === 'ENOENT', r);
  const inA = await outcome(vfsObj.statAt(ctx, creds, e.pop('/a/f'), {}));
  const inB = await outcome(vfsObj.statAt(ctx, creds, e.pop('/b/f'), {}));
  t.deepEqual([inA, inB].sort(), ['ENOENT', 'ok'], 'the file is in exactly one place');
});
