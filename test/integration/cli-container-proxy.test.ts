import { fromHttp } from '@aws-sdk/credential-providers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHECKPOINT_REUSE_MS, startContainerProxy, type ContainerProxy } from '../../src/cli/container-proxy';
import { HeldSession, RENEW_BEFORE_MS, type HeldCredentials } from '../../src/client/held-session';
import { CHECKPOINT_SECONDS } from '../../src/client/reported-expiration';
import { StsVendClient } from '../../src/client/sts-vend-client';

/**
 * The loopback endpoint of `sts-vend exec` in front of a stand-in for the service's session URLs, so its rules
 * are pinned down whatever the service does (cli-exec.test.ts and real-clients.test.ts run it against the real
 * one): it serves the credential it holds after a checkpoint, asks at most once per CHECKPOINT_REUSE_MS, and
 * fetches the next credential only when the held one nears expiry. The clock is moved, never slept on.
 */
let upstream: http.Server;
let sessionUrl: string;
let answer: { status: number; body: unknown; headers?: Record<string, string> };
const next = { AccessKeyId: 'ASIANEXT0001', SecretAccessKey: 'next-secret', Token: 'next-token', Expiration: '2030-01-01T00:04:00Z', CredentialExpiration: '2030-01-01T00:15:00Z' };
const seen: Array<{ path: string; authorization?: string }> = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ path: new URL(req.url ?? '/', 'http://x').pathname, authorization: req.headers.authorization });
    const refresh = !req.url?.endsWith('/checkpoint');
    const ok = answer.status === 200;
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(ok ? (refresh ? next : { SessionId: 'AbCdEfGh1234', State: 'live', SessionExpiration: '2030-01-01T08:00:00Z' }) : answer.body));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  sessionUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1/credentials/AbCdEfGh1234`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

let clock: number;
let proxy: ContainerProxy;
const held: HeldCredentials = { accessKeyId: 'ASIAHELD0001', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date(Date.now() + 15 * 60_000) };
const session = (url = sessionUrl, credentials = held): HeldSession =>
  new HeldSession(new StsVendClient({ url: 'http://127.0.0.1:9' }), { url, authorizationToken: 'session-token' }, credentials, { checkpointReuseMs: CHECKPOINT_REUSE_MS, now: () => clock });
beforeEach(async () => {
  seen.length = 0;
  answer = { status: 200, body: undefined };
  clock = Date.now();
  proxy = await startContainerProxy(session());
});
afterEach(() => proxy.close());

const get = (authorization?: string, path = ''): Promise<Response> =>
  fetch(proxy.url + path, { headers: authorization === undefined ? {} : { Authorization: authorization } });
const sdk = () => fromHttp({ awsContainerCredentialsFullUri: proxy.url, awsContainerAuthorizationToken: proxy.token, maxRetries: 0 })();

describe('the exec container-credentials endpoint', () => {
  it('listens on 127.0.0.1 with a long random token, new for each run', async () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(proxy.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startContainerProxy(session());
    expect(other.token).not.toBe(proxy.token);
    await other.close();
  });

  it('serves the held credential to the real SDK provider after a checkpoint, reporting an expiry a minute ahead', async () => {
    const got = await sdk();
    expect(got).toMatchObject({ accessKeyId: 'ASIAHELD0001', secretAccessKey: 'secret', sessionToken: 'token' });
    const ahead = got.expiration!.getTime() - Date.now();
    expect(ahead).toBeLessThanOrEqual(CHECKPOINT_SECONDS * 1000);
    expect(ahead).toBeGreaterThan(CHECKPOINT_SECONDS * 1000 - 5000);
    expect(seen).toEqual([{ path: '/v1/credentials/AbCdEfGh1234/checkpoint', authorization: 'session-token' }]);
  });

  it('asks the service at most once per second, however often the SDK asks', async () => {
    for (let i = 0; i < 5; i++) await sdk();
    expect(seen).toHaveLength(1);
    clock += CHECKPOINT_REUSE_MS;
    await sdk();
    expect(seen.map((s) => s.path)).toEqual(['/v1/credentials/AbCdEfGh1234/checkpoint', '/v1/credentials/AbCdEfGh1234/checkpoint']);
  });

  it('fetches the next credential through the session only when the held one nears expiry, keeping its real expiry', async () => {
    clock = held.expiration.getTime() - RENEW_BEFORE_MS;
    const got = await sdk();
    expect(got.accessKeyId).toBe('ASIANEXT0001');
    expect(seen.map((s) => s.path)).toEqual(['/v1/credentials/AbCdEfGh1234']);
    // Held until 00:15 (CredentialExpiration), not 00:04 (the service's reported Expiration): the next use is a checkpoint.
    clock = Date.parse('2030-01-01T00:05:00Z');
    await sdk();
    expect(seen.map((s) => s.path)).toEqual(['/v1/credentials/AbCdEfGh1234', '/v1/credentials/AbCdEfGh1234/checkpoint']);
  });

  it.each<[string, string | undefined]>([
    ['no token', undefined],
    ['a wrong token', 'wrong'],
    ['the session token itself', 'session-token'],
  ])('refuses %s with 401 InvalidToken and does not ask the service', async (_name, authorization) => {
    const res = await get(authorization);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ Code: 'InvalidToken', Message: 'missing or wrong authorization token' });
    expect(seen).toEqual([]);
  });

  it('answers 404 off its one path', async () => {
    expect((await get(proxy.token, '/../other')).status).toBe(404);
  });

  it('passes a service refusal through with its status, Code and Message, and serves nothing after it', async () => {
    await sdk();
    answer = { status: 403, body: { Code: 'SessionRevoked', Message: 'the session was revoked' } };
    clock += CHECKPOINT_REUSE_MS;
    const res = await get(proxy.token);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Code: 'SessionRevoked', Message: 'the session was revoked' });
    await expect(sdk()).rejects.toThrow(/status: 403/);
  });

  it('turns a service outage into 503 ServiceUnavailable, keeping Retry-After', async () => {
    answer = { status: 503, body: { Code: 'ServiceUnavailable', Message: 'store down' }, headers: { 'Retry-After': '5' } };
    const res = await get(proxy.token);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { Code: string }).Code).toBe('ServiceUnavailable');
  });

  it('answers 503 when the service cannot be reached: no checkpoint, no credential', async () => {
    const dead = await startContainerProxy(session('http://127.0.0.1:9/v1/credentials/x'));
    const res = await fetch(dead.url, { headers: { Authorization: dead.token } });
    expect(res.status).toBe(503);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ Code: 'ServiceUnavailable', Message: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:9 /) });
    expect(body.AccessKeyId).toBeUndefined();
    await dead.close();
  });
});
