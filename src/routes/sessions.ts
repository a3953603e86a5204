import { Router } from 'express';
import { resolveDeveloper, resolveProject } from '../auth/resolve-identity';
import { maySeeSession } from '../auth/session-access';
import { ApiError } from '../errors';
import { endSession, type EndSessionPorts } from '../revoke/end-session';
import type { components } from '../client/openapi-types';
import type { SessionRecord, SessionState } from '../storage/session-store';
import { storeCall } from '../storage/store-call';
import { authenticate, locals, validate, withCursor } from './middleware';
import { auditRead, operatorOnly, revocationBody, type RoutePorts } from './guards';

/**
 * Sessions: operators list them; the owner (or an operator) reads one or ends it early. Anyone else learns
 * nothing about a session, not even that it exists.
 */
export function sessionRoutes(deps: RoutePorts & EndSessionPorts): Router {
  const router = Router();
  router.get('/v1/sessions', authenticate(deps), operatorOnly(deps), validate(deps, 'GET', '/v1/sessions'), async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    auditRead(deps, res, 'sessions', q);
    if ((q.issuer === undefined) !== (q.claim === undefined)) {
      throw new ApiError(400, 'invalid_request', 'query: issuer and claim name a developer together; pass both or neither');
    }
    if (q.developer !== undefined && q.claim !== undefined) throw new ApiError(400, 'invalid_request', 'query: name the developer by developer or by issuer and claim, not both');
    const developer =
      q.claim !== undefined ? resolveDeveloper(deps.config.issuers, { issuer: q.issuer!, claim: q.claim }, 'query') : q.developer ? resolveDeveloper(deps.config.issuers, q.developer, 'query.developer') : undefined;
    const filter = {
      ...(developer ? { developer } : {}),
      ...(q.project ? { project: resolveProject(q.project) } : {}),
      ...(q.template ? { template: q.template } : {}),
      ...(q.role ? { role: q.role } : {}),
      ...(q.state ? { state: q.state as SessionState } : {}),
    };
    const page = await withCursor(() => storeCall(deps, 'sessions.list', () => deps.sessions.list(filter, q.cursor ?? null, Number(q.limit ?? 100))));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ sessions: page.sessions.map(publicSession), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
  });
  router.delete('/v1/sessions/:id', authenticate(deps), validate(deps, 'DELETE', '/v1/sessions/:id'), async (req, res) => {
    const { revocation, applied } = await endSession(deps, locals(res).identity!, String(req.params.id), locals(res).requestId);
    res.status(applied ? 200 : 202).json(revocationBody(revocation));
  });
  router.get('/v1/sessions/:id', authenticate(deps), validate(deps, 'GET', '/v1/sessions/:id'), async (req, res) => {
    const identity = locals(res).identity!;
    const session = await storeCall(deps, 'get', () => deps.sessions.get(String(req.params.id)));
    if (!session || !maySeeSession(session, identity, deps.config.operators)) {
      throw new ApiError(404, 'session_not_found', 'no such session');
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(publicSession(session));
  });
  return router;
}

/** A session as the API answers it (openapi.yaml's Session): the record without its token hash. */
function publicSession(rec: SessionRecord): components['schemas']['Session'] {
  const { tokenHash: _hash, ...rest } = rec;
  return rest;
}
