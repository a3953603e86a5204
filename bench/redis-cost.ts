/**
 * Measurement 4a, Redis memory per live session: `INFO memory` used_memory before and after recording 100,000
 * live sessions through the SessionStore on a redis-server of their own (nothing else in it).
 */
import { Redis } from 'ioredis';
import { DEVELOPER_BUCKETS, sessionKeys } from '../src/storage/keys';
import { createRedis } from '../src/storage/redis-client';
import { SessionStore } from '../src/storage/session-store';
import { startRedisServer } from './processes';
import { usedMemory } from './redis-info';
import { seedSessions } from './seed-sessions';
import { BENCH_GRACE_SECONDS, BENCH_KEY_PREFIX } from './world';

const MEMORY_SESSIONS = 100_000;
// A developer runs a few agents at once; the per-developer index and catalogue entry are shared by them.
const SESSIONS_PER_DEVELOPER = 5;

export interface RedisMemory {
  sessions: number;
  developers: number;
  roles: number;
  usedMemoryBefore: number;
  usedMemoryAfter: number;
  bytesPerSession: number;
  /**
   * Where the bytes go, per session (MEMORY USAGE of sampled keys): the record, the developer's index shared by
   * its sessions, the catalogues (developers in buckets, roles, template roles), and the rest (Redis's own
   * key-space and expiry tables, allocator rounding) as the difference.
   */
  breakdown: { record: number; developerIndex: number; catalogues: number; keyspaceAndOther: number };
  keys: number;
  seconds: number;
}

const SAMPLE = 200;

/** MEMORY USAGE of each key (SAMPLES 0: every element counted), summed. */
async function memoryUsage(redis: Redis, keys: string[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [err, bytes]) => sum + (err ? 0 : Number(bytes ?? 0)), 0);
}

/** Starts its own redis-server, records MEMORY_SESSIONS live sessions and reads the memory they took. */
export async function measureRedisMemory(issuer: string, log: (line: string) => void): Promise<RedisMemory> {
  const server = await startRedisServer('redis-server (memory)');
  const redis = createRedis({ url: server.url });
  const admin = new Redis(server.url, { lazyConnect: true });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    const store = new SessionStore(redis, { keyPrefix: BENCH_KEY_PREFIX, graceSeconds: BENCH_GRACE_SECONDS, now: () => new Date() });
    const developer = (i: number): string => `dev${Math.floor(i / SESSIONS_PER_DEVELOPER)}@example.com`;
    // One session first so the store's scripts are loaded and connections made before the baseline is read.
    await seedSessions(store, { issuer, developer: () => 'warmup@example.com', roles: 1 }, 1);
    const before = await usedMemory(admin);
    const keysBefore = await admin.dbsize();
    const start = process.hrtime.bigint();
    const ids = await seedSessions(store, { issuer, developer, roles: 3 }, MEMORY_SESSIONS, 500);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = await usedMemory(admin);
    const keys = sessionKeys(BENCH_KEY_PREFIX);
    const sampled = ids.filter((_id, i) => i % Math.floor(MEMORY_SESSIONS / SAMPLE) === 0);
    const record = (await memoryUsage(admin, sampled.map((id) => keys.record(id)))) / sampled.length;
    const devSample = Array.from({ length: SAMPLE }, (_x, i) => keys.developer(developer(i * SESSIONS_PER_DEVELOPER)));
    const developerIndex = (await memoryUsage(admin, devSample)) / SAMPLE / SESSIONS_PER_DEVELOPER;
    const catalogueKeys = [...Array.from({ length: DEVELOPER_BUCKETS }, (_x, i) => keys.developers(i)), keys.roles, keys.templateRoles];
    const catalogues = (await memoryUsage(admin, catalogueKeys)) / MEMORY_SESSIONS;
    const bytesPerSession = (after - before) / MEMORY_SESSIONS;
    const result: RedisMemory = {
      sessions: MEMORY_SESSIONS,
      developers: MEMORY_SESSIONS / SESSIONS_PER_DEVELOPER,
      roles: 3,
      usedMemoryBefore: before,
      usedMemoryAfter: after,
      bytesPerSession,
      breakdown: { record, developerIndex, catalogues, keyspaceAndOther: bytesPerSession - record - developerIndex - catalogues },
      keys: (await admin.dbsize()) - keysBefore,
      seconds,
    };
    const parts = Object.entries(result.breakdown).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    log(`  ${MEMORY_SESSIONS} sessions (${result.developers} developers) recorded in ${seconds.toFixed(1)} s: ${bytesPerSession.toFixed(0)} bytes each (${parts})`);
    return result;
  } finally {
    admin.disconnect();
    await redis.quit().catch(() => redis.disconnect());
    await server.child.stop();
  }
}
