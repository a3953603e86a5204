import { sessionPolicyCharsetError } from '../policy/document';

/**
 * AssumeRole's documented limits (docs/aws.md, "AssumeRole parameters"), checked before the
 * call so a caller gets a clear 400 naming the field instead of an opaque AWS error. Identity strings are made
 * legal before they get here (src/auth/identity-key.ts); this is the last look.
 */

// Tag keys and values: [\p{L}\p{Z}\p{N}_.:/=+\-@].
const TAG_VALID = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const LIMITS = {
  roleArn: { min: 20, max: 2048 }, // docs/aws.md: RoleArn 20..2048
  roleSessionName: { min: 2, max: 64 }, // docs/aws.md: RoleSessionName 2..64
  sourceIdentity: { min: 2, max: 64 }, // docs/aws.md: SourceIdentity 2..64
  durationSeconds: { min: 900, max: 43200, chained: 3600 }, // docs/aws.md: DurationSeconds, role chaining cap
  policyChars: 2048, // docs/aws.md: inline + managed session policies <= 2048 chars
  policyArns: 10, // docs/aws.md: up to 10 managed policy ARNs
  tags: 50, // docs/aws.md: <= 50 tags, <= 50 transitive keys
  tagKey: 128, // docs/aws.md: key 1..128
  tagValue: 256, // docs/aws.md: value 0..256
} as const;

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  policy: string;
  policyArns: string[];
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  sourceIdentity: string;
}

/** Every limit the input breaks, as `field: problem`; empty when AWS should accept it. */
export function checkAssumeRoleInput(input: AssumeRoleInput, opts: { roleChaining: boolean }): string[] {
  const problems: string[] = [];
  const len = (field: string, v: string, min: number, max: number): void => {
    if (v.length < min || v.length > max) problems.push(`${field}: length ${v.length} outside ${min}..${max}`);
  };
  len('roleArn', input.roleArn, LIMITS.roleArn.min, LIMITS.roleArn.max);
  len('roleSessionName', input.roleSessionName, LIMITS.roleSessionName.min, LIMITS.roleSessionName.max);
  if (/[^\w+=,.@-]/.test(input.roleSessionName)) problems.push('roleSessionName: characters outside [\\w+=,.@-]');
  len('sourceIdentity', input.sourceIdentity, LIMITS.sourceIdentity.min, LIMITS.sourceIdentity.max);
  if (/[^\w+=,.@-]/.test(input.sourceIdentity) || /^aws:/i.test(input.sourceIdentity)) {
    problems.push('sourceIdentity: characters outside [\\w+=,.@-] or an aws: prefix');
  }
  const maxDuration = opts.roleChaining ? LIMITS.durationSeconds.chained : LIMITS.durationSeconds.max;
  if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < LIMITS.durationSeconds.min || input.durationSeconds > maxDuration) {
    problems.push(`durationSeconds: ${input.durationSeconds} outside ${LIMITS.durationSeconds.min}..${maxDuration}`);
  }
  if (input.policy.length > LIMITS.policyChars) problems.push(`policy: ${input.policy.length} chars, limit ${LIMITS.policyChars}`);
  // docs/aws.md: session policy characters \u0009 \u000A \u000D \u0020-\u00FF.
  const charset = sessionPolicyCharsetError(input.policy);
  if (charset) problems.push(`policy: ${charset}`);
  if (input.policyArns.length > LIMITS.policyArns) problems.push(`policyArns: ${input.policyArns.length}, limit ${LIMITS.policyArns}`);
  const keys = Object.keys(input.tags);
  if (keys.length > LIMITS.tags) problems.push(`tags: ${keys.length}, limit ${LIMITS.tags}`);
  const lower = new Set<string>();
  for (const key of keys) {
    const value = input.tags[key] ?? '';
    // docs/aws.md: keys are case-insensitive, no aws: prefix.
    if (lower.has(key.toLowerCase())) problems.push(`tags.${key}: duplicate key (keys are case-insensitive)`);
    lower.add(key.toLowerCase());
    if (/^aws:/i.test(key)) problems.push(`tags.${key}: the aws: prefix is reserved`);
    if (key.length < 1 || key.length > LIMITS.tagKey || !TAG_VALID.test(key)) problems.push(`tags.${key}: invalid key`);
    if (value.length > LIMITS.tagValue || !TAG_VALID.test(value)) problems.push(`tags.${key}: invalid value`);
  }
  if (input.transitiveTagKeys.length > LIMITS.tags) problems.push(`transitiveTagKeys: more than ${LIMITS.tags}`);
  for (const key of input.transitiveTagKeys) {
    if (!(key in input.tags)) problems.push(`transitiveTagKeys: "${key}" is not a session tag`);
  }
  return problems;
}
