/**
 * The emulator's STS through the real SDK v3 over HTTP: every AssumeRole limit of docs/aws.md rejected
 * with AWS's error code, the edge values accepted, trust-policy conditions, role chaining, the credentials it
 * issues, and request signing.
 */
import { randomBytes } from 'node:crypto';
import { AssumeRoleCommand, GetCallerIdentityCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { ACCOUNT_ID, roleArn, sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';

const T0 = new Date('2026-03-01T10:00:00Z');
let clock = T0;
let env: TestAws;

const doc = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
/** A valid session policy of exactly `length` chars (padding inside the resource name). */
function policyOfLength(length: number): string {
  const base = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/' });
  return doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::backend-data/${'a'.repeat(length - base.length)}` });
}
const tagsOf = (n: number, make: (i: number) => { Key: string; Value: string }) => Array.from({ length: n }, (_, i) => make(i));
const required = [
  { Key: 'AccessType', Value: 'AI' },
  { Key: 'agent-session', Value: 's-1' },
];
const policyArn = (name: string, acct = ACCOUNT_ID) => `arn:aws:iam::${acct}:policy/${name}`;

beforeAll(async () => {
  env = await startTestAws({
    now: () => clock,
    state: (s) => {
      s.managedPolicies = Array.from({ length: 11 }, (_, i) => ({
        name: `mp${i}`,
        document: { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } },
      }));
      s.roles.push({
        name: 'long-role',
        trustPolicy: { Version: '2012-10-17', Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/sts-vend` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] } },
        maxSessionDuration: 43200,
      });
      // Role chaining: agent-s3 sessions may go on to chain-target (its policy and the target's trust allow it);
      // agent-lambda sessions are trusted by the target but their own policy does not allow sts:AssumeRole.
      const chainActions = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'];
      s.roles.push({
        name: 'chain-target',
        trustPolicy: { Version: '2012-10-17', Statement: { Effect: 'Allow', Principal: { AWS: [roleArn('agent-s3'), roleArn('agent-lambda')] }, Action: chainActions } },
        maxSessionDuration: 43200,
      });
      const agentS3 = s.roles.find((r) => r.name === 'agent-s3');
      if (agentS3?.inlinePolicies) agentS3.inlinePolicies['chain'] = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: chainActions, Resource: roleArn('chain-target') } };
    },
  });
});
afterAll(() => env.aws.stop());
beforeEach(() => {
  clock = T0;
});

const assume = (input: Partial<AssumeRoleCommandInput>) => stsClient(env).send(new AssumeRoleCommand(validAssumeRole(input)));

describe('AssumeRole limits (docs/aws.md)', () => {
  const rejected: Array<[string, Partial<AssumeRoleCommandInput>, string]> = [
    ['RoleArn shorter than 20', { RoleArn: 'arn:aws:iam::1:role' }, 'ValidationError'],
    ['RoleArn longer than 2048', { RoleArn: roleArn('r'.repeat(2049)) }, 'ValidationError'],
    ['RoleSessionName of 1 char', { RoleSessionName: 'a' }, 'ValidationError'],
    ['RoleSessionName of 65 chars', { RoleSessionName: 'a'.repeat(65) }, 'ValidationError'],
    ['RoleSessionName with a space', { RoleSessionName: 'alice smith' }, 'ValidationError'],
    ['RoleSessionName with a colon', { RoleSessionName: 'alice:1' }, 'ValidationError'],
    ['DurationSeconds 899', { DurationSeconds: 899 }, 'ValidationError'],
    ['DurationSeconds 43201', { DurationSeconds: 43201, RoleArn: roleArn('long-role') }, 'ValidationError'],
    ['DurationSeconds over the role MaxSessionDuration', { DurationSeconds: 3601 }, 'ValidationError'],
    ['Policy of 2049 chars', { Policy: policyOfLength(2049) }, 'ValidationError'],
    ['Policy with a char above U+00FF', { Policy: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/\u0100' }) }, 'ValidationError'],
    // Modelled errors surface under the SDK's class name: code MalformedPolicyDocument -> MalformedPolicyDocumentException.
    ['Policy that is not JSON', { Policy: '{"Version": "2012-10-17", ' }, 'MalformedPolicyDocumentException'],
    ['Policy with a grammar error', { Policy: doc({ Effect: 'Maybe', Action: 's3:GetObject', Resource: '*' }) }, 'MalformedPolicyDocumentException'],
    ['11 PolicyArns', { PolicyArns: Array.from({ length: 11 }, (_, i) => ({ arn: policyArn(`mp${i}`) })) }, 'ValidationError'],
    ['a PolicyArn of another account', { PolicyArns: [{ arn: policyArn('mp0', '999988887777') }] }, 'ValidationError'],
    ['51 Tags', { Tags: [...required, ...tagsOf(49, (i) => ({ Key: `k${i}`, Value: 'v' }))] }, 'ValidationError'],
    ['a tag key of 129 chars', { Tags: [...required, { Key: 'k'.repeat(129), Value: 'v' }] }, 'ValidationError'],
    ['an empty tag key', { Tags: [...required, { Key: '', Value: 'v' }] }, 'ValidationError'],
    ['a tag value of 257 chars', { Tags: [...required, { Key: 'k', Value: 'v'.repeat(257) }] }, 'ValidationError'],
    ['a tag key with *', { Tags: [...required, { Key: 'a*b', Value: 'v' }] }, 'ValidationError'],
    ['a tag value with #', { Tags: [...required, { Key: 'k', Value: 'a#b' }] }, 'ValidationError'],
    ['a tag key with the aws: prefix', { Tags: [...required, { Key: 'aws:project', Value: 'v' }] }, 'ValidationError'],
    ['tag keys differing only in case', { Tags: [...required, { Key: 'Project', Value: 'a' }, { Key: 'project', Value: 'b' }] }, 'ValidationError'],
    ['51 TransitiveTagKeys', { TransitiveTagKeys: Array.from({ length: 51 }, () => 'agent-session') }, 'ValidationError'],
    ['a TransitiveTagKey not among the Tags', { TransitiveTagKeys: ['project'] }, 'ValidationError'],
    ['ExternalId of 1 char', { ExternalId: 'x' }, 'ValidationError'],
    ['ExternalId of 1225 chars', { ExternalId: 'x'.repeat(1225) }, 'ValidationError'],
    ['ExternalId with a space', { ExternalId: 'a b' }, 'ValidationError'],
    ['SourceIdentity of 1 char', { SourceIdentity: 'a' }, 'ValidationError'],
    ['SourceIdentity of 65 chars', { SourceIdentity: 'a'.repeat(65) }, 'ValidationError'],
    ['SourceIdentity starting with aws:', { SourceIdentity: 'aws:alice' }, 'ValidationError'],
    [
      'tags whose packed form is too large',
      // Random base64 (all of it valid tag text) does not compress, so 48 full-length tags overflow the packed form.
      { Tags: [...required, ...tagsOf(48, () => ({ Key: randomBytes(96).toString('base64'), Value: randomBytes(192).toString('base64') }))] },
      'PackedPolicyTooLargeException',
    ],
  ];

  it.each(rejected)('rejects %s', async (_name, input, code) => {
    const err = await assume(input).then(
      () => undefined,
      (e: unknown) => e as Error & { $metadata: { httpStatusCode: number } },
    );
    expect(err?.name).toBe(code);
    expect(err?.$metadata.httpStatusCode).toBe(400);
  });

  it('names the parameter the way AWS does', async () => {
    await expect(assume({ RoleSessionName: 'a' })).rejects.toThrow(
      "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    );
  });

  const accepted: Array<[string, Partial<AssumeRoleCommandInput>]> = [
    ['RoleSessionName of 2 chars', { RoleSessionName: 'ab' }],
    ['RoleSessionName of 64 chars using every allowed symbol', { RoleSessionName: `a_+=,.@-${'z'.repeat(56)}` }],
    ['DurationSeconds 900', { DurationSeconds: 900 }],
    ['DurationSeconds equal to the role MaxSessionDuration', { DurationSeconds: 3600 }],
    ['DurationSeconds 43200 on a role that allows it', { DurationSeconds: 43200, RoleArn: roleArn('long-role') }],
    ['a Policy of exactly 2048 chars', { Policy: policyOfLength(2048) }],
    ['a Policy with Latin-1 characters', { Policy: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/caf\u00e9' }) }],
    ['10 PolicyArns of the same account', { PolicyArns: Array.from({ length: 10 }, (_, i) => ({ arn: policyArn(`mp${i}`) })) }],
    ['50 Tags', { Tags: [...required, ...tagsOf(48, (i) => ({ Key: `k${i}`, Value: 'v' }))] }],
    ['a tag key of 128 chars and a value of 256', { Tags: [...required, { Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] }],
    ['an empty tag value', { Tags: [...required, { Key: 'note', Value: '' }] }],
    ['tag text with letters, spaces and symbols', { Tags: [...required, { Key: 'équipe', Value: 'Zoë Ünal _.:/=+-@ 42' }] }],
    ['50 TransitiveTagKeys', { Tags: [...required, ...tagsOf(48, (i) => ({ Key: `k${i}`, Value: 'v' }))], TransitiveTagKeys: ['AccessType', 'agent-session', ...tagsOf(48, (i) => ({ Key: `k${i}`, Value: '' })).map((t) => t.Key)] }],
    ['ExternalId of 2 and of 1224 chars with its symbols', { ExternalId: `a:/${'b'.repeat(1221)}` }],
    ['ExternalId of 2 chars', { ExternalId: 'ab' }],
    ['SourceIdentity of 64 chars', { SourceIdentity: 's'.repeat(64) }],
  ];

  it.each(accepted)('accepts %s', async (_name, input) => {
    const out = await assume(input);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });
});

describe('trust policy', () => {
  const denied: Array<[string, Partial<AssumeRoleCommandInput>]> = [
    ['no AccessType tag', { Tags: [{ Key: 'agent-session', Value: 's-1' }], TransitiveTagKeys: [] }],
    ['an AccessType outside AI/CI', { Tags: [{ Key: 'AccessType', Value: 'HUMAN' }, { Key: 'agent-session', Value: 's-1' }] }],
    ['no agent-session tag', { Tags: [{ Key: 'AccessType', Value: 'AI' }], TransitiveTagKeys: [] }],
    ['no SourceIdentity', { SourceIdentity: undefined }],
    ['an unknown role', { RoleArn: roleArn('no-such-role') }],
  ];

  it.each(denied)('refuses AssumeRole with %s (AccessDenied, 403)', async (_name, input) => {
    await expect(assume(input)).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('words AccessDenied like AWS', async () => {
    await expect(assume({ SourceIdentity: undefined })).rejects.toThrow(
      `User: arn:aws:iam::${ACCOUNT_ID}:user/sts-vend is not authorized to perform: sts:AssumeRole on resource: ${roleArn('agent-s3')}`,
    );
  });
});

describe('role chaining', () => {
  async function chainingClient(role = 'agent-s3') {
    const first = await assume({ RoleArn: roleArn(role), Tags: [...required, { Key: 'project', Value: 'backend-api' }], TransitiveTagKeys: ['agent-session'] });
    return { client: stsClient(env, sessionKeys(first.Credentials)), first };
  }
  const chain = (input: Partial<AssumeRoleCommandInput>) => new AssumeRoleCommand({ RoleArn: roleArn('chain-target'), RoleSessionName: 'alice.chained', ...input });

  it('caps DurationSeconds at one hour even when the role allows more', async () => {
    const { client } = await chainingClient();
    await expect(client.send(chain({ DurationSeconds: 3601 }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('role chaining') });
    const ok = await client.send(chain({ DurationSeconds: 3600 }));
    expect(ok.Credentials?.Expiration?.getTime()).toBe(T0.getTime() + 3600 * 1000);
  });

  it('carries transitive tags and the source identity into the chained session, and only those', async () => {
    const { client } = await chainingClient();
    const out = await client.send(chain({}));
    expect(out.SourceIdentity).toBe('alice');
    const view = env.aws.admin.session(out.Credentials?.AccessKeyId ?? '');
    expect(view).toMatchObject({ chained: true, sourceIdentity: 'alice', tags: { 'agent-session': 's-1' }, transitiveTagKeys: ['agent-session'] });
    expect(view?.tags).not.toHaveProperty('project');
  });

  it('refuses to override an inherited transitive tag or change the source identity', async () => {
    const { client } = await chainingClient();
    await expect(client.send(chain({ Tags: [{ Key: 'Agent-Session', Value: 'other' }] }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(client.send(chain({ SourceIdentity: 'mallory' }))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(client.send(chain({ SourceIdentity: 'alice' }))).resolves.toMatchObject({ SourceIdentity: 'alice' });
  });

  it("needs the calling session's own policies to allow sts:AssumeRole", async () => {
    const { client } = await chainingClient('agent-lambda');
    await expect(client.send(chain({}))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });
});

describe('issued credentials', () => {
  it('are unique ASIA keys expiring exactly at issue time + DurationSeconds', async () => {
    const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => assume({ RoleSessionName: `alice.u${i}`, DurationSeconds: 900 + i })));
    const keys = outs.map((o) => o.Credentials?.AccessKeyId);
    expect(new Set(keys).size).toBe(outs.length);
    expect(new Set(outs.map((o) => o.Credentials?.SessionToken)).size).toBe(outs.length);
    outs.forEach((o, i) => {
      expect(o.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(o.Credentials?.Expiration?.getTime()).toBe(T0.getTime() + (900 + i) * 1000);
    });
  });

  it('name the assumed role and session, and report the packed size and source identity', async () => {
    const out = await assume({ RoleSessionName: 'alice.named' });
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT_ID}:assumed-role/agent-s3/alice.named`);
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:alice\.named$/);
    expect(out.SourceIdentity).toBe('alice');
    expect(out.PackedPolicySize).toBeGreaterThan(0);
  });

  it('report a packed size that grows with the policy and tags', async () => {
    const small = await assume({ Policy: policyOfLength(200) });
    const large = await assume({ Policy: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::backend-data/${randomBytes(600).toString('hex')}` }) });
    const tagged = await assume({ Policy: policyOfLength(200), Tags: [...required, ...tagsOf(20, (i) => ({ Key: `k${i}`, Value: randomBytes(30).toString('base64') }))] });
    expect(large.PackedPolicySize).toBeGreaterThan(small.PackedPolicySize ?? 0);
    expect(tagged.PackedPolicySize).toBeGreaterThan(small.PackedPolicySize ?? 0);
  });

  it('are remembered with tags, session policy, policy ARNs and issue time (never the secret)', async () => {
    clock = new Date('2026-03-01T11:22:33.456Z');
    const policy = policyOfLength(300);
    const out = await assume({ Policy: policy, PolicyArns: [{ arn: policyArn('mp1') }] });
    const view = env.aws.admin.session(out.Credentials?.AccessKeyId ?? '');
    expect(view).toMatchObject({
      roleArn: roleArn('agent-s3'),
      roleSessionName: 'alice.s1',
      tags: { AccessType: 'AI', 'agent-session': 's-1' },
      transitiveTagKeys: ['agent-session'],
      sourceIdentity: 'alice',
      sessionPolicy: policy,
      policyArns: [policyArn('mp1')],
      chained: false,
    });
    expect(view?.issuedAt.toISOString()).toBe('2026-03-01T11:22:33.456Z');
    expect(JSON.stringify(view)).not.toContain(out.Credentials?.SecretAccessKey);
  });
});

describe('GetCallerIdentity and request signing', () => {
  it('answers for long-term keys and for session credentials', async () => {
    await expect(stsClient(env).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: ACCOUNT_ID, Arn: `arn:aws:iam::${ACCOUNT_ID}:user/sts-vend` });
    const out = await assume({ RoleSessionName: 'alice.who' });
    const who = await stsClient(env, sessionKeys(out.Credentials)).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: ACCOUNT_ID, Arn: out.AssumedRoleUser?.Arn, UserId: out.AssumedRoleUser?.AssumedRoleId });
  });

  it('refuses a wrong secret (SignatureDoesNotMatch) and an unknown key (InvalidClientTokenId)', async () => {
    const wrongSecret = stsClient(env, { ...env.clientConfig.credentials, secretAccessKey: 'not-the-secret' });
    await expect(wrongSecret.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    const unknown = stsClient(env, { accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: 'whatever' });
    await expect(unknown.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
  });

  it('refuses session credentials with a missing or wrong session token (InvalidClientTokenId)', async () => {
    const keys = sessionKeys((await assume({})).Credentials);
    for (const sessionToken of [undefined, `${keys.sessionToken}x`]) {
      await expect(stsClient(env, { ...keys, sessionToken }).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    }
  });

  it('refuses an expired session (ExpiredToken, 400) and accepts it until the last second', async () => {
    const keys = sessionKeys((await assume({ DurationSeconds: 900 })).Credentials);
    const client = stsClient(env, keys);
    clock = new Date(T0.getTime() + 899_000);
    await expect(client.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    clock = new Date(T0.getTime() + 900_000);
    await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } });
  });
});
