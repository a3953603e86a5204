import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { NAMESPACE } from './auth/identity-key';
import { redisSchema, settleRedis } from './config-redis';
import type { Config, GatewayProxyConfig } from './config-types';

export type { Config, IssuerConfig, LimitsConfig, RedisConfig } from './config-types';

/** A configuration that cannot run: every problem, each naming its path, so one edit fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const name = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' };
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } };
const globOrList = { anyOf: [{ type: 'string' }, stringList] };

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuers', 'aws'],
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        host: { type: 'string', default: '0.0.0.0' },
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 16384 },
        trustProxy: { type: 'boolean', default: false },
        drainSeconds: { type: 'integer', minimum: 0, maximum: 300, default: 10 },
        // The URL clients reach this service at (for container-credentials URLs); else the listener's own address.
        publicUrl: { type: 'string', pattern: '^https?://[^/]+$' },
        // /metrics on a listener of its own (e.g. 127.0.0.1:9464), so the API port never serves it.
        metrics: {
          type: 'object',
          additionalProperties: false,
          required: ['port'],
          properties: { port: { type: 'integer', minimum: 0, maximum: 65535 }, host: { type: 'string', default: '127.0.0.1' } },
        },
        // Serve HTTPS itself (PEM files, read at start); without it, terminate TLS at a proxy and set trustProxy.
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['certFile', 'keyFile'],
          properties: { certFile: { type: 'string', minLength: 1 }, keyFile: { type: 'string', minLength: 1 } },
        },
      },
    },
    redis: redisSchema,
    aws: {
      type: 'object',
      additionalProperties: false,
      required: ['region'],
      properties: {
        region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' },
        // docs/aws.md: when the service itself runs on an assumed role, every AssumeRole is chaining (1 h cap).
        roleChaining: { type: 'boolean', default: false },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
      },
    },
    issuers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'issuer', 'audiences', 'algorithms', 'accessType', 'claims'],
        properties: {
          name,
          issuer: { type: 'string', pattern: '^https?://' },
          audiences: { ...stringList, minItems: 1 },
          jwksUri: { type: 'string', pattern: '^https?://' },
          algorithms: {
            type: 'array',
            minItems: 1,
            items: { enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] },
          },
          accessType: { type: 'string', pattern: '^[A-Za-z0-9_.:/=+@-]{1,32}$' },
          // Whose people these are (src/auth/identity-key.ts): issuers sharing a namespace share developers; ""
          // names them by the bare claim. Default: the issuer's name, so two issuers never share a developer.
          namespace: { type: 'string', pattern: NAMESPACE.source },
          claims: {
            type: 'object',
            additionalProperties: false,
            required: ['developer'],
            properties: {
              developer: { type: 'string', minLength: 1 },
              project: { type: 'string', minLength: 1 },
              groups: { type: 'string', minLength: 1 },
              // Who owns a session (may read or end it): `sub` and these claims, e.g. a CI run id, so two jobs of
              // one repository and ref cannot touch each other's sessions.
              owner: { type: 'array', maxItems: 8, uniqueItems: true, items: { type: 'string', minLength: 1 } },
            },
          },
          boundClaims: { type: 'object', additionalProperties: globOrList, default: {} },
          clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 300, default: 30 },
          maxTokenAgeSeconds: { type: 'integer', minimum: 60 },
          // A token valid for longer than this (exp - iat) is refused, whatever its signature.
          maxTokenLifetimeSeconds: { type: 'integer', minimum: 60, maximum: 2592000, default: 86400 },
        },
      },
    },
    operators: {
      type: 'object',
      additionalProperties: false,
      default: { groups: [] },
      required: ['groups'],
      properties: { groups: stringList, issuers: stringList, subjects: stringList },
    },
    templatesDir: { type: 'string', minLength: 1, default: 'policies/templates' },
    sessions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // docs/aws.md: DurationSeconds 900..43200.
        defaultDurationSeconds: { type: 'integer', minimum: 900, maximum: 43200, default: 900 },
        maxDurationSeconds: { type: 'integer', minimum: 900, maximum: 43200, default: 3600 },
        graceSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 300 },
        // Refreshable sessions (container delivery, exec, the CLI's cache) keep refreshing short credentials for
        // this long unless the vend asks otherwise (an agent's working session), and never longer than the max.
        defaultSessionDurationSeconds: { type: 'integer', minimum: 900, maximum: 86400, default: 3600 },
        maxSessionDurationSeconds: { type: 'integer', minimum: 900, maximum: 86400, default: 28800 },
      },
    },
    killSwitch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // A session issued before a revocation must be denied even when AWS's clock is this far behind ours.
        marginSeconds: { type: 'integer', minimum: 0, maximum: 300, default: 5 },
        policyName: { type: 'string', pattern: '^[\\w+=,.@-]{1,128}$', default: 'sts-vend-revocations' },
        reconcileIntervalSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 5 },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8081 },
        host: { type: 'string', minLength: 1 },
        publicUrl: { type: 'string', pattern: '^https?://[^/]+$' },
        // The server key: a file (read at start) or STS_VEND_GATEWAY_KEY; never a literal in the config.
        secretKeyFile: { type: 'string', minLength: 1 },
        callsPerSecond: { type: 'integer', minimum: 0, default: 100 },
        maxBufferedBodyBytes: { type: 'integer', minimum: 1024, maximum: 268435456, default: 16777216 },
        historySize: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        endpoints: { type: 'object', propertyNames: { pattern: '^[a-z0-9-]{2,32}$' }, additionalProperties: { type: 'string', pattern: '^https?://[^/?#]+/?$' }, default: {} },
        // Proxy mode (src/gateway/proxy-server.ts): the same listener as an HTTPS proxy for agents' AWS hosts.
        proxy: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: false },
            // What agents get as HTTPS_PROXY; default the gateway's own URL.
            url: { type: 'string', pattern: '^https?://[^/]+$' },
            // The CA that signs the per-host certificates: one pair shared by every replica, never generated here.
            caCertFile: { type: 'string', minLength: 1 },
            caKeyFile: { type: 'string', minLength: 1 },
            // Non-AWS destinations tunnelled without inspection: `host`, `*.domain` or either with `:port` (443 if none).
            allow: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: '^(\\*\\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$' }, default: [] },
            certTtlSeconds: { type: 'integer', minimum: 300, maximum: 604800, default: 3600 },
            maxCachedCerts: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
          },
        },
      },
    },
    console: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        clientId: { type: 'string', minLength: 1, maxLength: 256, default: 'sts-vend-console' },
        issuers: { ...stringList, minItems: 1 },
        sessionTtlSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 3600 },
      },
    },
    approvals: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Generic JSON webhook (Slack-compatible `text`) told of every new approval request.
        webhookUrl: { type: 'string', pattern: '^https?://' },
        webhookTimeoutMs: { type: 'integer', minimum: 100, maximum: 30000, default: 3000 },
        // Requests one developer may have waiting at once: no flooding approvers or the webhook.
        maxPendingPerDeveloper: { type: 'integer', minimum: 1, maximum: 100, default: 3 },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        vendsPerMinute: { type: 'integer', minimum: 0, default: 30 },
        liveSessionsPerDeveloper: { type: 'integer', minimum: 0, default: 20 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema);

/**
 * Validates a parsed config object (applying defaults) and returns it typed, or throws ConfigError
 * listing every problem with its path. `env` overrides: PORT, REDIS_URL and REDIS_PASSWORD.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, baseDir = '.'): Config {
  const doc = structuredClone(raw ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT: must be a port number, got "${env.PORT}"`);
    else doc.server = { ...(doc.server as object), port };
  }
  if (env.REDIS_URL) doc.redis = { ...(doc.redis as object), url: env.REDIS_URL };
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
      const extra = e.keyword === 'additionalProperties' ? ` "${String(e.params.additionalProperty)}"` : '';
      problems.push(`${where}: ${e.message ?? 'invalid'}${extra}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = doc as unknown as Config;
  problems.push(...crossChecks(config), ...settleRedis(config.redis, env, Boolean(env.REDIS_URL)), ...settleGateway(config, env, baseDir));
  if (problems.length > 0) throw new ConfigError(problems);
  config.templatesDir = path.resolve(baseDir, config.templatesDir);
  const tls = config.server.tls;
  if (tls) config.server.tls = { certFile: path.resolve(baseDir, tls.certFile), keyFile: path.resolve(baseDir, tls.keyFile) };
  return config;
}

function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const urls = new Set<string>();
  config.issuers.forEach((iss, i) => {
    if (seen.has(iss.name)) problems.push(`issuers.${i}.name: duplicate issuer name "${iss.name}"`);
    // A token is routed to its issuer by `iss`: two entries for one URL would make the choice ambiguous.
    if (urls.has(iss.issuer)) problems.push(`issuers.${i}.issuer: "${iss.issuer}" is configured twice`);
    seen.add(iss.name);
    urls.add(iss.issuer);
    if (iss.namespace === undefined) {
      if (NAMESPACE.test(iss.name)) iss.namespace = iss.name;
      else problems.push(`issuers.${i}.namespace: required, since the name "${iss.name}" is not a namespace (${NAMESPACE.source})`);
    }
  });
  const s = config.sessions;
  if (s.defaultDurationSeconds > s.maxDurationSeconds) {
    problems.push('sessions.defaultDurationSeconds: must not exceed sessions.maxDurationSeconds');
  }
  if (s.defaultSessionDurationSeconds > s.maxSessionDurationSeconds) {
    problems.push('sessions.defaultSessionDurationSeconds: must not exceed sessions.maxSessionDurationSeconds');
  }
  if (config.aws.roleChaining && s.maxDurationSeconds > 3600) {
    problems.push('sessions.maxDurationSeconds: role chaining caps sessions at 3600 seconds');
  }
  for (const name of config.console.issuers ?? []) {
    if (!seen.has(name)) problems.push(`console.issuers: unknown issuer "${name}"`);
  }
  for (const name of config.operators.issuers ?? []) {
    if (!seen.has(name)) problems.push(`operators.issuers: unknown issuer "${name}"`);
  }
  return problems;
}

/**
 * The gateway's server key (STS_VEND_GATEWAY_KEY or gateway.secretKeyFile, at least 32 bytes, no default: a
 * guessable key would let anyone forge every agent's secret), its listen host, and upstream overrides from the
 * SDK's own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables where the file names none.
 */
function settleGateway(config: Config, env: NodeJS.ProcessEnv, baseDir: string): string[] {
  const problems: string[] = [];
  const g = config.gateway as Config['gateway'] & { secretKeyFile?: string };
  g.host ??= config.server.host;
  let key: Buffer | undefined;
  if (env.STS_VEND_GATEWAY_KEY) key = Buffer.from(env.STS_VEND_GATEWAY_KEY, 'utf8');
  else if (g.secretKeyFile) {
    try {
      key = Buffer.from(readFileSync(path.resolve(baseDir, g.secretKeyFile), 'utf8').trim(), 'utf8');
    } catch (err) {
      problems.push(`gateway.secretKeyFile: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  delete g.secretKeyFile;
  if (key && key.length < 32) problems.push('gateway.secretKeyFile: the gateway key must be at least 32 bytes (STS_VEND_GATEWAY_KEY or the file)');
  else if (g.enabled && !key && problems.length === 0) problems.push('gateway.secretKeyFile: gateway.enabled needs a server key (gateway.secretKeyFile or STS_VEND_GATEWAY_KEY)');
  Object.defineProperty(g, 'secretKey', { value: key, enumerable: false, writable: true, configurable: true });
  const endpoints = { ...g.endpoints };
  if (env.AWS_ENDPOINT_URL && !endpoints.default) endpoints.default = env.AWS_ENDPOINT_URL;
  for (const [name, value] of Object.entries(env)) {
    const m = /^AWS_ENDPOINT_URL_([A-Z0-9_]+)$/.exec(name);
    // The variables use the SDK's service ids; the gateway keys endpoints by signing name.
    const id = m?.[1]?.toLowerCase().replace(/_/g, '-');
    const service = id === 'cloudwatch-logs' ? 'logs' : id;
    if (service && value && !endpoints[service]) endpoints[service] = value;
  }
  g.endpoints = endpoints;
  if (g.proxy.enabled && !g.enabled) problems.push('gateway.proxy.enabled: proxy mode is part of the gateway; it needs gateway.enabled');
  problems.push(...settleProxy(g.proxy, baseDir));
  return problems;
}

/** Proxy mode needs a CA pair from files (replicas must share one, so none is made up here); paths resolve from the config's folder. */
function settleProxy(p: GatewayProxyConfig, baseDir: string): string[] {
  if (p.caCertFile) p.caCertFile = path.resolve(baseDir, p.caCertFile);
  if (p.caKeyFile) p.caKeyFile = path.resolve(baseDir, p.caKeyFile);
  if (!p.enabled || (p.caCertFile && p.caKeyFile)) return [];
  return [`gateway.proxy.${p.caCertFile ? 'caKeyFile' : 'caCertFile'}: proxy mode needs its CA certificate and key files (caCertFile, caKeyFile), shared by every replica`];
}

/** Reads `$STS_VEND_CONFIG` (default ./sts-vend.yaml); relative paths in it resolve from its folder. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = path.resolve(env.STS_VEND_CONFIG ?? 'sts-vend.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`]);
  }
  return parseConfig(raw, env, path.dirname(file));
}
