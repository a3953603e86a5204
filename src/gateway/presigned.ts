/**
 * Presigned URLs made with gateway credentials (docs/aws.md, "SigV4, as a gateway sees it"): the query's
 * X-Amz-* parameters are the signature, and they are read, bounded and checked here. A valid URL is served like
 * any call (checkpoint on every use, the template's rules) and forwarded with header auth and the session's real
 * credentials: none of the presign parameters goes upstream, and the x-amz-* headers a signer moved into the
 * query go back to being headers.
 */
import { GatewayRefusal } from './aws-errors';
import { MAX_SKEW_MS, parseAmzDate, queryObject, SIGV4A_REFUSAL, credentialScope, signedHeaderNames, type ParsedAuth } from './sigv4';

/** SigV4's longest presigned lifetime: 7 days. */
export const MAX_PRESIGN_SECONDS = 604_800;

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];
const PRESIGN_LOWER = new Set(PRESIGN_PARAMS.map((p) => p.toLowerCase()));

export interface PresignedAuth extends ParsedAuth {
  amzDate: string;
  signingDate: Date;
  expiresSeconds: number;
  securityToken?: string;
}

const bad = (message: string): GatewayRefusal => new GatewayRefusal('presignMalformed', message);

/** True when the query carries a presigned signature (any of its parameters, in any case). */
/** Whether the query names any presign parameter, X-Amz-Security-Token included, in any case. */
export function hasPresignParameter(rawQuery: string): boolean {
  return rawQuery !== '' && Object.keys(queryObject(rawQuery)).some((k) => PRESIGN_LOWER.has(k.toLowerCase()));
}

export function isPresigned(rawQuery: string): boolean {
  return rawQuery !== '' && Object.keys(queryObject(rawQuery)).some((k) => PRESIGN_LOWER.has(k.toLowerCase()) && k !== 'X-Amz-Security-Token');
}

/** The presigned query's parts, each given once and well formed; a refusal naming the parameter otherwise. */
export function parsePresigned(rawQuery: string): PresignedAuth {
  const q = queryObject(rawQuery);
  const one = (name: string): string => {
    const value = q[name];
    if (value === undefined) throw bad(`Query-string authentication requires the ${PRESIGN_PARAMS.slice(0, 6).join(', ')} parameters; ${name} is missing`);
    if (Array.isArray(value)) throw bad(`${name} must be given once`);
    return value;
  };
  for (const key of Object.keys(q)) {
    if (PRESIGN_LOWER.has(key.toLowerCase()) && !PRESIGN_PARAMS.includes(key)) throw bad(`the presign parameter ${key.slice(0, 40)} must be spelt ${PRESIGN_PARAMS.find((p) => p.toLowerCase() === key.toLowerCase())}`);
  }
  const algorithm = one('X-Amz-Algorithm');
  if (algorithm === 'AWS4-ECDSA-P256-SHA256') throw new GatewayRefusal('unsupported', SIGV4A_REFUSAL);
  if (algorithm !== 'AWS4-HMAC-SHA256') throw bad('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const scope = credentialScope(one('X-Amz-Credential').split('/'), 'presignMalformed');
  const amzDate = one('X-Amz-Date');
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== scope.date) throw bad('X-Amz-Date must be YYYYMMDDTHHMMSSZ, on the date of X-Amz-Credential');
  const expires = one('X-Amz-Expires');
  // Digits as the signer writes them (no sign, no leading zero), so the signed query reads back the same.
  if (!/^[1-9]\d{0,6}$/.test(expires)) throw bad('X-Amz-Expires must be a whole number of seconds');
  const expiresSeconds = Number(expires);
  if (expiresSeconds > MAX_PRESIGN_SECONDS) throw bad(`X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_PRESIGN_SECONDS}`);
  const signature = one('X-Amz-Signature');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw bad('X-Amz-Signature must be 64 lower-case hex digits');
  const token = q['X-Amz-Security-Token'];
  if (Array.isArray(token)) throw bad('X-Amz-Security-Token must be given once');
  return {
    ...scope,
    signedHeaders: signedHeaderNames(one('X-Amz-SignedHeaders'), 'presignMalformed'),
    signature,
    amzDate,
    signingDate,
    expiresSeconds,
    ...(token !== undefined ? { securityToken: token } : {}),
  };
}

/** Refuses a URL used before its X-Amz-Date (beyond the clock skew allowed) or after its X-Amz-Expires. */
export function checkPresignedWindow(p: PresignedAuth, now: Date): void {
  if (p.signingDate.getTime() - now.getTime() > MAX_SKEW_MS) throw new GatewayRefusal('presignExpired', 'Request is not valid yet');
  if (now.getTime() > p.signingDate.getTime() + p.expiresSeconds * 1000) throw new GatewayRefusal('presignExpired', 'Request has expired');
}

/**
 * The query to sign and send upstream: the raw query without the presign parameters, and the other `x-amz-*`
 * parameters (headers a signer hoisted into the query) as headers.
 */
export function upstreamOfPresigned(rawQuery: string): { rawQuery: string; headers: Record<string, string> } {
  const kept: string[] = [];
  const headers: Record<string, string> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const parsed = queryObject(pair);
    const key = Object.keys(parsed)[0] ?? '';
    const lower = key.toLowerCase();
    if (PRESIGN_LOWER.has(lower)) continue;
    if (lower.startsWith('x-amz-') && /^[a-z0-9-]+$/.test(lower) && eq >= 0) {
      const value = parsed[key] as string;
      headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
      continue;
    }
    kept.push(pair);
  }
  return { rawQuery: kept.join('&'), headers };
}

/** The presigned query object without the signature itself (what the signer is given to presign again). */
export function presignedSigningQuery(rawQuery: string): Record<string, string | string[]> {
  const q = queryObject(rawQuery);
  for (const name of PRESIGN_PARAMS) delete q[name];
  return q;
}
