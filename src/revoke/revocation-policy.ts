/**
 * The Deny document written as one inline policy on a target role (layer 2 of the kill switch). Built from
 * revocation entries; when it would not fit the role's share of IAM's 10,240-character inline budget, the oldest
 * entries are folded into one `aws:TokenIssueTime` cut-off that denies at least every session they denied
 * (over-revoke, never under-revoke).
 */
import type { ConditionBlock, PolicyDocument, Statement } from '../policy/document';
import { minifyPolicy, nonWhitespaceLength } from '../policy/document';
import {
  GROUP_KINDS,
  iamDate,
  instantOf,
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
  /** Entries folded into the `all` cut-off to make the document fit; empty when nothing was folded. */
  compacted: RevocationEntry[];
}

/**
 * Builds the revocation policy for one role. Entries are deduped first (`normalizeEntries`); expired ones should
 * already be gone (`mergeEntries`). If the result is over budget, compacts as `compact` describes.
 */
export function buildRevocationPolicy(input: RevocationEntry[], opts: RevocationPolicyOptions): RevocationPolicy {
  const entries = normalizeEntries(input);
  const built = render(entries);
  if (built.size <= opts.budgetChars || entries.length === 0) return { ...built, entries, compacted: [] };
  return compact(entries, opts);
}

/**
 * Finds the earliest whole-second cut-off `c` whose document fits, where folding at `c` replaces every entry the
 * Deny `aws:TokenIssueTime < c` covers by one `all` entry. A session counts as covered only when `c` is later than
 * its issue time plus the margin (AWS's clock may be ahead of ours); a group when `c` is not earlier than its own
 * cut-off. Candidates are exactly those instants: sessions fold oldest first, a group as soon as `c` reaches its
 * own cut-off, and, since the `all` Deny hits every session issued before `c`, the smallest fitting `c`
 * over-revokes the least. A later `c` folds a superset, so the size only shrinks as `c` grows: binary search.
 */
function compact(entries: RevocationEntry[], opts: RevocationPolicyOptions): RevocationPolicy {
  const existing = entries.find((e): e is AllEntry => e.kind === 'all');
  const floor = existing ? policyBefore(existing.before) : Number.NEGATIVE_INFINITY;
  const cutoffOf = (e: RevocationEntry): number =>
    e.kind === 'session' ? nextSecondAfter(instantOf(e.issuedAt) + opts.marginMs) : policyBefore(e.before);
  const candidates = [...new Set(entries.map(cutoffOf).filter((c) => c >= floor))].sort((a, b) => a - b);

  let best: RevocationPolicy | undefined;
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
  return best ?? foldAt(entries, candidates[candidates.length - 1] as number, cutoffOf);
}

function foldAt(entries: RevocationEntry[], cutoff: number, cutoffOf: (e: RevocationEntry) => number): RevocationPolicy {
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
function render(entries: RevocationEntry[]): Omit<RevocationPolicy, 'entries' | 'compacted'> {
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

/** IAM substitutes `${...}` in condition values of 2012-10-17 policies; `${$}` is a literal `$`. */
function literal(value: string): string {
  return value.replace(/\$/g, () => '${$}');
}

function oneOrMany(values: string[]): string | string[] {
  return values.length === 1 ? (values[0] as string) : values;
}
