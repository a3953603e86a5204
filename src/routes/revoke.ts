import { Router } from 'express';
import { ApiError } from '../errors';
import type { ConfigPort } from '../ports';
import { liftBlock, type LiftBlockPorts } from '../revoke/lift-block';
import { revokeSessions, type RevokePorts } from '../revoke/revoke-sessions';
import { storeCall } from '../storage/store-call';
import { auditRead, operatorOnly, revocationBody, type RoutePorts } from './guards';
import { authenticate, locals, validate, withCursor } from './middleware';

/** POST /v1/revoke and the revocation records; operators only. */
export function revokeRoutes(deps: RoutePorts & RevokePorts & LiftBlockPorts & ConfigPort<'operators'>): Router {
  const router = Router();
  const guard = [authenticate(deps), operatorOnly(deps)];
  router.post('/v1/revoke', ...guard, validate(deps, 'POST', '/v1/revoke'), async (req, res) => {
    const { revocation, applied } = await revokeSessions(deps, locals(res).identity!, req.body, locals(res).requestId);
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
