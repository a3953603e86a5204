import { Router, type Request } from 'express';
import type { AppDeps } from '../deps';
import { gatewayAccessKeyId, gatewaySecret } from '../gateway/gateway-key';
import type { SessionRecord } from '../sessions/record';
import { vendCredentials, type VendRequest } from '../vend/vend-credentials';
import { authenticate, locals, validate } from './middleware';

/** POST /v1/vend: the whole story lives in vendCredentials; this only adapts HTTP. */
export function vendRoutes(deps: AppDeps): Router {
  const router = Router();
  router.post('/v1/vend', authenticate(deps), validate(deps, 'POST', '/v1/vend'), async (req, res) => {
    const stop = deps.metrics.vendDuration.startTimer();
    const { requestId, identity } = locals(res);
    try {
      const { session, tags, credentials, containerToken } = await vendCredentials(deps, identity!, req.body as VendRequest, requestId);
      res.setHeader('Cache-Control', 'no-store');
      if (session.delivery === 'gateway') {
        res.json(gatewayAnswer(deps, session, tags));
        stop({ outcome: 'allowed' });
        return;
      }
      res.json({
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
      });
      stop({ outcome: 'allowed' });
    } catch (err) {
      stop({ outcome: 'refused' });
      throw err;
    }
  });
  return router;
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

/**
 * A gateway vend answers gateway credentials and no AWS credential: the real ones stay in the service. The
 * gateway credentials work until the session ends (`expiresAt` = `sessionExpiresAt`).
 */
function gatewayAnswer(deps: AppDeps, session: SessionRecord, tags: Record<string, string>): Record<string, unknown> {
  const gw = deps.gateway!;
  const accessKeyId = gatewayAccessKeyId(session.id);
  const endsAt = session.sessionEndsAt ?? session.expiresAt;
  return {
    sessionId: session.id,
    template: session.template,
    roleArn: session.roleArn,
    assumedRoleArn: session.assumedRoleArn,
    roleSessionName: session.roleSessionName,
    sourceIdentity: session.sourceIdentity,
    tags,
    expiresAt: endsAt,
    sessionExpiresAt: endsAt,
    packedPolicySize: session.packedPolicySize ?? 0,
    gateway: { endpointUrl: gw.endpointUrl ?? '', accessKeyId, secretAccessKey: gatewaySecret(gw.key, accessKeyId), region: deps.config.aws.region },
  };
}
