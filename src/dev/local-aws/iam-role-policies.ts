/**
 * IAM inline role policies: PutRolePolicy, GetRolePolicy, DeleteRolePolicy, ListRolePolicies. A change is seen
 * by authorization on the very next request (or after the emulator's propagation delay).
 */
import { nonWhitespaceLength, validatePolicy } from '../../policy/document';
import { AwsError } from './aws-error';
import { Violations } from './constraints';
import { requireRole } from './iam-roles';
import type { QueryRequest } from './query-service';
import type { XmlObject } from './xml';

// docs/aws.md: PolicyName 1..128 chars [\w+=,.@-]+.
const POLICY_NAME_PATTERN = '[\\w+=,.@-]+';
// The IAM service model's policyDocumentType: tab, LF, CR and U+0020-U+00FF only. A Cyrillic or any other letter
// above U+00FF in a document (say, in a tag value a Deny names) fails the whole PutRolePolicy.
const POLICY_DOCUMENT_PATTERN = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';
// docs/aws.md: inline policies of one role share 10,240 characters, white space not counted.
const ROLE_INLINE_AGGREGATE_MAX = 10240;

function policyName(q: QueryRequest): string {
  const v = new Violations();
  const name = q.params.get('PolicyName');
  if (name === undefined) v.missing('policyName');
  v.length(name, 'policyName', 1, 128); // docs/aws.md: PolicyName 1..128 chars
  v.pattern(name, 'policyName', POLICY_NAME_PATTERN);
  v.throwIfAny();
  return name as string;
}

export function putRolePolicy(q: QueryRequest): undefined {
  const v = new Violations();
  const text = q.params.get('PolicyDocument');
  if (text === undefined) v.missing('policyDocument');
  v.length(text, 'policyDocument', 1, 131072);
  v.pattern(text, 'policyDocument', POLICY_DOCUMENT_PATTERN);
  v.throwIfAny();
  const role = requireRole(q);
  const name = policyName(q);
  const parsed = validatePolicy(text, 'identity');
  if (!parsed.ok) throw new AwsError(400, 'MalformedPolicyDocument', `Syntax errors in policy: ${parsed.errors.join('; ')}`);
  let total = nonWhitespaceLength(text as string);
  for (const [other, p] of role.inline) if (other !== name) total += nonWhitespaceLength(p.text);
  // docs/aws.md: beyond 10,240 aggregate chars PutRolePolicy fails with LimitExceeded (409).
  if (total > ROLE_INLINE_AGGREGATE_MAX) {
    throw new AwsError(409, 'LimitExceeded', `Maximum policy size of ${ROLE_INLINE_AGGREGATE_MAX} bytes exceeded for role ${role.name}`);
  }
  q.world.putInline(role, name, { text: text as string, doc: parsed.policy });
  return undefined;
}

export function getRolePolicy(q: QueryRequest): XmlObject {
  const role = requireRole(q);
  const name = policyName(q);
  const policy = role.inline.get(name);
  if (!policy) throw new AwsError(404, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
  // IAM returns policy documents URL-encoded (RFC 3986).
  return { RoleName: role.name, PolicyName: name, PolicyDocument: encodeURIComponent(policy.text) };
}

export function deleteRolePolicy(q: QueryRequest): undefined {
  const role = requireRole(q);
  const name = policyName(q);
  if (!role.inline.has(name)) throw new AwsError(404, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
  q.world.deleteInline(role, name);
  return undefined;
}

export function listRolePolicies(q: QueryRequest): XmlObject {
  const role = requireRole(q);
  const v = new Violations();
  const maxItems = q.params.integer('MaxItems', 'maxItems');
  v.range(maxItems, 'maxItems', 1, 1000);
  v.throwIfAny();
  const names = [...role.inline.keys()].sort();
  const marker = q.params.get('Marker');
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0 || start > names.length) throw new AwsError(400, 'InvalidInput', 'Invalid Marker.');
  const page = names.slice(start, start + (maxItems ?? 100));
  const next = start + page.length;
  const truncated = next < names.length;
  return { PolicyNames: { member: page }, IsTruncated: truncated, Marker: truncated ? String(next) : undefined };
}
