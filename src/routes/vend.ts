import { Router, type Request } from 'express';
import type { AppDeps } from '../deps';
import { approvalBody, approvalRule, requestApproval } from '../approvals/approvals';
import { vendCredentials, type VendRequest, type VendResult } from '../vend/vend-credentials';
import { authenticate, locals, validate } from './middleware';

/** POST /v1/vend: the whole story lives in vendCredentials; this only adapts HTTP. */
export function vendRoutes(deps: AppDeps): Router {
  const router = Router();
  router.post('/v1/vend', authenticate(deps), validate(deps, 'POST', '/v1/vend'), async (req, res) => {
    const stop = deps.metrics.vendDuration.startTimer();
    const { requestId, identity } = locals(res);
    try {
      const body = req.body as VendRequest;
      // A template that requires approval: 202 with the request's id, nothing issued (src/approvals/).
      if (approvalRule(deps.templates.get(body.template))) {
        const approval = await requestApproval(deps, identity!, body, requestId);
        res.setHeader('Cache-Control', 'no-store');
        res.status(202).json(approvalBody(approval));
        stop({ outcome: 'approval' });
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json(vendAnswer(deps, req, await vendCredentials(deps, identity!, body, requestId)));
      stop({ outcome: 'allowed' });
    } catch (err) {
      stop({ outcome: 'refused' });
      throw err;
    }
  });
  return router;
}

/** The 200 answer of a vend (and of collecting an approved request). */
export function vendAnswer(deps: AppDeps, req: Request, { session, tags, credentials, containerToken }: VendResult): Record<string, unknown> {
  return {
    sessionId: session.id,
    template: session.template,
    roleArn: session.roleArn,
    assumedRoleArn: session.assumedRoleArn,
    roleSessionName: session.roleSessionName,
    sourceIdentity: session.sourceIdentity,
    tags,
    expiresAt: credentials.expiration.toISOString(),
    sessionExpiresAt: session.sessionEndsAt ?? credentials.expiration.toISOString(),
    packedPolicySize: session.packedPolicySize ?? 0,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration.toISOString(),
    },
    ...(containerToken ? { container: { url: `${publicUrl(deps, req)}/v1/credentials/${session.id}`, authorizationToken: containerToken } } : {}),
  };
}

/**
 * Where clients reach this service: `server.publicUrl`, else the address of the listener the request came in on.
 * Never the request's `Host` or `X-Forwarded-*`: a caller must not be able to point a container URL (which the
 * SDK will send the session's token to) at a host of its choosing.
 */
export function publicUrl(deps: AppDeps, req: Request): string {
  if (deps.config.server.publicUrl) return deps.config.server.publicUrl;
  const { localAddress, localPort } = req.socket;
  // An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d.
  const address = (localAddress ?? '127.0.0.1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const host = address.includes(':') ? `[${address}]` : address;
  const scheme = deps.config.server.tls ? 'https' : 'http';
  return `${scheme}://${host}:${localPort ?? deps.config.server.port}`;
}
