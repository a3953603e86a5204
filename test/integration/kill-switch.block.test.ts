import { expectContract } from '../helpers/contract';
import { call, cutoffOf, fastKillSwitch, pause, READ, revoke, s3Read, TABLE, tokens, vendOk, vendWhenSettled } from '../helpers/kill-switch';
import { startStack, type TestStack } from '../helpers/stack';

// Blocks: the settle window every group revocation sets until its cut-off, and the longer block an operator asks for.
function withStack(marginSeconds: number): () => TestStack {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      configure: marginSeconds === 1 ? fastKillSwitch : (raw) => void (raw.killSwitch = { marginSeconds, reconcileIntervalSeconds: 1 }),
    });
  });
  afterAll(async () => stack?.stop());
  return () => stack;
}

const refusal = (res: { status: number; body: { error?: { code?: string } } }) => ({ status: res.status, code: res.body.error?.code });

describe('a group revocation under the default 5 s margin', () => {
  // Long enough that the window is certainly still open when the next request arrives on a loaded machine.
  const MARGIN = 5;
  const stack = withStack(MARGIN);

  it('refuses new vends in the revoked scope with code blocked and Retry-After until AWS would honour them', async () => {
    const s = stack();
    const [dave, bob] = [await s.token({ email: 'dave@example.com' }), await tokens.bob(s)];
    const res = await revoke(s, { developer: 'dave@example.com', reason: 'no block asked' });
    expect(res.status).toBe(200);
    expect(res.body.blockedUntil).toBeUndefined();

    const refused = await s.vend(READ, dave);
    expect(refusal(refused)).toEqual({ status: 403, code: 'blocked' });
    expectContract(refused, 'POST', '/v1/vend');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(MARGIN + 1);
    expect((await s.vend(READ, bob)).status).toBe(200);
    // A settle window is no operator block: there is nothing to lift.
    const lift = await call(s, 'delete', `/v1/revocations/${res.body.revocationId}/block`);
    expect(refusal(lift)).toEqual({ status: 409, code: 'no_block' });
    expectContract(lift, 'DELETE', '/v1/revocations/:id/block');
  });

  it('with a block, refuses their vends until lifted; the lift shrinks the block to the cut-off, not to nothing', async () => {
    const s = stack();
    const [alice, bob] = [await tokens.alice(s), await tokens.bob(s)];
    const before = await vendOk(s, READ, alice);
    const res = await revoke(s, { developer: 'alice@example.com', reason: 'investigating', block: { durationSeconds: 600 } });
    expect(res.status).toBe(200);
    expectContract(res, 'POST', '/v1/revoke');
    expect((Date.parse(res.body.blockedUntil) - Date.parse(res.body.createdAt)) / 1000).toBe(600);

    const refused = await s.vend(READ, alice);
    expect(refusal(refused)).toEqual({ status: 403, code: 'blocked' });
    expectContract(refused, 'POST', '/v1/vend');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(500);
    expect(refused.body.credentials).toBeUndefined();
    expect(refusal(await s.vend(TABLE('orders'), alice))).toEqual({ status: 403, code: 'blocked' });
    expect((await s.vend(READ, bob)).status).toBe(200);

    // Lifted at once, while the Deny's cut-off is still ahead: credentials issued before it would be denied in
    // AWS, so the block stays until then.
    const cutoff = cutoffOf(res.body.createdAt, MARGIN);
    const liftedAt = Date.now();
    const lifted = await call(s, 'delete', `/v1/revocations/${res.body.revocationId}/block`);
    expect(lifted.status).toBe(200);
    expectContract(lifted, 'DELETE', '/v1/revocations/:id/block');
    expect(cutoff).toBeGreaterThanOrEqual(liftedAt);
    expect(lifted.body.blockedUntil).toBe(new Date(cutoff).toISOString());
    expect((await call(s, 'get', `/v1/revocations/${res.body.revocationId}`)).body.blockedUntil).toBe(lifted.body.blockedUntil);

    const early = await s.vend(READ, alice);
    expect(refusal(early)).toEqual({ status: 403, code: 'blocked' });
    expectContract(early, 'POST', '/v1/vend');
    expect(Number(early.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(early.headers['retry-after'])).toBeLessThanOrEqual(MARGIN + 1);

    const { vended } = await vendWhenSettled(s, READ, alice);
    expect(s.aws.aws.admin.session(vended.credentials.accessKeyId)!.issuedAt.getTime()).toBeGreaterThanOrEqual(cutoff);
    expect(await s3Read(s, vended.credentials)).toBe('ok');
    expect(await s3Read(s, before.credentials)).toBe('AccessDenied');
  });
});

describe('lifting a block once the cut-off has passed', () => {
  const stack = withStack(1);

  it('removes the block: the lift instant becomes blockedUntil and the developer vends at once', async () => {
    const s = stack();
    const erin = await s.token({ email: 'erin@example.com' });
    const before = await vendOk(s, READ, erin);
    const res = await revoke(s, { developer: 'erin@example.com', reason: 'investigating', block: { durationSeconds: 600 } });
    expect(res.status).toBe(200);
    const cutoff = cutoffOf(res.body.createdAt, 1);
    await pause(Math.max(0, cutoff - Date.now() + 50));
    expect(refusal(await s.vend(READ, erin))).toEqual({ status: 403, code: 'blocked' });

    const liftedAt = Date.now();
    const lifted = await call(s, 'delete', `/v1/revocations/${res.body.revocationId}/block`);
    expect(lifted.status).toBe(200);
    expectContract(lifted, 'DELETE', '/v1/revocations/:id/block');
    const until = Date.parse(lifted.body.blockedUntil);
    expect(until).toBeGreaterThanOrEqual(Math.max(cutoff, liftedAt));
    expect(until).toBeLessThanOrEqual(Date.now());

    const after = await vendOk(s, READ, erin);
    expect(await s3Read(s, after.credentials)).toBe('ok');
    expect(await s3Read(s, before.credentials)).toBe('AccessDenied');
  });
});
