/**
 * What every refreshing delivery (the service's container endpoint, `sts-vend exec`'s loopback endpoint and
 * `credential_process` output) reports as a credential's `Expiration`: the real expiry, but never more than
 * CHECKPOINT_SECONDS ahead. The SDKs decide when to refresh from this value alone:
 *
 * - botocore (boto3, the AWS CLI) refreshes before a call when less than 15 minutes are left and treats a
 *   failed refresh as fatal only when less than 10 minutes are left (its `_DEFAULT_ADVISORY_REFRESH_TIMEOUT`
 *   and `_DEFAULT_MANDATORY_REFRESH_TIMEOUT`); outside that window a refused refresh is a warning and it keeps
 *   the old credential.
 * - The AWS SDK for JavaScript v3 refreshes when less than 5 minutes are left.
 *
 * Four minutes is inside both windows, so every SDK asks again before each call and obeys a refusal: each ask
 * is a kill-switch checkpoint, and a revoked session fails at its next AWS call. The credential served is the
 * same real one (cached); only the reported expiry moves, so no ask costs an AssumeRole.
 */
export const CHECKPOINT_SECONDS = 240;

export function reportedExpiration(real: Date, now: Date): Date {
  return new Date(Math.min(real.getTime(), now.getTime() + CHECKPOINT_SECONDS * 1000));
}

/** RFC 3339 UTC with `Z` and whole seconds (rounded down, never past the real expiry), as the SDKs expect. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
