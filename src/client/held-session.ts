import type { StsVendClient } from './sts-vend-client';
import type { ContainerCredentials } from './types';

/** A session's current credential with its real expiry. */
export interface HeldCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Ask the service for the next credential once less than this is left (the service's own reuse margin). */
export const RENEW_BEFORE_MS = 6 * 60_000;

export interface HeldSessionOptions {
  /**
   * A checkpoint answer is trusted this long for later uses (0: every use asks). Bounds both the service
   * traffic of a busy client and how long a revoked session can keep being served.
   */
  checkpointReuseMs?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/**
 * A refreshable session whose credential the client keeps (the CLI's cache, exec's loopback endpoint, the SDK
 * provider): each use is a kill-switch checkpoint against the service (cheap: no credential moves, no AWS
 * call), and only when the credential nears expiry is the next one fetched through the session's container
 * URL. Concurrent uses share one request. A refusal throws the service's StsVendError (`SessionRevoked`...).
 */
export class HeldSession {
  private checkedAt = -Infinity;
  private inflight: Promise<HeldCredentials> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly client: StsVendClient,
    readonly container: { url: string; authorizationToken: string },
    private held: HeldCredentials,
    private readonly opts: HeldSessionOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The credential last obtained, without asking the service. */
  get credentials(): HeldCredentials {
    return this.held;
  }

  /** The credential to use now, after the service has said the session is still good. */
  use(): Promise<HeldCredentials> {
    this.inflight ??= this.check().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async check(): Promise<HeldCredentials> {
    const started = this.now();
    const { url, authorizationToken } = this.container;
    if (this.held.expiration.getTime() - started <= RENEW_BEFORE_MS) {
      this.held = heldFromContainer(await this.client.credentials(url, authorizationToken));
      this.checkedAt = started;
    } else if (started - this.checkedAt >= (this.opts.checkpointReuseMs ?? 0)) {
      await this.client.checkpoint(url, authorizationToken);
      this.checkedAt = started;
    }
    return this.held;
  }
}

/** A container-endpoint answer as held credentials, with the credential's real expiry when the service says it. */
export function heldFromContainer(c: ContainerCredentials): HeldCredentials {
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token, expiration: new Date(c.CredentialExpiration ?? c.Expiration) };
}
