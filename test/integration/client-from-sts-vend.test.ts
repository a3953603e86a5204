import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { fromStsVend } from '../../src';
import { listen } from '../helpers/cli';
import { startStack, type TestStack } from '../helpers/stack';

const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };

// The service and the provider share a clock the tests move, so refreshes happen without waiting.
let offsetMs = 0;
const now = (): Date => new Date(Date.now() + offsetMs);

let stack: TestStack;
let service: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  stack = await startStack({ now });
  service = await listen(stack.app);
});
afterAll(async () => {
  await service?.close();
  await stack?.stop();
});
beforeEach(() => {
  offsetMs = 0;
});

const s3With = (credentials: S3Client['config']['credentials']): S3Client =>
  new S3Client({ endpoint: stack.aws.aws.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { name?: string }) => e.name ?? 'error');
const operatorToken = (): Promise<string> => stack.token({ email: 'ops@example.com', groups: ['secops'] });

describe('fromStsVend', () => {
  it('gives an S3 client credentials that read within the template scope and are refused outside it', async () => {
    const before = stack.aws.aws.admin.sessions().length;
    const s3 = s3With(fromStsVend({ url: service.url, token: () => stack.token(), ...READ }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('reports/2026/q3.csv');
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q4.csv' }))).Body!.transformToString();
    expect(body.length).toBeGreaterThan(0);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })))).toBe('AccessDenied');
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'exports/' })))).toBe('AccessDenied');
    // One vend served all four calls.
    expect(stack.aws.aws.admin.sessions().length).toBe(before + 1);
  });

  it('serves one credential, checkpointing at most once a second, reports an expiry inside every SDK refresh window, and shares one request between concurrent callers', async () => {
    const provider = fromStsVend({ url: service.url, token: () => stack.token(), now, ...READ });
    const before = stack.aws.aws.admin.sessions().length;
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(b).toEqual(a);
    const ahead = a.expiration!.getTime() - now().getTime();
    // botocore treats a failed refresh as fatal within 10 minutes of expiry, the JS SDK refreshes within 5.
    expect(ahead).toBeLessThanOrEqual(60_000);
    expect(ahead).toBeGreaterThan(55_000);
    offsetMs += 1000;
    expect((await provider()).accessKeyId).toBe(a.accessKeyId);
    expect(stack.aws.aws.admin.sessions().length).toBe(before + 1);
  });

  it('refreshes the same session through the service when the credential nears expiry', async () => {
    const provider = fromStsVend({ url: service.url, token: () => stack.token(), now, sessionDurationSeconds: 3600, ...READ });
    const first = await provider();
    offsetMs = 11 * 60_000; // 4 minutes left on a 15-minute credential
    const second = await provider();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    const sessionOf = (key: string): string | undefined => stack.aws.aws.admin.session(key)?.tags['agent-session'];
    expect(sessionOf(second.accessKeyId)).toBe(sessionOf(first.accessKeyId));
    offsetMs = 0;
    expect(await outcome(s3With(async () => second).send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' })))).toBe('ok');
  });

  it('stops working once its session is revoked: the refresh is refused with the service code, and AWS denies the old credential', async () => {
    const provider = fromStsVend({ url: service.url, token: () => stack.token(), now, sessionDurationSeconds: 3600, ...READ });
    const s3 = s3With(provider);
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' })))).toBe('ok');
    const creds = await provider();
    const sessionId = stack.aws.aws.admin.session(creds.accessKeyId)!.tags['agent-session'];
    const revoked = await request(stack.app).post('/v1/revoke').set('Authorization', `Bearer ${await operatorToken()}`).send({ sessionId, reason: 'provider test' });
    expect(revoked.status).toBe(200);

    // The next call's refresh (a checkpoint, once the second it covered is over) is refused before AWS is asked.
    offsetMs += 1000;
    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }))).rejects.toMatchObject({ name: 'StsVendError', code: 'SessionRevoked' });
    await expect(provider()).rejects.toMatchObject({ name: 'StsVendError', status: 403, code: 'SessionRevoked' });
  });

  it('a refused vend rejects with the service code', async () => {
    const provider = fromStsVend({ url: service.url, token: () => stack.token(), template: 'no-such-template' });
    await expect(provider()).rejects.toMatchObject({ name: 'StsVendError', status: 404, code: 'unknown_template' });
  });
});
