import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { READ, call, revoke, tokens, vendOk, waitFor } from '../helpers/kill-switch';
import { startRedisProcess, type RedisProcess } from '../helpers/redis-processes';
import { uniquePrefix } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';
import { describeWhen } from '../helpers/skip';

// The service finding its Redis through Sentinel: a primary, a replica and one sentinel (quorum 1), all real
// processes on free ports. After a forced failover the service follows the sentinel to the new primary and
// still sees (and enforces) what it wrote before.
const available = spawnSync('redis-server', ['--version']).status === 0;
describeWhen(available, 'redis-server (which also runs Sentinel) is not installed')('the service behind Redis Sentinel', () => {
  const procs: RedisProcess[] = [];
  let primary: RedisProcess;
  let replica: RedisProcess;
  let sentinel: RedisProcess;
  let stack: TestStack;
  let first: string;

  beforeAll(async () => {
    primary = await startRedisProcess();
    procs.push(primary);
    replica = await startRedisProcess({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    procs.push(replica);
    await waitFor('the replica to sync', () => replica.cli(['INFO', 'replication']), (info) => info.includes('master_link_status:up'));
    sentinel = await startRedisProcess({
      sentinel: true,
      config: [`sentinel monitor main 127.0.0.1 ${primary.port} 1`, 'sentinel down-after-milliseconds main 2000', 'sentinel failover-timeout main 10000'].join('\n'),
    });
    procs.push(sentinel);
    await waitFor('the sentinel to know the replica', () => sentinel.cli(['SENTINEL', 'REPLICAS', 'main']), (out) => out.includes(String(replica.port)));
    stack = await startStack({
      configure: (raw) => {
        raw.redis = { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinelName: 'main', keyPrefix: uniquePrefix() };
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('vends, lists and revokes through the primary the sentinel names', async () => {
    const alice = await tokens.alice(stack);
    const v = await vendOk(stack, READ, alice);
    first = v.sessionId;
    const listed = await call(stack, 'get', '/v1/sessions?developer=alice%40example.com');
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([v.sessionId]);
    expect((await revoke(stack, { sessionId: v.sessionId, reason: 'sentinel test' })).status).toBe(200);
    // Written to the primary itself, not to the replica.
    expect(Number(await primary.cli(['DBSIZE']))).toBeGreaterThan(0);
  });

  it('follows a failover to the promoted replica and keeps what was written', async () => {
    const container = await vendOk(stack, { ...READ, delivery: 'container' }, await tokens.bob(stack));
    const token = (container as unknown as { container: { authorizationToken: string } }).container.authorizationToken;
    expect((await revoke(stack, { sessionId: container.sessionId, reason: 'before failover' })).status).toBe(200);
    // The replica has every write before the switch (as a planned failover waits for it).
    expect(await primary.cli(['WAIT', '1', '2000'])).toBe('1');

    expect(await sentinel.cli(['SENTINEL', 'FAILOVER', 'main'])).toBe('OK');
    await waitFor('the sentinel to name the replica', () => sentinel.cli(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'main']), (out) => out.includes(String(replica.port)));
    await waitFor('the replica to be the primary', () => replica.cli(['ROLE']), (out) => out.startsWith('master'));

    // A request may land while the client switches over (503, retried by callers); then it settles.
    // Redis replicates asynchronously: a write the demoted primary acknowledged during the switch can be lost, so
    // the test waits until the client writes to the new primary (a vend it can then list) before checking.
    const alice = await tokens.alice(stack);
    let res = await waitFor('a vend after the failover', () => stack.vend(READ, alice), (r) => r.status !== 503);
    for (let i = 0; i < 20 && (res.status !== 200 || !(await replica.cli(['EXISTS', `${stack.config.redis.keyPrefix}{s:${res.body.sessionId}}`])).startsWith('1')); i++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await waitFor('a vend after the failover', () => stack.vend(READ, alice), (r) => r.status !== 503);
    }
    expect(res.status).toBe(200);
    // The client may still be settling on the new primary (a 503 a caller retries); never an answer that honours it.
    const refresh = await waitFor('a refresh after the failover', () => request(stack.app).get(`/v1/credentials/${container.sessionId}`).set('Authorization', token), (r) => r.status !== 503);
    expect({ status: refresh.status, code: refresh.body.Code }).toEqual({ status: 403, code: 'SessionRevoked' });
    const listed = await call(stack, 'get', '/v1/sessions?developer=alice%40example.com');
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toContain(res.body.sessionId);
    expect((await call(stack, 'get', `/v1/sessions/${first}`)).body.state).toBe('revoked');
    expect(Number(await replica.cli(['DBSIZE']))).toBeGreaterThan(0);
  }, 60_000);
});
