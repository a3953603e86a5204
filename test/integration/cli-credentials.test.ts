import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fromProcess } from '@aws-sdk/credential-providers';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { CHECKPOINT_SECONDS } from '../../src/client/reported-expiration';
import { CLI_ARGV, listen, runCli } from '../helpers/cli';
import { startStack, type TestStack } from '../helpers/stack';

// Each test runs the CLI as a process (node + tsx) a few times; slow on a busy machine, not stuck.
jest.setTimeout(60_000);

const READ = ['--template', 's3-read-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=reports/'];

let stack: TestStack;
let service: Awaited<ReturnType<typeof listen>>;
let dir: string;
let tokenFile: string;
beforeAll(async () => {
  stack = await startStack();
  service = await listen(stack.app);
  dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-cli-'));
  tokenFile = await writeToken('alice', await stack.token());
});
afterAll(async () => {
  await service?.close();
  await stack?.stop();
});

async function writeToken(name: string, token: string): Promise<string> {
  const file = path.join(dir, `${name}.token`);
  writeFileSync(file, token, { mode: 0o600 });
  return file;
}
const conn = (file = tokenFile): string[] => ['--url', service.url, '--token-file', file];
const env = (): NodeJS.ProcessEnv => ({ HOME: dir, XDG_CACHE_HOME: path.join(dir, 'xdg') });
const s3With = (credentials: S3Client['config']['credentials']): S3Client =>
  new S3Client({ endpoint: stack.aws.aws.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { name?: string }) => e.name ?? 'error');
const operator = async (): Promise<string> => `Bearer ${await stack.token({ email: 'ops@example.com', groups: ['secops'] })}`;

describe('sts-vend credentials', () => {
  it('--format process prints credential_process JSON for a live session, nothing on stderr', async () => {
    const res = await runCli(['credentials', ...READ, ...conn()], env());
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(res.stdout);
    expect(Object.keys(out)).toEqual(['Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration']);
    expect(out.Version).toBe(1);
    const session = stack.aws.aws.admin.session(out.AccessKeyId)!;
    expect(session.tags).toMatchObject({ developer: 'alice@example.com', template: 's3-read-prefix' });
    // Reported a minute ahead, so botocore's refresh before each call is mandatory (obeyed when refused).
    const expiration = Date.parse(out.Expiration);
    expect(expiration).toBeLessThanOrEqual(Math.min(session.expiresAt.getTime(), Date.now() + CHECKPOINT_SECONDS * 1000));
    expect(expiration).toBeGreaterThan(Date.now() + CHECKPOINT_SECONDS * 1000 - 10_000);
  });

  it('--format env prints export lines and --format json the service answer', async () => {
    const envOut = await runCli(['credentials', ...READ, ...conn(), '--format', 'env'], env());
    expect(envOut.code).toBe(0);
    expect(envOut.stdout).toMatch(/^export AWS_ACCESS_KEY_ID=ASIA\w+\nexport AWS_SECRET_ACCESS_KEY=.+\nexport AWS_SESSION_TOKEN=.+\nexport AWS_CREDENTIAL_EXPIRATION=\S+\n$/);
    const json = await runCli(['credentials', ...READ, ...conn(), '--format', 'json'], env());
    expect(JSON.parse(json.stdout)).toMatchObject({ template: 's3-read-prefix', sessionId: expect.any(String), credentials: { accessKeyId: expect.stringMatching(/^ASIA/) } });
  });

  it('a refusal prints `sts-vend: <code>: <message>`, exits 1, and never prints the token', async () => {
    const unknown = await runCli(['credentials', '--template', 'no-such-template', ...conn()], env());
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^sts-vend: unknown_template: .+ \(request [\w.-]+\)\n$/);

    const bad = `${await stack.token()}x`;
    const refused = await runCli(['credentials', ...READ, '--url', service.url, '--no-cache'], { ...env(), STS_VEND_TOKEN: bad });
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^sts-vend: [a-z_]+: /);
    expect(refused.stderr).not.toContain(bad);
  });

  it('the real fromProcess provider runs it from an AWS config profile and the credentials keep to the template', async () => {
    const config = path.join(dir, 'aws-config');
    writeFileSync(config, `[profile agent]\ncredential_process = ${[...CLI_ARGV, 'credentials', ...READ, ...conn()].join(' ')}\n`);
    const saved = { config: process.env.AWS_CONFIG_FILE, creds: process.env.AWS_SHARED_CREDENTIALS_FILE };
    process.env.AWS_CONFIG_FILE = config;
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'no-credentials-file');
    try {
      const s3 = s3With(fromProcess({ profile: 'agent' }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['reports/2026/q3.csv', 'reports/2026/q4.csv']);
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'reports/2026/q3.csv' })))).toBe('ok');
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: 'backend-data', Key: 'exports/users.csv' })))).toBe('AccessDenied');
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'exports/' })))).toBe('AccessDenied');
    } finally {
      restore('AWS_CONFIG_FILE', saved.config);
      restore('AWS_SHARED_CREDENTIALS_FILE', saved.creds);
    }
  });
});

describe('the private cache, on by default', () => {
  const cacheDir = (): string => path.join(dir, 'cache');
  const cached = (...extra: string[]): Promise<Awaited<ReturnType<typeof runCli>>> =>
    runCli(['credentials', ...READ, ...conn(), '--cache-dir', cacheDir(), ...extra], env());

  it('vends once, then reuses the private cached credential after a checkpoint: one AssumeRole for many runs', async () => {
    const before = stack.aws.aws.admin.sessions().length;
    const first = await cached();
    expect(first).toMatchObject({ code: 0, stderr: '' });
    for (let i = 0; i < 3; i++) expect(JSON.parse((await cached()).stdout).AccessKeyId).toBe(JSON.parse(first.stdout).AccessKeyId);
    expect(stack.aws.aws.admin.sessions().length).toBe(before + 1);
    expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
    const files = readdirSync(cacheDir());
    expect(files).toHaveLength(1);
    expect(statSync(path.join(cacheDir(), files[0]!)).mode & 0o777).toBe(0o600);
  });

  it('keeps two parameter sets apart, and --no-cache vends every time', async () => {
    const a = JSON.parse((await cached()).stdout).AccessKeyId;
    const other = await runCli(['credentials', '--template', 's3-read-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=reports/2026/', ...conn(), '--cache-dir', cacheDir()], env());
    expect(JSON.parse(other.stdout).AccessKeyId).not.toBe(a);
    const before = stack.aws.aws.admin.sessions().length;
    await cached('--no-cache').then((r) => expect(r.code).toBe(2)); // --cache-dir and --no-cache contradict
    const once = await runCli(['credentials', ...READ, ...conn(), '--no-cache'], env());
    const twice = await runCli(['credentials', ...READ, ...conn(), '--no-cache'], env());
    expect(JSON.parse(once.stdout).AccessKeyId).not.toBe(JSON.parse(twice.stdout).AccessKeyId);
    expect(stack.aws.aws.admin.sessions().length).toBe(before + 2);
  });

  it('checks with the service on every run: a revoked session fails with its code, is forgotten, and the next run vends anew', async () => {
    const first = JSON.parse((await cached()).stdout);
    const sessionId = stack.aws.aws.admin.session(first.AccessKeyId)!.tags['agent-session'];
    expect((await cached()).stdout).toContain(first.AccessKeyId);

    const revoked = await request(stack.app).post('/v1/revoke').set('Authorization', await operator()).send({ sessionId, reason: 'cli cache test' });
    expect(revoked.status).toBe(200);
    const refused = await cached();
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^sts-vend: SessionRevoked: /);
    expect(readdirSync(cacheDir()).map((f) => readFileSync(path.join(cacheDir(), f), 'utf8')).join('')).not.toContain(first.AccessKeyId);

    const again = await cached();
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).AccessKeyId).not.toBe(first.AccessKeyId);
  });
});

describe('after an operator revocation', () => {
  it('the next credential_process run fails with the service code', async () => {
    const bobFile = await writeToken('bob', await stack.token({ email: 'bob@example.com' }));
    const config = path.join(dir, 'aws-config-bob');
    writeFileSync(config, `[profile bob]\ncredential_process = ${[...CLI_ARGV, 'credentials', ...READ, ...conn(bobFile)].join(' ')}\n`);
    const provider = (): ReturnType<ReturnType<typeof fromProcess>> => fromProcess({ profile: 'bob', configFilepath: config, filepath: path.join(dir, 'none'), ignoreCache: true })();
    expect((await provider()).accessKeyId).toMatch(/^ASIA/);

    const revoke = await runCli(['revoke', '--developer', 'bob@example.com', '--reason', 'cli test', '--block', '600', '--url', service.url], {
      ...env(),
      STS_VEND_TOKEN: await stack.token({ email: 'ops@example.com', groups: ['secops'] }),
    });
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toMatch(/^revocation r\w{12}: developer bob@example.com, 1 session\(s\) revoked\n/);
    expect(revoke.stdout).toMatch(/new vends blocked until /);

    // The cached session is refused first; with it forgotten, the next run's vend meets the block.
    const revokedErr = await provider().then(() => undefined, (e: Error) => e);
    expect(revokedErr?.message).toMatch(/sts-vend: SessionRevoked: /);
    const err = await provider().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/sts-vend: blocked: /);
  });
});

describe('operator commands', () => {
  it('sessions lists as a table or JSON and refuses a non-operator', async () => {
    const token = await stack.token({ email: 'ops@example.com', groups: ['secops'] });
    const table = await runCli(['sessions', '--developer', 'alice@example.com', '--state', 'live', '--url', service.url], { ...env(), STS_VEND_TOKEN: token });
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +STATE +DEVELOPER/);
    expect(table.stdout).toContain('alice@example.com');
    const json = await runCli(['sessions', '--developer', 'alice@example.com', '--json', '--all', '--limit', '1', '--url', service.url], { ...env(), STS_VEND_TOKEN: token });
    const sessions = JSON.parse(json.stdout).sessions as Array<{ developer: string; state: string }>;
    expect(sessions.length).toBeGreaterThan(1);
    expect(new Set(sessions.map((s) => s.developer))).toEqual(new Set(['alice@example.com']));

    const refused = await runCli(['sessions', ...conn()], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sts-vend: operator_only: /);
  });

  it('end-session lets the owner end a session', async () => {
    const vended = JSON.parse((await runCli(['credentials', ...READ, ...conn(), '--format', 'json'], env())).stdout);
    const res = await runCli(['end-session', vended.sessionId, ...conn()], env());
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`session ${vended.sessionId}, 1 session(s) revoked`);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
