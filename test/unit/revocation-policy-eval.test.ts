/**
 * The built revocation policy evaluated by the emulator's policy engine next to a role policy that allows the
 * call: shows the Deny statements hit exactly the sessions they should, as AWS would decide.
 */
import { evaluateRequest, type Decision } from '../../src/dev/local-aws/policy-eval';
import { validatePolicy, type PolicyDocument } from '../../src/policy/document';
import { buildRevocationPolicy, coversSession, type RevocationEntry, type SessionFacts } from '../../src/revoke/revocation-policy';

const ROLE_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::backend-data/*' }],
};
const LATER = '2026-11-24T12:00:00Z';
const OPTS = { budgetChars: 10240, marginMs: 5000 };

const alice = (id: string, issuedAt: string): SessionFacts => ({ id, developer: 'alice@example.com', project: 'backend-api', template: 's3-read-prefix', issuedAt: new Date(issuedAt) });
const bob = (id: string, issuedAt: string): SessionFacts => ({ id, developer: 'bob@example.com', project: 'data-pipeline', template: 's3-write-prefix', issuedAt: new Date(issuedAt) });

/** What the emulator decides for an S3 read by this session with the revocation policy attached to the role. */
function decide(entries: RevocationEntry[], s: SessionFacts): Decision {
  const built = buildRevocationPolicy(entries, OPTS);
  const identity = [ROLE_POLICY];
  if (built.json) {
    const checked = validatePolicy(built.json, 'identity');
    if (!checked.ok) throw new Error(checked.errors.join('; '));
    identity.push(checked.policy);
  }
  return evaluateRequest(
    {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::backend-data/reports/2026/q3.csv',
      context: {
        'aws:PrincipalTag/agent-session': s.id,
        'aws:PrincipalTag/developer': s.developer,
        'aws:PrincipalTag/project': s.project,
        'aws:PrincipalTag/template': s.template,
        'aws:PrincipalTag/AccessType': 'AI',
        'aws:TokenIssueTime': s.issuedAt.toISOString(),
      },
    },
    { identity },
  );
}

const revokeSession = (id: string, issuedAt = '2026-11-24T10:00:00Z'): RevocationEntry => ({ kind: 'session', sessionId: id, issuedAt, expiresAt: LATER });
const revokeGroup = (kind: 'developer' | 'project' | 'template', value: string, before: string): RevocationEntry => ({ kind, value, before, expiresAt: LATER });
const revokeAll = (before: string): RevocationEntry => ({ kind: 'all', before, expiresAt: LATER });

describe('revocation policy under the emulator policy engine', () => {
  it.each<[string, RevocationEntry[], SessionFacts, Decision]>([
    ['no revocation: the role allows the call', [], alice('AAAAAAAAAAAA', '2026-11-24T10:00:00Z'), 'Allow'],
    ['revoked session id', [revokeSession('AAAAAAAAAAAA')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:00Z'), 'ExplicitDeny'],
    ['same developer, another session id', [revokeSession('AAAAAAAAAAAA')], alice('BBBBBBBBBBBB', '2026-11-24T10:00:00Z'), 'Allow'],
    ['revoked id among many', [revokeSession('AAAAAAAAAAAA'), revokeSession('CCCCCCCCCCCC'), revokeSession('DDDDDDDDDDDD')], bob('CCCCCCCCCCCC', '2026-11-24T10:00:00Z'), 'ExplicitDeny'],
    ['session id differing only in case', [revokeSession('AAAAAAAAAAAA')], alice('aAAAAAAAAAAA', '2026-11-24T10:00:00Z'), 'Allow'],
    ['developer, issued before the cut-off', [revokeGroup('developer', 'alice@example.com', '2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:04.999Z'), 'ExplicitDeny'],
    ['developer, issued after the cut-off', [revokeGroup('developer', 'alice@example.com', '2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:05.001Z'), 'Allow'],
    ['developer, issued at the cut-off (DateLessThan is strict)', [revokeGroup('developer', 'alice@example.com', '2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:05Z'), 'Allow'],
    ['developer cut-off rounded up still denies a session issued in the same second', [revokeGroup('developer', 'alice@example.com', '2026-11-24T10:00:04.2Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:04.1Z'), 'ExplicitDeny'],
    ['another developer, issued before the cut-off', [revokeGroup('developer', 'alice@example.com', '2026-11-24T10:00:05Z')], bob('BBBBBBBBBBBB', '2026-11-24T10:00:00Z'), 'Allow'],
    ['project, issued before', [revokeGroup('project', 'backend-api', '2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:00Z'), 'ExplicitDeny'],
    ['project, other project', [revokeGroup('project', 'backend-api', '2026-11-24T10:00:05Z')], bob('BBBBBBBBBBBB', '2026-11-24T10:00:00Z'), 'Allow'],
    ['template, issued before', [revokeGroup('template', 's3-write-prefix', '2026-11-24T10:00:05Z')], bob('BBBBBBBBBBBB', '2026-11-24T10:00:00Z'), 'ExplicitDeny'],
    ['template, issued after', [revokeGroup('template', 's3-write-prefix', '2026-11-24T10:00:05Z')], bob('BBBBBBBBBBBB', '2026-11-24T10:00:06Z'), 'Allow'],
    ['all, any tags, issued before', [revokeAll('2026-11-24T10:00:05Z')], bob('BBBBBBBBBBBB', '2026-11-24T10:00:04Z'), 'ExplicitDeny'],
    ['all, issued before, other tags', [revokeAll('2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T09:00:00Z'), 'ExplicitDeny'],
    ['all, issued after', [revokeAll('2026-11-24T10:00:05Z')], alice('AAAAAAAAAAAA', '2026-11-24T10:00:05Z'), 'Allow'],
  ])('%s -> %s', (_name, entries, session, expected) => {
    expect(decide(entries, session)).toBe(expected);
    // The oracle the other tests rely on agrees with the engine.
    expect(coversSession(entries, session)).toBe(expected === 'ExplicitDeny');
  });

  it('a compacted policy still denies every revoked session and spares sessions issued after the cut-off', () => {
    const ids = Array.from({ length: 120 }, (_, i) => `R${i.toString(36).padStart(11, '0')}`);
    const issuedAt = (i: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, i, 500)).toISOString();
    const entries = ids.map((id, i) => revokeSession(id, issuedAt(i)));
    const built = buildRevocationPolicy(entries, { budgetChars: 1200, marginMs: 5000 });
    expect(built.compacted.length).toBeGreaterThan(0);
    for (const [i, id] of ids.entries()) {
      expect([id, decide(built.entries, alice(id, issuedAt(i)))]).toEqual([id, 'ExplicitDeny']);
    }
    const cutoff = (built.entries[0] as { before: string }).before;
    expect(decide(built.entries, bob('UNREVOKED000', cutoff))).toBe('Allow');
  });
});
