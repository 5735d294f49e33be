// Package p9 is a 9P2000.L implementation (gVisor pkg/p9): the codec
// (p9, buffer, messages, version, transport), the server (file, server,
// path_tree, handlers) and the client (client, client_file).
export * from './p9';
export { buffer, encoder, ErrBadMessage, ErrNoValidMessage } from './buffer';
export * from './messages';
export * from './version';
export * from './transport';
export * from './file';
export * from './server';
export * from './client';
export * from './client_file';
export * from './path_tree';
// file.ts and client_file.ts both define defaultMultiGetAttr (gVisor's
// DefaultMultiGetAttr, for a File); the package-level name is file.ts's.
export { defaultMultiGetAttr } from './file';
export { defaultMultiGetAttr as clientDefaultMultiGetAttr } from './client_file';
// handlers.ts: only gVisor's exported helpers (and the Tversion minimum);
// its handler table is the server's business. DefaultMessageSize is
// transport.ts's, which client.ts re-exports: one symbol, no clash.
export { CanOpen, checkSafeName, minimumMessageSize } from './handlers';
