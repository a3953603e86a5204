/**
 * The emulator's IAM through the real SDK v3 over HTTP: each role and inline-policy operation, the 10,240-char
 * aggregate limit, grammar errors, and authorization of calls made with session credentials (the revocation
 * Deny shapes of docs/aws.md: a session tag, and aws:TokenIssueTime).
 */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { ACCOUNT_ID, iamClient, roleArn, sessionKeys, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';

const T0 = new Date('2026-03-01T10:00:00Z');
let clock = T0;
let env: TestAws;

const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
const trust = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/sts-vend` }, Action: 'sts:AssumeRole' });
/** Gives agent-s3's ceiling iam:GetRole, so session credentials can probe authorization through IAM. */
const iamRead = { Version: '2012-10-17' as const, Statement: { Effect: 'Allow' as const, Action: 'iam:GetRole', Resource: `arn:aws:iam::${ACCOUNT_ID}:role/*` } };

beforeAll(async () => {
  env = await startTestAws({
    now: () => clock,
    state: (s) => {
      const agentS3 = s.roles.find((r) => r.name === 'agent-s3');
      if (agentS3?.inlinePolicies) agentS3.inlinePolicies['iam-read'] = iamRead;
    },
  });
});
afterAll(() => env.aws.stop());
beforeEach(() => {
  clock = T0;
});

const iam = () => iamClient(env);
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });

describe('roles', () => {
  it('creates, reads and deletes a role', async () => {
    clock = new Date('2026-03-01T10:11:12Z');
    const created = await iam().send(new CreateRoleCommand({ RoleName: 'r-crud', Path: '/agents/', AssumeRolePolicyDocument: trust, MaxSessionDuration: 7200, Description: 'test role' }));
    expect(created.Role?.Arn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/agents/r-crud`);
    const got = await iam().send(new GetRoleCommand({ RoleName: 'r-crud' }));
    expect(got.Role).toMatchObject({ RoleName: 'r-crud', Path: '/agents/', MaxSessionDuration: 7200, Description: 'test role', RoleId: created.Role?.RoleId });
    expect(got.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(got.Role?.CreateDate?.toISOString()).toBe('2026-03-01T10:11:12.000Z');
    // IAM returns policy documents URL-encoded.
    expect(got.Role?.AssumeRolePolicyDocument).toBe(encodeURIComponent(trust));
    await iam().send(new DeleteRoleCommand({ RoleName: 'r-crud' }));
    expect(await errorOf(iam().send(new GetRoleCommand({ RoleName: 'r-crud' })))).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
  });

  it.each([
    ['an existing name', { RoleName: 'agent-s3', AssumeRolePolicyDocument: trust }, 'EntityAlreadyExistsException', 409],
    ['a trust policy that is not JSON', { RoleName: 'r-bad1', AssumeRolePolicyDocument: '{' }, 'MalformedPolicyDocumentException', 400],
    ['a trust policy without a principal', { RoleName: 'r-bad2', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Action: 'sts:AssumeRole' }) }, 'MalformedPolicyDocumentException', 400],
    ['a role name with a space', { RoleName: 'bad name', AssumeRolePolicyDocument: trust }, 'ValidationError', 400],
    ['MaxSessionDuration 3599', { RoleName: 'r-bad3', AssumeRolePolicyDocument: trust, MaxSessionDuration: 3599 }, 'ValidationError', 400],
  ])('refuses CreateRole with %s', async (_name, input, code, status) => {
    expect(await errorOf(iam().send(new CreateRoleCommand(input)))).toMatchObject({ name: code, $metadata: { httpStatusCode: status } });
  });

  it('refuses to delete a role that still has inline policies (DeleteConflict)', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'r-conflict', AssumeRolePolicyDocument: trust }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-conflict', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }) }));
    expect(await errorOf(iam().send(new DeleteRoleCommand({ RoleName: 'r-conflict' })))).toMatchObject({ name: 'DeleteConflictException', $metadata: { httpStatusCode: 409 } });
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'r-conflict', PolicyName: 'p' }));
    await expect(iam().send(new DeleteRoleCommand({ RoleName: 'r-conflict' }))).resolves.toBeDefined();
  });
});

describe('inline role policies', () => {
  const doc = policy({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-03-01T10:00:00Z' } } });

  it('puts, gets (URL-encoded), lists and deletes', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'r-inline', AssumeRolePolicyDocument: trust }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'b-revoke', PolicyDocument: doc }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'a-other', PolicyDocument: doc }));
    const got = await iam().send(new GetRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'b-revoke' }));
    expect(got).toMatchObject({ RoleName: 'r-inline', PolicyName: 'b-revoke', PolicyDocument: encodeURIComponent(doc) });
    expect((await iam().send(new ListRolePoliciesCommand({ RoleName: 'r-inline' }))).PolicyNames).toEqual(['a-other', 'b-revoke']);
    const page = await iam().send(new ListRolePoliciesCommand({ RoleName: 'r-inline', MaxItems: 1 }));
    expect(page).toMatchObject({ PolicyNames: ['a-other'], IsTruncated: true });
    expect((await iam().send(new ListRolePoliciesCommand({ RoleName: 'r-inline', Marker: page.Marker }))).PolicyNames).toEqual(['b-revoke']);
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'b-revoke' }));
    expect(await errorOf(iam().send(new GetRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'b-revoke' })))).toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    expect(await errorOf(iam().send(new DeleteRolePolicyCommand({ RoleName: 'r-inline', PolicyName: 'b-revoke' })))).toMatchObject({ name: 'NoSuchEntityException' });
    expect(await errorOf(iam().send(new PutRolePolicyCommand({ RoleName: 'no-such-role', PolicyName: 'p', PolicyDocument: doc })))).toMatchObject({ name: 'NoSuchEntityException' });
  });

  it.each([
    ['a policy name of 129 chars', { PolicyName: 'p'.repeat(129), PolicyDocument: doc }, 'ValidationError'],
    ['a policy name with a slash', { PolicyName: 'a/b', PolicyDocument: doc }, 'ValidationError'],
    ['a document that is not JSON', { PolicyName: 'p', PolicyDocument: '{"Version":' }, 'MalformedPolicyDocumentException'],
    ['an unknown Effect', { PolicyName: 'p', PolicyDocument: policy({ Effect: 'Perhaps', Action: '*', Resource: '*' }) }, 'MalformedPolicyDocumentException'],
    ['a statement without Action', { PolicyName: 'p', PolicyDocument: policy({ Effect: 'Deny', Resource: '*' }) }, 'MalformedPolicyDocumentException'],
    ['a Principal in an identity policy', { PolicyName: 'p', PolicyDocument: policy({ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }) }, 'MalformedPolicyDocumentException'],
  ])('refuses PutRolePolicy with %s', async (_name, input, code) => {
    expect(await errorOf(iam().send(new PutRolePolicyCommand({ RoleName: 'agent-logs', ...input })))).toMatchObject({ name: code, $metadata: { httpStatusCode: 400 } });
  });

  it('enforces the 10,240-char aggregate per role, white space not counted (LimitExceeded, 409)', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'r-limit', AssumeRolePolicyDocument: trust }));
    const sized = (chars: number) => {
      const base = policy({ Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/' });
      const compact = policy({ Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${'x'.repeat(chars - base.length)}` });
      return JSON.stringify(JSON.parse(compact), null, 4); // pretty-printed: the indentation must not count
    };
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-limit', PolicyName: 'one', PolicyDocument: sized(6000) }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-limit', PolicyName: 'two', PolicyDocument: sized(4240) }));
    // Replacing a policy counts its new size only.
    await iam().send(new PutRolePolicyCommand({ RoleName: 'r-limit', PolicyName: 'two', PolicyDocument: sized(4240) }));
    const over = await errorOf(iam().send(new PutRolePolicyCommand({ RoleName: 'r-limit', PolicyName: 'two', PolicyDocument: sized(4241) })));
    expect(over).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
    expect((await iam().send(new GetRolePolicyCommand({ RoleName: 'r-limit', PolicyName: 'two' }))).PolicyDocument).toBe(encodeURIComponent(sized(4240)));
  });
});

describe('calls made with session credentials', () => {
  /** A session of agent-s3 with its own agent-session tag, issued at the current clock. */
  async function session(tag: string, extra: Parameters<typeof validAssumeRole>[0] = {}) {
    const out = await stsClient(env).send(
      new AssumeRoleCommand(validAssumeRole({ RoleSessionName: `alice.${tag}`, Tags: [{ Key: 'AccessType', Value: 'AI' }, { Key: 'agent-session', Value: tag }], ...extra })),
    );
    return iamClient(env, sessionKeys(out.Credentials));
  }
  const getRole = (client: ReturnType<typeof iamClient>) => client.send(new GetRoleCommand({ RoleName: 'agent-s3' })).then(() => 'allowed', (e: Error) => e.name);
  const putRevocation = (name: string, statement: Record<string, unknown>) =>
    iam().send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: name, PolicyDocument: policy(statement) }));
  const dropRevocation = (name: string) => iam().send(new DeleteRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: name }));

  it('are allowed what the role allows, and denied what it does not', async () => {
    const client = await session('s-plain');
    expect(await getRole(client)).toBe('allowed');
    const put = await errorOf(client.send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'x', PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }) })));
    expect(put).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(put?.message).toContain('is not authorized to perform: iam:PutRolePolicy');
  });

  it('are limited by the session policy (role ∩ session)', async () => {
    const narrowed = await session('s-narrow', { Policy: policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backend-data/*' }) });
    expect(await getRole(narrowed)).toBe('AccessDenied');
  });

  it('an inline Deny on aws:PrincipalTag/agent-session cuts off exactly that session, at the next request', async () => {
    const a = await session('s-A');
    const b = await session('s-B');
    expect([await getRole(a), await getRole(b)]).toEqual(['allowed', 'allowed']);
    await putRevocation('revoke-one', { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/agent-session': ['s-A'] } } });
    try {
      expect([await getRole(a), await getRole(b)]).toEqual(['AccessDenied', 'allowed']);
      const denied = await errorOf(a.send(new GetRoleCommand({ RoleName: 'agent-s3' })));
      expect(denied?.message).toContain('explicit deny');
    } finally {
      await dropRevocation('revoke-one');
    }
    expect(await getRole(a)).toBe('allowed');
  });

  it('a Deny with DateLessThan aws:TokenIssueTime cuts off sessions issued before the instant and not after', async () => {
    const before = await session('s-before');
    clock = new Date(T0.getTime() + 10_000);
    const atInstant = await session('s-at');
    await putRevocation('AWSRevokeOlderSessions', { Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': clock.toISOString() } } });
    try {
      clock = new Date(T0.getTime() + 20_000);
      const after = await session('s-after');
      expect([await getRole(before), await getRole(atInstant), await getRole(after)]).toEqual(['AccessDenied', 'allowed', 'allowed']);
    } finally {
      await dropRevocation('AWSRevokeOlderSessions');
    }
  });
});

describe('IAM propagation delay', () => {
  it('makes a new Deny reach authorization only once the delay has passed', async () => {
    let now = T0;
    const delayed = await startTestAws({
      now: () => now,
      iamPropagationDelayMs: 30_000,
      state: (s) => {
        const agentS3 = s.roles.find((r) => r.name === 'agent-s3');
        if (agentS3?.inlinePolicies) agentS3.inlinePolicies['iam-read'] = iamRead;
      },
    });
    try {
      const out = await stsClient(delayed).send(new AssumeRoleCommand(validAssumeRole()));
      const client = iamClient(delayed, sessionKeys(out.Credentials));
      const deny = policy({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/agent-session': 's-1' } } });
      await iamClient(delayed).send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'revoke', PolicyDocument: deny }));
      await expect(client.send(new GetRoleCommand({ RoleName: 'agent-s3' }))).resolves.toBeDefined();
      now = new Date(T0.getTime() + 30_000);
      await expect(client.send(new GetRoleCommand({ RoleName: 'agent-s3' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    } finally {
      await delayed.aws.stop();
    }
  });
});

it('authorizes calls to services the emulator does not serve through admin.authorize', async () => {
  const out = await stsClient(env).send(new AssumeRoleCommand(validAssumeRole({ RoleArn: roleArn('agent-lambda') })));
  const key = out.Credentials?.AccessKeyId ?? '';
  const fn = `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:orders`;
  expect(env.aws.admin.authorize(key, 'lambda:UpdateFunctionCode', fn)).toBe('Allow');
  expect(env.aws.admin.authorize(key, 'lambda:DeleteFunction', fn)).toBe('ImplicitDeny');
  expect(env.aws.admin.authorize('ASIANOSUCHKEY0000000', 'lambda:GetFunction', fn)).toBe('ImplicitDeny');
});
