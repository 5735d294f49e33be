// Package context defines an internal context type: gVisor's pkg/context.
//
// As in gVisor, a Context represents a thread of execution (a task) and is the
// first argument of every filesystem operation; values (credentials, the
// mount namespace, the root, the kernel) are found through value(key), with
// each package defining its own keys, so that packages do not import each
// other to read them.
//
// Differs from gVisor (DESIGN decision 3): Go's Context embeds log.Logger,
// context.Context and ChannelSleeper. Here a blocking operation is a Promise,
// so interruption is an AbortSignal (the `signal` field): an operation that
// sleeps interruptibly (F_SETLKW, a pipe read, a FIFO open) rejects with
// EINTR when the signal aborts, as gVisor's SleepStart channel would wake it.
// Logging goes through the `debug` package, one namespace per package
// (logger('gvisor:vfs')), rather than through a Logger carried by the
// context. Deadlines are not carried: none of the ported code uses them.

import createDebug from 'debug';
import type { Debugger } from 'debug';
import * as syserror from '../syserror/syserror';

/**
 * A Context represents a thread of execution. It carries state associated
 * with the task across API boundaries.
 *
 * As in gVisor, a Context should not be retained beyond the scope of the call
 * it was passed to; retain the values extracted from it instead.
 */
export interface Context {
  /** value returns the value associated with key, or undefined. */
  value(key: unknown): unknown;
  /**
   * signal, if present, aborts when the task is interrupted (gVisor: the
   * channel returned by ChannelSleeper.SleepStart becoming readable).
   */
  readonly signal?: AbortSignal;
}

// Globally accessible values from a context. These keys are defined in the
// context package to resolve dependency cycles by not requiring the caller to
// import packages usually required to get these information.

/**
 * CtxThreadGroupID is the current thread group ID when a context represents a
 * task context. The value is a number.
 */
export const CtxThreadGroupID: unique symbol = Symbol('context.CtxThreadGroupID');

/**
 * threadGroupIDFromContext returns the current thread group ID when ctx
 * represents a task context, or undefined.
 */
export function threadGroupIDFromContext(ctx: Context): number | undefined {
  const v = ctx.value(CtxThreadGroupID);
  return typeof v === 'number' ? v : undefined;
}

class bgContext implements Context {
  value(_key: unknown): unknown {
    return undefined;
  }
}

const bg: Context = new bgContext();

/**
 * background returns an empty context, never interrupted. Generally, one
 * should use the Task as their context when available. Using a background
 * context for tests is fine, as long as no values are needed from the
 * context in the tested code paths.
 */
export function background(): Context {
  return bg;
}

class withValueContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: unknown,
    private readonly val: unknown,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.parent.signal;
  }

  value(key: unknown): unknown {
    if (key === this.key) return this.val;
    return this.parent.value(key);
  }
}

/** withValue returns a copy of parent in which the value associated with key is val. */
export function withValue(parent: Context, key: unknown, val: unknown): Context {
  return new withValueContext(parent, key, val);
}

class withSignalContext implements Context {
  constructor(
    private readonly parent: Context,
    readonly signal: AbortSignal,
  ) {}

  value(key: unknown): unknown {
    return this.parent.value(key);
  }
}

/**
 * withSignal returns a copy of parent that is interrupted when signal aborts
 * (and no longer when parent's signal does: combine them with
 * AbortSignal.any first if both should count).
 */
export function withSignal(parent: Context, signal: AbortSignal): Context {
  return new withSignalContext(parent, signal);
}

/** interrupted returns true if ctx's task has been interrupted (gVisor: ChannelSleeper.Interrupted). */
export function interrupted(ctx: Context): boolean {
  return ctx.signal?.aborted === true;
}

/**
 * onInterrupt calls fn once when ctx is interrupted, and returns a function
 * that cancels the registration (call it when the sleep ends). If ctx is
 * already interrupted, fn is called synchronously. A context without a
 * signal is never interrupted; the returned function is then a no-op.
 */
export function onInterrupt(ctx: Context, fn: () => void): () => void {
  const signal = ctx.signal;
  if (signal === undefined) return noop;
  if (signal.aborted) {
    fn();
    return noop;
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

function noop(): void {}

/**
 * sleep waits for p interruptibly (gVisor: a task blocking in
 * BlockWithDeadline / SleepStart): it resolves or rejects as p does, or
 * rejects with EINTR when ctx is interrupted first; onCancel (if given) then
 * runs so the caller can withdraw its waiter. A context already interrupted
 * rejects at once.
 */
export function sleep<T>(ctx: Context, p: Promise<T>, onCancel?: () => void): Promise<T> {
  if (ctx.signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const cancel = onInterrupt(ctx, () => {
      if (done) return;
      done = true;
      onCancel?.();
      reject(syserror.EINTR);
    });
    p.then(
      (v) => {
        if (done) return;
        done = true;
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        if (done) return;
        done = true;
        cancel();
        reject(e);
      },
    );
  });
}

/**
 * Logger is gVisor's log.Logger for one `debug` namespace. The format verbs
 * are debug's (%s, %d, %o, %O, %j).
 */
export interface Logger {
  debugf(format: string, ...args: unknown[]): void;
  infof(format: string, ...args: unknown[]): void;
  warningf(format: string, ...args: unknown[]): void;
  /** isLogging reports whether anything logged would be printed (gVisor: IsLogging). */
  isLogging(): boolean;
  /** debug is the underlying Debugger, for `extend` and the like. */
  readonly debug: Debugger;
}

const loggers = new Map<string, Logger>();

/**
 * logger returns the Logger for namespace (e.g. 'gvisor:vfs'). Warnings go to
 * namespace + ':warning' so that DEBUG='*:warning' shows only them.
 */
export function logger(namespace: string): Logger {
  let l = loggers.get(namespace);
  if (l === undefined) {
    const d = createDebug(namespace);
    const w = d.extend('warning');
    l = {
      debug: d,
      debugf: (format, ...args) => d(format, ...args),
      infof: (format, ...args) => d(format, ...args),
      warningf: (format, ...args) => w(format, ...args),
      isLogging: () => createDebug.enabled(d.namespace) || createDebug.enabled(w.namespace),
    };
    loggers.set(namespace, l);
  }
  return l;
}
