import type { IssuerConfig } from '../../src/config-types';
import { ApiError } from '../../src/errors';
import { createTokenVerifier, type TokenVerifier } from '../../src/auth/verify-token';
import type { AuthErrorCode } from '../../src/auth/auth-errors';
import {
  claimsOf, hmacWithPublicKey, startTestIssuer, tamperPayload, tamperSignature, testClock, unsignedToken,
  type TestIssuer,
} from '../helpers/test-issuer';

// The JWT attack table: each hostile token is refused with its own stable code,
// through a real dev issuer serving discovery and JWKS over HTTP.
const clock = testClock();
let corp: TestIssuer;
let other: TestIssuer;

beforeAll(async () => {
  [corp, other] = await Promise.all([startTestIssuer(), startTestIssuer({ name: 'other' })]);
});
afterAll(() => Promise.all([corp.stop(), other.stop()]));

const alice = { email: 'alice@example.com', groups: ['backend'], project: 'backend-api' };
const mint = (claims: Record<string, unknown> = {}, opts: Parameters<TestIssuer['mint']>[1] = {}) =>
  corp.mint({ ...alice, ...claims }, { issuedAt: clock.epoch(), ...opts });
const verifierFor = (overrides: Partial<IssuerConfig> = {}): TokenVerifier =>
  createTokenVerifier([corp.config(overrides)], { now: clock.now, cooldownMs: 0 });

/** The refusal, checked to be an ApiError that echoes no part of the token. */
async function refusal(verifier: TokenVerifier, token: string): Promise<ApiError> {
  const err: unknown = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  const api = err as ApiError;
  const said = `${api.message} ${JSON.stringify(api.details ?? {})}`;
  for (const part of [token, ...token.split('.')].filter((p) => p.length > 8)) expect(said).not.toContain(part);
  return api;
}

interface Row {
  name: string;
  token: () => Promise<string> | string;
  config?: Partial<IssuerConfig>;
  code: AuthErrorCode;
  claim?: string;
}

const past = (s: number) => clock.epoch() - s;
const rows: Row[] = [
  { name: 'alg none', token: async () => unsignedToken(claimsOf(await mint())), code: 'unsupported_algorithm' },
  { name: 'alg none carrying a real kid', token: async () => unsignedToken(claimsOf(await mint()), { kid: corp.publicJwks()[0]!.kid }), code: 'unsupported_algorithm' },
  { name: 'HS256 signed with the public key (RS/HS confusion)', token: async () => hmacWithPublicKey(corp.publicJwks()[0]!, claimsOf(await mint())), code: 'unsupported_algorithm' },
  // The issuer publishes an ES256 key, so only the allow-list stands in the way.
  { name: 'ES256 token to an issuer allowed RS256 only', token: () => mint({}, { alg: 'ES256' }), config: { algorithms: ['RS256'] }, code: 'unsupported_algorithm' },
  { name: 'expired', token: () => mint({}, { issuedAt: past(700), expiresInSeconds: 600 }), code: 'token_expired' },
  { name: 'nbf in the future', token: () => mint({}, { notBefore: clock.epoch() + 120 }), code: 'token_not_yet_valid' },
  { name: 'iat in the future', token: () => mint({}, { issuedAt: clock.epoch() + 120 }), code: 'token_not_yet_valid' },
  { name: 'iat older than maxTokenAgeSeconds', token: () => mint({}, { issuedAt: past(900), expiresInSeconds: 3600 }), config: { maxTokenAgeSeconds: 600 }, code: 'token_too_old' },
  { name: 'iss of no configured issuer', token: () => mint({ iss: 'https://evil.example.com' }), code: 'unknown_issuer' },
  { name: 'iss differing only by a trailing slash', token: () => mint({ iss: `${corp.issuer}/` }), code: 'unknown_issuer' },
  { name: 'no iss', token: () => mint({ iss: undefined }), code: 'missing_claim', claim: 'iss' },
  { name: "configured iss, another issuer's key", token: () => other.mint({ ...alice, iss: corp.issuer }, { issuedAt: clock.epoch() }), code: 'unknown_key' },
  { name: "configured iss, another issuer's key under our kid", token: () => other.mint({ ...alice, iss: corp.issuer }, { issuedAt: clock.epoch(), kid: corp.publicJwks()[0]!.kid! }), code: 'invalid_signature' },
  { name: 'wrong aud', token: () => mint({}, { audience: 'someone-else' }), code: 'invalid_audience' },
  { name: 'aud array without ours', token: () => mint({}, { audience: ['a', 'b'] }), code: 'invalid_audience' },
  { name: 'no aud', token: () => mint({ aud: undefined }), code: 'missing_claim', claim: 'aud' },
  { name: 'unknown kid, still unknown after refresh', token: () => mint({}, { kid: 'no-such-key' }), code: 'unknown_key' },
  { name: 'tampered payload', token: async () => tamperPayload(await mint(), { email: 'root@example.com', groups: ['secops'] }), code: 'invalid_signature' },
  { name: 'tampered signature (RS256)', token: async () => tamperSignature(await mint()), code: 'invalid_signature' },
  { name: 'tampered signature (ES256)', token: async () => tamperSignature(await mint({}, { alg: 'ES256' })), code: 'invalid_signature' },
  { name: 'no sub', token: () => mint({ sub: undefined }), code: 'missing_claim', claim: 'sub' },
  { name: 'no exp', token: () => mint({ exp: undefined }), code: 'missing_claim', claim: 'exp' },
  { name: 'no iat', token: () => mint({ iat: undefined }), code: 'missing_claim', claim: 'iat' },
  { name: 'no developer claim', token: () => mint({ email: undefined, sub: 'alice' }), code: 'missing_claim', claim: 'email' },
  { name: 'developer claim not a string', token: () => mint({ email: 42 }), code: 'invalid_claim', claim: 'email' },
  { name: 'groups not strings', token: () => mint({ groups: [{ admin: true }] }), code: 'invalid_claim', claim: 'groups' },
  { name: 'exp not a number', token: () => mint({ exp: 'tomorrow' }), code: 'invalid_claim', claim: 'exp' },
  { name: 'oversized token', token: () => mint({ padding: 'x'.repeat(9000) }), code: 'token_too_large' },
  { name: 'oversized garbage, refused before parsing', token: () => 'not-a-jwt'.repeat(1000), code: 'token_too_large' },
  { name: 'not three segments', token: () => 'abc.def', code: 'malformed_token' },
  { name: 'four segments', token: async () => `${await mint()}.extra`, code: 'malformed_token' },
  { name: 'header not JSON', token: async () => `bm90LWpzb24.${(await mint()).split('.').slice(1).join('.')}`, code: 'malformed_token' },
  { name: 'payload not a JSON object', token: () => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('[1,2]').toString('base64url')}.c2ln`, code: 'malformed_token' },
  { name: 'empty token', token: () => '', code: 'missing_token' },
];

describe('verify: the JWT attack table', () => {
  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const token = await row.token();
    const err = await refusal(verifierFor(row.config), token);
    expect(err.code).toBe(row.code);
    expect(err.status).toBe(401);
    if (row.claim) expect(err.details).toEqual({ claim: row.claim });
  });
});

describe('verify: tokens that must pass', () => {
  const verifier = () => verifierFor();
  it('maps a valid RS256 token to an Identity', async () => {
    const identity = await verifier().verify(await mint());
    expect(identity).toMatchObject({
      issuer: 'corp', iss: corp.issuer, subject: 'alice@example.com', developer: 'alice@example.com',
      project: 'backend-api', groups: ['backend'], accessType: 'AI',
    });
    expect(identity.claims.aud).toBe('sts-vend');
  });
  it('accepts ES256 from an issuer that allows it', async () => {
    await expect(verifier().verify(await mint({}, { alg: 'ES256' }))).resolves.toMatchObject({ developer: 'alice@example.com' });
  });
  it('accepts an aud array that contains ours', async () => {
    await expect(verifier().verify(await mint({}, { audience: ['other', 'sts-vend'] }))).resolves.toBeDefined();
  });
  it('accepts exp and nbf within the clock tolerance, and refuses them just outside it', async () => {
    const v = verifier();
    await expect(v.verify(await mint({}, { issuedAt: past(620), expiresInSeconds: 600 }))).resolves.toBeDefined();
    await expect(v.verify(await mint({}, { notBefore: clock.epoch() + 25 }))).resolves.toBeDefined();
    expect((await refusal(v, await mint({}, { issuedAt: past(631), expiresInSeconds: 600 }))).code).toBe('token_expired');
    expect((await refusal(v, await mint({}, { notBefore: clock.epoch() + 31 }))).code).toBe('token_not_yet_valid');
  });
  it('a token valid now expires when the clock moves past exp', async () => {
    const moving = testClock(clock.now());
    const v = createTokenVerifier([corp.config()], { now: moving.now });
    const token = await mint({}, { expiresInSeconds: 300 });
    await expect(v.verify(token)).resolves.toBeDefined();
    moving.advance(331);
    expect((await refusal(v, token)).code).toBe('token_expired');
  });
  it('a token right at maxTokenAgeSeconds is still accepted', async () => {
    const v = verifierFor({ maxTokenAgeSeconds: 600 });
    await expect(v.verify(await mint({}, { issuedAt: past(600), expiresInSeconds: 3600 }))).resolves.toBeDefined();
  });
  it('maxTokenBytes is configurable', async () => {
    const token = await mint();
    const v = createTokenVerifier([corp.config()], { now: clock.now, maxTokenBytes: token.length - 1 });
    expect((await refusal(v, token)).code).toBe('token_too_large');
  });
});

describe('verify: configuration is checked at start', () => {
  it.each([
    ['HS256 in the allow-list', { algorithms: ['RS256', 'HS256'] }, /HS256 is not allowed/],
    ['none in the allow-list', { algorithms: ['none'] }, /none is not allowed/],
    ['no algorithms', { algorithms: [] }, /algorithms must not be empty/],
    ['no audiences', { audiences: [] }, /audiences must not be empty/],
  ])('%s is a TypeError', (_name, overrides, message) => {
    expect(() => createTokenVerifier([corp.config(overrides as Partial<IssuerConfig>)])).toThrow(message);
  });
  it('refuses the same issuer URL twice (selection by iss must be unambiguous)', () => {
    expect(() => createTokenVerifier([corp.config(), corp.config({ name: 'again' })])).toThrow(/configured twice/);
  });
});
