import request from 'supertest';
import type { Cluster } from 'ioredis';
import { AGENT_S3, READ, call, fastKillSwitch, revoke, s3Read, tokens, vendOk } from '../helpers/kill-switch';
import { describeWithOwnRedis, startRedisCluster, uniquePrefix, type TestRedisCluster } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';

// The whole service on a real three-primary Redis Cluster, configured the way a deployment on ElastiCache
// cluster mode would be (redis.cluster seed nodes): every route that touches Redis runs here, so a command or
// script spanning slots (CROSSSLOT) or a pipeline spanning nodes would fail a request.

describeWithOwnRedis('the service on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let stack: TestStack;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    stack = await startStack({
      configure: (raw) => {
        fastKillSwitch(raw);
        raw.redis = { cluster: cluster.nodes.map((n) => `redis://${n}`), keyPrefix: uniquePrefix() };
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  const refresh = (sessionId: string, token: string) => request(stack.app).get(`/v1/credentials/${sessionId}`).set('Authorization', token);

  it('is built as a Cluster client from the config', () => {
    expect(stack.config.redis).toMatchObject({ cluster: cluster.nodes, tls: false });
    expect(stack.config.redis.url).toBeUndefined();
    expect((stack.deps.redis as Cluster).isCluster).toBe(true);
  });

  it('vends, lists, refreshes and revokes a session', async () => {
    const alice = await tokens.alice(stack);
    const v = (await vendOk(stack, { ...READ, delivery: 'container', sessionDurationSeconds: 3600 }, alice)) as unknown as {
      sessionId: string;
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
      container: { authorizationToken: string };
    };
    const other = await vendOk(stack, READ, await tokens.bob(stack));

    const listed = await call(stack, 'get', '/v1/sessions?developer=alice%40example.com');
    expect(listed.status).toBe(200);
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toContain(v.sessionId);
    const all = await call(stack, 'get', '/v1/sessions?limit=1');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    const byTemplate = await call(stack, 'get', `/v1/sessions?template=${READ.template}&state=live`);
    expect(byTemplate.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([v.sessionId, other.sessionId].sort());

    const fresh = await refresh(v.sessionId, v.container.authorizationToken);
    expect({ status: fresh.status, key: fresh.body.AccessKeyId }).toEqual({ status: 200, key: v.credentials.accessKeyId });

    const res = await revoke(stack, { sessionId: v.sessionId, reason: 'cluster test' });
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'applied' }]);
    expect((await refresh(v.sessionId, v.container.authorizationToken)).body.Code).toBe('SessionRevoked');
    expect(await s3Read(stack, v.credentials)).toBe('AccessDenied');
    expect(await s3Read(stack, other.credentials)).toBe('ok');
    expect((await call(stack, 'get', `/v1/sessions/${v.sessionId}`)).body.state).toBe('revoked');
  });

  it('revokes and blocks a developer, lists revocations, and lifts the block', async () => {
    const dave = await stack.token({ email: 'dave@example.com' });
    const before = await vendOk(stack, READ, dave);
    const res = await revoke(stack, { developer: 'dave@example.com', reason: 'cluster test', block: { durationSeconds: 600 } });
    expect(res.status).toBe(200);
    expect(res.body.sessionsRevoked).toBe(1);
    expect(res.body.roles.every((r: { state: string }) => r.state === 'applied')).toBe(true);

    const refused = await stack.vend(READ, dave);
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: 'blocked' });
    expect(await s3Read(stack, before.credentials)).toBe('AccessDenied');

    const list = await call(stack, 'get', '/v1/revocations');
    expect(list.status).toBe(200);
    expect(list.body.revocations.map((r: { revocationId: string }) => r.revocationId)).toContain(res.body.revocationId);
    expect((await call(stack, 'delete', `/v1/revocations/${res.body.revocationId}/block`)).status).toBe(200);
  });

  it('spread its keys over several nodes and never met a slot error', async () => {
    const prefix = stack.config.redis.keyPrefix;
    const perNode = await Promise.all((stack.deps.redis as Cluster).nodes('master').map(async (n) => (await n.keys(`${prefix}*`)).length));
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
    const text = stack.rawLogs.join('\n');
    expect(text).not.toMatch(/CROSSSLOT|same slot|store unavailable/i);
  });
});
