/**
 * The IAM plan as a CloudFormation template (JSON): one AWS::IAM::Role per target role, with its trust policy, its
 * ceiling as the inline policy `sts-vend-ceiling` and its templates' managed policies, and an AWS::IAM::ManagedPolicy
 * with the service's own permissions, to attach to the service's role or user. The service principal is a
 * parameter (defaulting to the one planned for), so one template serves every environment of an account.
 */
import type { PolicyDocument, Statement } from '../policy/document';
import { CEILING_POLICY_NAME, IamPlanError, type IamPlan, type RolePlan } from './iam-plan';

const PRINCIPAL_PARAMETER = 'ServicePrincipalArn';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `agent-s3.v2` -> `AgentS3V2`; suffixed when two names map to one id. */
function logicalIds(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const base = `Role${name.split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
    let id = base;
    for (let n = 2; used.has(id); n += 1) id = `${base}${n}`;
    used.add(id);
    return id;
  });
}

/** The trust policy with its principal taken from the stack parameter. */
function trustWithParameter(doc: PolicyDocument): Json {
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).map((s: Statement) => ({
    ...s,
    Principal: { AWS: { Ref: PRINCIPAL_PARAMETER } },
  }));
  return JSON.parse(JSON.stringify({ ...doc, Statement: statements })) as Json;
}

function roleResource(role: RolePlan): Json {
  const description = `sts-vend target role for templates: ${role.templates.join(', ')}`;
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: role.roleName,
      Path: role.path,
      // IAM role descriptions are at most 1000 characters.
      Description: description.length > 1000 ? `${description.slice(0, 997)}...` : description,
      MaxSessionDuration: role.maxSessionDuration,
      AssumeRolePolicyDocument: trustWithParameter(role.trustPolicy),
      Policies: [{ PolicyName: CEILING_POLICY_NAME, PolicyDocument: role.permissionPolicy as unknown as Json }],
      ...(role.managedPolicyArns.length > 0 ? { ManagedPolicyArns: role.managedPolicyArns } : {}),
    },
  };
}

/**
 * The CloudFormation template of a plan. Roles of several accounts cannot be created by one stack: that is an
 * IamPlanError (plan per account, with a templates directory per account).
 */
export function toCloudFormation(plan: IamPlan): Record<string, Json> {
  const accounts = [...new Set(plan.roles.map((r) => r.accountId))];
  if (accounts.length > 1) {
    throw new IamPlanError([`the target roles are in ${accounts.length} accounts (${accounts.join(', ')}); one stack creates roles in one account only`]);
  }
  const ids = logicalIds(plan.roles.map((r) => r.roleName));
  const resources: Record<string, Json> = {};
  const outputs: Record<string, Json> = {};
  plan.roles.forEach((role, i) => {
    const id = ids[i] as string;
    resources[id] = roleResource(role);
    outputs[`${id}Arn`] = { Value: { 'Fn::GetAtt': [id, 'Arn'] } };
  });
  resources.StsVendServicePolicy = {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      Description: 'sts-vend service: assume, tag and set source identity on its target roles; manage their kill-switch inline policy',
      PolicyDocument: plan.serviceRole.policy as unknown as Json,
    },
  };
  outputs.ServicePolicyArn = { Description: 'Attach to the role or user the service runs as', Value: { Ref: 'StsVendServicePolicy' } };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `IAM for sts-vend: ${plan.roles.length} target role(s)${accounts[0] ? ` in account ${accounts[0]}` : ''} and the service's own policy (sts-vend iam-plan)`,
    Parameters: {
      [PRINCIPAL_PARAMETER]: {
        Type: 'String',
        Description: 'ARN of the IAM role or user the sts-vend service runs as; the only principal the target roles trust',
        Default: plan.servicePrincipalArn,
        AllowedPattern: '^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/.+$',
      },
    },
    Resources: resources,
    Outputs: outputs,
  };
}
