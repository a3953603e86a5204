import { createTokenVerifier, type TokenVerifier } from '../../src/auth/verify-token';
import { startTestIssuer, testClock, type TestIssuer } from '../helpers/test-issuer';

// Two issuers trusted at once, as in production: the organisation's IdP for agents, and a
// GitHub-Actions-like CI issuer with its own claim mapping, access type and bound claims.
const clock = testClock();
let corp: TestIssuer;
let ci: TestIssuer;
let verifier: TokenVerifier;

const ciClaims = {
  sub: 'repo:acme/api:ref:refs/heads/main',
  repository: 'acme/api',
  repository_owner: 'acme',
  actor: 'octocat',
  ref: 'refs/heads/main',
  ref_protected: true,
  environment: 'prod',
};

beforeAll(async () => {
  [corp, ci] = await Promise.all([startTestIssuer(), startTestIssuer({ name: 'ci', algorithms: ['RS256'] })]);
  verifier = createTokenVerifier(
    [
      corp.config(),
      ci.config({
        accessType: 'CI',
        algorithms: ['RS256'],
        claims: { developer: 'actor', project: 'repository' },
        boundClaims: {
          repository_owner: 'acme',
          sub: 'repo:acme/*:ref:refs/*',
          ref: ['refs/heads/main', 'refs/tags/v*'],
          ref_protected: 'true',
        },
      }),
    ],
    { now: clock.now },
  );
});
afterAll(() => Promise.all([corp.stop(), ci.stop()]));

const ciToken = (claims: Record<string, unknown> = {}) => ci.mint({ ...ciClaims, ...claims }, { issuedAt: clock.epoch() });

describe('two issuers at once', () => {
  it('an agent token maps by the corp mapping', async () => {
    const token = await corp.mint({ email: 'bob@example.com', groups: 'data', project: 'data-pipeline' }, { issuedAt: clock.epoch() });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      issuer: 'corp', developer: 'bob@example.com', project: 'data-pipeline', groups: ['data'], accessType: 'AI',
    });
  });

  it('a CI token maps by the CI mapping: actor, repository, no groups, AccessType CI', async () => {
    const identity = await verifier.verify(await ciToken());
    expect(identity).toEqual(expect.objectContaining({
      issuer: 'ci', iss: ci.issuer, subject: 'repo:acme/api:ref:refs/heads/main',
      developer: 'octocat', project: 'acme/api', groups: [], accessType: 'CI',
    }));
  });

  it("one issuer's key cannot speak for the other", async () => {
    const forged = await ci.mint({ email: 'root@example.com', groups: ['secops'], iss: corp.issuer }, { issuedAt: clock.epoch() });
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'unknown_key' });
    const forgedKid = await ci.mint({ ...ciClaims, iss: corp.issuer, email: 'x@example.com' }, { issuedAt: clock.epoch(), kid: corp.publicJwks()[0]!.kid! });
    await expect(verifier.verify(forgedKid)).rejects.toMatchObject({ code: 'invalid_signature' });
  });

  it("each issuer keeps its own algorithm list (ES256 is fine for corp, not for ci)", async () => {
    await expect(verifier.verify(await corp.mint({ email: 'a@example.com' }, { alg: 'ES256', issuedAt: clock.epoch() }))).resolves.toBeDefined();
    const es = await corp.mint({ ...ciClaims, iss: ci.issuer }, { alg: 'ES256', issuedAt: clock.epoch() });
    await expect(verifier.verify(es)).rejects.toMatchObject({ code: 'unsupported_algorithm' });
  });
});

describe('boundClaims', () => {
  it.each([
    ['exact', { repository_owner: 'acme' }],
    ['glob on sub', { sub: 'repo:acme/web:ref:refs/tags/v1.2.0', ref: 'refs/tags/v1.2.0' }],
    ['second entry of a list, itself a glob', { ref: 'refs/tags/v2', sub: 'repo:acme/api:ref:refs/tags/v2' }],
    ['boolean claim against "true"', { ref_protected: true }],
    ['string claim against "true"', { ref_protected: 'true' }],
  ])('match: %s', async (_name, claims) => {
    await expect(verifier.verify(await ciToken(claims))).resolves.toMatchObject({ issuer: 'ci' });
  });

  it.each([
    ['exact value differs', { repository_owner: 'evil' }, 'repository_owner'],
    ['exact value differs only in case', { repository_owner: 'ACME' }, 'repository_owner'],
    ['glob does not match (pull_request sub)', { sub: 'repo:acme/api:pull_request' }, 'sub'],
    ['glob is anchored (prefix before repo:)', { sub: 'x-repo:acme/api:ref:refs/heads/main' }, 'sub'],
    ['no entry of the list matches', { ref: 'refs/heads/feature', sub: 'repo:acme/api:ref:refs/heads/feature' }, 'ref'],
    ['claim missing', { repository_owner: undefined }, 'repository_owner'],
    ['boolean false', { ref_protected: false }, 'ref_protected'],
    ['object value never matches', { repository_owner: { name: 'acme' } }, 'repository_owner'],
  ])('mismatch: %s', async (_name, claims, claim) => {
    await expect(verifier.verify(await ciToken(claims))).rejects.toMatchObject({
      status: 401, code: 'bound_claim_mismatch', details: { claim },
    });
  });

  it('an array claim matches when one of its values does', async () => {
    const v = createTokenVerifier([corp.config({ boundClaims: { groups: 'team-*' } })], { now: clock.now });
    const mint = (groups: string[]) => corp.mint({ email: 'a@example.com', groups }, { issuedAt: clock.epoch() });
    await expect(v.verify(await mint(['backend', 'team-api']))).resolves.toBeDefined();
    await expect(v.verify(await mint(['backend']))).rejects.toMatchObject({ code: 'bound_claim_mismatch' });
  });
});
