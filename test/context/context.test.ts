import test from 'ava';
import * as context from '../../pkg/context/context';
import * as syserror from '../../pkg/syserror/syserror';

test('background has no values and is never interrupted (gVisor context.Background)', (t) => {
  const ctx = context.background();
  t.is(ctx.value('anything'), undefined);
  t.false(context.interrupted(ctx));
  t.is(context.threadGroupIDFromContext(ctx), undefined);
});

test('withValue shadows the parent for its key only (gVisor WithValue)', (t) => {
  const k1 = Symbol('k1');
  const k2 = Symbol('k2');
  const a = context.withValue(context.background(), k1, 1);
  const b = context.withValue(a, k2, 2);
  const c = context.withValue(b, k1, 3);
  t.is(a.value(k1), 1);
  t.is(b.value(k1), 1);
  t.is(b.value(k2), 2);
  t.is(c.value(k1), 3);
  t.is(c.value(k2), 2);
  t.is(a.value(k2), undefined);
  const tg = context.withValue(c, context.CtxThreadGroupID, 42);
  t.is(context.threadGroupIDFromContext(tg), 42);
});

test('withSignal: interrupted follows the AbortSignal, values pass through', (t) => {
  const k = Symbol('k');
  const ac = new AbortController();
  const ctx = context.withValue(context.withSignal(context.withValue(context.background(), k, 'v'), ac.signal), Symbol(), 0);
  t.is(ctx.value(k), 'v');
  t.is(ctx.signal, ac.signal);
  t.false(context.interrupted(ctx));
  ac.abort();
  t.true(context.interrupted(ctx));
});

test('sleep resolves with the promise, or rejects EINTR on interruption and runs onCancel', async (t) => {
  const ac = new AbortController();
  const ctx = context.withSignal(context.background(), ac.signal);
  t.is(await context.sleep(ctx, Promise.resolve(7)), 7);
  let cancelled = 0;
  const never = new Promise<number>(() => {});
  const p = context.sleep(ctx, never, () => cancelled++);
  ac.abort();
  await t.throwsAsync(p, { is: syserror.EINTR });
  t.is(cancelled, 1);
  // Already interrupted: rejects at once.
  await t.throwsAsync(context.sleep(ctx, never, () => cancelled++), { is: syserror.EINTR });
  t.is(cancelled, 2);
});

test('onInterrupt: cancel removes the listener', (t) => {
  const ac = new AbortController();
  const ctx = context.withSignal(context.background(), ac.signal);
  let n = 0;
  const cancel = context.onInterrupt(ctx, () => n++);
  cancel();
  ac.abort();
  t.is(n, 0);
  context.onInterrupt(ctx, () => n++);
  t.is(n, 1, 'already aborted: called synchronously');
});

test('logger is cached per namespace and has gVisor log.Logger methods', (t) => {
  const l = context.logger('gvisor:test');
  t.is(context.logger('gvisor:test'), l);
  t.is(l.debug.namespace, 'gvisor:test');
  l.debugf('hello %s', 'world');
  l.warningf('warn %d', 1);
  t.is(typeof l.isLogging(), 'boolean');
});
