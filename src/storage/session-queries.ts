import type { Cluster, Redis } from 'ioredis';
import type { Dimension, SessionKeys } from './keys';
import { decodeRecord, type SessionRecord, type SessionState } from './session-record';
import { perKey, sendTogether } from './redis-client';

/**
 * Reads over the indexes (keys.ts): the developers that can hold matching sessions, then their session ids in
 * a stable order (developer, then id, both as strings), then the records, which decide the match. A page is
 * resumable from a cursor naming the last (developer, id) visited, so sessions added or expiring between
 * pages never shift the ones not yet seen.
 */

export interface SessionFilter {
  developer?: string;
  project?: string;
  template?: string;
  /** Role ARN. */
  role?: string;
  /** Default: pending and live (the indexes hold only those; others are there only for a moment). */
  state?: SessionState;
}

export interface QueryContext {
  redis: Redis | Cluster;
  keys: SessionKeys;
  nowMs: number;
}

interface Position {
  developer: string;
  id: string;
}

const DEVELOPER_CHUNK = 32;
const RECORD_CHUNK = 500;
const ACTIVE: ReadonlySet<SessionState> = new Set(['pending', 'live']);

/** Members of sorted sets whose score (an expiry) is still ahead, one list per key. */
export async function unexpired(ctx: QueryContext, keys: string[]): Promise<string[][]> {
  const replies = await sendTogether(ctx.redis, keys.map((k) => ['zrangebyscore', k, `(${ctx.nowMs}`, '+inf']));
  return replies as string[][];
}

/** The developers that may hold sessions matching the filter, sorted. */
export async function candidateDevelopers(ctx: QueryContext, filter: SessionFilter): Promise<string[]> {
  if (filter.developer !== undefined) return [filter.developer];
  const registries: string[] = [];
  const dims: Array<Exclude<Dimension, 'developer'>> = ['project', 'template', 'role'];
  for (const dim of dims) {
    const value = filter[dim];
    if (value !== undefined) registries.push(ctx.keys.registry(dim, value));
  }
  const lists = await unexpired(ctx, registries.length > 0 ? registries : [ctx.keys.catalogue('developer')]);
  const [first = [], ...rest] = lists;
  const sets = rest.map((l) => new Set(l));
  return [...new Set(first)].filter((d) => sets.every((s) => s.has(d))).sort();
}

export function matches(rec: SessionRecord, filter: SessionFilter): boolean {
  return (
    (filter.developer === undefined || rec.developer === filter.developer) &&
    (filter.project === undefined || rec.project === filter.project) &&
    (filter.template === undefined || rec.template === filter.template) &&
    (filter.role === undefined || rec.roleArn === filter.role) &&
    (filter.state === undefined ? ACTIVE.has(rec.state) : rec.state === filter.state)
  );
}

/** Every indexed session of these developers after `after`, in order, with its record (null if gone). */
export async function* walk(
  ctx: QueryContext,
  developers: string[],
  after: Position | null,
): AsyncGenerator<Position & { record: SessionRecord | null }> {
  let start = 0;
  if (after) while (start < developers.length && developers[start]! < after.developer) start++;
  for (let i = start; i < developers.length; i += DEVELOPER_CHUNK) {
    const chunk = developers.slice(i, i + DEVELOPER_CHUNK);
    const idLists = await unexpired(ctx, chunk.map((d) => ctx.keys.developer(d)));
    const positions: Position[] = [];
    chunk.forEach((developer, j) => {
      for (const id of [...(idLists[j] ?? [])].sort()) {
        if (!after || developer !== after.developer || id > after.id) positions.push({ developer, id });
      }
    });
    for (let k = 0; k < positions.length; k += RECORD_CHUNK) {
      const slice = positions.slice(k, k + RECORD_CHUNK);
      const raws = await getRaw(ctx.redis, slice.map((p) => ctx.keys.record(p.id)));
      for (let n = 0; n < slice.length; n++) {
        const p = slice[n]!;
        const raw = raws[n];
        yield { ...p, record: typeof raw === 'string' ? decodeRecord(p.id, raw) : null };
      }
    }
  }
}

/** Values of many keys in one round trip (MGET in chunks; per key on a Cluster). */
export async function getRaw(redis: Redis | Cluster, keys: string[]): Promise<Array<string | null>> {
  return (await perKey(redis, keys, (chunk) => ['mget', ...chunk])) as Array<string | null>;
}

/** Opaque page cursor: where the previous page stopped. */
export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.developer, p.id])).toString('base64url');
}

/** Throws TypeError on a cursor this store did not produce. */
export function decodeCursor(cursor: string): Position {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { developer: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new TypeError('invalid cursor');
}
