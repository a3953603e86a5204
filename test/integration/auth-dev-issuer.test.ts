import { createTokenVerifier } from '../../src/auth/verify-token';
import { isLoopbackHost, startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer';

// The dev issuer is what `npm run dev` and the walkthrough's curl use: check it over real HTTP.
let corp: TestIssuer;
let ci: DevIssuer;

beforeAll(async () => {
  [corp, ci] = await Promise.all([startTestIssuer({ issuerPath: '/corp' }), startDevIssuer({ issuerPath: '/ci', algorithms: ['RS256'] })]);
});
afterAll(() => Promise.all([corp.stop(), ci.stop()]));

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('dev issuer: discovery and JWKS', () => {
  it('serves a discovery document for its own issuer under the issuer path', async () => {
    expect(corp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/corp$/);
    const doc = await (await fetch(`${corp.issuer}/.well-known/openid-configuration`)).json();
    expect(doc).toMatchObject({ issuer: corp.issuer, jwks_uri: corp.jwksUri, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
  });

  it('publishes one RS256 and one ES256 public key with distinct kids and no private parts', async () => {
    const res = await fetch(corp.jwksUri);
    expect(res.headers.get('content-type')).toBe('application/json');
    const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.map((k) => [k.alg, k.kty, k.use])).toEqual([['RS256', 'RSA', 'sig'], ['ES256', 'EC', 'sig']]);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });

  it('rotation publishes new kids and keeps exactly one previous generation', async () => {
    const kids = () => ci.publicJwks().map((k) => k.kid);
    const first = kids();
    await ci.rotateKeys();
    const second = kids();
    expect(second).toHaveLength(2);
    expect(second.slice(1)).toEqual(first);
    await ci.rotateKeys();
    expect(kids()).not.toContain(first[0]);
  });

  it('unknown paths are 404', async () => {
    expect((await fetch(`${corp.issuer}/nope`)).status).toBe(404);
    expect((await fetch(`${corp.jwksUri.replace('/corp', '/ci')}`)).status).toBe(404);
  });
});

describe('dev issuer: POST /token', () => {
  it('mints a token the verifier accepts, mapped as the walkthrough expects', async () => {
    const res = await post(corp.tokenUrl!, { developer: 'alice@example.com', groups: ['backend'], project: 'backend-api' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    const identity = await createTokenVerifier([corp.config()]).verify(body.token);
    expect(identity).toMatchObject({ developer: 'alice@example.com', subject: 'alice@example.com', groups: ['backend'], project: 'backend-api' });
  });

  it('answers the bare token to Accept: text/plain (for TOKEN=$(curl ...))', async () => {
    const res = await post(ci.tokenUrl!, { sub: 'repo:acme/api:ref:refs/heads/main', claims: { actor: 'octocat', repository: 'acme/api' } }, { accept: 'text/plain' });
    const token = await res.text();
    expect(token.split('.')).toHaveLength(3);
    const identity = await createTokenVerifier([
      { name: 'ci', issuer: ci.issuer, audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'CI', namespace: 'ci', claims: { developer: 'actor', project: 'repository' }, clockToleranceSeconds: 30, maxTokenLifetimeSeconds: 86400 },
    ]).verify(token);
    expect(identity).toMatchObject({ developer: 'ci:octocat', developerClaim: 'octocat', project: 'acme/api', subject: 'repo:acme/api:ref:refs/heads/main', accessType: 'CI' });
  });

  it.each([
    ['not JSON', '{nope'],
    ['not an object', '[1]'],
    ['groups not strings', { developer: 'a@example.com', groups: [1] }],
    ['empty developer', { developer: '' }],
    ['lifetime out of range', { developer: 'a@example.com', expiresInSeconds: 5 }],
    ['claims not an object', { claims: 'x' }],
  ])('refuses a body that is %s with 400', async (_name, body) => {
    const res = await post(corp.tokenUrl!, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_request' } });
  });

  it('refuses a body over 16 KiB, and GET', async () => {
    expect((await post(corp.tokenUrl!, { developer: 'a@example.com', claims: { pad: 'x'.repeat(20_000) } })).status).toBe(400);
    expect((await fetch(corp.tokenUrl!)).status).toBe(405);
  });

  it('offers the mint endpoint only on a loopback host', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com', '127.0.0.1.example.com'].some(isLoopbackHost)).toBe(false);
  });
});
