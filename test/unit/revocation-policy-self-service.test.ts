import fc from 'fast-check';
import { propertyParams } from '../helpers/property';
import { validatePolicy } from '../../src/policy/document';
import { buildRevocationPolicy, coversSession, SELF_SERVICE_SHARE, type RevocationEntry, type SessionFacts } from '../../src/revoke/revocation-policy';
import { instantOf, policyBefore } from '../../src/revoke/revocation-entries';

// A role's whole inline budget (src/revoke/apply-role-policy.ts), as on a role with no other inline policy.
const BUDGET = 10240;
const MARGIN = 5000;
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const opts = { budgetChars: BUDGET, marginMs: MARGIN };

let n = 0;
const sid = (): string => `S${(++n).toString(36).padStart(11, '0')}`;
/** A session its owner ended: issued at `at`, expiring an hour later. */
const ended = (developer: string, at: number): RevocationEntry => ({ kind: 'session', sessionId: sid(), issuedAt: iso(at), expiresAt: iso(at + 3600_000), endedBy: developer });
const facts = (over: Partial<SessionFacts> & { issuedAt: Date }): SessionFacts => ({ id: 'innocent0000', developer: 'alice@example.com', project: 'p', template: 't', ...over });
const selfSize = (entries: RevocationEntry[]): number => {
  const self = entries.filter((e) => (e.kind === 'session' && e.endedBy) || (e.kind !== 'session' && e.kind !== 'all' && e.self));
  return buildRevocationPolicy(self, { budgetChars: Number.MAX_SAFE_INTEGER, marginMs: MARGIN }).size;
};

describe('self-service entries: a developer ending their own sessions never denies anyone else', () => {
  it('the budget attack: 700 vend+end cycles fold into the attacker\u2019s own cut-off, not a role-wide one', () => {
    const mallory = Array.from({ length: 700 }, (_, i) => ended('mallory@example.com', T0 + i * 1000));
    const built = buildRevocationPolicy(mallory, opts);

    expect(built.size).toBeLessThanOrEqual(BUDGET * SELF_SERVICE_SHARE);
    expect(validatePolicy(built.json, 'identity').ok).toBe(true);
    expect(built.entries.some((e) => e.kind === 'all')).toBe(false);
    expect(built.compacted).toEqual([]);
    expect(built.selfFolded).toHaveLength(700);
    // Every ended session is still denied, with AWS's clock up to the margin ahead of ours...
    for (const e of mallory) {
      if (e.kind !== 'session') continue;
      for (const skew of [0, MARGIN]) {
        expect(coversSession(built.entries, facts({ id: e.sessionId, developer: 'mallory@example.com', issuedAt: new Date(instantOf(e.issuedAt) + skew) }))).toBe(true);
      }
    }
    // ...and the innocent developer's live session, issued in the middle of the attack, is not.
    expect(coversSession(built.entries, facts({ issuedAt: new Date(T0 + 350_000) }))).toBe(false);
    expect(coversSession(built.entries, facts({ issuedAt: new Date(T0 - 1) }))).toBe(false);
  });

  it('folds the busiest developer first, leaving a light user\u2019s ended sessions as they are', () => {
    const light = [ended('bob@example.com', T0), ended('bob@example.com', T0 + 1000)];
    const heavy = Array.from({ length: 400 }, (_, i) => ended('mallory@example.com', T0 + i * 1000));
    const built = buildRevocationPolicy([...light, ...heavy], opts);
    expect(built.selfFolded).toHaveLength(400);
    // Bob's other sessions (not ended) are untouched: only his two ended ones are denied, by id.
    expect(coversSession(built.entries, facts({ developer: 'bob@example.com', issuedAt: new Date(T0 + 500) }))).toBe(false);
    for (const e of light) expect(built.entries).toContainEqual(e);
  });

  it('many developers over the share: their cut-offs that expire first are left out, never folded role-wide', () => {
    const entries = Array.from({ length: 120 }, (_, d) => Array.from({ length: 5 }, (_, i) => ended(`dev${d}@example.com`, T0 + d * 60_000 + i * 1000))).flat();
    const operator: RevocationEntry = { kind: 'developer', value: 'eve@example.com', before: iso(T0), expiresAt: iso(T0 + 3600_000) };
    const built = buildRevocationPolicy([operator, ...entries], opts);

    expect(built.size).toBeLessThanOrEqual(BUDGET);
    expect(selfSize(built.entries)).toBeLessThanOrEqual(BUDGET * SELF_SERVICE_SHARE);
    expect(built.entries.some((e) => e.kind === 'all')).toBe(false);
    expect(built.selfDropped.length).toBeGreaterThan(0);
    // The operator's entry is never given up.
    expect(built.entries).toContainEqual(operator);
    expect(coversSession(built.entries, facts({ developer: 'eve@example.com', issuedAt: new Date(T0 - 1000) }))).toBe(true);
    // The ones left out are those that would have expired first.
    const droppedLatest = Math.max(...built.selfDropped.map((e) => instantOf(e.expiresAt)));
    const keptSelf = built.entries.filter((e) => e.kind === 'developer' && e.self);
    expect(keptSelf.length).toBeGreaterThan(0);
    for (const e of keptSelf) expect(instantOf(e.expiresAt)).toBeGreaterThanOrEqual(droppedLatest);
  });

  it('operator pressure folds only operator entries; a later self cut-off of a revoked developer does not ride along', () => {
    // An operator revoked mallory early; she then ends sessions late. Operator session entries overflow the budget.
    const operatorMallory: RevocationEntry = { kind: 'developer', value: 'mallory@example.com', before: iso(T0), expiresAt: iso(T0 + 7200_000) };
    const operatorSessions = Array.from({ length: 900 }, (_, i): RevocationEntry => ({ kind: 'session', sessionId: sid(), issuedAt: iso(T0 - 900_000 + i * 1000), expiresAt: iso(T0 + 3600_000) }));
    const lateSelf = Array.from({ length: 300 }, (_, i) => ended('mallory@example.com', T0 + 1800_000 + i * 1000));
    const built = buildRevocationPolicy([operatorMallory, ...operatorSessions, ...lateSelf], opts);

    expect(built.size).toBeLessThanOrEqual(BUDGET);
    const all = built.entries.find((e) => e.kind === 'all');
    expect(all).toBeDefined();
    expect(built.compacted.length).toBeGreaterThan(0);
    // The role-wide cut-off never reaches past what operators revoked (the last operator session + margin).
    const lastOperator = Math.max(...operatorSessions.map((e) => instantOf(e.kind === 'session' ? e.issuedAt : e.before))) + MARGIN + 1000;
    expect(policyBefore(all!.kind === 'all' ? all!.before : '')).toBeLessThanOrEqual(lastOperator);
    expect(coversSession(built.entries, facts({ issuedAt: new Date(T0 + 1800_000) }))).toBe(false);
  });

  describe('property: whatever the mix, an innocent is denied only by what operators revoked', () => {
    const developer = fc.constantFrom('a@x.com', 'b@x.com', 'c@x.com', 'd@x.com', 'mallory@x.com');
    const offset = fc.integer({ min: 0, max: 3_600_000 });
    const entry = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(developer, offset).map(([d, t]) => ended(d, T0 + t)) },
      { weight: 1, arbitrary: offset.map((t): RevocationEntry => ({ kind: 'session', sessionId: sid(), issuedAt: iso(T0 + t), expiresAt: iso(T0 + t + 3600_000) })) },
      { weight: 1, arbitrary: fc.tuple(developer, offset).map(([d, t]): RevocationEntry => ({ kind: 'developer', value: d, before: iso(T0 + t), expiresAt: iso(T0 + t + 3600_000) })) },
    );

    it('fits the budget, keeps self-service within its share, and never role-folds past operator entries', () => {
      fc.assert(
        fc.property(fc.array(entry, { minLength: 1, maxLength: 900, size: 'max' }), fc.integer({ min: 2000, max: BUDGET }), (entries, budget) => {
          const built = buildRevocationPolicy(entries, { budgetChars: budget, marginMs: MARGIN });
          if (built.size > budget) return false;
          if (selfSize(built.entries) > Math.floor(budget * SELF_SERVICE_SHARE)) return false;
          const operatorCutoffs = entries
            .filter((e) => !(e.kind === 'session' && e.endedBy))
            .map((e) => (e.kind === 'session' ? instantOf(e.issuedAt) + MARGIN + 1000 : e.kind === 'all' ? policyBefore(e.before) : policyBefore(e.before)));
          const all = built.entries.find((e) => e.kind === 'all');
          if (all && all.kind === 'all' && policyBefore(all.before) > Math.max(...operatorCutoffs)) return false;
          // A developer with no entry at all, issued any time, is denied only through `all`.
          const innocent = facts({ developer: 'zed@x.com', issuedAt: new Date(T0 + 1_800_000) });
          return !coversSession(built.entries, innocent) || (all !== undefined && all.kind === 'all' && T0 + 1_800_000 < policyBefore(all.before));
        }),
        propertyParams('self-service never widens a revocation', { numRuns: 60 }),
      );
    });
  });
});
