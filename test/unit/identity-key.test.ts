import fc from 'fast-check';
import { propertyParams } from '../helpers/property';
import {
  developerKey,
  IAM_DOCUMENT_CHARS,
  isWellFormedName,
  KEY_RULE,
  projectKey,
  sessionNamePrefix,
  SOURCE_IDENTITY_RULE,
  sourceIdentityFor,
} from '../../src/auth/identity-key';

// The alphabets AWS checks (src/vend/aws-limits.ts applies the same before AssumeRole).
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

describe('developerKey: plain, namespaced or hashed', () => {
  it.each<[string, string, string, RegExp | string]>([
    ['a plain email stays as it is', '', 'alice@example.com', 'alice@example.com'],
    ['a Latin-1 name stays as it is', '', 'josé@example.com', 'josé@example.com'],
    ['a GitHub actor in its namespace', 'github', 'octocat', 'github:octocat'],
    ['a GitHub sub keeps its colons after the namespace', 'github', 'repo:acme/app:ref:refs/heads/main', 'github:repo:acme/app:ref:refs/heads/main'],
    ['a Cyrillic name is hashed, its ASCII kept', '', 'иван@x.com', /^-@x\.com=[A-Z2-7]{16}$/],
    ['a name with = is hashed (= marks hashed keys)', '', 'a=b', /^a-b=[A-Z2-7]{16}$/],
    ['a colon in the plain namespace is hashed (it would read as a namespace)', '', 'github:octocat', /^github-octocat=[A-Z2-7]{16}$/],
    ['a 300-character claim is cut and hashed to 256', '', 'c'.repeat(300), /^c{239}=[A-Z2-7]{16}$/],
    ['fullwidth letters are hashed, not folded onto ASCII', '', 'ａlice', /^alice=[A-Z2-7]{16}$/],
    ['accents outside Latin-1 are stripped from the readable part only', '', 'ǹame', /^name=[A-Z2-7]{16}$/],
  ])('%s', (_name, namespace, claim, expected) => {
    const key = developerKey(namespace, claim);
    if (typeof expected === 'string') expect(key).toBe(expected);
    else expect(key).toMatch(expected);
    expect(key).toMatch(TAG_VALUE);
    expect(key).toMatch(IAM_DOCUMENT_CHARS);
    expect(isWellFormedName(key, KEY_RULE)).toBe(true);
  });

  it('never gives two people one key: the sanitiser collisions of the old tag', () => {
    const claims = ['a!b@x.com', 'a#b@x.com', 'a\tb@x.com', 'a-b@x.com', 'a b@x.com', 'a=b@x.com', 'ａ-b@x.com'];
    const keys = claims.map((c) => developerKey('', c));
    expect(new Set(keys).size).toBe(claims.length);
    // The innocent `a-b@x.com` is the only one named as it is.
    expect(keys.filter((k) => !k.includes('='))).toEqual(['a-b@x.com']);
  });

  it('keeps issuers apart unless they share a namespace', () => {
    expect(developerKey('github', 'alice')).not.toBe(developerKey('', 'alice'));
    expect(developerKey('github', 'alice')).not.toBe(developerKey('gitlab', 'alice'));
    // The plain namespace cannot spell a namespaced key.
    expect(developerKey('', 'github:alice')).not.toBe(developerKey('github', 'alice'));
    // Nor a hashed one: a claim that looks like a hash suffix is itself hashed.
    const hashed = developerKey('', 'иван');
    expect(developerKey('', hashed)).not.toBe(hashed);
  });

  it('refuses ill-formed text and bad namespaces', () => {
    expect(() => developerKey('', 'a\ud800')).toThrow(/well-formed/);
    expect(() => developerKey('GitHub', 'a')).toThrow(/namespace/);
    expect(() => developerKey('a:b', 'a')).toThrow(/namespace/);
  });
});

describe('SourceIdentity and RoleSessionName follow the same rule', () => {
  it.each<[string, string, RegExp | string]>([
    ['', 'alice@example.com', 'alice@example.com'],
    ['github', 'octocat', 'github,octocat'],
    ['', 'josé@example.com', /^jose@example\.com=[A-Z2-7]{16}$/],
    ['', 'a', /^a=[A-Z2-7]{16}$/],
    ['', 'x'.repeat(65), /^x{47}=[A-Z2-7]{16}$/],
    ['', 'alice,bob', /^alice-bob=[A-Z2-7]{16}$/],
  ])('%s %s', (namespace, claim, expected) => {
    const si = sourceIdentityFor(namespace, claim);
    if (typeof expected === 'string') expect(si).toBe(expected);
    else expect(si).toMatch(expected);
    expect(si).toMatch(SOURCE_IDENTITY);
    expect(isWellFormedName(si, SOURCE_IDENTITY_RULE)).toBe(true);
  });

  it('gives a RoleSessionName prefix of at most 55 characters', () => {
    expect(sessionNamePrefix('', 'alice@example.com')).toBe('alice@example.com');
    expect(sessionNamePrefix('', 'y'.repeat(60))).toMatch(/^y{38}=[A-Z2-7]{16}$/);
  });
});

describe('projectKey', () => {
  it('names a project as it is when it can, hashed otherwise, and never namespaced', () => {
    expect(projectKey('backend-api')).toBe('backend-api');
    expect(projectKey('acme/app')).toBe('acme/app');
    expect(projectKey('')).toBe('');
    expect(projectKey('проект')).toMatch(/^-=[A-Z2-7]{16}$/);
  });
});

describe('isWellFormedName (what an operator may type as a key)', () => {
  it.each<[string, boolean]>([
    ['alice@example.com', true],
    ['github:octocat', true],
    ['github:repo:acme/x', true],
    [`a-b=${'A'.repeat(16)}`, true],
    ['a=b', false],
    [`a=${'A'.repeat(15)}`, false],
    [`a=b=${'A'.repeat(16)}`, false],
    ['Github:octocat', false],
    [':octocat', false],
    ['github:', false],
    ['иван', false],
    ['', false],
    ['x'.repeat(257), false],
  ])('%s -> %s', (name, ok) => {
    expect(isWellFormedName(name, KEY_RULE)).toBe(ok);
  });
});

describe('properties (fast-check)', () => {
  const namespace = fc.constantFrom('', 'github', 'gitlab', 'ci-2');
  // Every kind of text: ASCII, Latin-1, anything in the BMP and beyond, long and short.
  const claim = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.fullUnicodeString({ minLength: 1, maxLength: 40 }),
    fc.stringOf(fc.constantFrom('a', 'b', '-', '=', ':', ',', '@', '.', '!', 'é', 'ａ', '\t'), { minLength: 1, maxLength: 12 }),
    fc.string({ minLength: 240, maxLength: 320 }),
  );

  it('every key is a legal tag value, IAM-writable, at most 256, and well formed', () => {
    fc.assert(
      fc.property(namespace, claim, (ns, c) => {
        const key = developerKey(ns, c);
        const si = sourceIdentityFor(ns, c);
        return (
          TAG_VALUE.test(key) && IAM_DOCUMENT_CHARS.test(key) && isWellFormedName(key, KEY_RULE) &&
          SOURCE_IDENTITY.test(si) && isWellFormedName(si, SOURCE_IDENTITY_RULE)
        );
      }),
      propertyParams('every key is legal and well formed', { numRuns: 2000 }),
    );
  });

  it('is injective: distinct (namespace, claim) pairs never share a key or a SourceIdentity', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(namespace, claim), { minLength: 2, maxLength: 40, selector: ([n, c]) => `${n}\u0000${c}` }), (inputs) => {
        const keys = new Set(inputs.map(([n, c]) => developerKey(n, c)));
        const sis = new Set(inputs.map(([n, c]) => sourceIdentityFor(n, c)));
        return keys.size === inputs.length && sis.size === inputs.length;
      }),
      propertyParams('the identity key is injective', { numRuns: 500 }),
    );
  });

  it('keeps safe claims readable: a claim of the alphabet alone is its own key', () => {
    const safe = fc.stringOf(fc.constantFrom(...'abcXYZ019_.+@/-é'.split('')), { minLength: 1, maxLength: 256 });
    fc.assert(fc.property(safe, (c) => developerKey('', c) === c), propertyParams('safe claims are their own key', { numRuns: 500 }));
  });
});
