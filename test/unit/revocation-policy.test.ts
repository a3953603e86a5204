import { statementsOf, validatePolicy } from '../../src/policy/document';
import { buildRevocationPolicy, type RevocationEntry } from '../../src/revoke/revocation-policy';

const MARGIN = 5000;
const BIG = { budgetChars: 10240, marginMs: MARGIN };
const HOUR_LATER = '2026-11-24T12:00:00Z';
const id = (i: number) => `S${i.toString(36).padStart(11, '0')}`;
const session = (i: number, issuedAt: string): RevocationEntry => ({ kind: 'session', sessionId: id(i), issuedAt, expiresAt: HOUR_LATER });
const group = (kind: 'developer' | 'project' | 'template', value: string, before: string): RevocationEntry => ({ kind, value, before, expiresAt: HOUR_LATER });
/** `n` sessions issued one second apart from 10:00:00Z. */
const sessions = (n: number) => Array.from({ length: n }, (_, i) => session(i, new Date(Date.UTC(2026, 10, 24, 10, 0, i)).toISOString()));

describe('buildRevocationPolicy: statements', () => {
  it('has no document when there is no entry', () => {
    expect(buildRevocationPolicy([], BIG)).toEqual({ document: null, json: null, size: 0, entries: [], compacted: [], selfFolded: [], selfDropped: [] });
  });

  it('writes one Deny per kind in the documented shape', () => {
    const built = buildRevocationPolicy(
      [
        session(1, '2026-11-24T10:00:00Z'),
        session(2, '2026-11-24T10:00:01Z'),
        group('developer', 'alice@example.com', '2026-11-24T10:00:05Z'),
        group('project', 'backend-api', '2026-11-24T10:00:05Z'),
        group('template', 's3-read-prefix', '2026-11-24T10:00:05Z'),
        { kind: 'all', before: '2026-11-24T09:00:00Z', expiresAt: HOUR_LATER },
      ],
      BIG,
    );
    const before = { DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T10:00:05Z' } };
    expect(built.document).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RevokeAll', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T09:00:00Z' } } },
        { Sid: 'RevokeDeveloper1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/developer': 'alice@example.com' }, ...before } },
        { Sid: 'RevokeProject1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/project': 'backend-api' }, ...before } },
        { Sid: 'RevokeTemplate1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/template': 's3-read-prefix' }, ...before } },
        { Sid: 'RevokeSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/agent-session': [id(1), id(2)] } } },
      ],
    });
    expect(built.json).toBe(JSON.stringify(built.document));
    expect(built.size).toBe(built.json?.length);
    expect(built.compacted).toEqual([]);
    expect(validatePolicy(built.json, 'identity')).toEqual({ ok: true, policy: built.document });
  });

  it.each<[string, string]>([
    ['2026-11-24T10:00:04Z', '2026-11-24T10:00:04Z'],
    ['2026-11-24T10:00:04.000Z', '2026-11-24T10:00:04Z'],
    ['2026-11-24T10:00:04.001Z', '2026-11-24T10:00:05Z'],
    ['2026-11-24T10:00:04.999Z', '2026-11-24T10:00:05Z'],
    ['2026-11-24T23:59:59.5Z', '2026-11-25T00:00:00Z'],
    ['2026-11-24T12:00:04.2+02:00', '2026-11-24T10:00:05Z'],
  ])('before %s is written as %s (UTC, rounded up to a whole second)', (before, written) => {
    const [statement] = statementsOf(buildRevocationPolicy([group('developer', 'alice', before)], BIG).document ?? { Statement: [] });
    expect(statement?.Condition?.DateLessThan).toEqual({ 'aws:TokenIssueTime': written });
  });

  it('shares a statement between values whose cut-offs round to the same second, in cut-off order', () => {
    const built = buildRevocationPolicy(
      [
        group('developer', 'carol', '2026-11-24T10:00:09Z'),
        group('developer', 'bob', '2026-11-24T10:00:04.2Z'),
        group('developer', 'alice', '2026-11-24T10:00:05Z'),
      ],
      BIG,
    );
    const conditions = statementsOf(built.document ?? { Statement: [] }).map((s) => [s.Sid, s.Condition]);
    expect(conditions).toEqual([
      ['RevokeDeveloper1', { StringEquals: { 'aws:PrincipalTag/developer': ['alice', 'bob'] }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T10:00:05Z' } }],
      ['RevokeDeveloper2', { StringEquals: { 'aws:PrincipalTag/developer': 'carol' }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T10:00:09Z' } }],
    ]);
  });

  it('escapes "$" so a value is never read as a policy variable', () => {
    const built = buildRevocationPolicy([group('project', '${aws:username}', '2026-11-24T10:00:05Z')], BIG);
    expect(built.json).toContain('"aws:PrincipalTag/project":"${$}{aws:username}"');
  });

  it('builds the same JSON whatever the input order', () => {
    const entries = [...sessions(20), group('developer', 'alice', '2026-11-24T10:00:05Z'), group('project', 'p', '2026-11-24T10:00:05Z')];
    expect(buildRevocationPolicy([...entries].reverse(), BIG).json).toBe(buildRevocationPolicy(entries, BIG).json);
  });

  it('costs 15 characters per revoked session id, so 500 fit beside a 600-character role policy', () => {
    const two = buildRevocationPolicy(sessions(2), BIG);
    const three = buildRevocationPolicy(sessions(3), BIG);
    const many = buildRevocationPolicy(sessions(500), { budgetChars: 10240 - 600, marginMs: MARGIN });
    expect(three.size - two.size).toBe(15);
    expect(many.size).toBe(two.size + 498 * 15);
    expect(many.size).toBeLessThanOrEqual(10240 - 600);
    expect(many.compacted).toEqual([]);
    expect(many.entries).toHaveLength(500);
    expect(validatePolicy(many.json, 'identity').ok).toBe(true);
  });
});
