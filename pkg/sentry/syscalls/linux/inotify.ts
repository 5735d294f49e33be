// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch: gVisor's
// pkg/sentry/syscalls/linux/vfs2/inotify.go. The watch itself (path
// resolution with IN_DONT_FOLLOW, the read permission check, IN_ONLYDIR) is
// vfs.addWatchAt; read(2) of the fd returns struct inotify_event records.

import { IN_CLOEXEC, IN_NONBLOCK, ALL_INOTIFY_BITS } from '../../../abi/linux/inotify';
import { AT_FDCWD } from '../../../abi/linux/file';
import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import { addWatchAt, Inotify, newInotifyFD } from '../../vfs/inotify';
import { copyInPath, disallowEmptyPath, followFinalSymlink, getTaskPathOperation, type PathArg } from './path';

const allFlags = IN_NONBLOCK | IN_CLOEXEC;

/** inotify_init1 implements the inotify_init1() syscalls. */
export function inotify_init1(t: Task, flags: number): number {
  if ((flags & ~allFlags) !== 0) throw syserror.EINVAL;
  const ino = newInotifyFD(t, t.k.vfs, flags);
  try {
    return t.newFDFromVFS2(0, ino, { closeOnExec: (flags & IN_CLOEXEC) !== 0 });
  } finally {
    ino.decRef(t);
  }
}

/** inotify_init implements the inotify_init() syscalls. */
export function inotify_init(t: Task): number {
  return inotify_init1(t, 0);
}

/** inotify_add_watch implements the inotify_add_watch() syscall. */
export async function inotify_add_watch(t: Task, fd: number, addr: PathArg, mask: number): Promise<number> {
  mask >>>= 0;
  // "EINVAL: The given event mask contains no valid events." -- inotify_add_watch(2)
  if ((mask & ALL_INOTIFY_BITS) === 0) throw syserror.EINVAL;
  const f = t.getFileVFS2(fd);
  if (f === null) throw syserror.EBADF;
  try {
    if (!(f.impl instanceof Inotify)) throw syserror.EINVAL;
    const path = copyInPath(addr);
    // addWatchAt applies IN_DONT_FOLLOW to the final symlink.
    const tpop = getTaskPathOperation(t, AT_FDCWD, path, disallowEmptyPath, followFinalSymlink);
    try {
      return await addWatchAt(t, t.k.vfs, t.creds, f, tpop.pop, mask);
    } finally {
      tpop.release(t);
    }
  } finally {
    f.decRef(t);
  }
}

/** inotify_rm_watch implements the inotify_rm_watch() syscall. */
export function inotify_rm_watch(t: Task, fd: number, wd: number): number {
  const f = t.getFileVFS2(fd);
  if (f === null) throw syserror.EBADF;
  try {
    if (!(f.impl instanceof Inotify)) throw syserror.EINVAL;
    f.impl.rmWatch(t, wd);
    return 0;
  } finally {
    f.decRef(t);
  }
}
