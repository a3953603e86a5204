import type { SessionRecord } from '../storage/session-record';
import type { IssuedCredentials } from './assume-role';

/**
 * The current credential of each refreshable session, in this process's memory only (Redis never holds a
 * secret), with the session it was issued for: a refresh served from here checks the kill switch for that
 * session's scope while it reads the record, in one round trip. A replica that has not seen a session simply
 * issues a fresh credential on its first refresh. Bounded: the oldest entries go first.
 */
export class CredentialCache {
  private readonly entries = new Map<string, { credentials: IssuedCredentials; session?: SessionRecord }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The cached credential if it stays valid for at least `minRemainingMs` more. */
  get(sessionId: string, now: Date, minRemainingMs: number): IssuedCredentials | undefined {
    const c = this.entries.get(sessionId)?.credentials;
    if (!c) return undefined;
    if (c.expiration.getTime() - now.getTime() < minRemainingMs) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return c;
  }

  /** The session the cached credential was issued for, as it was then (its scope never changes). */
  session(sessionId: string): SessionRecord | undefined {
    return this.entries.get(sessionId)?.session;
  }

  set(sessionId: string, credentials: IssuedCredentials, session?: SessionRecord): void {
    this.entries.delete(sessionId);
    this.entries.set(sessionId, { credentials, ...(session ? { session } : {}) });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(sessionId: string): void {
    this.entries.delete(sessionId);
  }
}
