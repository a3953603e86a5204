/**
 * A session's recorded issue time is never earlier than AWS's `aws:TokenIssueTime` for it, however long STS
 * takes to answer: a revocation that folds the session into an issue-time cut-off (recorded issue time + the
 * skew margin) must still deny it. Measured against the emulator with STS answering 2.5 s late, more than the
 * 1 s margin these tests run with.
 */
import { coversSession } from '../../src/revoke/revocation-entries';
import { call, fastKillSwitch, READ, tokens, vendOk } from '../helpers/kill-switch';
import { startStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ configure: fastKillSwitch });
});
afterAll(async () => stack?.stop());

it('records the issue time after STS answered, so a fold at issue time + margin covers the session', async () => {
  const alice = await tokens.alice(stack);
  stack.aws.aws.admin.setFaults({ latencyMs: 2500 });
  let vended;
  try {
    vended = await vendOk(stack, READ, alice);
  } finally {
    stack.aws.aws.admin.clearFaults();
  }
  const record = (await call(stack, 'get', `/v1/sessions/${vended.sessionId}`)).body as { issuedAt: string; createdAt: string };
  const aws = stack.aws.aws.admin.sessions().find((s) => s.accessKeyId === vended.credentials.accessKeyId)!;
  expect(aws).toBeDefined();
  // The vend began before STS was asked; the record says when STS answered, 2.5 s later, which is no earlier
  // than the token's issue time (the emulator stamps it when the request arrives; AWS, some time in between).
  expect(Date.parse(record.issuedAt) - Date.parse(record.createdAt)).toBeGreaterThanOrEqual(2400);
  expect(Date.parse(record.issuedAt)).toBeGreaterThanOrEqual(aws.issuedAt.getTime());
  // The cut-off a fold would write for it (revocation-policy.ts: issue time + margin, the next whole second).
  const margin = stack.config.killSwitch.marginSeconds * 1000;
  const cutoff = Math.floor((Date.parse(record.issuedAt) + margin) / 1000) * 1000 + 1000;
  const all = [{ kind: 'all' as const, before: new Date(cutoff).toISOString(), expiresAt: new Date(cutoff + 3600_000).toISOString() }];
  expect(coversSession(all, { id: vended.sessionId, developer: 'alice@example.com', project: 'backend-api', template: 's3-read-prefix', issuedAt: aws.issuedAt })).toBe(true);
}, 30_000);
