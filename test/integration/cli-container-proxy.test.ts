import { fromHttp } from '@aws-sdk/credential-providers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startContainerProxy, type ContainerProxy } from '../../src/cli/container-proxy';
import { StsVendClient } from '../../src/client/sts-vend-client';

/**
 * The loopback endpoint of `sts-vend exec` in front of a stand-in for the service's container URL, so the
 * forwarding rules are pinned down whatever the service does; cli-exec.test.ts runs it against the real one.
 */
let upstream: http.Server;
let upstreamUrl: string;
let answer: { status: number; body: unknown; headers?: Record<string, string> };
const seen: Array<string | undefined> = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1/credentials/AbCdEfGh1234`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

let proxy: ContainerProxy;
beforeEach(async () => {
  seen.length = 0;
  proxy = await startContainerProxy(new StsVendClient({ url: 'http://127.0.0.1:9' }), { url: upstreamUrl, authorizationToken: 'session-token' });
});
afterEach(() => proxy.close());

const creds = { AccessKeyId: 'ASIAPROXY0001', SecretAccessKey: 'secret', Token: 'token', Expiration: '2030-01-01T00:00:00Z' };
const get = (authorization?: string, path = ''): Promise<Response> =>
  fetch(proxy.url + path, { headers: authorization === undefined ? {} : { Authorization: authorization } });

describe('the exec container-credentials endpoint', () => {
  it('listens on 127.0.0.1 with a long random token, new for each run', async () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(proxy.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startContainerProxy(new StsVendClient({ url: 'http://127.0.0.1:9' }), { url: upstreamUrl, authorizationToken: 'x' });
    expect(other.token).not.toBe(proxy.token);
    await other.close();
  });

  it('serves the real SDK fromHttp provider, asking the service with the session token on every fetch', async () => {
    answer = { status: 200, body: creds };
    const provider = fromHttp({ awsContainerCredentialsFullUri: proxy.url, awsContainerAuthorizationToken: proxy.token, maxRetries: 0 });
    const got = await provider();
    expect(got).toMatchObject({ accessKeyId: 'ASIAPROXY0001', secretAccessKey: 'secret', sessionToken: 'token' });
    expect(got.expiration?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    await fromHttp({ awsContainerCredentialsFullUri: proxy.url, awsContainerAuthorizationToken: proxy.token, maxRetries: 0 })();
    expect(seen).toEqual(['session-token', 'session-token']);
  });

  it.each<[string, string | undefined]>([
    ['no token', undefined],
    ['a wrong token', 'wrong'],
    ['the session token itself', 'session-token'],
  ])('refuses %s with 401 InvalidToken and does not ask the service', async (_name, authorization) => {
    answer = { status: 200, body: creds };
    const res = await get(authorization);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ Code: 'InvalidToken', Message: 'missing or wrong authorization token' });
    expect(seen).toEqual([]);
  });

  it('answers 404 off its one path', async () => {
    expect((await get(proxy.token, '/../other')).status).toBe(404);
  });

  it('passes a service refusal through with its status, Code and Message', async () => {
    answer = { status: 403, body: { Code: 'SessionRevoked', Message: 'the session was revoked' } };
    const res = await get(proxy.token);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Code: 'SessionRevoked', Message: 'the session was revoked' });
    await expect(fromHttp({ awsContainerCredentialsFullUri: proxy.url, awsContainerAuthorizationToken: proxy.token, maxRetries: 0 })()).rejects.toThrow(/status: 403/);
  });

  it('turns a service outage into 503 ServiceUnavailable, keeping Retry-After', async () => {
    answer = { status: 503, body: { Code: 'ServiceUnavailable', Message: 'store down' }, headers: { 'Retry-After': '5' } };
    const res = await get(proxy.token);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { Code: string }).Code).toBe('ServiceUnavailable');
  });

  it('answers 503 when the service cannot be reached', async () => {
    const dead = await startContainerProxy(new StsVendClient({ url: 'http://127.0.0.1:9' }), { url: 'http://127.0.0.1:9/v1/credentials/x', authorizationToken: 't' });
    const res = await fetch(dead.url, { headers: { Authorization: dead.token } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ Code: 'ServiceUnavailable', Message: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:9 /) });
    await dead.close();
  });
});
