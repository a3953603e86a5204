import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import { parseConfig, type Config } from '../../src/config';
import { buildDeps, closeDeps, type AppDeps } from '../../src/deps';
import { startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer';
import { createLogger } from '../../src/observability/logger';
import { startTestAws } from './local-aws';
import { startRedis } from './redis';

export const TEMPLATES_DIR = path.resolve(__dirname, '../../policies/templates');

export interface TestStack {
  app: Express;
  deps: AppDeps;
  config: Config;
  aws: Awaited<ReturnType<typeof startTestAws>>;
  redis: Awaited<ReturnType<typeof startRedis>>;
  corp: DevIssuer;
  ci: DevIssuer;
  /** Every log line the service wrote, parsed (to assert audit events and that no secret leaks). */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
  /** A corp token for alice (backend, backend-api) unless claims say otherwise. */
  token(claims?: Record<string, unknown>): Promise<string>;
  vend(body: Record<string, unknown>, token?: string): Promise<request.Response>;
  stop(): Promise<void>;
}

/**
 * The real service in-process against real parts: its own redis-server, the local AWS emulator over HTTP,
 * and two dev OIDC issuers serving JWKS over HTTP. `configure` adjusts the config before the app is built.
 */
export async function startStack(opts: { configure?: (raw: Record<string, unknown>) => void; now?: () => Date } = {}): Promise<TestStack> {
  const redis = await startRedis();
  const aws = await startTestAws();
  const corp = await startDevIssuer({ port: 0 });
  const ci = await startDevIssuer({ port: 0 });
  const raw: Record<string, unknown> = {
    server: { port: 0, bodyLimitBytes: 16384 },
    redis: { url: redis.url, keyPrefix: redis.keyPrefix },
    aws: { region: 'us-east-1', maxAttempts: 2 },
    issuers: [
      { name: 'corp', issuer: corp.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'AI', claims: { developer: 'email', project: 'project', groups: 'groups' } },
      { name: 'ci', issuer: ci.issuer, audiences: ['sts-vend'], algorithms: ['RS256', 'ES256'], accessType: 'CI', claims: { developer: 'actor', project: 'repository' } },
    ],
    operators: { groups: ['secops'] },
    templatesDir: TEMPLATES_DIR,
    limits: { vendsPerMinute: 1000, liveSessionsPerDeveloper: 1000 },
  };
  opts.configure?.(raw);
  const config = parseConfig(raw);
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
  const token = (claims: Record<string, unknown> = {}): Promise<string> =>
    corp.mint({ email: 'alice@example.com', groups: ['backend'], project: 'backend-api', ...claims });
  return {
    app,
    deps,
    config,
    aws,
    redis,
    corp,
    ci,
    logs,
    rawLogs,
    token,
    vend: async (body, t) => request(app).post('/v1/vend').set('Authorization', `Bearer ${t ?? (await token())}`).send(body),
    stop: async () => {
      await closeDeps(deps);
      await Promise.allSettled([aws.aws.stop(), corp.stop(), ci.stop()]);
      await redis.stop();
    },
  };
}
