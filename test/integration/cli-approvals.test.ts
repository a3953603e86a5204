import { finished, runCli, spawnCli } from '../helpers/cli';
import { startConsoleStack, type ConsoleStack } from '../helpers/console';

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
