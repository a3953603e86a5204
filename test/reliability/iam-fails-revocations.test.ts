import { fastKillSwitch, call, revoke, tokens, vendOk, waitFor, type Vended } from '../helpers/kill-switch';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startStack, type TestStack } from '../helpers/stack';
import { startDepsReconciler } from '../../src/deps';
import type { Reconciler } from '../../src/revoke/reconciler';

/**
 * IAM fails during revocations: every IAM call fails while ten revocations (single sessions and whole
 * developers) are made, so each answers 202 with its roles pending. The service is then restarted over the
 * same Redis and emulator with IAM healthy, and its reconciler alone must apply every one of them: none lost,
 * and every affected session's credentials denied by AWS.
 */
const ACCOUNT = '111122223333';
/** A template, its parameters, and one action AWS must allow on a session of it until it is revoked. */
const TEMPLATES = {
  s3: { body: { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } }, check: ['s3:GetObject', 'arn:aws:s3:::backend-data/reports/2026/q3.csv'] },
  lambda: { body: { template: 'lambda-update-code', parameters: { functionName: 'orders-api' } }, check: ['lambda:UpdateFunctionCode', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-api`] },
  logs: { body: { template: 'logs-read-group', parameters: { logGroup: '/aws/lambda/orders-api' } }, check: ['logs:GetLogEvents', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/orders-api:log-stream:a`] },
  dynamodb: { body: { template: 'dynamodb-read-table', parameters: { table: 'orders' } }, check: ['dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`] },
} as const;
type Kind = keyof typeof TEMPLATES;

interface Held {
  kind: Kind;
  vended: Vended;
}

let redis: TestRedis;
let aws: TestAws;
let first: TestStack;
let second: TestStack | undefined;
let reconciler: Reconciler | undefined;
beforeAll(async () => {
  redis = await startRedis();
  aws = await startTestAws();
  first = await startStack({ reuse: { redis, aws }, configure: fastKillSwitch });
});
afterAll(async () => {
  await reconciler?.stop();
  await second?.stop();
  await first?.stop();
  await aws?.aws.stop();
  await redis?.stop();
});

const decision = (h: Held): string => aws.aws.admin.authorize(h.vended.credentials.accessKeyId, TEMPLATES[h.kind].check[0], TEMPLATES[h.kind].check[1]);

describe('IAM fails during revocations', () => {
  it('keeps ten revocations pending through a restart, then applies all of them and AWS denies every affected session', async () => {
    const alice = await tokens.alice(first);
    const bob = await tokens.bob(first);
    const carol = await tokens.carol(first);
    const hold = async (kind: Kind, token: string): Promise<Held> => ({ kind, vended: await vendOk(first, TEMPLATES[kind].body, token) });
    // Two of alice's sessions on each of four roles, revoked one by one; bob's and carol's revoked by developer.
    const aliceSessions: Held[] = [];
    for (const kind of Object.keys(TEMPLATES) as Kind[]) aliceSessions.push(await hold(kind, alice), await hold(kind, alice));
    const developerSessions = [await hold('s3', bob), await hold('lambda', bob), await hold('dynamodb', carol), await hold('logs', carol)];
    const untouched = await hold('s3', alice);
    const affected = [...aliceSessions, ...developerSessions];
    expect([...affected, untouched].map(decision).every((d) => d === 'Allow')).toBe(true);

    aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
    const operator = await tokens.operator(first);
    const bodies = [
      ...aliceSessions.map((h) => ({ sessionId: h.vended.sessionId, reason: 'incident 7: leaked session' })),
      { developer: 'bob@example.com', reason: 'incident 7: laptop lost' },
      { developer: 'carol@example.com', reason: 'incident 7: laptop lost' },
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const res = await revoke(first, body, operator);
      expect(res.status).toBe(202);
      expect(res.body.roles.length).toBeGreaterThan(0);
      for (const role of res.body.roles) expect([role.state, role.error]).toEqual(['pending', expect.stringContaining('ServiceFailure')]);
      ids.push(res.body.revocationId);
    }
    expect(ids).toHaveLength(10);
    // Layer 2 is not written: AWS still honours the credentials (layer 1 already refuses them in the service).
    expect(affected.map(decision).every((d) => d === 'Allow')).toBe(true);

    // The service goes away with the work unfinished, IAM recovers, and a new process starts on the same state.
    await first.stopService();
    aws.aws.admin.clearFaults();
    second = await startStack({ reuse: { redis, aws }, configure: fastKillSwitch });
    reconciler = startDepsReconciler(second.deps);
    const admin = await tokens.operator(second);

    const records = await waitFor(
      'every revocation applied by the new process',
      () => Promise.all(ids.map(async (id) => (await call(second!, 'get', `/v1/revocations/${id}`, admin)).body)),
      (recs) => recs.every((r) => r.roles?.length > 0 && r.roles.every((role: { state: string }) => role.state === 'applied')),
      60_000,
    );
    expect(records.map((r) => r.revocationId)).toEqual(ids);
    // None lost from the list either.
    const listed = (await call(second, 'get', '/v1/revocations?limit=100', admin)).body.revocations.map((r: { revocationId: string }) => r.revocationId);
    expect([...listed].sort()).toEqual([...ids].sort());
    // AWS now denies every affected session, explicitly (the role's Deny), and only those.
    expect(affected.map((h) => [h.kind, h.vended.sessionId, decision(h)])).toEqual(affected.map((h) => [h.kind, h.vended.sessionId, 'ExplicitDeny']));
    expect(decision(untouched)).toBe('Allow');
    // The pending-roles gauge comes back to zero once the reconciler has seen the queue empty.
    await waitFor(
      'the pending-roles gauge to read 0',
      async () => (await call(second!, 'get', '/metrics')).text,
      (text) => /^sts_vend_revocation_pending_roles 0$/m.test(text),
    );
  }, 180_000);
});
