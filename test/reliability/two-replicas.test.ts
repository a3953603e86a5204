import { Redis } from 'ioredis';
import request from 'supertest';
import { AGENT_S3, READ, fastKillSwitch, revoke, tokens, waitFor } from '../helpers/kill-switch';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';
import { startDepsReconciler } from '../../src/deps';
import { storageKeys } from '../../src/storage/keys';
import type { Reconciler } from '../../src/revoke/reconciler';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy';

/**
 * Two replicas, one Redis: what one replica records, the other enforces on the very next request, with no
 * cache in between; and of the two reconcilers only the one holding the leader lease talks to IAM. Each replica
 * reaches the emulator through its own counting proxy, so the wire shows which one acted.
 */
let redis: TestRedis;
let aws: TestAws;
let proxies: Record<'a' | 'b', CountingProxy>;
let a: TestStack;
let b: TestStack;
let raw: Redis;
const reconcilers: Partial<Record<'a' | 'b', Reconciler>> = {};
beforeAll(async () => {
  redis = await startRedis();
  aws = await startTestAws();
  proxies = { a: await startCountingProxy(aws), b: await startCountingProxy(aws) };
  a = await startStack({ reuse: { redis, aws: proxies.a.aws }, configure: fastKillSwitch });
  // The same deployment: B trusts A's issuers, so one token works on both replicas.
  const issuerOf: Record<string, string> = { corp: a.corp.issuer, ci: a.ci.issuer };
  b = await startStack({
    reuse: { redis, aws: proxies.b.aws },
    configure: (raw) => {
      fastKillSwitch(raw);
      raw.issuers = (raw.issuers as Array<{ name: string }>).map((i) => ({ ...i, issuer: issuerOf[i.name] }));
    },
  });
  raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await Promise.all(Object.values(reconcilers).map((r) => r.stop()));
  raw?.disconnect();
  await b?.stop();
  await a?.stop();
  await Promise.all(Object.values(proxies ?? {}).map((p) => p.stop()));
  await aws?.aws.stop();
  await redis?.stop();
});

/** A container session vended through replica B, and its refresh through B. */
async function containerOnB(token: string): Promise<{ sessionId: string; refresh(): Promise<request.Response> }> {
  const res = await request(b.app).post('/v1/vend').set('Authorization', `Bearer ${token}`).send({ ...READ, delivery: 'container' });
  expect(res.status).toBe(200);
  const { sessionId, container } = res.body as { sessionId: string; container: { authorizationToken: string } };
  return { sessionId, refresh: () => request(b.app).get(`/v1/credentials/${sessionId}`).set('Authorization', container.authorizationToken) };
}

describe('two replicas, one Redis', () => {
  it('a session revoked through A is refused on its next refresh through B', async () => {
    const s = await containerOnB(await tokens.alice(a));
    // B has served it, so B holds its current credential in memory: the refusal cannot come from a cold cache.
    expect((await s.refresh()).status).toBe(200);
    const revoked = await revoke(a, { sessionId: s.sessionId, reason: 'two replicas' });
    expect([200, 202]).toContain(revoked.status);
    const next = await s.refresh();
    expect([next.status, next.body.Code]).toEqual([403, 'SessionRevoked']);
  });

  it('a developer revoked and blocked through A is refused by B on its next vend and its next refresh', async () => {
    const bob = await tokens.bob(a);
    const s = await containerOnB(bob);
    expect((await s.refresh()).status).toBe(200);
    const revoked = await revoke(a, { developer: 'bob@example.com', reason: 'two replicas', block: { durationSeconds: 300 } });
    expect([200, 202]).toContain(revoked.status);
    const vend = await b.vend(READ, bob);
    expect([vend.status, vend.body.error?.code]).toEqual([403, 'blocked']);
    expect(Number(vend.headers['retry-after'])).toBeGreaterThan(0);
    const refresh = await s.refresh();
    expect([refresh.status, refresh.body.Code]).toEqual([403, 'SessionRevoked']);
    // Someone else is not affected on either replica.
    expect((await b.vend(READ, await tokens.alice(a))).status).toBe(200);
  });

  it('runs one reconciler at a time: only the leader calls IAM, and the other takes over when it stops', async () => {
    const leaderKey = storageKeys(a.config.redis.keyPrefix).killSwitch.leader;
    reconcilers.a = startDepsReconciler(a.deps);
    reconcilers.b = startDepsReconciler(b.deps);
    const leader0 = await waitFor('a leader', () => raw.get(leaderKey), (v) => v !== null);
    const iamCalls = (p: CountingProxy, from: number): number => p.calls.slice(from).filter((c) => c.action !== 'AssumeRole').length;

    /** Makes the role's revocation policy due now and waits for whichever reconciler leads to apply it. */
    const applyRound = async (): Promise<Record<'a' | 'b', number>> => {
      const from = { a: proxies.a.calls.length, b: proxies.b.calls.length };
      await a.deps.killSwitch.schedule(AGENT_S3, new Date());
      await waitFor('the role applied', () => a.deps.killSwitch.dueRoles(new Date(), 10), (due) => !due.includes(AGENT_S3));
      return { a: iamCalls(proxies.a, from.a), b: iamCalls(proxies.b, from.b) };
    };
    const rounds = [await applyRound(), await applyRound(), await applyRound()];
    const leader = rounds[0]!.a > 0 ? 'a' : 'b';
    const follower = leader === 'a' ? 'b' : 'a';
    for (const r of rounds) expect([r[leader] > 0, r[follower]]).toEqual([true, 0]);
    // The lease never changed hands while both ran.
    expect(await raw.get(leaderKey)).toBe(leader0);

    // The leader stops (gives the lease up); the other one leads from its next pass.
    await reconcilers[leader]!.stop();
    delete reconcilers[leader];
    const after = await applyRound();
    expect([after[leader], after[follower] > 0]).toEqual([0, true]);
    const leader1 = await raw.get(leaderKey);
    expect(leader1).not.toBeNull();
    expect(leader1).not.toBe(leader0);
  }, 60_000);
});
