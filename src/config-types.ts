/** Typed configuration after validation (see config.ts for the schema and defaults). */
export interface IssuerConfig {
  name: string;
  issuer: string;
  audiences: string[];
  jwksUri?: string;
  algorithms: string[];
  accessType: string;
  /** Set after validation: the configured one, else the issuer's name. "" names developers by the bare claim. */
  namespace: string;
  /** `owner`: claims that, with `sub`, name who owns a session. */
  claims: { developer: string; project?: string; groups?: string; owner?: string[] };
  boundClaims?: Record<string, string | string[]>;
  /** Seconds of clock skew accepted on exp/nbf/iat (default 30). */
  clockToleranceSeconds: number;
  /** Optional: refuse tokens whose iat is older than this. */
  maxTokenAgeSeconds?: number;
  /** Tokens whose exp - iat is longer are refused (default 86400). */
  maxTokenLifetimeSeconds: number;
}

export interface LimitsConfig {
  /** Vends per minute per identity (developer), across replicas. 0 disables. */
  vendsPerMinute: number;
  /** Live sessions per developer. 0 disables. */
  liveSessionsPerDeveloper: number;
}

/**
 * Where Redis is: after validation exactly one of `url` (one server), `cluster` (Redis Cluster seed nodes) or
 * `sentinels` (+ `sentinelName`) is set. Credentials are never left in `url`.
 */
export interface RedisConfig {
  url?: string;
  /** Seed nodes as "host:port"; the client discovers the others. */
  cluster?: string[];
  sentinels?: Array<{ host: string; port: number }>;
  /** The master group the sentinels monitor. */
  sentinelName?: string;
  username?: string;
  /** From the file, the URL or REDIS_PASSWORD; non-enumerable, so printing the config does not show it. */
  password?: string;
  /** True with rediss:// addresses. */
  tls: boolean;
  keyPrefix: string;
}

export interface Config {
  server: {
    port: number;
    host: string;
    bodyLimitBytes: number;
    trustProxy: boolean;
    drainSeconds: number;
    publicUrl?: string;
    /** When set, /metrics is served only on this listener, not on the API's. */
    metrics?: { port: number; host: string };
    /** PEM files (absolute after parsing); when set the service serves HTTPS itself, else a proxy terminates TLS. */
    tls?: { certFile: string; keyFile: string };
  };
  redis: RedisConfig;
  aws: { region: string; roleChaining: boolean; maxAttempts: number };
  issuers: IssuerConfig[];
  operators: { groups: string[]; issuers?: string[]; subjects?: string[] };
  templatesDir: string;
  sessions: { defaultDurationSeconds: number; maxDurationSeconds: number; graceSeconds: number; defaultSessionDurationSeconds: number; maxSessionDurationSeconds: number };
  limits: LimitsConfig;
  killSwitch: { marginSeconds: number; policyName: string; reconcileIntervalSeconds: number };
  gateway: GatewayConfig;
  /** The operator console at /console (src/console/). */
  console: ConsoleConfig;
  /** Vends of templates with `approval.required` (src/approvals/). */
  approvals: { webhookUrl?: string; webhookTimeoutMs: number; maxPendingPerDeveloper: number };
}

export interface ConsoleConfig {
  /** Off unless configured: a deployment opts in to a browser surface. */
  enabled: boolean;
  /** The OAuth client id the console signs in as; ID tokens must carry it as their audience. */
  clientId: string;
  /** Issuers (by name) offered for sign-in; default every configured issuer. */
  issuers?: string[];
  /** How long a console sign-in lasts (capped by the ID token's own expiry). */
  sessionTtlSeconds: number;
}

/** Gateway delivery (src/gateway): a second listener that signs agents' AWS calls with credentials they never see. */
export interface GatewayConfig {
  enabled: boolean;
  port: number;
  host: string;
  /** The URL agents reach the gateway at (their AWS_ENDPOINT_URL); default http://127.0.0.1:<port>. */
  publicUrl?: string;
  /** Server key the agents' gateway secrets derive from; non-enumerable, never printed. Set when enabled. */
  secretKey?: Buffer;
  /** Calls per second per session, across replicas; 0 = no limit (a template's limits may lower it). */
  callsPerSecond: number;
  /** Largest body the gateway buffers to hash or read (every service but S3, whose bodies stream). */
  maxBufferedBodyBytes: number;
  /** Recent calls kept per session for GET /v1/sessions/{id}/calls. */
  historySize: number;
  /** Upstream overrides per signing name, or `default`: the emulator in dev; AWS's own endpoints otherwise. */
  endpoints: Record<string, string>;
  proxy: GatewayProxyConfig;
}

/** Proxy mode: the gateway listener as an HTTPS proxy (CONNECT) that terminates TLS for AWS hosts with its own CA. */
export interface GatewayProxyConfig {
  enabled: boolean;
  /** What agents get as HTTPS_PROXY; default the gateway's own URL. */
  url?: string;
  /** PEM files of the CA every replica signs its per-host certificates with (absolute once parsed). */
  caCertFile?: string;
  caKeyFile?: string;
  /** Non-AWS destinations tunnelled without inspection (`host`, `*.domain`, with `:port` or 443). */
  allow: string[];
  /** Lifetime of a minted host certificate. */
  certTtlSeconds: number;
  /** Host certificates kept per process (least recently used go first). */
  maxCachedCerts: number;
}
