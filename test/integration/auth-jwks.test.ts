import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuerConfig } from '../../src/config-types';
import { ApiError } from '../../src/errors';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/verify-token';
import { deadUrl, startSilentServer, startStubServer, startTestIssuer, testClock, type TestIssuer } from '../helpers/test-issuer';

// Where the keys come from: discovery, a configured jwksUri, IdP outages (503, never 401), rotation.
const clock = testClock();
const alice = { email: 'alice@example.com', groups: ['backend'] };
let corp: TestIssuer;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  corp = await startTestIssuer();
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});
afterAll(() => corp.stop());

const verifier = (config: IssuerConfig, opts: TokenVerifierOptions = {}) =>
  createTokenVerifier([config], { now: clock.now, ...opts });
// Short, only where a silent server is the point; a loaded CI machine must not trip the others.
const HANGING = { fetchTimeoutMs: 200 };

async function stub(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = await startStubServer(handler);
  stops.push(server.stop);
  return server;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** An issuer URL we control (a stub) whose tokens are signed by the dev issuer's keys. */
const tokenFor = (iss: string) => corp.mint({ ...alice, iss }, { issuedAt: clock.epoch() });

async function expectUnavailable(promise: Promise<unknown>) {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 503, code: 'jwks_unavailable', retryAfter: 5, expose: true });
  // The cause says what broke, for the operator's logs.
  // (Node's own network errors come from another realm under jest, so no instanceof here.)
  expect(((err as ApiError).cause as Error | undefined)?.message).toEqual(expect.any(String));
}

describe('keys: discovery and jwksUri', () => {
  it('a configured jwksUri is used without discovery', async () => {
    const iss = 'https://idp.example.invalid';
    const v = verifier(corp.config({ issuer: iss, jwksUri: corp.jwksUri }));
    await expect(v.verify(await tokenFor(iss))).resolves.toMatchObject({ iss, developer: 'alice@example.com' });
  });

  it('a discovery document naming another issuer is refused', async () => {
    const idp = await stub((_req, res) => json(res, 200, { issuer: 'https://someone-else.example.com', jwks_uri: corp.jwksUri }));
    await expectUnavailable(verifier(corp.config({ issuer: idp.url })).verify(await tokenFor(idp.url)));
  });

  it.each([
    ['answers 500', (res: ServerResponse) => json(res, 500, { error: 'boom' })],
    ['answers invalid JSON', (res: ServerResponse) => json(res, 200, '{"issuer":')],
    ['has no jwks_uri', (res: ServerResponse, self: string) => json(res, 200, { issuer: self })],
    ['has a jwks_uri that is not a URL', (res: ServerResponse, self: string) => json(res, 200, { issuer: self, jwks_uri: 'keys' })],
  ])('discovery that %s is jwks_unavailable', async (_name, answer) => {
    const idp = await stub((req, res) => answer(res, `http://${req.headers.host}`));
    await expectUnavailable(verifier(corp.config({ issuer: idp.url })).verify(await tokenFor(idp.url)));
  });

  it('discovery that is down, or hangs past the timeout, is jwks_unavailable', async () => {
    const down = await deadUrl();
    await expectUnavailable(verifier(corp.config({ issuer: down })).verify(await tokenFor(down)));
    const silent = await startSilentServer();
    stops.push(silent.stop);
    await expectUnavailable(verifier(corp.config({ issuer: silent.url }), HANGING).verify(await tokenFor(silent.url)));
  });

  it('a failed discovery is retried on the next request (outages are not cached)', async () => {
    let up = false;
    const idp = await stub((_req, res) =>
      up ? json(res, 200, { issuer: idp.url, jwks_uri: corp.jwksUri }) : json(res, 503, { error: 'maintenance' }),
    );
    const v = verifier(corp.config({ issuer: idp.url }));
    const token = await tokenFor(idp.url);
    await expectUnavailable(v.verify(token));
    up = true;
    await expect(v.verify(token)).resolves.toMatchObject({ iss: idp.url });
  });
});

describe('keys: JWKS outages answer 503, not 401', () => {
  it.each([
    ['answers 500', (res: ServerResponse) => json(res, 500, 'oops')],
    ['answers invalid JSON', (res: ServerResponse) => json(res, 200, 'not json')],
    ['is not a key set', (res: ServerResponse) => json(res, 200, { keys: 'none' })],
  ])('a JWKS that %s', async (_name, answer) => {
    const jwks = await stub((_req, res) => answer(res));
    await expectUnavailable(verifier(corp.config({ jwksUri: jwks.url })).verify(await tokenFor(corp.issuer)));
  });

  it('a JWKS that is down, or times out', async () => {
    await expectUnavailable(verifier(corp.config({ jwksUri: await deadUrl() })).verify(await tokenFor(corp.issuer)));
    const silent = await startSilentServer();
    stops.push(silent.stop);
    await expectUnavailable(verifier(corp.config({ jwksUri: silent.url }), HANGING).verify(await tokenFor(corp.issuer)));
  });

  it('an IdP that goes down after its keys were cached: 503 once the cache is stale', async () => {
    const idp = await startTestIssuer();
    const v = verifier(idp.config(), { cacheMaxAgeMs: 0 });
    const token = await idp.mint(alice, { issuedAt: clock.epoch() });
    await expect(v.verify(token)).resolves.toBeDefined();
    await idp.stop();
    await expectUnavailable(v.verify(token));
  });
});

describe('keys: rotation and the refresh cooldown', () => {
  it('a token signed by a new key (unknown kid) is accepted after a refresh', async () => {
    const idp = await startTestIssuer();
    stops.push(idp.stop);
    const v = verifier(idp.config(), { cooldownMs: 0 });
    await expect(v.verify(await idp.mint(alice, { issuedAt: clock.epoch() }))).resolves.toBeDefined();
    await idp.rotateKeys();
    const rotated = await idp.mint(alice, { issuedAt: clock.epoch() });
    await expect(v.verify(rotated)).resolves.toMatchObject({ developer: 'alice@example.com' });
  });

  it('within the cooldown an unknown kid does not trigger a refresh, so it stays unknown', async () => {
    const idp = await startTestIssuer();
    stops.push(idp.stop);
    const v = verifier(idp.config(), { cooldownMs: 60_000 });
    const before = await idp.mint(alice, { issuedAt: clock.epoch() });
    await expect(v.verify(before)).resolves.toBeDefined();
    await idp.rotateKeys();
    const rotated = await idp.mint(alice, { issuedAt: clock.epoch() });
    await expect(v.verify(rotated)).rejects.toMatchObject({ status: 401, code: 'unknown_key' });
    await expect(v.verify(before)).resolves.toBeDefined();
  });

  it('a token without kid is checked against each candidate key of its type', async () => {
    const idp = await startTestIssuer();
    const intruder = await startTestIssuer();
    stops.push(idp.stop, intruder.stop);
    await idp.rotateKeys(); // two RSA keys published now (the previous generation overlaps)
    const v = verifier(idp.config());
    await expect(v.verify(await idp.mint(alice, { issuedAt: clock.epoch(), kid: null }))).resolves.toBeDefined();
    const forged = await intruder.mint({ ...alice, iss: idp.issuer }, { issuedAt: clock.epoch(), kid: null });
    await expect(v.verify(forged)).rejects.toMatchObject({ status: 401, code: 'invalid_signature' });
  });
});
