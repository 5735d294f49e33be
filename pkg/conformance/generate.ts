// Families of cases generated from compact tables (each path situation ×
// each path-taking call, each open flag combination × each kind of target,
// each rename pairing, each permission check as an unprivileged user), in
// the same case language as the files under test/conformance/, so that
// they read the same in reports.

import { parseCases, type Case } from './parse';

/** family parses generated case source under a group name. */
export function family(group: string, src: string): Case[] {
  return parseCases(src, `(generated: ${group})`, group);
}

// fixture makes, in the case directory: f (a file with "data"), d (a
// directory with a file x), l -> f, dl -> d, dangling -> nowhere, and a
// symlink loop loop1 <-> loop2.
const fixture = [
  'mkdir d 0755',
  'openat AT_FDCWD d/x O_CREAT|O_WRONLY 0644',
  'close $fd0',
  'openat AT_FDCWD f O_CREAT|O_WRONLY 0644',
  'write $fd1 "data"',
  'close $fd1',
  'symlink f l',
  'symlink d dl',
  'symlink nowhere dangling',
  'symlink loop2 loop1',
  'symlink loop1 loop2',
];
const fixtureFds = 2;

/** paths are the path situations: a short name (for the case name) and the path word. */
const paths: Array<[string, string]> = [
  ['file', 'f'],
  ['dir', 'd'],
  ['missing', 'missing'],
  ['missing-parent', 'missing/x'],
  ['file-as-dir', 'f/x'],
  ['empty', '""'],
  ['name-too-long', '"n"*256'],
  ['path-too-long', '"d/"*2048+"x"'],
  ['loop', 'loop1/x'],
  ['file-slash', 'f/'],
  ['symlink-file', 'l'],
  ['symlink-dir-slash', 'dl/'],
  ['dangling', 'dangling'],
  ['dotdot', 'd/../f'],
];

/** pathCalls are calls with one path; P is replaced by the path word. */
const pathCalls: Array<[string, string]> = [
  ['stat', 'stat P'],
  ['lstat', 'lstat P'],
  ['access', 'access P R_OK|W_OK'],
  ['faccessat', 'faccessat AT_FDCWD P F_OK 0'],
  ['chmod', 'chmod P 0600'],
  ['fchmodat', 'fchmodat AT_FDCWD P 0640'],
  ['chown', 'chown P 1 2'],
  ['lchown', 'lchown P 3 4'],
  ['fchownat', 'fchownat AT_FDCWD P 5 6 AT_SYMLINK_NOFOLLOW'],
  ['truncate', 'truncate P 2'],
  ['open-rdonly', 'openat AT_FDCWD P O_RDONLY'],
  ['open-creat', 'openat AT_FDCWD P O_CREAT|O_WRONLY 0644'],
  ['open-dir', 'open P O_RDONLY|O_DIRECTORY'],
  ['creat', 'creat P 0600'],
  ['mkdir', 'mkdir P 0750'],
  ['mkdirat', 'mkdirat AT_FDCWD P 0700'],
  ['rmdir', 'rmdir P'],
  ['unlink', 'unlink P'],
  ['unlinkat-dir', 'unlinkat AT_FDCWD P AT_REMOVEDIR'],
  ['readlink', 'readlink P 100'],
  ['readlinkat', 'readlinkat AT_FDCWD P 100'],
  ['symlink', 'symlink target P'],
  ['link-to', 'link f P'],
  ['link-from', 'link P newlink'],
  ['linkat-follow', 'linkat AT_FDCWD P AT_FDCWD newlink AT_SYMLINK_FOLLOW'],
  ['rename-to', 'rename f P'],
  ['rename-from', 'rename P renamed'],
  ['renameat2-noreplace', 'renameat2 AT_FDCWD f AT_FDCWD P RENAME_NOREPLACE'],
  ['mknod-fifo', 'mknod P S_IFIFO|0644 0'],
  ['mknodat-reg', 'mknodat AT_FDCWD P S_IFREG|0600 0'],
  ['utimes', 'utimes P 100:0,200:0'],
  ['utime', 'utime P 300,400'],
  ['utimensat', 'utimensat AT_FDCWD P 500:1,600:2 0'],
  ['utimensat-nofollow', 'utimensat AT_FDCWD P 700:0,800:0 AT_SYMLINK_NOFOLLOW'],
  ['chdir', 'chdir P'],
  ['statfs', 'statfs P'],
  ['newfstatat', 'newfstatat AT_FDCWD P AT_SYMLINK_NOFOLLOW'],
  ['statx', 'statx AT_FDCWD P 0 0xfff'],
  ['setxattr', 'setxattr P user.k "v" 0'],
  ['getxattr', 'getxattr P user.k 100'],
  ['lgetxattr', 'lgetxattr P user.k 100'],
  ['listxattr', 'listxattr P 100'],
  ['removexattr', 'removexattr P user.k'],
  ['inotify-add-watch', 'inotify_add_watch $fd2 P IN_ALL_EVENTS'],
];

function pathFamily(): Case[] {
  const out: string[] = [];
  for (const [cn, call] of pathCalls) {
    for (const [pn, p] of paths) {
      out.push(`case ${cn}.${pn}`);
      for (const l of fixture) out.push(`  ${l}`);
      if (call.includes('$fd2')) out.push('  inotify_init1 IN_NONBLOCK');
      out.push(`  ${call.replace('P', p)}`);
      if (cn === 'chdir') out.push('  getcwd 4096');
    }
  }
  void fixtureFds;
  return family('path', out.join('\n'));
}

/** openFlags × targets: each open on each kind of file. */
const openFlags: Array<[string, string]> = [
  ['rdonly', 'O_RDONLY'],
  ['wronly', 'O_WRONLY'],
  ['rdwr', 'O_RDWR'],
  ['creat', 'O_CREAT|O_RDWR'],
  ['creat-excl', 'O_CREAT|O_EXCL|O_WRONLY'],
  ['trunc', 'O_WRONLY|O_TRUNC'],
  ['rdonly-trunc', 'O_RDONLY|O_TRUNC'],
  ['directory', 'O_RDONLY|O_DIRECTORY'],
  ['directory-creat', 'O_CREAT|O_DIRECTORY|O_RDWR'],
  ['nofollow', 'O_RDONLY|O_NOFOLLOW'],
  ['creat-nofollow', 'O_CREAT|O_NOFOLLOW|O_WRONLY'],
  ['append', 'O_WRONLY|O_APPEND'],
  ['path', 'O_PATH'],
  ['wronly-dir', 'O_WRONLY|O_DIRECTORY'],
  ['accmode3', 'O_WRONLY|O_RDWR'],
];

const openTargets: Array<[string, string]> = [
  ['file', 'f'],
  ['dir', 'd'],
  ['missing', 'new'],
  ['symlink-file', 'l'],
  ['symlink-dir', 'dl'],
  ['dangling', 'dangling'],
  ['fifo', 'fifo'],
];

function openFamily(): Case[] {
  const out: string[] = [];
  for (const [fn, flags] of openFlags) {
    for (const [tn, target] of openTargets) {
      out.push(`case ${fn}.${tn}`);
      for (const l of fixture) out.push(`  ${l}`);
      out.push('  mknod fifo S_IFIFO|0644 0');
      // A FIFO opened without O_NONBLOCK for reading or writing alone would block.
      const f = tn === 'fifo' ? `${flags}|O_NONBLOCK` : flags;
      out.push(`  openat AT_FDCWD ${target} ${f} 0640`);
      if (!flags.includes('O_PATH')) {
        out.push(`  write $fd2 "xy"`);
        out.push('  lseek $fd2 0 SEEK_SET');
        out.push('  read $fd2 10');
      }
      out.push('  fstat $fd2');
      out.push('  close $fd2');
    }
  }
  return family('open', out.join('\n'));
}

/** rename sources × destinations × flags. */
const renameSrc: Array<[string, string]> = [
  ['file', 'f'],
  ['dir', 'd'],
  ['symlink', 'l'],
  ['missing', 'missing'],
];
const renameDst: Array<[string, string]> = [
  ['new', 'new'],
  ['file', 'f2'],
  ['empty-dir', 'e'],
  ['full-dir', 'full'],
  ['itself', 'SELF'],
  ['own-subdir', 'd/sub'],
  ['into-file', 'f2/x'],
  ['dir-slash', 'e/'],
];
const renameFlags: Array<[string, string]> = [
  ['plain', '0'],
  ['noreplace', 'RENAME_NOREPLACE'],
];

function renameFamily(): Case[] {
  const out: string[] = [];
  for (const [sn, src] of renameSrc) {
    for (const [dn, dst] of renameDst) {
      for (const [fn, flags] of renameFlags) {
        out.push(`case ${sn}.${dn}.${fn}`);
        for (const l of fixture) out.push(`  ${l}`);
        out.push('  mknod f2 S_IFREG|0600 0', '  mkdir e 0700', '  mkdir full 0700', '  mknod full/y S_IFREG|0600 0');
        out.push(`  renameat2 AT_FDCWD ${src} AT_FDCWD ${dst === 'SELF' ? src : dst} ${flags}`);
      }
    }
  }
  return family('rename', out.join('\n'));
}

// permFixture (as root): ro (0555), nox (0666, no search), rw (0777),
// sticky (01777) with root's file and user 1000's file, a root file p600,
// a root file p644, and a file u owned by 1000 (0644).
const permFixture = [
  'mkdir ro 0555', 'mknod ro/f S_IFREG|0644 0',
  'mkdir nox 0777', 'mknod nox/f S_IFREG|0644 0', 'chmod nox 0666',
  'mkdir rw 0777', 'chmod rw 0777', 'mkdir rw/sub 0755',
  'mkdir sticky 0777', 'chmod sticky 01777', 'mknod sticky/root S_IFREG|0644 0', 'mknod sticky/mine S_IFREG|0644 0', 'chown sticky/mine 1000 1000',
  'mknod p600 S_IFREG|0600 0', 'mknod p644 S_IFREG|0644 0', 'mknod u S_IFREG|0644 0', 'chown u 1000 1000',
  'mknod g S_IFREG|0664 0', 'chown g 0 1000',
];

const permOps: Array<[string, string]> = [
  ['create-in-ro', 'openat AT_FDCWD ro/new O_CREAT|O_WRONLY 0644'],
  ['mkdir-in-ro', 'mkdir ro/new 0755'],
  ['unlink-in-ro', 'unlink ro/f'],
  ['rename-in-ro', 'rename ro/f ro/g'],
  ['stat-in-nox', 'stat nox/f'],
  ['open-in-nox', 'openat AT_FDCWD nox/f O_RDONLY'],
  ['list-nox', 'openat AT_FDCWD nox O_RDONLY|O_DIRECTORY'],
  ['chdir-nox', 'chdir nox'],
  ['create-in-rw', 'openat AT_FDCWD rw/new O_CREAT|O_WRONLY 0666'],
  ['rmdir-in-rw', 'rmdir rw/sub'],
  ['unlink-sticky-other', 'unlink sticky/root'],
  ['unlink-sticky-mine', 'unlink sticky/mine'],
  ['rename-sticky-other', 'rename sticky/root rw/taken'],
  ['rename-over-sticky-other', 'rename sticky/mine sticky/root'],
  ['open-p600-read', 'openat AT_FDCWD p600 O_RDONLY'],
  ['open-p644-write', 'openat AT_FDCWD p644 O_WRONLY'],
  ['open-p644-trunc', 'openat AT_FDCWD p644 O_RDONLY|O_TRUNC'],
  ['open-group-write', 'openat AT_FDCWD g O_WRONLY'],
  ['truncate-p644', 'truncate p644 0'],
  ['chmod-other', 'chmod p644 0777'],
  ['chmod-own', 'chmod u 0600'],
  ['chmod-own-setgid-other-group', 'chmod u 02755'],
  ['chown-own-to-other', 'chown u 0 1000'],
  ['chown-own-group', 'chown u -1 1000'],
  ['chown-own-foreign-group', 'chown u -1 0'],
  ['chown-other', 'chown p644 1000 1000'],
  ['utimes-now-other', 'utimes p644 NULL'],
  ['utimes-set-other', 'utimes p644 1:0,2:0'],
  ['utimes-now-group-writable', 'utimensat AT_FDCWD g NULL 0'],
  ['utimes-set-own', 'utimensat AT_FDCWD u 10:0,20:0 0'],
  ['access-p600', 'access p600 R_OK'],
  ['access-p644-w', 'access p644 W_OK'],
  ['access-u-rw', 'access u R_OK|W_OK'],
  ['faccessat-eaccess', 'faccessat AT_FDCWD p644 R_OK AT_EACCESS'],
  ['setxattr-other', 'setxattr p644 user.a "x" 0'],
  ['setxattr-own', 'setxattr u user.a "x" 0'],
  ['getxattr-p600', 'getxattr p600 user.a 10'],
  ['link-other', 'link p600 rw/hard'],
  ['link-own', 'link u rw/hard'],
  ['mknod-chr', 'mknod rw/c S_IFCHR|0644 0x0103'],
  ['mknod-fifo', 'mknod rw/fifo S_IFIFO|0644 0'],
  ['symlink-in-ro', 'symlink x ro/l'],
  ['umask-create', 'umask 077'],
  ['chdir-then-create', 'chdir rw'],
];

function permFamily(): Case[] {
  const out: string[] = [];
  for (const [n, op] of permOps) {
    out.push(`case ${n}`);
    for (const l of permFixture) out.push(`  ${l}`);
    out.push('  as 1000:1000');
    out.push(`  ${op}`);
    if (n === 'umask-create') out.push('  openat AT_FDCWD rw/masked O_CREAT|O_WRONLY 0666', '  stat rw/masked');
    if (n === 'chdir-then-create') out.push('  mkdir mine 0777', '  stat mine', '  getcwd 4096');
    if (n.startsWith('chmod-own') || n.startsWith('chown-own')) out.push('  stat u');
  }
  return family('perm', out.join('\n'));
}

/**
 * mountCalls take a path situation (P) in chroot, mount and umount2, as
 * root and as an unprivileged user (Linux looks the path up before it
 * checks the capability). The dotdot situation is left out: those calls'
 * paths may not contain ".." (parse.ts).
 */
const mountCalls: Array<[string, string, boolean]> = [
  ['chroot', 'chroot P', true],
  ['mount-tmpfs', 'mount none P tmpfs 0 NULL', true],
  ['umount2', 'umount2 P 0', true],
  ['umount2-nofollow', 'umount2 P UMOUNT_NOFOLLOW', false],
  ['bind-source', 'mount P bt NULL MS_BIND NULL', false],
];

function mountFamily(): Case[] {
  const out: string[] = [];
  for (const [cn, call, unpriv] of mountCalls) {
    for (const [pn, p] of paths) {
      if (pn === 'dotdot') continue;
      for (const as of unpriv ? [null, '1000:1000'] : [null]) {
        out.push(`case ${cn}.${pn}${as === null ? '' : '.unpriv'}`);
        for (const l of fixture) out.push(`  ${l}`);
        if (cn === 'bind-source') out.push('  mkdir bt 0755');
        if (as !== null) out.push(`  as ${as}`);
        out.push(`  ${call.replace('P', p)}`);
      }
    }
  }
  return family('mnt', out.join('\n'));
}

/** generatedCases returns every generated family. */
export function generatedCases(): Case[] {
  return [...pathFamily(), ...openFamily(), ...renameFamily(), ...permFamily(), ...mountFamily()];
}
