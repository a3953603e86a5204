import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, base64url, type JWK } from 'jose';
import type { IssuerConfig } from '../../src/config-types';
import { DEV_AUDIENCE, startDevIssuer, type DevIssuer, type DevIssuerOptions } from '../../src/dev/dev-issuer';

/** A dev issuer plus the IssuerConfig that trusts it, as the service would be configured. */
export interface TestIssuer extends DevIssuer {
  config(overrides?: Partial<IssuerConfig>): IssuerConfig;
}

/** Starts a dev issuer on a free loopback port; `config()` defaults to the agent (`corp`) mapping. */
export async function startTestIssuer(opts: DevIssuerOptions & { name?: string } = {}): Promise<TestIssuer> {
  const dev = await startDevIssuer({ port: 0, ...opts });
  const name = opts.name ?? 'corp';
  return {
    ...dev,
    config: (overrides = {}) => ({
      name,
      issuer: dev.issuer,
      audiences: [DEV_AUDIENCE],
      algorithms: opts.algorithms ?? ['RS256', 'ES256'],
      accessType: 'AI',
      namespace: '',
      claims: { developer: 'email', project: 'project', groups: 'groups' },
      clockToleranceSeconds: 30,
      maxTokenLifetimeSeconds: 86400,
      ...overrides,
    }),
  };
}

/** A clock tests move by hand: verifiers take `now`, tokens are minted at `epoch()`. */
export function testClock(start = new Date('2026-03-01T12:00:00Z')) {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    epoch: () => Math.floor(ms / 1000),
    advance(seconds: number) {
      ms += seconds * 1000;
    },
  };
}

const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
const decodeSegment = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

/** An unsigned token (`alg: none`, empty signature) with the given claims. */
export function unsignedToken(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return `${encode({ alg: 'none', typ: 'JWT', ...header })}.${encode(claims)}.`;
}

/**
 * The RS/HS confusion attack: an HS256 token whose HMAC secret is the issuer's public key (PEM), as a
 * verifier that picks the algorithm from the token and the key from the JWKS would accept.
 */
export async function hmacWithPublicKey(publicJwk: JWK, claims: Record<string, unknown>): Promise<string> {
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...(publicJwk.kid ? { kid: publicJwk.kid } : {}) })
    .sign(new TextEncoder().encode(String(pem)));
}

/** The claims of a token, unverified (to build tampered copies). */
export const claimsOf = (token: string) => decodeSegment(token.split('.')[1] ?? '');

/** Same header and signature, payload changed: the signature no longer covers it. */
export function tamperPayload(token: string, patch: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  return `${header}.${encode({ ...decodeSegment(payload ?? ''), ...patch })}.${signature}`;
}

/** Same header and payload, one signature byte flipped (same length, so only the math can tell). */
export function tamperSignature(token: string): string {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature ?? '', 'base64url');
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** A tiny HTTP server with a canned behaviour, to play an IdP that is broken, hostile or silent. */
export async function startStubServer(handler: http.RequestListener): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A server that accepts connections and never answers (an IdP that hangs). */
export const startSilentServer = () => startStubServer(() => undefined);

/** A URL on which nothing listens: a stopped server's port. */
export async function deadUrl(): Promise<string> {
  const stub = await startStubServer(() => undefined);
  await stub.stop();
  return stub.url;
}
