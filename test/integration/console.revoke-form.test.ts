import { ConsoleClient, startConsoleStack, type ConsoleStack } from '../helpers/console';

/** The console's revoke form becomes the API's RevokeRequest: each kind reaches the selector POST /v1/revoke would. */
let s: ConsoleStack;
beforeAll(async () => {
  s = await startConsoleStack();
});
afterAll(async () => s?.stop());

it.each([
  ['developer', 'alice@example.com', { kind: 'developer', value: 'alice@example.com' }],
  ['project', 'backend-api', { kind: 'project', value: 'backend-api' }],
  ['template', 's3-read-prefix', { kind: 'template', value: 's3-read-prefix' }],
  ['all', '', { kind: 'all' }],
])('kind %s (value %j) records the selector the API would', async (kind, value, selector) => {
  const c = new ConsoleClient(s.url);
  expect((await c.signIn('ops@example.com', ['secops'])).status).toBe(200);
  const reason = `form ${kind}`;
  const res = await c.post('/console/revoke', { kind, value, reason, blockSeconds: '60', _csrf: await c.csrf() });
  expect(res.status).toBe(303);
  const id = /\/console\/revocations\/(r[A-Za-z0-9]{12})$/.exec(res.headers.get('location') ?? '')?.[1];
  const rec = await s.stack.deps.killSwitch.getRevocation(id!);
  expect(rec).toMatchObject({ selector, reason, blockedUntil: expect.any(String) });
});

it('refuses a kind the form does not offer, naming the field', async () => {
  const c = new ConsoleClient(s.url);
  await c.signIn('ops@example.com', ['secops']);
  const res = await c.post('/console/revoke/confirm', { kind: 'session', value: 'x', reason: 'r', _csrf: await c.csrf() });
  expect(res.status).toBe(400);
  expect(await res.text()).toContain('kind: choose developer, project, template or everything');
});
