import type { ValidateFunction } from 'ajv';
import type { PolicyDocument } from '../policy/document';

/** Who may use a template. Every listed dimension must match; an omitted one does not restrict. */
export interface AllowRules {
  issuers: string[];
  groups?: string[];
  projects?: string[];
  /** Globs on the token's `sub` (e.g. `repo:acme/api:ref:refs/heads/main`). */
  subjects?: string[];
  /** Globs on the mapped developer. */
  developers?: string[];
  /** Claim name -> glob or list of globs that the verified claim must match. */
  claims?: Record<string, string | string[]>;
}

/** A task template as written in policies/templates/*.yaml. */
export interface TemplateSpec {
  name: string;
  description: string;
  roleArn: string;
  access: 'read' | 'write';
  maxDurationSeconds: number;
  /** Refreshable sessions of this template end after at most this long (default: sessions.maxSessionDurationSeconds). */
  maxSessionDurationSeconds?: number;
  /** Lifetime of a refreshable session when the vend names none (default: sessions.defaultSessionDurationSeconds). */
  defaultSessionDurationSeconds?: number;
  allow: AllowRules;
  parameters: Record<string, unknown>;
  policy: PolicyDocument;
  policyArns?: string[];
  allowWildcardActions?: boolean;
  limits?: { vendsPerMinute?: number; liveSessionsPerDeveloper?: number; gatewayCallsPerSecond?: number };
  /** Rules the gateway applies to this template's gateway sessions (src/gateway/rules.ts). */
  gateway?: { deny?: string[]; allow?: string[] };
  /** A vend answers 202 with an approval id; credentials only once an approver agrees (src/approvals/). */
  approval?: ApprovalRule;
}

export interface ApprovalRule {
  required: boolean;
  /** Who may approve: members of any of these groups (never the requester). */
  approvers: { groups: string[] };
  /** How long a request waits for a decision, and an approved one for its collection (default 3600). */
  timeoutSeconds?: number;
}

/** A template after loading and linting: the spec plus its compiled parameter validator. */
export interface LoadedTemplate extends TemplateSpec {
  policyArns: string[];
  file: string;
  validateParameters: ValidateFunction;
  /** Rendered length (minified JSON chars) with every string parameter at its maxLength. */
  worstCasePolicyLength: number;
}

/** The identity values a template policy may reference as `{{identity.developer}}` and `{{identity.project}}`. */
export interface RenderIdentity {
  developer: string;
  project: string;
}
