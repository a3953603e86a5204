import { errors } from 'jose';
import { ApiError } from '../../src/errors';
import { AUTH_ERRORS, AUTH_ERROR_CODES, authError, mapJoseError } from '../../src/auth/auth-errors';

describe('auth error codes', () => {
  it('is a closed list of 401s plus the one 503 for an unreachable IdP', () => {
    expect(AUTH_ERROR_CODES.filter((c) => AUTH_ERRORS[c].status !== 401)).toEqual(['jwks_unavailable']);
    expect(AUTH_ERRORS.jwks_unavailable.status).toBe(503);
  });

  it('jwks_unavailable carries Retry-After and its fixed message is exposed, like the 401s', () => {
    expect(authError('jwks_unavailable')).toMatchObject({ retryAfter: 5, expose: true });
    expect(authError('token_expired')).toMatchObject({ expose: true });
    expect(authError('token_expired').retryAfter).toBeUndefined();
  });

  it('puts the claim name in details, never in the message', () => {
    const err = authError('missing_claim', { claim: 'email' });
    expect(err.details).toEqual({ claim: 'email' });
    expect(err.message).toBe(AUTH_ERRORS.missing_claim.message);
  });
});

describe('mapJoseError', () => {
  const payload = {};
  it.each([
    [new errors.JWTExpired('x', payload, 'exp', 'check_failed'), 'token_expired', undefined],
    [new errors.JWTExpired('x', payload, 'iat', 'check_failed'), 'token_too_old', undefined],
    [new errors.JWTClaimValidationFailed('x', payload, 'nbf', 'check_failed'), 'token_not_yet_valid', undefined],
    [new errors.JWTClaimValidationFailed('x', payload, 'iat', 'check_failed'), 'token_not_yet_valid', undefined],
    [new errors.JWTClaimValidationFailed('x', payload, 'aud', 'check_failed'), 'invalid_audience', undefined],
    [new errors.JWTClaimValidationFailed('x', payload, 'iss', 'check_failed'), 'unknown_issuer', undefined],
    [new errors.JWTClaimValidationFailed('x', payload, 'sub', 'missing'), 'missing_claim', 'sub'],
    [new errors.JWTClaimValidationFailed('x', payload, 'nbf', 'invalid'), 'invalid_claim', 'nbf'],
    [new errors.JWTClaimValidationFailed('x', payload, 'typ', 'check_failed'), 'invalid_claim', 'typ'],
    [new errors.JWSSignatureVerificationFailed(), 'invalid_signature', undefined],
    [new errors.JOSEAlgNotAllowed(), 'unsupported_algorithm', undefined],
    [new errors.JWSInvalid(), 'malformed_token', undefined],
    [new errors.JWTInvalid(), 'malformed_token', undefined],
    [new errors.JOSENotSupported(), 'malformed_token', undefined],
  ])('%s -> %s', (joseError, code, claim) => {
    const mapped = mapJoseError(joseError);
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped).toMatchObject({ code, status: 401 });
    expect((mapped as ApiError).details).toEqual(claim === undefined ? undefined : { claim });
    expect((mapped as ApiError).cause).toBe(joseError);
  });

  it('leaves errors that are not token errors alone (they become a 500, not a 401)', () => {
    const bug = new TypeError('bug');
    expect(mapJoseError(bug)).toBe(bug);
    const already = authError('unknown_key');
    expect(mapJoseError(already)).toBe(already);
  });
});
