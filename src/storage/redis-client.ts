import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * The Redis client every store shares and the runner that makes each store fail closed. Key names are built in
 * keys.ts only, never here or in a store.
 */

/** Which store a failed operation belongs to: named in the error, the log line and the 503 answer. */
export type StoreName = 'session store' | 'kill-switch store' | 'gateway store' | 'console store' | 'approval store';

/**
 * Redis could not answer (down, unreachable, timed out, or replied with an error). Callers map it to 503
 * `store_unavailable`: a session the service cannot record or check is one it must not issue or honour.
 */
export class StoreUnavailableError extends Error {
  constructor(
    readonly store: StoreName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Wraps anything a Redis call threw, keeping it as `cause`. */
export function toStoreError(err: unknown, store: StoreName): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  redactAuth(err);
  const message = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(store, `${store} unavailable: ${message}`, { cause: err });
}

const CONNECT_TIMEOUT_MS = 2000;
// A vend waits on Redis twice; a Redis that answers nothing within this fails the request
// rather than holding it (and the caller's agent) until TCP gives up.
const COMMAND_TIMEOUT_MS = 2000;
const backoff = (times: number): number => Math.min(times * 100, 1000);

/**
 * Where Redis is (the validated `redis` config section, see config-redis.ts). Exactly one topology is meant to
 * be set; given several, cluster wins over sentinels over url.
 */
export interface RedisConnection {
  /** redis:// or rediss:// URL of one server (credentials in it are used when username/password are not given). */
  url?: string;
  /** Cluster seed nodes: "host:port" (or with a redis:// / rediss:// scheme). */
  cluster?: string[];
  sentinels?: Array<{ host: string; port: number }>;
  /** The master group the sentinels monitor. */
  sentinelName?: string;
  username?: string;
  password?: string;
  /** TLS to every node (and to the sentinels); rediss:// addresses imply it. */
  tls?: boolean;
}

/**
 * A client that fails fast when Redis is down and recovers by itself when it returns: no offline queue (a
 * command sent while disconnected fails at once), one retry per command, a command timeout, and reconnection
 * forever with a backoff capped at one second, in every topology. READONLY replies (a failed-over primary)
 * force a reconnect, which with Sentinel asks the sentinels for the new master. Key prefixes are applied by
 * keys.ts, not by the client, so one module knows every key.
 */
export function createRedis(config: RedisConnection): Redis | Cluster {
  const tls = config.tls || [config.url, ...(config.cluster ?? [])].some((a) => a?.startsWith('rediss://'));
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    lazyConnect: false,
    retryStrategy: backoff,
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(tls ? { tls: {} } : {}),
  };
  let client: Redis | Cluster;
  if (config.cluster && config.cluster.length > 0) {
    // ioredis manages these per node itself (queueing while it maps slots; reconnecting through the cluster).
    const { retryStrategy: _r, enableOfflineQueue: _q, lazyConnect: _l, ...nodeOptions } = options;
    client = new Cluster(config.cluster.map(seedNode), {
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      // Writes and reads go to primaries: a replica can lag, and a revoked session read from it would pass.
      scaleReads: 'master',
      slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
      redisOptions: nodeOptions,
      // With TLS the nodes are reached by the names their certificates carry (ElastiCache cluster mode),
      // so they must not be resolved to addresses first.
      ...(tls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
    });
    client.on('node error', redactAuth);
  } else if (config.sentinels && config.sentinels.length > 0) {
    client = new Redis({
      ...options,
      sentinels: config.sentinels,
      name: config.sentinelName,
      sentinelRetryStrategy: backoff,
      sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
      // Follow +switch-master at once rather than at the first READONLY: a demoted primary still answers reads,
      // and a revocation read from it could be stale.
      failoverDetector: true,
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    });
    // quit() ends the connection to the primary but leaves the failover detector's sentinel connections
    // open (holding the process alive); disconnect() also closes those.
    const sentinelClient = client;
    sentinelClient.once('end', () => sentinelClient.disconnect());
  } else {
    client = new Redis(config.url ?? 'redis://127.0.0.1:6379', options);
  }
  // Failures reach callers through their commands; without a listener ioredis would also print every failed
  // reconnection attempt.
  client.on('error', redactAuth);
  return client;
}

function seedNode(node: string): { host: string; port: number } {
  const u = new URL(node.includes('://') ? node : `redis://${node}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
}

/**
 * ioredis attaches the failed command to a reply error, arguments included: a refused AUTH would carry the
 * password into whatever logs the error. Listeners run before the error reaches the callers' promises.
 */
function redactAuth(err: unknown): void {
  const command = (err as { command?: { name?: string; args?: unknown[] } } | null)?.command;
  if (command && /^(auth|hello)$/i.test(command.name ?? '') && Array.isArray(command.args)) command.args = command.args.map(() => '[redacted]');
}

/**
 * Resolves when the client is ready. With the offline queue off, a command sent while the first connection
 * is still being made would fail, so the store waits for that first connection (never for a reconnection:
 * a Redis that went away fails requests at once). Rejects with StoreUnavailableError on error or timeout.
 */
export function whenReady(redis: Redis | Cluster, timeoutMs = CONNECT_TIMEOUT_MS, store: StoreName = 'session store'): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (err) reject(toStoreError(err, store));
      else resolve();
    };
    const onReady = (): void => done();
    const onError = (err: Error): void => done(err);
    const onEnd = (): void => done(new Error('connection ended'));
    const timer = setTimeout(() => done(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
  });
}

/** One command of a batch: method name (a Redis command or a defined script) and its arguments. */
export type BatchCommand = [name: string, ...args: Array<string | number>];

/**
 * Sends independent commands in one round trip and returns their replies in order, throwing the first error.
 * A single Redis gets one pipeline (executed in order). A Cluster cannot pipeline across nodes, so there the
 * commands are sent at once and ioredis routes each to its slot's node; callers must not rely on atomicity or
 * on order between keys of different slots.
 */
export async function sendTogether(redis: Redis | Cluster, commands: BatchCommand[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  const call = (target: unknown, [name, ...args]: BatchCommand): unknown =>
    (target as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
  if (redis instanceof Cluster) return Promise.all(commands.map((c) => call(redis, c)));
  const pipeline = redis.pipeline();
  for (const c of commands) call(pipeline, c);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

/**
 * Applies a multi-key command to many keys and returns one reply per key. On a single Redis the keys go in
 * chunks (one MGET or script call per chunk: a client spends far more per command than Redis does, ~50 µs
 * against ~1 µs for a GET). On a Cluster keys of different slots cannot share a command, so each key gets its
 * own. `build` makes the command for a chunk; the command must answer an array with one reply per key.
 */
export async function perKey(redis: Redis | Cluster, keys: string[], build: (chunk: string[]) => BatchCommand): Promise<unknown[]> {
  const size = redis instanceof Cluster ? 1 : 200;
  const commands: BatchCommand[] = [];
  for (let i = 0; i < keys.length; i += size) commands.push(build(keys.slice(i, i + size)));
  return ((await sendTogether(redis, commands)) as unknown[][]).flat(1);
}

export type StoreRunner = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * How a store runs its Redis operations on the shared client: with the offline queue off, a command sent before
 * the first connection would fail, so that first connection is awaited; afterwards a disconnected Redis fails
 * at once. Every error becomes StoreUnavailableError naming `store` (the service answers 503 and issues nothing).
 */
export function storeRunner(redis: Redis | Cluster, store: StoreName): StoreRunner {
  let connectedOnce = redis.status === 'ready';
  if (!connectedOnce) redis.once('ready', () => (connectedOnce = true));
  return async (fn) => {
    try {
      if (!connectedOnce && ['wait', 'connecting', 'connect'].includes(redis.status)) await whenReady(redis, CONNECT_TIMEOUT_MS, store);
      return await fn();
    } catch (err) {
      throw toStoreError(err, store);
    }
  };
}
