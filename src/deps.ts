import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { Cluster, Redis } from 'ioredis';
import { ApprovalStore } from './approvals/approval-store';
import type { Identity } from './auth/identity';
import { createTokenVerifier } from './auth/verify-token';
import type { GatewayDeps } from './ports';
import type { Config } from './config';
import { ConsoleStore } from './console/console-store';
import { GatewayStore } from './gateway/gateway-store';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { loadOpenApi, type OpenApi } from './openapi';
import { roleApplier } from './revoke/apply-role-policy';
import { KillSwitchStore, type RoleState } from './storage/kill-switch-store';
import { startRevocationReconciler, type Reconciler } from './revoke/reconciler';
import { createRedis } from './storage/redis-client';
import { SessionStore } from './storage/session-store';
import { loadTemplates } from './templates/load-templates';
import type { LoadedTemplate } from './templates/types';
import { CredentialCache } from './vend/credential-cache';

/** Everything the app needs, built once by main.ts (real AWS) or by tests and the dev server (local AWS). */
export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  redis: Redis | Cluster;
  sessions: SessionStore;
  sts: STSClient;
  /** Only for the kill switch's own inline policy; one attempt per call, the reconciler retries. */
  iam: IAMClient;
  killSwitch: KillSwitchStore;
  /** Current credentials of refreshable sessions, in this process only. */
  credentialCache: CredentialCache;
  /** Layer 2 for one role: rebuild and write its revocation policy (never throws for AWS errors); roleApplier. */
  applyRole(roleArn: string, revocationId?: string): Promise<RoleState>;
  /** Approval requests of templates with `approval.required` (src/approvals/). */
  approvals: ApprovalStore;
  /** The operator console's sign-ins and sessions (src/console/). */
  consoleStore: ConsoleStore;
  verifier: { verify(token: string): Promise<Identity> };
  templates: Map<string, LoadedTemplate>;
  openapi: OpenApi;
  /** Gateway delivery, when `gateway.enabled` (src/gateway). */
  gateway?: GatewayDeps;
}

export interface DepsOverrides {
  logger?: Logger;
  now?: () => Date;
  /** Extra STS client options; production passes none and the SDK's default chain and endpoint rules apply. */
  stsClientConfig?: Partial<STSClientConfig>;
  iamClientConfig?: Partial<IAMClientConfig>;
  defaultMetrics?: boolean;
}

/** Builds the real dependencies. Throws TemplateLoadError / ConfigError for a setup that cannot run. */
export async function buildDeps(config: Config, overrides: DepsOverrides = {}): Promise<AppDeps> {
  const now = overrides.now ?? (() => new Date());
  const logger = overrides.logger ?? createLogger();
  const templates = await loadTemplates(config.templatesDir, {
    issuers: config.issuers.map((i) => i.name),
    maxDurationSeconds: config.sessions.maxDurationSeconds,
  });
  const redis = createRedis(config.redis);
  const metrics = createMetrics({ defaultMetrics: overrides.defaultMetrics ?? false });
  // IAM is a global service: its endpoint is us-east-1 whatever region the service runs in.
  const iam = new IAMClient({ region: 'us-east-1', maxAttempts: 1, ...overrides.iamClientConfig });
  const killSwitch = new KillSwitchStore(redis, { keyPrefix: config.redis.keyPrefix, now });
  const gateway: GatewayDeps | undefined =
    config.gateway.enabled && config.gateway.secretKey
      ? {
          store: new GatewayStore(redis, killSwitch, {
            keyPrefix: config.redis.keyPrefix,
            historySize: config.gateway.historySize,
            now,
            onFlushError: (err) => {
              metrics.redisErrors.inc({ op: 'gateway.recordCalls' });
              logger.warn({ err: (err as Error)?.message }, 'gateway call records not written');
            },
          }),
          key: config.gateway.secretKey,
          ...(config.gateway.publicUrl ? { endpointUrl: config.gateway.publicUrl } : {}),
        }
      : undefined;
  return {
    ...(gateway ? { gateway } : {}),
    config,
    logger,
    metrics,
    now,
    redis,
    sessions: new SessionStore(redis, { keyPrefix: config.redis.keyPrefix, graceSeconds: config.sessions.graceSeconds, now }),
    sts: new STSClient({ region: config.aws.region, maxAttempts: config.aws.maxAttempts, ...overrides.stsClientConfig }),
    iam,
    killSwitch,
    credentialCache: new CredentialCache(),
    applyRole: roleApplier({ iam, killSwitch, now, logger, metrics, config }),
    approvals: new ApprovalStore(redis, config.redis.keyPrefix),
    consoleStore: new ConsoleStore(redis, config.redis.keyPrefix),
    verifier: createTokenVerifier(config.issuers, { now }),
    templates: new Map(templates.map((t) => [t.name, t])),
    openapi: loadOpenApi(),
  };
}

/** The kill switch's background half (retries pending roles, prunes expired entries); one leader at a time. */
export function startDepsReconciler(deps: AppDeps): Reconciler {
  return startRevocationReconciler(deps);
}

/** Releases connections; the app itself holds none. */
const closed = new WeakSet<AppDeps>();
export async function closeDeps(deps: AppDeps): Promise<void> {
  // Idempotent: a second quit on a closed ioredis client leaves a handle that keeps the process alive.
  if (closed.has(deps)) return;
  closed.add(deps);
  deps.sts.destroy();
  deps.iam.destroy();
  await deps.redis.quit().catch(() => deps.redis.disconnect());
}
