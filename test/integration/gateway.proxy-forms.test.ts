/**
 * The hard request forms in proxy mode, with clients that know only HTTPS_PROXY, the CA bundle and gateway
 * credentials: a presigned URL for a real AWS host name fetched with curl through the proxy (`curl --proxy
 * <gateway> --cacert <bundle>`), served by re-signing as in endpoint mode and stopped by a revocation; and boto3's
 * checksummed upload, which over HTTPS is aws-chunked with a trailer.
 */
import os from 'node:os';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { proxyClientEnv, startProxyStack, writeCliConfig, type Gw, type ProxyStack } from '../helpers/proxy';
import { describeWithRealClients, PYTHON, run } from '../helpers/real-clients';

let p: ProxyStack;
beforeAll(async () => {
  p = await startProxyStack();
  writeCliConfig(p);
}, 60_000);
afterAll(async () => p?.stop());

async function session(): Promise<{ id: string; gw: Gw }> {
  const res = await p.stack.vend({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' });
  expect(res.status).toBe(200);
  return { id: res.body.sessionId as string, gw: res.body.gateway as Gw };
}

/** curl through the proxy, trusting only the gateway CA: status and body. */
async function curl(url: string): Promise<{ status: number; body: string }> {
  const r = await run('/usr/bin/curl', ['-sS', '--proxy', p.proxyUrl, '--cacert', p.caFile, '-o', '-', '-w', '\n%{http_code}', url], { PATH: '/usr/bin:/bin' });
  const at = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
}

describeWithRealClients('a presigned URL for an AWS host, fetched with curl through proxy mode', () => {
  it('boto3 presigns for the real S3 host; curl through the proxy gets the object; a revoked session gets AccessDenied', async () => {
    const { id, gw } = await session();
    await new S3Client({ endpoint: gw.endpointUrl, region: gw.region, forcePathStyle: true, credentials: gw, maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/proxied.txt', Body: 'through the proxy' }));
    const script = `
import boto3, sys
s3 = boto3.client('s3', region_name='us-east-1', config=boto3.session.Config(signature_version='s3v4'))
print(s3.generate_presigned_url('get_object', Params={'Bucket': 'backend-data', 'Key': 'agent-out/proxied.txt'}, ExpiresIn=300))
`;
    const r = await run(PYTHON, ['-c', script], { PATH: '/usr/bin:/bin', HOME: p.dir, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, AWS_ACCESS_KEY_ID: gw.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
    expect(r.stderr).toBe('');
    const url = r.stdout.trim();
    expect(new URL(url).hostname).toMatch(/^(backend-data\.)?s3(\.us-east-1)?\.amazonaws\.com$/);
    expect(await curl(url)).toEqual({ status: 200, body: 'through the proxy' });
    const line = p.stack.logs.findLast((l) => l.event === 'gateway.call' && l.resource === 'backend-data/agent-out/proxied.txt');
    expect(line).toMatchObject({ outcome: 'allowed', operation: 's3:GetObject', sessionId: id });

    const ended = await request(p.stack.app).delete(`/v1/sessions/${id}`).set('Authorization', `Bearer ${await p.stack.token()}`);
    expect(ended.status).toBe(200);
    const after = await curl(url);
    expect([after.status, /<Code>([^<]+)</.exec(after.body)?.[1]]).toEqual([403, 'AccessDenied']);
  }, 60_000);

  it('boto3 puts with a CRC32 checksum through the proxy (aws-chunked with a trailer) and reads it back validated', async () => {
    const { gw } = await session();
    const script = `
import boto3, hashlib, json, os
s3 = boto3.client('s3', region_name='us-east-1')
body = os.urandom(300_000)
put = s3.put_object(Bucket='backend-data', Key='agent-out/proxied-sum.bin', Body=body, ChecksumAlgorithm='CRC32')
got = s3.get_object(Bucket='backend-data', Key='agent-out/proxied-sum.bin', ChecksumMode='ENABLED')
print(json.dumps([put['ChecksumCRC32'] == got['ChecksumCRC32'], hashlib.sha256(got['Body'].read()).hexdigest() == hashlib.sha256(body).hexdigest()]))
`;
    const r = await run(PYTHON, ['-c', script], proxyClientEnv(p, gw));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([true, true]);
    const put = p.stack.logs.findLast((l) => l.event === 'gateway.call' && l.resource === 'backend-data/agent-out/proxied-sum.bin' && l.operation === 's3:PutObject');
    expect(put).toMatchObject({ outcome: 'allowed', status: 200 });
    // What crossed the tunnel was the framed body: more bytes than the payload.
    expect(Number(put!.bytesIn)).toBeGreaterThan(300_000);
  }, 60_000);
});
