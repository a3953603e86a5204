/** IAM CreateRole, GetRole, DeleteRole. */
import { validatePolicy } from '../../policy/document';
import { AwsError } from './aws-error';
import { Violations } from './constraints';
import type { QueryRequest } from './query-service';
import type { RoleRecord, World } from './world';
import type { XmlObject } from './xml';

/** IAM role and user names: 1..64 chars of [\w+=,.@-]. */
const ROLE_NAME_PATTERN = '[\\w+=,.@-]+';
const PATH_PATTERN = '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)';

/** The ARN a role of this name has (or would have, at `path`). */
export function roleArnFor(world: World, roleName: string, path?: string): string {
  const existing = path === undefined ? world.getRole(roleName) : undefined;
  return existing?.arn ?? `arn:aws:iam::${world.accountId}:role${path ?? '/'}${roleName}`;
}

/** The role named in the request, or NoSuchEntity (404). */
export function requireRole(q: QueryRequest): RoleRecord {
  const v = new Violations();
  const name = q.params.get('RoleName');
  if (name === undefined) v.missing('roleName');
  v.length(name, 'roleName', 1, 64);
  v.throwIfAny();
  const role = q.world.getRole(name as string);
  if (!role) throw new AwsError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
  return role;
}

/** The `<Role>` element; IAM returns the trust policy URL-encoded. */
function roleXml(role: RoleRecord): XmlObject {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeURIComponent(role.trustPolicyText),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
  };
}

export function createRole(q: QueryRequest): XmlObject {
  const p = q.params;
  const v = new Violations();
  const name = p.get('RoleName');
  const path = p.get('Path') ?? '/';
  const doc = p.get('AssumeRolePolicyDocument');
  const description = p.get('Description');
  const maxSessionDuration = p.integer('MaxSessionDuration', 'maxSessionDuration');
  if (name === undefined) v.missing('roleName');
  if (doc === undefined) v.missing('assumeRolePolicyDocument');
  v.length(name, 'roleName', 1, 64);
  v.pattern(name, 'roleName', ROLE_NAME_PATTERN);
  v.length(path, 'path', 1, 512);
  v.pattern(path, 'path', PATH_PATTERN);
  v.length(doc, 'assumeRolePolicyDocument', 1, 131072);
  v.length(description, 'description', 0, 1000);
  // docs/aws.md: a role's MaxSessionDuration is 3600..43200.
  v.range(maxSessionDuration, 'maxSessionDuration', 3600, 43200);
  v.throwIfAny();
  if (q.world.getRole(name as string)) throw new AwsError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
  const parsed = validatePolicy(doc, 'trust');
  if (!parsed.ok) throw new AwsError(400, 'MalformedPolicyDocument', `Syntax errors in policy: ${parsed.errors.join('; ')}`);
  const role = q.world.createRole({
    name: name as string,
    path,
    trustPolicy: parsed.policy,
    trustPolicyText: doc as string,
    maxSessionDuration: maxSessionDuration ?? 3600,
    description,
  });
  return { Role: roleXml(role) };
}

export function getRole(q: QueryRequest): XmlObject {
  return { Role: roleXml(requireRole(q)) };
}

export function deleteRole(q: QueryRequest): undefined {
  const role = requireRole(q);
  if (role.inline.size > 0 || role.managedPolicyArns.length > 0) {
    throw new AwsError(409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
  }
  q.world.deleteRole(role);
  return undefined;
}
