/**
 * The emulator's S3 for what `aws s3` does with more than one small object: multipart uploads (the AWS CLI
 * switches at 8 MB), CopyObject and DeleteObjects, driven by Debian's AWS CLI and by the JS SDK v3, with the
 * session's IAM deciding each step as S3 would.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';
import { AWS_CLI, describeWithRealClients } from '../helpers/real-clients';

let aws: TestAws;
let keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-s3-bulk-'));

beforeAll(async () => {
  aws = await startTestAws();
  const sts = stsClient(aws);
  keys = sessionKeys((await sts.send(new AssumeRoleCommand(validAssumeRole()))).Credentials);
  sts.destroy();
});
afterAll(async () => {
  await aws?.aws.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const s3 = (k = keys): S3Client => new S3Client({ endpoint: aws.aws.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: k as { accessKeyId: string; secretAccessKey: string } });

describeWithRealClients("Debian's AWS CLI: aws s3 cp of a large file, sync, cp between keys, rm --recursive", () => {
  const cli = async (...args: string[]): Promise<string> => {
    const env = { PATH: '/usr/bin:/bin', HOME: dir, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_SESSION_TOKEN: keys.sessionToken ?? '', AWS_DEFAULT_REGION: 'us-east-1' };
    const { stdout } = await promisify(execFile)(AWS_CLI, ['--endpoint-url', aws.aws.url, ...args], { env, maxBuffer: 64 << 20, timeout: 120_000 });
    return stdout;
  };

  it('uploads 20 MB in parts and downloads it intact, with a multipart ETag', async () => {
    const data = randomBytes(20 * 1024 * 1024);
    writeFileSync(path.join(dir, 'big.bin'), data);
    await cli('s3', 'cp', path.join(dir, 'big.bin'), 's3://backend-data/bulk/big.bin');
    const head = JSON.parse(await cli('s3api', 'head-object', '--bucket', 'backend-data', '--key', 'bulk/big.bin')) as { ETag: string; ContentLength: number };
    // 8 MB parts: three of them, and S3's "<md5 of md5s>-3" ETag.
    expect(head).toMatchObject({ ContentLength: data.length, ETag: expect.stringMatching(/^"[0-9a-f]{32}-3"$/) });
    await cli('s3', 'cp', 's3://backend-data/bulk/big.bin', path.join(dir, 'back.bin'));
    expect(sha(readFileSync(path.join(dir, 'back.bin')))).toBe(sha(data));
  }, 120_000);

  it('syncs a small tree, copies between keys, and removes the tree recursively', async () => {
    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'sub'), { recursive: true });
    for (const [name, text] of [['a.txt', 'a'], ['b.txt', 'bb'], ['sub/c.txt', 'ccc']]) writeFileSync(path.join(tree, name!), text!);
    await cli('s3', 'sync', tree, 's3://backend-data/tree/');
    const listed = (await cli('s3', 'ls', '--recursive', 's3://backend-data/tree/')).trim().split('\n').map((l) => l.split(/\s+/).pop()).sort();
    expect(listed).toEqual(['tree/a.txt', 'tree/b.txt', 'tree/sub/c.txt']);
    // A second sync has nothing to do.
    expect((await cli('s3', 'sync', tree, 's3://backend-data/tree/')).trim()).toBe('');

    await cli('s3', 'cp', 's3://backend-data/tree/b.txt', 's3://backend-data/copies/b.txt');
    expect(await cli('s3', 'cp', 's3://backend-data/copies/b.txt', '-')).toBe('bb');

    await cli('s3', 'rm', '--recursive', 's3://backend-data/tree/');
    expect((await cli('s3', 'ls', '--recursive', 's3://backend-data/tree/').catch(() => '')).trim()).toBe('');
    expect(await cli('s3', 'cp', 's3://backend-data/copies/b.txt', '-')).toBe('bb');
  }, 120_000);
});

describe('the JS SDK: multipart steps, DeleteObjects under a narrower session', () => {
  it('completes an upload from its parts; refuses a too-small part, a wrong ETag, a finished upload, and what IAM does not allow', async () => {
    const client = s3();
    const Key = 'bulk/sdk.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'backend-data', Key, ContentType: 'application/x-test' }));
    const first = randomBytes(5 * 1024 * 1024);
    const last = randomBytes(1000);
    const p1 = await client.send(new UploadPartCommand({ Bucket: 'backend-data', Key, UploadId, PartNumber: 1, Body: first }));
    const p2 = await client.send(new UploadPartCommand({ Bucket: 'backend-data', Key, UploadId, PartNumber: 2, Body: last }));
    // IAM decides each step as S3 asks it: this role may put objects, not list parts or abort.
    await expect(client.send(new ListPartsCommand({ Bucket: 'backend-data', Key, UploadId }))).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('s3:ListMultipartUploadParts') });

    await expect(client.send(new CompleteMultipartUploadCommand({ Bucket: 'backend-data', Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } }))).rejects.toMatchObject({ name: 'InvalidPart' });
    await client.send(new CompleteMultipartUploadCommand({ Bucket: 'backend-data', Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'backend-data', Key }));
    expect(got.ContentType).toBe('application/x-test');
    expect(sha(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha(Buffer.concat([first, last])));

    const small = await client.send(new CreateMultipartUploadCommand({ Bucket: 'backend-data', Key: 'bulk/small.bin' }));
    const s1 = await client.send(new UploadPartCommand({ Bucket: 'backend-data', Key: 'bulk/small.bin', UploadId: small.UploadId, PartNumber: 1, Body: 'tiny' }));
    const s2 = await client.send(new UploadPartCommand({ Bucket: 'backend-data', Key: 'bulk/small.bin', UploadId: small.UploadId, PartNumber: 2, Body: 'tail' }));
    await expect(client.send(new CompleteMultipartUploadCommand({ Bucket: 'backend-data', Key: 'bulk/small.bin', UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }] } }))).rejects.toMatchObject({ name: 'EntityTooSmall' });
    await expect(client.send(new AbortMultipartUploadCommand({ Bucket: 'backend-data', Key: 'bulk/small.bin', UploadId: small.UploadId }))).rejects.toMatchObject({ name: 'AccessDenied' });
    // A completed upload is gone: another part for it is NoSuchUpload, as is an id that never existed.
    await expect(client.send(new UploadPartCommand({ Bucket: 'backend-data', Key, UploadId, PartNumber: 3, Body: 'late' }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    await expect(client.send(new UploadPartCommand({ Bucket: 'backend-data', Key, UploadId: 'no-such-upload', PartNumber: 1, Body: 'x' }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    client.destroy();
  });

  it('deletes the keys the session may delete and reports each refused one', async () => {
    const writer = s3();
    for (const Key of ['del/keep-1', 'del/drop-1', 'del/drop-2']) await writer.send(new PutObjectCommand({ Bucket: 'backend-data', Key, Body: 'x' }));
    writer.destroy();
    // A session whose policy allows deleting del/drop-* only.
    const sts = stsClient(aws);
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::backend-data/del/drop-*' }] });
    const narrow = sessionKeys((await sts.send(new AssumeRoleCommand(validAssumeRole({ Policy: policy, RoleSessionName: 'alice.narrow' })))).Credentials);
    sts.destroy();
    const client = s3(narrow);
    const out = await client.send(new DeleteObjectsCommand({ Bucket: 'backend-data', Delete: { Objects: [{ Key: 'del/keep-1' }, { Key: 'del/drop-1' }, { Key: 'del/drop-2' }] } }));
    client.destroy();
    expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['del/drop-1', 'del/drop-2']);
    expect(out.Errors?.map((e) => [e.Key, e.Code])).toEqual([['del/keep-1', 'AccessDenied']]);
    const reader = s3();
    expect((await reader.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'del/keep-1' }))).ContentLength).toBe(1);
    await expect(reader.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'del/drop-1' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    reader.destroy();
  });
});
