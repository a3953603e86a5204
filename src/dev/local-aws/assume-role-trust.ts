/**
 * Whether the caller may assume the role: the role's trust policy, evaluated for every action the request
 * needs (sts:AssumeRole, plus sts:TagSession with tags, plus sts:SetSourceIdentity with a source identity),
 * and for a calling session its own policies too. docs/aws.md, "What the caller (this service) needs".
 */
import { accessDenied } from './aws-error';
import type { AssumeRoleRequest } from './assume-role-params';
import type { Inherited } from './assume-role-rules';
import type { Caller } from './authenticate';
import { authorizeCall, principalContext } from './authorization';
import { evaluateTrust, type RequestContext } from './policy-eval';
import type { RoleRecord, World } from './world';

/** The actions a request needs on the role's trust policy. */
export function requiredActions(req: AssumeRoleRequest, inherited: Inherited, sourceIdentity: string | undefined): string[] {
  const actions = ['sts:AssumeRole'];
  // docs/aws.md: sts:TagSession for Tags (inherited transitive tags are passed on, so they need it too).
  if (req.tags.length > 0 || req.transitiveTagKeys.length > 0 || inherited.transitiveTagKeys.length > 0) actions.push('sts:TagSession');
  // docs/aws.md: SourceIdentity needs sts:SetSourceIdentity (also when inherited through chaining).
  if (sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
  return actions;
}

/** The request context of an AssumeRole call: the caller's principal keys plus the request's tags and ids. */
export function assumeRoleContext(world: World, caller: Caller, req: AssumeRoleRequest, sourceIdentity: string | undefined, now: Date, sourceIp: string): RequestContext {
  const ctx: RequestContext = {
    ...principalContext(world, caller.accessKeyId, now, sourceIp),
    'sts:ExternalId': req.externalId,
    'sts:SourceIdentity': sourceIdentity,
    'sts:RoleSessionName': req.roleSessionName,
    'aws:TagKeys': req.tags.length > 0 ? req.tags.map((t) => t.key) : undefined,
    'sts:TransitiveTagKeys': req.transitiveTagKeys.length > 0 ? req.transitiveTagKeys : undefined,
  };
  for (const t of req.tags) ctx[`aws:RequestTag/${t.key}`] = t.value;
  return ctx;
}

/**
 * Throws AccessDenied unless the trust policy allows every required action for the caller and, for a calling
 * session, the session's own policies allow it too.
 */
export function checkTrust(
  world: World,
  now: Date,
  role: RoleRecord,
  caller: Caller,
  actions: string[],
  context: RequestContext,
): void {
  for (const action of actions) {
    const trust = evaluateTrust(role.trustPolicy, { principalArn: caller.principalArn, accountId: caller.accountId, action, context });
    if (trust !== 'Allow') throw accessDenied(caller.principalArn, action, role.arn);
    if (caller.isSession && authorizeCall(world, now, caller, action, role.arn, context) !== 'Allow') {
      throw accessDenied(caller.principalArn, action, role.arn, 'because no identity-based policy allows the action');
    }
  }
}
