import { createHash, randomBytes } from 'node:crypto';
import type { IssuerConfig } from '../config-types';
import { ApiError } from '../errors';

/** The two endpoints of an issuer's discovery document the console signs in with. */
export interface Endpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

const TIMEOUT_MS = 3000;
const CACHE_MS = 10 * 60_000;

/** A fresh PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Reads `authorization_endpoint` and `token_endpoint` from the issuer's discovery document (cached), with the
 * same rule as the JWKS discovery: the document must name this issuer exactly.
 */
export function createDiscovery(fetchImpl: typeof fetch = fetch) {
  const cache = new Map<string, { at: number; endpoints: Endpoints }>();
  return async function endpoints(issuer: IssuerConfig, nowMs: number): Promise<Endpoints> {
    const hit = cache.get(issuer.issuer);
    if (hit && nowMs - hit.at < CACHE_MS) return hit.endpoints;
    const url = `${issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: Record<string, unknown>;
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      throw new ApiError(502, 'issuer_unavailable', `the issuer "${issuer.name}" did not answer its discovery document`, { cause: err, expose: true });
    }
    const { authorization_endpoint: a, token_endpoint: t } = doc;
    if (doc.issuer !== issuer.issuer || typeof a !== 'string' || typeof t !== 'string' || !/^https?:\/\//.test(a) || !/^https?:\/\//.test(t)) {
      throw new ApiError(502, 'issuer_unsupported', `the issuer "${issuer.name}" does not offer the authorization code flow`, { expose: true });
    }
    const found = { authorizationEndpoint: a, tokenEndpoint: t };
    cache.set(issuer.issuer, { at: nowMs, endpoints: found });
    return found;
  };
}

/** The issuer's sign-in URL for this console's client, state, nonce and PKCE challenge. */
export function authorizationUrl(e: Endpoints, p: { clientId: string; redirectUri: string; state: string; nonce: string; challenge: string }): string {
  const url = new URL(e.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('scope', 'openid email profile groups');
  url.searchParams.set('state', p.state);
  url.searchParams.set('nonce', p.nonce);
  url.searchParams.set('code_challenge', p.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** Trades the one-time code (and its verifier) for an ID token at the token endpoint. */
export async function exchangeCode(
  e: Endpoints,
  p: { clientId: string; redirectUri: string; code: string; verifier: string },
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, client_id: p.clientId, code_verifier: p.verifier });
  let answer: { id_token?: unknown };
  let status: number;
  try {
    const res = await fetchImpl(e.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
    status = res.status;
    answer = (await res.json().catch(() => ({}))) as { id_token?: unknown };
  } catch (err) {
    throw new ApiError(502, 'issuer_unavailable', 'the issuer did not answer the code exchange', { cause: err, expose: true });
  }
  if (status !== 200 || typeof answer.id_token !== 'string') throw new ApiError(401, 'sign_in_failed', 'the issuer refused the code exchange');
  return answer.id_token;
}
