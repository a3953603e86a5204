/**
 * S3 REST front of the local AWS emulator: routes an already SigV4-verified request to a bucket or object
 * operation, authorizes it the way S3 does, and answers with the XML (or empty) bodies the SDK v3 expects.
 *
 * Contract with the server (which verifies the signature, reads the body and dispatches on the credential
 * scope's service name `s3`): call the handler returned by `createS3Handler` with the raw node:http
 * request/response, the verified caller, the request body and a request id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets, listObjects } from './s3-buckets';
import { copyObject, deleteObjects } from './s3-copy-delete';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listParts, uploadPart } from './s3-multipart';
import { deleteObject, getObject, putObject } from './s3-objects';
import type { ChunkSigning } from './s3-chunked';
import type { S3Call } from './s3-request';
import type { BucketStore } from './s3-store';
import { S3Error, notImplemented, sendError } from './s3-xml';

/** Same values as the policy engine's `Decision`; repeated here so this module does not depend on its layout. */
export type S3Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** The principal whose signature the server verified. */
export interface S3Caller {
  /** Account the caller belongs to; owns the buckets it creates. */
  accountId: string;
  /** `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  principalArn: string;
  accessKeyId: string;
  /** True for temporary (ASIA...) credentials from AssumeRole. */
  isSession: boolean;
}

/** Extra request-context keys S3 adds for an action (`s3:prefix`, `s3:delimiter`, `s3:max-keys`, ...). */
export type S3ExtraContext = Record<string, string | string[] | undefined>;

export interface S3Deps {
  store: BucketStore;
  /**
   * What IAM decides for this caller, action and resource. The server builds the full context (principal
   * tags, aws:TokenIssueTime, aws:SourceIp, ...), merges `extraContext`, and evaluates the role's policies
   * intersected with the session policy. May be synchronous.
   */
  authorize(caller: S3Caller, action: string, resource: string, extraContext: S3ExtraContext): S3Decision | Promise<S3Decision>;
  /** The emulated region, answered by HeadBucket and GetBucketLocation. */
  region: string;
}

/** Per-request input from the server. */
export interface S3RequestContext {
  caller: S3Caller;
  /** The whole request body as received (aws-chunked bodies are decoded here, not by the server). */
  body: Buffer;
  /** Echoed in `x-amz-request-id` and in XML error bodies. */
  requestId: string;
  /** What a signed aws-chunked body's chunk signatures chain from. */
  signing?: ChunkSigning;
}

/** Answers one S3 request completely (never rejects; internal failures answer 500 InternalError). */
export type S3Handler = (req: IncomingMessage, res: ServerResponse, ctx: S3RequestContext) => Promise<void>;

/** Query parameters naming S3 sub-resources the emulator does not serve (ACLs, tagging, versioning, ...). */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select',
  'session', 'tagging', 'torrent', 'versioning', 'versionId', 'versions', 'website',
];

/** Builds the S3 request handler over an in-memory bucket store. */
export function createS3Handler(deps: S3Deps): S3Handler {
  return async (req, res, ctx) => {
    res.setHeader('x-amz-request-id', ctx.requestId);
    // S3's second request id; the SDK reports it as extendedRequestId.
    res.setHeader('x-amz-id-2', Buffer.from(ctx.requestId).toString('base64'));
    const rawUrl = req.url ?? '/';
    const rawPath = rawUrl.split('?')[0] ?? '/';
    let resource = rawPath;
    try {
      const url = new URL(rawUrl.slice(rawPath.length), 'http://local-aws/');
      const { bucket, key } = target(req.headers.host, rawPath);
      resource = bucket ? `/${bucket}${key ? `/${key}` : ''}` : '/';
      await route({ req, res, deps, caller: ctx.caller, body: ctx.body, url, bucket, key, ...(ctx.signing ? { signing: ctx.signing } : {}) });
    } catch (err) {
      if (res.headersSent) {
        res.destroy(err instanceof Error ? err : undefined);
        return;
      }
      const s3err = err instanceof S3Error ? err : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (!(err instanceof S3Error)) console.error('local-aws s3: internal error', err);
      sendError(res, req.method ?? 'GET', s3err, resource, ctx.requestId);
    }
  };
}

/**
 * Bucket and key from the request: virtual-host style when the Host is `<bucket>.localhost[:port]`
 * (what the SDK sends without forcePathStyle against a localhost endpoint), else path-style `/bucket/key`.
 * The raw path is decoded by hand because URL parsing would resolve `.` and `..` segments inside keys.
 */
function target(host: string | undefined, rawPath: string): { bucket: string; key: string } {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  if (hostname.endsWith('.localhost')) {
    return { bucket: hostname.slice(0, -'.localhost'.length), key: path.replace(/^\//, '') };
  }
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

async function route(call: S3Call): Promise<void> {
  const method = call.req.method ?? 'GET';
  const q = call.url.searchParams;
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => q.has(name));
  if (unsupported) throw notImplemented(`The ?${unsupported} sub-resource`);

  if (!call.bucket) {
    if (method === 'GET') return listBuckets(call);
  } else if (!call.key) {
    if (method === 'POST' && q.has('delete')) return deleteObjects(call);
    if (q.has('uploads')) throw notImplemented('ListMultipartUploads');
    if (method === 'GET' && q.has('location')) return getBucketLocation(call);
    if (method === 'GET') return listObjects(call);
    if (method === 'PUT') return createBucket(call);
    if (method === 'HEAD') return headBucket(call);
    if (method === 'DELETE') return deleteBucket(call);
  } else if (q.has('uploads') || q.has('uploadId')) {
    if (method === 'POST' && q.has('uploads')) return createMultipartUpload(call);
    if (method === 'PUT' && q.has('partNumber')) {
      if (call.req.headers['x-amz-copy-source'] !== undefined) throw notImplemented('UploadPartCopy');
      return uploadPart(call);
    }
    if (method === 'GET') return listParts(call);
    if (method === 'POST') return completeMultipartUpload(call);
    if (method === 'DELETE') return abortMultipartUpload(call);
  } else {
    if (q.has('partNumber')) throw notImplemented('The ?partNumber sub-resource outside a multipart upload');
    if (method === 'GET' || method === 'HEAD') return getObject(call, method === 'HEAD');
    if (method === 'PUT') return call.req.headers['x-amz-copy-source'] !== undefined ? copyObject(call) : putObject(call);
    if (method === 'DELETE') return deleteObject(call);
  }
  throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
    Method: method,
    ResourceType: call.key ? 'OBJECT' : call.bucket ? 'BUCKET' : 'SERVICE',
  });
}
