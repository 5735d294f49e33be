// The final tree of a case directory: names, types, modes, owners, link
// counts, sizes, contents and link targets, as one line per file, so that
// the sandbox's tree, the host's and (over our gofer) the backing
// directory's can be compared line by line.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { formatStat, quote, type StatFields } from './exec';

/** TreeEntry is one file of a tree. */
export interface TreeEntry {
  /** path is relative to the case directory ("." for itself). */
  path: string;
  stat?: StatFields;
  /** error is the errno of a file that could not be stat'ed. */
  error?: number;
  /** target is a symlink's target. */
  target?: string;
  /** content is a regular file's bytes (latin1), up to 1 MiB. */
  content?: string;
}

/**
 * formatTree renders a tree as sorted lines. Access times are left out:
 * listing a tree reads its files and directories, and a host read may move
 * atime (relatime) under the other listing; calls that set atime are
 * checked by the stat lines of the cases instead.
 */
export function formatTree(entries: TreeEntry[]): string[] {
  return entries.map((e) => {
    if (e.stat === undefined) return `${e.path} errno ${e.error ?? '?'}`;
    let line = `${e.path} ${formatStat({ ...e.stat, atime: [Number.MAX_SAFE_INTEGER, 0] })}`;
    if (e.target !== undefined) line += ` -> ${JSON.stringify(e.target)}`;
    if (e.content !== undefined) line += ` ${e.content.length > 64 ? `${quote(Buffer.from(e.content.slice(0, 64), 'latin1'))}...` : quote(Buffer.from(e.content, 'latin1'))}`;
    return line;
  }).sort();
}

/** TreeDiff is one line that differs: what the sandbox has, what the host has. */
export interface TreeDiff {
  path: string;
  sandbox: string;
  host: string;
}

function pathOf(line: string): string {
  // JSON-quoted names never contain a space outside quotes in our cases; the
  // first word is the path.
  return line.split(' ')[0]!;
}

/** diffTrees compares two rendered trees by path. */
export function diffTrees(sandbox: string[], host: string[]): TreeDiff[] {
  const a = new Map(sandbox.map((l) => [pathOf(l), l]));
  const b = new Map(host.map((l) => [pathOf(l), l]));
  const out: TreeDiff[] = [];
  for (const p of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(p) ?? '(absent)';
    const y = b.get(p) ?? '(absent)';
    if (x !== y) out.push({ path: p, sandbox: x, host: y });
  }
  return out;
}

function statFieldsOf(st: fs.BigIntStats): StatFields {
  return {
    mode: Number(st.mode),
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: Number(st.rdev),
    size: Number(st.size),
    atime: [Number(st.atimeNs / 1_000_000_000n), Number(st.atimeNs % 1_000_000_000n)],
    mtime: [Number(st.mtimeNs / 1_000_000_000n), Number(st.mtimeNs % 1_000_000_000n)],
  };
}

/** hostTree lists a host directory recursively (as root, through Node's fs). */
export function hostTree(dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (abs: string, rel: string): void => {
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(abs, { bigint: true });
    } catch (err) {
      out.push({ path: rel, error: (err as NodeJS.ErrnoException).errno ?? -1 });
      return;
    }
    const e: TreeEntry = { path: rel, stat: statFieldsOf(st) };
    out.push(e);
    if (st.isSymbolicLink()) {
      e.target = fs.readlinkSync(abs, { encoding: 'latin1' });
    } else if (st.isFile()) {
      const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const b = Buffer.alloc(Math.min(Number(st.size), 1 << 20));
        let off = 0;
        while (off < b.length) {
          const n = fs.readSync(fd, b, off, b.length - off, off);
          if (n <= 0) break;
          off += n;
        }
        e.content = b.subarray(0, off).toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
    } else if (st.isDirectory()) {
      for (const n of fs.readdirSync(abs).sort()) walk(path.join(abs, n), rel === '.' ? n : `${rel}/${n}`);
    }
  };
  walk(dir, '.');
  return out;
}
