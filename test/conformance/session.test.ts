// Tests of the sandbox tool's sessions (pkg/conformance/session.ts): call
// lines with their printed results, descriptor names, conveniences, errors.

import test from 'ava';

import { Sandbox } from '../../pkg/conformance/sandbox';
import { Session, helpText, modeString } from '../../pkg/conformance/session';

test('a session runs call lines and conveniences on tmpfs', async (t) => {
  const sb = await Sandbox.create({ fs: 'tmpfs', server: 'ours', interop: 'exclusive' });
  t.teardown(() => sb.close());
  const s = await Session.create(sb, {}, 'tmpfs on /');
  t.teardown(() => s.release());
  const table: Array<[string, string]> = [
    ['openat AT_FDCWD /a O_CREAT|O_WRONLY 0644', 'fd 0 ($fd0)'],
    ['write $fd0 "hello\\n"', '6'],
    ['close $fd0', '0'],
    ['stat /a', '0 {reg 0644 size=6 nlink=1 uid=0 gid=0}'],
    ['unlink /missing', 'ENOENT'],
    ['mkdir /d 0755', '0'],
    ['write /d/f "text"', '4 bytes'],
    ['symlink /a /d/l', '0'],
    ['ls /d', 'f\nl'],
    ['ls -l /d', '-rw-r--r--   1     0     0        4 f\nlrwxrwxrwx   1     0     0        2 l -> /a'],
    ['cat /a', 'hello\n'],
    ['cat /nope', 'cat: /nope: ENOENT'],
    ['pipe2 0', '0 0 ($fd1), 1 ($fd2)'],
    ['mount', 'tmpfs on /'],
  ];
  for (const [line, want] of table) t.is(await s.exec(line), want, line);
  await t.throwsAsync(s.exec('frob 1'), { message: /unknown command: frob/ });
  await t.throwsAsync(s.exec('chmod /a O_BOGUS'), { message: /unknown constant/ });
});

test('a session runs as the given user and umask', async (t) => {
  const sb = await Sandbox.create({ fs: 'tmpfs', server: 'ours', interop: 'exclusive' });
  t.teardown(() => sb.close());
  const root = await Session.create(sb, {}, '');
  t.is(await root.exec('mkdir /locked 0700'), '0');
  await root.release();
  const s = await Session.create(sb, { uid: 1000, gid: 1000, umask: 0o077 }, '');
  t.teardown(() => s.release());
  t.is(await s.exec('openat AT_FDCWD /locked/x O_CREAT|O_WRONLY 0666'), 'EACCES');
  t.is(await s.exec('mkdir /mine 0777'), '0');
  t.is(await s.exec('stat /mine'), '0 {dir 0700 nlink=2 uid=1000 gid=1000}');
});

test('modeString renders modes as ls -l', (t) => {
  t.is(modeString(0o40755), 'drwxr-xr-x');
  t.is(modeString(0o104755), '-rwsr-xr-x');
  t.is(modeString(0o102644), '-rw-r-Sr--');
  t.is(modeString(0o41777), 'drwxrwxrwt');
  t.is(modeString(0o120777), 'lrwxrwxrwx');
  t.regex(helpText(), /openat AT_FDCWD/);
});
