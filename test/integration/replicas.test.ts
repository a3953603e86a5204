import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { startDepsReconciler } from '../../src/deps';
import type { Reconciler } from '../../src/revoke/reconciler';
import { AGENT_S3, READ, call, fastKillSwitch, pause, revoke, tokens, vendOk, waitFor } from '../helpers/kill-switch';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';

// Two replicas of the service (each its own app, Redis connections, credential cache and reconciler) on one
// Redis and one AWS, as behind a load balancer without stickiness: whatever one replica writes, the other
// enforces on its very next request, and only one reconciler writes role policies.
let redis: TestRedis;
let aws: TestAws;
let a: TestStack;
let b: TestStack;
const reconcilers: Reconciler[] = [];
// PutRolePolicy calls both replicas made (each IAM client makes one attempt per call), by role name.
const puts: string[] = [];

beforeAll(async () => {
  [redis, aws] = await Promise.all([startRedis(), startTestAws()]);
  const replica = () => startStack({ reuse: { redis, aws }, configure: fastKillSwitch });
  [a, b] = await Promise.all([replica(), replica()]);
  for (const s of [a, b]) {
    s.deps.iam.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutRolePolicyCommand') puts.push((args.input as { RoleName: string }).RoleName);
        return next(args);
      },
      { step: 'initialize', name: 'countPutRolePolicy' },
    );
  }
}, 60_000);
afterAll(async () => {
  await Promise.all(reconcilers.map((r) => r.stop()));
  await Promise.all([a?.stop(), b?.stop()]);
  await aws?.aws.stop();
  await redis?.stop();
});

type ContainerVend = { sessionId: string; container: { authorizationToken: string }; credentials: { accessKeyId: string } };
const vendContainer = async (s: TestStack, token: string) => (await vendOk(s, { ...READ, delivery: 'container' }, token)) as unknown as ContainerVend;
const refresh = (s: TestStack, v: ContainerVend) => request(s.app).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
const applied = (s: TestStack, roleArn: string) => s.logs.filter((l) => l.msg === 'revocation policy applied' && l.roleArn === roleArn).length;

describe('two replicas on one Redis', () => {
  it('lists on B what A vended, and A refuses what B revoked on its next request', async () => {
    const v = await vendContainer(a, await tokens.alice(a));
    const listed = await call(b, 'get', '/v1/sessions?developer=alice%40example.com');
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toContain(v.sessionId);
    expect((await call(b, 'get', `/v1/sessions/${v.sessionId}`)).body.state).toBe('live');
    // A hands out the credential and keeps it in its own memory.
    expect((await refresh(a, v)).body.AccessKeyId).toBe(v.credentials.accessKeyId);

    expect((await revoke(b, { sessionId: v.sessionId, reason: 'replica test' })).status).toBe(200);
    const refused = await refresh(a, v);
    expect({ status: refused.status, code: refused.body.Code }).toEqual({ status: 403, code: 'SessionRevoked' });
  });

  it('refuses on A a developer blocked through B, at once', async () => {
    const dave = await a.token({ email: 'dave@example.com' });
    const v = await vendContainer(a, dave);
    const res = await revoke(b, { developer: 'dave@example.com', reason: 'replica test', block: { durationSeconds: 600 } });
    expect(res.status).toBe(200);
    const vend = await a.vend(READ, dave);
    expect({ status: vend.status, code: vend.body.error?.code }).toEqual({ status: 403, code: 'blocked' });
    expect((await refresh(a, v)).body.Code).toBe('SessionRevoked');
    const revocations = await call(a, 'get', '/v1/revocations');
    expect(revocations.body.revocations.map((r: { revocationId: string }) => r.revocationId)).toContain(res.body.revocationId);
  });
});

describe('two reconcilers', () => {
  // A session revocation whose IAM write fails, leaving agent-s3 pending for the reconcilers.
  async function pendingRevocation(): Promise<string> {
    const v = await vendOk(a, READ, await tokens.bob(a));
    aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
    const res = await revoke(b, { sessionId: v.sessionId, reason: 'replica test' });
    aws.aws.admin.clearFaults();
    expect({ status: res.status, roles: res.body.roles }).toEqual({ status: 202, roles: [expect.objectContaining({ roleArn: AGENT_S3, state: 'pending' })] });
    return res.body.revocationId as string;
  }
  const appliedEverywhere = (id: string) =>
    waitFor(`revocation ${id} applied`, () => call(b, 'get', `/v1/revocations/${id}`), (r) => r.body.roles?.[0]?.state === 'applied');

  it('lets one leader apply a pending role exactly once, and hands over when it stops', async () => {
    const firstId = await pendingRevocation();
    puts.length = 0;
    const [ra, rb] = [startDepsReconciler(a.deps), startDepsReconciler(b.deps)];
    reconcilers.push(ra, rb);
    await appliedEverywhere(firstId);
    await pause(3000); // three more passes of each reconciler: nothing left to write
    expect(puts).toEqual(['agent-s3']);
    const leaderToken = await (a.deps.redis as Redis).get(`${a.config.redis.keyPrefix}{L}`);
    expect(leaderToken).toEqual(expect.any(String));
    expect(await a.deps.killSwitch.holdLeadership('someone-else', 1000)).toBe(false);
    const counts = [applied(a, AGENT_S3), applied(b, AGENT_S3)];
    expect(counts.sort()).toEqual([0, 1]);

    // The policy AWS holds now denies the revoked session.
    const iam = new IAMClient(aws.clientConfig);
    const doc = await iam.send(new GetRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: a.config.killSwitch.policyName }));
    iam.destroy();
    expect(decodeURIComponent(doc.PolicyDocument ?? '')).toContain('agent-session');

    // The leader stops (a deploy, a scale-in): it gives the lease up and the other replica takes the work.
    const [leader, follower, leaderStack, followerStack] = applied(a, AGENT_S3) === 1 ? [ra, rb, a, b] : [rb, ra, b, a];
    await leader.stop();
    const secondId = await pendingRevocation();
    await appliedEverywhere(secondId);
    expect(applied(followerStack, AGENT_S3)).toBe(1);
    expect(applied(leaderStack, AGENT_S3)).toBe(1);
    expect(puts).toEqual(['agent-s3', 'agent-s3']);
    await follower.stop();
  }, 60_000);
});
