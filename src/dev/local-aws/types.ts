/**
 * Public types of the local AWS emulator: the state file it starts from, the faults it can inject, and the
 * admin view of the sessions it has issued.
 */
import type { PolicyDocument } from '../../policy/document';
import type { Decision, RequestContext } from './policy-eval';

/** The world the emulator starts with (a YAML state file, or an object in tests). */
export interface LocalAwsState {
  accountId: string;
  region?: string;
  /** Long-term keys (AKIA...) of IAM users; such a user may call every action (no user policies are modelled). */
  credentials: Array<{ accessKeyId: string; secretAccessKey: string; userName: string }>;
  roles: Array<{
    name: string;
    path?: string;
    trustPolicy: PolicyDocument;
    maxSessionDuration?: number;
    inlinePolicies?: Record<string, PolicyDocument>;
    managedPolicyArns?: string[];
  }>;
  /** Customer managed policies of the account, attachable to roles and passable as session PolicyArns. */
  managedPolicies?: Array<{ name: string; document: PolicyDocument }>;
  buckets?: Array<{ name: string; objects?: Record<string, string> }>;
  /** DynamoDB tables (string partition key), items in DynamoDB's attribute-value JSON. */
  tables?: Array<{ name: string; key: string; items?: Array<Record<string, Record<string, unknown>>> }>;
}

/** A share of calls (`rate`, 0..1) and/or the next `burst` calls fail. */
export interface FaultShare {
  rate?: number;
  burst?: number;
}

/** Faults on demand; none is on unless set. */
export interface Faults {
  /** STS answers `Throttling` ("Rate exceeded", 400). */
  stsThrottle?: FaultShare;
  /** IAM answers `ServiceFailure` (500). */
  iamFailure?: FaultShare;
  /** Added to every signed request before it is answered. */
  latencyMs?: number;
}

/** What the emulator remembers of one AssumeRole session (never the secret key or token). */
export interface SessionView {
  accessKeyId: string;
  roleArn: string;
  roleName: string;
  roleSessionName: string;
  assumedRoleArn: string;
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  sourceIdentity?: string;
  sessionPolicy?: string;
  policyArns: string[];
  issuedAt: Date;
  expiresAt: Date;
  packedPolicySize: number;
  /** True when the session was assumed with another session's credentials (role chaining). */
  chained: boolean;
}

/** Programmatic control of a running emulator. */
export interface LocalAwsAdmin {
  setFaults(f: Faults): void;
  clearFaults(): void;
  /** The faults in force, with each burst counted down to the calls it still has to fail. */
  faults(): Faults;
  sessions(): SessionView[];
  session(accessKeyId: string): SessionView | undefined;
  /** What AWS would decide for a call made with these credentials (for services the emulator does not serve). */
  authorize(accessKeyId: string, action: string, resource: string, context?: RequestContext): Decision;
}

/** A running emulator. */
export interface LocalAws {
  /** `http://127.0.0.1:<port>`: the value for AWS_ENDPOINT_URL. */
  url: string;
  port: number;
  admin: LocalAwsAdmin;
  stop(): Promise<void>;
}

/** Options of `startLocalAws`. */
export interface StartLocalAwsOptions {
  state: LocalAwsState;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: the admin paths are unsigned, so the emulator is not meant to be reachable. */
  host?: string;
  /** Clock for issue times, expiry and `aws:CurrentTime`; tests move it instead of sleeping. */
  now?: () => Date;
  /** How long a change to a role's inline policies takes to reach authorization (IAM eventual consistency). */
  iamPropagationDelayMs?: number;
}
