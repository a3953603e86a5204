import { ApiError } from '../../src/errors';
import { statementsOf } from '../../src/policy/document';
import { loadTemplates } from '../../src/templates/load-templates';
import { renderPolicy } from '../../src/templates/render-policy';
import { ajv } from '../../src/templates/template-schema';
import type { LoadedTemplate } from '../../src/templates/types';
import { EXAMPLES, OPTS, removeTemplateDirs, templateDir, withChange } from '../helpers/templates';

afterAll(removeTemplateDirs);

const ALICE = { developer: 'alice@example.com', project: 'backend-api' };
let examples: Map<string, LoadedTemplate>;
let withIdentity: LoadedTemplate;

beforeAll(async () => {
  examples = new Map((await loadTemplates(EXAMPLES, OPTS)).map((t) => [t.name, t]));
  const custom = withChange((t) => {
    t.name = 'home-dir';
    t.parameters.properties.maxKeys = { type: 'integer', minimum: 1, maximum: 1000 };
    t.parameters.required.push('maxKeys');
    t.policy.Statement = [
      { Sid: 'Home', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::{{bucket}}/{{identity.project}}/{{identity.developer}}/{{prefix}}*' },
      { Sid: 'Tagged', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::{{bucket}}/${aws:PrincipalTag/project}/${aws:username}/*' },
      { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::{{bucket}}', Condition: { NumericLessThanEquals: { 's3:max-keys': '{{maxKeys}}' } } },
    ];
  });
  [withIdentity] = (await loadTemplates(templateDir({ 'home.yaml': custom }), OPTS)) as [LoadedTemplate];
});

const template = (name: string): LoadedTemplate => {
  const t = examples.get(name);
  if (!t) throw new Error(`no example template ${name}`);
  return t;
};

function renderError(t: LoadedTemplate, parameters: unknown, identity = ALICE): ApiError {
  try {
    renderPolicy(t, parameters, identity);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected renderPolicy to throw');
}

describe('renderPolicy fills placeholders', () => {
  it('renders s3-read-prefix into the exact scoped policy', () => {
    const { policy, json } = renderPolicy(template('s3-read-prefix'), { bucket: 'backend-data', prefix: 'reports/2026/' }, ALICE);
    const [read, list] = statementsOf(policy);
    expect(read).toEqual({ Sid: 'ReadObjectsUnderPrefix', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::backend-data/reports/2026/*' });
    expect(list).toEqual({
      Sid: 'ListOnlyThePrefix',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: 'arn:aws:s3:::backend-data',
      Condition: { StringLike: { 's3:prefix': ['reports/2026/*'] } },
    });
    expect(json).toBe(JSON.stringify(policy));
    expect(json).not.toMatch(/\s/);
  });

  it('fills identity and integer placeholders and leaves IAM variables intact', () => {
    const { policy, json } = renderPolicy(withIdentity, { bucket: 'backend-data', prefix: 'notes/', maxKeys: 50 }, ALICE);
    const [home, tagged, list] = statementsOf(policy);
    expect(home?.Resource).toBe('arn:aws:s3:::backend-data/backend-api/alice@example.com/notes/*');
    expect(tagged?.Resource).toBe('arn:aws:s3:::backend-data/${aws:PrincipalTag/project}/${aws:username}/*');
    expect(list?.Condition).toEqual({ NumericLessThanEquals: { 's3:max-keys': '50' } });
    expect(json).not.toContain('{{');
  });

  it('renders every example template with its examples', () => {
    const samples: Record<string, Record<string, unknown>> = {
      's3-read-prefix': { bucket: 'backend-data', prefix: 'reports/' },
      's3-write-prefix': { bucket: 'backend-data', prefix: 'exports/' },
      'lambda-update-code': { functionName: 'orders-api' },
      'logs-read-group': { logGroup: '/aws/lambda/orders-api' },
      'dynamodb-read-table': { table: 'orders' },
      'ci-deploy': { artifactPrefix: 'builds/', functionName: 'orders-api' },
    };
    for (const [name, parameters] of Object.entries(samples)) {
      const { json } = renderPolicy(template(name), parameters, ALICE);
      expect(json.length).toBeLessThanOrEqual(template(name).worstCasePolicyLength);
      expect(json).not.toContain('{{');
    }
  });

  it('never changes the loaded template', () => {
    const t = template('s3-read-prefix');
    const before = JSON.stringify(t.policy);
    renderPolicy(t, { bucket: 'backend-data', prefix: 'a/' }, ALICE);
    const second = renderPolicy(t, { bucket: 'other-bucket', prefix: 'b/' }, ALICE);
    expect(JSON.stringify(t.policy)).toBe(before);
    expect(second.json).toContain('arn:aws:s3:::other-bucket/b/*');
    expect(second.json).not.toContain('backend-data');
  });

  it('stays within 2048 chars with every value at its maximum', () => {
    const t = template('logs-read-group');
    const { json } = renderPolicy(t, { logGroup: 'a'.repeat(512) }, ALICE);
    expect(json.length).toBe(t.worstCasePolicyLength);
    expect(json.length).toBeLessThanOrEqual(2048);
  });
});

describe('parameter injection is refused with 400 invalid_parameters naming the field', () => {
  const ok = { bucket: 'backend-data', prefix: 'reports/' };
  it.each<[string, unknown, string]>([
    ['quote closing the JSON string', { ...ok, prefix: 'reports/"},{"Effect":"Allow","Action":"*","Resource":"*"}/' }, 'parameters.prefix'],
    ['quote in the bucket', { ...ok, bucket: 'backend"-data' }, 'parameters.bucket'],
    ['wildcard *', { ...ok, prefix: '*' }, 'parameters.prefix'],
    ['wildcard inside the prefix', { ...ok, prefix: 'reports/*/' }, 'parameters.prefix'],
    ['wildcard ?', { ...ok, prefix: 'report?/' }, 'parameters.prefix'],
    ['wildcard in the bucket', { ...ok, bucket: 'backend-*' }, 'parameters.bucket'],
    ['.. segment', { ...ok, prefix: 'reports/../' }, 'parameters.prefix'],
    ['leading ..', { ...ok, prefix: '../' }, 'parameters.prefix'],
    ['IAM variable ${aws:username}', { ...ok, prefix: '${aws:username}/' }, 'parameters.prefix'],
    ['IAM wildcard variable ${*}', { ...ok, prefix: 'reports/${*}/' }, 'parameters.prefix'],
    ['template placeholder', { ...ok, prefix: '{{bucket}}/' }, 'parameters.prefix'],
    ['Cyrillic look-alike in the bucket', { ...ok, bucket: 'b\u0430ckend-data' }, 'parameters.bucket'],
    ['fullwidth letters', { ...ok, prefix: '\uff52eports/' }, 'parameters.prefix'],
    ['fullwidth asterisk', { ...ok, prefix: 'reports/\uff0a/' }, 'parameters.prefix'],
    ['zero-width space', { ...ok, prefix: 'reports\u200b/' }, 'parameters.prefix'],
    ['newline', { ...ok, prefix: 'reports/\n/' }, 'parameters.prefix'],
    ['NUL', { ...ok, prefix: 'reports/\u0000/' }, 'parameters.prefix'],
    ['backslash', { ...ok, prefix: 'reports\\/' }, 'parameters.prefix'],
    ['no trailing slash (would reach reports-secret/)', { ...ok, prefix: 'reports' }, 'parameters.prefix'],
    ['leading slash', { ...ok, prefix: '/reports/' }, 'parameters.prefix'],
    ['empty prefix (would reach the whole bucket)', { ...ok, prefix: '' }, 'parameters.prefix'],
    ['double slash', { ...ok, prefix: 'reports//' }, 'parameters.prefix'],
    ['over-long bucket', { ...ok, bucket: 'a'.repeat(64) }, 'parameters.bucket'],
    ['over-long prefix', { ...ok, prefix: `${'a'.repeat(256)}/` }, 'parameters.prefix'],
    ['extra field', { ...ok, role: 'admin' }, 'parameters.role'],
    ['prototype pollution key', JSON.parse('{"bucket":"backend-data","prefix":"reports/","__proto__":{"x":1}}'), 'parameters.__proto__'],
    ['number for a string', { ...ok, prefix: 42 }, 'parameters.prefix'],
    ['array for a string', { ...ok, bucket: ['backend-data'] }, 'parameters.bucket'],
    ['object for a string', { ...ok, prefix: { toString: 'reports/' } }, 'parameters.prefix'],
    ['missing required prefix', { bucket: 'backend-data' }, 'parameters.prefix'],
    ['missing everything', {}, 'parameters.bucket'],
    ['null parameters', null, 'parameters'],
    ['string parameters', 'bucket=backend-data', 'parameters'],
    ['array parameters', [ok], 'parameters'],
  ])('%s', (_name, parameters, field) => {
    const err = renderError(template('s3-read-prefix'), parameters);
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_parameters');
    expect(err.message.startsWith(`${field}: `)).toBe(true);
    const errors = (err.details as { errors: Array<{ path: string; message: string }> }).errors;
    expect(errors.map((e) => e.path)).toContain(field);
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it('lists every bad field, not only the first', () => {
    const err = renderError(template('s3-read-prefix'), { bucket: 'B*', prefix: 7, extra: true });
    const paths = (err.details as { errors: Array<{ path: string }> }).errors.map((e) => e.path);
    expect(new Set(paths)).toEqual(new Set(['parameters.bucket', 'parameters.prefix', 'parameters.extra']));
    expect(err.message).toMatch(/\(and \d+ more\)$/);
  });

  it('refuses a non-integer for an integer parameter', () => {
    const err = renderError(withIdentity, { bucket: 'backend-data', prefix: 'a/', maxKeys: 1.5 });
    expect(err.code).toBe('invalid_parameters');
    expect(err.message).toMatch(/^parameters\.maxKeys: must be integer/);
  });
});

describe('defences behind the lint', () => {
  it('still refuses a refused character if a schema let it through', () => {
    const loose = { ...template('s3-read-prefix'), validateParameters: ajv.compile({ type: 'object' }) };
    const err = renderError(loose, { bucket: 'backend-data', prefix: 'a*/' });
    expect([err.status, err.code, err.message]).toEqual([400, 'invalid_parameters', 'parameters.prefix: contains a character that cannot appear in a policy']);
  });

  it('answers 500 policy_too_large if a rendered policy ever exceeds 2048 chars', () => {
    const loose = { ...template('s3-read-prefix'), validateParameters: ajv.compile({ type: 'object' }) };
    const err = renderError(loose, { bucket: 'backend-data', prefix: `${'a'.repeat(1500)}/` });
    expect([err.status, err.code, err.expose]).toEqual([500, 'policy_too_large', false]);
  });

  it.each<[string, Partial<typeof ALICE>, string]>([
    ['wildcard in the developer', { developer: 'a*@example.com' }, 'developer'],
    ['IAM variable in the project', { project: '${aws:username}' }, 'project'],
    ['quote in the developer', { developer: 'a"b' }, 'developer'],
    ['look-alike in the developer', { developer: '\u0430lice@example.com' }, 'developer'],
    ['developer over 256 chars', { developer: 'a'.repeat(257) }, 'developer'],
    ['empty project', { project: '' }, 'project'],
  ])('refuses an identity value that cannot appear in the policy: %s', (_name, identity, field) => {
    const err = renderError(withIdentity, { bucket: 'backend-data', prefix: 'a/', maxKeys: 1 }, { ...ALICE, ...identity });
    expect([err.status, err.code]).toEqual([400, 'invalid_identity']);
    expect(err.message).toContain(`the token's ${field} cannot be used in template "home-dir"`);
  });

  it('ignores identity values a template does not use', () => {
    const { json } = renderPolicy(template('s3-read-prefix'), { bucket: 'backend-data', prefix: 'a/' }, { developer: 'a*"b', project: '' });
    expect(json).not.toContain('a*"b');
  });
});
