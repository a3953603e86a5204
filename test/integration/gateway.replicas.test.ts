import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fastKillSwitch, revoke, tokens } from '../helpers/kill-switch';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';

/**
 * Two gateway replicas on one Redis, no stickiness: a replica that never saw a session serves it (it derives
 * the same agent secret and issues its own real credential, no secret in Redis), and a revocation through one
 * replica stops the very next call on the other (the checkpoint reads Redis on every call).
 */
let redis: TestRedis;
let aws: TestAws;
let a: TestStack;
let b: TestStack;
beforeAll(async () => {
  [redis, aws] = await Promise.all([startRedis(), startTestAws()]);
  const replica = () =>
    startStack({
      reuse: { redis, aws },
      gateway: true,
      configure: (raw) => {
        fastKillSwitch(raw);
        (raw.gateway as Record<string, unknown>).callsPerSecond = 5;
      },
    });
  [a, b] = await Promise.all([replica(), replica()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await aws?.aws.stop();
  await redis?.stop();
});

type Gw = { accessKeyId: string; secretAccessKey: string; region: string };
const READ_GW = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, delivery: 'gateway' };
const get = (endpoint: string, g: Gw) =>
  new S3Client({ endpoint, region: g.region, forcePathStyle: true, credentials: g, maxAttempts: 1 })
    .send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' }))
    .then(() => 'ok', (e: { name: string }) => e.name);

describe('gateway replicas', () => {
  it('serves on B a session vended on A, with a real credential of its own, and no secret shared through Redis', async () => {
    const res = await a.vend(READ_GW, await tokens.alice(a));
    expect(res.status).toBe(200);
    const { sessionId, gateway } = res.body as { sessionId: string; gateway: Gw };
    expect(b.deps.credentialCache.get(sessionId, new Date(), 0)).toBeUndefined();
    expect(await get(b.gateway!.url, gateway)).toBe('ok');
    const onA = a.deps.credentialCache.get(sessionId, new Date(), 0)!;
    const onB = b.deps.credentialCache.get(sessionId, new Date(), 0)!;
    expect(onB.accessKeyId).not.toBe(onA.accessKeyId);
    expect(aws.aws.admin.session(onB.accessKeyId)!.tags['agent-session']).toBe(sessionId);
    expect(await get(a.gateway!.url, gateway)).toBe('ok');
  });

  it('rate-limits a session across replicas (calls per second, counted in Redis)', async () => {
    const { gateway } = (await a.vend(READ_GW, await tokens.alice(a))).body as { gateway: Gw };
    const outcomes: string[] = [];
    // 20 sequential calls alternating replicas, in at most a few wall-clock seconds: some second holds more than 5.
    for (let i = 0; i < 20; i++) outcomes.push(await get((i % 2 ? a : b).gateway!.url, gateway));
    const ok = outcomes.filter((o) => o === 'ok').length;
    expect(outcomes.filter((o) => o === 'SlowDown').length).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(outcomes.every((o) => o === 'ok' || o === 'SlowDown')).toBe(true);
  });

  it('refuses on B the next call after a revocation through A, for a session and for a developer', async () => {
    const one = (await a.vend(READ_GW, await tokens.alice(a))).body as { sessionId: string; gateway: Gw };
    const two = (await a.vend(READ_GW, await tokens.bob(a))).body as { sessionId: string; gateway: Gw };
    expect([await get(b.gateway!.url, one.gateway), await get(b.gateway!.url, two.gateway)]).toEqual(['ok', 'ok']);
    expect((await revoke(a, { sessionId: one.sessionId, reason: 'test' })).status).toBeLessThan(300);
    expect(await get(b.gateway!.url, one.gateway)).toBe('AccessDenied');
    expect(await get(b.gateway!.url, two.gateway)).toBe('ok');
    expect((await revoke(a, { developer: 'bob@example.com', reason: 'test' })).status).toBeLessThan(300);
    expect(await get(b.gateway!.url, two.gateway)).toBe('AccessDenied');
    expect(await get(a.gateway!.url, two.gateway)).toBe('AccessDenied');
  });
});
