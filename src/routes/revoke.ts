import { Router } from 'express';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { audit } from '../observability/audit';
import { policyBefore } from '../revoke/revocation-entries';
import { revokeSessions, type RevokeRequest } from '../revoke/revoke-sessions';
import { storeCall } from '../store-call';
import { auditRead, operatorOnly, revocationBody } from './guards';
import { authenticate, locals, validate, withCursor } from './middleware';

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
    const id = String(req.params.id);
    const existing = await storeCall(deps, 'revocations.get', () => deps.killSwitch.getRevocation(id));
    if (!existing) throw new ApiError(404, 'revocation_not_found', 'no such revocation');
    if (!existing.blockedUntil) throw new ApiError(409, 'no_block', 'this revocation set no block');
    const cutoff = new Date(policyBefore(new Date(Date.parse(existing.createdAt) + deps.config.killSwitch.marginSeconds * 1000).toISOString()));
    const rec = await storeCall(deps, 'revocations.lift', () => deps.killSwitch.liftBlock(id, cutoff));
    const identity = locals(res).identity!;
    audit(deps.logger, {
      event: 'block.lift',
      outcome: 'applied',
      requestId: locals(res).requestId,
      issuer: identity.issuer,
      subject: identity.subject,
      developer: identity.developer,
      revocationId: id,
      // What the block covered, so the line reads on its own without the revocation's record.
      selector: existing.selector,
    });
    res.json(revocationBody(rec ?? existing));
  });
  return router;
}
