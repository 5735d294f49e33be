// tmpfs against the host kernel's tmpfs: the same call sequences through the
// syscall layer on a task whose root is our tmpfs, and through libc on a
// host directory (a host tmpfs when this process may mount one), results
// and errno compared (DESIGN decision 9). The harness is the syscall
// layer's (test/sentry/syscalls/linux/oracle.ts); these cases are the
// tmpfs-specific ones: file data and sizes, link counts, directory moves,
// set-id bits, special files, xattrs on each file type.

import test from 'ava';
import {
  O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RENAME_NOREPLACE, S_IFCHR, S_IFDIR, S_IFIFO,
  S_IFREG, S_IFSOCK, SEEK_CUR, SEEK_END, SEEK_SET, XATTR_CREATE,
} from '../../../../pkg/abi/linux/file';
import { errnoName } from '../../../../pkg/abi/linux/errors';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { canSetpriv, HostDir, runHost, runHostAs, runSandbox, type Op, type Result } from '../../syscalls/linux/oracle';

const NOBODY = 65534;

interface Case {
  name: string;
  setup?: Op[];
  ops: Op[];
  asUser?: boolean;
}

const cases: Case[] = [
  {
    name: 'regular file data: write, lseek, ftruncate, O_APPEND, holes',
    ops: [
      ['open', 'f', 'f', O_CREAT | O_RDWR, 0o644], ['write', 'f', 'hello world'], ['lseek', 'f', 0, SEEK_END],
      ['lseek', 'f', -5, SEEK_CUR], ['read', 'f', 100], ['ftruncate', 'f', 5], ['fstat', 'f'], ['lseek', 'f', 0, SEEK_SET],
      ['read', 'f', 100], ['ftruncate', 'f', 8], ['lseek', 'f', 0, SEEK_SET], ['read', 'f', 100],
      ['lseek', 'f', 20, SEEK_SET], ['write', 'f', 'x'], ['fstat', 'f'], ['lseek', 'f', 8, SEEK_SET], ['read', 'f', 100],
      ['open', 'a', 'f', O_WRONLY | O_APPEND, 0], ['write', 'a', 'END'], ['fstat', 'a'], ['lseek', 'f', -3, SEEK_END],
      ['read', 'f', 10], ['lseek', 'f', -100, SEEK_SET], ['close', 'a'],
      ['open', 't', 'f', O_RDWR | O_TRUNC, 0], ['fstat', 't'], ['close', 't'], ['truncate', 'f', 3], ['stat', 'f'],
      ['open', 'd', '.', O_RDONLY, 0], ['ftruncate', 'd', 0], ['read', 'd', 10], ['close', 'd'], ['close', 'f'],
    ],
  },
  {
    name: 'hard links: nlink, shared data, directories, renames between links',
    setup: [['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['write', 'f', 'data'], ['close', 'f'], ['mkdir', 'd', 0o755]],
    ops: [
      ['link', 'f', 'g'], ['stat', 'f'], ['link', 'f', 'd/h'], ['stat', 'g'], ['link', 'd', 'd2'], ['link', 'f', 'g'],
      ['rename', 'f', 'g', 0], ['stat', 'f'], ['stat', 'g'], ['rename', 'f', 'g', RENAME_NOREPLACE], ['unlink', 'g'],
      ['stat', 'f'], ['open', 'r', 'd/h', O_RDONLY, 0], ['read', 'r', 10], ['close', 'r'], ['unlink', 'f'], ['stat', 'd/h'],
      ['link', 'missing', 'x'], ['link', 'd/h', 'd/h'],
    ],
  },
  {
    name: 'directories: nlink through mkdir, rmdir and moves across parents',
    setup: [['mkdir', 'a', 0o755], ['mkdir', 'a/b', 0o755], ['mkdir', 'c', 0o755], ['mkdir', 'e', 0o755]],
    ops: [
      ['stat', 'a'], ['rename', 'a/b', 'c/b', 0], ['stat', 'a'], ['stat', 'c'], ['rename', 'c', 'a', 0], ['stat', 'a'],
      ['stat', 'a/b'], ['rename', 'e', 'a/b', 0], ['stat', 'a'], ['rename', 'a', 'a/b/x', 0], ['rmdir', 'a'],
      ['rmdir', 'a/b'], ['stat', 'a'], ['rmdir', 'a'], ['stat', '.'], ['mkdir', 'a', 0o755], ['rename', '.', 'z', 0],
      ['rename', 'a', '.', 0], ['rename', 'a', '..', 0],
    ],
  },
  {
    name: 'set-id bits: chown drops them, chmod keeps them for root',
    ops: [
      ['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'],
      ['chmod', 'f', 0o6755], ['stat', 'f'], ['chown', 'f', 1000, 1000], ['stat', 'f'],
      ['chmod', 'f', 0o6745], ['chown', 'f', 1001, 1001], ['stat', 'f'],
      ['chmod', 'f', 0o2644], ['chown', 'f', 0, 0], ['stat', 'f'],
      ['mkdir', 'd', 0o755], ['chmod', 'd', 0o3777], ['chown', 'd', 1000, 1000], ['stat', 'd'],
      ['mkdir', 'd/sub', 0o755], ['stat', 'd/sub'], ['open', 'g', 'd/g', O_CREAT | O_WRONLY, 0o2755], ['close', 'g'], ['stat', 'd/g'],
    ],
  },
  {
    name: 'special files: FIFOs, sockets, devices, and what opening them does',
    ops: [
      ['mknod', 'p', S_IFIFO | 0o644], ['stat', 'p'], ['open', 'p', 'p', O_RDWR, 0], ['write', 'p', 'abc'],
      ['read', 'p', 10], ['lseek', 'p', 0, SEEK_SET], ['fstat', 'p'], ['close', 'p'],
      ['mknod', 's', S_IFSOCK | 0o644], ['stat', 's'], ['open', 's', 's', O_RDONLY, 0],
      ['mknod', 'c', S_IFCHR | 0o644], ['stat', 'c'], ['mknod', 'r', S_IFREG | 0o600], ['stat', 'r'],
      ['mknod', 'dd', S_IFDIR | 0o755], ['mknod', 'p', S_IFIFO | 0o644],
      ['open', 'x', 'p', O_CREAT | O_EXCL | O_RDWR, 0o644],
    ],
  },
  {
    name: 'special files as an unprivileged user: devices need CAP_MKNOD',
    asUser: true,
    ops: [
      ['mknod', 'c', S_IFCHR | 0o644], ['mknod', 'p', S_IFIFO | 0o644], ['mknod', 's', S_IFSOCK | 0o600], ['stat', 'p'],
    ],
  },
  {
    name: 'user xattrs by file type',
    setup: [
      ['open', 'f', 'f', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'd', 0o755], ['mknod', 'p', S_IFIFO | 0o644],
      ['symlink', 'f', 'l'], ['mkdir', 'sticky', 0o1777],
    ],
    ops: [
      ['setxattr', 'f', 'user.a', 'v', 0], ['setxattr', 'd', 'user.a', 'v', 0], ['setxattr', 'p', 'user.a', 'v', 0],
      ['getxattr', 'p', 'user.a'], ['setxattr', 'l', 'user.b', 'w', XATTR_CREATE], ['getxattr', 'f', 'user.b'],
      ['listxattr', 'f'], ['setxattr', 'sticky', 'user.s', 'v', 0], ['getxattr', 'sticky', 'user.s'],
      ['setxattr', 'f', 'trusted.t', 'v', 0], ['getxattr', 'f', 'trusted.t'],
    ],
  },
  {
    name: 'xattrs as an unprivileged user: trusted.*, sticky directories, permissions',
    asUser: true,
    setup: [
      ['open', 'f', 'f', O_CREAT | O_WRONLY, 0o666], ['close', 'f'], ['setxattr', 'f', 'trusted.t', 'v', 0],
      ['open', 'ro', 'ro', O_CREAT | O_WRONLY, 0o644], ['close', 'ro'], ['setxattr', 'ro', 'user.r', 'v', 0],
      ['mkdir', 'sticky', 0o1777], ['mkdir', 'open', 0o777],
    ],
    ops: [
      ['setxattr', 'f', 'user.a', 'v', 0], ['getxattr', 'f', 'user.a'], ['getxattr', 'f', 'trusted.t'],
      ['setxattr', 'f', 'trusted.u', 'v', 0], ['getxattr', 'ro', 'user.r'], ['setxattr', 'ro', 'user.r', 'w', 0],
      ['setxattr', 'sticky', 'user.s', 'v', 0], ['setxattr', 'open', 'user.o', 'v', 0], ['removexattr', 'ro', 'user.r'],
    ],
  },
  {
    name: 'create and open: O_CREAT on directories and through symlinks',
    setup: [['mkdir', 'd', 0o755], ['symlink', 'd', 'ld'], ['symlink', 'nowhere/x', 'bad'], ['symlink', 'made', 'dangling']],
    ops: [
      ['open', 'a', 'd', O_CREAT | O_RDONLY, 0o644], ['open', 'b', 'ld', O_CREAT | O_RDONLY, 0o644],
      ['open', 'c', 'bad', O_CREAT | O_WRONLY, 0o644], ['open', 'e', 'dangling', O_CREAT | O_WRONLY, 0o640],
      ['close', 'e'], ['stat', 'made'], ['open', 'g', 'dangling', O_CREAT | O_EXCL | O_WRONLY, 0o640],
      ['open', 'h', 'd/.', O_CREAT | O_RDONLY, 0o644], ['open', 'i', '.', O_CREAT | O_RDONLY, 0o644],
    ],
  },
  {
    name: 'metadata as an unprivileged user: chmod, chown, truncate, utimes, access on others\' files',
    asUser: true,
    setup: [
      ['open', 'f', 'rootfile', O_CREAT | O_WRONLY, 0o644], ['write', 'f', 'abc'], ['close', 'f'],
      ['open', 'w', 'writable', O_CREAT | O_WRONLY, 0o644], ['close', 'w'], ['chmod', 'writable', 0o666],
      ['mkdir', 'rodir', 0o755], ['symlink', 'rootfile', 'link'],
    ],
    ops: [
      ['chmod', 'rootfile', 0o777], ['chown', 'rootfile', NOBODY, NOBODY], ['truncate', 'rootfile', 0],
      ['truncate', 'writable', 1], ['stat', 'writable'], ['utimens', 'writable'], ['utimens', 'rootfile'],
      ['access', 'rootfile', 4], ['access', 'rootfile', 2], ['access', 'writable', 6], ['access', 'rodir', 3],
      ['open', 't', 'rootfile', O_RDONLY | O_TRUNC, 0], ['open', 'mine', 'mine', O_CREAT | O_WRONLY, 0o600],
      ['chown', 'mine', NOBODY, NOBODY], ['chown', 'mine', 0, NOBODY], ['chmod', 'mine', 0o4755], ['stat', 'mine'],
      ['write', 'mine', 'x'], ['fstat', 'mine'], ['close', 'mine'], ['lchown', 'link', NOBODY, NOBODY],
      ['mkdir', 'rodir/x', 0o755], ['unlink', 'rootfile'], ['rename', 'mine', 'rodir/mine', 0],
    ],
  },
  {
    name: 'directory reads and special opens',
    setup: [['mkdir', 'd', 0o755], ['open', 'f', 'd/a', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['mkdir', 'd/b', 0o755], ['mknod', 'p', S_IFIFO | 0o644]],
    ops: [
      ['open', 'd', 'd', O_RDONLY, 0], ['getdents', 'd'], ['getdents', 'd'], ['lseek', 'd', 0, SEEK_SET], ['getdents', 'd'],
      ['read', 'd', 10], ['write', 'd', 'x'], ['fstat', 'd'], ['close', 'd'], ['open', 'w', 'd', O_WRONLY, 0],
      ['open', 'x', 'd', O_RDWR | O_TRUNC, 0], ['open', 'q', 'p', O_RDWR | O_TRUNC, 0], ['fstat', 'q'], ['close', 'q'],
      ['unlink', 'd/a'], ['open', 'e', 'd', O_RDONLY, 0], ['getdents', 'e'], ['close', 'e'],
    ],
  },
];

interface Setup {
  k: Kernel;
  host: HostDir;
}

let setupPromise: Promise<Setup> | null = null;

function getSetup(): Promise<Setup> {
  setupPromise ??= (async () => {
    const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
    const root = await k.newTask();
    await root.fs.mkdir('/w', 0o755);
    await root.release();
    return { k, host: new HostDir() };
  })();
  return setupPromise;
}

test.after.always(async () => {
  if (setupPromise === null) return;
  const { k, host } = await setupPromise;
  await k.release();
  host.cleanup();
});

function norm(r: Result | undefined): Result | undefined {
  return typeof r === 'number' && r < 0 ? errnoName(-r) : r;
}

let caseNo = 0;

for (const c of cases) {
  test(`tmpfs vs host: ${c.name}`, async (t) => {
    if (c.asUser && !canSetpriv()) {
      t.log('SKIPPED: the host side needs root and /usr/bin/setpriv to run as an unprivileged user');
      process.stderr.write(`SKIPPED tmpfs differential "${c.name}": not root or no setpriv\n`);
      t.pass();
      return;
    }
    const { k, host } = await getSetup();
    const dirName = `t${caseNo++}`;
    const rootTask = await k.newTask();
    await rootTask.fs.mkdir(`/w/${dirName}`, 0o777);
    await rootTask.fs.chmod(`/w/${dirName}`, 0o777);
    await rootTask.release();
    const setupTask = await k.newTask({ cwd: `/w/${dirName}` });
    const sandboxSetup = await runSandbox(setupTask, c.setup ?? []);
    await setupTask.release();
    const opsTask = await k.newTask(c.asUser ? { uid: NOBODY, gid: NOBODY, cwd: `/w/${dirName}` } : { cwd: `/w/${dirName}` });
    const sandbox = await runSandbox(opsTask, c.ops);
    await opsTask.release();

    const dir = host.sub(dirName);
    const hostSetup = runHost(dir, c.setup ?? []);
    const hostRes = c.asUser ? runHostAs(dir, c.ops, NOBODY, NOBODY) : runHost(dir, c.ops);

    t.deepEqual(sandboxSetup.map(norm), hostSetup.map(norm), 'setup');
    const mismatches: string[] = [];
    c.ops.forEach((op, i) => {
      const a = JSON.stringify(norm(sandbox[i]));
      const b = JSON.stringify(norm(hostRes[i]));
      if (a !== b) mismatches.push(`#${i} ${JSON.stringify(op)}: sandbox ${a}, host ${b}`);
    });
    if (!host.tmpfs) t.log('host side on the temp directory\'s filesystem (no tmpfs mount)');
    t.deepEqual(mismatches, []);
  });
}
