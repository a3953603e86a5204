import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { expectContract } from '../helpers/contract';
import { describeWithOwnRedis } from '../helpers/redis';
import { startStack, TEMPLATES_DIR, type TestStack } from '../helpers/stack';

const read = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };

describe('vend errors', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.stop());

  const expectError = (res: request.Response, status: number, code: string): void => {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expectContract(res, 'POST', '/v1/vend');
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
    expect(res.body.credentials).toBeUndefined();
  };

  it.each<[string, Record<string, unknown>, string]>([
    ['no template', { parameters: {} }, 'body.template: is required'],
    ['a template name with a slash', { template: '../etc' }, 'body.template: must match pattern "^[a-z0-9][a-z0-9-]{1,62}$"'],
    ['an unknown field', { ...read, role: 'admin' }, 'body.role: is not allowed'],
    ['parameters that are not an object', { template: 's3-read-prefix', parameters: 'x' }, 'body.parameters: must be object'],
    ['a duration below 900', { ...read, durationSeconds: 60 }, 'body.durationSeconds: must be >= 900'],
    ['a fractional duration', { ...read, durationSeconds: 900.5 }, 'body.durationSeconds: must be integer'],
  ])('400 invalid_request for %s, naming the field', async (_name, body, message) => {
    const res = await stack.vend(body);
    expectError(res, 400, 'invalid_request');
    expect(res.body.error.message).toBe(message);
  });

  it('404 for a template that does not exist', async () => {
    expectError(await stack.vend({ template: 'no-such-template' }), 404, 'unknown_template');
  });

  it('400 for malformed JSON, 415 for another media type, 413 for a huge body', async () => {
    const token = await stack.token();
    const post = () => request(stack.app).post('/v1/vend').set('Authorization', `Bearer ${token}`);
    expectError(await post().set('Content-Type', 'application/json').send('{"template": '), 400, 'malformed_json');
    expectError(await post().set('Content-Type', 'text/plain').send('template=s3-read-prefix'), 415, 'unsupported_media_type');
    expectError(await post().send({ ...read, parameters: { bucket: 'x'.repeat(20000) } }), 413, 'payload_too_large');
  });

  it.each<[string, Record<string, unknown>]>([
    ['a quote', { bucket: 'backend-data', prefix: 'reports/"}]}/' }],
    ['a wildcard', { bucket: 'backend-data', prefix: '*' }],
    ['a wildcard inside', { bucket: 'backend-data', prefix: 'reports/*/' }],
    ['a question mark', { bucket: 'backend-data', prefix: 'report?/' }],
    ['dot-dot', { bucket: 'backend-data', prefix: 'reports/../' }],
    ['an IAM variable', { bucket: 'backend-data', prefix: '${aws:username}/' }],
    ['a template placeholder', { bucket: 'backend-data', prefix: '{{identity.developer}}/' }],
    ['unicode look-alike slash', { bucket: 'backend-data', prefix: 'reports\u2215' }],
    ['a newline', { bucket: 'backend-data', prefix: 'reports/\n' }],
    ['a bucket with a wildcard', { bucket: 'backend-*', prefix: 'reports/' }],
    ['an over-long prefix', { bucket: 'backend-data', prefix: `${'a'.repeat(300)}/` }],
    ['an extra field', { bucket: 'backend-data', prefix: 'reports/', resource: '*' }],
    ['a number for a string', { bucket: 'backend-data', prefix: 7 }],
    ['a missing parameter', { bucket: 'backend-data' }],
  ])('400 invalid_parameters for %s, naming the field, and nothing reaches AWS', async (_name, parameters) => {
    const before = stack.aws.aws.admin.sessions().length;
    const res = await stack.vend({ template: 's3-read-prefix', parameters });
    expectError(res, 400, 'invalid_parameters');
    expect(res.body.error.message).toMatch(/parameters/);
    expect(stack.aws.aws.admin.sessions().length).toBe(before);
  });

  it('403 when the caller is not allowed the template', async () => {
    expectError(await stack.vend(read, await stack.token({ groups: ['marketing'] })), 403, 'template_forbidden');
  });

  it('403 when the token names a project the template does not allow', async () => {
    const res = await stack.vend(read, await stack.token({ project: 'data-pipeline', groups: ['backend', 'data'] }));
    expect(res.status).toBe(403);
  });

  it('answers 503 with Retry-After when STS keeps throttling, and counts it', async () => {
    stack.aws.aws.admin.setFaults({ stsThrottle: { rate: 1 } });
    try {
      const res = await stack.vend(read);
      expectError(res, 503, 'aws_throttled');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      stack.aws.aws.admin.clearFaults();
    }
    const metrics = await request(stack.app).get('/metrics');
    expect(metrics.text).toMatch(/sts_vend_sts_errors_total\{code="Throttling"\} [1-9]/);
    // The failed session is not left counting against the developer.
    expect((await stack.vend(read)).status).toBe(200);
  });

  it('writes a refused audit line with the code', async () => {
    await stack.vend({ template: 'ci-deploy', parameters: {} });
    expect(stack.logs).toContainEqual(expect.objectContaining({ audit: true, event: 'vend', outcome: 'refused', code: 'template_forbidden', template: 'ci-deploy' }));
  });
});

describe('limits', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ configure: (raw) => (raw.limits = { vendsPerMinute: 3, liveSessionsPerDeveloper: 2 }) });
  });
  afterAll(async () => stack?.stop());

  it('caps live sessions per developer, then vends per minute, with Retry-After', async () => {
    const alice = await stack.token();
    expect((await stack.vend(read, alice)).status).toBe(200);
    expect((await stack.vend(read, alice)).status).toBe(200);
    const capped = await stack.vend(read, alice);
    expect({ status: capped.status, code: capped.body.error.code }).toEqual({ status: 429, code: 'too_many_sessions' });
    expect(Number(capped.headers['retry-after'])).toBeGreaterThan(0);
    // Another developer is not affected.
    expect((await stack.vend(read, await stack.token({ email: 'bob@example.com' }))).status).toBe(200);
  });
});

describe('AWS refusing the trust policy', () => {
  let stack: TestStack;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-tpl-'));
    const text = readFileSync(path.join(TEMPLATES_DIR, 's3-read-prefix.yaml'), 'utf8')
      .replace(/^name: .*$/m, 'name: orphan-role')
      .replace(/role\/agent-s3/, 'role/not-trusting');
    writeFileSync(path.join(dir, 'orphan-role.yaml'), text);
    stack = await startStack({ configure: (raw) => (raw.templatesDir = dir) });
  });
  afterAll(async () => stack?.stop());

  it('is a 502 naming the role and the likely cause, not the caller\'s fault', async () => {
    const res = await stack.vend({ template: 'orphan-role', parameters: { bucket: 'backend-data', prefix: 'reports/' } });
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 502, code: 'assume_role_denied' });
    expect(res.body.error.message).toContain('arn:aws:iam::111122223333:role/not-trusting');
    expect(res.body.error.message).toContain('trust policy');
  });
});

// It stops and restarts the stack's own redis-server: a shared TEST_REDIS_URL server is never stopped.
describeWithOwnRedis('Redis stopping mid-run', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.stop());

  it('gives 503 store_unavailable and issues nothing, then recovers without a restart', async () => {
    expect((await stack.vend(read)).status).toBe(200);
    const issued = stack.aws.aws.admin.sessions().length;
    const token = await stack.token();
    await stack.redis.kill();
    const down = await stack.vend(read, token);
    expect({ status: down.status, code: down.body.error.code }).toEqual({ status: 503, code: 'store_unavailable' });
    expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
    expect(stack.aws.aws.admin.sessions().length).toBe(issued);
    expect((await request(stack.app).get('/readyz')).status).toBe(503);

    await stack.redis.restart();
    let res = down;
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await stack.vend(read, token);
    }
    expect(res.status).toBe(200);
  });
});
