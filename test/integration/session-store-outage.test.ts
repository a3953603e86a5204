import type { Redis } from 'ioredis';
import { createRedis, StoreUnavailableError } from '../../src/storage/redis-client';
import { SessionStore, type SessionRecord } from '../../src/storage/session-store';
import { describeWithOwnRedis, startRedis, type TestRedis } from '../helpers/redis';

// These tests kill and restart their own redis-server; a shared TEST_REDIS_URL server is never killed.

const HANG = Symbol('hang');
/** The operation's outcome, or HANG if it neither resolved nor rejected within a generous bound. */
async function settle<T>(p: Promise<T>, ms = 5000): Promise<T | Error | typeof HANG> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<typeof HANG>((r) => (timer = setTimeout(() => r(HANG), ms)));
  try {
    return await Promise.race([p.catch((e: Error) => e), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until fn succeeds (recovery is asynchronous: the client reconnects on its own schedule). */
async function eventually<T>(fn: () => Promise<T>, tries = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let n = 0;
function record(): SessionRecord {
  const id = `O${String(++n).padStart(11, '0')}`;
  const now = Date.now();
  return {
    id, state: 'pending', issuer: 'corp', subject: 'alice', owner: 'alice', developer: 'alice', developerClaim: 'alice', project: 'backend-api', accessType: 'AI',
    template: 's3-read-prefix', roleArn: 'arn:aws:iam::111122223333:role/agent-s3', roleSessionName: `alice.${id}`,
    sourceIdentity: 'alice', parameters: {}, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 900_000).toISOString(),
  };
}

const liveFields = { accessKeyId: 'ASIAEXAMPLE000000001', assumedRoleArn: 'x', issuedAt: new Date(), expiresAt: new Date(Date.now() + 900_000), packedPolicySize: 5 };

describeWithOwnRedis('Redis outages', () => {
  let server: TestRedis;
  let redis: Redis;
  let store: SessionStore;

  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
    redis = createRedis({ url: server.url }) as Redis;
    store = new SessionStore(redis, { keyPrefix: server.keyPrefix, graceSeconds: 60, now: () => new Date() });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('fails fast with StoreUnavailableError while Redis is down, and recovers without a new client', async () => {
    const before = record();
    await store.createPending(before);
    await server.kill();

    const rec = record();
    const attempts: Array<Promise<unknown>> = [
      store.ping(),
      store.get(before.id),
      store.reserve({ developer: 'alice', sessionId: rec.id, expiresAt: new Date(rec.expiresAt), vendsPerMinute: 10, liveSessions: 10 }),
      store.createPending(rec),
      store.markLive(before.id, liveFields),
      store.markFailed(before.id, 'x'),
      store.idsBy('project', 'backend-api'),
      store.list({}),
    ];
    for (const outcome of await Promise.all(attempts.map((p) => settle(p)))) {
      expect(outcome).toBeInstanceOf(StoreUnavailableError);
      expect((outcome as Error).cause).toBeInstanceOf(Error);
    }

    await server.restart();
    await eventually(() => store.ping());
    // The append-only file kept what was acknowledged before the crash; scripts are reloaded transparently.
    expect((await store.get(before.id))?.state).toBe('pending');
    expect(await store.reserve({ developer: 'alice', sessionId: rec.id, expiresAt: new Date(rec.expiresAt), vendsPerMinute: 10, liveSessions: 10 })).toEqual({ ok: true });
    await store.createPending(rec);
    expect(await store.markLive(rec.id, liveFields)).toBe('live');
  });

  it('a client created while Redis is down fails fast, then connects once it is back', async () => {
    await server.kill();
    const late = createRedis({ url: server.url }) as Redis;
    try {
      const lateStore = new SessionStore(late, { keyPrefix: server.keyPrefix, graceSeconds: 60, now: () => new Date() });
      expect(await settle(lateStore.get(record().id))).toBeInstanceOf(StoreUnavailableError);
      await server.restart();
      await eventually(() => lateStore.ping());
      expect(await lateStore.get(record().id)).toBeNull();
    } finally {
      late.disconnect();
    }
  });
});
