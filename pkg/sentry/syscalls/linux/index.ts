// Package linux: the file-system system calls of gVisor's
// pkg/sentry/syscalls/linux/vfs2 — raw (task.sys, syscallTable) and typed
// (task.fs). See sys.ts for the calling convention.
export { Syscalls, syscallTable, type SyscallHandler, type UserMemory } from './sys';
export { TaskFS } from './fs_api';
export type { PathArg } from './path';
