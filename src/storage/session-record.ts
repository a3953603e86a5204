/**
 * The session record and its compact encoding in Redis.
 *
 * One string value, one field per line (no field can hold a raw newline: JSON escapes it, and every other field
 * is an id, a key, a name or a number in a newline-free alphabet). Times are epoch milliseconds in base 36.
 *   head  0 state, 1 expiresAt, 2 issuedAt, 3 accessKeyId, 4 packedPolicySize, 5 assumedRoleArn, 6 failure,
 *         7 revokedAt, 8 revocationId                rewritten by the Lua scripts (session-scripts.ts)
 *   body  9 createdAt, 10 developer, 11 project, 12 template, 13 issuer, 14 accessType, 15 parameters (JSON),
 *         16 rarer fields (JSON object, see Extra)   written once by createPending; never re-encoded by Lua
 * Empty fields are empty lines, trailing ones left off. A string rather than a hash, and lines rather than JSON,
 * keep a live session's record near 180 bytes: a hash with any value over 64 bytes leaves the compact listpack
 * encoding, and JSON's quotes and commas were a fifth of the record. Every field that can be derived is left
 * out: the subject, source identity and raw claim when they equal the developer key, the owner when it is the
 * subject, the role ARN when it is the template's (`roleOf`, see session-store.ts), the role session name when
 * it is "<developer>.<id prefix>" (what a vend names it, src/vend/vend-credentials.ts), the assumed-role ARN
 * when it is the one AWS derives from those two.
 *
 * The format before this one (two JSON arrays, "[...]\n[...]") is still read, and the scripts still update it,
 * so sessions a previous version recorded keep working after an upgrade; it is never written.
 * Nothing secret is ever part of a record: no secret key, session token or bearer token.
 */
import { sessionNamePrefix } from '../auth/identity-key';

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

/** The role a template issues on, as the store derives it; undefined when it cannot tell. */
export type RoleOf = (template: string) => string | undefined;

/** One-letter state codes stored in the head. */
export const STATE_CODE: Record<SessionState, string> = { pending: 'p', live: 'l', failed: 'f', revoked: 'r', ended: 'e' };
const STATE_OF: Record<string, SessionState> = Object.fromEntries(Object.entries(STATE_CODE).map(([s, c]) => [c, s as SessionState]));

/** 0-based line numbers; the Lua scripts use these + 1. */
export const LINE = {
  state: 0, expiresAt: 1, issuedAt: 2, accessKeyId: 3, packedPolicySize: 4, assumedRoleArn: 5, failure: 6, revokedAt: 7, revocationId: 8,
  createdAt: 9, developer: 10, project: 11, template: 12, issuer: 13, accessType: 14, parameters: 15, extra: 16,
} as const;
/** Lines the scripts rewrite; the rest of the value is kept byte for byte. */
export const HEAD_LINES = LINE.createdAt;

/** The rarer fields, present only when they cannot be derived. */
interface Extra {
  s?: string; // subject
  o?: string; // owner
  c?: string; // developerClaim
  i?: string; // sourceIdentity
  r?: string; // roleArn
  n?: string; // roleSessionName
  e?: [number, number, string | null, ...'g'[]]; // refreshable: sessionEndsAtMs, credentialSeconds, tokenHash, "g" = gateway
}

/** Base-36 text of an instant in epoch ms (what the head's time fields hold); '' for none. */
export const time36 = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '' : Math.trunc(ms).toString(36));
const fromTime36 = (s: string | undefined): number | undefined => {
  const ms = s ? parseInt(s, 36) : NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
};
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The role session name a vend gives a session of this developer (src/vend/vend-credentials.ts). */
export function derivedSessionName(id: string, developerClaim: string): string | undefined {
  try {
    return `${sessionNamePrefix('', developerClaim)}.${id.slice(0, 8)}`;
  } catch {
    return undefined;
  }
}

/** The value stored for a new pending session. */
export function encodePending(rec: SessionRecord, roleOf: RoleOf): string {
  const extra: Extra = {};
  if (rec.subject !== rec.developer) extra.s = rec.subject;
  if (rec.owner !== rec.subject) extra.o = rec.owner;
  if (rec.developerClaim !== rec.developer) extra.c = rec.developerClaim;
  if (rec.sourceIdentity !== rec.developer) extra.i = rec.sourceIdentity;
  if (rec.roleArn !== roleOf(rec.template)) extra.r = rec.roleArn;
  if (rec.roleSessionName !== derivedSessionName(rec.id, rec.developerClaim)) extra.n = rec.roleSessionName;
  if (rec.sessionEndsAt) {
    extra.e = [Date.parse(rec.sessionEndsAt), rec.credentialSeconds ?? 900, rec.tokenHash ?? null, ...(rec.delivery === 'gateway' ? (['g'] as const) : [])];
  }
  const params = Object.keys(rec.parameters).length === 0 ? '' : JSON.stringify(rec.parameters);
  const lines = [STATE_CODE.pending, time36(Date.parse(rec.expiresAt)), '', '', '', '', '', '', ''];
  lines.push(time36(Date.parse(rec.createdAt)), rec.developer, rec.project, rec.template, rec.issuer, rec.accessType, params);
  lines.push(Object.keys(extra).length === 0 ? '' : JSON.stringify(extra));
  for (const [i, v] of lines.entries()) {
    if (i !== LINE.parameters && i !== LINE.extra && v.includes('\n')) throw new TypeError(`session ${rec.id}: a record field holds a newline`);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** Whether a stored value is in the format before this one (two JSON arrays). */
export const isLegacy = (raw: string): boolean => raw.startsWith('[');

/** The state of a stored record, without decoding the rest. */
export function stateOf(raw: string): SessionState {
  const code = isLegacy(raw) ? (JSON.parse(raw.slice(0, raw.indexOf('\n'))) as unknown[])[LEGACY_HEAD.state] : raw.slice(0, raw.indexOf('\n'));
  return STATE_OF[String(code)] ?? 'pending';
}

/** The record a stored value describes (either format). */
export function decodeRecord(id: string, raw: string, roleOf: RoleOf): SessionRecord {
  if (isLegacy(raw)) return decodeLegacy(id, raw);
  const f = raw.split('\n');
  const text = (i: number): string | undefined => (f[i] ? f[i] : undefined);
  const extra = (f[LINE.extra] ? JSON.parse(f[LINE.extra]!) : {}) as Extra;
  const developer = f[LINE.developer] ?? '';
  const subject = extra.s ?? developer;
  const template = f[LINE.template] ?? '';
  const developerClaim = extra.c ?? developer;
  const roleArn = extra.r ?? roleOf(template) ?? '';
  const roleSessionName = extra.n ?? derivedSessionName(id, developerClaim) ?? '';
  const rec: SessionRecord = {
    id,
    state: STATE_OF[f[LINE.state] ?? ''] ?? 'pending',
    issuer: f[LINE.issuer] ?? '',
    subject,
    owner: extra.o ?? subject,
    developer,
    developerClaim,
    project: f[LINE.project] ?? '',
    accessType: f[LINE.accessType] ?? '',
    template,
    roleArn,
    roleSessionName,
    sourceIdentity: extra.i ?? developer,
    parameters: (f[LINE.parameters] ? JSON.parse(f[LINE.parameters]!) : {}) as Record<string, unknown>,
    createdAt: iso(fromTime36(f[LINE.createdAt])) ?? new Date(0).toISOString(),
    expiresAt: iso(fromTime36(f[LINE.expiresAt])) ?? new Date(0).toISOString(),
  };
  const pps = f[LINE.packedPolicySize] ? Number(f[LINE.packedPolicySize]) : undefined;
  const optional: Partial<SessionRecord> = {
    issuedAt: iso(fromTime36(f[LINE.issuedAt])),
    accessKeyId: text(LINE.accessKeyId),
    packedPolicySize: pps !== undefined && Number.isFinite(pps) ? pps : undefined,
    failure: text(LINE.failure),
    revokedAt: iso(fromTime36(f[LINE.revokedAt])),
    revocationId: text(LINE.revocationId),
    ...refreshOf(extra.e),
  };
  // A session has an assumed-role ARN once it is live (it then has an access key id).
  if (optional.accessKeyId !== undefined) optional.assumedRoleArn = text(LINE.assumedRoleArn) ?? assumedRoleArnOf(roleArn, roleSessionName);
  return withOptional(rec, optional);
}

function refreshOf(e: unknown): Partial<SessionRecord> {
  if (!Array.isArray(e)) return {};
  return {
    sessionEndsAt: typeof e[0] === 'number' && e[0] > 0 ? new Date(e[0]).toISOString() : undefined,
    credentialSeconds: typeof e[1] === 'number' && e[1] > 0 ? e[1] : undefined,
    tokenHash: typeof e[2] === 'string' && e[2] !== '' ? e[2] : undefined,
    ...(e[3] === 'g' ? { delivery: 'gateway' as const } : {}),
  };
}

function withOptional(rec: SessionRecord, optional: Partial<SessionRecord>): SessionRecord {
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (rec as unknown as Record<string, unknown>)[k] = v;
  return rec;
}

/** 0-based positions of the previous format: head and body arrays. */
export const LEGACY_HEAD = { state: 0, expiresAt: 1, issuedAt: 2, accessKeyId: 3, packedPolicySize: 4, assumedRoleArn: 5, failure: 6, revokedAt: 7, revocationId: 8 } as const;
export const LEGACY_BODY = {
  issuer: 0, subject: 1, developer: 2, project: 3, accessType: 4, template: 5, roleArn: 6, roleSessionName: 7, sourceIdentity: 8,
  createdAt: 9, parameters: 10, refresh: 11, owner: 12, developerClaim: 13,
} as const;

/** A record in the previous format: "[head]\n[body]", both JSON arrays, every field explicit but the defaults. */
function decodeLegacy(id: string, raw: string): SessionRecord {
  const nl = raw.indexOf('\n');
  const head = JSON.parse(raw.slice(0, nl)) as unknown[];
  const body = JSON.parse(raw.slice(nl + 1)) as unknown[];
  const str = (a: unknown[], i: number): string | undefined => (typeof a[i] === 'string' && a[i] !== '' ? (a[i] as string) : undefined);
  const ms = (a: unknown[], i: number): number | undefined => (typeof a[i] === 'number' && (a[i] as number) > 0 ? (a[i] as number) : undefined);
  const B = LEGACY_BODY;
  const H = LEGACY_HEAD;
  const developer = str(body, B.developer) ?? '';
  const subject = str(body, B.subject) ?? developer;
  const roleArn = str(body, B.roleArn) ?? '';
  const roleSessionName = str(body, B.roleSessionName) ?? '';
  const rec: SessionRecord = {
    id,
    state: STATE_OF[str(head, H.state) ?? ''] ?? 'pending',
    issuer: str(body, B.issuer) ?? '',
    subject,
    owner: str(body, B.owner) ?? subject,
    developer,
    developerClaim: str(body, B.developerClaim) ?? developer,
    project: str(body, B.project) ?? '',
    accessType: str(body, B.accessType) ?? '',
    template: str(body, B.template) ?? '',
    roleArn,
    roleSessionName,
    sourceIdentity: str(body, B.sourceIdentity) ?? developer,
    parameters: (body[B.parameters] ?? {}) as Record<string, unknown>,
    createdAt: iso(ms(body, B.createdAt)) ?? new Date(0).toISOString(),
    expiresAt: iso(ms(head, H.expiresAt)) ?? new Date(0).toISOString(),
  };
  const optional: Partial<SessionRecord> = {
    issuedAt: iso(ms(head, H.issuedAt)),
    accessKeyId: str(head, H.accessKeyId),
    packedPolicySize: typeof head[H.packedPolicySize] === 'number' ? (head[H.packedPolicySize] as number) : undefined,
    failure: str(head, H.failure),
    revokedAt: iso(ms(head, H.revokedAt)),
    revocationId: str(head, H.revocationId),
    ...refreshOf(body[B.refresh]),
  };
  if (optional.accessKeyId !== undefined) optional.assumedRoleArn = str(head, H.assumedRoleArn) ?? assumedRoleArnOf(roleArn, roleSessionName);
  return withOptional(rec, optional);
}

/**
 * The ARN STS gives a session of this role: `arn:<partition>:sts::<account>:assumed-role/<role name>/<session
 * name>` (the role's path is not part of it). Undefined when roleArn is not a role ARN.
 */
export function assumedRoleArnOf(roleArn: string, roleSessionName: string): string | undefined {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${roleSessionName}` : undefined;
}
