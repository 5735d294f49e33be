// Package lock: gVisor's pkg/sentry/fs/lock (see lock.ts).
export * from './lock';
