import type { Cluster, Redis } from 'ioredis';
import { bucketOf, checkId, sessionKeys, type Dimension, type SessionKeys } from './keys';
import { assumedRoleArnOf, decodeRecord, encodePending, isLegacy, LINE, STATE_CODE, type SessionRecord, type SessionState } from './session-record';
import { perKey, sendTogether, storeRunner, type BatchCommand, type StoreRunner } from './redis-client';
import { defineScripts, type SessionScripts } from './session-scripts';
import { templateRolesFor, type TemplateRoles } from './template-roles';
import {
  activeMembers,
  candidateDevelopers,
  decodeCursor,
  encodeCursor,
  getRaw,
  storedMatches,
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

/** The limits a reservation enforces (0 = none). */
export interface Limits {
  vendsPerMinute: number;
  liveSessions: number;
}

/** What markLive records of the issued credentials. */
export interface IssuedDetails {
  accessKeyId: string;
  assumedRoleArn: string;
  issuedAt: Date;
  expiresAt: Date;
  packedPolicySize: number;
}

const WINDOW_MS = 60_000;
// STS reports expiry to the second and its call takes time, so the issued expiry is usually a little past the
// planned one; the developer index is rewritten (one more round trip) only when it is later by more than this.
const INDEX_SLACK_MS = 1000;
const FINISHED = new Set(['f', 'r', 'e']);
/** The template of a stored record, for its role (none for the previous format, which stores the role). */
const templateOf = (raw: string): string[] => (isLegacy(raw) ? [] : [raw.split('\n', LINE.template + 1)[LINE.template] ?? '']);
const STATE_OF = Object.fromEntries(Object.entries(STATE_CODE).map(([s, c]) => [c, s as SessionState]));

/**
 * Sessions in Redis (layout in keys.ts, record encoding in session-record.ts). Every Redis failure surfaces as
 * StoreUnavailableError; bad input (an id or cursor the service never made) as TypeError.
 * Writes of one vend: open (reserve and record, one round trip), then markLive (one round trip, which the vend
 * sends beside the kill switch's block check).
 */
export class SessionStore {
  private readonly keys: SessionKeys;
  private readonly scripts: Redis & SessionScripts;
  private readonly roles: TemplateRoles;
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
    this.roles = templateRolesFor(redis, this.keys);
    this.graceMs = opts.graceSeconds * 1000;
    this.headroomMs = Math.max(this.graceMs, 60_000);
    this.run = storeRunner(redis, 'session store');
  }

  /**
   * Atomically (one script on keys sharing the developer's hash tag): at most `vendsPerMinute` vends in any
   * 60 s (sliding log) and at most `liveSessions` unexpired sessions; on success the new session holds a slot
   * until it expires or is marked failed, revoked or ended. 0 = no limit. A refusal consumes nothing.
   */
  async reserve(input: { developer: string; sessionId: string; expiresAt: Date } & Limits): Promise<Reservation> {
    const now = this.nowMs();
    const reply = await this.run(() => sendTogether(this.redis, [this.reserveCommand(input, now)]));
    return this.reservation(reply[0] as [string, string?], now);
  }

  /**
   * Records the session as pending before AWS is asked: the record, the developer index (in case no reservation
   * was made) and the catalogues of developers and roles, in one round trip. Throws if the id is already
   * recorded (ids are random, so that is a bug; the index writes sent with it only widen later searches).
   */
  async createPending(rec: SessionRecord): Promise<void> {
    const now = this.nowMs();
    const expiry = Date.parse(rec.expiresAt);
    const ttl = this.ttlMs(expiry);
    const commands: BatchCommand[] = [['svRegister', this.keys.developer(rec.developer), rec.id, expiry, now, ttl], ...this.recordCommands(rec)];
    const replies = await this.run(() => sendTogether(this.redis, commands));
    this.created(rec, replies.slice(1));
  }

  /**
   * A vend's first round trip: the reservation (as reserve) and the pending record with its index entries (as
   * createPending), sent together. Refused, nothing of it is left: the record written beside the refusal is
   * deleted (a second round trip, on that path only; until then no index names it). Once this resolves ok,
   * every listing and revocation that starts afterwards finds the session. `alongside`: other stores' commands
   * for the same round trip (one pipeline on a single Redis), their replies answered in order.
   */
  async open(rec: SessionRecord, limits: Limits, alongside: BatchCommand[] = []): Promise<{ reservation: Reservation; alongside: unknown[] }> {
    const now = this.nowMs();
    const reserve = this.reserveCommand({ developer: rec.developer, sessionId: rec.id, expiresAt: new Date(rec.expiresAt), ...limits }, now);
    const own = [reserve, ...this.recordCommands(rec)];
    const replies = await this.run(() => sendTogether(this.redis, [...own, ...alongside]));
    const others = replies.slice(own.length);
    const reservation = this.reservation(replies[0] as [string, string?], now);
    if (!reservation.ok) {
      if (replies[1] === 'OK') await this.run(() => this.redis.del(this.keys.record(rec.id)));
      return { reservation, alongside: others };
    }
    this.created(rec, replies.slice(1, own.length));
    return { reservation, alongside: others };
  }

  /** The reservation script's command (keys sharing the developer's hash tag). */
  private reserveCommand(input: { developer: string; sessionId: string; expiresAt: Date } & Limits, now: number): BatchCommand {
    const expiry = input.expiresAt.getTime();
    const [devKey, vendsKey] = [this.keys.developer(input.developer), this.keys.vends(input.developer)];
    const id = checkId(input.sessionId);
    return ['svReserve', devKey, vendsKey, id, expiry, now, now - WINDOW_MS, input.vendsPerMinute, input.liveSessions, this.ttlMs(expiry)];
  }

  private reservation(reply: [string, string?], now: number): Reservation {
    if (reply[0] === 'ok') return { ok: true };
    const reason = reply[0] === 'rate' ? 'rate' : 'sessions';
    const freeAt = Number(reply[1]) + (reason === 'rate' ? WINDOW_MS : 0);
    return { ok: false, reason, retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now) / 1000)) };
  }

  /**
   * The record (SET NX), then one ZADD GT per catalogue (the developer's bucket, the roles), and the template's
   * role (template-roles.ts). Catalogue scores carry headroom so that an issued expiry later
   * than the planned one never drops an entry early; they only widen a search, never narrow it.
   */
  private recordCommands(rec: SessionRecord): BatchCommand[] {
    const expiry = Date.parse(rec.expiresAt);
    const listed = expiry + this.headroomMs;
    const commands: BatchCommand[] = [
      ['set', this.keys.record(rec.id), encodePending(rec, this.roles.roleOf), 'PX', this.ttlMs(expiry), 'NX'],
      ['zadd', this.keys.developers(bucketOf(rec.developer)), 'GT', listed, rec.developer],
      ['zadd', this.keys.roles, 'GT', listed, rec.roleArn],
    ];
    const role = this.roles.registerCommand(rec.template, rec.roleArn, this.nowMs());
    if (role) commands.push(role);
    return commands;
  }

  /** Checks the replies of recordCommands. */
  private created(rec: SessionRecord, replies: unknown[]): void {
    if (replies[0] !== 'OK') throw new Error(`session ${rec.id} is already recorded`);
    // The script's answer is the whole hash; a plain HSETNX answers 0 or 1.
    if (Array.isArray(replies[3])) this.roles.absorb(replies[3]);
  }

  /**
   * Records the issued credentials' details (never the secret) and moves pending -> live; the record then
   * lives until the issued expiry + grace. A session revoked or ended meanwhile stays so. Returns the state
   * after the update, or null when the record is gone (the caller must not hand out credentials it cannot
   * track).
   */
  async markLive(id: string, f: IssuedDetails, session?: Pick<SessionRecord, 'roleArn' | 'roleSessionName'>): Promise<SessionState | null> {
    return (await this.markLiveWith(id, f, session, [])).state;
  }

  /** markLive, with other stores' commands sent in the same round trip (their replies answered in order). */
  async markLiveWith(
    id: string,
    f: IssuedDetails,
    session: Pick<SessionRecord, 'roleArn' | 'roleSessionName'> | undefined,
    alongside: BatchCommand[],
  ): Promise<{ state: SessionState | null; alongside: unknown[] }> {
    const key = this.keys.record(id);
    const now = this.nowMs();
    const expiry = f.expiresAt.getTime();
    const ttl = this.ttlMs(expiry);
    // Given the session, an assumed-role ARN that is the derived one is left out of the record.
    const derived = session !== undefined && f.assumedRoleArn === assumedRoleArnOf(session.roleArn, session.roleSessionName);
    const args = [expiry, f.issuedAt.getTime(), f.accessKeyId, f.packedPolicySize, derived ? '' : f.assumedRoleArn, ttl];
    const [reply, ...others] = await this.run(() => sendTogether(this.redis, [['svMarkLive', key, ...args], ...alongside]));
    if (!reply) return { state: null, alongside: others };
    const [code, previous, developer] = reply as [string, string, string];
    if (code === STATE_CODE.live && expiry > Number(previous) + INDEX_SLACK_MS) {
      await this.run(() => this.scripts.svRegister(this.keys.developer(developer), id, expiry, now, ttl));
    }
    return { state: STATE_OF[code] ?? null, alongside: others };
  }

  /**
   * A pending session whose AssumeRole failed (or, `issued`, a live one whose credentials were never handed
   * out): frees its slot; the record stays briefly for audit.
   */
  async markFailed(id: string, failure: string, opts: { issued?: boolean } = {}): Promise<void> {
    await this.finish([id], ['f', opts.issued ? 'pl' : 'p', failure.slice(0, 200), '', '', this.headroomMs]);
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
    return (await this.decodeAll([id], [await this.run(() => this.redis.get(key))]))[0]!;
  }

  /** Records of many sessions in one round trip, null where gone. */
  async getMany(ids: string[]): Promise<Array<SessionRecord | null>> {
    const keys = ids.map((id) => this.keys.record(id));
    return this.decodeAll(ids, await this.run(() => getRaw(this.redis, keys)));
  }

  /**
   * Records from stored values (null where gone), e.g. what a checkpoint read beside the kill-switch fields. A
   * template whose role this process does not know yet costs one more round trip, once.
   */
  async decodeAll(ids: string[], raws: Array<string | null>): Promise<Array<SessionRecord | null>> {
    await this.run(() => this.roles.ensure(raws.flatMap((raw) => (raw === null ? [] : templateOf(raw)))));
    return raws.map((raw, i) => (raw === null ? null : decodeRecord(ids[i]!, raw, this.roles.roleOf)));
  }

  /** Loads the template roles if a template of these records is not known yet (one round trip, rarely). */
  private async knowRolesOf(chunk: Array<{ raw: string | null }>): Promise<void> {
    const unknown = new Set<string>();
    for (const { raw } of chunk) for (const t of raw === null ? [] : templateOf(raw)) if (this.roles.roleOf(t) === undefined) unknown.add(t);
    if (unknown.size > 0) await this.roles.ensure(unknown);
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
      for await (const chunk of walk(ctx, await candidateDevelopers(ctx, filter), null)) {
        await this.knowRolesOf(chunk);
        for (const { id, raw } of chunk) if (raw !== null && storedMatches(id, raw, filter, ctx.roleOf)) ids.push(id);
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
      for await (const chunk of walk(ctx, await candidateDevelopers(ctx, filter), after)) {
        await this.knowRolesOf(chunk);
        for (const { developer, id, raw } of chunk) {
          if (raw !== null && storedMatches(id, raw, filter, ctx.roleOf)) sessions.push(decodeRecord(id, raw, ctx.roleOf));
          if (sessions.length >= size || ++visited >= budget) return { sessions, cursor: encodeCursor({ developer, id }) };
        }
      }
      return { sessions, cursor: null };
    });
  }

  /** Developers, or role ARNs, that may have unexpired sessions (a superset: e.g. roles to write a Deny to). */
  async activeValues(dimension: 'developer' | 'role'): Promise<string[]> {
    if (dimension === 'developer') return this.run(() => candidateDevelopers(this.context(), {}));
    return this.run(async () => (await activeMembers(this.context(), [this.keys.roles], this.keys.legacyCatalogue('role'))).sort());
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
    return { redis: this.redis, keys: this.keys, nowMs: this.nowMs(), roleOf: this.roles.roleOf };
  }

  private nowMs(): number {
    return this.opts.now().getTime();
  }

  /** Record TTL: credential expiry + grace, at least a second (PX must be positive). */
  private ttlMs(expiryMs: number): number {
    return Math.max(1000, expiryMs + this.graceMs - this.nowMs());
  }
}
