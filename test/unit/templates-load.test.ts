import { cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validatePolicy } from '../../src/policy/document';
import { TemplateLoadError, loadTemplates } from '../../src/templates/load-templates';
import { EXAMPLES, OPTS, base, templateProblemsOf, removeTemplateDirs, templateDir, withChange, type Tpl } from '../helpers/templates';

afterAll(removeTemplateDirs);

const stmt = (t: Tpl) => t.policy.Statement[0];
const arn = (account: string, n = 0) => `arn:aws:iam::${account}:policy/p${n}`;

describe('example templates', () => {
  it('all six load, with a worst-case length under the STS limit', async () => {
    const templates = await loadTemplates(EXAMPLES, OPTS);
    expect(templates.map((t) => t.name).sort()).toEqual(
      ['ci-deploy', 'dynamodb-read-table', 'lambda-update-code', 'logs-read-group', 's3-read-prefix', 's3-write-prefix'],
    );
    for (const t of templates) {
      expect(t.worstCasePolicyLength).toBeGreaterThan(100);
      expect(t.worstCasePolicyLength).toBeLessThanOrEqual(2048);
      expect(path.basename(t.file)).toBe(`${t.name}.yaml`);
      expect(t.policyArns).toEqual([]);
      expect(t.description.length).toBeGreaterThan(0);
      expect(validatePolicy(t.policy, 'session').ok).toBe(true);
    }
  });

  it('ci-deploy is for the ci issuer only, the others for corp', async () => {
    const templates = await loadTemplates(EXAMPLES, OPTS);
    for (const t of templates) expect(t.allow.issuers).toEqual([t.name === 'ci-deploy' ? 'ci' : 'corp']);
  });

  it('refuses them when their issuers are not configured', async () => {
    const err = (await loadTemplates(EXAMPLES, { ...OPTS, issuers: ['corp'] }).catch((e: unknown) => e)) as TemplateLoadError;
    expect(err.problems).toEqual([expect.stringMatching(/ci-deploy\.yaml: allow\.issuers\[0\]: unknown issuer "ci" \(configured: corp\)$/)]);
  });
});

describe('template file problems name the file and the field', () => {
  it.each<[string, Tpl, string]>([
    ['name with capitals', withChange((t) => (t.name = 'Bad_Name')), 'name: must match pattern'],
    ['one-char name', withChange((t) => (t.name = 'a')), 'name: must match pattern'],
    ['user ARN as role', withChange((t) => (t.roleArn = 'arn:aws:iam::111122223333:user/x')), 'roleArn: must match pattern'],
    ['role ARN without account', withChange((t) => (t.roleArn = 'arn:aws:iam:::role/x')), 'roleArn: must match pattern'],
    ['duration under 900', withChange((t) => (t.maxDurationSeconds = 600)), 'maxDurationSeconds: must be >= 900'],
    ['duration over 43200', withChange((t) => (t.maxDurationSeconds = 43201)), 'maxDurationSeconds: must be <= 43200'],
    ['duration over the config', withChange((t) => (t.maxDurationSeconds = 7200)), 'maxDurationSeconds: 7200 exceeds sessions.maxDurationSeconds (3600)'],
    ['no issuers', withChange((t) => (t.allow.issuers = [])), 'allow.issuers: must NOT have fewer than 1 items'],
    ['unknown issuer', withChange((t) => (t.allow.issuers = ['corp', 'github'])), 'allow.issuers[1]: unknown issuer "github"'],
    ['unknown allow rule', withChange((t) => (t.allow.teams = ['x'])), 'allow.teams: is not an allowed field'],
    ['project outside the tag alphabet', withChange((t) => (t.allow.projects = ['a*'])), 'allow.projects[0]: must match pattern'],
    ['eleven policy ARNs', withChange((t) => (t.policyArns = Array.from({ length: 11 }, (_, i) => arn('111122223333', i)))), 'policyArns: must NOT have more than 10 items'],
    ['policy ARN of another account', withChange((t) => (t.policyArns = [arn('444455556666')])), "policyArns[0]: must be in the role's account 111122223333, not 444455556666"],
    ['managed policy on a read template', withChange((t) => { t.access = 'read'; stmt(t).Action = ['s3:GetObject']; t.policyArns = [arn('111122223333')]; }), 'policyArns: an access: read template cannot list managed policies'],
    ['unknown top-level field', withChange((t) => (t.colour = 'blue')), 'colour: is not an allowed field'],
    ['missing description', withChange((t) => delete t.description), 'description: is required'],
    ['unknown access', withChange((t) => (t.access = 'admin')), 'access: must be equal to one of the allowed values: read, write'],
    ['policy without Statement', withChange((t) => delete t.policy.Statement), 'policy.Statement: is required'],
    ['$id in the parameter schema', withChange((t) => (t.parameters.$id = 'params')), 'parameters.$id: not supported'],
    ['approval without approvers', withChange((t) => (t.approval = { required: true })), 'approval.approvers: is required'],
    ['approval with no approver group', withChange((t) => (t.approval = { required: true, approvers: { groups: [] } })), 'approval.approvers.groups: must NOT have fewer than 1 items'],
    ['approval timeout under a minute', withChange((t) => (t.approval = { required: true, approvers: { groups: ['secops'] }, timeoutSeconds: 10 })), 'approval.timeoutSeconds: must be >= 60'],
    ['approval approvers by user', withChange((t) => (t.approval = { required: true, approvers: { users: ['bob'] } })), 'approval.approvers.users: is not an allowed field'],
    ['misspelt schema keyword', withChange((t) => (t.parameters.properties.bucket.patern = 'x')), 'parameters: strict mode: unknown keyword: "patern"'],
  ])('%s', async (_name, template, expected) => {
    const problems = await templateProblemsOf({ 'bad.yaml': template });
    expect(problems).toContainEqual(expect.stringContaining(`bad.yaml: ${expected}`));
  });

  it('reports YAML syntax errors with their line', async () => {
    const problems = await templateProblemsOf({ 'bad.yaml': 'name: x\nallow: [\n' });
    expect(problems[0]).toMatch(/bad\.yaml: \(yaml\): .*line \d+/);
  });

  it('reports duplicate keys in YAML', async () => {
    expect(await templateProblemsOf({ 'bad.yaml': 'name: a1\nname: a2\n' })).toContainEqual(expect.stringMatching(/bad\.yaml: \(yaml\): Map keys must be unique/));
  });

  it('refuses a YAML alias bomb', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n');
    expect(await templateProblemsOf({ 'bad.yaml': bomb })).toEqual([expect.stringMatching(/bad\.yaml: \(yaml\): /)]);
  });

  it('refuses an empty file', async () => {
    expect(await templateProblemsOf({ 'bad.yml': '' })).toEqual([expect.stringContaining('bad.yml: (template): must be object')]);
  });
});

describe('the example template that requires approval', () => {
  it('loads, with its approval rule', async () => {
    const dir = templateDir({});
    cpSync(path.join(__dirname, '../../examples/templates/s3-write-approved.yaml'), path.join(dir, 's3-write-approved.yaml'));
    const [t] = await loadTemplates(dir, OPTS);
    expect(t?.approval).toEqual({ required: true, approvers: { groups: ['secops'] }, timeoutSeconds: 900 });
  });
});

describe('collecting problems across files', () => {
  it('lists every problem of every file in one error', async () => {
    const dir = templateDir({
      'a.yaml': withChange((t) => (t.maxDurationSeconds = 100)),
      'b.yaml': withChange((t) => { t.name = 'other'; stmt(t).Action = ['s3:GetObjects']; t.allow.issuers = ['nope']; }),
      'c.yaml': withChange((t) => (t.name = 'third')),
      'README.md': 'not a template',
    });
    const err = (await loadTemplates(dir, OPTS).catch((e: unknown) => e)) as TemplateLoadError;
    expect(err.problems).toHaveLength(3);
    expect(err.problems[0]).toMatch(/a\.yaml: maxDurationSeconds: must be >= 900$/);
    expect(err.problems).toContainEqual(expect.stringMatching(/b\.yaml: allow\.issuers\[0\]: unknown issuer "nope"/));
    expect(err.problems).toContainEqual(expect.stringMatching(/b\.yaml: policy\.Statement\[0\]\.Action\[0\]: unknown action "s3:GetObjects"$/));
    expect(err.message).toContain('3 problems');
    for (const p of err.problems) expect(err.message).toContain(p);
  });

  it('refuses duplicate template names, naming both files', async () => {
    const problems = await templateProblemsOf({ 'a.yaml': base(), 'b.yml': base() });
    expect(problems).toEqual([expect.stringMatching(/b\.yml: name: duplicate template name "good" \(also in .*a\.yaml\)$/)]);
  });

  it('refuses an empty or missing directory', async () => {
    expect(await templateProblemsOf({ 'notes.txt': 'x' })).toEqual([expect.stringContaining('no *.yaml or *.yml templates found')]);
    const err = (await loadTemplates(path.join(os.tmpdir(), 'does-not-exist-templates'), OPTS).catch((e: unknown) => e)) as TemplateLoadError;
    expect(err.problems).toEqual([expect.stringContaining('cannot read the templates directory')]);
  });

  it('loads a valid template with its compiled parameter validator', async () => {
    const [t] = await loadTemplates(templateDir({ 'good.yaml': base() }), OPTS);
    expect(t?.validateParameters({ bucket: 'backend-data', prefix: 'reports/' })).toBe(true);
    expect(t?.validateParameters({ bucket: 'backend-data', prefix: 'reports' })).toBe(false);
    expect(t?.worstCasePolicyLength).toBe(JSON.stringify(t?.policy).replace('{{bucket}}', 'x'.repeat(63)).replace('{{prefix}}', 'x'.repeat(200)).length);
  });
});
