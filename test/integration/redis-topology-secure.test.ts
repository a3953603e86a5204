import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { createRedis, StoreUnavailableError } from '../../src/storage/redis-client';
import { SessionStore } from '../../src/storage/session-store';
import { READ, call, tokens, vendOk } from '../helpers/kill-switch';
import { describeWithOwnRedis, uniquePrefix } from '../helpers/redis';
import { makeTlsFiles, startRedisProcess, type RedisProcess } from '../helpers/redis-processes';
import { startStack } from '../helpers/stack';

// A Redis that wants a user and password (ACL), and one that speaks only TLS, as managed Redis services do.
const ROOT = path.resolve(__dirname, '../..');
const PASSWORD = 'app-pass-7f3c1e';

describeWithOwnRedis('a Redis with a user and password', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await startRedisProcess({
      args: ['--user', 'default', 'off', '--user', 'app', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
      cliArgs: ['--user', 'app', '--pass', PASSWORD, '--no-auth-warning'],
    });
  });
  afterAll(async () => server?.stop());

  it('serves the app with the credentials from the config, and never logs them', async () => {
    const stack = await startStack({
      configure: (raw) => (raw.redis = { url: `redis://app:${PASSWORD}@127.0.0.1:${server.port}`, keyPrefix: uniquePrefix() }),
    });
    try {
      expect(stack.config.redis.url).toBe(`redis://127.0.0.1:${server.port}`);
      const v = await vendOk(stack, READ, await tokens.alice(stack));
      expect((await call(stack, 'get', `/v1/sessions/${v.sessionId}`)).body.state).toBe('live');
      expect(stack.rawLogs.join('\n')).not.toContain(PASSWORD);
    } finally {
      await stack.stop();
    }
  });

  it('fails closed with a wrong password, and the error carries no password', async () => {
    const wrong = 'wrong-pass-94b2d0';
    const redis = createRedis({ url: `redis://127.0.0.1:${server.port}`, username: 'app', password: wrong }) as Redis;
    try {
      const store = new SessionStore(redis, { keyPrefix: uniquePrefix(), graceSeconds: 60, now: () => new Date() });
      const err = await store.get('S00000000001').then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/WRONGPASS|NOAUTH|not connected|Stream isn't writeable/);
      expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(wrong);
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain(wrong);
    } finally {
      redis.disconnect();
    }
  });
});

describeWithOwnRedis('a Redis that speaks only TLS', () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };
  let server: RedisProcess;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-test-tls-'));
    files = await makeTlsFiles(dir);
    server = await startRedisProcess({ tls: files });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is reached over TLS with rediss://, verifying the certificate against the CAs Node trusts (NODE_EXTRA_CA_CERTS)', async () => {
    // A child process, since Node reads NODE_EXTRA_CA_CERTS only at start; it validates the config as the
    // service does and writes through the client the service builds.
    const script = `
      const { parseConfig } = require('./src/config');
      const { createRedis, whenReady } = require('./src/storage/redis-client');
      const config = parseConfig({ aws: { region: 'us-east-1' }, issuers: [{ name: 'x', issuer: 'https://x', audiences: ['a'], algorithms: ['RS256'], accessType: 'AI', claims: { developer: 'sub' } }],
        redis: { url: 'rediss://localhost:${server.port}' } });
      const redis = createRedis(config.redis);
      whenReady(redis, 5000).then(() => redis.set('tls-check', 'ok')).then(() => redis.get('tls-check'))
        .then((v) => { console.log(JSON.stringify({ tls: config.redis.tls, value: v })); return redis.quit(); },
              (e) => { console.log(JSON.stringify({ error: String(e && e.cause ? e.cause.message : e) })); redis.disconnect(); });
    `;
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (err, out, stderr) =>
          err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>),
        ),
      );
    expect(await run({ NODE_EXTRA_CA_CERTS: files.ca })).toEqual({ tls: true, value: 'ok' });
    // Without the CA the certificate is refused: the client really verifies it.
    expect(String((await run({ NODE_EXTRA_CA_CERTS: '' })).error)).toMatch(/certificate|self.signed|verify/i);
  }, 60_000);
});
