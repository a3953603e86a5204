/**
 * Revocation entries: what one target role's Deny policy must cover, as stored in Redis. Pure functions to merge,
 * expire and order them, and an oracle that says whether the entries deny a given session the way AWS would
 * evaluate the policy built from them (README, "Kill switch", layer 2).
 */

/** Session tag keys set on every vended session; the Deny statements condition on them. */
export type GroupKind = 'developer' | 'project' | 'template';
export const GROUP_KINDS: readonly GroupKind[] = ['developer', 'project', 'template'];

/**
 * A single revoked session, denied by its `agent-session` tag whenever it was issued. `endedBy` (the developer
 * key) marks a session its owner ended: such entries use a bounded share of the role's budget and fold only
 * into that developer's own cut-off, never into a role-wide one (revocation-policy.ts).
 */
export type SessionEntry = { kind: 'session'; sessionId: string; issuedAt: string; expiresAt: string; endedBy?: string };
/**
 * Every session whose `developer` / `project` / `template` tag equals `value` and was issued before `before`.
 * `self` marks a developer cut-off folded from that developer's own ended sessions.
 */
export type GroupEntry = { kind: GroupKind; value: string; before: string; expiresAt: string; self?: true };
/** Every session of the role issued before `before` (the AWSRevokeOlderSessions shape). */
export type AllEntry = { kind: 'all'; before: string; expiresAt: string };

/**
 * One thing a role's revocation policy denies. Times are ISO 8601 with a zone. `before` already includes the
 * clock-skew margin; `expiresAt` is when every session the entry covers has expired, so the entry can go.
 */
export type RevocationEntry = SessionEntry | GroupEntry | AllEntry;

/** The facts about a session that a revocation policy can see: its tags and `aws:TokenIssueTime`. */
export interface SessionFacts {
  id: string;
  developer: string;
  project: string;
  template: string;
  issuedAt: Date;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an entry time. A zone is required: a zoneless time would be read in the host's local zone. */
export function instantOf(iso: string): number {
  const ms = ISO_WITH_ZONE.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`revocation entry time is not ISO 8601 with a zone: ${JSON.stringify(iso)}`);
  return ms;
}

/** ISO 8601 UTC in whole seconds (`2026-11-24T10:00:05Z`), the form written into the policy. */
export function iamDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The cut-off the policy writes for an entry's `before`: rounded up to a whole second, so rounding can only widen
 * what `DateLessThan` denies, never let an earlier-issued session through.
 */
export function policyBefore(before: string): number {
  return Math.ceil(instantOf(before) / 1000) * 1000;
}

/**
 * Drops entries that expired at or before `now`, then dedupes: a session id appears once; one entry per
 * kind+value keeps the latest `before` and the latest `expiresAt`; an `all` entry absorbs group entries whose
 * `before` is not later than its own (it denies a superset of their sessions), taking over their `expiresAt` when
 * later so nothing they covered loses its Deny early. Order is deterministic (see `normalizeEntries`).
 */
export function mergeEntries(existing: RevocationEntry[], added: RevocationEntry[], now: Date): RevocationEntry[] {
  const live = [...existing, ...added].filter((e) => instantOf(e.expiresAt) > now.getTime());
  return normalizeEntries(live);
}

/**
 * Dedupes and orders entries without expiring any: `all` first, then developer, project and template entries by
 * value, then sessions by issue time and id (oldest first, the order compaction folds them in).
 */
export function normalizeEntries(entries: RevocationEntry[]): RevocationEntry[] {
  const sessions = new Map<string, SessionEntry>();
  const groups = new Map<string, GroupEntry>();
  let all: AllEntry | undefined;
  for (const e of entries) {
    // Every time is checked here, not only those compared, so a bad entry fails the same way whatever its company.
    instantOf(e.expiresAt);
    instantOf(e.kind === 'session' ? e.issuedAt : e.before);
    if (e.kind === 'session') {
      const prev = sessions.get(e.sessionId);
      // An operator's entry for the session outranks its owner's: it may then fold like any operator entry.
      const endedBy = prev && prev.endedBy === undefined ? undefined : e.endedBy;
      // Two records of one session should agree; if not, the later issue time is the one a fold must cover.
      sessions.set(e.sessionId, {
        kind: 'session',
        sessionId: e.sessionId,
        issuedAt: prev ? later(prev.issuedAt, e.issuedAt) : e.issuedAt,
        expiresAt: prev ? later(prev.expiresAt, e.expiresAt) : e.expiresAt,
        ...(endedBy !== undefined ? { endedBy } : {}),
      });
    } else if (e.kind === 'all') {
      all = { kind: 'all', before: all ? later(all.before, e.before) : e.before, expiresAt: all ? later(all.expiresAt, e.expiresAt) : e.expiresAt };
    } else {
      // A self cut-off stays apart from an operator's for the same developer: merged, its later cut-off could
      // reach a role-wide fold through the operator's entry.
      const key = `${e.kind}\u0000${e.value}\u0000${e.self ? 's' : ''}`;
      const prev = groups.get(key);
      groups.set(key, {
        kind: e.kind,
        value: e.value,
        before: prev ? later(prev.before, e.before) : e.before,
        expiresAt: prev ? later(prev.expiresAt, e.expiresAt) : e.expiresAt,
        ...(e.self ? { self: true as const } : {}),
      });
    }
  }
  if (all) {
    for (const [key, g] of groups) {
      if (instantOf(g.before) > instantOf(all.before)) continue;
      groups.delete(key);
      all = { ...all, expiresAt: later(all.expiresAt, g.expiresAt) };
    }
  }
  const groupList = [...groups.values()].sort((a, b) => rank(a) - rank(b) || compareText(a.value, b.value) || Number(Boolean(a.self)) - Number(Boolean(b.self)));
  const sessionList = [...sessions.values()].sort(
    (a, b) => instantOf(a.issuedAt) - instantOf(b.issuedAt) || compareText(a.sessionId, b.sessionId),
  );
  return [...(all ? [all] : []), ...groupList, ...sessionList];
}

/**
 * Whether the policy built from `entries` denies this session, evaluated as AWS does: the `agent-session` tag
 * for single sessions, the tag plus `aws:TokenIssueTime < before` (whole seconds, rounded up) for groups, the
 * issue time alone for `all`. `issuedAt` is the issue time as AWS's clock has it. Tests use it as an oracle.
 */
export function coversSession(entries: RevocationEntry[], session: SessionFacts): boolean {
  const issued = session.issuedAt.getTime();
  return entries.some((e) => {
    if (e.kind === 'session') return e.sessionId === session.id;
    if (e.kind === 'all') return issued < policyBefore(e.before);
    return session[e.kind] === e.value && issued < policyBefore(e.before);
  });
}

/** Whether an entry is self-service: an owner's ended session or a cut-off folded from them. */
export const isSelfService = (e: RevocationEntry): boolean => (e.kind === 'session' && e.endedBy !== undefined) || (e.kind !== 'session' && e.kind !== 'all' && e.self === true);

/** The latest of some entry times, as written (not re-formatted, so no precision is lost). */
export function latestOf(first: string, ...rest: string[]): string {
  return rest.reduce(later, first);
}

function later(a: string, b: string): string {
  return instantOf(b) > instantOf(a) ? b : a;
}

function rank(e: GroupEntry): number {
  return GROUP_KINDS.indexOf(e.kind);
}

/** Code-unit order, independent of the host's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
