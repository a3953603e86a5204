/**
 * CopyObject (PUT with `x-amz-copy-source`, what `aws s3 cp s3://a s3://b` and `mv` do) and DeleteObjects
 * (POST ?delete, what `aws s3 rm --recursive` and `sync --delete` do). IAM is asked as S3 asks it: GetObject on
 * the source and PutObject on the destination for a copy; DeleteObject for each key of a batch, each refused
 * key reported in the answer while the others are deleted.
 */
import { createHash } from 'node:crypto';
import { decide, header, objectArn, requireAllowed, requireBucket, type S3Call } from './s3-request';
import { objectAttributes } from './s3-objects';
import { elements, textOf } from './s3-xml-read';
import { S3Error, invalidArgument, isoTime, noSuchBucket, noSuchKey, sendXml, type XmlNode } from './s3-xml';

/** PUT /bucket/key with x-amz-copy-source: `bucket/key` (URL-encoded, optionally with a leading "/"). */
export async function copyObject(call: S3Call): Promise<void> {
  requireBucket(call);
  const raw = header(call, 'x-amz-copy-source') ?? '';
  let source: string;
  try {
    source = decodeURIComponent(raw.replace(/^\//, '').split('?')[0] ?? '');
  } catch {
    throw invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', raw);
  }
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', raw);
  const [srcBucket, srcKey] = [source.slice(0, slash), source.slice(slash + 1)];
  if (!call.deps.store.bucket(srcBucket)) throw noSuchBucket(srcBucket);
  await requireAllowed(call, 's3:GetObject', objectArn(srcBucket, srcKey));
  await requireAllowed(call, 's3:PutObject', objectArn(call.bucket, call.key));
  const object = call.deps.store.getObject(srcBucket, srcKey);
  if (!object) throw noSuchKey(srcKey);
  const replace = header(call, 'x-amz-metadata-directive')?.toUpperCase() === 'REPLACE';
  if (!replace && srcBucket === call.bucket && srcKey === call.key) {
    throw new S3Error(400, 'InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  const attributes = replace ? objectAttributes(call) : { headers: object.headers, metadata: object.metadata };
  const stored = call.deps.store.putObject(call.bucket, call.key, Buffer.from(object.body), { ...attributes, checksums: object.checksums });
  sendXml(call.res, 200, 'CopyObjectResult', { LastModified: isoTime(stored.lastModified), ETag: stored.etag });
}

// S3 takes at most 1,000 keys per DeleteObjects request.
const MAX_KEYS = 1000;

/** POST /bucket?delete with a <Delete> body (Content-MD5 or an x-amz-checksum-* header is required, as in S3). */
export async function deleteObjects(call: S3Call): Promise<void> {
  requireBucket(call);
  const md5 = header(call, 'content-md5');
  const hasChecksum = Object.keys(call.req.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-algorithm');
  if (md5 === undefined && !hasChecksum) throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  if (md5 !== undefined && createHash('md5').update(call.body).digest('base64') !== md5) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const xml = call.body.toString('utf8');
  const keys = elements(xml, 'Object').map((o) => textOf(o, 'Key'));
  if (keys.length === 0 || keys.length > MAX_KEYS || keys.some((k) => k === undefined || k === '')) {
    throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  const quiet = textOf(xml, 'Quiet')?.trim().toLowerCase() === 'true';
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const key of keys as string[]) {
    if ((await decide(call, 's3:DeleteObject', objectArn(call.bucket, key))) !== 'Allow') {
      errors.push({ Key: key, Code: 'AccessDenied', Message: 'Access Denied' });
      continue;
    }
    call.deps.store.deleteObject(call.bucket, key);
    if (!quiet) deleted.push({ Key: key });
  }
  sendXml(call.res, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
