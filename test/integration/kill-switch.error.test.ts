import request from 'supertest';
import { startDepsReconciler } from '../../src/deps';
import { expectContract } from '../helpers/contract';
import {
  AGENT_S3,
  appliedTo,
  call,
  decide,
  fastKillSwitch,
  READ,
  revoke,
  rolesInScope,
  s3Read,
  TABLE,
  tableArn,
  tokens,
  vendOk,
  waitFor,
} from '../helpers/kill-switch';
import { startStack, type TestStack } from '../helpers/stack';

describe('kill-switch requests that are refused', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ configure: fastKillSwitch });
  });
  afterAll(async () => stack?.stop());

  const expectError = (res: request.Response, method: string, route: string, status: number, code: string): void => {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expectContract(res, method, route);
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
  };

  it.each<[string, Record<string, unknown>, string]>([
    ['no selector', { reason: 'r' }, 'body: exactly one selector of sessionId, developer, project, template, all is required (got 0)'],
    ['two selectors', { developer: 'alice@example.com', project: 'backend-api', reason: 'r' }, 'body: exactly one selector of sessionId, developer, project, template, all is required (got 2)'],
    ['a missing reason', { developer: 'alice@example.com' }, 'body.reason: is required'],
    ['an empty reason', { developer: 'alice@example.com', reason: '' }, 'body.reason: must NOT have fewer than 1 characters'],
    ['a block on one session', { sessionId: 'AbCdEf012345', reason: 'r', block: { durationSeconds: 600 } }, 'body.block: applies to developer, project, template or all, not to one session'],
    ['all: false', { all: false, reason: 'r' }, 'body.all: must be equal to constant'],
    ['a block shorter than a minute', { developer: 'alice@example.com', reason: 'r', block: { durationSeconds: 5 } }, 'body.block.durationSeconds: must be >= 60'],
    ['a malformed session id', { sessionId: '../../x', reason: 'r' }, 'body.sessionId: must match pattern "^[A-Za-z0-9]{12}$"'],
    ['an unknown selector', { user: 'alice', reason: 'r' }, 'body.user: is not allowed'],
  ])('POST /v1/revoke: 400 invalid_request for %s, and nothing is recorded', async (_name, body, message) => {
    const res = await revoke(stack, body);
    expectError(res, 'POST', '/v1/revoke', 400, 'invalid_request');
    expect(res.body.error.message).toBe(message);
    expect((await call(stack, 'get', '/v1/revocations')).body.revocations).toEqual([]);
  });

  it('POST /v1/revoke: 404 session_not_found for a session that does not exist, and nothing is recorded', async () => {
    const res = await revoke(stack, { sessionId: 'AbCdEf012345', reason: 'r' });
    expectError(res, 'POST', '/v1/revoke', 404, 'session_not_found');
    expect((await call(stack, 'get', '/v1/revocations')).body.revocations).toEqual([]);
  });

  it('404 revocation_not_found for a revocation that does not exist, read or lifted', async () => {
    expectError(await call(stack, 'get', '/v1/revocations/rAbCdEf012345'), 'GET', '/v1/revocations/:id', 404, 'revocation_not_found');
    expectError(await call(stack, 'delete', '/v1/revocations/rAbCdEf012345/block'), 'DELETE', '/v1/revocations/:id/block', 404, 'revocation_not_found');
    expectError(await call(stack, 'get', '/v1/revocations/not-an-id'), 'GET', '/v1/revocations/:id', 400, 'invalid_request');
  });

  it('409 no_block when lifting the block of a revocation that set none', async () => {
    const rec = await revoke(stack, { developer: 'nobody@example.com', reason: 'no block' });
    expect(rec.status).toBe(200);
    expect(rec.body.blockedUntil).toBeUndefined();
    const res = await call(stack, 'delete', `/v1/revocations/${rec.body.revocationId}/block`);
    expectError(res, 'DELETE', '/v1/revocations/:id/block', 409, 'no_block');
    expect(res.body.error.message).toBe('this revocation set no block');
    // The refusal changed nothing: the record still has no block.
    expect((await call(stack, 'get', `/v1/revocations/${rec.body.revocationId}`)).body.blockedUntil).toBeUndefined();
  });

  it('404 session_not_found when ending or reading a session that does not exist; 400 for a malformed id', async () => {
    expectError(await call(stack, 'delete', '/v1/sessions/AbCdEf012345'), 'DELETE', '/v1/sessions/:id', 404, 'session_not_found');
    expectError(await call(stack, 'get', '/v1/sessions/AbCdEf012345'), 'GET', '/v1/sessions/:id', 404, 'session_not_found');
    expectError(await call(stack, 'delete', '/v1/sessions/short'), 'DELETE', '/v1/sessions/:id', 400, 'invalid_request');
  });

  it.each<[string, string, string]>([
    ['a cursor this service did not issue', '/v1/sessions?cursor=bm90LWEtY3Vyc29y', 'query.cursor: is not a cursor this service issued'],
    ['a limit of 0', '/v1/sessions?limit=0', 'query.limit: must be >= 1'],
    ['a limit that is not a number', '/v1/sessions?limit=all', 'query.limit: must be integer'],
    ['an unknown state', '/v1/sessions?state=zombie', 'query.state: must be equal to one of the allowed values'],
    // The listing holds active sessions only; a revoked, ended or failed one is read by id.
    ['state revoked', '/v1/sessions?state=revoked', 'query.state: must be equal to one of the allowed values'],
    ['state ended', '/v1/sessions?state=ended', 'query.state: must be equal to one of the allowed values'],
    ['state failed', '/v1/sessions?state=failed', 'query.state: must be equal to one of the allowed values'],
    ['a misspelt filter', '/v1/sessions?develper=alice@example.com', 'query.develper: is not allowed'],
    ['a revocations cursor this service did not issue', '/v1/revocations?cursor=garbage', 'query.cursor: is not a cursor this service issued'],
    ['a revocations limit over 500', '/v1/revocations?limit=501', 'query.limit: must be <= 500'],
  ])('400 invalid_request for %s', async (_name, path, message) => {
    const res = await call(stack, 'get', path);
    expectError(res, 'GET', path.split('?')[0]!, 400, 'invalid_request');
    expect(res.body.error.message).toBe(message);
  });
});

describe('IAM failing while revoking', () => {
  // Two stacks share one Redis and one emulator here (a restart); the first owns and stops them.
  let first: TestStack | undefined;
  let second: TestStack | undefined;
  const reconcilers: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const r of reconcilers.splice(0)) await r.stop();
    await second?.stop();
    await first?.stop();
    first = second = undefined;
  });

  const pendingLogged = (s: TestStack): number => s.logs.filter((l) => l.msg === 'revocation policy still pending').length;
  const applied = (s: TestStack, id: string) =>
    waitFor(
      `revocation ${id} applied`,
      () => call(s, 'get', `/v1/revocations/${id}`),
      (res) => res.status === 200 && res.body.roles.every((r: { state: string }) => r.state === 'applied'),
    );

  it('answers 202 with the role pending, refuses the session at once, and the reconciler applies it once IAM recovers', async () => {
    const s = (first = await startStack({ configure: fastKillSwitch }));
    const alice = await tokens.alice(s);
    const target = await vendOk(s, READ, alice);
    s.aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });

    const res = await revoke(s, { sessionId: target.sessionId, reason: 'IAM is down' });
    expect(res.status).toBe(202);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'pending', error: expect.stringMatching(/^ServiceFailure/) }]);
    expect(res.body.note).toMatch(/retried until applied/);
    expect((await call(s, 'get', `/v1/sessions/${target.sessionId}`)).body.state).toBe('revoked');
    // Layer 2 is not written yet: AWS still honours the credentials.
    expect(await s3Read(s, target.credentials)).toBe('ok');

    reconcilers.push(startDepsReconciler(s.deps));
    await waitFor('a failed reconciler pass', async () => pendingLogged(s), (n) => n > 0);
    const stillPending = await call(s, 'get', `/v1/revocations/${res.body.revocationId}`);
    expectContract(stillPending, 'GET', '/v1/revocations/:id');
    expect(stillPending.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'pending', error: expect.stringMatching(/^ServiceFailure/) }]);

    s.aws.aws.admin.clearFaults();
    const done = await applied(s, res.body.revocationId);
    expectContract(done, 'GET', '/v1/revocations/:id');
    expect(done.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'applied' }]);
    expect(await s3Read(s, target.credentials)).toBe('AccessDenied');
  });

  it('applies a pending revocation after a restart, from what Redis kept', async () => {
    const s1 = (first = await startStack({ configure: fastKillSwitch }));
    const alice = await tokens.alice(s1);
    const s3Session = await vendOk(s1, READ, alice);
    const dbSession = await vendOk(s1, TABLE('orders'), alice);
    s1.aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });

    const res = await revoke(s1, { developer: 'alice@example.com', reason: 'before the restart' });
    expect(res.status).toBe(202);
    const roles = rolesInScope(s1, { developer: 'alice@example.com' });
    expect(res.body.roles.map((r: { roleArn: string; state: string }) => [r.roleArn, r.state])).toEqual(roles.map((r) => [r, 'pending']));
    const r1 = startDepsReconciler(s1.deps);
    await waitFor('a failed reconciler pass', async () => pendingLogged(s1), (n) => n > 0);

    // The replica goes away while IAM is still failing; IAM then recovers while no service runs.
    await r1.stop();
    await s1.stopService();
    s1.aws.aws.admin.clearFaults();
    expect(await s3Read(s1, s3Session.credentials)).toBe('ok');

    const s2 = (second = await startStack({ configure: fastKillSwitch, reuse: { redis: s1.redis, aws: s1.aws } }));
    reconcilers.push(startDepsReconciler(s2.deps));
    const done = await applied(s2, res.body.revocationId);
    expect(done.body.roles).toEqual(appliedTo(roles));
    expect(await s3Read(s2, s3Session.credentials)).toBe('AccessDenied');
    expect(decide(s2, dbSession.credentials, 'dynamodb:GetItem', tableArn('orders'))).toBe('ExplicitDeny');
    expect((await call(s2, 'get', `/v1/sessions/${s3Session.sessionId}`)).body.state).toBe('revoked');
  });
});
