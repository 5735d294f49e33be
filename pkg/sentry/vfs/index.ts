// Package vfs implements a virtual filesystem layer: gVisor's
// pkg/sentry/vfs. See vfs.ts for the lock order and README-level notes.
export * from './anonfs';
export * from './context';
export * from './debug';
export * from './dentry';
export * from './device';
export * from './file_description';
export * from './file_description_impl_util';
export * from './filesystem';
export * from './filesystem_impl_util';
export * from './filesystem_type';
export * from './genericfstree';
export * from './inotify';
export * from './lock';
export * from './mount';
export * from './options';
export * from './pathname';
export * from './permissions';
export * from './resolving_path';
export * from './vfs';
