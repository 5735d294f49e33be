// Tests for pkg/p9/version.ts: a port of gVisor's version_test.go plus the
// version 13 (Tmultigetattr) predicate.
import test from 'ava';
import * as v from '../../pkg/p9/version';

test('versionString ↔ parseVersion are inverse for 0..1023 (TestVersionNumberEquivalent)', (t) => {
  for (let i = 0; i < 1024; i++) {
    const str = v.versionString(i);
    const [version, ok] = v.parseVersion(str);
    t.true(ok, str);
    t.is(version, i);
  }
});

test('9P2000.L.Google.0 parses as 0 but prints as 9P2000.L (TestVersionStringEquivalent)', (t) => {
  const [version, ok] = v.parseVersion('9P2000.L.Google.0');
  t.true(ok);
  t.is(v.versionString(version), '9P2000.L');
  for (const s of ['9P2000.L', '9P2000.L.Google.1', '9P2000.L.Google.347823894']) {
    const [n, good] = v.parseVersion(s);
    t.true(good, s);
    t.is(v.versionString(n), s);
  }
});

test('parseVersion accepts only 9P2000.L[.Google.N], N a uint32 (TestParseVersion)', (t) => {
  const cases: [string, boolean, number?][] = [
    ['9P', false],
    ['9P.L', false],
    ['9P200.L', false],
    ['9P2000', false],
    ['9P2000.L.Google.-1', false],
    ['9P2000.L.Google.', false],
    ['9P2000.L.Google.3546343826724305832', false],
    ['9P2000.L.Google.4294967296', false],
    ['9P2000.L.Google.+1', false],
    ['9P2000.L.Google.1x', false],
    ['9P2000.L.Google.1.2', false],
    ['9P2000.u', false],
    ['9P2001.L', false],
    ['9P2000.L', true, 0],
    ['9P2000.L.Google.0', true, 0],
    ['9P2000.L.Google.1', true, 1],
    ['9P2000.L.Google.4294967295', true, 4294967295],
  ];
  for (const [s, ok, want] of cases) {
    const [n, good] = v.parseVersion(s);
    t.is(good, ok, s);
    if (ok) t.is(n, want ?? -1, s);
    else t.is(n, 0, s);
  }
});

test('HighestVersionString is 9P2000.L.Google.13 (Tmultigetattr, gVisor 276ff149a)', (t) => {
  t.is(v.HighestVersionString(), '9P2000.L.Google.13');
  t.is(v.highestVersionString(), '9P2000.L.Google.13');
  t.is(v.highestSupportedVersion, 13);
  t.is(v.lowestSupportedVersion, 0);
});

test('versionSupports* predicates switch on at gVisor\'s versions', (t) => {
  const preds: [(n: number) => boolean, number][] = [
    [v.versionSupportsTflushf, 1],
    [v.versionSupportsTwalkgetattr, 2],
    [v.versionSupportsTucreation, 3],
    [v.versionSupportsConnect, 4],
    [v.versionSupportsAnonymous, 5],
    [v.versionSupportsMultiUser, 6],
    [v.versionSupportsTallocate, 7],
    [v.versionSupportsFlipcall, 8],
    [v.versionSupportsOpenTruncateFlag, 9],
    [v.versionSupportsGetSetXattr, 10],
    [v.versionSupportsListRemoveXattr, 11],
    [v.versionSupportsTsetattrclunk, 12],
    [v.versionSupportsTmultiGetAttr, 13],
    [v.versionSupportsMultiGetAttr, 13],
  ];
  for (const [p, from] of preds) {
    t.false(p(from - 1), `${p.name}(${from - 1})`);
    t.true(p(from), `${p.name}(${from})`);
    t.true(p(v.highestSupportedVersion), p.name);
    // Plain 9P2000.L (diod) is version 0: no extension at all.
    t.false(p(v.parseVersion('9P2000.L')[0]), p.name);
  }
});
