/**
 * `npm run local-aws` as a user runs it: a separate process printing its endpoint, reached by the SDK (and the
 * AWS CLI when installed) through the documented environment variables alone.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ACCOUNT_ID, EXAMPLE_STATE_FILE, SERVICE_KEYS } from '../helpers/local-aws';
import { AWS_CLI } from '../helpers/real-clients';
import { itWhen } from '../helpers/skip';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(ROOT, 'src', 'dev', 'local-aws', 'main.ts');

let child: ChildProcess;
let endpoint: string;

beforeAll(async () => {
  child = spawn(TSX, [MAIN, '--port', '0', '--state', EXAMPLE_STATE_FILE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /export AWS_ENDPOINT_URL=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`local-aws exited with ${code}: ${out}`)));
  });
});

afterAll(async () => {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
});

/** Runs `fn` with the environment a user exports from the banner. */
async function withUserEnv<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: SERVICE_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: SERVICE_KEYS.secretAccessKey });
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}

it('serves the SDK configured only through AWS_ENDPOINT_URL and the key variables', async () => {
  const who = await withUserEnv(() => new STSClient({}).send(new GetCallerIdentityCommand({})));
  expect(who).toMatchObject({ Account: ACCOUNT_ID, Arn: `arn:aws:iam::${ACCOUNT_ID}:user/sts-vend` });
});

// Debian's CLI 2.9 ignores AWS_ENDPOINT_URL, so this runs the README's line, which passes it as --endpoint-url too.
const cliInstalled = spawnSync(AWS_CLI, ['--version'], { stdio: 'ignore' }).status === 0;
itWhen(cliInstalled, `no ${AWS_CLI} (apt-get install awscli)`)('serves the AWS CLI with the same variables', async () => {
  const env = { ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: SERVICE_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: SERVICE_KEYS.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const { stdout } = await promisify(execFile)(AWS_CLI, ['--endpoint-url', endpoint, 'sts', 'get-caller-identity', '--output', 'json'], { env });
  expect(JSON.parse(stdout)).toMatchObject({ Account: ACCOUNT_ID });
});

it('refuses a broken state file, listing every problem, with exit code 2', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'local-aws-')), 'state.yaml');
  writeFileSync(file, "accountId: 1234\ncredentials: []\nroles:\n  - name: r\n    trustPolicy: {Version: '2012-10-17', Statement: {Effect: Allow, Action: 'sts:AssumeRole'}}\n");
  const run = spawnSync(TSX, [MAIN, '--port', '0', '--state', file], { cwd: ROOT, encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('accountId: 12 digits');
  expect(run.stderr).toContain('credentials: a non-empty list');
  expect(run.stderr).toContain('roles[0].trustPolicy');
});
