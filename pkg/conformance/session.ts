// A session of the sandbox tool: one task of a Sandbox executing call
// lines in the case language (openat AT_FDCWD /a O_CREAT|O_WRONLY 0644),
// plus a few shell conveniences (ls, cat, write, tree, mount). Shared by
// `sandbox run`, `sandbox shell` and `sandbox serve`.

import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../abi/linux/file';
import { errnoName } from '../abi/linux/errors';
import type { Task } from '../sentry/kernel/task';
import { calls } from './calls';
import { buildArgs, decodeStat, formatStat, normalize, typeName, type Side } from './exec';
import { fdsBound, parseStep, tokenize, resolveString, type Creds, type FdTable } from './parse';
import { Sandbox, childNames } from './sandbox';
import { formatTree } from './tree';

/** TaskOptions are a session task's credentials, umask and working directory. */
export interface TaskOptions extends Partial<Creds> {
  umask?: number;
  cwd?: string;
}

/** Session runs lines on one task. */
export class Session {
  private readonly fds: FdTable = new Map();
  private fdNext = 0;

  private constructor(readonly sandbox: Sandbox, readonly task: Task, private readonly describeMount: string) {}

  static async create(sandbox: Sandbox, opts: TaskOptions, describeMount: string): Promise<Session> {
    const t = await sandbox.kernel.newTask({
      uid: opts.uid ?? 0, gid: opts.gid ?? 0, groups: opts.groups ?? [], umask: opts.umask ?? 0o022, cwd: opts.cwd,
    });
    return new Session(sandbox, t, describeMount);
  }

  /** release ends the task (closing its descriptors). */
  release(): Promise<void> {
    return this.task.release();
  }

  /**
   * exec runs one line and returns what to print. A call prints its result
   * ("fd 3 ($fd0)", "0 {reg 0644 ...}", "ENOENT"); an error in the line
   * throws an Error with a message for people.
   */
  async exec(line: string): Promise<string> {
    const words = tokenize(line);
    const cmd = words[0];
    if (cmd === undefined) return '';
    switch (cmd) {
      case 'ls':
        return this.ls(words.slice(1));
      case 'cat':
        return this.cat(this.pathArg(words, 1));
      case 'tree':
        return formatTree(await treeOf(this.task, words[1] === undefined ? '.' : this.pathArg(words, 1))).join('\n');
      case 'mount':
        return this.describeMount;
      case 'write':
        // "write PATH TEXT" is the convenience; "write $fd0 ..." or "write 3 ..." the syscall.
        if (words[1] !== undefined && !/^(\$fd\d+|-?\d+)$/.test(words[1])) return this.writeFile(this.pathArg(words, 1), resolveString(words[2] ?? '""') ?? '');
        break;
      default:
        break;
    }
    if (!calls.has(cmd)) throw new Error(`unknown command: ${cmd} (try "help")`);
    const step = parseStep(line, 0, this.fdNext);
    this.fdNext += fdsBound(step.call, step.words);
    const built = buildArgs(step, this.fds);
    const r = await Sandbox.call(this.task, step.call, built.args);
    const side: Side = { call: () => r, cwdPrefix: '' };
    const out = normalize(step, r, built, this.fds, side);
    if (r >= 0 && step.fdBind >= 0) {
      const names = [...this.fds.entries()].filter(([n]) => n >= step.fdBind).map(([n, fd]) => `${fd} ($fd${n})`);
      return out === 'fd' ? `fd ${names.join(', ')}` : `${out.replace(/ fd fd$/, '')} ${names.join(', ')}`;
    }
    return out;
  }

  private pathArg(words: string[], i: number): string {
    const w = words[i];
    if (w === undefined) throw new Error(`${words[0] ?? ''}: missing PATH`);
    return resolveString(w) ?? '';
  }

  private async ls(args: string[]): Promise<string> {
    const long = args[0] === '-l';
    const p = (long ? args[1] : args[0]) ?? '.';
    const s = this.task.sys;
    const names = await childNames(this.task, p);
    if (typeof names === 'number') return `ls: ${p}: ${errnoName(-names)}`;
    if (!long) return names.join('\n');
    const out: string[] = [];
    for (const n of names) {
      const st = Buffer.alloc(144);
      const r = await s.newfstatat(AT_FDCWD, `${p}/${n}`, st, AT_SYMLINK_NOFOLLOW);
      if (r < 0) {
        out.push(`?????????? ${n} (${errnoName(-r)})`);
        continue;
      }
      const f = decodeStat(st);
      let target = '';
      if (typeName(f.mode) === 'lnk') {
        const lb = Buffer.alloc(4096);
        const k = await s.readlinkat(AT_FDCWD, `${p}/${n}`, lb, lb.length);
        if (k >= 0) target = ` -> ${lb.subarray(0, k).toString()}`;
      }
      out.push(`${modeString(f.mode)} ${String(f.nlink).padStart(3)} ${String(f.uid).padStart(5)} ${String(f.gid).padStart(5)} ${String(f.size).padStart(8)} ${n}${target}`);
    }
    return out.join('\n');
  }

  private async cat(p: string): Promise<string> {
    const s = this.task.sys;
    const fd = await s.openat(AT_FDCWD, p, O_RDONLY, 0);
    if (fd < 0) return `cat: ${p}: ${errnoName(-fd)}`;
    const chunks: Buffer[] = [];
    try {
      const b = Buffer.alloc(65536);
      for (;;) {
        const n = await s.read(fd, b, b.length);
        if (n < 0) return `cat: ${p}: ${errnoName(-n)}`;
        if (n === 0) break;
        chunks.push(Buffer.from(b.subarray(0, n)));
      }
    } finally {
      await s.close(fd);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async writeFile(p: string, text: string): Promise<string> {
    const s = this.task.sys;
    const fd = await s.openat(AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, 0o666);
    if (fd < 0) return `write: ${p}: ${errnoName(-fd)}`;
    try {
      const b = Buffer.from(text);
      const n = await s.write(fd, b, b.length);
      return n < 0 ? `write: ${p}: ${errnoName(-n)}` : `${n} bytes`;
    } finally {
      await s.close(fd);
    }
  }
}

/** modeString renders a mode as ls -l does (drwxr-xr-x). */
export function modeString(mode: number): string {
  const t = { dir: 'd', lnk: 'l', reg: '-', fifo: 'p', sock: 's', chr: 'c', blk: 'b' }[typeName(mode)] ?? '?';
  const rwx = (v: number, s: boolean, sc: string): string =>
    `${v & 4 ? 'r' : '-'}${v & 2 ? 'w' : '-'}${s ? (v & 1 ? sc : sc.toUpperCase()) : v & 1 ? 'x' : '-'}`;
  return t + rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') + rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') + rwx(mode & 7, (mode & 0o1000) !== 0, 't');
}

/** treeOf lists a directory recursively as task t sees it. */
async function treeOf(t: Task, dir: string): Promise<Parameters<typeof formatTree>[0]> {
  // Sandbox.tree uses its own root task; this one lists as the session's user.
  const s = t.sys;
  const out: Parameters<typeof formatTree>[0] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = Buffer.alloc(144);
    const r = await s.newfstatat(AT_FDCWD, abs, st, AT_SYMLINK_NOFOLLOW);
    if (r < 0) {
      out.push({ path: rel, error: -r });
      return;
    }
    const f = decodeStat(st);
    out.push({ path: rel, stat: f });
    if (typeName(f.mode) !== 'dir') return;
    const names = await childNames(t, abs);
    if (typeof names === 'number') return;
    for (const n of names) await walk(`${abs}/${n}`, rel === '.' ? n : `${rel}/${n}`);
  };
  await walk(dir, '.');
  return out;
}

/** helpText lists the commands of a session. */
export function helpText(): string {
  return [
    'Commands: any system call by name with Linux-style arguments, and a few conveniences.',
    '  openat AT_FDCWD /a O_CREAT|O_WRONLY 0644     -> fd 0 ($fd0)',
    '  write $fd0 "hello\\n"                          -> 6',
    '  close $fd0 ; stat /a ; mkdir /d 0755 ; unlink /missing  -> ENOENT',
    '  ls [-l] [PATH]   cat PATH   write PATH TEXT   tree [PATH]   mount   help   exit',
    'Words: numbers (0644 is octal), constants (O_*, AT_*, S_*, F_*, LOCK_*, IN_*, XATTR_*, RENAME_*),',
    'a|b, $fdN (the Nth descriptor made), strings bare or "quoted" ("a"*300 repeats), NULL.',
    `System calls: ${[...calls.keys()].sort().join(' ')}`,
  ].join('\n');
}

export { formatStat };
