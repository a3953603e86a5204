/**
 * The service's own policy from the IAM plan, on a role the service runs as (as on EKS or ECS): with it the
 * service can vend from every target role and run the kill switch on it, and can do neither on any other role.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { loadConfig } from '../../src/config';
import { CEILING_POLICY_NAME, iamPlan, type IamPlan } from '../../src/iam-plan/iam-plan';
import { loadTemplates } from '../../src/templates/load-templates';
import { TAG_KEYS, sessionTags } from '../../src/vend/session-credentials';
import { iamClient, sessionKeys, startTestAws, stsClient, type TestAws } from '../helpers/local-aws';

const SERVICE_ROLE = 'arn:aws:iam::111122223333:role/sts-vend-service';
const DENY_ALL = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });

let env: TestAws;
let plan: IamPlan;
/** Credentials of a session of the service's role, carrying the plan's service policy. */
let service: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

function vendInput(roleArn: string, template: string, accessType = 'AI'): AssumeRoleCommandInput {
  const tags = sessionTags({ id: randomUUID(), accessType, developer: 'alice@example.com', project: 'backend-api', template });
  return {
    RoleArn: roleArn,
    RoleSessionName: 'alice.service-role',
    DurationSeconds: 900, // chained: at most 3600
    SourceIdentity: 'alice',
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    TransitiveTagKeys: [...TAG_KEYS],
  };
}

beforeAll(async () => {
  const config = loadConfig({ STS_VEND_CONFIG: path.resolve(__dirname, '../../sts-vend.example.yaml') });
  const templates = await loadTemplates(config.templatesDir, { issuers: config.issuers.map((i) => i.name), maxDurationSeconds: config.sessions.maxDurationSeconds });
  plan = iamPlan(config, templates, { servicePrincipalArn: SERVICE_ROLE });
  env = await startTestAws({ state: (s) => void (s.roles = []) });
  const iam = iamClient(env);
  const userTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/sts-vend' }, Action: 'sts:AssumeRole' }] };
  await iam.send(new CreateRoleCommand({ RoleName: 'sts-vend-service', AssumeRolePolicyDocument: JSON.stringify(userTrust) }));
  await iam.send(new PutRolePolicyCommand({ RoleName: 'sts-vend-service', PolicyName: 'service', PolicyDocument: JSON.stringify(plan.serviceRole.policy) }));
  for (const r of plan.roles) {
    await iam.send(new CreateRoleCommand({ RoleName: r.roleName, AssumeRolePolicyDocument: JSON.stringify(r.trustPolicy), MaxSessionDuration: r.maxSessionDuration }));
    await iam.send(new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: CEILING_POLICY_NAME, PolicyDocument: JSON.stringify(r.permissionPolicy) }));
  }
  // Trusts the service exactly like a target role does, but is not one: only the service policy keeps it out.
  const s3 = plan.roles.find((r) => r.roleName === 'agent-s3');
  await iam.send(new CreateRoleCommand({ RoleName: 'not-a-target', AssumeRolePolicyDocument: JSON.stringify(s3?.trustPolicy) }));
  const out = await stsClient(env).send(new AssumeRoleCommand({ RoleArn: SERVICE_ROLE, RoleSessionName: 'sts-vend-pod' }));
  service = sessionKeys(out.Credentials);
});

afterAll(() => env?.aws.stop());

it('notes that a role principal makes every AssumeRole role chaining', () => {
  expect(plan.notes).toEqual([expect.stringContaining('aws.roleChaining: true')]);
});

it('lets the service vend from every target role (trust and its own policy both allow)', async () => {
  for (const r of plan.roles) {
    const accessType = r.accessTypes[0] as string;
    const out = await stsClient(env, service).send(new AssumeRoleCommand(vendInput(r.roleArn, r.templates[0] as string, accessType)));
    expect(env.aws.admin.session(sessionKeys(out.Credentials).accessKeyId)).toMatchObject({ roleArn: r.roleArn, chained: true, sourceIdentity: 'alice' });
  }
});

it('lets the service run the kill switch on a target role: list, read, write and delete its inline policy', async () => {
  const iam = iamClient(env, service);
  await iam.send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'sts-vend-revocations', PolicyDocument: DENY_ALL }));
  expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'agent-s3' }))).PolicyNames?.sort()).toEqual([CEILING_POLICY_NAME, 'sts-vend-revocations']);
  expect(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'sts-vend-revocations' }))).PolicyDocument ?? '')).toBe(DENY_ALL);
  await iam.send(new DeleteRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'sts-vend-revocations' }));
});

it('keeps the service away from every other role and from the rest of IAM', async () => {
  const sts = stsClient(env, service);
  const iam = iamClient(env, service);
  await expect(sts.send(new AssumeRoleCommand(vendInput('arn:aws:iam::111122223333:role/not-a-target', 's3-read-prefix')))).rejects.toMatchObject({
    name: 'AccessDenied',
    message: expect.stringContaining('no identity-based policy allows'), // the trust would admit it
  });
  for (const RoleName of ['not-a-target', 'sts-vend-service']) {
    await expect(iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'escalate', PolicyDocument: DENY_ALL }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(iam.send(new ListRolePoliciesCommand({ RoleName }))).rejects.toMatchObject({ name: 'AccessDenied' });
  }
  await expect(iam.send(new CreateRoleCommand({ RoleName: 'new-role', AssumeRolePolicyDocument: JSON.stringify(plan.roles[0]?.trustPolicy) }))).rejects.toMatchObject({ name: 'AccessDenied' });
  expect(env.aws.admin.authorize(service.accessKeyId, 'iam:CreateUser', 'arn:aws:iam::111122223333:user/mallory')).not.toBe('Allow');
});
