import { timingSafeEqual } from 'node:crypto';
import type { CredentialCachePort, KillSwitchPort, ObservabilityPort, SessionsPort } from '../ports';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { SessionVerdict } from '../storage/kill-switch-store';
import type { SessionRecord } from '../storage/session-store';
import { storeCall } from '../storage/store-call';
import type { IssuedCredentials } from './assume-role';
import { LIMITS } from './aws-limits';
import { issueForSession, recordIssued, type IssuePorts } from './session-credentials';
import { hashToken } from './vend-credentials';

// A credential closer to expiry than this is not handed out again: the SDKs would be back for another within a
// minute of the 5 minutes they keep in hand, and a client cache (the CLI, exec) would have nothing left to serve.
export const REUSE_MARGIN_MS = 6 * 60_000;

export interface CheckedSession {
  session: SessionRecord;
  /** When the session stops refreshing. */
  endsAt: Date;
}
/** What a refresh or a checkpoint of a refreshable session uses. */
export type RefreshPorts = IssuePorts & KillSwitchPort & CredentialCachePort;


/**
 * The kill-switch checkpoint of a refreshable session, without issuing anything: the session's token must
 * match, and the session must not be revoked, ended, blocked or past its lifetime. One Redis round trip when
 * this process holds the session's credential (it knows the scope to check, and reads the record beside the
 * kill-switch fields), else two (the record, then the verdict); a refusal is audited and forgets the cached
 * credential.
 */
export async function checkpointSession(deps: RefreshPorts, sessionId: string, token: string, requestId: string): Promise<CheckedSession> {
  const { session, verdict } = await checkedHolder(deps, sessionId, token);
  const now = deps.now();
  const refuse = (code: 'SessionRevoked' | 'SessionBlocked' | 'SessionExpired', message: string, retryAfter?: number): never => {
    deps.credentialCache.delete(sessionId);
    audit(deps.logger, { event: 'refresh', outcome: 'refused', code, requestId, sessionId, developer: session.developer, template: session.template });
    throw new ApiError(403, code, message, retryAfter === undefined ? {} : { retryAfter });
  };
  if (verdict.verdict === 'revoked' || session.state === 'revoked') refuse('SessionRevoked', 'this session was revoked by an operator');
  if (session.state === 'ended') refuse('SessionRevoked', 'this session was ended by its owner');
  if (verdict.verdict === 'blocked') refuse('SessionBlocked', 'an operator has blocked this scope', Math.max(1, Math.ceil((verdict.until.getTime() - now.getTime()) / 1000)));
  if (session.state !== 'live') refuse('SessionRevoked', `this session is ${session.state}`);
  const endsAt = new Date(Date.parse(session.sessionEndsAt ?? session.expiresAt));
  if (now.getTime() >= endsAt.getTime()) refuse('SessionExpired', 'this session has reached the end of its lifetime; vend a new one');
  return { session, endsAt };
}

/** The session whose container token this is (one Redis round trip), or 401 InvalidToken. */
export async function sessionOfHolder(deps: SessionsPort & ObservabilityPort, sessionId: string, token: string): Promise<SessionRecord> {
  return holderOf(await storeCall(deps, 'refresh.get', () => deps.sessions.get(sessionId)), token);
}

function holderOf(session: SessionRecord | null, token: string): SessionRecord {
  if (!session?.tokenHash || !sameHash(hashToken(token), session.tokenHash)) {
    throw new ApiError(401, 'InvalidToken', 'the authorization token does not match this session');
  }
  return session;
}

const scopeOf = (s: SessionRecord) => ({ id: s.id, developer: s.developer, project: s.project, template: s.template, createdAt: new Date(s.createdAt) });

/**
 * The holder's session and its kill-switch verdict. With the session cached, the record and the verdict for
 * the cached scope are read together; the token is checked before the verdict is looked at, so a wrong token
 * learns nothing. A record whose scope is not the cached one (it never changes, so this is only a guard) is
 * checked again for its own.
 */
async function checkedHolder(deps: RefreshPorts, sessionId: string, token: string): Promise<{ session: SessionRecord; verdict: SessionVerdict }> {
  const known = deps.credentialCache.session(sessionId);
  if (known) {
    const { verdict, raw } = await storeCall(deps, 'refresh.check', () => deps.killSwitch.checkpoint(scopeOf(known)));
    const [record] = await storeCall(deps, 'refresh.get', () => deps.sessions.decodeAll([sessionId], [raw]));
    const session = holderOf(record ?? null, token);
    const same = session.developer === known.developer && session.project === known.project && session.template === known.template && session.createdAt === known.createdAt;
    if (same) return { session, verdict };
  }
  const session = await sessionOfHolder(deps, sessionId, token);
  return { session, verdict: await storeCall(deps, 'refresh.check', () => deps.killSwitch.checkSession(scopeOf(session))) };
}

/**
 * A refresh of a container-delivered session: the checkpoint above, then the current credential while it has
 * more than REUSE_MARGIN_MS left (from this process's memory), else a new one through AssumeRole.
 */
export async function refreshCredentials(deps: RefreshPorts, sessionId: string, token: string, requestId: string): Promise<IssuedCredentials> {
  const { session, endsAt } = await checkpointSession(deps, sessionId, token, requestId);
  const now = deps.now();
  const cached = deps.credentialCache.get(sessionId, now, REUSE_MARGIN_MS);
  if (cached) return cached;
  // The last credential may outlive the session by at most AWS's 900 s floor (docs/aws.md: DurationSeconds).
  const remaining = Math.ceil((endsAt.getTime() - now.getTime()) / 1000);
  const duration = Math.max(LIMITS.durationSeconds.min, Math.min(session.credentialSeconds ?? LIMITS.durationSeconds.min, remaining));
  const credentials = await issueForSession(deps, session, duration);
  await recordIssued(deps, session, credentials);
  deps.credentialCache.set(sessionId, credentials, session);
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
