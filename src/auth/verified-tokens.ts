import { createHash } from 'node:crypto';
import type { Identity } from './identity';

/**
 * Bearer tokens this process verified recently, so an agent presenting the same token for several vends pays
 * for one signature check (the largest CPU cost of a vend after the STS call). An entry is kept no longer than
 * the token would still pass the checks it passed: until its `exp` or its maximum age (`iat` +
 * `maxTokenAgeSeconds`), clock tolerance included, and at most `maxAgeMs` after it was verified (the verifier
 * caps it at its JWKS cache age), so a key the issuer withdraws stops being trusted within that bound.
 * Refusals are never kept: a bad token is checked again each time. Keys are SHA-256 digests, so the map holds
 * no bearer token; bounded, the oldest entries go first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { identity: Identity; untilMs: number }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get enabled(): boolean {
    return this.maxAgeMs > 0 && this.maxEntries > 0;
  }

  /** The identity of a token verified before and still within its bounds at `nowMs`. */
  get(token: string, nowMs: number): Identity | undefined {
    if (!this.enabled) return undefined;
    const key = digest(token);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (nowMs >= hit.untilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.identity;
  }

  /**
   * Keeps a verified token's identity. `claims` are the verified `exp` and `iat` (seconds), `toleranceSeconds`
   * and `maxTokenAgeSeconds` the issuer's settings they were checked with.
   */
  set(token: string, identity: Identity, at: { nowMs: number; exp: number; iat: number; toleranceSeconds: number; maxTokenAgeSeconds?: number }): void {
    if (!this.enabled) return;
    // jose refuses once the clock's whole second reaches exp + tolerance (or iat + max age + tolerance).
    const bounds = [at.nowMs + this.maxAgeMs, (at.exp + at.toleranceSeconds) * 1000];
    if (at.maxTokenAgeSeconds !== undefined) bounds.push((at.iat + at.maxTokenAgeSeconds + at.toleranceSeconds) * 1000);
    const untilMs = Math.min(...bounds);
    if (untilMs <= at.nowMs) return;
    const key = digest(token);
    this.entries.delete(key);
    this.entries.set(key, { identity: Object.freeze(identity), untilMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

const digest = (token: string): string => createHash('sha256').update(token).digest('base64url');
