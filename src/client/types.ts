// Type-only imports from the service: erased at build time, so the client loads none of the server's code.
import type { RevokeRequest } from '../revoke/revoke-sessions';
import type { PublicSession, SessionState } from '../storage/session-record';
import type { ApprovalRecord } from '../approvals/approval-store';
/**
 * The service's request and response shapes as a client sees them (openapi.yaml is the authority; these
 * mirror it by hand so the client package needs no schema tooling at run time).
 */

/** How the vend answers: the credentials alone, or also a container-credentials URL and token to refresh through. */
export type Delivery = 'credentials' | 'container' | 'gateway';

export interface VendRequest {
  template: string;
  parameters?: Record<string, unknown>;
  project?: string;
  /** Lifetime of each credential (900..43200, capped by the template and the service). */
  durationSeconds?: number;
  delivery?: Delivery;
  /** How long the session may keep refreshing through the container URL (900..43200, capped by the service). */
  sessionDurationSeconds?: number;
  /** Why; shown to approvers when the template requires approval. */
  reason?: string;
}

/** An approval request (POST /v1/vend answers one with 202 for a template that requires approval). */
export type Approval = ApprovalRecord & { links: { self: string; collect: string } };

/** How a vend waits for a decision when the template requires approval. */
export interface ApprovalWait {
  /** Called when the request is made and then on every poll, to show progress. */
  onProgress(approval: Approval, waitedMs: number): void;
  /** Poll interval (default 2000 ms). */
  pollMs?: number;
}

export interface VendCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 instant. */
  expiration: string;
}

export interface VendResponse {
  sessionId: string;
  template: string;
  roleArn: string;
  assumedRoleArn: string;
  roleSessionName: string;
  sourceIdentity: string;
  tags: Record<string, string>;
  expiresAt: string;
  /** When the session stops refreshing (container delivery). */
  sessionExpiresAt?: string;
  packedPolicySize: number;
  credentials: VendCredentials;
  /** Present when delivery is `container`: GET `url` with header `Authorization: <authorizationToken>`. */
  container?: { url: string; authorizationToken: string };
}

/** Gateway credentials: valid only at the gateway, which signs the agent's AWS calls with credentials it never sees. */
export interface GatewayCredentials {
  /** AWS_ENDPOINT_URL (or `--endpoint-url`) for the agent's SDK or CLI. */
  endpointUrl: string;
  /** `SVGW` + the session id: not an AWS key. */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The answer to a vend with `delivery: "gateway"`: no AWS credential at all. */
export type GatewayVendResponse = Omit<VendResponse, 'credentials' | 'container'> & { gateway: GatewayCredentials };

/** The container-credentials shape the AWS SDKs read (note `Token`, not `SessionToken`). */
export interface ContainerCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  /** RFC 3339 UTC: when to ask again. sts-vend reports at most a minute ahead (see reported-expiration.ts). */
  Expiration: string;
  /** sts-vend only: when the credential itself expires (later than Expiration). */
  CredentialExpiration?: string;
  AccountId?: string;
}

export type { SessionState };

export interface SessionFilters {
  /** The developer key (as the listings and CloudTrail show it). */
  developer?: string;
  /** With `claim`: a configured issuer (name or `iss`) and the raw developer claim, instead of the key. */
  issuer?: string;
  claim?: string;
  project?: string;
  template?: string;
  role?: string;
  state?: SessionState;
  cursor?: string;
  limit?: number;
}

/** A session as the API shows it (the service's own record minus the token hash); never a secret. */
export type Session = PublicSession;

export interface SessionPage {
  sessions: Session[];
  nextCursor?: string;
}

/** Exactly one selector plus a reason; `block` also refuses new vends in that scope for a while. */
export type { RevokeRequest };

export interface Revocation {
  revocationId: string;
  selector: { kind: 'session' | 'developer' | 'project' | 'template' | 'all'; value?: string };
  reason: string;
  operator: string;
  createdAt: string;
  sessionsRevoked: number;
  blockedUntil?: string;
  roles: Array<{ roleArn: string; state: 'applied' | 'pending'; error?: string; compacted?: boolean }>;
  note: string;
}

/** A revocation and whether AWS enforcement is still pending for some role (the service answered 202). */
export interface RevokeResult {
  revocation: Revocation;
  pending: boolean;
}

export interface RevocationPage {
  revocations: Revocation[];
  nextCursor?: string;
}
