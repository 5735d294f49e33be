// Context keys of the vfs package (gVisor's context.go).

import type { Context } from '../../context';
import type { MountNamespace } from './mount';
import { VirtualDentry } from './vfs';

/** CtxMountNamespace is a Context.value key for a MountNamespace. */
export const CtxMountNamespace: unique symbol = Symbol('vfs.CtxMountNamespace');

/** CtxRoot is a Context.value key for a VFS root. */
export const CtxRoot: unique symbol = Symbol('vfs.CtxRoot');

/**
 * mountNamespaceFromContext returns the MountNamespace used by ctx. If ctx
 * is not associated with a MountNamespace, it returns null.
 *
 * A reference is taken on the returned MountNamespace: as in gVisor, a
 * Context answering value(CtxMountNamespace) increments the count (the
 * kernel's Task must do the same).
 */
export function mountNamespaceFromContext(ctx: Context): MountNamespace | null {
  const v = ctx.value(CtxMountNamespace);
  return (v ?? null) as MountNamespace | null;
}

class mountNamespaceContext implements Context {
  constructor(private readonly parent: Context, private readonly mntns: MountNamespace) {}

  get signal(): AbortSignal | undefined {
    return this.parent.signal;
  }

  value(key: unknown): unknown {
    if (key === CtxMountNamespace) {
      this.mntns.incRef();
      return this.mntns;
    }
    return this.parent.value(key);
  }
}

/** withMountNamespace returns a copy of ctx with the given MountNamespace. */
export function withMountNamespace(ctx: Context, mntns: MountNamespace): Context {
  return new mountNamespaceContext(ctx, mntns);
}

/**
 * rootFromContext returns the VFS root used by ctx. It takes a reference on
 * the returned VirtualDentry. If ctx does not have a specific VFS root,
 * rootFromContext returns an empty VirtualDentry.
 */
export function rootFromContext(ctx: Context): VirtualDentry {
  const v = ctx.value(CtxRoot);
  if (v instanceof VirtualDentry) return v;
  return new VirtualDentry(null, null);
}

class rootContext implements Context {
  constructor(private readonly parent: Context, private readonly root: VirtualDentry) {}

  get signal(): AbortSignal | undefined {
    return this.parent.signal;
  }

  value(key: unknown): unknown {
    if (key === CtxRoot) {
      this.root.incRef();
      return this.root;
    }
    return this.parent.value(key);
  }
}

/** withRoot returns a copy of ctx with the given root. */
export function withRoot(ctx: Context, root: VirtualDentry): Context {
  return new rootContext(ctx, root);
}
