/**
 * The kill switch's records and their Redis encodings (layout in keys.ts). Pure functions; the store does I/O.
 */
import { IAM_DOCUMENT_CHARS } from '../auth/identity-key';
import { instantOf, type RevocationEntry } from '../revoke/revocation-entries';

export type SelectorKind = 'session' | 'developer' | 'project' | 'template' | 'all';
/** What a revocation targets; `value` is absent only for 'all'. */
export interface Selector {
  kind: SelectorKind;
  value?: string;
}

/** Whether a role's revocation policy in AWS carries a revocation yet. */
export interface RoleState {
  roleArn: string;
  state: 'applied' | 'pending';
  /** Why the last apply failed (AWS error code and message, or "does not fit"). */
  error?: string;
  /** Operator entries were folded into a role-wide Deny to fit the role's policy size limit. */
  compacted?: boolean;
  /** Developers whose ended sessions the role's policy denies by a cut-off of their own (self-service past its share). */
  selfServiceFolded?: number;
  /** Self-service cut-offs this apply left out of the document (past its share even folded); layer 1 still refuses them. */
  selfServiceDropped?: number;
}

export interface RevocationRecord {
  revocationId: string;
  selector: Selector;
  reason: string;
  /** Who revoked (the operator's developer identity). */
  operator: string;
  createdAt: string;
  sessionsRevoked: number;
  /** When the block on new vends ends (or ended: lifting a block sets it to the lift instant). */
  blockedUntil?: string;
  roles: RoleState[];
}

/** An active block found by the vend or refresh checkpoint. */
export interface ActiveBlock {
  selector: Selector;
  until: Date;
  revocationId: string;
}

export type SessionVerdict = { verdict: 'ok' } | { verdict: 'revoked' } | { verdict: 'blocked'; until: Date };

/** A role's stored entries, with the version an apply must hand back to replaceRoleEntries. */
export interface RoleEntries {
  entries: RevocationEntry[];
  /** Raised by every revocation that adds entries to the role. */
  version: number;
  /** When the oldest entry not yet applied was added; absent when everything stored has been applied. */
  since?: Date;
}

/** The kill-switch hash field name of a group or all selector (after `r:` / `b:`). */
export function selectorField(s: Selector): string {
  if (s.kind === 'all') return 'all';
  if (s.kind === 'session' || !s.value) throw new TypeError(`selector ${s.kind} has no kill-switch field`);
  return `${s.kind}:${s.value}`;
}

/** The selector a kill-switch field (without `r:` / `b:`) names. */
export function selectorOf(field: string): Selector {
  if (field === 'all') return { kind: 'all' };
  const i = field.indexOf(':');
  return { kind: field.slice(0, i) as SelectorKind, value: field.slice(i + 1) };
}

/** Fields of the checkpoints, in HMGET order: developer, project, template, all. */
export function scopeFields(prefix: 'r:' | 'b:', scope: { developer: string; project: string; template: string }): string[] {
  return [`developer:${scope.developer}`, `project:${scope.project}`, `template:${scope.template}`, 'all'].map((f) => prefix + f);
}

/** The latest still-active block among raw b: field values (JSON {revocationId: untilMs}), or null. */
export function latestBlock(fields: string[], raws: Array<string | null>, nowMs: number): ActiveBlock | null {
  let best: ActiveBlock | null = null;
  raws.forEach((raw, i) => {
    if (!raw) return;
    for (const [revocationId, until] of Object.entries(JSON.parse(raw) as Record<string, number>)) {
      if (until > nowMs && (!best || until > best.until.getTime())) {
        best = { selector: selectorOf(fields[i]!.slice(2)), until: new Date(until), revocationId };
      }
    }
  });
  return best;
}

/**
 * The hash field of an entry: its canonical JSON (fixed key order), so the same entry is always the same field
 * and a re-recorded revocation adds nothing.
 */
export function entryField(e: RevocationEntry): string {
  if (e.kind === 'session') {
    return JSON.stringify({ kind: e.kind, sessionId: e.sessionId, issuedAt: e.issuedAt, expiresAt: e.expiresAt, ...(e.endedBy !== undefined ? { endedBy: e.endedBy } : {}) });
  }
  if (e.kind === 'all') return JSON.stringify({ kind: e.kind, before: e.before, expiresAt: e.expiresAt });
  return JSON.stringify({ kind: e.kind, value: e.value, before: e.before, expiresAt: e.expiresAt, ...(e.self ? { self: true } : {}) });
}

/**
 * Throws TypeError for an entry that could never be written into a role's policy: a time without a zone or a
 * value outside IAM's document charset. Checked before anything is stored, so such an entry is a bug that fails
 * its request, never a role left pending for hours.
 */
export function checkEntry(e: RevocationEntry): void {
  instantOf(e.expiresAt);
  instantOf(e.kind === 'session' ? e.issuedAt : e.before);
  const field = entryField(e);
  if (!IAM_DOCUMENT_CHARS.test(field)) throw new TypeError(`revocation entry cannot be written into an IAM policy: ${JSON.stringify(field).slice(0, 200)}`);
}

/** Field/value pairs for HSET: the value is the entry's expiry (ms), handy when reading Redis by hand. */
export function entryPairs(entries: RevocationEntry[]): string[] {
  return entries.flatMap((e) => [entryField(e), String(instantOf(e.expiresAt))]);
}

/** Stored record shape: the role states live in their own fields, only the role order here. */
type StoredRecord = Omit<RevocationRecord, 'roles'> & { roles: string[] };

export function encodeRecord(rec: RevocationRecord, roles: string[]): string {
  const stored: StoredRecord = { ...rec, roles };
  return JSON.stringify(stored);
}

/** A record from its hash (HGETALL reply); null when the hash is gone. */
export function decodeRevocation(hash: Record<string, string>): RevocationRecord | null {
  if (!hash['rec']) return null;
  const stored = JSON.parse(hash['rec']) as StoredRecord;
  const roles = stored.roles.map((roleArn): RoleState => {
    const raw = hash[`role:${roleArn}`];
    const s = raw ? (JSON.parse(raw) as Omit<RoleState, 'roleArn'>) : { state: 'pending' as const };
    return { roleArn, ...s };
  });
  return { ...stored, roles };
}

/** The revocation list member: creation time, zero-padded so lexicographic order is time order, then the id. */
export function listMember(createdAtMs: number, id: string): string {
  return `${String(createdAtMs).padStart(15, '0')}:${id}`;
}

export const LIST_CURSOR = /^\d{15}:[A-Za-z0-9_-]{1,48}$/;
