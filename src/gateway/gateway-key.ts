import { createHmac } from 'node:crypto';
import { SESSION_ID_PATTERN } from '../vend/session-id';

/**
 * Gateway credentials: the access key id names the session, the secret is derived from it with the server's
 * gateway key, so nothing secret is stored anywhere (Redis holds no secret) and every replica with the same key
 * computes the same secret. The id starts with `SVGW`, never AKIA/ASIA, so nobody mistakes it for an AWS key
 * and AWS would refuse it outright; the secret is worth nothing outside this gateway.
 */
export const GATEWAY_KEY_PREFIX = 'SVGW';
const KEY_ID = new RegExp(`^${GATEWAY_KEY_PREFIX}([A-Za-z0-9]{12})$`);

export function gatewayAccessKeyId(sessionId: string): string {
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new TypeError('invalid session id');
  return `${GATEWAY_KEY_PREFIX}${sessionId}`;
}

/** The session id a gateway access key id names, or undefined when it is not one. */
export function sessionIdOfKey(accessKeyId: string): string | undefined {
  return KEY_ID.exec(accessKeyId)?.[1];
}

/** HMAC-SHA256(server gateway key, versioned key id), base64url: 43 characters, like an AWS secret's 40. */
export function gatewaySecret(serverKey: Buffer, accessKeyId: string): string {
  return createHmac('sha256', serverKey).update(`sts-vend gateway v1\n${accessKeyId}`).digest('base64url');
}
