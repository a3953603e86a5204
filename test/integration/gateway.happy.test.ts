import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import request from 'supertest';
import { expectContract } from '../helpers/contract';
import { rawCall } from '../helpers/raw-sigv4';
import type { TestStack } from '../helpers/stack';
import { startCountedGateway, type UpstreamCounter } from '../helpers/upstream-counter';

/**
 * Gateway delivery with the JS SDK v3: the agent holds gateway credentials only, points the SDK at the gateway
 * and does its task; the gateway signs with the session's real credentials, which never leave the service.
 */
let stack: TestStack;
let counter: UpstreamCounter;
let stop: () => Promise<void>;
const clock = { offsetMs: 0 };
beforeAll(async () => {
  ({ stack, counter, stop } = await startCountedGateway(clock));
});
afterAll(async () => stop?.());

type GatewayVend = { sessionId: string; gateway: { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string } };
const write = { template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' };

async function vendGateway(body: Record<string, unknown> = write): Promise<GatewayVend> {
  const res = await stack.vend(body);
  expect(res.status).toBe(200);
  expectContract(res, 'POST', '/v1/vend');
  return res.body as GatewayVend;
}

const clients = (g: GatewayVend['gateway']) => {
  const base = { endpoint: g.endpointUrl, region: g.region, credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey }, maxAttempts: 1, systemClockOffset: clock.offsetMs };
  return {
    sts: new STSClient(base),
    s3: new S3Client({ ...base, forcePathStyle: true }),
  };
};

describe('gateway delivery with the JS SDK', () => {
  it('vends gateway credentials and no AWS credential; Redis and the answer hold no real secret', async () => {
    const v = await vendGateway();
    expect(v).not.toHaveProperty('credentials');
    expect(v.gateway.accessKeyId).toMatch(/^SVGW[A-Za-z0-9]{12}$/);
    expect(v.gateway.accessKeyId).not.toMatch(/^(AKIA|ASIA)/);
    expect(v.gateway.endpointUrl).toBe(stack.gateway!.url);
    const record = await stack.deps.sessions.get(v.sessionId);
    expect(record?.delivery).toBe('gateway');
    const real = stack.aws.aws.admin.session(record!.accessKeyId!)!;
    expect(real.tags['agent-session']).toBe(v.sessionId);
    await clients(v.gateway).sts.send(new GetCallerIdentityCommand({}));
    const dump = await dumpRedis();
    expect(dump).toContain(v.sessionId);
    expect(dump).not.toContain(v.gateway.secretAccessKey);
    const inMemory = stack.deps.credentialCache.get(v.sessionId, new Date(), 0)!;
    expect(inMemory.accessKeyId).toBe(record!.accessKeyId);
    expect(dump).not.toContain(inMemory.secretAccessKey);
    expect(dump).not.toContain(inMemory.sessionToken);
  });

  it('serves STS GetCallerIdentity as the session role, S3 put, get and list, within the session policy', async () => {
    const v = await vendGateway();
    const { sts, s3 } = clients(v.gateway);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/agent-s3\/alice@example\.com\./);
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/hello.txt', Body: 'hello through the gateway' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello through the gateway');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'agent-out/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('agent-out/hello.txt');
    // IAM still decides with the session policy: AWS's own AccessDenied comes back unchanged.
    const outside = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })).catch((e: { name: string; $metadata: { httpStatusCode: number } }) => e);
    expect((outside as { name: string }).name).toBe('AccessDenied');
  });

  it('serves S3 in virtual-hosted style (<bucket>.<gateway host>) as in path style', async () => {
    const v = await vendGateway();
    await clients(v.gateway).s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/vhost.txt', Body: 'virtual host' }));
    const port = new URL(v.gateway.endpointUrl).port;
    const before = counter.requests.length;
    const answer = await rawCall({ base: v.gateway.endpointUrl, host: `backend-data.localhost:${port}`, path: '/agent-out/vhost.txt', service: 's3', accessKeyId: v.gateway.accessKeyId, secretAccessKey: v.gateway.secretAccessKey });
    expect([answer.status, answer.body]).toEqual([200, 'virtual host']);
    // Forwarded path-style to the emulator override.
    expect(counter.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /backend-data/agent-out/vhost.txt']);
  });

  it('re-issues the real credential before it expires, the agent keeping the same gateway credentials', async () => {
    const v = await vendGateway({ ...write, sessionDurationSeconds: 7200 });
    const first = (await stack.deps.sessions.get(v.sessionId))!.accessKeyId!;
    const calls = counter.requests.length;
    await clients(v.gateway).sts.send(new GetCallerIdentityCommand({}));
    expect(counter.requests.slice(calls).map((r) => r.accessKeyId)).toEqual([first]);
    clock.offsetMs = 11 * 60_000; // 4 minutes left on the 15-minute credential: inside the refresh margin
    try {
      const me = await clients(v.gateway).sts.send(new GetCallerIdentityCommand({}));
      const second = (await stack.deps.sessions.get(v.sessionId))!.accessKeyId!;
      expect(second).not.toBe(first);
      expect(counter.requests.at(-1)!.accessKeyId).toBe(second);
      expect(me.Arn).toContain('assumed-role/agent-s3/');
      expect(stack.aws.aws.admin.session(second)!.tags).toEqual(stack.aws.aws.admin.session(first)!.tags);
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('lists the calls of the session for its owner, with operation, resource and status, and nothing for a stranger', async () => {
    const v = await vendGateway();
    const { s3 } = clients(v.gateway);
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/listed.txt', Body: 'x' }));
    await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/listed.txt' }));
    let calls: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && calls.length < 2; i++) {
      const res = await request(stack.app).get(`/v1/sessions/${v.sessionId}/calls`).set('Authorization', `Bearer ${await stack.token()}`);
      expect(res.status).toBe(200);
      expectContract(res, 'GET', '/v1/sessions/:id/calls');
      calls = res.body.calls;
      if (calls.length < 2) await new Promise((r) => setTimeout(r, 20));
    }
    expect(calls.map((c) => c.operation)).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(calls[0]).toMatchObject({ service: 's3', resource: 'backend-data/agent-out/listed.txt', region: 'us-east-1', status: 200, refused: false, bytesOut: 1 });
    expect(calls[1]).toMatchObject({ bytesIn: 1 });
    const stranger = await request(stack.app).get(`/v1/sessions/${v.sessionId}/calls`).set('Authorization', `Bearer ${await stack.token({ email: 'mallory@example.com' })}`);
    expect(stranger.status).toBe(404);
    const line = stack.logs.find((l) => l.event === 'gateway.call' && l.sessionId === v.sessionId && l.operation === 's3:GetObject');
    expect(line).toMatchObject({ audit: true, developer: 'alice@example.com', template: 's3-write-prefix', service: 's3', resource: 'backend-data/agent-out/listed.txt', status: 200 });
    expect(stack.rawLogs.join('\n')).not.toContain(v.gateway.secretAccessKey);
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
    else if (type === 'list') parts.push((await redis.lrange(key, 0, -1)).join(','));
    parts.push(key);
  }
  return parts.join('\n');
}
