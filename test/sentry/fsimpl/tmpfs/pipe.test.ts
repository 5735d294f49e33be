// gVisor's pkg/sentry/fsimpl/tmpfs/pipe_test.go: FIFOs made by mknod on
// tmpfs, opened through the VFS.
//
// Differs from gVisor's test: a blocking read of an empty FIFO waits here
// (the FD blocks, see named_pipe.ts) instead of returning EWOULDBLOCK, so
// emptiness is checked on a non-blocking description.

import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import { errnoOf, newTmpfsRoot, openAt, type Env } from './helpers';
import type * as vfs from '../../../../pkg/sentry/vfs';

const fileName = 'mypipe';

/** setup creates a VFS with a pipe in the root directory at fileName, and checks its mode. */
async function setup(t: Parameters<typeof newTmpfsRoot>[0]): Promise<Env> {
  const env = await newTmpfsRoot(t);
  await env.vfsObj.mknodAt(env.ctx, env.creds, env.pop(fileName), { mode: linux.S_IFIFO | 0o644 });
  const stat = await env.vfsObj.statAt(env.ctx, env.creds, env.pop(fileName, true), {});
  t.is(stat.mode & ~linux.S_IFMT, 0o644);
  t.is(stat.mode & linux.S_IFMT, linux.S_IFIFO);
  return env;
}

async function checkEmpty(t: Parameters<typeof newTmpfsRoot>[0], env: Env): Promise<void> {
  const probe = await openAt(env, fileName, linux.O_RDONLY | linux.O_NONBLOCK);
  t.is(await errnoOf(probe.read(env.ctx, Buffer.alloc(1))), 'EAGAIN');
  probe.decRef(env.ctx);
}

async function checkWrite(t: Parameters<typeof newTmpfsRoot>[0], env: Env, fd: vfs.FileDescription, msg: string): Promise<void> {
  t.is(await fd.write(env.ctx, Buffer.from(msg)), msg.length);
}

async function checkRead(t: Parameters<typeof newTmpfsRoot>[0], env: Env, fd: vfs.FileDescription, msg: string): Promise<void> {
  const buf = Buffer.alloc(msg.length);
  t.is(await fd.read(env.ctx, buf), msg.length);
  t.is(buf.toString(), msg);
}

// gVisor TestSeparateFDs: opening one end blocks until the other end opens.
test('SeparateFDs: a blocking O_RDONLY open waits for the writer', async (t) => {
  const env = await setup(t);
  let opened = false;
  const rfdP = openAt(env, fileName, linux.O_RDONLY).then((fd) => {
    opened = true;
    return fd;
  });
  await new Promise((r) => setImmediate(r));
  t.false(opened, 'the reader waits for a writer');
  const wfd = await openAt(env, fileName, linux.O_WRONLY);
  const rfd = await rfdP;
  t.teardown(() => {
    wfd.decRef(env.ctx);
    rfd.decRef(env.ctx);
  });
  await checkEmpty(t, env);
  await checkWrite(t, env, wfd, 'vamos azul');
  await checkRead(t, env, rfd, 'vamos azul');
});

// gVisor TestNonblockingRead.
test('NonblockingRead: O_RDONLY|O_NONBLOCK opens at once', async (t) => {
  const env = await setup(t);
  const rfd = await openAt(env, fileName, linux.O_RDONLY | linux.O_NONBLOCK);
  const wfd = await openAt(env, fileName, linux.O_WRONLY);
  t.teardown(() => {
    wfd.decRef(env.ctx);
    rfd.decRef(env.ctx);
  });
  t.is(await errnoOf(rfd.read(env.ctx, Buffer.alloc(1))), 'EAGAIN');
  await checkWrite(t, env, wfd, 'geh blau');
  await checkRead(t, env, rfd, 'geh blau');
});

// gVisor TestNonblockingWriteError.
test('NonblockingWriteError: O_WRONLY|O_NONBLOCK without a reader is ENXIO', async (t) => {
  const env = await setup(t);
  t.is(await errnoOf(openAt(env, fileName, linux.O_WRONLY | linux.O_NONBLOCK)), 'ENXIO');
});

// gVisor TestSingleFD.
test('SingleFD: O_RDWR opens without blocking and reads back its own writes', async (t) => {
  const env = await setup(t);
  const fd = await openAt(env, fileName, linux.O_RDWR);
  t.teardown(() => fd.decRef(env.ctx));
  await checkEmpty(t, env);
  await checkWrite(t, env, fd, 'forza blu');
  await checkRead(t, env, fd, 'forza blu');
  t.is(await errnoOf(fd.pread(env.ctx, Buffer.alloc(1), 0)), 'ESPIPE');
  t.is(await errnoOf(fd.seek(env.ctx, 0, linux.SEEK_SET)), 'ESPIPE');
});

test('a blocking read waits for data, then EOF once the writer closes', async (t) => {
  const env = await setup(t);
  const fd = await openAt(env, fileName, linux.O_RDWR);
  const rfd = await openAt(env, fileName, linux.O_RDONLY);
  t.teardown(() => rfd.decRef(env.ctx));
  const buf = Buffer.alloc(5);
  const p = rfd.read(env.ctx, buf);
  await new Promise((r) => setImmediate(r));
  await fd.write(env.ctx, Buffer.from('hello'));
  t.is(await p, 5);
  t.is(buf.toString(), 'hello');
  fd.decRef(env.ctx);
  t.is(await rfd.read(env.ctx, buf), 0, 'EOF without writers');
});

test('FIFO metadata is the tmpfs inode: fstat, chmod through the FD', async (t) => {
  const env = await setup(t);
  const fd = await openAt(env, fileName, linux.O_RDWR);
  t.teardown(() => fd.decRef(env.ctx));
  const st = await fd.stat(env.ctx, {});
  t.is(st.mode, linux.S_IFIFO | 0o644);
  t.is(st.size, 0);
});
