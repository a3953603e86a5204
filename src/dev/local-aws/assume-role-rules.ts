/**
 * AssumeRole rules beyond the model's constraints: the ones that depend on each other, on the role or on the
 * calling session (role chaining). Each cites docs/aws.md.
 */
import { validatePolicy, type PolicyDocument } from '../../policy/document';
import { AwsError, invalid } from './aws-error';
import type { AssumeRoleRequest } from './assume-role-params';
import type { Caller } from './authenticate';
import type { RoleRecord, World } from './world';

/** Chaining caps any session at one hour. docs/aws.md: role chaining caps DurationSeconds at 3600. */
const CHAINED_MAX_SECONDS = 3600;
/** docs/aws.md: plaintext of inline + managed session policies together <= 2048 chars. */
const SESSION_POLICY_PLAINTEXT_MAX = 2048;

/** What the new session inherits from a calling session (role chaining). */
export interface Inherited {
  transitiveTags: Record<string, string>;
  transitiveTagKeys: string[];
  sourceIdentity?: string;
}

export function inheritedFrom(caller: Caller): Inherited {
  if (!caller.isSession) return { transitiveTags: {}, transitiveTagKeys: [] };
  const s = caller.session;
  const transitiveTags: Record<string, string> = {};
  for (const key of s.transitiveTagKeys) {
    const value = s.tags[key];
    if (value !== undefined) transitiveTags[key] = value;
  }
  return { transitiveTags, transitiveTagKeys: Object.keys(transitiveTags), sourceIdentity: s.sourceIdentity };
}

/** Tag rules: case-insensitive unique keys, no aws: prefix, transitive keys among the tags, no inherited key overridden. */
export function checkTags(req: AssumeRoleRequest, inherited: Inherited): void {
  const seen = new Set<string>();
  for (const { key } of req.tags) {
    // docs/aws.md: tag keys have no `aws:` prefix.
    if (/^aws:/i.test(key)) throw invalid(`Tag key '${key}' uses the reserved prefix 'aws:'.`);
    // docs/aws.md: tag keys are case-insensitive (no `Project` and `project` together).
    if (seen.has(key.toLowerCase())) throw invalid('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(key.toLowerCase());
    // docs/aws.md: passing a key equal to an inherited transitive tag fails.
    if (inherited.transitiveTagKeys.some((k) => k.toLowerCase() === key.toLowerCase())) {
      throw invalid(`Tag key '${key}' is a transitive tag of the calling session and cannot be overridden.`);
    }
  }
  for (const key of req.transitiveTagKeys) {
    // docs/aws.md: TransitiveTagKeys must be among the Tags passed.
    if (!seen.has(key.toLowerCase())) throw invalid(`The specified transitive tag key '${key}' must be included in the requested tags.`);
  }
}

/** docs/aws.md: SourceIdentity must not start with `aws:`, and once set it is immutable through role chaining. */
export function effectiveSourceIdentity(req: AssumeRoleRequest, inherited: Inherited): string | undefined {
  if (req.sourceIdentity !== undefined && /^aws:/i.test(req.sourceIdentity)) {
    throw invalid(`SourceIdentity '${req.sourceIdentity}' must not start with the reserved prefix 'aws:'.`);
  }
  if (inherited.sourceIdentity !== undefined && req.sourceIdentity !== undefined && req.sourceIdentity !== inherited.sourceIdentity) {
    throw invalid('The source identity of the calling session cannot be changed: pass the same SourceIdentity or none.');
  }
  return inherited.sourceIdentity ?? req.sourceIdentity;
}

/** DurationSeconds against the role's MaxSessionDuration and the role-chaining cap. */
export function checkDuration(req: AssumeRoleRequest, role: RoleRecord, chained: boolean): void {
  // docs/aws.md: role chaining caps DurationSeconds at 3600.
  if (chained && req.durationSeconds > CHAINED_MAX_SECONDS) {
    throw invalid(`The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.`);
  }
  // docs/aws.md: DurationSeconds cannot exceed the role's MaxSessionDuration.
  if (req.durationSeconds > role.maxSessionDuration) {
    throw invalid(`The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
  }
}

/** Parses and checks the inline session policy and the managed policy ARNs; returns the parsed policy. */
export function checkSessionPolicies(req: AssumeRoleRequest, role: RoleRecord, world: World): PolicyDocument | undefined {
  const plaintext = (req.policy?.length ?? 0) + req.policyArns.reduce((n, arn) => n + arn.length, 0);
  // docs/aws.md: plaintext of inline + managed session policies together <= 2048 chars.
  if (plaintext > SESSION_POLICY_PLAINTEXT_MAX) {
    throw invalid(`The session policy plaintext (Policy plus PolicyArns) is ${plaintext} characters; the limit is ${SESSION_POLICY_PLAINTEXT_MAX}.`);
  }
  for (const arn of req.policyArns) {
    // docs/aws.md: PolicyArns must be in the same account as the role.
    const m = /^arn:aws:iam::(\d{12}):policy\/.+$/.exec(arn);
    if (!m) throw invalid(`PolicyArns value '${arn}' is not a valid managed policy ARN.`);
    if (m[1] !== role.arn.split(':')[4]) throw invalid(`PolicyArns value '${arn}' is not in the same account as the role.`);
    if (!world.managedPolicies.has(arn)) throw invalid(`Policy ${arn} does not exist or is not attachable.`);
  }
  if (req.policy === undefined) return undefined;
  const result = validatePolicy(req.policy, 'session');
  // docs/aws.md: MalformedPolicyDocument (400) for a policy that is not valid JSON or policy grammar.
  if (!result.ok) throw new AwsError(400, 'MalformedPolicyDocument', `The policy is not valid: ${result.errors.join('; ')}`);
  return result.policy;
}
