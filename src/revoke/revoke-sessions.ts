import type { Identity } from '../auth/identity';
import { resolveDeveloper, resolveProject, type DeveloperName } from '../auth/resolve-identity';
import type { ClockPort, ConfigPort, KillSwitchPort, ObservabilityPort, SessionsPort, TemplatesPort } from '../ports';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { SessionRecord } from '../storage/session-store';
import { storeCall } from '../storage/store-call';
import { newSessionId } from '../vend/session-id';
import type { ApplyRolePort } from './apply-role-policy';
import type { RevocationRecord, RoleState, Selector } from '../storage/kill-switch-store';
import { policyBefore, type RevocationEntry } from './revocation-entries';
import { longestSessionSeconds } from './session-coverage';

/**
 * What a revocation uses: the session indexes, the kill-switch store, the templates (for the roles a scope can
 * reach), a clock, and the IAM step for one role (`roleApplier` in apply-role-policy.ts, which the composition
 * root instantiates once).
 */
export type RevokePorts = SessionsPort & KillSwitchPort & TemplatesPort & ClockPort & ObservabilityPort & ApplyRolePort & ConfigPort<'issuers' | 'killSwitch' | 'sessions'>;

export interface RevokeRequest {
  sessionId?: string;
  /** The developer key, or a configured issuer and the raw claim (src/auth/resolve-identity.ts). */
  developer?: DeveloperName;
  project?: string;
  template?: string;
  all?: true;
  reason: string;
  block?: { durationSeconds: number };
}

export const PROPAGATION_NOTE =
  'The service refuses the revoked scope now. The Deny written to each role takes seconds to a few minutes to ' +
  'propagate through IAM; a role still pending is retried until applied. A session already chained into another ' +
  'role is not reached by a Deny on this one.';

const SELECTORS = ['sessionId', 'developer', 'project', 'template', 'all'] as const;

/**
 * The kill switch (README, "Kill switch"): durable in Redis first (layer 1 refuses the scope at once), then a Deny on every
 * role that can hold an affected session (layer 2). `state: 'ended'` is the owner ending their own session.
 */
export async function revokeSessions(
  deps: RevokePorts,
  actor: Identity,
  req: RevokeRequest,
  requestId: string,
  opts: { state?: 'revoked' | 'ended' } = {},
): Promise<{ revocation: RevocationRecord; applied: boolean }> {
  const event = opts.state === 'ended' ? 'session.end' : 'revoke';
  const progress: Progress = {};
  try {
    return await revoke(deps, actor, req, requestId, opts, progress);
  } catch (err) {
    const apiError = err instanceof ApiError ? err : undefined;
    // Every attempt leaves an audit line, refused or failed, with as much as was decided.
    audit(deps.logger, {
      event,
      outcome: apiError && apiError.status < 500 ? 'refused' : 'error',
      code: apiError?.code ?? 'internal_error',
      requestId,
      issuer: actor.issuer,
      subject: actor.subject,
      developer: actor.developer,
      reason: req.reason,
      ...(progress.selector ? { selector: progress.selector } : {}),
      ...(progress.revocationId ? { revocationId: progress.revocationId, stage: progress.stage } : {}),
    });
    // Once its recording began, a revocation may be in force (layer 1 refuses the scope, the reconciler writes
    // the Deny): a Redis failure from then on must not read as "nothing changed". Repeating it is safe.
    if (progress.revocationId && apiError?.code === 'store_unavailable') {
      const what = progress.stage === 'recorded' ? 'is recorded and in force, but not every session was marked yet' : 'may be partly recorded';
      throw new ApiError(503, 'revocation_incomplete', `the session store failed: revocation ${progress.revocationId} ${what}; send the same request again to finish it`, {
        cause: err,
        retryAfter: 2,
        expose: true,
        details: { revocationId: progress.revocationId },
      });
    }
    throw err;
  }
}

/** What a revocation had settled when it failed, for its audit line and its answer. */
interface Progress {
  selector?: Selector;
  revocationId?: string;
  stage?: 'recording' | 'recorded';
}

async function revoke(
  deps: RevokePorts,
  actor: Identity,
  req: RevokeRequest,
  requestId: string,
  opts: { state?: 'revoked' | 'ended' },
  progress: Progress,
): Promise<{ revocation: RevocationRecord; applied: boolean }> {
  const selector = selectorOf(deps, req);
  progress.selector = selector;
  const now = deps.now();
  const { marginSeconds } = deps.config.killSwitch;
  // docs/aws.md: a session issued before the revocation must be denied even if AWS's clock is behind ours. The
  // policy writes whole seconds rounded up, so the instant is that second everywhere: the layer-1 cut-off and the
  // settle block must end where the Deny does, or a vend in between gets credentials AWS already denies.
  const before = new Date(policyBefore(new Date(now.getTime() + marginSeconds * 1000).toISOString()));
  const found = await storeCall(deps, 'revoke.find', () => affectedSessions(deps, selector));
  const affected = found.ids;
  const roles = [...new Set([...found.roles, ...rolesFor(deps, selector)])].sort();
  const entriesByRole = new Map<string, RevocationEntry[]>();
  for (const roleArn of roles) {
    entriesByRole.set(roleArn, entriesFor(deps, selector, found.session?.roleArn === roleArn ? [found.session] : [], before, opts.state));
  }
  // Group revocations also refuse new vends until `before`: credentials issued in that window would be denied
  // by the new Deny anyway, so they are not issued at all.
  const settleUntil = selector.kind === 'session' ? undefined : before;
  const blockUntil = maxDate(settleUntil, req.block ? new Date(now.getTime() + req.block.durationSeconds * 1000) : undefined);
  const revocation: RevocationRecord = {
    revocationId: `r${newSessionId()}`,
    selector,
    reason: req.reason,
    operator: actor.developer,
    createdAt: now.toISOString(),
    sessionsRevoked: affected.length,
    ...(req.block && blockUntil ? { blockedUntil: blockUntil.toISOString() } : {}),
    roles: roles.map((roleArn): RoleState => ({ roleArn, state: 'pending' })),
  };

  progress.revocationId = revocation.revocationId;
  progress.stage = 'recording';
  await storeCall(deps, 'revoke.record', () =>
    deps.killSwitch.recordRevocation(revocation, {
      ...(selector.kind === 'session' ? {} : { revokedBefore: before }),
      ...(blockUntil ? { blockUntil } : {}),
      entriesByRole,
    }),
  );
  progress.stage = 'recorded';
  // A vend checks blocks after recording its pending session, so one racing this revocation either sees the
  // settle block written above or was recorded before it: a second look finds the latter, whose markLive then
  // refuses to hand out credentials, or whose credentials, if already out, get a Deny entry of their own below.
  const seen = new Set(affected);
  const again = selector.kind === 'session' ? [] : (await storeCall(deps, 'revoke.find', () => affectedSessions(deps, selector))).ids;
  const lateIds = again.filter((id) => !seen.has(id));
  const lateRecords = lateIds.length === 0 ? [] : await storeCall(deps, 'revoke.find', () => deps.sessions.getMany(lateIds));
  // Only sessions begun before the cut-off are this revocation's; each late one also gets its own Deny entry,
  // since a slow revocation may let its credentials be issued after the cut-off the group Deny uses.
  const late = lateRecords.filter((s): s is SessionRecord => s !== null && isActive(s) && Date.parse(s.createdAt) < before.getTime());
  if (late.length > 0) {
    const lateEntries = new Map<string, RevocationEntry[]>();
    for (const s of late) lateEntries.set(s.roleArn, [...(lateEntries.get(s.roleArn) ?? []), ...entriesFor(deps, { kind: 'session', value: s.id }, [s], before, opts.state)]);
    for (const roleArn of lateEntries.keys()) if (!roles.includes(roleArn)) roles.push(roleArn);
    await storeCall(deps, 'revoke.record', () => deps.killSwitch.recordRevocation(revocation, { entriesByRole: lateEntries }));
  }
  revocation.sessionsRevoked = affected.length + late.length;
  const ids = [...affected, ...late.map((s) => s.id)];
  await storeCall(deps, 'revoke.mark', () =>
    deps.sessions.markRevoked(ids, { revokedAt: now, revocationId: revocation.revocationId, state: opts.state ?? 'revoked' }),
  );

  const results = await Promise.all(roles.map((roleArn) => storeCall(deps, 'revoke.apply', () => deps.applyRole(roleArn, revocation.revocationId))));
  revocation.roles = results;
  const applied = results.every((r) => r.state === 'applied');
  deps.metrics.revocations.inc({ selector: selector.kind, outcome: applied ? 'applied' : 'pending' });
  audit(deps.logger, {
    event: opts.state === 'ended' ? 'session.end' : 'revoke',
    outcome: applied ? 'applied' : 'pending',
    requestId,
    issuer: actor.issuer,
    subject: actor.subject,
    developer: actor.developer,
    revocationId: revocation.revocationId,
    selector,
    reason: req.reason,
    sessionsRevoked: revocation.sessionsRevoked,
    roles: results,
    ...(revocation.blockedUntil ? { blockedUntil: revocation.blockedUntil } : {}),
  });
  return { revocation, applied };
}

function selectorOf(deps: RevokePorts, req: RevokeRequest): Selector {
  const given = SELECTORS.filter((k) => req[k] !== undefined);
  if (given.length !== 1) {
    throw new ApiError(400, 'invalid_request', `body: exactly one selector of ${SELECTORS.join(', ')} is required (got ${given.length})`);
  }
  if (req.sessionId !== undefined) {
    // A block refuses new vends for a scope; a single session has no future vends to refuse.
    if (req.block) throw new ApiError(400, 'invalid_request', 'body.block: applies to developer, project, template or all, not to one session');
    return { kind: 'session', value: req.sessionId };
  }
  if (req.all) return { kind: 'all' };
  // Operators name people and projects as CloudTrail shows them, or by the raw claim: both resolve to the key.
  if (req.developer !== undefined) return { kind: 'developer', value: resolveDeveloper(deps.config.issuers, req.developer, 'body.developer') };
  if (req.project !== undefined) return { kind: 'project', value: resolveProject(req.project) };
  return { kind: 'template', value: req.template! };
}

const isActive = (s: SessionRecord): boolean => s.state === 'pending' || s.state === 'live';

/**
 * Active sessions the selector covers, from the session indexes: ids only for group selectors (no record is
 * read, which keeps a revocation of 10,000 sessions cheap), plus the roles that hold active sessions when the
 * selector could reach any of them.
 */
async function affectedSessions(deps: RevokePorts, selector: Selector): Promise<{ ids: string[]; roles: string[]; session?: SessionRecord }> {
  if (selector.kind === 'session') {
    const rec = await deps.sessions.get(selector.value!);
    if (!rec) throw new ApiError(404, 'session_not_found', 'no such session');
    return isActive(rec) ? { ids: [rec.id], roles: [rec.roleArn], session: rec } : { ids: [], roles: [] };
  }
  if (selector.kind === 'developer' || selector.kind === 'all') {
    // Every role with active sessions, including roles of templates no longer loaded.
    const roles = await deps.sessions.activeValues('role');
    if (selector.kind === 'developer') return { ids: await deps.sessions.idsBy('developer', selector.value!), roles };
    const developers = await deps.sessions.activeValues('developer');
    return { ids: (await Promise.all(developers.map((d) => deps.sessions.idsBy('developer', d)))).flat(), roles };
  }
  return { ids: await deps.sessions.idsBy(selector.kind, selector.value!), roles: [] };
}

/**
 * Every role a template could have issued a session on for this scope, so a session still being vended when
 * the revocation lands is covered too.
 */
function rolesFor(deps: RevokePorts, selector: Selector): string[] {
  const roles = new Set<string>();
  if (selector.kind === 'session') return [];
  for (const t of deps.templates.values()) {
    const projects = t.allow.projects;
    const inScope =
      selector.kind === 'all' ||
      selector.kind === 'developer' ||
      (selector.kind === 'template' && t.name === selector.value) ||
      (selector.kind === 'project' && (!projects || projects.includes(selector.value!)));
    if (inScope) roles.add(t.roleArn);
  }
  return [...roles].sort();
}

function entriesFor(deps: RevokePorts, selector: Selector, sessions: SessionRecord[], before: Date, state?: 'revoked' | 'ended'): RevocationEntry[] {
  // Every session the entry covers has expired once the longest possible session issued before `before` has.
  const coverSeconds = longestSessionSeconds(deps.config) + deps.config.killSwitch.marginSeconds;
  const expiresAt = new Date(before.getTime() + coverSeconds * 1000).toISOString();
  if (selector.kind === 'session') {
    // An owner ending their own session writes a self-service entry: it can only ever fold into their own cut-off.
    return sessions.map((s) => ({
      kind: 'session',
      sessionId: s.id,
      issuedAt: s.issuedAt ?? s.createdAt,
      expiresAt: s.expiresAt,
      ...(state === 'ended' ? { endedBy: s.developer } : {}),
    }));
  }
  if (selector.kind === 'all') return [{ kind: 'all', before: before.toISOString(), expiresAt }];
  // The value is the key the sessions were tagged with, legal in a policy document by construction.
  return [{ kind: selector.kind, value: selector.value!, before: before.toISOString(), expiresAt }];
}

const maxDate = (a?: Date, b?: Date): Date | undefined => (!a ? b : !b ? a : a > b ? a : b);

/**
 * What a revocation would reach if sent now, recording nothing: the sessions it would mark and the roles it
 * would write a Deny to (the console's confirmation step). Same selector rules and lookups as revokeSessions.
 */
export async function previewRevocation(deps: RevokePorts, req: RevokeRequest): Promise<{ selector: Selector; sessions: number; roles: string[] }> {
  const selector = selectorOf(deps, req);
  const found = await storeCall(deps, 'revoke.find', () => affectedSessions(deps, selector));
  return { selector, sessions: found.ids.length, roles: [...new Set([...found.roles, ...rolesFor(deps, selector)])].sort() };
}
