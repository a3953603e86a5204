/**
 * Every Redis key the kill switch writes, built in one place. P is the configured prefix, the same one the session
 * store uses; the letters after "{" differ from the session store's (s d p t r c, src/sessions/keys.ts) so the two
 * never share a key.
 *
 *   P{k}             hash    the kill-switch hash: r:<selector> -> revocation instant (ms), sessions of the
 *                            selector created before it are revoked; b:<selector> -> JSON {revocationId: untilMs}
 *                            of the blocks refusing new vends (several, so lifting one leaves the others)
 *   P{v:<revId>}     hash    one revocation: "rec" -> JSON record, "role:<roleArn>" -> JSON role state
 *   P{V}             zset    every revocation, score 0, member "<createdAt ms, 15 digits>:<revId>": newest first
 *                            is reverse lexicographic order, so a cursor is simply the last member seen
 *   P{e:<roleArn>}   hash    the role's revocation entries: canonical entry JSON -> expiry (ms), plus "#seq", a
 *                            counter raised by every revocation that adds entries (an apply that read an older
 *                            value knows it missed something)
 *   P{e:<roleArn>}w  zset    revocations waiting for the role's policy: revId -> "#seq" after its entries were
 *                            added; same hash tag as the entries, so one script updates both
 *   P{q}             zset    role work queue: roleArn -> when to apply next (ms): now for new entries, a backoff
 *                            after a failure, the earliest entry expiry to prune
 *   P{u}             hash    roles not yet applied: roleArn -> consecutive failed applies (the backoff exponent;
 *                            HLEN is the pending-roles gauge)
 *   P{l:<roleArn>}   string  the role's apply lock (random token)
 *   P{L}             string  the reconciler's leader lease (random token)
 *
 * Redis Cluster: the only multi-key script touches P{e:<roleArn>} and P{e:<roleArn>}w, which share a hash tag;
 * every other command is single-key (several are pipelined), so nothing spans slots.
 */
import { sessionKeys } from '../sessions/keys';

/** Revocation ids the store accepts (the service makes `r` + 12 base62 characters). */
export const REVOCATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface KillSwitchKeys {
  killSwitch: string;
  revocation(id: string): string;
  revocationList: string;
  roleEntries(roleArn: string): string;
  roleWaiting(roleArn: string): string;
  queue: string;
  pendingRoles: string;
  roleLock(roleArn: string): string;
  leader: string;
  /** The session record key (owned by the session store), read by the refresh checkpoint. */
  sessionRecord(id: string): string;
}

/** Key builders for one prefix (no braces, as for the session store). */
export function killSwitchKeys(prefix: string): KillSwitchKeys {
  const sessions = sessionKeys(prefix);
  return {
    killSwitch: `${prefix}{k}`,
    revocation: (id) => `${prefix}{v:${checkRevocationId(id)}}`,
    revocationList: `${prefix}{V}`,
    roleEntries: (roleArn) => `${prefix}{e:${roleArn}}`,
    roleWaiting: (roleArn) => `${prefix}{e:${roleArn}}w`,
    queue: `${prefix}{q}`,
    pendingRoles: `${prefix}{u}`,
    roleLock: (roleArn) => `${prefix}{l:${roleArn}}`,
    leader: `${prefix}{L}`,
    sessionRecord: (id) => sessions.record(id),
  };
}

/** Throws on an id the service could not have made (it becomes part of a key). */
export function checkRevocationId(id: string): string {
  if (!REVOCATION_ID.test(id)) throw new TypeError('invalid revocation id');
  return id;
}
