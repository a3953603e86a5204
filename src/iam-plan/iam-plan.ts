/**
 * `iamPlan`: the IAM a deployment needs, derived from the config and the templates the service loads. The
 * service's own policy reaches exactly the target roles; each target role trusts only the service, and only
 * with the session tags and source identity the service always sets; each role's permissions are the union of
 * its templates (a wide role behind a tight session policy would still be wide).
 */
import type { Config } from '../config-types';
import { nonWhitespaceLength, validatePolicy, type PolicyDocument } from '../policy/document';
import type { LoadedTemplate } from '../templates/types';
import { roleCeiling } from './role-ceiling';
import { trustPolicy } from './trust-policy';

/** The inline policy name of each role's ceiling (the kill switch writes its own, differently named, beside it). */
export const CEILING_POLICY_NAME = 'sts-vend-ceiling';

// IAM quotas (IAM User Guide, "IAM and AWS STS quotas"); white space is not counted.
export const LIMITS = { inlineRolePolicies: 10240, trustPolicy: 2048, managedPolicy: 6144, managedPoliciesPerRole: 10 } as const;
/** Below this many characters left beside the ceiling, the kill switch has to compact early. */
const KILL_SWITCH_ROOM = 2048;

/** The service's principal: an IAM role (IRSA, EKS Pod Identity, ECS task role) or user. */
const PRINCIPAL_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role(\/(?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

export interface RolePlan {
  roleArn: string;
  roleName: string;
  /** IAM path, `/` unless the ARN has one. */
  path: string;
  accountId: string;
  trustPolicy: PolicyDocument;
  permissionPolicy: PolicyDocument;
  /** Managed policies the templates pass as session policies: the role must hold them too to grant them. */
  managedPolicyArns: string[];
  /** The longest template duration, at least IAM's 3600 default. */
  maxSessionDuration: number;
  templates: string[];
  accessTypes: string[];
  /** Non-white-space characters, as IAM counts them against its quotas. */
  sizes: { trustPolicy: number; permissionPolicy: number };
}

export interface IamPlan {
  servicePrincipalArn: string;
  serviceRole: { policy: PolicyDocument };
  roles: RolePlan[];
  /** Quotas exceeded or nearly, and where a ceiling is wider than its templates' union. */
  notes: string[];
}

/** A plan that cannot be made (bad principal, an invalid generated policy): every problem listed. */
export class IamPlanError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'IamPlanError';
  }
}

/** Why `arn` cannot be the service principal, or undefined when it can. */
export function principalProblem(arn: string): string | undefined {
  if (PRINCIPAL_ARN.test(arn)) return undefined;
  return `"${arn}" is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>); for an assumed-role session give its role's ARN`;
}

/** The service's own permissions: the three STS actions and the kill switch's IAM calls, on the target roles only. */
function servicePolicy(roleArns: string[]): PolicyDocument {
  const Resource = roleArns.length === 1 ? (roleArns[0] as string) : roleArns;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'VendOnTargetRoles', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'], Resource },
      // src/revoke/apply-role-policy.ts lists, reads, writes and deletes the role's inline revocation policy.
      { Sid: 'KillSwitchOnTargetRoles', Effect: 'Allow', Action: ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:PutRolePolicy'], Resource },
    ],
  };
}

function checked(doc: PolicyDocument, kind: 'identity' | 'trust', what: string, problems: string[]): number {
  const result = validatePolicy(doc, kind);
  if (!result.ok) problems.push(...result.errors.map((e) => `${what}: ${e}`));
  return nonWhitespaceLength(JSON.stringify(doc));
}

/** One target role's plan, with its notes. */
function planRole(config: Config, roleArn: string, templates: LoadedTemplate[], principalArn: string, problems: string[], notes: string[]): RolePlan {
  const [, partition, accountId = '', path = '/', roleName = ''] = ROLE_ARN.exec(roleArn) ?? [];
  if (partition !== PRINCIPAL_ARN.exec(principalArn)?.[1]) problems.push(`${roleArn}: not in the service principal's partition`);
  const issuers = new Set(templates.flatMap((t) => t.allow.issuers));
  const accessTypes = [...new Set(config.issuers.filter((i) => issuers.has(i.name)).map((i) => i.accessType))].sort();
  const names = templates.map((t) => t.name);
  const trust = trustPolicy({ principalArn, accessTypes, templateNames: names });
  const ceiling = roleCeiling(templates);
  notes.push(...ceiling.notes.map((n) => `${roleName}: ${n}`));
  const sizes = {
    trustPolicy: checked(trust, 'trust', `${roleArn} trust policy`, problems),
    permissionPolicy: checked(ceiling.policy, 'identity', `${roleArn} permission policy`, problems),
  };
  if (sizes.trustPolicy > LIMITS.trustPolicy) {
    notes.push(`${roleName}: trust policy is ${sizes.trustPolicy} characters, over IAM's default ${LIMITS.trustPolicy} (raise the "Role trust policy length" quota, up to 4096, or use fewer templates per role)`);
  }
  const room = LIMITS.inlineRolePolicies - sizes.permissionPolicy;
  if (room < 0) notes.push(`${roleName}: permission policy is ${sizes.permissionPolicy} characters, over IAM's ${LIMITS.inlineRolePolicies} for a role's inline policies; split the role`);
  else if (room < KILL_SWITCH_ROOM) notes.push(`${roleName}: the permission policy leaves ${room} of ${LIMITS.inlineRolePolicies} inline characters for the kill switch's "${config.killSwitch.policyName}" policy`);
  const managedPolicyArns = [...new Set(templates.flatMap((t) => t.policyArns))].sort();
  if (managedPolicyArns.length > LIMITS.managedPoliciesPerRole) notes.push(`${roleName}: ${managedPolicyArns.length} managed policies, over IAM's default ${LIMITS.managedPoliciesPerRole} per role`);
  const longest = Math.max(...templates.map((t) => t.maxDurationSeconds));
  return {
    roleArn,
    roleName,
    path,
    accountId,
    trustPolicy: trust,
    permissionPolicy: ceiling.policy,
    managedPolicyArns,
    maxSessionDuration: Math.min(43200, Math.max(3600, longest)),
    templates: names,
    accessTypes,
    sizes,
  };
}

/**
 * The IAM plan for `templates` (as loaded by loadTemplates with `config`). Throws IamPlanError when the principal
 * is not a role or user ARN, the ceiling's policy name is the kill switch's, or a generated policy is invalid.
 */
export function iamPlan(config: Config, templates: LoadedTemplate[], opts: { servicePrincipalArn: string }): IamPlan {
  const principalArn = opts.servicePrincipalArn;
  const bad = principalProblem(principalArn);
  if (bad) throw new IamPlanError([`service principal: ${bad}`]);
  const problems: string[] = [];
  if (config.killSwitch.policyName === CEILING_POLICY_NAME) {
    problems.push(`killSwitch.policyName: "${CEILING_POLICY_NAME}" is the ceiling's policy name; the kill switch would overwrite the ceiling`);
  }
  const byRole = new Map<string, LoadedTemplate[]>();
  for (const t of templates) byRole.set(t.roleArn, [...(byRole.get(t.roleArn) ?? []), t]);
  const notes: string[] = [];
  const roles = [...byRole].sort(([a], [b]) => a.localeCompare(b)).map(([roleArn, ts]) => planRole(config, roleArn, ts, principalArn, problems, notes));

  const policy = servicePolicy(roles.map((r) => r.roleArn));
  const size = checked(policy, 'identity', 'service policy', problems);
  if (problems.length > 0) throw new IamPlanError(problems);
  if (size > LIMITS.managedPolicy) notes.push(`service policy is ${size} characters, over IAM's ${LIMITS.managedPolicy} for a managed policy; split it`);
  // docs/aws.md: a service running on an assumed role chains every AssumeRole, and chaining caps sessions at 1 h.
  if (/:role\//.test(principalArn) && !config.aws.roleChaining) {
    notes.push('the service principal is a role, so every AssumeRole it makes is role chaining (at most 3600 s): set aws.roleChaining: true');
  }
  return { servicePrincipalArn: principalArn, serviceRole: { policy }, roles, notes };
}
