// Tests of the pjdfstest contract (pkg/conformance/pjdfstest.ts) against
// pjdfstest.c's output format: "0" per successful call, an errno name and
// exit status 1 on the first failure, stat fields joined by commas,
// descriptors by position in the chain, options -U/-u/-g.

import test from 'ava';

import { Kernel } from '../../pkg/sentry/kernel/kernel';
import { runPjdfstest, strtoll } from '../../pkg/conformance/pjdfstest';

test('pjdfstest command lines: output and status as pjdfstest.c prints them', async (t) => {
  const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
  t.teardown(() => k.release());
  const run = (cmd: string) => runPjdfstest(k, cmd.split(' '), '/');
  const table: Array<[string, string | RegExp, number]> = [
    ['mkdir d 0755', '0\n', 0],
    ['stat d type,mode,uid,gid,nlink', 'dir,0755,0,0,2\n', 0],
    ['mkdir d 0755', 'EEXIST\n', 1],
    ['open f O_CREAT,O_WRONLY 0644 : write 0 hello : fstat 0 size,mode,type', '0\n0\n5,0644,regular\n', 0],
    ['open f O_RDONLY 0644', '', 1], // too many arguments without O_CREAT: usage error, no output
    ['-U 077 create g 0777 : stat g mode', '0\n0700\n', 0],
    ['create g 0644', 'EEXIST\n', 1],
    ['mkfifo p 0644 : lstat p type,mode', '0\nfifo,0644\n', 0],
    ['mknod n o 0600 0 0 : stat n type', '0\nregular\n', 0],
    ['symlink f l : lstat l type : stat l type', '0\nsymlink\nregular\n', 0],
    ['link f h : stat f nlink', '0\n2\n', 0],
    ['unlink h : rename l l2 : lstat l2 type', '0\n0\nsymlink\n', 0],
    ['chmod f 04755 : stat f mode', '0\n04755\n', 0],
    ['chown f 10 20 : stat f uid,gid', '0\n10,20\n', 0],
    ['-u 65534 -g 65534 mkdir d/x 0755', 'EACCES\n', 1],
    ['-u 65534 -g 65534,65533 chown f -1 65533', 'EPERM\n', 1],
    ['truncate f 3 : stat f size', '0\n3\n', 0],
    ['open d O_RDONLY,O_DIRECTORY : openat 0 x O_CREAT,O_RDWR 0600 : fstat 1 mode : unlinkat 0 x none', '0\n0\n0600\n0\n', 0],
    ['unlinkat AT_FDCWD d AT_REMOVEDIR', '0\n', 0],
    ['fstatat AT_FDCWD l2 AT_SYMLINK_NOFOLLOW type', 'symlink\n', 0],
    ['pathconf f _PC_NAME_MAX : pathconf f _PC_SYMLINK_MAX', '255\nunlimited\n', 0],
    ['rmdir missing', 'ENOENT\n', 1],
    ['chflags f UF_NODUMP', '', 1],
    // glibc 2.36's lchmod (fchmodat AT_SYMLINK_NOFOLLOW through O_PATH): EOPNOTSUPP on a symlink.
    ['lchmod l2 0644', 'EOPNOTSUPP\n', 1],
    ['lchmod f 0600 : stat f mode', '0\n0600\n', 0],
    // The rows below are what pjdfstest.c built on Linux printed on ext4 (the expected output).
    ['open pw O_CREAT,O_RDWR 0644 : pwrite 0 hello 3 : pread 0 100 0 : fstat 0 size', '0\n0\n\n8\n', 0],
    ['open pw O_RDONLY : pread 0 2 4', '0\nel\n', 0],
    ['utimensat AT_FDCWD f 100000000 123456789 200000000 5 0 : stat f atime,atime_ns,mtime,mtime_ns', '0\n100000000,123456789,200000000,5\n', 0],
    ['utimensat AT_FDCWD f 1 0 0 UTIME_OMIT 0 : stat f atime,mtime', '0\n1,200000000\n', 0],
    ['utimensat AT_FDCWD l2 1 0 2 0 AT_SYMLINK_NOFOLLOW : lstat l2 atime,mtime', '0\n1,2\n', 0],
    ['bind s : lstat s type,mode', '0\nsocket,0777\n', 0],
    ['bind s', 'EADDRINUSE\n', 1],
    ['connect s', 'ECONNREFUSED\n', 1],
    ['connect f', 'ECONNREFUSED\n', 1],
    ['connect nx', 'ENOENT\n', 1],
    ['-U 022 bind s2 : stat s2 mode', '0\n0755\n', 0],
    ['truncate DEADCODE 1', 'EFAULT\n', 1],
    ['mkdir NULL 0755', 'EFAULT\n', 1],
    ['symlink NULL DEADCODE', 'EFAULT\n', 1],
    ['open f O_WRONLY : posix_fallocate 0 0 100 : fstat 0 size', '0\n0\n100\n', 0],
    ['fpathconf BADFD _PC_NAME_MAX', 'EBADF\n', 1],
    ['pathconf f _PC_FOO', '', 1],
    ['pathconf "" _PC_PATH_MAX', '4096\n', 0],
    ['pathconf nx _PC_PATH_MAX : pathconf nx _PC_NAME_MAX', '4096\nENOENT\n', 1],
    ['open f O_RDONLY,O_FSYNC : fstat 0 type', '0\nregular\n', 0],
    ['-g 5,6 mkdir gd 0755 : stat gd gid', '0\n5\n', 0],
    ['stat f inode,foo', /^[0-9]+,unknown\n$/, 0],
    ['mknod c c 0644 1 2 : stat c type,major,minor', '0\nchar,1,2\n', 0],
    ['lpathconf f _PC_NAME_MAX', '', 1],
  ];
  for (const [cmd, out, status] of table) {
    const r = await run(cmd);
    if (typeof out === 'string') t.is(r.stdout, out, cmd);
    else t.regex(r.stdout, out, cmd);
    t.is(r.status, status, `${cmd}: ${r.stderr}`);
  }
  const r = await run('chflags f UF_NODUMP');
  t.is(r.stderr, "syscall 'chflags' not supported\n");
  const bad = await run('open f O_CREAT : write 5 x');
  t.regex(bad.stderr, /too few arguments|invalid descriptor/);
});

test('strtoll parses as C with base 0', (t) => {
  t.is(strtoll('0755'), 0o755);
  t.is(strtoll('0x10'), 16);
  t.is(strtoll('-1'), -1);
  t.is(strtoll('12'), 12);
  t.is(strtoll('0'), 0);
  t.is(strtoll('12a'), null);
});
