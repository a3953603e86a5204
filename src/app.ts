import express, { type Express } from 'express';
import type { AppDeps } from './deps';
import { consoleRoutes } from './console/routes';
import { ApiError } from './errors';
import { approvalRoutes } from './routes/approvals';
import { credentialRoutes } from './routes/credentials';
import { gatewayCallRoutes } from './routes/gateway-calls';
import { errorHandler, requestId, securityHeaders, wellFormedText } from './routes/middleware';
import { healthRoutes, metricsHandler } from './routes/health';
import { revokeRoutes } from './routes/revoke';
import { sessionRoutes } from './routes/sessions';
import { templateRoutes } from './routes/templates';
import { vendRoutes } from './routes/vend';

/** Builds the HTTP app from its dependencies; reads no environment and never listens: main.ts, the dev server and the tests wire it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is Cache-Control: no-store, so a validator is never used; express would hash each body for it.
  app.set('etag', false);
  app.set('trust proxy', deps.config.server.trustProxy);
  app.use(securityHeaders);
  app.use(requestId);
  app.use((req, res, next) => {
    res.on('finish', () => {
      // The matched route template, never the raw path, so ids do not become metric labels.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      deps.logger.info({ requestId: res.locals.requestId, method: req.method, route, status: res.statusCode }, 'request');
    });
    next();
  });
  // JSON bodies are UTF-8 (RFC 8259); a body labelled with another charset is refused rather than transcoded.
  app.use((req, _res, next) => {
    const charset = /;\s*charset=([^;\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.replace(/"/g, '').toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new ApiError(415, 'unsupported_media_type', 'the body must be UTF-8 JSON');
    next();
  });
  app.use(express.json({ limit: deps.config.server.bodyLimitBytes, strict: true }));
  app.use(wellFormedText);
  app.use(healthRoutes(deps));
  app.use(vendRoutes(deps));
  app.use(templateRoutes(deps));
  app.use(sessionRoutes(deps));
  app.use(gatewayCallRoutes(deps));
  app.use(revokeRoutes(deps));
  app.use(credentialRoutes(deps));
  app.use(approvalRoutes(deps));
  if (deps.config.console.enabled) app.use(consoleRoutes(deps));
  app.use(() => {
    throw new ApiError(404, 'not_found', 'no such route');
  });
  app.use(errorHandler(deps));
  return app;
}

/** The app of the `server.metrics` listener: /metrics and nothing else. */
export function createMetricsApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(deps));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found');
  });
  return app;
}
