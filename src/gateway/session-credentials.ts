/**
 * The real credentials behind a gateway session, in this process's memory only (the credential cache the
 * container refreshes use). A replica that has never seen the session, or whose credential nears expiry,
 * re-issues through the same AssumeRole as every refresh (src/vend/session-credentials.ts); concurrent calls of
 * one session share one AssumeRole. The agent's gateway credentials never change.
 */
import type { CredentialCachePort } from '../ports';
import type { SessionRecord } from '../storage/session-record';
import type { IssuedCredentials } from '../vend/assume-role';
import { LIMITS } from '../vend/aws-limits';
import { issueForSession, recordIssued, type IssuePorts } from '../vend/session-credentials';
import { audit } from '../observability/audit';

/** Re-issue when less than this is left: a call signed now must not outlive its credential in flight. */
export const GATEWAY_REFRESH_MARGIN_MS = 5 * 60_000;

export type CredentialDeps = IssuePorts & CredentialCachePort;

const inFlight = new WeakMap<object, Map<string, Promise<IssuedCredentials>>>();

export async function upstreamCredentials(deps: CredentialDeps, session: SessionRecord, requestId: string): Promise<IssuedCredentials> {
  const now = deps.now();
  const cached = deps.credentialCache.get(session.id, now, GATEWAY_REFRESH_MARGIN_MS);
  if (cached) return cached;
  let pending = inFlight.get(deps.credentialCache);
  if (!pending) inFlight.set(deps.credentialCache, (pending = new Map()));
  const running = pending.get(session.id);
  if (running) return running;
  const issue = (async () => {
    const endsAt = Date.parse(session.sessionEndsAt ?? session.expiresAt);
    const remaining = Math.ceil((endsAt - now.getTime()) / 1000);
    // The last credential may outlive the session by at most AWS's 900 s floor; the checkpoint stops calls at the end.
    const duration = Math.max(LIMITS.durationSeconds.min, Math.min(session.credentialSeconds ?? LIMITS.durationSeconds.min, remaining));
    const credentials = await issueForSession(deps, session, duration);
    await recordIssued(deps, session, credentials);
    deps.credentialCache.set(session.id, credentials, session);
    audit(deps.logger, {
      event: 'refresh',
      outcome: 'allowed',
      requestId,
      sessionId: session.id,
      developer: session.developer,
      template: session.template,
      delivery: 'gateway',
      roleSessionName: session.roleSessionName,
      accessKeyId: credentials.accessKeyId,
      expiresAt: credentials.expiration.toISOString(),
    });
    return credentials;
  })();
  pending.set(session.id, issue);
  try {
    return await issue;
  } finally {
    pending.delete(session.id);
  }
}
