/**
 * What the gateway keeps in Redis, never a secret (keys built in src/storage/keys.ts):
 *
 *   P{g:<id>}c       list    the session's recent calls, newest first, JSON without payloads; trimmed to
 *                            `historySize`, TTL = session end + grace
 *   P{g:<id>}n<sec>  string  calls of the session in one wall-clock second (the per-session rate limit); TTL 2 s
 *
 * A checkpoint is one round trip: the session record and the kill-switch fields (src/storage/kill-switch-store.ts)
 * and the rate counter, pipelined. Call records are batched: written together every FLUSH_MS (or when a listing
 * is read), so a busy replica spends one round trip per batch rather than per call; the audit line, written at
 * once, stays the durable record. Redis Cluster: every command is single-key; the two gateway keys of a session
 * share its hash tag.
 */
import type { Cluster, Redis } from 'ioredis';
import { judgeSession, type KillSwitchStore, type SessionVerdict } from '../storage/kill-switch-store';
import { storageKeys, type GatewayKeys } from '../storage/keys';
import { templateRolesFor, type TemplateRoles } from '../storage/template-roles';
import { decodeRecord, isLegacy, type SessionRecord } from '../storage/session-record';
import { sendTogether, storeRunner, type StoreRunner } from '../storage/redis-client';

/** One call as `GET /v1/sessions/{id}/calls` lists it. */
export interface CallRecord {
  at: string;
  requestId: string;
  service: string;
  operation?: string;
  resource?: string;
  region: string;
  status: number;
  code?: string;
  bytesIn: number;
  bytesOut: number;
  latencyMs: number;
  /** True when the gateway answered itself and nothing reached AWS. */
  refused: boolean;
}

export interface Checkpoint {
  verdict: SessionVerdict;
  record: SessionRecord | null;
  /** Calls of this session in the current second, this one included. */
  callsThisSecond: number;
}

type Scope = { id: string; developer: string; project: string; template: string; createdAt: Date };

const FLUSH_MS = 100;
const MAX_PENDING = 5000;

export class GatewayStore {
  private readonly run: StoreRunner;
  private readonly keys: GatewayKeys;
  private readonly roles: TemplateRoles;
  private pending = new Map<string, { calls: string[]; ttlMs: number }>();
  private pendingCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly killSwitch: KillSwitchStore,
    private readonly opts: { keyPrefix: string; historySize: number; now: () => Date; onFlushError?: (err: unknown) => void },
  ) {
    const keys = storageKeys(opts.keyPrefix);
    this.keys = keys.gateway;
    this.roles = templateRolesFor(redis, keys.sessions);
    this.run = storeRunner(redis, 'gateway store');
  }

  /**
   * The checkpoint of one call (one round trip); throws StoreUnavailableError when Redis cannot answer.
   * `rateLimited` false skips the counter (no limit applies).
   */
  async checkpoint(s: Scope, rateLimited = true): Promise<Checkpoint> {
    const nowMs = this.opts.now().getTime();
    const rateKey = this.keys.rate(s.id, Math.floor(nowMs / 1000));
    const commands = this.killSwitch.checkpointCommands(s);
    if (rateLimited) commands.push(['incr', rateKey], ['pexpire', rateKey, 2000]);
    const [raw, values, count] = (await this.run(() => sendTogether(this.redis, commands))) as [string | null, Array<string | null>, number?];
    // The record's role comes from the template's (session-record.ts); known here once this process vended or
    // read a session of it, else read once.
    if (raw !== null && !isLegacy(raw)) await this.run(() => this.roles.ensure([s.template]));
    return { verdict: judgeSession(s, raw, values, nowMs), record: raw === null ? null : decodeRecord(s.id, raw, this.roles.roleOf), callsThisSecond: Number(count ?? 0) };
  }

  /** Queues a call for the session's history; written with the next batch (at most FLUSH_MS later). */
  recordCall(sessionId: string, call: CallRecord, ttlMs: number): void {
    if (this.pendingCount >= MAX_PENDING) return;
    const entry = this.pending.get(sessionId) ?? { calls: [], ttlMs };
    entry.calls.push(JSON.stringify(call));
    entry.ttlMs = Math.max(entry.ttlMs, ttlMs);
    this.pending.set(sessionId, entry);
    this.pendingCount++;
    this.timer ??= setTimeout(() => void this.flush().catch((err: unknown) => this.opts.onFlushError?.(err)), FLUSH_MS);
    this.timer.unref?.();
  }

  /** Writes every queued call record now (one round trip); rejects when Redis cannot take them (they are dropped). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    const commands: Array<[string, ...Array<string | number>]> = [];
    for (const [id, { calls, ttlMs }] of batch) {
      const key = this.keys.calls(id);
      commands.push(['lpush', key, ...calls], ['ltrim', key, 0, this.opts.historySize - 1], ['pexpire', key, Math.max(1000, Math.round(ttlMs))]);
    }
    const previous = this.flushing;
    this.flushing = (async () => {
      await previous.catch(() => undefined);
      if (commands.length > 0) await this.run(() => sendTogether(this.redis, commands));
    })();
    return this.flushing;
  }

  /** The session's recent calls, newest first (queued ones written first). */
  async calls(sessionId: string, limit: number): Promise<CallRecord[]> {
    await this.flush();
    const key = this.keys.calls(sessionId);
    const raws = await this.run(() => this.redis.lrange(key, 0, Math.max(0, limit - 1)));
    return raws.map((r) => JSON.parse(r) as CallRecord);
  }
}
