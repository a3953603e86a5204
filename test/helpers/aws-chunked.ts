/**
 * aws-chunked bodies built by hand (node:crypto HMAC, not the SDK signer the gateway uses), so a test can send
 * the forms the SDKs send, and odd ones: a tampered chunk, a broken chain, a wrong trailer signature.
 */
import { createHash, createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type Form = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export interface Chain {
  secret: string;
  /** `<date>/<region>/<service>/aws4_request`. */
  scope: string;
  amzDate: string;
  /** The request's own (seed) signature. */
  seed: string;
}

export interface ChunkedBody {
  form: Form;
  chunks: Buffer[];
  trailers?: Array<[string, string]>;
  /** Signs the signed forms; ignored for the unsigned one. */
  chain?: Chain;
  /** Replaces a chunk's signature (index chunks.length is the final empty chunk, -1 the trailer's). */
  signatureOverride?: Record<number, string>;
}

const sha256 = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');
const EMPTY = sha256('');

export function signingKeyOf(secret: string, scope: string): Buffer {
  const [date, region, service] = scope.split('/') as [string, string, string];
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** The wire bytes of a body; signatures chained from `chain.seed` as SigV4 streaming defines them. */
export function chunkedBody(b: ChunkedBody): Buffer {
  const signed = b.form !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const key = signed ? signingKeyOf(b.chain!.secret, b.chain!.scope) : Buffer.alloc(0);
  let previous = b.chain?.seed ?? '';
  const sign = (parts: string[]): string => {
    previous = createHmac('sha256', key).update(parts.join('\n')).digest('hex');
    return previous;
  };
  const out: Buffer[] = [];
  [...b.chunks, Buffer.alloc(0)].forEach((chunk, i) => {
    let header = chunk.length.toString(16);
    if (signed) {
      const signature = sign(['AWS4-HMAC-SHA256-PAYLOAD', b.chain!.amzDate, b.chain!.scope, previous, EMPTY, sha256(chunk)]);
      const given = b.signatureOverride?.[i] ?? signature;
      previous = given;
      header += `;chunk-signature=${given}`;
    }
    out.push(Buffer.from(`${header}\r\n`), chunk);
    if (chunk.length) out.push(Buffer.from('\r\n'));
  });
  if (b.form === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') {
    out.push(Buffer.from('\r\n'));
    return Buffer.concat(out);
  }
  const trailers = b.trailers ?? [];
  for (const [name, value] of trailers) out.push(Buffer.from(`${name}:${value}\r\n`));
  if (signed) {
    const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    const signature = sign(['AWS4-HMAC-SHA256-TRAILER', b.chain!.amzDate, b.chain!.scope, previous, sha256(canonical)]);
    out.push(Buffer.from(`x-amz-trailer-signature:${b.signatureOverride?.[-1] ?? signature}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** CRC32 of the bytes, base64 as S3's x-amz-checksum-crc32 (zlib's, not the code under test). */
export function crc32Base64(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data) >>> 0);
  return b.toString('base64');
}
