import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { finished, listen, runCli, spawnCli, waitForOutput } from '../helpers/cli';
import { startStack, type TestStack } from '../helpers/stack';

// Each test runs the CLI as a process (node + tsx) a few times; slow on a busy machine, not stuck.
jest.setTimeout(60_000);

const READ = ['--template', 's3-read-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=reports/'];

/**
 * Run under `sts-vend exec`: a default-chain S3 client lists the allowed prefix and is refused another; the
 * script reports what its environment holds and what the loopback endpoint says to a wrong token, then exits 3.
 */
const LIST_SCRIPT = `
const { S3Client, ListObjectsV2Command } = require('@aws-sdk/client-s3');
(async () => {
  const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
  console.log('listed ' + listed.Contents.map((o) => o.Key).join(','));
  const other = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'exports/' })).then(() => 'ok', (e) => e.name);
  console.log('exports ' + other);
  const uri = process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  console.log('uri ' + uri);
  const wrong = await fetch(uri, { headers: { Authorization: 'wrong' } });
  console.log('wrong-token ' + wrong.status + ' ' + (await wrong.json()).Code);
  console.log('inherited ' + [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_PROFILE, process.env.STS_VEND_KEEP].join(','));
  process.exit(3);
})().catch((e) => { console.error(e); process.exit(9); });
`;

/** Lists once, then waits for a line on stdin (the test revokes meanwhile) and asks the endpoint again. */
const REVOKE_SCRIPT = `
const { S3Client, ListObjectsV2Command } = require('@aws-sdk/client-s3');
const { fromHttp } = require('@aws-sdk/credential-providers');
(async () => {
  const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'reports/' }));
  const first = await fromHttp({ maxRetries: 0 })();
  console.log('session-key ' + first.accessKeyId);
  console.log('ready ' + listed.KeyCount);
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const res = await fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN } });
  const body = await res.json();
  console.log('after ' + res.status + ' ' + body.Code + ' ' + (body.AccessKeyId ? 'has-key' : 'no-key'));
  const sdk = await fromHttp({ maxRetries: 0 })().then(() => 'ok', (e) => e.name);
  console.log('sdk ' + sdk);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(9); });
`;

let stack: TestStack;
let service: Awaited<ReturnType<typeof listen>>;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  stack = await startStack();
  service = await listen(stack.app);
  const home = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-exec-'));
  env = {
    HOME: home,
    STS_VEND_URL: service.url,
    STS_VEND_TOKEN: await stack.token(),
    AWS_ENDPOINT_URL: stack.aws.aws.url,
    AWS_REGION: 'us-east-1',
    // Must not reach the child: with them its SDK would not use the container endpoint.
    AWS_ACCESS_KEY_ID: 'AKIAPARENTKEY0000001',
    AWS_SECRET_ACCESS_KEY: 'parent-secret',
    AWS_PROFILE: 'parent',
    STS_VEND_KEEP: 'kept',
  };
});
afterAll(async () => {
  await service?.close();
  await stack?.stop();
});

describe('sts-vend exec', () => {
  it('runs the command with a default-chain SDK that gets scoped credentials from the loopback endpoint, and passes its exit code through', async () => {
    const res = await runCli(['exec', ...READ, '--', 'node', '-e', LIST_SCRIPT], env);
    expect(res.stderr).not.toMatch(/sts-vend:/);
    expect(res.code).toBe(3);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toContain('listed reports/2026/q3.csv,reports/2026/q4.csv');
    expect(lines).toContain('exports AccessDenied');
    expect(lines.find((l) => l.startsWith('uri '))).toMatch(/^uri http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(lines).toContain('wrong-token 401 InvalidToken');
    expect(lines).toContain('inherited ,,kept');
  });

  it('every fetch is a service checkpoint: after revocation the endpoint answers the service code and the SDK is refused', async () => {
    const child = spawnCli(['exec', ...READ, '--', 'node', '-e', REVOKE_SCRIPT], env);
    const done = finished(child);
    const printed = await waitForOutput(child, 'ready ');
    expect(printed).toContain('ready 2');
    const key = /session-key (\S+)/.exec(printed)![1]!;
    const sessionId = stack.aws.aws.admin.session(key)!.tags['agent-session'];
    const revoked = await request(stack.app)
      .post('/v1/revoke')
      .set('Authorization', `Bearer ${await stack.token({ email: 'ops@example.com', groups: ['secops'] })}`)
      .send({ sessionId, reason: 'exec test' });
    expect(revoked.status).toBe(200);
    child.stdin!.write('go\n');
    const res = await done;
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('after 403 SessionRevoked no-key');
    expect(res.stdout).toContain('sdk CredentialsProviderError');
  });

  it('forwards a signal to the command and exits 128 + its number', async () => {
    const child = spawnCli(['exec', ...READ, '--', 'node', '-e', "console.log('sleeping'); setTimeout(() => {}, 60000)"], { ...env, STS_VEND_TOKEN: await stack.token() });
    const done = finished(child);
    await waitForOutput(child, 'sleeping');
    child.kill('SIGTERM');
    const res = await done;
    expect(res).toMatchObject({ code: 143, signal: null });
  });

  it('a command that does not exist exits 127; a refused vend exits 1 and runs nothing', async () => {
    const missing = await runCli(['exec', ...READ, '--', 'no-such-command-sts-vend'], { ...env, STS_VEND_TOKEN: await stack.token() });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toBe('sts-vend: exec_failed: cannot run no-such-command-sts-vend (ENOENT)\n');

    const refused = await runCli(['exec', '--template', 'no-such-template', '--', 'node', '-e', "console.log('ran')"], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^sts-vend: unknown_template: /);
  });
});
