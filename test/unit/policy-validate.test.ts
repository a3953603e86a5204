import {
  asArray,
  minifyPolicy,
  nonWhitespaceLength,
  sessionPolicyCharsetError,
  statementsOf,
  validatePolicy,
  type PolicyDocument,
  type PolicyKind,
} from '../../src/policy/document';
import { parseConditionOperator } from '../../src/policy/condition-operators';

const identity = (statement: unknown, extra: Record<string, unknown> = {}) => ({ Version: '2012-10-17', Statement: statement, ...extra });
const allowGet = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/*' };
const trustStatement = {
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::111122223333:user/sts-vend' },
  Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
  Condition: { Null: { 'sts:SourceIdentity': 'false' }, StringEquals: { 'aws:RequestTag/AccessType': ['AI', 'CI'] } },
};

function errorsOf(input: unknown, kind: PolicyKind = 'identity'): string[] {
  const result = validatePolicy(input, kind);
  return result.ok ? [] : result.errors;
}

describe('validatePolicy accepts well-formed policies', () => {
  it.each<[string, unknown, PolicyKind]>([
    ['single statement object', identity(allowGet), 'identity'],
    ['statement array with Sids', identity([{ Sid: 'Read1', ...allowGet }, { Sid: 'Read2', ...allowGet, Effect: 'Deny' }]), 'identity'],
    ['NotAction + NotResource', identity({ Effect: 'Deny', NotAction: ['iam:*'], NotResource: '*' }), 'session'],
    ['2008 version without variables', { Version: '2008-10-17', Statement: allowGet }, 'identity'],
    ['variables with 2012 version', identity({ ...allowGet, Resource: 'arn:aws:s3:::b/${aws:PrincipalTag/project}/*' }), 'session'],
    ['trust policy', identity(trustStatement), 'trust'],
    ['trust with "*" principal', identity({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }), 'trust'],
    ['trust with service principal', identity({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }), 'trust'],
    ['every operator family', identity({ ...allowGet, Condition: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] },
      StringLikeIfExists: { 's3:prefix': 'reports/*' },
      NumericLessThanEquals: { 's3:max-keys': 10 },
      DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' },
      DateGreaterThan: { 'aws:CurrentTime': '1767225600' },
      Bool: { 'aws:SecureTransport': true },
      IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] },
      ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/agent-*' },
      BinaryEquals: { 'x:bin': 'QmluYXJ5' },
      Null: { 'sts:SourceIdentity': 'false' },
    } }), 'identity'],
    ['JSON text', JSON.stringify(identity(allowGet), null, 2), 'identity'],
  ])('%s', (_name, input, kind) => {
    const result = validatePolicy(input, kind);
    expect(result).toEqual({ ok: true, policy: typeof input === 'string' ? JSON.parse(input) : input });
  });

  it('returns a copy that later changes to the input do not reach', () => {
    const input = identity({ ...allowGet });
    const result = validatePolicy(input, 'identity');
    (input.Statement as { Action: string }).Action = 's3:*';
    expect(result.ok && statementsOf(result.policy)[0]?.Action).toBe('s3:GetObject');
  });
});

describe('validatePolicy names each grammar violation', () => {
  it.each<[string, unknown, PolicyKind, RegExp]>([
    ['not JSON', '{"Version": ', 'identity', /not valid JSON/],
    ['not an object', '[1]', 'identity', /must be a JSON object/],
    ['missing Version', { Statement: allowGet }, 'identity', /Version is required/],
    ['bad Version', { Version: '2020-01-01', Statement: allowGet }, 'identity', /Version must be "2012-10-17" or "2008-10-17", not "2020-01-01"/],
    ['variables need 2012', { Version: '2008-10-17', Statement: { ...allowGet, Resource: 'arn:aws:s3:::b/${aws:username}' } }, 'identity', /"2012-10-17" when the policy uses \$\{\.\.\.\} variables/],
    ['unknown top-level key', identity(allowGet, { Statements: [] }), 'identity', /unknown top-level key "Statements"/],
    ['missing Statement', { Version: '2012-10-17' }, 'identity', /Statement is required/],
    ['empty Statement array', identity([]), 'identity', /Statement must not be an empty array/],
    ['Statement a string', identity('Allow all'), 'identity', /Statement must be an object or an array/],
    ['statement not an object', identity([allowGet, 42]), 'identity', /Statement\[1\] must be an object/],
    ['unknown statement key', identity({ ...allowGet, Actions: 's3:*' }), 'identity', /Statement: unknown key "Actions"/],
    ['missing Effect', identity({ Action: 's3:GetObject', Resource: '*' }), 'identity', /Effect is required/],
    ['lower-case Effect', identity({ ...allowGet, Effect: 'allow' }), 'identity', /Effect must be "Allow" or "Deny", not "allow"/],
    ['Action and NotAction', identity({ ...allowGet, NotAction: 's3:PutObject' }), 'identity', /exactly one of Action or NotAction, not both/],
    ['no Action', identity({ Effect: 'Allow', Resource: '*' }), 'identity', /exactly one of Action or NotAction; neither/],
    ['action without service', identity({ ...allowGet, Action: 'GetObject' }), 'identity', /Action: "GetObject" must be "service:Action"/],
    ['action with space', identity({ ...allowGet, Action: ['s3:GetObject', 's3: PutObject'] }), 'identity', /Action\[1\]: "s3: PutObject"/],
    ['service wildcard', identity({ ...allowGet, Action: '*:GetObject' }), 'identity', /"\*:GetObject" must be "service:Action"/],
    ['empty Action array', identity({ ...allowGet, Action: [] }), 'identity', /Action must be a string or a non-empty array/],
    ['non-string action', identity({ ...allowGet, Action: ['s3:GetObject', 7] }), 'identity', /Action\[1\] must be a string, not 7/],
    ['no Resource in identity', identity({ Effect: 'Allow', Action: 's3:*' }), 'identity', /exactly one of Resource or NotResource; neither/],
    ['no Resource in session', identity({ Effect: 'Allow', Action: 's3:*' }), 'session', /exactly one of Resource or NotResource/],
    ['Resource and NotResource', identity({ ...allowGet, NotResource: '*' }), 'identity', /Resource or NotResource, not both/],
    ['resource not an ARN', identity({ ...allowGet, Resource: 'backend-data/*' }), 'identity', /"backend-data\/\*" must be an ARN .* or "\*"/],
    ['ARN with too few parts', identity({ ...allowGet, Resource: 'arn:aws:s3:*' }), 'identity', /"arn:aws:s3:\*" must be an ARN/],
    ['Principal in identity policy', identity({ ...allowGet, Principal: '*' }), 'identity', /Principal is not allowed in an identity policy/],
    ['NotPrincipal in session policy', identity({ ...allowGet, NotPrincipal: { AWS: '*' } }), 'session', /NotPrincipal is not allowed in a session policy/],
    ['Resource in trust policy', identity({ ...trustStatement, Resource: '*' }), 'trust', /Resource is not allowed in a trust policy/],
    ['trust without Principal', identity({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'trust', /exactly one of Principal or NotPrincipal; neither/],
    ['unknown principal type', identity({ ...trustStatement, Principal: { User: 'bob' } }), 'trust', /unknown principal type "User"/],
    ['bad AWS principal', identity({ ...trustStatement, Principal: { AWS: 'sts-vend' } }), 'trust', /"sts-vend" must be "\*", a 12-digit account id or an IAM\/STS ARN/],
    ['empty principal object', identity({ ...trustStatement, Principal: {} }), 'trust', /Principal must be "\*" or an object/],
    ['Sid not alphanumeric', identity({ ...allowGet, Sid: 'read-objects' }), 'identity', /Sid must be alphanumeric.*"read-objects"/],
    ['duplicate Sid', identity([{ Sid: 'A', ...allowGet }, { Sid: 'A', ...allowGet }]), 'identity', /Statement\[1\]\.Sid: duplicate Sid "A"/],
    ['unknown operator', identity({ ...allowGet, Condition: { StringEqual: { 's3:prefix': 'a' } } }), 'identity', /unknown condition operator "StringEqual"/],
    ['bad set prefix', identity({ ...allowGet, Condition: { 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'a' } } }), 'identity', /unknown condition operator "ForSomeValues:StringEquals"/],
    ['NullIfExists', identity({ ...allowGet, Condition: { NullIfExists: { 'aws:TagKeys': 'true' } } }), 'identity', /unknown condition operator "NullIfExists"/],
    ['operator with no keys', identity({ ...allowGet, Condition: { StringEquals: {} } }), 'identity', /StringEquals must be a non-empty object/],
    ['condition not an object', identity({ ...allowGet, Condition: ['StringEquals'] }), 'identity', /Condition must be an object of operator/],
    ['condition key without service', identity({ ...allowGet, Condition: { StringEquals: { prefix: 'a' } } }), 'identity', /\["prefix"\]: condition key must look like "service:Key"/],
    ['object condition value', identity({ ...allowGet, Condition: { StringEquals: { 's3:prefix': { a: 1 } } } }), 'identity', /condition values must be strings, numbers or booleans/],
    ['empty condition value list', identity({ ...allowGet, Condition: { StringEquals: { 's3:prefix': [] } } }), 'identity', /must not be an empty array/],
    ['Null value not boolean', identity({ ...allowGet, Condition: { Null: { 'sts:SourceIdentity': 'yes' } } }), 'identity', /"yes" must be true or false for Null/],
    ['Bool value not boolean', identity({ ...allowGet, Condition: { Bool: { 'aws:SecureTransport': 'on' } } }), 'identity', /"on" must be true or false for Bool/],
    ['Numeric value not a number', identity({ ...allowGet, Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } }), 'identity', /"ten" is not a number/],
    ['Date value not a date', identity({ ...allowGet, Condition: { DateLessThan: { 'aws:TokenIssueTime': 'yesterday' } } }), 'identity', /"yesterday" is not an ISO 8601 date/],
    ['IP value not a CIDR', identity({ ...allowGet, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), 'identity', /"10.0.0.0\/33" is not an IP address or CIDR/],
    ['undefined value in an object', identity({ ...allowGet, Action: undefined, NotAction: 's3:*' }), 'identity', /policy\.Statement\.Action is not a JSON value \(undefined\)/],
  ])('%s', (_name, input, kind, expected) => {
    const errors = errorsOf(input, kind);
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem at once, each naming its statement', () => {
    const errors = errorsOf(identity([{ Effect: 'Permit', Action: 'GetObject', Resource: 'bucket' }, { ...allowGet, Principal: '*' }]));
    expect(errors).toEqual([
      'Statement[0].Effect must be "Allow" or "Deny", not "Permit"',
      'Statement[0].Action: "GetObject" must be "service:Action" (wildcards * and ? allowed) or "*"',
      'Statement[0].Resource: "bucket" must be an ARN (arn:partition:service:region:account:resource) or "*"',
      'Statement[1].Principal is not allowed in an identity policy',
    ]);
  });

  it('rejects a session policy with characters STS refuses, but not the same identity policy', () => {
    const doc = identity({ ...allowGet, Resource: 'arn:aws:s3:::backend-data/r\u00e9sum\u00e9-\u2603/*' });
    expect(errorsOf(doc, 'identity')).toEqual([]);
    expect(errorsOf(doc, 'session')).toEqual([expect.stringMatching(/U\+2603 at offset \d+/)]);
  });
});

describe('policy helpers', () => {
  const doc: PolicyDocument = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' } };

  it('minifies without white space outside strings', () => {
    expect(minifyPolicy(doc)).toBe('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}');
  });

  it.each([
    ['', 0],
    ['a b\tc\nd\r\n', 4],
    [JSON.stringify(doc, null, 2), minifyPolicy(doc).length],
  ])('nonWhitespaceLength(%j) = %d', (text, n) => {
    expect(nonWhitespaceLength(text)).toBe(n);
  });

  it('statementsOf normalises one statement to a list', () => {
    expect(statementsOf(doc)).toEqual([doc.Statement]);
    expect(statementsOf({ Statement: [] })).toEqual([]);
  });

  it.each([
    [undefined, []],
    ['a', ['a']],
    [['a', 'b'], ['a', 'b']],
  ])('asArray(%j)', (v, expected) => {
    expect(asArray(v)).toEqual(expected);
  });

  it.each([
    ['plain ASCII', '{"a":"b"}', undefined],
    ['tab, LF, CR and Latin-1', '\t\n\r \u00ff\u00e9', undefined],
    ['control character', 'a\u0001', /U\+0001 at offset 1/],
    ['character above U+00FF', 'ab\u0100', /U\+0100 at offset 2/],
    ['astral character', '\u{1F600}', /U\+1F600 at offset 0/],
  ])('session charset: %s', (_name, text, expected) => {
    const error = sessionPolicyCharsetError(text);
    if (expected === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(expected);
  });

  it.each([
    ['StringEquals', { base: 'StringEquals', ifExists: false, negated: false }],
    ['ForAllValues:StringNotLikeIfExists', { base: 'StringNotLike', set: 'ForAllValues', ifExists: true, negated: true }],
    ['ForAnyValue:ArnLike', { base: 'ArnLike', set: 'ForAnyValue', ifExists: false, negated: false }],
    ['NotIpAddress', { base: 'NotIpAddress', ifExists: false, negated: true }],
    ['stringequals', undefined],
    ['ForAnyValue:ForAllValues:StringEquals', undefined],
  ])('parseConditionOperator(%s)', (name, expected) => {
    expect(parseConditionOperator(name)).toEqual(expected);
  });
});
