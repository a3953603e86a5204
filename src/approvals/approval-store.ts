/**
 * Approval requests in Redis (keys built in src/storage/keys.ts):
 *
 *   P{a:<id>}   hash   "rec" -> JSON record (written once), "state" -> pending|approved|denied|collected,
 *                      "decision" -> JSON decision, "session" -> the session id a collection vended
 *   P{A}        zset   every approval id -> creation time (ms); trimmed past the retention when listed
 *   P{A:<dev>}  zset   the developer's pending requests: id -> deadline (ms); caps how many wait at once
 *
 * A state moves only by compare-and-set (one script on one key), so two approvers, or two collections, never
 * both win. Expiry is not a stored state: a pending request past its deadline reads as expired.
 */
import type { Cluster, Redis } from 'ioredis';
import { storageKeys, type ApprovalKeys } from '../storage/keys';
import { storeRunner, type StoreRunner } from '../storage/redis-client';
import type { VendRequest } from '../vend/vend-credentials';

export type StoredState = 'pending' | 'approved' | 'denied' | 'collected';
export type ApprovalState = StoredState | 'expired';

export interface Requester {
  issuer: string;
  subject: string;
  owner: string;
  developer: string;
  developerClaim: string;
  accessType: string;
}

export interface Decision {
  outcome: 'approved' | 'denied';
  /** The approver's identity key and raw claim, and their issuer. */
  by: string;
  byClaim: string;
  issuer: string;
  reason: string;
  at: string;
}

export interface ApprovalRecord {
  approvalId: string;
  state: ApprovalState;
  requester: Requester;
  template: string;
  roleArn: string;
  /** The vend as asked (template, parameters, project, duration, delivery): replayed at collection. */
  request: { template: string; parameters: Record<string, unknown>; project?: string; durationSeconds?: number; delivery?: VendRequest['delivery']; sessionDurationSeconds?: number };
  /** The project key the vend would be tagged with. */
  project: string;
  /** The session policy it would get, rendered when asked (shown to approvers). */
  policy: Record<string, unknown>;
  reason: string;
  approverGroups: string[];
  createdAt: string;
  /** A pending request expires here. */
  expiresAt: string;
  decision?: Decision;
  /** An approved request can be collected until here. */
  collectBy?: string;
  sessionId?: string;
}

type Immutable = Omit<ApprovalRecord, 'state' | 'decision' | 'collectBy' | 'sessionId'>;

export const APPROVAL_ID = /^a[A-Za-z0-9]{12}$/;

// KEYS[1] the approval hash; ARGV: expected state, new state, then field/value pairs to set with it.
const TRANSITION = `
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// KEYS[1] the developer's pending set; ARGV: now, max, id, deadline, ttl (ms). Expired entries do not count.
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export class ApprovalStore {
  private readonly run: StoreRunner;
  private readonly keys: ApprovalKeys;
  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
    /** How long a finished request stays readable (audit lives in the logs; this is for the console). */
    private readonly retentionMs = 24 * 3600_000,
  ) {
    this.keys = storageKeys(prefix).approvals;
    this.run = storeRunner(redis, 'approval store');
  }

  private key(id: string): string {
    if (!APPROVAL_ID.test(id)) throw new TypeError('invalid approval id');
    return this.keys.request(id);
  }
  private get listKey(): string {
    return this.keys.list;
  }

  private pendingKey(developer: string): string {
    return this.keys.pending(developer);
  }

  /**
   * Records a new pending request, unless its developer already has `maxPending` waiting (answers false then):
   * an agent cannot flood approvers (or the webhook) with requests.
   */
  async create(rec: ApprovalRecord, maxPending: number): Promise<boolean> {
    const { state: _s, decision: _d, collectBy: _c, sessionId: _i, ...immutable } = rec;
    const ttlMs = Date.parse(rec.expiresAt) - Date.parse(rec.createdAt) + 2 * this.retentionMs;
    const deadline = Date.parse(rec.expiresAt);
    const slot = await this.run(() =>
      this.redis.eval(RESERVE, 1, this.pendingKey(rec.requester.developer), Date.parse(rec.createdAt), maxPending, rec.approvalId, deadline, deadline - Date.parse(rec.createdAt)),
    );
    if (slot !== 1) return false;
    await this.run(async () => {
      const key = this.key(rec.approvalId);
      const created = await this.redis.hsetnx(key, 'rec', JSON.stringify(immutable satisfies Immutable));
      if (created !== 1) throw new Error(`approval ${rec.approvalId} is already recorded`);
      await this.redis.hset(key, 'state', 'pending');
      await this.redis.pexpire(key, ttlMs);
      await this.redis.zadd(this.listKey, Date.parse(rec.createdAt), rec.approvalId);
    });
    return true;
  }

  /** A decided request no longer counts against its developer's pending cap. */
  async release(developer: string, id: string): Promise<void> {
    await this.run(() => this.redis.zrem(this.pendingKey(developer), id));
  }

  /** The record with its state as of `now` (a request past its deadline reads as expired). */
  async get(id: string, now: Date): Promise<ApprovalRecord | null> {
    if (!APPROVAL_ID.test(id)) return null;
    const hash = await this.run(() => this.redis.hgetall(this.key(id)));
    return decode(hash, now);
  }

  /** Newest first, at most `limit`. */
  async list(now: Date, limit = 200): Promise<ApprovalRecord[]> {
    const ids = await this.run(async () => {
      await this.redis.zremrangebyscore(this.listKey, '-inf', now.getTime() - 2 * this.retentionMs);
      return this.redis.zrevrange(this.listKey, 0, limit - 1);
    });
    const out: ApprovalRecord[] = [];
    for (const id of ids) {
      const rec = await this.get(id, now);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** Notes the session a collection vended. */
  async setSession(id: string, sessionId: string): Promise<void> {
    await this.run(() => this.redis.hset(this.key(id), 'session', sessionId));
  }

  /** Moves `from` -> `to` and sets `fields`, only if the state still is `from`; answers whether it did. */
  async transition(id: string, from: StoredState, to: StoredState, fields: Record<string, string> = {}): Promise<boolean> {
    const args = [from, to, ...Object.entries(fields).flat()];
    const done = await this.run(() => this.redis.eval(TRANSITION, 1, this.key(id), ...args));
    return done === 1;
  }
}

function decode(hash: Record<string, string>, now: Date): ApprovalRecord | null {
  if (!hash['rec'] || !hash['state']) return null;
  const rec = JSON.parse(hash['rec']) as Immutable;
  const stored = hash['state'] as StoredState;
  const decision = hash['decision'] ? (JSON.parse(hash['decision']) as Decision) : undefined;
  const collectBy = decision?.outcome === 'approved' ? hash['collectBy'] : undefined;
  const t = now.getTime();
  const expired = (stored === 'pending' && Date.parse(rec.expiresAt) <= t) || (stored === 'approved' && collectBy !== undefined && Date.parse(collectBy) <= t);
  return {
    ...rec,
    state: expired ? 'expired' : stored,
    ...(decision ? { decision } : {}),
    ...(collectBy ? { collectBy } : {}),
    ...(hash['session'] ? { sessionId: hash['session'] } : {}),
  };
}
