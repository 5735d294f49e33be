// Tests for pkg/sentry/kernel/auth (gVisor has no Go test for it at
// dbe41765; these pin credentials.go's documented behaviour).
import test from 'ava';
import * as linux from '../../../../pkg/abi/linux';
import * as context from '../../../../pkg/context/context';
import * as syserror from '../../../../pkg/syserror/syserror';
import * as auth from '../../../../pkg/sentry/kernel/auth';

const allCaps = Array.from({ length: linux.CAP_LAST_CAP + 1 }, (_, i) => i);

test('capability list is Linux\'s: CAP_LAST_CAP = 40, names by number', (t) => {
  t.is(linux.CAP_CHOWN, 0);
  t.is(linux.CAP_SETUID, 7);
  t.is(linux.CAP_SYS_ADMIN, 21);
  t.is(linux.CAP_MKNOD, 27);
  t.is(linux.CAP_LAST_CAP, 40);
  t.is(linux.capabilityString(linux.CAP_DAC_READ_SEARCH), 'CAP_DAC_READ_SEARCH');
  t.is(linux.capabilityString(40), 'CAP_CHECKPOINT_RESTORE');
  t.false(linux.capabilityOk(41));
});

test('CapabilitySet: 41-bit sets, set operations above bit 31', (t) => {
  t.is(auth.AllCapabilities, 2 ** 41 - 1);
  for (const cp of allCaps) {
    t.true(auth.capabilitySetHas(auth.AllCapabilities, cp));
    t.false(auth.capabilitySetHas(0, cp));
    const one = auth.capabilitySetOf(cp);
    for (const other of [0, 5, 31, 32, 40]) t.is(auth.capabilitySetHas(one, other), other === cp);
  }
  const s = auth.capabilitySetOfMany([linux.CAP_CHOWN, linux.CAP_SYSLOG, linux.CAP_CHECKPOINT_RESTORE]);
  t.is(s, 1 + 2 ** 34 + 2 ** 40);
  t.is(auth.capabilitySetIntersect(s, auth.capabilitySetOf(34)), 2 ** 34);
  t.is(auth.capabilitySetDifference(s, auth.capabilitySetOf(40)), 1 + 2 ** 34);
  t.is(auth.capabilitySetUnion(s, auth.capabilitySetOf(40)), s);
});

test('newRootCredentials: KUID/KGID 0, all permitted/effective/bounding caps, no inheritable', (t) => {
  const c = auth.newRootCredentials();
  t.is(c.realKUID, auth.RootKUID);
  t.is(c.effectiveKUID, 0);
  t.is(c.savedKGID, auth.RootKGID);
  t.is(c.effectiveCaps, auth.AllCapabilities);
  t.is(c.permittedCaps, auth.AllCapabilities);
  t.is(c.boundingCaps, auth.AllCapabilities);
  t.is(c.inheritableCaps, 0);
  for (const cp of allCaps) t.true(c.hasCapability(cp));
});

test('newUserCredentials: non-root has no capabilities; root (kuid 0) has all; explicit caps win', (t) => {
  const u = auth.newUserCredentials(1000, 1000, [10, 20]);
  t.is(u.effectiveKUID, 1000);
  t.is(u.realKGID, 1000);
  for (const cp of allCaps) t.false(u.hasCapability(cp));
  t.is(u.boundingCaps, auth.AllCapabilities);
  const r = auth.newUserCredentials(0, 0, []);
  t.true(r.hasCapability(linux.CAP_DAC_OVERRIDE));
  const caps = auth.capabilitySetOf(linux.CAP_FOWNER);
  const f = auth.newUserCredentials(1000, 1000, [], {
    permittedCaps: caps, effectiveCaps: caps, inheritableCaps: 0, boundingCaps: caps, ambientCaps: 0,
  });
  t.true(f.hasCapability(linux.CAP_FOWNER));
  t.false(f.hasCapability(linux.CAP_CHOWN));
});

test('inGroup: effective GID or a supplementary group (in_group_p)', (t) => {
  const u = auth.newUserCredentials(1000, 100, [10, 20]);
  t.true(u.inGroup(100));
  t.true(u.inGroup(20));
  t.false(u.inGroup(1000));
  t.false(u.inGroup(0));
});

test('fork copies by value', (t) => {
  const u = auth.newUserCredentials(1000, 100, [10]);
  const f = u.fork();
  t.not(f, u);
  t.deepEqual({ ...f }, { ...u });
  f.effectiveKUID = 0;
  t.is(u.effectiveKUID, 1000);
  t.is(f.userNamespace, u.userNamespace);
});

test('useUID/useGID: EINVAL for NoID, any ID with CAP_SETUID/CAP_SETGID, else only real/effective/saved (EPERM)', (t) => {
  const root = auth.newRootCredentials();
  t.is(root.useUID(1234), 1234);
  t.is(root.useGID(4321), 4321);
  t.throws(() => root.useUID(auth.NoID), { is: syserror.EINVAL });
  t.throws(() => root.useGID(auth.NoID), { is: syserror.EINVAL });
  const u = auth.newUserCredentials(1000, 100);
  t.is(u.useUID(1000), 1000);
  t.is(u.useGID(100), 100);
  t.throws(() => u.useUID(0), { is: syserror.EPERM });
  t.throws(() => u.useGID(0), { is: syserror.EPERM });
});

test('setUID/setGID set real, effective and saved IDs; EINVAL for NoID', (t) => {
  const c = auth.newRootCredentials().fork();
  c.setUID(5);
  c.setGID(6);
  t.deepEqual([c.realKUID, c.effectiveKUID, c.savedKUID], [5, 5, 5]);
  t.deepEqual([c.realKGID, c.effectiveKGID, c.savedKGID], [6, 6, 6]);
  t.throws(() => c.setUID(auth.NoID), { is: syserror.EINVAL });
});

test('root user namespace maps IDs to themselves; NoID stays NoID', (t) => {
  const ns = auth.rootUserNamespace();
  t.is(ns.root(), ns);
  t.is(ns.parent, null);
  t.is(ns.mapToKUID(1000), 1000);
  t.is(ns.mapFromKGID(7), 7);
  t.is(ns.mapToKGID(auth.NoID), auth.NoID);
  t.is(auth.kuidIn(42, ns), 42);
  t.is(auth.uidOrOverflow(auth.NoID), auth.OverflowUID);
  t.is(auth.gidOrOverflow(3), 3);
});

test('credentialsFromContext: the context\'s credentials, else anonymous (nobody, no capabilities)', (t) => {
  const anon = auth.credentialsFromContext(context.background());
  t.is(anon.effectiveKUID, auth.NobodyKUID);
  t.is(anon.effectiveKGID, auth.NobodyKGID);
  for (const cp of allCaps) t.false(anon.hasCapability(cp));
  const creds = auth.newUserCredentials(1000, 1000);
  const ac = new AbortController();
  const ctx = auth.withCredentials(context.withSignal(context.background(), ac.signal), creds);
  t.is(auth.credentialsFromContext(ctx), creds);
  t.is(ctx.value(auth.CtxCredentials), creds);
  t.is(ctx.signal, ac.signal, 'the signal passes through');
  const inner = context.withValue(ctx, Symbol('x'), 1);
  t.is(auth.credentialsFromContext(inner), creds);
  t.is(auth.contextWithCredentials, auth.withCredentials);
});
