import type { ClockPort, ConfigPort, ObservabilityPort, SessionsPort, StsPort, TemplatesPort } from '../ports';
import { ApiError } from '../errors';
import type { SessionRecord } from '../storage/session-store';
import type { BatchCommand } from '../storage/redis-client';
import { storeCall } from '../storage/store-call';
import { renderPolicy, type RenderedPolicy } from '../templates/render-policy';
import { assumeRole, type IssuedCredentials } from './assume-role';

/** What issuing a session's credentials uses: STS, the templates, the session store, a clock. */
export type IssuePorts = StsPort & TemplatesPort & SessionsPort & ClockPort & ObservabilityPort & ConfigPort<'aws'>;

/** Session tag keys the service sets; every one is transitive so role chaining cannot shed it. */
export const TAG_KEYS = ['AccessType', 'developer', 'project', 'agent-session', 'template'] as const;

/**
 * The session tags of a session, as AWS will see them in `aws:PrincipalTag/*` and CloudTrail. Each value is
 * already legal for AWS: the developer and project are identity keys (src/auth/identity-key.ts), the access
 * type and template are checked when the config and templates load. checkAssumeRoleInput checks them again.
 */
export function sessionTags(s: Pick<SessionRecord, 'id' | 'accessType' | 'developer' | 'project' | 'template'>): Record<string, string> {
  return {
    AccessType: s.accessType,
    developer: s.developer,
    project: s.project,
    'agent-session': s.id,
    template: s.template,
  };
}

/**
 * AssumeRole for a recorded session: the template's policy rendered with the session's parameters, its tags,
 * role session name and source identity. A vend and every later refresh of the session go through here, so a
 * refresh can never differ from the vend it continues.
 */
export async function issueForSession(deps: IssuePorts, session: SessionRecord, durationSeconds: number, policy?: RenderedPolicy): Promise<IssuedCredentials> {
  const template = deps.templates.get(session.template);
  if (!template) throw new ApiError(409, 'template_removed', `template "${session.template}" is no longer loaded`);
  // A vend passes the policy it already rendered from these same parameters; a refresh renders it again.
  const rendered = policy ?? renderPolicy(template, session.parameters, { developer: session.developer, project: session.project });
  return assumeRole(
    deps.sts,
    {
      roleArn: session.roleArn,
      roleSessionName: session.roleSessionName,
      durationSeconds,
      policy: rendered.json,
      policyArns: template.policyArns,
      tags: sessionTags(session),
      transitiveTagKeys: [...TAG_KEYS],
      sourceIdentity: session.sourceIdentity,
    },
    { roleChaining: deps.config.aws.roleChaining, metrics: deps.metrics },
  );
}

/**
 * Records issued credentials on the session (never the secret). The record's expiry is when access really
 * ends: the later of the session's end and the last credential's expiry. Its issue time is taken now, after STS
 * answered: AWS's `aws:TokenIssueTime` is no later than that, so a revocation that folds the session into an
 * issue-time cut-off (issue time + the skew margin) still covers it however long AssumeRole took. Credentials
 * whose record cannot be written are never returned. Returns the recorded issue time, and the replies to
 * `alongside` (other stores' commands sent in the same round trip).
 */
export async function recordIssued(deps: IssuePorts, session: SessionRecord, c: IssuedCredentials, alongside: BatchCommand[] = []): Promise<{ issuedAt: Date; alongside: unknown[] }> {
  const issuedAt = deps.now();
  const sessionEnd = session.sessionEndsAt ? Date.parse(session.sessionEndsAt) : 0;
  const expiresAt = new Date(Math.max(sessionEnd, c.expiration.getTime()));
  const issued = { accessKeyId: c.accessKeyId, assumedRoleArn: c.assumedRoleArn, issuedAt, expiresAt, packedPolicySize: c.packedPolicySize };
  const { state, alongside: replies } = await storeCall(deps, 'markLive', () => deps.sessions.markLiveWith(session.id, issued, session, alongside));
  if (state === null) {
    throw new ApiError(503, 'store_unavailable', 'the session record was lost; no credentials were issued', { retryAfter: 2, expose: true });
  }
  if (state !== 'live') throw new ApiError(403, 'session_revoked', 'the session was revoked while credentials were being issued');
  return { issuedAt, alongside: replies };
}
