import request from 'supertest';
import { expectContract } from '../helpers/contract';
import {
  AGENT_S3,
  appliedTo,
  assumeOutsideIndexes,
  call,
  decide,
  fastKillSwitch,
  READ,
  revoke,
  rolesInScope,
  s3Read,
  s3Write,
  TABLE,
  tableArn,
  tokens,
  vendOk,
  vendWhenSettled,
  WRITE,
} from '../helpers/kill-switch';
import { roleArn } from '../helpers/local-aws';
import { startStack, type TestStack } from '../helpers/stack';

// Each scope gets a stack of its own: a group revocation denies every earlier session of its scope.
function withStack(): () => TestStack {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ configure: fastKillSwitch });
  });
  afterAll(async () => stack?.stop());
  return () => stack;
}

const ROW = 'dynamodb:GetItem';
const LOG_READ = 'logs:GetLogEvents';
const LOG_GROUP = 'arn:aws:logs:us-east-1:111122223333:log-group:orders-api';
const DEPLOY = 'lambda:UpdateFunctionCode';
const FUNCTION = 'arn:aws:lambda:us-east-1:111122223333:function:orders-api';

describe('revoking one session', () => {
  const stack = withStack();

  it('denies that session in AWS at once, and only that one', async () => {
    const s = stack();
    const alice = await tokens.alice(s);
    const [target, sibling] = [await vendOk(s, READ, alice), await vendOk(s, READ, alice)];
    expect([await s3Read(s, target.credentials), await s3Read(s, sibling.credentials)]).toEqual(['ok', 'ok']);

    const res = await revoke(s, { sessionId: target.sessionId, reason: 'agent looping on deletes' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body).toMatchObject({
      selector: { kind: 'session', value: target.sessionId },
      reason: 'agent looping on deletes',
      operator: 'ops@example.com',
      sessionsRevoked: 1,
    });
    expect(res.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'applied' }]);
    expect(res.body.note).toMatch(/seconds to a few minutes to propagate/);
    expect(res.body.blockedUntil).toBeUndefined();

    expect(await s3Read(s, target.credentials)).toBe('AccessDenied');
    expect(await s3Read(s, sibling.credentials)).toBe('ok');

    const revoked = await call(s, 'get', `/v1/sessions/${target.sessionId}`);
    expectContract(revoked, 'GET', '/v1/sessions/:id');
    expect(revoked.body).toMatchObject({ state: 'revoked', revocationId: res.body.revocationId });
    expect((await call(s, 'get', `/v1/sessions/${sibling.sessionId}`)).body.state).toBe('live');

    const record = await call(s, 'get', `/v1/revocations/${res.body.revocationId}`);
    expectContract(record, 'GET', '/v1/revocations/:id');
    expect(record.body).toEqual(res.body);
    expect((await request(s.app).get('/metrics')).text).toMatch(/sts_vend_revocations_total\{selector="session",outcome="applied"\} [1-9]/);
  });

  it('blocks nothing: the same developer vends again at once and the new session works', async () => {
    const s = stack();
    const alice = await tokens.alice(s);
    const old = await vendOk(s, READ, alice);
    expect((await revoke(s, { sessionId: old.sessionId, reason: 'done with it' })).status).toBe(200);
    const fresh = await vendOk(s, READ, alice);
    expect([await s3Read(s, old.credentials), await s3Read(s, fresh.credentials)]).toEqual(['AccessDenied', 'ok']);
  });
});

describe('revoking a developer', () => {
  const stack = withStack();

  it('denies every session of theirs on every role, leaves others working, and lets them vend again after the margin', async () => {
    const s = stack();
    const [alice, bob] = [await tokens.alice(s), await tokens.bob(s)];
    const aliceS3 = await vendOk(s, READ, alice);
    const aliceDb = await vendOk(s, TABLE('orders'), alice);
    const bobS3 = await vendOk(s, READ, bob);
    // Alice's on agent-logs, where the service has no session of hers on record (as one still being vended).
    const aliceLogs = await assumeOutsideIndexes(s, 'agent-logs', { developer: 'alice@example.com', project: 'backend-api' });
    const bobLogs = await assumeOutsideIndexes(s, 'agent-logs', { developer: 'bob@example.com', project: 'backend-api' });
    expect([decide(s, aliceDb.credentials, ROW, tableArn('orders')), decide(s, aliceLogs, LOG_READ, LOG_GROUP)]).toEqual(['Allow', 'Allow']);

    const res = await revoke(s, { developer: 'alice@example.com', reason: 'leaked token' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body).toMatchObject({ selector: { kind: 'developer', value: 'alice@example.com' }, sessionsRevoked: 2 });
    // Any template can be vended to a developer: every template's role gets the Deny, not only those of sessions found.
    const roles = rolesInScope(s, { developer: 'alice@example.com' });
    expect(roles).toEqual(expect.arrayContaining([roleArn('agent-logs'), roleArn('agent-lambda'), AGENT_S3]));
    expect(res.body.roles).toEqual(appliedTo(roles));

    expect(await s3Read(s, aliceS3.credentials)).toBe('AccessDenied');
    expect(decide(s, aliceDb.credentials, ROW, tableArn('orders'))).toBe('ExplicitDeny');
    expect(decide(s, aliceLogs, LOG_READ, LOG_GROUP)).toBe('ExplicitDeny');
    expect(decide(s, bobLogs, LOG_READ, LOG_GROUP)).toBe('Allow');
    expect(await s3Read(s, bobS3.credentials)).toBe('ok');
    for (const id of [aliceS3.sessionId, aliceDb.sessionId]) expect((await call(s, 'get', `/v1/sessions/${id}`)).body.state).toBe('revoked');
    // The settle window covers alice's scope only: bob vends at once.
    expect((await s.vend(READ, bob)).status).toBe(200);

    const { vended, refusals } = await vendWhenSettled(s, READ, alice);
    for (const refusal of refusals) {
      expectContract(refusal, 'POST', '/v1/vend');
      expect(Number(refusal.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(await s3Read(s, vended.credentials)).toBe('ok');
    expect(await s3Read(s, aliceS3.credentials)).toBe('AccessDenied');
  });
});

describe('revoking a project', () => {
  const stack = withStack();

  it('denies every session of that project on every role and no session of another project', async () => {
    const s = stack();
    const [alice, carol] = [await tokens.alice(s), await tokens.carol(s)];
    const carolS3 = await vendOk(s, WRITE('exports/carol/'), carol);
    const carolDb = await vendOk(s, TABLE('events'), carol);
    const aliceS3 = await vendOk(s, WRITE('exports/alice/'), alice);
    expect(await s3Write(s, carolS3.credentials, 'exports/carol/a.csv')).toBe('ok');
    // Sessions of the project the service has no record of: on agent-logs (logs-read-group allows data-pipeline)
    // and on agent-lambda (lambda-update-code allows backend-api only, so no vend for the project can land there).
    const pipeline = { developer: 'carol@example.com', project: 'data-pipeline' };
    const carolLogs = await assumeOutsideIndexes(s, 'agent-logs', pipeline);
    const carolLambda = await assumeOutsideIndexes(s, 'agent-lambda', pipeline);

    const res = await revoke(s, { project: 'data-pipeline', reason: 'pipeline compromised' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body).toMatchObject({ selector: { kind: 'project', value: 'data-pipeline' }, sessionsRevoked: 2 });
    const roles = rolesInScope(s, { project: 'data-pipeline' });
    // ci-deploy allows every project; lambda-update-code does not allow this one.
    expect(roles).toEqual(expect.arrayContaining([roleArn('agent-logs'), roleArn('ci-deploy')]));
    expect(roles).not.toContain(roleArn('agent-lambda'));
    expect(res.body.roles).toEqual(appliedTo(roles));

    expect(await s3Write(s, carolS3.credentials, 'exports/carol/b.csv')).toBe('AccessDenied');
    expect(decide(s, carolDb.credentials, ROW, tableArn('events'))).toBe('ExplicitDeny');
    expect(decide(s, carolLogs, LOG_READ, LOG_GROUP)).toBe('ExplicitDeny');
    expect(decide(s, carolLambda, DEPLOY, FUNCTION)).toBe('Allow');
    expect(await s3Write(s, aliceS3.credentials, 'exports/alice/a.csv')).toBe('ok');
    expect((await s.vend(WRITE('exports/alice/'), alice)).status).toBe(200);

    const { vended } = await vendWhenSettled(s, WRITE('exports/carol/'), carol);
    expect(await s3Write(s, vended.credentials, 'exports/carol/c.csv')).toBe('ok');
  });
});

describe('revoking a template', () => {
  const stack = withStack();

  it("denies that template's sessions of every developer, not other templates' sessions on the same role", async () => {
    const s = stack();
    const [alice, carol] = [await tokens.alice(s), await tokens.carol(s)];
    const aliceWrite = await vendOk(s, WRITE('exports/alice/'), alice);
    const carolWrite = await vendOk(s, WRITE('exports/carol/'), carol);
    const aliceRead = await vendOk(s, READ, alice);

    const res = await revoke(s, { template: 's3-write-prefix', reason: 'template too broad' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body).toMatchObject({ selector: { kind: 'template', value: 's3-write-prefix' }, sessionsRevoked: 2 });
    expect(rolesInScope(s, { template: 's3-write-prefix' })).toEqual([AGENT_S3]);
    expect(res.body.roles).toEqual(appliedTo([AGENT_S3]));

    expect(await s3Write(s, aliceWrite.credentials, 'exports/alice/a.csv')).toBe('AccessDenied');
    expect(await s3Write(s, carolWrite.credentials, 'exports/carol/a.csv')).toBe('AccessDenied');
    expect(await s3Read(s, aliceRead.credentials)).toBe('ok');
    // Same role, same developer, another template: not in the revoked scope, not in the settle window.
    expect(await s3Read(s, (await vendOk(s, READ, alice)).credentials)).toBe('ok');

    const { vended } = await vendWhenSettled(s, WRITE('exports/alice/'), alice);
    expect(await s3Write(s, vended.credentials, 'exports/alice/b.csv')).toBe('ok');
  });
});

describe('revoking everything', () => {
  const stack = withStack();

  it('denies every session on every role a template uses, CI jobs included; new vends work after the margin', async () => {
    const s = stack();
    const [alice, carol] = [await tokens.alice(s), await tokens.carol(s)];
    const ci = await s.ci.mint({ sub: 'repo:acme/api:ref:refs/heads/main', actor: 'octocat', repository: 'acme/api', repository_owner: 'acme' });
    const aliceRead = await vendOk(s, READ, alice);
    const carolDb = await vendOk(s, TABLE('events'), carol);
    const job = await vendOk(s, { template: 'ci-deploy', parameters: { artifactPrefix: 'builds/', functionName: 'orders-api' } }, ci);
    const artifact = (): Promise<string> => s3Read(s, job.credentials, 'builds/app-1.0.0.zip', 'deploy-artifacts');
    expect(await artifact()).toBe('ok');

    const res = await revoke(s, { all: true, reason: 'incident: stop every agent' });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect(res.body).toMatchObject({ selector: { kind: 'all' }, sessionsRevoked: 3 });
    const roles = rolesInScope(s, { all: true });
    // Roles where no session was found get the Deny too.
    expect(roles).toEqual(expect.arrayContaining([roleArn('agent-lambda'), roleArn('agent-logs'), roleArn('ci-deploy')]));
    expect(res.body.roles).toEqual(appliedTo(roles));

    expect(await s3Read(s, aliceRead.credentials)).toBe('AccessDenied');
    expect(decide(s, carolDb.credentials, ROW, tableArn('events'))).toBe('ExplicitDeny');
    expect(await artifact()).toBe('AccessDenied');
    expect(decide(s, job.credentials, DEPLOY, FUNCTION)).toBe('ExplicitDeny');

    const { vended } = await vendWhenSettled(s, READ, alice);
    expect(await s3Read(s, vended.credentials)).toBe('ok');
  });
});
