// Package fspath: gVisor's pkg/fspath.
export { parse, Path, Iterator } from './fspath';
export { Builder } from './builder';
