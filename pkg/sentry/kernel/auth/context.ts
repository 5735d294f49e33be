// Credentials in a Context: gVisor's pkg/sentry/kernel/auth/context.go.

import type { Context } from '../../../context/context';
import { Credentials, newAnonymousCredentials } from './credentials';

/** CtxCredentials is a Context.value key for Credentials. */
export const CtxCredentials: unique symbol = Symbol('auth.CtxCredentials');

/**
 * credentialsFromContext returns the Credentials used by ctx, or a set of
 * Credentials with no capabilities if ctx does not have Credentials.
 *
 * (gVisor's comment says "a copy"; it returns the task's own pointer, and so
 * does this: treat the result as read-only and fork() before changing it.)
 */
export function credentialsFromContext(ctx: Context): Credentials {
  const v = ctx.value(CtxCredentials);
  if (v instanceof Credentials) return v;
  return newAnonymousCredentials();
}

class authContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly creds: Credentials,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.parent.signal;
  }

  value(key: unknown): unknown {
    if (key === CtxCredentials) return this.creds;
    return this.parent.value(key);
  }
}

/** contextWithCredentials returns a copy of ctx carrying creds. */
export function contextWithCredentials(ctx: Context, creds: Credentials): Context {
  return new authContext(ctx, creds);
}

/** withCredentials is contextWithCredentials (the name the rest of this port uses). */
export const withCredentials = contextWithCredentials;
