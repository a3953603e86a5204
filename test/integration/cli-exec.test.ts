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
  // One checkpoint answer covers a second of requests: ask until refused (bounded), and say how long it took.
  const started = Date.now();
  let res, body;
  for (let i = 0; i < 100; i++) {
    res = await fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN } });
    body = await res.json();
    if (res.status !== 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log('after ' + res.status + ' ' + body.Code + ' ' + (body.AccessKeyId ? 'has-key' : 'no-key'));
  console.log('refused-after-ms ' + (Date.now() - started));
  const sdk = await fromHttp({ maxRetries: 0 })().then(() => 'ok', (e) => e.name);
  console.log('sdk ' + sdk);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(9); });
`;

/** Prints the access key the default chain gets from the loopback endpoint. */
const KEY_SCRIPT = `
const { fromHttp } = require('@aws-sdk/credential-providers');
fromHttp({ maxRetries: 0 })().then((c) => { console.log('key ' + c.accessKeyId); process.exit(0); });
`;

let stack: TestStack;
const sessionOfKey = (stdout: string): string => stack.aws.aws.admin.session(/key (ASIA\w+)/.exec(stdout)![1]!)!.tags['agent-session']!;
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

  it('its endpoint checkpoints with the service: after revocation the endpoint answers the service code and the SDK is refused', async () => {
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
    // The loopback endpoint trusts one checkpoint for a second (CHECKPOINT_REUSE_MS), no longer.
    expect(Number(/refused-after-ms (\d+)/.exec(res.stdout)![1])).toBeLessThan(2500);
  });

  it('ends its session when the command exits: no longer live, nor counted toward the developer cap', async () => {
    const res = await runCli(['exec', ...READ, '--', 'node', '-e', KEY_SCRIPT], env);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const sessionId = sessionOfKey(res.stdout);
    expect((await stack.deps.sessions.get(sessionId))?.state).toBe('ended');
    const live = await stack.deps.sessions.list({ developer: 'alice@example.com', state: 'live' }, null, 500);
    expect(live.sessions.map((s) => s.id)).not.toContain(sessionId);
  });

  it('forwards a signal to the command, exits 128 + its number, and ends the session', async () => {
    const child = spawnCli(['exec', ...READ, '--', 'node', '-e', KEY_SCRIPT.replace('process.exit(0)', "console.log('sleeping'); setTimeout(() => {}, 60000)")], { ...env, STS_VEND_TOKEN: await stack.token() });
    const done = finished(child);
    const printed = await waitForOutput(child, 'sleeping');
    child.kill('SIGTERM');
    const res = await done;
    expect(res).toMatchObject({ code: 143, signal: null });
    expect((await stack.deps.sessions.get(sessionOfKey(printed)))?.state).toBe('ended');
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
