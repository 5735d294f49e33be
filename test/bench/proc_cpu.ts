// Shared by the benchmarks that measure a server process's CPU time.
import * as fs from 'node:fs';

/**
 * cpuMs is the CPU time (user + system) process pid has used, from
 * /proc/PID/stat (clock ticks of 10 ms): the server's cost per request, a
 * measure that a loaded machine does not distort the way it distorts wall
 * time and rates. NaN when pid is unknown or gone.
 */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the state.
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return NaN;
  }
}
