import type { Identity } from '../auth/identity';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { SessionRecord } from '../sessions/session-store';
import { authorizeTemplate } from '../templates/authorize';
import { renderPolicy } from '../templates/render-policy';
import { storeCall } from '../store-call';
import type { LoadedTemplate } from '../templates/types';
import { assumeRole, type IssuedCredentials } from './assume-role';
import { LIMITS, sanitizeName, sanitizeTagValue } from './aws-limits';
import { newSessionId } from './session-id';

export interface VendRequest {
  template: string;
  parameters?: Record<string, unknown>;
  project?: string;
  durationSeconds?: number;
}

export interface VendResult {
  session: SessionRecord;
  tags: Record<string, string>;
  credentials: IssuedCredentials;
}

/** Session tag keys the service sets; every one is transitive so role chaining cannot shed it. */
export const TAG_KEYS = ['AccessType', 'developer', 'project', 'agent-session', 'template'] as const;

/**
 * The story of one vend (DESIGN.md): authorize the template, render its policy, reserve a slot, record the
 * session as pending, call AssumeRole, record it live. Redis failing at any step before the answer means no
 * credentials leave the service.
 */
export async function vendCredentials(deps: AppDeps, identity: Identity, req: VendRequest, requestId: string): Promise<VendResult> {
  const base = { event: 'vend' as const, requestId, issuer: identity.issuer, subject: identity.subject, developer: identity.developer, template: req.template };
  try {
    const result = await vend(deps, identity, req);
    deps.metrics.vendTotal.inc({ template: result.session.template, outcome: 'allowed' });
    audit(deps.logger, {
      ...base,
      outcome: 'allowed',
      project: result.session.project,
      accessType: identity.accessType,
      parameters: result.session.parameters,
      sessionId: result.session.id,
      roleArn: result.session.roleArn,
      roleSessionName: result.session.roleSessionName,
      sourceIdentity: result.session.sourceIdentity,
      accessKeyId: result.credentials.accessKeyId,
      expiresAt: result.session.expiresAt,
    });
    return result;
  } catch (err) {
    const code = err instanceof ApiError ? err.code : 'internal_error';
    const known = deps.templates.has(req.template) ? req.template : 'unknown';
    deps.metrics.vendTotal.inc({ template: known, outcome: code });
    audit(deps.logger, { ...base, outcome: err instanceof ApiError && err.status < 500 ? 'refused' : 'error', code, parameters: req.parameters });
    throw err;
  }
}

async function vend(deps: AppDeps, identity: Identity, req: VendRequest): Promise<VendResult> {
  const template = deps.templates.get(req.template);
  if (!template) throw new ApiError(404, 'unknown_template', `template "${req.template}" does not exist`, { details: { field: 'template' } });
  const { project } = authorizeTemplate(template, identity, req.project);
  const rendered = renderPolicy(template, req.parameters ?? {}, { developer: identity.developer, project });
  // Kill switch layer 1 (one round trip): a block on this developer, project, template or everything.
  const block = await storeCall(deps, 'blockFor', () => deps.killSwitch.blockFor({ developer: identity.developer, project, template: template.name }));
  if (block) {
    const seconds = Math.max(1, Math.ceil((block.until.getTime() - deps.now().getTime()) / 1000));
    const scope = block.selector.kind === 'all' ? 'all vends' : `this ${block.selector.kind}`;
    throw new ApiError(403, 'blocked', `an operator has blocked new vends for ${scope}; retry after ${seconds} s`, { retryAfter: seconds });
  }

  const now = deps.now();
  const durationSeconds = sessionDuration(deps, template, req.durationSeconds);
  const id = newSessionId();
  const sourceIdentity = sanitizeName(identity.developer);
  // Readable in CloudTrail and the assumed-role ARN, unique by the short id: "<developer>.<id prefix>".
  const roleSessionName = `${sanitizeName(identity.developer, LIMITS.roleSessionName.max - 9)}.${id.slice(0, 8)}`;
  const tags: Record<string, string> = {
    AccessType: sanitizeTagValue(identity.accessType),
    developer: sanitizeTagValue(identity.developer),
    project: sanitizeTagValue(project),
    'agent-session': id,
    template: template.name,
  };
  const expiresAt = new Date(now.getTime() + durationSeconds * 1000);

  const limits = { ...deps.config.limits, ...template.limits };
  const reservation = await storeCall(deps, 'reserve', () =>
    deps.sessions.reserve({
      developer: identity.developer,
      sessionId: id,
      expiresAt,
      vendsPerMinute: limits.vendsPerMinute ?? 0,
      liveSessions: limits.liveSessionsPerDeveloper ?? 0,
    }),
  );
  if (!reservation.ok) {
    const message = reservation.reason === 'rate' ? 'too many vends per minute for this developer' : 'too many live sessions for this developer';
    throw new ApiError(429, reservation.reason === 'rate' ? 'rate_limited' : 'too_many_sessions', message, {
      retryAfter: reservation.retryAfterSeconds,
    });
  }

  const session: SessionRecord = {
    id,
    state: 'pending',
    issuer: identity.issuer,
    subject: identity.subject,
    developer: identity.developer,
    project,
    accessType: identity.accessType,
    template: template.name,
    roleArn: template.roleArn,
    roleSessionName,
    sourceIdentity,
    parameters: req.parameters ?? {},
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
  };
  // DESIGN.md step 4: the intent is durable before AWS is asked, or nothing is issued.
  await storeCall(deps, 'createPending', () => deps.sessions.createPending(session));

  let credentials: IssuedCredentials;
  try {
    credentials = await assumeRole(
      deps.sts,
      {
        roleArn: template.roleArn,
        roleSessionName,
        durationSeconds,
        policy: rendered.json,
        policyArns: template.policyArns,
        tags,
        transitiveTagKeys: [...TAG_KEYS],
        sourceIdentity,
      },
      { roleChaining: deps.config.aws.roleChaining, metrics: deps.metrics },
    );
  } catch (err) {
    await deps.sessions.markFailed(id, err instanceof ApiError ? err.code : 'error').catch(() => undefined);
    throw err;
  }

  const live = { accessKeyId: credentials.accessKeyId, assumedRoleArn: credentials.assumedRoleArn, issuedAt: now, expiresAt: credentials.expiration, packedPolicySize: credentials.packedPolicySize };
  // If this write fails the credentials are dropped here, never returned: the pending record already lets the
  // kill switch find the session, and a caller cannot use what it never received.
  const state = await storeCall(deps, 'markLive', () => deps.sessions.markLive(id, live));
  if (state === null) {
    throw new ApiError(503, 'store_unavailable', 'the session record was lost; no credentials were issued', { retryAfter: 2, expose: true });
  }
  if (state !== 'live') throw new ApiError(403, 'session_revoked', 'the session was revoked while it was being issued');
  return {
    session: { ...session, state: 'live', accessKeyId: live.accessKeyId, assumedRoleArn: live.assumedRoleArn, issuedAt: now.toISOString(), expiresAt: credentials.expiration.toISOString(), packedPolicySize: live.packedPolicySize },
    tags,
    credentials,
  };
}

/** min(request or default, template max, config max); AWS's floor is 900 s (aws-sts.md: DurationSeconds). */
function sessionDuration(deps: AppDeps, template: LoadedTemplate, requested?: number): number {
  const s = deps.config.sessions;
  const cap = Math.min(template.maxDurationSeconds, s.maxDurationSeconds, deps.config.aws.roleChaining ? LIMITS.durationSeconds.chained : LIMITS.durationSeconds.max);
  return Math.max(LIMITS.durationSeconds.min, Math.min(requested ?? s.defaultDurationSeconds, cap));
}
