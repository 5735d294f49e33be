// The fd channel (pkg/p9/fdpass.ts): host fds of opened regular files go
// from the server (pkg/fsgofer files) to our client, gVisor's Rlopen /
// Rlcreate FilePayload. Pins: a donated fd is the host file with the open's
// access mode and no more; nothing is donated for directories, over TCP,
// with donation off at either end; a missing or wrong record fails that open
// with EIO (never a hang) and the connection goes on without donation.

import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Client } from '../../pkg/p9/client';
import { serverFDChannel } from '../../pkg/p9/fdpass';
import { ReadOnly, ReadWrite, WriteOnly } from '../../pkg/p9/p9';
import type { Attacher } from '../../pkg/p9/file';
import { Server } from '../../pkg/p9/server';
import { newAttachPoint, type Config } from '../../pkg/fsgofer/fsgofer';
import * as syserror from '../../pkg/syserror/syserror';
import type { ExecutionContext } from 'ava';

process.umask(0);

interface fixture {
  root: string;
  address: string;
  server: Server;
}

async function start(t: ExecutionContext, conf: Config = { roMount: false }, donateFDs = true, tcp = false): Promise<fixture> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpass-root-'));
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpass-sock-'));
  const attacher: Attacher = { attach: () => newAttachPoint(root, conf).attach() };
  const server = new Server(attacher, { donateFDs });
  let address = `unix:${path.join(sockDir, 'g.sock')}`;
  const l = await server.listen(tcp ? 'tcp:127.0.0.1:0' : address);
  if (tcp) {
    const a = l.address();
    if (a === null || typeof a !== 'object') throw new Error('no port');
    address = `tcp:127.0.0.1:${a.port}`;
  }
  t.teardown(async () => {
    await server.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(sockDir, { recursive: true, force: true });
  });
  return { root, address, server };
}

async function connect(t: ExecutionContext, f: fixture, fdChannel = true): Promise<Client> {
  const c = await Client.connect(f.address, { fdChannel });
  t.teardown(() => c.close());
  return c;
}

function errnoName(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function sameFile(t: ExecutionContext, fd: number, hostPath: string): void {
  const a = fs.fstatSync(fd);
  const b = fs.statSync(hostPath);
  t.is(a.ino, b.ino);
  t.is(a.dev, b.dev);
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

test.serial('Rlopen of a regular file brings its host fd with the access mode asked (gVisor Open → newFDMaybe)', async (t) => {
  const f = await start(t);
  fs.writeFileSync(path.join(f.root, 'a'), 'hello');
  const c = await connect(t, f);
  t.true(c.hasFDChannel());
  const root = await c.attach('/', 0);
  for (const [mode, canRead, canWrite] of [[ReadOnly, true, false], [WriteOnly, false, true], [ReadWrite, true, true]] as const) {
    const [, file] = await root.walk(['a']);
    const [fd] = await file.openFD(mode);
    t.true(fd >= 0, `mode ${mode}`);
    sameFile(t, fd, path.join(f.root, 'a'));
    const b = Buffer.alloc(5);
    t.is(errnoName(() => fs.readSync(fd, b, 0, 5, 0)), canRead ? 'OK' : 'EBADF', `read, mode ${mode}`);
    if (canRead) t.is(b.toString().toLowerCase(), 'hello');
    t.is(errnoName(() => fs.writeSync(fd, Buffer.from('H'), 0, 1, 0)), canWrite ? 'OK' : 'EBADF', `write, mode ${mode}`);
    fs.closeSync(fd);
    await file.close();
  }
  t.is(fs.readFileSync(path.join(f.root, 'a'), 'utf8'), 'Hello');
});

test.serial('Rlcreate brings the new file\'s fd; O_WRONLY create gets a write-only fd though the gofer holds it O_RDWR', async (t) => {
  const f = await start(t);
  const c = await connect(t, f);
  const root = await c.attach('/', 0);
  const [, dir] = await root.walk([]);
  const [fd, file] = await dir.createFD('w', WriteOnly, 0o644, 0, 0);
  t.true(fd >= 0);
  sameFile(t, fd, path.join(f.root, 'w'));
  t.is(errnoName(() => fs.readSync(fd, Buffer.alloc(1), 0, 1, 0)), 'EBADF');
  t.is(fs.writeSync(fd, Buffer.from('xyz'), 0, 3, 0), 3);
  t.is(fs.readFileSync(path.join(f.root, 'w'), 'utf8'), 'xyz');
  fs.closeSync(fd);
  await file.close();
});

test.serial('no fd for a directory, and none with donation off at the server, the gofer or the client, or over TCP', async (t) => {
  const cases: Array<[string, Config, boolean, boolean, boolean, boolean]> = [
    // name, conf, server donateFDs, client fdChannel, tcp, channel expected
    ['directory only', { roMount: false }, true, true, false, true],
    ['server donateFDs: false', { roMount: false }, false, true, false, false],
    ['fsgofer noDonate', { roMount: false, noDonate: true }, true, true, false, true],
    ['client fdChannel: false', { roMount: false }, true, false, false, false],
    ['tcp', { roMount: false }, true, true, true, false],
  ];
  for (const [name, conf, donate, fdChannel, tcp, channel] of cases) {
    const f = await start(t, conf, donate, tcp);
    fs.writeFileSync(path.join(f.root, 'a'), 'data');
    const c = await connect(t, f, fdChannel);
    t.is(c.hasFDChannel(), channel, name);
    const root = await c.attach('/', 0);
    const [, d] = await root.walk([]);
    const [dfd] = await d.openFD(ReadOnly);
    t.is(dfd, -1, `${name}: directory`);
    await d.close();
    const [, file] = await root.walk(['a']);
    const [fd] = await file.openFD(ReadWrite);
    if (name === 'directory only') {
      t.true(fd >= 0, name);
      fs.closeSync(fd);
    } else {
      t.is(fd, -1, `${name}: regular file`);
    }
    // 9P I/O works either way.
    const b = Buffer.alloc(4);
    t.is(await file.readAt(b, 0), 4);
    t.is(b.toString(), 'data');
    await file.close();
  }
});

test.serial('fault injection: a record with a wrong tag fails that open with EIO; later opens go on without fds', async (t) => {
  const f = await start(t);
  fs.writeFileSync(path.join(f.root, 'a'), 'data');
  const c = await connect(t, f);
  const root = await c.attach('/', 0);
  const orig = serverFDChannel.prototype.sendRecord;
  serverFDChannel.prototype.sendRecord = function (this: serverFDChannel, tag: number, hostFD: number): void {
    orig.call(this, (tag + 1) & 0xffff, hostFD);
  };
  t.teardown(() => {
    serverFDChannel.prototype.sendRecord = orig;
  });
  const [, file] = await root.walk(['a']);
  await t.throwsAsync(file.openFD(ReadOnly), { is: syserror.EIO });
  serverFDChannel.prototype.sendRecord = orig;
  t.false(c.hasFDChannel());
  await file.close();
  const [, again] = await root.walk(['a']);
  const [fd] = await again.openFD(ReadOnly);
  t.is(fd, -1);
  const b = Buffer.alloc(4);
  t.is(await again.readAt(b, 0), 4);
  await again.close();
});

test.serial('fault injection: a server that sends no record gives EIO, not a hang', async (t) => {
  const f = await start(t);
  fs.writeFileSync(path.join(f.root, 'a'), 'data');
  const c = await connect(t, f);
  const root = await c.attach('/', 0);
  const orig = serverFDChannel.prototype.sendRecord;
  serverFDChannel.prototype.sendRecord = function (): void {};
  t.teardown(() => {
    serverFDChannel.prototype.sendRecord = orig;
  });
  const [, file] = await root.walk(['a']);
  await t.throwsAsync(file.openFD(ReadWrite), { is: syserror.EIO });
  serverFDChannel.prototype.sendRecord = orig;
  await file.close();
  // The client dropped its end; the server drops its own at the next record.
  const [, again] = await root.walk(['a']);
  const [fd] = await again.openFD(ReadOnly);
  t.is(fd, -1);
  await again.close();
});

test.serial('every donated fd is closed: open and close many files, /proc/self/fd back where it was', async (t) => {
  const f = await start(t);
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(f.root, `f${i}`), `${i}`);
  const c = await connect(t, f);
  const root = await c.attach('/', 0);
  const before = fdCount();
  // open (not openFD) closes the donated fd itself; openFD's caller owns it.
  for (let i = 0; i < 20; i++) {
    const [, file] = await root.walk([`f${i}`]);
    await file.open(ReadOnly);
    await file.close();
    const [, g] = await root.walk([`f${i}`]);
    const [fd] = await g.openFD(ReadWrite);
    t.true(fd >= 0);
    fs.closeSync(fd);
    await g.close();
  }
  await f.server.settled();
  t.is(fdCount(), before);
});

test.serial('many opens in flight at once each get their own file\'s fd (records in reply order)', async (t) => {
  const f = await start(t);
  const n = 64;
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(f.root, `f${i}`), `content ${i}`);
  const c = await connect(t, f);
  const root = await c.attach('/', 0);
  const files = await Promise.all(Array.from({ length: n }, (_, i) => root.walk([`f${i}`]).then(([, file]) => file)));
  const opened = await Promise.all(files.map((file, i) => file.openFD(i % 2 === 0 ? ReadOnly : ReadWrite)));
  for (let i = 0; i < n; i++) {
    const fd = opened[i][0];
    t.true(fd >= 0);
    t.is(fs.readFileSync(fd, 'utf8'), `content ${i}`);
    fs.closeSync(fd);
  }
  await Promise.all(files.map((file) => file.close()));
});
