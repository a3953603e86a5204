/**
 * What every S3 operation works from: the routed request (`S3Call`) and the checks S3 makes before acting
 * (bucket exists, IAM allows the action).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Caller, S3Deps, S3ExtraContext } from './s3';
import type { ChunkSigning } from './s3-chunked';
import type { StoredBucket } from './s3-store';
import { S3Error, noSuchBucket } from './s3-xml';

/** One routed S3 request. `key` is '' for bucket-level and service-level requests. */
export interface S3Call {
  req: IncomingMessage;
  res: ServerResponse;
  deps: S3Deps;
  caller: S3Caller;
  body: Buffer;
  url: URL;
  bucket: string;
  key: string;
  /** The request's signing key and signature, for the chunk signatures of a signed aws-chunked upload. */
  signing?: ChunkSigning;
}

export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;

/** Lower-cased request header as one string (node joins repeats for most headers). */
export function header(call: S3Call, name: string): string | undefined {
  const value = call.req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The bucket the request names, or S3's NoSuchBucket. */
export function requireBucket(call: S3Call): StoredBucket {
  const bucket = call.deps.store.bucket(call.bucket);
  if (!bucket) throw noSuchBucket(call.bucket);
  return bucket;
}

/** Keys S3 adds to every request's authorization context. */
function baseContext(call: S3Call): S3ExtraContext {
  const presigned = call.url.searchParams.has('X-Amz-Signature');
  return {
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:x-amz-content-sha256': header(call, 'x-amz-content-sha256'),
  };
}

/** The IAM decision for an action, without throwing (used where S3 changes its answer, not its verdict). */
export async function decide(call: S3Call, action: string, resource: string, extra: S3ExtraContext = {}): Promise<string> {
  return call.deps.authorize(call.caller, action, resource, { ...baseContext(call), ...extra });
}

/** Throws S3's AccessDenied unless IAM allows `action` on `resource`. */
export async function requireAllowed(call: S3Call, action: string, resource: string, extra: S3ExtraContext = {}): Promise<void> {
  const decision = await decide(call, action, resource, extra);
  if (decision === 'Allow') return;
  // The wording S3 uses for IAM denials; the emulator cannot tell which policy type was missing the Allow.
  const why = decision === 'ExplicitDeny' ? 'with an explicit deny in a policy' : `because no policy allows the ${action} action`;
  throw new S3Error(403, 'AccessDenied', `User: ${call.caller.principalArn} is not authorized to perform: ${action} on resource: "${resource}" ${why}`);
}
