// Mirrors gVisor's pkg/fspath/fspath_test.go.
import test from 'ava';
import { parse, Path, Iterator } from '../../pkg/fspath/fspath';

test('parse: partial pathnames (TestParseIteratorPartialPathnames)', (t) => {
  const path = parse('/foo//bar///baz////');
  // parse strips leading slashes, and records their presence as absolute.
  t.true(path.absolute);
  // parse strips trailing slashes, and records their presence as dir.
  t.true(path.dir);
  // The first partialPathname is the input pathname, with leading and
  // trailing slashes stripped.
  let it = path.begin;
  t.is(it.partialPathname, 'foo//bar///baz');
  // Successive partialPathnames remove the leading path component and
  // following slashes, until we run out and get a terminal Iterator.
  it = it.next();
  t.is(it.partialPathname, 'bar///baz');
  it = it.next();
  t.is(it.partialPathname, 'baz');
  it = it.next();
  t.is(it.partialPathname, '');
  t.false(it.ok());
});

interface Case {
  pathname: string;
  relpath: string[];
  abs: boolean;
  dir: boolean;
}

const cases: Case[] = [
  { pathname: '', relpath: [], abs: false, dir: false },
  { pathname: '/', relpath: [], abs: true, dir: true },
  { pathname: '//', relpath: [], abs: true, dir: true },
];
for (const sep of ['/', '//']) {
  for (const abs of [false, true]) {
    for (const dir of [false, true]) {
      // single path component; multiple path components, including non-UTF-8
      // (here: the latin1 string of byte 0xe6).
      for (const pcs of [['foo'], ['.', 'foo', '..', '\xe6', 'bar']]) {
        const prefix = abs ? sep : '';
        const suffix = dir ? sep : '';
        const pathname = prefix + pcs.join(sep) + suffix;
        // ("foo" comes out the same for both separators; Go's t.Run allows
        // duplicates, ava does not.)
        if (!cases.some((c) => c.pathname === pathname)) cases.push({ pathname, relpath: pcs, abs, dir });
      }
    }
  }
}

for (const c of cases) {
  test(`parse (TestParse) ${JSON.stringify(c.pathname)}`, (t) => {
    const p = parse(c.pathname);
    t.is(p.absolute, c.abs, 'path absoluteness');
    t.is(p.dir, c.dir, 'path must resolve to a directory');
    const pcs: string[] = [];
    for (let pit = p.begin; pit.ok(); pit = pit.next()) {
      pcs.push(pit.string());
      t.is(pit.nextOk(), pit.next().ok(), 'nextOk is next().ok()');
    }
    t.deepEqual(pcs, c.relpath);
    t.is(p.hasComponents(), c.relpath.length > 0);
  });
}

const stringCases: Array<[string, string]> = [
  ['', ''],
  ['/', '/'],
  ['//', '/'],
  ['foo', 'foo'],
  ['foo/', 'foo/'],
  ['/foo//bar///', '/foo/bar/'],
  ['a//b/./../c', 'a/b/./../c'],
];
for (const [input, want] of stringCases) {
  test(`Path.toString drops redundant separators: ${JSON.stringify(input)}`, (t) => {
    t.is(parse(input).toString(), want);
    t.is(`${parse(input)}`, want);
  });
}

test('zero values: new Path() is parse(""), new Iterator() is terminal', (t) => {
  const p = new Path();
  t.false(p.absolute);
  t.false(p.dir);
  t.false(p.hasComponents());
  t.false(new Iterator().ok());
});
