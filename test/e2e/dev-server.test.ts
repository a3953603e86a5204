import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startDev, type DevStack } from '../../src/dev/dev-server';
import { startRedis } from '../helpers/redis';

const sh = promisify(execFile);
const hasAwsCli = !spawnSync('aws', ['--version']).error;

/**
 * The README walkthrough, run as printed: `npm run dev`'s stack on free ports, the banner's curl executed by a
 * shell, and the credentials it returns used against the emulator's S3.
 */
describe('npm run dev walkthrough', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let dev: DevStack;
  beforeAll(async () => {
    redis = await startRedis();
    dev = await startDev({ port: 0, awsPort: 0, issuerPort: 0, env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await dev?.stop();
    await redis?.stop();
  });

  const printed = (prefix: string): string[] =>
    dev.banner
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith(prefix));

  it('prints a curl that vends credentials which read the allowed prefix and nothing else', async () => {
    const [token] = printed('export TOKEN=');
    const [curl] = printed('curl ');
    expect(curl).toContain('/v1/vend');
    const { stdout } = await sh('sh', ['-c', `${token}\n${curl}`]);
    const body = JSON.parse(stdout) as { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };
    expect(body.credentials.accessKeyId).toMatch(/^ASIA/);

    const s3 = new S3Client({ endpoint: dev.aws.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: body.credentials.accessKeyId, secretAccessKey: body.credentials.secretAccessKey, sessionToken: body.credentials.sessionToken }, maxAttempts: 1 });
    const ok = await s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' }));
    expect(await ok.Body!.transformToString()).not.toHaveLength(0);
    const denied = (p: Promise<unknown>) => p.then(() => 'ok', (e: { name: string }) => e.name);
    expect(await denied(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })))).toBe('AccessDenied');
    expect(await denied(s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })))).toBe('AccessDenied');
  });

  (hasAwsCli ? it : it.skip)('the printed AWS CLI lines read the prefix and are refused elsewhere', async () => {
    const [token] = printed('export TOKEN=');
    const [evalLine0] = printed('eval ');
    const evalLine = `${token}\n${evalLine0}`;
    const [read, other, rm] = printed('aws ');
    // Asynchronously: the service answering the banner's curl runs in this process's event loop.
    const run = (cmd: string) =>
      sh('sh', ['-c', `${evalLine}\n${cmd}`], { env: { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } }).then(
        (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
    const r = await run(read!);
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    for (const cmd of [other!, rm!]) {
      const denied = await run(cmd);
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toMatch(/AccessDenied|Forbidden|403/);
    }
  });
});
