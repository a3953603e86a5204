/**
 * Layer 2 of the kill switch for one role: rebuild the role's `sts-vend-revocations` inline policy from the
 * entries stored in Redis and write it to IAM. Redis holds the truth, so an apply is idempotent and a failed one
 * is simply repeated (by the reconciler, with backoff).
 */
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { IAM_DOCUMENT_CHARS } from '../auth/identity-key';
import { nonWhitespaceLength } from '../policy/document';
import type { ClockPort, ConfigPort, IamPort, KillSwitchPort, ObservabilityPort } from '../ports';
import type { KillSwitchStore, RoleState } from '../storage/kill-switch-store';
import { instantOf, mergeEntries, type RevocationEntry } from './revocation-entries';
import { buildRevocationPolicy, type RevocationPolicy } from './revocation-policy';

/** Optional metric hooks (the service passes prom-client objects' methods). */
export interface RevocationMetrics {
  /** Entries reached AWS: seconds since the oldest of them was recorded. */
  onApplied?(roleArn: string, seconds: number): void;
  /** Roles whose policy is not yet written, after each reconciler pass. */
  onPending?(count: number): void;
}

export interface ApplyRolePolicyDeps {
  /** Built with `maxAttempts: 1`: a failed call leaves the role pending and the reconciler retries it. */
  iam: IAMClient;
  store: KillSwitchStore;
  now: () => Date;
  /** Clock-skew allowance, used when compaction turns session issue times into a cut-off. */
  marginMs: number;
  policyName?: string;
  metrics?: RevocationMetrics;
}

/** The IAM step of a revocation for one role, as revokeSessions and the reconciler take it. */
export interface ApplyRolePort {
  /**
   * Rebuild and write the role's revocation policy (never throws for AWS errors). `revocationId`: the revocation
   * waiting for it, which counts as applied as soon as any apply covering its entries has been (see below).
   */
  applyRole(roleArn: string, revocationId?: string): Promise<RoleState>;
}

/** What the IAM step uses: IAM, the role entries in the kill-switch store, the skew margin and the policy name. */
export type RolePolicyPorts = IamPort & KillSwitchPort & ClockPort & ObservabilityPort & ConfigPort<'killSwitch'>;

/**
 * The IAM step bound to the service's capabilities: the composition root calls this once and hands the result
 * down as `applyRole`, so what a revocation writes to IAM is decided here, not where the parts are built.
 */
export function roleApplier(deps: RolePolicyPorts): ApplyRolePort['applyRole'] {
  const bound: ApplyRolePolicyDeps = {
    iam: deps.iam,
    store: deps.killSwitch,
    now: deps.now,
    marginMs: deps.config.killSwitch.marginSeconds * 1000,
    policyName: deps.config.killSwitch.policyName,
    metrics: {
      onApplied: (_role, seconds) => deps.metrics.revocationApplySeconds.observe(seconds),
      onPending: (count) => deps.metrics.pendingRoles.set(count),
    },
  };
  return (roleArn, revocationId) => applyRolePolicy(bound, roleArn, revocationId);
}

export const REVOCATION_POLICY_NAME = 'sts-vend-revocations';
// docs/aws.md: a role's inline policies share 10,240 non-white-space characters.
const ROLE_INLINE_BUDGET = 10240;
const LOCK_TTL_MS = 30_000;
// How long a caller waits for another replica's apply of the same role before answering "pending".
const LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 50;
// While another apply holds the lock, how often a waiting revocation reads whether that apply covered it.
const COVERED_POLL_MS = 250;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

/**
 * Under the role's Redis lock: reads the role's entries, drops expired ones, sizes the budget left by the
 * role's other inline policies, builds the Deny document (compacting if needed) and writes it (PutRolePolicy,
 * or DeleteRolePolicy when no entry remains; nothing when IAM already has it). Then stores the pruned or folded
 * entries and schedules the next prune. Never throws for AWS: a failure or a policy that cannot fit answers
 * `pending` with the error and schedules a retry with exponential backoff (1 s doubling, at most 60 s).
 * StoreUnavailableError propagates.
 *
 * While another apply (a replica's, the reconciler's) holds the role, `revocationId`'s own record says when an
 * apply that read its entries has written them (setRoleState marks the revocations it covered): that is its
 * answer, so a busy role does not keep a covered revocation waiting for a lock it no longer needs.
 */
export async function applyRolePolicy(deps: ApplyRolePolicyDeps, roleArn: string, revocationId?: string): Promise<RoleState> {
  for (let waited = 0; ; waited += LOCK_POLL_MS) {
    const state = await deps.store.withLock(roleArn, LOCK_TTL_MS, () => applyLocked(deps, roleArn));
    if (state) return state;
    // Another apply holds the role; it re-queues the role if it missed our entries.
    if (revocationId !== undefined && waited % COVERED_POLL_MS === 0) {
      const covered = (await deps.store.getRevocation(revocationId))?.roles.find((r) => r.roleArn === roleArn);
      if (covered?.state === 'applied') return covered;
    }
    if (waited >= LOCK_WAIT_MS) return { roleArn, state: 'pending', error: 'another apply of this role is in progress' };
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

async function applyLocked(deps: ApplyRolePolicyDeps, roleArn: string): Promise<RoleState> {
  const { store } = deps;
  const read = await store.roleEntries(roleArn);
  const now = deps.now();
  const written = await writePolicy(deps, roleArn, mergeEntries(read.entries, [], now));
  if ('error' in written) {
    const failures = await store.setRoleState(roleArn, { roleArn, state: 'pending', error: written.error });
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
    await store.schedule(roleArn, new Date(now.getTime() + delay));
    return { roleArn, state: 'pending', error: written.error };
  }
  const { entries, compacted, selfDropped } = written.policy;
  // A state, not an event: how many developers' ended sessions the written policy denies by their own cut-off.
  const selfCutoffs = entries.filter((e) => e.kind === 'developer' && e.self).length;
  // Schedule before storing the entries: a revocation recorded meanwhile queues the role for now, and if it
  // lands after our read, replaceRoleEntries reports it and the role is queued for now again below.
  const nextExpiry = earliestExpiry(entries);
  if (nextExpiry) await store.schedule(roleArn, nextExpiry);
  else await store.unschedule(roleArn);
  if (await store.replaceRoleEntries(roleArn, { read: read.entries, entries, version: read.version })) await store.schedule(roleArn, now);
  const state: RoleState = {
    roleArn,
    state: 'applied',
    ...(compacted.length > 0 ? { compacted: true } : {}),
    ...(selfCutoffs > 0 ? { selfServiceFolded: selfCutoffs } : {}),
    ...(selfDropped.length > 0 ? { selfServiceDropped: selfDropped.length } : {}),
  };
  await store.setRoleState(roleArn, state, read.version);
  if (read.since) deps.metrics?.onApplied?.(roleArn, Math.max(0, deps.now().getTime() - read.since.getTime()) / 1000);
  return state;
}

/** IAM's part: budget, build, write. A failed IAM call, or a policy that cannot fit, comes back as `error`. */
async function writePolicy(deps: ApplyRolePolicyDeps, roleArn: string, live: RevocationEntry[]): Promise<{ policy: RevocationPolicy } | { error: string }> {
  const RoleName = roleNameOf(roleArn);
  const PolicyName = deps.policyName ?? REVOCATION_POLICY_NAME;
  const client = deps.iam;
  try {
    const inline = await inlinePolicies(client, RoleName, PolicyName);
    const budget = ROLE_INLINE_BUDGET - inline.othersSize;
    const policy = buildRevocationPolicy(live, { budgetChars: budget, marginMs: deps.marginMs });
    // Entries are checked when recorded, so this is a bug: say so where operators look, never a quiet retry.
    if (policy.json !== null && !IAM_DOCUMENT_CHARS.test(policy.json)) {
      return { error: 'MalformedPolicyDocument: the revocation policy holds characters IAM refuses (a bug in sts-vend: report it)' };
    }
    if (policy.json !== null && policy.size > budget) {
      return {
        error: `LimitExceeded: the revocation policy needs ${policy.size} characters even compacted, but the role's other inline policies leave ${Math.max(0, budget)} of ${ROLE_INLINE_BUDGET}`,
      };
    }
    const PolicyDocument = policy.json;
    if (PolicyDocument === null) {
      if (inline.present) await iam(() => client.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
    } else if (inline.ours !== PolicyDocument) {
      await iam(() => client.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument })));
    }
    return { policy };
  } catch (err) {
    if (err instanceof IamFailure) return { error: err.text };
    throw err;
  }
}

/** Runs one IAM call; whatever it throws becomes an IamFailure, told apart from the service's own errors. */
function iam<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((err: unknown) => Promise.reject(new IamFailure(err)));
}

/**
 * The role's inline policies: the non-white-space size of those other than ours (they share the budget), and
 * ours as IAM has it, minified like the builder's output (null when absent or unreadable: it is rewritten).
 */
async function inlinePolicies(client: IAMClient, RoleName: string, ours: string): Promise<{ othersSize: number; present: boolean; ours: string | null }> {
  const names: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam(() => client.send(new ListRolePoliciesCommand({ RoleName, Marker })));
    names.push(...(page.PolicyNames ?? []));
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  let othersSize = 0;
  let current: string | null = null;
  for (const PolicyName of names) {
    const got = await iam(() => client.send(new GetRolePolicyCommand({ RoleName, PolicyName })));
    // IAM returns policy documents URL-encoded.
    const text = safely(() => decodeURIComponent(got.PolicyDocument ?? ''));
    if (PolicyName === ours) current = text === null ? null : safely(() => JSON.stringify(JSON.parse(text)));
    else othersSize += nonWhitespaceLength(text ?? got.PolicyDocument ?? '');
  }
  return { othersSize, present: names.includes(ours), ours: current };
}

/** An IAM call that failed (any reason: AWS error, network, timeout), as "<AWS code>: <message>". */
class IamFailure extends Error {
  readonly text: string;
  constructor(cause: unknown) {
    const e = cause as { name?: string; message?: string };
    // Short: it is stored on every waiting revocation and shown to operators.
    const text = `${(e.name ?? 'Error').replace(/Exception$/, '')}: ${e.message ?? String(cause)}`.slice(0, 300);
    super(text, { cause });
    this.text = text;
  }
}

function safely<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/** `arn:aws:iam::<account>:role/<path/>name` -> name. */
export function roleNameOf(roleArn: string): string {
  const m = /^arn:[^:]+:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!m?.[1]) throw new TypeError(`not a role ARN: ${roleArn}`);
  return m[1];
}

function earliestExpiry(entries: RevocationEntry[]): Date | undefined {
  if (entries.length === 0) return undefined;
  return new Date(Math.min(...entries.map((e) => instantOf(e.expiresAt))));
}
