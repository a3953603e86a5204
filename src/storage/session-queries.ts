import type { Cluster, Redis } from 'ioredis';
import { DEVELOPER_BUCKETS, type SessionKeys } from './keys';
import { decodeRecord, isLegacy, LINE, stateOf, type RoleOf, type SessionRecord, type SessionState } from './session-record';
import { perKey, sendTogether, type BatchCommand } from './redis-client';

/**
 * Reads over the indexes (keys.ts): the developers that can hold matching sessions (every developer with active
 * sessions unless the filter names one), then their session ids in a stable order (developer, then id, both as
 * strings), then the records, which decide the match. A page is resumable from a cursor naming the last
 * (developer, id) visited, so sessions added or expiring between pages never shift the ones not yet seen.
 * There are no per-project, per-template or per-role indexes: one entry per session per dimension would cost
 * more than the record, so a filter on those reads the records of every active developer, a bounded number per
 * page (session-store.ts list).
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
  roleOf: RoleOf;
}

interface Position {
  developer: string;
  id: string;
}

const DEVELOPER_CHUNK = 256;
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
  const buckets = Array.from({ length: DEVELOPER_BUCKETS }, (_x, i) => ctx.keys.developers(i));
  return (await activeMembers(ctx, buckets, ctx.keys.legacyCatalogue('developer'))).sort();
}

/**
 * Unexpired members of catalogue keys (and of the previous version's catalogue), deduplicated, in one round
 * trip. The catalogues have no TTL: their expired members are dropped here, by the readers, which keeps the vend
 * at one command per catalogue.
 */
export async function activeMembers(ctx: QueryContext, keys: string[], legacy: string): Promise<string[]> {
  const commands: BatchCommand[] = keys.flatMap((k): BatchCommand[] => [
    ['zremrangebyscore', k, '-inf', ctx.nowMs],
    ['zrangebyscore', k, `(${ctx.nowMs}`, '+inf'],
  ]);
  commands.push(['zrangebyscore', legacy, `(${ctx.nowMs}`, '+inf']);
  const replies = await sendTogether(ctx.redis, commands);
  const members = new Set<string>();
  replies.forEach((r, i) => {
    if (i % 2 === 1 || i === replies.length - 1) for (const m of r as string[]) members.add(m);
  });
  return [...members];
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

/**
 * Whether a stored record matches, read off its lines: a listing or revocation filtered on a project or
 * template reads every active developer's records, and most of them do not match, so only those that do are
 * decoded. Records of the previous format are decoded to tell.
 */
export function storedMatches(id: string, raw: string, filter: SessionFilter, roleOf: RoleOf): boolean {
  if (isLegacy(raw)) return matches(decodeRecord(id, raw, roleOf), filter);
  const f = raw.split('\n', LINE.extra + 1);
  const state = stateOf(raw);
  if (filter.state === undefined ? !ACTIVE.has(state) : state !== filter.state) return false;
  if (filter.developer !== undefined && f[LINE.developer] !== filter.developer) return false;
  if (filter.project !== undefined && f[LINE.project] !== filter.project) return false;
  if (filter.template !== undefined && f[LINE.template] !== filter.template) return false;
  return filter.role === undefined || decodeRecord(id, raw, roleOf).roleArn === filter.role;
}

/**
 * Every indexed session of these developers after `after`, in order, with its stored record (null if gone), a
 * chunk of them (one read) at a time.
 */
export async function* walk(
  ctx: QueryContext,
  developers: string[],
  after: Position | null,
): AsyncGenerator<Array<Position & { raw: string | null }>> {
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
      yield slice.map((p, n) => ({ ...p, raw: typeof raws[n] === 'string' ? (raws[n] as string) : null }));
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
