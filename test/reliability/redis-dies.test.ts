import { startTestAws, type TestAws } from '../helpers/local-aws';
import { describeWithOwnRedis, startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';
import { listen, pool, type Answer, type HttpTarget } from './support/load';

/**
 * Redis dies under load: vends run 32 at a time while redis-server (append-only file, fsync on every write, as
 * a production Redis that must not lose acknowledged writes) is SIGKILLed part-way and started again on the
 * same data. No credential may leave the service untracked, and the service must come back by itself.
 */
const TOTAL = 2000;
const IN_FLIGHT = 32;
/** Vends before Redis is back; the rest run once it is. */
const FIRST_PHASE = 1200;
/** Completed vends before the kill, and after it before the restart (the restart happens under load). */
const KILL_AFTER = 400;
const DOWN_FOR = 200;
const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };

interface Outcome {
  phase: 'redis-dies' | 'after-restart';
  status: number;
  code?: string;
  retryAfter?: string;
  sessionId?: string;
  accessKeyId?: string;
}


let redis: TestRedis;
let aws: TestAws;
let stack: TestStack;
let target: HttpTarget;
beforeAll(async () => {
  redis = await startRedis({ appendOnly: true });
  aws = await startTestAws();
  stack = await startStack({
    reuse: { redis, aws },
    // One developer vends thousands of times here: the per-developer limits are not what this test is about.
    configure: (raw) => (raw.limits = { vendsPerMinute: 0, liveSessionsPerDeveloper: 0 }),
  });
  target = await listen(stack.app, IN_FLIGHT);
});
afterAll(async () => {
  await target?.close();
  await stack?.stop();
  await aws?.aws.stop();
  await redis?.stop();
});

/** Polls `ok` every 20 ms; fails naming `what` after `timeoutMs` (a bound on the test, not an assertion on speed). */
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithOwnRedis('Redis dies under load', () => {
  it('answers only 200 or 503 store_unavailable, tracks every issued credential, and recovers without a restart', async () => {
    const token = await stack.token();
    const outcomes: Outcome[] = [];
    const vend = async (phase: Outcome['phase']): Promise<Answer> => {
      const res = await target.request('POST', '/v1/vend', { headers: { authorization: `Bearer ${token}` }, body: READ });
      outcomes.push({
        phase,
        status: res.status,
        code: res.body?.error?.code,
        retryAfter: res.headers['retry-after'] as string | undefined,
        sessionId: res.body?.sessionId,
        accessKeyId: res.body?.credentials?.accessKeyId,
      });
      return res;
    };

    // Phase 1: load runs while the controller kills Redis and, still under load, starts it again.
    const firstPhase = pool(FIRST_PHASE, IN_FLIGHT, () => vend('redis-dies'));
    let firstDone = false;
    void firstPhase.then(() => (firstDone = true), () => (firstDone = true));
    await until('the first vends', () => outcomes.length >= KILL_AFTER || firstDone);
    await redis.kill();
    const atKill = outcomes.length;
    await until('vends while Redis is down', () => outcomes.length >= atKill + DOWN_FOR || firstDone);
    await redis.restart();
    await firstPhase;

    // The same process, never restarted, reports ready once its client has reconnected by itself.
    await until('readiness after the restart', async () => (await target.request('GET', '/readyz')).status === 200);
    await pool(TOTAL - FIRST_PHASE, IN_FLIGHT, () => vend('after-restart'));

    // Every answer is a 200 or a fail-closed 503 telling the caller when to retry; never another 5xx.
    const unexpected = outcomes.filter((o) => o.status !== 200 && !(o.status === 503 && o.code === 'store_unavailable' && Number(o.retryAfter) > 0));
    expect(unexpected).toEqual([]);
    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 503);
    expect(outcomes).toHaveLength(TOTAL);
    // The kill really happened under load, and vends succeeded on both sides of it.
    expect(refused.length).toBeGreaterThan(0);
    expect(ok.filter((o) => o.phase === 'redis-dies').length).toBeGreaterThan(0);
    // Recovery: with Redis back, the same process issues again (a vend may still meet a slow Redis: 503).
    const after = outcomes.filter((o) => o.phase === 'after-restart');
    expect(after.filter((o) => o.status === 200).length).toBeGreaterThan(after.length / 2);

    // Zero credentials issued untracked: every 200's session is in Redis, live, with the key it was given.
    const records = await stack.deps.sessions.getMany(ok.map((o) => o.sessionId!));
    const untracked = ok.filter((o, i) => records[i]?.state !== 'live' || records[i]?.accessKeyId !== o.accessKeyId);
    expect(untracked).toEqual([]);
    // And the owner can read them through the API (a sample: the store answered for all of them above).
    for (const o of ok.filter((_, i) => i % 100 === 0)) {
      const res = await target.request('GET', `/v1/sessions/${o.sessionId}`, { headers: { authorization: `Bearer ${token}` } });
      expect([res.status, res.body.state, res.body.accessKeyId]).toEqual([200, 'live', o.accessKeyId]);
    }

    // The AWS side: every session the emulator issued belongs to a session record (so the kill switch can find
    // it). One whose credentials were returned is live with that key; one whose record was left pending (Redis
    // died between AssumeRole and markLive) was never returned to anyone.
    const issued = aws.aws.admin.sessions();
    const returned = new Map(ok.map((o) => [o.sessionId!, o.accessKeyId!]));
    expect(issued.length).toBeGreaterThanOrEqual(ok.length);
    const recordsOfIssued = await stack.deps.sessions.getMany(issued.map((s) => s.tags['agent-session']!));
    const orphans = issued.filter((s, i) => {
      const rec = recordsOfIssued[i];
      if (!rec) return true; // an AWS session no record tracks
      if (rec.state === 'live') return rec.accessKeyId !== s.accessKeyId;
      return rec.state !== 'pending' || returned.has(rec.id);
    });
    expect(orphans).toEqual([]);
    // And every credential handed out is one AWS issued for that very session.
    const issuedFor = new Map(issued.map((s) => [s.accessKeyId, s.tags['agent-session']]));
    expect([...returned].filter(([sessionId, accessKeyId]) => issuedFor.get(accessKeyId) !== sessionId)).toEqual([]);
  }, 240_000);
});
