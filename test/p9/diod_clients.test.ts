// Interop: diod's own command-line clients, diodls and diodcat (built on
// diod's libnpclient, which speaks plain "9P2000.L"), list and read a tree
// served by our server over TCP from a MemFS.
//
// Known limit: `diodls -l` walks from a directory fid it has opened, and
// walks "." and ".."; gVisor's server refuses both (EBUSY, EINVAL), so only
// the plain listing is tested.

import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

import { Server } from '../../pkg/p9/server';
import { MemFS } from '../../pkg/p9/p9test/memfile';

const DIODLS = '/usr/sbin/diodls';
const DIODCAT = '/usr/sbin/diodcat';

function have(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<result> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 20000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

if (!have(DIODLS) || !have(DIODCAT)) {
  process.stderr.write('\n*** SKIPPED test/p9/diod_clients.test.ts: diod (diodls, diodcat) not installed ***\n\n');
  test('diod clients list and read a MemFS served by our server', (t) => {
    t.log('SKIPPED: diod not installed');
    t.pass();
  });
} else {
  // serve starts a server over a MemFS on an ephemeral TCP port.
  const serve = async (t: import('ava').ExecutionContext): Promise<{ server: Server; fs: MemFS; hostport: string }> => {
    const mfs = new MemFS();
    mfs.writeFile('hello.txt', 'hello from gvisor-fs-ts\n');
    mfs.writeFile('dir/inner.txt', 'inner\n');
    mfs.writeFile('dir/big.bin', Buffer.alloc(200_000, 'z'));
    mfs.mkdirAll('dir/sub');
    mfs.symlink('link', 'hello.txt');
    const server = new Server(mfs);
    t.teardown(() => server.close());
    const l = await server.listen('tcp:127.0.0.1:0');
    const a = l.address();
    if (a === null || typeof a !== 'object') throw new Error('no TCP address');
    return { server, fs: mfs, hostport: `127.0.0.1:${a.port}` };
  };

  test('diodls lists the root and a subdirectory (plain 9P2000.L, Tauth answered ENOENT)', async (t) => {
    const { server, hostport } = await serve(t);
    const root = await run(DIODLS, ['-s', hostport, '-a', '/']);
    t.is(root.code, 0, root.stderr);
    t.deepEqual(root.stdout.split('\n').filter((l) => l !== '').sort(), ['dir', 'hello.txt', 'link']);
    const dir = await run(DIODLS, ['-s', hostport, '-a', '/', '/dir']);
    t.is(dir.code, 0, dir.stderr);
    t.deepEqual(dir.stdout.split('\n').filter((l) => l !== '' && !l.endsWith(':')).sort(), ['big.bin', 'inner.txt', 'sub']);
    const missing = await run(DIODLS, ['-s', hostport, '-a', '/', '/nope']);
    t.not(missing.code, 0);
    t.regex(missing.stderr, /No such file or directory/);
    await server.waitIdle();
    t.is(server.fidCount(), 0, 'diodls clunked everything, or its disconnect released it');
  });

  test('diodcat reads files, including one larger than msize (several Tread)', async (t) => {
    const { server, hostport } = await serve(t);
    const r = await run(DIODCAT, ['-s', hostport, '-a', '/', '/hello.txt', 'dir/inner.txt']);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'hello from gvisor-fs-ts\ninner\n');
    const big = await run(DIODCAT, ['-s', hostport, '-a', '/', '-m', '8192', 'dir/big.bin']);
    t.is(big.code, 0, big.stderr);
    t.is(big.stdout.length, 200_000);
    t.true(/^z+$/.test(big.stdout));
    const sub = await run(DIODCAT, ['-s', hostport, '-a', '/dir', 'inner.txt']);
    t.is(sub.code, 0, sub.stderr);
    t.is(sub.stdout, 'inner\n', 'aname below the root');
    await server.waitIdle();
    t.is(server.fidCount(), 0);
  });
}
