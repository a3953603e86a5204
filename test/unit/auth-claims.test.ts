import type { IssuerConfig } from '../../src/config-types';
import { ApiError } from '../../src/errors';
import { findBoundClaimMismatch, getClaim, mapIdentity, matchGlob } from '../../src/auth/claims';

describe('matchGlob', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc', 'ab', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['a*', 'a', true],
    ['a*', 'ba', false],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbcd', false],
    ['a*b*c', 'a-b-b-c', true],
    ['a*b*c', 'a-c-b', false],
    ['repo:acme/*:ref:refs/heads/*', 'repo:acme/api:ref:refs/heads/main', true],
    ['repo:acme/*:ref:refs/heads/*', 'repo:acme/api:pull_request', false],
    ['**', 'x', true],
    // Everything but * is literal: no regex, no ? wildcard, no character classes.
    ['a.c', 'abc', false],
    ['a?c', 'abc', false],
    ['[ab]', 'a', false],
    ['a+', 'aa', false],
    ['Backend', 'backend', false],
    ['', '', true],
    ['', 'x', false],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(matchGlob(pattern, value)).toBe(expected);
  });

  it('stays fast on a pathological pattern (no regex backtracking)', () => {
    // A RegExp built naively from this would take exponential time; a wrong matcher would answer true.
    expect(matchGlob(`${'a*'.repeat(30)}b`, 'a'.repeat(5000))).toBe(false);
  });
});

describe('getClaim', () => {
  const claims = { email: 'a@example.com', 'https://example.com/groups': ['x'], org: { team: { name: 'api' } }, 'org.team': 'flat' };
  it.each([
    ['email', 'a@example.com'],
    ['https://example.com/groups', ['x']],
    ['org.team.name', 'api'],
    ['org.team', 'flat'], // a literal name with a dot wins over the path
    ['org.missing.name', undefined],
    ['email.length', undefined], // paths do not walk into strings
    ['toString', undefined], // nor into the prototype
  ])('%s', (name, expected) => {
    expect(getClaim(claims, name)).toEqual(expected);
  });
});

describe('findBoundClaimMismatch', () => {
  const claims = { sub: 'repo:acme/api:ref:refs/heads/main', ref_protected: true, run: 42, groups: ['a', 'team-x'], nested: { env: 'prod' } };
  it.each([
    [{}, undefined],
    [undefined, undefined],
    [{ sub: 'repo:acme/*' }, undefined],
    [{ ref_protected: 'true' }, undefined],
    [{ run: '4*' }, undefined],
    [{ groups: 'team-*' }, undefined],
    [{ 'nested.env': ['dev', 'prod'] }, undefined],
    [{ sub: 'repo:acme/*', 'nested.env': 'dev' }, 'nested.env'],
    [{ sub: 'repo:other/*' }, 'sub'],
    [{ missing: '*' }, 'missing'], // even "*" needs the claim to exist
    [{ groups: [] }, 'groups'], // an empty list matches nothing
  ])('%j -> %s', (bound, expected) => {
    expect(findBoundClaimMismatch(claims, bound as Record<string, string | string[]> | undefined)).toBe(expected);
  });
});

describe('mapIdentity', () => {
  const issuer: IssuerConfig = {
    name: 'corp', issuer: 'https://idp.example.com', audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'AI',
    namespace: '', claims: { developer: 'email', project: 'project', groups: 'groups' }, clockToleranceSeconds: 30, maxTokenLifetimeSeconds: 86400,
  };
  const base = { iss: 'https://idp.example.com', sub: 'u1', email: 'a@example.com' };

  it('maps developer, project, groups and the issuer name and access type', () => {
    expect(mapIdentity(issuer, { ...base, project: 'backend-api', groups: ['backend', 'data', 'backend'] })).toEqual({
      issuer: 'corp', iss: base.iss, subject: 'u1', owner: 'u1', developer: 'a@example.com', developerClaim: 'a@example.com', namespace: '', project: 'backend-api',
      groups: ['backend', 'data'], accessType: 'AI', claims: { ...base, project: 'backend-api', groups: ['backend', 'data', 'backend'] },
    });
  });

  it('project and groups are optional; a single group string becomes a list', () => {
    const identity = mapIdentity(issuer, { ...base, groups: 'backend' });
    expect(identity.groups).toEqual(['backend']);
    expect(identity).not.toHaveProperty('project');
    expect(mapIdentity(issuer, base).groups).toEqual([]);
  });

  it('ignores project/groups claims the issuer does not map', () => {
    const ci = { ...issuer, claims: { developer: 'actor' } };
    const identity = mapIdentity(ci, { ...base, actor: 'octocat', project: 'p', groups: ['g'] });
    expect(identity).toMatchObject({ developer: 'octocat', groups: [] });
    expect(identity).not.toHaveProperty('project');
  });

  it('reads nested claim paths', () => {
    const nested = { ...issuer, claims: { developer: 'user.email', groups: 'realm_access.roles' } };
    expect(mapIdentity(nested, { ...base, user: { email: 'n@example.com' }, realm_access: { roles: ['r'] } })).toMatchObject({
      developer: 'n@example.com', groups: ['r'],
    });
  });

  it.each([
    [{ email: undefined }, 'missing_claim', 'email'],
    [{ email: '' }, 'invalid_claim', 'email'],
    [{ email: ['a'] }, 'invalid_claim', 'email'],
    [{ project: 7 }, 'invalid_claim', 'project'],
    [{ groups: ['ok', 1] }, 'invalid_claim', 'groups'],
    [{ groups: { a: 1 } }, 'invalid_claim', 'groups'],
    [{ sub: 12 }, 'invalid_claim', 'sub'],
  ])('%j is refused with %s', (patch, code, claim) => {
    const claims: Record<string, unknown> = { ...base, ...patch };
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    let err: unknown;
    try {
      mapIdentity(issuer, claims);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code, details: { claim } });
  });
});
