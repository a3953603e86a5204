/**
 * Debian's AWS CLI v2 (2.9) and boto3 (1.26), and the AWS SDK for JavaScript, on each delivery: credential_process
 * (the CLI's private cache, on by default), the service's container endpoint, and `sts-vend exec`. Each asserts
 * one vend and one AssumeRole for all its calls, bounded service traffic, and that once the session is revoked
 * with the AWS-side Deny held back (IAM failing), botocore's next call fails (the service alone stops it), and
 * the JavaScript SDK's default chain fails once its minute-long credential runs out.
 * Skipped with a message when /usr/bin/aws or boto3 is missing, except in CI, where .ci/run installs them.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECKPOINT_REUSE_MS } from '../../src/cli/container-proxy';
import { CHECKPOINT_SECONDS } from '../../src/client/reported-expiration';
import { CLIENTS, DELIVERIES, runScenario, type Client, type Delivery, type ScenarioResult } from '../helpers/real-client-scenarios';
import { bundleCli, countingListen, describeWithRealClients } from '../helpers/real-clients';
import { startStack, type TestStack } from '../helpers/stack';

// Real processes: the AWS CLI starts in about half a second, and its loop makes a dozen of them.
jest.setTimeout(300_000);

/** Seconds the JS loop moves its SDK's clock after each call once revoked (see JS_LOOP). */
const JS_CLOCK_STEP = 15;
/** Calls per client: the AWS CLI is one process per call, so fewer. */
const CALLS: Record<Client, number> = { 'aws-cli': 10, boto3: 30, 'js-sdk': 30 };

let stack: TestStack;
let service: Awaited<ReturnType<typeof countingListen>>;
let cli: string[];
let dir: string;

describeWithRealClients('real clients on every delivery', () => {
  beforeAll(async () => {
    stack = await startStack({ configure: (raw) => (raw.killSwitch = { marginSeconds: 0 }) });
    service = await countingListen(stack.app);
    dir = mkdtempSync(path.join(os.tmpdir(), 'sts-vend-real-'));
    cli = await bundleCli(dir);
  });
  afterAll(async () => {
    await service?.close();
    await stack?.stop();
  });

  const cases = DELIVERIES.flatMap((d) => CLIENTS.map((c) => [c, d] as [Client, Delivery]));
  it.each(cases)('%s on %s: one vend and one AssumeRole for all its calls; revoked, it stops (botocore at its next call)', async (client, delivery) => {
    const r: ScenarioResult = await runScenario({ stack, service, cli, dir }, client, delivery, CALLS[client], { clockStepSeconds: JS_CLOCK_STEP });
    const summary = { client, delivery, calls: r.calls, vends: r.vends, assumeRoles: r.assumeRoles, serviceHits: r.serviceHits, byKind: r.byKind };
    console.info(JSON.stringify(summary));

    expect({ vends: r.vends, assumeRoles: r.assumeRoles }).toEqual({ vends: 1, assumeRoles: 1 });
    // Each call costs at most one cheap checkpoint (two per AWS CLI invocation: it loads the credential, then
    // refreshes it before its call); exec's endpoint asks at most once a second.
    const perCall = client === 'aws-cli' && delivery !== 'exec' ? 2 : 1;
    expect(r.serviceHits).toBeLessThanOrEqual(perCall * r.calls + 2);
    expect(r.byKind.vend + r.byKind.refresh + r.byKind.checkpoint).toBe(r.serviceHits);

    // Layer 2 was held back (IAM failing: 202, pending), so only the service's checkpoint can have stopped it.
    expect(r.revokeStatus).toBe(202);
    expect(r.refused.event).toBe('refused');
    const refusedByService = stack.logs.filter((l) => l.event === 'refresh' && l.outcome === 'refused' && l.developer === r.developer).map((l) => l.code);
    expect(refusedByService).toContain('SessionRevoked');
    // Blocked too: a credential_process run whose session was refused vends anew, and that vend is refused.
    expect(stack.logs.filter((l) => l.event === 'vend' && l.outcome === 'refused' && l.developer === r.developer).every((l) => l.code === 'blocked')).toBe(true);
    // botocore reports the service's code; the JS default chain only that no provider had credentials.
    if (client === 'aws-cli') expect(r.stderr).toMatch(/SessionRevoked|blocked/);
    else if (client === 'boto3') expect(r.refused.message).toMatch(/SessionRevoked|blocked/);
    else expect(r.refused.message).toMatch(/SessionRevoked|Could not load credentials from any providers/);
    expect(`${r.refused.message ?? ''} ${r.stderr}`).not.toMatch(/AccessDenied/);
    // exec's endpoint may serve its last checkpoint for up to CHECKPOINT_REUSE_MS more.
    const grace = delivery === 'exec' ? CHECKPOINT_REUSE_MS / 1000 : 0;
    const lateOk = r.okAfterRevoke.filter((l) => l.start! > r.revokedAt + grace);
    if (client === 'js-sdk') {
      // The JS default chain refreshes in the background and fails a call only once the credential it holds
      // has expired: within CHECKPOINT_SECONDS of its clock (stepped JS_CLOCK_STEP seconds a call here).
      expect(lateOk.length).toBeLessThanOrEqual(Math.ceil(CHECKPOINT_SECONDS / JS_CLOCK_STEP) + 1);
    } else {
      // botocore: the next call fails; nothing that started after the revocation succeeded.
      expect(lateOk).toEqual([]);
    }
    if (delivery === 'exec') expect(r.sessionStates).toEqual(['revoked']);
  });
});
