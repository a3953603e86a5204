/**
 * What the gateway keeps in Redis, never a secret (keys share the prefix of src/sessions/keys.ts; the letter
 * `g` is used by no other store):
 *
 *   P{g:<id>}c       list    the session's recent calls, newest first, JSON without payloads; trimmed to
 *                            `historySize`, TTL = session end + grace
 *   P{g:<id>}n<sec>  string  calls of the session in one wall-clock second (the per-session rate limit); TTL 2 s
 *
 * A checkpoint is one round trip: the session record and the kill-switch fields (src/revoke/kill-switch-store.ts)
 * and the rate counter, pipelined. Redis Cluster: every command is single-key; the two gateway keys of a session
 * share its hash tag.
 */
import type { Cluster, Redis } from 'ioredis';
import { judgeSession, type KillSwitchStore, type SessionVerdict } from '../revoke/kill-switch-store';
import { checkId } from '../sessions/keys';
import { decodeRecord, type SessionRecord } from '../sessions/record';
import { sendTogether, storeRunner, type StoreRunner } from '../sessions/redis-client';

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

export class GatewayStore {
  private readonly run: StoreRunner;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly killSwitch: KillSwitchStore,
    private readonly opts: { keyPrefix: string; historySize: number; now: () => Date },
  ) {
    this.run = storeRunner(redis);
  }

  private key(id: string, suffix: string): string {
    return `${this.opts.keyPrefix}{g:${checkId(id)}}${suffix}`;
  }

  /** The checkpoint of one call (one round trip); throws StoreUnavailableError when Redis cannot answer. */
  async checkpoint(s: Scope): Promise<Checkpoint> {
    const nowMs = this.opts.now().getTime();
    const rateKey = this.key(s.id, `n${Math.floor(nowMs / 1000)}`);
    const replies = (await this.run(() =>
      sendTogether(this.redis, [...this.killSwitch.checkpointCommands(s), ['incr', rateKey], ['pexpire', rateKey, 2000]]),
    )) as [string | null, Array<string | null>, number, number];
    const [raw, values, count] = replies;
    return { verdict: judgeSession(s, raw, values, nowMs), record: raw === null ? null : decodeRecord(s.id, raw), callsThisSecond: Number(count) };
  }

  /** Appends a call to the session's history (one round trip). */
  async recordCall(sessionId: string, call: CallRecord, ttlMs: number): Promise<void> {
    const key = this.key(sessionId, 'c');
    await this.run(() =>
      sendTogether(this.redis, [
        ['lpush', key, JSON.stringify(call)],
        ['ltrim', key, 0, this.opts.historySize - 1],
        ['pexpire', key, Math.max(1000, Math.round(ttlMs))],
      ]),
    );
  }

  /** The session's recent calls, newest first. */
  async calls(sessionId: string, limit: number): Promise<CallRecord[]> {
    const key = this.key(sessionId, 'c');
    const raws = await this.run(() => this.redis.lrange(key, 0, Math.max(0, limit - 1)));
    return raws.map((r) => JSON.parse(r) as CallRecord);
  }
}
