/**
 * SigV4 at the gateway, both directions, with `@smithy/signature-v4` (the SDK's own signer): the agent's
 * request is verified by signing a copy of it (its signed headers only, its path, query and payload hash)
 * with the secret its key id derives to and comparing signatures in constant time; the forwarded request is
 * signed with the session's real credentials.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ChunkChain } from './aws-chunked';
import { GatewayRefusal } from './aws-errors';

type SignableRequest = Parameters<SignatureV4['presign']>[0];

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** Requests this far from the gateway's clock are refused (AWS allows 15 minutes; shorter bounds replays). */
export const MAX_SKEW_MS = 5 * 60_000;

/** The `Hash` the signer takes: SHA-256, or HMAC-SHA256 when given a key (node:crypto, no JS fallback). */
export class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}
function toBuffer(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

export interface ParsedAuth {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Why SigV4A is refused, wherever it shows (an Authorization header, a presigned query, a streaming payload). */
export const SIGV4A_REFUSAL =
  'SigV4A (AWS4-ECDSA-P256-SHA256) is not supported by this gateway: it verifies and re-signs SigV4 (AWS4-HMAC-SHA256) only, ' +
  'for one Region at a time. Call the Regional endpoint (not a Multi-Region Access Point) so the SDK signs with SigV4.';

/** The Authorization header's parts; a refusal for anything else: no signature, SigV4A, or a header missing a part. */
export function parseAuth(header: string | undefined): ParsedAuth {
  if (!header) throw new GatewayRefusal('missing', 'Request is missing Authentication Token');
  if (header.startsWith('AWS4-ECDSA-P256-SHA256')) throw new GatewayRefusal('unsupported', SIGV4A_REFUSAL);
  if (!header.startsWith(`${ALGORITHM} `)) throw new GatewayRefusal('malformed', `the Authorization header must use ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const scope = fields.get('Credential')?.split('/') ?? [];
  if (scope.length !== 5 || scope[4] !== 'aws4_request') throw new GatewayRefusal('malformed', 'Authorization header requires Credential, SignedHeaders and Signature.');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) {
    throw new GatewayRefusal('malformed', 'Authorization header requires Credential, SignedHeaders and Signature.');
  }
  return { ...credentialScope(scope, 'malformed'), signedHeaders: signedHeaderNames(signedHeaders, 'malformed'), signature };
}

/** `<key id>/<date>/<region>/<service>/aws4_request`, already split on `/`. */
export function credentialScope(scope: string[], kind: 'malformed' | 'presignMalformed'): Pick<ParsedAuth, 'accessKeyId' | 'date' | 'region' | 'service'> {
  if (scope.length !== 5 || scope[4] !== 'aws4_request') throw new GatewayRefusal(kind, 'the credential must be <key id>/<date>/<region>/<service>/aws4_request');
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

/** The `;`-list of signed headers: lower-case names, `host` among them. */
export function signedHeaderNames(list: string, kind: 'malformed' | 'presignMalformed'): string[] {
  const names = list.split(';');
  if (!names.includes('host') || names.some((n) => !/^[a-z0-9-]+$/.test(n))) throw new GatewayRefusal(kind, 'SignedHeaders must list host and lower-case header names');
  return names;
}

/** `YYYYMMDDTHHMMSSZ` to a Date, or undefined. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value ?? '');
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  // Date.UTC rolls month 13 into the next year: only a date that reads back the same is one.
  return d.toISOString().replace(/[-:]|\.\d{3}/g, '') === value ? d : undefined;
}

/** Raw query string to the signer's shape (decoded keys and values; repeated keys as arrays). */
export function queryObject(rawQuery: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    const prev = Object.hasOwn(out, key) ? out[key] : undefined;
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new GatewayRefusal('malformed', 'the query string is not valid percent-encoding');
  }
}

export interface VerifyInput {
  method: string;
  host: string;
  rawPath: string;
  query: Record<string, string | string[]>;
  /** Lower-case header name -> value, repeated headers joined by ",". */
  headers: Record<string, string>;
  /** The body for services whose payload hash the gateway computes; undefined when x-amz-content-sha256 is signed. */
  body?: Buffer;
  auth: ParsedAuth;
  secret: string;
  signingDate: Date;
}

function signerFor(service: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): SignatureV4 {
  // S3 signs the path as sent; every other service normalises and encodes it once more (SigV4 rules).
  return new SignatureV4({ service, region, credentials, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum: false });
}

/** True when the agent's signature is the one its secret gives for this request. */
export async function verifySignature(v: VerifyInput): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of v.auth.signedHeaders) {
    const value = v.headers[name];
    if (value === undefined) return false;
    headers[name] = value;
  }
  const request: SignableRequest = { method: v.method, protocol: 'https:', hostname: v.host, path: v.rawPath, query: v.query, headers, ...(v.body ? { body: v.body } : {}) };
  const signed = await signerFor(v.auth.service, v.auth.region, { accessKeyId: v.auth.accessKeyId, secretAccessKey: v.secret }).sign(request, {
    signingDate: v.signingDate,
    signingRegion: v.auth.region,
    signingService: v.auth.service,
    signableHeaders: new Set(v.auth.signedHeaders),
  });
  const authorization = String(signed.headers.authorization ?? signed.headers.Authorization ?? '');
  const m = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!m || m[1] !== [...v.auth.signedHeaders].sort().join(';')) return false;
  const a = Buffer.from(m[2]!);
  const b = Buffer.from(v.auth.signature);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ResignInput {
  method: string;
  upstream: URL;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  signedHeaders: Set<string>;
  payloadHash: string;
  service: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  now: Date;
}

/** The forwarded request's headers, signed with the session's real credentials. */
export async function resign(r: ResignInput): Promise<Record<string, string>> {
  const host = r.upstream.host;
  const request: SignableRequest = {
    method: r.method,
    protocol: r.upstream.protocol,
    hostname: r.upstream.hostname,
    ...(r.upstream.port ? { port: Number(r.upstream.port) } : {}),
    path: r.path,
    query: r.query,
    headers: { ...r.headers, host, 'x-amz-content-sha256': r.payloadHash },
  };
  const signed = await signerFor(r.service, r.region, r.credentials).sign(request, {
    signingDate: r.now,
    signingRegion: r.region,
    signingService: r.service,
    signableHeaders: new Set([...r.signedHeaders, 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']),
  });
  return signed.headers as Record<string, string>;
}

/**
 * An aws-chunked signature chain under one key: its seed (the request's signature), date and scope, and the
 * SDK signer's `sign(stringToSign)` for its chunk and trailer strings-to-sign.
 */
export function chunkChain(seed: string, signingDate: Date, service: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string }): ChunkChain {
  const signer = signerFor(service, region, credentials);
  const amzDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
  return {
    seed,
    amzDate,
    scope: `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`,
    sign: (stringToSign) => signer.sign(stringToSign, { signingDate, signingRegion: region, signingService: service }),
  };
}

/** The `Signature=` of an Authorization header the signer wrote. */
export function signatureOf(headers: Record<string, string>): string {
  const m = /Signature=([0-9a-f]{64})$/.exec(String(headers.authorization ?? headers.Authorization ?? ''));
  if (!m) throw new Error('the signer wrote no signature');
  return m[1]!;
}

export interface PresignVerifyInput {
  method: string;
  host: string;
  rawPath: string;
  /** The query without the presign parameters (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Signature). */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  auth: ParsedAuth;
  secret: string;
  signingDate: Date;
  expiresSeconds: number;
  /** X-Amz-Security-Token as given, when the URL carries one (signed like any query parameter). */
  securityToken?: string;
}

/**
 * True when a presigned URL's X-Amz-Signature is the one the agent's secret gives: the SDK signer presigns the
 * same request (its signed headers, S3's UNSIGNED-PAYLOAD) with the same date and lifetime, and the two are
 * compared in constant time.
 */
export async function verifyPresigned(v: PresignVerifyInput): Promise<boolean> {
  const headers: Record<string, string> = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  for (const name of v.auth.signedHeaders) {
    const value = v.headers[name];
    if (value === undefined) return false;
    headers[name] = value;
  }
  const query = { ...v.query, ...(v.securityToken !== undefined ? { 'X-Amz-Security-Token': v.securityToken } : {}) };
  const request: SignableRequest = { method: v.method, protocol: 'https:', hostname: v.host, path: v.rawPath, query, headers };
  const signed = await signerFor(v.auth.service, v.auth.region, { accessKeyId: v.auth.accessKeyId, secretAccessKey: v.secret }).presign(request, {
    signingDate: v.signingDate,
    expiresIn: v.expiresSeconds,
    signingRegion: v.auth.region,
    signingService: v.auth.service,
    signableHeaders: new Set(v.auth.signedHeaders),
    unsignableHeaders: new Set(['x-amz-content-sha256']),
    // Signed headers stay headers; the signer would otherwise move x-amz-* ones into the query.
    unhoistableHeaders: new Set(Object.keys(headers)),
  });
  if (signed.query?.['X-Amz-SignedHeaders'] !== [...v.auth.signedHeaders].sort().join(';')) return false;
  const given = Buffer.from(v.auth.signature);
  const computed = Buffer.from(String(signed.query?.['X-Amz-Signature'] ?? ''));
  return given.length === computed.length && timingSafeEqual(given, computed);
}

export const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
