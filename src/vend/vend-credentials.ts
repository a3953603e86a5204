import { createHash, randomBytes } from 'node:crypto';
import type { Identity } from '../auth/identity';
import type { ConfigPort, CredentialCachePort, KillSwitchPort } from '../ports';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { ActiveBlock } from '../storage/kill-switch-store';
import type { SessionRecord } from '../storage/session-store';
import { authorizeTemplate } from '../templates/authorize';
import { renderPolicy } from '../templates/render-policy';
import { storeCall } from '../storage/store-call';
import type { LoadedTemplate } from '../templates/types';
import type { IssuedCredentials } from './assume-role';
import { projectKey, sessionNamePrefix, sourceIdentityFor } from '../auth/identity-key';
import { LIMITS } from './aws-limits';
import { issueForSession, recordIssued, sessionTags, type IssuePorts } from './session-credentials';
import { newSessionId } from './session-id';

/** What a vend uses: issuing (STS, templates, sessions), the kill switch's checkpoint, the credential cache. */
export type VendPorts = IssuePorts &
  KillSwitchPort &
  CredentialCachePort &
  ConfigPort<'aws' | 'limits' | 'sessions'> & {
    /** Present when gateway delivery is enabled. */
    gateway?: unknown;
  };

export interface VendRequest {
  template: string;
  parameters?: Record<string, unknown>;
  project?: string;
  durationSeconds?: number;
  /**
   * `container`: a refreshable session served at /v1/credentials/{id} with a bearer of its own. `gateway`: a
   * refreshable session whose credentials stay in the service; the agent gets gateway credentials (src/gateway).
   */
  delivery?: 'credentials' | 'container' | 'gateway';
  sessionDurationSeconds?: number;
  /** Why the caller asks; shown to approvers of templates that require approval. */
  reason?: string;
}

export interface VendResult {
  session: SessionRecord;
  tags: Record<string, string>;
  credentials: IssuedCredentials;
  /** Container delivery only: the session's authorization token, shown once, stored only as a hash. */
  containerToken?: string;
}

/**
 * The story of one vend (README, "How a vend works"): authorize the template, render its policy, reserve a slot and
 * record the session as pending (one Redis round trip), call AssumeRole, record it live and check the blocks (one
 * round trip). Redis failing at any step before the answer means no credentials leave the service.
 */
export async function vendCredentials(deps: VendPorts, identity: Identity, req: VendRequest, requestId: string, opts: { approvalId?: string } = {}): Promise<VendResult> {
  const base = {
    event: 'vend' as const,
    requestId,
    issuer: identity.issuer,
    subject: identity.subject,
    developer: identity.developer,
    // The raw claim beside the key, when they differ, so a hashed key can be read back to a person.
    ...(identity.developerClaim !== identity.developer ? { developerClaim: identity.developerClaim } : {}),
    template: req.template,
    ...(opts.approvalId ? { approvalId: opts.approvalId } : {}),
  };
  try {
    const result = await vend(deps, identity, req, opts);
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

async function vend(deps: VendPorts, identity: Identity, req: VendRequest, opts: { approvalId?: string }): Promise<VendResult> {
  const template = deps.templates.get(req.template);
  if (!template) throw new ApiError(404, 'unknown_template', `template "${req.template}" does not exist`, { details: { field: 'template' } });
  // Fail closed: a template that requires approval is only ever issued by collecting an approved request.
  if (template.approval?.required && !opts.approvalId) throw new ApiError(403, 'approval_required', `template "${template.name}" requires approval; POST /v1/vend answers 202 with an approval id`);
  // The project tag is the project's key (src/auth/identity-key.ts): the name as it is when AWS can hold it.
  const project = projectKey(authorizeTemplate(template, identity, req.project).project);
  // Rendered before anything is recorded, so bad parameters are refused without a trace in Redis or AWS.
  const rendered = renderPolicy(template, req.parameters ?? {}, { developer: identity.developer, project });
  const now = deps.now();
  const durationSeconds = credentialDuration(deps, template, req.durationSeconds);
  const container = req.delivery === 'container';
  const gateway = req.delivery === 'gateway';
  if (gateway && !deps.gateway) throw new ApiError(400, 'delivery_unavailable', 'body.delivery: gateway delivery is not enabled on this service', { details: { field: 'delivery' } });
  const sessionEndsAt = container || gateway ? new Date(now.getTime() + sessionLifetime(deps, template, durationSeconds, req.sessionDurationSeconds) * 1000) : undefined;
  const id = newSessionId();
  const token = container ? randomBytes(32).toString('base64url') : undefined;
  const expiresAt = new Date(Math.max(now.getTime() + durationSeconds * 1000, sessionEndsAt?.getTime() ?? 0));

  const limits = { ...deps.config.limits, ...template.limits };
  const session: SessionRecord = {
    id,
    state: 'pending',
    issuer: identity.issuer,
    subject: identity.subject,
    owner: identity.owner,
    developer: identity.developer,
    developerClaim: identity.developerClaim,
    project,
    accessType: identity.accessType,
    template: template.name,
    roleArn: template.roleArn,
    // Readable in CloudTrail and the assumed-role ARN, unique by the short id: "<developer>.<id prefix>". Both
    // follow the identity key's rule in AWS's narrower alphabet, so they are as injective as the key.
    roleSessionName: `${sessionNamePrefix(identity.namespace, identity.developerClaim)}.${id.slice(0, 8)}`,
    sourceIdentity: sourceIdentityFor(identity.namespace, identity.developerClaim),
    parameters: req.parameters ?? {},
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ...(sessionEndsAt && token ? { sessionEndsAt: sessionEndsAt.toISOString(), credentialSeconds: durationSeconds, tokenHash: hashToken(token) } : {}),
    ...(sessionEndsAt && gateway ? { sessionEndsAt: sessionEndsAt.toISOString(), credentialSeconds: durationSeconds, delivery: 'gateway' as const } : {}),
  };
  const scope = { developer: identity.developer, project, template: template.name };
  const checkBlock = deps.killSwitch.blockCommand(scope);

  // Round trip 1: reserve a slot and record the session as pending (the intent is durable before AWS is asked,
  // or nothing is issued), with a first look at the blocks beside them. That look spares STS a vend an operator
  // already blocked; it is not the one the race guarantee rests on (on a Cluster it may be answered before the
  // record is written).
  const limited = { vendsPerMinute: limits.vendsPerMinute ?? 0, liveSessions: limits.liveSessionsPerDeveloper ?? 0 };
  const opened = await storeCall(deps, 'open', () => deps.sessions.open(session, limited, [checkBlock]));
  const { reservation } = opened;
  if (!reservation.ok) {
    const message = reservation.reason === 'rate' ? 'too many vends per minute for this developer' : 'too many live sessions for this developer';
    throw new ApiError(429, reservation.reason === 'rate' ? 'rate_limited' : 'too_many_sessions', message, {
      retryAfter: reservation.retryAfterSeconds,
    });
  }
  const early = deps.killSwitch.blockOf(scope, opened.alongside[0]);
  if (early) return refuseBlocked(deps, id, early);

  let credentials: IssuedCredentials;
  try {
    credentials = await issueForSession(deps, session, durationSeconds, rendered);
  } catch (err) {
    await deps.sessions.markFailed(id, err instanceof ApiError ? err.code : 'error').catch(() => undefined);
    throw err;
  }
  // Round trip 2: record the credentials live and check the blocks (kill switch layer 1), together. The session
  // has been visible to every listing since round trip 1 ended, so a revocation racing this vend either finds
  // it (and marks it revoked, which markLive reports, or denies it in AWS) or wrote its block before this check
  // reads it. Credentials issued here but refused are never handed out. If either write or read fails, nothing
  // is returned: the pending record already lets the kill switch find the session.
  const recorded = await recordIssued(deps, session, credentials, [checkBlock]);
  const issuedAt = recorded.issuedAt;
  const block = deps.killSwitch.blockOf(scope, recorded.alongside[0]);
  if (block) return refuseBlocked(deps, id, block, { issued: true });
  if (container || gateway) deps.credentialCache.set(id, credentials, session);
  return {
    session: { ...session, state: 'live', accessKeyId: credentials.accessKeyId, assumedRoleArn: credentials.assumedRoleArn, issuedAt: issuedAt.toISOString(), packedPolicySize: credentials.packedPolicySize },
    tags: sessionTags(session),
    credentials,
    ...(token ? { containerToken: token } : {}),
  };
}

/** A vend an operator's block covers: its slot is freed and it answers 403 blocked. */
async function refuseBlocked(deps: VendPorts, id: string, block: ActiveBlock, opts: { issued?: boolean } = {}): Promise<never> {
  await deps.sessions.markFailed(id, 'blocked', opts).catch(() => undefined);
  const seconds = Math.max(1, Math.ceil((block.until.getTime() - deps.now().getTime()) / 1000));
  const scope = block.selector.kind === 'all' ? 'all vends' : `this ${block.selector.kind}`;
  throw new ApiError(403, 'blocked', `an operator has blocked new vends for ${scope}; retry after ${seconds} s`, { retryAfter: seconds });
}

/** min(request or default, template max, config max); AWS's floor is 900 s (docs/aws.md: DurationSeconds). */
function credentialDuration(deps: VendPorts, template: LoadedTemplate, requested?: number): number {
  const s = deps.config.sessions;
  const cap = Math.min(template.maxDurationSeconds, s.maxDurationSeconds, deps.config.aws.roleChaining ? LIMITS.durationSeconds.chained : LIMITS.durationSeconds.max);
  return Math.max(LIMITS.durationSeconds.min, Math.min(requested ?? s.defaultDurationSeconds, cap));
}

/**
 * How long a refreshable session may keep refreshing: the request, else the template's default, else the
 * config's (one hour unless set); capped by the template and the config, and never shorter than one credential.
 */
function sessionLifetime(deps: VendPorts, template: LoadedTemplate, credentialSeconds: number, requested?: number): number {
  const s = deps.config.sessions;
  const cap = Math.min(template.maxSessionDurationSeconds ?? Infinity, s.maxSessionDurationSeconds);
  const wanted = requested ?? template.defaultSessionDurationSeconds ?? s.defaultSessionDurationSeconds;
  return Math.max(credentialSeconds, Math.min(wanted, cap));
}

/** SHA-256 of a container token, base64url: what Redis keeps instead of the token. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
