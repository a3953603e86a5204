/** Reading Redis's own accounting: `INFO memory` and `INFO commandstats`. */
import type { Redis } from 'ioredis';

/** One INFO section as field -> value. */
async function info(redis: Redis, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Bytes Redis has allocated (used_memory). */
export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await info(redis, 'memory')).get('used_memory'));
}

/**
 * Calls per command since start (`cmdstat_evalsha:calls=3,...`). Commands a Lua script runs are counted too,
 * under their own names, so this is work done by Redis, not round trips.
 */
export async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [field, value] of await info(redis, 'commandstats')) {
    const calls = /(?:^|,)calls=(\d+)/.exec(value);
    if (field.startsWith('cmdstat_') && calls) out[field.slice('cmdstat_'.length)] = Number(calls[1]);
  }
  return out;
}

/** Per-command difference between two commandCalls snapshots, zero entries dropped. */
export function callsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after)) if (n - (before[cmd] ?? 0) > 0) out[cmd] = n - (before[cmd] ?? 0);
  return out;
}
