// The case language of the conformance suite: a case is a name and a
// sequence of system call lines, written as a C programmer would call them:
//
//   # comments and blank lines are ignored
//   case open/creat-excl-exists
//     openat AT_FDCWD a O_CREAT|O_WRONLY 0644
//     write $fd0 "hello"
//     close $fd0
//     openat AT_FDCWD a O_CREAT|O_EXCL|O_WRONLY 0644
//
// Every line runs on the sandbox and on the host; their results are
// compared. Lines after `as UID:GID[:G1,G2...]` run as that unprivileged
// user (on the host in a child process that dropped its privileges); lines
// before it run as root (setup). Each call that makes descriptors binds the
// next names $fd0, $fd1, ... in line order (pipe binds two), whether or not
// it succeeds; a failed call's name stands for a descriptor that is not open.
//
// Words: integers (decimal, 0octal, 0xhex, negative), constants (O_CREAT,
// AT_FDCWD, S_IFIFO, ...), `|` between them, $fdN; strings bare (a/b) or
// quoted ("a b", with \n \t \\ \" \xHH), with `*N` repetition and `+`
// concatenation ("a"*256+"/b"); NULL; `_` for a defaulted length; iovec
// lists [3,5] (sizes to read into) or ["ab","cd"] (data to write), with
// `*N` repetition of the whole list ([1]*1025).
//
// The path words of chroot, mount (source and target) and umount2 must be
// relative and free of ".." components: on the host those calls act on the
// case directory only.

import { BAD_FD, calls, symbols, type ArgKind, type CallSpec } from './calls';

/** ParseError is a case file error with its location. */
export class ParseError extends Error {
  constructor(readonly file: string, readonly line: number, msg: string) {
    super(`${file}:${line}: ${msg}`);
  }
}

/** Step is one system call line. */
export interface Step {
  /** line is the 1-based line number in the case file. */
  line: number;
  /** text is the line as written (trimmed). */
  text: string;
  call: CallSpec;
  /** words are the argument words, unresolved. */
  words: string[];
  /** fdBind is the N of the first $fdN this line binds, or -1. */
  fdBind: number;
}

/** Creds are the credentials of the unprivileged part of a case. */
export interface Creds {
  uid: number;
  gid: number;
  groups: number[];
}

/** Case is one conformance case. */
export interface Case {
  /** name is unique in the suite: "group/name". */
  name: string;
  /** group is the case file's base name. */
  group: string;
  file: string;
  line: number;
  /** setup runs as root. */
  setup: Step[];
  /** body runs as `as` (empty when the case has no `as` line). */
  body: Step[];
  as: Creds | null;
  /** text is the source of the case, for the host worker and reports. */
  text: string;
}

/** tokenize splits a line into words, keeping quoted strings (and their *N/+ tails) whole. */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    if (s[i] === '#') break;
    let w = '';
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
      if (s[i] === '"') {
        const start = i;
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\') i++;
          i++;
        }
        if (i >= s.length) throw new Error(`unterminated string: ${s.slice(start)}`);
        i++;
        w += s.slice(start, i);
      } else {
        w += s[i];
        i++;
      }
    }
    out.push(w);
  }
  return out;
}

function unquote(q: string): string {
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    const ch = q[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    i++;
    const e = q[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'x':
        out += String.fromCharCode(parseInt(q.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      default: out += e ?? '';
    }
  }
  return out;
}

/**
 * resolveString evaluates a string word: bare, or quoted pieces with *N
 * repetition joined by +. Returns null for NULL.
 */
export function resolveString(w: string): string | null {
  if (w === 'NULL') return null;
  if (!w.startsWith('"')) return w;
  let out = '';
  let i = 0;
  while (i < w.length) {
    if (w[i] !== '"') throw new Error(`bad string word: ${w}`);
    let j = i + 1;
    while (j < w.length && w[j] !== '"') {
      if (w[j] === '\\') j++;
      j++;
    }
    let piece = unquote(w.slice(i, j + 1));
    i = j + 1;
    if (w[i] === '*') {
      const m = /^\*(\d+)/.exec(w.slice(i));
      if (m === null) throw new Error(`bad repetition in ${w}`);
      piece = piece.repeat(Number(m[1]));
      i += m[0].length;
    }
    out += piece;
    if (i < w.length) {
      if (w[i] !== '+') throw new Error(`bad string word: ${w}`);
      i++;
    }
  }
  return out;
}

/**
 * parseIovList splits an iovec list word ("[a,b]" or "[a,b]*N") into its
 * item words, repeated N times; null for NULL.
 */
export function parseIovList(w: string): string[] | null {
  if (w === 'NULL') return null;
  const m = /^\[(.*)\](?:\*(\d+))?$/.exec(w);
  if (m === null) throw new Error(`bad iovec list (want [a,b] or [a,b]*N): ${w}`);
  const body = m[1]!;
  const items: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '"') {
      const start = i;
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        i++;
      }
      if (i >= body.length) throw new Error(`unterminated string in ${w}`);
      cur += body.slice(start, i + 1);
    } else if (ch === ',') {
      items.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (body !== '') items.push(cur);
  if (items.some((it) => it === '')) throw new Error(`empty item in iovec list ${w}`);
  const n = m[2] === undefined ? 1 : Number(m[2]);
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(...items);
  return out;
}

/** FdTable maps $fdN to a side's descriptor numbers. */
export type FdTable = Map<number, number>;

/** resolveInt evaluates an integer expression word (a|b|c of numbers, constants and $fdN). */
export function resolveInt(w: string, fds: FdTable | null): number {
  let v = 0;
  for (const part of w.split('|')) {
    let n: number;
    const fd = /^\$fd(\d+)$/.exec(part);
    if (fd !== null) {
      n = fds === null ? 0 : fds.get(Number(fd[1])) ?? BAD_FD;
    } else if (/^-?\d+$/.test(part)) {
      n = part.length > 1 && part.startsWith('0') ? parseInt(part, 8) : parseInt(part, 10);
    } else if (/^-?0x[0-9a-fA-F]+$/.test(part)) {
      n = parseInt(part, 16);
    } else if (symbols.has(part)) {
      n = symbols.get(part)!;
    } else {
      throw new Error(`unknown constant or bad number: ${part}`);
    }
    v = parts1(v, n);
  }
  return v;
}

// parts1 ORs two values; the only negative ones (AT_FDCWD, -1) stand alone.
function parts1(a: number, b: number): number {
  if (a === 0) return b;
  return (a | b) >>> 0;
}

/** consumesWord reports whether an argument kind takes a word of the line. */
export function consumesWord(k: ArgKind): boolean {
  return k !== 'stat' && k !== 'statx' && k !== 'statfs' && k !== 'pipefd';
}

/** wordKinds are the argument kinds that consume a word. */
export function wordKinds(kinds: ArgKind[]): ArgKind[] {
  return kinds.filter(consumesWord);
}

/** fdsBound returns how many $fd names a call binds. */
export function fdsBound(call: CallSpec, words: string[]): number {
  if (call.result === 'fd') return 1;
  if (call.result === 'fds2') return 2;
  if (call.result === 'fcntl') {
    const cmd = words[1] === undefined ? -1 : safeInt(words[1]);
    if (cmd === symbols.get('F_DUPFD') || cmd === symbols.get('F_DUPFD_CLOEXEC')) return 1;
  }
  return 0;
}

function safeInt(w: string): number {
  try {
    return resolveInt(w, null);
  } catch {
    return -1;
  }
}

/**
 * alignWords matches a line's words with its call's word-consuming
 * arguments: one entry per argument, undefined where the word was left out
 * (a len defaulting to its buffer's size, or trailing ints that are 0).
 */
export function alignWords(call: CallSpec, words: string[]): Array<string | undefined> {
  const kinds = wordKinds(call.args);
  if (words.length === kinds.length) return words.map((w) => (w === '_' ? undefined : w));
  const lens = kinds.filter((k) => k === 'len').length;
  if (lens > 0 && words.length === kinds.length - lens) {
    let i = 0;
    return kinds.map((k) => (k === 'len' ? undefined : words[i++]));
  }
  if (words.length < kinds.length && kinds.slice(words.length).every((k) => k === 'int' || k === 'len' || k === 'intOrFlock')) {
    return kinds.map((_k, i) => (i < words.length && words[i] !== '_' ? words[i] : undefined));
  }
  throw new Error(`${call.name} takes ${kinds.length} arguments (${kinds.join(' ')}), got ${words.length}`);
}

/** checkWords validates a step's words against its call (count and syntax). */
function checkWords(call: CallSpec, words: string[]): void {
  const kinds = wordKinds(call.args);
  alignWords(call, words).forEach((w, i) => {
    if (w !== undefined) checkWord(kinds[i]!, w);
  });
}

function checkWord(k: ArgKind, w: string): void {
  switch (k) {
    case 'fd': case 'int':
      resolveInt(w, null);
      return;
    case 'out':
      if (w !== 'NULL') resolveInt(w, null);
      return;
    case 'len':
      if (w !== '_') resolveInt(w, null);
      return;
    case 'path': case 'data':
      resolveString(w);
      return;
    case 'intOrFlock':
      if (w.includes(',')) parseTimesOrFlock(w, 4);
      else resolveInt(w, null);
      return;
    case 'timespec2': case 'timeval2': case 'utimbuf':
      if (w !== 'NULL') parseTimesOrFlock(w, 0);
      return;
    case 'iovIn':
      for (const it of parseIovList(w) ?? []) resolveString(it);
      return;
    case 'iovOut':
      for (const it of parseIovList(w) ?? []) resolveInt(it, null);
      return;
    default:
      return;
  }
}

/**
 * checkConfined enforces the rule for chroot, mount and umount2: their
 * path words (mount's source and target, not its type and data) are
 * relative and have no ".." component, so that on the host they can only
 * name something under the case directory (a symlink in the case could
 * still lead out: the cases are reviewed data, and the host worker runs in
 * a mount namespace of its own besides).
 */
function checkConfined(call: CallSpec, words: string[]): void {
  if (call.isolated !== true) return;
  const aligned = alignWords(call, words);
  const kinds = wordKinds(call.args);
  aligned.forEach((w, i) => {
    if (w === undefined || kinds[i] !== 'path') return;
    if (call.name === 'mount' && i >= 2) return;
    const s = resolveString(w);
    if (s === null) return;
    if (s.startsWith('/') || s.split('/').includes('..')) {
      throw new Error(`${call.name}: path ${JSON.stringify(s)} must be relative and without "..": it must stay in the case directory`);
    }
  });
}

/** parseTimesOrFlock splits "A:a,M:m" or "T,W,S,L" into integers. */
export function parseTimesOrFlock(w: string, n: number): number[] {
  const parts = w.split(/[,:]/);
  if (n > 0 && parts.length !== n) throw new Error(`expected ${n} comma-separated values: ${w}`);
  if (n === 0 && parts.length !== 4 && parts.length !== 2) throw new Error(`expected times "A:a,M:m": ${w}`);
  return parts.map((p) => resolveInt(p, null));
}

/** parseStep parses one call line; fdNext is the next $fd number to bind. */
export function parseStep(text: string, line: number, fdNext: number): Step {
  const words = tokenize(text);
  const name = words.shift();
  if (name === undefined) throw new Error('empty line');
  const call = calls.get(name);
  if (call === undefined) throw new Error(`unknown system call: ${name}`);
  checkWords(call, words);
  checkConfined(call, words);
  return { line, text: text.trim(), call, words, fdBind: fdsBound(call, words) > 0 ? fdNext : -1 };
}

/** parseCreds parses "UID:GID[:G1,G2...]". */
export function parseCreds(s: string): Creds {
  const m = /^(\d+):(\d+)(?::([\d,]+))?$/.exec(s);
  if (m === null) throw new Error(`bad credentials (want UID:GID[:G1,G2]): ${s}`);
  return { uid: Number(m[1]), gid: Number(m[2]), groups: m[3] === undefined ? [] : m[3].split(',').map(Number) };
}

/** parseCases parses a case file. group names the cases (the file's base name). */
export function parseCases(src: string, file: string, group: string): Case[] {
  const out: Case[] = [];
  const names = new Set<string>();
  let cur: (Case & { fdNext: number; lines: string[] }) | null = null;
  const finish = (): void => {
    if (cur === null) return;
    if (cur.setup.length + cur.body.length === 0) throw new ParseError(file, cur.line, `case ${cur.name} has no calls`);
    const { fdNext: _f, lines, ...c } = cur;
    c.text = lines.join('\n');
    out.push(c);
    cur = null;
  };
  src.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const text = raw.replace(/\s+$/, '');
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    try {
      if (!/^\s/.test(text)) {
        const m = /^case\s+(\S+)(?:\s+as\s+(\S+))?$/.exec(trimmed);
        if (m === null) throw new Error(`expected "case NAME [as UID:GID]" or an indented call line: ${trimmed}`);
        finish();
        const name = `${group}/${m[1]}`;
        if (names.has(name)) throw new Error(`duplicate case name ${name}`);
        names.add(name);
        cur = { name, group, file, line: lineNo, setup: [], body: [], as: null, text: '', fdNext: 0, lines: [trimmed] };
        if (m[2] !== undefined) cur.as = parseCreds(m[2]);
        return;
      }
      if (cur === null) throw new Error('call line outside a case');
      const c: Case & { fdNext: number; lines: string[] } = cur;
      c.lines.push(`  ${trimmed}`);
      const asm = /^as\s+(\S+)$/.exec(trimmed);
      if (asm !== null) {
        if (c.as !== null) throw new Error('a case has at most one "as" line');
        c.as = parseCreds(asm[1]!);
        return;
      }
      const step = parseStep(trimmed, lineNo, c.fdNext);
      c.fdNext += fdsBound(step.call, step.words);
      (c.as === null ? c.setup : c.body).push(step);
    } catch (err) {
      if (err instanceof ParseError) throw err;
      throw new ParseError(file, lineNo, err instanceof Error ? err.message : String(err));
    }
  });
  finish();
  return out;
}
