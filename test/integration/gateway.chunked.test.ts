/**
 * aws-chunked uploads through the gateway, in the three forms: the JS SDK's default streamed upload (unsigned
 * payload, CRC32 trailer), hand-built signed chunks with and without a trailer, and boto3 over TLS with a
 * checksum (its trailer form). The emulator verifies every chunk signature and checksum on its own, so an
 * upload that lands was re-signed correctly; a bad chunk aborts the upstream request and leaves the object as
 * it was.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createGatewayServer } from '../../src/gateway/gateway-server';
import { chunkedBody, crc32Base64, type Form } from '../helpers/aws-chunked';
import { errorCodeOf, rawCall } from '../helpers/raw-sigv4';
import { AWS_CLI, describeWithRealClients, PYTHON } from '../helpers/real-clients';
import type { TestStack } from '../helpers/stack';
import { startCountedGateway, type UpstreamCounter } from '../helpers/upstream-counter';

type Gw = { endpointUrl: string; accessKeyId: string; secretAccessKey: string; region: string };
let stack: TestStack;
let counter: UpstreamCounter;
let stop: () => Promise<void>;
let gw: Gw;
let s3: S3Client;
beforeAll(async () => {
  ({ stack, counter, stop } = await startCountedGateway({ offsetMs: 0 }));
  const res = await stack.vend({ template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' }, delivery: 'gateway' });
  expect(res.status).toBe(200);
  gw = res.body.gateway as Gw;
  // The SDK's defaults: checksums on every upload that supports them (WHEN_SUPPORTED).
  s3 = new S3Client({ endpoint: gw.endpointUrl, region: gw.region, forcePathStyle: true, credentials: gw, maxAttempts: 1 });
}, 60_000);
afterAll(async () => stop?.());

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
async function read(key: string): Promise<{ body: Buffer; crc32?: string }> {
  const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: key, ChecksumMode: 'ENABLED' }));
  return { body: Buffer.from(await got.Body!.transformToByteArray()), ...(got.ChecksumCRC32 ? { crc32: got.ChecksumCRC32 } : {}) };
}
/** Upstream requests since `before` that uploaded `key`. */
const uploadsOf = (key: string, before: number) => counter.requests.slice(before).filter((r) => r.method === 'PUT' && r.path.startsWith(`/backend-data/agent-out/${key}`));

describe("the JS SDK's default uploads through the gateway", () => {
  it('streams an upload as aws-chunked with a CRC32 trailer; the object and its checksum come back', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const before = counter.requests.length;
    const put = await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/sdk-stream.bin', Body: Readable.from([data.subarray(0, 65536), data.subarray(65536)]), ContentLength: data.length }));
    expect(put.ChecksumCRC32).toBe(crc32Base64(data));
    expect(uploadsOf('sdk-stream.bin', before).map((r) => r.payload)).toEqual(['STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
    const back = await read('agent-out/sdk-stream.bin');
    expect(sha(back.body)).toBe(sha(data));
    expect(back.crc32).toBe(crc32Base64(data));
    const line = stack.logs.find((l) => l.event === 'gateway.call' && l.resource === 'backend-data/agent-out/sdk-stream.bin' && l.operation === 's3:PutObject');
    expect(line).toMatchObject({ outcome: 'allowed', status: 200 });
    expect(Number(line!.bytesIn)).toBeGreaterThan(data.length);
  });

  it('sends a buffered upload with its checksum in a header, checked by the emulator', async () => {
    const data = Buffer.from('a buffered body with a header checksum');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/sdk-buffer.txt', Body: data, ChecksumAlgorithm: 'SHA256' }));
    expect(put.ChecksumSHA256).toBe(createHash('sha256').update(data).digest('base64'));
    expect((await read('agent-out/sdk-buffer.txt')).body.toString()).toBe(data.toString());
  });
});

const chunks = [randomBytes(65536), randomBytes(65536), randomBytes(100)];
const payload = Buffer.concat(chunks);

/** A PUT of `payload` in aws-chunked form, signed with the gateway secret; `edit` breaks the body on purpose. */
function chunkedPut(key: string, form: Form, over: { decodedLength?: number; edit?: (b: Parameters<typeof chunkedBody>[0]) => Parameters<typeof chunkedBody>[0]; raw?: (wire: Buffer) => Buffer } = {}) {
  const trailer = form.endsWith('TRAILER');
  return rawCall({
    base: gw.endpointUrl,
    method: 'PUT',
    path: `/backend-data/agent-out/${key}`,
    service: 's3',
    accessKeyId: gw.accessKeyId,
    secretAccessKey: gw.secretAccessKey,
    headers: {
      'x-amz-content-sha256': form,
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(over.decodedLength ?? payload.length),
      ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32' } : {}),
    },
    bodyFor: ({ seed, amzDate, scope }) => {
      const spec = { form, chunks, ...(trailer ? { trailers: [['x-amz-checksum-crc32', crc32Base64(payload)]] as Array<[string, string]> } : {}), chain: { secret: gw.secretAccessKey, seed, amzDate, scope } };
      const wire = chunkedBody(over.edit ? over.edit(spec) : spec);
      return over.raw ? over.raw(wire) : wire;
    },
  });
}

describe('hand-built signed chunks through the gateway', () => {
  it.each<Form>(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'])('%s: every chunk verified, re-signed, and checked again by the emulator', async (form) => {
    const key = `signed-${form.length}.bin`;
    const before = counter.requests.length;
    const answer = await chunkedPut(key, form);
    expect([answer.status, answer.body]).toEqual([200, '']);
    // Upstream got the same form, signed with the session's real key (the emulator verified each chunk of it).
    expect(uploadsOf(key, before)).toEqual([expect.objectContaining({ payload: form, accessKeyId: expect.stringMatching(/^ASIA/) })]);
    const back = await read(`agent-out/${key}`);
    expect(sha(back.body)).toBe(sha(payload));
    if (form.endsWith('TRAILER')) expect(back.crc32).toBe(crc32Base64(payload));
  });

  describe('a bad body aborts the upload: the object stays as it was', () => {
    const key = 'kept.bin';
    beforeAll(async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: `agent-out/${key}`, Body: 'old verified value' }));
    });
    afterEach(async () => {
      expect((await read(`agent-out/${key}`)).body.toString()).toBe('old verified value');
    });
    const form: Form = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';

    it.each<[string, Parameters<typeof chunkedPut>[2], number, string]>([
      // In the second chunk: the first one is already upstream, and the aborted request never becomes an object.
      ['a chunk changed after signing', { raw: (w) => Buffer.concat([w.subarray(0, 70_000), Buffer.from([w[70_000]! ^ 1]), w.subarray(70_001)]) }, 403, 'SignatureDoesNotMatch'],
      ['the chunks of another chain', { edit: (b) => ({ ...b, chain: { ...b.chain!, seed: 'f'.repeat(64) } }) }, 403, 'SignatureDoesNotMatch'],
      ['a wrong trailer signature', { edit: (b) => ({ ...b, signatureOverride: { [-1]: '0'.repeat(64) } }) }, 403, 'SignatureDoesNotMatch'],
      ['a decoded length the chunks do not add up to', { decodedLength: payload.length + 1 }, 400, 'IncompleteBody'],
      ['a chunk over the per-chunk limit', { decodedLength: 64 * 1024 * 1024, raw: () => Buffer.from(`900000;chunk-signature=${'a'.repeat(64)}\r\n`) }, 400, 'EntityTooLarge'],
    ])('%s', async (_name, over, status, code) => {
      const answer = await chunkedPut(key, form, over);
      expect([answer.status, errorCodeOf(answer)]).toEqual([status, code]);
      const line = stack.logs.findLast((l) => l.event === 'gateway.call' && l.resource === `backend-data/agent-out/${key}`);
      expect(line).toMatchObject({ outcome: 'refused', status, code });
    });

    it('a trailer checksum that does not match: forwarded intact, and the emulator answers BadDigest', async () => {
      const wrong = chunkedBody({ form: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', chunks, trailers: [['x-amz-checksum-crc32', crc32Base64(Buffer.from('other'))]] });
      const answer = await rawCall({
        base: gw.endpointUrl,
        method: 'PUT',
        path: `/backend-data/agent-out/${key}`,
        service: 's3',
        accessKeyId: gw.accessKeyId,
        secretAccessKey: gw.secretAccessKey,
        headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(payload.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
        bodyFor: () => wrong,
      });
      expect([answer.status, errorCodeOf(answer)]).toEqual([400, 'BadDigest']);
    });
  });
});

describeWithRealClients('boto3 and the AWS CLI upload with checksums through a TLS gateway (their trailer form)', () => {
  let server: Server;
  let url: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-chunked-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    // A second listener of the same gateway, over TLS: botocore sends trailers only over https.
    ({ server } = createGatewayServer(stack.deps, { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server?.close(() => resolve());
      server?.closeAllConnections();
    });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('puts with CRC32 and SHA256 trailers and uploads in parts with CRC32; reads them back with checksum validation', async () => {
    const script = `
import boto3, hashlib, json, os, sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], verify=sys.argv[2], region_name=os.environ['AWS_DEFAULT_REGION'], config=boto3.session.Config(s3={'addressing_style': 'path'}))
out = {}
body = os.urandom(1024 * 1024 + 5)
for algo in ['CRC32', 'SHA256']:
    key = 'agent-out/boto-' + algo + '.bin'
    put = s3.put_object(Bucket='backend-data', Key=key, Body=body, ChecksumAlgorithm=algo)
    got = s3.get_object(Bucket='backend-data', Key=key, ChecksumMode='ENABLED')
    out[algo] = [put.get('Checksum' + algo) == got.get('Checksum' + algo), hashlib.sha256(got['Body'].read()).hexdigest() == hashlib.sha256(body).hexdigest()]
# A managed multipart upload with checksums: every part in the trailer form, the object a composite checksum.
from boto3.s3.transfer import TransferConfig
big = os.urandom(11 * 1024 * 1024)
with open(sys.argv[3], 'wb') as f:
    f.write(big)
s3.upload_file(sys.argv[3], 'backend-data', 'agent-out/boto-parts.bin', ExtraArgs={'ChecksumAlgorithm': 'CRC32'}, Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=1))
got = s3.get_object(Bucket='backend-data', Key='agent-out/boto-parts.bin', ChecksumMode='ENABLED')
out['parts'] = [got.get('ChecksumCRC32', '').endswith('-3'), hashlib.sha256(got['Body'].read()).hexdigest() == hashlib.sha256(big).hexdigest()]
print(json.dumps(out))
`;
    const before = counter.requests.length;
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        PYTHON,
        ['-c', script, url, path.join(dir, 'cert.pem'), path.join(dir, 'parts.bin')],
        { env: { PATH: '/usr/bin:/bin', HOME: dir, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, AWS_ACCESS_KEY_ID: gw.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.secretAccessKey, AWS_DEFAULT_REGION: gw.region, AWS_EC2_METADATA_DISABLED: 'true' }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ CRC32: [true, true], SHA256: [true, true], parts: [true, true] });
    // Two PutObjects and three UploadParts, all aws-chunked with a trailer.
    expect(counter.requests.slice(before).filter((q) => q.method === 'PUT').map((q) => q.payload)).toEqual(Array(5).fill('STREAMING-UNSIGNED-PAYLOAD-TRAILER'));
  }, 60_000);

  it("Debian's AWS CLI: s3api put-object with a checksum over TLS sends the trailer form; get-object checks it", async () => {
    writeFileSync(path.join(dir, 'cli.bin'), randomBytes(200_000));
    const env = { PATH: '/usr/bin:/bin', HOME: dir, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, AWS_ACCESS_KEY_ID: gw.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.secretAccessKey, AWS_DEFAULT_REGION: gw.region, AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
    const aws = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(AWS_CLI, ['--endpoint-url', url, '--ca-bundle', path.join(dir, 'cert.pem'), ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
      );
    const before = counter.requests.length;
    const put = await aws('s3api', 'put-object', '--bucket', 'backend-data', '--key', 'agent-out/cli-sum.bin', '--body', path.join(dir, 'cli.bin'), '--checksum-algorithm', 'SHA256', '--output', 'json');
    expect(put.stderr).toBe('');
    expect(counter.requests.slice(before).filter((q) => q.method === 'PUT').map((q) => q.payload)).toEqual(['STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
    const sum = createHash('sha256').update(readFileSync(path.join(dir, 'cli.bin'))).digest('base64');
    expect(JSON.parse(put.stdout).ChecksumSHA256).toBe(sum);
    const got = await aws('s3api', 'get-object', '--bucket', 'backend-data', '--key', 'agent-out/cli-sum.bin', '--checksum-mode', 'ENABLED', path.join(dir, 'cli-back.bin'), '--output', 'json');
    expect(got.stderr).toBe('');
    expect(JSON.parse(got.stdout).ChecksumSHA256).toBe(sum);
    expect(sha(readFileSync(path.join(dir, 'cli-back.bin')))).toBe(sha(readFileSync(path.join(dir, 'cli.bin'))));
  }, 60_000);
});
