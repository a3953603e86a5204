import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config';
import { MINIMAL_CONFIG as minimal, problemsOf } from '../helpers/config';

const KEY = 'k'.repeat(32);

describe('gateway configuration', () => {
  it('is off by default, with documented defaults and no key', () => {
    const c = parseConfig(minimal);
    expect(c.gateway).toMatchObject({ enabled: false, port: 8081, host: '0.0.0.0', callsPerSecond: 100, maxBufferedBodyBytes: 16777216, historySize: 100, endpoints: {} });
    expect(c.gateway.secretKey).toBeUndefined();
  });

  it('has no default key: enabling it without one is a start-up error naming the field', () => {
    expect(problemsOf({ ...minimal, gateway: { enabled: true } })).toEqual(['gateway.secretKeyFile: gateway.enabled needs a server key (gateway.secretKeyFile or STS_VEND_GATEWAY_KEY)']);
    expect(problemsOf({ ...minimal, gateway: { enabled: true } }, { STS_VEND_GATEWAY_KEY: 'short' })).toEqual([expect.stringContaining('at least 32 bytes')]);
  });

  it('lists every gateway problem with the rest', () => {
    const problems = problemsOf({ ...minimal, gateway: { enabled: 'yes', port: 70000, publicUrl: 'ftp://x', endpoints: { s3: 'not a url' }, secretKey: 'inline' } });
    expect(problems).toEqual(
      expect.arrayContaining([
        'gateway.enabled: must be boolean',
        'gateway.port: must be <= 65535',
        expect.stringMatching(/^gateway\.publicUrl: must match pattern/),
        expect.stringMatching(/^gateway\.endpoints\.s3: must match pattern/),
        'gateway: must NOT have additional properties "secretKey"',
      ]),
    );
  });

  it('reads the key from STS_VEND_GATEWAY_KEY or a file, keeps it out of printed config, and takes AWS_ENDPOINT_URL* for upstreams', () => {
    const c = parseConfig({ ...minimal, gateway: { enabled: true, endpoints: { s3: 'http://s3.local:9000' } } }, {
      STS_VEND_GATEWAY_KEY: KEY,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4599',
      AWS_ENDPOINT_URL_S3: 'http://ignored:1',
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'http://logs.local:1',
    });
    expect(c.gateway.secretKey?.toString()).toBe(KEY);
    expect(JSON.stringify(c)).not.toContain(KEY);
    expect(c.gateway.endpoints).toEqual({ default: 'http://127.0.0.1:4599', s3: 'http://s3.local:9000', logs: 'http://logs.local:1' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-key-'));
    writeFileSync(path.join(dir, 'key'), `${KEY}\n`);
    expect(parseConfig({ ...minimal, gateway: { enabled: true, secretKeyFile: 'key' } }, {}, dir).gateway.secretKey?.toString()).toBe(KEY);
    expect(problemsOf({ ...minimal, gateway: { enabled: true, secretKeyFile: path.join(dir, 'missing') } })).toEqual(['gateway.secretKeyFile: cannot read (ENOENT)']);
  });
});
