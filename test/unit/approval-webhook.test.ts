import type { ApprovalRecord } from '../../src/approvals/approval-store';
import { webhookPayload } from '../../src/approvals/webhook';

const rec = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  approvalId: 'aAAAAAAAAAAAA',
  state: 'pending',
  requester: { issuer: 'corp', subject: 's', owner: 's', developer: 'alice@example.com', developerClaim: 'alice@example.com', accessType: 'AI' },
  template: 's3-write-approved',
  roleArn: 'arn:aws:iam::111122223333:role/agent-s3',
  request: { template: 's3-write-approved', parameters: { bucket: 'b', prefix: 'p/' } },
  project: 'backend-api',
  policy: {},
  reason: 'nightly export',
  approverGroups: ['secops'],
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:15:00.000Z',
  ...over,
});

describe('the approval webhook body', () => {
  it('says who asks for what and why in a Slack-compatible text, with the fields for other receivers', () => {
    const body = webhookPayload(rec(), 'https://sts-vend.example.com');
    expect(body.text).toBe(
      'sts-vend: alice@example.com asks for template s3-write-approved on project backend-api: "nightly export". ' +
        'Approval aAAAAAAAAAAAA, expires 2026-01-01T00:15:00.000Z. https://sts-vend.example.com/console/approvals/aAAAAAAAAAAAA',
    );
    expect(body).toMatchObject({ event: 'approval.request', approvalId: 'aAAAAAAAAAAAA', parameters: { bucket: 'b', prefix: 'p/' }, approverGroups: ['secops'] });
  });

  it.each(['<!channel> approve now', '<https://evil.example|click here>', 'a & b > c'])('escapes Slack control sequences in the agent\'s text: %j', (reason) => {
    const text = String(webhookPayload(rec({ reason, requester: { ...rec().requester, developerClaim: reason } })).text);
    expect(text).not.toMatch(/[<>]/);
    expect(text).toContain(reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });
});
