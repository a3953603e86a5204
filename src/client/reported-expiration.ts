/**
 * What every refreshing delivery (the service's container endpoint, `sts-vend exec`'s loopback endpoint and
 * `credential_process` output) reports as a credential's `Expiration`: the real expiry, but never more than
 * CHECKPOINT_SECONDS ahead. The SDKs decide when to refresh from this value alone:
 *
 * - botocore (boto3, the AWS CLI) refreshes before a call when less than 15 minutes are left, and a failed
 *   refresh fails the call only when less than 10 minutes are left (`_DEFAULT_ADVISORY_REFRESH_TIMEOUT`,
 *   `_DEFAULT_MANDATORY_REFRESH_TIMEOUT` in botocore/credentials.py); with more left, a refused refresh is a
 *   warning and it keeps the old credential.
 * - The AWS SDK for JavaScript v3's default chain refreshes in the background when less than 5 minutes are
 *   left, swallowing failures, and blocks on a refresh (failing the call if it fails) only once the credential
 *   it holds has expired.
 *
 * One minute ahead: botocore's refresh before each call is mandatory, so a revoked session fails at its next
 * call; the JavaScript default chain refreshes before each call too and stops within a minute. Each refresh
 * is a kill-switch checkpoint served from the cached real credential, so none costs an AssumeRole. A minute also
 * leaves room for a client clock a little behind or ahead of the service's.
 */
export const CHECKPOINT_SECONDS = 60;

export function reportedExpiration(real: Date, now: Date): Date {
  return new Date(Math.min(real.getTime(), now.getTime() + CHECKPOINT_SECONDS * 1000));
}

/** RFC 3339 UTC with `Z` and whole seconds (rounded down, never past the real expiry), as the SDKs expect. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
