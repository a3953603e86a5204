import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheKey, CredentialCache, defaultCacheDir, tokenSubject, type CacheEntry } from '../../src/cli/credential-cache';
import type { VendResponse } from '../../src/client/types';

const root = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-cache-'));
const entry: CacheEntry = {
  version: 1,
  response: {
    sessionId: 'AbCdEfGh1234',
    credentials: { accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: '2030-01-01T00:00:00Z' },
    container: { url: 'http://127.0.0.1:8080/v1/credentials/AbCdEfGh1234', authorizationToken: 'opaque' },
  } as VendResponse,
};
const mode = (p: string): number => statSync(p).mode & 0o777;
const jwt = (payload: object): string => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('credential cache files', () => {
  it('creates a 0700 directory and 0600 files, leaving no temporary file behind', () => {
    const dir = path.join(root, 'fresh', 'sts-vend');
    const cache = new CredentialCache(dir);
    cache.write('k1', entry);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'k1.json'))).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['k1.json']);
    expect(cache.read('k1')).toEqual(entry);
  });

  it('overwrites atomically and forgets on remove', () => {
    const cache = new CredentialCache(path.join(root, 'rewrite'));
    cache.write('k', entry);
    const next = { ...entry, response: { ...entry.response, credentials: { ...entry.response.credentials, accessKeyId: 'ASIA2' } } };
    cache.write('k', next);
    expect(cache.read('k')?.response.credentials.accessKeyId).toBe('ASIA2');
    cache.remove('k');
    expect(cache.read('k')).toBeUndefined();
  });

  it('tightens a directory other users can read', () => {
    const dir = path.join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    new CredentialCache(dir).write('k', entry);
    expect(mode(dir)).toBe(0o700);
  });

  it('does not trust a file other users could have written or read', () => {
    const dir = path.join(root, 'untrusted');
    const cache = new CredentialCache(dir);
    cache.write('k', entry);
    chmodSync(path.join(dir, 'k.json'), 0o644);
    expect(cache.read('k')).toBeUndefined();
  });

  it('ignores garbage and entries without a container session', () => {
    const dir = path.join(root, 'garbage');
    const cache = new CredentialCache(dir);
    cache.write('k', entry);
    writeFileSync(path.join(dir, 'bad.json'), '{not json', { mode: 0o600 });
    writeFileSync(path.join(dir, 'old.json'), JSON.stringify({ version: 1, response: { credentials: {} } }), { mode: 0o600 });
    expect(cache.read('bad')).toBeUndefined();
    expect(cache.read('old')).toBeUndefined();
  });

  it('refuses a symlinked cache directory', () => {
    const target = path.join(root, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    const link = path.join(root, 'link');
    symlinkSync(target, link);
    expect(() => new CredentialCache(link).write('k', entry)).toThrow(expect.objectContaining({ code: 'cache_unsafe' }));
  });

  it('defaults to $XDG_CACHE_HOME/sts-vend, else ~/.cache/sts-vend', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe(path.join('/x/cache', 'sts-vend'));
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'sts-vend'));
  });
});

describe('cache keys', () => {
  const request = { template: 't', parameters: { bucket: 'b', prefix: 'p/' }, delivery: 'container' };
  const base = { url: 'http://s', request, subject: 'iss alice' };
  const withRequest = (extra: Record<string, unknown>) => ({ ...base, request: { ...request, ...extra } });

  it('ignore key order but separate every other input: two profiles that differ in anything never share a session', () => {
    expect(cacheKey({ ...base, request: { parameters: { prefix: 'p/', bucket: 'b' }, delivery: 'container', template: 't' } })).toBe(cacheKey(base));
    const variants = [
      { ...base, url: 'http://other' },
      withRequest({ template: 'u' }),
      withRequest({ parameters: { bucket: 'b', prefix: 'q/' } }),
      withRequest({ project: 'x' }),
      withRequest({ durationSeconds: 1800 }),
      withRequest({ sessionDurationSeconds: 7200 }),
      { ...base, subject: 'iss bob' },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('name the caller by issuer and subject, so a rotated token of the same caller hits', () => {
    expect(tokenSubject(jwt({ iss: 'https://idp', sub: 'alice', iat: 1 }))).toBe('https://idp alice');
    expect(tokenSubject(jwt({ iss: 'https://idp', sub: 'alice', iat: 2 }))).toBe('https://idp alice');
  });

  it('hash an opaque token rather than keep it', () => {
    const s = tokenSubject('opaque-secret-token');
    expect(s).toMatch(/^token-sha256:[0-9a-f]{64}$/);
    expect(s).not.toContain('opaque-secret-token');
  });
});
