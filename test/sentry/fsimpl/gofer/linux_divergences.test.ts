// Issue 5's client-side divergences, pinned differentially: each case runs
// through the conformance runner (pkg/conformance) on a gofer root (our
// gofer child process, exclusive and shared interop) and on the host kernel
// in a host temp dir, and every result, the tree left behind and the gofer's
// backing directory must agree. Each case names the Linux code path whose
// behaviour it pins; where gVisor at dbe41765 differs, the gofer filesystem
// follows Linux (BUILD.md).

import test from 'ava';

import { parseCases } from '../../../../pkg/conformance/parse';
import { runSuite, type CaseResult } from '../../../../pkg/conformance/runner';
import type { Interop } from '../../../../pkg/conformance/sandbox';

// Each case: the Linux behaviour it pins, then the calls.
const src = `
# do_renameat2: RENAME_NOREPLACE's EEXIST comes before the trailing-slash
# ENOTDIR of a non-directory, and both before may_delete's EACCES; renaming a
# name onto itself (vfs_rename: source == target) succeeds before EACCES.
case rename-noreplace-slash
  mknod f S_IFREG|0644 0
  mkdir e 0755
  symlink e dl
  renameat2 AT_FDCWD f AT_FDCWD e/ RENAME_NOREPLACE
  renameat2 AT_FDCWD f AT_FDCWD f/ RENAME_NOREPLACE
  renameat2 AT_FDCWD f AT_FDCWD dl/ RENAME_NOREPLACE
  renameat2 AT_FDCWD f AT_FDCWD e/ 0
  renameat2 AT_FDCWD f AT_FDCWD missing/ RENAME_NOREPLACE
  renameat2 AT_FDCWD missing AT_FDCWD e/ RENAME_NOREPLACE
  renameat2 AT_FDCWD f AT_FDCWD . RENAME_NOREPLACE
  renameat2 AT_FDCWD f AT_FDCWD .. 0
  renameat2 AT_FDCWD e AT_FDCWD e/sub 0

case rename-order-unprivileged
  mkdir d 0755
  mknod d/f S_IFREG|0644 0
  mkdir d/e 0755
  mkdir d/e/x 0755
  as 1000:1000
  renameat2 AT_FDCWD d/f AT_FDCWD d/e RENAME_NOREPLACE
  renameat2 AT_FDCWD d/f AT_FDCWD d/e/ 0
  renameat2 AT_FDCWD d/f AT_FDCWD d/f 0
  renameat2 AT_FDCWD d/missing AT_FDCWD d/g 0
  renameat2 AT_FDCWD d/e AT_FDCWD d/e/x/y 0
  renameat2 AT_FDCWD d/e/x AT_FDCWD d 0
  renameat2 AT_FDCWD d/f AT_FDCWD d/g 0

# do_o_path: O_PATH opens any file (a symlink with O_NOFOLLOW, a FIFO
# without a rendezvous, a file the caller may not read) with no permission
# check on the file; readlinkat(fd, "") and fstat work on it.
case opath-symlink-fifo
  symlink target l
  mknod p S_IFIFO|0644 0
  openat AT_FDCWD l O_PATH|O_NOFOLLOW
  readlinkat $fd0 "" 100
  fstat $fd0
  read $fd0 1
  openat AT_FDCWD p O_PATH
  fstat $fd1
  read $fd1 1
  openat AT_FDCWD l O_RDONLY|O_NOFOLLOW
  close $fd0
  close $fd1

case opath-unreadable
  mknod s S_IFREG|0000 0
  mkdir d 0700
  as 1000:1000
  openat AT_FDCWD s O_PATH
  fstat $fd0
  openat AT_FDCWD s O_RDONLY
  openat AT_FDCWD d O_PATH|O_DIRECTORY
  fchdir $fd1

# A removed working directory still opens ("." of a dead directory), lists
# nothing (iterate_dir: ENOENT), shows nlink 0 and refuses new entries.
case removed-cwd
  mkdir d 0755
  chdir d
  rmdir ../d
  openat AT_FDCWD . O_RDONLY|O_DIRECTORY
  getdents64 $fd0 4096
  fstat $fd0
  mknod x S_IFREG|0644 0
  close $fd0

# v9fs_remove / v9fs_vfs_rename: an unlinked open file shows nlink 0
# (drop_nlink), a removed or replaced directory nlink 0 (clear_nlink), and
# a file with another name left nlink 1.
case nlink-after-removal
  openat AT_FDCWD a O_CREAT|O_RDWR 0644
  write $fd0 "gone"
  link a b
  unlink a
  fstat $fd0
  unlink b
  fstat $fd0
  mkdir d 0755
  openat AT_FDCWD d O_RDONLY|O_DIRECTORY
  rmdir d
  fstat $fd1
  mkdir e 0755
  mkdir f 0755
  openat AT_FDCWD f O_RDONLY|O_DIRECTORY
  rename e f
  fstat $fd2
  stat .

# getdents64's d_type is the file's type for every type (fill_dir).
case getdents-types
  mkdir d 0755
  mkdir d/sub 0755
  mknod d/file S_IFREG|0644 0
  symlink x d/link
  mknod d/fifo S_IFIFO|0644 0
  openat AT_FDCWD d O_RDONLY|O_DIRECTORY
  getdents64 $fd0 4096

# fifo_open ignores O_TRUNC: O_RDONLY|O_TRUNC|O_NONBLOCK opens a reader
# only, which reads EOF with no writer.
case fifo-rdonly-trunc
  mknod p S_IFIFO|0644 0
  openat AT_FDCWD p O_RDONLY|O_TRUNC|O_NONBLOCK
  read $fd0 10
  openat AT_FDCWD p O_WRONLY|O_NONBLOCK
  write $fd1 "ab"
  read $fd0 10
  close $fd1
  read $fd0 10

# inode_init_owner: in a set-group-ID directory a new file takes the
# directory's group and a new directory inherits S_ISGID.
case setgid-parent
  mkdir p 0777
  chown p 0 1000
  chmod p 02777
  mkdir p/child 0755
  mknod p/file S_IFREG|0644 0
  openat AT_FDCWD p/created O_CREAT|O_WRONLY 0644
  symlink x p/link
  lstat p/link
  stat p/child
  stat p/file
  stat p/created

case setgid-parent-unprivileged
  mkdir p 0777
  chown p 0 1001
  chmod p 02777
  as 1000:1000
  mkdir p/child 0755
  openat AT_FDCWD p/created O_CREAT|O_WRONLY 02755
  stat p/child
  stat p/created

# setattr_copy: chmod by a caller outside the file's group without
# CAP_FSETID drops S_ISGID.
case chmod-setgid-other-group
  mknod u S_IFREG|0644 0
  chown u 1000 0
  as 1000:1000
  chmod u 02755
  stat u
  chmod u 04755
  stat u

# chown_common: chown of a non-directory drops S_ISUID, and S_ISGID when
# group-executable, whoever the caller; a directory keeps them.
case chown-clears-setid
  mknod f S_IFREG|0644 0
  chmod f 06755
  chown f 1000 1000
  stat f
  chmod f 06745
  chown f -1 1001
  stat f
  mkdir d 0755
  chmod d 06755
  chown d 1000 1000
  stat d

# file_remove_privs / do_truncate / handle_truncate: a write, truncate,
# ftruncate or O_TRUNC open by a caller without CAP_FSETID drops S_ISUID
# (and S_ISGID with group-execute); an empty write does not.
case unpriv-write-truncate-clear-setid
  mknod w S_IFREG|0666 0
  chmod w 06777
  mknod t S_IFREG|0666 0
  chmod t 04777
  mknod o S_IFREG|0666 0
  chmod o 04777
  mknod z S_IFREG|0666 0
  chmod z 04777
  as 1000:1000
  openat AT_FDCWD w O_WRONLY
  write $fd0 ""
  fstat $fd0
  write $fd0 "x"
  fstat $fd0
  truncate t 1
  stat t
  openat AT_FDCWD o O_WRONLY|O_TRUNC
  fstat $fd1
  openat AT_FDCWD z O_RDWR
  ftruncate $fd2 3
  fstat $fd2
  close $fd0
  close $fd1
  close $fd2

# setattr_should_drop_sgid (Linux 6.2+): S_ISGID without group-execute is
# dropped too when the caller is outside the file's group (write, truncate,
# chown to another group of the caller's).
case unpriv-sgid-noexec-outside-group
  mknod f S_IFREG|0666 0
  chown f 1000 0
  chmod f 02666
  mknod g S_IFREG|0666 0
  chown g 1000 0
  chmod g 02666
  mknod h S_IFREG|0666 0
  chown h 1000 0
  chmod h 06666
  as 1000:1000
  openat AT_FDCWD f O_WRONLY
  write $fd0 "x"
  fstat $fd0
  truncate g 1
  stat g
  chown h -1 1000
  stat h
  close $fd0

case root-write-keeps-setid
  mknod f S_IFREG|0666 0
  chmod f 06777
  openat AT_FDCWD f O_WRONLY
  write $fd0 "x"
  fstat $fd0
  close $fd0
`;

const cases = parseCases(src, 'linux_divergences.test.ts', 'gofer');

function describe(r: CaseResult): string {
  const lines = r.lines.filter((l) => l.sandbox !== l.host).map((l) => `  ${l.step.text}\n    sandbox: ${l.sandbox}\n    host:    ${l.host}`);
  const tree = [...r.tree, ...r.backing].map((d) => `  ${JSON.stringify(d)}`);
  return [r.error ?? '', ...lines, ...tree].filter((s) => s !== '').join('\n');
}

for (const interop of ['exclusive', 'shared'] as Interop[]) {
  test.serial(`linux divergences on a gofer root (${interop}): every case agrees with the host kernel`, async (t) => {
    const results = await runSuite({ fs: '9p', server: 'ours', interop, cases, jobs: 2, allow: [] });
    for (const r of results) {
      t.is(r.status, 'pass', `${r.case.name} (${interop}):\n${describe(r)}`);
    }
  });
}
