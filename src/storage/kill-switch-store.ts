import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { stateOf } from './session-record';
import { sendTogether, storeRunner, type BatchCommand, type StoreRunner } from './redis-client';
import { checkRevocationId, storageKeys, type KillSwitchKeys, type SessionKeys } from './keys';
import { defineKillSwitchScripts, type KillSwitchScripts } from './kill-switch-scripts';
import {
  checkEntry,
  decodeRevocation,
  encodeRecord,
  entryField,
  entryPairs,
  latestBlock,
  LIST_CURSOR,
  listMember,
  scopeFields,
  selectorField,
  type ActiveBlock,
  type RevocationRecord,
  type RoleEntries,
  type RoleState,
  type SessionVerdict,
} from './kill-switch-records';
import type { RevocationEntry } from '../revoke/revocation-entries';

export type { ActiveBlock, RevocationRecord, RoleEntries, RoleState, Selector, SelectorKind, SessionVerdict } from './kill-switch-records';

export interface KillSwitchStoreOptions {
  /** The same prefix as the session store's (no braces). */
  keyPrefix: string;
  now: () => Date;
}

/** What a revocation changes besides its record. */
export interface RevocationEffects {
  /** Group/all: sessions of the selector created before this are revoked (layer 1). */
  revokedBefore?: Date;
  /** Group/all: new vends and refreshes of the selector are refused until then. */
  blockUntil?: Date;
  /** The entries each affected role's Deny policy must gain (layer 2). */
  entriesByRole: Map<string, RevocationEntry[]>;
}

/**
 * A checkpoint's verdict from its two replies (checkpointCommands): revoked when the record is gone, revoked or
 * ended, or the session was created before a revocation of its developer, project, template or of all; else
 * blocked while a block covers it; else ok.
 */
export function judgeSession(
  s: { id: string; developer: string; project: string; template: string; createdAt: Date },
  raw: string | null,
  values: Array<string | null>,
  nowMs: number,
): SessionVerdict {
  const revoked = scopeFields('r:', s);
  const blocked = scopeFields('b:', s);
  if (raw === null) return { verdict: 'revoked' };
  const state = stateOf(raw);
  if (state === 'revoked' || state === 'ended') return { verdict: 'revoked' };
  const created = s.createdAt.getTime();
  if (values.slice(0, revoked.length).some((v) => v !== null && created < Number(v))) return { verdict: 'revoked' };
  const block = latestBlock(blocked, values.slice(revoked.length), nowMs);
  return block ? { verdict: 'blocked', until: block.until } : { verdict: 'ok' };
}

/** Revocation records are kept this long (the audit log keeps them for good). */
const RETENTION_MS = 90 * 24 * 3600 * 1000;

/**
 * The kill switch in Redis (layout in keys.ts): the checkpoints vends and refreshes ask, revocation records,
 * and the per-role work the layer-2 apply and the reconciler do. Every Redis failure surfaces as
 * StoreUnavailableError (as from the session store); bad input as TypeError. No secret is ever stored.
 */
export class KillSwitchStore {
  private readonly keys: KillSwitchKeys;
  /** The session record (owned by the session store), read by the refresh checkpoint. */
  private readonly sessionKeys: SessionKeys;
  private readonly scripts: Redis & KillSwitchScripts;
  /** Runs one store operation: waits for the first connection, maps every Redis error to StoreUnavailableError. */
  private readonly run: StoreRunner;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: KillSwitchStoreOptions,
  ) {
    const keys = storageKeys(opts.keyPrefix);
    this.keys = keys.killSwitch;
    this.sessionKeys = keys.sessions;
    this.scripts = defineKillSwitchScripts(redis);
    this.run = storeRunner(redis, 'kill-switch store');
  }

  /** Vend checkpoint, one round trip (HMGET): the active block ending last among those covering the scope. */
  async blockFor(scope: { developer: string; project: string; template: string }): Promise<ActiveBlock | null> {
    const [raws] = await this.run(() => sendTogether(this.redis, [this.blockCommand(scope)]));
    return this.blockOf(scope, raws);
  }

  /** The command of a vend checkpoint, for a caller that sends it with its own (see blockOf). */
  blockCommand(scope: { developer: string; project: string; template: string }): BatchCommand {
    return ['hmget', this.keys.killSwitch, ...scopeFields('b:', scope)];
  }

  /** The verdict of blockCommand's reply. */
  blockOf(scope: { developer: string; project: string; template: string }, reply: unknown): ActiveBlock | null {
    return latestBlock(scopeFields('b:', scope), reply as Array<string | null>, this.nowMs());
  }

  /**
   * Refresh checkpoint, one round trip (the session record and the kill-switch fields, pipelined): revoked when
   * the record is gone, revoked or ended, or the session was created before a revocation of its developer,
   * project, template or of all; else blocked while a block covers it; else ok.
   */
  async checkSession(s: { id: string; developer: string; project: string; template: string; createdAt: Date }): Promise<SessionVerdict> {
    return (await this.checkpoint(s)).verdict;
  }

  /** checkSession, also answering the session record it read (null when gone), for a caller that decodes it. */
  async checkpoint(s: { id: string; developer: string; project: string; template: string; createdAt: Date }): Promise<{ verdict: SessionVerdict; raw: string | null }> {
    const [raw, values] = (await this.run(() => sendTogether(this.redis, this.checkpointCommands(s)))) as [string | null, Array<string | null>];
    return { verdict: judgeSession(s, raw, values, this.nowMs()), raw };
  }

  /** The commands of one checkpoint (record, then the kill-switch fields), for a caller that pipelines more. */
  checkpointCommands(s: { id: string; developer: string; project: string; template: string }): BatchCommand[] {
    return [
      ['get', this.sessionKeys.record(s.id)],
      ['hmget', this.keys.killSwitch, ...scopeFields('r:', s), ...scopeFields('b:', s)],
    ];
  }

  /**
   * Durable first, in one round trip: the record (first write wins, so a repeated call changes nothing it
   * reported), each role's entries (and the revocation waiting on them), the r:/b: fields (a later instant wins;
   * blocks are kept per revocation), the roles queued for an apply now, and the list entry. Roles are those in
   * `rec.roles` and in `effects.entriesByRole`.
   */
  async recordRevocation(rec: RevocationRecord, effects: RevocationEffects): Promise<void> {
    const id = checkRevocationId(rec.revocationId);
    for (const entries of effects.entriesByRole.values()) entries.forEach(checkEntry);
    const now = this.nowMs();
    const roles = [...new Set([...rec.roles.map((r) => r.roleArn), ...effects.entriesByRole.keys()])];
    const commands: BatchCommand[] = [['ksCreateRevocation', this.keys.revocation(id), encodeRecord(rec, roles), RETENTION_MS, ...roles]];
    for (const role of roles) {
      commands.push(['hsetnx', this.keys.pendingRoles, role, 0]);
      commands.push(['ksAddEntries', this.keys.roleEntries(role), this.keys.roleWaiting(role), id, now, ...entryPairs(effects.entriesByRole.get(role) ?? [])]);
    }
    if (effects.revokedBefore) commands.push(['ksRaise', this.keys.killSwitch, `r:${selectorField(rec.selector)}`, effects.revokedBefore.getTime()]);
    if (effects.blockUntil) commands.push(['ksSetBlock', this.keys.killSwitch, `b:${selectorField(rec.selector)}`, id, effects.blockUntil.getTime()]);
    // LT: a role already due earlier (a retry that is late) keeps its place.
    if (roles.length > 0) commands.push(['zadd', this.keys.queue, 'LT', ...roles.flatMap((r) => [now, r])]);
    commands.push(['zadd', this.keys.revocationList, 0, listMember(Date.parse(rec.createdAt), id)]);
    commands.push(['zremrangebylex', this.keys.revocationList, '-', `(${listMember(now - RETENTION_MS, '')}`]);
    await this.run(() => sendTogether(this.redis, commands));
  }

  async getRevocation(id: string): Promise<RevocationRecord | null> {
    const key = this.keys.revocation(id);
    return decodeRevocation(await this.run(() => this.redis.hgetall(key)));
  }

  /** One page of revocations, newest first; pass `cursor` back for the next page (null: no more). */
  async listRevocations(cursor: string | null, limit: number): Promise<{ revocations: RevocationRecord[]; cursor: string | null }> {
    if (cursor !== null && !LIST_CURSOR.test(cursor)) throw new TypeError('invalid cursor');
    return this.run(async () => {
      const members = await this.redis.zrevrangebylex(this.keys.revocationList, cursor ? `(${cursor}` : '+', '-', 'LIMIT', 0, limit);
      const ids = members.map((m) => m.slice(m.indexOf(':') + 1));
      const hashes = (await sendTogether(this.redis, ids.map((id) => ['hgetall', this.keys.revocation(id)]))) as Array<Record<string, string>>;
      const revocations = hashes.map(decodeRevocation).filter((r): r is RevocationRecord => r !== null);
      return { revocations, cursor: members.length === limit ? (members[members.length - 1] ?? null) : null };
    });
  }

  /**
   * Ends this revocation's block early (other revocations' blocks on the same selector stay); its record's
   * `blockedUntil` becomes the lift instant. Null if the revocation does not exist.
   */
  async liftBlock(id: string, keepUntil?: Date): Promise<RevocationRecord | null> {
    const rec = await this.getRevocation(id);
    if (!rec?.blockedUntil) return rec;
    const key = this.keys.revocation(id);
    const now = this.opts.now();
    // Up to keepUntil (the revocation's own cut-off) new credentials would be denied in AWS anyway: the block
    // shrinks to that instant instead of going.
    const until = keepUntil && keepUntil > now ? String(keepUntil.getTime()) : '';
    const lifted = await this.run(() => this.scripts.ksSetBlock(this.keys.killSwitch, `b:${selectorField(rec.selector)}`, id, until));
    if (lifted === 0 || Date.parse(rec.blockedUntil) <= now.getTime()) return rec;
    const updated: RevocationRecord = { ...rec, blockedUntil: (until && keepUntil ? keepUntil : now).toISOString() };
    await this.run(() => this.scripts.ksSetIfExists(key, 'rec', encodeRecord(updated, rec.roles.map((r) => r.roleArn))));
    return updated;
  }

  /** The role's stored entries (expired ones included: the apply drops them) and their version. */
  async roleEntries(roleArn: string): Promise<RoleEntries> {
    const hash = await this.run(() => this.redis.hgetall(this.keys.roleEntries(roleArn)));
    const entries = Object.keys(hash)
      .filter((f) => f.startsWith('{'))
      .map((f) => JSON.parse(f) as RevocationEntry);
    const since = hash['#since'] ? new Date(Number(hash['#since'])) : undefined;
    return { entries, version: Number(hash['#seq'] ?? 0), ...(since ? { since } : {}) };
  }

  /**
   * After an apply: removes the `read` entries not in `entries` (expired or folded) and stores `entries`; entries
   * added since the read stay. Returns true when some were (the role needs another apply).
   */
  async replaceRoleEntries(roleArn: string, update: { read: RevocationEntry[]; entries: RevocationEntry[]; version: number }): Promise<boolean> {
    const keep = new Set(update.entries.map(entryField));
    const removed = [...new Set(update.read.map(entryField))].filter((f) => !keep.has(f));
    const key = this.keys.roleEntries(roleArn);
    const args = [update.version, removed.length, ...removed, ...entryPairs(update.entries)];
    return (await this.run(() => this.scripts.ksReplaceEntries(key, ...args))) === 1;
  }

  /** Roles whose apply is due at `now`, earliest first. */
  async dueRoles(now: Date, limit: number): Promise<string[]> {
    return this.run(() => this.redis.zrangebyscore(this.keys.queue, '-inf', now.getTime(), 'LIMIT', 0, limit));
  }

  async schedule(roleArn: string, at: Date): Promise<void> {
    await this.run(() => this.redis.zadd(this.keys.queue, at.getTime(), roleArn));
  }

  async unschedule(roleArn: string): Promise<void> {
    await this.run(() => this.redis.zrem(this.keys.queue, roleArn));
  }

  /**
   * Records an apply's outcome on the revocations waiting for the role. Applied: those that were waiting at
   * version `upTo` (or all) get the state and stop waiting, and the role leaves the pending set. Pending: every
   * waiting one gets the error. Returns the role's consecutive failed applies (0 when applied): the backoff
   * exponent. A revocation recorded during an apply may be counted out of the pending set until the next apply
   * of the role (due at once), so the pending-roles gauge can briefly read one low.
   */
  async setRoleState(roleArn: string, state: RoleState, upTo?: number): Promise<number> {
    const waitingKey = this.keys.roleWaiting(roleArn);
    const { roleArn: _ignored, ...value } = state;
    const json = JSON.stringify(value);
    return this.run(async () => {
      const ids = await this.redis.zrangebyscore(waitingKey, '-inf', state.state === 'applied' && upTo !== undefined ? upTo : '+inf');
      const commands: BatchCommand[] = ids.map((id) => ['ksSetIfExists', this.keys.revocation(id), `role:${roleArn}`, json]);
      if (state.state === 'applied') {
        if (ids.length > 0) commands.push(['zrem', waitingKey, ...ids]);
        commands.push(['hdel', this.keys.pendingRoles, roleArn]);
      } else {
        commands.push(['hincrby', this.keys.pendingRoles, roleArn, 1]);
      }
      const replies = await sendTogether(this.redis, commands);
      return state.state === 'applied' ? 0 : Number(replies[replies.length - 1]);
    });
  }

  /** Roles whose revocation policy is not yet written (the pending-roles gauge). */
  async pendingRoleCount(): Promise<number> {
    return this.run(() => this.redis.hlen(this.keys.pendingRoles));
  }

  /**
   * Runs `fn` holding the lock `name` (a role ARN): SET NX PX with a random token, extended every third of
   * `ttlMs` while `fn` runs, released only if still ours. Undefined, without running `fn`, when someone else
   * holds it (callers retry).
   */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T | undefined> {
    const key = this.keys.roleLock(name);
    const token = randomBytes(16).toString('base64url');
    if ((await this.run(() => this.scripts.ksHold(key, token, ttlMs))) !== 1) return undefined;
    // A lost extension only risks a second apply overlapping; entry versions make that one re-apply, not lose.
    const timer = setInterval(() => void this.scripts.ksHold(key, token, ttlMs).catch(() => undefined), Math.max(10, Math.floor(ttlMs / 3)));
    timer.unref();
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await this.run(() => this.scripts.ksRelease(key, token));
    }
  }

  /** Takes the reconciler's leader lease, or extends it if `token` holds it. True while this token leads. */
  async holdLeadership(token: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.scripts.ksHold(this.keys.leader, token, ttlMs))) === 1;
  }

  /** Gives the lease up if `token` holds it, so another replica leads without waiting for the TTL. */
  async releaseLeadership(token: string): Promise<void> {
    await this.run(() => this.scripts.ksRelease(this.keys.leader, token));
  }

  /**
   * Drops r: instants older than `maxSessionSeconds` (every session created before them has ended: a session
   * cannot be refreshed past that) and blocks that have ended.
   */
  async pruneKillSwitch(now: Date, maxSessionSeconds: number): Promise<void> {
    await this.run(() => this.scripts.ksPrune(this.keys.killSwitch, now.getTime(), now.getTime() - maxSessionSeconds * 1000));
  }


  private nowMs(): number {
    return this.opts.now().getTime();
  }
}
