import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer';
import { main } from '../../src/main';
import { createLogger } from '../../src/observability/logger';
import { SERVICE_KEYS, startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { serviceConfig } from '../helpers/config';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy';
import { client, send, type Answer } from './support/load';

/**
 * Graceful shutdown of the production entry (src/main.ts): with vends held in flight by emulator latency, a
 * close (what SIGTERM runs) lets every in-flight request finish with 200, refuses new connections at once, and
 * resolves within the drain time. The service reaches AWS only through the standard AWS_* environment, as in
 * production; the endpoint is a counting proxy so the test knows when the vends are in flight.
 */
const IN_FLIGHT = 6;
const LATENCY_MS = 1000;
const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };
const ROOT = path.resolve(__dirname, '../..');

let redis: TestRedis;
let aws: TestAws;
let proxy: CountingProxy;
let issuers: DevIssuer[];
let dir: string;
let configFile: string;
/** What an operator would put in the environment of a deployment, pointed at the emulator. */
let awsEnv: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  aws = await startTestAws();
  proxy = await startCountingProxy(aws);
  issuers = [await startDevIssuer({ port: 0 }), await startDevIssuer({ port: 0 })];
  dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-drain-'));
  configFile = path.join(dir, 'sts-vend.yaml');
  writeFileSync(
    configFile,
    stringify({
      ...serviceConfig({ redis, corp: issuers[0]!, ci: issuers[1]! }),
      server: { port: 0, host: '127.0.0.1', drainSeconds: 5 },
    }),
  );
  awsEnv = { AWS_ENDPOINT_URL: proxy.url, AWS_ACCESS_KEY_ID: SERVICE_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: SERVICE_KEYS.secretAccessKey, AWS_REGION: 'us-east-1' };
});
afterAll(async () => {
  await proxy?.stop();
  await aws?.aws.stop();
  await Promise.all((issuers ?? []).map((i) => i.stop()));
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => aws.aws.admin.clearFaults());

const token = (): Promise<string> => issuers[0]!.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api' });
const assumeRolesSeen = (): number => proxy.calls.filter((c) => c.action === 'AssumeRole').length;

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** A connection attempt's outcome: 'refused' or the HTTP status it got. */
const attempt = (base: string): Promise<string> =>
  send(base, false, 'GET', '/healthz').then(
    (r) => String(r.status),
    (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? 'refused' : `error ${err.code}`),
  );

/** The production entry in this process, its logs captured; the AWS_* environment stays set until `restoreEnv()`. */
async function startMain(): Promise<{ service: Awaited<ReturnType<typeof main>>; base: string; lines: Array<{ msg?: string }>; restoreEnv(): void }> {
  // The SDK reads its endpoint and keys from the process environment, as in production.
  const unset = ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_IAM'];
  const saved = Object.fromEntries([...Object.keys(awsEnv), ...unset].map((k) => [k, process.env[k]]));
  const restoreEnv = (): void => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  for (const k of unset) delete process.env[k];
  Object.assign(process.env, awsEnv);
  const lines: Array<{ msg?: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg?: string });
      cb();
    },
  });
  try {
    const service = await main({ STS_VEND_CONFIG: configFile }, { logger: createLogger({ level: 'info', destination }) });
    return { service, base: `http://127.0.0.1:${(service.server.address() as { port: number }).port}`, lines, restoreEnv };
  } catch (err) {
    restoreEnv();
    throw err;
  }
}

describe('graceful shutdown', () => {
  it('main().close(): in-flight vends finish with 200, new connections are refused, close resolves', async () => {
    const { service, base, lines, restoreEnv } = await startMain();
    const http = client(base, IN_FLIGHT + 1);
    try {
      const bearer = { authorization: `Bearer ${await token()}` };
      // A keep-alive connection left idle must not hold the drain open.
      expect((await http.request('GET', '/healthz')).status).toBe(200);
      expect((await http.request('POST', '/v1/vend', { headers: bearer, body: READ })).status).toBe(200);

      aws.aws.admin.setFaults({ latencyMs: LATENCY_MS });
      const before = assumeRolesSeen();
      const inFlight: Array<Promise<Answer>> = Array.from({ length: IN_FLIGHT }, () => http.request('POST', '/v1/vend', { headers: bearer, body: READ }));
      await until('the vends to reach AWS', () => assumeRolesSeen() >= before + IN_FLIGHT);

      const closing = service.close();
      // The listener is closed before close() returns: a new connection is refused outright.
      expect(await attempt(base)).toBe('refused');

      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => [a.status, typeof a.body.credentials?.secretAccessKey])).toEqual(Array(IN_FLIGHT).fill([200, 'string']));
      await expect(closing).resolves.toBeUndefined();
      expect(await attempt(base)).toBe('refused');
      // The Redis connection is released (QUIT answered; the socket closes just after).
      await until('the Redis connection to end', () => service.deps.redis.status === 'end', 10_000);
      expect(lines.some((l) => l.msg === 'draining')).toBe(true);
    } finally {
      await http.close();
      await service.close();
      restoreEnv();
    }
  }, 60_000);

  // A load balancer reuses its idle connections for up to 60 s (an AWS ALB's default): a replica that closes them
  // first makes the balancer answer 502 for a request the service never saw.
  it('keeps idle keep-alive connections longer than a load balancer does', async () => {
    const { service, restoreEnv } = await startMain();
    try {
      expect(service.server.keepAliveTimeout).toBeGreaterThan(60_000);
      expect(service.server.headersTimeout).toBeGreaterThan(service.server.keepAliveTimeout);
    } finally {
      await service.close();
      restoreEnv();
    }
  });

  // A load balancer's pooled keep-alive connection must not carry new requests into a draining replica.
  it('during the drain, a keep-alive connection gets Connection: close and no new request is served on it', async () => {
    const { service, base, restoreEnv } = await startMain();
    const http = client(base, 1);
    try {
      const bearer = { authorization: `Bearer ${await token()}` };
      expect((await http.request('GET', '/healthz')).status).toBe(200);
      aws.aws.admin.setFaults({ latencyMs: LATENCY_MS });
      const before = assumeRolesSeen();
      const inFlight = http.request('POST', '/v1/vend', { headers: bearer, body: READ });
      await until('the vend to reach AWS', () => assumeRolesSeen() > before);
      const closing = service.close();
      const answer = await inFlight;
      expect([answer.status, answer.headers.connection]).toEqual([200, 'close']);
      // The next request on that client: refused (a new connection), never served.
      const next = await http.request('POST', '/v1/vend', { headers: bearer, body: READ }).then(
        (r) => String(r.status),
        () => 'refused',
      );
      expect(next).toBe('refused');
      await closing;
    } finally {
      await http.close();
      await service.close();
      restoreEnv();
    }
  }, 60_000);

  it('SIGTERM to the real process: the in-flight vend finishes with 200 and the process exits 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...awsEnv, STS_VEND_CONFIG: configFile, LOG_LEVEL: 'info' };
    for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_IAM']) delete env[k];
    const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      let out = '';
      let errors = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
      // Complete JSON lines only (a chunk can end mid-line).
      const logged = (msg: string): Array<Record<string, unknown>> =>
        out
          .split('\n')
          .slice(0, -1)
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg));
      // Signals are handled from "listening" on; waiting for the identity line also means the start-up is complete.
      await until('the service to start', () => logged('aws identity').length > 0 || child.exitCode !== null, 60_000);
      expect([child.exitCode, errors.includes('failed to start') ? errors : '']).toEqual([null, '']);
      const base = `http://127.0.0.1:${String(logged('sts-vend listening')[0]!.port)}`;

      aws.aws.admin.setFaults({ latencyMs: LATENCY_MS });
      const before = assumeRolesSeen();
      const vend = send(base, false, 'POST', '/v1/vend', { headers: { authorization: `Bearer ${await token()}` }, body: READ });
      await until('the vend to reach AWS', () => assumeRolesSeen() > before);
      child.kill('SIGTERM');
      await until('the drain to start', () => logged('draining').length > 0);
      expect(await attempt(base)).toBe('refused');
      expect((await vend).status).toBe(200);
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('SIGTERM while the start-up AWS identity check is still running drains and exits 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...awsEnv, STS_VEND_CONFIG: configFile, LOG_LEVEL: 'info' };
    for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_IAM']) delete env[k];
    // GetCallerIdentity answers after 3 s: the port is open well before the check ends.
    aws.aws.admin.setFaults({ latencyMs: 3000 });
    const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const seen = (msg: string): boolean => out.split('\n').some((l) => l.includes(`"msg":"${msg}`));
      await until('the port to open', () => seen('sts-vend listening') || child.exitCode !== null, 60_000);
      expect(seen('aws identity')).toBe(false);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(seen('draining')).toBe(true);
    } finally {
      aws.aws.admin.clearFaults();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
