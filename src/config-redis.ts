/**
 * The `redis` section of the configuration: where Redis is (one server, a Redis Cluster, or a master found
 * through Sentinel), how to authenticate, and the key prefix. config.ts embeds the schema and calls
 * settleRedis after validating, so every problem still comes back in one ConfigError.
 */
import type { RedisConfig } from './config-types';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** JSON schema of the section. No default for `url`: it is only the default when no other topology is given. */
export const redisSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    url: { type: 'string', pattern: '^rediss?://' },
    // Seed nodes ("redis://host:port", "rediss://host:port" or "host:port"); the client finds the rest.
    cluster: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    sentinels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'port'],
        properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
      },
    },
    sentinelName: { type: 'string', minLength: 1 },
    username: { type: 'string', minLength: 1 },
    password: { type: 'string', minLength: 1 },
    tls: { type: 'boolean' },
    keyPrefix: { type: 'string', maxLength: 32, default: 'sv:' },
  },
} as const;

/**
 * Completes a schema-valid section in place and returns its problems (each naming its path): exactly one of
 * url / cluster / sentinels (url defaults to DEFAULT_REDIS_URL), credentials moved out of the URL into
 * username/password, `REDIS_PASSWORD` applied, TLS implied by rediss://, cluster nodes reduced to "host:port".
 * The password ends up non-enumerable, so printing or logging the config never shows it.
 */
export function settleRedis(redis: RedisConfig, env: NodeJS.ProcessEnv, urlFromEnv: boolean): string[] {
  const problems: string[] = [];
  const given = (['url', 'cluster', 'sentinels'] as const).filter((k) => redis[k] !== undefined);
  if (given.length > 1) {
    const names = given.map((k) => (k === 'url' && urlFromEnv ? 'url (from REDIS_URL)' : k));
    problems.push(`redis: give exactly one of url, cluster or sentinels (got ${names.join(' and ')})`);
  }
  if (given.length === 0) redis.url = DEFAULT_REDIS_URL;
  if (/[{}]/.test(redis.keyPrefix)) problems.push('redis.keyPrefix: must not contain "{" or "}" (they would move the hash tags keys rely on)');

  let schemes: string[] = [];
  let urlPassword: string | undefined;
  if (redis.url !== undefined) {
    const u = parseRedisUrl(redis.url);
    if (!u) problems.push(`redis.url: not a valid URL`);
    else {
      schemes = [u.protocol];
      if (u.username) redis.username ??= decodeURIComponent(u.username);
      if (u.password) urlPassword = decodeURIComponent(u.password);
      u.username = '';
      u.password = '';
      redis.url = u.toString();
    }
  }
  if (redis.cluster) {
    redis.cluster = redis.cluster.map((node, i) => {
      const u = parseRedisUrl(node.includes('://') ? node : `redis://${node}`);
      if (!u || !u.port || (u.pathname !== '' && u.pathname !== '/') || u.search) {
        problems.push(`redis.cluster.${i}: must be "redis://host:port", "rediss://host:port" or "host:port"`);
      } else if (u.username || u.password) {
        problems.push(`redis.cluster.${i}: put credentials in redis.username and redis.password (or REDIS_PASSWORD), not in a node address`);
      } else {
        if (node.includes('://')) schemes.push(u.protocol);
        return `${u.hostname}:${u.port}`;
      }
      return node;
    });
    if (new Set(schemes).size > 1) problems.push('redis.cluster: mixes redis:// and rediss:// nodes');
  }
  if (redis.sentinels && !redis.sentinelName) problems.push('redis.sentinelName: required with redis.sentinels (the master group the sentinels monitor)');
  if (!redis.sentinels && redis.sentinelName) problems.push('redis.sentinelName: only applies with redis.sentinels');

  const impliedTls = schemes.includes('rediss:');
  if (redis.tls === false && impliedTls) problems.push('redis.tls: false contradicts a rediss:// address');
  redis.tls = redis.tls ?? impliedTls;

  if (urlPassword !== undefined && redis.password !== undefined) problems.push('redis.password: the URL carries a password too; give it once');
  const password = env.REDIS_PASSWORD || redis.password || urlPassword;
  Object.defineProperty(redis, 'password', { value: password, enumerable: false, writable: true, configurable: true });
  if (redis.username && !password) problems.push('redis.username: needs a password (redis.password, the URL or REDIS_PASSWORD)');
  return problems;
}

function parseRedisUrl(text: string): URL | null {
  try {
    const u = new URL(text);
    return u.protocol === 'redis:' || u.protocol === 'rediss:' ? u : null;
  } catch {
    return null;
  }
}
