import type { IssuedCredentials } from './assume-role';

/**
 * The current credential of each refreshable session, in this process's memory only (Redis never holds a
 * secret). A replica that has not seen a session simply issues a fresh credential on its first refresh.
 * Bounded: the oldest entries go first.
 */
export class CredentialCache {
  private readonly entries = new Map<string, IssuedCredentials>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The cached credential if it stays valid for at least `minRemainingMs` more. */
  get(sessionId: string, now: Date, minRemainingMs: number): IssuedCredentials | undefined {
    const c = this.entries.get(sessionId);
    if (!c) return undefined;
    if (c.expiration.getTime() - now.getTime() < minRemainingMs) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return c;
  }

  set(sessionId: string, credentials: IssuedCredentials): void {
    this.entries.delete(sessionId);
    this.entries.set(sessionId, credentials);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(sessionId: string): void {
    this.entries.delete(sessionId);
  }
}
