// Tests of the runner's comparison (pkg/conformance/exec.ts, tree.ts,
// runner.ts): normalized results, tree differences, the allowlist, and one
// end-to-end run on tmpfs against the host kernel (root and unprivileged).

import * as fs from 'node:fs';

import test from 'ava';

import type { CallSpec } from '../../pkg/conformance/calls';
import { runSteps, type Side, type SyscallArg } from '../../pkg/conformance/exec';
import { parseCases } from '../../pkg/conformance/parse';
import { mountsUnder, unescapeMountinfo } from '../../pkg/conformance/host';
import { allowed, firstDivergence, isIsolated, parseAllowlist, runSuite } from '../../pkg/conformance/runner';
import { diffTrees, formatTree } from '../../pkg/conformance/tree';

// fakeSide answers each call from a table (by name), writing into buffers as a kernel would.
function fakeSide(answers: Record<string, (args: SyscallArg[]) => number>, cwdPrefix = '/case0'): Side & { calls: Array<[string, SyscallArg[]]> } {
  const calls: Array<[string, SyscallArg[]]> = [];
  return {
    cwdPrefix,
    calls,
    call(spec: CallSpec, args: SyscallArg[]): number {
      calls.push([spec.name, args]);
      const f = answers[spec.name];
      return f === undefined ? -38 : f(args);
    },
  };
}

function steps(src: string) {
  const c = parseCases(`case t\n${src.split('\n').map((l) => `  ${l}`).join('\n')}`, 't', 't')[0]!;
  return c.setup;
}

test('results are normalized: errno names, fds by name, data, stat fields, getcwd relative', async (t) => {
  const statBuf = (b: Buffer): void => {
    b.writeBigUInt64LE(1n, 16); // nlink
    b.writeUInt32LE(0o100644, 24);
    b.writeUInt32LE(1000, 28);
    b.writeUInt32LE(1000, 32);
    b.writeBigInt64LE(5n, 48);
    b.writeBigInt64LE(100n, 88); // mtime set by a case: shown
    b.writeBigInt64LE(1_700_000_000n, 72); // atime "now": hidden
  };
  const side = fakeSide({
    openat: () => 42,
    read: (a) => {
      (a[1] as Buffer).write('hey', 'latin1');
      return 3;
    },
    fstat: (a) => {
      t.is(a[0], 42, '$fd0 is the number the side returned');
      statBuf(a[1] as Buffer);
      return 0;
    },
    getcwd: (a) => {
      (a[0] as Buffer).write('/case0/sub\0');
      return 11;
    },
    unlink: () => -2,
  });
  const r = await runSteps(steps('openat AT_FDCWD a O_RDONLY\nread $fd0 10\nfstat $fd0\ngetcwd 100\nunlink x'), side);
  t.deepEqual(r, [
    'fd',
    '3 "hey"',
    '0 {reg 0644 size=5 nlink=1 uid=1000 gid=1000 mtime=100.000000000}',
    '1 "./sub"',
    'ENOENT',
  ]);
});

test('a failed descriptor-making call leaves its $fd name unbound (EBADF on both sides)', async (t) => {
  const side = fakeSide({ openat: () => -13, close: (a) => (a[0] === 9999 ? -9 : 0) });
  t.deepEqual(await runSteps(steps('openat AT_FDCWD a O_RDONLY\nclose $fd0'), side), ['EACCES', 'EBADF']);
});

test('two sides with different descriptor numbers and prefixes compare equal', async (t) => {
  const mk = (fd: number, prefix: string) => fakeSide({
    openat: () => fd,
    write: (a) => (a[0] === fd ? (a[2] as number) : -9),
    getcwd: (a) => {
      (a[0] as Buffer).write(`${prefix}\0`);
      return prefix.length + 1;
    },
  }, prefix);
  const s = steps('openat AT_FDCWD a O_CREAT|O_WRONLY 0644\nwrite $fd0 "abc"\ngetcwd 4096');
  t.deepEqual(await runSteps(s, mk(3, '/case7')), await runSteps(s, mk(17, '/tmp/host/case7')));
});

test('readv/preadv show what each iovec received; writev passes one Buffer per iovec', async (t) => {
  const side = fakeSide({
    readv: (a) => {
      const iov = a[1] as Buffer[];
      iov[0]!.write('abc', 'latin1');
      iov[2]!.write('de', 'latin1');
      return 5;
    },
    preadv: (a) => (a[1] === null ? -14 : 0),
    writev: (a) => (a[1] as Buffer[]).reduce((n, b) => n + b.length, 0),
  });
  const r = await runSteps(steps('readv 3 [3,0,4,9]\npreadv 3 NULL 0\npreadv 3 [] 0\nwritev 3 ["ab","","c"]'), side);
  t.deepEqual(r, ['5 ["abc","","de",""]', 'EFAULT', '0 []', '3']);
  const w = side.calls[3]![1][1] as Buffer[];
  t.deepEqual(w.map((b) => b.toString()), ['ab', '', 'c']);
});

test('getcwd outside the root (after chroot) is "(unreachable)" and the path relative to the case directory', async (t) => {
  const mk = (prefix: string) => fakeSide({
    getcwd: (a) => {
      const s = `(unreachable)${prefix}/sub\0`;
      (a[0] as Buffer).write(s);
      return s.length;
    },
  }, prefix);
  const s = steps('getcwd 4096');
  t.deepEqual(await runSteps(s, mk('/case3')), ['1 "(unreachable)./sub"']);
  t.deepEqual(await runSteps(s, mk('/tmp/conformance-host-x/case3')), ['1 "(unreachable)./sub"']);
});

test('the isolated host worker finds the mounts left under a case directory, innermost first', (t) => {
  const info = [
    '22 1 0:20 / / rw - ext4 /dev/root rw',
    '40 22 0:40 / /tmp/h/case1/m rw - tmpfs none rw',
    '41 40 0:41 / /tmp/h/case1/m/n rw - tmpfs none rw',
    '42 22 0:42 / /tmp/h/case10 rw - tmpfs none rw',
    '43 22 0:43 / /tmp/h/case1/a\\040b rw - tmpfs none rw',
  ].join('\n');
  t.deepEqual(mountsUnder(info, '/tmp/h/case1'), ['/tmp/h/case1/a b', '/tmp/h/case1/m/n', '/tmp/h/case1/m']);
  t.is(unescapeMountinfo('a\\011b'), 'a\tb');
  const [plain, userChroot, rootChroot, uid0] = parseCases([
    'case p', '  mkdir d 0755',
    'case u', '  mkdir d 0755', '  as 1000:1000', '  chroot d',
    'case r', '  mkdir d 0755', '  chroot d', '  as 1000:1000', '  stat d',
    'case z as 0:1000', '  mount none d tmpfs 0 NULL',
  ].join('\n'), 'x', 'x');
  t.false(isIsolated(plain!));
  t.false(isIsolated(userChroot!), 'an unprivileged chroot changes nothing: an ordinary worker');
  t.true(isIsolated(rootChroot!));
  t.true(isIsolated(uid0!), 'uid 0 keeps its capabilities');
});

test('diffTrees reports each path whose line differs, and absent files', (t) => {
  const st = { mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 1, atime: [1_700_000_000, 0] as [number, number], mtime: [1_700_000_000, 0] as [number, number] };
  const a = formatTree([{ path: '.', stat: { ...st, mode: 0o40777 } }, { path: 'f', stat: st, content: 'x' }, { path: 'g', stat: st, content: 'y' }]);
  const b = formatTree([{ path: '.', stat: { ...st, mode: 0o40777, size: 4096 } }, { path: 'f', stat: st, content: 'z' }, { path: 'h', stat: st, content: 'y' }]);
  const d = diffTrees(a, b);
  t.deepEqual(d.map((x) => x.path), ['f', 'g', 'h'], 'a directory size is not compared');
  t.is(d[1]!.host, '(absent)');
  t.is(d[2]!.sandbox, '(absent)');
});

test('allowlist: patterns with *, restricted by mode', (t) => {
  const entries = parseAllowlist('# comment\n\nrename/*.noreplace when=9p gofer rejects flags\nio/x anything goes\n');
  t.is(allowed(entries, 'rename/file.new.noreplace', '9p,shared'), 'gofer rejects flags');
  t.is(allowed(entries, 'rename/file.new.noreplace', 'tmpfs'), null);
  t.is(allowed(entries, 'rename/file.new.plain', '9p,shared'), null);
  t.is(allowed(entries, 'io/x', 'tmpfs'), 'anything goes');
  t.is(allowed(entries, 'io/xy', 'tmpfs'), null);
  t.throws(() => parseAllowlist('lonely'), { message: /allowlist/ });
});

test('end to end on tmpfs: the host kernel as root and as an unprivileged user agrees', async (t) => {
  if (process.getuid?.() !== 0) {
    t.log('SKIPPED: the host side needs root to drop to another user');
    process.stderr.write('conformance runner test SKIPPED: not root\n');
    t.pass();
    return;
  }
  const cases = parseCases([
    'case write-read',
    '  openat AT_FDCWD a O_CREAT|O_RDWR 0640',
    '  write $fd0 "hi"',
    '  pread64 $fd0 10 10 0',
    '  mkdir d 0700',
    '  symlink a d/l',
    'case denied',
    '  mkdir d 0700',
    '  as 1000:1000',
    '  openat AT_FDCWD d/x O_CREAT|O_WRONLY 0600',
    '  mkdir mine 0755',
    '  stat mine',
    'case diverges',
    '  umask 0',
  ].join('\n'), 'e2e', 'e2e');
  const results = await runSuite({ fs: 'tmpfs', server: 'ours', interop: 'exclusive', cases, jobs: 2, allow: [] });
  t.is(results[0]!.status, 'pass', JSON.stringify(results[0]!.lines));
  t.is(results[1]!.status, 'pass', JSON.stringify(results[1]!.lines));
  t.is(results[1]!.lines[1]!.host, 'EACCES');
  t.is(results[1]!.lines[3]!.host, '0 {dir 0755 nlink=2 uid=1000 gid=1000}');
  // umask returns the previous mask: 022 in both, so this passes too.
  t.is(results[2]!.status, 'pass');
  t.is(firstDivergence(results[2]!), null);
});

test('end to end on tmpfs: chroot and mount cases run in an isolated host worker and are undone', async (t) => {
  if (process.getuid?.() !== 0) {
    t.log('SKIPPED: the host side needs root to chroot and mount');
    process.stderr.write('conformance runner test SKIPPED: not root\n');
    t.pass();
    return;
  }
  const cases = parseCases([
    'case chroot',
    '  mkdir d 0755',
    '  chroot d',
    '  chdir /',
    '  mkdir /inside 0700',
    '  getcwd 100',
    '  as 1000:1000',
    '  getcwd 100',
    '  chroot d',
    'case left-mounted',
    '  mkdir m 0755',
    '  mount none m tmpfs 0 NULL',
    '  openat AT_FDCWD m/f O_CREAT|O_WRONLY 0644',
    '  as 1000:1000',
    '  umount2 m 0',
  ].join('\n'), 'e2e', 'e2e');
  const results = await runSuite({ fs: 'tmpfs', server: 'ours', interop: 'exclusive', cases, jobs: 2, allow: [] });
  t.is(results[0]!.status, 'pass', JSON.stringify(results[0]));
  t.deepEqual(results[0]!.lines.map((l) => l.host), ['0', '0', '0', '0', '1 "/"', '1 "."', 'EPERM']);
  // The mount is gone on both sides before the trees are compared: m is empty.
  t.is(results[1]!.status, 'pass', JSON.stringify(results[1]));
  t.is(results[1]!.lines[3]!.host, 'EPERM');
  t.false(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes('conformance-host-'));
});
