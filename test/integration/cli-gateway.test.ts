import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listen, runCli } from '../helpers/cli';
import { startStack, type TestStack } from '../helpers/stack';

// Each test runs the CLI as a process (node + tsx); slow on a busy machine, not stuck.
jest.setTimeout(60_000);

const WRITE = ['--template', 's3-write-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=agent-out/'];

/**
 * Run under `exec --gateway`: a default-chain S3 client streams an upload (the SDK's default: aws-chunked with a
 * CRC32 trailer), lists, then reports what its environment holds.
 */
const SCRIPT = `
const { S3Client, PutObjectCommand, ListObjectsV2Command, DeleteObjectCommand } = require('@aws-sdk/client-s3');
(async () => {
  const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
  const body = Buffer.from('via exec --gateway');
  await s3.send(new PutObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/exec.txt', Body: require('node:stream').Readable.from([body]), ContentLength: body.length }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backend-data', Prefix: 'agent-out/' }));
  console.log('listed ' + listed.Contents.map((o) => o.Key).join(','));
  console.log('delete ' + (await s3.send(new DeleteObjectCommand({ Bucket: 'backend-data', Key: 'agent-out/exec.txt' })).then(() => 'ok', (e) => e.name)));
  console.log('key ' + process.env.AWS_ACCESS_KEY_ID.slice(0, 4) + ' token ' + (process.env.AWS_SESSION_TOKEN ?? 'none') + ' profile ' + (process.env.AWS_PROFILE ?? 'none'));
  console.log('endpoint ' + process.env.AWS_ENDPOINT_URL);
  console.log('checksums ' + (process.env.AWS_REQUEST_CHECKSUM_CALCULATION ?? 'sdk default'));
  process.exit(4);
})().catch((e) => { console.error(e); process.exit(9); });
`;

let stack: TestStack;
let service: Awaited<ReturnType<typeof listen>>;
let env: NodeJS.ProcessEnv;
let home: string;
beforeAll(async () => {
  stack = await startStack({ gateway: true });
  service = await listen(stack.app);
  home = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-gw-cli-'));
  env = {
    HOME: home,
    STS_VEND_URL: service.url,
    STS_VEND_TOKEN: await stack.token(),
    // A parent environment with credentials of its own: none of it may reach the child.
    AWS_ACCESS_KEY_ID: 'AKIAPARENTKEY0000001',
    AWS_SECRET_ACCESS_KEY: 'parent-secret',
    AWS_SESSION_TOKEN: 'parent-token',
    AWS_PROFILE: 'parent',
  };
});
afterAll(async () => {
  await service?.close();
  await stack?.stop();
});

const sh = (script: string, extra: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile('/bin/sh', ['-c', script], { env: { PATH: '/usr/bin:/bin', HOME: home, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, ...extra } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe('sts-vend exec --gateway', () => {
  it('runs the command with the gateway endpoint and gateway credentials only; its SDK works through the gateway', async () => {
    const res = await runCli(['exec', '--gateway', ...WRITE, '--', 'node', '-e', SCRIPT], env);
    expect(res.stderr).not.toMatch(/sts-vend:/);
    expect(res.code).toBe(4);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toContain('listed agent-out/exec.txt');
    expect(lines).toContain('delete AccessDenied');
    expect(lines).toContain('key SVGW token none profile none');
    expect(lines).toContain(`endpoint ${stack.gateway!.url}`);
    expect(lines).toContain('checksums sdk default');
    const put = stack.logs.find((l) => l.event === 'gateway.call' && l.operation === 's3:PutObject' && l.resource === 'backend-data/agent-out/exec.txt');
    expect(put).toMatchObject({ outcome: 'allowed', status: 200 });
  });

  it('runs Debian\'s AWS CLI, which needs --endpoint-url, with the same environment', async () => {
    const res = await runCli(['exec', '--gateway', ...WRITE, '--', '/bin/sh', '-c', '/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls s3://backend-data/reports/2026/ && echo "secret-set=${AWS_SECRET_ACCESS_KEY:+yes}"'], { ...env, PATH: '/usr/bin:/bin' });
    // s3-write-prefix lists only its own prefix: the gateway forwarded the call and AWS (IAM) refused it.
    expect(res.stderr).toContain('AccessDenied');
    const own = await runCli(['exec', '--gateway', ...WRITE, '--', '/bin/sh', '-c', '/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" sts get-caller-identity --query Arn --output text'], { ...env, PATH: '/usr/bin:/bin' });
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/assumed-role\/agent-s3\/alice@example\.com\./);
  });
});

describe('sts-vend gateway', () => {
  it('prints export lines a shell evaluates for the AWS CLI', async () => {
    const res = await runCli(['gateway', ...WRITE], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+\nexport AWS_ACCESS_KEY_ID=SVGW[A-Za-z0-9]{12}\nexport AWS_SECRET_ACCESS_KEY=/);
    expect(res.stdout).not.toContain('AWS_SESSION_TOKEN');
    const out = await sh(`eval "$1"; /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" sts get-caller-identity --query Arn --output text`.replace('$1', res.stdout.replace(/"/g, '\\"')), {});
    expect(out.stdout).toMatch(/assumed-role\/agent-s3\//);
  });

  it('prints a profile the JS SDK reads endpoint and keys from', async () => {
    const res = await runCli(['gateway', ...WRITE, '--format', 'profile', '--profile', 'agent'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^\[profile agent\]\nendpoint_url = http:\/\/127\.0\.0\.1:\d+\naws_access_key_id = SVGW/);
    const config = path.join(home, 'config');
    writeFileSync(config, res.stdout);
    const script = `const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts'); new STSClient({}).send(new GetCallerIdentityCommand({})).then((r) => console.log(r.Arn), (e) => { console.error(e.name); process.exit(9); });`;
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['-e', script], { env: { PATH: '/usr/bin:/bin', HOME: home, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: os.devNull, AWS_PROFILE: 'agent' } }, (_err, stdout, stderr) => resolve({ stdout, stderr })),
    );
    expect(out.stderr).not.toMatch(/Error|Exception/);
    expect(out.stdout).toMatch(/assumed-role\/agent-s3\//);
  });
});
