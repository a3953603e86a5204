/**
 * The emulator's S3 through the real @aws-sdk/client-s3 over HTTP: listings, object round trips, the SDK's
 * checksum and aws-chunked uploads, virtual-host addressing, and S3's error answers.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { chunkedBody, crc32Base64 } from '../helpers/aws-chunked';
import { startTestAws, type TestAws } from '../helpers/local-aws';
import { errorCodeOf, rawCall } from '../helpers/raw-sigv4';

let env: TestAws;
let s3: S3Client;

// The service's own long-term keys: IAM users may do everything in the emulator, so these tests see S3
// itself; local-aws-s3-authz.test.ts covers what sessions may do.
beforeAll(async () => {
  env = await startTestAws();
  s3 = new S3Client({ ...env.clientConfig, forcePathStyle: true, maxAttempts: 1 });
});

afterAll(async () => {
  s3.destroy();
  await env.aws.stop();
});

/** The S3 error the SDK surfaced: name (S3 Code), HTTP status and request id. */
async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number; requestId?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) {
      return { name: err.name, status: err.$metadata.httpStatusCode, requestId: err.$metadata.requestId, message: err.message };
    }
    throw err;
  }
  throw new Error('expected an S3 error');
}

describe('buckets', () => {
  it('lists the seeded buckets and creates new ones', async () => {
    const before = await s3.send(new ListBucketsCommand({}));
    expect(before.Buckets?.map((b) => b.Name)).toEqual(['backend-data', 'deploy-artifacts']);
    expect(before.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);

    await s3.send(new CreateBucketCommand({ Bucket: 'scratch-space' }));
    const after = await s3.send(new ListBucketsCommand({}));
    expect(after.Buckets?.map((b) => b.Name)).toEqual(['backend-data', 'deploy-artifacts', 'scratch-space']);
    expect(after.Buckets?.[2]?.CreationDate).toBeInstanceOf(Date);
  });

  it('answers BucketAlreadyOwnedByYou and InvalidBucketName with S3 status codes', async () => {
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'backend-data' })))).toMatchObject({ name: 'BucketAlreadyOwnedByYou', status: 409 });
    const invalid = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'ab' })));
    expect(invalid).toMatchObject({ name: 'InvalidBucketName', status: 400 });
    expect(invalid.requestId).toEqual(expect.any(String));
  });
});

describe('ListObjectsV2', () => {
  it('rolls keys up into CommonPrefixes with a delimiter and filters by prefix', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['backups/', 'exports/', 'reports/']);
    expect(top.Contents).toBeUndefined();
    expect(top.KeyCount).toBe(3);

    const reports = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/2026/' }));
    expect(reports.Contents?.map((o) => [o.Key, o.Size, o.ETag])).toEqual([
      ['reports/2026/q3.csv', 29, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
      ['reports/2026/q4.csv', 29, expect.stringMatching(/^"[0-9a-f]{32}"$/)],
    ]);
    expect(reports.IsTruncated).toBe(false);
  });

  it('pages with max-keys and continuation tokens, counting a common prefix once', async () => {
    const bucket = 'paging-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = ['a/1', 'a/2', 'a/3', 'b', 'c/1', 'd'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));

    const pages: Array<{ keys: string[]; prefixes: string[] }> = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: bucket, Delimiter: '/' })) {
      pages.push({ keys: (page.Contents ?? []).map((o) => o.Key ?? ''), prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '') });
    }
    expect(pages).toEqual([
      { keys: ['b'], prefixes: ['a/'] },
      { keys: ['d'], prefixes: ['c/'] },
    ]);

    const first = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 4 }));
    expect(first.Contents?.map((o) => o.Key)).toEqual(['a/1', 'a/2', 'a/3', 'b']);
    expect(first).toMatchObject({ IsTruncated: true, KeyCount: 4, MaxKeys: 4 });
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: first.NextContinuationToken }));
    expect(rest.Contents?.map((o) => o.Key)).toEqual(['c/1', 'd']);
    expect(rest).toMatchObject({ IsTruncated: false, ContinuationToken: first.NextContinuationToken });
    expect(rest.NextContinuationToken).toBeUndefined();

    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'a/3' }));
    expect(after.Contents?.map((o) => o.Key)).toEqual(['b', 'c/1', 'd']);
  });

  it('pages V1 listings with NextMarker, resuming after a common prefix', async () => {
    const seen: Array<string | undefined> = [];
    let marker: string | undefined;
    do {
      const page = await s3.send(new ListObjectsCommand({ Bucket: 'paging-bucket', Delimiter: '/', MaxKeys: 1, Marker: marker }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
    expect(seen).toEqual(['a/', 'b', 'c/', 'd']);
  });

  it('url-encodes keys when asked and rejects a forged continuation token', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'odd keys/a b+c.txt', Body: 'x' }));
    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'odd keys/', EncodingType: 'url' }));
    expect(encoded.Contents?.map((o) => o.Key)).toEqual(['odd%20keys/a%20b%2Bc.txt']);
    expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', ContinuationToken: 'not-a-token' })))).toMatchObject({
      name: 'InvalidArgument',
      status: 400,
    });
  });
});

describe('objects', () => {
  it('round-trips binary data with type, metadata, ETag and Last-Modified', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4096)]);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'bin/blob.bin', Body: data, ContentType: 'application/x-test', Metadata: { origin: 'unit' } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'bin/blob.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got).toMatchObject({ ContentType: 'application/x-test', ContentLength: data.length, ETag: put.ETag, Metadata: { origin: 'unit' } });
    expect(got.LastModified).toBeInstanceOf(Date);
  });

  it('decodes aws-chunked streaming uploads with a CRC32 trailer', async () => {
    const data = randomBytes(70_000);
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'bin/streamed.bin', Body: Readable.from([data.subarray(0, 30_000), data.subarray(30_000)]), ContentLength: data.length }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'bin/streamed.bin', ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });

  it.each(['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('verifies, stores and returns a %s trailer (streamed) and header (buffered)', async (algorithm) => {
    const data = randomBytes(40_000);
    const field = `Checksum${algorithm}` as const;
    const streamed = await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: `sums/${algorithm}.bin`, Body: Readable.from([data]), ContentLength: data.length, ChecksumAlgorithm: algorithm }));
    const buffered = await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: `sums/${algorithm}-buffered.bin`, Body: data, ChecksumAlgorithm: algorithm }));
    expect(buffered[field]).toBe(streamed[field]);
    // The SDK validates what GET returns against the bytes it read; HEAD returns the stored value too.
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: `sums/${algorithm}.bin`, ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got[field]).toBe(streamed[field]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'backend-data', Key: `sums/${algorithm}.bin`, ChecksumMode: 'ENABLED' })))[field]).toBe(streamed[field]);
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'x.bin', Body: data, [field]: buffered[field]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })))).toMatchObject({ name: 'BadDigest', status: 400 });
  });

  it('verifies the chunk signatures of a signed aws-chunked upload, chained from the request signature', async () => {
    const chunks = [randomBytes(9000), randomBytes(9000), randomBytes(10)];
    const put = (tamper: boolean) =>
      rawCall({
        base: env.aws.url,
        method: 'PUT',
        path: '/backend-data/bin/signed-chunks.bin',
        service: 's3',
        ...env.clientConfig.credentials,
        headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '18010', 'x-amz-trailer': 'x-amz-checksum-crc32' },
        bodyFor: ({ seed, amzDate, scope }) => {
          const body = chunkedBody({ form: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', chunks, trailers: [['x-amz-checksum-crc32', crc32Base64(Buffer.concat(chunks))]], chain: { secret: env.clientConfig.credentials.secretAccessKey, seed, amzDate, scope } });
          if (tamper) body.writeUInt8(body.readUInt8(9100) ^ 1, 9100);
          return body;
        },
      });
    expect((await put(false)).status).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'bin/signed-chunks.bin', ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(chunks))).toBe(true);
    const bad = await put(true);
    expect([bad.status, errorCodeOf(bad)]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('serves byte ranges and HEAD without a body', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'text/abc.txt', Body: 'abcdefghij' }));
    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'text/abc.txt', Range: 'bytes=2-4' }));
    expect(await ranged.Body!.transformToString()).toBe('cde');
    expect(ranged.ContentRange).toBe('bytes 2-4/10');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'text/abc.txt', Range: 'bytes=-3' }));
    expect(await suffix.Body!.transformToString()).toBe('hij');
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'text/abc.txt', Range: 'bytes=20-' })))).toMatchObject({ name: 'InvalidRange', status: 416 });

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'backend-data', Key: 'text/abc.txt' }));
    expect(head).toMatchObject({ ContentLength: 10, ContentType: 'application/octet-stream', AcceptRanges: 'bytes' });
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'backend-data', Key: 'text/missing.txt' })))).toMatchObject({ name: 'NotFound', status: 404 });
  });

  it('deletes with 204 (also for a missing key) and then answers NoSuchKey', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'tmp/gone.txt', Body: 'bye' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'tmp/gone.txt' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'tmp/gone.txt' }))).$metadata.httpStatusCode).toBe(204);
    const err = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'tmp/gone.txt' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    // The XML error body's elements, as the SDK exposes them.
    expect(err).toMatchObject({ name: 'NoSuchKey', Key: 'tmp/gone.txt', Resource: '/backend-data/tmp/gone.txt', $metadata: { httpStatusCode: 404 } });
  });

  it('answers NoSuchBucket and rejects a body that does not match its checksum', async () => {
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    const bad = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'x.txt', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })));
    expect(bad).toMatchObject({ name: 'BadDigest', status: 400 });
  });
});

describe('virtual-host style', () => {
  it('takes the bucket from <bucket>.localhost', async () => {
    // *.localhost does not resolve everywhere: answer loopback for every name, and record which names the SDK used.
    const looked: string[] = [];
    const lookup = ((host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      looked.push(host);
      return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
    }) as unknown as http.AgentOptions['lookup'];
    const vhost = new S3Client({
      ...env.clientConfig,
      endpoint: `http://localhost:${env.aws.port}`,
      forcePathStyle: false,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }),
    });
    try {
      const list = await vhost.send(new ListObjectsV2Command({ Bucket: 'deploy-artifacts' }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(['builds/app-1.0.0.zip']);
      const got = await vhost.send(new GetObjectCommand({ Bucket: 'deploy-artifacts', Key: 'builds/app-1.0.0.zip' }));
      expect(await got.Body!.transformToString()).toBe('PK (example build artifact)');
      expect(new Set(looked)).toEqual(new Set(['deploy-artifacts.localhost']));
    } finally {
      vhost.destroy();
    }
  });
});
