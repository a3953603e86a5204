/**
 * SigV4 verification in front of S3 (the emulator's, not the S3 handler's): S3's own error codes for bad
 * credentials, the x-amz-content-sha256 payload hash (a digest that must match, or UNSIGNED-PAYLOAD), and
 * ExpiredToken for an expired session, all through the real S3Client.
 */
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';

const T0 = new Date('2026-03-01T10:00:00Z');
let clock = T0;
let env: TestAws;
beforeAll(async () => {
  env = await startTestAws({ now: () => clock });
});
afterAll(() => env.aws.stop());

type Keys = TestAws['clientConfig']['credentials'];
const s3 = (credentials: Keys = env.clientConfig.credentials) => new S3Client({ ...env.clientConfig, credentials, forcePathStyle: true, maxAttempts: 1 });
const list = (client: S3Client) => client.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));

/** Sets x-amz-content-sha256 before signing, so the signature covers the value the test chose. */
function withPayloadHash(client: S3Client, value: string): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers['x-amz-content-sha256'] = value;
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'setPayloadHash' },
  );
  return client;
}

it('accepts the service keys and refuses a wrong secret or an unknown key with S3 codes', async () => {
  await expect(list(s3())).resolves.toMatchObject({ KeyCount: 2 });
  await expect(list(s3({ ...env.clientConfig.credentials, secretAccessKey: 'wrong' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
  await expect(list(s3({ accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: 'x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
});

it('accepts UNSIGNED-PAYLOAD and refuses a digest that does not match the body', async () => {
  await expect(withPayloadHash(s3(), 'UNSIGNED-PAYLOAD').send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'tmp/unsigned.txt', Body: 'hello' }))).resolves.toBeDefined();
  const wrongDigest = 'a'.repeat(64);
  await expect(withPayloadHash(s3(), wrongDigest).send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'tmp/mismatch.txt', Body: 'hello' }))).rejects.toMatchObject({
    name: 'XAmzContentSHA256Mismatch',
    $metadata: { httpStatusCode: 400 },
  });
});

it('refuses a wrong session token (InvalidToken) and an expired session (ExpiredToken)', async () => {
  clock = T0;
  const keys = sessionKeys((await stsClient(env).send(new AssumeRoleCommand(validAssumeRole({ DurationSeconds: 900 })))).Credentials);
  await expect(list(s3(keys))).resolves.toMatchObject({ KeyCount: 2 });
  await expect(list(s3({ ...keys, sessionToken: 'forged' }))).rejects.toMatchObject({ name: 'InvalidToken', $metadata: { httpStatusCode: 400 } });
  clock = new Date(T0.getTime() + 900_000);
  await expect(list(s3(keys))).rejects.toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } });
});
