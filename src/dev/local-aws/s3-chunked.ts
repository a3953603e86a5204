/**
 * Upload body decoding: `aws-chunked` framing in its three forms (docs/aws.md, "aws-chunked uploads") and the
 * flexible-checksum headers/trailers the SDKs send with uploads (`x-amz-trailer: x-amz-checksum-crc32` for
 * streamed bodies; an `x-amz-checksum-*` header for buffered ones). The signed forms' chunk and trailer
 * signatures are verified as S3 does, chained from the request's own signature, so a gateway that re-signs a
 * stream is checked here by an implementation of its own.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { hmacHex } from './sigv4';
import { S3Error } from './s3-xml';

export interface DecodedBody {
  payload: Buffer;
  /** Trailing headers after the last chunk, names lower-cased. */
  trailers: Record<string, string>;
}

/** What the signed forms chain from: the request's signing key, date, scope and signature. */
export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

const CRLF = Buffer.from('\r\n');
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Decodes `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n
 * ... [x-amz-trailer-signature:<sig>\r\n]]\r\n`. With `signing` (the STREAMING-AWS4-HMAC-SHA256-* forms) every
 * chunk must carry its signature and the trailer its own.
 */
export function decodeAwsChunked(body: Buffer, signing?: ChunkSigning): DecodedBody {
  const parts: Buffer[] = [];
  let previous = signing?.seed ?? '';
  let pos = 0;
  for (;;) {
    const eol = body.indexOf(CRLF, pos);
    if (eol < 0) throw incomplete();
    const [sizeText = '', ...extensions] = body.subarray(pos, eol).toString('latin1').split(';');
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText.trim())) throw new S3Error(400, 'InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes');
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (pos + size + (size ? 2 : 0) > body.length) throw incomplete();
    const data = body.subarray(pos, pos + size);
    if (signing) previous = checkSignature(signing, previous, extensions.find((e) => e.startsWith('chunk-signature='))?.slice(16), ['AWS4-HMAC-SHA256-PAYLOAD', EMPTY_SHA256, sha256(data)]);
    if (size === 0) break;
    parts.push(data);
    pos += size;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw incomplete();
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  let canonical = '';
  let trailerSignature: string | undefined;
  for (const line of body.subarray(pos).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else {
      trailers[name] = value;
      canonical += `${name}:${value}\n`;
    }
  }
  if (signing && (canonical !== '' || trailerSignature !== undefined)) checkSignature(signing, previous, trailerSignature, ['AWS4-HMAC-SHA256-TRAILER', sha256(canonical)], 'trailer');
  return { payload: Buffer.concat(parts), trailers };
}

/** One link of the chain: the signature the client should have sent; S3's SignatureDoesNotMatch otherwise. */
function checkSignature(s: ChunkSigning, previous: string, given: string | undefined, [algorithm, ...hashes]: string[], what = 'chunk'): string {
  const expected = hmacHex(s.key, [algorithm, s.amzDate, s.scope, previous, ...hashes].join('\n'));
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? '');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new S3Error(403, 'SignatureDoesNotMatch', `The ${what} signature we calculated does not match the signature you provided.`);
  }
  return expected;
}

function incomplete(): S3Error {
  return new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
}

/** The flexible checksums S3 verifies, computed with the SDK's own implementations. */
const CHECKSUMS: Record<string, { name: string; make(): { update(d: Uint8Array): void; digest(): Promise<Uint8Array> } }> = {
  'x-amz-checksum-crc32': { name: 'CRC32', make: () => new Crc32() },
  'x-amz-checksum-crc32c': { name: 'CRC32C', make: () => new Crc32c() },
  'x-amz-checksum-crc64nvme': { name: 'CRC64NVME', make: () => new Crc64Nvme() },
  'x-amz-checksum-sha1': { name: 'SHA1', make: () => nodeHash('sha1') },
  'x-amz-checksum-sha256': { name: 'SHA256', make: () => nodeHash('sha256') },
};

function nodeHash(algorithm: string): { update(d: Uint8Array): void; digest(): Promise<Uint8Array> } {
  const h = createHash(algorithm);
  return { update: (d) => h.update(d), digest: () => Promise.resolve(h.digest()) };
}

/** The base64 checksum S3 would store for these bytes, by header name (`x-amz-checksum-crc32c`). */
export async function checksumOf(name: string, data: Buffer): Promise<string | undefined> {
  const algo = CHECKSUMS[name];
  if (!algo) return undefined;
  const h = algo.make();
  h.update(data);
  return Buffer.from(await h.digest()).toString('base64');
}

/**
 * Checks every `x-amz-checksum-*` value (header or trailer) and Content-MD5 the way S3 does (BadDigest on a
 * mismatch, InvalidRequest for an algorithm S3 does not know); returns the checksums to store with the object.
 */
export async function verifyChecksums(payload: Buffer, values: Record<string, string>, contentMd5: string | undefined): Promise<Record<string, string>> {
  if (contentMd5 !== undefined) {
    if (Buffer.from(contentMd5, 'base64').length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(payload).digest('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm' || name === 'x-amz-checksum-mode') continue;
    const algo = CHECKSUMS[name];
    if (!algo) throw new S3Error(400, 'InvalidRequest', `Value for x-amz-checksum-* header is invalid: ${name.slice(0, 64)} names no checksum algorithm S3 supports`);
    if ((await checksumOf(name, payload)) !== value) {
      throw new S3Error(400, 'BadDigest', `The ${algo.name} you specified did not match the calculated checksum.`);
    }
    stored[name] = value;
  }
  return stored;
}
