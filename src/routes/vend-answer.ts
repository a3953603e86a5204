import type { Request } from 'express';
import type { components } from '../client/openapi-types';
import { gatewayAccessKeyId, gatewaySecret } from '../gateway/gateway-key';
import type { ConfigPort } from '../ports';
import type { VendResult } from '../vend/vend-credentials';

/** What a vend's answer reads: where the service is reached, its region, and the gateway's key, endpoint and proxy. */
export type VendAnswerPorts = ConfigPort<'server' | 'aws'> & { gateway?: { key: Buffer; endpointUrl?: string; proxy?: { url: string; caBundle: string } } };

/**
 * The 200 answer of a vend (and of collecting an approved request). A gateway vend answers gateway
 * credentials and no AWS credential: the real ones stay in the service, and the gateway credentials work until
 * the session ends (`expiresAt` = `sessionExpiresAt`). Typed as openapi.yaml's VendResponse.
 */
export function vendAnswer(deps: VendAnswerPorts, req: Request, { session, tags, credentials, containerToken }: VendResult): components['schemas']['VendResponse'] {
  const common = {
    sessionId: session.id,
    template: session.template,
    roleArn: session.roleArn,
    // What AWS answered; the session records the same once live.
    assumedRoleArn: credentials.assumedRoleArn,
    roleSessionName: session.roleSessionName,
    sourceIdentity: session.sourceIdentity,
    tags,
    packedPolicySize: session.packedPolicySize ?? 0,
  };
  if (session.delivery === 'gateway') {
    const gw = deps.gateway!;
    const accessKeyId = gatewayAccessKeyId(session.id);
    const endsAt = session.sessionEndsAt ?? session.expiresAt;
    return {
      ...common,
      expiresAt: endsAt,
      sessionExpiresAt: endsAt,
      gateway: {
        endpointUrl: gw.endpointUrl ?? '',
        accessKeyId,
        secretAccessKey: gatewaySecret(gw.key, accessKeyId),
        region: deps.config.aws.region,
        // Proxy mode: HTTPS_PROXY and the CA the agent trusts for AWS hosts (its certificate; the key stays here).
        ...(gw.proxy ? { proxyUrl: gw.proxy.url, caBundle: gw.proxy.caBundle } : {}),
      },
    };
  }
  return {
    ...common,
    expiresAt: credentials.expiration.toISOString(),
    sessionExpiresAt: session.sessionEndsAt ?? credentials.expiration.toISOString(),
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
export function publicUrl(deps: ConfigPort<'server'>, req: Request): string {
  if (deps.config.server.publicUrl) return deps.config.server.publicUrl;
  const { localAddress, localPort } = req.socket;
  // An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d.
  const address = (localAddress ?? '127.0.0.1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const host = address.includes(':') ? `[${address}]` : address;
  const scheme = deps.config.server.tls ? 'https' : 'http';
  return `${scheme}://${host}:${localPort ?? deps.config.server.port}`;
}
