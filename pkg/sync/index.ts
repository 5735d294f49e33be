// Package sync: gVisor's pkg/sync, the async locks (DESIGN decision 1).
export { Mutex } from './mutex';
export { RWMutex } from './rwmutex';
