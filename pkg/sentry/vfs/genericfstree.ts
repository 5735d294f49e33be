// Tools for FilesystemImpls where a single statically-determined lock or set
// of locks is sufficient to ensure that a Dentry's name and parent are
// contextually immutable (gVisor's vfs/genericfstree, a Go template; here
// generic functions over any dentry with vfsd, parent and name).

import type { Builder } from '../../fspath';
import type { Dentry } from './dentry';
import { errPrependPathAtNonMountRoot, errPrependPathAtVFSRoot } from './filesystem';
import type { Mount } from './mount';
import type { VirtualDentry } from './vfs';

/** GenericDentry is the shape genericfstree needs from a filesystem's dentry. */
export interface GenericDentry<D extends GenericDentry<D>> {
  /** vfsd is the vfs.Dentry corresponding to this DentryImpl. */
  readonly vfsd: Dentry;
  /** parent is the parent of this dentry in the filesystem's tree, or null for a filesystem root. */
  parent: D | null;
  /** name is the name of this dentry in its parent; unspecified for a root. */
  name: string;
}

/**
 * genericIsAncestorDentry returns true if d is an ancestor of d2; that is, d
 * is either d2's parent or an ancestor of d2's parent.
 */
export function genericIsAncestorDentry<D extends GenericDentry<D>>(d: D, d2: D): boolean {
  let cur: D | null = d2;
  while (cur !== null) {
    // Stop at root, where cur.parent === null.
    if (cur.parent === d) return true;
    if (cur.parent === cur) return false;
    cur = cur.parent;
  }
  return false;
}

/** genericParentOrSelf returns d.parent. If d.parent is null, it returns d. */
export function genericParentOrSelf<D extends GenericDentry<D>>(d: D): D {
  return d.parent ?? d;
}

/**
 * genericPrependPath is a generic implementation of
 * FilesystemImpl.prependPath(): it throws the PrependPath errors as the
 * interface documents.
 */
export function genericPrependPath<D extends GenericDentry<D>>(vfsroot: VirtualDentry, mnt: Mount | null, d: D, b: Builder): void {
  for (;;) {
    if (mnt === vfsroot._mount && d.vfsd === vfsroot._dentry) throw errPrependPathAtVFSRoot;
    if (mnt !== null && d.vfsd === mnt._root) return;
    if (d.parent === null) throw errPrependPathAtNonMountRoot;
    b.prependComponent(d.name);
    d = d.parent;
  }
}

/**
 * genericDebugPathname returns a pathname to d relative to its filesystem
 * root, for debugging.
 */
export function genericDebugPathname<D extends GenericDentry<D>>(d: D): string {
  const parts: string[] = [];
  let cur: D = d;
  while (cur.parent !== null) {
    parts.unshift(cur.name);
    cur = cur.parent;
  }
  return parts.join('/');
}
