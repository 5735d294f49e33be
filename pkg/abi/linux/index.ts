// Package linux: the Linux x86_64 ABI constants the filesystem slice needs.
export * from './errors';
export * from './file';
export * from './capability';
export * from './stat';
export * from './inotify';
export * from './dirent';
export * from './mount';
export * from './fcntl';
