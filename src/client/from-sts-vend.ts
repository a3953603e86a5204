import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { isStsVendError, StsVendError } from './errors';
import { HeldSession, type HeldCredentials } from './held-session';
import { reportedExpiration } from './reported-expiration';
import { StsVendClient, type TokenSource } from './sts-vend-client';

export interface FromStsVendOptions {
  /** Service base URL; default `STS_VEND_URL`, else http://127.0.0.1:8080. */
  url?: string;
  template: string;
  parameters?: Record<string, unknown>;
  /** Only when the token carries no project claim (see the vend API). */
  project?: string;
  /** The OIDC ID token or a function returning a fresh one; default `STS_VEND_TOKEN`, read at each vend. */
  token?: TokenSource;
  /** Lifetime of each credential (the service's default is 900). */
  durationSeconds?: number;
  /** How long the session may keep refreshing before a new vend (and so a fresh OIDC token) is needed. */
  sessionDurationSeconds?: number;
  /** Clock, for tests; default the system clock. */
  now?: () => Date;
}

/** Codes that mean the session ran its course (not a refusal): vend a new one. */
const SESSION_OVER = new Set(['SessionExpired', 'SessionNotFound']);
/** A checkpoint answer covers the uses of the next second: a busy client asks the service once a second. */
const CHECKPOINT_REUSE_MS = 1000;

/**
 * An AWS SDK v3 credential provider backed by sts-vend: the first call vends a session with container
 * delivery; every later call is a checkpoint against the service (at most one a second) that serves the
 * credential it holds, fetching the session's next credential through the container URL only when this one
 * nears expiry. The expiration it reports is at most a minute ahead (src/client/reported-expiration.ts),
 * so the SDK calls it before each AWS call and a revoked or blocked session fails that call (a StsVendError
 * whose `code` is the service's, e.g. `SessionRevoked`). When the session itself has expired, the next call
 * vends a new one. Concurrent calls share one request.
 *
 * @example new S3Client({ credentials: fromStsVend({ template: 's3-read-prefix', parameters: { bucket, prefix } }) })
 */
export function fromStsVend(opts: FromStsVendOptions): AwsCredentialIdentityProvider {
  const now = opts.now ?? (() => new Date());
  const client = new StsVendClient({
    url: opts.url ?? process.env.STS_VEND_URL ?? 'http://127.0.0.1:8080',
    token: opts.token ?? (async () => process.env.STS_VEND_TOKEN ?? ''),
  });
  let session: HeldSession | undefined;
  let inflight: Promise<HeldCredentials> | undefined;

  const obtain = async (): Promise<HeldCredentials> => {
    if (session) {
      try {
        return await session.use();
      } catch (err) {
        if (!(isStsVendError(err) && SESSION_OVER.has(err.code))) throw err;
        session = undefined;
      }
    }
    const res = await client.vend({
      template: opts.template,
      parameters: opts.parameters,
      project: opts.project,
      durationSeconds: opts.durationSeconds,
      sessionDurationSeconds: opts.sessionDurationSeconds,
      delivery: 'container',
    });
    if (!res.container) throw new StsVendError(200, 'bad_response', 'the vend answer has no container URL; the service may predate container delivery');
    const c = res.credentials;
    session = new HeldSession(client, res.container, { ...c, expiration: new Date(c.expiration) }, { checkpointReuseMs: CHECKPOINT_REUSE_MS, now: () => now().getTime() });
    return session.credentials;
  };

  return async () => {
    inflight ??= obtain().finally(() => {
      inflight = undefined;
    });
    const c = await inflight;
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: reportedExpiration(c.expiration, now()) };
  };
}
