import { SessionStore, type SessionRecord } from '../../src/storage/session-store';
import { describeWithOwnRedis, uniquePrefix, useTestRedisCluster } from '../helpers/redis';

// Redis Cluster rejects any command or script whose keys span slots (CROSSSLOT), and ioredis rejects a pipeline
// spanning nodes: every store operation runs here against three primaries to show the key layout avoids both.

describeWithOwnRedis('session store on a Redis Cluster', () => {
  const redis = useTestRedisCluster();

  it('reserves, records, lists and revokes across slots and nodes', async () => {
    const now = Date.now();
    const store = new SessionStore(redis.client, { keyPrefix: uniquePrefix(), graceSeconds: 60, now: () => new Date(now) });
    const recs: SessionRecord[] = [];
    for (let i = 0; i < 24; i++) {
      const id = `C${String(i).padStart(11, '0')}`;
      const developer = `dev${i % 6}@example.com`;
      const expiresAt = new Date(now + 900_000);
      expect(await store.reserve({ developer, sessionId: id, expiresAt, vendsPerMinute: 100, liveSessions: 4 })).toEqual({ ok: true });
      const rec: SessionRecord = {
        id, state: 'pending', issuer: 'corp', subject: developer, owner: developer, developer, developerClaim: developer, project: `project-${i % 3}`, accessType: 'AI', template: `template-${i % 4}`,
        roleArn: `arn:aws:iam::111122223333:role/role-${i % 2}`, roleSessionName: `${developer}.${id.slice(0, 8)}`, sourceIdentity: developer,
        parameters: { i }, createdAt: new Date(now).toISOString(), expiresAt: expiresAt.toISOString(),
      };
      await store.createPending(rec);
      expect(await store.markLive(id, { accessKeyId: 'ASIAEXAMPLE000000001', assumedRoleArn: 'x', issuedAt: new Date(now), expiresAt: new Date(now + 905_000), packedPolicySize: 3 })).toBe('live');
      recs.push(rec);
    }
    expect(await store.reserve({ developer: 'dev0@example.com', sessionId: 'C99999999999', expiresAt: new Date(now + 900_000), vendsPerMinute: 100, liveSessions: 4 })).toMatchObject({ ok: false, reason: 'sessions' });
    const idsOf = (pred: (r: SessionRecord) => boolean): string[] => recs.filter(pred).map((r) => r.id).sort();
    expect((await store.idsBy('project', 'project-1')).sort()).toEqual(idsOf((r) => r.project === 'project-1'));
    expect((await store.idsBy('role', 'arn:aws:iam::111122223333:role/role-0')).sort()).toEqual(idsOf((r) => r.roleArn.endsWith('role-0')));
    expect((await store.getMany(recs.map((r) => r.id))).every((r) => r?.state === 'live')).toBe(true);

    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<SessionStore['list']>> = await store.list({}, cursor, 5);
      listed.push(...page.sessions.map((s) => s.id));
      cursor = page.cursor;
    } while (cursor);
    expect(listed.sort()).toEqual(idsOf(() => true));

    const revoked = await store.markRevoked(await store.idsBy('template', 'template-2'), { revokedAt: new Date(now), revocationId: 'rv' });
    expect(revoked.sort()).toEqual(idsOf((r) => r.template === 'template-2'));
    await store.markFailed(recs[0]!.id, 'x');
    expect(await store.idsBy('template', 'template-2')).toEqual([]);
    // The keys really are spread over nodes (so the run above did cross them).
    const sizes = await Promise.all(redis.client.nodes('master').map((n) => n.dbsize()));
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
