import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { finished, runCli, spawnCli } from '../helpers/cli';
import { startConsoleStack, type ConsoleStack } from '../helpers/console';

// Each test runs the CLI as a process (node + tsx) a few times; slow on a busy machine, not stuck.
jest.setTimeout(60_000);

let s: ConsoleStack;
beforeAll(async () => {
  s = await startConsoleStack();
});
afterAll(async () => {
  await s?.stop();
});

const alice = () => s.stack.corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 3600 });
const olivia = () => s.stack.corp.mint({ email: 'olivia@example.com', groups: ['secops'] }, { expiresInSeconds: 3600 });

it('credentials waits with a progress line while approval is pending, and prints the credentials once approved', async () => {
  const child = spawnCli(
    ['credentials', '--url', s.url, '--template', 's3-write-approved', '--param', 'bucket=backend-data', '--param', 'prefix=exports/', '--reason', 'upload the export'],
    { STS_VEND_TOKEN: await alice() },
  );
  child.stdin?.end();
  const done = finished(child);
  let stderr = '';
  const id = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /request (a[A-Za-z0-9]{12}) is waiting for secops/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('close', () => reject(new Error(`exited before asking: ${stderr}`)));
  });

  const listed = await runCli(['approvals', '--url', s.url, '--state', 'pending'], { STS_VEND_TOKEN: await olivia() });
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`${id}\\s+pending\\s+alice@example.com\\s+s3-write-approved`));
  expect(listed.stdout).toContain('upload the export');

  // The requester cannot approve it themselves.
  const own = await runCli(['approve', id, '--url', s.url, '--reason', 'mine'], { STS_VEND_TOKEN: await alice() });
  expect([own.code, own.stderr]).toEqual([1, expect.stringContaining('self_approval')]);
  const approved = await runCli(['approve', id, '--url', s.url, '--reason', 'reviewed'], { STS_VEND_TOKEN: await olivia() });
  expect([approved.code, approved.stdout]).toEqual([0, `approval ${id}: approved (alice@example.com, template s3-write-approved)\n`]);

  const result = await done;
  expect(result.code).toBe(0);
  const creds = JSON.parse(result.stdout) as { Version: number; AccessKeyId: string };
  expect(creds).toMatchObject({ Version: 1, AccessKeyId: expect.stringMatching(/^ASIA/) });
  expect(result.stderr).toContain(`request ${id} approved by olivia@example.com: reviewed`);
});

it('a denied request ends the wait with an error naming the decision', async () => {
  const child = spawnCli(['credentials', '--url', s.url, '--template', 's3-write-approved', '--param', 'bucket=backend-data', '--param', 'prefix=exports/'], { STS_VEND_TOKEN: await alice() });
  child.stdin?.end();
  const done = finished(child);
  let stderr = '';
  const id = await new Promise<string>((resolve) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /request (a[A-Za-z0-9]{12})/.exec(stderr);
      if (m) resolve(m[1]!);
    });
  });
  const denied = await runCli(['approve', id, '--deny', '--url', s.url, '--reason', 'wrong bucket'], { STS_VEND_TOKEN: await olivia() });
  expect(denied.code).toBe(0);
  const result = await done;
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain(`sts-vend: approval_denied: approval ${id} was denied by olivia@example.com: wrong bucket`);
});

it('exec waits for approval too, then runs the command with the approved write access', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-approvals-'));
  const put = `
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
new S3Client({ forcePathStyle: true, maxAttempts: 1 }).send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'exports/from-exec.csv', Body: 'x' }))
  .then(() => { console.log('put ok'); process.exit(0); }, (e) => { console.log('put ' + e.name); process.exit(4); });`;
  const child = spawnCli(['exec', '--url', s.url, '--template', 's3-write-approved', '--param', 'bucket=backend-data', '--param', 'prefix=exports/', '--', 'node', '-e', put], {
    HOME: home,
    STS_VEND_TOKEN: await alice(),
    AWS_ENDPOINT_URL: s.stack.aws.aws.url,
    AWS_REGION: 'us-east-1',
  });
  child.stdin?.end();
  const done = finished(child);
  let stderr = '';
  const id = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /request (a[A-Za-z0-9]{12}) is waiting/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('close', () => reject(new Error(`exited before asking: ${stderr}`)));
  });
  const ok = await request(s.stack.app).post(`/v1/approvals/${id}/approve`).set('Authorization', `Bearer ${await olivia()}`).send({ reason: 'go' });
  expect(ok.status).toBe(200);
  const result = await done;
  expect([result.code, result.stdout.trim()]).toEqual([0, 'put ok']);
});
