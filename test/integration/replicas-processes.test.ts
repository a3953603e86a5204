import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer';
import { AGENT_S3, READ, pause, waitFor } from '../helpers/kill-switch';
import { SERVICE_KEYS, startTestAws, type TestAws } from '../helpers/local-aws';
import { startRedis, type TestRedis } from '../helpers/redis';
import { spawnWatched, type WatchedProcess } from '../helpers/redis-processes';
import { serviceConfig } from '../helpers/config';

// Two real service processes (the production entry, src/main.ts, each with its reconciler) on one Redis and one
// AWS emulator. IAM goes through a counting pass-through so the test sees every PutRolePolicy either replica sends.
const ROOT = path.resolve(__dirname, '../..');

interface Service {
  base: string;
  logs: Array<Record<string, unknown>>;
  proc: WatchedProcess;
}

let redis: TestRedis;
let aws: TestAws;
let corp: DevIssuer;
let ci: DevIssuer;
let iamProxy: http.Server;
let dir: string;
let a: Service;
let b: Service;
const services: Service[] = [];
const puts: Array<{ role: string; status: number }> = [];

/** Forwards IAM requests to the emulator untouched (SigV4 signs the Host header, which is kept) and notes PutRolePolicy. */
function startIamProxy(target: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString());
      const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (up) => {
        if (form.get('Action') === 'PutRolePolicy') puts.push({ role: form.get('RoleName') ?? '', status: up.statusCode ?? 0 });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function startService(configFile: string, iamUrl: string): Promise<Service> {
  const logs: Array<Record<string, unknown>> = [];
  let listening: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (listening = resolve));
  const proc = spawnWatched([process.execPath, '--import', 'tsx', 'src/main.ts'], {
    dir: mkdtempSync(path.join(dir, 'svc-')),
    cwd: ROOT,
    env: {
      STS_VEND_CONFIG: configFile,
      LOG_LEVEL: 'info',
      AWS_ACCESS_KEY_ID: SERVICE_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SERVICE_KEYS.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_STS: aws.aws.url,
      AWS_ENDPOINT_URL_IAM: iamUrl,
      AWS_EC2_METADATA_DISABLED: 'true',
      REDIS_URL: '',
      REDIS_PASSWORD: '',
    },
    onLine: (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'sts-vend listening') listening(entry.port as number);
      } catch {
        // not a log line
      }
    },
  });
  const failed = (async () => {
    for (let i = 0; i < 600 && !proc.exited(); i++) await pause(100);
    throw new Error(`the service did not start: ${proc.output()}`);
  })();
  const p = await Promise.race([port, failed]);
  return { base: `http://127.0.0.1:${p}`, logs, proc };
}

beforeAll(async () => {
  [redis, aws, corp, ci] = await Promise.all([startRedis(), startTestAws(), startDevIssuer({ port: 0 }), startDevIssuer({ port: 0 })]);
  iamProxy = await startIamProxy(aws.aws.url);
  dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-test-replicas-'));
  const configFile = path.join(dir, 'sts-vend.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...serviceConfig({ redis, corp, ci }),
      server: { port: 0, host: '127.0.0.1', drainSeconds: 0 },
      aws: { region: 'us-east-1', maxAttempts: 1 },
      limits: { vendsPerMinute: 1000, liveSessionsPerDeveloper: 1000 },
      killSwitch: { marginSeconds: 1, reconcileIntervalSeconds: 1 },
    }),
  );
  const iamUrl = `http://127.0.0.1:${(iamProxy.address() as AddressInfo).port}`;
  const started = await Promise.allSettled([startService(configFile, iamUrl), startService(configFile, iamUrl)]);
  services.push(...started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  [a, b] = services as [Service, Service];
}, 90_000);
afterAll(async () => {
  await Promise.all(services.map((s) => s.proc.stop()));
  await new Promise((r) => iamProxy?.close(r));
  await Promise.allSettled([aws?.aws.stop(), corp?.stop(), ci?.stop()]);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mint = (email: string, groups = ['backend']) => corp.mint({ email, groups, project: 'backend-api' });
const operator = async (s: Service, method: 'get' | 'post', p: string, body?: Record<string, unknown>) =>
  request(s.base)[method](p).set('Authorization', `Bearer ${await mint('ops@example.com', ['secops'])}`).send(body);
const vend = async (s: Service, email: string, body: Record<string, unknown> = READ) =>
  request(s.base).post('/v1/vend').set('Authorization', `Bearer ${await mint(email)}`).send(body);
const applied = (s: Service) => s.logs.filter((l) => l.msg === 'revocation policy applied' && l.roleArn === AGENT_S3).length;

describe('two service processes on one Redis', () => {
  it('B lists and revokes what A vended; A refuses the refresh and a blocked vend on the next request', async () => {
    const v = await vend(a, 'alice@example.com', { ...READ, delivery: 'container' });
    expect(v.status).toBe(200);
    const listed = await operator(b, 'get', '/v1/sessions?developer=alice%40example.com');
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([v.body.sessionId]);
    const refresh = () => request(a.base).get(`/v1/credentials/${v.body.sessionId}`).set('Authorization', v.body.container.authorizationToken);
    expect((await refresh()).status).toBe(200);

    expect((await operator(b, 'post', '/v1/revoke', { sessionId: v.body.sessionId, reason: 'replicas' })).status).toBe(200);
    expect((await refresh()).body.Code).toBe('SessionRevoked');

    expect((await operator(b, 'post', '/v1/revoke', { developer: 'dave@example.com', reason: 'replicas', block: { durationSeconds: 600 } })).status).toBe(200);
    const blocked = await vend(a, 'dave@example.com');
    expect({ status: blocked.status, code: blocked.body.error?.code }).toEqual({ status: 403, code: 'blocked' });
  });

  it('has one reconciler leading, which applies a role left pending exactly once', async () => {
    // The revocations above may still have the role due (a revocation recorded during an apply re-queues it at
    // once): let that settle, then count this test's applies only.
    const queue = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await waitFor('no role due from the test before', () => queue.zrangebyscore(`${redis.keyPrefix}{q}`, '-inf', Date.now()), (due) => due.length === 0);
    } finally {
      queue.disconnect();
    }
    const before = [applied(a), applied(b)];
    const v = await vend(a, 'bob@example.com');
    aws.aws.admin.setFaults({ iamFailure: { rate: 1 } });
    const res = await operator(b, 'post', '/v1/revoke', { sessionId: v.body.sessionId, reason: 'replicas' });
    aws.aws.admin.clearFaults();
    expect({ status: res.status, state: res.body.roles?.[0]?.state }).toEqual({ status: 202, state: 'pending' });
    // Faulted calls never reach PutRolePolicy (the role's policies are read first), so every write from now on counts.
    puts.length = 0;

    await waitFor('the pending role applied', () => operator(a, 'get', `/v1/revocations/${res.body.revocationId}`), (r) => r.body.roles?.[0]?.state === 'applied');
    await pause(3000); // three more passes of each reconciler
    expect(puts).toEqual([{ role: 'agent-s3', status: 200 }]);
    expect([applied(a) - before[0]!, applied(b) - before[1]!].sort()).toEqual([0, 1]);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.pttl(`${redis.keyPrefix}{L}`)).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
