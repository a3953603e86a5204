import type { Cluster, Redis } from 'ioredis';
import { checkId, sessionKeys, type Dimension, type SessionKeys } from './keys';
import { decodeRecord, encodePending, STATE_CODE, type SessionRecord, type SessionState } from './session-record';
import { perKey, sendTogether, storeRunner, type BatchCommand, type StoreRunner } from './redis-client';
import { defineScripts, type SessionScripts } from './session-scripts';
import {
  candidateDevelopers,
  decodeCursor,
  encodeCursor,
  getRaw,
  matches,
  unexpired,
  walk,
  type QueryContext,
  type SessionFilter,
} from './session-queries';

export type { SessionRecord, SessionState } from './session-record';
export type { SessionFilter } from './session-queries';

export interface SessionStoreOptions {
  /** Prepended to every key (keys.ts); no braces. */
  keyPrefix: string;
  /** How long a record outlives its credentials, so a just-expired session can still be looked up. */
  graceSeconds: number;
  now: () => Date;
}

export type Reservation = { ok: true } | { ok: false; reason: 'rate' | 'sessions'; retryAfterSeconds: number };

const WINDOW_MS = 60_000;
// STS reports expiry to the second and its call takes time, so the issued expiry is usually a little past the
// planned one; the developer index is rewritten (one more round trip) only when it is later by more than this.
const INDEX_SLACK_MS = 1000;
const FINISHED = new Set(['f', 'r', 'e']);
const STATE_OF = Object.fromEntries(Object.entries(STATE_CODE).map(([s, c]) => [c, s as SessionState]));

/**
 * Sessions in Redis (layout in keys.ts, record encoding in session-record.ts). Every Redis failure surfaces as
 * StoreUnavailableError; bad input (an id or cursor the service never made) as TypeError.
 * Writes of one vend: reserve, createPending and markLive, one round trip each.
 */
export class SessionStore {
  private readonly keys: SessionKeys;
  private readonly scripts: Redis & SessionScripts;
  private readonly graceMs: number;
  // Registry scores (developer per project/template/role) carry headroom so that an issued expiry later than
  // the planned one never drops a developer from a registry early; they only widen a search, never narrow it.
  private readonly headroomMs: number;
  /** Runs one store operation: waits for the first connection, maps every Redis error to StoreUnavailableError. */
  private readonly run: StoreRunner;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: SessionStoreOptions,
  ) {
    this.keys = sessionKeys(opts.keyPrefix);
    this.scripts = defineScripts(redis);
    this.graceMs = opts.graceSeconds * 1000;
    this.headroomMs = Math.max(this.graceMs, 60_000);
    this.run = storeRunner(redis, 'session store');
  }

  /**
   * Atomically (one script on keys sharing the developer's hash tag): at most `vendsPerMinute` vends in any
   * 60 s (sliding log) and at most `liveSessions` unexpired sessions; on success the new session holds a slot
   * until it expires or is marked failed, revoked or ended. 0 = no limit. A refusal consumes nothing.
   */
  async reserve(input: { developer: string; sessionId: string; expiresAt: Date; vendsPerMinute: number; liveSessions: number }): Promise<Reservation> {
    const now = this.nowMs();
    const expiry = input.expiresAt.getTime();
    const [devKey, vendsKey] = [this.keys.developer(input.developer), this.keys.vends(input.developer)];
    const id = checkId(input.sessionId);
    const reply = await this.run(() =>
      this.scripts.svReserve(devKey, vendsKey, id, expiry, now, now - WINDOW_MS, input.vendsPerMinute, input.liveSessions, this.ttlMs(expiry)),
    );
    if (reply[0] === 'ok') return { ok: true };
    const reason = reply[0] === 'rate' ? 'rate' : 'sessions';
    const freeAt = Number(reply[1]) + (reason === 'rate' ? WINDOW_MS : 0);
    return { ok: false, reason, retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now) / 1000)) };
  }

  /**
   * Records the session as pending before AWS is asked: the record (written first), the developer index (in
   * case no reservation was made) and the registries, in one round trip. Throws if the id is already recorded
   * (ids are random, so that is a bug; the index writes sent with it only widen later searches).
   */
  async createPending(rec: SessionRecord): Promise<void> {
    const now = this.nowMs();
    const expiry = Date.parse(rec.expiresAt);
    const ttl = this.ttlMs(expiry);
    const listed = expiry + this.headroomMs;
    const registryTtl = Math.max(ttl, listed - now);
    const dev = rec.developer;
    const commands: BatchCommand[] = [
      ['set', this.keys.record(rec.id), encodePending(rec), 'PX', ttl, 'NX'],
      ['svRegister', this.keys.developer(dev), rec.id, expiry, now, ttl],
      ['svRegister', this.keys.registry('project', rec.project), dev, listed, now, registryTtl],
      ['svRegister', this.keys.registry('template', rec.template), dev, listed, now, registryTtl],
      ['svRegister', this.keys.registry('role', rec.roleArn), dev, listed, now, registryTtl],
      ['svRegister', this.keys.catalogue('developer'), dev, listed, now, registryTtl],
      ['svRegister', this.keys.catalogue('role'), rec.roleArn, listed, now, registryTtl],
    ];
    const [created] = await this.run(() => sendTogether(this.redis, commands));
    if (created !== 'OK') throw new Error(`session ${rec.id} is already recorded`);
  }

  /**
   * Records the issued credentials' details (never the secret) and moves pending -> live; the record then
   * lives until the issued expiry + grace. A session revoked or ended meanwhile stays so. Returns the state
   * after the update, or null when the record is gone (the caller must not hand out credentials it cannot
   * track).
   */
  async markLive(id: string, f: { accessKeyId: string; assumedRoleArn: string; issuedAt: Date; expiresAt: Date; packedPolicySize: number }): Promise<SessionState | null> {
    const key = this.keys.record(id);
    const now = this.nowMs();
    const expiry = f.expiresAt.getTime();
    const ttl = this.ttlMs(expiry);
    const args = [expiry, f.issuedAt.getTime(), f.accessKeyId, f.packedPolicySize, f.assumedRoleArn, ttl];
    const reply = await this.run(() => this.scripts.svMarkLive(key, ...args));
    if (!reply) return null;
    const [code, previous, developer] = reply;
    if (code === STATE_CODE.live && expiry > Number(previous) + INDEX_SLACK_MS) {
      await this.run(() => this.scripts.svRegister(this.keys.developer(developer), id, expiry, now, ttl));
    }
    return STATE_OF[code] ?? null;
  }

  /** A pending session whose AssumeRole failed: frees its slot; the record stays briefly for audit. */
  async markFailed(id: string, failure: string): Promise<void> {
    await this.finish([id], ['f', 'p', failure.slice(0, 200), '', '', this.headroomMs]);
  }

  /**
   * Revoked (by an operator) or ended (by its owner): frees the slots and drops the sessions from the indexes;
   * records keep their TTL. Returns the ids now in that state.
   */
  async markRevoked(ids: string[], info: { revokedAt: Date; revocationId: string; state?: 'revoked' | 'ended' }): Promise<string[]> {
    const code = STATE_CODE[info.state ?? 'revoked'];
    const after = await this.finish(ids, [code, 'pl', '', info.revokedAt.getTime(), info.revocationId, '']);
    return ids.filter((_, i) => after[i] === code);
  }

  async get(id: string): Promise<SessionRecord | null> {
    const key = this.keys.record(id);
    const raw = await this.run(() => this.redis.get(key));
    return raw === null ? null : decodeRecord(id, raw);
  }

  /** Records of many sessions in one round trip, null where gone. */
  async getMany(ids: string[]): Promise<Array<SessionRecord | null>> {
    const keys = ids.map((id) => this.keys.record(id));
    const raws = await this.run(() => getRaw(this.redis, keys));
    return raws.map((raw, i) => (raw === null ? null : decodeRecord(ids[i]!, raw)));
  }

  /**
   * Ids of unexpired active (pending or live) sessions in one index. By developer this is one read (and may
   * include a slot reserved by a vend that died before createPending); by project, template or role it reads
   * the records of the developers registered there.
   */
  async idsBy(dimension: Dimension, value: string): Promise<string[]> {
    return this.run(async () => {
      const ctx = this.context();
      if (dimension === 'developer') return (await unexpired(ctx, [this.keys.developer(value)]))[0] ?? [];
      const filter: SessionFilter = { [dimension]: value };
      const ids: string[] = [];
      for await (const { id, record } of walk(ctx, await candidateDevelopers(ctx, filter), null)) {
        if (record && matches(record, filter)) ids.push(id);
      }
      return ids;
    });
  }

  /**
   * One page of unexpired sessions matching the filter, ordered by developer then id; `limit` is clamped to
   * 1..1000. Like SCAN, a page may hold fewer than `limit` sessions while `cursor` is not null (each call reads
   * a bounded number of records); continue until it is null.
   */
  async list(filter: SessionFilter = {}, cursor: string | null = null, limit = 100): Promise<{ sessions: SessionRecord[]; cursor: string | null }> {
    const after = cursor ? decodeCursor(cursor) : null;
    const size = Math.min(1000, Math.max(1, Math.trunc(limit) || 100));
    const budget = Math.max(size * 10, 1000);
    return this.run(async () => {
      const ctx = this.context();
      const sessions: SessionRecord[] = [];
      let visited = 0;
      for await (const { developer, id, record } of walk(ctx, await candidateDevelopers(ctx, filter), after)) {
        if (record && matches(record, filter)) sessions.push(record);
        if (sessions.length >= size || ++visited >= budget) return { sessions, cursor: encodeCursor({ developer, id }) };
      }
      return { sessions, cursor: null };
    });
  }

  /** Developers, or role ARNs, that may have unexpired sessions (a superset: e.g. roles to write a Deny to). */
  async activeValues(dimension: 'developer' | 'role'): Promise<string[]> {
    const key = this.keys.catalogue(dimension);
    return this.run(async () => ((await unexpired(this.context(), [key]))[0] ?? []).sort());
  }

  async ping(): Promise<void> {
    await this.run(() => this.redis.ping());
  }

  /** Runs the finish script on each record, then drops finished sessions from their developers' indexes. */
  private async finish(ids: string[], args: Array<string | number>): Promise<Array<string | undefined>> {
    const keys = ids.map((id) => this.keys.record(id));
    return this.run(async () => {
      const replies = (await perKey(this.redis, keys, (chunk) => ['svFinish', chunk.length, ...chunk, ...args])) as Array<[string, string] | null>;
      const byDeveloper = new Map<string, string[]>();
      replies.forEach((reply, i) => {
        if (reply && FINISHED.has(reply[0])) byDeveloper.set(reply[1], [...(byDeveloper.get(reply[1]) ?? []), ids[i]!]);
      });
      await sendTogether(this.redis, [...byDeveloper].map(([dev, members]) => ['zrem', this.keys.developer(dev), ...members]));
      return replies.map((r) => r?.[0]);
    });
  }


  private context(): QueryContext {
    return { redis: this.redis, keys: this.keys, nowMs: this.nowMs() };
  }

  private nowMs(): number {
    return this.opts.now().getTime();
  }

  /** Record TTL: credential expiry + grace, at least a second (PX must be positive). */
  private ttlMs(expiryMs: number): number {
    return Math.max(1000, expiryMs + this.graceMs - this.nowMs());
  }
}
