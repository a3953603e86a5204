import { createRemoteJWKSet, type FlattenedJWSInput, type JWTHeaderParameters, type KeyLike } from 'jose';
import type { IssuerConfig } from '../config-types';
import { authError } from './auth-errors';

/** How hard we lean on an issuer's endpoints; every value pinned by the caller. */
export interface KeyFetchSettings {
  /** Timeout of one discovery or JWKS request. */
  fetchTimeoutMs: number;
  /** Minimum time between two JWKS refreshes triggered by an unknown `kid`. */
  cooldownMs: number;
  /** Age after which the cached JWKS is fetched again before use. */
  cacheMaxAgeMs: number;
}

/** jose's key-resolver shape, with our error codes already applied. */
export type IssuerKeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

function unavailable(reason: string, cause?: unknown) {
  return authError('jwks_unavailable', { cause: new Error(reason, cause === undefined ? undefined : { cause }) });
}

/**
 * Finds the JWKS URL through OIDC discovery. The document's `issuer` must equal the configured one
 * exactly (OIDC Discovery 1.0 section 4.3): otherwise a document served for another issuer could
 * hand us someone else's keys. Every failure is the IdP's, so it is `jwks_unavailable` (503).
 */
async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let doc: unknown;
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    doc = await res.json();
  } catch (err) {
    throw unavailable(`OIDC discovery for ${issuer} failed`, err);
  }
  if (typeof doc !== 'object' || doc === null) throw unavailable(`OIDC discovery for ${issuer}: not a JSON object`);
  const { issuer: docIssuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (docIssuer !== issuer) throw unavailable(`OIDC discovery for ${issuer}: document names another issuer`);
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw unavailable(`OIDC discovery for ${issuer}: jwks_uri missing or not a URL`);
  }
  const parsed = new URL(jwksUri);
  // Plain http only when the issuer itself is plain http (the dev issuer on loopback).
  const allowed = new URL(issuer).protocol === 'http:' ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(parsed.protocol)) throw unavailable(`OIDC discovery for ${issuer}: jwks_uri must be https`);
  return parsed;
}

/**
 * Builds the key resolver of one issuer: its JWKS (configured, or discovered on first use and then
 * kept), cached by jose, refreshed on an unknown `kid` at most once per cooldown. A `kid` still unknown
 * after that is `unknown_key`; anything that stops us getting the keys is `jwks_unavailable`.
 * Several candidate keys (a token without `kid`) are passed through as jose's
 * ERR_JWKS_MULTIPLE_MATCHING_KEYS so the verifier can try each.
 */
export function createIssuerKeys(issuer: IssuerConfig, settings: KeyFetchSettings): IssuerKeyResolver {
  let remote: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const remoteSet = () => {
    remote ??= (issuer.jwksUri ? Promise.resolve(new URL(issuer.jwksUri)) : discoverJwksUri(issuer.issuer, settings.fetchTimeoutMs))
      .then((url) =>
        createRemoteJWKSet(url, {
          timeoutDuration: settings.fetchTimeoutMs,
          cooldownDuration: settings.cooldownMs,
          cacheMaxAge: settings.cacheMaxAgeMs,
        }),
      )
      .catch((err: unknown) => {
        // Forget the failure so the next request tries discovery again.
        remote = undefined;
        throw err;
      });
    return remote;
  };

  return async (header, token) => {
    const jwks = await remoteSet();
    try {
      return await jwks(header, token);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw authError('unknown_key', { cause: err });
      if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err;
      // Network errors, timeouts, non-200, bad JSON, a malformed key set: the IdP's problem.
      throw authError('jwks_unavailable', { cause: err });
    }
  };
}
