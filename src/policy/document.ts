/**
 * IAM policy documents: the types every part of the service shares, grammar validation and the small helpers
 * needed to size a policy the way IAM and STS do.
 */
import { checkDocument } from './grammar';

export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';
/** A scalar a condition may compare against; IAM accepts JSON strings, numbers and booleans. */
export type ConditionScalar = string | number | boolean;
export type ConditionValue = ConditionScalar | ConditionScalar[];
/** operator (e.g. `StringEquals`, `ForAllValues:StringLike`) -> context key -> value(s). */
export type ConditionBlock = Record<string, Record<string, ConditionValue>>;
/** `"*"` or a map of principal type to principal id(s). */
export type PrincipalBlock =
  | '*'
  | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[]; CanonicalUser?: string | string[] };

export interface Statement {
  Sid?: string;
  Effect: Effect;
  Principal?: PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export type PolicyDocument = { Version: PolicyVersion; Id?: string; Statement: Statement | Statement[] };

/** identity: a role's own policies; session: passed to AssumeRole; trust: a role's assume-role policy. */
export type PolicyKind = 'identity' | 'session' | 'trust';

export type PolicyValidation = { ok: true; policy: PolicyDocument } | { ok: false; errors: string[] };

/**
 * Parses JSON text (or takes an already parsed value) and checks it against the IAM policy grammar for `kind`.
 * Every problem is reported, each naming where it is (`Statement[1].Action[0]: ...`), so a template author fixes
 * them in one pass. The returned policy is a deep copy: later changes to `input` do not reach it.
 */
export function validatePolicy(input: string | unknown, kind: PolicyKind): PolicyValidation {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      return { ok: false, errors: [`policy is not valid JSON: ${(err as Error).message}`] };
    }
  }
  const errors = checkDocument(value, kind);
  if (errors.length === 0 && kind === 'session') {
    const charsetError = sessionPolicyCharsetError(JSON.stringify(value));
    if (charsetError) errors.push(charsetError);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, policy: JSON.parse(JSON.stringify(value)) as PolicyDocument };
}

/** The policy as compact JSON, the form sent to STS and IAM (no white space outside strings). */
export function minifyPolicy(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * Characters that are not white space. IAM counts a role's inline policies against their 10,240-character
 * aggregate this way, so pretty-printing a policy does not change its cost.
 */
export function nonWhitespaceLength(text: string): number {
  let n = 0;
  for (const ch of text) if (!/\s/u.test(ch)) n += 1;
  return n;
}

/** The statements of a policy as an array, whether the document holds one statement or a list. */
export function statementsOf(doc: Pick<PolicyDocument, 'Statement'>): Statement[] {
  return asArray(doc.Statement);
}

/** IAM's "one value or a list" fields as a list; `undefined` becomes `[]`. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * STS accepts only `\u0009 \u000A \u000D \u0020-\u00FF` in a session policy. Returns a message naming the first
 * offending character and its offset, or undefined when the text is acceptable.
 */
export function sessionPolicyCharsetError(text: string): string | undefined {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xff)) continue;
    const code = (text.codePointAt(i) ?? c).toString(16).toUpperCase().padStart(4, '0');
    return `session policy contains U+${code} at offset ${i}; STS accepts only tab, line feed, carriage return and U+0020-U+00FF`;
  }
  return undefined;
}
