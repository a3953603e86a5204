import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { documentedRoutes, expectContract, servedRoutes } from '../helpers/contract';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

const s3For = ({ accessKeyId, secretAccessKey, sessionToken }: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): S3Client =>
  new S3Client({ endpoint: stack.aws.aws.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey, sessionToken }, maxAttempts: 1 });

const errorName = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { name?: string }) => e.name ?? 'error');

describe('POST /v1/vend with s3-read-prefix', () => {
  let res: request.Response;
  beforeAll(async () => {
    res = await stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } });
  });

  it('answers credentials in the documented shape, never cached', () => {
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/vend');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(res.body.sourceIdentity).toBe('alice@example.com');
    expect(res.body.roleSessionName).toBe(`alice@example.com.${res.body.sessionId.slice(0, 8)}`);
    expect(res.body.tags).toEqual({
      AccessType: 'AI',
      developer: 'alice@example.com',
      project: 'backend-api',
      'agent-session': res.body.sessionId,
      template: 's3-read-prefix',
    });
  });

  it('expires after the default 900 seconds', () => {
    const issued = stack.aws.aws.admin.session(res.body.credentials.accessKeyId)!;
    // STS reports Expiration to the second.
    expect(Math.round((new Date(res.body.expiresAt).getTime() - issued.issuedAt.getTime()) / 1000)).toBe(900);
  });

  it('AWS sees the tags, all transitive, the source identity and the rendered session policy', () => {
    const s = stack.aws.aws.admin.session(res.body.credentials.accessKeyId)!;
    expect(s.tags).toEqual(res.body.tags);
    expect([...s.transitiveTagKeys].sort()).toEqual(['AccessType', 'agent-session', 'developer', 'project', 'template']);
    expect(s.sourceIdentity).toBe('alice@example.com');
    expect(s.roleSessionName).toBe(res.body.roleSessionName);
    expect(s.assumedRoleArn).toBe(res.body.assumedRoleArn);
    expect(JSON.parse(s.sessionPolicy!).Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Resource: 'arn:aws:s3:::backend-data/reports/*' })]),
    );
  });

  it('reads the allowed prefix and is refused elsewhere and on delete', async () => {
    const s3 = s3For(res.body.credentials);
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' }));
    expect((await obj.Body!.transformToString()).length).toBeGreaterThan(0);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('reports/2026/q3.csv');
    expect(await errorName(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'exports/' })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'reports/x.csv', Body: 'x' })))).toBe('AccessDenied');
  });

  it('records the session in Redis without a secret, readable by its owner and operators only', async () => {
    const own = await request(stack.app).get(`/v1/sessions/${res.body.sessionId}`).set('Authorization', `Bearer ${await stack.token()}`);
    expect(own.status).toBe(200);
    expectContract(own, 'GET', '/v1/sessions/:id');
    expect(own.body).toMatchObject({ id: res.body.sessionId, state: 'live', developer: 'alice@example.com', accessKeyId: res.body.credentials.accessKeyId, template: 's3-read-prefix' });

    const other = await request(stack.app).get(`/v1/sessions/${res.body.sessionId}`).set('Authorization', `Bearer ${await stack.token({ email: 'bob@example.com' })}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('session_not_found');
    const operator = await request(stack.app).get(`/v1/sessions/${res.body.sessionId}`).set('Authorization', `Bearer ${await stack.token({ email: 'ops@example.com', groups: ['secops'] })}`);
    expect(operator.status).toBe(200);

    const dump = await dumpRedis();
    expect(dump).toContain(res.body.sessionId);
    expect(dump).not.toContain(res.body.credentials.secretAccessKey);
    expect(dump).not.toContain(res.body.credentials.sessionToken);
  });

  it('writes an allowed audit line joinable with CloudTrail, and no secret anywhere in the logs', () => {
    const line = stack.logs.find((l) => l.audit === true && l.sessionId === res.body.sessionId);
    expect(line).toMatchObject({
      event: 'vend',
      outcome: 'allowed',
      developer: 'alice@example.com',
      template: 's3-read-prefix',
      roleSessionName: res.body.roleSessionName,
      sourceIdentity: 'alice@example.com',
      parameters: { bucket: 'backend-data', prefix: 'reports/' },
    });
    const all = stack.rawLogs.join('\n');
    expect(all).not.toContain(res.body.credentials.secretAccessKey);
    expect(all).not.toContain(res.body.credentials.sessionToken);
  });
});

describe('each example template, used inside and outside its scope', () => {
  const decide = (akid: string, action: string, resource: string): string => stack.aws.aws.admin.authorize(akid, action, resource);

  it('s3-write-prefix writes under the prefix only and cannot delete', async () => {
    const res = await stack.vend({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'exports/tmp/' } });
    expect(res.status).toBe(200);
    const s3 = s3For(res.body.credentials);
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'exports/tmp/out.csv', Body: 'a,b\n' }));
    expect(await errorName(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'reports/evil.csv', Body: 'x' })))).toBe('AccessDenied');
    expect(await errorName(s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'exports/tmp/out.csv' })))).toBe('AccessDenied');
  });

  it('lambda-update-code updates one function and no other', async () => {
    const res = await stack.vend({ template: 'lambda-update-code', parameters: { functionName: 'orders-api' } });
    expect(res.status).toBe(200);
    const akid = res.body.credentials.accessKeyId as string;
    const fn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:${name}`;
    expect(decide(akid, 'lambda:UpdateFunctionCode', fn('orders-api'))).toBe('Allow');
    expect(decide(akid, 'lambda:UpdateFunctionCode', fn('billing-api'))).not.toBe('Allow');
    expect(decide(akid, 'lambda:DeleteFunction', fn('orders-api'))).not.toBe('Allow');
  });

  it('logs-read-group reads one log group', async () => {
    const res = await stack.vend({ template: 'logs-read-group', parameters: { logGroup: '/aws/lambda/orders-api' } });
    expect(res.status).toBe(200);
    const akid = res.body.credentials.accessKeyId as string;
    const group = (g: string) => `arn:aws:logs:us-east-1:111122223333:log-group:${g}:log-stream:x`;
    expect(decide(akid, 'logs:GetLogEvents', group('/aws/lambda/orders-api'))).toBe('Allow');
    expect(decide(akid, 'logs:GetLogEvents', group('/aws/lambda/billing-api'))).not.toBe('Allow');
  });

  it('dynamodb-read-table reads one table and cannot write it', async () => {
    const res = await stack.vend({ template: 'dynamodb-read-table', parameters: { table: 'orders' } });
    expect(res.status).toBe(200);
    const akid = res.body.credentials.accessKeyId as string;
    const table = (t: string) => `arn:aws:dynamodb:us-east-1:111122223333:table/${t}`;
    expect(decide(akid, 'dynamodb:GetItem', table('orders'))).toBe('Allow');
    expect(decide(akid, 'dynamodb:PutItem', table('orders'))).not.toBe('Allow');
    expect(decide(akid, 'dynamodb:GetItem', table('users'))).not.toBe('Allow');
  });

  it('ci-deploy, vended to a CI job, is tagged AccessType=CI and reaches the artifacts prefix only', async () => {
    const token = await stack.ci.mint({ sub: 'repo:acme/api:ref:refs/heads/main', actor: 'octocat', repository: 'acme/api', repository_owner: 'acme' });
    const res = await stack.vend({ template: 'ci-deploy', parameters: { artifactPrefix: 'builds/api/', functionName: 'orders-api' } }, token);
    expect(res.status).toBe(200);
    // The CI issuer is a namespace of its own: its actor is never taken for a corporate person of that name.
    expect(res.body.tags).toMatchObject({ AccessType: 'CI', developer: 'ci:octocat', project: 'acme/api' });
    const s3 = s3For(res.body.credentials);
    await s3.send(new PutObjectCommand({ Bucket: 'deploy-artifacts', Key: 'builds/api/app-1.0.1.zip', Body: 'zip' }));
    expect(await errorName(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })))).toBe('AccessDenied');
  });
});

describe('durations, templates and metrics', () => {
  it('caps a requested duration at the template maximum', async () => {
    const res = await stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' }, durationSeconds: 43200 });
    expect(res.status).toBe(200);
    const s = stack.aws.aws.admin.session(res.body.credentials.accessKeyId)!;
    const template = stack.deps.templates.get('s3-read-prefix')!;
    expect((s.expiresAt.getTime() - s.issuedAt.getTime()) / 1000).toBe(Math.min(template.maxDurationSeconds, 3600));
  });

  it('lists only the templates the caller may use', async () => {
    const alice = await request(stack.app).get('/v1/templates').set('Authorization', `Bearer ${await stack.token()}`);
    expect(alice.status).toBe(200);
    expectContract(alice, 'GET', '/v1/templates');
    const names = alice.body.templates.map((t: { name: string }) => t.name);
    expect(names).toContain('s3-read-prefix');
    expect(names).not.toContain('ci-deploy');
    const nobody = await request(stack.app).get('/v1/templates').set('Authorization', `Bearer ${await stack.token({ groups: ['marketing'] })}`);
    expect(nobody.body.templates).toEqual([]);
  });

  it('counts vends by template and outcome in /metrics', async () => {
    const res = await request(stack.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/sts_vend_vend_total\{template="s3-read-prefix",outcome="allowed"\} [1-9]/);
    expect(res.text).toContain('sts_vend_sts_assume_role_duration_seconds_bucket');
  });

  it('is ready when Redis answers and templates are loaded', async () => {
    const res = await request(stack.app).get('/readyz');
    expect(res.status).toBe(200);
    expectContract(res, 'GET', '/readyz');
  });

  it('serves no route that openapi.yaml does not document, and documents none it does not serve', () => {
    expect(servedRoutes(stack.app).sort()).toEqual(documentedRoutes().sort());
  });
});

async function dumpRedis(): Promise<string> {
  const redis = stack.deps.redis as import('ioredis').Redis;
  const keys = await redis.keys(`${stack.config.redis.keyPrefix}*`);
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'string') parts.push((await redis.get(key)) ?? '');
    else if (type === 'zset') parts.push((await redis.zrange(key, 0, -1)).join(','));
    parts.push(key);
  }
  return parts.join('\n');
}
