import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startDev, type DevStack } from '../../src/dev/dev-server';
import { startRedis } from '../helpers/redis';
import { itWhen } from '../helpers/skip';

const sh = promisify(execFile);
// Debian's AWS CLI, as the README's user has it (never the one a version manager puts first on PATH); in CI
// (.ci/run installs it) the CLI lines always run.
const hasAwsCli = existsSync('/usr/bin/aws') || Boolean(process.env.CI);

/**
 * The README walkthrough, run as printed: `npm run dev`'s stack on free ports, the banner's curl executed by a
 * shell, and the credentials it returns used against the emulator's S3.
 */
describe('npm run dev walkthrough', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  let dev: DevStack;
  let stopped = false;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    // Someone else's key in the same Redis: the dev stack must neither read nor remove it.
    await client.set('someone-else:key', 'kept');
    dev = await startDev({ port: 0, awsPort: 0, issuerPort: 0, gatewayPort: 0, env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    if (!stopped) await dev?.stop();
    await client?.del('someone-else:key');
    await client?.quit();
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

  itWhen(hasAwsCli, 'no /usr/bin/aws (apt-get install awscli)')('the printed AWS CLI lines read the prefix and are refused elsewhere', async () => {
    const [token] = printed('export TOKEN=');
    const [evalLine0] = printed('eval ');
    const evalLine = `${token}\n${evalLine0}`;
    const [read, other, rm] = printed('aws ');
    // Asynchronously: the service answering the banner's curl runs in this process's event loop. PATH starts
    // with /usr/bin so `aws` is Debian's CLI 2.9, which ignores AWS_ENDPOINT_URL (the banner passes --endpoint-url).
    const run = (cmd: string) =>
      sh('sh', ['-c', `${evalLine}\n${cmd}`], { env: { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH}`, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } }).then(
        (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
    const r = await run(read!);
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    // What the README says these print: `s3 cp` asks HeadObject first, whose 403 has no body to name a code.
    const users = await run(other!);
    expect(users.status).not.toBe(0);
    expect(users.stderr).toContain('An error occurred (403) when calling the HeadObject operation: Forbidden');
    const removed = await run(rm!);
    expect(removed.status).not.toBe(0);
    expect(removed.stderr).toContain('An error occurred (AccessDenied) when calling the DeleteObject operation');
  });

  it('says which Redis it uses and how long its tokens last, as the README does', () => {
    expect(dev.redis).toMatchObject({ source: 'REDIS_URL', keyPrefix: expect.stringMatching(/^sv-dev-[0-9a-f]{8}:$/) });
    expect(dev.banner).toContain(`keys ${dev.redis.keyPrefix}*, deleted at exit`);
    expect(dev.banner).toContain('valid 10 minutes unless expiresInSeconds says otherwise');
    const [token] = printed('export TOKEN=');
    const claims = JSON.parse(Buffer.from(token!.split('=')[1]!.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(8 * 3600);
    expect(dev.banner).toContain('(the token below is valid 8 hours)');
  });

  it('the printed gateway walkthrough works with Debian\'s AWS CLI holding no AWS secret: write, list, read, a refused delete, the calls, and a cut-off', async () => {
    const [token] = printed('export TOKEN=');
    const evalGateway = printed('eval ').find((l) => l.includes('"delivery":"gateway"'))!;
    const lines = dev.banner.split('\n').map((l) => l.trim());
    const at = lines.indexOf(evalGateway);
    const steps = lines.slice(at + 1, lines.findIndex((l) => l.startsWith('Proxy mode'))).filter((l) => /^(aws|echo|curl) /.test(l));
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

  (hasAwsCli ? it : it.skip)('the printed proxy-mode walkthrough works with no endpoint URL: AWS host names through the gateway, a non-AWS host refused', async () => {
    const [token] = printed('export TOKEN=');
    const lines = dev.banner.split('\n').map((l) => l.trim());
    const at = lines.findIndex((l) => l.startsWith('Proxy mode'));
    const [evalProxy, ...steps] = lines.slice(at).filter((l) => /^(eval|aws|echo|curl) /.test(l));
    expect(evalProxy).toContain('gateway --proxy');
    expect(steps).toHaveLength(4);
    const script = [token, evalProxy, 'echo "endpoint=${AWS_ENDPOINT_URL:-none}"', ...steps.map((step, i) => `echo "== ${i}"; ${step} 2>&1; echo "== rc $?"`)].join('\n');
    const env = { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    const { stdout } = await sh('sh', ['-c', script], { env, cwd: path.resolve(__dirname, '../..') });
    expect(stdout.split('\n')[0]).toBe('endpoint=none');
    const parts = stdout.split(/^== \d+\n/m).slice(1).map((p) => p.trim());
    const rc = (p: string) => Number(/== rc (\d+)$/.exec(p)?.[1]);
    const [cp, ls, who, other] = parts as [string, string, string, string];
    expect(rc(cp)).toBe(0);
    expect(ls).toContain('proxied.txt');
    expect(who).toContain('assumed-role/agent-s3/alice@example.com');
    expect(rc(other)).not.toBe(0);
    expect(other).toMatch(/CONNECT tunnel failed, response 403/);
  }, 90_000);

  it('keeps its keys under a prefix of its own and deletes every one of them when it stops', async () => {
    const ours = async () => (await client.keys(`${dev.redis.keyPrefix}*`)).length;
    expect(await ours()).toBeGreaterThan(0); // the vends above wrote sessions
    // A revocation writes the kill-switch keys, some of which carry no TTL.
    const ops = await dev.issuers.corp.mint({ email: 'ops@example.com', groups: ['secops'] });
    const revoked = await fetch(`${dev.serviceUrl}/v1/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${ops}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ developer: 'alice@example.com', reason: 'e2e cleanup', block: { durationSeconds: 60 } }) });
    expect(revoked.status).toBe(200);
    const untimed = [];
    for (const k of await client.keys(`${dev.redis.keyPrefix}*`)) if ((await client.pttl(k)) === -1) untimed.push(k);
    expect(untimed.length).toBeGreaterThan(0);
    stopped = true;
    await dev.stop();
    expect(await ours()).toBe(0);
    expect(await client.get('someone-else:key')).toBe('kept');
  });
});
