// npm run bench: runs every test/bench/*.bench.js (after build) in one
// process, one after another, so each prints its ratios against the
// baseline it measures in the same run. `npm run bench -- NAME` runs the
// benchmarks whose file name contains NAME.
import * as fs from 'node:fs';
import * as path from 'node:path';

interface BenchModule {
  run(): Promise<void>;
}

function isBenchModule(m: unknown): m is BenchModule {
  return typeof m === 'object' && m !== null && typeof (m as { run?: unknown }).run === 'function';
}

async function main(): Promise<void> {
  const filter = process.argv[2] ?? '';
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js') && f.includes(filter))
    .sort();
  if (files.length === 0) {
    console.error(`bench: no benchmark matches "${filter}"`);
    process.exitCode = 2;
    return;
  }
  for (const f of files) {
    console.log(`\n== ${f.replace(/\.bench\.js$/, '')} ==`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m: unknown = require(path.join(__dirname, f));
    if (!isBenchModule(m)) {
      console.error(`bench: ${f} exports no run()`);
      process.exitCode = 1;
      continue;
    }
    await m.run();
  }
}

main().catch((err: unknown) => {
  console.error('bench:', err);
  process.exitCode = 1;
});
