import type { Identity } from '../auth/identity';
import { isOperator } from '../auth/operator';
import { ownedBy } from '../auth/session-access';
import { ApiError } from '../errors';
import type { ConfigPort } from '../ports';
import { storeCall } from '../storage/store-call';
import { sessionOfHolder } from '../vend/refresh-credentials';
import type { RevocationRecord } from '../storage/kill-switch-store';
import { revokeSessions, type RevokePorts } from './revoke-sessions';

/** What ending a session uses: a revocation's ports, and who the operators are. */
export type EndSessionPorts = RevokePorts & ConfigPort<'operators'>;

/**
 * Ends one session early through the revocation path of revoke-sessions.ts (refused at once, its Deny written
 * to its role). Its owner ends it (a self-service entry, which can only fold into the owner's own cut-off);
 * an operator revokes it. Anyone else learns nothing, not even that the session exists.
 */
export async function endSession(deps: EndSessionPorts, actor: Identity, sessionId: string, requestId: string): Promise<{ revocation: RevocationRecord; applied: boolean }> {
  const session = await storeCall(deps, 'get', () => deps.sessions.get(sessionId));
  const owner = session !== null && ownedBy(session, actor);
  if (!session || !(owner || isOperator(actor, deps.config.operators))) {
    throw new ApiError(404, 'session_not_found', 'no such session');
  }
  return revokeSessions(deps, actor, { sessionId: session.id, reason: owner ? 'ended by its owner' : 'ended by an operator' }, requestId, {
    state: owner ? 'ended' : 'revoked',
  });
}

/**
 * The holder of a refreshable session's token ends it (`sts-vend exec` when its command exits), without the
 * OIDC token that vended it, which may have expired by then. Only the token is checked: ending needs no
 * kill-switch verdict. A session already over (revoked, ended, failed, past its lifetime) is a no-op, since exec
 * ends its session whatever became of it. Answers whether the session's Deny is still pending in IAM.
 */
export async function endHeldSession(deps: RevokePorts, sessionId: string, token: string, requestId: string): Promise<{ pending: boolean }> {
  const session = await sessionOfHolder(deps, sessionId, token);
  if (session.state !== 'live' || Date.parse(session.sessionEndsAt ?? session.expiresAt) <= deps.now().getTime()) return { pending: false };
  // The holder acts as the session's owner: its self-service entry can only ever fold into this developer's cut-off.
  const actor: Identity = {
    issuer: session.issuer,
    iss: session.issuer,
    subject: session.subject,
    owner: session.owner,
    developer: session.developer,
    developerClaim: session.developerClaim,
    namespace: deps.config.issuers.find((i) => i.name === session.issuer)?.namespace ?? '',
    project: session.project,
    groups: [],
    accessType: session.accessType,
    claims: {},
  };
  const { applied } = await revokeSessions(deps, actor, { sessionId, reason: 'ended by its holder' }, requestId, { state: 'ended' });
  return { pending: !applied };
}
