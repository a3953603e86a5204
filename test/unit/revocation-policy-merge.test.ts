import { coversSession, mergeEntries, type RevocationEntry, type SessionFacts } from '../../src/revoke/revocation-policy';

const NOW = new Date('2026-11-24T10:00:00Z');
const session = (sessionId: string, issuedAt: string, expiresAt = '2026-11-24T11:00:00Z'): RevocationEntry => ({ kind: 'session', sessionId, issuedAt, expiresAt });
const dev = (value: string, before: string, expiresAt = '2026-11-24T11:00:00Z'): RevocationEntry => ({ kind: 'developer', value, before, expiresAt });
const all = (before: string, expiresAt = '2026-11-24T11:00:00Z'): RevocationEntry => ({ kind: 'all', before, expiresAt });

describe('mergeEntries', () => {
  it.each<[string, RevocationEntry[], RevocationEntry[], RevocationEntry[]]>([
    ['same session id appears once, with the later issue and expiry times',
      [session('AAAAAAAAAAAA', '2026-11-24T09:00:00Z', '2026-11-24T10:30:00Z')],
      [session('AAAAAAAAAAAA', '2026-11-24T09:00:01Z', '2026-11-24T10:20:00Z')],
      [session('AAAAAAAAAAAA', '2026-11-24T09:00:01Z', '2026-11-24T10:30:00Z')]],
    ['same kind+value keeps the latest before and the latest expiresAt',
      [dev('alice', '2026-11-24T09:50:00Z', '2026-11-24T10:50:00Z')],
      [dev('alice', '2026-11-24T09:40:00Z', '2026-11-24T11:40:00Z')],
      [dev('alice', '2026-11-24T09:50:00Z', '2026-11-24T11:40:00Z')]],
    ['same value under another kind is a different entry',
      [dev('x', '2026-11-24T09:50:00Z')],
      [{ kind: 'project', value: 'x', before: '2026-11-24T09:50:00Z', expiresAt: '2026-11-24T11:00:00Z' }],
      [dev('x', '2026-11-24T09:50:00Z'), { kind: 'project', value: 'x', before: '2026-11-24T09:50:00Z', expiresAt: '2026-11-24T11:00:00Z' }]],
    ['two all entries become one with the later times',
      [all('2026-11-24T09:00:00Z', '2026-11-24T12:00:00Z')],
      [all('2026-11-24T09:30:00Z', '2026-11-24T10:30:00Z')],
      [all('2026-11-24T09:30:00Z', '2026-11-24T12:00:00Z')]],
    ['an all absorbs a group entry with an earlier or equal before, keeping its later expiry',
      [dev('alice', '2026-11-24T09:00:00Z', '2026-11-24T12:00:00Z'), dev('bob', '2026-11-24T09:30:00Z')],
      [all('2026-11-24T09:30:00Z', '2026-11-24T10:30:00Z')],
      [all('2026-11-24T09:30:00Z', '2026-11-24T12:00:00Z')]],
    ['an all does not absorb a group entry with a later before',
      [dev('alice', '2026-11-24T09:30:00.001Z')],
      [all('2026-11-24T09:30:00Z')],
      [all('2026-11-24T09:30:00Z'), dev('alice', '2026-11-24T09:30:00.001Z')]],
    ['an all does not absorb single sessions (their AWS issue time may be later than ours)',
      [session('AAAAAAAAAAAA', '2026-11-24T09:00:00Z')],
      [all('2026-11-24T09:30:00Z')],
      [all('2026-11-24T09:30:00Z'), session('AAAAAAAAAAAA', '2026-11-24T09:00:00Z')]],
    ['entries expiring at or before now are dropped; later ones stay',
      [session('AAAAAAAAAAAA', '2026-11-24T09:00:00Z', '2026-11-24T10:00:00Z'), dev('alice', '2026-11-24T09:00:00Z', '2026-11-24T09:59:59Z')],
      [session('BBBBBBBBBBBB', '2026-11-24T09:00:00Z', '2026-11-24T10:00:00.001Z'), all('2026-11-24T09:00:00Z', '2026-11-24T10:00:00Z')],
      [session('BBBBBBBBBBBB', '2026-11-24T09:00:00Z', '2026-11-24T10:00:00.001Z')]],
    ['an expired all absorbs nothing',
      [dev('alice', '2026-11-24T09:00:00Z')],
      [all('2026-11-24T09:30:00Z', '2026-11-24T09:45:00Z')],
      [dev('alice', '2026-11-24T09:00:00Z')]],
  ])('%s', (_name, existing, added, expected) => {
    expect(mergeEntries(existing, added, NOW)).toEqual(expected);
  });

  it('orders deterministically: all, developer, project, template by value, then sessions by issue time and id', () => {
    const entries: RevocationEntry[] = [
      session('ZZZZZZZZZZZZ', '2026-11-24T09:00:00Z'),
      { kind: 'template', value: 't', before: '2026-11-24T09:00:00Z', expiresAt: '2026-11-24T11:00:00Z' },
      session('BBBBBBBBBBBB', '2026-11-24T09:10:00Z'),
      dev('bob', '2026-11-24T09:59:00Z'),
      session('AAAAAAAAAAAA', '2026-11-24T09:10:00Z'),
      { kind: 'project', value: 'p', before: '2026-11-24T09:59:00Z', expiresAt: '2026-11-24T11:00:00Z' },
      dev('alice', '2026-11-24T09:59:00Z'),
      all('2026-11-24T08:00:00Z'),
    ];
    const merged = mergeEntries(entries, [], NOW);
    const label = (e: RevocationEntry) => (e.kind === 'session' ? e.sessionId : e.kind === 'all' ? 'all' : `${e.kind}:${e.value}`);
    expect(merged.map(label)).toEqual(['all', 'developer:alice', 'developer:bob', 'project:p', 'template:t', 'ZZZZZZZZZZZZ', 'AAAAAAAAAAAA', 'BBBBBBBBBBBB']);
    expect(mergeEntries([], [...entries].reverse(), NOW)).toEqual(merged);
  });

  it('does not alias its inputs', () => {
    const input = [dev('alice', '2026-11-24T09:00:00Z')];
    const merged = mergeEntries(input, [], NOW);
    (merged[0] as { value: string }).value = 'mallory';
    expect(input[0]).toEqual(dev('alice', '2026-11-24T09:00:00Z'));
  });

  it.each(['2026-11-24T09:00:00', 'yesterday', '2026-11-24'])('rejects the zoneless or non-ISO time %j', (time) => {
    expect(() => mergeEntries([dev('alice', time)], [], NOW)).toThrow(/ISO 8601 with a zone/);
  });
});

describe('coversSession', () => {
  const s = (over: Partial<SessionFacts> = {}): SessionFacts => ({
    id: 'AAAAAAAAAAAA', developer: 'alice', project: 'backend-api', template: 's3-read-prefix', issuedAt: new Date('2026-11-24T09:00:04Z'), ...over,
  });
  it.each<[string, RevocationEntry[], SessionFacts, boolean]>([
    ['its session id', [session('AAAAAAAAAAAA', '2026-11-24T09:00:00Z')], s(), true],
    ['another session id', [session('BBBBBBBBBBBB', '2026-11-24T09:00:00Z')], s(), false],
    ['its developer, issued before', [dev('alice', '2026-11-24T09:00:05Z')], s(), true],
    ['its developer, issued at the cut-off', [dev('alice', '2026-11-24T09:00:04Z')], s(), false],
    ['its developer, before rounds up to the next second', [dev('alice', '2026-11-24T09:00:04.001Z')], s(), true],
    ['another developer', [dev('bob', '2026-11-24T09:00:05Z')], s(), false],
    ['its project', [{ kind: 'project', value: 'backend-api', before: '2026-11-24T09:01:00Z', expiresAt: '2026-11-24T11:00:00Z' }], s(), true],
    ['its template', [{ kind: 'template', value: 's3-read-prefix', before: '2026-11-24T09:01:00Z', expiresAt: '2026-11-24T11:00:00Z' }], s(), true],
    ['a template named like its project', [{ kind: 'template', value: 'backend-api', before: '2026-11-24T09:01:00Z', expiresAt: '2026-11-24T11:00:00Z' }], s(), false],
    ['all, issued before', [all('2026-11-24T09:00:04.5Z')], s(), true],
    ['all, issued after', [all('2026-11-24T09:00:03Z')], s(), false],
    ['no entries', [], s(), false],
  ])('%s -> %s', (_name, entries, facts, expected) => {
    expect(coversSession(entries, facts)).toBe(expected);
  });
});
