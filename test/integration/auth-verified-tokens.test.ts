/**
 * The verifier answers a token it verified recently from memory (src/auth/verified-tokens.ts), and only within
 * the bounds the token itself would pass. A remembered answer is observable: it is the very identity object
 * answered before, where a verification builds a new one. Time is a fake clock the verifier reads.
 */
import { ApiError } from '../../src/errors';
import { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from '../../src/auth/verify-token';
import type { IssuerConfig } from '../../src/config-types';
import { startTestIssuer, testClock, type TestIssuer } from '../helpers/test-issuer';

const alice = { email: 'alice@example.com', groups: ['backend'], project: 'backend-api' };

let idp: TestIssuer;
beforeEach(async () => {
  idp = await startTestIssuer();
});
afterEach(() => idp.stop());

function verifierFor(clock: ReturnType<typeof testClock>, config: Partial<IssuerConfig> = {}, opts: TokenVerifierOptions = {}): TokenVerifier {
  return createTokenVerifier([idp.config(config)], { now: clock.now, cooldownMs: 0, cacheMaxAgeMs: 120_000, ...opts });
}

async function code(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return (err as ApiError).code;
}

it('answers a token it verified from memory (the same frozen identity), and any other token afresh', async () => {
  const clock = testClock();
  const v = verifierFor(clock);
  const token = await idp.mint(alice, { issuedAt: clock.epoch() });
  const other = await idp.mint({ ...alice, email: 'bob@example.com' }, { issuedAt: clock.epoch() });
  const first = await v.verify(token);
  clock.advance(30);
  // A fresh verification builds a new identity; the remembered one is the very object answered before.
  expect(await v.verify(token)).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  const bob = await v.verify(other);
  expect(bob).not.toBe(first);
  expect(bob.developer).toBe('bob@example.com');
  // One character of the signature changed: not the remembered token, and refused.
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  expect(await code(v.verify(`${token.slice(0, -2)}${last}${token.slice(-1)}`))).toBe('invalid_signature');
});

it('forgets a verified token after verifiedTokenMaxAgeMs, and keeps none when the JWKS is not kept', async () => {
  const clock = testClock();
  const v = verifierFor(clock, {}, { verifiedTokenMaxAgeMs: 10_000 });
  const token = await idp.mint(alice, { issuedAt: clock.epoch() });
  const first = await v.verify(token);
  clock.advance(9);
  expect(await v.verify(token)).toBe(first);
  clock.advance(2);
  const second = await v.verify(token);
  expect(second).not.toBe(first);
  expect(second).toEqual(first);

  // cacheMaxAgeMs 0 (the keys are fetched for every check): nothing is remembered either.
  const uncached = verifierFor(clock, {}, { cacheMaxAgeMs: 0 });
  expect(await uncached.verify(token)).not.toBe(await uncached.verify(token));
});

it('refuses a remembered token once it expires, clock tolerance included', async () => {
  const clock = testClock();
  const v = verifierFor(clock, { clockToleranceSeconds: 30 });
  const token = await idp.mint(alice, { issuedAt: clock.epoch(), expiresInSeconds: 20 });
  const first = await v.verify(token);
  clock.advance(49);
  expect(await v.verify(token)).toBe(first);
  clock.advance(1);
  expect(await code(v.verify(token))).toBe('token_expired');
});

it('refuses a remembered token once it is older than maxTokenAgeSeconds', async () => {
  const clock = testClock();
  const v = verifierFor(clock, { clockToleranceSeconds: 0, maxTokenAgeSeconds: 60 }, { verifiedTokenMaxAgeMs: 300_000 });
  const token = await idp.mint(alice, { issuedAt: clock.epoch(), expiresInSeconds: 3600 });
  const first = await v.verify(token);
  clock.advance(59);
  expect(await v.verify(token)).toBe(first);
  clock.advance(2);
  expect(await code(v.verify(token))).toBe('token_too_old');
});

it('keeps no refusal: a token refused once is checked again', async () => {
  const clock = testClock();
  const v = verifierFor(clock);
  // Not valid yet (iat 10 minutes ahead): refused, then valid once the clock gets there.
  const token = await idp.mint(alice, { issuedAt: clock.epoch() + 600, expiresInSeconds: 3600 });
  expect(await code(v.verify(token))).toBe('token_not_yet_valid');
  clock.advance(600);
  await expect(v.verify(token)).resolves.toMatchObject({ developer: 'alice@example.com' });
});
