// tmpfs' path operations: vfs.FilesystemImpl for filesystem, in the order of
// gVisor's pkg/sentry/fsimpl/tmpfs/filesystem.go.
//
// Go defines methods of one type in several files; here the class is in
// tmpfs.ts and this module adds the path operations to its prototype, with
// declaration merging telling the type checker so.
//
// Every operation locks fs.mu with tryLock/tryRLock first: uncontended, an
// operation runs without waiting a tick; it only awaits when another task
// holds the lock across an await (rmdir, unlink and rename awaiting
// VirtualFilesystem.prepare*Dentry).

import * as linux from '../../../abi/linux';
import { CAP_MKNOD } from '../../../abi/linux/capability';
import { IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR } from '../../../abi/linux/inotify';
import type { Statfs, Statx } from '../../../abi/linux/stat';
import type { Context } from '../../../context';
import type { Builder } from '../../../fspath';
import * as syserror from '../../../syserror/syserror';
import { credentialsFromContext, type Credentials, type KGID } from '../../kernel/auth';
import * as vfs from '../../vfs';
import { deviceFile, newDeviceFile } from './device_file';
import { directory, directoryFD, newDirectory } from './directory';
import { namedPipe, newNamedPipe } from './named_pipe';
import { newRegularFile, regularFile, regularFileFD, removePrivs } from './regular_file';
import { newSocketFile, socketFile } from './socket_file';
import { newSymlink, symlink } from './symlink';
import { dentry, filesystem, maxLinks } from './tmpfs';

declare module './tmpfs' {
  // The methods below, defined on filesystem.prototype.
  interface filesystem extends vfs.FilesystemImpl {
    doCreateAt(
      ctx: Context, rp: vfs.ResolvingPath, dir: boolean, create: (parentDir: directory, name: string) => void,
      precheck?: () => void,
    ): Promise<void>;
  }
}

/** sync implements vfs.FilesystemImpl.sync. */
filesystem.prototype.sync = async function sync(this: filesystem, _ctx: Context): Promise<void> {
  // All filesystem state is in-memory.
};

/** nameTooLong reports whether a path component exceeds NAME_MAX bytes. */
function nameTooLong(name: string): boolean {
  // A component of up to 255 code units is at most 255 bytes when decoded as
  // latin1 (fspath's convention for raw bytes); count UTF-8 only beyond.
  return name.length > linux.NAME_MAX && Buffer.byteLength(name, 'latin1') > linux.NAME_MAX;
}

/**
 * stepLocked resolves rp.component() to an existing file, starting from the
 * given directory.
 *
 * stepLocked is loosely analogous to fs/namei.c:walk_component().
 *
 * Preconditions:
 * * filesystem.mu must be locked.
 * * !rp.done().
 */
export function stepLocked(ctx: Context, rp: vfs.ResolvingPath, d: dentry): dentry {
  const dir = d.inode.impl;
  if (!(dir instanceof directory)) throw syserror.ENOTDIR;
  d.inode.checkPermissions(rp.credentials(), vfs.MayExec);
  for (;;) {
    const name = rp.component();
    if (name === '.') {
      rp.advance();
      return d;
    }
    if (name === '..') {
      if (rp.checkRoot(ctx, d.vfsd) || d.parent === null) {
        rp.advance();
        return d;
      }
      rp.checkMount(ctx, d.parent.vfsd);
      rp.advance();
      return d.parent;
    }
    if (nameTooLong(name)) throw syserror.ENAMETOOLONG;
    const child = dir.childMap.get(name);
    if (child === undefined) throw syserror.ENOENT;
    rp.checkMount(ctx, child.vfsd);
    const impl = child.inode.impl;
    if (impl instanceof symlink && rp.shouldFollowSymlink()) {
      // Symlink traversal updates access time.
      child.inode.touchAtime(rp.mount());
      rp.handleSymlink(impl.target);
      continue; // don't check the current directory again
    }
    rp.advance();
    return child;
  }
}

/**
 * walkParentDirLocked resolves all but the last path component of rp to an
 * existing directory, starting from the given directory (which is usually
 * rp.start().impl). It does not check that the returned directory is
 * searchable by the provider of rp.
 *
 * walkParentDirLocked is loosely analogous to Linux's
 * fs/namei.c:path_parentat().
 *
 * Preconditions:
 * * filesystem.mu must be locked.
 * * !rp.done().
 */
export function walkParentDirLocked(ctx: Context, rp: vfs.ResolvingPath, d: dentry): directory {
  while (!rp.final()) d = stepLocked(ctx, rp, d);
  const dir = d.inode.impl;
  if (!(dir instanceof directory)) throw syserror.ENOTDIR;
  return dir;
}

/**
 * resolveLocked resolves rp to an existing file.
 *
 * resolveLocked is loosely analogous to Linux's fs/namei.c:path_lookupat().
 *
 * Preconditions: filesystem.mu must be locked.
 */
export function resolveLocked(ctx: Context, rp: vfs.ResolvingPath): dentry {
  let d = rp.start().impl as dentry;
  while (!rp.done()) d = stepLocked(ctx, rp, d);
  if (rp.mustBeDir() && !d.inode.isDir()) throw syserror.ENOTDIR;
  return d;
}

/**
 * doCreateAt checks that creating a file at rp is permitted, then invokes
 * create to do so.
 *
 * doCreateAt is loosely analogous to a conjunction of Linux's
 * fs/namei.c:filename_create() and done_path_create().
 *
 * precheck, if given, runs after the mount write check and before the
 * parent's write permission check (linkat's EXDEV and may_linkat come there
 * in Linux's do_linkat, before vfs_link's may_create).
 *
 * Preconditions:
 * * !rp.done().
 * * For the final path component in rp, !rp.shouldFollowSymlink().
 */
filesystem.prototype.doCreateAt = async function doCreateAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, dir: boolean,
  create: (parentDir: directory, name: string) => void, precheck?: () => void,
): Promise<void> {
  if (!this.mu.tryLock()) await this.mu.lock();
  try {
    const parentDir = walkParentDirLocked(ctx, rp, rp.start().impl as dentry);

    // Order of checks is important. First check if parent directory can be
    // executed, then check for existence, and lastly check if mount is
    // writable.
    parentDir.inode.checkPermissions(rp.credentials(), vfs.MayExec);
    const name = rp.component();
    if (name === '.' || name === '..') throw syserror.EEXIST;
    if (nameTooLong(name)) throw syserror.ENAMETOOLONG;
    if (parentDir.childMap.has(name)) throw syserror.EEXIST;
    if (!dir && rp.mustBeDir()) throw syserror.ENOENT;
    // tmpfs never calls VFS.InvalidateDentry(), so parentDir.dentry can only
    // be dead if it was deleted.
    if (parentDir.dentry.vfsd.isDead()) throw syserror.ENOENT;
    const mnt = rp.mount();
    mnt.checkBeginWrite();
    try {
      precheck?.();
      parentDir.inode.checkPermissions(rp.credentials(), vfs.MayWrite);
      create(parentDir, name);
      const ev = dir ? IN_CREATE | IN_ISDIR : IN_CREATE;
      parentDir.inode.watches.notify(ctx, name, ev, 0, vfs.InodeEvent, false /* unlinked */);
      parentDir.inode.touchCMtime();
    } finally {
      mnt.endWrite();
    }
  } finally {
    this.mu.unlock();
  }
};

/**
 * childOwner returns the group and mode of a file created in parentDir, as
 * Linux's fs/inode.c:inode_init_owner() sets them: in a set-group-ID
 * directory the file takes the directory's group, and a new directory
 * inherits S_ISGID; a set-group-ID group-executable file created there by a
 * caller outside that group and without CAP_FSETID loses S_ISGID. (gVisor's
 * tmpfs at dbe41765 ignores set-group-ID directories.)
 */
function childOwner(parentDir: directory, creds: Credentials, mode: number, isDir: boolean): [KGID, number] {
  const pmode = parentDir.inode.mode;
  if ((pmode & linux.S_ISGID) === 0) return [creds.effectiveKGID, mode];
  const kgid = parentDir.inode.gid;
  if (isDir) {
    mode |= linux.S_ISGID;
  } else if ((mode & (linux.S_ISGID | linux.S_IXGRP)) === (linux.S_ISGID | linux.S_IXGRP) &&
    !creds.inGroup(kgid) && !vfs.hasCapabilityOnFile(creds, linux.CAP_FSETID, creds.effectiveKUID, kgid)) {
    mode &= ~linux.S_ISGID;
  }
  return [kgid, mode];
}

/** accessAt implements vfs.FilesystemImpl.accessAt. */
filesystem.prototype.accessAt = async function accessAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, creds: Credentials, ats: vfs.AccessTypes,
): Promise<void> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const d = resolveLocked(ctx, rp);
    d.inode.checkPermissions(creds, ats);
  } finally {
    this.mu.rUnlock();
  }
};

/** getDentryAt implements vfs.FilesystemImpl.getDentryAt. */
filesystem.prototype.getDentryAt = async function getDentryAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.GetDentryOptions,
): Promise<vfs.Dentry> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const d = resolveLocked(ctx, rp);
    if (opts.checkSearchable) {
      if (!d.inode.isDir()) throw syserror.ENOTDIR;
      d.inode.checkPermissions(rp.credentials(), vfs.MayExec);
    }
    d.incRef();
    return d.vfsd;
  } finally {
    this.mu.rUnlock();
  }
};

/** getParentDentryAt implements vfs.FilesystemImpl.getParentDentryAt. */
filesystem.prototype.getParentDentryAt = async function getParentDentryAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<vfs.Dentry> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const dir = walkParentDirLocked(ctx, rp, rp.start().impl as dentry);
    dir.dentry.incRef();
    return dir.dentry.vfsd;
  } finally {
    this.mu.rUnlock();
  }
};

/**
 * linkAt implements vfs.FilesystemImpl.linkAt.
 *
 * Differs from gVisor, following Linux's do_linkat: EXDEV and may_linkat's
 * EPERM come before the parent's write permission check (EACCES); the
 * linked inode's ctime changes, as Linux's shmem_link sets it.
 */
filesystem.prototype.linkAt = function linkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, vd: vfs.VirtualDentry,
): Promise<void> {
  return this.doCreateAt(ctx, rp, false /* dir */, (parentDir, name) => {
    const i = (vd.dentry().impl as dentry).inode;
    if (i.isDir()) throw syserror.EPERM;
    if (i.nlink === 0) throw syserror.ENOENT;
    if (i.nlink === maxLinks) throw syserror.EMLINK;
    i.incLinksLocked();
    i.touchCtime();
    i.watches.notify(ctx, '', IN_ATTRIB, 0, vfs.InodeEvent, false /* unlinked */);
    parentDir.insertChildLocked(this.newDentry(i), name);
  }, () => {
    if (rp.mount() !== vd.mount()) throw syserror.EXDEV;
    const i = (vd.dentry().impl as dentry).inode;
    vfs.mayLink(credentialsFromContext(ctx), i.mode, i.uid, i.gid);
  });
};

/** mkdirAt implements vfs.FilesystemImpl.mkdirAt. */
filesystem.prototype.mkdirAt = function mkdirAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MkdirOptions,
): Promise<void> {
  return this.doCreateAt(ctx, rp, true /* dir */, (parentDir, name) => {
    const creds = rp.credentials();
    if (parentDir.inode.nlink === maxLinks) throw syserror.EMLINK;
    const [kgid, mode] = childOwner(parentDir, creds, opts.mode & ~linux.S_IFMT, true);
    // Created before the parent's link count changes: it may fail (ENOSPC).
    const childDir = newDirectory(this, creds.effectiveKUID, kgid, mode);
    parentDir.inode.incLinksLocked(); // from child's ".."
    parentDir.insertChildLocked(childDir.dentry, name);
  });
};

/**
 * mknodAt implements vfs.FilesystemImpl.mknodAt.
 *
 * Differs from gVisor: a device file needs CAP_MKNOD (EPERM otherwise), as
 * Linux's vfs_mknod checks after may_create; a character device 0:0 (a
 * whiteout, WHITEOUT_DEV) does not.
 */
filesystem.prototype.mknodAt = function mknodAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.MknodOptions,
): Promise<void> {
  return this.doCreateAt(ctx, rp, false /* dir */, (parentDir, name) => {
    const creds = rp.credentials();
    const [kgid, mode] = childOwner(parentDir, creds, opts.mode, false);
    const perms = mode & ~linux.S_IFMT;
    let childInode;
    switch (mode & linux.S_IFMT) {
      case linux.S_IFREG:
        childInode = newRegularFile(this, creds.effectiveKUID, kgid, perms);
        break;
      case linux.S_IFIFO:
        childInode = newNamedPipe(this, creds.effectiveKUID, kgid, perms);
        break;
      case linux.S_IFBLK:
        if (!creds.hasCapability(CAP_MKNOD)) throw syserror.EPERM;
        childInode = newDeviceFile(this, creds.effectiveKUID, kgid, perms, vfs.BlockDevice, opts.devMajor ?? 0, opts.devMinor ?? 0);
        break;
      case linux.S_IFCHR:
        // A character device 0:0 is a whiteout, which needs no capability.
        if (!creds.hasCapability(CAP_MKNOD) && ((opts.devMajor ?? 0) !== 0 || (opts.devMinor ?? 0) !== 0)) {
          throw syserror.EPERM;
        }
        childInode = newDeviceFile(this, creds.effectiveKUID, kgid, perms, vfs.CharDevice, opts.devMajor ?? 0, opts.devMinor ?? 0);
        break;
      case linux.S_IFSOCK:
        childInode = newSocketFile(this, creds.effectiveKUID, kgid, mode, opts.endpoint ?? null);
        break;
      default:
        throw syserror.EINVAL;
    }
    parentDir.insertChildLocked(this.newDentry(childInode), name);
  });
};

/** openAt implements vfs.FilesystemImpl.openAt. */
filesystem.prototype.openAt = async function openAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions,
): Promise<vfs.FileDescription> {
  if ((opts.flags & linux.O_TMPFILE) === linux.O_TMPFILE) {
    // Not yet supported.
    throw syserror.EOPNOTSUPP;
  }

  // Handle O_CREAT and !O_CREAT separately, since in the latter case we
  // don't need fs.mu for writing.
  if ((opts.flags & linux.O_CREAT) === 0) {
    if (!this.mu.tryRLock()) await this.mu.rLock();
    let d: dentry;
    try {
      d = resolveLocked(ctx, rp);
      d.incRef();
    } finally {
      this.mu.rUnlock();
    }
    try {
      return await d.open(ctx, rp, opts, false /* afterCreate */);
    } finally {
      d.decRef(ctx);
    }
  }

  const mustCreate = (opts.flags & linux.O_EXCL) !== 0;
  let start = rp.start().impl as dentry;
  if (!this.mu.tryLock()) await this.mu.lock();
  let unlocked = false;
  const unlock = (): void => {
    if (!unlocked) {
      this.mu.unlock();
      unlocked = true;
    }
  };
  try {
    if (rp.done()) {
      // Reject attempts to open mount root directory with O_CREAT.
      if (rp.mustBeDir()) throw syserror.EISDIR;
      if (mustCreate) throw syserror.EEXIST;
      // Linux's do_open: O_CREAT on an existing directory is EISDIR (gVisor
      // at dbe41765 opens it).
      if (start.inode.isDir()) throw syserror.EISDIR;
      start.incRef();
      unlock();
      try {
        return await start.open(ctx, rp, opts, false /* afterCreate */);
      } finally {
        start.decRef(ctx);
      }
    }
    for (;;) { // afterTrailingSymlink:
      const parentDir = walkParentDirLocked(ctx, rp, start);
      // Check for search permission in the parent directory.
      parentDir.inode.checkPermissions(rp.credentials(), vfs.MayExec);
      // Reject attempts to open directories with O_CREAT.
      if (rp.mustBeDir()) throw syserror.EISDIR;
      const name = rp.component();
      if (name === '.' || name === '..') throw syserror.EISDIR;
      // Linux's lookup_open: nothing is created in a removed directory
      // (IS_DEADDIR), before the name is looked at. gVisor at dbe41765
      // checks this in doCreateAt only.
      if (parentDir.dentry.vfsd.isDead()) throw syserror.ENOENT;
      if (nameTooLong(name)) throw syserror.ENAMETOOLONG;
      // Determine whether or not we need to create a file.
      const child = parentDir.childMap.get(name);
      if (child === undefined) {
        // Already checked for searchability above; now check for writability.
        parentDir.inode.checkPermissions(rp.credentials(), vfs.MayWrite);
        const mnt = rp.mount();
        mnt.checkBeginWrite();
        try {
          // Create and open the child.
          const creds = rp.credentials();
          const [kgid, mode] = childOwner(parentDir, creds, (opts.mode ?? 0) & ~linux.S_IFMT, false);
          const created = this.newDentry(newRegularFile(this, creds.effectiveKUID, kgid, mode));
          parentDir.insertChildLocked(created, name);
          created.incRef();
          unlock();
          let fd: vfs.FileDescription;
          try {
            fd = await created.open(ctx, rp, opts, true /* afterCreate */);
          } finally {
            created.decRef(ctx);
          }
          parentDir.inode.watches.notify(ctx, name, IN_CREATE, 0, vfs.PathEvent, false /* unlinked */);
          parentDir.inode.touchCMtime();
          return fd;
        } finally {
          mnt.endWrite();
        }
      }
      if (mustCreate) throw syserror.EEXIST;
      // Is the file mounted over?
      rp.checkMount(ctx, child.vfsd);
      // Do we need to resolve a trailing symlink?
      const impl = child.inode.impl;
      if (impl instanceof symlink && rp.shouldFollowSymlink()) {
        // Symlink traversal updates access time.
        child.inode.touchAtime(rp.mount());
        rp.handleSymlink(impl.target);
        start = parentDir.dentry;
        continue;
      }
      if (rp.mustBeDir() && !child.inode.isDir()) throw syserror.ENOTDIR;
      // Linux's do_open: O_CREAT on an existing directory is EISDIR (gVisor
      // at dbe41765 opens it).
      if (child.inode.isDir()) throw syserror.EISDIR;
      child.incRef();
      unlock();
      try {
        return await child.open(ctx, rp, opts, false /* afterCreate */);
      } finally {
        child.decRef(ctx);
      }
    }
  } finally {
    unlock();
  }
};

declare module './tmpfs' {
  interface dentry {
    open(ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions, afterCreate: boolean): Promise<vfs.FileDescription>;
  }
}

/**
 * open opens the file d represents.
 *
 * Preconditions: The caller must hold no locks (since opening pipes may
 * block indefinitely).
 */
dentry.prototype.open = async function open(
  this: dentry, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.OpenOptions, afterCreate: boolean,
): Promise<vfs.FileDescription> {
  const ats = vfs.accessTypesForOpenFlags(opts);
  const impl = this.inode.impl;
  // Linux's may_open checks the file type before the permission bits
  // (gVisor checks permissions first).
  if (impl instanceof symlink) {
    // Can't open symlinks without O_PATH (gvisor.dev/issue/2782).
    throw syserror.ELOOP;
  }
  if (impl instanceof directory && (ats & vfs.MayWrite) !== 0) {
    // Can't open directories writably.
    throw syserror.EISDIR;
  }
  // Linux's do_open takes the mount's write access for O_TRUNC of a regular
  // file before may_open: EROFS on a read-only mount, whatever the access
  // mode (gVisor at dbe41765 truncates without the check).
  const truncate = !afterCreate && (opts.flags & linux.O_TRUNC) !== 0 && impl instanceof regularFile;
  if (truncate) rp.mount().checkBeginWrite();
  try {
    if (!afterCreate) this.inode.checkPermissions(rp.credentials(), ats);
    // Linux's may_open: O_NOATIME is for the owner (or CAP_FOWNER) only.
    if ((opts.flags & linux.O_NOATIME) !== 0 && !vfs.canActAsOwner(rp.credentials(), this.inode.uid)) {
      throw syserror.EPERM;
    }
    if (impl instanceof regularFile) {
      const fd = new regularFileFD();
      fd.lockFD.init(this.inode.locks);
      fd.vfsfd.init(fd, opts.flags, rp.mount(), this.vfsd, { allowDirectIO: true });
      if (truncate) {
        // Differs from gVisor (which only truncates): Linux's handle_truncate
        // goes through notify_change, which bumps mtime and ctime even for an
        // empty file and drops set-user-ID.
        impl.truncate(0);
        removePrivs(ctx, this.inode);
        this.inode.touchCMtime();
      }
      return fd.vfsfd;
    }
  } finally {
    if (truncate) rp.mount().endWrite();
  }
  if (impl instanceof directory) {
    const fd = new directoryFD();
    fd.lockFD.init(this.inode.locks);
    fd.vfsfd.init(fd, opts.flags, rp.mount(), this.vfsd, { allowDirectIO: true });
    return fd.vfsfd;
  }
  if (impl instanceof namedPipe) {
    return impl.open(ctx, rp.mount(), this.vfsd, opts.flags, this.inode.locks);
  }
  if (impl instanceof deviceFile) {
    return rp.virtualFilesystem().openDeviceSpecialFile(ctx, rp.mount(), this.vfsd, impl.kind, impl.major, impl.minor, opts);
  }
  // socketFile.
  throw syserror.ENXIO;
};

/** readlinkAt implements vfs.FilesystemImpl.readlinkAt. */
filesystem.prototype.readlinkAt = async function readlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<string> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const d = resolveLocked(ctx, rp);
    const impl = d.inode.impl;
    if (!(impl instanceof symlink)) throw syserror.EINVAL;
    impl.inode.touchAtime(rp.mount());
    return impl.target;
  } finally {
    this.mu.rUnlock();
  }
};

/**
 * renameAt implements vfs.FilesystemImpl.renameAt.
 *
 * Differs from gVisor at dbe41765 (which rejects every flag with EINVAL),
 * following Linux:
 * - RENAME_NOREPLACE is supported (EEXIST when the target exists);
 *   RENAME_EXCHANGE and RENAME_WHITEOUT stay EINVAL, as gVisor has them.
 * - Replacing a file in a sticky directory needs the same rights as
 *   deleting it (fs/namei.c:may_delete on the target).
 * - Renaming a file onto another hard link of the same inode does nothing
 *   (vfs_rename: source == target), where gVisor would drop the target link.
 * - The renamed inode's and a replaced inode's ctime change (shmem_rename2).
 */
filesystem.prototype.renameAt = async function renameAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, oldParentVD: vfs.VirtualDentry, oldName: string,
  opts: vfs.RenameOptions,
): Promise<void> {
  const flags = opts.flags ?? 0;
  if ((flags & ~linux.RENAME_NOREPLACE) !== 0) throw syserror.EINVAL;
  const noReplace = (flags & linux.RENAME_NOREPLACE) !== 0;

  // Resolve newParent first to verify that it's on this Mount.
  if (!this.mu.tryLock()) await this.mu.lock();
  try {
    const newParentDir = walkParentDirLocked(ctx, rp, rp.start().impl as dentry);
    // Linux's do_renameat2 fails a rename across mounts with EXDEV before it
    // looks at either last component (and oldParentVD may then be another
    // filesystem's dentry).
    const mnt = rp.mount();
    if (mnt !== oldParentVD.mount()) throw syserror.EXDEV;
    // Search permission on both parents (Linux's path walks check it for the
    // last directory too; the old parent comes from getParentDentryAt, which
    // does not).
    const oldParentInode = (oldParentVD.dentry().impl as dentry).inode;
    oldParentInode.checkPermissions(rp.credentials(), vfs.MayExec);
    newParentDir.inode.checkPermissions(rp.credentials(), vfs.MayExec);
    const newName = rp.component();
    if (newName === '.' || newName === '..') {
      if (noReplace) throw syserror.EEXIST;
      throw syserror.EBUSY;
    }
    mnt.checkBeginWrite();
    try {
      await this.renameLocked(ctx, rp, oldParentVD, oldName, newParentDir, newName, opts, noReplace);
    } finally {
      mnt.endWrite();
    }
  } finally {
    this.mu.unlock();
  }
};

declare module './tmpfs' {
  interface filesystem {
    renameLocked(
      ctx: Context, rp: vfs.ResolvingPath, oldParentVD: vfs.VirtualDentry, oldName: string, newParentDir: directory,
      newName: string, opts: vfs.RenameOptions, noReplace: boolean,
    ): Promise<void>;
  }
}

/**
 * renameLocked is the body of renameAt after the mount checks (Go's defers
 * of fs.mu.Unlock and mnt.EndWrite are the callers' finally blocks).
 *
 * Preconditions: fs.mu is locked for writing; rp.mount().checkBeginWrite()
 * has succeeded.
 */
filesystem.prototype.renameLocked = async function renameLocked(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, oldParentVD: vfs.VirtualDentry, oldName: string,
  newParentDir: directory, newName: string, opts: vfs.RenameOptions, noReplace: boolean,
): Promise<void> {
  // The checks run in the order of Linux's do_renameat2 and vfs_rename
  // (gVisor checks permissions before looking the names up, and the no-op
  // rename last; Linux answers ENOENT, EEXIST, ENOTDIR, EINVAL and the
  // rename-onto-itself success before any EACCES).
  const creds = rp.credentials();
  const oldParentDir = (oldParentVD.dentry().impl as dentry).inode.impl as directory;
  if (nameTooLong(oldName)) throw syserror.ENAMETOOLONG;
  const renamed = oldParentDir.childMap.get(oldName);
  if (renamed === undefined) throw syserror.ENOENT;
  if (nameTooLong(newName)) throw syserror.ENAMETOOLONG;
  const replaced = newParentDir.childMap.get(newName) ?? null;
  if (noReplace && replaced !== null) throw syserror.EEXIST;
  const isDir = renamed.inode.isDir();
  // A trailing slash on either name requires a directory.
  if (!isDir && (opts.mustBeDir || rp.mustBeDir())) throw syserror.ENOTDIR;
  // Source should not be an ancestor of the target.
  if (isDir && (renamed === newParentDir.dentry || genericIsAncestorDentry(renamed, newParentDir.dentry))) {
    throw syserror.EINVAL;
  }
  // The target should not be an ancestor of the source.
  if (replaced !== null && (replaced === oldParentDir.dentry || genericIsAncestorDentry(replaced, oldParentDir.dentry))) {
    throw syserror.ENOTEMPTY;
  }
  // vfs_rename: "If oldpath and newpath are existing hard links referring to
  // the same file, then rename() does nothing, and returns a success
  // status." - rename(2). (gVisor compares dentries, so it would drop the
  // other link.)
  if (replaced !== null && renamed.inode === replaced.inode) return;

  // may_delete(old_dir, old_dentry).
  oldParentDir.inode.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
  oldParentDir.mayDelete(creds, renamed);
  if (replaced !== null) {
    // may_delete(new_dir, new_dentry, is_dir). (gVisor at dbe41765 skips the
    // sticky check of the replaced file.)
    newParentDir.inode.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
    newParentDir.mayDelete(creds, replaced);
    if (isDir && !replaced.inode.isDir()) throw syserror.ENOTDIR;
    if (!isDir && replaced.inode.isDir()) throw syserror.EISDIR;
  } else {
    // may_create(new_dir). tmpfs never calls VFS.InvalidateDentry(), so
    // newParentDir.dentry can only be dead if it was deleted.
    if (newParentDir.dentry.vfsd.isDead()) throw syserror.ENOENT;
    newParentDir.inode.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
  }
  // Note that we don't need to call rp.checkMount(), since if renamed is a
  // mount point then we want to rename the mount point, not anything in the
  // mounted filesystem.
  if (isDir && oldParentDir !== newParentDir) {
    // Writability is needed to change renamed's "..".
    renamed.inode.checkPermissions(creds, vfs.MayWrite);
  }
  if (replaced === null && isDir && newParentDir.inode.nlink === maxLinks) throw syserror.EMLINK;

  const vfsObj = rp.virtualFilesystem();
  const [mntns, mntnsRef] = mountNamespaceOf(ctx, rp);
  try {
    const replacedVFSD = replaced !== null ? replaced.vfsd : null;
    await vfsObj.prepareRenameDentry(mntns, renamed.vfsd, replacedVFSD);
    // shmem_rename2: a non-empty directory cannot be replaced (after the
    // mount point check, as Linux orders them).
    const replacedDir = replaced?.inode.impl;
    if (replacedDir instanceof directory && replacedDir.childMap.size !== 0) {
      vfsObj.abortRenameDentry(renamed.vfsd, replacedVFSD);
      throw syserror.ENOTEMPTY;
    }
    if (replaced !== null) {
      newParentDir.removeChildLocked(replaced);
      if (replaced.inode.isDir()) {
        // Remove the link for replaced/.. now; replaced's own links are
        // dropped after the rename's inotify events (see below).
        newParentDir.inode.decLinksLocked(ctx);
      }
      replaced.inode.touchCtime();
    }
    oldParentDir.removeChildLocked(renamed);
    newParentDir.insertChildLocked(renamed, newName);
    vfsObj.commitRenameReplaceDentry(ctx, renamed.vfsd, replacedVFSD);
    oldParentDir.inode.touchCMtime();
    if (oldParentDir !== newParentDir) {
      if (isDir) {
        oldParentDir.inode.decLinksLocked(ctx);
        newParentDir.inode.incLinksLocked();
      }
      newParentDir.inode.touchCMtime();
    }
    renamed.inode.touchCtime();

    // Differs from gVisor, which drops replaced's links (and so may queue
    // its IN_DELETE_SELF) before the rename's events and sends replaced no
    // IN_ATTRIB: Linux's fsnotify_move() queues IN_MOVED_FROM, IN_MOVED_TO,
    // replaced's IN_ATTRIB (fsnotify_link_count), renamed's IN_MOVE_SELF,
    // and replaced's IN_DELETE_SELF comes with the last dput() of its
    // dentry, after all of them.
    vfs.inotifyRename(ctx, renamed.inode.watches, oldParentDir.inode.watches, newParentDir.inode.watches,
      oldName, newName, isDir,
      replaced !== null ? replaced.inode.watches : null, replaced !== null && replaced.inode.isDir());
    if (replaced !== null) {
      // Remove links for replaced and replaced/. (for a directory).
      if (replaced.inode.isDir()) replaced.inode.decLinksLocked(ctx);
      replaced.inode.decLinksLocked(ctx);
    }
  } finally {
    if (mntnsRef) mntns.decRef(ctx);
  }
};

/**
 * mountNamespaceOf returns the task's mount namespace (with a reference, as
 * vfs.mountNamespaceFromContext takes one) and true; for a context without
 * one (gVisor would dereference nil), the namespace of the mount rp stands
 * on, without a reference, and false.
 */
function mountNamespaceOf(ctx: Context, rp: vfs.ResolvingPath): [vfs.MountNamespace, boolean] {
  const mntns = vfs.mountNamespaceFromContext(ctx);
  if (mntns !== null) return [mntns, true];
  const ns = rp.mount().ns;
  if (ns === null) throw syserror.EINVAL;
  return [ns, false];
}

/** genericIsAncestorDentry returns true if d is an ancestor of d2 (vfs.GenericIsAncestorDentry). */
function genericIsAncestorDentry(d: dentry, d2: dentry): boolean {
  for (let p = d2.parent; p !== null; p = p.parent) {
    if (p === d) return true;
  }
  return false;
}

/**
 * rmdirAt implements vfs.FilesystemImpl.rmdirAt.
 *
 * Differs from gVisor: the checks run in the order of Linux's do_rmdir and
 * vfs_rmdir (search permission, "." and "..", EROFS, ENAMETOOLONG, ENOENT,
 * may_delete's EACCES/EPERM/ENOTDIR, EBUSY for a mount point, then
 * ENOTEMPTY), where gVisor checks write permission first and reports ENOENT
 * for an overlong name.
 */
filesystem.prototype.rmdirAt = async function rmdirAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<void> {
  if (!this.mu.tryLock()) await this.mu.lock();
  try {
    const parentDir = walkParentDirLocked(ctx, rp, rp.start().impl as dentry);
    const creds = rp.credentials();
    parentDir.inode.checkPermissions(creds, vfs.MayExec);
    const name = rp.component();
    if (name === '.') throw syserror.EINVAL;
    if (name === '..') throw syserror.ENOTEMPTY;
    const mnt = rp.mount();
    mnt.checkBeginWrite();
    try {
      if (nameTooLong(name)) throw syserror.ENAMETOOLONG;
      const child = parentDir.childMap.get(name);
      if (child === undefined) throw syserror.ENOENT;
      parentDir.inode.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
      parentDir.mayDelete(creds, child);
      const childDir = child.inode.impl;
      if (!(childDir instanceof directory)) throw syserror.ENOTDIR;
      const vfsObj = rp.virtualFilesystem();
      const [mntns, mntnsRef] = mountNamespaceOf(ctx, rp);
      try {
        await vfsObj.prepareDeleteDentry(mntns, child.vfsd);
      } finally {
        if (mntnsRef) mntns.decRef(ctx);
      }
      if (childDir.childMap.size !== 0) {
        vfsObj.abortDeleteDentry(child.vfsd);
        throw syserror.ENOTEMPTY;
      }
      parentDir.removeChildLocked(child);
      // Remove links for child, child/., and child/..
      child.inode.decLinksLocked(ctx);
      child.inode.decLinksLocked(ctx);
      parentDir.inode.decLinksLocked(ctx);
      vfsObj.commitDeleteDentry(ctx, child.vfsd);
      parentDir.inode.touchCMtime();
      // Differs from gVisor, which notifies the parent before dropping the
      // links: Linux's vfs_rmdir -> d_delete_notify() queues the directory's
      // IN_DELETE_SELF (+IN_IGNORED; here from decLinksLocked when no file
      // holds the directory open) before the parent's IN_DELETE.
      parentDir.inode.watches.notify(ctx, name, IN_DELETE | IN_ISDIR, 0, vfs.InodeEvent, true /* unlinked */);
    } finally {
      mnt.endWrite();
    }
  } finally {
    this.mu.unlock();
  }
};

/** setStatAt implements vfs.FilesystemImpl.setStatAt. */
filesystem.prototype.setStatAt = async function setStatAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.SetStatOptions,
): Promise<void> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  let d: dentry;
  try {
    d = resolveLocked(ctx, rp);
    d.inode.setStat(ctx, rp.credentials(), opts, rp.mount());
  } finally {
    this.mu.rUnlock();
  }
  const ev = vfs.inotifyEventFromStatMask(opts.stat.mask);
  if (ev !== 0) d.inotifyWithParent(ctx, ev, 0, vfs.InodeEvent);
};

/** statAt implements vfs.FilesystemImpl.statAt. */
filesystem.prototype.statAt = async function statAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.StatOptions,
): Promise<Statx> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    return resolveLocked(ctx, rp).inode.stat();
  } finally {
    this.mu.rUnlock();
  }
};

/** statFSAt implements vfs.FilesystemImpl.statFSAt. */
filesystem.prototype.statFSAt = async function statFSAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<Statfs> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    resolveLocked(ctx, rp);
    return this.statfs();
  } finally {
    this.mu.rUnlock();
  }
};

/** symlinkAt implements vfs.FilesystemImpl.symlinkAt. */
filesystem.prototype.symlinkAt = function symlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, target: string,
): Promise<void> {
  return this.doCreateAt(ctx, rp, false /* dir */, (parentDir, name) => {
    const creds = rp.credentials();
    const [kgid] = childOwner(parentDir, creds, 0o777, false);
    parentDir.insertChildLocked(this.newDentry(newSymlink(this, creds.effectiveKUID, kgid, 0o777, target)), name);
  });
};

/**
 * unlinkAt implements vfs.FilesystemImpl.unlinkAt.
 *
 * Differs from gVisor: the checks run in the order of Linux's do_unlinkat
 * and vfs_unlink (search permission, "." and ".." EISDIR, EROFS,
 * ENAMETOOLONG, ENOENT, a trailing slash's EISDIR/ENOTDIR, may_delete's
 * EACCES/EPERM/EISDIR, EBUSY), and the unlinked inode's ctime changes
 * (shmem_unlink).
 */
filesystem.prototype.unlinkAt = async function unlinkAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath,
): Promise<void> {
  if (!this.mu.tryLock()) await this.mu.lock();
  try {
    const parentDir = walkParentDirLocked(ctx, rp, rp.start().impl as dentry);
    const creds = rp.credentials();
    parentDir.inode.checkPermissions(creds, vfs.MayExec);
    const name = rp.component();
    if (name === '.' || name === '..') throw syserror.EISDIR;
    const mnt = rp.mount();
    mnt.checkBeginWrite();
    try {
      if (nameTooLong(name)) throw syserror.ENAMETOOLONG;
      const child = parentDir.childMap.get(name);
      if (child === undefined) throw syserror.ENOENT;
      if (rp.mustBeDir()) throw child.inode.isDir() ? syserror.EISDIR : syserror.ENOTDIR;
      parentDir.inode.checkPermissions(creds, vfs.MayWrite | vfs.MayExec);
      parentDir.mayDelete(creds, child);
      if (child.inode.isDir()) throw syserror.EISDIR;
      const vfsObj = rp.virtualFilesystem();
      const [mntns, mntnsRef] = mountNamespaceOf(ctx, rp);
      try {
        await vfsObj.prepareDeleteDentry(mntns, child.vfsd);
      } finally {
        if (mntnsRef) mntns.decRef(ctx);
      }

      // Generate the child's inotify event. Note that this must take place
      // before the link count of the child is decremented, or else the
      // watches may be dropped before the event is added.
      //
      // Differs from gVisor (vfs.inotifyRemoveChild, child then parent at
      // once): Linux's vfs_unlink queues the child's IN_ATTRIB
      // (fsnotify_link_count), then d_delete_notify() its IN_DELETE_SELF
      // (+IN_IGNORED; here from decLinksLocked when nothing holds the file
      // open), and only then the parent's IN_DELETE.
      child.inode.watches.notify(ctx, '', IN_ATTRIB, 0, vfs.InodeEvent, true /* unlinked */);

      parentDir.removeChildLocked(child);
      child.inode.touchCtime();
      child.inode.decLinksLocked(ctx);
      vfsObj.commitDeleteDentry(ctx, child.vfsd);
      parentDir.inode.touchCMtime();
      parentDir.inode.watches.notify(ctx, name, IN_DELETE, 0, vfs.InodeEvent, true /* unlinked */);
    } finally {
      mnt.endWrite();
    }
  } finally {
    this.mu.unlock();
  }
};

/** boundEndpointAt implements vfs.FilesystemImpl.boundEndpointAt. */
filesystem.prototype.boundEndpointAt = async function boundEndpointAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, _opts: vfs.BoundEndpointOptions,
): Promise<vfs.BoundEndpoint> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const d = resolveLocked(ctx, rp);
    d.inode.checkPermissions(rp.credentials(), vfs.MayWrite);
    const impl = d.inode.impl;
    if (impl instanceof socketFile) {
      if (impl.ep === null) throw syserror.ECONNREFUSED;
      return impl.ep;
    }
    throw syserror.ECONNREFUSED;
  } finally {
    this.mu.rUnlock();
  }
};

/** listXattrAt implements vfs.FilesystemImpl.listXattrAt. */
filesystem.prototype.listXattrAt = async function listXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, size: number,
): Promise<string[]> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    return resolveLocked(ctx, rp).inode.listXattr(size);
  } finally {
    this.mu.rUnlock();
  }
};

/** getXattrAt implements vfs.FilesystemImpl.getXattrAt. */
filesystem.prototype.getXattrAt = async function getXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.GetXattrOptions,
): Promise<string> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    return resolveLocked(ctx, rp).inode.getXattr(rp.credentials(), opts);
  } finally {
    this.mu.rUnlock();
  }
};

/** setXattrAt implements vfs.FilesystemImpl.setXattrAt. */
filesystem.prototype.setXattrAt = async function setXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, opts: vfs.SetXattrOptions,
): Promise<void> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  let d: dentry;
  try {
    d = resolveLocked(ctx, rp);
    d.inode.setXattr(rp.credentials(), opts, rp.mount());
  } finally {
    this.mu.rUnlock();
  }
  d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
};

/** removeXattrAt implements vfs.FilesystemImpl.removeXattrAt. */
filesystem.prototype.removeXattrAt = async function removeXattrAt(
  this: filesystem, ctx: Context, rp: vfs.ResolvingPath, name: string,
): Promise<void> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  let d: dentry;
  try {
    d = resolveLocked(ctx, rp);
    d.inode.removeXattr(rp.credentials(), name, rp.mount());
  } finally {
    this.mu.rUnlock();
  }
  d.inotifyWithParent(ctx, IN_ATTRIB, 0, vfs.InodeEvent);
};

/** prependPath implements vfs.FilesystemImpl.prependPath. */
filesystem.prototype.prependPath = async function prependPath(
  this: filesystem, _ctx: Context, vfsroot: vfs.VirtualDentry, vd: vfs.VirtualDentry, b: Builder,
): Promise<void> {
  if (!this.mu.tryRLock()) await this.mu.rLock();
  try {
    const mnt = vd.mount();
    let d = vd.dentry().impl as dentry;
    for (;;) {
      if (mnt === vfsroot.mount() && d.vfsd === vfsroot.dentry()) throw vfs.errPrependPathAtVFSRoot;
      if (d.vfsd === mnt.root()) return;
      if (d.parent === null) {
        if (d.name !== '') {
          // This file must have been created by
          // newUnlinkedRegularFileDescription(). In Linux,
          // mm/shmem.c:__shmem_file_setup() =>
          // fs/file_table.c:alloc_file_pseudo() sets the created dentry's
          // dentry_operations to anon_ops, for which d_dname ==
          // simple_dname. fs/d_path.c:simple_dname() defines the dentry's
          // pathname to be its name, prefixed with "/" and suffixed with
          // " (deleted)".
          b.prependComponent('/' + d.name);
          b.appendString(' (deleted)');
          throw vfs.errPrependPathSynthetic;
        }
        throw vfs.errPrependPathAtNonMountRoot;
      }
      b.prependComponent(d.name);
      d = d.parent;
    }
  } finally {
    this.mu.rUnlock();
  }
};
