/**
 * AWS Signature Version 4, server side: parse the Authorization header, rebuild the canonical request from the
 * request exactly as received, and compare signatures. Mirrors the SDK signer: paths are URI-encoded a second
 * time for every service but S3, query parameters are decoded and re-encoded per RFC 3986 and sorted, and
 * header values are trimmed with inner runs of white space collapsed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Payload hashes S3 accepts literally instead of a hex digest (the body is then not hashed). */
const LITERAL_PAYLOAD_HASHES = /^(UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]+)$/;

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`. */
export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses the header; undefined when it is not a SigV4 header. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const scope = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (scope?.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** RFC 3986 encoding as the SDK's `escapeUri` does it. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalPath(rawPath: string, service: string): string {
  // S3 signs the path as sent; every other service normalises it and encodes it once more.
  if (service === 's3') return rawPath;
  const segments: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const normalized = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function canonicalQuery(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = escapeUri(safeDecode(eq < 0 ? pair : pair.slice(0, eq)));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    const value = escapeUri(safeDecode(eq < 0 ? '' : pair.slice(eq + 1)));
    byKey.set(key, [...(byKey.get(key) ?? []), `${key}=${value}`]);
  }
  return [...byKey.keys()].sort().map((k) => (byKey.get(k) ?? []).sort().join('&')).join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  const joined = Array.isArray(v) ? v.join(',') : v;
  return joined.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/** Hex SHA-256. */
export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Whether the x-amz-content-sha256 value is a marker (UNSIGNED-PAYLOAD, STREAMING-...) rather than a digest. */
export const isLiteralPayloadHash = (value: string): boolean => LITERAL_PAYLOAD_HASHES.test(value);

/** The canonical request string for a received request. */
export function canonicalRequest(
  req: { method: string; url: string; headers: IncomingHttpHeaders },
  auth: ParsedAuthorization,
  payloadHash: string,
): string {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const names = [...auth.signedHeaders].sort();
  const lines = names.map((n) => `${n}:${headerValue(req.headers, n) ?? ''}`);
  return [req.method, canonicalPath(rawPath || '/', auth.service), canonicalQuery(rawQuery), ...lines, '', names.join(';'), payloadHash].join('\n');
}

/** The signature a client holding `secret` would have computed. */
export function computeSignature(secret: string, auth: ParsedAuthorization, amzDate: string, canonical: string): string {
  const stringToSign = [ALGORITHM, amzDate, scopeOf(auth), sha256Hex(canonical)].join('\n');
  return hmacHex(signingKey(secret, auth), stringToSign);
}

export const scopeOf = (auth: ParsedAuthorization): string => `${auth.date}/${auth.region}/${auth.service}/aws4_request`;

/** The key SigV4 derives from a secret for one date, region and service. */
export function signingKey(secret: string, auth: ParsedAuthorization): Buffer {
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(auth.date).digest();
  for (const part of [auth.region, auth.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

export const hmacHex = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('hex');

/** Constant-time comparison of two hex signatures. */
export function signaturesMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
