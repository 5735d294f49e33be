// startGofer: the gofer as a child process (cmd/gofer) on a Unix socket over
// a fresh temp dir, mounted as the "9p" root as the kernel's default root
// will be.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as linux from '../../../../pkg/abi/linux';
import { startGofer } from '../../../../pkg/sentry/fsimpl/gofer';
import { newGoferRoot, openAt } from './helpers';

test('startGofer: a child gofer over a fresh temp dir, mounted and used, then stopped and cleaned up', async (t) => {
  const g = await startGofer();
  t.teardown(() => g.close());
  t.regex(g.address, /^unix:/);
  t.true(fs.statSync(g.root).isDirectory());
  const env = await newGoferRoot(t, { address: g.address, host: g.root });
  const fd = await openAt(env, 'hello', linux.O_CREAT | linux.O_WRONLY);
  await fd.write(env.ctx, Buffer.from('from the sandbox'));
  fd.decRef(env.ctx);
  t.is(fs.readFileSync(path.join(g.root, 'hello'), 'utf8'), 'from the sandbox');
  env.cleanup();
  await env.fs.settled();
  await env.fs.closed;
  await g.close();
  t.false(fs.existsSync(g.root), 'the temp dir it made is removed');
});
