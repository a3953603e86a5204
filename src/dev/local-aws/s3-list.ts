/**
 * The paging core of ListObjects / ListObjectsV2: prefix filter, delimiter roll-up into common prefixes
 * (each counting once toward max-keys, as in S3), resume after a key or a rolled-up prefix.
 */
import { compareKeys } from './s3-store';
import { invalidArgument } from './s3-xml';

export interface ListParams {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  /** List only keys strictly after this one (start-after, marker, or a continuation token's position). */
  after?: string;
  /** Skip every key under this prefix: set when resuming right after a common prefix was returned. */
  skipPrefix?: string;
}

export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last entry returned and whether it was a common prefix; the resume point of the next page. */
  last?: { value: string; isPrefix: boolean };
}

/** One page over keys already in S3 order. */
export function listPage(sortedKeys: string[], p: ListParams): ListPage {
  const page: ListPage = { keys: [], commonPrefixes: [], isTruncated: false };
  let count = 0;
  for (const key of sortedKeys) {
    if (!key.startsWith(p.prefix)) continue;
    if (p.after !== undefined && compareKeys(key, p.after) <= 0) continue;
    if (p.skipPrefix !== undefined && key.startsWith(p.skipPrefix)) continue;
    const rollUp = commonPrefixOf(key, p.prefix, p.delimiter);
    if (rollUp !== undefined && rollUp === page.last?.value) continue;
    if (count === p.maxKeys) {
      // S3 answers IsTruncated false to max-keys=0 even when keys exist.
      page.isTruncated = p.maxKeys > 0;
      break;
    }
    count += 1;
    if (rollUp !== undefined) page.commonPrefixes.push(rollUp);
    else page.keys.push(key);
    page.last = { value: rollUp ?? key, isPrefix: rollUp !== undefined };
  }
  return page;
}

/** The common prefix `key` rolls up into under `delimiter`, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/** Opaque V2 continuation token: the resume point, base64 so clients treat it as opaque. */
export function encodeContinuationToken(last: { value: string; isPrefix: boolean }): string {
  return Buffer.from(JSON.stringify({ a: last.value, p: last.isPrefix }), 'utf8').toString('base64');
}

/** Decodes a token from `encodeContinuationToken`; anything else is S3's InvalidArgument. */
export function decodeContinuationToken(token: string): { after: string; skipPrefix?: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'a' in parsed && typeof parsed.a === 'string') {
      return 'p' in parsed && parsed.p === true ? { after: parsed.a, skipPrefix: parsed.a } : { after: parsed.a };
    }
  } catch {
    // fall through to S3's error
  }
  throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
}

/** Parses max-keys: S3 caps it at 1000 and rejects non-integers and negatives. */
export function parseMaxKeys(raw: string | null): number {
  if (raw === null) return 1000;
  if (!/^\d+$/.test(raw)) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', raw);
  return Math.min(Number(raw), 1000);
}

/** `encoding-type=url`: S3 percent-encodes keys and prefixes in the listing but keeps `/` readable. */
export function urlEncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}
