/**
 * Faults on demand and the admin paths of the emulator: STS throttling and IAM service failures as the SDK sees
 * them (with and without its retries), set programmatically or over HTTP, never on by default.
 */
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { iamClient, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';

let env: TestAws;
beforeAll(async () => {
  env = await startTestAws();
});
afterAll(() => env.aws.stop());
afterEach(() => env.aws.admin.clearFaults());

const admin = (path: string, init?: RequestInit) => fetch(`${env.aws.url}/_local-aws/${path}`, init);
const whoAmI = (client: STSClient) => client.send(new GetCallerIdentityCommand({}));

describe('STS throttling', () => {
  it('is off by default', async () => {
    expect(await (await admin('faults')).json()).toEqual({});
    await expect(whoAmI(stsClient(env))).resolves.toBeDefined();
  });

  it('answers Throttling ("Rate exceeded", 400) for the next N calls, then recovers', async () => {
    env.aws.admin.setFaults({ stsThrottle: { burst: 2 } });
    const client = stsClient(env);
    for (let i = 0; i < 2; i += 1) {
      await expect(whoAmI(client)).rejects.toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    }
    await expect(whoAmI(client)).resolves.toBeDefined();
  });

  it('is retried by the SDK, which reports it once its attempts are spent', async () => {
    env.aws.admin.setFaults({ stsThrottle: { rate: 1 } });
    const retrying = new STSClient({ ...env.clientConfig, maxAttempts: 2 });
    await expect(retrying.send(new AssumeRoleCommand(validAssumeRole()))).rejects.toMatchObject({ name: 'Throttling', $metadata: { attempts: 2 } });
    env.aws.admin.setFaults({ stsThrottle: { burst: 1 } });
    const out = await retrying.send(new AssumeRoleCommand(validAssumeRole()));
    expect(out.$metadata.attempts).toBe(2);
  });

  it('throttles a share of calls', async () => {
    env.aws.admin.setFaults({ stsThrottle: { rate: 0.5 } });
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => whoAmI(stsClient(env)).then(() => 'ok', (e: Error) => e.name)));
    expect(outcomes).toContain('Throttling');
    expect(outcomes).toContain('ok');
  });
});

describe('IAM service failure', () => {
  it('answers ServiceFailure (500) and leaves STS alone', async () => {
    env.aws.admin.setFaults({ iamFailure: { burst: 1 } });
    await expect(whoAmI(stsClient(env))).resolves.toBeDefined();
    await expect(iamClient(env).send(new GetRoleCommand({ RoleName: 'agent-s3' }))).rejects.toMatchObject({
      name: 'ServiceFailureException',
      $metadata: { httpStatusCode: 500 },
    });
    await expect(iamClient(env).send(new GetRoleCommand({ RoleName: 'agent-s3' }))).resolves.toBeDefined();
  });

  it('is retried by the SDK (a 500 is transient)', async () => {
    env.aws.admin.setFaults({ iamFailure: { burst: 1 } });
    const out = await new IAMClient({ ...env.clientConfig, maxAttempts: 2 }).send(new GetRoleCommand({ RoleName: 'agent-s3' }));
    expect(out.$metadata.attempts).toBe(2);
  });
});

describe('admin HTTP paths', () => {
  it('set, read and clear faults', async () => {
    const put = await admin('faults', { method: 'PUT', body: JSON.stringify({ iamFailure: { burst: 3 }, latencyMs: 1 }) });
    expect(put.status).toBe(200);
    await expect(iamClient(env).send(new GetRoleCommand({ RoleName: 'agent-s3' }))).rejects.toMatchObject({ name: 'ServiceFailureException' });
    expect(await (await admin('faults')).json()).toEqual({ iamFailure: { burst: 2 }, latencyMs: 1 });
    expect((await admin('faults', { method: 'DELETE' })).status).toBe(204);
    await expect(iamClient(env).send(new GetRoleCommand({ RoleName: 'agent-s3' }))).resolves.toBeDefined();
  });

  it('refuse invalid faults with every problem listed', async () => {
    const res = await admin('faults', { method: 'PUT', body: JSON.stringify({ stsThrottle: { rate: 2, burst: -1 }, typo: true }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: string[] };
    expect(body.problems).toEqual(expect.arrayContaining(['unknown field typo', 'stsThrottle.rate must be a number in 0..1', 'stsThrottle.burst must be a non-negative integer']));
  });

  it('list sessions without secrets and answer authorization questions', async () => {
    const out = await stsClient(env).send(new AssumeRoleCommand(validAssumeRole({ RoleSessionName: 'alice.admin' })));
    const sessions = (await (await admin('sessions')).json()) as Array<Record<string, unknown>>;
    const mine = sessions.find((s) => s['accessKeyId'] === out.Credentials?.AccessKeyId);
    expect(mine).toMatchObject({ roleSessionName: 'alice.admin', sourceIdentity: 'alice' });
    expect(JSON.stringify(sessions)).not.toContain(out.Credentials?.SecretAccessKey);
    expect(JSON.stringify(sessions)).not.toContain(out.Credentials?.SessionToken);
    const ask = (action: string) =>
      admin('authorize', { method: 'POST', body: JSON.stringify({ accessKeyId: out.Credentials?.AccessKeyId, action, resource: 'arn:aws:s3:::backend-data/reports/q.csv' }) }).then(
        (r) => r.json(),
      );
    expect(await ask('s3:GetObject')).toEqual({ decision: 'Allow' });
    expect(await ask('s3:PutBucketPolicy')).toEqual({ decision: 'ImplicitDeny' });
  });
});
