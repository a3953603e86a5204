import type { PolicyDocument, Statement } from '../../src/policy/document';
import { evaluateRequest, evaluateTrust, type Decision, type RequestContext } from '../../src/dev/local-aws/policy-eval';

const doc = (...statements: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
const allow = (Action: string | string[], Resource: string | string[], extra: Partial<Statement> = {}): Statement => ({ Effect: 'Allow', Action, Resource, ...extra });
const deny = (Action: string | string[], Resource: string | string[], extra: Partial<Statement> = {}): Statement => ({ Effect: 'Deny', Action, Resource, ...extra });
const obj = (key: string) => `arn:aws:s3:::backend-data/${key}`;

function decide(identity: PolicyDocument[], action: string, resource: string, context: RequestContext = {}, session?: PolicyDocument[]): Decision {
  return evaluateRequest({ action, resource, context }, session ? { identity, session } : { identity });
}

describe('action matching', () => {
  const policy = doc(allow(['s3:Get*', 'lambda:?etFunction', 'logs:FilterLogEvents'], '*'));
  it.each<[string, Decision]>([
    ['s3:GetObject', 'Allow'],
    ['S3:GETOBJECT', 'Allow'],
    ['s3:GetObjectTagging', 'Allow'],
    ['s3:PutObject', 'ImplicitDeny'],
    ['lambda:GetFunction', 'Allow'],
    ['lambda:SetFunction', 'Allow'],
    ['lambda:GetFunctionConfiguration', 'ImplicitDeny'],
    ['logs:FilterLogEvent', 'ImplicitDeny'],
    ['ec2:GetObject', 'ImplicitDeny'],
  ])('%s -> %s', (action, expected) => {
    expect(decide([policy], action, obj('k'))).toBe(expected);
  });

  it('"*" matches every action', () => {
    expect(decide([doc(allow('*', '*'))], 'iam:DeleteRole', 'arn:aws:iam::111122223333:role/x')).toBe('Allow');
  });
});

describe('resource matching', () => {
  it.each<[string, string, string, Decision]>([
    ['"*" crosses "/"', 'arn:aws:s3:::backend-data/reports/*', obj('reports/2026/q3.csv'), 'Allow'],
    ['prefix must match', 'arn:aws:s3:::backend-data/reports/*', obj('exports/users.csv'), 'ImplicitDeny'],
    ['bucket ARN is not an object ARN', 'arn:aws:s3:::backend-data/*', 'arn:aws:s3:::backend-data', 'ImplicitDeny'],
    ['"*" may match nothing', 'arn:aws:s3:::backend-data/*', obj(''), 'Allow'],
    ['"?" is one character', 'arn:aws:s3:::backend-data/reports/2026/q?.csv', obj('reports/2026/q4.csv'), 'Allow'],
    ['"?" is not two characters', 'arn:aws:s3:::backend-data/reports/2026/q?.csv', obj('reports/2026/q10.csv'), 'ImplicitDeny'],
    ['"?" is not zero characters', 'arn:aws:s3:::backend-data/reports/2026/q?.csv', obj('reports/2026/q.csv'), 'ImplicitDeny'],
    ['case-sensitive', 'arn:aws:s3:::backend-data/Reports/*', obj('reports/2026/q3.csv'), 'ImplicitDeny'],
    ['regex characters are literal', 'arn:aws:s3:::backend-data/a.b', obj('axb'), 'ImplicitDeny'],
    ['region wildcard stays in its segment', 'arn:aws:lambda:*:111122223333:function:app', 'arn:aws:lambda:us-east-1:111122223333:function:app', 'Allow'],
    ['segment wildcard cannot swallow colons', 'arn:aws:lambda:*:function:app', 'arn:aws:lambda:us-east-1:111122223333:function:app', 'ImplicitDeny'],
    ['resource part "*" crosses ":"', 'arn:aws:logs:us-east-1:111122223333:log-group:*', 'arn:aws:logs:us-east-1:111122223333:log-group:/app:log-stream:s1', 'Allow'],
    ['account must match', 'arn:aws:dynamodb:us-east-1:111122223333:table/*', 'arn:aws:dynamodb:us-east-1:444455556666:table/users', 'ImplicitDeny'],
  ])('%s', (_name, pattern, resource, expected) => {
    expect(decide([doc(allow('s3:GetObject', pattern))], 's3:GetObject', resource)).toBe(expected);
  });

  it('a list of resources is OR-ed', () => {
    const policy = doc(allow('s3:ListBucket', ['arn:aws:s3:::deploy-artifacts', 'arn:aws:s3:::backend-data']));
    expect(decide([policy], 's3:ListBucket', 'arn:aws:s3:::backend-data')).toBe('Allow');
    expect(decide([policy], 's3:ListBucket', 'arn:aws:s3:::other')).toBe('ImplicitDeny');
  });
});

describe('policy variables in Resource', () => {
  const ctx = { 'aws:PrincipalTag/project': 'backend-api', 'aws:username': 'alice', 'aws:userid': 'AROAEXAMPLE:sess-1', 'aws:SourceIdentity': 'alice@example.com' };
  it.each<[string, string, string, RequestContext, Decision]>([
    ['principal tag', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/project}/*', obj('backend-api/x'), ctx, 'Allow'],
    ['principal tag, other project', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/project}/*', obj('data-pipeline/x'), ctx, 'ImplicitDeny'],
    ['tag key is case-insensitive', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/PROJECT}/*', obj('backend-api/x'), ctx, 'Allow'],
    ['aws:username', 'arn:aws:s3:::backend-data/home/${aws:username}/*', obj('home/alice/a'), ctx, 'Allow'],
    ['aws:userid (holds a colon)', 'arn:aws:s3:::backend-data/${aws:userid}/*', obj('AROAEXAMPLE:sess-1/a'), ctx, 'Allow'],
    ['aws:SourceIdentity', 'arn:aws:s3:::backend-data/${aws:SourceIdentity}', obj('alice@example.com'), ctx, 'Allow'],
    ['missing key: no match', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/team}/*', obj('/x'), ctx, 'ImplicitDeny'],
    ['missing key: no match even for "*"-like text', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/team}*', obj('x'), ctx, 'ImplicitDeny'],
    ['${*} is a literal star', 'arn:aws:s3:::backend-data/${*}', obj('anything'), ctx, 'ImplicitDeny'],
    ['${*} matches a literal star', 'arn:aws:s3:::backend-data/${*}', obj('*'), ctx, 'Allow'],
    ['${?} matches a literal question mark', 'arn:aws:s3:::backend-data/what${?}', obj('what?'), ctx, 'Allow'],
    ['${?} is not a wildcard', 'arn:aws:s3:::backend-data/what${?}', obj('whatx'), ctx, 'ImplicitDeny'],
    ['${$} is a literal dollar', 'arn:aws:s3:::backend-data/${$}{aws:username}', obj('${aws:username}'), ctx, 'Allow'],
    ['tag value "*" is inserted literally', 'arn:aws:s3:::backend-data/${aws:PrincipalTag/project}', obj('secret'), { 'aws:PrincipalTag/project': '*' }, 'ImplicitDeny'],
  ])('%s', (_name, pattern, resource, context, expected) => {
    expect(decide([doc(allow('s3:GetObject', pattern))], 's3:GetObject', resource, context)).toBe(expected);
  });

  it('a NotResource entry with a missing variable excludes nothing', () => {
    const policy = doc(allow('s3:GetObject', '*'), { Effect: 'Deny', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::backend-data/${aws:PrincipalTag/team}/*' });
    expect(decide([policy], 's3:GetObject', obj('x/1'))).toBe('ExplicitDeny');
    expect(decide([policy], 's3:GetObject', obj('x/1'), { 'aws:PrincipalTag/team': 'x' })).toBe('Allow');
  });
});

describe('combining statements and policies', () => {
  const roleS3 = doc(allow(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], ['arn:aws:s3:::backend-data', 'arn:aws:s3:::backend-data/*']));
  const readReports = doc(allow('s3:GetObject', 'arn:aws:s3:::backend-data/reports/*'));

  it.each<[string, PolicyDocument[], string, string, PolicyDocument[] | undefined, Decision]>([
    ['nothing matches', [doc(allow('s3:GetObject', obj('a')))], 's3:GetObject', obj('b'), undefined, 'ImplicitDeny'],
    ['no policies at all', [], 's3:GetObject', obj('a'), undefined, 'ImplicitDeny'],
    ['Deny beats Allow in the same policy', [doc(allow('s3:*', '*'), deny('s3:DeleteObject', '*'))], 's3:DeleteObject', obj('a'), undefined, 'ExplicitDeny'],
    ['Deny in another identity policy wins', [roleS3, doc(deny('*', '*'))], 's3:GetObject', obj('a'), undefined, 'ExplicitDeny'],
    ['Allow in any identity policy suffices', [doc(allow('lambda:*', '*')), roleS3], 's3:GetObject', obj('a'), undefined, 'Allow'],
    ['session policy narrows: inside both', [roleS3], 's3:GetObject', obj('reports/2026/q3.csv'), [readReports], 'Allow'],
    ['session policy narrows: role allows, session does not', [roleS3], 's3:GetObject', obj('backups/db.dump'), [readReports], 'ImplicitDeny'],
    ['session policy never widens the role', [roleS3], 'iam:CreateUser', '*', [doc(allow('*', '*'))], 'ImplicitDeny'],
    ['Deny in a session policy wins', [roleS3], 's3:GetObject', obj('reports/a'), [doc(allow('s3:*', '*'), deny('s3:GetObject', obj('reports/*')))], 'ExplicitDeny'],
    ['session policies are OR-ed among themselves', [roleS3], 's3:PutObject', obj('x'), [readReports, doc(allow('s3:PutObject', obj('*')))], 'Allow'],
    ['empty session list means no session policy', [roleS3], 's3:PutObject', obj('x'), [], 'Allow'],
    ['NotAction allows everything else', [doc({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: '*' })], 's3:PutObject', obj('x'), undefined, 'Allow'],
    ['NotAction excludes the listed action', [doc({ Effect: 'Allow', NotAction: ['s3:Delete*'], Resource: '*' })], 's3:DeleteObject', obj('x'), undefined, 'ImplicitDeny'],
    ['Deny with NotAction hits other actions', [roleS3, doc({ Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' })], 's3:PutObject', obj('x'), undefined, 'ExplicitDeny'],
    ['Deny with NotAction spares the listed action', [roleS3, doc({ Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' })], 's3:GetObject', obj('x'), undefined, 'Allow'],
    ['NotResource allows outside the list', [doc({ Effect: 'Allow', Action: 's3:*', NotResource: obj('backups/*') })], 's3:GetObject', obj('reports/a'), undefined, 'Allow'],
    ['NotResource excludes the list', [doc({ Effect: 'Allow', Action: 's3:*', NotResource: obj('backups/*') })], 's3:GetObject', obj('backups/db.dump'), undefined, 'ImplicitDeny'],
    ['Deny with NotResource', [roleS3, doc({ Effect: 'Deny', Action: 's3:*', NotResource: obj('reports/*') })], 's3:GetObject', obj('exports/users.csv'), undefined, 'ExplicitDeny'],
  ])('%s', (_name, identity, action, resource, session, expected) => {
    expect(decide(identity, action, resource, {}, session)).toBe(expected);
  });

  it('a single (non-array) Statement is evaluated', () => {
    const single: PolicyDocument = { Version: '2012-10-17', Statement: allow('s3:GetObject', '*') };
    expect(decide([single], 's3:GetObject', obj('a'))).toBe('Allow');
  });
});

describe('revocation shapes the kill switch writes', () => {
  const role = doc(allow(['s3:*', 'lambda:*'], '*'));
  const cutoff = '2026-03-01T12:00:00Z';
  const revokeOlder = doc({ Sid: 'AWSRevokeOlderSessions', ...deny('*', '*'), Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } });

  it.each<[string, RequestContext, Decision]>([
    ['issued a minute before the cutoff', { 'aws:TokenIssueTime': '2026-03-01T11:59:00Z' }, 'ExplicitDeny'],
    ['issued a millisecond before', { 'aws:TokenIssueTime': '2026-03-01T11:59:59.999Z' }, 'ExplicitDeny'],
    ['issued exactly at the cutoff', { 'aws:TokenIssueTime': cutoff }, 'Allow'],
    ['issued after the cutoff', { 'aws:TokenIssueTime': '2026-03-01T12:00:01Z' }, 'Allow'],
    ['long-term credentials (no TokenIssueTime)', {}, 'Allow'],
  ])('AWSRevokeOlderSessions: %s', (_name, context, expected) => {
    expect(decide([role, revokeOlder], 's3:GetObject', obj('a'), context)).toBe(expected);
  });

  const revokeSessions = doc(deny('*', '*', { Condition: { StringEquals: { 'aws:PrincipalTag/agent-session': ['s-111', 's-222'] } } }));
  it.each<[string, RequestContext, Decision]>([
    ['listed session', { 'aws:PrincipalTag/agent-session': 's-222' }, 'ExplicitDeny'],
    ['listed session, tag key in other case', { 'aws:PrincipalTag/Agent-Session': 's-111' }, 'ExplicitDeny'],
    ['other session', { 'aws:PrincipalTag/agent-session': 's-333' }, 'Allow'],
    ['value differs only in case', { 'aws:PrincipalTag/agent-session': 'S-111' }, 'Allow'],
    ['untagged session', {}, 'Allow'],
  ])('agent-session deny list: %s', (_name, context, expected) => {
    expect(decide([role, revokeSessions], 'lambda:UpdateFunctionCode', 'arn:aws:lambda:us-east-1:111122223333:function:f', context)).toBe(expected);
  });

  it('developer + issue time in one statement revokes that developer’s older sessions only', () => {
    const policy = doc(deny('*', '*', { Condition: { StringEquals: { 'aws:PrincipalTag/developer': 'alice' }, DateLessThan: { 'aws:TokenIssueTime': cutoff } } }));
    const at = (developer: string, issued: string) => decide([role, policy], 's3:GetObject', obj('a'), { 'aws:PrincipalTag/developer': developer, 'aws:TokenIssueTime': issued });
    expect(at('alice', '2026-03-01T11:00:00Z')).toBe('ExplicitDeny');
    expect(at('alice', '2026-03-01T13:00:00Z')).toBe('Allow');
    expect(at('bob', '2026-03-01T11:00:00Z')).toBe('Allow');
  });
});

describe('evaluateTrust', () => {
  const account = '111122223333';
  const service = `arn:aws:iam::${account}:user/sts-vend`;
  const agentTrust = doc({
    Effect: 'Allow',
    Principal: { AWS: service },
    Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
    Condition: {
      StringEquals: { 'aws:RequestTag/AccessType': ['AI', 'CI'] },
      StringLike: { 'aws:RequestTag/agent-session': '*' },
      Null: { 'sts:SourceIdentity': 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['AccessType', 'developer', 'project', 'agent-session'] },
    },
  });
  const goodContext = { 'aws:RequestTag/AccessType': 'AI', 'aws:RequestTag/agent-session': 's-1', 'sts:SourceIdentity': 'alice', 'aws:TagKeys': ['AccessType', 'agent-session'] };
  const trust = (policy: PolicyDocument, principalArn: string, action = 'sts:AssumeRole', context: RequestContext = goodContext, accountId = account) =>
    evaluateTrust(policy, { principalArn, accountId, action, context });

  it.each<[string, string, string, RequestContext, Decision]>([
    ['the service with every required tag', service, 'sts:AssumeRole', goodContext, 'Allow'],
    ['sts:TagSession', service, 'sts:TagSession', goodContext, 'Allow'],
    ['an action the trust does not list', service, 'sts:AssumeRoleWithWebIdentity', goodContext, 'ImplicitDeny'],
    ['another user', `arn:aws:iam::${account}:user/mallory`, 'sts:AssumeRole', goodContext, 'ImplicitDeny'],
    ['AccessType not allowed', service, 'sts:AssumeRole', { ...goodContext, 'aws:RequestTag/AccessType': 'Human' }, 'ImplicitDeny'],
    ['no agent-session tag', service, 'sts:AssumeRole', { ...goodContext, 'aws:RequestTag/agent-session': undefined }, 'ImplicitDeny'],
    ['no SourceIdentity', service, 'sts:AssumeRole', { ...goodContext, 'sts:SourceIdentity': undefined }, 'ImplicitDeny'],
    ['an unexpected tag key', service, 'sts:AssumeRole', { ...goodContext, 'aws:TagKeys': ['AccessType', 'cost-center'] }, 'ImplicitDeny'],
  ])('agent role trust: %s', (_name, principal, action, context, expected) => {
    expect(trust(agentTrust, principal, action, context)).toBe(expected);
  });

  const simple = (principal: Statement['Principal']) => doc({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' });
  it.each<[string, Statement['Principal'], string, string, Decision]>([
    ['"*" principal', '*', 'arn:aws:iam::999999999999:user/x', '999999999999', 'Allow'],
    ['AWS "*"', { AWS: '*' }, 'arn:aws:iam::999999999999:user/x', '999999999999', 'Allow'],
    ['account id matches any principal of the account', { AWS: account }, `arn:aws:iam::${account}:user/anyone`, account, 'Allow'],
    ['account root matches any principal of the account', { AWS: `arn:aws:iam::${account}:root` }, `arn:aws:sts::${account}:assumed-role/r/s`, account, 'Allow'],
    ['account root does not match another account', { AWS: `arn:aws:iam::${account}:root` }, 'arn:aws:iam::999999999999:user/x', '999999999999', 'ImplicitDeny'],
    ['one of a list of ARNs', { AWS: ['arn:aws:iam::999999999999:user/x', service] }, service, account, 'Allow'],
    ['role ARN matches its assumed-role sessions', { AWS: `arn:aws:iam::${account}:role/ci/deployer` }, `arn:aws:sts::${account}:assumed-role/deployer/run-42`, account, 'Allow'],
    ['role ARN does not match another role’s session', { AWS: `arn:aws:iam::${account}:role/deployer` }, `arn:aws:sts::${account}:assumed-role/other/run-42`, account, 'ImplicitDeny'],
    ['service principal', { Service: 'lambda.amazonaws.com' }, 'lambda.amazonaws.com', account, 'Allow'],
    ['service principal mismatch', { Service: 'lambda.amazonaws.com' }, 'ec2.amazonaws.com', account, 'ImplicitDeny'],
    ['federated principal', { Federated: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com` }, `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`, account, 'Allow'],
  ])('principal: %s', (_name, principal, principalArn, accountId, expected) => {
    expect(trust(simple(principal), principalArn, 'sts:AssumeRole', {}, accountId)).toBe(expected);
  });

  it('NotPrincipal in a Deny spares only the listed principal', () => {
    const policy = doc(
      { Effect: 'Allow', Principal: { AWS: account }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', NotPrincipal: { AWS: service }, Action: 'sts:AssumeRole' },
    );
    expect(trust(policy, service)).toBe('Allow');
    expect(trust(policy, `arn:aws:iam::${account}:user/mallory`)).toBe('ExplicitDeny');
  });

  it('a Deny statement with a condition wins over the Allow', () => {
    const policy = doc(
      { Effect: 'Allow', Principal: { AWS: service }, Action: 'sts:*' },
      { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:RequestTag/AccessType': 'Human' } } },
    );
    expect(trust(policy, service, 'sts:AssumeRole', { 'aws:RequestTag/AccessType': 'AI' })).toBe('Allow');
    expect(trust(policy, service, 'sts:AssumeRole', { 'aws:RequestTag/AccessType': 'Human' })).toBe('ExplicitDeny');
  });
});
