/**
 * CPU time of the processes taking part in a measurement (Linux /proc), so a run can say where the CPU of a
 * request went. On a shared 2-core machine, CPU per request is steadier than wall-clock throughput and it is
 * what bounds throughput once the cores are busy.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** User + system CPU seconds of a process, or NaN where /proc cannot tell (not Linux, process gone). */
function processCpuSeconds(pid: number): number {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    // Fields after the command name (which may contain spaces, so split after its closing parenthesis).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** CPU seconds so far of each named process; `bench` is this process (the load generator and direct client). */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const own = process.cpuUsage();
  const out: Record<string, number> = { bench: (own.user + own.system) / 1e6 };
  for (const [name, pid] of Object.entries(pids)) out[name] = processCpuSeconds(pid);
  return out;
}

/** CPU milliseconds per request of each process between two snapshots. */
export function cpuPerRequest(before: Record<string, number>, after: Record<string, number>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) out[name] = ((after[name]! - (before[name] ?? NaN)) * 1000) / requests;
  return out;
}
