import { Writable } from 'node:stream';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import { parseConfig, type Config } from '../../src/config';
import { buildDeps, closeDeps, type AppDeps } from '../../src/deps';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway-server';
import { createLogger } from '../../src/observability/logger';
import { serviceConfig } from './config';
import { startTestAws, type TestAws } from './local-aws';
import { startRedis, type TestRedis } from './redis';

export { TEMPLATES_DIR } from './config';

export interface TestStack {
  app: Express;
  deps: AppDeps;
  config: Config;
  aws: TestAws;
  redis: TestRedis;
  corp: DevIssuer;
  ci: DevIssuer;
  /** Every log line the service wrote, parsed (to assert audit events and that no secret leaks). */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
  /** A corp token for alice (backend, backend-api) unless claims say otherwise. */
  token(claims?: Record<string, unknown>): Promise<string>;
  vend(body: Record<string, unknown>, token?: string): Promise<request.Response>;
  /** The gateway listener, when the stack was started with `gateway: true`. */
  gateway?: RunningGateway;
  /** The service goes away (its connections closed) as in a restart; Redis, the emulator and the issuers stay. */
  stopService(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Adjusts the raw config before it is validated and the app is built. */
  configure?: (raw: Record<string, unknown>) => void;
  now?: () => Date;
  /**
   * Another stack's Redis and emulator (same key prefix): a second replica, or the service restarted over the
   * state the first one left. stop() then leaves them running; their owner stops them.
   */
  reuse?: { redis: TestRedis; aws: TestAws };
  /** Enables gateway delivery with a test key, forwarding to the emulator, and starts its listener. */
  gateway?: boolean;
}

/** The gateway server key of test stacks (any replica given it derives the same agent secrets). */
export const TEST_GATEWAY_KEY = 'test-gateway-key-0123456789abcdef0123456789';

/**
 * The real service in-process against real parts: its own redis-server, the local AWS emulator over HTTP,
 * and two dev OIDC issuers serving JWKS over HTTP. `configure` adjusts the config before the app is built.
 */
export async function startStack(opts: StackOptions = {}): Promise<TestStack> {
  const redis = opts.reuse?.redis ?? (await startRedis());
  const aws = opts.reuse?.aws ?? (await startTestAws());
  const corp = await startDevIssuer({ port: 0 });
  const ci = await startDevIssuer({ port: 0 });
  const raw: Record<string, unknown> = {
    ...serviceConfig({ redis, corp, ci }),
    server: { port: 0, bodyLimitBytes: 16384 },
    aws: { region: 'us-east-1', maxAttempts: 2 },
    limits: { vendsPerMinute: 1000, liveSessionsPerDeveloper: 1000 },
  };
  if (opts.gateway) raw.gateway = { enabled: true, port: 0, host: '127.0.0.1', endpoints: { default: aws.aws.url } };
  opts.configure?.(raw);
  const config = parseConfig(raw, opts.gateway ? { STS_VEND_GATEWAY_KEY: TEST_GATEWAY_KEY } : {});
  const rawLogs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  const deps = await buildDeps(config, {
    logger: createLogger({ level: 'debug', destination }),
    now: opts.now,
    stsClientConfig: aws.clientConfig,
    iamClientConfig: aws.clientConfig,
  });
  const app = createApp(deps);
  const gateway = opts.gateway ? await startGateway(deps) : undefined;
  // Once only: quitting an ioredis client a second time leaves a handle open.
  let closing: Promise<void> | undefined;
  const stopService = (): Promise<void> => (closing ??= (async () => {
    await gateway?.close();
    await closeDeps(deps);
  })());
  const token = (claims: Record<string, unknown> = {}): Promise<string> =>
    corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api', ...claims });
  return {
    app,
    deps,
    ...(gateway ? { gateway } : {}),
    config,
    aws,
    redis,
    corp,
    ci,
    logs,
    rawLogs,
    token,
    vend: async (body, t) => request(app).post('/v1/vend').set('Authorization', `Bearer ${t ?? (await token())}`).send(body),
    stopService,
    stop: async () => {
      await stopService();
      await Promise.allSettled([opts.reuse ? undefined : aws.aws.stop(), corp.stop(), ci.stop()]);
      if (!opts.reuse) await redis.stop();
    },
  };
}
