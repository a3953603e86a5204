import { inspect } from 'node:util';
import { parseConfig } from '../../src/config';
import { problemsOf, TEST_ISSUER as issuer } from '../helpers/config';

const withRedis = (redis: Record<string, unknown>) => ({ aws: { region: 'us-east-1' }, issuers: [issuer], redis });

describe('redis config: topologies', () => {
  it('defaults to one local Redis without TLS', () => {
    const { redis } = parseConfig(withRedis({}));
    expect(redis).toEqual({ url: 'redis://127.0.0.1:6379', tls: false, keyPrefix: 'sv:' });
  });

  it('takes Cluster seed nodes in any of the accepted spellings, as host:port', () => {
    const { redis } = parseConfig(withRedis({ cluster: ['redis://10.0.0.1:6379', '10.0.0.2:6380', 'redis://[::1]:7000'], keyPrefix: 'a:' }));
    expect(redis).toEqual({ cluster: ['10.0.0.1:6379', '10.0.0.2:6380', '[::1]:7000'], tls: false, keyPrefix: 'a:' });
  });

  it('takes sentinels with the master group name', () => {
    const { redis } = parseConfig(withRedis({ sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], sentinelName: 'main' }));
    expect(redis).toMatchObject({ sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], sentinelName: 'main', tls: false });
    expect(redis.url).toBeUndefined();
  });

  it('turns TLS on for rediss:// addresses and for tls: true', () => {
    expect(parseConfig(withRedis({ url: 'rediss://cache.example.com:6380' })).redis.tls).toBe(true);
    expect(parseConfig(withRedis({ cluster: ['rediss://a.example.com:6379', 'rediss://b.example.com:6379'] })).redis).toMatchObject({ tls: true, cluster: ['a.example.com:6379', 'b.example.com:6379'] });
    expect(parseConfig(withRedis({ sentinels: [{ host: 's', port: 1 }], sentinelName: 'm', tls: true })).redis.tls).toBe(true);
  });

  it('lets REDIS_URL replace the file url', () => {
    expect(parseConfig(withRedis({ url: 'redis://a:1' }), { REDIS_URL: 'redis://b:2' }).redis.url).toBe('redis://b:2');
  });
});

describe('redis config: secrets', () => {
  it('moves credentials out of the URL, so the URL can be printed', () => {
    const { redis } = parseConfig(withRedis({ url: 'rediss://app:s3cr%40t@cache.example.com:6380/2' }));
    expect(redis.url).toBe('rediss://cache.example.com:6380/2');
    expect(redis.username).toBe('app');
    expect(redis.password).toBe('s3cr@t');
  });

  it('takes REDIS_PASSWORD over the file, and never shows the password when the config is printed', () => {
    const config = parseConfig(withRedis({ cluster: ['a:1'], username: 'app', password: 'from-file' }), { REDIS_PASSWORD: 'from-env-secret' });
    expect(config.redis.password).toBe('from-env-secret');
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 }), JSON.stringify({ ...config.redis })]) {
      expect(printed).not.toContain('from-env-secret');
      expect(printed).not.toContain('from-file');
    }
  });

  it('takes the password from the file when REDIS_PASSWORD is unset', () => {
    expect(parseConfig(withRedis({ password: 'p' })).redis.password).toBe('p');
  });
});

describe('redis config: refusals name the path', () => {
  it.each([
    ['two topologies', { url: 'redis://a:1', cluster: ['b:2'] }, {}, 'redis: give exactly one of url, cluster or sentinels (got url and cluster)'],
    ['cluster with REDIS_URL set', { cluster: ['b:2'] }, { REDIS_URL: 'redis://a:1' }, 'redis: give exactly one of url, cluster or sentinels (got url (from REDIS_URL) and cluster)'],
    ['an empty cluster', { cluster: [] }, {}, 'redis.cluster: must NOT have fewer than 1 items'],
    ['a node without a port', { cluster: ['redis://a'] }, {}, 'redis.cluster.0: must be "redis://host:port"'],
    ['a node with a path', { cluster: ['a:1', 'redis://b:2/3'] }, {}, 'redis.cluster.1: must be'],
    ['credentials in a node', { cluster: ['redis://u:p@a:1'] }, {}, 'redis.cluster.0: put credentials in redis.username and redis.password'],
    ['mixed schemes', { cluster: ['redis://a:1', 'rediss://b:2'] }, {}, 'redis.cluster: mixes redis:// and rediss://'],
    ['sentinels without a name', { sentinels: [{ host: 's', port: 1 }] }, {}, 'redis.sentinelName: required with redis.sentinels'],
    ['a name without sentinels', { sentinelName: 'm' }, {}, 'redis.sentinelName: only applies with redis.sentinels'],
    ['a sentinel without a port', { sentinels: [{ host: 's' }], sentinelName: 'm' }, {}, "redis.sentinels.0: must have required property 'port'"],
    ['tls: false on rediss://', { url: 'rediss://a:1', tls: false }, {}, 'redis.tls: false contradicts a rediss:// address'],
    ['a password twice', { url: 'redis://:x@a:1', password: 'y' }, {}, 'redis.password: the URL carries a password too'],
    ['a user without a password', { username: 'app' }, {}, 'redis.username: needs a password'],
    ['braces in the prefix', { keyPrefix: 'sv{x}:' }, {}, 'redis.keyPrefix: must not contain "{" or "}"'],
    ['a non-Redis URL', { url: 'http://a:1' }, {}, 'redis.url: must match pattern'],
    ['an unknown field', { nodes: ['a:1'] }, {}, 'redis: must NOT have additional properties "nodes"'],
  ])('refuses %s', (_name, redis, env, expected) => {
    expect(problemsOf(withRedis(redis), env).join('\n')).toContain(expected);
  });

  it('lists every redis problem at once', () => {
    const problems = problemsOf(withRedis({ url: 'redis://a:1', sentinels: [{ host: 's', port: 1 }], keyPrefix: '{' }));
    expect(problems).toEqual([
      'redis: give exactly one of url, cluster or sentinels (got url and sentinels)',
      'redis.keyPrefix: must not contain "{" or "}" (they would move the hash tags keys rely on)',
      'redis.sentinelName: required with redis.sentinels (the master group the sentinels monitor)',
    ]);
  });
});
