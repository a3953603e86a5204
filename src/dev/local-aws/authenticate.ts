/**
 * Who sent a request: verifies its SigV4 signature against the long-term keys of the state file or the
 * sessions STS issued, and answers with the error code the service in the credential scope would use.
 */
import type { IncomingMessage } from 'node:http';
import { AwsError } from './aws-error';
import { canonicalRequest, computeSignature, isLiteralPayloadHash, type ParsedAuthorization, sha256Hex, signaturesMatch } from './sigv4';
import type { IssuedSession, UserRecord, World } from './world';

interface CallerBase {
  accountId: string;
  accessKeyId: string;
  /** `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  principalArn: string;
  isSession: boolean;
}
/** The verified principal of a request. */
export type Caller = (CallerBase & { isSession: false; user: UserRecord }) | (CallerBase & { isSession: true; session: IssuedSession });

/** The same failure worded by STS/IAM (Query protocol) and by S3 (REST). */
function authError(service: string, kind: 'missing' | 'malformed' | 'unknownKey' | 'badToken' | 'signature' | 'expired' | 'payloadHash'): AwsError {
  const s3 = service === 's3';
  switch (kind) {
    case 'missing':
      return s3 ? new AwsError(403, 'AccessDenied', 'Access Denied') : new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    case 'malformed':
      return s3
        ? new AwsError(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.')
        : new AwsError(400, 'IncompleteSignature', 'Authorization header requires Credential, SignedHeaders and Signature.');
    case 'unknownKey':
      return s3
        ? new AwsError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
        : new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    case 'badToken':
      return s3
        ? new AwsError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.')
        : new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    case 'signature':
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    case 'expired':
      return s3 ? new AwsError(400, 'ExpiredToken', 'The provided token has expired.') : new AwsError(400, 'ExpiredToken', 'The security token included in the request is expired');
    case 'payloadHash':
      return new AwsError(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verifies the request and returns its caller, or throws the AWS error for the service named in the
 * credential scope (`service`, already parsed from the Authorization header by the caller, or 'unknown').
 */
export function authenticate(req: IncomingMessage, auth: ParsedAuthorization | undefined, body: Buffer, world: World, now: Date, service: string): Caller {
  if (!req.headers.authorization) throw authError(service, 'missing');
  if (!auth) throw authError(service, 'malformed');
  const user = world.users.get(auth.accessKeyId);
  const session = user ? undefined : world.sessions.get(auth.accessKeyId);
  if (!user && !session) throw authError(service, 'unknownKey');
  if (session && header(req, 'x-amz-security-token') !== session.sessionToken) throw authError(service, 'badToken');

  // S3 signs whatever x-amz-content-sha256 says (a digest, UNSIGNED-PAYLOAD or a STREAMING-* marker);
  // the Query services sign the body's digest. A digest must match the body actually received.
  const declared = header(req, 'x-amz-content-sha256');
  if (service === 's3' && !declared) throw new AwsError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const actual = sha256Hex(body);
  if (declared && !isLiteralPayloadHash(declared) && declared !== actual) throw authError(service, 'payloadHash');
  const payloadHash = declared ?? actual;

  const amzDate = header(req, 'x-amz-date') ?? '';
  const secret = user ? user.secretAccessKey : (session as IssuedSession).secretAccessKey;
  const canonical = canonicalRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, auth, payloadHash);
  if (!amzDate.startsWith(auth.date) || !signaturesMatch(computeSignature(secret, auth, amzDate, canonical), auth.signature)) {
    throw authError(service, 'signature');
  }
  if (user) return { isSession: false, accountId: world.accountId, accessKeyId: auth.accessKeyId, principalArn: user.arn, user };
  const s = session as IssuedSession;
  // docs/aws.md: ExpiredTokenException (400) when the caller's own credentials expired.
  if (now.getTime() >= s.expiresAt.getTime()) throw authError(service, 'expired');
  return { isSession: true, accountId: s.accountId, accessKeyId: s.accessKeyId, principalArn: s.assumedRoleArn, session: s };
}
