import { CONSOLE_CSP } from '../../src/console/routes';
import { ConsoleClient, startConsoleStack, type ConsoleStack } from '../helpers/console';
import { startStack } from '../helpers/stack';

let s: ConsoleStack;
beforeAll(async () => {
  s = await startConsoleStack();
});
afterAll(async () => {
  await s?.stop();
});

const signedIn = async (email = 'olivia@example.com', groups = ['secops']) => {
  const c = new ConsoleClient(s.url);
  const res = await c.signIn(email, groups);
  return { c, res };
};

describe('sign-in', () => {
  it('signs an operator in with a Strict, HttpOnly, Secure cookie scoped to /console, keeping no token in Redis', async () => {
    const { c, res } = await signedIn();
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie().find((l) => l.startsWith('sv_console='))!;
    expect(set).toMatch(/; Path=\/console;/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict']) expect(set).toContain(attr);
    const page = await c.fetch('/console');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('olivia@example.com');
    // Redis holds the identity under the cookie's hash: neither the cookie nor any JWT.
    const keys = await s.stack.deps.redis.keys(`${s.stack.config.redis.keyPrefix}{o:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const v = (await s.stack.deps.redis.get(k))!;
      expect(v).not.toContain(c.cookies.get('sv_console')!);
      expect(v).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    }
  });

  it('shows a non-operator a refusal and gives no session', async () => {
    const { c, res } = await signedIn('mallory@example.com', ['backend']);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('not an operator');
    expect(c.cookies.has('sv_console')).toBe(false);
    const page = await c.fetch('/console');
    expect(page.status).toBe(401);
    expect(await page.text()).not.toContain('Live sessions');
  });

  it('refuses a callback whose state this browser did not start (login CSRF), and a state used twice', async () => {
    const victim = new ConsoleClient(s.url);
    const attacker = new ConsoleClient(s.url);
    const login = await attacker.fetch('/console/login?issuer=corp');
    const authorize = new URL(login.headers.get('location')!);
    const form = new URLSearchParams(authorize.searchParams);
    form.set('email', 'attacker@example.com');
    form.set('groups', 'secops');
    const granted = await fetch(authorize.origin + authorize.pathname, { method: 'POST', body: form, redirect: 'manual' });
    const callback = granted.headers.get('location')!;
    const res = await victim.fetch(callback);
    expect(res.status).toBe(400);
    expect(victim.cookies.has('sv_console')).toBe(false);
    // The attacker's own browser may use it once; the state is then gone.
    expect((await attacker.fetch(callback)).status).toBe(200);
    attacker.cookies.set('sv_console_signin', new URL(callback).searchParams.get('state')!);
    expect((await attacker.fetch(callback)).status).toBe(400);
  });

  it('refuses a code issued to another client id (the API\'s audience)', async () => {
    // The dev issuer mints for the client id it is given: sign in as a client the console is not.
    const c = new ConsoleClient(s.url);
    const login = await c.fetch('/console/login?issuer=corp');
    const authorize = new URL(login.headers.get('location')!);
    const form = new URLSearchParams(authorize.searchParams);
    form.set('client_id', 'sts-vend');
    form.set('email', 'olivia@example.com');
    form.set('groups', 'secops');
    const granted = await fetch(authorize.origin + authorize.pathname, { method: 'POST', body: form, redirect: 'manual' });
    // The console exchanges as its own client id, which the code was not issued to.
    const res = await c.fetch(granted.headers.get('location')!);
    expect(res.status).toBe(401);
    expect(c.cookies.has('sv_console')).toBe(false);
  });
});

describe('headers', () => {
  it('serves every console page with its own CSP, no framing and no caching', async () => {
    const { c } = await signedIn();
    for (const p of ['/console', '/console/revoke', '/console/revocations', '/console/approvals', '/console/static/console.js']) {
      const res = await c.fetch(p);
      expect([p, res.status]).toEqual([p, 200]);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    const page = await (await c.fetch('/console')).text();
    // No inline script: the only script element loads the console's own file.
    expect(page.match(/<script[^>]*>/g)).toEqual(['<script src="/console/static/console.js" defer>']);
  });
});

describe('CSRF', () => {
  it('refuses a state change without the token, with a wrong one, with another session\'s, and cross-site', async () => {
    const { c } = await signedIn();
    const { c: other } = await signedIn('oscar@example.com');
    const token = await c.csrf();
    const otherToken = await other.csrf();
    expect(otherToken).not.toBe(token);
    const body = { kind: 'developer', value: 'alice@example.com', reason: 'csrf test' };
    for (const [why, fields, headers] of [
      ['no token', body, {}],
      ['wrong token', { ...body, _csrf: 'x'.repeat(43) }, {}],
      ["another session's token", { ...body, _csrf: otherToken }, {}],
      ['cross-site', { ...body, _csrf: token }, { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const res = await c.post('/console/revoke', fields, headers);
      expect([why, res.status]).toEqual([why, 403]);
    }
    expect((await s.stack.deps.killSwitch.listRevocations(null, 100)).revocations.filter((r) => r.reason === 'csrf test')).toHaveLength(0);
    const ok = await c.post('/console/revoke', { ...body, _csrf: token });
    expect(ok.status).toBe(303);
    expect((await s.stack.deps.killSwitch.listRevocations(null, 100)).revocations.filter((r) => r.reason === 'csrf test')).toHaveLength(1);
  });

  it('refuses a POST without a session at all', async () => {
    const res = await new ConsoleClient(s.url).post('/console/revoke', { kind: 'all', reason: 'x', _csrf: 'y' });
    expect(res.status).toBe(401);
  });
});

describe('a session cookie of another issuer', () => {
  it('stops working once its issuer is no longer offered for sign-in, and a logged-out cookie is dead', async () => {
    const { c } = await signedIn();
    expect((await c.fetch('/console')).status).toBe(200);
    // A second replica over the same Redis that offers only the CI issuer: the corp cookie is refused.
    const replica = await startStack({
      reuse: { redis: s.stack.redis, aws: s.stack.aws },
      configure: (raw) => {
        raw.console = { enabled: true, issuers: ['ci'] };
      },
    });
    try {
      const server = replica.app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const res = await fetch(`${url}/console`, { headers: { cookie: c.cookieHeader() } });
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('Live sessions');
      server.close();
      server.closeAllConnections();
    } finally {
      await replica.stop();
    }
    const token = await c.csrf();
    const cookie = c.cookieHeader();
    expect((await c.post('/console/logout', { _csrf: token })).status).toBe(303);
    expect((await fetch(`${s.url}/console`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('actions through the pages', () => {
  it('revokes one session from its row, audited as the signed-in operator', async () => {
    // Not alice: the CSRF test's revocation of alice holds new vends for its few-second settle window.
    const vend = await s.stack.vend({ template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } }, await s.stack.token({ email: 'rita@example.com' }));
    expect(vend.status).toBe(200);
    const id = (vend.body as { sessionId: string }).sessionId;
    const { c } = await signedIn('olivia@example.com');
    const list = await (await c.fetch('/console?developer=rita%40example.com')).text();
    expect(list).toContain(`data-session="${id}"`);
    const res = await c.post(`/console/sessions/${id}/revoke`, { _csrf: await c.csrf() });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/console\/revocations\/r/);
    expect((await s.stack.deps.sessions.get(id))?.state).toBe('revoked');
    expect(s.stack.logs).toContainEqual(expect.objectContaining({ event: 'revoke', outcome: 'applied', developer: 'olivia@example.com', selector: { kind: 'session', value: id } }));
    expect(s.stack.logs).toContainEqual(expect.objectContaining({ event: 'console.sign-in', outcome: 'allowed', developer: 'olivia@example.com' }));
    expect(s.stack.logs).toContainEqual(expect.objectContaining({ event: 'console.sign-in', outcome: 'refused', code: 'operator_only', developer: 'mallory@example.com' }));
  });

  it('never lets an operator approve their own request in the page', async () => {
    const token = await s.stack.corp.mint({ email: 'otto@example.com', groups: ['backend', 'secops'], project: 'backend-api' });
    const ask = await s.stack.vend({ template: 's3-write-approved', parameters: { bucket: 'backend-data', prefix: 'exports/' }, reason: 'mine' }, token);
    expect(ask.status).toBe(202);
    const id = (ask.body as { approvalId: string }).approvalId;
    const { c } = await signedIn('otto@example.com', ['backend', 'secops']);
    const page = await (await c.fetch(`/console/approvals/${id}`)).text();
    expect(page).toContain('id="cannot-decide"');
    expect(page).not.toContain('id="approve"');
    const res = await c.post(`/console/approvals/${id}/decide`, { _csrf: await c.csrf(), outcome: 'approved', reason: 'lgtm' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('self_approval');
  });

  it('answers a bad filter with a page naming the field, not a stack trace', async () => {
    const { c } = await signedIn();
    const res = await c.fetch('/console?developer=%3Cscript%3E');
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('invalid_developer');
    expect(body).not.toContain('<script>');
  });
});
