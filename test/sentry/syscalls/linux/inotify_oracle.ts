// The inotify side of the differential harness: the host kernel's event
// sequence for a script of ops, as /usr/bin/inotifywait -m prints it, and
// the names that make the sandbox's events comparable. Shared by
// inotify.test.ts (tmpfs root) and test/sentry/fsimpl/gofer (gofer root).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import {
  IN_ACCESS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED,
  IN_ISDIR, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_OPEN, IN_Q_OVERFLOW, IN_UNMOUNT,
} from '../../../../pkg/abi/linux/inotify';
import { O_CREAT, O_DIRECTORY, O_PATH, O_RDONLY, O_WRONLY, S_IFIFO } from '../../../../pkg/abi/linux/file';
import { runHost, type Op } from './oracle';

/** INOTIFYWAIT is the host tool the event sequences are compared with. */
export const INOTIFYWAIT = '/usr/bin/inotifywait';

const names: Array<[number, string]> = [
  [IN_ACCESS, 'ACCESS'], [IN_MODIFY, 'MODIFY'], [IN_ATTRIB, 'ATTRIB'], [IN_CLOSE_WRITE, 'CLOSE_WRITE'],
  [IN_CLOSE_NOWRITE, 'CLOSE_NOWRITE'], [IN_OPEN, 'OPEN'], [IN_MOVED_FROM, 'MOVED_FROM'], [IN_MOVED_TO, 'MOVED_TO'],
  [IN_CREATE, 'CREATE'], [IN_DELETE, 'DELETE'], [IN_DELETE_SELF, 'DELETE_SELF'], [IN_MOVE_SELF, 'MOVE_SELF'],
  [IN_UNMOUNT, 'UNMOUNT'], [IN_Q_OVERFLOW, 'Q_OVERFLOW'], [IN_IGNORED, 'IGNORED'], [IN_ISDIR, 'ISDIR'],
];

/** maskNames names the bits of an inotify mask, sorted, comma-separated (inotifywait's names). */
export function maskNames(mask: number): string {
  return names.filter(([bit]) => (mask & bit) !== 0).map(([, n]) => n).sort().join(',');
}

// The sequence under test: every event kind inotify(7) lists for a watched
// directory and its entries.
export const sequence: Op[] = [
  ['open', 'a', 'a', O_CREAT | O_WRONLY, 0o644], ['write', 'a', 'hello'], ['close', 'a'],
  ['open', 'r', 'a', O_RDONLY, 0], ['read', 'r', 10], ['read', 'r', 10], ['close', 'r'],
  ['chmod', 'a', 0o600], ['utimens', 'a'], ['chown', 'a', 0, 0], ['truncate', 'a', 2], ['setxattr', 'a', 'user.x', 'v', 0],
  ['rename', 'a', 'b', 0], ['link', 'b', 'c'], ['unlink', 'c'], ['symlink', 'b', 'l'], ['unlink', 'l'],
  ['mkdir', 'd', 0o755], ['open', 'f', 'd/inner', O_CREAT | O_WRONLY, 0o644], ['close', 'f'], ['rename', 'd', 'e', 0],
  ['unlink', 'e/inner'], ['rmdir', 'e'], ['mknod', 'fifo', S_IFIFO | 0o644], ['unlink', 'fifo'],
  ['open', 'dir', '.', O_RDONLY | O_DIRECTORY, 0], ['getdents', 'dir'], ['close', 'dir'], ['chmod', '.', 0o755],
  ['open', 'b2', 'b', O_WRONLY, 0], ['write', 'b2', 'x'], ['ftruncate', 'b2', 0], ['close', 'b2'],
  // O_PATH: neither the open nor the close queues anything (Linux's do_open
  // and __fput skip fsnotify for FMODE_PATH).
  ['open', 'p', 'b', O_PATH, 0], ['close', 'p'], ['open', 'pd', '.', O_PATH | O_DIRECTORY, 0], ['close', 'pd'],
  ['unlink', 'b'],
];

/**
 * hostEvents runs ops in the host directory dir under inotifywait -m and
 * returns the events, "EVENTS name" for the directory watch and
 * "label: EVENTS" for the extra watches.
 */
export async function hostEvents(dir: string, ops: Op[], extra: Array<[string, string]> = []): Promise<string[]> {
  // extra: [relative path, label] of further watches; events on them print
  // as "label: EVENTS", events of the directory watch as "EVENTS name".
  const labels = new Map(extra.map(([rel, label]) => [`${dir}/${rel}`.replace(/\/$/, ''), label]));
  const child = spawn(INOTIFYWAIT, ['-m', '-q', '--format', '%w|%e %f', dir, ...extra.map(([rel]) => `${dir}/${rel}`)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => { out += d; });
    // inotifywait -q still says nothing when ready; wait for a probe event.
    const probe = `${dir}/.probe`;
    await waitUntil(() => {
      fs.writeFileSync(probe, '');
      fs.rmSync(probe);
      return out.includes('.probe');
    });
    const start = out.length;
    runHost(dir, ops);
    fs.mkdirSync(`${dir}/.sentinel`);
    await waitUntil(() => out.includes('CREATE,ISDIR .sentinel'));
    const lines = out.slice(start).split('\n').filter((l) => l !== '' && !l.includes('.probe'));
    const end = lines.findIndex((l) => l.includes('.sentinel'));
    return lines.slice(0, end).map((l) => {
      const bar = l.indexOf('|');
      const w = l.slice(0, bar).replace(/\/$/, '');
      const rest = l.slice(bar + 1);
      const sp = rest.indexOf(' ');
      const ev = rest.slice(0, sp).split(',').filter((n) => n !== 'CLOSE' && n !== 'MOVE').sort().join(',');
      const label = labels.get(w);
      return label === undefined ? `${ev} ${rest.slice(sp + 1)}`.trimEnd() : `${label}: ${ev}`;
    });
  } finally {
    child.kill();
  }
}

/** dedup counts runs of identical events once (Linux merges an event identical to the last one queued). */
export function dedup(events: string[]): string[] {
  return events.filter((e, i) => i === 0 || events[i - 1] !== e);
}

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out waiting for inotifywait');
}
