/**
 * S3 REST: which operation a request is (method, bucket/key presence and sub-resource query parameters, per
 * the S3 service model's HTTP bindings) and the IAM action S3 authorizes it as (ListObjectsV2 -> s3:ListBucket,
 * HeadObject -> s3:GetObject, the multipart calls -> s3:PutObject, ...).
 */

export interface S3Operation {
  operation: string;
  action: string;
}

type Level = 'service' | 'bucket' | 'object';
/** [level, method, sub-resource or '' for none, operation, IAM action (default: s3:<operation>)]. */
type Row = [Level, string, string, string, string?];

const ROWS: Row[] = [
  ['service', 'GET', '', 'ListBuckets', 's3:ListAllMyBuckets'],
  // Bucket level.
  ['bucket', 'GET', 'list-type', 'ListObjectsV2', 's3:ListBucket'],
  ['bucket', 'GET', '', 'ListObjects', 's3:ListBucket'],
  ['bucket', 'HEAD', '', 'HeadBucket', 's3:ListBucket'],
  ['bucket', 'PUT', '', 'CreateBucket'],
  ['bucket', 'DELETE', '', 'DeleteBucket'],
  ['bucket', 'POST', 'delete', 'DeleteObjects', 's3:DeleteObject'],
  ['bucket', 'GET', 'location', 'GetBucketLocation'],
  ['bucket', 'GET', 'versions', 'ListObjectVersions', 's3:ListBucketVersions'],
  ['bucket', 'GET', 'uploads', 'ListMultipartUploads', 's3:ListBucketMultipartUploads'],
  ['bucket', 'GET', 'acl', 'GetBucketAcl'],
  ['bucket', 'PUT', 'acl', 'PutBucketAcl'],
  ['bucket', 'GET', 'policy', 'GetBucketPolicy'],
  ['bucket', 'PUT', 'policy', 'PutBucketPolicy'],
  ['bucket', 'DELETE', 'policy', 'DeleteBucketPolicy'],
  ['bucket', 'GET', 'policyStatus', 'GetBucketPolicyStatus'],
  ['bucket', 'GET', 'tagging', 'GetBucketTagging'],
  ['bucket', 'PUT', 'tagging', 'PutBucketTagging'],
  ['bucket', 'DELETE', 'tagging', 'DeleteBucketTagging', 's3:PutBucketTagging'],
  ['bucket', 'GET', 'versioning', 'GetBucketVersioning'],
  ['bucket', 'PUT', 'versioning', 'PutBucketVersioning'],
  ['bucket', 'GET', 'cors', 'GetBucketCors', 's3:GetBucketCORS'],
  ['bucket', 'PUT', 'cors', 'PutBucketCors', 's3:PutBucketCORS'],
  ['bucket', 'DELETE', 'cors', 'DeleteBucketCors', 's3:PutBucketCORS'],
  ['bucket', 'GET', 'lifecycle', 'GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
  ['bucket', 'PUT', 'lifecycle', 'PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
  ['bucket', 'DELETE', 'lifecycle', 'DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
  ['bucket', 'GET', 'encryption', 'GetBucketEncryption', 's3:GetEncryptionConfiguration'],
  ['bucket', 'PUT', 'encryption', 'PutBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['bucket', 'DELETE', 'encryption', 'DeleteBucketEncryption', 's3:PutEncryptionConfiguration'],
  ['bucket', 'GET', 'publicAccessBlock', 'GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
  ['bucket', 'PUT', 'publicAccessBlock', 'PutPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  ['bucket', 'DELETE', 'publicAccessBlock', 'DeletePublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  ['bucket', 'GET', 'ownershipControls', 'GetBucketOwnershipControls', 's3:GetBucketOwnershipControls'],
  ['bucket', 'PUT', 'ownershipControls', 'PutBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  ['bucket', 'GET', 'website', 'GetBucketWebsite'],
  ['bucket', 'PUT', 'website', 'PutBucketWebsite'],
  ['bucket', 'DELETE', 'website', 'DeleteBucketWebsite'],
  ['bucket', 'GET', 'logging', 'GetBucketLogging'],
  ['bucket', 'PUT', 'logging', 'PutBucketLogging'],
  ['bucket', 'GET', 'notification', 'GetBucketNotificationConfiguration', 's3:GetBucketNotification'],
  ['bucket', 'PUT', 'notification', 'PutBucketNotificationConfiguration', 's3:PutBucketNotification'],
  ['bucket', 'GET', 'replication', 'GetBucketReplication', 's3:GetReplicationConfiguration'],
  ['bucket', 'PUT', 'replication', 'PutBucketReplication', 's3:PutReplicationConfiguration'],
  ['bucket', 'DELETE', 'replication', 'DeleteBucketReplication', 's3:PutReplicationConfiguration'],
  ['bucket', 'GET', 'object-lock', 'GetObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration'],
  ['bucket', 'PUT', 'object-lock', 'PutObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration'],
  ['bucket', 'GET', 'requestPayment', 'GetBucketRequestPayment'],
  ['bucket', 'PUT', 'requestPayment', 'PutBucketRequestPayment'],
  ['bucket', 'GET', 'accelerate', 'GetBucketAccelerateConfiguration', 's3:GetAccelerateConfiguration'],
  ['bucket', 'PUT', 'accelerate', 'PutBucketAccelerateConfiguration', 's3:PutAccelerateConfiguration'],
  // S3 Express One Zone hands out session credentials: a minting call.
  ['bucket', 'GET', 'session', 'CreateSession', 's3express:CreateSession'],
  // Object level; sub-resources first, bare methods last.
  ['object', 'GET', 'uploadId', 'ListParts', 's3:ListMultipartUploadParts'],
  ['object', 'PUT', 'uploadId', 'UploadPart', 's3:PutObject'],
  ['object', 'POST', 'uploads', 'CreateMultipartUpload', 's3:PutObject'],
  ['object', 'POST', 'uploadId', 'CompleteMultipartUpload', 's3:PutObject'],
  ['object', 'DELETE', 'uploadId', 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
  ['object', 'GET', 'acl', 'GetObjectAcl'],
  ['object', 'PUT', 'acl', 'PutObjectAcl'],
  ['object', 'GET', 'tagging', 'GetObjectTagging'],
  ['object', 'PUT', 'tagging', 'PutObjectTagging'],
  ['object', 'DELETE', 'tagging', 'DeleteObjectTagging'],
  ['object', 'GET', 'attributes', 'GetObjectAttributes'],
  ['object', 'GET', 'retention', 'GetObjectRetention'],
  ['object', 'PUT', 'retention', 'PutObjectRetention'],
  ['object', 'GET', 'legal-hold', 'GetObjectLegalHold'],
  ['object', 'PUT', 'legal-hold', 'PutObjectLegalHold'],
  ['object', 'POST', 'restore', 'RestoreObject'],
  ['object', 'POST', 'select', 'SelectObjectContent', 's3:GetObject'],
  ['object', 'GET', 'torrent', 'GetObjectTorrent'],
  ['object', 'GET', '', 'GetObject'],
  ['object', 'HEAD', '', 'HeadObject', 's3:GetObject'],
  ['object', 'PUT', '', 'PutObject'],
  ['object', 'DELETE', '', 'DeleteObject'],
];

/** Sub-resources that change an operation; any other query parameter (prefix, max-keys, ...) does not. */
const SUBRESOURCES = new Set(ROWS.map((r) => r[2]).filter(Boolean));

/** Every operation name the table knows, for the template linter. */
export const S3_OPERATIONS: ReadonlySet<string> = new Set(ROWS.map((r) => r[3]));

/**
 * The operation of an S3 request, or undefined for a shape S3 has no operation for (the gateway then refuses it
 * whenever a rule would need to know). `bucket`/`key` come from the path or the virtual host.
 */
export function s3Operation(method: string, bucket: string, key: string, query: URLSearchParams, headers: Record<string, string | string[] | undefined>): S3Operation | undefined {
  const level: Level = !bucket ? 'service' : key ? 'object' : 'bucket';
  const subs = [...query.keys()].filter((k) => SUBRESOURCES.has(k));
  const copy = headers['x-amz-copy-source'] !== undefined;
  for (const [rowLevel, rowMethod, sub, operation, action] of ROWS) {
    if (rowLevel !== level || rowMethod !== method) continue;
    // Exactly the row's sub-resource: `?acl&tagging` is no operation, not GetObjectAcl.
    if (sub ? subs.length !== 1 || subs[0] !== sub : subs.length > 0) continue;
    // Copies read another object: a rule on s3:GetObject must see them too, hence their own names.
    if (copy && operation === 'PutObject') return { operation: 'CopyObject', action: 's3:PutObject' };
    if (copy && operation === 'UploadPart') return { operation: 'UploadPartCopy', action: 's3:PutObject' };
    const versioned = query.has('versionId');
    if (versioned && operation === 'GetObject') return { operation, action: 's3:GetObjectVersion' };
    if (versioned && operation === 'DeleteObject') return { operation, action: 's3:DeleteObjectVersion' };
    return { operation, action: action ?? `s3:${operation}` };
  }
  return undefined;
}
