import request from 'supertest';
import { runCommonAuthTests } from '../helpers/auth-suite';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

runCommonAuthTests(() => stack, [
  { method: 'post', path: '/v1/vend', body: { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } } },
  { method: 'get', path: '/v1/templates' },
  { method: 'get', path: '/v1/sessions/AbCdEf012345' },
]);

describe('vend security', () => {
  it('refuses a token before looking at the body, so the contract is not probed anonymously', async () => {
    const res = await request(stack.app).post('/v1/vend').send({ nonsense: true });
    expect(res.status).toBe(401);
  });

  it('answers 503 jwks_unavailable, not 401, when the issuer cannot be reached', async () => {
    const token = await stack.ci.mint({ sub: 'repo:acme/api:ref:refs/heads/main', actor: 'octocat', repository: 'acme/api' });
    await stack.ci.stop();
    const res = await stack.vend({ template: 'ci-deploy', parameters: {} }, token);
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 503, code: 'jwks_unavailable' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('counts refused tokens by code in /metrics', async () => {
    await request(stack.app).post('/v1/vend').set('Authorization', 'Bearer x.y.z').send({});
    const metrics = await request(stack.app).get('/metrics');
    expect(metrics.text).toMatch(/sts_vend_auth_failures_total\{code="malformed_token"\} [1-9]/);
  });

  it('never lets a secret or the bearer token reach the logs', async () => {
    const token = await stack.token();
    const res = await stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } }, token);
    expect(res.status).toBe(200);
    const logs = stack.rawLogs.join('\n');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(res.body.credentials.secretAccessKey);
    expect(logs).not.toContain(res.body.credentials.sessionToken);
  });

  it('keeps server error details out of the body', async () => {
    const res = await request(stack.app).get('/v1/nope');
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 404, code: 'not_found' });
  });
});
