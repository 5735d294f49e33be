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
  const table: Array<[string, string, number]> = [
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
    ['lchmod l2 0644', '', 1],
  ];
  for (const [cmd, out, status] of table) {
    const r = await run(cmd);
    t.is(r.stdout, out, cmd);
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
