// Package p9 is a 9P2000.L implementation (gVisor pkg/p9): the codec
// (p9, buffer, messages, version, transport), and the client and server
// built on it.
export * from './p9';
export { buffer, encoder, ErrBadMessage, ErrNoValidMessage } from './buffer';
export * from './messages';
export * from './version';
export * from './transport';
