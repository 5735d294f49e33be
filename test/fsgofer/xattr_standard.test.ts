// user.* xattrs of a host directory through the standard 9P2000.L messages
// (Txattrwalk + Tread, Txattrcreate + Twrite + Tclunk): our client
// negotiated down to plain "9P2000.L" (as Linux's v9fs or diod's clients
// speak) against pkg/p9's server over pkg/fsgofer. What the client sees is
// compared with the host's own xattrs, read through pkg/fsgofer/syscalls.ts.
import test, { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import * as sc from '../../pkg/fsgofer/syscalls';
import { Client } from '../../pkg/p9/client';
import type { ClientFile } from '../../pkg/p9/client_file';
import * as syserror from '../../pkg/syserror/syserror';
import { serve, served } from './_harness';

interface env {
  dir: string;
  s: served;
  root: ClientFile;
}

async function setup(t: ExecutionContext, msize?: number): Promise<env> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-xattr-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'root');
  fs.mkdirSync(dir);
  fs.mkdirSync(path.join(dir, 'dir'));
  fs.writeFileSync(path.join(dir, 'file'), 'file content');
  fs.symlinkSync('file', path.join(dir, 'symlink'));
  const s = await serve(t, dir, base);
  const client = await Client.connect(s.address, msize === undefined ? { version: '9P2000.L' } : { version: '9P2000.L', msize });
  t.teardown(() => client.close());
  t.is(client.getVersion(), 0, 'plain 9P2000.L');
  const root = await client.attach('/', 0);
  return { dir, s, root };
}

async function walk1(root: ClientFile, name: string): Promise<ClientFile> {
  const [, f] = await root.walk([name]);
  return f;
}

// withFD runs fn on a host fd of p (read-only, as the host sees it).
function withFD<T>(p: string, fn: (fd: number) => T): T {
  const fd = fs.openSync(p, 'r');
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// hostGet is the host's value of name on p, or the LinuxError getxattr(2) gives.
function hostGet(p: string, name: string): string | syserror.LinuxError {
  return withFD(p, (fd) => {
    try {
      const n = sc.fgetxattr(fd, name, 0).n;
      return n === 0 ? '' : sc.fgetxattr(fd, name, n).value.toString('latin1');
    } catch (e) {
      if (e instanceof syserror.LinuxError) return e;
      throw e;
    }
  });
}

// hostList is the host's user.* names of p, sorted.
function hostList(p: string): string[] {
  return withFD(p, (fd) => {
    const n = sc.flistxattr(fd, 0).n;
    if (n === 0) return [];
    return sc
      .flistxattr(fd, n)
      .list.toString('latin1')
      .split('\0')
      .filter((s) => s.startsWith('user.'))
      .sort();
  });
}

for (const target of ['file', 'dir']) {
  test(`${target}: set, get, list, remove land on the host's xattrs (setxattr(2) family over Txattrcreate/Txattrwalk)`, async (t) => {
    const { dir, root } = await setup(t);
    const p = path.join(dir, target);
    const f = await walk1(root, target);
    const bin = 'a\x00\xff\x80b';
    await f.setXattr('user.bin', bin, 0);
    await f.setXattr('user.txt', 'text', linux.XATTR_CREATE);
    t.is(hostGet(p, 'user.bin'), bin, 'binary value survives');
    t.is(hostGet(p, 'user.txt'), 'text');
    t.is(await f.getXattr('user.bin', 0), bin);
    t.deepEqual([...(await f.listXattr(0))].sort(), hostList(p));
    t.deepEqual(hostList(p), ['user.bin', 'user.txt']);
    await f.setXattr('user.txt', 'replaced', linux.XATTR_REPLACE);
    t.is(hostGet(p, 'user.txt'), 'replaced');
    await f.removeXattr('user.bin');
    t.is(hostGet(p, 'user.bin'), syserror.ENODATA);
    t.deepEqual([...(await f.listXattr(0))], hostList(p));
    // Set on the host: seen by the client.
    withFD(p, (fd) => sc.fsetxattr(fd, 'user.host', Buffer.from('h'), 0));
    t.is(await f.getXattr('user.host', 0), 'h');
    t.deepEqual([...(await f.listXattr(0))].sort(), ['user.host', 'user.txt']);
  });
}

test('Linux errors: XATTR_CREATE on existing EEXIST, XATTR_REPLACE on missing ENODATA, get missing ENODATA, ERANGE; size 0 gives the size', async (t) => {
  const { dir, root } = await setup(t);
  const p = path.join(dir, 'file');
  const f = await walk1(root, 'file');
  await f.setXattr('user.k', 'value', 0);
  await t.throwsAsync(f.setXattr('user.k', 'other', linux.XATTR_CREATE), { is: syserror.EEXIST });
  await t.throwsAsync(f.setXattr('user.none', 'other', linux.XATTR_REPLACE), { is: syserror.ENODATA });
  t.is(hostGet(p, 'user.k'), 'value');
  t.is(hostGet(p, 'user.none'), syserror.ENODATA);
  await t.throwsAsync(f.getXattr('user.none', 0), { is: syserror.ENODATA });
  t.is((await f.getXattr('user.k', 0)).length, withFD(p, (fd) => sc.fgetxattr(fd, 'user.k', 0).n));
  await t.throwsAsync(f.getXattr('user.k', 4), { is: syserror.ERANGE });
  await t.throwsAsync(f.removeXattr('user.none'), { is: syserror.ENODATA });
  // Only user.* is served (fsgofer): other namespaces are refused by the host's rules.
  await t.throwsAsync(f.setXattr('trusted.k', 'v', 0));
});

test('a value longer than msize goes in several Tread/Twrite (xattr fids honour offsets)', async (t) => {
  const { dir, root } = await setup(t, 1024);
  const p = path.join(dir, 'file');
  const f = await walk1(root, 'file');
  let value = '';
  for (let i = 0; i < 3000; i++) value += String.fromCharCode(i % 256);
  await f.setXattr('user.big', value, 0);
  t.is(hostGet(p, 'user.big'), value);
  t.is(await f.getXattr('user.big', 0), value);
});

test('symlinks have no user.* xattrs (Linux xattr_permission): get ENODATA, set EPERM, empty list', async (t) => {
  const { root, s } = await setup(t);
  const l = await walk1(root, 'symlink');
  await t.throwsAsync(l.getXattr('user.k', 0), { is: syserror.ENODATA });
  await t.throwsAsync(l.setXattr('user.k', 'v', 0), { is: syserror.EPERM });
  t.deepEqual([...(await l.listXattr(0))], []);
  // Every xattr fid and clone was released.
  t.is(s.server.fidCount(), 2);
});
