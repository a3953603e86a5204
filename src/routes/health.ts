import { Router, type Request, type Response } from 'express';
import type { ConfigPort, ObservabilityPort, SessionsPort, TemplatesPort } from '../ports';

/**
 * Liveness, readiness (Redis answers, templates loaded) and Prometheus metrics (here unless `server.metrics` gives
 * them a listener of their own); no authentication.
 */
export function healthRoutes(deps: SessionsPort & TemplatesPort & ObservabilityPort & ConfigPort<'server'>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await deps.sessions.ping();
      checks.redis = 'ok';
    } catch {
      checks.redis = 'unavailable';
    }
    checks.templates = deps.templates.size > 0 ? 'ok' : 'none loaded';
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  });
  if (!deps.config.server.metrics) router.get('/metrics', metricsHandler(deps));
  return router;
}

/** Prometheus text exposition of the service's registry. */
export const metricsHandler = (deps: ObservabilityPort) => async (_req: Request, res: Response): Promise<void> => {
  res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
};
