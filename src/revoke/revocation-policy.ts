/**
 * The Deny document written as one inline policy on a target role (layer 2 of the kill switch). Built from
 * revocation entries; when it would not fit the role's share of IAM's 10,240-character inline budget, the oldest
 * operator entries are folded into one `aws:TokenIssueTime` cut-off that denies at least every session they denied
 * (over-revoke, never under-revoke).
 *
 * Self-service entries (sessions their owners ended) never reach that role-wide fold, so no developer can make
 * AWS deny anyone else: they may use at most a quarter of the budget; past it, a developer's own ended sessions
 * fold into that developer's cut-off (the busiest developer first), and if the cut-offs of many developers still
 * do not fit, the ones expiring first are left out of the document (those sessions stay ended in the service, and
 * their credentials expire on their own). An operator's entry is never left out.
 */
import type { ConditionBlock, PolicyDocument, Statement } from '../policy/document';
import { minifyPolicy, nonWhitespaceLength } from '../policy/document';
import {
  GROUP_KINDS,
  iamDate,
  instantOf,
  isSelfService,
  latestOf,
  normalizeEntries,
  policyBefore,
  type AllEntry,
  type GroupEntry,
  type RevocationEntry,
  type SessionEntry,
} from './revocation-entries';

export { coversSession, mergeEntries, normalizeEntries, type RevocationEntry, type SessionFacts } from './revocation-entries';

/** The session tag holding the session id on every vended session. */
export const SESSION_TAG = 'agent-session';

export interface RevocationPolicyOptions {
  /** Non-white-space characters this policy may use: 10,240 minus the role's other inline policies. */
  budgetChars: number;
  /** Clock-skew allowance between this service and AWS, added when a session's issue time becomes a cut-off. */
  marginMs: number;
}

export interface RevocationPolicy {
  /** null when no entry remains: the caller deletes the inline policy instead. */
  document: PolicyDocument | null;
  /** The minified document, as sent to PutRolePolicy. */
  json: string | null;
  /** Non-white-space length of `json` (0 when null). Above `budgetChars` only if even a lone cut-off does not fit. */
  size: number;
  /** The entries the document was built from (after any folding): what the caller stores back. */
  entries: RevocationEntry[];
  /** Operator entries folded into the `all` cut-off to make the document fit; empty when nothing was folded. */
  compacted: RevocationEntry[];
  /** Owner-ended sessions folded into their developer's own cut-off (self-service over its share). */
  selfFolded: RevocationEntry[];
  /** Self-service cut-offs left out of the document: self-service over its share even after folding. */
  selfDropped: RevocationEntry[];
}

type Compacted = Omit<RevocationPolicy, 'selfFolded' | 'selfDropped'>;
type Rendered = Omit<Compacted, 'entries' | 'compacted'>;

/** The share of the budget self-service entries may use. */
export const SELF_SERVICE_SHARE = 0.25;

/**
 * Builds the revocation policy for one role. Entries are deduped first (`normalizeEntries`); expired ones should
 * already be gone (`mergeEntries`). If the result is over budget, compacts as `compact` describes.
 */
export function buildRevocationPolicy(input: RevocationEntry[], opts: RevocationPolicyOptions): RevocationPolicy {
  const bounded = boundSelfService(normalizeEntries(input), opts);
  const entries = bounded.entries;
  const self = { selfFolded: bounded.folded, selfDropped: bounded.dropped };
  const built = render(entries);
  if (built.size <= opts.budgetChars || entries.length === 0) return { ...built, entries, compacted: [], ...self };
  return { ...compact(entries, opts), ...self };
}

/**
 * Keeps self-service entries within SELF_SERVICE_SHARE of the budget: folds the ended sessions of the developer
 * with the most of them into one cut-off of that developer (issued before the newest of them, plus the margin),
 * then the next, and only when every developer is folded and it still does not fit, leaves out the cut-offs that
 * expire first.
 */
function boundSelfService(entries: RevocationEntry[], opts: RevocationPolicyOptions): { entries: RevocationEntry[]; folded: RevocationEntry[]; dropped: RevocationEntry[] } {
  const limit = Math.floor(opts.budgetChars * SELF_SERVICE_SHARE);
  const operator = entries.filter((e) => !isSelfService(e));
  let self = entries.filter(isSelfService);
  const folded: RevocationEntry[] = [];
  const dropped: RevocationEntry[] = [];
  const fits = (): boolean => render(self).size <= limit;
  while (!fits()) {
    const byOwner = new Map<string, SessionEntry[]>();
    for (const e of self) if (e.kind === 'session') byOwner.set(e.endedBy!, [...(byOwner.get(e.endedBy!) ?? []), e]);
    const busiest = [...byOwner.entries()].sort((a, b) => b[1].length - a[1].length || compareText(a[0], b[0]))[0];
    if (busiest) {
      const [developer, sessions] = busiest;
      const cutoff = Math.max(...sessions.map((e) => nextSecondAfter(instantOf(e.issuedAt) + opts.marginMs)));
      const cut: GroupEntry = { kind: 'developer', value: developer, before: iamDate(cutoff), expiresAt: latestOf(...(sessions.map((e) => e.expiresAt) as [string, ...string[]])), self: true };
      folded.push(...sessions);
      self = normalizeEntries([...self.filter((e) => !sessions.includes(e as SessionEntry)), cut]);
      continue;
    }
    // Only cut-offs are left: give up the one that would have expired first.
    const first = [...self].sort((a, b) => instantOf(a.expiresAt) - instantOf(b.expiresAt))[0]!;
    dropped.push(first);
    self = self.filter((e) => e !== first);
  }
  return { entries: normalizeEntries([...operator, ...self]), folded, dropped };
}

/**
 * Finds the earliest whole-second cut-off `c` whose document fits, where folding at `c` replaces every entry the
 * Deny `aws:TokenIssueTime < c` covers by one `all` entry. A session counts as covered only when `c` is later than
 * its issue time plus the margin (AWS's clock may be ahead of ours); a group when `c` is not earlier than its own
 * cut-off. Candidates are exactly those instants: sessions fold oldest first, a group as soon as `c` reaches its
 * own cut-off, and, since the `all` Deny hits every session issued before `c`, the smallest fitting `c`
 * over-revokes the least. A later `c` folds a superset, so the size only shrinks as `c` grows: binary search.
 */
function compact(entries: RevocationEntry[], opts: RevocationPolicyOptions): Compacted {
  const existing = entries.find((e): e is AllEntry => e.kind === 'all');
  const floor = existing ? policyBefore(existing.before) : Number.NEGATIVE_INFINITY;
  // Self-service entries never fold into the role-wide cut-off: they get +Infinity, which no candidate reaches.
  const cutoffOf = (e: RevocationEntry): number =>
    isSelfService(e) ? Number.POSITIVE_INFINITY : e.kind === 'session' ? nextSecondAfter(instantOf(e.issuedAt) + opts.marginMs) : policyBefore(e.before);
  const candidates = [...new Set(entries.map(cutoffOf).filter((c) => c >= floor && Number.isFinite(c)))].sort((a, b) => a - b);

  let best: Compacted | undefined;
  let lo = 0;
  let hi = candidates.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const attempt = foldAt(entries, candidates[mid] as number, cutoffOf);
    if (attempt.size <= opts.budgetChars) {
      best = attempt;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  // Nothing fits: return the narrowest document there is (everything folded) and let the caller see `size`.
  if (best) return best;
  const last = candidates[candidates.length - 1];
  return last === undefined ? { ...render(entries), entries, compacted: [] } : foldAt(entries, last, cutoffOf);
}

function foldAt(entries: RevocationEntry[], cutoff: number, cutoffOf: (e: RevocationEntry) => number): Compacted {
  const folded = entries.filter((e) => e.kind !== 'all' && cutoffOf(e) <= cutoff);
  const existing = entries.find((e): e is AllEntry => e.kind === 'all');
  const covered = existing ? [existing, ...folded] : folded;
  // Candidates never fall below an existing cut-off, so `cutoff` already covers what `existing` did.
  const all: AllEntry = {
    kind: 'all',
    before: iamDate(cutoff),
    expiresAt: latestOf(...(covered.map((e) => e.expiresAt) as [string, ...string[]])),
  };
  const kept = normalizeEntries([all, ...entries.filter((e) => e.kind !== 'all' && !folded.includes(e))]);
  return { ...render(kept), entries: kept, compacted: folded };
}

/** The document for normalized entries, with its minified JSON and size. */
function render(entries: RevocationEntry[]): Rendered {
  const statements = revocationStatements(entries);
  if (statements.length === 0) return { document: null, json: null, size: 0 };
  const document: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  const json = minifyPolicy(document);
  return { document, json, size: nonWhitespaceLength(json) };
}

/**
 * One statement per `all` entry, per group kind and cut-off (values sharing a cut-off share a statement), and
 * one for every revoked session id. IAM sets no limit on the values of one condition key beyond the policy size,
 * so session ids are never split across statements.
 */
export function revocationStatements(entries: RevocationEntry[]): Statement[] {
  const out: Statement[] = [];
  for (const e of entries) {
    if (e.kind === 'all') out.push(deny('RevokeAll', { DateLessThan: { 'aws:TokenIssueTime': iamDate(policyBefore(e.before)) } }));
  }
  for (const kind of GROUP_KINDS) {
    const byCutoff = new Map<number, string[]>();
    for (const e of entries.filter((x): x is GroupEntry => x.kind === kind)) {
      const cutoff = policyBefore(e.before);
      byCutoff.set(cutoff, [...(byCutoff.get(cutoff) ?? []), e.value]);
    }
    [...byCutoff.entries()]
      .sort(([a], [b]) => a - b)
      .forEach(([cutoff, values], i) => {
        const sid = `Revoke${kind[0]?.toUpperCase()}${kind.slice(1)}${i + 1}`;
        out.push(deny(sid, { StringEquals: { [`aws:PrincipalTag/${kind}`]: oneOrMany(values.map(literal)) }, DateLessThan: { 'aws:TokenIssueTime': iamDate(cutoff) } }));
      });
  }
  const ids = entries.filter((e): e is SessionEntry => e.kind === 'session').map((e) => literal(e.sessionId));
  if (ids.length > 0) out.push(deny('RevokeSessions', { StringEquals: { [`aws:PrincipalTag/${SESSION_TAG}`]: oneOrMany(ids) } }));
  return out;
}

function deny(Sid: string, Condition: ConditionBlock): Statement {
  return { Sid, Effect: 'Deny', Action: '*', Resource: '*', Condition };
}

/** Whole second strictly after `ms`, so `DateLessThan` still denies a session issued exactly at `ms`. */
function nextSecondAfter(ms: number): number {
  return Math.floor(ms / 1000) * 1000 + 1000;
}

/** Code-unit order, independent of the host's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** IAM substitutes `${...}` in condition values of 2012-10-17 policies; `${$}` is a literal `$`. */
function literal(value: string): string {
  return value.replace(/\$/g, () => '${$}');
}

function oneOrMany(values: string[]): string | string[] {
  return values.length === 1 ? (values[0] as string) : values;
}
