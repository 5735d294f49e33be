#!/usr/bin/env node
// p9: a 9P2000.L client for people, on top of pkg/p9's Client.
//
//   p9 ls|stat|cat|put|mkdir|rm|tree ADDRESS PATH [options]
//
// ADDRESS is unix:/path/to/socket, tcp:HOST:PORT (or just HOST:PORT, or a
// path to a Unix socket). Errors are one line on stderr, exit status 1;
// bad usage exits 2.
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { AT_REMOVEDIR, O_RDONLY, O_TRUNC, O_WRONLY, S_IFDIR, S_IFLNK, S_IFMT } from '../pkg/abi/linux/file';
import { LinuxError } from '../pkg/syserror/syserror';
import * as syserror from '../pkg/syserror/syserror';
import { Client } from '../pkg/p9/client';
import { ClientFile } from '../pkg/p9/client_file';
import { Attr, AttrMaskAll, Dirent, NoGID, NoUID, QID } from '../pkg/p9/p9';

const USAGE = `usage: p9 COMMAND ADDRESS PATH [options]

A 9P2000.L client (speaks 9P2000.L.Google.N to servers that know it).

ADDRESS is unix:/path/to/socket, tcp:HOST:PORT, HOST:PORT or /path/to/socket.

Commands:
  ls     list a directory (or show one file)
           p9 ls tcp:127.0.0.1:5640 /etc
  stat   show a file's attributes
           p9 stat unix:/tmp/gofer.sock /etc/hostname --json
  cat    write a file's contents to stdout
           p9 cat tcp:127.0.0.1:5640 /etc/hostname
  put    write stdin to a file (created or truncated)
           echo hello | p9 put tcp:127.0.0.1:5640 /tmp/hello.txt
  mkdir  make a directory
           p9 mkdir tcp:127.0.0.1:5640 /tmp/newdir --mode 750
  rm     remove a file or an empty directory
           p9 rm tcp:127.0.0.1:5640 /tmp/hello.txt
  tree   list a directory recursively
           p9 tree tcp:127.0.0.1:5640 /usr/share/doc

Options:
  --aname NAME   attach name (diod: the exported directory, e.g. /srv/export)
  --uid N        user id to attach as (default: yours)
  --msize N      largest 9P message offered (default 65536)
  --mode OCTAL   permissions for put and mkdir (default 644 / 755)
  --json         machine-readable output (ls, stat)
  -h, --help     show this help
`;

class UsageError extends Error {}

interface Options {
  aname: string;
  uid: number;
  msize: number;
  mode: number | undefined;
  json: boolean;
}

function parse(argv: string[]): { cmd: string; address: string; file: string; opts: Options } | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      aname: { type: 'string' },
      uid: { type: 'string' },
      msize: { type: 'string' },
      mode: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  if (positionals.length !== 3) throw new UsageError(positionals.length === 0 ? 'missing command' : 'expected COMMAND ADDRESS PATH');
  const [cmd, address, file] = positionals;
  if (!['ls', 'stat', 'cat', 'put', 'mkdir', 'rm', 'tree'].includes(cmd)) throw new UsageError(`unknown command "${cmd}"`);
  const int = (name: string, v: string | undefined, radix: number, dflt: number | undefined): number | undefined => {
    if (v === undefined) return dflt;
    const n = radix === 8 ? (/^[0-7]+$/.test(v) ? parseInt(v, 8) : NaN) : /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} ${v}: not a${radix === 8 ? 'n octal' : ''} number`);
    return n;
  };
  if (values.json === true && cmd !== 'ls' && cmd !== 'stat') throw new UsageError(`--json applies to ls and stat, not ${cmd}`);
  return {
    cmd,
    address,
    file,
    opts: {
      aname: values.aname ?? '',
      uid: int('uid', values.uid, 10, process.getuid?.() ?? NoUID)!,
      msize: int('msize', values.msize, 10, 65536)!,
      mode: int('mode', values.mode, 8, undefined),
      json: values.json === true,
    },
  };
}

// normalizeAddress accepts the short forms HOST:PORT and /path.
function normalizeAddress(a: string): string {
  if (a.startsWith('unix:') || a.startsWith('tcp:') || a.startsWith('fd:')) return a;
  if (a.startsWith('/') || a.startsWith('.')) return `unix:${a}`;
  if (/^[^/]+:\d+$/.test(a)) return `tcp:${a}`;
  throw new UsageError(`bad address "${a}" (want unix:/path or tcp:HOST:PORT)`);
}

// components splits PATH into names from the attach point ("/a/../b" → ["b"]).
function components(p: string): string[] {
  return path.posix
    .resolve('/', p)
    .split('/')
    .filter((s) => s !== '');
}

/** A failure of one operation on one path, printed as "p9: OP PATH: CODE (message)". */
class OpError extends Error {
  constructor(
    readonly op: string,
    readonly target: string,
    readonly err: unknown,
  ) {
    super(`${op} ${target}`);
  }
}

async function on<T>(op: string, target: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new OpError(op, target, e);
  }
}

function typeChar(mode: number): string {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'd';
    case S_IFLNK:
      return 'l';
    case 0o140000:
      return 's';
    case 0o010000:
      return 'p';
    case 0o020000:
      return 'c';
    case 0o060000:
      return 'b';
    default:
      return '-';
  }
}

function typeName(mode: number): string {
  return (
    {
      d: 'directory',
      l: 'symbolic link',
      s: 'socket',
      p: 'fifo',
      c: 'character special file',
      b: 'block special file',
      '-': 'regular file',
    } as Record<string, string>
  )[typeChar(mode)];
}

function modeString(mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string): string =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return (
    typeChar(mode) +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

function isoTime(sec: number, nsec: number): string {
  const d = new Date(sec * 1000 + Math.floor(nsec / 1e6));
  const frac = String(nsec).padStart(9, '0');
  return d.toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

function statJSON(name: string, qid: QID, attr: Attr, target?: string): Record<string, unknown> {
  const j: Record<string, unknown> = {
    name,
    type: typeName(attr.mode),
    mode: '0' + (attr.mode & 0o7777).toString(8),
    rawMode: attr.mode,
    size: attr.size,
    uid: attr.uid,
    gid: attr.gid,
    nlink: attr.nLink,
    rdev: attr.rDev,
    blockSize: attr.blockSize,
    blocks: attr.blocks,
    atime: isoTime(attr.aTimeSeconds, attr.aTimeNanoSeconds),
    mtime: isoTime(attr.mTimeSeconds, attr.mTimeNanoSeconds),
    ctime: isoTime(attr.cTimeSeconds, attr.cTimeNanoSeconds),
    qid: { type: qid.type, version: qid.version, path: qid.path.toString() },
  };
  if (target !== undefined) j.target = target;
  return j;
}

class Session {
  constructor(
    readonly client: Client,
    readonly root: ClientFile,
    readonly out: NodeJS.WritableStream,
  ) {}

  // walkTo walks from the root; the caller closes the file.
  async walkTo(names: string[]): Promise<[ClientFile, QID, Attr]> {
    const [qids, f, , attr] = await this.root.walkGetAttr(names);
    const qid = qids.length > 0 ? qids[qids.length - 1] : (await f.getAttr(AttrMaskAll()))[0];
    return [f, qid, attr];
  }

  // readDir returns the entries of an (unopened) directory file, without . and ..
  async readDir(dir: ClientFile): Promise<Dirent[]> {
    const [, d] = await dir.walk([]);
    try {
      await d.open(O_RDONLY);
      const all: Dirent[] = [];
      let offset = 0n;
      for (;;) {
        const ents = await d.readdir(offset, this.client.payloadSize);
        if (ents.length === 0) break;
        for (const e of ents) if (e.name !== '.' && e.name !== '..') all.push(e);
        offset = ents[ents.length - 1].offset;
      }
      all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return all;
    } finally {
      await d.close().catch(() => {});
    }
  }

  // statChildren returns [name, qid, attr, symlink target] for each entry.
  async statChildren(dir: ClientFile, ents: Dirent[]): Promise<Array<[string, QID, Attr, string | undefined]>> {
    return Promise.all(
      ents.map(async (e): Promise<[string, QID, Attr, string | undefined]> => {
        const [qids, f, , attr] = await dir.walkGetAttr([e.name]);
        try {
          const target = (attr.mode & S_IFMT) === S_IFLNK ? await f.readlink() : undefined;
          return [e.name, qids[0], attr, target];
        } finally {
          await f.close().catch(() => {});
        }
      }),
    );
  }

  async ls(p: string, json: boolean): Promise<void> {
    const [f, qid, attr] = await on('ls', p, this.walkTo(components(p)));
    try {
      let rows: Array<[string, QID, Attr, string | undefined]>;
      if ((attr.mode & S_IFMT) === S_IFDIR) {
        const ents = await on('ls', p, this.readDir(f));
        rows = await on('ls', p, this.statChildren(f, ents));
      } else {
        const target = (attr.mode & S_IFMT) === S_IFLNK ? await on('ls', p, f.readlink()) : undefined;
        rows = [[path.posix.basename(path.posix.resolve('/', p)) || '/', qid, attr, target]];
      }
      if (json) {
        this.out.write(JSON.stringify(rows.map(([n, q, a, t]) => statJSON(n, q, a, t)), null, 2) + '\n');
        return;
      }
      const w = Math.max(1, ...rows.map(([, , a]) => String(a.size).length));
      for (const [name, , a, target] of rows) {
        const mtime = new Date(a.mTimeSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
        this.out.write(
          `${modeString(a.mode)} ${String(a.nLink).padStart(2)} ${String(a.uid).padStart(5)} ${String(a.gid).padStart(5)} ` +
            `${String(a.size).padStart(w)} ${mtime} ${name}${target !== undefined ? ` -> ${target}` : ''}\n`,
        );
      }
    } finally {
      await f.close().catch(() => {});
    }
  }

  async stat(p: string, json: boolean): Promise<void> {
    const [f, qid, a] = await on('stat', p, this.walkTo(components(p)));
    try {
      const target = (a.mode & S_IFMT) === S_IFLNK ? await on('stat', p, f.readlink()) : undefined;
      const name = path.posix.resolve('/', p);
      if (json) {
        this.out.write(JSON.stringify(statJSON(name, qid, a, target), null, 2) + '\n');
        return;
      }
      this.out.write(
        `  File: ${name}${target !== undefined ? ` -> ${target}` : ''}\n` +
          `  Type: ${typeName(a.mode)}\n` +
          `  Size: ${a.size}\tBlocks: ${a.blocks}\tIO Block: ${a.blockSize}\n` +
          `  Mode: 0${(a.mode & 0o7777).toString(8).padStart(3, '0')} (${modeString(a.mode)})\tUid: ${a.uid}\tGid: ${a.gid}\n` +
          ` Links: ${a.nLink}\tQID: type 0x${qid.type.toString(16).padStart(2, '0')} version ${qid.version} path ${qid.path}\n` +
          `Access: ${isoTime(a.aTimeSeconds, a.aTimeNanoSeconds)}\n` +
          `Modify: ${isoTime(a.mTimeSeconds, a.mTimeNanoSeconds)}\n` +
          `Change: ${isoTime(a.cTimeSeconds, a.cTimeNanoSeconds)}\n`,
      );
    } finally {
      await f.close().catch(() => {});
    }
  }

  async cat(p: string): Promise<void> {
    const [f] = await on('cat', p, this.walkTo(components(p)));
    try {
      await on('cat', p, f.open(O_RDONLY));
      const buf = Buffer.allocUnsafe(this.client.payloadSize);
      let off = 0;
      for (;;) {
        const n = await on('cat', p, f.readAt(buf, off));
        if (n === 0) break;
        off += n;
        const chunk = Buffer.from(buf.subarray(0, n));
        if (!this.out.write(chunk)) await new Promise<void>((r) => this.out.once('drain', () => r()));
      }
    } finally {
      await f.close().catch(() => {});
    }
  }

  async put(p: string, data: Buffer, mode: number, uid: number): Promise<void> {
    const names = components(p);
    if (names.length === 0) throw new OpError('put', p, syserror.EISDIR);
    let f: ClientFile;
    try {
      [f] = await this.walkTo(names);
      try {
        await f.open(O_WRONLY | O_TRUNC);
      } catch (e) {
        await f.close().catch(() => {});
        throw e;
      }
    } catch (e) {
      if (e !== syserror.ENOENT) throw new OpError('put', p, e);
      const [parent] = await on('put', p, this.walkTo(names.slice(0, -1)));
      try {
        await on('put', p, parent.create(names[names.length - 1], O_WRONLY, mode, uid, NoGID));
      } catch (e2) {
        await parent.close().catch(() => {});
        throw e2;
      }
      f = parent;
    }
    try {
      let off = 0;
      while (off < data.length) {
        const n = await on('put', p, f.writeAt(data.subarray(off), off));
        if (n === 0) throw new OpError('put', p, syserror.EIO);
        off += n;
      }
    } finally {
      await f.close().catch(() => {});
    }
  }

  async mkdir(p: string, mode: number, uid: number): Promise<void> {
    const names = components(p);
    if (names.length === 0) throw new OpError('mkdir', p, syserror.EEXIST);
    const [parent] = await on('mkdir', p, this.walkTo(names.slice(0, -1)));
    try {
      await on('mkdir', p, parent.mkdir(names[names.length - 1], mode, uid, NoGID));
    } finally {
      await parent.close().catch(() => {});
    }
  }

  async rm(p: string): Promise<void> {
    const names = components(p);
    if (names.length === 0) throw new OpError('rm', p, syserror.EBUSY);
    const [f, , attr] = await on('rm', p, this.walkTo(names));
    await f.close().catch(() => {});
    const [parent] = await on('rm', p, this.walkTo(names.slice(0, -1)));
    try {
      const flags = (attr.mode & S_IFMT) === S_IFDIR ? AT_REMOVEDIR : 0;
      await on('rm', p, parent.unlinkAt(names[names.length - 1], flags));
    } finally {
      await parent.close().catch(() => {});
    }
  }

  async tree(p: string): Promise<void> {
    const [f, , attr] = await on('tree', p, this.walkTo(components(p)));
    const counts = { dirs: 0, files: 0 };
    this.out.write(path.posix.resolve('/', p) + '\n');
    try {
      if ((attr.mode & S_IFMT) === S_IFDIR) await this.treeDir(f, path.posix.resolve('/', p), '', counts);
    } finally {
      await f.close().catch(() => {});
    }
    this.out.write(`\n${counts.dirs} director${counts.dirs === 1 ? 'y' : 'ies'}, ${counts.files} file${counts.files === 1 ? '' : 's'}\n`);
  }

  private async treeDir(dir: ClientFile, p: string, prefix: string, counts: { dirs: number; files: number }): Promise<void> {
    const ents = await on('tree', p, this.readDir(dir));
    const rows = await on('tree', p, this.statChildren(dir, ents));
    for (let i = 0; i < rows.length; i++) {
      const [name, , a, target] = rows[i];
      const last = i === rows.length - 1;
      this.out.write(`${prefix}${last ? '└── ' : '├── '}${name}${target !== undefined ? ` -> ${target}` : ''}\n`);
      if ((a.mode & S_IFMT) === S_IFDIR) {
        counts.dirs++;
        const [, child] = await on('tree', `${p}/${name}`, dir.walk([name]));
        try {
          await this.treeDir(child, path.posix.join(p, name), prefix + (last ? '    ' : '│   '), counts);
        } finally {
          await child.close().catch(() => {});
        }
      } else {
        counts.files++;
      }
    }
  }
}

function readAllStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer | string) => chunks.push(typeof d === 'string' ? Buffer.from(d) : d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** IO are the streams the tool uses (the process's, or a test's). */
export interface IO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function describe(e: unknown): string {
  if (e instanceof LinuxError) return `${e.code} (${e.message})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** main runs the tool and returns its exit status. */
export async function main(argv: string[], io: IO = process): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.stderr.write(`p9: ${e instanceof Error ? e.message : String(e)}\n${USAGE.split('\n')[0]}\n(p9 --help for more)\n`);
    return 2;
  }
  if (parsed === null) {
    io.stdout.write(USAGE);
    return 0;
  }
  const { cmd, file, opts } = parsed;
  let address: string;
  try {
    address = normalizeAddress(parsed.address);
  } catch (e) {
    io.stderr.write(`p9: ${(e as Error).message}\n`);
    return 2;
  }
  const stdinData = cmd === 'put' ? await readAllStream(io.stdin) : Buffer.alloc(0);

  let client: Client | undefined;
  try {
    client = await on('connect', address, Client.connect(address, { msize: opts.msize }));
    const root = await on('attach', opts.aname === '' ? '""' : opts.aname, client.attach(opts.aname, opts.uid));
    const s = new Session(client, root, io.stdout);
    switch (cmd) {
      case 'ls':
        await s.ls(file, opts.json);
        break;
      case 'stat':
        await s.stat(file, opts.json);
        break;
      case 'cat':
        await s.cat(file);
        break;
      case 'put':
        await s.put(file, stdinData, opts.mode ?? 0o644, opts.uid);
        break;
      case 'mkdir':
        await s.mkdir(file, opts.mode ?? 0o755, opts.uid);
        break;
      case 'rm':
        await s.rm(file);
        break;
      case 'tree':
        await s.tree(file);
        break;
    }
    return 0;
  } catch (e) {
    if (e instanceof OpError) io.stderr.write(`p9: ${e.op} ${e.target}: ${describe(e.err)}\n`);
    else io.stderr.write(`p9: ${cmd} ${file}: ${describe(e)}\n`);
    return 1;
  } finally {
    await client?.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`p9: ${describe(e)}\n`);
      process.exitCode = 1;
    },
  );
}

