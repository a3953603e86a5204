import type { Redis } from 'ioredis';
import { KillSwitchStore, type RevocationRecord, type Selector } from '../../src/storage/kill-switch-store';
import type { RevocationEntry } from '../../src/revoke/revocation-entries';
import { createRedis, StoreUnavailableError } from '../../src/storage/redis-client';
import { SessionStore, type SessionRecord } from '../../src/storage/session-store';
import { useTestRedis } from '../helpers/redis';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const MIN = 60_000;
const ROLE = 'arn:aws:iam::111122223333:role/agent-s3';

const db = useTestRedis();

/** A kill-switch store and a session store sharing a fresh prefix, with a clock the test moves. */
function setup() {
  const prefix = db.prefix();
  const clock = { ms: T0 };
  const now = (): Date => new Date(clock.ms);
  return {
    prefix,
    clock,
    store: new KillSwitchStore(db.client, { keyPrefix: prefix, now }),
    sessions: new SessionStore(db.client, { keyPrefix: prefix, graceSeconds: 300, now }),
  };
}

let counter = 0;
function revocation(selector: Selector, over: Partial<RevocationRecord> = {}): RevocationRecord {
  return {
    revocationId: `r${String(++counter).padStart(12, '0')}`,
    selector,
    reason: 'test',
    operator: 'sec@example.com',
    createdAt: new Date(T0).toISOString(),
    sessionsRevoked: 0,
    roles: [],
    ...over,
  };
}

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  const id = `S${String(++counter).padStart(11, '0')}`;
  return {
    id,
    state: 'pending',
    issuer: 'corp',
    subject: 'alice@example.com',
    owner: 'alice@example.com',
    developer: 'alice@example.com',
    developerClaim: 'alice@example.com',
    project: 'backend-api',
    accessType: 'AI',
    template: 's3-read-prefix',
    roleArn: ROLE,
    roleSessionName: `alice.${id}`,
    sourceIdentity: 'alice@example.com',
    parameters: {},
    createdAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 15 * MIN).toISOString(),
    ...over,
  };
}

const ALICE = { developer: 'alice@example.com', project: 'backend-api', template: 's3-read-prefix' };
const noEffects = { entriesByRole: new Map<string, RevocationEntry[]>() };

describe('blockFor (vend checkpoint)', () => {
  it('picks the latest active block covering the developer, project, template or all, ignoring ended ones', async () => {
    const { store, clock } = setup();
    expect(await store.blockFor(ALICE)).toBeNull();
    const dev = revocation({ kind: 'developer', value: 'alice@example.com' });
    const project = revocation({ kind: 'project', value: 'backend-api' });
    const ended = revocation({ kind: 'all' });
    const other = revocation({ kind: 'developer', value: 'bob@example.com' });
    await store.recordRevocation(dev, { ...noEffects, blockUntil: new Date(T0 + 10 * MIN) });
    await store.recordRevocation(project, { ...noEffects, blockUntil: new Date(T0 + 20 * MIN) });
    await store.recordRevocation(ended, { ...noEffects, blockUntil: new Date(T0 - 1) });
    await store.recordRevocation(other, { ...noEffects, blockUntil: new Date(T0 + 60 * MIN) });

    expect(await store.blockFor(ALICE)).toEqual({ selector: { kind: 'project', value: 'backend-api' }, until: new Date(T0 + 20 * MIN), revocationId: project.revocationId });
    expect(await store.blockFor({ ...ALICE, project: 'data-pipeline' })).toEqual({
      selector: { kind: 'developer', value: 'alice@example.com' },
      until: new Date(T0 + 10 * MIN),
      revocationId: dev.revocationId,
    });
    expect(await store.blockFor({ developer: 'carol@example.com', project: 'data-pipeline', template: 's3-read-prefix' })).toBeNull();

    const template = revocation({ kind: 'template', value: 'lambda-update-code' });
    await store.recordRevocation(template, { ...noEffects, blockUntil: new Date(T0 + 5 * MIN) });
    expect((await store.blockFor({ developer: 'carol@example.com', project: 'x', template: 'lambda-update-code' }))?.revocationId).toBe(template.revocationId);

    clock.ms = T0 + 20 * MIN; // "until" is exclusive
    expect(await store.blockFor(ALICE)).toBeNull();
  });

  it('an all block covers everyone', async () => {
    const { store } = setup();
    const all = revocation({ kind: 'all' });
    await store.recordRevocation(all, { ...noEffects, blockUntil: new Date(T0 + MIN) });
    expect(await store.blockFor({ developer: 'x', project: 'y', template: 'z' })).toEqual({ selector: { kind: 'all' }, until: new Date(T0 + MIN), revocationId: all.revocationId });
  });
});

describe('checkSession (refresh checkpoint)', () => {
  it.each<[Selector['kind'], string | undefined]>([
    ['developer', 'alice@example.com'],
    ['project', 'backend-api'],
    ['template', 's3-read-prefix'],
    ['all', undefined],
  ])('a %s revocation revokes sessions created before its instant, not after', async (kind, value) => {
    const { store, sessions } = setup();
    const before = session({ createdAt: new Date(T0 + 4_999).toISOString() });
    const after = session({ createdAt: new Date(T0 + 5_000).toISOString() });
    const unrelated = session({ developer: 'bob@example.com', project: 'data-pipeline', template: 'logs-read-group', createdAt: new Date(T0).toISOString() });
    for (const s of [before, after, unrelated]) await sessions.createPending(s);
    await store.recordRevocation(revocation({ kind, ...(value ? { value } : {}) }), { ...noEffects, revokedBefore: new Date(T0 + 5_000) });

    const check = (s: SessionRecord) => store.checkSession({ ...s, createdAt: new Date(s.createdAt) });
    expect(await check(before)).toEqual({ verdict: 'revoked' });
    expect(await check(after)).toEqual({ verdict: 'ok' });
    expect(await check(unrelated)).toEqual({ verdict: kind === 'all' ? 'revoked' : 'ok' });
  });

  it('revoked or ended session records, and missing ones, are revoked', async () => {
    const { store, sessions } = setup();
    const [revoked, ended, live] = [session(), session(), session()];
    for (const s of [revoked, ended, live]) await sessions.createPending(s);
    await sessions.markRevoked([revoked.id], { revokedAt: new Date(T0), revocationId: 'rX' });
    await sessions.markRevoked([ended.id], { revokedAt: new Date(T0), revocationId: 'rY', state: 'ended' });
    const check = (s: SessionRecord) => store.checkSession({ ...s, createdAt: new Date(s.createdAt) });
    expect(await check(revoked)).toEqual({ verdict: 'revoked' });
    expect(await check(ended)).toEqual({ verdict: 'revoked' });
    expect(await check(live)).toEqual({ verdict: 'ok' });
    expect(await check(session())).toEqual({ verdict: 'revoked' });
  });

  it('a block refuses refresh until it ends; a revocation takes precedence', async () => {
    const { store, sessions, clock } = setup();
    const s = session({ createdAt: new Date(T0 + MIN).toISOString() });
    await sessions.createPending(s);
    const input = { ...s, createdAt: new Date(s.createdAt) };
    await store.recordRevocation(revocation({ kind: 'project', value: 'backend-api' }), { ...noEffects, revokedBefore: new Date(T0), blockUntil: new Date(T0 + 10 * MIN) });
    expect(await store.checkSession(input)).toEqual({ verdict: 'blocked', until: new Date(T0 + 10 * MIN) });
    await store.recordRevocation(revocation({ kind: 'developer', value: 'alice@example.com' }), { ...noEffects, revokedBefore: new Date(T0 + 2 * MIN) });
    expect(await store.checkSession(input)).toEqual({ verdict: 'revoked' });
    clock.ms = T0 + 10 * MIN;
    expect(await store.checkSession({ ...input, createdAt: new Date(T0 + 3 * MIN) })).toEqual({ verdict: 'ok' });
  });

  it('keeps the latest instant when revocations of one selector arrive out of order', async () => {
    const { store, sessions } = setup();
    const s = session({ createdAt: new Date(T0 + MIN).toISOString() });
    await sessions.createPending(s);
    await store.recordRevocation(revocation({ kind: 'all' }), { ...noEffects, revokedBefore: new Date(T0 + 2 * MIN) });
    await store.recordRevocation(revocation({ kind: 'all' }), { ...noEffects, revokedBefore: new Date(T0) });
    expect(await store.checkSession({ ...s, createdAt: new Date(s.createdAt) })).toEqual({ verdict: 'revoked' });
  });
});

describe('revocation records', () => {
  const entry: RevocationEntry = { kind: 'developer', value: 'alice@example.com', before: new Date(T0 + 5000).toISOString(), expiresAt: new Date(T0 + 65 * MIN).toISOString() };

  it('are durable (a new client reads them) and recording is idempotent per revocation id', async () => {
    const { store, prefix } = setup();
    const rec = revocation({ kind: 'developer', value: 'alice@example.com' }, { sessionsRevoked: 3, blockedUntil: new Date(T0 + MIN).toISOString(), roles: [{ roleArn: ROLE, state: 'pending' }] });
    const effects = { revokedBefore: new Date(T0 + 5000), blockUntil: new Date(T0 + MIN), entriesByRole: new Map([[ROLE, [entry]]]) };
    await store.recordRevocation(rec, effects);
    await store.setRoleState(ROLE, { roleArn: ROLE, state: 'applied' });
    await store.recordRevocation({ ...rec, reason: 'changed', sessionsRevoked: 9 }, effects);

    const other = createRedis({ url: db.server.url }) as Redis;
    try {
      const fresh = new KillSwitchStore(other, { keyPrefix: prefix, now: () => new Date(T0) });
      expect(await fresh.getRevocation(rec.revocationId)).toEqual({ ...rec, roles: [{ roleArn: ROLE, state: 'applied' }] });
      expect((await fresh.listRevocations(null, 10)).revocations.map((r) => r.revocationId)).toEqual([rec.revocationId]);
      expect((await fresh.roleEntries(ROLE)).entries).toEqual([entry]);
      expect(await fresh.dueRoles(new Date(T0), 10)).toEqual([ROLE]);
    } finally {
      await other.quit();
    }
    expect(await store.getRevocation('rDoesNotExist')).toBeNull();
    await expect(store.getRevocation('bad id!')).rejects.toThrow(TypeError);
  });

  it('are listed newest first, page by page', async () => {
    const { store } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const rec = revocation({ kind: 'all' }, { createdAt: new Date(T0 + i * 1000).toISOString() });
      ids.push(rec.revocationId);
      await store.recordRevocation(rec, noEffects);
    }
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<KillSwitchStore['listRevocations']>> = await store.listRevocations(cursor, 2);
      seen.push(page.revocations.map((r) => r.revocationId));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen).toEqual([
      [ids[4], ids[3]],
      [ids[2], ids[1]],
      [ids[0]],
    ]);
    await expect(store.listRevocations('not a cursor', 2)).rejects.toThrow(TypeError);
  });

  it('liftBlock removes only its own block', async () => {
    const { store, clock } = setup();
    const long = revocation({ kind: 'developer', value: 'alice@example.com' }, { blockedUntil: new Date(T0 + 30 * MIN).toISOString() });
    const short = revocation({ kind: 'developer', value: 'alice@example.com' }, { blockedUntil: new Date(T0 + 10 * MIN).toISOString() });
    const unblocked = revocation({ kind: 'developer', value: 'alice@example.com' });
    await store.recordRevocation(long, { ...noEffects, blockUntil: new Date(T0 + 30 * MIN) });
    await store.recordRevocation(short, { ...noEffects, blockUntil: new Date(T0 + 10 * MIN) });
    await store.recordRevocation(unblocked, noEffects);
    expect((await store.blockFor(ALICE))?.revocationId).toBe(long.revocationId);

    clock.ms = T0 + MIN;
    expect(await store.liftBlock(unblocked.revocationId)).toEqual(unblocked);
    const lifted = await store.liftBlock(long.revocationId);
    expect(lifted?.blockedUntil).toBe(new Date(T0 + MIN).toISOString());
    expect((await store.getRevocation(long.revocationId))?.blockedUntil).toBe(new Date(T0 + MIN).toISOString());
    expect(await store.blockFor(ALICE)).toEqual({ selector: { kind: 'developer', value: 'alice@example.com' }, until: new Date(T0 + 10 * MIN), revocationId: short.revocationId });
    // Lifting again changes nothing.
    expect((await store.liftBlock(long.revocationId))?.blockedUntil).toBe(new Date(T0 + MIN).toISOString());
    await store.liftBlock(short.revocationId);
    expect(await store.blockFor(ALICE)).toBeNull();
    expect(await store.liftBlock('rNoSuchOne')).toBeNull();
  });
});

describe('role work', () => {
  const e1: RevocationEntry = { kind: 'session', sessionId: 'AAAA', issuedAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + 15 * MIN).toISOString() };
  const e2: RevocationEntry = { kind: 'session', sessionId: 'BBBB', issuedAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + 15 * MIN).toISOString() };

  it('replaceRoleEntries keeps entries added after the read and reports them', async () => {
    const { store } = setup();
    const r1 = revocation({ kind: 'session', value: 'AAAA' }, { roles: [{ roleArn: ROLE, state: 'pending' }] });
    await store.recordRevocation(r1, { entriesByRole: new Map([[ROLE, [e1]]]) });
    const read = await store.roleEntries(ROLE);
    expect(read).toEqual({ entries: [e1], version: 1, since: new Date(T0) });

    const r2 = revocation({ kind: 'session', value: 'BBBB' });
    await store.recordRevocation(r2, { entriesByRole: new Map([[ROLE, [e2]]]) });
    // The apply folded e1 away (say): e1 goes, e2 (added after the read) stays, and the caller learns of it.
    const folded: RevocationEntry = { kind: 'all', before: new Date(T0 + 1000).toISOString(), expiresAt: e1.expiresAt };
    expect(await store.replaceRoleEntries(ROLE, { read: read.entries, entries: [folded], version: read.version })).toBe(true);
    expect((await store.roleEntries(ROLE)).entries).toEqual(expect.arrayContaining([folded, e2]));
    expect((await store.roleEntries(ROLE)).entries).toHaveLength(2);

    // Only revocations recorded by the read version are marked applied; r2 still waits.
    await store.setRoleState(ROLE, { roleArn: ROLE, state: 'applied', compacted: true }, read.version);
    expect((await store.getRevocation(r1.revocationId))?.roles).toEqual([{ roleArn: ROLE, state: 'applied', compacted: true }]);
    expect((await store.getRevocation(r2.revocationId))?.roles).toEqual([{ roleArn: ROLE, state: 'pending' }]);

    const again = await store.roleEntries(ROLE);
    expect(await store.replaceRoleEntries(ROLE, { read: again.entries, entries: again.entries, version: again.version })).toBe(false);
    expect((await store.roleEntries(ROLE)).since).toBeUndefined();
  });

  it('counts consecutive failures, records errors on waiting revocations, and schedules', async () => {
    const { store } = setup();
    const rec = revocation({ kind: 'session', value: 'AAAA' });
    await store.recordRevocation(rec, { entriesByRole: new Map([[ROLE, [e1]]]) });
    expect(await store.pendingRoleCount()).toBe(1);
    expect(await store.setRoleState(ROLE, { roleArn: ROLE, state: 'pending', error: 'ServiceFailure: boom' })).toBe(1);
    expect(await store.setRoleState(ROLE, { roleArn: ROLE, state: 'pending', error: 'ServiceFailure: boom' })).toBe(2);
    expect((await store.getRevocation(rec.revocationId))?.roles).toEqual([{ roleArn: ROLE, state: 'pending', error: 'ServiceFailure: boom' }]);
    expect(await store.setRoleState(ROLE, { roleArn: ROLE, state: 'applied' })).toBe(0);
    expect(await store.pendingRoleCount()).toBe(0);

    await store.schedule(ROLE, new Date(T0 + MIN));
    expect(await store.dueRoles(new Date(T0), 10)).toEqual([]);
    expect(await store.dueRoles(new Date(T0 + MIN), 10)).toEqual([ROLE]);
    await store.unschedule(ROLE);
    expect(await store.dueRoles(new Date(T0 + 99 * MIN), 10)).toEqual([]);
  });

  it('pruneKillSwitch drops instants older than the longest session and ended blocks', async () => {
    const { store, prefix, clock } = setup();
    await store.recordRevocation(revocation({ kind: 'developer', value: 'old' }), { ...noEffects, revokedBefore: new Date(T0) });
    await store.recordRevocation(revocation({ kind: 'developer', value: 'new' }), { ...noEffects, revokedBefore: new Date(T0 + 60 * MIN), blockUntil: new Date(T0 + 60 * MIN) });
    await store.recordRevocation(revocation({ kind: 'all' }), { ...noEffects, blockUntil: new Date(T0 + 10 * MIN) });
    clock.ms = T0 + 70 * MIN;
    await store.pruneKillSwitch(new Date(clock.ms), 3600);
    expect((await db.client.hkeys(`${prefix}{k}`)).sort()).toEqual(['r:developer:new']);
  });
});

describe('locks', () => {
  it('exclude each other and release only their own hold', async () => {
    const { store, prefix } = setup();
    let releaseFirst!: () => void;
    const first = store.withLock(ROLE, 10_000, () => new Promise<string>((r) => (releaseFirst = () => r('first'))));
    await new Promise((r) => setImmediate(r));
    await waitFor(async () => (await db.client.exists(`${prefix}{l:${ROLE}}`)) === 1);
    expect(await store.withLock(ROLE, 10_000, async () => 'second')).toBeUndefined();
    expect(await store.withLock('arn:aws:iam::111122223333:role/other', 10_000, async () => 'other role')).toBe('other role');

    // The first hold "expires" and someone else takes the lock; the first one's release must not free it.
    await db.client.del(`${prefix}{l:${ROLE}}`);
    let releaseThird!: () => void;
    const third = store.withLock(ROLE, 10_000, () => new Promise<string>((r) => (releaseThird = () => r('third'))));
    await waitFor(async () => typeof releaseThird === 'function');
    releaseFirst();
    expect(await first).toBe('first');
    expect(await store.withLock(ROLE, 10_000, async () => 'fourth')).toBeUndefined();
    releaseThird();
    expect(await third).toBe('third');
    expect(await store.withLock(ROLE, 10_000, async () => 'fifth')).toBe('fifth');
  });

  it('a failing holder still releases', async () => {
    const { store } = setup();
    await expect(store.withLock(ROLE, 10_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await store.withLock(ROLE, 10_000, async () => 'ok')).toBe('ok');
  });

  it('leadership is held by one token at a time and released only by it', async () => {
    const { store } = setup();
    expect(await store.holdLeadership('a', 10_000)).toBe(true);
    expect(await store.holdLeadership('b', 10_000)).toBe(false);
    expect(await store.holdLeadership('a', 10_000)).toBe(true);
    await store.releaseLeadership('b');
    expect(await store.holdLeadership('b', 10_000)).toBe(false);
    await store.releaseLeadership('a');
    expect(await store.holdLeadership('b', 10_000)).toBe(true);
  });
});

it('a Redis that cannot be reached surfaces as StoreUnavailableError naming the kill-switch store', async () => {
  const dead = createRedis({ url: 'redis://127.0.0.1:1' });
  try {
    const store = new KillSwitchStore(dead, { keyPrefix: 'x:', now: () => new Date(T0) });
    await expect(store.blockFor(ALICE)).rejects.toBeInstanceOf(StoreUnavailableError);
    const err = await store.checkSession({ id: 'S1', ...ALICE, createdAt: new Date(T0) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err).toMatchObject({ store: 'kill-switch store', message: expect.stringMatching(/^kill-switch store unavailable: /) });
    // The session store, on the same dead client, names itself.
    const sessions = new SessionStore(dead, { keyPrefix: 'x:', graceSeconds: 60, now: () => new Date(T0) });
    await expect(sessions.get('S1')).rejects.toMatchObject({ store: 'session store', message: expect.stringMatching(/^session store unavailable: /) });
  } finally {
    dead.disconnect();
  }
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
