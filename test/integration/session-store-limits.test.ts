import { SessionStore } from '../../src/storage/session-store';
import { useTestRedis } from '../helpers/redis';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const DEV = 'alice@example.com';

const db = useTestRedis();

type Limits = { vendsPerMinute?: number; liveSessions?: number; ttlMs?: number };

/** A store with its own prefix and a clock the test moves; `vend` reserves and, when admitted, records the session. */
function setup(): { store: SessionStore; clock: { ms: number }; vend: (limits: Limits) => ReturnType<SessionStore['reserve']> } {
  const clock = { ms: T0 };
  const store = new SessionStore(db.client, { keyPrefix: db.prefix(), graceSeconds: 300, now: () => new Date(clock.ms) });
  let n = 0;
  const vend = async (limits: Limits): ReturnType<SessionStore['reserve']> => {
    const id = `R${String(++n).padStart(11, '0')}`;
    const expiresAt = new Date(clock.ms + (limits.ttlMs ?? 900_000));
    const outcome = await store.reserve({ developer: DEV, sessionId: id, expiresAt, vendsPerMinute: limits.vendsPerMinute ?? 0, liveSessions: limits.liveSessions ?? 0 });
    if (outcome.ok) {
      await store.createPending({
        id, state: 'pending', issuer: 'corp', subject: DEV, owner: DEV, developer: DEV, developerClaim: DEV, project: 'backend-api', accessType: 'AI', template: 's3-read-prefix',
        roleArn: 'arn:aws:iam::111122223333:role/agent-s3', roleSessionName: `alice.${id}`, sourceIdentity: DEV, parameters: {},
        createdAt: new Date(clock.ms).toISOString(), expiresAt: expiresAt.toISOString(),
      });
    }
    return outcome;
  };
  return { store, clock, vend };
}

describe('reserve: vends per minute', () => {
  it('allows N in any 60 s, then refuses with the seconds until the oldest leaves the window', async () => {
    const { clock, vend } = setup();
    for (let i = 0; i < 3; i++) {
      expect(await vend({ vendsPerMinute: 3 })).toEqual({ ok: true });
      clock.ms += 10_000;
    }
    // Oldest vend at T0, now T0 + 30 s: it leaves the window in 30 s.
    expect(await vend({ vendsPerMinute: 3 })).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 30 });
    clock.ms = T0 + 60_001;
    expect(await vend({ vendsPerMinute: 3 })).toEqual({ ok: true });
    expect(await vend({ vendsPerMinute: 3 })).toMatchObject({ ok: false, reason: 'rate' });
  });

  it('counts per developer', async () => {
    const { store } = setup();
    const one = { sessionId: 'X00000000001', expiresAt: new Date(T0 + 900_000), vendsPerMinute: 1, liveSessions: 0 };
    expect(await store.reserve({ ...one, developer: 'a' })).toEqual({ ok: true });
    expect(await store.reserve({ ...one, sessionId: 'X00000000002', developer: 'b' })).toEqual({ ok: true });
    expect(await store.reserve({ ...one, sessionId: 'X00000000003', developer: 'a' })).toMatchObject({ ok: false, reason: 'rate' });
  });
});

describe('reserve: live sessions per developer', () => {
  it('refuses at the cap until a session fails, is revoked or expires', async () => {
    const { store, clock, vend } = setup();
    expect(await vend({ liveSessions: 2, ttlMs: 600_000 })).toEqual({ ok: true });
    expect(await vend({ liveSessions: 2, ttlMs: 900_000 })).toEqual({ ok: true });
    clock.ms += 100_000;
    // The earliest slot frees when the first session expires, 500 s from now.
    expect(await vend({ liveSessions: 2 })).toEqual({ ok: false, reason: 'sessions', retryAfterSeconds: 500 });

    const [first, second] = (await store.idsBy('developer', DEV)).sort();
    await store.markFailed(first!, 'sts_throttled');
    expect(await vend({ liveSessions: 2 })).toEqual({ ok: true });
    expect(await vend({ liveSessions: 2 })).toMatchObject({ ok: false, reason: 'sessions' });

    await store.markRevoked([second!], { revokedAt: new Date(clock.ms), revocationId: 'rv' });
    expect(await vend({ liveSessions: 2 })).toEqual({ ok: true });
    expect(await vend({ liveSessions: 2 })).toMatchObject({ ok: false, reason: 'sessions' });

    clock.ms += 900_001; // every session so far has expired
    expect(await vend({ liveSessions: 2 })).toEqual({ ok: true });
    expect(await store.idsBy('developer', DEV)).toHaveLength(1);
  });

  it('a refusal for the cap does not use up the rate', async () => {
    const { store, vend } = setup();
    expect(await vend({ vendsPerMinute: 2, liveSessions: 1 })).toEqual({ ok: true });
    for (let i = 0; i < 5; i++) expect(await vend({ vendsPerMinute: 2, liveSessions: 1 })).toMatchObject({ reason: 'sessions' });
    const [id] = await store.idsBy('developer', DEV);
    await store.markFailed(id!, 'error');
    expect(await vend({ vendsPerMinute: 2, liveSessions: 1 })).toEqual({ ok: true });
  });

  it('is atomic: 50 concurrent reservations against a cap of 10 admit exactly 10', async () => {
    const { store, vend } = setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => vend({ liveSessions: 10 })));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.reason === 'sessions')).toHaveLength(40);
    expect(await store.idsBy('developer', DEV)).toHaveLength(10);
  });
});
