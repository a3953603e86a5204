/**
 * Hand-made SigV4 requests for the gateway's security tables: the SDK's own signer over a request whose every
 * part (Host, date, scope, key, body) the test chooses, sent with node:http so nothing rewrites the Host.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/gateway/sigv4';

export interface RawCall {
  base: string;
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** Signed as this Host (default: the base URL's). */
  host?: string;
  service: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  date?: Date;
  /** Sent instead of `path` (the signature still covers `path`). */
  sendPath?: string;
  /** Edits the signed headers before sending (to tamper after signing). */
  tamper?: (headers: Record<string, string>) => void;
  /**
   * An aws-chunked body, built once the request is signed from its seed signature, date and scope (sent in place
   * of `body`; its Content-Length is signed, as SDKs do).
   */
  bodyFor?: (chain: { seed: string; amzDate: string; scope: string }) => Buffer;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export async function rawCall(c: RawCall): Promise<RawAnswer> {
  const base = new URL(c.base);
  const host = c.host ?? base.host;
  let body: string | Buffer = c.body ?? '';
  const headers: Record<string, string> = { host, ...c.headers };
  // Signatures are 64 hex digits whatever they are: a body built on a dummy seed has the final length.
  if (c.bodyFor) headers['content-length'] = String(c.bodyFor({ seed: '0'.repeat(64), amzDate: '19700101T000000Z', scope: '19700101/us-east-1/s3/aws4_request' }).length);
  if (c.service === 's3' && !headers['x-amz-content-sha256']) headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  const signer = new SignatureV4({ service: c.service, region: c.region ?? 'us-east-1', credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, sha256: Sha256, uriEscapePath: c.service !== 's3' });
  const signed = await signer.sign(
    { method: c.method ?? 'GET', protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path: c.path, query: c.query ?? {}, headers, ...(c.bodyFor ? {} : { body }) },
    { signingDate: c.date ?? new Date() },
  );
  const out = { ...(signed.headers as Record<string, string>) };
  if (c.bodyFor) {
    const amzDate = out['x-amz-date']!;
    body = c.bodyFor({ seed: /Signature=([0-9a-f]{64})/.exec(out.authorization!)![1]!, amzDate, scope: `${amzDate.slice(0, 8)}/${c.region ?? 'us-east-1'}/${c.service}/aws4_request` });
  }
  c.tamper?.(out);
  const qs = new URLSearchParams(c.query ?? {}).toString().replace(/\+/g, '%20');
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: base.hostname, port: base.port, method: c.method ?? 'GET', path: qs ? `${c.sendPath ?? c.path}?${qs}` : (c.sendPath ?? c.path), headers: out }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The AWS error code of an answer: XML `<Code>` or JSON `__type`. */
export const errorCodeOf = (a: RawAnswer): string | undefined => /<Code>([^<]+)<\/Code>/.exec(a.body)?.[1] ?? (/"__type":"([^"]+)"/.exec(a.body)?.[1]);
