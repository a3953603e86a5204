import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { isStsVendError, StsVendError } from './errors';
import { StsVendClient, type TokenSource } from './sts-vend-client';
import type { ContainerCredentials, VendCredentials } from './types';

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

/** Refresh when less than this is left: the same margin the SDK and the service's container endpoint use. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** Codes that mean the session ran its course (not a refusal): vend a new one. */
const SESSION_OVER = new Set(['SessionExpired', 'SessionNotFound']);

/**
 * An AWS SDK v3 credential provider backed by sts-vend: the first call vends a session with container
 * delivery; later calls return the current credential while more than five minutes are left, then refresh it
 * through the session's container URL, so every refresh is a service checkpoint and a revoked or blocked session
 * fails (with a StsVendError whose `code` is the service's, e.g. `SessionRevoked`). When the session itself has
 * expired, the next call vends a new one. Concurrent calls share one request.
 *
 * @example new S3Client({ credentials: fromStsVend({ template: 's3-read-prefix', parameters: { bucket, prefix } }) })
 */
export function fromStsVend(opts: FromStsVendOptions): AwsCredentialIdentityProvider {
  const now = opts.now ?? (() => new Date());
  const client = new StsVendClient({
    url: opts.url ?? process.env.STS_VEND_URL ?? 'http://127.0.0.1:8080',
    token: opts.token ?? (async () => process.env.STS_VEND_TOKEN ?? ''),
  });
  let session: { url: string; authorizationToken: string } | undefined;
  let current: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;

  const refresh = async (): Promise<AwsCredentialIdentity> => {
    if (session) {
      try {
        return fromContainer(await client.credentials(session.url, session.authorizationToken));
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
    session = res.container;
    return fromVend(res.credentials);
  };

  return async () => {
    if (current?.expiration && current.expiration.getTime() - now().getTime() > REFRESH_BEFORE_MS) return current;
    inflight ??= refresh()
      .then((c) => (current = c))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}

function fromContainer(c: ContainerCredentials): AwsCredentialIdentity {
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token, expiration: new Date(c.Expiration) };
}

function fromVend(c: VendCredentials): AwsCredentialIdentity {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
}
