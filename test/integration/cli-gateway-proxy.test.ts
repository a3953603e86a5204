/**
 * The CLI in proxy mode, with Debian's AWS CLI (which ignores AWS_ENDPOINT_URL) as the agent: `exec --gateway
 * --proxy` runs it with HTTPS_PROXY and the gateway CA in a private file it removes afterwards; `sts-vend gateway
 * --proxy` prints the same as export lines and as a profile.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listen, runCli } from '../helpers/cli';
import { startProxyStack, type ProxyStack } from '../helpers/proxy';
import { describeWithRealClients } from '../helpers/real-clients';

// Each test runs the CLI as a process (node + tsx); slow on a busy machine, not stuck.
jest.setTimeout(90_000);

const WRITE = ['--template', 's3-write-prefix', '--param', 'bucket=backend-data', '--param', 'prefix=agent-out/'];

let p: ProxyStack;
let service: Awaited<ReturnType<typeof listen>>;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  p = await startProxyStack();
  service = await listen(p.stack.app);
  env = {
    HOME: p.dir,
    PATH: '/usr/bin:/bin',
    STS_VEND_URL: service.url,
    STS_VEND_TOKEN: await p.stack.token(),
    AWS_CONFIG_FILE: os.devNull,
    // A parent that would route around the gateway: none of it may reach the child.
    NO_PROXY: '*',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'AKIAPARENTKEY0000001',
    AWS_SECRET_ACCESS_KEY: 'parent-secret',
  };
}, 60_000);
afterAll(async () => {
  await service?.close();
  await p?.stop();
});

const sh = (script: string, extra: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile('/bin/sh', ['-c', script], { env: { PATH: '/usr/bin:/bin', HOME: p.dir, AWS_CONFIG_FILE: os.devNull, AWS_SHARED_CREDENTIALS_FILE: os.devNull, ...extra } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describeWithRealClients('sts-vend in proxy mode', () => {
  it('exec --gateway --proxy: the AWS CLI reaches S3 and STS by their own names; the CA file is private and removed after', async () => {
    const script = [
      'echo "ca=$AWS_CA_BUNDLE node=$NODE_EXTRA_CA_CERTS proxy=$HTTPS_PROXY endpoint=${AWS_ENDPOINT_URL:-none} noproxy=${NO_PROXY:-none}"',
      'stat -c "mode=%a" "$AWS_CA_BUNDLE"',
      'echo proxied | /usr/bin/aws s3 cp - s3://backend-data/agent-out/cli-proxy.txt',
      '/usr/bin/aws s3 cp s3://backend-data/agent-out/cli-proxy.txt -',
      '/usr/bin/aws sts get-caller-identity --query Arn --output text',
    ].join(' && ');
    const res = await runCli(['exec', '--gateway', '--proxy', ...WRITE, '--', '/bin/sh', '-c', script], env);
    expect(res.stderr).not.toMatch(/sts-vend:|Error/);
    expect(res.code).toBe(0);
    const [first, mode, body, arn] = res.stdout.trim().split('\n');
    const ca = /ca=(\S+)/.exec(first!)![1]!;
    expect(first).toBe(`ca=${ca} node=${ca} proxy=${p.proxyUrl} endpoint=none noproxy=none`);
    expect(mode).toBe('mode=600');
    expect(body).toBe('proxied');
    expect(arn).toMatch(/assumed-role\/agent-s3\/alice@example\.com\./);
    expect(existsSync(ca)).toBe(false);
  });

  it('gateway --proxy prints export lines that work as printed, and a profile with the CA file', async () => {
    const caFile = path.join(p.dir, 'printed-ca.pem');
    const lines = await runCli(['gateway', '--proxy', '--ca-file', caFile, ...WRITE], env);
    expect(lines.code).toBe(0);
    expect(lines.stdout).toContain(`export HTTPS_PROXY=${p.proxyUrl}\n`);
    expect(lines.stdout).not.toMatch(/AWS_ENDPOINT_URL=/);
    expect(readFileSync(caFile, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(statSync(caFile).mode & 0o777).toBe(0o600);
    const used = await sh(`export AWS_ENDPOINT_URL=http://127.0.0.1:9; ${lines.stdout}\n/usr/bin/aws sts get-caller-identity --query Arn --output text`, {});
    expect(used).toMatchObject({ code: 0, stdout: expect.stringMatching(/assumed-role\/agent-s3\//) });

    const profile = await runCli(['gateway', '--proxy', '--format', 'profile', '--profile', 'agent', '--ca-file', caFile, ...WRITE], env);
    expect(profile.code).toBe(0);
    expect(profile.stdout).toContain(`ca_bundle = ${caFile}`);
    expect(profile.stdout).not.toContain('endpoint_url');
    writeFileSync(path.join(p.dir, 'proxy-profile'), profile.stdout);
    const viaProfile = await sh('/usr/bin/aws --profile agent s3 ls s3://backend-data/agent-out/', { AWS_CONFIG_FILE: path.join(p.dir, 'proxy-profile'), HTTPS_PROXY: p.proxyUrl });
    expect(viaProfile).toMatchObject({ code: 0 });
  });

  it('refuses --proxy without --gateway', async () => {
    const res = await runCli(['exec', '--proxy', ...WRITE, '--', 'true'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--proxy goes with --gateway');
  });
});
