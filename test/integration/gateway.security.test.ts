import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import request from 'supertest';
import { gatewaySecret } from '../../src/gateway/gateway-key';
import { errorCodeOf, rawCall, type RawCall } from '../helpers/raw-sigv4';
import { startStack, TEST_GATEWAY_KEY, type TestStack } from '../helpers/stack';
import { startCountedGateway, type UpstreamCounter } from '../helpers/upstream-counter';

/**
 * The gateway refuses, in the AWS shape the client's SDK understands, and forwards nothing: every case counts
 * what reached the emulator through a pass-through in front of it.
 */
let stack: TestStack;
let counter: UpstreamCounter;
let stop: () => Promise<void>;
const clock = { offsetMs: 0 };
beforeAll(async () => {
  ({ stack, counter, stop } = await startCountedGateway(clock));
});
afterAll(async () => stop?.());

type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string };
const write = { template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' };
async function vendGateway(extra: Record<string, unknown> = {}): Promise<{ sessionId: string; gateway: Gw }> {
  const res = await stack.vend({ ...write, ...extra });
  expect(res.status).toBe(200);
  return res.body as { sessionId: string; gateway: Gw };
}
const s3Of = (g: Gw) =>
  new S3Client({ endpoint: g.endpointUrl, region: g.region, forcePathStyle: true, credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey }, maxAttempts: 1, systemClockOffset: clock.offsetMs });
const fail = (p: Promise<unknown>) => p.then(() => ({ name: 'ok', status: 0 }), (e: { name: string; $metadata?: { httpStatusCode?: number } }) => ({ name: e.name, status: e.$metadata?.httpStatusCode ?? 0 }));

/** Runs `fn` and expects nothing to have reached the emulator meanwhile. */
async function nothingForwarded<T>(fn: () => Promise<T>): Promise<T> {
  const before = counter.requests.length;
  const out = await fn();
  expect(counter.requests.slice(before)).toEqual([]);
  return out;
}

let g: Gw;
let other: Gw;
beforeAll(async () => {
  g = (await vendGateway()).gateway;
  other = (await vendGateway()).gateway;
});
const s3Get = (over: Partial<RawCall> = {}): RawCall => ({ base: g.endpointUrl, path: '/backend-data/agent-out/x.txt', service: 's3', accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, ...over });

describe('gateway security: refused in the AWS shape, nothing forwarded', () => {
  it.each<[string, () => Partial<RawCall>, number, string]>([
    ['a wrong secret', () => ({ secretAccessKey: 'not-the-secret' }), 403, 'SignatureDoesNotMatch'],
    ["another session's key id with this session's secret", () => ({ accessKeyId: other.accessKeyId }), 403, 'SignatureDoesNotMatch'],
    ['an AWS-looking key id', () => ({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }), 403, 'InvalidAccessKeyId'],
    ['a key id of a session that does not exist', () => ({ accessKeyId: 'SVGWAAAAAAAAAAAA', secretAccessKey: gatewaySecret(Buffer.from(TEST_GATEWAY_KEY), 'SVGWAAAAAAAAAAAA') }), 403, 'InvalidAccessKeyId'],
    ['a date 10 minutes old (a replay outside the window)', () => ({ date: new Date(Date.now() - 10 * 60_000) }), 403, 'RequestTimeTooSkewed'],
    ['a date 10 minutes ahead', () => ({ date: new Date(Date.now() + 10 * 60_000) }), 403, 'RequestTimeTooSkewed'],
    ['a body swapped after signing', () => ({ tamper: (h) => (h['x-amz-content-sha256'] = 'a'.repeat(64)) }), 403, 'SignatureDoesNotMatch'],
    ['a path changed after signing', () => ({ sendPath: '/backend-data/exports/users.csv' }), 403, 'SignatureDoesNotMatch'],
    ['a Host naming the instance metadata service', () => ({ host: '169.254.169.254' }), 400, 'InvalidRequest'],
    ['a Host naming real S3', () => ({ host: 'backend-data.s3.amazonaws.com' }), 400, 'InvalidRequest'],
    ['a region that is not one', () => ({ region: 'us-east-1.evil.example' }), 400, 'AuthorizationHeaderMalformed'],
    ['no signature at all', () => ({ tamper: (h) => delete h.authorization }), 403, 'AccessDenied'],
    ['a presigned URL missing its parts', () => ({ query: { 'X-Amz-Signature': 'a'.repeat(64), 'X-Amz-Credential': 'x' } }), 400, 'AuthorizationQueryParametersError'],
    ['an aws-chunked upload without its decoded length', () => ({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked' } }), 400, 'InvalidRequest'],
    ['an aws-chunked form the gateway does not know', () => ({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD', 'x-amz-decoded-content-length': '0' } }), 501, 'NotImplemented'],
    // The gateway signs what it forwards with the real key: nothing the agent left unsigned may ride along.
    ['an x-amz-* header added after signing (a copy source)', () => ({ tamper: (h) => (h['x-amz-copy-source'] = 'backend-data/reports/2026/q3.csv') }), 403, 'AccessDenied'],
    ['a security token in the query of a header-signed call', () => ({ query: { 'X-Amz-Security-Token': 'forged' } }), 400, 'InvalidRequest'],
    ['SigV4A', () => ({ tamper: (h) => (h.authorization = h.authorization!.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')) }), 501, 'NotImplemented'],
    ['SigV4A streaming chunks', () => ({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '0' } }), 501, 'NotImplemented'],
    ['a SigV4A presigned URL', () => ({ tamper: (h) => delete h.authorization, query: { 'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256', 'X-Amz-Credential': 'x', 'X-Amz-Signature': 'a'.repeat(64) } }), 501, 'NotImplemented'],
  ])('%s', async (_name, over, status, code) => {
    const answer = await nothingForwarded(() => rawCall(s3Get(over())));
    expect([answer.status, errorCodeOf(answer)]).toEqual([status, code]);
    expect(answer.headers['content-type']).toBe('application/xml');
    // NotImplemented says what is not served and why, so the agent knows what to change.
    if (code === 'NotImplemented') expect(/<Message>([^<]+)</.exec(answer.body)?.[1]).toMatch(/SigV4A \(AWS4-ECDSA-P256-SHA256\) is not supported by this gateway: it verifies and re-signs SigV4|is not one this gateway knows/);
  });

  it.each<[string, Partial<RawCall>, number, string]>([
    ['a service the gateway does not forward to', { service: 'ec2', region: 'us-east-1' }, 400, 'InvalidAction'],
    ['IAM signed for a region IAM is not signed in', { service: 'iam', region: 'eu-west-1' }, 400, 'IncompleteSignature'],
    ['STS, switched to IAM after signing', { tamper: (h) => (h.authorization = h.authorization!.replace('/sts/', '/iam/')) }, 403, 'SignatureDoesNotMatch'],
  ])('a credential scope naming %s', async (_name, over, status, code) => {
    const answer = await nothingForwarded(() =>
      rawCall({ base: g.endpointUrl, method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeInstances&Version=2016-11-15', accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey, service: 'sts', ...over }),
    );
    expect([answer.status, errorCodeOf(answer)]).toEqual([status, code]);
  });

  it('refuses an operation the template denies (and DeleteObjects, which IAM authorizes as s3:DeleteObject)', async () => {
    const s3 = s3Of(g);
    expect(await nothingForwarded(() => fail(s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/x.txt' }))))).toEqual({ name: 'AccessDenied', status: 403 });
    const many = await nothingForwarded(() => fail(s3.send(new DeleteObjectsCommand({ Bucket: 'backend-data', Delete: { Objects: [{ Key: 'agent-out/x.txt' }] } }))));
    expect(many).toEqual({ name: 'AccessDenied', status: 403 });
    const line = stack.logs.find((l) => l.event === 'gateway.call' && l.operation === 's3:DeleteObjects');
    expect(line).toMatchObject({ outcome: 'refused', status: 403, code: 'AccessDenied', action: 's3:DeleteObject' });
  });

  it('refuses calls that would mint credentials for the agent', async () => {
    const sts = new STSClient({ endpoint: g.endpointUrl, region: 'us-east-1', credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey }, maxAttempts: 1, systemClockOffset: clock.offsetMs });
    expect(await nothingForwarded(() => fail(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/agent-s3', RoleSessionName: 'x' }))))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await nothingForwarded(() => fail(sts.send(new GetSessionTokenCommand({}))))).toEqual({ name: 'AccessDenied', status: 403 });
  });

  it('stops the next call once the session is ended, on this and every later call', async () => {
    const v = await vendGateway();
    const s3 = s3Of(v.gateway);
    await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })).catch(() => undefined);
    const end = await request(stack.app).delete(`/v1/sessions/${v.sessionId}`).set('Authorization', `Bearer ${await stack.token()}`);
    expect(end.status).toBeLessThan(300);
    for (let i = 0; i < 2; i++) {
      expect(await nothingForwarded(() => fail(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/x.txt' }))))).toEqual({ name: 'AccessDenied', status: 403 });
    }
  });

  it('stops a session past its lifetime with ExpiredToken', async () => {
    const v = await vendGateway({ sessionDurationSeconds: 900 });
    clock.offsetMs = 901_000;
    try {
      expect(await nothingForwarded(() => fail(s3Of(v.gateway).send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/x.txt' }))))).toEqual({ name: 'ExpiredToken', status: 400 });
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('fails closed with 503 when Redis cannot answer the checkpoint', async () => {
    const v = await vendGateway();
    await stack.redis.kill();
    try {
      const answer = await nothingForwarded(() => rawCall(s3Get({ accessKeyId: v.gateway.accessKeyId, secretAccessKey: v.gateway.secretAccessKey })));
      expect([answer.status, errorCodeOf(answer)]).toEqual([503, 'ServiceUnavailable']);
    } finally {
      await stack.redis.restart();
    }
  });
});

describe('a service without the gateway', () => {
  let plain: TestStack;
  beforeAll(async () => {
    plain = await startStack();
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it('refuses a gateway vend with a clear error naming the field, recording nothing', async () => {
    const res = await plain.vend(write);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'delivery_unavailable', details: { field: 'delivery' } });
    expect(res.body.error.message).toContain('body.delivery');
    expect(plain.aws.aws.admin.sessions()).toHaveLength(0);
  });
});
