// Differential tests: the cases of differential_cases.ts on the sandbox (a
// task on a tmpfs root) and on the host kernel (libc through koffi in a host
// temp directory — a host tmpfs when this process may mount one), results
// and errno compared (DESIGN decision 9: the host kernel is the oracle).
// test/sentry/fsimpl/gofer/differential.test.ts runs the same cases on a
// gofer root.

import test from 'ava';
import { Kernel } from '../../../../pkg/sentry/kernel/kernel';
import { cases, runCase } from './differential_cases';
import { HostDir } from './oracle';

interface Setup {
  k: Kernel;
  host: HostDir;
}

let setupPromise: Promise<Setup> | null = null;

function getSetup(): Promise<Setup> {
  setupPromise ??= (async () => {
    const k = await Kernel.create({ root: { fsType: 'tmpfs' } });
    const root = await k.newTask();
    await root.fs.mkdir('/w', 0o755);
    await root.fs.chmod('/w', 0o755);
    await root.release();
    return { k, host: new HostDir() };
  })();
  return setupPromise;
}

test.after.always(async () => {
  if (setupPromise === null) return;
  const { k, host } = await setupPromise;
  await k.release();
  host.cleanup();
});

/**
 * known lists the differences from Linux that belong to other parts of the
 * port (reported to their owners), by case name and op (see runCase).
 */
const known: Record<string, string> = {
  // None at present. (Earlier tmpfs differences — NAME_MAX of the final
  // component in unlink/rmdir/rename, rename of a directory onto itself,
  // ENOENT before EACCES for a missing name, may_linkat's EPERM before the
  // parent's EACCES — are fixed and stay covered by the cases.)
};

let caseNo = 0;

for (const c of cases) {
  test(`differential: ${c.name}`, async (t) => {
    const { k, host } = await getSetup();
    await runCase(t, c, { k, base: '/w' }, host, `c${caseNo++}`, known);
  });
}
