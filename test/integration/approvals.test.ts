import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { revokeSessions } from '../../src/revoke/revoke-sessions';
import { vendCredentials } from '../../src/vend/vend-credentials';
import { expectContract } from '../helpers/contract';
import { startConsoleStack, type ConsoleStack } from '../helpers/console';

/** A local webhook receiver: every JSON body it was sent. */
async function startReceiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; stop(): Promise<void> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object), contentType: req.headers['content-type'] });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

let s: ConsoleStack;
let hook: Awaited<ReturnType<typeof startReceiver>>;
let offsetMs = 0;
beforeAll(async () => {
  hook = await startReceiver();
  s = await startConsoleStack({
    now: () => new Date(Date.now() + offsetMs),
    configure: (raw) => {
      raw.approvals = { webhookUrl: hook.url, maxPendingPerDeveloper: 10 };
    },
  });
});
afterAll(async () => {
  await s?.stop();
  await hook?.stop();
});

const WRITE = { template: 's3-write-approved', parameters: { bucket: 'backend-data', prefix: 'exports/' }, reason: 'nightly export job' };
const alice = (groups = ['backend']) => s.stack.corp.mint({ email: 'alice@example.com', groups, project: 'backend-api' }, { expiresInSeconds: 3600 });
const olivia = () => s.stack.corp.mint({ email: 'olivia@example.com', groups: ['secops'] }, { expiresInSeconds: 3600 });
const bob = () => s.stack.corp.mint({ email: 'bob@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 3600 });
const api = () => request(s.stack.app);

async function ask(token?: string): Promise<string> {
  const res = await api().post('/v1/vend').set('Authorization', `Bearer ${token ?? (await alice())}`).send(WRITE);
  expectContract(res, 'POST', '/v1/vend');
  expect(res.status).toBe(202);
  return (res.body as { approvalId: string }).approvalId;
}
const decide = async (id: string, verb: 'approve' | 'deny', token: string, reason = 'looks right') => {
  const res = await api().post(`/v1/approvals/${id}/${verb}`).set('Authorization', `Bearer ${token}`).send({ reason });
  expectContract(res, 'POST', `/v1/approvals/:id/${verb}`);
  return res;
};
const collect = async (id: string, token: string) => {
  const res = await api().post(`/v1/approvals/${id}/collect`).set('Authorization', `Bearer ${token}`);
  expectContract(res, 'POST', '/v1/approvals/:id/collect');
  return res;
};

describe('a vend of a template that requires approval', () => {
  it('answers 202 with the request, issues and records nothing, audits it and tells the webhook', async () => {
    const res = await api().post('/v1/vend').set('Authorization', `Bearer ${await alice()}`).send(WRITE);
    expectContract(res, 'POST', '/v1/vend');
    expect(res.status).toBe(202);
    const body = res.body as Record<string, unknown> & { approvalId: string; policy: unknown };
    expect(body).toMatchObject({ state: 'pending', template: 's3-write-approved', reason: 'nightly export job', approverGroups: ['secops'], requester: { developer: 'alice@example.com' } });
    expect(body).not.toHaveProperty('credentials');
    expect(JSON.stringify(body.policy)).toContain('arn:aws:s3:::backend-data/exports/*');
    const sessions = await s.stack.deps.sessions.list({ developer: 'alice@example.com', template: 's3-write-approved' }, null, 100);
    expect(sessions.sessions).toHaveLength(0);
    expect(s.stack.logs.filter((l) => l.event === 'approval.request' && l.approvalId === body.approvalId)).toEqual([expect.objectContaining({ outcome: 'pending', audit: true })]);
    await waitFor(() => hook.bodies.some((b) => b.approvalId === body.approvalId));
    const sent = hook.bodies.find((b) => b.approvalId === body.approvalId)!;
    expect(sent.contentType).toBe('application/json');
    expect(sent.text).toEqual(expect.stringContaining('alice@example.com asks for template s3-write-approved'));
    expect(sent.text).toEqual(expect.stringContaining('"nightly export job"'));
  });

  it('refuses bad parameters before anything is recorded, like any vend', async () => {
    const res = await api().post('/v1/vend').set('Authorization', `Bearer ${await alice()}`).send({ ...WRITE, parameters: { bucket: 'backend-data', prefix: '../x' } });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_parameters']);
  });

  it('refuses a request from a blocked scope at once, before any approver sees it', async () => {
    const operator = await s.stack.deps.verifier.verify(await olivia());
    await revokeSessions(s.stack.deps, operator, { developer: 'bob@example.com', reason: 'test block', block: { durationSeconds: 600 } }, 'req-b');
    const res = await api().post('/v1/vend').set('Authorization', `Bearer ${await bob()}`).send(WRITE);
    expect([res.status, res.body.error.code]).toEqual([403, 'blocked']);
    expect(s.stack.logs.some((l) => l.event === 'approval.request' && l.developer === 'bob@example.com' && l.outcome === 'pending')).toBe(false);
  });

  it('is never issued by the vend path without an approval (fail closed)', async () => {
    const identity = await s.stack.deps.verifier.verify(await alice());
    await expect(vendCredentials(s.stack.deps, identity, WRITE, 'req-x')).rejects.toMatchObject({ code: 'approval_required' });
  });
});

describe('deciding and collecting', () => {
  it('lets an approver approve once, and the requester collect once with a fresh token', async () => {
    const id = await ask();
    const early = await collect(id, await alice());
    expect([early.status, early.body.error.code, early.headers['retry-after']]).toEqual([409, 'approval_pending', '2']);
    // Someone neither the requester nor an approver learns nothing.
    const stranger = await api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${await bob()}`);
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'approval_not_found']);
    expect((await decide(id, 'approve', await bob())).status).toBe(404);

    const ok = await decide(id, 'approve', await olivia(), 'export reviewed');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'approved', decision: { outcome: 'approved', by: 'olivia@example.com', reason: 'export reviewed' } });
    const again = await decide(id, 'approve', await olivia());
    expect([again.status, again.body.error.code]).toEqual([409, 'approval_approved']);

    // The approver cannot collect it: only the requester's identity can.
    expect((await collect(id, await olivia())).status).toBe(404);
    const got = await collect(id, await alice());
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ template: 's3-write-approved', tags: { template: 's3-write-approved', developer: 'alice@example.com' } });
    expect(got.body.credentials.accessKeyId).toMatch(/^ASIA/);
    const twice = await collect(id, await alice());
    expect([twice.status, twice.body.error.code]).toEqual([409, 'approval_collected']);
    const read = await api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${await alice()}`);
    expectContract(read, 'GET', '/v1/approvals/:id');
    expect(read.body).toMatchObject({ state: 'collected', sessionId: got.body.sessionId });
    const events = s.stack.logs.filter((l) => l.approvalId === id && l.audit).map((l) => `${String(l.event)}:${String(l.outcome)}`);
    expect(events).toEqual(expect.arrayContaining(['approval.request:pending', 'approval.approve:approved', 'approval.collect:allowed', 'vend:allowed']));
  });

  it('never lets the requester approve their own request, even as an approver', async () => {
    const token = await alice(['backend', 'secops']);
    const id = await ask(token);
    const res = await decide(id, 'approve', token);
    expect([res.status, res.body.error.code]).toEqual([403, 'self_approval']);
  });

  it('a denied request cannot be collected', async () => {
    const id = await ask();
    expect((await decide(id, 'deny', await olivia(), 'not this bucket')).body).toMatchObject({ state: 'denied' });
    const res = await collect(id, await alice());
    expect([res.status, res.body.error.code]).toEqual([409, 'approval_denied']);
  });

  it('two approvers at once: exactly one decision wins', async () => {
    const id = await ask();
    const [a, b] = await Promise.all([decide(id, 'approve', await olivia()), decide(id, 'deny', await s.stack.corp.mint({ email: 'oscar@example.com', groups: ['secops'] }))]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it('expires a request nobody decided', async () => {
    const id = await ask();
    offsetMs = 901_000;
    try {
      const read = await api().get(`/v1/approvals/${id}`).set('Authorization', `Bearer ${await olivia()}`);
      expect(read.body.state).toBe('expired');
      const res = await decide(id, 'approve', await olivia());
      expect([res.status, res.body.error.code]).toEqual([409, 'approval_expired']);
    } finally {
      offsetMs = 0;
    }
  });

  it('caps how many requests one developer has waiting, so approvers cannot be flooded', async () => {
    const dave = () => s.stack.corp.mint({ email: 'dave@example.com', groups: ['backend'], project: 'backend-api' }, { expiresInSeconds: 3600 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await ask(await dave()));
    const over = await api().post('/v1/vend').set('Authorization', `Bearer ${await dave()}`).send(WRITE);
    expectContract(over, 'POST', '/v1/vend');
    expect([over.status, over.body.error.code]).toEqual([429, 'too_many_approvals']);
    expect(hook.bodies.filter((b) => b.developer === 'dave@example.com')).toHaveLength(10);
    // A decision frees a place.
    await decide(ids[0]!, 'deny', await olivia(), 'too many');
    expect(await ask(await dave())).toMatch(/^a/);
  });

  it('lists what a caller made or may decide', async () => {
    const id = await ask();
    const mine = await api().get('/v1/approvals?state=pending').set('Authorization', `Bearer ${await alice()}`);
    expectContract(mine, 'GET', '/v1/approvals');
    expect(mine.body.approvals.map((a: { approvalId: string }) => a.approvalId)).toContain(id);
    const theirs = await api().get('/v1/approvals').set('Authorization', `Bearer ${await bob()}`);
    expect(theirs.body.approvals).toEqual([]);
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
