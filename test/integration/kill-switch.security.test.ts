import request from 'supertest';
import { runCommonAuthTests } from '../helpers/auth-suite';
import { expectContract } from '../helpers/contract';
import { AGENT_S3, call, fastKillSwitch, READ, revoke, s3Read, tokens, vendOk } from '../helpers/kill-switch';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ configure: fastKillSwitch });
});
afterAll(async () => stack?.stop());

const REVOCATION = 'rAbCdEf012345';
const operatorRoutes: Array<{ method: 'get' | 'post' | 'delete'; path: string; route: string; body?: Record<string, unknown> }> = [
  { method: 'get', path: '/v1/sessions', route: '/v1/sessions' },
  { method: 'post', path: '/v1/revoke', route: '/v1/revoke', body: { all: true, reason: 'not mine to give' } },
  { method: 'get', path: '/v1/revocations', route: '/v1/revocations' },
  { method: 'get', path: `/v1/revocations/${REVOCATION}`, route: '/v1/revocations/:id' },
  { method: 'delete', path: `/v1/revocations/${REVOCATION}/block`, route: '/v1/revocations/:id/block' },
];

runCommonAuthTests(() => stack, [...operatorRoutes, { method: 'delete', path: '/v1/sessions/AbCdEf012345' }]);

describe('operator routes', () => {
  const callers: Array<[string, () => Promise<string>]> = [
    ['an agent of group backend', () => tokens.alice(stack)],
    ['a CI job (no groups)', () => stack.ci.mint({ sub: 'repo:acme/api:ref:refs/heads/main', actor: 'octocat', repository: 'acme/api', repository_owner: 'acme' })],
    ['an identity whose project is called secops', () => stack.token({ email: 'eve@example.com', groups: ['backend'], project: 'secops' })],
  ];

  describe.each(callers)('refuse %s', (_who, mint) => {
    it.each(operatorRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('403 operator_only on %s', async (_name, route) => {
      let req = request(stack.app)[route.method](route.path).set('Authorization', `Bearer ${await mint()}`);
      if (route.body) req = req.send(route.body);
      const res = await req;
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'operator_only' });
      expectContract(res, route.method.toUpperCase(), route.route);
    });
  });

  it('a refused revocation changes nothing: the session still works and no revocation is recorded', async () => {
    const alice = await tokens.alice(stack);
    const own = await vendOk(stack, READ, alice);
    expect((await revoke(stack, { all: true, reason: 'x' }, alice)).status).toBe(403);
    expect((await revoke(stack, { sessionId: own.sessionId, reason: 'x' }, alice)).status).toBe(403);
    expect(await s3Read(stack, own.credentials)).toBe('ok');
    expect((await call(stack, 'get', `/v1/sessions/${own.sessionId}`)).body.state).toBe('live');
    expect(stack.logs.filter((l) => l.audit === true && l.event === 'revoke')).toEqual([]);
  });
});

describe('ending a session', () => {
  it("an agent cannot end another developer's session, nor learn that it exists", async () => {
    const [alice, bob] = [await tokens.alice(stack), await tokens.bob(stack)];
    const victim = await vendOk(stack, READ, alice);
    const res = await call(stack, 'delete', `/v1/sessions/${victim.sessionId}`, bob);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 404, code: 'session_not_found' });
    expectContract(res, 'DELETE', '/v1/sessions/:id');
    const missing = await call(stack, 'delete', '/v1/sessions/ZZZZZZ999999', bob);
    expect(missing.body.error.message).toBe(res.body.error.message);
    expect(await s3Read(stack, victim.credentials)).toBe('ok');
    expect((await call(stack, 'get', `/v1/sessions/${victim.sessionId}`, alice)).body.state).toBe('live');
  });

  it('an agent ends its own session: it is denied in AWS and recorded as ended', async () => {
    const alice = await tokens.alice(stack);
    const own = await vendOk(stack, READ, alice);
    const other = await vendOk(stack, READ, alice);
    const res = await call(stack, 'delete', `/v1/sessions/${own.sessionId}`, alice);
    expect(res.status).toBe(200);
    expectContract(res, 'DELETE', '/v1/sessions/:id');
    expect(res.body).toMatchObject({ selector: { kind: 'session', value: own.sessionId }, operator: 'alice@example.com', sessionsRevoked: 1 });
    expect(res.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'applied' }]);

    expect(await s3Read(stack, own.credentials)).toBe('AccessDenied');
    expect(await s3Read(stack, other.credentials)).toBe('ok');
    const record = await call(stack, 'get', `/v1/sessions/${own.sessionId}`, alice);
    expect(record.body).toMatchObject({ state: 'ended', revocationId: res.body.revocationId });
    expect(stack.logs.find((l) => l.audit === true && l.revocationId === res.body.revocationId)).toMatchObject({
      event: 'session.end',
      developer: 'alice@example.com',
      selector: { kind: 'session', value: own.sessionId },
    });
  });

  it("an operator may end anyone's session; it is recorded as revoked", async () => {
    const own = await vendOk(stack, READ, await tokens.bob(stack));
    const res = await call(stack, 'delete', `/v1/sessions/${own.sessionId}`);
    expect(res.status).toBe(200);
    expect(res.body.operator).toBe('ops@example.com');
    expect((await call(stack, 'get', `/v1/sessions/${own.sessionId}`)).body.state).toBe('revoked');
    expect(await s3Read(stack, own.credentials)).toBe('AccessDenied');
  });
});

describe('audit', () => {
  it('records who revoked what and why, and who lifted a block, with no token in the logs', async () => {
    const operator = await tokens.operator(stack);
    const res = await revoke(stack, { developer: 'mallory@example.com', reason: 'exfiltrating reports', block: { durationSeconds: 600 } }, operator);
    expect(res.status).toBe(200);
    const line = stack.logs.find((l) => l.audit === true && l.event === 'revoke' && l.revocationId === res.body.revocationId);
    expect(line).toMatchObject({
      outcome: 'applied',
      requestId: res.headers['x-request-id'],
      issuer: 'corp',
      subject: expect.any(String),
      developer: 'ops@example.com',
      selector: { kind: 'developer', value: 'mallory@example.com' },
      reason: 'exfiltrating reports',
      sessionsRevoked: 0,
      blockedUntil: res.body.blockedUntil,
    });

    const lifted = await call(stack, 'delete', `/v1/revocations/${res.body.revocationId}/block`, operator);
    expect(lifted.status).toBe(200);
    expect(stack.logs.find((l) => l.audit === true && l.event === 'block.lift' && l.revocationId === res.body.revocationId)).toMatchObject({
      developer: 'ops@example.com',
      requestId: lifted.headers['x-request-id'],
      selector: { kind: 'developer', value: 'mallory@example.com' },
    });
    expect(stack.rawLogs.join('\n')).not.toContain(operator);
  });
});
