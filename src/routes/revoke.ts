import { Router, type RequestHandler, type Response } from 'express';
import { isOperator } from '../auth/operator';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import { liftBlock } from '../revoke/lift-block';
import type { RevocationRecord } from '../revoke/kill-switch-store';
import { PROPAGATION_NOTE, revokeSessions, type RevokeRequest } from '../revoke/revoke-sessions';
import { storeCall } from '../store-call';
import { authenticate, locals, validate, withCursor } from './middleware';

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

/** POST /v1/revoke and the revocation records; operators only. */
export function revokeRoutes(deps: AppDeps): Router {
  const router = Router();
  const guard = [authenticate(deps), operatorOnly(deps)];
  router.post('/v1/revoke', ...guard, validate(deps, 'POST', '/v1/revoke'), async (req, res) => {
    const { revocation, applied } = await revokeSessions(deps, locals(res).identity!, req.body as RevokeRequest, locals(res).requestId);
    res.status(applied ? 200 : 202).json(revocationBody(revocation));
  });
  router.get('/v1/revocations', ...guard, validate(deps, 'GET', '/v1/revocations'), async (req, res) => {
    const { cursor, limit } = req.query as { cursor?: string; limit?: string };
    auditRead(deps, res, 'revocations', req.query as Record<string, unknown>);
    const page = await withCursor(() => storeCall(deps, 'revocations.list', () => deps.killSwitch.listRevocations(cursor ?? null, Number(limit ?? 100))));
    res.json({ revocations: page.revocations.map(revocationBody), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
  });
  router.get('/v1/revocations/:id', ...guard, validate(deps, 'GET', '/v1/revocations/:id'), async (req, res) => {
    auditRead(deps, res, 'revocation', { id: req.params.id });
    const rec = await storeCall(deps, 'revocations.get', () => deps.killSwitch.getRevocation(String(req.params.id)));
    if (!rec) throw new ApiError(404, 'revocation_not_found', 'no such revocation');
    res.json(revocationBody(rec));
  });
  router.delete('/v1/revocations/:id/block', ...guard, validate(deps, 'DELETE', '/v1/revocations/:id/block'), async (req, res) => {
    const rec = await liftBlock(deps, locals(res).identity!, String(req.params.id), locals(res).requestId);
    res.json(revocationBody(rec));
  });
  return router;
}
