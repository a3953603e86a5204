import { loadTemplates } from '../../src/templates/load-templates';
import { isAnchored } from '../../src/templates/lint-parameters';
import { OPTS, templateProblemsOf, removeTemplateDirs, templateDir, withChange, type Tpl } from '../helpers/templates';

afterAll(removeTemplateDirs);

const prefix = (t: Tpl) => t.parameters.properties.prefix;
const stmt = (t: Tpl) => t.policy.Statement[0];
const setPattern = (pattern: string) => withChange((t) => (prefix(t).pattern = pattern));
const read = (change: (t: Tpl) => void = () => undefined) =>
  withChange((t) => {
    t.access = 'read';
    stmt(t).Action = ['s3:GetObject'];
    change(t);
  });
const PREFIX = 'parameters.properties.prefix';
const ACTION0 = 'policy.Statement[0].Action[0]';

describe('lint rules refuse a crafted bad template, naming file and field', () => {
  it.each<[string, Tpl, string]>([
    // parameter schema shape
    ['parameters not an object schema', withChange((t) => (t.parameters.type = 'array')), 'parameters.type: must be "object"'],
    ['additionalProperties not false', withChange((t) => delete t.parameters.additionalProperties), 'parameters.additionalProperties: must be false'],
    ['string without pattern', withChange((t) => delete prefix(t).pattern), `${PREFIX}.pattern: a string parameter used in the policy needs a pattern`],
    ['string without maxLength', withChange((t) => delete prefix(t).maxLength), `${PREFIX}.maxLength: a string parameter used in the policy needs maxLength`],
    ['referenced but not required', withChange((t) => (t.parameters.required = ['bucket'])), 'parameters.required: must list "prefix" (the policy uses {{prefix}})'],
    ['boolean parameter in the policy', withChange((t) => (t.parameters.properties.prefix = { type: 'boolean' })), `${PREFIX}: a parameter used in the policy must be a string with pattern and maxLength, an enum, or an integer`],
    ['integer without bounds', withChange((t) => (t.parameters.properties.prefix = { type: 'integer', minimum: 1 })), `${PREFIX}: an integer parameter used in the policy needs minimum <= maximum`],
    ['enum with a wildcard member', withChange((t) => (t.parameters.properties.prefix = { enum: ['reports/', '*'] })), `${PREFIX}.enum[1]: "*" must be a non-empty string`],
    ['enum with an empty member', withChange((t) => (t.parameters.properties.prefix = { enum: [''] })), `${PREFIX}.enum[0]: "" must be a non-empty string`],
    ['no examples', withChange((t) => delete prefix(t).examples), `${PREFIX}.examples: list at least one valid value`],
    ['example failing its own pattern', withChange((t) => (prefix(t).examples = ['no-slash'])), `${PREFIX}.examples[0]: "no-slash" does not satisfy`],
    // pattern checks
    ['unanchored pattern', setPattern('[A-Za-z0-9/]+/'), `${PREFIX}.pattern: must be anchored`],
    ['end anchor only', setPattern('[A-Za-z0-9/]+/$'), `${PREFIX}.pattern: must be anchored`],
    ['top-level alternation', setPattern('^[a-z]+/$|^x$'), `${PREFIX}.pattern: must be anchored`],
    ['escaped final $', setPattern('^[a-z/]+\\$'), `${PREFIX}.pattern: must be anchored`],
    ['pattern admitting *', setPattern('^[A-Za-z0-9*/]+/$'), `${PREFIX}.pattern: admits "*"`],
    ['pattern admitting ?', setPattern('^[A-Za-z0-9?/]+/$'), `${PREFIX}.pattern: admits "?"`],
    ['pattern admitting ${', setPattern('^[A-Za-z0-9${}:/]+/$'), `${PREFIX}.pattern: admits "$"`],
    ['pattern admitting {', setPattern('^[A-Za-z0-9{}/]+/$'), `${PREFIX}.pattern: admits "{"`],
    ['pattern admitting a quote', setPattern('^[A-Za-z0-9"/]+/$'), `${PREFIX}.pattern: admits "\\""`],
    ['pattern admitting a backslash', setPattern('^[A-Za-z0-9\\\\/]+/$'), `${PREFIX}.pattern: admits "\\\\"`],
    ['pattern admitting white space controls', setPattern('^[A-Za-z0-9\\s/]+/$'), `${PREFIX}.pattern: admits U+0009`],
    ['pattern admitting any letter', setPattern('^[\\p{L}0-9/]+/$'), `${PREFIX}.pattern: admits U+0430`],
    ['pattern admitting anything', setPattern('^.+/$'), `${PREFIX}.pattern: admits "*"`],
    ['pattern admitting the empty string', setPattern('^[a-z/]*$'), `${PREFIX}.pattern: admits the empty string`],
    ['invalid regular expression', setPattern('^[a-z/$'), `${PREFIX}.pattern: Invalid regular expression`],
    // placeholders
    ['unknown placeholder', withChange((t) => (stmt(t).Resource = 'arn:aws:s3:::{{bukket}}/{{prefix}}*')), 'policy.Statement[0].Resource: unknown placeholder {{bukket}}'],
    ['malformed placeholder', withChange((t) => (stmt(t).Resource = 'arn:aws:s3:::{{ bucket }}/{{prefix}}*')), 'policy.Statement[0].Resource: malformed placeholder'],
    ['placeholder in a key', withChange((t) => (stmt(t).Condition = { StringLike: { 's3:{{bucket}}': 'x' } })), 'policy.Statement[0].Condition.StringLike["s3:{{bucket}}"]: placeholders are filled into values only'],
    ['placeholder in an action', withChange((t) => (stmt(t).Action = ['s3:{{bucket}}'])), `${ACTION0}: actions must be literal`],
    // actions
    ['unknown action', withChange((t) => (stmt(t).Action = ['s3:GetObjects'])), `${ACTION0}: unknown action "s3:GetObjects"`],
    ['unknown action in a Deny', withChange((t) => t.policy.Statement.push({ Effect: 'Deny', Action: 's3:DeleteObjects', Resource: '*' })), 'policy.Statement[1].Action: unknown action "s3:DeleteObjects"'],
    ['unknown service', withChange((t) => (stmt(t).Action = ['s4:GetObject'])), `${ACTION0}: unknown service "s4"`],
    ['wildcard matching nothing', withChange((t) => { t.allowWildcardActions = true; stmt(t).Action = ['s3:Frobnicate*']; }), `${ACTION0}: "s3:Frobnicate*" matches no s3 action`],
    ['wildcard service prefix', withChange((t) => (stmt(t).Action = ['s*:GetObject'])), `${ACTION0}: wildcards in the service prefix`],
    ['s3:* without allowWildcardActions', withChange((t) => (stmt(t).Action = ['s3:*'])), `${ACTION0}: wildcard action "s3:*" needs allowWildcardActions: true`],
    ['* without allowWildcardActions', withChange((t) => (stmt(t).Action = ['*'])), `${ACTION0}: wildcard action "*" needs allowWildcardActions: true`],
    ['s3:Delete* without allowWildcardActions', withChange((t) => (stmt(t).Action = ['s3:Delete*'])), `${ACTION0}: wildcard action "s3:Delete*" needs`],
    ['s3:GetObjec? without allowWildcardActions', withChange((t) => (stmt(t).Action = ['s3:GetObjec?'])), `${ACTION0}: wildcard action "s3:GetObjec?" needs`],
    ['read template granting s3:PutObject', read((t) => (stmt(t).Action = ['s3:GetObject', 's3:PutObject'])), 'policy.Statement[0].Action[1]: "s3:PutObject" grants s3:PutObject (Write); an access: read template may grant only Read and List'],
    ['read template granting tagging', read((t) => (stmt(t).Action = 's3:PutObjectTagging')), 'policy.Statement[0].Action: "s3:PutObjectTagging" grants s3:PutObjectTagging (Tagging'],
    ['read template with s3:* even when wildcards are allowed', read((t) => { t.allowWildcardActions = true; stmt(t).Action = ['s3:*']; }), `${ACTION0}: "s3:*" grants`],
    ['read template with *', read((t) => { t.allowWildcardActions = true; stmt(t).Action = ['*']; }), `${ACTION0}: "*" grants every action of every service`],
    ['read template with s3:Put*', read((t) => { t.allowWildcardActions = true; stmt(t).Action = ['s3:Put*']; }), `${ACTION0}: "s3:Put*" grants s3:`],
    ['NotAction in an Allow', withChange((t) => { delete stmt(t).Action; stmt(t).NotAction = ['s3:DeleteObject']; }), 'policy.Statement[0].NotAction: not allowed in an Allow statement'],
    ['NotResource in an Allow', withChange((t) => { delete stmt(t).Resource; stmt(t).NotResource = ['arn:aws:s3:::secret/*']; }), 'policy.Statement[0].NotResource: not allowed in an Allow statement'],
    // gateway rules
    ['gateway rule with a misspelt operation', withChange((t) => (t.gateway = { deny: ['s3:DeleteObjekt'] })), 'gateway.deny[0]: "s3:DeleteObjekt" names no s3 operation or IAM action'],
    ['gateway rule for a service the gateway does not forward to', withChange((t) => (t.gateway = { allow: ['ec2:RunInstances'] })), 'gateway.allow[0]: the gateway does not forward to "ec2"'],
    ['gateway glob matching nothing', withChange((t) => (t.gateway = { deny: ['s3:Frob*'] })), 'gateway.deny[0]: "s3:Frob*" names no s3 operation'],
    ['gateway rule without an operation', withChange((t) => (t.gateway = { deny: ['s3'] })), 'gateway.deny[0]: must match pattern'],
    // IAM grammar of the rendered sample
    ['Sid that IAM refuses', withChange((t) => (stmt(t).Sid = 'read-objects')), 'policy.Statement[0].Sid must be alphanumeric'],
    ['Principal in a session policy', withChange((t) => (stmt(t).Principal = '*')), 'policy.Statement[0].Principal is not allowed in a session policy'],
    ['resource that is not an ARN', withChange((t) => (stmt(t).Resource = '{{bucket}}/{{prefix}}')), 'policy.Statement[0].Resource: "backend-data/reports/" must be an ARN'],
    // worst-case size
    ['prefix maxLength overflowing 2048', withChange((t) => (prefix(t).maxLength = 1900)), 'policy: worst-case rendered length 2090 chars exceeds the 2048-char session policy limit'],
    ['identity values overflowing 2048', withChange((t) => (stmt(t).Resource = Array.from({ length: 8 }, (_, i) => `arn:aws:s3:::{{bucket}}/{{identity.developer}}/${i}/*`))), 'policy: worst-case rendered length 2831 chars exceeds the 2048-char session policy limit (every parameter at its maxLength, identity values at 256)'],
    ['managed policy ARNs overflowing 2048', withChange((t) => { prefix(t).maxLength = 400; t.policyArns = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::111122223333:policy/${'p'.repeat(120)}${i}`); }), 'policy: worst-case rendered length 590 chars plus 1540 chars of policyArns exceeds the 2048-char session policy limit'],
  ])('%s', async (_name, template, expected) => {
    const problems = await templateProblemsOf({ 'bad.yaml': template });
    expect(problems).toContainEqual(expect.stringContaining(`bad.yaml: ${expected}`));
  });

  it('reports several problems of one template together', async () => {
    const problems = await templateProblemsOf({
      'bad.yaml': withChange((t) => {
        prefix(t).pattern = '^.*$';
        stmt(t).Action = ['s3:GetObjects', 's3:*'];
        stmt(t).Sid = 'no-dashes';
      }),
    });
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(problems.join('\n')).toMatch(/pattern: admits[\s\S]*unknown action[\s\S]*needs allowWildcardActions[\s\S]*Sid must be alphanumeric/);
  });
});

describe('lint rules accept what they should', () => {
  it.each<[string, Tpl]>([
    ['s3:* on a write template with allowWildcardActions', withChange((t) => { t.allowWildcardActions = true; stmt(t).Action = ['s3:*']; })],
    ['read template with List and Read wildcards', read((t) => { t.allowWildcardActions = true; stmt(t).Action = ['s3:GetObject*', 's3:ListBucket*']; })],
    ['Deny with wildcards and NotAction needs no flag', withChange((t) => t.policy.Statement.push({ Effect: 'Deny', NotAction: ['s3:Get*'], Resource: '*' }))],
    ['IAM variables next to placeholders', withChange((t) => (stmt(t).Resource = 'arn:aws:s3:::{{bucket}}/${aws:PrincipalTag/project}/{{prefix}}*'))],
    ['identity placeholders', withChange((t) => (stmt(t).Resource = 'arn:aws:s3:::{{bucket}}/{{identity.project}}/{{identity.developer}}/*'))],
    ['enum and bounded integer parameters', withChange((t) => {
      t.parameters.properties.region = { type: 'string', enum: ['us-east-1', 'eu-west-1'] };
      t.parameters.properties.maxKeys = { type: 'integer', minimum: 1, maximum: 1000 };
      t.parameters.required.push('region', 'maxKeys');
      t.policy.Statement.push({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::{{bucket}}', Condition: { NumericLessThanEquals: { 's3:max-keys': '{{maxKeys}}' }, StringEquals: { 'aws:RequestedRegion': '{{region}}' } } });
    })],
    ['gateway rules naming S3 operations, IAM actions and globs', withChange((t) => (t.gateway = { deny: ['s3:DeleteObject', 's3:DeleteObjects', 's3:PutBucket*'], allow: ['s3:ListObjectsV2', 's3:GetObject', 'sts:GetCallerIdentity', 'dynamodb:GetItem'] }))],
    ['an unreferenced free-text parameter', withChange((t) => (t.parameters.properties.ticket = { type: 'string', maxLength: 40 }))],
    ['a pattern allowing ".." (IAM matches resources literally)', setPattern('^[A-Za-z0-9][A-Za-z0-9/_.-]*/$')],
  ])('%s', async (_name, template) => {
    const templates = await loadTemplates(templateDir({ 'ok.yaml': template }), OPTS);
    expect(templates).toHaveLength(1);
  });
});

describe('isAnchored', () => {
  it.each<[string, boolean]>([
    ['^abc$', true],
    ['^(a|b)$', true],
    ['^[|]$', true],
    ['^a\\|b$', true],
    ['abc$', false],
    ['^abc', false],
    ['^a$|^b$', false],
    ['^a\\$', false],
    ['^a\\\\$', true],
  ])('%s -> %s', (pattern, expected) => expect(isAnchored(pattern)).toBe(expected));
});
