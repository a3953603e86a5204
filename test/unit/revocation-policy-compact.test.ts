import { validatePolicy } from '../../src/policy/document';
import { buildRevocationPolicy, coversSession, type RevocationEntry, type SessionFacts } from '../../src/revoke/revocation-policy';

const MARGIN = 5000;
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
/** How the policy writes an instant: UTC, whole seconds. */
const whole = (ms: number) => iso(ms).replace('.000Z', 'Z');
const id = (i: number) => `S${i.toString(36).padStart(11, '0')}`;
/** Session i issued at T0 + i seconds + 250 ms (not on a whole second, to exercise rounding), expiring 1 h later. */
const issued = (i: number) => T0 + i * 1000 + 250;
const sessionEntry = (i: number): RevocationEntry => ({ kind: 'session', sessionId: id(i), issuedAt: iso(issued(i)), expiresAt: iso(issued(i) + 3600_000) });
const facts = (over: Partial<SessionFacts> & { issuedAt: Date }): SessionFacts => ({ id: 'unrevoked000', developer: 'nobody', project: 'none', template: 'none', ...over });

/** Every session an entry list denies must still be denied by `after`, even when AWS's clock runs `MARGIN` ahead of ours. */
function expectStillCovered(before: RevocationEntry[], after: RevocationEntry[]) {
  for (const e of before) {
    if (e.kind === 'session') {
      for (const skew of [0, MARGIN]) {
        const s = facts({ id: e.sessionId, issuedAt: new Date(Date.parse(e.issuedAt) + skew) });
        expect({ session: e.sessionId, skew, covered: coversSession(after, s) }).toEqual({ session: e.sessionId, skew, covered: true });
      }
    } else if (e.kind !== 'all') {
      const s = facts({ [e.kind]: e.value, issuedAt: new Date(Date.parse(e.before) - 1) });
      expect({ entry: e, covered: coversSession(after, s) }).toEqual({ entry: e, covered: true });
    }
  }
}

describe('buildRevocationPolicy: compaction', () => {
  const entries = Array.from({ length: 300 }, (_, i) => sessionEntry(i));
  const full = buildRevocationPolicy(entries, { budgetChars: 100_000, marginMs: MARGIN });

  it.each([4000, 2000, 400])('fits %i characters by folding the oldest sessions into one cut-off, covering every one', (budget) => {
    const built = buildRevocationPolicy(entries, { budgetChars: budget, marginMs: MARGIN });
    expect(full.size).toBeGreaterThan(budget);
    expect(built.size).toBeLessThanOrEqual(budget);
    expect(built.size).toBe(built.json?.length);
    expect(validatePolicy(built.json, 'identity').ok).toBe(true);
    expectStillCovered(entries, built.entries);

    // The folded ones are exactly the oldest k sessions, and the cut-off is the next second after the last one + margin.
    const k = built.compacted.length;
    expect(k).toBeGreaterThan(0);
    expect(built.compacted).toEqual(entries.slice(0, k));
    const all = built.entries[0];
    expect(all).toEqual({ kind: 'all', before: whole(Math.floor((issued(k - 1) + MARGIN) / 1000) * 1000 + 1000), expiresAt: iso(issued(k - 1) + 3600_000) });
    expect(built.entries.slice(1)).toEqual(entries.slice(k));

    // Over-revocation is bounded: a session issued at the cut-off is not denied.
    expect(coversSession(built.entries, facts({ issuedAt: new Date(Date.parse(all?.kind === 'all' ? all.before : '')) }))).toBe(false);
    // Folding one fewer would not have fitted (the cut-off is as early as it can be).
    const fewerCut: RevocationEntry = { kind: 'all', before: iso(issued(k - 2) + MARGIN), expiresAt: all?.expiresAt ?? '' };
    const fewer = buildRevocationPolicy([fewerCut, ...entries.slice(k - 1)], { budgetChars: 100_000, marginMs: MARGIN });
    expect(fewer.size).toBeGreaterThan(budget);
  });

  it('a cut-off lands strictly after the last folded session, even on a whole second with no margin', () => {
    const onTheSecond = Array.from({ length: 100 }, (_, i): RevocationEntry => ({ kind: 'session', sessionId: id(i), issuedAt: iso(T0 + i * 1000), expiresAt: iso(T0 + 3600_000) }));
    const built = buildRevocationPolicy(onTheSecond, { budgetChars: 800, marginMs: 0 });
    const k = built.compacted.length;
    expect(k).toBeGreaterThan(0);
    expect(built.entries[0]).toMatchObject({ kind: 'all', before: whole(T0 + k * 1000) });
    // Another session issued at the same instant as each revoked one: denied by the cut-off exactly when folded.
    const folded = new Set(built.compacted.map((e) => (e.kind === 'session' ? e.sessionId : '')));
    for (const [i, e] of onTheSecond.entries()) {
      const sameInstant = coversSession(built.entries, facts({ issuedAt: new Date(T0 + i * 1000) }));
      expect([e, sameInstant]).toEqual([e, folded.has(id(i))]);
    }
  });

  it('folds group entries too when folding every session is not enough', () => {
    const groups: RevocationEntry[] = Array.from({ length: 40 }, (_, i) => ({
      kind: (['developer', 'project', 'template'] as const)[i % 3] as 'developer',
      value: `value-number-${i}`,
      before: iso(T0 + 600_000 + i * 60_000 + 400),
      expiresAt: iso(T0 + 4 * 3600_000 + i),
    }));
    const input = [...groups, ...entries.slice(0, 50)];
    const built = buildRevocationPolicy(input, { budgetChars: 1500, marginMs: MARGIN });
    expect(built.size).toBeLessThanOrEqual(1500);
    expect(built.entries.filter((e) => e.kind === 'session')).toEqual([]);
    const foldedGroups = built.compacted.filter((e) => e.kind !== 'session');
    expect(foldedGroups.length).toBeGreaterThan(0);
    expect(foldedGroups.length).toBeLessThan(groups.length);
    expectStillCovered(input, built.entries);
    // The cut-off is the latest folded group's (rounded up) and the entry lives as long as the longest-lived one.
    const latest = Math.max(...foldedGroups.map((e) => Date.parse((e as { before: string }).before)));
    expect(built.entries[0]).toEqual({ kind: 'all', before: whole(Math.ceil(latest / 1000) * 1000), expiresAt: iso(Math.max(...built.compacted.map((e) => Date.parse(e.expiresAt)))) });
    expect(built.compacted.length + built.entries.length - 1).toBe(input.length);
  });

  it('widens an existing all entry rather than adding a second one, folding what it already covers first', () => {
    const existing: RevocationEntry = { kind: 'all', before: iso(T0 + 100_000), expiresAt: iso(T0 + 10 * 3600_000) };
    const input = [existing, ...entries];
    const built = buildRevocationPolicy(input, { budgetChars: 3000, marginMs: MARGIN });
    expect(built.entries.filter((e) => e.kind === 'all')).toHaveLength(1);
    expect(Date.parse((built.entries[0] as { before: string }).before)).toBeGreaterThanOrEqual(T0 + 100_000);
    expect(built.entries[0]?.expiresAt).toBe(existing.expiresAt);
    expect(built.compacted.length).toBeGreaterThanOrEqual(95);
    expectStillCovered(input, built.entries);
  });

  it('when the budget holds only a lone cut-off, folds everything into it', () => {
    const input = [...entries.slice(0, 10), { kind: 'developer', value: 'alice', before: iso(T0 + 3600_000), expiresAt: iso(T0 + 7200_000) } as RevocationEntry];
    const built = buildRevocationPolicy(input, { budgetChars: 180, marginMs: MARGIN });
    expect(built.entries).toEqual([{ kind: 'all', before: whole(T0 + 3600_000), expiresAt: iso(T0 + 7200_000) }]);
    expect(built.size).toBeLessThanOrEqual(180);
    expect(built.compacted).toHaveLength(11);
    expectStillCovered(input, built.entries);
  });

  it('reports a size over budget, still covering everything, when not even a lone cut-off fits', () => {
    const built = buildRevocationPolicy(entries.slice(0, 3), { budgetChars: 10, marginMs: MARGIN });
    expect(built.size).toBeGreaterThan(10);
    expect(built.entries).toHaveLength(1);
    expectStillCovered(entries.slice(0, 3), built.entries);
  });
});
