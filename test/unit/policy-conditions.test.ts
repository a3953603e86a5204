import type { ConditionBlock } from '../../src/policy/document';
import { evaluateRequest, type RequestContext } from '../../src/dev/local-aws/policy-eval';

/** Whether an Allow statement carrying `condition` applies to a request with `context`. */
function holds(condition: ConditionBlock, context: RequestContext, version: '2012-10-17' | '2008-10-17' = '2012-10-17'): boolean {
  const policy = { Version: version, Statement: { Effect: 'Allow' as const, Action: 's3:GetObject', Resource: '*', Condition: condition } };
  return evaluateRequest({ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context }, { identity: [policy] }) === 'Allow';
}

type Row = [string, ConditionBlock, RequestContext, boolean];

describe('string operators', () => {
  it.each<Row>([
    ['StringEquals match', { StringEquals: { 'aws:PrincipalTag/team': 'data' } }, { 'aws:PrincipalTag/team': 'data' }, true],
    ['StringEquals is case-sensitive on the value', { StringEquals: { 'aws:PrincipalTag/team': 'data' } }, { 'aws:PrincipalTag/team': 'Data' }, false],
    ['StringEquals values are OR-ed', { StringEquals: { 'aws:RequestTag/AccessType': ['AI', 'CI'] } }, { 'aws:RequestTag/AccessType': 'CI' }, true],
    ['StringEquals missing key', { StringEquals: { 'aws:PrincipalTag/team': 'data' } }, {}, false],
    ['key name is case-insensitive', { StringEquals: { 'AWS:principaltag/TEAM': 'data' } }, { 'aws:PrincipalTag/team': 'data' }, true],
    ['StringEquals with a JSON boolean value', { StringEquals: { 'x:flag': true } }, { 'x:flag': 'true' }, true],
    ['StringNotEquals different value', { StringNotEquals: { 'aws:PrincipalTag/team': 'data' } }, { 'aws:PrincipalTag/team': 'web' }, true],
    ['StringNotEquals equal value', { StringNotEquals: { 'aws:PrincipalTag/team': ['web', 'data'] } }, { 'aws:PrincipalTag/team': 'data' }, false],
    ['StringNotEquals missing key matches', { StringNotEquals: { 'aws:PrincipalTag/team': 'data' } }, {}, true],
    ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'DATA' } }, { 'aws:PrincipalTag/team': 'data' }, true],
    ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'DATA' } }, { 'aws:PrincipalTag/team': 'data' }, false],
    ['StringLike *', { StringLike: { 's3:prefix': 'reports/*' } }, { 's3:prefix': 'reports/2026/q3.csv' }, true],
    ['StringLike ?', { StringLike: { 's3:prefix': 'q?.csv' } }, { 's3:prefix': 'q3.csv' }, true],
    ['StringLike ? is exactly one char', { StringLike: { 's3:prefix': 'q?.csv' } }, { 's3:prefix': 'q10.csv' }, false],
    ['StringLike is case-sensitive', { StringLike: { 's3:prefix': 'reports/*' } }, { 's3:prefix': 'Reports/x' }, false],
    ['StringLike anchors the whole value', { StringLike: { 's3:prefix': 'reports' } }, { 's3:prefix': 'reports/x' }, false],
    ['StringLike dot is literal', { StringLike: { 's3:prefix': 'a.c' } }, { 's3:prefix': 'abc' }, false],
    ['StringLike "*" requires presence', { StringLike: { 'aws:RequestTag/AccessType': '*' } }, {}, false],
    ['StringNotLike', { StringNotLike: { 's3:prefix': 'backups/*' } }, { 's3:prefix': 'backups/db.dump' }, false],
    ['StringNotLike other', { StringNotLike: { 's3:prefix': 'backups/*' } }, { 's3:prefix': 'reports/x' }, true],
    ['StringEqualsIfExists missing', { StringEqualsIfExists: { 'aws:PrincipalTag/team': 'data' } }, {}, true],
    ['StringEqualsIfExists present and different', { StringEqualsIfExists: { 'aws:PrincipalTag/team': 'data' } }, { 'aws:PrincipalTag/team': 'web' }, false],
  ])('%s', (_name, condition, context, expected) => {
    expect(holds(condition, context)).toBe(expected);
  });
});

describe('numeric, date, bool, binary, null', () => {
  it.each<Row>([
    ['NumericEquals', { NumericEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' }, true],
    ['NumericEquals decimal forms', { NumericEquals: { 's3:max-keys': '10.0' } }, { 's3:max-keys': '10' }, true],
    ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10' }, false],
    ['NumericLessThan', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '9' }, true],
    ['NumericLessThan equal', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, false],
    ['NumericLessThanEquals equal', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
    ['NumericGreaterThan compares numbers, not text', { NumericGreaterThan: { 's3:max-keys': '9' } }, { 's3:max-keys': '10' }, true],
    ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 's3:max-keys': '11' } }, { 's3:max-keys': '10' }, false],
    ['Numeric with a non-number context value', { NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' }, false],
    ['DateLessThan ISO', { DateLessThan: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-05-31T23:59:59Z' }, true],
    ['DateLessThan equal instant', { DateLessThan: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-06-01T00:00:00.000Z' }, false],
    ['DateLessThanEquals equal instant', { DateLessThanEquals: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-06-01T00:00:00.000Z' }, true],
    ['DateGreaterThan epoch seconds vs ISO', { DateGreaterThan: { 'aws:CurrentTime': '1780272000' } }, { 'aws:CurrentTime': '2026-06-01T00:00:01Z' }, true],
    ['DateEquals epoch seconds equals ISO', { DateEquals: { 'aws:CurrentTime': 1780272000 } }, { 'aws:CurrentTime': '2026-06-01T00:00:00Z' }, true],
    ['DateEquals epoch context value', { DateEquals: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }, { 'aws:CurrentTime': '1780272000' }, true],
    ['DateEquals zone-less time is UTC', { DateEquals: { 'aws:CurrentTime': '2026-06-01T00:00:00' } }, { 'aws:CurrentTime': '2026-06-01T00:00:00Z' }, true],
    ['DateGreaterThanEquals', { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-06-02' } }, { 'aws:CurrentTime': '2026-06-01T12:00:00Z' }, false],
    ['DateEquals offset forms', { DateEquals: { 'aws:CurrentTime': '2026-06-01T02:00:00+02:00' } }, { 'aws:CurrentTime': '2026-06-01T00:00:00Z' }, true],
    ['DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-06-01T00:00:00Z' }, false],
    ['Date missing key', { DateLessThan: { 'aws:TokenIssueTime': '2026-06-01T00:00:00Z' } }, {}, false],
    ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true],
    ['Bool JSON boolean vs text', { Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'false' }, true],
    ['Bool mismatch', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' }, false],
    ['Bool missing key', { Bool: { 'aws:SecureTransport': 'false' } }, {}, false],
    ['BoolIfExists missing key', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, {}, true],
    ['BinaryEquals', { BinaryEquals: { 'x:bin': 'QmluYXJ5' } }, { 'x:bin': 'QmluYXJ5' }, true],
    ['BinaryEquals mismatch', { BinaryEquals: { 'x:bin': 'QmluYXJ5' } }, { 'x:bin': 'QmluYXJ6' }, false],
    ['Null true on missing key', { Null: { 'sts:SourceIdentity': 'true' } }, {}, true],
    ['Null true on present key', { Null: { 'sts:SourceIdentity': 'true' } }, { 'sts:SourceIdentity': 'alice' }, false],
    ['Null false on present key', { Null: { 'sts:SourceIdentity': false } }, { 'sts:SourceIdentity': 'alice' }, true],
    ['Null false on missing key', { Null: { 'sts:SourceIdentity': 'false' } }, {}, false],
    ['Null treats an empty list as missing', { Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] }, true],
  ])('%s', (_name, condition, context, expected) => {
    expect(holds(condition, context)).toBe(expected);
  });
});

describe('IP and ARN operators', () => {
  it.each<Row>([
    ['IPv4 inside CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.200' }, true],
    ['IPv4 outside CIDR', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.114.1' }, false],
    ['bare address is /32', { IpAddress: { 'aws:SourceIp': '203.0.113.5' } }, { 'aws:SourceIp': '203.0.113.6' }, false],
    ['/0 matches every IPv4', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '198.51.100.1' }, true],
    ['IPv6 inside CIDR', { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db8:ffff::1' }, true],
    ['IPv6 outside CIDR', { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:SourceIp': '2001:db9::1' }, false],
    ['IPv4 never in an IPv6 block', { IpAddress: { 'aws:SourceIp': '::/0' } }, { 'aws:SourceIp': '10.0.0.1' }, false],
    ['values OR-ed across families', { IpAddress: { 'aws:SourceIp': ['2001:db8::/32', '10.0.0.0/8'] } }, { 'aws:SourceIp': '10.1.2.3' }, true],
    ['not an address', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': 'localhost' }, false],
    ['NotIpAddress outside', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '192.168.0.1' }, true],
    ['NotIpAddress inside', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.9.9.9' }, false],
    ['ArnLike wildcard in account and name', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/agent-*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/agent-s3' }, true],
    ['ArnLike segment wildcard stays in its segment', { ArnLike: { 'aws:SourceArn': 'arn:aws:*:us-east-1:111122223333:function:f' } }, { 'aws:SourceArn': 'arn:aws:lambda:eu:x:us-east-1:111122223333:function:f' }, false],
    ['ArnLike resource part crosses "/" and ":"', { ArnLike: { 'aws:SourceArn': 'arn:aws:logs:us-east-1:111122223333:log-group:*' } }, { 'aws:SourceArn': 'arn:aws:logs:us-east-1:111122223333:log-group:/app/api:log-stream:x' }, true],
    ['ArnEquals exact', { ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::backend-data' } }, { 'aws:SourceArn': 'arn:aws:s3:::backend-data' }, true],
    ['ArnEquals is case-sensitive', { ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::backend-data' } }, { 'aws:SourceArn': 'arn:aws:s3:::Backend-Data' }, false],
    ['Arn operator on a non-ARN value', { ArnLike: { 'aws:SourceArn': '*' } }, { 'aws:SourceArn': 'not-an-arn' }, false],
    ['ArnNotLike', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/admin-*' } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/agent-s3' }, true],
    ['ArnNotEquals missing key', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:s3:::b' } }, {}, true],
  ])('%s', (_name, condition, context, expected) => {
    expect(holds(condition, context)).toBe(expected);
  });
});

describe('set operators on multi-valued keys', () => {
  const allowedKeys = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['AccessType', 'developer', 'project', 'agent-session'] } };
  it.each<Row>([
    ['ForAllValues: every key listed', allowedKeys, { 'aws:TagKeys': ['AccessType', 'project'] }, true],
    ['ForAllValues: one key not listed', allowedKeys, { 'aws:TagKeys': ['AccessType', 'cost-center'] }, false],
    ['ForAllValues: missing key holds vacuously', allowedKeys, {}, true],
    ['ForAllValues: empty list holds vacuously', allowedKeys, { 'aws:TagKeys': [] }, true],
    ['ForAllValues: single string value', allowedKeys, { 'aws:TagKeys': 'developer' }, true],
    ['ForAnyValue: one listed', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project'] } }, { 'aws:TagKeys': ['AccessType', 'project'] }, true],
    ['ForAnyValue: none listed', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project'] } }, { 'aws:TagKeys': ['AccessType'] }, false],
    ['ForAnyValue: missing key', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project'] } }, {}, false],
    ['ForAnyValue IfExists: missing key', { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': ['project'] } }, {}, true],
    ['ForAnyValue:StringLike', { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'agent-*' } }, { 'aws:TagKeys': ['x', 'agent-session'] }, true],
    ['ForAllValues:StringNotEquals: none forbidden', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['owner'] } }, { 'aws:TagKeys': ['a', 'b'] }, true],
    ['ForAllValues:StringNotEquals: one forbidden', { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['owner'] } }, { 'aws:TagKeys': ['a', 'owner'] }, false],
    ['ForAnyValue:StringNotEquals: one outside the list', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['a'] } }, { 'aws:TagKeys': ['a', 'b'] }, true],
    ['ForAnyValue:StringNotEquals: missing key', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['a'] } }, {}, false],
    ['plain operator on a list: any value', { StringEquals: { 'aws:TagKeys': 'b' } }, { 'aws:TagKeys': ['a', 'b'] }, true],
  ])('%s', (_name, condition, context, expected) => {
    expect(holds(condition, context)).toBe(expected);
  });
});

describe('combining conditions and variables in values', () => {
  const ctx = { 'aws:PrincipalTag/project': 'backend-api', 's3:prefix': 'backend-api/reports/', 'aws:SourceIp': '10.0.0.1' };
  it.each<Row>([
    ['keys are AND-ed (both hold)', { StringEquals: { 'aws:PrincipalTag/project': 'backend-api', 'aws:SourceIp': '10.0.0.1' } }, ctx, true],
    ['keys are AND-ed (one fails)', { StringEquals: { 'aws:PrincipalTag/project': 'backend-api', 'aws:SourceIp': '10.0.0.2' } }, ctx, false],
    ['operators are AND-ed', { StringEquals: { 'aws:PrincipalTag/project': 'backend-api' }, NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, ctx, false],
    ['unknown operator never holds', { StringEqualz: { 'aws:PrincipalTag/project': 'backend-api' } } as ConditionBlock, ctx, false],
    ['variable in StringLike', { StringLike: { 's3:prefix': '${aws:PrincipalTag/project}/*' } }, ctx, true],
    ['variable with another value', { StringLike: { 's3:prefix': '${aws:PrincipalTag/project}/*' } }, { ...ctx, 'aws:PrincipalTag/project': 'data-pipeline' }, false],
    ['variable tag key is case-insensitive', { StringLike: { 's3:prefix': '${aws:principaltag/PROJECT}/*' } }, ctx, true],
    ['missing variable: value does not match', { StringLike: { 's3:prefix': '${aws:PrincipalTag/team}/*' } }, ctx, false],
    ['missing variable under a negated operator', { StringNotLike: { 's3:prefix': '${aws:PrincipalTag/team}/*' } }, ctx, true],
    ['missing variable falls back to a default', { StringLike: { 's3:prefix': "${aws:PrincipalTag/team, 'backend-api'}/*" } }, ctx, true],
    ['${*} is a literal star in StringLike', { StringLike: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'abc' }, false],
    ['${*} literal star matches a star', { StringLike: { 's3:prefix': 'a${*}' } }, { 's3:prefix': 'a*' }, true],
    ['${?} and ${$} are literals', { StringEquals: { 's3:prefix': '${$}{x}${?}' } }, { 's3:prefix': '${x}?' }, true],
    ['a substituted "*" is not a wildcard', { StringLike: { 's3:prefix': '${aws:PrincipalTag/project}' } }, { 's3:prefix': 'anything', 'aws:PrincipalTag/project': '*' }, false],
    ['multi-valued variable does not substitute', { StringEquals: { 's3:prefix': '${aws:TagKeys}' } }, { 's3:prefix': 'a', 'aws:TagKeys': ['a', 'b'] }, false],
  ])('%s', (_name, condition, context, expected) => {
    expect(holds(condition, context)).toBe(expected);
  });

  it('a 2008-10-17 policy treats ${...} as text', () => {
    expect(holds({ StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': 'alice', 'aws:username': 'alice' }, '2008-10-17')).toBe(false);
    expect(holds({ StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': '${aws:username}' }, '2008-10-17')).toBe(true);
  });
});
