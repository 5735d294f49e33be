// Package context: gVisor's pkg/context.
export * from './context';
