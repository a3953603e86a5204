import { ApiError } from '../errors';

/**
 * The closed list of authentication failures, with their HTTP status and the one message each answers.
 * Messages are fixed text: they never echo the token, a claim value, or which key was tried. Where the
 * failing claim's name helps the caller fix its setup it goes in `details.claim` (a name from our config
 * or from the JWT spec, never a value).
 */
export const AUTH_ERRORS = {
  missing_token: { status: 401, message: 'An Authorization header with a Bearer token is required' },
  malformed_token: { status: 401, message: 'The bearer token is not a well-formed signed JWT' },
  token_too_large: { status: 401, message: 'The bearer token is too large' },
  unknown_issuer: { status: 401, message: 'The token issuer is not trusted' },
  invalid_audience: { status: 401, message: 'The token audience is not accepted' },
  unsupported_algorithm: { status: 401, message: 'The token signing algorithm is not allowed for this issuer' },
  invalid_signature: { status: 401, message: 'The token signature is invalid' },
  unknown_key: { status: 401, message: 'The token is signed with a key the issuer does not publish' },
  token_expired: { status: 401, message: 'The token has expired' },
  token_not_yet_valid: { status: 401, message: 'The token is not valid yet' },
  token_too_old: { status: 401, message: 'The token was issued too long ago' },
  token_lifetime_too_long: { status: 401, message: "The token's lifetime (exp - iat) is longer than this issuer allows" },
  ambiguous_authorization: { status: 401, message: 'The request carries more than one Authorization header' },
  ill_formed_claim: { status: 401, message: 'A token claim is not well-formed Unicode' },
  missing_claim: { status: 401, message: 'The token lacks a required claim' },
  invalid_claim: { status: 401, message: 'A token claim has the wrong type or is empty' },
  bound_claim_mismatch: { status: 401, message: "The token's claims do not satisfy this issuer's bound claims" },
  // An IdP outage (or a broken discovery/JWKS document) is not the caller's fault: 503, retry later.
  jwks_unavailable: { status: 503, message: "The token issuer's signing keys cannot be fetched right now" },
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

/** Every authentication error code, for openapi.yaml and the auth-failure metric. */
export const AUTH_ERROR_CODES = Object.keys(AUTH_ERRORS) as AuthErrorCode[];

/** Seconds a caller should wait after `jwks_unavailable` (a short outage or a deploy at the IdP). */
export const JWKS_RETRY_AFTER_SECONDS = 5;

/** Builds the ApiError for one code, keeping the underlying error as `cause` for the logs. */
export function authError(code: AuthErrorCode, opts: { cause?: unknown; claim?: string } = {}): ApiError {
  const { status, message } = AUTH_ERRORS[code];
  return new ApiError(status, code, message, {
    cause: opts.cause,
    ...(opts.claim !== undefined ? { details: { claim: opts.claim } } : {}),
    // The IdP being down is worth telling the caller plainly (fixed text, no detail of what broke).
    ...(code === 'jwks_unavailable' ? { retryAfter: JWKS_RETRY_AFTER_SECONDS, expose: true } : {}),
  });
}

interface JoseLikeError {
  code?: unknown;
  claim?: unknown;
  reason?: unknown;
}

/**
 * Translates an error thrown by jose's `jwtVerify` into our code, keeping it as `cause`. Errors that
 * are not jose's token errors (a bug, an unexpected TypeError) are returned unchanged so they become a
 * 500 instead of blaming the caller.
 */
export function mapJoseError(err: unknown): unknown {
  if (err instanceof ApiError || typeof err !== 'object' || err === null) return err;
  const { code, claim, reason } = err as JoseLikeError;
  const name = typeof claim === 'string' ? claim : undefined;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      // jose reports maxTokenAge overruns as an expiry of the iat claim.
      return authError(name === 'iat' ? 'token_too_old' : 'token_expired', { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return authError('missing_claim', { cause: err, ...(name ? { claim: name } : {}) });
      if (reason === 'invalid') return authError('invalid_claim', { cause: err, ...(name ? { claim: name } : {}) });
      if (name === 'aud') return authError('invalid_audience', { cause: err });
      if (name === 'iss') return authError('unknown_issuer', { cause: err });
      if (name === 'nbf' || name === 'iat') return authError('token_not_yet_valid', { cause: err });
      return authError('invalid_claim', { cause: err, ...(name ? { claim: name } : {}) });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authError('invalid_signature', { cause: err });
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authError('unsupported_algorithm', { cause: err });
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED': // e.g. an unrecognised `crit` header: we cannot honour the token
      return authError('malformed_token', { cause: err });
    default:
      return err;
  }
}
