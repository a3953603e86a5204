/**
 * The two sessions a gateway section compares: one vended for the gateway (the agent's gateway credentials) and
 * one vended plainly (the real credentials the direct baseline signs with), same template and parameters.
 */
import type { DevIssuer } from '../src/dev/dev-issuer';
import { keepAliveAgent, request } from './load';
import { agentClaims } from './world';

export interface GatewayCredentials {
  endpointUrl: string;
  accessKeyId: string;
  secretAccessKey: string;
  proxyUrl?: string;
  caBundle?: string;
}

export interface RealCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Vends both, as agent number `agent`, for an hour. */
export async function vendGatewayAndReal(
  serviceUrl: string,
  issuer: DevIssuer,
  agent: number,
  body: Record<string, unknown>,
): Promise<{ gw: GatewayCredentials; real: RealCredentials }> {
  const token = await issuer.mint(agentClaims(agent), { expiresInSeconds: 3600 });
  const probe = keepAliveAgent(1);
  const vend = async (extra: Record<string, unknown>) => {
    const res = await request(probe, `${serviceUrl}/v1/vend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, ...extra }),
    });
    if (res.status !== 200) throw new Error(`vend failed: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as { gateway?: GatewayCredentials; credentials?: RealCredentials };
  };
  try {
    const gw = (await vend({ delivery: 'gateway', sessionDurationSeconds: 3600 })).gateway!;
    // The SDK's credential shape: expiration would have to be a Date, and is not needed.
    const { accessKeyId, secretAccessKey, sessionToken } = (await vend({ durationSeconds: 3600 })).credentials!;
    return { gw, real: { accessKeyId, secretAccessKey, sessionToken } };
  } finally {
    probe.destroy();
  }
}
