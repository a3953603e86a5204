import { Router } from 'express';
import { maySeeSession } from '../auth/session-access';
import { ApiError } from '../errors';
import type { GatewayStore } from '../gateway/gateway-store';
import type { ConfigPort, SessionsPort } from '../ports';
import { storeCall } from '../storage/store-call';
import type { RoutePorts } from './guards';
import { authenticate, locals, validate } from './middleware';

/** What the calls listing uses: the sessions (who may see one) and, with gateway delivery, its call records. */
export type GatewayCallRoutePorts = RoutePorts & SessionsPort & ConfigPort<'operators'> & { gateway?: { store: Pick<GatewayStore, 'calls'> } };

/**
 * GET /v1/sessions/{id}/calls: the AWS calls a gateway session made, newest first (bounded, no payloads, no
 * secrets), for its owner or an operator; anyone else learns nothing, not even that the session exists.
 */
export function gatewayCallRoutes(deps: GatewayCallRoutePorts): Router {
  const router = Router();
  router.get('/v1/sessions/:id/calls', authenticate(deps), validate(deps, 'GET', '/v1/sessions/:id/calls'), async (req, res) => {
    const identity = locals(res).identity!;
    const session = await storeCall(deps, 'get', () => deps.sessions.get(String(req.params.id)));
    if (!session || !maySeeSession(session, identity, deps.config.operators)) throw new ApiError(404, 'session_not_found', 'no such session');
    const limit = Number((req.query as Record<string, string | undefined>).limit ?? 100);
    const calls = deps.gateway && session.delivery === 'gateway' ? await storeCall(deps, 'gateway.calls', () => deps.gateway!.store.calls(session.id, limit)) : [];
    res.setHeader('Cache-Control', 'no-store');
    res.json({ sessionId: session.id, calls });
  });
  return router;
}
