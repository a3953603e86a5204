import { KillSwitchStore, type RevocationRecord } from '../../src/storage/kill-switch-store';
import type { RevocationEntry } from '../../src/revoke/revocation-entries';
import { SessionStore, type SessionRecord } from '../../src/storage/session-store';
import { describeWithOwnRedis, uniquePrefix, useTestRedisCluster } from '../helpers/redis';

// Redis Cluster rejects any command or script whose keys span slots (CROSSSLOT): every kill-switch operation runs
// here against three primaries to show the key layout avoids it.
const T0 = Date.parse('2030-01-01T00:00:00Z');
const ROLES = ['a', 'b', 'c', 'd', 'e'].map((n) => `arn:aws:iam::111122223333:role/role-${n}`);

describeWithOwnRedis('kill-switch store on a Redis Cluster', () => {
  const redis = useTestRedisCluster();

  it('records, checks, lists, lifts and does role work without crossing slots', async () => {
    const prefix = uniquePrefix();
    const now = (): Date => new Date(T0);
    const store = new KillSwitchStore(redis.client, { keyPrefix: prefix, now });
    const sessions = new SessionStore(redis.client, { keyPrefix: prefix, graceSeconds: 60, now });
    const session: SessionRecord = {
      id: 'C00000000001', state: 'pending', issuer: 'corp', subject: 'alice', owner: 'alice', developer: 'alice', developerClaim: 'alice', project: 'p1', accessType: 'AI', template: 't1',
      roleArn: ROLES[0]!, roleSessionName: 'alice.C0000000', sourceIdentity: 'alice', parameters: {}, createdAt: new Date(T0 - 1000).toISOString(),
      expiresAt: new Date(T0 + 900_000).toISOString(),
    };
    await sessions.createPending(session);

    const recs: RevocationRecord[] = [];
    for (let i = 0; i < 6; i++) {
      const rec: RevocationRecord = {
        revocationId: `rCLUSTER0000${i}`, selector: { kind: 'developer', value: `dev${i}` }, reason: 'cluster', operator: 'sec', createdAt: new Date(T0 + i).toISOString(),
        sessionsRevoked: 1, blockedUntil: new Date(T0 + 60_000).toISOString(), roles: ROLES.map((roleArn) => ({ roleArn, state: 'pending' })),
      };
      const entry: RevocationEntry = { kind: 'developer', value: `dev${i}`, before: new Date(T0).toISOString(), expiresAt: new Date(T0 + 3_600_000).toISOString() };
      await store.recordRevocation(rec, { revokedBefore: new Date(T0), blockUntil: new Date(T0 + 60_000), entriesByRole: new Map(ROLES.map((r) => [r, [entry]])) });
      recs.push(rec);
    }
    await store.recordRevocation(
      { ...recs[0]!, revocationId: 'rCLUSTERALICE', selector: { kind: 'developer', value: 'alice' }, roles: [] },
      { revokedBefore: new Date(T0), entriesByRole: new Map() },
    );

    expect((await store.blockFor({ developer: 'dev3', project: 'p', template: 't' }))?.revocationId).toBe('rCLUSTER00003');
    expect(await store.checkSession({ ...session, createdAt: new Date(session.createdAt) })).toEqual({ verdict: 'revoked' });
    const page1 = await store.listRevocations(null, 4);
    const page2 = await store.listRevocations(page1.cursor, 4);
    expect([...page1.revocations, ...page2.revocations]).toHaveLength(7);
    expect((await store.liftBlock('rCLUSTER00003'))?.blockedUntil).toBe(new Date(T0).toISOString());
    expect(await store.blockFor({ developer: 'dev3', project: 'p', template: 't' })).toBeNull();

    expect((await store.dueRoles(new Date(T0), 10)).sort()).toEqual(ROLES);
    for (const role of ROLES) {
      const read = await store.roleEntries(role);
      expect(read.entries).toHaveLength(6);
      expect(await store.withLock(role, 5000, () => store.replaceRoleEntries(role, { read: read.entries, entries: read.entries.slice(1), version: read.version }))).toBe(false);
      await store.setRoleState(role, { roleArn: role, state: 'applied' }, read.version);
      await store.unschedule(role);
    }
    expect((await store.getRevocation('rCLUSTER00005'))?.roles.every((r) => r.state === 'applied')).toBe(true);
    expect(await store.pendingRoleCount()).toBe(0);
    expect(await store.holdLeadership('me', 5000)).toBe(true);
    await store.releaseLeadership('me');
    await store.pruneKillSwitch(new Date(T0 + 7_200_000), 3600);
  }, 30_000);
});
