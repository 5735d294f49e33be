// The typed convenience API of a task (task.fs): the same system calls as
// task.sys, with JS values in and out and errors thrown as LinuxError
// (compare them by identity: `err === syserror.ENOENT`).
//
// Each method runs the syscall implementation of this package, so it has
// exactly the raw call's semantics and errno; only the marshalling differs
// (a Statx object instead of a struct stat buffer, a Buffer returned by
// read, names by readdir).

import { parseDirents64, type Dirent64 } from '../../../abi/linux/dirent';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC, O_WRONLY } from '../../../abi/linux/file';
import { parseInotifyEvents, type InotifyEvent } from '../../../abi/linux/inotify';
import { STATX_BASIC_STATS, type Statfs, type Statx } from '../../../abi/linux/stat';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import * as fd from './fd';
import * as filesystem from './filesystem';
import * as fscontext from './fscontext';
import * as getdents from './getdents';
import * as inotify from './inotify';
import * as lock from './lock';
import * as mount from './mount';
import type { PathArg } from './path';
import * as pipe from './pipe';
import * as rw from './read_write';
import * as setstat from './setstat';
import * as stat from './stat';
import * as sync from './sync';
import * as xattr from './xattr';

const basicStat = { mask: STATX_BASIC_STATS };

function bytesOf(data: string | Uint8Array): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function timespecs(atime: { sec: number; nsec: number }, mtime: { sec: number; nsec: number }): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigInt64LE(BigInt(atime.sec), 0);
  b.writeBigInt64LE(BigInt(atime.nsec), 8);
  b.writeBigInt64LE(BigInt(mtime.sec), 16);
  b.writeBigInt64LE(BigInt(mtime.nsec), 24);
  return b;
}

/** TaskFS is the typed file-system API of one task. */
export class TaskFS {
  constructor(private readonly task: Task) {}

  // t is the task, read once at the start of every call: the call begins
  // there (Task.syscallEnter re-arms the interruption signal).
  private get t(): Task {
    this.task.syscallEnter();
    return this.task;
  }

  // Files.

  /** open opens path (open(2)) and returns the new fd. */
  open(path: PathArg, flags: number = O_RDONLY, mode = 0o666): Promise<number> {
    return filesystem.openat(this.t, AT_FDCWD, path, flags, mode);
  }

  /** openat opens path relative to dirfd (openat(2)). */
  openat(dirfd: number, path: PathArg, flags: number = O_RDONLY, mode = 0o666): Promise<number> {
    return filesystem.openat(this.t, dirfd, path, flags, mode);
  }

  /** close closes fd (close(2)). */
  async close(fdn: number): Promise<void> {
    await fd.close(this.t, fdn);
  }

  /** read reads up to length bytes at the file offset (read(2)); a shorter Buffer at end of file. */
  async read(fdn: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const n = await rw.read(this.t, fdn, buf, length);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** pread reads up to length bytes at offset (pread64(2)). */
  async pread(fdn: number, length: number, offset: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const n = await rw.pread64(this.t, fdn, buf, length, offset);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** write writes data at the file offset (write(2)) and returns the count written. */
  write(fdn: number, data: string | Uint8Array): Promise<number> {
    const b = bytesOf(data);
    return rw.write(this.t, fdn, b, b.length);
  }

  /** pwrite writes data at offset (pwrite64(2)). */
  pwrite(fdn: number, data: string | Uint8Array, offset: number): Promise<number> {
    const b = bytesOf(data);
    return rw.pwrite64(this.t, fdn, b, b.length, offset);
  }

  /** lseek repositions the file offset (lseek(2)). */
  lseek(fdn: number, offset: number, whence: number): Promise<number> {
    return rw.lseek(this.t, fdn, offset, whence);
  }

  /** readFile reads a whole file. */
  async readFile(path: PathArg): Promise<Buffer> {
    const fdn = await this.open(path, O_RDONLY);
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const b = await this.read(fdn, 65536);
        if (b.length === 0) break;
        chunks.push(b);
      }
      return Buffer.concat(chunks);
    } finally {
      await this.close(fdn);
    }
  }

  /** writeFile creates or truncates path and writes data to it. */
  async writeFile(path: PathArg, data: string | Uint8Array, mode = 0o666): Promise<void> {
    const fdn = await this.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    try {
      const b = bytesOf(data);
      let off = 0;
      while (off < b.length) off += await this.write(fdn, b.subarray(off));
    } finally {
      await this.close(fdn);
    }
  }

  /** fsync flushes fd (fsync(2)). */
  async fsync(fdn: number): Promise<void> {
    await sync.fsync(this.t, fdn);
  }

  /** ftruncate sets fd's size (ftruncate(2)). */
  async ftruncate(fdn: number, length: number): Promise<void> {
    await setstat.ftruncate(this.t, fdn, length);
  }

  /** truncate sets path's size (truncate(2)). */
  async truncate(path: PathArg, length: number): Promise<void> {
    await setstat.truncate(this.t, path, length);
  }

  /** fallocate allocates space (fallocate(2), mode 0). */
  async fallocate(fdn: number, offset: number, length: number): Promise<void> {
    await setstat.fallocate(this.t, fdn, 0, offset, length);
  }

  // Descriptors.

  /** dup duplicates fd (dup(2)). */
  async dup(fdn: number): Promise<number> {
    return fd.dup(this.t, fdn);
  }

  /** dup2 duplicates oldfd onto newfd (dup2(2)). */
  dup2(oldfd: number, newfd: number): Promise<number> {
    return fd.dup2(this.t, oldfd, newfd);
  }

  /** dup3 is dup2 with flags (O_CLOEXEC) (dup3(2)). */
  dup3(oldfd: number, newfd: number, flags: number): Promise<number> {
    return fd.dup3(this.t, oldfd, newfd, flags);
  }

  /** fcntl runs an fcntl(2) command whose argument is an integer. */
  fcntl(fdn: number, cmd: number, arg = 0): Promise<number> {
    return fd.fcntl(this.t, fdn, cmd, arg);
  }

  /** flock applies or removes a BSD lock (flock(2)). */
  async flock(fdn: number, operation: number): Promise<void> {
    await lock.flock(this.t, fdn, operation);
  }

  /** pipe creates a pipe (pipe2(2)) and returns [readFD, writeFD]. */
  async pipe(flags = 0): Promise<[number, number]> {
    const fds = new Int32Array(2);
    await pipe.pipe2(this.t, fds, flags);
    return [fds[0]!, fds[1]!];
  }

  // Metadata.

  /** stat returns path's metadata, following symlinks (stat(2), as a Statx of the basic fields). */
  async stat(path: PathArg): Promise<Statx> {
    const s = await stat.statxAt(this.t, AT_FDCWD, path, 0, basicStat);
    stat.userifyStatx(this.t, s);
    return s;
  }

  /** lstat is stat without following a final symlink (lstat(2)). */
  async lstat(path: PathArg): Promise<Statx> {
    const s = await stat.statxAt(this.t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, basicStat);
    stat.userifyStatx(this.t, s);
    return s;
  }

  /** fstat returns the metadata of an open file (fstat(2)). */
  async fstat(fdn: number): Promise<Statx> {
    const t = this.t;
    const file = t.getFileVFS2(fdn);
    if (file === null) throw syserror.EBADF;
    try {
      const s = await file.stat(t, basicStat);
      stat.userifyStatx(t, s);
      return s;
    } finally {
      file.decRef(t);
    }
  }

  /** statx is statx(2) returning the Statx (flags AT_*, mask STATX_*). */
  statx(dirfd: number, path: PathArg, flags: number, mask: number): Promise<Statx> {
    return stat.statxImpl(this.t, dirfd, path, flags, mask);
  }

  /** statfs returns the metadata of the filesystem holding path (statfs(2)). */
  statfs(path: PathArg): Promise<Statfs> {
    return stat.statfsAt(this.t, path);
  }

  /** access checks path's permissions with the real IDs (access(2)); throws if denied. */
  async access(path: PathArg, mode: number): Promise<void> {
    await stat.access(this.t, path, mode);
  }

  /** chmod changes path's mode (chmod(2)). */
  async chmod(path: PathArg, mode: number): Promise<void> {
    await setstat.chmod(this.t, path, mode);
  }

  /** fchmod changes an open file's mode (fchmod(2)). */
  async fchmod(fdn: number, mode: number): Promise<void> {
    await setstat.fchmod(this.t, fdn, mode);
  }

  /** chown changes path's owner and group; -1 keeps one (chown(2)). */
  async chown(path: PathArg, uid: number, gid: number): Promise<void> {
    await setstat.chown(this.t, path, uid, gid);
  }

  /** lchown is chown without following a final symlink (lchown(2)). */
  async lchown(path: PathArg, uid: number, gid: number): Promise<void> {
    await setstat.lchown(this.t, path, uid, gid);
  }

  /** utimens sets path's access and modification times (utimensat(2); UTIME_NOW/UTIME_OMIT allowed in nsec). */
  async utimens(path: PathArg, atime: { sec: number; nsec: number }, mtime: { sec: number; nsec: number }, flags = 0): Promise<void> {
    await setstat.utimensat(this.t, AT_FDCWD, path, timespecs(atime, mtime), flags);
  }

  // Directories and names.

  /** mkdir creates a directory (mkdir(2)). */
  async mkdir(path: PathArg, mode = 0o777): Promise<void> {
    await filesystem.mkdir(this.t, path, mode);
  }

  /** rmdir removes an empty directory (rmdir(2)). */
  async rmdir(path: PathArg): Promise<void> {
    await filesystem.rmdir(this.t, path);
  }

  /** unlink removes a name (unlink(2)). */
  async unlink(path: PathArg): Promise<void> {
    await filesystem.unlink(this.t, path);
  }

  /** rename renames oldpath to newpath (renameat2(2) with flags). */
  async rename(oldpath: PathArg, newpath: PathArg, flags = 0): Promise<void> {
    await filesystem.renameat2(this.t, AT_FDCWD, oldpath, AT_FDCWD, newpath, flags);
  }

  /** link makes a hard link (link(2)). */
  async link(oldpath: PathArg, newpath: PathArg): Promise<void> {
    await filesystem.link(this.t, oldpath, newpath);
  }

  /** symlink makes linkpath a symbolic link to target (symlink(2)). */
  async symlink(target: PathArg, linkpath: PathArg): Promise<void> {
    await filesystem.symlink(this.t, target, linkpath);
  }

  /** readlink returns a symbolic link's target (readlink(2)). */
  async readlink(path: PathArg): Promise<string> {
    const buf = Buffer.alloc(4096);
    const n = await stat.readlink(this.t, path, buf, buf.length);
    return buf.subarray(0, n).toString('utf8');
  }

  /** mknod creates a file node (mknod(2)). */
  async mknod(path: PathArg, mode: number, dev = 0): Promise<void> {
    await filesystem.mknod(this.t, path, mode, dev);
  }

  /** getdents reads one getdents64(2) batch from an open directory; [] at its end. */
  async getdents(fdn: number, bufSize = 32768): Promise<Dirent64[]> {
    const buf = Buffer.alloc(bufSize);
    const n = await getdents.getdents64(this.t, fdn, buf, bufSize);
    return parseDirents64(buf.subarray(0, n));
  }

  /** readdir lists a directory's entries (including "." and ".."), in getdents64 order. */
  async readdir(path: PathArg): Promise<Dirent64[]> {
    const fdn = await this.open(path, O_RDONLY | O_DIRECTORY);
    try {
      const out: Dirent64[] = [];
      for (;;) {
        const batch = await this.getdents(fdn);
        if (batch.length === 0) return out;
        out.push(...batch);
      }
    } finally {
      await this.close(fdn);
    }
  }

  /** chdir changes the working directory (chdir(2)). */
  async chdir(path: PathArg): Promise<void> {
    await fscontext.chdir(this.t, path);
  }

  /** fchdir changes the working directory to an open directory (fchdir(2)). */
  async fchdir(fdn: number): Promise<void> {
    await fscontext.fchdir(this.t, fdn);
  }

  /** getcwd returns the working directory (getcwd(2)). */
  getcwd(): Promise<string> {
    return fscontext.getcwdString(this.t);
  }

  /** chroot changes the root directory (chroot(2)). */
  async chroot(path: PathArg): Promise<void> {
    await fscontext.chroot(this.t, path);
  }

  /** umask sets the file mode creation mask and returns the old one (umask(2)). */
  umask(mask: number): number {
    return fscontext.umask(this.t, mask);
  }

  // Extended attributes.

  /** getxattr returns an attribute's value (getxattr(2)). */
  async getxattr(path: PathArg, name: string): Promise<Buffer> {
    const size = await xattr.getxattr(this.t, path, name, null, 0);
    const buf = Buffer.alloc(size);
    const n = size === 0 ? 0 : await xattr.getxattr(this.t, path, name, buf, size);
    return buf.subarray(0, n);
  }

  /** setxattr sets an attribute (setxattr(2); flags XATTR_CREATE/XATTR_REPLACE). */
  async setxattr(path: PathArg, name: string, value: string | Uint8Array, flags = 0): Promise<void> {
    const b = bytesOf(value);
    await xattr.setxattr(this.t, path, name, b, b.length, flags);
  }

  /** listxattr returns the attribute names (listxattr(2)). */
  async listxattr(path: PathArg): Promise<string[]> {
    const size = await xattr.listxattr(this.t, path, null, 0);
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const n = await xattr.listxattr(this.t, path, buf, size);
    return buf.subarray(0, n).toString('utf8').split('\0').filter((s) => s !== '');
  }

  /** removexattr removes an attribute (removexattr(2)). */
  async removexattr(path: PathArg, name: string): Promise<void> {
    await xattr.removexattr(this.t, path, name);
  }

  // inotify.

  /** inotifyInit creates an inotify instance (inotify_init1(2)). */
  async inotifyInit(flags = 0): Promise<number> {
    return inotify.inotify_init1(this.t, flags);
  }

  /** inotifyAddWatch watches path (inotify_add_watch(2)) and returns the watch descriptor. */
  inotifyAddWatch(fdn: number, path: PathArg, mask: number): Promise<number> {
    return inotify.inotify_add_watch(this.t, fdn, path, mask);
  }

  /** inotifyRmWatch removes a watch (inotify_rm_watch(2)). */
  async inotifyRmWatch(fdn: number, wd: number): Promise<void> {
    inotify.inotify_rm_watch(this.t, fdn, wd);
  }

  /** readInotifyEvents reads and decodes pending events (blocks unless IN_NONBLOCK; EAGAIN when none then). */
  async readInotifyEvents(fdn: number, bufSize = 65536): Promise<InotifyEvent[]> {
    return parseInotifyEvents(await this.read(fdn, bufSize));
  }

  // Mounts.

  /** mount mounts a filesystem (mount(2)). */
  async mount(source: string, target: PathArg, fstype: string, flags = 0, data: string | null = null): Promise<void> {
    await mount.mount(this.t, source, target, fstype, flags, data);
  }

  /** umount unmounts (umount2(2)). */
  async umount(target: PathArg, flags = 0): Promise<void> {
    await mount.umount2(this.t, target, flags);
  }

  /** sync flushes every filesystem (sync(2)). */
  async sync(): Promise<void> {
    await sync.sync(this.t);
  }
}
