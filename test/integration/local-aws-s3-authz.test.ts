/**
 * What S3 lets session credentials do: the role's inline policy intersected with the session policy, the
 * s3:prefix condition on ListBucket, and S3's 403-instead-of-404 for missing keys the caller may not list.
 * Credentials come from AssumeRole on the emulator; every call goes through @aws-sdk/client-s3 over HTTP.
 */
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';

/** A task scope: read backend-data/reports/* and list only under reports/. */
const REPORTS_READER = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/reports/*' },
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::backend-data', Condition: { StringLike: { 's3:prefix': 'reports/*' } } },
  ],
};
const GET_ONLY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/reports/*' }],
};

let env: TestAws;
let admin: S3Client;
const clients: S3Client[] = [];

beforeAll(async () => {
  env = await startTestAws();
  admin = new S3Client({ ...env.clientConfig, forcePathStyle: true, maxAttempts: 1 });
});

afterAll(async () => {
  for (const c of [admin, ...clients]) c.destroy();
  await env.aws.stop();
});

/** An S3 client on fresh agent-s3 session credentials, narrowed by `policy` when given. */
async function sessionS3(policy?: object): Promise<S3Client> {
  const sts = stsClient(env);
  try {
    const out = await sts.send(new AssumeRoleCommand(validAssumeRole(policy ? { Policy: JSON.stringify(policy) } : {})));
    const client = new S3Client({ ...env.clientConfig, credentials: sessionKeys(out.Credentials), forcePathStyle: true, maxAttempts: 1 });
    clients.push(client);
    return client;
  } finally {
    sts.destroy();
  }
}

async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof S3ServiceException)) throw new Error(`expected an S3 error, got ${String(err)}`);
  return { name: err.name, status: err.$metadata.httpStatusCode, message: err.message };
}

const read = async (client: S3Client, key: string): Promise<string> =>
  (await (await client.send(new GetObjectCommand({ Bucket: 'backend-data', Key: key }))).Body?.transformToString()) ?? '';

describe('a session scoped to s3:GetObject on backend-data/reports/*', () => {
  let s3: S3Client;
  beforeAll(async () => {
    s3 = await sessionS3(REPORTS_READER);
  });

  it('reads under the prefix', async () => {
    expect(await read(s3, 'reports/2026/q3.csv')).toBe('quarter,revenue\n2026-Q3,1200\n');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q4.csv' }));
    expect(head.ContentLength).toBe(29);
  });

  it('gets AccessDenied outside the prefix, naming the principal and action', async () => {
    const denied = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toMatch(/assumed-role\/agent-s3\/alice\.s1 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::backend-data\/exports\/users.csv"/);
    // HEAD is authorized as s3:GetObject; its errors have no body, so the SDK names them by status.
    expect(await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })))).toMatchObject({ status: 403 });
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'deploy-artifacts', Key: 'builds/app-1.0.0.zip' })))).toMatchObject({ name: 'AccessDenied' });
  });

  it('cannot delete or write, even under the prefix, and the object survives', async () => {
    expect(await s3Error(s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'reports/new.csv', Body: 'x' })))).toMatchObject({ name: 'AccessDenied' });
    expect(await read(admin, 'reports/2026/q3.csv')).toContain('2026-Q3');
  });

  it('lists only with an s3:prefix the condition allows', async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/', Delimiter: '/' }));
    expect(listed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['reports/2026/']);
    for (const input of [{ Prefix: 'exports/' }, {}, { Prefix: 'report' }]) {
      expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', ...input })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    }
  });

  it('may not list buckets or create one', async () => {
    expect(await s3Error(s3.send(new ListBucketsCommand({})))).toMatchObject({ name: 'AccessDenied' });
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'agent-made-bucket' })))).toMatchObject({ name: 'AccessDenied' });
  });
});

describe('a missing key', () => {
  it('is 403 AccessDenied to a caller without s3:ListBucket and 404 NoSuchKey to one with it', async () => {
    const getOnly = await sessionS3(GET_ONLY);
    const missing = { Bucket: 'backend-data', Key: 'reports/2026/q1.csv' };
    expect(await s3Error(getOnly.send(new GetObjectCommand(missing)))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(getOnly.send(new HeadObjectCommand(missing)))).toMatchObject({ status: 403 });

    // The role's own policy allows s3:ListBucket on the bucket, so an unnarrowed session learns the key is absent.
    const roleWide = await sessionS3();
    expect(await s3Error(roleWide.send(new GetObjectCommand(missing)))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await s3Error(roleWide.send(new HeadObjectCommand(missing)))).toMatchObject({ name: 'NotFound', status: 404 });
  });
});

describe('the role ceiling', () => {
  it('lets an unnarrowed session write and delete in backend-data but not in other buckets', async () => {
    const s3 = await sessionS3();
    await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'scratch/agent.txt', Body: 'agent wrote this' }));
    expect(await read(admin, 'scratch/agent.txt')).toBe('agent wrote this');
    await s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'scratch/agent.txt' }));
    expect(await s3Error(admin.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'scratch/agent.txt' })))).toMatchObject({ name: 'NoSuchKey' });
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: 'deploy-artifacts', Key: 'builds/evil.zip', Body: 'x' })))).toMatchObject({ name: 'AccessDenied' });
  });
});
