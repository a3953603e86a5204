/** Object-level S3 operations: GetObject, HeadObject, PutObject, DeleteObject. */
import { decodeAwsChunked, verifyChecksums } from './s3-chunked';
import { bucketArn, decide, header, objectArn, requireAllowed, requireBucket, type S3Call } from './s3-request';
import { STORED_HEADERS, type StoredObject } from './s3-store';
import { S3Error, httpTime, noSuchKey } from './s3-xml';

/** `response-*` query parameters override the stored header on GET (presigned download links use them). */
const RESPONSE_OVERRIDES = ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'];

/** GET and HEAD /bucket/key (HEAD is authorized as s3:GetObject, as in S3). */
export async function getObject(call: S3Call, head: boolean): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:GetObject', objectArn(call.bucket, call.key));
  const object = call.deps.store.getObject(call.bucket, call.key);
  if (!object) {
    // S3 reveals that a key is absent only to callers who may list the bucket; others get 403.
    const canList = (await decide(call, 's3:ListBucket', bucketArn(call.bucket))) === 'Allow';
    if (canList) throw noSuchKey(call.key);
    throw new S3Error(403, 'AccessDenied', 'Access Denied');
  }
  const res = call.res;
  if (preconditionAnswered(call, object)) return;

  for (const [name, value] of Object.entries(object.headers)) res.setHeader(name, value);
  for (const name of RESPONSE_OVERRIDES) {
    const override = call.url.searchParams.get(`response-${name}`);
    if (override !== null) res.setHeader(name, override);
  }
  for (const [name, value] of Object.entries(object.metadata)) res.setHeader(`x-amz-meta-${name}`, value);
  res.setHeader('etag', object.etag);
  res.setHeader('last-modified', httpTime(object.lastModified));
  res.setHeader('accept-ranges', 'bytes');

  const range = parseRange(header(call, 'range'), object.body.length);
  if (range === 'unsatisfiable') {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: header(call, 'range') ?? '',
      ActualObjectSize: String(object.body.length),
    });
  }
  let body = object.body;
  if (range) {
    body = object.body.subarray(range.start, range.end + 1);
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${range.start}-${range.end}/${object.body.length}`);
  } else {
    res.statusCode = 200;
    // Whole-object checksums only make sense for the whole object.
    if (header(call, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      for (const [name, value] of Object.entries(object.checksums)) res.setHeader(name, value);
    }
  }
  res.setHeader('content-length', body.length);
  res.end(head ? undefined : body);
}

/** If-Match / If-None-Match on GET and HEAD: 412 and 304 as S3 answers them. */
function preconditionAnswered(call: S3Call, object: StoredObject): boolean {
  const ifMatch = header(call, 'if-match');
  if (ifMatch !== undefined && !etagListMatches(ifMatch, object.etag)) {
    throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
  const ifNoneMatch = header(call, 'if-none-match');
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, object.etag)) {
    call.res.statusCode = 304;
    call.res.setHeader('etag', object.etag);
    call.res.end();
    return true;
  }
  return false;
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag || `"${tag}"` === etag;
  });
}

/**
 * One `bytes=` range (first-last, first-, or -suffix). S3 serves the whole object for a syntactically
 * invalid or multi-range header, and 416 when the range starts past the end.
 */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** PUT /bucket/key: plain or aws-chunked bodies, checksums and Content-MD5 verified, metadata kept. */
export async function putObject(call: S3Call): Promise<void> {
  requireBucket(call);
  if (Buffer.byteLength(call.key, 'utf8') > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
  await requireAllowed(call, 's3:PutObject', objectArn(call.bucket, call.key), {
    's3:x-amz-acl': header(call, 'x-amz-acl'),
    's3:x-amz-server-side-encryption': header(call, 'x-amz-server-side-encryption'),
    's3:x-amz-storage-class': header(call, 'x-amz-storage-class'),
  });

  const { payload, checksums } = await readUpload(call);
  const { headers, metadata } = objectAttributes(call);
  const stored = call.deps.store.putObject(call.bucket, call.key, payload, { headers, metadata, checksums });
  call.res.setHeader('etag', stored.etag);
  for (const [name, value] of Object.entries(checksums)) call.res.setHeader(name, value);
  call.res.statusCode = 200;
  call.res.end();
}

/**
 * An upload's bytes (PutObject, UploadPart): aws-chunked framing decoded, its declared length, every checksum
 * (header or trailer) and Content-MD5 verified; the checksums to store.
 */
export async function readUpload(call: S3Call): Promise<{ payload: Buffer; checksums: Record<string, string> }> {
  const declared = header(call, 'x-amz-content-sha256') ?? '';
  const chunked = contentEncodings(call).includes('aws-chunked') || declared.startsWith('STREAMING-');
  if (declared.startsWith('STREAMING-') && !/^STREAMING-(AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)?|UNSIGNED-PAYLOAD-TRAILER)$/.test(declared)) {
    throw new S3Error(400, 'InvalidArgument', `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a SHA-256 digest`);
  }
  // The signed forms chain every chunk (and the trailer) from the request's signature.
  const signing = declared.startsWith('STREAMING-AWS4-HMAC-SHA256-') ? call.signing : undefined;
  const { payload, trailers } = chunked ? decodeAwsChunked(call.body, signing) : { payload: call.body, trailers: {} };
  const declaredTrailer = (header(call, 'x-amz-trailer') ?? '').split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  const missing = declaredTrailer.find((n) => trailers[n] === undefined);
  if (missing) throw new S3Error(400, 'MalformedTrailerError', `The request contained trailing data that was not well-formed: ${missing} is declared in x-amz-trailer and missing`);
  const decodedLength = header(call, 'x-amz-decoded-content-length');
  if (chunked && decodedLength !== undefined && Number(decodedLength) !== payload.length) {
    throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length header');
  }
  const checksumHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.req.headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') checksumHeaders[name] = value;
  }
  return { payload, checksums: await verifyChecksums(payload, { ...checksumHeaders, ...trailers }, header(call, 'content-md5')) };
}

/** The stored headers and user metadata a request gives an object (PutObject, CreateMultipartUpload, a REPLACE copy). */
export function objectAttributes(call: S3Call): { headers: Record<string, string>; metadata: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(call, name);
    if (value !== undefined) headers[name] = value;
  }
  // aws-chunked is transfer framing, not a property of the stored object.
  const kept = contentEncodings(call).filter((e) => e !== 'aws-chunked');
  if (kept.length) headers['content-encoding'] = kept.join(',');
  else delete headers['content-encoding'];

  const metadata: Record<string, string> = {};
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(call.req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[name.slice('x-amz-meta-'.length)] = text;
    metadataBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(text);
  }
  // S3 limits user-defined metadata to 2 KB (names and values, UTF-8).
  if (metadataBytes > 2048) throw new S3Error(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size');
  return { headers, metadata };
}

const contentEncodings = (call: S3Call): string[] => (header(call, 'content-encoding') ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** DELETE /bucket/key: 204 whether or not the key existed, as in S3. */
export async function deleteObject(call: S3Call): Promise<void> {
  requireBucket(call);
  await requireAllowed(call, 's3:DeleteObject', objectArn(call.bucket, call.key));
  call.deps.store.deleteObject(call.bucket, call.key);
  call.res.statusCode = 204;
  call.res.end();
}
