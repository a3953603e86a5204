/**
 * Authorization of calls made with emulator credentials, as IAM does it for the services the emulator serves
 * (and, through the admin API, for services it does not): the role's inline and managed policies intersected
 * with the session policies, evaluated against the request context AWS would build for the caller.
 */
import { evaluateRequest, type Decision, type RequestContext } from './policy-eval';
import type { IssuedSession, World } from './world';

/** Enough of a caller to authorize it (the server's `Caller` and the S3 handler's `S3Caller` both fit). */
export interface AuthorizableCaller {
  accessKeyId: string;
  /** The client address, for aws:SourceIp (the server sets it on the callers it builds). */
  sourceIp?: string;
}

/** Keys every request carries whoever the principal is. */
function globalContext(world: World, now: Date, sourceIp: string | undefined): RequestContext {
  return {
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:SourceIp': sourceIp,
    'aws:SecureTransport': 'false',
    'aws:RequestedRegion': world.region,
    'aws:PrincipalAccount': world.accountId,
  };
}

/**
 * The context of a request made with session credentials: session tags as aws:PrincipalTag/*, the issue time,
 * source identity, aws:userid `<RoleId>:<session>`, the role ARN as aws:PrincipalArn. aws:username and
 * aws:MultiFactorAuthPresent are absent, as they are for assumed roles.
 */
export function sessionContext(world: World, session: IssuedSession, now: Date, sourceIp?: string): RequestContext {
  const ctx: RequestContext = {
    ...globalContext(world, now, sourceIp),
    'aws:PrincipalArn': session.roleArn,
    'aws:PrincipalType': 'AssumedRole',
    'aws:userid': `${session.roleId}:${session.roleSessionName}`,
    'aws:TokenIssueTime': session.issuedAt.toISOString(),
    'aws:SourceIdentity': session.sourceIdentity,
  };
  for (const [k, v] of Object.entries(session.tags)) ctx[`aws:PrincipalTag/${k}`] = v;
  return ctx;
}

/** The request context for any known access key (users get aws:username and their AIDA user id). */
export function principalContext(world: World, accessKeyId: string, now: Date, sourceIp?: string): RequestContext {
  const session = world.sessions.get(accessKeyId);
  if (session) return sessionContext(world, session, now, sourceIp);
  const user = world.users.get(accessKeyId);
  if (!user) return globalContext(world, now, sourceIp);
  return {
    ...globalContext(world, now, sourceIp),
    'aws:PrincipalArn': user.arn,
    'aws:PrincipalType': 'User',
    'aws:userid': user.userId,
    'aws:username': user.userName,
  };
}

/**
 * IAM's decision for a call. Long-term user keys are allowed everything (user policies are not modelled);
 * unknown keys and sessions of deleted roles are denied; sessions get role policies ∩ session policies.
 */
export function authorizeCall(
  world: World,
  now: Date,
  caller: AuthorizableCaller,
  action: string,
  resource: string,
  extra: RequestContext = {},
): Decision {
  if (world.users.has(caller.accessKeyId)) return 'Allow';
  const session = world.sessions.get(caller.accessKeyId);
  if (!session) return 'ImplicitDeny';
  const role = world.getRole(session.roleName);
  if (!role || role.roleId !== session.roleId) return 'ImplicitDeny';
  const identity = [...world.visibleInlinePolicies(role), ...world.managedDocs(role.managedPolicyArns)];
  const hasSessionPolicies = session.sessionPolicyDoc !== undefined || session.policyArns.length > 0;
  const sessionPolicies = hasSessionPolicies
    ? [...(session.sessionPolicyDoc ? [session.sessionPolicyDoc] : []), ...world.managedDocs(session.policyArns)]
    : undefined;
  const context = { ...sessionContext(world, session, now, caller.sourceIp), ...extra };
  return evaluateRequest({ action, resource, context }, sessionPolicies ? { identity, session: sessionPolicies } : { identity });
}
