import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { applyRolePolicy, type RevocationMetrics } from '../../src/revoke/apply-role-policy';
import { KillSwitchStore, type RevocationRecord } from '../../src/storage/kill-switch-store';
import { startReconciler, type Reconciler } from '../../src/revoke/reconciler';
import { createRedis } from '../../src/storage/redis-client';
import { iamClient, roleArn, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';
import { startRedis, uniquePrefix, type TestRedis } from '../helpers/redis';

const ROLE = roleArn('agent-s3');
const OBJECT = 'arn:aws:s3:::backend-data/reports/2026/q3.csv';
const logger = pino({ level: 'silent' });

let env: TestAws;
let server: TestRedis;
let sts: STSClient;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [env, server] = await Promise.all([startTestAws(), startRedis()]);
  sts = stsClient(env);
});
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
  env.aws.admin.clearFaults();
});
afterAll(async () => {
  await Promise.all([env?.aws.stop(), server?.stop()]);
});

/** One "replica": its own Redis client and store, a reconciler whose applies are logged under `name`. */
function replica(name: string, prefix: string, clock: { ms: number }, calls: string[], metrics: RevocationMetrics = {}) {
  const client = createRedis({ url: server.url }) as Redis;
  const now = (): Date => new Date(clock.ms);
  const store = new KillSwitchStore(client, { keyPrefix: prefix, now });
  const apply = (role: string) => {
    calls.push(name);
    return applyRolePolicy({ iam: iamClient(env), store, now, marginMs: 5000, metrics }, role);
  };
  const reconciler: Reconciler = startReconciler({ store, apply, intervalMs: 20, now, maxSessionSeconds: 3600, logger, metrics });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await reconciler.stop();
    await client.quit();
  };
  cleanup.push(stop);
  return { store, stop };
}

let counter = 0;
async function revokeNewSession(store: KillSwitchStore, clockMs: number): Promise<{ akid: string; rec: RevocationRecord }> {
  const id = `R${process.pid % 1000}y${String(++counter).padStart(7, '0')}`.slice(0, 12).padEnd(12, '0');
  const out = await sts.send(
    new AssumeRoleCommand(validAssumeRole({ RoleSessionName: `alice.${id}`, Tags: [{ Key: 'AccessType', Value: 'AI' }, { Key: 'agent-session', Value: id }] })),
  );
  const rec: RevocationRecord = {
    revocationId: `r${id}`,
    selector: { kind: 'session', value: id },
    reason: 'test',
    operator: 'sec',
    createdAt: new Date(clockMs).toISOString(),
    sessionsRevoked: 1,
    roles: [{ roleArn: ROLE, state: 'pending' }],
  };
  const entry = { kind: 'session' as const, sessionId: id, issuedAt: new Date(clockMs).toISOString(), expiresAt: new Date(clockMs + 3_600_000).toISOString() };
  await store.recordRevocation(rec, { entriesByRole: new Map([[ROLE, [entry]]]) });
  return { akid: out.Credentials!.AccessKeyId!, rec };
}

const decision = (akid: string): string => env.aws.admin.authorize(akid, 's3:GetObject', OBJECT);

async function roleState(store: KillSwitchStore, id: string): Promise<string | undefined> {
  return (await store.getRevocation(id))?.roles[0]?.state;
}

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('with two reconcilers on one Redis only the leader applies; the other takes over when it stops', async () => {
  const prefix = `${server.keyPrefix}${uniquePrefix()}`;
  const clock = { ms: Date.now() };
  const calls: string[] = [];
  const one = replica('one', prefix, clock, calls);
  const two = replica('two', prefix, clock, calls);

  const first = await revokeNewSession(one.store, clock.ms);
  const second = await revokeNewSession(two.store, clock.ms);
  await waitFor(async () => (await roleState(one.store, first.rec.revocationId)) === 'applied' && (await roleState(one.store, second.rec.revocationId)) === 'applied');
  expect(decision(first.akid)).toBe('ExplicitDeny');
  expect(decision(second.akid)).toBe('ExplicitDeny');
  const leader = calls[0]!;
  expect(new Set(calls)).toEqual(new Set([leader]));

  // The leader stops (and gives up its lease): the other reconciler picks up new work.
  await (leader === 'one' ? one : two).stop();
  const follower = leader === 'one' ? two : one;
  calls.length = 0;
  const third = await revokeNewSession(follower.store, clock.ms);
  await waitFor(async () => (await roleState(follower.store, third.rec.revocationId)) === 'applied');
  expect(decision(third.akid)).toBe('ExplicitDeny');
  expect(new Set(calls)).toEqual(new Set([leader === 'one' ? 'two' : 'one']));
});

it('a role left pending by an IAM failure is applied once the fault clears, even across a restart', async () => {
  const prefix = `${server.keyPrefix}${uniquePrefix()}`;
  const clock = { ms: Date.now() };
  const calls: string[] = [];
  const pendingCounts: number[] = [];
  const applied: Array<[string, number]> = [];
  const metrics = { onPending: (n: number) => pendingCounts.push(n), onApplied: (role: string, s: number) => applied.push([role, s]) };
  env.aws.admin.setFaults({ iamFailure: { rate: 1 } });

  const before = replica('before', prefix, clock, calls, metrics);
  const { akid, rec } = await revokeNewSession(before.store, clock.ms);
  // The reconciler tries, fails and backs off (the injected clock does not move, so it waits).
  await waitFor(async () => (await before.store.getRevocation(rec.revocationId))?.roles[0]?.error?.startsWith('ServiceFailure') === true);
  await waitFor(() => pendingCounts.includes(1));
  expect(calls).toHaveLength(1);
  expect(decision(akid)).toBe('Allow');

  // "Restart": the reconciler and its Redis client go away; IAM recovers; a new process starts on the same Redis.
  await before.stop();
  env.aws.admin.clearFaults();
  clock.ms += 1000; // the backoff has passed
  const after = replica('after', prefix, clock, calls, metrics);
  await waitFor(async () => (await roleState(after.store, rec.revocationId)) === 'applied');
  expect(decision(akid)).toBe('ExplicitDeny');
  expect(calls).toEqual(['before', 'after']);
  await waitFor(() => pendingCounts[pendingCounts.length - 1] === 0);
  expect(applied).toEqual([[ROLE, 1]]);
});
