// Package pipe: gVisor's pkg/sentry/kernel/pipe (see pipe.ts).
export * from './pipe';
export * from './pipe_util';
export * from './vfs';
