// Package tmpfs: gVisor's pkg/sentry/fsimpl/tmpfs (see tmpfs.ts).
export { FilesystemOpts, FilesystemType, Name, newFilesystem, type Clock } from './tmpfs';
export { newMemfd } from './regular_file';
