import { GetRolePolicyCommand, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { nonWhitespaceLength } from '../../src/policy/document';
import { decide, pause, READ, revoke, s3Read, tokens, vendOk, type Vended } from '../helpers/kill-switch';
import { iamClient, roleArn } from '../helpers/local-aws';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({
    configure: (raw) => {
      raw.killSwitch = { marginSeconds: 1, reconcileIntervalSeconds: 1 };
      raw.limits = { vendsPerMinute: 1000, liveSessionsPerDeveloper: 1000 };
    },
  });
});
afterAll(async () => stack?.stop());

const OBJECT = 'arn:aws:s3:::backend-data/reports/2026/q3.csv';
const AGENT_S3 = roleArn('agent-s3');

/** Runs `fn` over `items`, at most `width` at a time; results in input order. */
async function pool<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

/** agent-s3's inline policies as IAM returns them, by name. */
async function rolePolicies(): Promise<Map<string, string>> {
  const iam = iamClient(stack.aws);
  try {
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: 'agent-s3' }))).PolicyNames ?? [];
    const docs = new Map<string, string>();
    for (const PolicyName of names) {
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'agent-s3', PolicyName }));
      docs.set(PolicyName, decodeURIComponent(got.PolicyDocument ?? ''));
    }
    return docs;
  } finally {
    iam.destroy();
  }
}

describe('two revocations of sessions on the same role at the same moment', () => {
  it('both end up in the role policy and both sessions are denied', async () => {
    const alice = await tokens.alice(stack);
    const [one, two, kept] = [await vendOk(stack, READ, alice), await vendOk(stack, READ, alice), await vendOk(stack, READ, alice)];
    const answers = await Promise.all([one, two].map((v) => revoke(stack, { sessionId: v.sessionId, reason: 'concurrent' })));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);

    const ours = (await rolePolicies()).get('sts-vend-revocations') ?? '';
    expect(ours).toContain(`"${one.sessionId}"`);
    expect(ours).toContain(`"${two.sessionId}"`);
    expect(ours).not.toContain(kept.sessionId);
    expect([await s3Read(stack, one.credentials), await s3Read(stack, two.credentials), await s3Read(stack, kept.credentials)]).toEqual([
      'AccessDenied',
      'AccessDenied',
      'ok',
    ]);
  });
});

describe('500 single-session revocations on one role', () => {
  const REVOKED = 500;
  const KEPT = 20;
  let sessions: Vended[];

  beforeAll(async () => {
    // Several developers, as in a real incident; within each one's live-session cap.
    const developers = await Promise.all([0, 1, 2, 3, 4].map((i) => stack.token({ email: `dev${i}@example.com` })));
    sessions = await pool(Array.from({ length: REVOKED + KEPT }), 20, (_x, i) => vendOk(stack, READ, developers[i % developers.length]!));
  }, 120_000);

  it('keeps the role within its inline policy limit, denies every revoked session and no other', async () => {
    const revoked = sessions.slice(0, REVOKED);
    const kept = sessions.slice(REVOKED);
    const answers = await pool(revoked, 10, (v) => revoke(stack, { sessionId: v.sessionId, reason: 'mass revocation' }));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const docs = await rolePolicies();
    expect([...docs.keys()].sort()).toEqual(['s3-access', 'sts-vend-revocations']);
    expect(answers.filter((r) => r.body.roles[0]?.compacted)).toEqual([]);
    // docs/aws.md: a role's inline policies share 10,240 characters, white space not counted.
    const total = [...docs.values()].reduce((n, doc) => n + nonWhitespaceLength(doc), 0);
    expect(total).toBeLessThanOrEqual(10240);

    const decisions = (list: Vended[]): string[] => [...new Set(list.map((v) => decide(stack, v.credentials, 's3:GetObject', OBJECT)))];
    expect(decisions(revoked)).toEqual(['ExplicitDeny']);
    expect(decisions(kept)).toEqual(['Allow']);
    expect([await s3Read(stack, revoked[0]!.credentials), await s3Read(stack, revoked[REVOKED - 1]!.credentials)]).toEqual(['AccessDenied', 'AccessDenied']);
    expect(await s3Read(stack, kept[0]!.credentials)).toBe('ok');
  }, 180_000);

  it('when another inline policy leaves too little room, folds old entries into a cut-off and still denies all of them', async () => {
    // Someone else's policy takes all the room but 10 characters: the next revoked id (15) no longer fits.
    const room = 10240 - [...(await rolePolicies()).values()].reduce((n, doc) => n + nonWhitespaceLength(doc), 0);
    const padded = (filler: string): string =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::padding/${filler}` }] });
    const PolicyDocument = padded('x'.repeat(room - 10 - nonWhitespaceLength(padded(''))));
    const iam = iamClient(stack.aws);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'padding', PolicyDocument }));
    iam.destroy();
    const last = await vendOk(stack, READ, await tokens.alice(stack));

    const res = await revoke(stack, { sessionId: last.sessionId, reason: 'one more' });
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual([{ roleArn: AGENT_S3, state: 'applied', compacted: true }]);

    const docs = await rolePolicies();
    expect([...docs.values()].reduce((n, doc) => n + nonWhitespaceLength(doc), 0)).toBeLessThanOrEqual(10240);
    const denied = [...sessions.slice(0, REVOKED), last].filter((v) => decide(stack, v.credentials, 's3:GetObject', OBJECT) !== 'ExplicitDeny');
    expect(denied.map((v) => v.sessionId)).toEqual([]);

    // Over-revoking, never under-revoking: the cut-off may catch older unrevoked sessions, never newer ones.
    const cutoffs = JSON.stringify(JSON.parse(docs.get('sts-vend-revocations')!)).match(/"aws:TokenIssueTime":"([^"]+)"/g) ?? [];
    expect(cutoffs.length).toBeGreaterThan(0);
    const cutoff = Math.max(...cutoffs.map((c) => Date.parse(c.split('"')[3]!)));
    await pause(Math.max(0, cutoff - Date.now()));
    const fresh = await vendOk(stack, READ, await tokens.alice(stack));
    expect(await s3Read(stack, fresh.credentials)).toBe('ok');
  }, 60_000);
});
