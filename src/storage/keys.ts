/**
 * Every Redis key the service writes, built in one place. P is the configured prefix (e.g. "sv:"); the letter
 * after "{" names the store and kind, so no two stores can ever build the same key.
 *
 * Sessions (session-store.ts, records in session-record.ts):
 *   P{s:<id>}        string  the session record; TTL = credential expiry + grace
 *   P{d:<dev>}       zset    the developer's active sessions: id -> credential expiry (ms); counted by the
 *                            live-session cap; expired members dropped when its TTL is extended
 *   P{d:<dev>}v      zset    the developer's vends of the last minute: id -> vend time (ms); the rate limit
 *   P{C:<n>}         zset    developers with active sessions -> latest expiry + headroom, in DEVELOPER_BUCKETS
 *                            buckets (n = a hash of the developer): every listing and group revocation starts
 *                            here. Buckets keep each set small enough for Redis's compact listpack encoding
 *                            (~35 bytes a member against ~140 in one big set); no TTL, trimmed by readers
 *   P{C:r}           zset    every role with active sessions -> latest expiry + headroom (no TTL, trimmed by readers)
 *   P{T}             hash    template -> the role its sessions' records leave out (the first role it issued on)
 * Written by the previous version and only read now, until they expire: P{c:d} and P{c:r} (the developer and role
 * catalogues, superseded by P{C:...}); its P{p:...}, P{t:...} and P{r:...} registries are no longer read.
 *
 * The kill switch (kill-switch-store.ts, encodings in kill-switch-records.ts):
 *   P{k}             hash    r:<selector> -> revocation instant (ms), sessions of the selector created before it
 *                            are revoked; b:<selector> -> JSON {revocationId: untilMs} of the blocks refusing new
 *                            vends (several, so lifting one leaves the others)
 *   P{v:<revId>}     hash    one revocation: "rec" -> JSON record, "role:<roleArn>" -> JSON role state
 *   P{V}             zset    every revocation, score 0, member "<createdAt ms, 15 digits>:<revId>": newest first
 *                            is reverse lexicographic order, so a cursor is simply the last member seen
 *   P{e:<roleArn>}   hash    the role's revocation entries: canonical entry JSON -> expiry (ms), plus "#seq", a
 *                            counter raised by every revocation that adds entries
 *   P{e:<roleArn>}w  zset    revocations waiting for the role's policy: revId -> "#seq" after its entries were added
 *   P{q}             zset    role work queue: roleArn -> when to apply next (ms)
 *   P{u}             hash    roles not yet applied: roleArn -> consecutive failed applies
 *   P{l:<roleArn>}   string  the role's apply lock (random token)
 *   P{L}             string  the reconciler's leader lease (random token)
 *
 * The gateway (src/gateway/gateway-store.ts):
 *   P{g:<id>}c       list    the session's recent calls, newest first, JSON without payloads
 *   P{g:<id>}n<sec>  string  calls of the session in one wall-clock second (the per-session rate limit); TTL 2 s
 *
 * The console (src/console/console-store.ts):
 *   P{w:<state>}     string  one sign-in in flight; TTL 10 minutes, deleted when the callback uses it
 *   P{o:<sha256>}    string  one console session, keyed by the hash of its cookie (reading Redis gives no cookie)
 *
 * Approvals (src/approvals/approval-store.ts):
 *   P{a:<id>}        hash    one approval request
 *   P{A}             zset    every request: id -> created (ms)
 *   P{A:<dev>}       zset    a requester's pending requests: id -> deadline (ms)
 *
 * Redis Cluster: a key's slot is the hash of the text between its first "{" and the next "}", so everything
 * inside the braces decides where a key lives. Keys one script touches together share that text: the
 * developer's index and vend log ({d:<dev>}), a role's entries and waiting list ({e:<roleArn>}), a session's
 * gateway keys ({g:<id>}). Every other command is single-key, and commands on keys of different slots are only
 * ever sent side by side (redis-client.ts sendTogether), never in one command, so nothing spans slots. A value
 * containing "}" only shortens the tag (same slot for the keys built from it), never makes two keys collide: the
 * rest of the key still follows. The prefix must not contain braces, which would move every tag.
 */
import { createHash } from 'node:crypto';

export type Dimension = 'developer' | 'project' | 'template' | 'role';

const TAG: Record<Dimension, string> = { developer: 'd', project: 'p', template: 't', role: 'r' };

/** Session ids the store accepts: short, printable, no separator characters (see src/vend/session-id.ts). */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Revocation ids the store accepts (the service makes `r` + 12 base62 characters). */
export const REVOCATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface SessionKeys {
  record(id: string): string;
  /** Developer's active-session index (also the live-session cap's count). */
  developer(developer: string): string;
  /** Developer's vend log for the per-minute rate limit; same hash tag as developer(). */
  vends(developer: string): string;
  /** One bucket of the developers with active sessions (bucketOf). */
  developers(bucket: number): string;
  /** Every role with active sessions. */
  roles: string;
  /** template -> the role its records derive. */
  templateRoles: string;
  /** The previous version's catalogue of developers or roles, read until it expires. */
  legacyCatalogue(dimension: 'developer' | 'role'): string;
}

/** How many buckets the developers with active sessions are spread over (see P{C:<n>} above). */
export const DEVELOPER_BUCKETS = 1024;

/** The bucket of a developer: FNV-1a of its UTF-16 code units, modulo DEVELOPER_BUCKETS. */
export function bucketOf(developer: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < developer.length; i++) h = Math.imul(h ^ developer.charCodeAt(i), 0x01000193);
  return (h >>> 0) % DEVELOPER_BUCKETS;
}

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
}

export interface GatewayKeys {
  calls(sessionId: string): string;
  rate(sessionId: string, second: number): string;
}

export interface ConsoleKeys {
  signIn(state: string): string;
  session(cookieId: string): string;
}

export interface ApprovalKeys {
  request(id: string): string;
  list: string;
  pending(developer: string): string;
}

export interface Keys {
  sessions: SessionKeys;
  killSwitch: KillSwitchKeys;
  gateway: GatewayKeys;
  console: ConsoleKeys;
  approvals: ApprovalKeys;
}

/** Key builders for one prefix. Throws TypeError on a prefix with braces: they would move the hash tags. */
export function storageKeys(prefix: string): Keys {
  if (/[{}]/.test(prefix)) throw new TypeError(`key prefix "${prefix}" must not contain "{" or "}"`);
  const k = (tag: string, suffix = ''): string => `${prefix}{${tag}}${suffix}`;
  return {
    sessions: {
      record: (id) => k(`s:${checkId(id)}`),
      developer: (developer) => k(`d:${developer}`),
      vends: (developer) => k(`d:${developer}`, 'v'),
      developers: (bucket) => k(`C:${bucket}`),
      roles: k('C:r'),
      templateRoles: k('T'),
      legacyCatalogue: (dimension) => k(`c:${TAG[dimension]}`),
    },
    killSwitch: {
      killSwitch: k('k'),
      revocation: (id) => k(`v:${checkRevocationId(id)}`),
      revocationList: k('V'),
      roleEntries: (roleArn) => k(`e:${roleArn}`),
      roleWaiting: (roleArn) => k(`e:${roleArn}`, 'w'),
      queue: k('q'),
      pendingRoles: k('u'),
      roleLock: (roleArn) => k(`l:${roleArn}`),
      leader: k('L'),
    },
    gateway: {
      calls: (id) => k(`g:${checkId(id)}`, 'c'),
      rate: (id, second) => k(`g:${checkId(id)}`, `n${second}`),
    },
    console: {
      signIn: (state) => k(`w:${state}`),
      session: (cookieId) => k(`o:${createHash('sha256').update(cookieId).digest('base64url')}`),
    },
    approvals: {
      request: (id) => k(`a:${id}`),
      list: k('A'),
      pending: (developer) => k(`A:${developer}`),
    },
  };
}

/** Session keys for one prefix (see storageKeys). */
export const sessionKeys = (prefix: string): SessionKeys => storageKeys(prefix).sessions;

/** Throws on an id that could not have come from the vend path (and could break a key or a record). */
export function checkId(id: string): string {
  if (!SESSION_ID.test(id)) throw new TypeError('invalid session id');
  return id;
}

/** Throws on an id the service could not have made (it becomes part of a key). */
export function checkRevocationId(id: string): string {
  if (!REVOCATION_ID.test(id)) throw new TypeError('invalid revocation id');
  return id;
}
