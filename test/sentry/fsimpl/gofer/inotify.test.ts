// inotify through gofer operations (issue 5's tests): the event sequence of
// test/sentry/syscalls/linux/inotify_oracle.ts (create, write, close,
// rename, link, unlink, mkdir, rmdir, attrib: chmod, utimens, chown,
// truncate, setxattr) run by a task on a gofer root, compared with the host
// kernel's (/usr/bin/inotifywait -m on a separate host directory running the
// same calls). Over our gofer and over diod (when installed), each in
// exclusive and shared mode. The events are the sentry's own (gVisor's
// gofer raises them for the sandbox's operations; changes made on the host
// behind the gofer's back raise none, in gVisor as here).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { IN_ALL_EVENTS, IN_MOVED_FROM, IN_MOVED_TO, IN_NONBLOCK } from '../../../../pkg/abi/linux/inotify';
import { newAttachPoint } from '../../../../pkg/fsgofer/fsgofer';
import type { Attacher } from '../../../../pkg/p9/file';
import { Server } from '../../../../pkg/p9/server';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { FilesystemType, type filesystem } from '../../../../pkg/sentry/fsimpl/gofer';
import { dedup, hostEvents, INOTIFYWAIT, maskNames, sequence } from '../../syscalls/linux/inotify_oracle';
import { HostDir, runSandbox } from '../../syscalls/linux/oracle';
import { haveDiod, startDiod } from '../../../p9/client_util';

// The gofer runs with umask 0 (runsc/cmd/gofer.go).
process.umask(0);

interface Backend {
  name: string;
  server: 'gofer' | 'diod';
  data: string;
}

const backends: Backend[] = [
  { name: 'gofer exclusive', server: 'gofer', data: '' },
  { name: 'gofer shared', server: 'gofer', data: 'cache=remote_revalidating' },
  { name: 'diod exclusive', server: 'diod', data: '' },
  { name: 'diod shared', server: 'diod', data: 'cache=remote_revalidating' },
];

/** goferKernel makes a kernel whose root is a gofer filesystem over a fresh host tmpfs dir; teardown releases all. */
async function goferKernel(t: ExecutionContext, b: Backend): Promise<Kernel> {
  const served = new HostDir();
  t.teardown(() => served.cleanup());
  let address: string;
  let data = b.data;
  let server: Server | null = null;
  if (b.server === 'gofer') {
    const attacher: Attacher = { attach: () => newAttachPoint(served.path, { roMount: false }).attach() };
    server = new Server(attacher);
    const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-ino-sock-'));
    t.teardown(() => fs.rmSync(sockDir, { recursive: true, force: true }));
    address = `unix:${path.join(sockDir, 'g.sock')}`;
    await server.listen(address);
  } else {
    const diod = await startDiod(served.path);
    t.teardown(() => diod.stop());
    address = diod.address;
    data = `aname=${served.path},msize=65536${data === '' ? '' : `,${data}`}`;
  }
  const k = await Kernel.create({
    root: { fsType: '9p', source: address, options: data },
    filesystemTypes: [{ name: '9p', factory: () => new FilesystemType(), opts: { allowUserMount: true } }],
  });
  const gfs = k.rootDirectory().mount().filesystem().impl as filesystem;
  // Teardowns run in reverse order: the kernel first, then the server.
  t.teardown(async () => {
    await server?.close();
  });
  t.teardown(async () => {
    await k.release();
    await gfs.settled();
    await gfs.closed;
  });
  return k;
}

if (!fs.existsSync(INOTIFYWAIT)) {
  process.stderr.write('\n*** SKIPPED: inotify over the gofer: /usr/bin/inotifywait not installed (Debian: inotify-tools) ***\n\n');
  test('inotify through gofer operations matches the host kernel (inotifywait)', (t) => {
    t.log('SKIPPED: inotifywait not installed');
    t.pass();
  });
} else {
  if (!haveDiod()) {
    process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): inotify over the gofer runs over our gofer only ***\n\n');
  }
  for (const b of backends) {
    if (b.server === 'diod' && !haveDiod()) continue;
    test.serial(`inotify through gofer operations (${b.name}) matches the host kernel (inotifywait)`, async (t) => {
      const host = new HostDir();
      t.teardown(() => host.cleanup());
      const expected = await hostEvents(host.sub('w', 0o755), sequence);

      const k = await goferKernel(t, b);
      const root = await k.newTask();
      await root.fs.mkdir('/w', 0o755);
      await root.fs.chmod('/w', 0o755);
      const ino = await root.fs.inotifyInit(IN_NONBLOCK);
      t.is(await root.fs.inotifyAddWatch(ino, '/w', IN_ALL_EVENTS), 1);
      const task = await k.newTask({ cwd: '/w' });
      await runSandbox(task, sequence);
      const events = await root.fs.readInotifyEvents(ino);
      const got = events.map((e) => `${maskNames(e.mask)} ${e.name}`.trimEnd());
      t.deepEqual(dedup(got), dedup(expected));
      // MOVED_FROM/MOVED_TO pairs share one nonzero cookie (inotify(7)).
      const moves = events.filter((e) => (e.mask & (IN_MOVED_FROM | IN_MOVED_TO)) !== 0);
      for (let i = 0; i + 1 < moves.length; i += 2) {
        t.not(moves[i]!.cookie, 0);
        t.is(moves[i]!.cookie, moves[i + 1]!.cookie);
      }
      await task.release();
      await root.release();
    });
  }
}
