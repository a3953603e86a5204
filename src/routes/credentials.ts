import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { SESSION_ID_PATTERN } from '../vend/session-id';
import { refreshCredentials } from '../vend/refresh-credentials';
import { locals } from './middleware';

/** RFC 3339 UTC with `Z` and whole seconds, the form the container credentials provider expects. */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * GET /v1/credentials/{id}: the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI). The SDK
 * sends the session's token as the raw Authorization header and reads `Code`/`Message` from a refusal, so this
 * route answers in the provider's shape, not the service's error envelope.
 */
export function credentialRoutes(deps: AppDeps): Router {
  const router = Router();
  router.get('/v1/credentials/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!SESSION_ID_PATTERN.test(id)) throw new ApiError(404, 'SessionNotFound', 'no such session');
    const token = req.get('authorization') ?? '';
    if (token.length === 0 || token.length > 512) throw new ApiError(401, 'InvalidToken', 'the Authorization header must carry the session token');
    const c = await refreshCredentials(deps, id, token, locals(res).requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: rfc3339(c.expiration), AccountId: c.assumedRoleArn.split(':')[4] });
  });
  router.use('/v1/credentials', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', 'internal error', { cause: err });
    if (e.status >= 500) deps.logger.error({ requestId: locals(res).requestId, code: e.code, err: (err as Error)?.message }, 'refresh failed');
    if (e.retryAfter !== undefined) res.setHeader('Retry-After', String(e.retryAfter));
    res.status(e.status).json({ Code: e.code, Message: e.expose ? e.message : 'internal error' });
  });
  return router;
}
