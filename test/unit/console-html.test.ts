import { escapeHtml, html } from '../../src/console/html';
import * as pages from '../../src/console/pages';
import type { ConsoleSession } from '../../src/console/console-store';
import type { SessionRecord } from '../../src/storage/session-store';
import type { ApprovalRecord } from '../../src/approvals/approval-store';
import type { RevocationRecord } from '../../src/storage/kill-switch-store';

/** Payloads for every HTML context the pages use: text, quoted attributes, URLs, <pre>, <script> breakouts. */
const XSS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '</pre><script>alert(1)</script>',
  '</textarea><iframe src=javascript:alert(1)>',
  '`${alert(1)}`',
  '&lt;script&gt;already-escaped&lt;/script&gt;',
  'javascript:alert(1)',
  '<a href="x" data-x=\'y\'>',
  '\u003cscript\u003e',
];

describe('escapeHtml', () => {
  it.each(XSS)('leaves no markup character of %j', (payload) => {
    const out = escapeHtml(payload);
    expect(out).not.toMatch(/[<>"'`]/);
    // Decoding the five entities gives the text back: escaping loses nothing.
    const back = out.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&amp;/g, '&');
    expect(back).toBe(payload);
  });
  it('escapes interpolations but not the template, and joins arrays', () => {
    expect(html`<b title="${'"x'}">${['<i>', html`<i>ok</i>`]}</b>`.toString()).toBe('<b title="&quot;x">&lt;i&gt;<i>ok</i></b>');
  });
});

const session: ConsoleSession = {
  identity: { issuer: 'corp', iss: 'http://i', subject: 's', developer: 'op@example.com', developerClaim: 'op@example.com', namespace: '', owner: 's', groups: ['secops'], accessType: 'AI' },
  csrf: 'csrf-token',
  expiresAt: '2030-01-01T00:00:00.000Z',
};

function record(p: string): SessionRecord {
  return {
    id: 'AAAAAAAAAAAA', state: 'live', issuer: p, subject: p, owner: p, developer: p, developerClaim: p, project: p, accessType: p, template: p, roleArn: p,
    roleSessionName: p, sourceIdentity: p, parameters: { [p]: p, nested: [p] }, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z',
    accessKeyId: p, assumedRoleArn: p, failure: p, revocationId: p, revokedAt: '2026-01-01T00:30:00.000Z',
  };
}

/** Every page that shows agent-controlled data, filled with the payload in every field. */
function renderAll(p: string): string[] {
  const rec = record(p);
  const approval: ApprovalRecord = {
    approvalId: 'aAAAAAAAAAAAA', state: 'pending', requester: { issuer: p, subject: p, owner: p, developer: p, developerClaim: p, accessType: p }, template: p, roleArn: p,
    request: { template: p, parameters: { [p]: p } }, project: p, policy: { Statement: [{ Resource: p }] }, reason: p, approverGroups: [p], createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T01:00:00.000Z', decision: { outcome: 'denied', by: p, byClaim: p, issuer: p, reason: p, at: '2026-01-01T00:10:00.000Z' }, sessionId: 'AAAAAAAAAAAA',
  };
  const revocation: RevocationRecord = {
    revocationId: 'rAAAA', selector: { kind: 'developer', value: p }, reason: p, operator: p, createdAt: '2026-01-01T00:00:00.000Z', sessionsRevoked: 1, blockedUntil: '2099-01-01T00:00:00.000Z',
    roles: [{ roleArn: p, state: 'pending', error: p }],
  };
  const all: pages.Page[] = [
    pages.sessionsPage(session, { filter: { developer: p, project: p }, sessions: [rec], truncated: false }),
    pages.sessionPage(session, { rec: { ...rec, sessionEndsAt: '2026-01-01T02:00:00.000Z' }, tags: { [p]: p }, policy: { Resource: p } }),
    pages.sessionPage(session, { rec: { ...rec, delivery: 'gateway' } as SessionRecord, tags: {}, policyError: p, calls: [{ action: p }] }),
    pages.revokeForm(session, { kind: 'developer', value: p, reason: p }, p),
    pages.confirmPage(session, { kind: 'developer', value: p, reason: p, sessions: 2, roles: [p] }),
    pages.revocationPage(session, revocation, Date.parse('2026-06-01T00:00:00Z')),
    pages.revocationsPage(session, [revocation], Date.parse('2026-06-01T00:00:00Z')),
    pages.approvalsPage(session, [approval]),
    pages.approvalPage(session, approval, { ok: false, why: p }),
    pages.approvalPage(session, { ...approval, decision: undefined }, { ok: true }),
    pages.refusalPage(p, p),
    pages.errorPage(400, p, p),
    pages.signInPage([p], p),
  ];
  return all.map((page) => pages.layout({ ...page, title: p, session: { ...session, identity: { ...session.identity, developerClaim: p, issuer: p } } }));
}

describe('console pages render agent-controlled fields escaped', () => {
  it.each(XSS)('%j never appears as markup', (payload) => {
    for (const out of renderAll(payload)) {
      // The payload's markup characters never survive: only its escaped form appears.
      if (/[<>"'`]/.test(payload)) expect(out).not.toContain(payload);
      expect(out).toContain(escapeHtml(payload).slice(0, 12));
      // Our own markup only: one script element (the console's file), no event handler, no javascript: URL.
      expect(out.match(/<script/g)).toHaveLength(1);
      // Attribute values are quoted with " and cannot hold one, so with them blanked no tag may carry a handler.
      expect(out.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]+\son\w+=/i);
      expect(out).not.toMatch(/<(img|svg|iframe)\b/i);
      expect(out).not.toMatch(/(href|src)="javascript:/i);
    }
  });
});
