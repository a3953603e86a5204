import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isStsVendError } from '../client/errors';
import type { HeldSession } from '../client/held-session';
import { reportedExpiration, rfc3339 } from '../client/reported-expiration';

/**
 * A container-credentials endpoint on 127.0.0.1 for one child process. It keeps the session's current
 * credential in memory and serves it only after a checkpoint against the service (at most one a second,
 * shared by the requests of that second: see CHECKPOINT_REUSE_MS), so a refusal reaches the SDK with the
 * service's own `Code`/`Message` while a busy client costs the service no more than one cheap request a second
 * and no AssumeRole. The `Expiration` it reports keeps every SDK coming back before each call
 * (src/client/reported-expiration.ts). Its token is fresh random bytes, so another local user who finds the
 * port still cannot read the credentials.
 */
export interface ContainerProxy {
  /** For AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  url: string;
  /** For AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  token: string;
  close(): Promise<void>;
}

/** How long one checkpoint answer covers later requests: the most a revoked session can still be served. */
export const CHECKPOINT_REUSE_MS = 1000;

export async function startContainerProxy(session: HeldSession): Promise<ContainerProxy> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(token);
  const path = '/credentials';

  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || req.url !== path) return reply(404, { Code: 'NotFound', Message: 'not found' });
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply(401, { Code: 'InvalidToken', Message: 'missing or wrong authorization token' });
    }
    session.use().then(
      (c) =>
        reply(200, {
          AccessKeyId: c.accessKeyId,
          SecretAccessKey: c.secretAccessKey,
          Token: c.sessionToken,
          Expiration: rfc3339(reportedExpiration(c.expiration, new Date())),
        }),
      (err: unknown) => {
        if (isStsVendError(err) && err.status >= 400 && err.status < 500) return reply(err.status, { Code: err.code, Message: err.message });
        const retry = isStsVendError(err) && err.retryAfter ? { 'Retry-After': String(err.retryAfter) } : undefined;
        reply(503, { Code: 'ServiceUnavailable', Message: isStsVendError(err) ? err.message : 'the credentials service failed' }, retry);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    token,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
