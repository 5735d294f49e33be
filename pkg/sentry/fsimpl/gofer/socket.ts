// Sockets bound in the filesystem: gVisor's pkg/sentry/fsimpl/gofer/socket.go.
//
// Differs from gVisor: a socket file on the server can be found
// (BoundEndpointAt returns an endpoint naming it), but not connected to:
// gVisor connects with Tlconnect and receives a host fd, which Node cannot
// (no SCM_RIGHTS), so connect fails with ECONNREFUSED. Synthetic sockets
// (bound inside the sandbox: MknodAt with an endpoint) carry their own
// endpoint and work as the socket layer makes them.

import * as linux from '../../../abi/linux/file';
import type * as vfs from '../../vfs';
import * as syserror from '../../../syserror/syserror';
import { dentry } from './gofer';

declare module './gofer' {
  interface dentry {
    isSocket(): boolean;
  }
}

dentry.prototype.isSocket = function isSocket(this: dentry): boolean {
  return this.fileType() === linux.S_IFSOCK;
};

/**
 * endpoint is a Unix socket bound on the remote filesystem
 * (transport.BoundEndpoint). It holds a reference on its dentry until
 * released.
 */
export class endpoint implements vfs.BoundEndpoint {
  constructor(readonly dentry: dentry, readonly path: string) {}

  /**
   * connect would be gVisor's BidirectionalConnect/UnidirectionalConnect:
   * Tlconnect for a host fd. Not possible in Node (see the module comment).
   */
  connect(): never {
    throw syserror.ECONNREFUSED;
  }

  /** release implements transport.BoundEndpoint.Release. */
  release(): void {
    this.dentry.decRef(this.dentry.fs.bgCtx);
  }
}
