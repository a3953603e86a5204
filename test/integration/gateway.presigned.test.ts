/**
 * Presigned URLs made with gateway credentials, fetched with curl as a tool or a browser would: boto3's
 * generate_presigned_url and `aws s3 presign` with the gateway as endpoint, and URLs presigned here with the
 * SDK's signer for the odd cases (expired, not yet valid, tampered, another session's key). The gateway checks the
 * session on every use and applies the template's rules; what reaches AWS is a header-signed request with the
 * session's real key and none of the presign parameters.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import request from 'supertest';
import { Sha256 } from '../../src/gateway/sigv4';
import { AWS_CLI, describeWithRealClients, PYTHON } from '../helpers/real-clients';
import type { TestStack } from '../helpers/stack';
import { startCountedGateway, type UpstreamCounter } from '../helpers/upstream-counter';

type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string };
let stack: TestStack;
let counter: UpstreamCounter;
let stop: () => Promise<void>;
const clock = { offsetMs: 0 };
let dir: string;
beforeAll(async () => {
  ({ stack, counter, stop } = await startCountedGateway(clock));
  dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-presigned-'));
}, 60_000);
afterAll(async () => {
  await stop?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function session(): Promise<{ id: string; gw: Gw }> {
  const res = await stack.vend({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' });
  expect(res.status).toBe(200);
  return { id: res.body.sessionId as string, gw: res.body.gateway as Gw };
}
const s3Of = (gw: Gw) => new S3Client({ endpoint: gw.endpointUrl, region: gw.region, forcePathStyle: true, credentials: gw, maxAttempts: 1 });

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { env: { PATH: '/usr/bin:/bin', HOME: dir, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, AWS_EC2_METADATA_DISABLED: 'true', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}
const agentEnv = (gw: Gw): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: gw.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.secretAccessKey, AWS_DEFAULT_REGION: gw.region });

/** curl, as a tool handed the URL would fetch it: status and body (`-T file` uploads). */
async function curl(url: string, ...extra: string[]): Promise<{ status: number; body: string }> {
  const r = await run('/usr/bin/curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...extra, url]);
  const at = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
}
const codeOf = (body: string): string | undefined => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
const messageOf = (body: string): string | undefined => /<Message>([^<]+)<\/Message>/.exec(body)?.[1];

/** A URL presigned with the SDK's signer, as the JS presigner builds it (UNSIGNED-PAYLOAD, host signed). */
async function presign(gw: Gw, key: string, o: { method?: string; signingDate?: Date; expiresIn?: number; accessKeyId?: string } = {}): Promise<string> {
  const base = new URL(gw.endpointUrl);
  const signer = new SignatureV4({ service: 's3', region: gw.region, credentials: { accessKeyId: o.accessKeyId ?? gw.accessKeyId, secretAccessKey: gw.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.presign(
    { method: o.method ?? 'GET', protocol: 'http:', hostname: base.hostname, port: Number(base.port), path: `/backend-data/${key}`, query: {}, headers: { host: base.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { signingDate: o.signingDate ?? new Date(), expiresIn: o.expiresIn ?? 900, unsignableHeaders: new Set(['x-amz-content-sha256']), unhoistableHeaders: new Set(['x-amz-content-sha256']) },
  );
  const qs = Object.entries(signed.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  return `${gw.endpointUrl}/backend-data/${key}?${qs}`;
}

/** Runs `fn` and expects nothing to have reached the emulator meanwhile. */
async function nothingForwarded<T>(fn: () => Promise<T>): Promise<T> {
  const before = counter.requests.length;
  const out = await fn();
  expect(counter.requests.slice(before)).toEqual([]);
  return out;
}

let owner: { id: string; gw: Gw };
let other: { id: string; gw: Gw };
beforeAll(async () => {
  owner = await session();
  other = await session();
  await s3Of(owner.gw).send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/shared.txt', Body: 'handed to a tool' }));
});

describe('a presigned GET made here, fetched with curl', () => {
  it('serves the object by re-signing: upstream sees header auth with the real key, no presign parameter', async () => {
    const before = counter.requests.length;
    const got = await curl(await presign(owner.gw, 'agent-out/shared.txt'));
    expect(got).toEqual({ status: 200, body: 'handed to a tool' });
    const sent = counter.requests.slice(before);
    expect(sent).toEqual([expect.objectContaining({ method: 'GET', path: '/backend-data/agent-out/shared.txt', accessKeyId: expect.stringMatching(/^ASIA/), payload: 'UNSIGNED-PAYLOAD' })]);
    const line = stack.logs.findLast((l) => l.event === 'gateway.call' && l.resource === 'backend-data/agent-out/shared.txt');
    expect(line).toMatchObject({ outcome: 'allowed', operation: 's3:GetObject', sessionId: owner.id, status: 200 });
  });

  it.each<[string, () => Promise<string>, number, string, RegExp]>([
    ['an expired URL (signed two hours ago for one hour)', async () => presign(owner.gw, 'agent-out/shared.txt', { signingDate: new Date(Date.now() - 2 * 3600_000), expiresIn: 3600 }), 403, 'AccessDenied', /^Request has expired$/],
    ['a URL not valid yet (dated an hour ahead)', async () => presign(owner.gw, 'agent-out/shared.txt', { signingDate: new Date(Date.now() + 3600_000) }), 403, 'AccessDenied', /^Request is not valid yet$/],
    ['a lifetime over a week', async () => (await presign(owner.gw, 'agent-out/shared.txt')).replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801'), 400, 'AuthorizationQueryParametersError', /less than a week/],
    ['a lifetime stretched after signing', async () => (await presign(owner.gw, 'agent-out/shared.txt')).replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'), 403, 'SignatureDoesNotMatch', /signature/],
    ['another key than the one signed', async () => (await presign(owner.gw, 'agent-out/shared.txt')).replace('shared.txt', 'other.txt'), 403, 'SignatureDoesNotMatch', /signature/],
    ["another session's key id with this session's secret", async () => presign(owner.gw, 'agent-out/shared.txt', { accessKeyId: other.gw.accessKeyId }), 403, 'SignatureDoesNotMatch', /signature/],
    ['a key id that is no gateway key', async () => presign(owner.gw, 'agent-out/shared.txt', { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }), 403, 'InvalidAccessKeyId', /invalid/],
    ['a presigned DELETE the template denies', async () => presign(owner.gw, 'agent-out/shared.txt', { method: 'DELETE' }), 403, 'AccessDenied', /denies s3:DeleteObject through the gateway/],
  ])('refuses %s, forwarding nothing', async (_name, make, status, code, message) => {
    const url = await make();
    const got = await nothingForwarded(() => curl(url, ...(_name.includes('DELETE') ? ['-X', 'DELETE'] : [])));
    expect([got.status, codeOf(got.body)]).toEqual([status, code]);
    expect(messageOf(got.body)).toMatch(message);
  });

  // Whoever holds a URL could add what the agent never signed: the gateway would sign it with the real key.
  it.each<[string, string[]]>([
    ['a copy source and a public ACL added to a presigned PUT', ['-X', 'PUT', '-H', 'x-amz-copy-source: backend-data/reports/2026/q3.csv', '-H', 'x-amz-acl: public-read', '--data-binary', '']],
    ['a tagging header added to a presigned GET', ['-H', 'x-amz-tagging: leaked=yes']],
  ])('refuses %s: x-amz-* headers outside the signature, forwarding nothing', async (_name, extra) => {
    const url = await presign(owner.gw, 'agent-out/shared.txt', { method: extra.includes('PUT') ? 'PUT' : 'GET' });
    const got = await nothingForwarded(() => curl(url, ...extra));
    expect([got.status, codeOf(got.body)]).toEqual([403, 'AccessDenied']);
    expect(messageOf(got.body)).toMatch(/^There were headers present in the request which were not signed: x-amz-/);
  });

  it('refuses a URL once its session is revoked, on every later use', async () => {
    const s = await session();
    const url = await presign(s.gw, 'agent-out/shared.txt');
    expect((await curl(url)).status).toBe(200);
    const ended = await request(stack.app).delete(`/v1/sessions/${s.id}`).set('Authorization', `Bearer ${await stack.token()}`);
    expect(ended.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const got = await nothingForwarded(() => curl(url));
      expect([got.status, codeOf(got.body)]).toEqual([403, 'AccessDenied']);
    }
  });

  it('refuses a URL the moment the gateway clock passes its expiry', async () => {
    const url = await presign(owner.gw, 'agent-out/shared.txt', { expiresIn: 60 });
    expect((await curl(url)).status).toBe(200);
    clock.offsetMs = 61_000;
    try {
      const got = await nothingForwarded(() => curl(url));
      expect([got.status, messageOf(got.body)]).toEqual([403, 'Request has expired']);
    } finally {
      clock.offsetMs = 0;
    }
  });
});

describeWithRealClients('presigned URLs from boto3 and the AWS CLI, fetched with curl', () => {
  it('aws s3 presign: a GET URL curl fetches', async () => {
    const r = await run(AWS_CLI, ['--endpoint-url', owner.gw.endpointUrl, 's3', 'presign', 's3://backend-data/agent-out/shared.txt', '--expires-in', '300'], agentEnv(owner.gw));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    expect(await curl(r.stdout.trim())).toEqual({ status: 200, body: 'handed to a tool' });
  });

  it('boto3 generate_presigned_url: a GET, and a PUT the rules allow, uploaded with curl -T', async () => {
    const script = `
import boto3, json, os, sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name=os.environ['AWS_DEFAULT_REGION'], config=boto3.session.Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
print(json.dumps({
  'get': s3.generate_presigned_url('get_object', Params={'Bucket': 'backend-data', 'Key': 'agent-out/shared.txt'}, ExpiresIn=300),
  'put': s3.generate_presigned_url('put_object', Params={'Bucket': 'backend-data', 'Key': 'agent-out/from-curl.txt'}, ExpiresIn=300),
  'outside': s3.generate_presigned_url('put_object', Params={'Bucket': 'backend-data', 'Key': 'exports/from-curl.txt'}, ExpiresIn=300),
}))
`;
    const r = await run(PYTHON, ['-c', script, owner.gw.endpointUrl], agentEnv(owner.gw));
    expect(r.stderr).toBe('');
    const urls = JSON.parse(r.stdout) as { get: string; put: string; outside: string };
    expect(await curl(urls.get)).toEqual({ status: 200, body: 'handed to a tool' });

    writeFileSync(path.join(dir, 'upload.txt'), 'uploaded with a presigned PUT');
    const before = counter.requests.length;
    expect((await curl(urls.put, '-T', path.join(dir, 'upload.txt'))).status).toBe(200);
    expect(counter.requests.slice(before).map((q) => [q.method, q.path, q.payload])).toEqual([['PUT', '/backend-data/agent-out/from-curl.txt', 'UNSIGNED-PAYLOAD']]);
    const back = await s3Of(owner.gw).send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/from-curl.txt' }));
    expect(await back.Body!.transformToString()).toBe('uploaded with a presigned PUT');

    // Outside the session's prefix: forwarded (the gateway's rules allow PutObject) and refused by IAM.
    const outside = await curl(urls.outside, '-T', path.join(dir, 'upload.txt'));
    expect([outside.status, codeOf(outside.body)]).toEqual([403, 'AccessDenied']);
  }, 60_000);
});
