import { DeleteRolePolicyCommand, GetRolePolicyCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Redis } from 'ioredis';
import { nonWhitespaceLength } from '../../src/policy/document';
import { applyRolePolicy, REVOCATION_POLICY_NAME, type ApplyRolePolicyDeps } from '../../src/revoke/apply-role-policy';
import { KillSwitchStore, type RevocationRecord } from '../../src/storage/kill-switch-store';
import type { RevocationEntry } from '../../src/revoke/revocation-entries';
import { createRedis } from '../../src/storage/redis-client';
import { iamClient, roleArn, startTestAws, stsClient, validAssumeRole, type TestAws } from '../helpers/local-aws';
import { useTestRedis } from '../helpers/redis';

const ROLE = roleArn('agent-s3');
const OBJECT = 'arn:aws:s3:::backend-data/reports/2026/q3.csv';
const HOUR = 3_600_000;

const db = useTestRedis();
let env: TestAws;
let iam: IAMClient;
let sts: STSClient;

beforeAll(async () => {
  env = await startTestAws();
  iam = iamClient(env);
  sts = stsClient(env);
});
afterAll(async () => {
  await env?.aws.stop();
});
afterEach(async () => {
  env.aws.admin.clearFaults();
  // Each test starts from the example world's role policies.
  await applyRolePolicy({ ...setup().deps }, ROLE);
});

/** A store on a fresh prefix and apply deps with a clock the test moves (entries' expiry is on this clock). */
function setup(client: Redis = db.client, prefix = db.prefix()) {
  const clock = { ms: Date.now() };
  const now = (): Date => new Date(clock.ms);
  const store = new KillSwitchStore(client, { keyPrefix: prefix, now });
  const deps: ApplyRolePolicyDeps = { iam, store, now, marginMs: 5000 };
  return { store, deps, clock, prefix };
}

let counter = 0;
const newId = (): string => `T${process.pid % 1000}x${String(++counter).padStart(7, '0')}`.slice(0, 12).padEnd(12, '0');

/** A real session of agent-s3 with an agent-session tag; answers its access key id. */
async function mint(sessionId = newId()): Promise<{ id: string; akid: string }> {
  const out = await sts.send(
    new AssumeRoleCommand(
      validAssumeRole({
        RoleSessionName: `alice.${sessionId}`,
        Tags: [
          { Key: 'AccessType', Value: 'AI' },
          { Key: 'agent-session', Value: sessionId },
          { Key: 'developer', Value: 'alice' },
        ],
      }),
    ),
  );
  return { id: sessionId, akid: out.Credentials!.AccessKeyId! };
}

const decision = (akid: string): string => env.aws.admin.authorize(akid, 's3:GetObject', OBJECT);

function sessionEntry(id: string, clockMs: number, ttlMs = HOUR): RevocationEntry {
  return { kind: 'session', sessionId: id, issuedAt: new Date(clockMs - 1000).toISOString(), expiresAt: new Date(clockMs + ttlMs).toISOString() };
}

async function record(store: KillSwitchStore, entries: RevocationEntry[], role = ROLE): Promise<RevocationRecord> {
  const rec: RevocationRecord = {
    revocationId: `r${newId()}`,
    selector: { kind: 'session', value: 'x' },
    reason: 'test',
    operator: 'sec',
    createdAt: new Date().toISOString(),
    sessionsRevoked: entries.length,
    roles: [{ roleArn: role, state: 'pending' }],
  };
  await store.recordRevocation(rec, { entriesByRole: new Map([[role, entries]]) });
  return rec;
}

async function ourPolicy(role = 'agent-s3'): Promise<string | null> {
  try {
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: REVOCATION_POLICY_NAME }));
    return decodeURIComponent(got.PolicyDocument!);
  } catch (err) {
    if ((err as Error).name === 'NoSuchEntityException') return null;
    throw err;
  }
}

it('a session entry makes AWS refuse that session and no other', async () => {
  const { store, deps, clock } = setup();
  const [revoked, other] = [await mint(), await mint()];
  expect(decision(revoked.akid)).toBe('Allow');
  const rec = await record(store, [sessionEntry(revoked.id, clock.ms)]);

  expect(await applyRolePolicy(deps, ROLE)).toEqual({ roleArn: ROLE, state: 'applied' });
  expect(decision(revoked.akid)).toBe('ExplicitDeny');
  expect(decision(other.akid)).toBe('Allow');
  expect((await store.getRevocation(rec.revocationId))?.roles).toEqual([{ roleArn: ROLE, state: 'applied' }]);
  expect(await store.pendingRoleCount()).toBe(0);
  // The next prune is due when the entry expires.
  expect(await store.dueRoles(new Date(clock.ms + HOUR - 1), 10)).toEqual([]);
  expect(await store.dueRoles(new Date(clock.ms + HOUR), 10)).toEqual([ROLE]);
});

it('two replicas applying different entries to one role concurrently both end up in the policy', async () => {
  const replica1 = setup();
  const other = createRedis({ url: db.server.url }) as Redis;
  try {
    const replica2 = setup(other, replica1.prefix);
    const revoked: Array<{ id: string; akid: string }> = [];
    // Slow IAM and a staggered second replica: the second revocation lands while the first apply is between its
    // read and its write, in a different place each round.
    env.aws.admin.setFaults({ latencyMs: 15 });
    for (let round = 0; round < 4; round++) {
      const [a, b] = [await mint(), await mint()];
      revoked.push(a, b);
      const results = await Promise.all(
        [replica1, replica2].map(async (r, i) => {
          if (i === 1) await new Promise((resolve) => setTimeout(resolve, 5 + round * 12));
          await record(r.store, [sessionEntry([a, b][i]!.id, r.clock.ms)]);
          return applyRolePolicy(r.deps, ROLE);
        }),
      );
      expect(results.map((r) => r.state)).toEqual(['applied', 'applied']);
    }
    env.aws.admin.clearFaults();
    const bystander = await mint();
    expect(revoked.filter((s) => decision(s.akid) !== 'ExplicitDeny')).toEqual([]);
    expect(decision(bystander.akid)).toBe('Allow');
    const policy = await ourPolicy();
    expect(revoked.filter((s) => !policy?.includes(s.id))).toEqual([]);
  } finally {
    await other.quit();
  }
});

it('an apply waits for the role lock, so a write based on an older read cannot overwrite a newer one', async () => {
  const replica1 = setup();
  const other = createRedis({ url: db.server.url }) as Redis;
  // Replica 1's IAM client holds its PutRolePolicy until the test opens the gate: its read is then stale.
  let openGate!: () => void;
  let atPut = false;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const slowIam = iamClient(env);
  slowIam.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutRolePolicyCommand') {
        atPut = true;
        await gate;
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  try {
    const replica2 = setup(other, replica1.prefix);
    const [a, b] = [await mint(), await mint()];
    await record(replica1.store, [sessionEntry(a.id, replica1.clock.ms)]);
    const first = applyRolePolicy({ ...replica1.deps, iam: slowIam }, ROLE);
    await waitUntil(async () => atPut);
    await record(replica2.store, [sessionEntry(b.id, replica2.clock.ms)]);
    const second = applyRolePolicy(replica2.deps, ROLE);
    await new Promise((r) => setTimeout(r, 100)); // room for the second apply to run, were it not waiting
    openGate();
    expect((await Promise.all([first, second])).map((r) => r.state)).toEqual(['applied', 'applied']);
    expect(decision(a.akid)).toBe('ExplicitDeny');
    expect(decision(b.akid)).toBe('ExplicitDeny');
  } finally {
    openGate();
    slowIam.destroy();
    await other.quit();
  }
});

it('a revocation waiting on a busy role answers applied once another apply has covered its entries', async () => {
  const { store, deps, clock } = setup();
  const revoked = await mint();
  const rec = await record(store, [sessionEntry(revoked.id, clock.ms)]);
  // Someone else (another replica's apply, the reconciler) holds the role for as long as the test says.
  let release!: () => void;
  let held = true;
  const holding = store.withLock(ROLE, 30_000, () => new Promise<void>((resolve) => (release = resolve)));
  try {
    await waitUntil(async () => release !== undefined);
    const waiting = applyRolePolicy(deps, ROLE, rec.revocationId).then((state) => ({ state, held }));
    // That apply read the revocation's entries and wrote them: it marks the revocations it covered.
    const { version } = await store.roleEntries(ROLE);
    await store.setRoleState(ROLE, { roleArn: ROLE, state: 'applied' }, version);
    expect(await waiting).toEqual({ state: { roleArn: ROLE, state: 'applied' }, held: true });
  } finally {
    held = false;
    release?.();
    await holding;
  }
});

it('500 single-session entries on one role fit, deny all 500, and leave other sessions working', async () => {
  const { store, deps, clock } = setup();
  const sessions: Array<{ id: string; akid: string }> = [];
  for (let i = 0; i < 500; i += 25) sessions.push(...(await Promise.all(Array.from({ length: 25 }, () => mint()))));
  const bystander = await mint();
  // One revocation per session, as 500 operator calls would record them.
  for (let i = 0; i < 500; i += 50) await Promise.all(sessions.slice(i, i + 50).map((s) => record(store, [sessionEntry(s.id, clock.ms)])));

  const state = await applyRolePolicy(deps, ROLE);
  expect(state).toEqual({ roleArn: ROLE, state: 'applied' });
  expect(sessions.filter((s) => decision(s.akid) !== 'ExplicitDeny')).toEqual([]);
  expect(decision(bystander.akid)).toBe('Allow');
  expect((await store.roleEntries(ROLE)).entries).toHaveLength(500);
}, 60_000);

it("the role's other inline policies count against the budget: the oldest entries are folded into a cut-off", async () => {
  const { store, deps, clock } = setup();
  const sessions = await Promise.all(Array.from({ length: 20 }, () => mint()));
  await record(store, sessions.map((s) => sessionEntry(s.id, clock.ms)));
  // The other inline policies leave ~340 characters: a cut-off statement fits, 20 session ids (~300) plus theirs do not.
  await putPadding(9_900);
  try {
    expect(await applyRolePolicy(deps, ROLE)).toEqual({ roleArn: ROLE, state: 'applied', compacted: true });
    expect(sessions.filter((s) => decision(s.akid) !== 'ExplicitDeny')).toEqual([]);
    expect((await store.roleEntries(ROLE)).entries.map((e) => e.kind)).toEqual(['all']);
    expect(await ourPolicy()).toContain('aws:TokenIssueTime');
  } finally {
    await putPadding(0);
  }
});

it('a policy that cannot fit even compacted is pending with a clear error and retried only with backoff', async () => {
  const { store, deps, clock } = setup();
  await putPadding(10_200);
  try {
    const rec = await record(store, [sessionEntry((await mint()).id, clock.ms)]);
    const pending = await applyRolePolicy(deps, ROLE);
    expect(pending).toEqual({ roleArn: ROLE, state: 'pending', error: expect.stringMatching(/^LimitExceeded: .* leave \d+ of 10240$/) });
    expect((await store.getRevocation(rec.revocationId))?.roles).toEqual([pending]);
    expect(await ourPolicy()).toBeNull();
    // 1 s, then 2 s: not retried in a loop.
    expect(await store.dueRoles(new Date(clock.ms + 999), 10)).toEqual([]);
    expect(await store.dueRoles(new Date(clock.ms + 1000), 10)).toEqual([ROLE]);
    await applyRolePolicy(deps, ROLE);
    expect(await store.dueRoles(new Date(clock.ms + 1999), 10)).toEqual([]);
    expect(await store.dueRoles(new Date(clock.ms + 2000), 10)).toEqual([ROLE]);
    expect(await store.pendingRoleCount()).toBe(1);
  } finally {
    await putPadding(0);
  }
});

it('an IAM failure leaves the role pending with the error and a retry scheduled; it applies once IAM recovers', async () => {
  const { store, deps, clock } = setup();
  const s = await mint();
  const rec = await record(store, [sessionEntry(s.id, clock.ms)]);
  env.aws.admin.setFaults({ iamFailure: { rate: 1 } });

  const failed = await applyRolePolicy(deps, ROLE);
  expect(failed).toMatchObject({ roleArn: ROLE, state: 'pending', error: expect.stringMatching(/^ServiceFailure: /) });
  expect((await store.getRevocation(rec.revocationId))?.roles).toEqual([failed]);
  expect(decision(s.akid)).toBe('Allow');
  expect(await store.dueRoles(new Date(clock.ms), 10)).toEqual([]);
  expect(await store.dueRoles(new Date(clock.ms + 1000), 10)).toEqual([ROLE]);

  env.aws.admin.clearFaults();
  clock.ms += 1000;
  expect(await applyRolePolicy(deps, ROLE)).toEqual({ roleArn: ROLE, state: 'applied' });
  expect(decision(s.akid)).toBe('ExplicitDeny');
  expect((await store.getRevocation(rec.revocationId))?.roles).toEqual([{ roleArn: ROLE, state: 'applied' }]);
});

it('expired entries are pruned on the next apply and the policy deleted when none remain', async () => {
  const { store, deps, clock } = setup();
  const [short, long] = [await mint(), await mint()];
  await record(store, [sessionEntry(short.id, clock.ms, 60_000), sessionEntry(long.id, clock.ms, 120_000)]);
  await applyRolePolicy(deps, ROLE);
  expect(decision(short.akid)).toBe('ExplicitDeny');
  expect(await store.dueRoles(new Date(clock.ms + 60_000), 10)).toEqual([ROLE]);

  clock.ms += 60_000;
  await applyRolePolicy(deps, ROLE);
  expect(await ourPolicy()).not.toContain(short.id);
  expect(await ourPolicy()).toContain(long.id);
  expect(decision(short.akid)).toBe('Allow'); // its credentials would have expired by now in the real world

  clock.ms += 60_000;
  expect(await applyRolePolicy(deps, ROLE)).toEqual({ roleArn: ROLE, state: 'applied' });
  expect(await ourPolicy()).toBeNull();
  expect((await store.roleEntries(ROLE)).entries).toEqual([]);
  expect(await store.dueRoles(new Date(clock.ms + 100 * HOUR), 10)).toEqual([]);
});

it('lets a store outage propagate', async () => {
  const dead = createRedis({ url: 'redis://127.0.0.1:1' }) as Redis;
  try {
    const { deps } = setup(dead);
    await expect(applyRolePolicy(deps, ROLE)).rejects.toMatchObject({ name: 'StoreUnavailableError' });
  } finally {
    dead.disconnect();
  }
});

/** Adds a "padding" inline policy so the role's other inline policies total about `total` characters (0 removes it). */
async function putPadding(total: number): Promise<void> {
  if (total === 0) {
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'padding' })).catch(() => undefined);
    return;
  }
  const statement = { Sid: 'Pad', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pad/' };
  const existing = (await iam.send(new GetRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 's3-access' }))).PolicyDocument!;
  const used = nonWhitespaceLength(decodeURIComponent(existing)) + JSON.stringify({ Version: '2012-10-17', Statement: [statement] }).length;
  statement.Resource += 'x'.repeat(Math.max(0, total - used));
  await iam.send(new PutRolePolicyCommand({ RoleName: 'agent-s3', PolicyName: 'padding', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }));
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
