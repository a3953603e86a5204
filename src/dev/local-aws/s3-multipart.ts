/**
 * S3 multipart uploads, what `aws s3 cp` and the SDKs' managed uploads use past their threshold (8 MB for the
 * AWS CLI): CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload and AbortMultipartUpload.
 * IAM sees them as S3 does: every step but the abort and the listing is `s3:PutObject` on the object. An upload
 * created with `x-amz-checksum-algorithm` needs that checksum on every part, and the object gets S3's composite
 * checksum: the checksum of the parts' binary checksums, then "-<parts>".
 */
import { createHash, randomBytes } from 'node:crypto';
import { checksumOf } from './s3-chunked';
import { objectAttributes, readUpload } from './s3-objects';
import { objectArn, requireAllowed, requireBucket, type S3Call } from './s3-request';
import { elements, textOf } from './s3-xml-read';
import { S3Error, invalidArgument, isoTime, sendXml } from './s3-xml';

interface Part {
  body: Buffer;
  etag: string;
  lastModified: Date;
  checksums: Record<string, string>;
}

interface Upload {
  bucket: string;
  key: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  initiated: Date;
  parts: Map<number, Part>;
  /** `x-amz-checksum-sha256` and the like, when the upload was created with a checksum algorithm. */
  checksumHeader?: string;
}

/** The CompleteMultipartUpload element of each checksum header (`x-amz-checksum-crc32` -> ChecksumCRC32). */
const checksumElement = (name: string): string => `Checksum${name.slice('x-amz-checksum-'.length).toUpperCase()}`;

// S3's limits: parts 1..10,000, each but the last at least 5 MiB.
const MAX_PART_NUMBER = 10_000;
const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Uploads in progress, by upload id (in memory, like the buckets; an emulator restart drops them). */
const uploads = new WeakMap<object, Map<string, Upload>>();
function uploadsOf(call: S3Call): Map<string, Upload> {
  let map = uploads.get(call.deps.store);
  if (!map) uploads.set(call.deps.store, (map = new Map()));
  return map;
}

function upload(call: S3Call): { id: string; up: Upload } {
  const id = call.url.searchParams.get('uploadId') ?? '';
  const up = uploadsOf(call).get(id);
  if (!up || up.bucket !== call.bucket || up.key !== call.key) {
    throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });
  }
  return { id, up };
}

/** POST /bucket/key?uploads */
export async function createMultipartUpload(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:PutObject', objectArn(call.bucket, call.key));
  const { headers, metadata } = objectAttributes(call);
  const algorithm = call.req.headers['x-amz-checksum-algorithm'];
  const checksumHeader = typeof algorithm === 'string' ? `x-amz-checksum-${algorithm.toLowerCase()}` : undefined;
  if (checksumHeader && (await checksumOf(checksumHeader, Buffer.alloc(0))) === undefined) {
    throw invalidArgument('Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]', 'x-amz-checksum-algorithm', String(algorithm));
  }
  const id = randomBytes(24).toString('base64url');
  uploadsOf(call).set(id, { bucket: call.bucket, key: call.key, headers, metadata, initiated: call.deps.store.now(), parts: new Map(), ...(checksumHeader ? { checksumHeader } : {}) });
  if (checksumHeader) call.res.setHeader('x-amz-checksum-algorithm', String(algorithm).toUpperCase());
  sendXml(call.res, 200, 'InitiateMultipartUploadResult', { Bucket: call.bucket, Key: call.key, UploadId: id });
}

/** PUT /bucket/key?partNumber=N&uploadId=ID (plain or aws-chunked body, checksums verified). */
export async function uploadPart(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:PutObject', objectArn(call.bucket, call.key));
  const { up } = upload(call);
  const n = Number(call.url.searchParams.get('partNumber'));
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', String(call.url.searchParams.get('partNumber')));
  }
  const { payload, checksums } = await readUpload(call);
  if (up.checksumHeader && checksums[up.checksumHeader] === undefined) {
    throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${up.checksumHeader.slice(15).toUpperCase()} checksum. The part must carry it too (${up.checksumHeader}).`);
  }
  const etag = `"${createHash('md5').update(payload).digest('hex')}"`;
  up.parts.set(n, { body: payload, etag, lastModified: call.deps.store.now(), checksums });
  call.res.setHeader('etag', etag);
  for (const [name, value] of Object.entries(checksums)) call.res.setHeader(name, value);
  call.res.statusCode = 200;
  call.res.end();
}

/** GET /bucket/key?uploadId=ID */
export async function listParts(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:ListMultipartUploadParts', objectArn(call.bucket, call.key));
  const { id, up } = upload(call);
  const parts = [...up.parts.entries()].sort(([a], [b]) => a - b);
  sendXml(call.res, 200, 'ListPartsResult', {
    Bucket: call.bucket,
    Key: call.key,
    UploadId: id,
    IsTruncated: false,
    Part: parts.map(([n, p]) => ({ PartNumber: n, LastModified: isoTime(p.lastModified), ETag: p.etag, Size: p.body.length })),
  });
}

/** POST /bucket/key?uploadId=ID with the part list: the object appears whole, with S3's multipart ETag. */
export async function completeMultipartUpload(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:PutObject', objectArn(call.bucket, call.key));
  const { id, up } = upload(call);
  const element = up.checksumHeader ? checksumElement(up.checksumHeader) : undefined;
  const listed = elements(call.body.toString('utf8'), 'Part').map((part) => ({ n: Number(textOf(part, 'PartNumber')), etag: textOf(part, 'ETag') ?? '', checksum: element ? textOf(part, element) : undefined }));
  if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const chosen: Part[] = [];
  listed.forEach(({ n, etag, checksum }, i) => {
    if (i > 0 && n <= listed[i - 1]!.n) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    const part = up.parts.get(n);
    if (!part || part.etag.replace(/"/g, '') !== etag.replace(/"/g, '')) {
      throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', { PartNumber: String(n), ETag: etag });
    }
    if (up.checksumHeader && checksum !== part.checksums[up.checksumHeader]) {
      throw new S3Error(400, 'InvalidPart', `One or more of the specified parts could not be found. The ${element} of part ${n} is missing or does not match the part's.`, { PartNumber: String(n) });
    }
    if (i < listed.length - 1 && part.body.length < MIN_PART_BYTES) {
      throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(n) });
    }
    chosen.push(part);
  });
  // S3's ETag for a multipart object: MD5 of the parts' binary MD5s, then "-<count>".
  const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${chosen.length}"`;
  const checksums: Record<string, string> = {};
  if (up.checksumHeader) {
    const digests = Buffer.concat(chosen.map((p) => Buffer.from(p.checksums[up.checksumHeader!]!, 'base64')));
    checksums[up.checksumHeader] = `${await checksumOf(up.checksumHeader, digests)}-${chosen.length}`;
  }
  const stored = call.deps.store.putObject(call.bucket, call.key, Buffer.concat(chosen.map((p) => p.body)), { headers: up.headers, metadata: up.metadata, etag, checksums });
  uploadsOf(call).delete(id);
  sendXml(call.res, 200, 'CompleteMultipartUploadResult', {
    Location: `/${call.bucket}/${call.key}`,
    Bucket: call.bucket,
    Key: call.key,
    ETag: stored.etag,
    ...(up.checksumHeader ? { [element!]: checksums[up.checksumHeader] } : {}),
  });
}

/** DELETE /bucket/key?uploadId=ID: 204, the parts are gone. */
export async function abortMultipartUpload(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:AbortMultipartUpload', objectArn(call.bucket, call.key));
  const { id } = upload(call);
  uploadsOf(call).delete(id);
  call.res.statusCode = 204;
  call.res.end();
}
