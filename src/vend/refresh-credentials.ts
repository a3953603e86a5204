import { timingSafeEqual } from 'node:crypto';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import { storeCall } from '../store-call';
import type { IssuedCredentials } from './assume-role';
import { LIMITS } from './aws-limits';
import { issueForSession, recordIssued } from './session-credentials';
import { hashToken } from './vend-credentials';

// The SDKs refresh credentials that expire within 5 minutes; handing out one closer to expiry than this
// would make every SDK call come back for another.
const REUSE_MARGIN_MS = 6 * 60_000;

/**
 * A refresh of a container-delivered session, and a kill-switch checkpoint: the session's token must match,
 * the session must not be revoked, ended, blocked or past its lifetime (one Redis round trip for the checks),
 * then the current credential is reused until it nears expiry and re-issued through AssumeRole after.
 */
export async function refreshCredentials(deps: AppDeps, sessionId: string, token: string, requestId: string): Promise<IssuedCredentials> {
  const session = await storeCall(deps, 'refresh.get', () => deps.sessions.get(sessionId));
  if (!session?.tokenHash || !sameHash(hashToken(token), session.tokenHash)) {
    throw new ApiError(401, 'InvalidToken', 'the authorization token does not match this session');
  }
  const now = deps.now();
  const verdict = await storeCall(deps, 'refresh.check', () =>
    deps.killSwitch.checkSession({ id: session.id, developer: session.developer, project: session.project, template: session.template, createdAt: new Date(session.createdAt) }),
  );
  const refuse = (code: string, message: string, retryAfter?: number): never => {
    deps.credentialCache.delete(sessionId);
    audit(deps.logger, { event: 'refresh', outcome: 'refused', code, requestId, sessionId, developer: session.developer, template: session.template });
    throw new ApiError(403, code, message, retryAfter === undefined ? {} : { retryAfter });
  };
  if (verdict.verdict === 'revoked' || session.state === 'revoked') refuse('SessionRevoked', 'this session was revoked by an operator');
  if (session.state === 'ended') refuse('SessionRevoked', 'this session was ended by its owner');
  if (verdict.verdict === 'blocked') refuse('SessionBlocked', 'an operator has blocked this scope', Math.max(1, Math.ceil((verdict.until.getTime() - now.getTime()) / 1000)));
  if (session.state !== 'live') refuse('SessionRevoked', `this session is ${session.state}`);
  const endsAt = Date.parse(session.sessionEndsAt ?? session.expiresAt);
  if (now.getTime() >= endsAt) refuse('SessionExpired', 'this session has reached the end of its lifetime; vend a new one');

  const cached = deps.credentialCache.get(sessionId, now, REUSE_MARGIN_MS);
  if (cached) return cached;
  // The last credential may outlive the session by at most AWS's 900 s floor (aws-sts.md: DurationSeconds).
  const remaining = Math.ceil((endsAt - now.getTime()) / 1000);
  const duration = Math.max(LIMITS.durationSeconds.min, Math.min(session.credentialSeconds ?? LIMITS.durationSeconds.min, remaining));
  const credentials = await issueForSession(deps, session, duration);
  await recordIssued(deps, session, credentials, now);
  deps.credentialCache.set(sessionId, credentials);
  audit(deps.logger, {
    event: 'refresh',
    outcome: 'allowed',
    requestId,
    sessionId,
    developer: session.developer,
    template: session.template,
    roleSessionName: session.roleSessionName,
    accessKeyId: credentials.accessKeyId,
    expiresAt: credentials.expiration.toISOString(),
  });
  return credentials;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
