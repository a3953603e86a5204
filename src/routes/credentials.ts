import { Router, type NextFunction, type Request, type Response } from 'express';
import { rfc3339, reportedExpiration } from '../client/reported-expiration';
import { ApiError } from '../errors';
import { endHeldSession } from '../revoke/end-session';
import type { RevokePorts } from '../revoke/revoke-sessions';
import { SESSION_ID_PATTERN } from '../vend/session-id';
import { checkpointSession, refreshCredentials, type RefreshPorts } from '../vend/refresh-credentials';
import { locals } from './middleware';

/**
 * The routes a holder of a refreshable session's token uses, all answering in the container credentials
 * provider's shape (`Code`/`Message` on refusal), not the service's error envelope, because the SDKs read it:
 *
 * - GET /v1/credentials/{id}: the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI). The
 *   `Expiration` it reports is at most a minute ahead (src/client/reported-expiration.ts), so every SDK
 *   comes back before each call: each visit is a checkpoint served from this process's cached credential.
 * - GET /v1/credentials/{id}/checkpoint: the same checks, no credential; for clients that cache the credential
 *   themselves (`sts-vend credentials`, `sts-vend exec`) and only need to know the session is still good.
 * - DELETE /v1/credentials/{id}: end the session (`sts-vend exec` when its command exits), needing only the
 *   session's token, since the OIDC token that vended it may have expired by then.
 */
export function credentialRoutes(deps: RefreshPorts & RevokePorts): Router {
  const router = Router();
  router.get('/v1/credentials/:id', async (req, res) => {
    const { id, token } = holder(req);
    const c = await refreshCredentials(deps, id, token, locals(res).requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: rfc3339(reportedExpiration(c.expiration, deps.now())),
      // Not read by the SDKs: lets a client that caches the credential itself (exec, the CLI) know how long it lasts.
      CredentialExpiration: rfc3339(c.expiration),
      AccountId: c.assumedRoleArn.split(':')[4],
    });
  });
  router.get('/v1/credentials/:id/checkpoint', async (req, res) => {
    const { id, token } = holder(req);
    const { endsAt } = await checkpointSession(deps, id, token, locals(res).requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ SessionId: id, State: 'live', SessionExpiration: rfc3339(endsAt) });
  });
  router.delete('/v1/credentials/:id', async (req, res) => {
    const { id, token } = holder(req);
    const { pending } = await endHeldSession(deps, id, token, locals(res).requestId);
    res.json({ SessionId: id, State: 'ended', Pending: pending });
  });
  router.use('/v1/credentials', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', 'internal error', { cause: err });
    if (e.status >= 500) deps.logger.error({ requestId: locals(res).requestId, code: e.code, err: (err as Error)?.message }, 'refresh failed');
    if (e.retryAfter !== undefined) res.setHeader('Retry-After', String(e.retryAfter));
    res.status(e.status).json({ Code: e.code, Message: e.expose ? e.message : 'internal error' });
  });
  return router;
}

/** The session id and its raw token (no scheme) from a request, or the refusal the SDKs expect. */
function holder(req: Request): { id: string; token: string } {
  const id = String(req.params.id);
  if (!SESSION_ID_PATTERN.test(id)) throw new ApiError(404, 'SessionNotFound', 'no such session');
  // Two Authorization headers are refused as on every route (Node would quietly keep the first).
  const all = req.headersDistinct.authorization ?? [];
  if (all.length > 1) throw new ApiError(401, 'InvalidToken', 'the request carries more than one Authorization header');
  const token = all[0] ?? '';
  if (token.length === 0 || token.length > 512) throw new ApiError(401, 'InvalidToken', 'the Authorization header must carry the session token');
  return { id, token };
}
