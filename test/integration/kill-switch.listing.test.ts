import { expectContract } from '../helpers/contract';
import { AGENT_S3, appliedTo, call, fastKillSwitch, READ, revoke, rolesInScope, TABLE, tokens, vendOk } from '../helpers/kill-switch';
import { roleArn } from '../helpers/local-aws';
import { startStack, type TestStack } from '../helpers/stack';

// The operator's read routes: which sessions are live (to decide what to revoke) and what was revoked.
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ configure: fastKillSwitch });
});
afterAll(async () => stack?.stop());

describe('operator listings', () => {
  const ids = (res: { body: { sessions: Array<{ id: string }> } }): string[] => res.body.sessions.map((x) => x.id).sort();

  it('filters sessions by developer, project, template, role and state, and pages with a cursor', async () => {
    const s = stack;
    const [alice, bob, carol] = [await tokens.alice(s), await tokens.bob(s), await tokens.carol(s)];
    const a1 = await vendOk(s, READ, alice);
    const a2 = await vendOk(s, TABLE('orders'), alice);
    const b1 = await vendOk(s, READ, bob);
    const c1 = await vendOk(s, TABLE('events'), carol);
    const list = async (query: string) => {
      const res = await call(s, 'get', `/v1/sessions${query}`);
      expect(res.status).toBe(200);
      expectContract(res, 'GET', '/v1/sessions');
      return res;
    };

    expect(ids(await list(''))).toEqual([a1, a2, b1, c1].map((v) => v.sessionId).sort());
    expect(ids(await list('?developer=alice@example.com'))).toEqual([a1.sessionId, a2.sessionId].sort());
    expect(ids(await list('?project=data-pipeline'))).toEqual([c1.sessionId]);
    expect(ids(await list('?template=dynamodb-read-table'))).toEqual([a2.sessionId, c1.sessionId].sort());
    expect(ids(await list(`?role=${encodeURIComponent(AGENT_S3)}`))).toEqual([a1.sessionId, b1.sessionId].sort());
    expect(ids(await list('?state=live&developer=bob@example.com'))).toEqual([b1.sessionId]);
    expect(ids(await list('?state=pending'))).toEqual([]);
    const page = await list('?developer=alice@example.com');
    expect(page.body.sessions[0]).not.toHaveProperty('secretAccessKey');

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const res = await list(`?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.body.sessions.length).toBeLessThanOrEqual(1);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual([a1, a2, b1, c1].map((v) => v.sessionId).sort());

    expect((await revoke(s, { sessionId: b1.sessionId, reason: 'cleanup' })).status).toBe(200);
    expect(ids(await list(''))).not.toContain(b1.sessionId);
  });

  it('lists revocations newest first, one page at a time', async () => {
    const s = stack;
    const first = await revoke(s, { developer: 'nobody@example.com', reason: 'first' });
    const second = await revoke(s, { project: 'no-such-project', reason: 'second' });
    expect([first.status, second.status]).toEqual([200, 200]);
    // No session found, yet the Deny goes to every role a template could have issued one on for the scope.
    expect(first.body).toMatchObject({ sessionsRevoked: 0, roles: appliedTo(rolesInScope(s, { developer: 'nobody@example.com' })) });
    // A project no template names: only templates that allow every project (ci-deploy) could issue for it.
    expect(rolesInScope(s, { project: 'no-such-project' })).toEqual([roleArn('ci-deploy')]);
    expect(second.body).toMatchObject({ sessionsRevoked: 0, roles: appliedTo([roleArn('ci-deploy')]) });

    const page1 = await call(s, 'get', '/v1/revocations?limit=1');
    expectContract(page1, 'GET', '/v1/revocations');
    expect(page1.body.revocations.map((r: { reason: string }) => r.reason)).toEqual(['second']);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await call(s, 'get', `/v1/revocations?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expectContract(page2, 'GET', '/v1/revocations');
    expect(page2.body.revocations.map((r: { reason: string }) => r.reason)).toEqual(['first']);
    expect(page2.body.revocations[0]).toEqual(first.body);
  });
});
