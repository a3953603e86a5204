/**
 * The session record and its compact encoding in Redis.
 *
 * One string value, two JSON arrays separated by a newline (JSON never contains a raw newline):
 *   head  [state, expiresAtMs, issuedAtMs, accessKeyId, packedPolicySize, assumedRoleArn, failure, revokedAtMs,
 *          revocationId]   rewritten by the Lua scripts (session-scripts.ts), so only short scalars live here
 *   body  [issuer, subject, developer, project, accessType, template, roleArn, roleSessionName, sourceIdentity,
 *          createdAtMs, parameters, refresh?, owner?, developerClaim?]   written once by createPending, never
 *          re-encoded by Lua
 * Arrays rather than objects and a string rather than a hash keep a session near 300 bytes: a hash with any
 * value over 64 bytes (a role ARN can be) leaves the compact listpack encoding and costs ~100 bytes more.
 * Fields equal to a derivable value are stored as null (or left off at the end): subject and sourceIdentity when
 * they equal the developer, owner when it is the subject, developerClaim when it is the developer key itself,
 * assumedRoleArn when it is the one AWS derives from roleArn and roleSessionName.
 * Nothing secret is ever part of a record: no secret key, session token or bearer token.
 */

export type SessionState = 'pending' | 'live' | 'failed' | 'revoked' | 'ended';

export interface SessionRecord {
  id: string;
  state: SessionState;
  issuer: string;
  subject: string;
  /** Who may read or end the session: the subject, or the subject with the issuer's owner claims. */
  owner: string;
  /** The identity key (src/auth/identity-key.ts): the `developer` tag, indexes, blocks, quotas. */
  developer: string;
  /** The raw claim the key was made from, shown beside it. */
  developerClaim: string;
  /** The project key: the `project` tag. */
  project: string;
  accessType: string;
  template: string;
  roleArn: string;
  roleSessionName: string;
  sourceIdentity: string;
  parameters: Record<string, unknown>;
  /** ISO instant the vend started. */
  createdAt: string;
  /** ISO instant the credentials expire (planned while pending, from STS once live). */
  expiresAt: string;
  issuedAt?: string;
  accessKeyId?: string;
  assumedRoleArn?: string;
  packedPolicySize?: number;
  failure?: string;
  revokedAt?: string;
  revocationId?: string;
  /** Refreshable sessions (container delivery): refreshes are refused from this instant on. */
  sessionEndsAt?: string;
  /** Lifetime of each credential a refresh issues. */
  credentialSeconds?: number;
  /** SHA-256 (base64url) of the container authorization token; the token itself is never stored. */
  tokenHash?: string;
  /** `gateway`: the agent holds gateway credentials only; the service signs its AWS calls (src/gateway). */
  delivery?: 'gateway';
}

/** A session as the API shows it: the token hash is the service's business only. */
export type PublicSession = Omit<SessionRecord, 'tokenHash'>;

/** One-letter state codes stored in the head. */
export const STATE_CODE: Record<SessionState, string> = { pending: 'p', live: 'l', failed: 'f', revoked: 'r', ended: 'e' };
const STATE_OF: Record<string, SessionState> = Object.fromEntries(Object.entries(STATE_CODE).map(([s, c]) => [c, s as SessionState]));

/** 0-based positions in the head array; the Lua scripts use these + 1. */
export const HEAD = { state: 0, expiresAt: 1, issuedAt: 2, accessKeyId: 3, packedPolicySize: 4, assumedRoleArn: 5, failure: 6, revokedAt: 7, revocationId: 8 } as const;
/** 0-based positions in the body array. */
export const BODY = {
  issuer: 0, subject: 1, developer: 2, project: 3, accessType: 4, template: 5, roleArn: 6, roleSessionName: 7, sourceIdentity: 8,
  createdAt: 9, parameters: 10, refresh: 11, owner: 12, developerClaim: 13,
} as const;

/** The value stored for a new pending session. */
export function encodePending(rec: SessionRecord): string {
  const head = [STATE_CODE.pending, Date.parse(rec.expiresAt)];
  const body: unknown[] = [
    rec.issuer,
    rec.subject === rec.developer ? null : rec.subject,
    rec.developer,
    rec.project,
    rec.accessType,
    rec.template,
    rec.roleArn,
    rec.roleSessionName,
    rec.sourceIdentity === rec.developer ? null : rec.sourceIdentity,
    Date.parse(rec.createdAt),
    rec.parameters,
  ];
  // Optional tail, trailing nulls left off: refreshable sessions' [sessionEndsAtMs, credentialSeconds, tokenHash]
  // (plus "g" for gateway delivery), an owner other than the subject, a raw claim other than the key.
  const tail: unknown[] = [
    rec.sessionEndsAt ? [Date.parse(rec.sessionEndsAt), rec.credentialSeconds ?? 900, rec.tokenHash ?? null, ...(rec.delivery === 'gateway' ? ['g'] : [])] : null,
    rec.owner === rec.subject ? null : rec.owner,
    rec.developerClaim === rec.developer ? null : rec.developerClaim,
  ];
  while (tail.length > 0 && tail[tail.length - 1] === null) tail.pop();
  body.push(...tail);
  return `${JSON.stringify(head)}\n${JSON.stringify(body)}`;
}

/** The record a stored value describes. */
export function decodeRecord(id: string, raw: string): SessionRecord {
  const nl = raw.indexOf('\n');
  const head = JSON.parse(raw.slice(0, nl)) as unknown[];
  const body = JSON.parse(raw.slice(nl + 1)) as unknown[];
  const str = (a: unknown[], i: number): string | undefined => (typeof a[i] === 'string' && a[i] !== '' ? (a[i] as string) : undefined);
  const num = (a: unknown[], i: number): number | undefined => (typeof a[i] === 'number' && (a[i] as number) > 0 ? (a[i] as number) : undefined);
  const iso = (a: unknown[], i: number): string | undefined => {
    const ms = num(a, i);
    return ms === undefined ? undefined : new Date(ms).toISOString();
  };
  const developer = str(body, BODY.developer) ?? '';
  const subject = str(body, BODY.subject) ?? developer;
  const roleArn = str(body, BODY.roleArn) ?? '';
  const roleSessionName = str(body, BODY.roleSessionName) ?? '';
  const rec: SessionRecord = {
    id,
    state: STATE_OF[str(head, HEAD.state) ?? ''] ?? 'pending',
    issuer: str(body, BODY.issuer) ?? '',
    subject,
    owner: str(body, BODY.owner) ?? subject,
    developer,
    developerClaim: str(body, BODY.developerClaim) ?? developer,
    project: str(body, BODY.project) ?? '',
    accessType: str(body, BODY.accessType) ?? '',
    template: str(body, BODY.template) ?? '',
    roleArn,
    roleSessionName,
    sourceIdentity: str(body, BODY.sourceIdentity) ?? developer,
    parameters: (body[BODY.parameters] ?? {}) as Record<string, unknown>,
    createdAt: iso(body, BODY.createdAt) ?? new Date(0).toISOString(),
    expiresAt: iso(head, HEAD.expiresAt) ?? new Date(0).toISOString(),
  };
  const optional: Partial<SessionRecord> = {
    issuedAt: iso(head, HEAD.issuedAt),
    accessKeyId: str(head, HEAD.accessKeyId),
    packedPolicySize: typeof head[HEAD.packedPolicySize] === 'number' ? (head[HEAD.packedPolicySize] as number) : undefined,
    failure: str(head, HEAD.failure),
    revokedAt: iso(head, HEAD.revokedAt),
    revocationId: str(head, HEAD.revocationId),
  };
  const refresh = body[BODY.refresh];
  if (Array.isArray(refresh)) {
    optional.sessionEndsAt = iso(refresh, 0);
    optional.credentialSeconds = num(refresh, 1);
    optional.tokenHash = str(refresh, 2);
    if (refresh[3] === 'g') optional.delivery = 'gateway';
  }
  // A session has an assumed-role ARN once it is live (it then has an access key id).
  if (optional.accessKeyId !== undefined) {
    optional.assumedRoleArn = str(head, HEAD.assumedRoleArn) ?? assumedRoleArnOf(roleArn, roleSessionName);
  }
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (rec as unknown as Record<string, unknown>)[k] = v;
  return rec;
}

/**
 * The ARN STS gives a session of this role: `arn:<partition>:sts::<account>:assumed-role/<role name>/<session
 * name>` (the role's path is not part of it). Undefined when roleArn is not a role ARN.
 */
export function assumedRoleArnOf(roleArn: string, roleSessionName: string): string | undefined {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${roleSessionName}` : undefined;
}
