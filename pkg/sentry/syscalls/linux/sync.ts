// sync, syncfs, fsync, fdatasync: gVisor's
// pkg/sentry/syscalls/linux/vfs2/sync.go.

import * as syserror from '../../../syserror/syserror';
import type { Task } from '../../kernel/task';
import { fdget } from './fd';

/** sync implements Linux syscall sync(2). */
export async function sync(t: Task): Promise<number> {
  await t.k.vfs.syncAllFilesystems(t);
  return 0;
}

/** syncfs implements Linux syscall syncfs(2). */
export async function syncfs(t: Task, fd: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    await file.syncFS(t);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** fsync implements Linux syscall fsync(2). */
export async function fsync(t: Task, fd: number): Promise<number> {
  const file = fdget(t, fd);
  if (file === null) throw syserror.EBADF;
  try {
    await file.sync(t);
    return 0;
  } finally {
    file.decRef(t);
  }
}

/** fdatasync implements Linux syscall fdatasync(2). */
export function fdatasync(t: Task, fd: number): Promise<number> {
  // TODO(gvisor.dev/issue/1897): Avoid writeback of unnecessary metadata.
  return fsync(t, fd);
}
