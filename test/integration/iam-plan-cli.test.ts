/** `sts-vend iam-plan` as a user runs it: from source through tsx, against the example config and templates. */
import { run } from '../../src/cli/program';
import { validatePolicy, type PolicyDocument } from '../../src/policy/document';
import { runCli } from '../helpers/cli';

const ROLE = 'arn:aws:iam::111122223333:role/sts-vend';
const ROLES = ['agent-dynamodb', 'agent-lambda', 'agent-logs', 'agent-s3', 'ci-deploy'];

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** The CLI in-process, with its output captured. */
async function runInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => void (out += s), err: (s) => void (err += s), env: {}, exitCode: 0 });
  return { code, out, err };
}

it('prints a CloudFormation template with a role per target role and the service policy', async () => {
  const r = await runCli(['iam-plan', '--config', 'sts-vend.example.yaml', '--service-principal', ROLE, '--format', 'cloudformation']);
  expect(r.code).toBe(0);
  const cfn = JSON.parse(r.stdout) as { AWSTemplateFormatVersion: string; Parameters: Record<string, { Default: string }>; Resources: Record<string, Resource> };
  expect(cfn.AWSTemplateFormatVersion).toBe('2010-09-09');
  expect(cfn.Parameters.ServicePrincipalArn?.Default).toBe(ROLE);
  const resources = Object.values(cfn.Resources);
  const roles = resources.filter((x) => x.Type === 'AWS::IAM::Role');
  expect(roles.map((x) => x.Properties.RoleName).sort()).toEqual(ROLES);
  for (const role of roles) {
    const [ceiling] = role.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: PolicyDocument }>;
    expect(ceiling?.PolicyName).toBe('sts-vend-ceiling');
    expect(validatePolicy(ceiling?.PolicyDocument, 'identity').ok).toBe(true);
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('{"AWS":{"Ref":"ServicePrincipalArn"}}');
  }
  const managed = resources.filter((x) => x.Type === 'AWS::IAM::ManagedPolicy');
  expect(managed).toHaveLength(1);
  expect(validatePolicy(managed[0]?.Properties.PolicyDocument, 'identity').ok).toBe(true);
  // A role principal: the note goes to stderr, stdout stays pure JSON.
  expect(r.stderr).toContain('sts-vend: note: the service principal is a role');
});

it('prints the plan as JSON by default', async () => {
  const r = await runInProcess(['iam-plan', '--config', 'sts-vend.example.yaml', '--service-principal', 'arn:aws:iam::111122223333:user/sts-vend']);
  expect(r).toMatchObject({ code: 0, err: '' });
  const plan = JSON.parse(r.out) as { serviceRole: { policy: PolicyDocument }; roles: Array<{ roleName: string; roleArn: string; trustPolicy: unknown; permissionPolicy: unknown; templates: string[] }> };
  expect(plan.roles.map((x) => x.roleName)).toEqual(ROLES);
  expect(plan.roles.find((x) => x.roleName === 'agent-s3')?.templates).toEqual(['s3-read-prefix', 's3-write-prefix']);
  expect(JSON.stringify(plan.serviceRole.policy)).toContain('arn:aws:iam::111122223333:role/ci-deploy');
});

it.each([
  ['no --service-principal', ['iam-plan', '--config', 'sts-vend.example.yaml']],
  ['a principal that is not a role or user ARN', ['iam-plan', '--service-principal', '*']],
  ['an assumed-role session ARN', ['iam-plan', '--service-principal', 'arn:aws:sts::111122223333:assumed-role/sts-vend/pod']],
  ['an unknown format', ['iam-plan', '--service-principal', ROLE, '--format', 'yaml']],
  ['an unknown option', ['iam-plan', '--service-principal', ROLE, '--yes']],
])('exits 2 on %s', async (_what, args) => {
  const r = await runInProcess(args);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^sts-vend: usage: /);
});

it('exits 1 naming the problem when the config cannot be read', async () => {
  const r = await runInProcess(['iam-plan', '--config', 'no-such-config.yaml', '--service-principal', ROLE]);
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^sts-vend: invalid_config: [\s\S]*no-such-config\.yaml: cannot read/);
});
