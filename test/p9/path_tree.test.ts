// Tests of pkg/p9/path_tree.ts (gVisor path_tree.go): the shared tree of
// names that fids stand on, which renames and unlinks update.

import test from 'ava';

import { newPathNode } from '../../pkg/p9/path_tree';
import type { fidRef } from '../../pkg/p9/server';

// ref makes a distinct stand-in fidRef: the tree only uses identity.
function ref(label: string): fidRef {
  return { label } as unknown as fidRef;
}

test('pathNodeFor returns one shared node per name, created on first use', (t) => {
  const root = newPathNode();
  const a = root.pathNodeFor('a');
  t.is(root.pathNodeFor('a'), a);
  t.not(root.pathNodeFor('b'), a);
  t.not(a, root);
  t.deepEqual(root.size(), { refs: 0, nodes: 2 });
});

test('addChild/nameFor/removeChild track each ref under its name; removeChild is idempotent', (t) => {
  const root = newPathNode();
  const r1 = ref('r1');
  const r2 = ref('r2');
  root.addChild(r1, 'x');
  root.addChild(r2, 'x');
  t.is(root.nameFor(r1), 'x');
  t.is(root.nameFor(r2), 'x');
  const seen: Array<[fidRef, string]> = [];
  root.forEachChildRef((r, n) => seen.push([r, n]));
  t.deepEqual(seen, [
    [r1, 'x'],
    [r2, 'x'],
  ]);
  root.removeChild(r1);
  root.removeChild(r1); // e.g. a DecRef after removeWithName.
  t.throws(() => root.nameFor(r1), { message: /expected name/ });
  t.is(root.nameFor(r2), 'x');
  root.removeChild(r2);
  t.deepEqual(root.size(), { refs: 0, nodes: 0 });
});

test('adding the same ref twice is a bug (gVisor panics; here it throws)', (t) => {
  const root = newPathNode();
  const r = ref('r');
  root.addChild(r, 'x');
  t.throws(() => root.addChild(r, 'y'), { message: /unexpected fidRef/ });
});

test('removeWithName removes every ref of the name, calls fn for each, and detaches the child node', (t) => {
  const root = newPathNode();
  const child = root.pathNodeFor('d');
  const r1 = ref('r1');
  const r2 = ref('r2');
  const other = ref('other');
  root.addChild(r1, 'd');
  root.addChild(r2, 'd');
  root.addChild(other, 'e');
  const called: fidRef[] = [];
  const orig = root.removeWithName('d', (r) => called.push(r));
  t.is(orig, child);
  t.deepEqual(called, [r1, r2]);
  t.throws(() => root.nameFor(r1));
  t.is(root.nameFor(other), 'e');
  t.not(root.pathNodeFor('d'), child, 'a later walk gets a fresh node');
  t.is(root.removeWithName('nothing', () => t.fail()), undefined);
});

test('removeWithName\'s fn may re-add a ref under another name of the same node (renameChildTo in one directory)', (t) => {
  const root = newPathNode();
  const r = ref('r');
  root.addChild(r, 'old');
  root.removeWithName('old', (x) => root.addChildLocked(x, 'new'));
  t.is(root.nameFor(r), 'new');
});

test('addPathNodeFor installs a moved subtree and refuses to overwrite (gVisor: panic)', (t) => {
  const a = newPathNode();
  const b = newPathNode();
  const moved = a.pathNodeFor('x');
  a.removeWithName('x', () => undefined);
  b.addPathNodeFor('y', moved);
  t.is(b.pathNodeFor('y'), moved);
  t.throws(() => b.addPathNodeFor('y', newPathNode()), { message: /unexpected pathNode/ });
  const nodes: unknown[] = [];
  b.forEachChildNode((n) => nodes.push(n));
  t.deepEqual(nodes, [moved]);
});

test('each node has its own opMu (held across File calls)', async (t) => {
  const root = newPathNode();
  const a = root.pathNodeFor('a');
  await root.opMu.lock();
  t.true(a.opMu.tryRLock(), 'locking a parent does not lock a child');
  a.opMu.rUnlock();
  t.false(root.opMu.tryRLock());
  root.opMu.unlock();
  t.false(root.deleted);
});
