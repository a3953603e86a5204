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
    dev = await startDev({ port: 0, awsPort: 0, issuerPort: 0, gatewayPort: 0, env: { REDIS_URL: redis.url } });
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

  it('the printed gateway walkthrough works with Debian\'s AWS CLI holding no AWS secret: write, list, read, a refused delete, the calls, and a cut-off', async () => {
    const [token] = printed('export TOKEN=');
    const evalGateway = printed('eval ').find((l) => l.includes('"delivery":"gateway"'))!;
    const lines = dev.banner.split('\n').map((l) => l.trim());
    const at = lines.indexOf(evalGateway);
    const steps = lines.slice(at + 1).filter((l) => /^(aws|echo|curl) /.test(l));
    expect(steps).toHaveLength(7);
    // One shell, as a person pasting the lines would run them; each step's output is marked.
    const script = [token, evalGateway, 'env | grep -c "^AWS_SESSION_TOKEN=" || true', ...steps.map((step, i) => `echo "== ${i}"; ${step} 2>&1; echo "== rc $?"`)].join('\n');
    const env = { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_SESSION_TOKEN: 'a-parent-token' };
    const { stdout } = await sh('sh', ['-c', script], { env });
    const parts = stdout.split(/^== \d+\n/m).slice(1).map((p) => p.trim());
    const rc = (p: string) => Number(/== rc (\d+)$/.exec(p)?.[1]);
    expect(stdout.split('\n')[0]).toBe('0');
    const [cp, ls, cat, rm, calls, end, after] = parts as [string, string, string, string, string, string, string];
    expect(rc(cp)).toBe(0);
    expect(ls).toContain('hello.txt');
    expect(cat).toContain('hello');
    expect(rc(rm)).not.toBe(0);
    expect(rm).toContain('AccessDenied');
    expect(calls).toContain('"operation":"s3:DeleteObject"');
    expect(calls).toContain('"operation":"s3:PutObject"');
    expect(rc(end)).toBe(0);
    expect(rc(after)).not.toBe(0);
    expect(after).toContain('AccessDenied');
  }, 60_000);
});
