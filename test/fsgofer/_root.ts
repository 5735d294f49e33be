// The gofer runs as root (it creates files owned by the client's uid and
// gid, makes FIFOs and, in the tests, device nodes): the tests that check
// this need root. Elsewhere they are registered as skipped, with one loud
// line on stderr, rather than failing for a reason that is not a bug.
import test from 'ava';

export const isRoot = process.getuid?.() === 0;

/** rootSuite returns ava's test when running as root, test.skip otherwise. */
export function rootSuite(file: string): typeof test {
  if (isRoot) return test;
  process.stderr.write(`\n*** SKIPPED: ${file} needs root (the gofer runs as root: chown to client ids, mknod) ***\n\n`);
  return test.skip as unknown as typeof test;
}
