/**
 * The IAM actions the emulator serves, behind the Query protocol. Calls made with session credentials are
 * authorized like AWS does (role policies ∩ session policies); long-term user keys may do everything.
 */
import { AwsError } from './aws-error';
import { authorizeCall } from './authorization';
import { deleteRolePolicy, getRolePolicy, listRolePolicies, putRolePolicy } from './iam-role-policies';
import { createRole, deleteRole, getRole, roleArnFor } from './iam-roles';
import type { QueryRequest } from './query-service';
import type { XmlObject } from './xml';

type IamAction = (q: QueryRequest) => XmlObject | undefined;

const ACTIONS: Record<string, IamAction> = {
  CreateRole: createRole,
  GetRole: getRole,
  DeleteRole: deleteRole,
  PutRolePolicy: putRolePolicy,
  GetRolePolicy: getRolePolicy,
  DeleteRolePolicy: deleteRolePolicy,
  ListRolePolicies: listRolePolicies,
};

/** Runs one IAM action; returns the content of `<{Action}Result>` (undefined for actions without a result). */
export function handleIam(q: QueryRequest): XmlObject | undefined {
  if (q.faults.failIam()) throw new AwsError(500, 'ServiceFailure', 'The request processing has failed because of an unknown error, exception or failure.');
  const run = ACTIONS[q.action];
  if (!run) throw new AwsError(400, 'InvalidAction', `Could not find operation ${q.action} for version 2010-05-08`);
  authorizeIam(q);
  return run(q);
}

/** IAM's own AccessDenied for a session caller that its policies do not allow. */
function authorizeIam(q: QueryRequest): void {
  if (!q.caller.isSession) return;
  const roleName = q.params.get('RoleName') ?? '';
  const path = q.action === 'CreateRole' ? (q.params.get('Path') ?? '/') : undefined;
  const resource = roleArnFor(q.world, roleName, path);
  const action = `iam:${q.action}`;
  const decision = authorizeCall(q.world, q.now, { ...q.caller, sourceIp: q.sourceIp }, action, resource);
  if (decision === 'Allow') return;
  const why = decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
  throw new AwsError(403, 'AccessDenied', `User: ${q.caller.principalArn} is not authorized to perform: ${action} on resource: role ${roleName} ${why}`);
}
