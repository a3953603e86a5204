/**
 * Service- and bucket-level S3 operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, ListObjects (V1) and ListObjectsV2.
 */
import { createHash } from 'node:crypto';
import { bucketArn, requireAllowed, requireBucket, type S3Call } from './s3-request';
import { commonPrefixOf, decodeContinuationToken, encodeContinuationToken, listPage, parseMaxKeys, urlEncodeKey, type ListParams } from './s3-list';
import { isValidBucketName, type StoredObject } from './s3-store';
import { S3Error, invalidArgument, isoTime, sendXml, type XmlNode } from './s3-xml';

/** S3 owners are canonical user ids (64 hex); derived from the account so they are stable. */
function owner(accountId: string): XmlNode {
  return { ID: createHash('sha256').update(accountId).digest('hex'), DisplayName: accountId };
}

/** GET / : the caller's account's buckets (S3 lists only buckets the account owns). */
export async function listBuckets(call: S3Call): Promise<void> {
  await requireAllowed(call, 's3:ListAllMyBuckets', '*');
  const prefix = call.url.searchParams.get('prefix') ?? '';
  const buckets = call.deps.store
    .listBuckets()
    .filter((b) => b.ownerAccountId === call.caller.accountId && b.name.startsWith(prefix))
    .map((b) => ({ Name: b.name, CreationDate: isoTime(b.createdAt), BucketRegion: call.deps.region }));
  sendXml(call.res, 200, 'ListAllMyBucketsResult', {
    Owner: owner(call.caller.accountId),
    Buckets: { Bucket: buckets },
    Prefix: call.url.searchParams.has('prefix') ? prefix : undefined,
  });
}

/** PUT /bucket. Every bucket in one account, so an existing one is BucketAlreadyOwnedByYou (409) unless another account made it. */
export async function createBucket(call: S3Call): Promise<void> {
  if (!isValidBucketName(call.bucket)) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: call.bucket });
  }
  await requireAllowed(call, 's3:CreateBucket', bucketArn(call.bucket));
  // S3 in us-east-1 answers 200 to re-creating your own bucket (a legacy quirk); the emulator gives the
  // 409 of every other region so tests see that the bucket already existed.
  const outcome = call.deps.store.createBucket(call.bucket, call.caller.accountId);
  if (outcome === 'owned-by-you') {
    throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: call.bucket });
  }
  if (outcome === 'owned-by-other') {
    throw new S3Error(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: call.bucket });
  }
  call.res.setHeader('location', `/${call.bucket}`);
  call.res.statusCode = 200;
  call.res.end();
}

/** HEAD /bucket: exists and the caller may list it (S3 checks s3:ListBucket). */
export async function headBucket(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:ListBucket', bucketArn(call.bucket));
  call.res.setHeader('x-amz-bucket-region', call.deps.region);
  call.res.statusCode = 200;
  call.res.end();
}

/** DELETE /bucket: only empty buckets (BucketNotEmpty otherwise). */
export async function deleteBucket(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:DeleteBucket', bucketArn(call.bucket));
  if (!call.deps.store.deleteBucket(call.bucket)) {
    throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: call.bucket });
  }
  call.res.statusCode = 204;
  call.res.end();
}

/** GET /bucket?location: empty LocationConstraint means us-east-1. */
export async function getBucketLocation(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:GetBucketLocation', bucketArn(call.bucket));
  const region = call.deps.region === 'us-east-1' ? '' : call.deps.region;
  call.res.statusCode = 200;
  call.res.setHeader('content-type', 'application/xml');
  call.res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`);
}

/** GET /bucket (V1, marker paging) and GET /bucket?list-type=2 (V2, continuation tokens). */
export async function listObjects(call: S3Call): Promise<void> {
  const q = call.url.searchParams;
  const v2 = q.get('list-type') === '2';
  const encodingType = q.get('encoding-type') ?? undefined;
  if (encodingType !== undefined && encodingType !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const maxKeys = parseMaxKeys(q.get('max-keys'));
  const bucket = requireBucket(call);
  // S3's ListBucket condition keys are present only when the request carries the parameter.
  await requireAllowed(call, 's3:ListBucket', bucketArn(call.bucket), {
    's3:prefix': q.get('prefix') ?? undefined,
    's3:delimiter': q.get('delimiter') ?? undefined,
    's3:max-keys': q.get('max-keys') ?? undefined,
  });

  const params: ListParams = { prefix, delimiter, maxKeys };
  const token = q.get('continuation-token');
  if (v2 && token !== null) Object.assign(params, decodeContinuationToken(token));
  else if (v2) params.after = q.get('start-after') || undefined;
  else {
    params.after = q.get('marker') || undefined;
    // A V1 NextMarker may be a common prefix: resume after everything rolled up into it.
    if (params.after !== undefined && commonPrefixOf(params.after, prefix, delimiter) === params.after) params.skipPrefix = params.after;
  }
  const page = listPage(call.deps.store.sortedKeys(call.bucket), params);

  const enc = (s: string | undefined): string | undefined => (s !== undefined && encodingType === 'url' ? urlEncodeKey(s) : s);
  const withOwner = !v2 || q.get('fetch-owner') === 'true';
  const contents = page.keys.map((key) => objectEntry(enc(key) ?? key, bucket.objects.get(key) as StoredObject, withOwner ? owner(bucket.ownerAccountId) : undefined));
  const common = { CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })), EncodingType: encodingType };
  if (v2) {
    sendXml(call.res, 200, 'ListBucketResult', {
      Name: call.bucket, Prefix: enc(prefix), Delimiter: enc(delimiter), MaxKeys: maxKeys,
      KeyCount: page.keys.length + page.commonPrefixes.length, IsTruncated: page.isTruncated,
      ContinuationToken: token ?? undefined,
      NextContinuationToken: page.isTruncated && page.last ? encodeContinuationToken(page.last) : undefined,
      StartAfter: enc(q.get('start-after') ?? undefined), Contents: contents, ...common,
    });
    return;
  }
  sendXml(call.res, 200, 'ListBucketResult', {
    Name: call.bucket, Prefix: enc(prefix), Marker: enc(q.get('marker') ?? ''), MaxKeys: maxKeys, Delimiter: enc(delimiter),
    IsTruncated: page.isTruncated,
    // V1 returns NextMarker only with a delimiter; without one clients resume from the last key.
    NextMarker: page.isTruncated && delimiter ? enc(page.last?.value) : undefined,
    Contents: contents, ...common,
  });
}

function objectEntry(key: string, object: StoredObject, ownerNode: XmlNode | undefined): XmlNode {
  const algorithms = Object.keys(object.checksums).map((h) => h.replace('x-amz-checksum-', '').toUpperCase());
  return {
    Key: key, LastModified: isoTime(object.lastModified), ETag: object.etag,
    ChecksumAlgorithm: algorithms.length ? algorithms : undefined,
    Size: object.body.length, Owner: ownerNode, StorageClass: 'STANDARD',
  };
}
