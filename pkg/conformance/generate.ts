// Families of cases generated from compact tables (each errno path of each
// path-taking call, each open flag combination, ...), in the same case
// language as the files under test/conformance/, so that they read the same
// in reports.

import { parseCases, type Case } from './parse';

/** family builds cases from case source text under a group name. */
function family(group: string, src: string): Case[] {
  return parseCases(src, `(generated: ${group})`, group);
}

/** generatedCases returns every generated family. */
export function generatedCases(): Case[] {
  return [];
}

export { family };
