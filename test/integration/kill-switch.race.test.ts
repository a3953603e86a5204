import type request from 'supertest';
import { expectContract } from '../helpers/contract';
import { call, cutoffOf, decide, pause, READ, revoke, s3Read, tokens, vendOk, vendWhenSettled, waitFor, type Vended } from '../helpers/kill-switch';
import { startStack, type TestStack } from '../helpers/stack';

// Vends and a revocation of their developer in flight together. A vend checks blocks only after recording its
// pending session, and the revocation looks for sessions again after writing its block, so whatever the
// interleaving, credentials that leave the service either are denied in AWS or were issued after the cut-off.
const MARGIN = 2;
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ configure: (raw) => void (raw.killSwitch = { marginSeconds: MARGIN, reconcileIntervalSeconds: 1 }) });
});
afterAll(async () => stack?.stop());

const OBJECT = 'arn:aws:s3:::backend-data/reports/2026/q3.csv';
const refusal = (res: request.Response) => ({ status: res.status, code: res.body.error?.code });

describe('a vend in flight when its developer is revoked', () => {
  afterEach(() => stack.aws.aws.admin.clearFaults());

  it('is refused session_revoked, and what AWS issued for it is denied', async () => {
    const s = stack;
    const [dev, operator] = [await s.token({ email: 'slow@example.com' }), await tokens.operator(s)];
    // AWS answers every call late, so the vend sits between its pending record and its answer while the
    // revocation (whose Redis writes come before its IAM calls) runs.
    s.aws.aws.admin.setFaults({ latencyMs: 1500 });
    const inFlight = s.vend(READ, dev);
    const listed = await waitFor(
      'the pending session',
      () => call(s, 'get', '/v1/sessions?state=pending&developer=slow@example.com', operator),
      (res) => res.status === 200 && res.body.sessions.length === 1,
    );
    expectContract(listed, 'GET', '/v1/sessions');
    const id: string = listed.body.sessions[0].id;
    expect(listed.body.sessions[0]).toMatchObject({ state: 'pending', developer: 'slow@example.com' });
    // Its block check (one Redis read right after the pending record) is done by now; its AssumeRole is not.
    await pause(400);

    const rev = await revoke(s, { developer: 'slow@example.com', reason: 'revoked mid-vend' }, operator);
    expect(rev.status).toBe(200);
    expect(rev.body.sessionsRevoked).toBe(1);
    const answer = await inFlight;
    expect(refusal(answer)).toEqual({ status: 403, code: 'session_revoked' });
    expectContract(answer, 'POST', '/v1/vend');
    expect(answer.body.credentials).toBeUndefined();

    const record = await call(s, 'get', `/v1/sessions/${id}`, operator);
    expect(record.body).toMatchObject({ state: 'revoked', revocationId: rev.body.revocationId });
    const issued = s.aws.aws.admin.sessions().filter((v) => v.tags['agent-session'] === id);
    expect(issued).toHaveLength(1);
    expect(issued[0]!.issuedAt.getTime()).toBeLessThan(cutoffOf(rev.body.createdAt, MARGIN));
    expect(s.aws.aws.admin.authorize(issued[0]!.accessKeyId, 's3:GetObject', OBJECT)).toBe('ExplicitDeny');
  });
});

describe('vends racing a revocation of their developer', () => {
  it('never hand out credentials that work unless issued after the cut-off, nor a revoked session AWS allows', async () => {
    const s = stack;
    const operator = await tokens.operator(s);
    const bob = await tokens.bob(s);
    for (let round = 0; round < 3; round++) {
      const email = `racer${round}@example.com`;
      const dev = await s.token({ email });
      const early = await vendOk(s, READ, dev);
      // Vends start every 10 ms around the revocation (sent at 20 ms); once it answers, two more retry through the
      // settle window, so both outcomes occur whatever the interleaving.
      const revoking = pause(20).then(() => revoke(s, { developer: email, reason: `race ${round}` }, operator));
      const [rev, bobs, settled, ...answers] = await Promise.all([
        revoking,
        pause(30).then(() => s.vend(READ, bob)),
        revoking.then(() => Promise.all([0, 1].map(() => vendWhenSettled(s, READ, dev)))),
        ...Array.from({ length: 6 }, (_x, i) => pause(i * 10).then(() => s.vend(READ, dev))),
      ]);
      expect(rev.status).toBe(200);
      expect(bobs.status).toBe(200);
      const cutoff = cutoffOf(rev.body.createdAt, MARGIN);

      for (const res of answers.filter((r) => r.status !== 200)) {
        expect(['blocked', 'session_revoked']).toContain(refusal(res).code);
        expect(res.status).toBe(403);
        expectContract(res, 'POST', '/v1/vend');
      }
      const given: Vended[] = [early, ...settled.map((x) => x.vended), ...answers.filter((r) => r.status === 200).map((r) => r.body as Vended)];
      // What each answer's session is in the service (layer 1) and in AWS (layer 2), against its AWS issue time.
      const seen = await Promise.all(
        given.map(async (v) => {
          const issuedAt = s.aws.aws.admin.session(v.credentials.accessKeyId)!.issuedAt.getTime();
          const state = (await call(s, 'get', `/v1/sessions/${v.sessionId}`, operator)).body.state as string;
          return { id: v.sessionId, afterCutoff: issuedAt >= cutoff, state, aws: decide(s, v.credentials, 's3:GetObject', OBJECT) };
        }),
      );
      const expected = seen.map((x) =>
        x.afterCutoff ? { ...x, state: 'live', aws: 'Allow' } : { ...x, state: 'revoked', aws: 'ExplicitDeny' },
      );
      expect(seen).toEqual(expected);
      expect(seen.filter((x) => x.state === 'revoked' && x.aws === 'Allow')).toEqual([]);
      // Both outcomes occurred: the early session is denied, the settled ones (after the cut-off) work.
      expect(seen[0]).toMatchObject({ afterCutoff: false, aws: 'ExplicitDeny' });
      expect(seen.slice(1, 3).map((x) => x.aws)).toEqual(['Allow', 'Allow']);
      expect(await s3Read(s, settled[0]!.vended.credentials)).toBe('ok');
      expect(await s3Read(s, early.credentials)).toBe('AccessDenied');
    }
  }, 60_000);
});
