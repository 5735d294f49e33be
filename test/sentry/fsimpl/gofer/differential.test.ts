// The differential cases of test/sentry/syscalls/linux/differential_cases.ts
// rerun with the gofer filesystem as the kernel's root (issue 5's tests):
// over our gofer (an in-process pkg/p9 Server over pkg/fsgofer) in exclusive
// and shared interop mode, and over diod (plain 9P2000.L) in both modes when
// /usr/sbin/diod is installed (said loudly otherwise). The sandbox's root
// directory is a host temp dir the gofer serves; the host side of the
// comparison runs in a separate, identical temp dir (both a host tmpfs when
// this process may mount one).
//
// Where a server cannot do what Linux does, the difference is listed in
// knownFor(backend) with the reason, logged loudly when it occurs, and a
// listed difference that stops occurring fails the test.

import test from 'ava';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { newAttachPoint } from '../../../../pkg/fsgofer/fsgofer';
import type { Attacher } from '../../../../pkg/p9/file';
import { Server } from '../../../../pkg/p9/server';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { FilesystemType, type filesystem } from '../../../../pkg/sentry/fsimpl/gofer';
import { clunksSettled } from '../../../../pkg/sentry/fsimpl/gofer/handle';
import { cases, runCase, type Case } from '../../syscalls/linux/differential_cases';
import { HostDir } from '../../syscalls/linux/oracle';
import { haveDiod, startDiod, type Diod } from '../../../p9/client_util';

// The gofer runs with umask 0 (runsc/cmd/gofer.go): modes arrive already
// masked by the sandbox. (The host side sets its own umask around each run.)
process.umask(0);

interface Backend {
  /** name says the server and the interop mode. */
  name: string;
  server: 'gofer' | 'diod';
  /** data is the mount options besides the connection. */
  data: string;
  /** only limits the cases run (by name); all when absent. */
  only?: (c: Case) => boolean;
}

const SHARED = 'cache=remote_revalidating';

const backends: Backend[] = [
  { name: 'gofer exclusive', server: 'gofer', data: '' },
  { name: 'gofer shared', server: 'gofer', data: SHARED },
  // Over diod the FIFO case is left out (said loudly at load): it hung in a
  // trial run (opening a host FIFO through diod; not investigated further).
  { name: 'diod exclusive', server: 'diod', data: '', only: (c) => !c.name.startsWith('FIFOs') },
  { name: 'diod shared', server: 'diod', data: SHARED, only: (c) => !c.name.startsWith('FIFOs') },
];

/**
 * knownFor lists, per backend, the differences from Linux that come from
 * the server (not from the gofer filesystem), keyed as runCase keys them.
 */
function knownFor(b: Backend): Record<string, string> {
  if (b.server === 'gofer') return {};
  const xattr = 'diod: an empty value (Txattrcreate of size 0, then Tclunk) is not stored (ENODATA); ' +
    'Linux and our gofer store it';
  const sticky = 'diod (run as root with -n -N -U root): nobody\'s rename of its own new file in a sticky directory ' +
    'fails EPERM, as the file does not come back owned by the creating uid of Tlcreate';
  const mkdirOwner = 'diod (run as root with -n -N -U root): a directory nobody makes comes back owned by root with ' +
    'the server\'s umask (Tmkdir\'s gid is not applied), so nobody\'s chmod of it fails EPERM';
  const unprivSetid = 'set-ID bits as an unprivileged owner: write, truncate and chmod clear or refuse them';
  return {
    [`${unprivSetid} ["chmod","mine/sgid",1535]`]: mkdirOwner,
    [`${unprivSetid} ["stat","mine/sgid"]`]: mkdirOwner + ' (follows from it)',
    'user extended attributes ["setxattr","f","user.b","",0]': xattr,
    'user extended attributes ["getxattr","f","user.b"]': xattr,
    'user extended attributes ["listxattr","f"]': xattr,
    'sticky directories (restricted deletion) ["rename","st/mine","st/mine2",0]': sticky,
    'sticky directories (restricted deletion) ["unlink","st/mine2"]': sticky + ' (follows from the failed rename)',
  };
}

/**
 * failingFor lists, per backend, the cases that still differ from Linux, by
 * case name, with the reason. They run as test.failing: each must fail (its
 * mismatches are printed), and one that starts passing fails the run, so
 * that the list stays true.
 */
function failingFor(_b: Backend): Record<string, string> {
  // None left: the set-ID, creation-mode and FIFO cases pass since pkg/fsgofer
  // keeps set-ID bits and holds FIFOs by O_PATH, and the client clears and
  // inherits set-ID bits as Linux (issue 5).
  return {};
}

interface Setup {
  k: Kernel;
  /** served is the host directory the server serves (the sandbox's "/"). */
  served: HostDir;
  /** host is the host side of the comparison. */
  host: HostDir;
  server: Server | null;
  diod: Diod | null;
  sockDir: string | null;
}

const setups = new Map<string, Promise<Setup>>();

async function makeSetup(b: Backend): Promise<Setup> {
  const served = new HostDir();
  const host = new HostDir();
  let server: Server | null = null;
  let diod: Diod | null = null;
  let sockDir: string | null = null;
  let address: string;
  let data = b.data;
  if (b.server === 'gofer') {
    const attacher: Attacher = { attach: () => newAttachPoint(served.path, { roMount: false }).attach() };
    server = new Server(attacher);
    sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-diff-sock-'));
    address = `unix:${path.join(sockDir, 'g.sock')}`;
    await server.listen(address);
  } else {
    diod = await startDiod(served.path);
    address = diod.address;
    data = `aname=${served.path},msize=65536${data === '' ? '' : `,${data}`}`;
  }
  const k = await Kernel.create({
    root: { fsType: '9p', source: address, options: data },
    filesystemTypes: [{ name: '9p', factory: () => new FilesystemType(), opts: { allowUserMount: true } }],
  });
  const root = await k.newTask();
  await root.fs.mkdir('/w', 0o755);
  await root.fs.chmod('/w', 0o755);
  await root.release();
  return { k, served, host, server, diod, sockDir };
}

function getSetup(b: Backend): Promise<Setup> {
  let p = setups.get(b.name);
  if (p === undefined) {
    p = makeSetup(b);
    setups.set(b.name, p);
  }
  return p;
}

function goferFS(k: Kernel): filesystem {
  return k.rootDirectory().mount().filesystem().impl as filesystem;
}

test.after.always(async () => {
  for (const p of setups.values()) {
    const s = await p.catch(() => null);
    if (s === null) continue;
    const gfs = goferFS(s.k);
    await s.k.release();
    await gfs.settled();
    await gfs.closed;
    await s.server?.close();
    await s.diod?.stop();
    s.served.cleanup();
    s.host.cleanup();
    if (s.sockDir !== null) fs.rmSync(s.sockDir, { recursive: true, force: true });
  }
});

const diodPresent = haveDiod();
if (diodPresent) {
  process.stderr.write('NOTE: gofer differential over diod leaves out the FIFO case (it hung over diod; see backends)\n');
} else {
  process.stderr.write('\n*** SKIPPED: diod not installed (/usr/sbin/diod): gofer differential tests over diod ***\n\n');
  test('differential over diod', (t) => {
    t.log('SKIPPED: diod not installed');
    t.pass();
  });
}

for (const b of backends) {
  if (b.server === 'diod' && !diodPresent) continue;
  const known = knownFor(b);
  let caseNo = 0;
  for (const c of cases) {
    if (b.only !== undefined && !b.only(c)) continue;
    const failing = failingFor(b)[c.name];
    // Serial: the leak check counts the server's fids, which a concurrent case would change.
    (failing === undefined ? test.serial : test.serial.failing)(`gofer differential (${b.name}): ${c.name}`, async (t) => {
      if (failing !== undefined) {
        t.log(`KNOWN DIFFERENCE (expected to fail): ${failing}`);
        process.stderr.write(`KNOWN DIFFERENCE: gofer differential (${b.name}) "${c.name}" fails as expected: ${failing}\n`);
      }
      const s = await getSetup(b);
      await runCase(t, c, { k: s.k, base: '/w' }, s.host, `c${caseNo++}`, known);
      // Leak check: the server holds no more fids than the client's dentries and handles.
      const gfs = goferFS(s.k);
      await gfs.settled();
      await clunksSettled();
      if (s.server !== null) {
        await s.server.settled();
        t.true(s.server.fidCount() <= gfs.fidCount(), `server fids ${s.server.fidCount()} <= client fids ${gfs.fidCount()}`);
      }
      t.true(gfs.cachedDentriesLen <= gfs.opts.maxCachedDentries, 'dentry cache within its bound');
    });
  }
}
