/**
 * The IAM plan deployed to the emulator (roles created with IAM CreateRole / PutRolePolicy from the generated
 * documents, none pre-existing): its trust policies admit the service's AssumeRole exactly as a vend makes it and
 * refuse anything else, and its ceilings let each template's calls through and nothing outside their union.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { loadConfig } from '../../src/config';
import { iamPlan, CEILING_POLICY_NAME, type IamPlan, type RolePlan } from '../../src/iam-plan/iam-plan';
import { createMetrics } from '../../src/observability/metrics';
import { loadTemplates } from '../../src/templates/load-templates';
import { renderPolicy } from '../../src/templates/render-policy';
import type { LoadedTemplate } from '../../src/templates/types';
import { assumeRole } from '../../src/vend/assume-role';
import { TAG_KEYS, sessionTags } from '../../src/vend/session-credentials';
import { iamClient, sessionKeys, startTestAws, stsClient, type TestAws } from '../helpers/local-aws';

const SERVICE = 'arn:aws:iam::111122223333:user/sts-vend';
const INTRUDER = { accessKeyId: 'AKIAINTRUDERLOCAL001', secretAccessKey: 'local-intruder-secret-key-do-not-use' };
const IDENTITY = { developer: 'alice@example.com', project: 'backend-api' };

/** For each shipped template: sample parameters and calls its rendered policy allows. */
const CASES: Record<string, { params: Record<string, string>; allowed: Array<[string, string, Record<string, string>?]> }> = {
  's3-read-prefix': { params: { bucket: 'backend-data', prefix: 'reports/2026/' }, allowed: [['s3:GetObject', 'arn:aws:s3:::backend-data/reports/2026/q3.csv'], ['s3:ListBucket', 'arn:aws:s3:::backend-data', { 's3:prefix': 'reports/2026/' }]] },
  's3-write-prefix': { params: { bucket: 'backend-data', prefix: 'exports/' }, allowed: [['s3:PutObject', 'arn:aws:s3:::backend-data/exports/new.csv']] },
  'lambda-update-code': { params: { functionName: 'orders-api' }, allowed: [['lambda:UpdateFunctionCode', 'arn:aws:lambda:us-east-1:111122223333:function:orders-api']] },
  'logs-read-group': { params: { logGroup: '/aws/lambda/orders-api' }, allowed: [['logs:GetLogEvents', 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders-api:log-stream:abc']] },
  'dynamodb-read-table': { params: { table: 'orders' }, allowed: [['dynamodb:Query', 'arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/by-date']] },
  'ci-deploy': { params: { artifactPrefix: 'builds/', functionName: 'orders-api' }, allowed: [['s3:PutObject', 'arn:aws:s3:::deploy-artifacts/builds/app-2.zip'], ['lambda:UpdateFunctionCode', 'arn:aws:lambda:us-east-1:111122223333:function:orders-api']] },
};

let env: TestAws;
let plan: IamPlan;
let templates: LoadedTemplate[];

const roleOf = (name: string): RolePlan => {
  const role = plan.roles.find((r) => r.roleName === name);
  if (!role) throw new Error(`no planned role ${name}`);
  return role;
};
const templateNamed = (name: string): LoadedTemplate => templates.find((t) => t.name === name) as LoadedTemplate;
const accessTypeOf = (t: LoadedTemplate): string => (t.allow.issuers.includes('ci') ? 'CI' : 'AI');

/** The AssumeRole input of a vend of `template` (session-credentials.ts's tags and source identity), without Policy. */
function vendInput(template: LoadedTemplate, extra: Partial<AssumeRoleCommandInput> = {}): AssumeRoleCommandInput {
  const tags = sessionTags({ id: randomUUID(), accessType: accessTypeOf(template), ...IDENTITY, template: template.name });
  return {
    RoleArn: template.roleArn,
    RoleSessionName: 'alice.iam-plan',
    DurationSeconds: 900,
    SourceIdentity: 'alice',
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    TransitiveTagKeys: [...TAG_KEYS],
    ...extra,
  };
}

beforeAll(async () => {
  const config = loadConfig({ STS_VEND_CONFIG: path.resolve(__dirname, '../../sts-vend.example.yaml') });
  templates = await loadTemplates(config.templatesDir, { issuers: config.issuers.map((i) => i.name), maxDurationSeconds: config.sessions.maxDurationSeconds });
  plan = iamPlan(config, templates, { servicePrincipalArn: SERVICE });
  env = await startTestAws({
    state: (s) => {
      s.roles = []; // every role comes from the plan
      s.credentials.push({ userName: 'intruder', ...INTRUDER });
    },
  });
  const iam = iamClient(env);
  for (const r of plan.roles) {
    await iam.send(new CreateRoleCommand({ RoleName: r.roleName, Path: r.path, AssumeRolePolicyDocument: JSON.stringify(r.trustPolicy), MaxSessionDuration: r.maxSessionDuration }));
    await iam.send(new PutRolePolicyCommand({ RoleName: r.roleName, PolicyName: CEILING_POLICY_NAME, PolicyDocument: JSON.stringify(r.permissionPolicy) }));
  }
});

afterAll(() => env?.aws.stop());

describe('generated trust policies', () => {
  it('admit the service\'s AssumeRole as a vend makes it: five transitive tags, a source identity, a session policy', async () => {
    const t = templateNamed('s3-read-prefix');
    const input = vendInput(t);
    const rendered = renderPolicy(t, CASES[t.name]?.params, IDENTITY);
    const c = await assumeRole(
      stsClient(env),
      {
        roleArn: t.roleArn,
        roleSessionName: input.RoleSessionName as string,
        durationSeconds: 900,
        policy: rendered.json,
        policyArns: t.policyArns,
        tags: Object.fromEntries((input.Tags ?? []).map((tag) => [tag.Key, tag.Value])),
        transitiveTagKeys: [...TAG_KEYS],
        sourceIdentity: 'alice',
      },
      { roleChaining: false, metrics: createMetrics() },
    );
    const session = env.aws.admin.session(c.accessKeyId);
    expect(session?.tags).toEqual(Object.fromEntries((input.Tags ?? []).map((tag) => [tag.Key, tag.Value])));
    expect([...(session?.transitiveTagKeys ?? [])].sort()).toEqual([...TAG_KEYS].sort());
    expect(session?.sourceIdentity).toBe('alice');
    expect(session?.sessionPolicy).toBe(rendered.json);
  });

  it('admit every template on its own role with its issuer\'s AccessType', async () => {
    for (const t of templates) {
      await expect(stsClient(env).send(new AssumeRoleCommand(vendInput(t)))).resolves.toMatchObject({ SourceIdentity: 'alice' });
    }
  });

  const refused: Array<[string, (i: AssumeRoleCommandInput) => AssumeRoleCommandInput]> = [
    ['without tags', (i) => ({ ...i, Tags: undefined, TransitiveTagKeys: undefined })],
    ['without a source identity', (i) => ({ ...i, SourceIdentity: undefined })],
    ['with an extra tag key', (i) => ({ ...i, Tags: [...(i.Tags ?? []), { Key: 'admin', Value: 'true' }] })],
    ['without the developer tag', (i) => ({ ...i, Tags: i.Tags?.filter((tag) => tag.Key !== 'developer'), TransitiveTagKeys: TAG_KEYS.filter((k) => k !== 'developer') })],
    ['with an empty agent-session tag', (i) => ({ ...i, Tags: i.Tags?.map((tag) => (tag.Key === 'agent-session' ? { ...tag, Value: '' } : tag)) })],
    ['with an AccessType no template of the role allows', (i) => ({ ...i, Tags: i.Tags?.map((tag) => (tag.Key === 'AccessType' ? { ...tag, Value: 'CI' } : tag)) })],
    ['with a template tag of another role', (i) => ({ ...i, Tags: i.Tags?.map((tag) => (tag.Key === 'template' ? { ...tag, Value: 'ci-deploy' } : tag)) })],
  ];
  it.each(refused)('refuse an AssumeRole %s', async (_what, change) => {
    const input = change(vendInput(templateNamed('s3-read-prefix')));
    await expect(stsClient(env).send(new AssumeRoleCommand(input))).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('refuse another principal, even with the right tags and source identity', async () => {
    const input = vendInput(templateNamed('s3-read-prefix'));
    await expect(stsClient(env, INTRUDER).send(new AssumeRoleCommand(input))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('generated ceilings', () => {
  it('let each template\'s rendered session through on its role', async () => {
    expect(Object.keys(CASES).sort()).toEqual(templates.map((t) => t.name).sort());
    for (const t of templates) {
      const { params, allowed } = CASES[t.name] ?? { params: {}, allowed: [] };
      const out = await stsClient(env).send(new AssumeRoleCommand(vendInput(t, { Policy: renderPolicy(t, params, IDENTITY).json })));
      const key = sessionKeys(out.Credentials).accessKeyId;
      for (const [action, resource, context] of allowed) {
        expect([t.name, action, resource, env.aws.admin.authorize(key, action, resource, context)]).toEqual([t.name, action, resource, 'Allow']);
      }
    }
  });

  /** Credentials of the role of `t` with no session policy: only the ceiling limits them. */
  async function ceilingOnly(t: LoadedTemplate): Promise<string> {
    const out = await stsClient(env).send(new AssumeRoleCommand(vendInput(t)));
    return sessionKeys(out.Credentials).accessKeyId;
  }

  it('alone (no session policy) allow the union of the templates\' calls', async () => {
    for (const t of templates) {
      const key = await ceilingOnly(t);
      for (const [action, resource, context] of CASES[t.name]?.allowed ?? []) {
        expect([t.name, action, resource, env.aws.admin.authorize(key, action, resource, context)]).toEqual([t.name, action, resource, 'Allow']);
      }
    }
  });

  const outside: Array<[string, string, string, Record<string, string>?]> = [
    ['agent-s3', 's3:DeleteObject', 'arn:aws:s3:::backend-data/reports/2026/q3.csv'],
    ['agent-s3', 's3:ListBucket', 'arn:aws:s3:::backend-data'], // every template lists under a prefix only
    ['agent-s3', 's3:PutBucketPolicy', 'arn:aws:s3:::backend-data'],
    ['agent-s3', 'iam:CreateUser', 'arn:aws:iam::111122223333:user/mallory'],
    ['ci-deploy', 's3:GetObject', 'arn:aws:s3:::backend-data/exports/users.csv'], // a bucket no ci template names
    ['ci-deploy', 's3:DeleteObject', 'arn:aws:s3:::deploy-artifacts/builds/app-1.0.0.zip'],
    ['ci-deploy', 's3:ListBucket', 'arn:aws:s3:::backend-data', { 's3:prefix': 'builds/' }],
    ['agent-lambda', 'lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:111122223333:function:orders-api'],
    ['agent-lambda', 'lambda:UpdateFunctionCode', 'arn:aws:lambda:eu-west-1:111122223333:function:orders-api'],
    ['agent-logs', 'logs:PutLogEvents', 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/orders-api:log-stream:abc'],
    ['agent-dynamodb', 'dynamodb:PutItem', 'arn:aws:dynamodb:us-east-1:111122223333:table/orders'],
    ['agent-dynamodb', 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:444455556666:table/orders'],
    ['agent-dynamodb', 'sts:AssumeRole', 'arn:aws:iam::111122223333:role/ci-deploy'],
  ];
  // A rest parameter: jest takes a callback with more parameters than the row has values for a `done` test.
  it.each(outside)('alone refuse what no template of %s grants: %s on %s', async (...[role, action, resource, context]) => {
    const t = templates.find((x) => x.roleArn === roleOf(role).roleArn) as LoadedTemplate;
    expect(env.aws.admin.authorize(await ceilingOnly(t), action, resource, context)).not.toBe('Allow');
  });
});
