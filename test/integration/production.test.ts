/**
 * `npm start` (src/main.ts main()) against a real redis-server and the emulator reached only through the standard
 * AWS environment: what it logs at start about endpoints, identity and long-lived keys, and HTTPS when
 * `server.tls` is set. The healthcheck the image runs is probed against each start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { stringify } from 'yaml';
import { main } from '../../src/main';
import { createLogger } from '../../src/observability/logger';
import { endpointInUse } from '../../src/startup/aws-setup';
import { checkHealth } from '../../src/startup/healthcheck';
import { SERVICE_KEYS, sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';

const TEMPLATES = path.resolve(__dirname, '../../policies/templates');
const AWS_VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_IAM', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_USE_FIPS_ENDPOINT'];

let redis: TestRedis;
let aws: TestAws;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-production-'));
const savedEnv = { ...process.env };

beforeAll(async () => {
  [redis, aws] = await Promise.all([startRedis(), startTestAws()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), aws?.aws.stop()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // The SDK reads process.env itself; nothing from this machine's AWS setup may leak into a start.
  for (const k of AWS_VARS) delete process.env[k];
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none') });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

function writeConfig(name: string, server: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      server: { port: 0, host: '127.0.0.1', drainSeconds: 1, ...server },
      redis: { url: redis.url, keyPrefix: redis.keyPrefix },
      aws: { region: 'us-east-1' },
      issuers: [
        { name: 'corp', issuer: 'https://idp.example.com', audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'AI', claims: { developer: 'email' } },
        { name: 'ci', issuer: 'https://ci.example.com', audiences: ['sts-vend'], algorithms: ['RS256'], accessType: 'CI', claims: { developer: 'actor' } },
      ],
      templatesDir: TEMPLATES,
    }),
  );
  return file;
}

/** Starts main() with `aws` credentials in process.env; returns its log lines, port and a stop function. */
async function start(configFile: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, endpoints: Record<string, string> = { AWS_ENDPOINT_URL: aws.aws.url }) {
  Object.assign(process.env, endpoints, { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey });
  if (credentials.sessionToken) process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const env = { STS_VEND_CONFIG: configFile };
  const service = await main(env, { logger });
  const port = (service.server.address() as { port: number }).port;
  return { logs, port, env: { ...env, PORT: String(port) }, close: () => service.close(), line: (msg: string) => logs.find((l) => l.msg === msg) };
}

describe('metrics on a listener of their own (server.metrics)', () => {
  it('serves /metrics there, and the API port answers 404 for it', async () => {
    const s = await start(writeConfig('metrics', { metrics: { port: 0, host: '127.0.0.1' } }), SERVICE_KEYS);
    try {
      const metricsPort = s.line('sts-vend listening')?.metricsPort as number;
      expect(metricsPort).toEqual(expect.any(Number));
      expect(metricsPort).not.toBe(s.port);
      const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toMatch(/^# HELP sts_vend_/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
      const api = await fetch(`http://127.0.0.1:${s.port}/metrics`);
      expect(api.status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('start-up log', () => {
  it('names the endpoints in use and the identity, and warns about long-lived keys', async () => {
    const s = await start(writeConfig('plain'), SERVICE_KEYS);
    try {
      expect(s.line('sts-vend listening')).toMatchObject({ port: s.port, tls: false });
      expect(s.line('aws endpoints in use')).toMatchObject({ sts: { url: aws.aws.url, source: 'AWS_ENDPOINT_URL' }, iam: { url: aws.aws.url, source: 'AWS_ENDPOINT_URL' } });
      expect(s.line('aws identity')).toMatchObject({ arn: 'arn:aws:iam::111122223333:user/sts-vend', account: '111122223333' });
      const warning = s.logs.find((l) => l.level === 40);
      expect(String(warning?.msg)).toMatch(/long-lived .*IRSA or EKS Pod Identity.*task role/);
      expect(await checkHealth(s.env)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('does not warn for temporary credentials, and names per-service endpoint variables', async () => {
    const assumed = await stsClient(aws).send(new AssumeRoleCommand(validAssumeRole()));
    const s = await start(writeConfig('temporary'), sessionKeys(assumed.Credentials), { AWS_ENDPOINT_URL_STS: aws.aws.url, AWS_ENDPOINT_URL_IAM: `${aws.aws.url}/iam` });
    try {
      expect(s.line('aws endpoints in use')).toMatchObject({ sts: { url: aws.aws.url, source: 'AWS_ENDPOINT_URL_STS' }, iam: { url: `${aws.aws.url}/iam`, source: 'AWS_ENDPOINT_URL_IAM' } });
      expect(String(s.line('aws identity')?.arn)).toMatch(/^arn:aws:sts::111122223333:assumed-role\/agent-s3\//);
      expect(s.logs.filter((l) => l.level === 40)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('starts and serves when GetCallerIdentity fails, with a warning saying why', async () => {
    const s = await start(writeConfig('bad-keys'), { accessKeyId: SERVICE_KEYS.accessKeyId, secretAccessKey: 'not-the-secret' });
    try {
      expect(s.line('aws identity')).toBeUndefined();
      const warning = s.logs.find((l) => String(l.msg).startsWith('aws identity unknown'));
      expect(warning).toMatchObject({ level: 40, err: { name: 'SignatureDoesNotMatch' } });
      expect(await checkHealth(s.env)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('endpoints without overrides', () => {
  it("are the SDK's own: regional STS, global IAM, FIPS when asked", async () => {
    expect(await endpointInUse(new STSClient({ region: 'eu-west-1' }), 'STS')).toEqual({ url: 'https://sts.eu-west-1.amazonaws.com/', source: 'SDK default' });
    expect(await endpointInUse(new IAMClient({ region: 'us-east-1' }), 'IAM')).toEqual({ url: 'https://iam.amazonaws.com/', source: 'SDK default' });
    process.env.AWS_USE_FIPS_ENDPOINT = 'true';
    expect((await endpointInUse(new STSClient({ region: 'us-east-2' }), 'STS')).url).toBe('https://sts-fips.us-east-2.amazonaws.com/');
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
describeWhen(hasOpenssl, 'no openssl to make a test certificate (apt-get install openssl)')('server.tls', () => {
  let cert: string;
  beforeAll(() => {
    // Files named relative to the config file, as an operator would write them.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    writeFileSync(path.join(dir, 'other-key.pem'), other.privateKey);
  });

  it('serves HTTPS with the configured certificate, and no plain HTTP', async () => {
    const s = await start(writeConfig('tls', { tls: { certFile: 'cert.pem', keyFile: 'key.pem' } }), SERVICE_KEYS);
    try {
      expect(s.line('sts-vend listening')).toMatchObject({ tls: true });
      const status = await new Promise<number | undefined>((resolve, reject) =>
        https.get({ host: '127.0.0.1', port: s.port, path: '/healthz', ca: cert }, (res) => resolve(res.resume().statusCode)).on('error', reject),
      );
      expect(status).toBe(200);
      await expect(new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: s.port, path: '/healthz' }, resolve).on('error', reject))).rejects.toThrow();
      expect(await checkHealth(s.env)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('refuses to start with a key that does not match the certificate, or a missing file, naming server.tls', async () => {
    await expect(main({ STS_VEND_CONFIG: writeConfig('mismatch', { tls: { certFile: 'cert.pem', keyFile: 'other-key.pem' } }) })).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [expect.stringMatching(/^server\.tls: .*cert\.pem and .*other-key\.pem do not load/)],
    });
    await expect(main({ STS_VEND_CONFIG: writeConfig('missing', { tls: { certFile: 'nope.pem', keyFile: 'key.pem' } }) })).rejects.toMatchObject({
      problems: [expect.stringMatching(/^server\.tls\.certFile: cannot read .*nope\.pem \(ENOENT\)/)],
    });
  });
});
