import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, parseConfig } from '../../src/config';
import { MINIMAL_CONFIG as minimal, problemsOf, TEST_ISSUER as issuer } from '../helpers/config';

describe('parseConfig', () => {
  it('fills the documented defaults', () => {
    const c = parseConfig(minimal);
    expect(c.server).toEqual({ port: 8080, host: '0.0.0.0', bodyLimitBytes: 16384, trustProxy: false, drainSeconds: 10 });
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.sessions).toEqual({ defaultDurationSeconds: 900, maxDurationSeconds: 3600, graceSeconds: 300, defaultSessionDurationSeconds: 3600, maxSessionDurationSeconds: 28800 });
    expect(c.issuers[0]?.clockToleranceSeconds).toBe(30);
    expect(c.operators.groups).toEqual([]);
    expect(path.isAbsolute(c.templatesDir)).toBe(true);
  });

  it('gives every issuer a namespace: its name by default, "" on request, and a token lifetime cap of 24 h', () => {
    const c = parseConfig({ ...minimal, issuers: [{ ...issuer, namespace: '' }, { ...issuer, name: 'github', issuer: 'https://gh.example.com' }] });
    expect(c.issuers.map((i) => i.namespace)).toEqual(['', 'github']);
    expect(c.issuers.map((i) => i.maxTokenLifetimeSeconds)).toEqual([86400, 86400]);
  });

  it('asks for a namespace when the issuer name cannot be one, and refuses a bad one', () => {
    expect(problemsOf({ ...minimal, issuers: [{ ...issuer, name: '1corp' }] })).toEqual([
      'issuers.0.namespace: required, since the name "1corp" is not a namespace (^(?:[a-z][a-z0-9-]{0,31})?$)',
    ]);
    expect(problemsOf({ ...minimal, issuers: [{ ...issuer, namespace: 'Corp:x' }] })[0]).toMatch(/^issuers\.0\.namespace: must match pattern/);
  });

  it('lets PORT and REDIS_URL override the file', () => {
    const c = parseConfig(minimal, { PORT: '9090', REDIS_URL: 'redis://cache:6380' });
    expect(c.server.port).toBe(9090);
    expect(c.redis.url).toBe('redis://cache:6380');
  });

  it.each([
    ['missing aws', { issuers: [issuer] }, '(root): must have required property \'aws\''],
    ['no issuers', { aws: { region: 'us-east-1' }, issuers: [] }, 'issuers: must NOT have fewer than 1 items'],
    ['bad region', { ...minimal, aws: { region: 'mars' } }, 'aws.region: must match pattern'],
    ['unknown key', { ...minimal, extra: 1 }, '(root): must NOT have additional properties "extra"'],
    ['symmetric algorithm', { ...minimal, issuers: [{ ...issuer, algorithms: ['HS256'] }] }, 'issuers.0.algorithms.0: must be equal to one of the allowed values'],
    ['missing developer claim', { ...minimal, issuers: [{ ...issuer, claims: {} }] }, "issuers.0.claims: must have required property 'developer'"],
    ['duration below AWS floor', { ...minimal, sessions: { defaultDurationSeconds: 60 } }, 'sessions.defaultDurationSeconds: must be >= 900'],
    ['non-redis url', { ...minimal, redis: { url: 'http://x' } }, 'redis.url: must match pattern'],
  ])('refuses %s', (_name, raw, expected) => {
    expect(problemsOf(raw).join('\n')).toContain(expected);
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf({ aws: { region: 'nowhere' }, issuers: [{ ...issuer, audiences: [] }], server: { port: -1 } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('aws.region'),
        expect.stringContaining('issuers.0.audiences'),
        expect.stringContaining('server.port'),
      ]),
    );
  });

  it.each([
    ['duplicate issuer names', { ...minimal, issuers: [issuer, issuer] }, 'issuers.1.name: duplicate issuer name "corp"'],
    ['one issuer URL twice', { ...minimal, issuers: [issuer, { ...issuer, name: 'other' }] }, 'issuers.1.issuer: "https://idp.example.com" is configured twice'],
    ['default above max', { ...minimal, sessions: { defaultDurationSeconds: 7200, maxDurationSeconds: 3600 } }, 'sessions.defaultDurationSeconds: must not exceed'],
    ['session default above its max', { ...minimal, sessions: { defaultSessionDurationSeconds: 7200, maxSessionDurationSeconds: 3600 } }, 'sessions.defaultSessionDurationSeconds: must not exceed sessions.maxSessionDurationSeconds'],
    ['chaining above one hour', { ...minimal, aws: { region: 'us-east-1', roleChaining: true }, sessions: { maxDurationSeconds: 7200 } }, 'role chaining caps sessions at 3600'],
    ['unknown operator issuer', { ...minimal, operators: { groups: ['secops'], issuers: ['nope'] } }, 'operators.issuers: unknown issuer "nope"'],
  ])('cross-checks %s', (_name, raw, expected) => {
    expect(problemsOf(raw).join('\n')).toContain(expected);
  });

  it('refuses a PORT that is not a port', () => {
    expect(problemsOf(minimal, { PORT: 'eighty' })).toEqual(['PORT: must be a port number, got "eighty"']);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-config-'));

  it('reads STS_VEND_CONFIG and resolves templatesDir from the file folder', () => {
    const file = path.join(dir, 'a.yaml');
    writeFileSync(file, 'aws: {region: eu-west-1}\nissuers:\n  - {name: corp, issuer: "https://idp", audiences: [x], algorithms: [ES256], accessType: AI, claims: {developer: sub}}\ntemplatesDir: tpl\n');
    const c = loadConfig({ STS_VEND_CONFIG: file });
    expect(c.aws.region).toBe('eu-west-1');
    expect(c.templatesDir).toBe(path.join(dir, 'tpl'));
  });

  it('names the file when it is missing or not YAML', () => {
    expect(() => loadConfig({ STS_VEND_CONFIG: path.join(dir, 'none.yaml') })).toThrow(/none\.yaml: cannot read \(ENOENT\)/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'aws: [unclosed');
    expect(() => loadConfig({ STS_VEND_CONFIG: bad })).toThrow(/bad\.yaml: not valid YAML/);
  });

  it('accepts the shipped example config', () => {
    const c = loadConfig({ STS_VEND_CONFIG: path.resolve(__dirname, '../../sts-vend.example.yaml') });
    expect(c.issuers.map((i) => i.name)).toEqual(['corp', 'ci', 'gitlab']);
  });
});
