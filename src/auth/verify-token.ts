import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyOptions, type KeyLike } from 'jose';
import type { IssuerConfig } from '../config-types';
import { authError, mapJoseError } from './auth-errors';
import { findBoundClaimMismatch, mapIdentity } from './claims';
import type { Identity } from './identity';
import { findIllFormed } from '../well-formed';
import { createIssuerKeys, type IssuerKeyResolver } from './issuer-keys';
import { VerifiedTokens } from './verified-tokens';

/** Asymmetric JWS algorithms only: `none` and every HS* (shared-secret) algorithm are refused at start. */
export const ALLOWED_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
];

export interface TokenVerifierOptions {
  /** Clock for exp/nbf/iat checks (jose's `currentDate`). */
  now?: () => Date;
  /** Timeout of one discovery or JWKS request (default 3000 ms). */
  fetchTimeoutMs?: number;
  /** Minimum time between JWKS refreshes caused by an unknown kid (default 30 s). */
  cooldownMs?: number;
  /** Cached JWKS age after which it is fetched again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** Tokens longer than this are refused before any parsing (default 8 KiB). */
  maxTokenBytes?: number;
  /**
   * How long a verified token is answered from memory, within its own exp and maximum age and never longer than
   * `cacheMaxAgeMs` (default 60 s; 0 turns it off). See src/auth/verified-tokens.ts.
   */
  verifiedTokenMaxAgeMs?: number;
}

export interface TokenVerifier {
  /** Verifies a bearer JWT and maps it to an Identity, or throws an ApiError with an auth code. */
  verify(token: string): Promise<Identity>;
}

interface TrustedIssuer {
  config: IssuerConfig;
  keys: IssuerKeyResolver;
}

// Three base64url segments; the signature may be empty so that `alg: none` reaches the algorithm check.
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A wrong setup is not a wrong request: list every issuer problem and refuse to start. */
function checkIssuers(issuers: IssuerConfig[]): void {
  const problems: string[] = [];
  if (issuers.length === 0) problems.push('at least one issuer is required');
  const seen = new Set<string>();
  issuers.forEach((iss, i) => {
    const at = `issuers.${i} (${iss.name})`;
    if (seen.has(iss.issuer)) problems.push(`${at}: issuer ${iss.issuer} is configured twice`);
    seen.add(iss.issuer);
    if (!URL.canParse(iss.issuer)) problems.push(`${at}: issuer is not a URL`);
    if (iss.jwksUri !== undefined && !URL.canParse(iss.jwksUri)) problems.push(`${at}: jwksUri is not a URL`);
    if (iss.audiences.length === 0) problems.push(`${at}: audiences must not be empty`);
    if (iss.algorithms.length === 0) problems.push(`${at}: algorithms must not be empty`);
    for (const alg of iss.algorithms) {
      if (!ALLOWED_ALGORITHMS.includes(alg)) {
        problems.push(`${at}: algorithm ${alg} is not allowed (asymmetric algorithms only: ${ALLOWED_ALGORITHMS.join(', ')})`);
      }
    }
    if (!iss.claims.developer) problems.push(`${at}: claims.developer is required`);
  });
  if (problems.length > 0) throw new TypeError(`invalid issuer configuration:\n  - ${problems.join('\n  - ')}`);
}

/** Reads `iss` and `alg` without verifying anything, only to pick the issuer and refuse early. */
function peek(token: string): { iss: unknown; alg: unknown } {
  if (!JWS_COMPACT.test(token)) throw authError('malformed_token');
  try {
    return { alg: decodeProtectedHeader(token).alg, iss: decodeJwt(token).iss };
  } catch (err) {
    throw authError('malformed_token', { cause: err });
  }
}

/**
 * Signature and registered claims through jose. A token without `kid` against a key set holding several
 * keys of its type gets each candidate tried (jose's documented pattern for multiple matching keys).
 */
async function verifyWithJose(token: string, issuer: TrustedIssuer, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, issuer.keys, options)).payload;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw mapJoseError(err);
    for await (const key of err as AsyncIterable<KeyLike>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if ((inner as { code?: unknown }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw mapJoseError(inner);
      }
    }
    throw authError('invalid_signature', { cause: err });
  }
}

/**
 * Builds the verifier for every configured issuer. A token picks its issuer by its (unverified) `iss`,
 * matched exactly; from there everything is pinned to that issuer: keys, `iss`, audiences, algorithms,
 * clock tolerance, maximum token age, required claims and bound claims.
 */
export function createTokenVerifier(issuers: IssuerConfig[], opts: TokenVerifierOptions = {}): TokenVerifier {
  checkIssuers(issuers);
  const now = opts.now ?? (() => new Date());
  const maxTokenBytes = opts.maxTokenBytes ?? 8192;
  const settings = {
    fetchTimeoutMs: opts.fetchTimeoutMs ?? 3000,
    cooldownMs: opts.cooldownMs ?? 30_000,
    cacheMaxAgeMs: opts.cacheMaxAgeMs ?? 600_000,
  };
  const byIss = new Map<string, TrustedIssuer>(
    issuers.map((config) => [config.issuer, { config, keys: createIssuerKeys(config, settings) }]),
  );
  // Never trusted longer than the keys it was checked with are kept.
  const verified = new VerifiedTokens(Math.min(opts.verifiedTokenMaxAgeMs ?? 60_000, settings.cacheMaxAgeMs));

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0) throw authError('missing_token');
      if (Buffer.byteLength(token, 'utf8') > maxTokenBytes) throw authError('token_too_large');
      const known = verified.get(token, now().getTime());
      if (known) return known;
      const { iss, alg } = peek(token);
      if (iss === undefined) throw authError('missing_claim', { claim: 'iss' });
      const issuer = typeof iss === 'string' ? byIss.get(iss) : undefined;
      if (!issuer) throw authError('unknown_issuer');
      const { config } = issuer;
      // Before any key lookup: `none`, HS* and algorithms this issuer does not use never reach a key.
      if (typeof alg !== 'string' || !config.algorithms.includes(alg)) throw authError('unsupported_algorithm');

      const at = now();
      const tolerance = config.clockToleranceSeconds;
      const payload = await verifyWithJose(token, issuer, {
        issuer: config.issuer,
        audience: config.audiences,
        algorithms: config.algorithms,
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: at,
        ...(config.maxTokenAgeSeconds !== undefined ? { maxTokenAge: config.maxTokenAgeSeconds } : {}),
      });
      // jose checks a future iat only with maxTokenAge; a token from the future is never valid yet.
      if (typeof payload.iat === 'number' && payload.iat > Math.floor(at.getTime() / 1000) + tolerance) {
        throw authError('token_not_yet_valid');
      }
      // A token for years is a long-lived secret whatever its signature: refuse it (`maxTokenLifetimeSeconds`).
      if (typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat > config.maxTokenLifetimeSeconds) {
        throw authError('token_lifetime_too_long');
      }
      const claims = payload as Record<string, unknown>;
      // Before any claim is read: a lone surrogate must not reach a key, a glob, Redis or a log line.
      // No detail: the failing path is made of the token's own claim names.
      if (findIllFormed(claims, 'claims') !== undefined) throw authError('ill_formed_claim');
      const mismatch = findBoundClaimMismatch(claims, config.boundClaims);
      if (mismatch !== undefined) throw authError('bound_claim_mismatch', { claim: mismatch });
      const identity = mapIdentity(config, claims);
      // exp and iat are required claims, numbers once jose accepted them.
      verified.set(token, identity, { nowMs: at.getTime(), exp: payload.exp!, iat: payload.iat!, toleranceSeconds: tolerance, maxTokenAgeSeconds: config.maxTokenAgeSeconds });
      return identity;
    },
  };
}
