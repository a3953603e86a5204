/**
 * The emulator's in-memory account: IAM users (long-term keys), roles with their inline policies, customer
 * managed policies, and the sessions STS has issued. Inline policy changes are kept as a timeline so that
 * authorization can see them with a delay, the way IAM's eventual consistency does.
 */
import { minifyPolicy, type PolicyDocument } from '../../policy/document';
import { newUniqueId } from './ids';
import type { LocalAwsState, SessionView } from './types';

export interface UserRecord {
  userName: string;
  userId: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface InlinePolicy {
  /** The document as the caller sent it (GetRolePolicy returns this text). */
  text: string;
  doc: PolicyDocument;
}

interface InlineChange {
  at: number;
  name: string;
  /** undefined = the policy was deleted. */
  policy?: InlinePolicy;
}

export interface RoleRecord {
  name: string;
  path: string;
  arn: string;
  roleId: string;
  createDate: Date;
  trustPolicy: PolicyDocument;
  trustPolicyText: string;
  description?: string;
  maxSessionDuration: number;
  managedPolicyArns: string[];
  /** Current inline policies (what IAM reads return). */
  inline: Map<string, InlinePolicy>;
  /** Every inline change with its time, for delayed visibility to authorization. */
  timeline: InlineChange[];
}

/** A session as stored: the public view plus what only verification and authorization may use. */
export interface IssuedSession extends SessionView {
  accountId: string;
  roleId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Parsed inline session policy, when one was passed. */
  sessionPolicyDoc?: PolicyDocument;
}

export interface ManagedPolicy {
  arn: string;
  name: string;
  doc: PolicyDocument;
}

/** The mutable account state behind STS, IAM and authorization. */
export class World {
  readonly accountId: string;
  readonly region: string;
  readonly users = new Map<string, UserRecord>();
  readonly sessions = new Map<string, IssuedSession>();
  readonly managedPolicies = new Map<string, ManagedPolicy>();
  /** By lower-cased role name: IAM role names are unique regardless of case. */
  private readonly roles = new Map<string, RoleRecord>();

  constructor(state: LocalAwsState, private readonly opts: { now: () => Date; propagationDelayMs: number }) {
    this.accountId = state.accountId;
    this.region = state.region ?? 'us-east-1';
    for (const c of state.credentials) {
      const arn = `arn:aws:iam::${this.accountId}:user/${c.userName}`;
      this.users.set(c.accessKeyId, { ...c, arn, userId: newUniqueId('AIDA') });
    }
    for (const p of state.managedPolicies ?? []) {
      const arn = `arn:aws:iam::${this.accountId}:policy/${p.name}`;
      this.managedPolicies.set(arn, { arn, name: p.name, doc: p.document });
    }
    for (const r of state.roles) {
      const role = this.createRole({ name: r.name, path: r.path ?? '/', trustPolicy: r.trustPolicy, trustPolicyText: minifyPolicy(r.trustPolicy), maxSessionDuration: r.maxSessionDuration ?? 3600 });
      role.managedPolicyArns = [...(r.managedPolicyArns ?? [])];
      // Seeded policies are visible from the beginning of time, whatever the propagation delay.
      for (const [name, doc] of Object.entries(r.inlinePolicies ?? {})) this.putInline(role, name, { text: minifyPolicy(doc), doc }, -Infinity);
    }
  }

  getRole(name: string): RoleRecord | undefined {
    return this.roles.get(name.toLowerCase());
  }

  /** The role an ARN names (path included), or undefined. */
  roleByArn(arn: string): RoleRecord | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!m || m[1] !== this.accountId) return undefined;
    const role = this.getRole(m[2] ?? '');
    return role?.arn === arn ? role : undefined;
  }

  createRole(input: { name: string; path: string; trustPolicy: PolicyDocument; trustPolicyText: string; maxSessionDuration: number; description?: string }): RoleRecord {
    const role: RoleRecord = {
      ...input,
      arn: `arn:aws:iam::${this.accountId}:role${input.path}${input.name}`,
      roleId: newUniqueId('AROA'),
      createDate: this.opts.now(),
      managedPolicyArns: [],
      inline: new Map(),
      timeline: [],
    };
    this.roles.set(input.name.toLowerCase(), role);
    return role;
  }

  deleteRole(role: RoleRecord): void {
    this.roles.delete(role.name.toLowerCase());
  }

  /** Adds or replaces an inline policy; authorization sees it once the propagation delay has passed. */
  putInline(role: RoleRecord, name: string, policy: InlinePolicy, at = this.opts.now().getTime()): void {
    role.inline.set(name, policy);
    role.timeline.push({ at, name, policy });
  }

  deleteInline(role: RoleRecord, name: string): void {
    role.inline.delete(name);
    role.timeline.push({ at: this.opts.now().getTime(), name });
  }

  /** The inline policies authorization sees now: changes older than the propagation delay. */
  visibleInlinePolicies(role: RoleRecord): PolicyDocument[] {
    const cutoff = this.opts.now().getTime() - this.opts.propagationDelayMs;
    const visible = new Map<string, PolicyDocument>();
    for (const change of role.timeline) {
      if (change.at > cutoff) continue;
      if (change.policy) visible.set(change.name, change.policy.doc);
      else visible.delete(change.name);
    }
    return [...visible.values()];
  }

  /** Documents of managed policies by ARN (unknown ARNs are skipped; AssumeRole and state loading check them). */
  managedDocs(arns: string[]): PolicyDocument[] {
    return arns.flatMap((arn) => {
      const p = this.managedPolicies.get(arn);
      return p ? [p.doc] : [];
    });
  }
}
