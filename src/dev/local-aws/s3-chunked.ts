/**
 * Upload body decoding: `aws-chunked` framing and the flexible-checksum headers/trailers the SDK v3 sends
 * with PutObject (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-trailer:
 * x-amz-checksum-crc32` for streamed bodies; an `x-amz-checksum-*` header for buffered ones).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from './s3-xml';

export interface DecodedBody {
  payload: Buffer;
  /** Trailing headers after the last chunk, names lower-cased. */
  trailers: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');

/**
 * Decodes `<hex-size>[;chunk-signature=...]\r\n<data>\r\n ... 0\r\n<trailer>:<value>\r\n\r\n`. Chunk
 * signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) are skipped, not verified: the SDK v3 does not send them.
 */
export function decodeAwsChunked(body: Buffer): DecodedBody {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf(CRLF, pos);
    if (eol < 0) throw incomplete();
    const sizeText = body.subarray(pos, eol).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new S3Error(400, 'InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes');
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) break;
    if (pos + size + 2 > body.length) throw incomplete();
    parts.push(body.subarray(pos, pos + size));
    pos += size;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw incomplete();
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of body.subarray(pos).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}

function incomplete(): S3Error {
  return new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
}

/** Checksum algorithms Node computes without extra packages; CRC32C and CRC64NVME are stored unverified. */
const CHECKSUMS: Record<string, { name: string; digest(data: Buffer): string }> = {
  'x-amz-checksum-crc32': { name: 'CRC32', digest: (d) => uint32Base64(crc32(d)) },
  'x-amz-checksum-sha1': { name: 'SHA1', digest: (d) => createHash('sha1').update(d).digest('base64') },
  'x-amz-checksum-sha256': { name: 'SHA256', digest: (d) => createHash('sha256').update(d).digest('base64') },
};

function uint32Base64(n: number): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(n >>> 0);
  return buf.toString('base64');
}

/**
 * Checks every `x-amz-checksum-*` value (header or trailer) that Node can compute and Content-MD5, the way
 * S3 does (BadDigest on mismatch); returns the checksums to store with the object.
 */
export function verifyChecksums(payload: Buffer, values: Record<string, string>, contentMd5: string | undefined): Record<string, string> {
  if (contentMd5 !== undefined) {
    if (Buffer.from(contentMd5, 'base64').length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(payload).digest('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type') continue;
    const algo = CHECKSUMS[name];
    if (algo && algo.digest(payload) !== value) {
      throw new S3Error(400, 'BadDigest', `The ${algo.name} you specified did not match the calculated checksum.`);
    }
    stored[name] = value;
  }
  return stored;
}
