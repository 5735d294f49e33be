// Property test of the confinement contract: random sequences of 9P
// operations (walks, creates, symlinks pointing out, links, renames,
// unlinks, setattr, xattrs, reads, writes, readdir), over names that include
// "..", ".", "", "a/b", NUL and symlinks to the outside, through our client
// and a real server: whatever happens inside the root, the sibling directory
// outside it stays byte-identical (data, metadata, atime).
import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs';

import { ClientFile } from '../../pkg/p9/client_file';
import { AttrMaskAll, ModeNamedPipe, ModeRegular, ReadOnly, ReadWrite, SetAttr, SetAttrMask, WriteOnly } from '../../pkg/p9/p9';
import * as syserror from '../../pkg/syserror/syserror';
import { connect, serve } from './_harness';
import { makeLayout, snapshot } from './_outside';


process.umask(0);

const goodNames = ['a', 'b', 'd', 'out', 'rel', 'up', 'secret', 'dir'];
const badNames = ['..', '.', '', 'a/b', '../outside', 'x\0y', '/'];
const targets = ['/', '..', '../outside', '../outside/secret', '../../outside/dir', 'a', 'd/a'];

type op =
  | { k: 'walk'; path: string[] }
  | { k: 'create'; dir: string[]; name: string }
  | { k: 'mkdir'; dir: string[]; name: string }
  | { k: 'symlink'; dir: string[]; name: string; target: string }
  | { k: 'mknod'; dir: string[]; name: string; fifo: boolean }
  | { k: 'link'; dir: string[]; target: string[]; name: string }
  | { k: 'rename'; dir: string[]; from: string; to: string }
  | { k: 'unlink'; dir: string[]; name: string; rmdir: boolean }
  | { k: 'setattr'; path: string[] }
  | { k: 'xattr'; path: string[] }
  | { k: 'rw'; path: string[]; write: boolean }
  | { k: 'readdir'; path: string[] };

// Mostly names that exist or can be made, some that must be refused.
const nameArb = fc.oneof({ arbitrary: fc.constantFrom(...goodNames), weight: 6 }, { arbitrary: fc.constantFrom(...badNames), weight: 1 });
const pathArb = fc.oneof(
  { arbitrary: fc.constant([] as string[]), weight: 3 },
  { arbitrary: fc.tuple(nameArb), weight: 3 },
  { arbitrary: fc.array(nameArb, { maxLength: 3 }), weight: 1 },
);
const opArb: fc.Arbitrary<op> = fc.oneof(
  fc.record({ k: fc.constant('walk' as const), path: pathArb }),
  fc.record({ k: fc.constant('create' as const), dir: pathArb, name: nameArb }),
  fc.record({ k: fc.constant('mkdir' as const), dir: pathArb, name: nameArb }),
  fc.record({ k: fc.constant('symlink' as const), dir: pathArb, name: nameArb, target: fc.constantFrom(...targets) }),
  fc.record({ k: fc.constant('mknod' as const), dir: pathArb, name: nameArb, fifo: fc.boolean() }),
  fc.record({ k: fc.constant('link' as const), dir: pathArb, target: pathArb, name: nameArb }),
  fc.record({ k: fc.constant('rename' as const), dir: pathArb, from: nameArb, to: nameArb }),
  fc.record({ k: fc.constant('unlink' as const), dir: pathArb, name: nameArb, rmdir: fc.boolean() }),
  fc.record({ k: fc.constant('setattr' as const), path: pathArb }),
  fc.record({ k: fc.constant('xattr' as const), path: pathArb }),
  fc.record({ k: fc.constant('rw' as const), path: pathArb, write: fc.boolean() }),
  fc.record({ k: fc.constant('readdir' as const), path: pathArb }),
);

async function withFile(root: ClientFile, p: string[], fn: (f: ClientFile) => Promise<unknown>): Promise<void> {
  const [, f] = await root.walk(p);
  try {
    await fn(f);
  } finally {
    await f.close().catch(() => undefined);
  }
}

async function apply(root: ClientFile, o: op): Promise<void> {
  switch (o.k) {
    case 'walk':
      return withFile(root, o.path, (f) => f.getAttr(AttrMaskAll()));
    case 'create':
      return withFile(root, o.dir, (f) => f.create(o.name, ReadWrite, 0o6777, 0, 0));
    case 'mkdir':
      return withFile(root, o.dir, (f) => f.mkdir(o.name, 0o7777, 0, 0));
    case 'symlink':
      return withFile(root, o.dir, (f) => f.symlink(o.target, o.name, 0, 0));
    case 'mknod':
      return withFile(root, o.dir, (f) => f.mknod(o.name, (o.fifo ? ModeNamedPipe : ModeRegular) | 0o666, 0, 0, 0, 0));
    case 'link':
      return withFile(root, o.dir, (d) => withFile(root, o.target, (t) => d.link(t, o.name)));
    case 'rename':
      return withFile(root, o.dir, (d) => d.renameAt(o.from, root, o.to));
    case 'unlink':
      return withFile(root, o.dir, (d) => d.unlinkAt(o.name, o.rmdir ? 0x200 : 0));
    case 'setattr':
      return withFile(root, o.path, (f) =>
        f.setAttr(
          SetAttrMask.with({ permissions: true, size: true, uid: true, mTime: true, mTimeNotSystemTime: true }),
          new SetAttr(0o7777, 4321, 0, 0, 0, 0, 1, 0),
        ),
      );
    case 'xattr':
      return withFile(root, o.path, async (f) => {
        await f.setXattr('user.fuzz', 'v', 0).catch(() => undefined);
        await f.getXattr('user.sentinel', 0).catch(() => undefined);
        await f.listXattr(0).catch(() => undefined);
        await f.removeXattr('user.fuzz');
      });
    case 'rw':
      return withFile(root, o.path, async (f) => {
        await f.open(o.write ? WriteOnly : ReadOnly);
        if (o.write) await f.writeAt(Buffer.from('fuzz'), 0);
        else await f.readAt(Buffer.alloc(64), 0);
      });
    case 'readdir':
      return withFile(root, o.path, async (f) => {
        await f.open(ReadOnly);
        await f.readdir(0n, 4096);
      });
  }
}

test('random operation sequences never touch the host outside the root', async (t) => {
  const l = makeLayout();
  t.teardown(() => fs.rmSync(l.base, { recursive: true, force: true }));
  fs.symlinkSync(l.outside, `${l.root}/out`);
  fs.symlinkSync('../outside', `${l.root}/rel`);
  fs.symlinkSync('..', `${l.root}/up`);
  fs.mkdirSync(`${l.root}/d`);
  const before = snapshot(l.outside);
  const s = await serve(t, l.root, l.base);
  const { root } = await connect(t, s);
  let ran = 0;
  let failed = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
      for (const o of ops) {
        ran++;
        try {
          await apply(root, o);
        } catch (e) {
          if (!(e instanceof syserror.LinuxError)) throw e;
          failed++;
        }
      }
      const now = snapshot(l.outside);
      if (JSON.stringify(now) !== JSON.stringify(before)) {
        throw new Error(`outside changed:\n${now.join('\n')}\nwas:\n${before.join('\n')}`);
      }
    }),
    { numRuns: 60, seed: 424242 },
  );
  t.log(`${ran} operations, ${failed} refused`);
  t.deepEqual(snapshot(l.outside), before);
  // Nothing was created next to the root either.
  t.deepEqual(fs.readdirSync(l.base).filter((n) => !n.endsWith('.sock')).sort(), ['outside', 'root']);
});
