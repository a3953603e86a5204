import { bucketOf } from '../../src/storage/keys';
import { SessionStore, type SessionRecord } from '../../src/storage/session-store';
import { useTestRedis } from '../helpers/redis';

const GRACE_SECONDS = 300;
const T0 = Date.parse('2030-01-01T00:00:00Z');

const db = useTestRedis();

/** A store with its own prefix and a clock the test moves. */
function setup(): { store: SessionStore; prefix: string; clock: { ms: number } } {
  const prefix = db.prefix();
  const clock = { ms: T0 };
  return { store: new SessionStore(db.client, { keyPrefix: prefix, graceSeconds: GRACE_SECONDS, now: () => new Date(clock.ms) }), prefix, clock };
}

let counter = 0;
function record(over: Partial<SessionRecord> = {}): SessionRecord {
  const id = `S${String(++counter).padStart(11, '0')}`;
  const developer = over.developer ?? 'alice@example.com';
  return {
    id,
    state: 'pending',
    issuer: 'corp',
    subject: 'user-123',
    owner: 'user-123',
    developer,
    developerClaim: developer,
    project: 'backend-api',
    accessType: 'AI',
    template: 's3-read-prefix',
    roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
    roleSessionName: `${developer}.${id.slice(0, 8)}`,
    sourceIdentity: developer,
    parameters: { bucket: 'backend-data', prefix: 'reports/2026/' },
    createdAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 900_000).toISOString(),
    ...over,
  };
}

function live(rec: SessionRecord, expiresAtMs = T0 + 901_000) {
  return {
    accessKeyId: 'ASIAEXAMPLE000000001',
    assumedRoleArn: `arn:aws:sts::111122223333:assumed-role/agent-s3/${rec.roleSessionName}`,
    issuedAt: new Date(T0 + 400),
    expiresAt: new Date(expiresAtMs),
    packedPolicySize: 7,
  };
}

async function keysOf(prefix: string): Promise<string[]> {
  return (await db.client.keys(`${prefix}*`)).sort();
}

describe('session records', () => {
  it('round-trips a pending session, then the live one', async () => {
    const { store } = setup();
    const rec = record({ parameters: { bucket: 'b', prefix: 'a/"quoted"/\n', n: 12, nested: { list: [1, 'x'] } } });
    await store.createPending(rec);
    expect(await store.get(rec.id)).toEqual(rec);

    expect(await store.markLive(rec.id, live(rec))).toBe('live');
    expect(await store.get(rec.id)).toEqual({
      ...rec,
      state: 'live',
      expiresAt: new Date(T0 + 901_000).toISOString(),
      issuedAt: new Date(T0 + 400).toISOString(),
      accessKeyId: 'ASIAEXAMPLE000000001',
      assumedRoleArn: `arn:aws:sts::111122223333:assumed-role/agent-s3/${rec.roleSessionName}`,
      packedPolicySize: 7,
    });
  });

  it('round-trips the refresh fields of a refreshable session, and a second markLive records the new key', async () => {
    const { store } = setup();
    const rec = record({ sessionEndsAt: new Date(T0 + 7200_000).toISOString(), credentialSeconds: 900, tokenHash: 'h'.repeat(43) });
    await store.createPending(rec);
    expect(await store.get(rec.id)).toEqual(rec);
    await store.markLive(rec.id, live(rec));
    expect(await store.markLive(rec.id, { ...live(rec), accessKeyId: 'ASIAEXAMPLE000000002' })).toBe('live');
    expect(await store.get(rec.id)).toMatchObject({ accessKeyId: 'ASIAEXAMPLE000000002', sessionEndsAt: rec.sessionEndsAt, credentialSeconds: 900, tokenHash: rec.tokenHash });
  });

  it('keeps values that differ from the derivable ones (subject, source identity, assumed-role ARN of a role with a path)', async () => {
    const { store } = setup();
    const rec = record({ subject: 'other-sub', sourceIdentity: 'alice', roleArn: 'arn:aws-us-gov:iam::111122223333:role/team/agent-s3' });
    await store.createPending(rec);
    const derived = `arn:aws-us-gov:sts::111122223333:assumed-role/agent-s3/${rec.roleSessionName}`;
    await store.markLive(rec.id, { ...live(rec), assumedRoleArn: derived });
    expect(await store.get(rec.id)).toMatchObject({ subject: 'other-sub', sourceIdentity: 'alice', assumedRoleArn: derived });

    const odd = record();
    await store.createPending(odd);
    await store.markLive(odd.id, { ...live(odd), assumedRoleArn: 'arn:aws:sts::111122223333:assumed-role/elsewhere/x' });
    expect((await store.get(odd.id))?.assumedRoleArn).toBe('arn:aws:sts::111122223333:assumed-role/elsewhere/x');
  });

  it('sets the record TTL to credential expiry + grace, and moves it with the issued expiry', async () => {
    const { store, prefix } = setup();
    const rec = record();
    await store.createPending(rec);
    const key = `${prefix}{s:${rec.id}}`;
    const expected = 900_000 + GRACE_SECONDS * 1000;
    const pending = await db.client.pttl(key);
    expect(pending).toBeLessThanOrEqual(expected);
    expect(pending).toBeGreaterThan(expected - 10_000);

    await store.markLive(rec.id, live(rec, T0 + 1_800_000));
    const liveTtl = await db.client.pttl(key);
    expect(liveTtl).toBeLessThanOrEqual(expected + 900_000);
    expect(liveTtl).toBeGreaterThan(expected + 900_000 - 10_000);
  });

  it('writes exactly the documented keys and record fields, nothing secret', async () => {
    const { store, prefix } = setup();
    // The template's first session records its role in the template-roles hash, and its own; later ones leave it out.
    const first = record();
    await store.createPending(first);
    const rec = record();
    await store.createPending(rec);
    await store.markLive(rec.id, live(rec), rec);
    const got = await store.get(rec.id);
    expect(Object.keys(got!).sort()).toEqual(
      ['accessKeyId', 'accessType', 'assumedRoleArn', 'createdAt', 'developer', 'developerClaim', 'expiresAt', 'id', 'issuedAt', 'issuer', 'owner', 'packedPolicySize',
        'parameters', 'project', 'roleArn', 'roleSessionName', 'sourceIdentity', 'state', 'subject', 'template'].sort(),
    );
    expect(await store.get(first.id)).toEqual(first);
    expect(await keysOf(prefix)).toEqual(
      [
        `${prefix}{s:${first.id}}`,
        `${prefix}{s:${rec.id}}`,
        `${prefix}{d:alice@example.com}`,
        `${prefix}{C:${bucketOf('alice@example.com')}}`,
        `${prefix}{C:r}`,
        `${prefix}{T}`,
      ].sort(),
    );
    expect(await db.client.hgetall(`${prefix}{T}`)).toEqual({ 's3-read-prefix': rec.roleArn });
    const b36 = (ms: number): string => ms.toString(36);
    const raw = (await db.client.get(`${prefix}{s:${rec.id}}`))!;
    expect(raw.split('\n')).toEqual([
      'l', b36(T0 + 901_000), b36(T0 + 400), 'ASIAEXAMPLE000000001', '7', '', '', '', '',
      b36(T0), 'alice@example.com', 'backend-api', 's3-read-prefix', 'corp', 'AI', JSON.stringify(rec.parameters), '{"s":"user-123"}',
    ]);
    const firstRaw = (await db.client.get(`${prefix}{s:${first.id}}`))!;
    expect(firstRaw.split('\n').slice(-1)).toEqual([JSON.stringify({ s: 'user-123', r: first.roleArn })]);
    // No secret-looking value: no 40-character secret key, no session token, no JWT.
    expect(raw).not.toMatch(/[A-Za-z0-9/+=]{40}|FwoGZXIvYXdz|IQoJb3JpZ2lu|eyJ[A-Za-z0-9_-]+\./);
  });

  it("writes a template's role again with the next vend when the hash holding it was lost (a failover)", async () => {
    const { store, prefix, clock } = setup();
    const first = record();
    await store.createPending(first);
    // The replica has the role cached; Redis lost the hash (an acknowledged write a failover dropped).
    await db.client.del(`${prefix}{T}`);
    // The role is written again at most every 10 s per template, not on every vend.
    clock.ms += 10_000;
    const second = record();
    await store.createPending(second);
    expect(await db.client.hgetall(`${prefix}{T}`)).toEqual({ 's3-read-prefix': second.roleArn });
    // Another replica, knowing nothing, reads both records with their role.
    const other = new SessionStore(db.client, { keyPrefix: prefix, graceSeconds: GRACE_SECONDS, now: () => new Date(T0) });
    expect((await other.getMany([first.id, second.id])).map((r) => r?.roleArn)).toEqual([first.roleArn, second.roleArn]);
  });

  it('refuses a second createPending for the same id, and ids or cursors it never made', async () => {
    const { store } = setup();
    const rec = record();
    await store.createPending(rec);
    await expect(store.createPending({ ...rec, developer: 'mallory' })).rejects.toThrow('already recorded');
    expect((await store.get(rec.id))?.developer).toBe('alice@example.com');
    await expect(store.get('../x')).rejects.toBeInstanceOf(TypeError);
    await expect(store.list({}, 'not-a-cursor')).rejects.toBeInstanceOf(TypeError);
    expect(await store.get('NOSUCHSESSION')).toBeNull();
    expect(await store.markLive('NOSUCHSESSION', live(rec))).toBeNull();
  });
});

describe('sessions recorded by the previous version (an upgrade with live sessions in Redis)', () => {
  /** What the previous version wrote for a session: the record as two JSON arrays, the developer index, its catalogues. */
  async function writeLegacy(prefix: string, rec: SessionRecord, head: unknown[]): Promise<void> {
    const body = ['corp', rec.subject, rec.developer, rec.project, rec.accessType, rec.template, rec.roleArn, rec.roleSessionName, null, T0, rec.parameters];
    const expiry = Date.parse(rec.expiresAt);
    await db.client.set(`${prefix}{s:${rec.id}}`, `${JSON.stringify(head)}\n${JSON.stringify(body)}`, 'PX', 3_600_000);
    await db.client.zadd(`${prefix}{d:${rec.developer}}`, expiry, rec.id);
    await db.client.zadd(`${prefix}{c:d}`, expiry + 300_000, rec.developer);
    await db.client.zadd(`${prefix}{c:r}`, expiry + 300_000, rec.roleArn);
  }

  it('reads, lists and revokes them, and marks a pending one live, in the format they were written in', async () => {
    const { store, prefix } = setup();
    const old = record({ developer: 'olga@example.com', roleSessionName: 'olga@example.com.legacy01', roleArn: 'arn:aws:iam::111122223333:role/old-role' });
    await writeLegacy(prefix, old, ['l', T0 + 901_000, T0 + 400, 'ASIAEXAMPLE000000009', 7]);
    const pending = record({ developer: 'olga@example.com' });
    await writeLegacy(prefix, pending, ['p', T0 + 900_000]);
    const fresh = record({ developer: 'nina@example.com' });
    await store.createPending(fresh);

    expect(await store.get(old.id)).toEqual({
      ...old,
      state: 'live',
      expiresAt: new Date(T0 + 901_000).toISOString(),
      issuedAt: new Date(T0 + 400).toISOString(),
      accessKeyId: 'ASIAEXAMPLE000000009',
      packedPolicySize: 7,
      assumedRoleArn: `arn:aws:sts::111122223333:assumed-role/old-role/${old.roleSessionName}`,
    });
    // Every listing and group revocation starts from the catalogues, which still name the old version's ones.
    expect(await store.activeValues('developer')).toEqual(['nina@example.com', 'olga@example.com']);
    expect(await store.activeValues('role')).toEqual([fresh.roleArn, old.roleArn].sort());
    expect((await store.list({ project: 'backend-api' })).sessions.map((s) => s.id).sort()).toEqual([old.id, pending.id, fresh.id].sort());
    expect((await store.idsBy('role', old.roleArn)).sort()).toEqual([old.id]);

    expect(await store.markLive(pending.id, live(pending), pending)).toBe('live');
    const raw = (await db.client.get(`${prefix}{s:${pending.id}}`))!;
    expect(raw.startsWith('["l",')).toBe(true);
    expect(await store.get(pending.id)).toMatchObject({ state: 'live', accessKeyId: 'ASIAEXAMPLE000000001', issuedAt: new Date(T0 + 400).toISOString() });

    expect(await store.markRevoked([old.id, pending.id], { revokedAt: new Date(T0 + 1000), revocationId: 'rv-old' })).toEqual([old.id, pending.id]);
    expect(await store.get(old.id)).toMatchObject({ state: 'revoked', revocationId: 'rv-old', revokedAt: new Date(T0 + 1000).toISOString() });
    expect(await store.idsBy('developer', 'olga@example.com')).toEqual([]);
  });
});

describe('state changes', () => {
  it('markFailed frees the slot, keeps the record briefly with its failure', async () => {
    const { store, prefix } = setup();
    const rec = record();
    await store.reserve({ developer: rec.developer, sessionId: rec.id, expiresAt: new Date(rec.expiresAt), vendsPerMinute: 0, liveSessions: 0 });
    await store.createPending(rec);
    await store.markFailed(rec.id, 'sts_access_denied');
    expect(await store.get(rec.id)).toMatchObject({ state: 'failed', failure: 'sts_access_denied' });
    expect(await store.idsBy('developer', rec.developer)).toEqual([]);
    expect(await store.idsBy('project', rec.project)).toEqual([]);
    expect(await db.client.pttl(`${prefix}{s:${rec.id}}`)).toBeLessThanOrEqual(GRACE_SECONDS * 1000);
  });

  it('markRevoked drops sessions from the indexes, and a later markLive does not undo it', async () => {
    const { store } = setup();
    const [a, b, c] = [record(), record(), record()];
    for (const r of [a, b, c]) await store.createPending(r);
    await store.markLive(a.id, live(a));
    const revokedAt = new Date(T0 + 5000);
    expect(await store.markRevoked([a.id, b.id, 'NOSUCHSESSION'], { revokedAt, revocationId: 'rv-1' })).toEqual([a.id, b.id]);
    expect(await store.markLive(b.id, live(b))).toBe('revoked');
    expect(await store.get(b.id)).toMatchObject({ state: 'revoked', revocationId: 'rv-1', revokedAt: revokedAt.toISOString(), accessKeyId: 'ASIAEXAMPLE000000001' });
    expect(await store.idsBy('developer', a.developer)).toEqual([c.id]);
    expect(await store.markRevoked([c.id], { revokedAt, revocationId: 'end-1', state: 'ended' })).toEqual([c.id]);
    expect((await store.get(c.id))?.state).toBe('ended');
    expect(await store.markRevoked([c.id], { revokedAt, revocationId: 'rv-2' })).toEqual([]);
  });
});

describe('indexes', () => {
  it('return ids by developer, project, template and role, and trim expired members', async () => {
    const { store, prefix, clock } = setup();
    const a = record();
    const b = record({ developer: 'bob@example.com', project: 'data-pipeline', template: 'logs-read-group', roleArn: 'arn:aws:iam::111122223333:role/agent-logs' });
    const c = record({ expiresAt: new Date(T0 + 1_800_000).toISOString() });
    for (const r of [a, b, c]) await store.createPending(r);

    expect((await store.idsBy('developer', 'alice@example.com')).sort()).toEqual([a.id, c.id].sort());
    expect((await store.idsBy('project', 'backend-api')).sort()).toEqual([a.id, c.id].sort());
    expect(await store.idsBy('project', 'data-pipeline')).toEqual([b.id]);
    expect(await store.idsBy('template', 'logs-read-group')).toEqual([b.id]);
    expect(await store.idsBy('role', 'arn:aws:iam::111122223333:role/agent-logs')).toEqual([b.id]);
    expect(await store.idsBy('role', 'arn:aws:iam::111122223333:role/none')).toEqual([]);
    expect(await store.activeValues('role')).toEqual(['arn:aws:iam::111122223333:role/agent-logs', 'arn:aws:iam::111122223333:role/agent-s3']);

    clock.ms = T0 + 900_001; // a and b expired, c not
    expect(await store.idsBy('developer', 'alice@example.com')).toEqual([c.id]);
    expect(await store.idsBy('project', 'data-pipeline')).toEqual([]);
    expect(await store.idsBy('role', 'arn:aws:iam::111122223333:role/agent-s3')).toEqual([c.id]);
    // Trimming is lazy: the next write to the index removes the expired member.
    const d = record({ createdAt: new Date(clock.ms).toISOString(), expiresAt: new Date(clock.ms + 900_000).toISOString() });
    await store.createPending(d);
    expect((await db.client.zrange(`${prefix}{d:alice@example.com}`, 0, -1)).sort()).toEqual([c.id, d.id].sort());
  });

  it('lists sessions a page at a time, filtered, each exactly once', async () => {
    const { store } = setup();
    const developers = ['alice@example.com', 'bob@example.com', 'carol@example.com'];
    const all: SessionRecord[] = [];
    for (let i = 0; i < 25; i++) {
      const rec = record({ developer: developers[i % 3], project: i % 2 ? 'data-pipeline' : 'backend-api' });
      await store.createPending(rec);
      if (i % 5 === 0) await store.markLive(rec.id, live(rec));
      all.push(rec);
    }
    const pages = async (filter: Parameters<SessionStore['list']>[0], limit: number): Promise<{ ids: string[]; count: number }> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      let count = 0;
      do {
        const page: Awaited<ReturnType<SessionStore['list']>> = await store.list(filter, cursor, limit);
        expect(page.sessions.length).toBeLessThanOrEqual(limit);
        ids.push(...page.sessions.map((s) => s.id));
        cursor = page.cursor;
        count++;
      } while (cursor);
      return { ids, count };
    };
    const everything = await pages({}, 10);
    expect(everything.count).toBe(3);
    expect(everything.ids).toHaveLength(25);
    expect(new Set(everything.ids)).toEqual(new Set(all.map((r) => r.id)));

    const byProject = await pages({ project: 'data-pipeline' }, 4);
    expect(byProject.ids.sort()).toEqual(all.filter((r) => r.project === 'data-pipeline').map((r) => r.id).sort());
    const bobs = await pages({ developer: 'bob@example.com', project: 'backend-api' }, 100);
    expect(bobs.ids.sort()).toEqual(all.filter((r) => r.developer === 'bob@example.com' && r.project === 'backend-api').map((r) => r.id).sort());
    const liveOnes = await pages({ state: 'live' }, 2);
    expect(liveOnes.ids.sort()).toEqual(all.filter((_, i) => i % 5 === 0).map((r) => r.id).sort());
    expect((await pages({ role: 'arn:aws:iam::111122223333:role/none' }, 10)).ids).toEqual([]);
  });
});
