import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromHttp } from '@aws-sdk/credential-providers';
import request from 'supertest';
import { CHECKPOINT_SECONDS } from '../../src/client/reported-expiration';
import { expectContract } from '../helpers/contract';
import { startStack, TEMPLATES_DIR, type TestStack } from '../helpers/stack';

/**
 * Container delivery, consumed by the AWS SDK's own container credentials provider (fromHttp): the refresh
 * path and its kill-switch checkpoint, with the service clock moved instead of sleeping.
 */
let stack: TestStack;
let server: Server;
let base: string;
let clock = Date.now();
beforeAll(async () => {
  stack = await startStack({ now: () => new Date(clock), configure: (raw) => (raw.killSwitch = { marginSeconds: 0 }) });
  server = stack.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await stack?.stop();
});

// Tokens are minted at the service's (moved) clock.
const token = (claims: Record<string, unknown> = {}) =>
  stack.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api', ...claims }, { issuedAt: Math.floor(clock / 1000) });
const read = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };
const vendContainer = async (extra: Record<string, unknown> = {}) => {
  const res = await request(base).post('/v1/vend').set('Authorization', `Bearer ${await token()}`).send({ ...read, delivery: 'container', sessionDurationSeconds: 7200, ...extra });
  expect(res.status).toBe(200);
  expectContract(res, 'POST', '/v1/vend');
  return res.body as { sessionId: string; expiresAt: string; sessionExpiresAt: string; container: { url: string; authorizationToken: string }; credentials: { accessKeyId: string; expiration: string } };
};
const provider = (url: string, token: string) => fromHttp({ awsContainerCredentialsFullUri: url, awsContainerAuthorizationToken: token, maxRetries: 0 });
const getObject = (creds: ReturnType<typeof provider>, key: string) =>
  new S3Client({ endpoint: stack.aws.aws.url, region: 'us-east-1', forcePathStyle: true, credentials: creds, maxAttempts: 1 })
    .send(new GetObjectCommand({ Bucket: 'backend-data', Key: key }))
    .then(() => 'ok', (e: { name: string }) => e.name);

describe('container delivery', () => {
  it('vends a refreshable session whose URL the SDK provider reads, within scope only', async () => {
    const v = await vendContainer();
    expect(v.container.url).toBe(`${base}/v1/credentials/${v.sessionId}`);
    expect(Date.parse(v.sessionExpiresAt) - Date.parse(v.expiresAt)).toBeGreaterThan(3600_000);
    const creds = provider(v.container.url, v.container.authorizationToken);
    const c = await creds();
    expect(c.accessKeyId).toBe(v.credentials.accessKeyId);
    expect(await getObject(creds, 'reports/2026/q3.csv')).toBe('ok');
    expect(await getObject(creds, 'exports/users.csv')).toBe('AccessDenied');
  });

  it('reuses the credential until it nears expiry, then re-issues for the same session with the same tags', async () => {
    const v = await vendContainer();
    const get = () => request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
    const first = await get();
    expect(first.status).toBe(200);
    expectContract(first, 'GET', '/v1/credentials/:id');
    expect(first.body.AccessKeyId).toBe(v.credentials.accessKeyId);
    expect(first.body.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    clock += 10 * 60_000; // 5 minutes left on a 15-minute credential: too close to hand out again
    const second = await get();
    expect(second.status).toBe(200);
    expect(second.body.AccessKeyId).not.toBe(v.credentials.accessKeyId);
    const issued = stack.aws.aws.admin.session(second.body.AccessKeyId)!;
    const original = stack.aws.aws.admin.session(v.credentials.accessKeyId)!;
    expect(issued.tags).toEqual(original.tags);
    expect(issued.roleSessionName).toBe(original.roleSessionName);
    expect(issued.sourceIdentity).toBe(original.sourceIdentity);
    expect(issued.sessionPolicy).toBe(original.sessionPolicy);
    const record = await request(base).get(`/v1/sessions/${v.sessionId}`).set('Authorization', `Bearer ${await token()}`);
    expect(record.body.accessKeyId).toBe(second.body.AccessKeyId);
    expect(record.body.tokenHash).toBeUndefined();
  });

  it('reports an Expiration at most a minute ahead (inside botocore\'s mandatory window) and the real one beside it, with no AssumeRole per visit', async () => {
    clock = Date.now(); // earlier tests moved the service clock past this credential's real (emulator) expiry
    const v = await vendContainer();
    const before = stack.aws.aws.admin.sessions().length;
    for (let i = 0; i < 5; i++) {
      const res = await request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
      expect(res.body.AccessKeyId).toBe(v.credentials.accessKeyId);
      expect(Date.parse(res.body.Expiration)).toBeLessThanOrEqual(clock + CHECKPOINT_SECONDS * 1000);
      expect(Date.parse(res.body.Expiration)).toBeGreaterThan(clock + CHECKPOINT_SECONDS * 1000 - 2000);
      expect(Date.parse(res.body.CredentialExpiration)).toBe(Math.floor(Date.parse(v.credentials.expiration) / 1000) * 1000);
      clock += 60_000;
    }
    expect(stack.aws.aws.admin.sessions().length).toBe(before);
  });

  it('a session lasts the configured default (one hour) unless the vend asks otherwise', async () => {
    const res = await request(base).post('/v1/vend').set('Authorization', `Bearer ${await token()}`).send({ ...read, delivery: 'container' });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.sessionExpiresAt) - clock).toBe(3600_000);
  });

  it('GET .../checkpoint checks the session without issuing anything, and refuses it once revoked', async () => {
    const v = await vendContainer();
    const before = stack.aws.aws.admin.sessions().length;
    const check = () => request(base).get(`/v1/credentials/${v.sessionId}/checkpoint`).set('Authorization', v.container.authorizationToken);
    clock += 11 * 60_000; // the credential is near expiry: a refresh would re-issue, a checkpoint does not
    const ok = await check();
    expectContract(ok, 'GET', '/v1/credentials/:id/checkpoint');
    expect(ok.body).toEqual({ SessionId: v.sessionId, State: 'live', SessionExpiration: v.sessionExpiresAt.replace(/\.\d{3}Z$/, 'Z') });
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(stack.aws.aws.admin.sessions().length).toBe(before);
    const wrong = await request(base).get(`/v1/credentials/${v.sessionId}/checkpoint`).set('Authorization', 'x'.repeat(43));
    expect({ status: wrong.status, code: wrong.body.Code }).toEqual({ status: 401, code: 'InvalidToken' });
    const ops = await token({ email: 'ops@example.com', groups: ['secops'] });
    await request(base).post('/v1/revoke').set('Authorization', `Bearer ${ops}`).send({ sessionId: v.sessionId, reason: 'checkpoint test' });
    const refused = await check();
    expectContract(refused, 'GET', '/v1/credentials/:id/checkpoint');
    expect({ status: refused.status, code: refused.body.Code }).toEqual({ status: 403, code: 'SessionRevoked' });
  });

  it('DELETE ends the session with its own token, once; the credential is then refused', async () => {
    const v = await vendContainer();
    const end = () => request(base).delete(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
    const wrong = await request(base).delete(`/v1/credentials/${v.sessionId}`).set('Authorization', 'x'.repeat(43));
    expect(wrong.status).toBe(401);
    const first = await end();
    expectContract(first, 'DELETE', '/v1/credentials/:id');
    expect(first.body).toEqual({ SessionId: v.sessionId, State: 'ended', Pending: false });
    expect((await stack.deps.sessions.get(v.sessionId))?.state).toBe('ended');
    const again = await end();
    expect(again.body).toEqual({ SessionId: v.sessionId, State: 'ended', Pending: false });
    const refresh = await request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
    expect({ status: refresh.status, code: refresh.body.Code }).toEqual({ status: 403, code: 'SessionRevoked' });
  });

  it('refuses a wrong or missing token with the provider shape the SDK reports', async () => {
    const v = await vendContainer();
    const wrong = await request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', 'x'.repeat(43));
    expect({ status: wrong.status, body: wrong.body }).toEqual({ status: 401, body: { Code: 'InvalidToken', Message: expect.any(String) } });
    const missing = await request(base).get(`/v1/credentials/${v.sessionId}`);
    expect(missing.status).toBe(401);
    await expect(provider(v.container.url, 'not-the-token')()).rejects.toThrow();
  });

  it('stops refreshing once the session is revoked, and the SDK surfaces our Code', async () => {
    const v = await vendContainer();
    const ops = await token({ email: 'ops@example.com', groups: ['secops'] });
    const revoked = await request(base).post('/v1/revoke').set('Authorization', `Bearer ${ops}`).send({ sessionId: v.sessionId, reason: 'test' });
    expect([200, 202]).toContain(revoked.status);
    const res = await request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
    expect(res.status).toBe(403);
    expect(res.body.Code).toBe('SessionRevoked');
    // fromHttp throws a CredentialsProviderError carrying the body's Code and Message.
    await expect(provider(v.container.url, v.container.authorizationToken)()).rejects.toMatchObject({ Code: 'SessionRevoked', Message: expect.stringContaining('revoked') });
  });

  it('stops at the end of the session lifetime', async () => {
    const v = await vendContainer({ sessionDurationSeconds: 900 });
    clock += 901_000;
    const res = await request(base).get(`/v1/credentials/${v.sessionId}`).set('Authorization', v.container.authorizationToken);
    expect({ status: res.status, code: res.body.Code }).toEqual({ status: 403, code: 'SessionExpired' });
  });

  it('never stores the container token in Redis nor writes it to the logs', async () => {
    const v = await vendContainer();
    const redis = stack.deps.redis as import('ioredis').Redis;
    const keys = await redis.keys(`${stack.config.redis.keyPrefix}*`);
    const values = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? redis.get(k) : '')));
    expect(values.join('\n')).not.toContain(v.container.authorizationToken);
    expect(stack.rawLogs.join('\n')).not.toContain(v.container.authorizationToken);
  });
});

describe("a template's default session lifetime", () => {
  it('applies when the vend names none, capped by the template max and the config', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-templates-'));
    for (const f of readdirSync(TEMPLATES_DIR)) copyFileSync(path.join(TEMPLATES_DIR, f), path.join(dir, f));
    const file = path.join(dir, 's3-read-prefix.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\ndefaultSessionDurationSeconds: 7200\n`);
    const own = await startStack({ configure: (raw) => (raw.templatesDir = dir) });
    try {
      const vend = async (extra: Record<string, unknown> = {}) => {
        const res = await own.vend({ ...read, delivery: 'container', ...extra });
        expect(res.status).toBe(200);
        return (Date.parse(res.body.sessionExpiresAt) - Date.parse(res.body.expiresAt)) / 1000 + 900;
      };
      expect(await vend()).toBeCloseTo(7200, -1);
      expect(await vend({ sessionDurationSeconds: 1800 })).toBeCloseTo(1800, -1);
    } finally {
      await own.stop();
    }
  });
});
