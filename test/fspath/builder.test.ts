// Mirrors gVisor's pkg/fspath/builder_test.go.
import test from 'ava';
import { Builder } from '../../pkg/fspath/builder';

interface Case {
  pcs: string[]; // path components in reverse order
  after: string;
  want: string;
}

const cases: Case[] = [
  // Empty case.
  { pcs: [], after: '', want: '' },
  { pcs: ['foo'], after: '', want: 'foo' },
  { pcs: ['foo', 'bar', 'baz'], after: '', want: 'baz/bar/foo' },
  { pcs: ['foo', 'bar'], after: ' (deleted)', want: 'bar/foo (deleted)' },
];

for (const c of cases) {
  test(`Builder (TestBuilder) ${JSON.stringify(c.want)}`, (t) => {
    const b = new Builder();
    for (const pc of c.pcs) b.prependComponent(pc);
    b.appendString(c.after);
    t.is(b.toString(), c.want);
    t.is(b.len(), c.want.length);
  });
}

test('Builder: prependString adds no separator (as for the leading "/" of an absolute path)', (t) => {
  const b = new Builder();
  b.prependComponent('b');
  b.prependComponent('a');
  b.prependString('/');
  t.is(b.toString(), '/a/b');
});

test('Builder: reset empties it and forgets the pending separator', (t) => {
  const b = new Builder();
  b.prependComponent('x');
  b.reset();
  t.is(b.toString(), '');
  b.prependComponent('y');
  t.is(b.toString(), 'y');
});
