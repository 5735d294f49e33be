// Package gofer: the "9p" filesystem (gVisor's pkg/sentry/fsimpl/gofer).
export {
  FilesystemType, InteropMode, InternalFilesystemOptions, Name, dentry, filesystem, inode, parseFilesystemOptions,
  type filesystemOptions,
} from './gofer';
export { metrics, resetMetrics } from './p9file';
export { startGofer, type startedGofer } from './start_gofer';
