// Helpers for the confinement tests: a sibling directory of the served root
// holding sentinel files, and a snapshot of it that changes if anything in
// it is read (atime, kept older than mtime so relatime updates it), written,
// created, removed, chmod'ed, chown'ed or linked (mtime, ctime, nlink, size).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as linux from '../../pkg/abi/linux';
import * as sc from '../../pkg/fsgofer/syscalls';

export interface layout {
  base: string;
  root: string;
  outside: string;
}

/**
 * makeLayout creates base/root (to serve) and base/outside with a sentinel
 * file, a sentinel directory holding a file, and old atimes everywhere.
 */
export function makeLayout(): layout {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fsgofer-conf-'));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'outside secret\n');
  fs.chmodSync(path.join(outside, 'secret'), 0o644);
  fs.mkdirSync(path.join(outside, 'dir'));
  fs.writeFileSync(path.join(outside, 'dir', 'f'), 'outside f\n');
  // atime < mtime: under relatime, any read or readdir updates atime.
  for (const p of [path.join(outside, 'secret'), path.join(outside, 'dir', 'f'), path.join(outside, 'dir'), outside]) {
    fs.utimesSync(p, 1000, Date.now() / 1000);
  }
  return { base, root, outside };
}

/** snapshot describes every entry under dir, with metadata and content hash. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const visit = (p: string, rel: string): void => {
    const st = fs.lstatSync(p, { bigint: true });
    let content = '';
    if (st.isFile()) {
      // Read through a descriptor with O_NOATIME so the snapshot itself
      // does not move atime.
      const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOATIME);
      try {
        const b = Buffer.alloc(Number(st.size));
        fs.readSync(fd, b, 0, b.length, 0);
        content = crypto.createHash('sha256').update(b).digest('hex');
      } finally {
        fs.closeSync(fd);
      }
    }
    out.push(
      [
        rel,
        st.ino,
        st.mode.toString(8),
        st.uid,
        st.gid,
        st.nlink,
        st.size,
        st.atimeNs,
        st.mtimeNs,
        st.ctimeNs,
        content,
      ].join(' '),
    );
    if (st.isDirectory()) {
      // List with O_NOATIME too (fs.readdirSync would move atime).
      const fd = sc.openat(linux.AT_FDCWD, p, linux.O_RDONLY | linux.O_DIRECTORY | linux.O_NOATIME | linux.O_CLOEXEC);
      const names: string[] = [];
      try {
        const buf = Buffer.alloc(32 * 1024);
        for (;;) {
          const ents = sc.getdents64(fd, buf);
          if (ents.length === 0) break;
          for (const e of ents) if (e.name !== '.' && e.name !== '..') names.push(e.name);
        }
      } finally {
        sc.close(fd);
      }
      for (const n of names.sort()) visit(path.join(p, n), path.join(rel, n));
    }
  };
  visit(dir, '.');
  return out;
}
