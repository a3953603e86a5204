import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { StsVendClient } from '../../src/client/sts-vend-client';
import { StsVendError } from '../../src/client/errors';
import { listen } from '../helpers/cli';
import { startStack, type TestStack } from '../helpers/stack';

const READ = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/' } };

let stack: TestStack;
let service: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  stack = await startStack();
  service = await listen(stack.app);
});
afterAll(async () => {
  await service?.close();
  await stack?.stop();
});

const failure = (p: Promise<unknown>): Promise<StsVendError> =>
  p.then(
    () => {
      throw new Error('expected a StsVendError');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(StsVendError);
      return e as StsVendError;
    },
  );

describe('StsVendClient against the service', () => {
  it('vends and answers the typed response', async () => {
    const client = new StsVendClient({ url: service.url, token: await stack.token() });
    const res = await client.vend(READ);
    expect(res.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(res.tags.developer).toBe('alice@example.com');
    expect(stack.aws.aws.admin.session(res.credentials.accessKeyId)?.tags['agent-session']).toBe(res.sessionId);
  });

  it('a token function is called for each request; a path prefix in the URL is kept', async () => {
    const calls: string[] = [];
    const client = new StsVendClient({ url: `${service.url}/`, token: async () => (calls.push('t'), stack.token()) });
    await client.vend(READ);
    await client.vend(READ);
    expect(calls).toHaveLength(2);
    const prefixed = new StsVendClient({ url: `${service.url}/prefix`, token: await stack.token() });
    expect((await failure(prefixed.vend(READ))).code).toBe('not_found');
  });

  it('surfaces the service error code, message and request id', async () => {
    const client = new StsVendClient({ url: service.url, token: await stack.token() });
    const err = await failure(client.vend({ template: 'no-such-template' }));
    expect(err).toMatchObject({ status: 404, code: 'unknown_template' });
    expect(err.requestId).toMatch(/.{8,}/);
    const invalid = await failure(client.vend({ ...READ, durationSeconds: 60 }));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request', message: 'body.durationSeconds: must be >= 900' });
  });

  it('a refused token is a 401 whose message does not repeat the token', async () => {
    const token = `${await stack.token()}x`;
    const err = await failure(new StsVendClient({ url: service.url, token }).vend(READ));
    expect(err.status).toBe(401);
    expect(err.code).toMatch(/^[a-z_]+$/);
    expect(`${err.message} ${err.stack}`).not.toContain(token);
  });

  it('without a token it fails before sending anything', async () => {
    await expect(new StsVendClient({ url: service.url }).vend(READ)).rejects.toMatchObject({ status: 0, code: 'missing_token' });
  });
});

describe('StsVendClient error shapes', () => {
  let server: http.Server;
  let url: string;
  const replies: Record<string, { status: number; body: string; headers?: Record<string, string> }> = {
    '/container': { status: 403, body: JSON.stringify({ Code: 'SessionRevoked', Message: 'the session was revoked' }) },
    '/html': { status: 502, body: '<html>bad gateway with secrets?</html>' },
    '/busy': { status: 503, body: JSON.stringify({ error: { code: 'store_unavailable', message: 'try later', requestId: 'req-12345678' } }), headers: { 'Retry-After': '7' } },
    '/not-json': { status: 200, body: 'ok' },
    '/wrong-shape': { status: 200, body: JSON.stringify({ AccessKeyId: 'A' }) },
  };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const r = replies[req.url ?? ''] ?? { status: 404, body: '' };
      res.writeHead(r.status, { 'Content-Type': 'application/json', 'X-Request-Id': 'hdr-request-id', ...r.headers });
      res.end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (): StsVendClient => new StsVendClient({ url, token: 't' });

  it('reads the container shape {Code, Message}', async () => {
    expect(await failure(client().credentials(`${url}/container`, 'tok'))).toMatchObject({ status: 403, code: 'SessionRevoked', message: 'the session was revoked', requestId: 'hdr-request-id' });
  });

  it('does not echo a body it does not understand', async () => {
    const err = await failure(client().credentials(`${url}/html`, 'tok'));
    expect(err).toMatchObject({ status: 502, code: 'http_502', message: 'the service answered HTTP 502' });
  });

  it('keeps the body request id and Retry-After', async () => {
    expect(await failure(client().credentials(`${url}/busy`, 'tok'))).toMatchObject({ status: 503, code: 'store_unavailable', requestId: 'req-12345678', retryAfter: 7 });
  });

  it('refuses a 200 that is not JSON or not the container shape', async () => {
    expect(await failure(client().credentials(`${url}/not-json`, 'tok'))).toMatchObject({ code: 'bad_response' });
    expect(await failure(client().credentials(`${url}/wrong-shape`, 'tok'))).toMatchObject({ code: 'bad_response' });
  });

  it('an unreachable service is status 0, code unreachable, naming only the origin', async () => {
    const err = await failure(new StsVendClient({ url: 'http://127.0.0.1:9/base', token: 'secret-token' }).vend(READ));
    expect(err).toMatchObject({ status: 0, code: 'unreachable' });
    expect(err.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:9 \(/);
    expect(err.message).not.toContain('secret-token');
  });
});

describe('StsVendClient delivery and operator calls', () => {
  it('vends with container delivery and reads the container URL with the raw token', async () => {
    const client = new StsVendClient({ url: service.url, token: await stack.token() });
    const res = await client.vend({ ...READ, delivery: 'container' });
    expect(res.container?.url).toBe(`${service.url}/v1/credentials/${res.sessionId}`);
    const c = await client.credentials(res.container!.url, res.container!.authorizationToken);
    expect(c).toMatchObject({ AccessKeyId: expect.stringMatching(/^ASIA/), Token: expect.any(String), Expiration: expect.stringMatching(/Z$/) });
    expect(await failure(client.credentials(res.container!.url, 'wrong'))).toMatchObject({ status: 401, code: 'InvalidToken' });
  });

  it('lists sessions, revokes one, lists revocations, and lets an owner end a session', async () => {
    const alice = new StsVendClient({ url: service.url, token: await stack.token() });
    const ops = new StsVendClient({ url: service.url, token: () => stack.token({ email: 'ops@example.com', groups: ['secops'] }) });
    const first = await alice.vend(READ);
    const second = await alice.vend(READ);

    const page = await ops.listSessions({ developer: 'alice@example.com', state: 'live', limit: 500 });
    expect(page.sessions.map((s) => s.id)).toEqual(expect.arrayContaining([first.sessionId, second.sessionId]));
    expect(JSON.stringify(page)).not.toContain(first.credentials.secretAccessKey);
    expect(await failure(alice.listSessions())).toMatchObject({ status: 403, code: 'operator_only' });

    const revoked = await ops.revoke({ sessionId: first.sessionId, reason: 'client test' });
    expect(revoked.revocation).toMatchObject({ selector: { kind: 'session', value: first.sessionId }, sessionsRevoked: 1, reason: 'client test' });
    expect(typeof revoked.pending).toBe('boolean');
    const list = await ops.listRevocations({ limit: 10 });
    expect(list.revocations.map((r) => r.revocationId)).toContain(revoked.revocation.revocationId);

    const ended = await alice.endSession(second.sessionId);
    expect(ended.revocation.selector).toEqual({ kind: 'session', value: second.sessionId });
    const record = await request(stack.app).get(`/v1/sessions/${second.sessionId}`).set('Authorization', `Bearer ${await stack.token()}`);
    expect(record.body.state).toBe('ended');
  });
});
