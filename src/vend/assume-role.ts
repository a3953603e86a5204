import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { ApiError } from '../errors';
import type { Metrics } from '../observability/metrics';
import { checkAssumeRoleInput, type AssumeRoleInput } from './aws-limits';

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  assumedRoleArn: string;
  packedPolicySize: number;
  sourceIdentity: string;
}

const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);
const OWN_CREDENTIAL_CODES = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'IncompleteSignature',
]);

/**
 * Calls sts:AssumeRole after checking every documented limit, and translates AWS errors where they enter:
 * throttling (after the SDK's own retries) is 503 with Retry-After, a refused trust policy is 502 naming the
 * role, anything else from AWS is a 502/503 whose cause is logged, never shown.
 */
export async function assumeRole(
  sts: STSClient,
  input: AssumeRoleInput,
  opts: { roleChaining: boolean; metrics: Metrics },
): Promise<IssuedCredentials> {
  const problems = checkAssumeRoleInput(input, opts);
  if (problems.length > 0) {
    // The inputs come from the template and the identity, both checked earlier: reaching here means a template
    // renders something AWS would refuse. Say what, so the template author can fix it.
    throw new ApiError(400, 'aws_limit_exceeded', `request exceeds AWS AssumeRole limits: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const stop = opts.metrics.stsDuration.startTimer();
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: input.roleArn,
        RoleSessionName: input.roleSessionName,
        DurationSeconds: input.durationSeconds,
        Policy: input.policy,
        PolicyArns: input.policyArns.length > 0 ? input.policyArns.map((arn) => ({ arn })) : undefined,
        Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
        TransitiveTagKeys: input.transitiveTagKeys,
        SourceIdentity: input.sourceIdentity,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !out.AssumedRoleUser?.Arn) {
      throw new ApiError(502, 'aws_bad_response', 'AWS STS answered without credentials');
    }
    stop({ outcome: 'ok' });
    countRetries(opts.metrics, out.$metadata.attempts);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      assumedRoleArn: out.AssumedRoleUser.Arn,
      packedPolicySize: out.PackedPolicySize ?? 0,
      sourceIdentity: out.SourceIdentity ?? input.sourceIdentity,
    };
  } catch (err) {
    if (err instanceof ApiError) {
      stop({ outcome: 'error' });
      throw err;
    }
    const code = awsErrorCode(err);
    countRetries(opts.metrics, (err as { $metadata?: { attempts?: number } }).$metadata?.attempts);
    stop({ outcome: THROTTLE_CODES.has(code) ? 'throttled' : 'error' });
    opts.metrics.stsErrors.inc({ code: metricCode(code) });
    throw translateStsError(code, input.roleArn, err);
  }
}

/** Retries the SDK absorbed never reach the caller, but throttling shows here before it becomes an error. */
function countRetries(metrics: Metrics, attempts: number | undefined): void {
  if (attempts !== undefined && attempts > 1) metrics.stsRetries.inc(attempts - 1);
}

function awsErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.name ?? e?.code ?? 'Unknown';
}

// Metric labels take AWS's error code, which is a closed vocabulary; anything odd collapses to one label.
const metricCode = (code: string): string => (/^[A-Za-z]{1,64}$/.test(code) ? code : 'Other');

function translateStsError(code: string, roleArn: string, cause: unknown): ApiError {
  if (THROTTLE_CODES.has(code)) {
    return new ApiError(503, 'aws_throttled', 'AWS STS is throttling requests; retry after the indicated delay', {
      cause,
      retryAfter: 2,
      expose: true,
    });
  }
  if (code === 'AccessDenied' || code === 'AccessDeniedException') {
    return new ApiError(
      502,
      'assume_role_denied',
      `AWS refused sts:AssumeRole on ${roleArn}. The role's trust policy most likely does not allow this service's ` +
        'principal sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity, or a tag condition in it does not match ' +
        '(see "Deploying on AWS" in the README).',
      { cause, expose: true },
    );
  }
  if (code === 'PackedPolicyTooLarge' || code === 'PackedPolicyTooLargeException') {
    return new ApiError(400, 'packed_policy_too_large', 'the session policy and tags are too large for AWS once packed; use shorter parameters', { cause });
  }
  if (code === 'RegionDisabledException') {
    return new ApiError(502, 'aws_region_disabled', 'STS is not activated in the configured region', { cause, expose: true });
  }
  if (OWN_CREDENTIAL_CODES.has(code)) {
    return new ApiError(502, 'aws_credentials_invalid', "AWS refused the service's own credentials", { cause, expose: true });
  }
  const status = (cause as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status === undefined || status >= 500) {
    return new ApiError(503, 'aws_unavailable', 'AWS STS could not be reached', { cause, retryAfter: 5, expose: true });
  }
  return new ApiError(502, 'aws_error', `AWS STS refused the request (${metricCode(code)})`, { cause, expose: true });
}
