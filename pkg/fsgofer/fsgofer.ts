// Port of gVisor runsc/fsgofer/fsgofer.go (and fsgofer_unsafe.go): a
// p9.Attacher whose files are a host directory tree.
//
// Package fsgofer implements p9.File giving access to local files using
// a simple mapping from a path prefix that is added to the path requested
// by the sandbox. Ex:
//
//   prefix: "/docker/imgs/alpine"
//   app path: /bin/ls => /docker/imgs/alpine/bin/ls
//
// Confinement: every host access is relative to an open fd held by a
// localFile (its own file, or the directory of the parent fid) and names
// one component, checked here again (checkName) even though the p9 server
// checks them; no access follows a symlink (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW,
// AT_EMPTY_PATH on an O_PATH fd, linkat without AT_SYMLINK_FOLLOW). The one
// path that is resolved is /proc/self/fd/N, to reopen a file this process
// already holds, as gVisor does.
//
// Differs from gVisor at dbe41765 (each one noted where it happens):
//   - host calls go through koffi (syscalls.ts), errors are thrown LinuxError;
//   - Open/Create return no FD: the server asks donateFD afterwards, only
//     for a client with an fd channel, and only regular files donate (a dup
//     with the open's access mode, never wider: gVisor's newFDMaybe dups
//     any opened file, O_RDWR for a write-only Create);
//   - utimensat on a symlink uses its O_PATH fd with AT_EMPTY_PATH instead of
//     reopening the parent directory by host path;
//   - mknod also creates named pipes on the host (gVisor: EPERM), and walk
//     accepts FIFOs;
//   - Readdir offsets are the host's d_off cookies (stable across concurrent
//     changes as Linux getdents is), not entry indices; "." and ".." are
//     omitted as gVisor omits them; the entry's QID comes from d_ino/d_type;
//   - extended attributes in the user. namespace are served (gVisor:
//     EOPNOTSUPP for all); other namespaces answer EOPNOTSUPP;
//   - POSIX locks (Tlock/Tgetlock) are host OFD locks on the open fd;
//   - multiGetAttr (gVisor 276ff149a, later than dbe41765) is implemented;
//   - every method returns a Promise (pkg/p9's File), although each runs its
//     few host calls synchronously: none of them can block;
//   - a clone (walk of no names) answers no QID, as this tree's p9 server
//     expects (gVisor answers one);
//   - modes keep S_ISUID/S_ISGID (07777, as gVisor 92374e519 and diod) on
//     create, mkdir, mknod and setattr, also past the chown that follows a
//     creation (gVisor at dbe41765 masks them off: 01777);
//   - named pipes, sockets, devices and symlinks are held by O_PATH control
//     fds, never opened before Tlopen (openControl);
//   - Readdir's type byte is the host's d_type (DT_*), as diod and Linux's
//     v9fs client use it, not the QID type.

import * as linux from '../abi/linux';
import { logger } from '../context/context';
import * as syserror from '../syserror/syserror';
import {
  AllocateMode,
  Attr,
  AttrMask,
  ConnectFlags,
  Dirent,
  FSStat,
  FileMode,
  FullStat,
  OpenFlagsModeMask,
  QID,
  ReadOnly,
  ReadWrite,
  SetAttr,
  SetAttrMask,
  TypeDir,
  TypeRegular,
  TypeSymlink,
  WriteOnly,
  fileModeQIDType,
} from '../p9/p9';
import type { Attacher, File, LockDescription } from '../p9/file';
import { LockStatus, LockType } from '../p9/messages';
import * as sc from './syscalls';

const log = logger('gvisor:fsgofer');

// invalidMode is set to a value that doesn't match any other valid
// modes to ensure an unopened/closed file fails all mode checks.
const invalidMode = 0xffffffff;

const openFlags = linux.O_NOFOLLOW | linux.O_CLOEXEC;

const allowedOpenFlags = linux.O_TRUNC;

// permissionsMask is p9's (07777: rwx for all, sticky, setgid and setuid).
// Differs from gVisor at dbe41765 (01777): the client applies Linux's
// rules for the set-ID bits and the gofer stores the mode it is sent, as
// gVisor 92374e519 and diod do. The root directory confines the client's
// files, set-ID ones included.
const permissionsMask = 0o7777;

// setIDBits are the bits Linux's chown(2) clears from a non-directory
// (S_ISGID only with group execute) even when root calls it, and mkdir(2)
// drops from the mode it is given.
const setIDBits = linux.S_ISUID | linux.S_ISGID;

// Remember the process uid/gid to skip chown calls when file owner/group
// doesn't need to be changed.
const processUID = process.getuid?.() ?? 0;
const processGID = process.getgid?.() ?? 0;

/**
 * checkName refuses any name that is not exactly one path component, before
 * any host call: "", ".", "..", names with "/" or NUL (EINVAL), and names
 * longer than NAME_MAX bytes (ENAMETOOLONG). gVisor's join() panics on "."
 * and ".."; the p9 server has already refused the rest.
 */
export function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw syserror.EINVAL;
  }
  if (name.length > linux.NAME_MAX / 3 && Buffer.byteLength(name, 'utf8') > linux.NAME_MAX) {
    throw syserror.ENAMETOOLONG;
  }
}

// join is equivalent to path.Join() but skips path.Clean() which is expensive.
function join(parent: string, child: string): string {
  return parent + '/' + child;
}

/** Config sets configuration options for each attach point. */
export interface Config {
  /** ROMount is set to true if this is a readonly mount. */
  roMount: boolean;
  /** PanicOnWrite panics on attempts to write to RO mounts (here: logs a warning and throws EROFS). */
  panicOnWrite?: boolean;
  /** HostUDS signals whether the gofer can mount a host's UDS. */
  hostUDS?: boolean;
  /**
   * noDonate: opened regular files donate no host fd (localFile.donateFD
   * returns -1), so the client reads and writes by Tread/Twrite.
   */
  noDonate?: boolean;
}

// procSelfFD is /proc/self/fd, opened once, used to reopen file descriptors.
let procSelfFD = -1;

/**
 * openProcSelfFD opens the /proc/self/fd directory, which will be used to
 * reopen file descriptors. Called lazily by the first reopen.
 */
export function openProcSelfFD(): void {
  if (procSelfFD >= 0) return;
  procSelfFD = sc.openat(linux.AT_FDCWD, '/proc/self/fd', linux.O_RDONLY | linux.O_DIRECTORY | linux.O_CLOEXEC);
}

// reopenProcFd opens the file fd refers to again, with mode, through
// /proc/self/fd/N: the magic link names the very inode this process holds,
// wherever it now is, so nothing on the path can redirect it.
function reopenProcFd(fd: number, mode: number): number {
  openProcSelfFD();
  return sc.openat(procSelfFD, String(fd), mode & ~linux.O_NOFOLLOW, 0);
}

interface openResult {
  fd: number;
  readable: boolean;
}

// openAnyFile attempts to open the file in O_RDONLY. If it fails, falls back
// to O_PATH. 'pathDebug' is used for logging messages only. 'fn' is what does
// the actual file open and is customizable by the caller.
function openAnyFile(pathDebug: string, fn: (mode: number) => number): openResult {
  // Attempt to open file in the following mode in order:
  //   1. RDONLY | NONBLOCK: for all files, directories, ro mounts, FIFOs.
  //      Use non-blocking to prevent getting stuck inside open(2) for
  //      FIFOs. This option has no effect on regular files.
  //   2. PATH: for symlinks, sockets.
  const options = [
    { mode: linux.O_RDONLY | linux.O_NONBLOCK, readable: true },
    { mode: linux.O_PATH, readable: false },
  ];
  let err: unknown = syserror.EIO;
  for (let i = 0; i < options.length; i++) {
    const option = options[i];
    try {
      return { fd: fn(option.mode), readable: option.readable };
    } catch (e) {
      // File doesn't exist, no point in retrying.
      if (e === syserror.ENOENT) throw e;
      err = e;
      log.debugf('Attempt %d to open file failed, mode: %o, path: %s, err: %s', i, openFlags | option.mode, pathDebug, e);
    }
  }
  // All attempts to open file have failed, return the last error.
  log.debugf('Failed to open file, path: %s, err: %s', pathDebug, err);
  throw syserror.fromNodeError(err);
}

/**
 * heldByPath tells whether a file of this type is held by an O_PATH control
 * fd only, and opened for real only by Tlopen: opening a named pipe, even
 * O_RDONLY|O_NONBLOCK, makes the gofer a reader the host sees (a writer's
 * O_NONBLOCK open then succeeds instead of ENXIO, a read finds no EOF), and
 * opening a device runs its driver. A symlink cannot be opened at all.
 */
function heldByPath(fileType: number): boolean {
  return fileType !== linux.S_IFREG && fileType !== linux.S_IFDIR;
}

interface controlFile extends openResult {
  stat: sc.Stat;
}

/**
 * openControl opens 'name' in 'dirfd' for a localFile's control fd: a
 * regular file or directory as openAnyFile does (O_RDONLY|O_NONBLOCK, else
 * O_PATH), anything else with O_PATH only (heldByPath).
 *
 * Differs from gVisor (dbe41765 and also later, tryOpen in
 * runsc/fsgofer/lisafs.go, which open every file O_RDONLY|O_NONBLOCK
 * first): the type is asked first (fstatat, never following), since
 * Linux users must not see the gofer as a named pipe's reader.
 */
function openControl(dirfd: number, name: string, pathDebug: string): controlFile {
  const hint = sc.fstatat(dirfd, name, linux.AT_SYMLINK_NOFOLLOW).mode & linux.S_IFMT;
  const r = heldByPath(hint)
    ? { fd: sc.openat(dirfd, name, openFlags | linux.O_PATH, 0), readable: false }
    : openAnyFile(pathDebug, (mode) => sc.openat(dirfd, name, openFlags | mode, 0));
  return statControl(r);
}

// statControl stats a control fd just opened (closing it on failure). If
// the name was replaced between the type check and the open by a file
// held by path, the readable fd is traded for an O_PATH one of the same
// file.
function statControl(r: openResult): controlFile {
  try {
    const stat = sc.fstat(r.fd);
    if (r.readable && heldByPath(stat.mode & linux.S_IFMT)) {
      const p = reopenProcFd(r.fd, openFlags | linux.O_PATH);
      closeQuietly(r.fd);
      return { fd: p, readable: false, stat };
    }
    return { ...r, stat };
  } catch (e) {
    closeQuietly(r.fd);
    throw e;
  }
}

// chmodFD is fchmod(2) on fd; an O_PATH fd (fchmod: EBADF) is changed
// through its /proc/self/fd magic link, which names the very inode this
// process holds (never a symlink here: the callers refuse those first).
function chmodFD(fd: number, isPath: boolean, mode: number): void {
  if (!isPath) {
    sc.fchmod(fd, mode);
    return;
  }
  openProcSelfFD();
  sc.fchmodat(procSelfFD, String(fd), mode);
}

function checkSupportedFileType(mode: number, permitSocket: boolean): void {
  switch (mode & linux.S_IFMT) {
    case linux.S_IFREG:
    case linux.S_IFDIR:
    case linux.S_IFLNK:
      return;
    case linux.S_IFIFO:
      // Differs from gVisor at dbe41765: named pipes made by Mknod live on
      // the host and must be reachable.
      return;
    case linux.S_IFSOCK:
      if (!permitSocket) throw syserror.EPERM;
      return;
    default:
      throw syserror.EPERM;
  }
}

function closeQuietly(fd: number): void {
  try {
    sc.close(fd);
  } catch (e) {
    log.warningf('close(%d) failed: %s', fd, e);
  }
}

/**
 * attachPoint is the p9.Attacher for one host directory: it opens the root
 * on Attach and hands out QIDs that are unique across the host devices the
 * tree spans.
 */
export class attachPoint implements Attacher {
  readonly prefix: string;
  readonly conf: Config;

  // attached is set by the first Attach (gVisor's attachedMu needs no lock
  // here: attach is synchronous).
  private attached = false;

  // nextDevice is the next device id that will be allocated.
  private nextDevice = 0;

  // devices is a map from actual host devices to "small" integers that
  // can be combined with host inode to form a unique virtual inode id.
  private readonly devices = new Map<bigint, number>();

  // openFiles counts the localFiles holding a host fd (a leak check for
  // tests: every fid the server drops closes its file).
  openFiles = 0;

  constructor(prefix: string, conf: Config) {
    this.prefix = prefix;
    this.conf = conf;
  }

  /** attach implements p9.Attacher.Attach. */
  async attach(): Promise<File> {
    return this.attachSync();
  }

  // attachSync is attach without the Promise (tests and cmd/gofer use it).
  attachSync(): localFile {
    if (this.attached) {
      log.warningf('attach point already attached, prefix: %s', this.prefix);
      throw syserror.EBUSY;
    }
    const { fd, readable, stat } = openControl(linux.AT_FDCWD, this.prefix, this.prefix);
    let lf: localFile;
    try {
      lf = newLocalFile(this, fd, this.prefix, readable, stat);
    } catch (e) {
      sc.close(fd);
      log.warningf('unable to attach %s: %s', this.prefix, e);
      throw e;
    }
    this.attached = true;
    return lf;
  }

  /** makeQID returns a unique QID for the given stat buffer. */
  makeQID(stat: { dev: bigint; ino: bigint; mode: number }): QID {
    return new QID(fileModeQIDType(stat.mode), 0, this.makePath(stat.dev, stat.ino));
  }

  // makePath is the QID path of makeQID, shared by readdir (which knows an
  // entry's inode and type from its dirent only).
  makePath(devID: bigint, ino: bigint): bigint {
    // First map the host device id to a unique 8-bit integer.
    let dev = this.devices.get(devID);
    if (dev === undefined) {
      dev = this.nextDevice;
      if (dev > 0xff) {
        log.warningf('device id overflow! devices: %d', this.devices.size);
        throw syserror.EOVERFLOW;
      }
      this.devices.set(devID, dev);
      this.nextDevice++;
    }
    // Construct a "virtual" inode id with the uint8 device number in the
    // first 8 bits, and the rest of the bits from the host inode id.
    const maskedIno = ino & 0x00ff_ffff_ffff_ffffn;
    if (maskedIno !== ino) {
      log.warningf('first 8 bytes of host inode id %s will be truncated to construct virtual inode id', ino.toString(16));
    }
    return (BigInt(dev) << 56n) | maskedIno;
  }
}

/**
 * newAttachPoint creates a new attacher that gives local file access to all
 * files under 'prefix'. 'prefix' must be an absolute path.
 */
export function newAttachPoint(prefix: string, c: Config): attachPoint {
  // Sanity check the prefix.
  if (!prefix.startsWith('/')) {
    log.warningf('attach point prefix must be absolute %s', prefix);
    throw syserror.EINVAL;
  }
  return new attachPoint(prefix, c);
}

function newLocalFile(a: attachPoint, fd: number, path: string, readable: boolean, stat: sc.Stat): localFile {
  checkSupportedFileType(stat.mode, a.conf.hostUDS === true);
  return new localFile(a, path, fd, readable, stat.mode & linux.S_IFMT, a.makeQID(stat));
}

function fchown(fd: number, uid: number, gid: number): void {
  sc.fchownat(fd, '', uid, gid, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
}

// checkXattrName refuses a name outside the one namespace served; it checks
// the name's length first, as Linux does (ERANGE for "" or > XATTR_NAME_MAX).
function checkXattrName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > linux.XATTR_NAME_MAX) throw syserror.ERANGE;
  // A C string cannot carry a NUL: the host would see a shorter name.
  if (name.includes('\0')) throw syserror.EINVAL;
  if (!name.startsWith('user.')) throw syserror.EOPNOTSUPP;
}

/**
 * localFile implements p9.File wrapping a local file. The underlying file
 * is opened during Walk() and stored in 'file' to be used with other
 * operations. The file is opened as readonly, unless it's a symlink or there is
 * no read access, which requires O_PATH. (Here named pipes, sockets and
 * devices are held by O_PATH too: see heldByPath.)
 *
 * The file may be reopened if the requested mode in Open() is not a subset of
 * current mode. Consequently, 'file' could have a mode wider than requested and
 * must be verified before read/write operations. Before the file is opened and
 * after it's closed, 'mode' is set to an invalid value to prevent an unopened
 * file from being used.
 *
 * File operations must use "at" functions whenever possible:
 *   - Local operations must use AT_EMPTY_PATH:
 *       fchownat(fd, "", AT_EMPTY_PATH, ...), instead of chown(fullpath, ...)
 *   - Creation operations must use (fd + name):
 *       mkdirat(fd, name, ...), instead of mkdir(fullpath, ...)
 *
 * Apart from being faster, it also adds another layer of defense against
 * symlink attacks (note that O_NOFOLLOW applies only to the last element in
 * the path).
 *
 * Differs from gVisor: there are no exceptions here (utimensat on symlinks
 * uses AT_EMPTY_PATH on the O_PATH fd; Connect is refused without HostUDS).
 *
 * Every method is synchronous: each is a few host system calls on fds this
 * process holds, and none of them can block (FIFOs are opened O_NONBLOCK).
 */
export class localFile implements File {
  // attachPoint is the attachPoint that serves this localFile.
  readonly attachPoint: attachPoint;

  // hostPath is the full path to the host file. It is used for logging only
  // (gVisor also uses it for Connect); it is updated by the Renamed hook.
  hostPath: string;

  // file is opened when localFile is created and it's never -1 until Close.
  // It may be reopened if the Open() mode is wider than the mode the file
  // was originally opened with.
  file: number;

  // controlReadable tells whether 'file' was opened with read permissions
  // during a walk.
  controlReadable: boolean;

  // mode is the mode in which the file was opened. Set to invalidMode
  // if localFile isn't opened.
  mode = invalidMode;

  // fileType for this file. It is equivalent to: stat.mode & S_IFMT.
  readonly fileType: number;

  readonly qid: QID;

  // lastDirentOffset is the host directory offset (a d_off cookie) 'file'
  // stands at after the last Readdir. If the next Readdir asks for that
  // offset, the file doesn't need to be repositioned. (gVisor's readDirMu is
  // not needed: Readdir is synchronous, so calls never interleave.)
  private lastDirentOffset = -1n;

  constructor(a: attachPoint, hostPath: string, file: number, controlReadable: boolean, fileType: number, qid: QID) {
    this.attachPoint = a;
    this.hostPath = hostPath;
    this.file = file;
    this.controlReadable = controlReadable;
    this.fileType = fileType;
    this.qid = qid;
    a.openFiles++;
  }

  private isOpen(): boolean {
    return this.mode !== invalidMode;
  }

  private checkROMount(): void {
    const conf = this.attachPoint.conf;
    if (conf.roMount) {
      if (conf.panicOnWrite) log.warningf('write attempted on a read-only mount: %s', this.hostPath);
      throw syserror.EROFS;
    }
  }

  // checkFile throws EBADF once the file is closed (a fid used after clunk
  // is the server's bug; this keeps fd -1 away from the host).
  private checkFile(): number {
    if (this.file < 0) throw syserror.EBADF;
    return this.file;
  }

  /** open implements p9.File.Open. */
  async open(flags: number): Promise<[QID, number]> {
    if (this.isOpen()) {
      log.warningf('attempting to open already opened file: %s', this.hostPath);
      throw syserror.EINVAL;
    }
    const fd = this.checkFile();
    const mode = flags & OpenFlagsModeMask;
    if (mode === WriteOnly || mode === ReadWrite || (flags & linux.O_TRUNC) !== 0) {
      this.checkROMount();
    }

    // Check if control file can be used or if a new open must be created.
    let newFile: number;
    if (mode === ReadOnly && this.controlReadable && (flags & allowedOpenFlags) === 0) {
      log.debugf('Open reusing control file, flags: %o, %s', flags, this.hostPath);
      newFile = fd;
    } else {
      // Ideally reopen would call name_to_handle_at (with empty name) and
      // open_by_handle_at to reopen the file without using 'hostPath'. However,
      // name_to_handle_at and open_by_handle_at aren't supported by overlay2.
      log.debugf('Open reopening file, flags: %o, %s', flags, this.hostPath);
      let osFlags = flags & (linux.O_ACCMODE | allowedOpenFlags);
      // Differs from gVisor: named pipes are served (their control fd is
      // O_PATH, so this is the gofer's first real open of one, with the
      // client's access mode: O_WRONLY finds no reader but the client's own
      // and answers ENXIO as Linux does), and an open must never block the
      // gofer, so they are always opened non-blocking (the client retries a
      // blocking open, host_named_pipe.ts).
      if (this.fileType === linux.S_IFIFO) osFlags |= linux.O_NONBLOCK;
      newFile = reopenProcFd(fd, openFlags | osFlags);
    }

    // The host FD for the client (gVisor's newFDMaybe here) is taken by the
    // server afterwards, through donateFD, and only when the client can
    // receive it.

    // Close old file in case a new one was created.
    if (newFile !== fd) {
      closeQuietly(fd);
      this.file = newFile;
      this.lastDirentOffset = -1n;
    }
    this.mode = mode;
    return [this.qid, 0];
  }

  /**
   * donateFD implements p9's donatingFile: a duplicate of the open host fd
   * for the client (gVisor's newFDMaybe, called by Open and Create), for a
   * regular file only. It carries exactly the access mode of the open: a
   * file created O_WRONLY is open O_RDWR here (see create), so the client
   * gets a reopen of it O_WRONLY. The fd is the gofer's own, opened inside
   * its root without following symlinks, so it reaches nothing else.
   * Differs from gVisor: no O_NONBLOCK (it is a regular file; Node's
   * readSync/writeSync would only see EAGAIN).
   */
  donateFD(): number {
    if (this.attachPoint.conf.noDonate === true || this.fileType !== linux.S_IFREG || !this.isOpen()) return -1;
    const fd = this.checkFile();
    const want = this.mode === WriteOnly ? linux.O_WRONLY : this.mode === ReadWrite ? linux.O_RDWR : linux.O_RDONLY;
    if ((sc.fcntlGetFl(fd) & linux.O_ACCMODE) === want) return sc.dupCloexec(fd);
    return reopenProcFd(fd, openFlags | want);
  }

  /** create implements p9.File.Create. */
  async create(name: string, p9Flags: number, perm: number, uid: number, gid: number): Promise<[File, QID, number]> {
    checkName(name);
    this.checkROMount();
    const dirfd = this.checkFile();

    // Set file creation flags, plus allowed open flags from caller.
    let osFlags = openFlags | linux.O_CREAT | linux.O_EXCL;
    osFlags |= p9Flags & allowedOpenFlags;

    // 'file' may be used for other operations (e.g. Walk), so read access is
    // always added to flags. Note that resulting file might have a wider mode
    // than needed for each particular case.
    const mode = p9Flags & OpenFlagsModeMask;
    if (mode === WriteOnly) {
      osFlags |= linux.O_RDWR;
    } else {
      osFlags |= mode;
    }

    const child = sc.openat(dirfd, name, osFlags, perm & permissionsMask);
    try {
      if (uid !== processUID || gid !== processGID) {
        fchown(child, uid, gid);
        // The chown cleared the set-ID bits (chown(2), even for root):
        // store the mode asked for.
        if ((perm & setIDBits) !== 0) sc.fchmod(child, perm & permissionsMask);
      }
      const stat = sc.fstat(child);
      const c = new localFile(
        this.attachPoint,
        join(this.hostPath, name),
        child,
        true,
        linux.S_IFREG,
        this.attachPoint.makeQID(stat),
      );
      c.mode = mode;
      return [c, c.qid, 0];
    } catch (e) {
      closeQuietly(child);
      // Best effort attempt to remove the file in case of failure.
      this.unlinkQuietly(name, 0);
      throw e;
    }
  }

  private unlinkQuietly(name: string, flags: number): void {
    try {
      sc.unlinkat(this.file, name, flags);
    } catch (e) {
      log.warningf('error unlinking %s after failure: %s', join(this.hostPath, name), e);
    }
  }

  /** mkdir implements p9.File.Mkdir. */
  async mkdir(name: string, perm: number, uid: number, gid: number): Promise<QID> {
    checkName(name);
    this.checkROMount();
    const dirfd = this.checkFile();
    sc.mkdirat(dirfd, name, perm & permissionsMask);
    try {
      // Open directory to change ownership and stat it.
      const f = sc.openat(dirfd, name, linux.O_DIRECTORY | linux.O_RDONLY | openFlags, 0);
      try {
        if (uid !== processUID || gid !== processGID) fchown(f, uid, gid);
        let stat = sc.fstat(f);
        // mkdir(2) dropped the set-ID bits asked for (the host added S_ISGID
        // if the parent has it, as Linux does): add them.
        const want = (stat.mode | (perm & setIDBits)) & permissionsMask;
        if (want !== (stat.mode & permissionsMask)) {
          sc.fchmod(f, want);
          stat = sc.fstat(f);
        }
        return this.attachPoint.makeQID(stat);
      } finally {
        closeQuietly(f);
      }
    } catch (e) {
      // Best effort attempt to remove the dir in case of failure.
      this.unlinkQuietly(name, linux.AT_REMOVEDIR);
      throw e;
    }
  }

  /** walk implements p9.File.Walk. */
  async walk(names: readonly string[]): Promise<[QID[], File]> {
    const [qids, file] = this.doWalk(names);
    return [qids, file];
  }

  /** walkGetAttr implements p9.File.WalkGetAttr. */
  async walkGetAttr(names: readonly string[]): Promise<[QID[], File, AttrMask, Attr]> {
    const [qids, file, stat] = this.doWalk(names);
    const [mask, attr] = fillAttr(stat);
    return [qids, file, mask, attr];
  }

  /**
   * multiGetAttr implements p9.File.MultiGetAttr (gVisor 276ff149a; this
   * is the shape of fsgofer's later implementation): it stats each name
   * relative to an fd of the directory before it (fstatat with
   * AT_SYMLINK_NOFOLLOW), opening only the directories it passes through
   * (O_PATH|O_DIRECTORY|O_NOFOLLOW), and stops at the first name that does
   * not exist or is not a directory, returning what it has. If names[0] is
   * "", this file itself comes first.
   */
  async multiGetAttr(names: readonly string[]): Promise<FullStat[]> {
    const stats: FullStat[] = [];
    let parent = this.checkFile();
    let opened = -1;
    try {
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        if (name === '' && i === 0) {
          const [mask, attr] = fillAttr(sc.fstat(parent));
          stats.push(new FullStat(this.qid, mask, attr));
          continue;
        }
        checkName(name);
        let stat: sc.Stat;
        try {
          stat = sc.fstatat(parent, name, linux.AT_SYMLINK_NOFOLLOW);
        } catch (e) {
          if (e === syserror.ENOENT) return stats;
          throw e;
        }
        const [mask, attr] = fillAttr(stat);
        stats.push(new FullStat(this.attachPoint.makeQID(stat), mask, attr));
        // Doesn't need to continue if entry is not a dir (symlinks included).
        if ((stat.mode & linux.S_IFMT) !== linux.S_IFDIR || i === names.length - 1) break;
        let next: number;
        try {
          next = sc.openat(parent, name, linux.O_PATH | linux.O_DIRECTORY | openFlags, 0);
        } catch (e) {
          // Replaced or removed since the stat: the walk ends here.
          if (e === syserror.ENOENT || e === syserror.ENOTDIR) return stats;
          throw e;
        }
        if (opened >= 0) closeQuietly(opened);
        opened = next;
        parent = next;
      }
      return stats;
    } finally {
      if (opened >= 0) closeQuietly(opened);
    }
  }

  // doWalk is gVisor's localFile.walk (renamed: 'walk' is the p9.File method
  // here, since TS has no exported/unexported case distinction).
  private doWalk(names: readonly string[]): [QID[], localFile, sc.Stat] {
    for (const name of names) checkName(name);
    const fd = this.checkFile();

    // Duplicate current file if 'names' is empty.
    if (names.length === 0) {
      // An opened named pipe's fd is not cloned readable (heldByPath).
      const { fd: newFile, readable, stat } = statControl(
        heldByPath(this.fileType)
          ? { fd: reopenProcFd(fd, openFlags | linux.O_PATH), readable: false }
          : openAnyFile(this.hostPath, (mode) => reopenProcFd(fd, openFlags | mode)),
      );
      const c = new localFile(
        this.attachPoint,
        this.hostPath,
        newFile,
        readable,
        this.fileType,
        this.attachPoint.makeQID(stat),
      );
      // Differs from gVisor (which answers [c.qid] and whose server
      // insists on exactly one QID): this tree's p9 server (handlers.ts
      // walkOne) expects one QID per name, so none for a clone.
      return [[], c, stat];
    }

    const qids: QID[] = [];
    let lastStat: sc.Stat | undefined;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let last: localFile = this;
    for (const name of names) {
      const pathDebug = join(last.hostPath, name);
      const parentFD = last.file;
      let opened: controlFile;
      try {
        opened = openControl(parentFD, name, pathDebug);
      } finally {
        if (last !== this) last.closeSync();
      }
      let c: localFile;
      try {
        lastStat = opened.stat;
        c = newLocalFile(last.attachPoint, opened.fd, pathDebug, opened.readable, lastStat);
      } catch (e) {
        closeQuietly(opened.fd);
        throw e;
      }
      qids.push(c.qid);
      last = c;
    }
    return [qids, last, lastStat!];
  }

  /** statFS implements p9.File.StatFS. */
  async statFS(): Promise<FSStat> {
    const s = sc.fstatfs(this.checkFile());
    // Populate with what's available.
    return new FSStat(s.type >>> 0, s.bsize >>> 0, s.blocks, s.bfree, s.bavail, s.files, s.ffree, 0n, s.namelen >>> 0);
  }

  /** fSync implements p9.File.FSync. */
  async fSync(): Promise<void> {
    if (!this.isOpen()) throw syserror.EBADF;
    sc.fsync(this.checkFile());
  }

  /** getAttr implements p9.File.GetAttr. */
  async getAttr(_req: AttrMask): Promise<[QID, AttrMask, Attr]> {
    const stat = sc.fstat(this.checkFile());
    const [mask, attr] = fillAttr(stat);
    return [this.qid, mask, attr];
  }

  /**
   * setAttr implements p9.File.SetAttr. Due to mismatch in file API, options
   * cannot be changed atomically and user may see partial changes when
   * an error happens.
   */
  async setAttr(valid: SetAttrMask, attr: SetAttr): Promise<void> {
    this.setAttrSync(valid, attr);
  }

  private setAttrSync(valid: SetAttrMask, attr: SetAttr): void {
    this.checkROMount();

    if (valid.empty()) {
      // Nothing to do.
      return;
    }

    // Handle all the sanity checks up front so that the client gets a
    // consistent result that is not attribute dependent.
    if (!valid.isSubsetOf(setAttrAllowed)) {
      log.warningf('SetAttr() failed for %s, mask: %s', this.hostPath, valid.toString());
      throw syserror.EPERM;
    }

    // Check if it's possible to use cached file, or if another one needs to be
    // opened for write.
    let f = this.checkFile();
    let opened = -1;
    if (this.fileType === linux.S_IFREG && this.mode !== WriteOnly && this.mode !== ReadWrite) {
      opened = reopenProcFd(f, openFlags | linux.O_WRONLY);
      f = opened;
    }
    // isPath: f is an O_PATH control fd (heldByPath, or a file the gofer
    // could not open for reading), which fchmod refuses.
    const isPath = opened < 0 && !this.controlReadable && !this.isOpen();

    // The semantics are to either return an error if no changes were made,
    // or no error if *all* changes were made. Well, this can be impossible
    // if the filesystem rejects at least one of the changes, especially
    // since some operations are not easy to undo atomically.
    //
    // This could be made better if SetAttr actually returned the changes
    // it did make, so the client can at least know what has changed. So
    // we at least attempt to make all of the changes and return a generic
    // error if any of them fails, which at least doesn't bias any change
    // over another.
    let err: unknown;
    let chmodDone = false;
    try {
      if (valid.permissions) {
        try {
          // Differs from gVisor (EBADF from fchmod on the O_PATH fd): Linux
          // cannot change a symlink's mode (fchmodat AT_SYMLINK_NOFOLLOW).
          if (this.fileType === linux.S_IFLNK) throw syserror.EOPNOTSUPP;
          chmodFD(f, isPath, attr.permissions & permissionsMask);
          chmodDone = true;
        } catch (e) {
          log.debugf('SetAttr fchmod failed %s, err: %s', this.hostPath, e);
          err = e;
        }
      }

      if (valid.size) {
        try {
          // Only a regular file has a size to set: Linux's truncate(2)
          // gives EINVAL for anything else (EISDIR for a directory, which
          // the sentry checks before asking); an O_PATH fd would be EBADF.
          if (this.fileType !== linux.S_IFREG) throw syserror.EINVAL;
          sc.ftruncate(f, attr.size);
        } catch (e) {
          log.debugf('SetAttr ftruncate failed %s, err: %s', this.hostPath, e);
          err = e;
        }
      }

      if (valid.aTime || valid.mTime) {
        const atime = { sec: 0, nsec: linux.UTIME_OMIT };
        const mtime = { sec: 0, nsec: linux.UTIME_OMIT };
        if (valid.aTime) {
          if (valid.aTimeNotSystemTime) {
            atime.sec = attr.aTimeSeconds;
            atime.nsec = attr.aTimeNanoSeconds;
          } else {
            atime.nsec = linux.UTIME_NOW;
          }
        }
        if (valid.mTime) {
          if (valid.mTimeNotSystemTime) {
            mtime.sec = attr.mTimeSeconds;
            mtime.nsec = attr.mTimeNanoSeconds;
          } else {
            mtime.nsec = linux.UTIME_NOW;
          }
        }
        try {
          // Differs from gVisor: a symlink's times are set through its own
          // O_PATH fd with AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW, rather than by
          // opening its parent directory by host path.
          sc.utimensat(f, '', atime, mtime, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
        } catch (e) {
          log.debugf('SetAttr utimens failed %s, err: %s', this.hostPath, e);
          err = e;
        }
      }

      if (valid.uid || valid.gid) {
        const uid = valid.uid ? attr.uid : -1;
        const gid = valid.gid ? attr.gid : -1;
        try {
          sc.fchownat(f, '', uid, gid, linux.AT_EMPTY_PATH | linux.AT_SYMLINK_NOFOLLOW);
          // chown(2) clears the set-ID bits of a non-directory even for
          // root; a mode asked for in the same Tsetattr is the one stored.
          if (chmodDone && (attr.permissions & setIDBits) !== 0 && this.fileType !== linux.S_IFDIR) {
            chmodFD(f, isPath, attr.permissions & permissionsMask);
          }
        } catch (e) {
          log.debugf('SetAttr fchownat failed %s, err: %s', this.hostPath, e);
          err = e;
        }
      }
    } finally {
      if (opened >= 0) closeQuietly(opened);
    }
    if (err !== undefined) throw syserror.fromNodeError(err);
  }

  /**
   * setAttrClose implements p9.File.SetAttrClose (gVisor's server calls
   * SetAttr then Close for Tsetattrclunk; a server may call this instead).
   */
  async setAttrClose(valid: SetAttrMask, attr: SetAttr): Promise<void> {
    try {
      this.setAttrSync(valid, attr);
    } finally {
      this.closeSync();
    }
  }

  // xattrFD returns an fd the f*xattr calls accept for this file: 'file'
  // unless it is O_PATH, in which case a readable fd is opened (the caller
  // closes it when it differs from 'file').
  private xattrFD(): number {
    const fd = this.checkFile();
    if (this.controlReadable || this.isOpen()) return fd;
    return reopenProcFd(fd, openFlags | linux.O_RDONLY | linux.O_NONBLOCK);
  }

  // userXattrAllowed is Linux's rule (xattr_permission): user.* attributes
  // exist only on regular files and directories. Others read as ENODATA and
  // refuse writes with EPERM; their fd may be O_PATH, which f*xattr refuse.
  private userXattrAllowed(): boolean {
    return this.fileType === linux.S_IFREG || this.fileType === linux.S_IFDIR;
  }

  /**
   * getXattr implements p9.File.GetXattr. size 0 returns the whole value;
   * otherwise a value longer than size is ERANGE, as getxattr(2). Values are
   * byte strings carried in a latin1 JS string (the p9 codec's convention).
   *
   * Differs from gVisor at dbe41765 (EOPNOTSUPP): the user. namespace is
   * served from the host's own xattrs.
   */
  async getXattr(name: string, size: number): Promise<string> {
    checkXattrName(name);
    if (!this.userXattrAllowed()) throw syserror.ENODATA;
    const fd = this.xattrFD();
    try {
      if (size !== 0) return sc.fgetxattr(fd, name, Math.min(size, linux.XATTR_SIZE_MAX)).value.toString('latin1');
      // The value may change between the two calls: retry on ERANGE.
      for (;;) {
        const n = sc.fgetxattr(fd, name, 0).n;
        if (n === 0) return '';
        try {
          return sc.fgetxattr(fd, name, n).value.toString('latin1');
        } catch (e) {
          if (e !== syserror.ERANGE) throw e;
        }
      }
    } finally {
      if (fd !== this.file) closeQuietly(fd);
    }
  }

  /** setXattr implements p9.File.SetXattr; flags are XATTR_CREATE/XATTR_REPLACE. */
  async setXattr(name: string, value: string, flags: number): Promise<void> {
    this.checkROMount();
    checkXattrName(name);
    if (!this.userXattrAllowed()) throw syserror.EPERM;
    const v = Buffer.from(value, 'latin1');
    if (v.length > linux.XATTR_SIZE_MAX) throw syserror.E2BIG;
    const fd = this.xattrFD();
    try {
      sc.fsetxattr(fd, name, v, flags);
    } finally {
      if (fd !== this.file) closeQuietly(fd);
    }
  }

  /**
   * listXattr implements p9.File.ListXattr: the names in the user. namespace
   * (the only one served). size 0 lists all; otherwise a list longer than
   * size bytes (names with their NULs, as listxattr(2) counts) is ERANGE.
   */
  async listXattr(size: number): Promise<Set<string>> {
    const out = new Set<string>();
    if (!this.userXattrAllowed()) return out;
    const fd = this.xattrFD();
    let raw: Buffer;
    try {
      for (;;) {
        const n = sc.flistxattr(fd, 0).n;
        if (n === 0) return out;
        try {
          raw = sc.flistxattr(fd, n).list;
          break;
        } catch (e) {
          if (e !== syserror.ERANGE) throw e;
        }
      }
    } finally {
      if (fd !== this.file) closeQuietly(fd);
    }
    let total = 0;
    for (const n of raw.toString('latin1').split('\0')) {
      if (!n.startsWith('user.')) continue;
      out.add(n);
      total += n.length + 1;
    }
    if (size !== 0 && total > size) throw syserror.ERANGE;
    return out;
  }

  /** removeXattr implements p9.File.RemoveXattr. */
  async removeXattr(name: string): Promise<void> {
    this.checkROMount();
    checkXattrName(name);
    if (!this.userXattrAllowed()) throw syserror.EPERM;
    const fd = this.xattrFD();
    try {
      sc.fremovexattr(fd, name);
    } finally {
      if (fd !== this.file) closeQuietly(fd);
    }
  }

  /** allocate implements p9.File.Allocate. */
  async allocate(mode: AllocateMode, offset: number, length: number): Promise<void> {
    if (!this.isOpen()) throw syserror.EBADF;
    sc.fallocate(this.checkFile(), mode.toLinux(), offset, length);
  }

  /** rename implements p9.File.Rename; the server uses RenameAt instead. */
  async rename(_newDir: File, _newName: string): Promise<void> {
    log.warningf('rename called directly: %s', this.hostPath);
    throw syserror.ENOSYS;
  }

  /** renameAt implements p9.File.RenameAt. */
  async renameAt(oldName: string, directory: File, newName: string): Promise<void> {
    checkName(oldName);
    checkName(newName);
    this.checkROMount();
    const newParent = asLocalFile(directory);
    sc.renameat(this.checkFile(), oldName, newParent.checkFile(), newName);
  }

  /** readAt implements p9.File.ReadAt. */
  async readAt(p: Buffer, offset: number): Promise<number> {
    if (this.mode !== ReadOnly && this.mode !== ReadWrite) throw syserror.EBADF;
    if (!this.isOpen()) throw syserror.EBADF;
    // A named pipe has no offsets (pread would be ESPIPE).
    return sc.pread(this.checkFile(), p, this.fileType === linux.S_IFIFO ? -1 : offset);
  }

  /** writeAt implements p9.File.WriteAt. */
  async writeAt(p: Buffer, offset: number): Promise<number> {
    if (this.mode !== WriteOnly && this.mode !== ReadWrite) throw syserror.EBADF;
    if (!this.isOpen()) throw syserror.EBADF;
    return sc.pwrite(this.checkFile(), p, this.fileType === linux.S_IFIFO ? -1 : offset);
  }

  /** symlink implements p9.File.Symlink. */
  async symlink(target: string, newName: string, uid: number, gid: number): Promise<QID> {
    checkName(newName);
    this.checkROMount();
    // A C string cannot carry a NUL: the host would see a shorter target.
    if (target.includes('\0')) throw syserror.EINVAL;
    const dirfd = this.checkFile();
    sc.symlinkat(target, dirfd, newName);
    try {
      // Open symlink to change ownership and stat it.
      const f = sc.openat(dirfd, newName, linux.O_PATH | openFlags, 0);
      try {
        if (uid !== processUID || gid !== processGID) fchown(f, uid, gid);
        return this.attachPoint.makeQID(sc.fstat(f));
      } finally {
        closeQuietly(f);
      }
    } catch (e) {
      // Best effort attempt to remove the symlink in case of failure.
      this.unlinkQuietly(newName, 0);
      throw e;
    }
  }

  /**
   * link implements p9.File.Link: linkat(target's fd, "", AT_EMPTY_PATH),
   * so the new name is a link to the very file the target fid holds (never
   * a path resolution, never following a symlink).
   */
  async link(target: File, newName: string): Promise<void> {
    checkName(newName);
    this.checkROMount();
    const targetFile = asLocalFile(target);
    const fd = targetFile.checkFile();
    try {
      sc.linkat(fd, '', this.checkFile(), newName, linux.AT_EMPTY_PATH);
    } catch (e) {
      // Before Linux 6.10, AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (ENOENT
      // without it). A gofer that is not root then links the file through
      // its /proc/self/fd magic link (linkat(2)'s documented alternative):
      // it names the very inode this process holds. Not for symlinks, which
      // a followed magic link must not be trusted to leave unresolved.
      if (e !== syserror.ENOENT || targetFile.fileType === linux.S_IFLNK) throw e;
      openProcSelfFD();
      sc.linkat(procSelfFD, String(fd), this.checkFile(), newName, linux.AT_SYMLINK_FOLLOW);
    }
  }

  /**
   * mknod implements p9.File.Mknod.
   *
   * Differs from gVisor at dbe41765: a named pipe is created on the host too
   * (gVisor: EPERM for everything but regular files); sockets and devices
   * are still EPERM, so the sentry falls back to synthetic files.
   */
  async mknod(name: string, mode: FileMode, _major: number, _minor: number, uid: number, gid: number): Promise<QID> {
    checkName(name);
    this.checkROMount();
    const dirfd = this.checkFile();

    // From mknod(2) man page:
    // "EPERM: [...] if the filesystem containing pathname does not support
    // the type of node requested."
    const type = mode & linux.S_IFMT;
    if (type !== linux.S_IFREG && type !== linux.S_IFIFO) throw syserror.EPERM;

    // Allow Mknod to create regular files and named pipes.
    sc.mknodat(dirfd, name, type | (mode & permissionsMask), 0);
    try {
      // Open file to change ownership and stat it.
      const child = sc.openat(dirfd, name, linux.O_PATH | openFlags, 0);
      try {
        if (uid !== processUID || gid !== processGID) {
          fchown(child, uid, gid);
          // The chown cleared the set-ID bits (chown(2), even for root):
          // store the mode asked for.
          if ((mode & setIDBits) !== 0) chmodFD(child, true, mode & permissionsMask);
        }
        return this.attachPoint.makeQID(sc.fstat(child));
      } finally {
        closeQuietly(child);
      }
    } catch (e) {
      // Best effort attempt to remove the file in case of failure.
      this.unlinkQuietly(name, 0);
      throw e;
    }
  }

  /** unlinkAt implements p9.File.UnlinkAt. */
  async unlinkAt(name: string, flags: number): Promise<void> {
    checkName(name);
    this.checkROMount();
    if ((flags & ~linux.AT_REMOVEDIR) !== 0) throw syserror.EINVAL;
    sc.unlinkat(this.checkFile(), name, flags);
  }

  /**
   * readdir implements p9.File.Readdir. count is Treaddir's byte count: the
   * entries returned fit in it once encoded (gVisor returns up to 'count'
   * entries and lets the encoder truncate).
   *
   * Differs from gVisor: each Dirent's offset is the host's d_off cookie
   * of the entry, and a Readdir at an offset seeks the host directory to
   * that cookie (0 rewinds). A client that continues from the last offset it
   * got therefore sees each entry that stayed in the directory exactly once,
   * however many entries were added or removed meanwhile, as Linux getdents
   * guarantees; gVisor's entry indices skip or repeat entries then.
   */
  async readdir(offset: bigint, count: number): Promise<Dirent[]> {
    if (this.mode !== ReadOnly && this.mode !== ReadWrite) throw syserror.EBADF;
    if (!this.isOpen()) throw syserror.EBADF;
    const fd = this.checkFile();
    // Host cookies are off_t: a larger offset cannot have come from us.
    if (offset > 0x7fff_ffff_ffff_ffffn) throw syserror.EINVAL;

    // Check if the file is at the correct position already. If not, seek to
    // the requested offset. We always seek if offset is 0, since this is
    // side-effectual (equivalent to rewinddir(3), which causes the directory
    // stream to resynchronize with the directory's current contents).
    if (this.lastDirentOffset !== offset || offset === 0n) {
      this.lastDirentOffset = -1n;
      sc.lseekCookie(fd, offset);
    }
    try {
      const dirents = this.readDirent(fd, offset, count);
      return dirents;
    } catch (e) {
      // On failure, the state is unknown, force call to seek() next time.
      this.lastDirentOffset = -1n;
      throw e;
    }
  }

  // readDirent reads entries from the host directory (positioned at
  // 'offset') until 'count' bytes of encoded entries are filled or the
  // directory ends, and leaves the host position just after the last entry
  // returned (lastDirentOffset).
  private readDirent(fd: number, offset: bigint, count: number): Dirent[] {
    const dirents: Dirent[] = [];
    const buf = direntsBuf;
    const a = this.attachPoint;
    let dev: bigint | undefined;
    // Limit 'count' to cap the slice size that is returned.
    let budget = Math.min(count, 1 << 24);
    let pos = offset;
    for (;;) {
      const ents = sc.getdents64(fd, buf);
      if (ents.length === 0) break;
      let full = false;
      for (const ent of ents) {
        if (ent.name === '.' || ent.name === '..') {
          pos = ent.off;
          continue;
        }
        // qid[13] offset[8] type[1] name[s]
        const size = 24 + Buffer.byteLength(ent.name, 'utf8');
        if (size > budget) {
          full = true;
          break;
        }
        let qid: QID;
        let dt = ent.type;
        const t = direntQIDType(dt);
        if (t === undefined) {
          // DT_UNKNOWN: the filesystem does not say; ask.
          try {
            const stat = sc.fstatat(fd, ent.name, linux.AT_SYMLINK_NOFOLLOW);
            qid = a.makeQID(stat);
            dt = linux.direntTypeOfMode(stat.mode);
          } catch (e) {
            log.warningf('Readdir is skipping file with failed stat %s, err: %s', this.hostPath, e);
            pos = ent.off;
            continue;
          }
        } else {
          if (dev === undefined) dev = sc.fstat(fd).dev;
          qid = new QID(t, 0, a.makePath(dev, ent.ino));
        }
        budget -= size;
        // Differs from gVisor (qid.type): the type byte is the host's d_type,
        // as diod sends and Linux's v9fs client reads it (a named pipe is
        // DT_FIFO, where its QID type cannot tell it from a socket).
        dirents.push(new Dirent(qid, ent.off, dt, ent.name));
        pos = ent.off;
      }
      if (full) {
        // Entries past the budget were read from the host: put the
        // directory back just after the last entry returned.
        sc.lseekCookie(fd, pos);
        // Not even one entry fits: "Result buffer is too small" (EINVAL),
        // as getdents(2) answers, rather than an empty answer that would
        // read as the end of the directory.
        if (dirents.length === 0) {
          this.lastDirentOffset = pos;
          throw syserror.EINVAL;
        }
        break;
      }
    }
    this.lastDirentOffset = pos;
    return dirents;
  }

  /** readlink implements p9.File.Readlink. */
  async readlink(): Promise<string> {
    return sc.readlinkat(this.checkFile(), '').toString('utf8');
  }

  /** flush implements p9.File.Flush. */
  async flush(): Promise<void> {}

  /**
   * connect implements p9.File.Connect. Differs from gVisor: host Unix
   * sockets are never connected (no fd can be donated over our transport),
   * so this is ECONNREFUSED as gVisor answers without HostUDS.
   */
  async connect(_flags: ConnectFlags): Promise<number> {
    throw syserror.ECONNREFUSED;
  }

  /**
   * lock is Tlock (9P2000.L): a POSIX record lock held as a host OFD lock on
   * this file's open fd, so fids of different clients (different open file
   * descriptions) conflict as processes do on Linux. It never waits: a
   * conflict answers LockStatus.BLOCKED and the client retries, as Linux's
   * v9fs does with P9_LOCK_FLAGS_BLOCK.
   */
  async lock(type: number, _flags: number, start: number, length: number, _procID: number, _clientID: string): Promise<number> {
    if (!this.isOpen()) throw syserror.EBADF;
    const l = { type: lockTypeToHost(type), whence: 0, start, len: length, pid: 0 };
    try {
      sc.fcntlLock(this.checkFile(), sc.F_OFD_SETLK, l);
      return LockStatus.SUCCESS;
    } catch (e) {
      if (e === syserror.EAGAIN || e === syserror.EACCES) return LockStatus.BLOCKED;
      if (e === syserror.EBADF) throw e;
      log.debugf('Tlock failed %s: %s', this.hostPath, e);
      return LockStatus.ERROR;
    }
  }

  /**
   * getLock is Tgetlock: the first lock that would conflict with the one
   * described, or the request with type F_UNLCK if none. The holder of a
   * host OFD lock has no pid: the answer carries the asker's procID and
   * clientID (a documented limitation).
   */
  async getLock(l: LockDescription): Promise<LockDescription> {
    if (!this.isOpen()) throw syserror.EBADF;
    const r = sc.fcntlLock(this.checkFile(), sc.F_OFD_GETLK, {
      type: lockTypeToHost(l.type),
      whence: 0,
      start: l.start,
      len: l.length,
      pid: 0,
    });
    if (r.type === sc.F_UNLCK) return { ...l, type: LockType.UNLCK };
    return {
      type: r.type === sc.F_RDLCK ? LockType.RDLCK : LockType.WRLCK,
      start: r.start,
      length: r.len,
      procID: l.procID,
      clientID: l.clientID,
    };
  }

  /** close implements p9.File.Close. */
  async close(): Promise<void> {
    this.closeSync();
  }

  // closeSync is close without the Promise (walk and setAttrClose use it).
  closeSync(): void {
    this.mode = invalidMode;
    if (this.file < 0) return;
    const fd = this.file;
    this.file = -1;
    this.attachPoint.openFiles--;
    sc.close(fd);
  }

  /** renamed implements p9.Renamed. */
  renamed(newDir: File, newName: string): void {
    this.hostPath = join(asLocalFile(newDir).hostPath, newName);
  }
}

function lockTypeToHost(t: number): number {
  switch (t) {
    case LockType.RDLCK:
      return sc.F_RDLCK;
    case LockType.WRLCK:
      return sc.F_WRLCK;
    case LockType.UNLCK:
      return sc.F_UNLCK;
    default:
      throw syserror.EINVAL;
  }
}

const setAttrAllowed = SetAttrMask.with({
  permissions: true,
  uid: true,
  gid: true,
  size: true,
  aTime: true,
  mTime: true,
  aTimeNotSystemTime: true,
  mTimeNotSystemTime: true,
});

// One getdents buffer for every Readdir: calls are synchronous.
const direntsBuf = Buffer.alloc(32 * 1024);

// direntQIDType is fileModeQIDType for a dirent's d_type (undefined for
// DT_UNKNOWN).
function direntQIDType(dt: number): number | undefined {
  switch (dt) {
    case linux.DT_DIR:
      return TypeDir;
    case linux.DT_LNK:
      return TypeSymlink;
    case linux.DT_REG:
      return TypeRegular;
    case linux.DT_UNKNOWN:
      return undefined;
    default:
      return fileModeQIDType(linux.direntTypeToFileMode(dt));
  }
}

function asLocalFile(f: File): localFile {
  if (!(f instanceof localFile)) throw syserror.EINVAL;
  return f;
}

function fillAttr(stat: sc.Stat): [AttrMask, Attr] {
  const attr = new Attr(
    stat.mode,
    stat.uid,
    stat.gid,
    stat.nlink,
    stat.rdev,
    stat.size,
    stat.blksize,
    stat.blocks,
    stat.atimeSec,
    stat.atimeNsec,
    stat.mtimeSec,
    stat.mtimeNsec,
    stat.ctimeSec,
    stat.ctimeNsec,
  );
  return [fillAttrValid.clone(), attr];
}

const fillAttrValid = AttrMask.with({
  mode: true,
  uid: true,
  gid: true,
  nLink: true,
  rDev: true,
  size: true,
  blocks: true,
  aTime: true,
  mTime: true,
  cTime: true,
});
