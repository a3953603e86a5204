/**
 * STS AssumeRole: reads and checks the request (docs/aws.md, "AssumeRole parameters"), evaluates the
 * trust policy, and issues a session whose tags, source identity, session policies and issue time every later
 * request is authorized with.
 */
import { minifyPolicy } from '../../policy/document';
import { accessDenied, AwsError } from './aws-error';
import { readAssumeRoleRequest } from './assume-role-params';
import { checkDuration, checkSessionPolicies, checkTags, effectiveSourceIdentity, inheritedFrom } from './assume-role-rules';
import { assumeRoleContext, checkTrust, requiredActions } from './assume-role-trust';
import type { Caller } from './authenticate';
import { newSecretAccessKey, newSessionAccessKeyId, newSessionToken } from './ids';
import { packedPolicySize } from './packed-policy-size';
import type { QueryParams } from './query-params';
import type { XmlObject } from './xml';
import type { IssuedSession, World } from './world';

/** Handles one AssumeRole request; returns the `<AssumeRoleResult>` content. */
export function assumeRole(world: World, caller: Caller, params: QueryParams, now: Date, sourceIp: string): XmlObject {
  const req = readAssumeRoleRequest(params);
  const chained = caller.isSession;
  const inherited = inheritedFrom(caller);
  checkTags(req, inherited);
  const sourceIdentity = effectiveSourceIdentity(req, inherited);

  // Who may assume it is decided before anything about the role is revealed: an unknown role is AccessDenied.
  const role = world.roleByArn(req.roleArn);
  if (!role) throw accessDenied(caller.principalArn, 'sts:AssumeRole', req.roleArn);
  const context = assumeRoleContext(world, caller, req, sourceIdentity, now, sourceIp);
  checkTrust(world, now, role, caller, requiredActions(req, inherited, sourceIdentity), context);

  checkDuration(req, role, chained);
  const sessionPolicyDoc = checkSessionPolicies(req, role, world);

  const tags: Record<string, string> = { ...inherited.transitiveTags };
  for (const t of req.tags) tags[t.key] = t.value;
  // Transitive keys are spelled as the tag they name (keys are case-insensitive), each once.
  const requested = req.transitiveTagKeys.map((k) => req.tags.find((t) => t.key.toLowerCase() === k.toLowerCase())?.key ?? k);
  const transitiveTagKeys = [...new Set([...inherited.transitiveTagKeys, ...requested])];
  const size = packedPolicySize({
    minifiedPolicy: sessionPolicyDoc ? minifyPolicy(sessionPolicyDoc) : undefined,
    policyArns: req.policyArns,
    tags,
    transitiveTagKeys,
  });
  // docs/aws.md: PackedPolicySize over 100% fails with PackedPolicyTooLarge.
  if (size > 100) {
    throw new AwsError(400, 'PackedPolicyTooLarge', `Packed size of the session policies and session tags consumes ${size}% of the allotted space; reduce their size.`);
  }

  let accessKeyId = newSessionAccessKeyId();
  while (world.sessions.has(accessKeyId) || world.users.has(accessKeyId)) accessKeyId = newSessionAccessKeyId();
  const assumedRoleArn = `arn:aws:sts::${world.accountId}:assumed-role/${role.name}/${req.roleSessionName}`;
  const session: IssuedSession = {
    accessKeyId,
    secretAccessKey: newSecretAccessKey(),
    sessionToken: newSessionToken(),
    accountId: world.accountId,
    roleId: role.roleId,
    roleArn: role.arn,
    roleName: role.name,
    roleSessionName: req.roleSessionName,
    assumedRoleArn,
    tags,
    transitiveTagKeys,
    sourceIdentity,
    sessionPolicy: req.policy,
    sessionPolicyDoc,
    policyArns: req.policyArns,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + req.durationSeconds * 1000),
    packedPolicySize: size,
    chained,
  };
  world.sessions.set(accessKeyId, session);

  const packed = req.policy !== undefined || req.policyArns.length > 0 || Object.keys(tags).length > 0;
  return {
    Credentials: {
      AccessKeyId: accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: session.expiresAt,
    },
    AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${req.roleSessionName}`, Arn: assumedRoleArn },
    PackedPolicySize: packed ? size : undefined,
    SourceIdentity: sourceIdentity,
  };
}

/** GetCallerIdentity: works for any valid credentials, needs no permission. */
export function getCallerIdentity(caller: Caller): XmlObject {
  const userId = caller.isSession ? `${caller.session.roleId}:${caller.session.roleSessionName}` : caller.user.userId;
  return { UserId: userId, Account: caller.accountId, Arn: caller.principalArn };
}
