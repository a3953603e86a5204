/** Typed configuration after validation (see config.ts for the schema and defaults). */
export interface IssuerConfig {
  name: string;
  issuer: string;
  audiences: string[];
  jwksUri?: string;
  algorithms: string[];
  accessType: string;
  claims: { developer: string; project?: string; groups?: string };
  boundClaims?: Record<string, string | string[]>;
  /** Seconds of clock skew accepted on exp/nbf/iat (default 30). */
  clockToleranceSeconds: number;
  /** Optional: refuse tokens whose iat is older than this. */
  maxTokenAgeSeconds?: number;
}

export interface LimitsConfig {
  /** Vends per minute per identity (developer), across replicas. 0 disables. */
  vendsPerMinute: number;
  /** Live sessions per developer. 0 disables. */
  liveSessionsPerDeveloper: number;
}

export interface Config {
  server: { port: number; host: string; bodyLimitBytes: number; trustProxy: boolean; drainSeconds: number };
  redis: { url: string; keyPrefix: string };
  aws: { region: string; roleChaining: boolean; maxAttempts: number };
  issuers: IssuerConfig[];
  operators: { groups: string[]; issuers?: string[]; subjects?: string[] };
  templatesDir: string;
  sessions: { defaultDurationSeconds: number; maxDurationSeconds: number; graceSeconds: number };
  limits: LimitsConfig;
  killSwitch: { marginSeconds: number; policyName: string; reconcileIntervalSeconds: number };
}
