import type { RequestHandler, Response } from 'express';
import type { Identity } from '../auth/identity';
import { isOperator } from '../auth/operator';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import type { RevocationRecord } from '../storage/kill-switch-store';
import { PROPAGATION_NOTE } from '../revoke/revoke-sessions';
import type { SessionRecord } from '../storage/session-store';
import { locals } from './middleware';

/** What several routes check and answer alike; routes import this, never each other. */

/** Everyone but operators gets 403 on these routes (issue: operators are identities matching `operators`). */
export function operatorOnly(deps: AppDeps): RequestHandler {
  return (_req, res, next) => {
    if (!isOperator(locals(res).identity!, deps.config.operators)) {
      throw new ApiError(403, 'operator_only', 'this route is for operators');
    }
    next();
  };
}

/** Operator reads are audited too: who looked at what. */
export function auditRead(deps: AppDeps, res: Response, what: string, query: Record<string, unknown> = {}): void {
  const { identity, requestId } = locals(res);
  audit(deps.logger, { event: 'operator.read', outcome: 'allowed', requestId, issuer: identity!.issuer, subject: identity!.subject, developer: identity!.developer, what, query });
}

export const revocationBody = (r: RevocationRecord): RevocationRecord & { note: string } => ({ ...r, note: PROPAGATION_NOTE });

/** The caller vended it: same issuer and same owner (the subject, or the subject and the issuer's owner claims). */
export function ownedBy(session: SessionRecord, identity: Identity): boolean {
  return session.issuer === identity.issuer && session.owner === identity.owner;
}

