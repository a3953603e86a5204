/**
 * Forwarding one verified call: the agent's headers minus its signature and anything hop-by-hop, re-signed with
 * the session's real credentials, sent to the upstream the gateway derived itself, and AWS's answer streamed back
 * unchanged (status, headers, body, AWS errors included). Bodies are piped both ways; only error answers are
 * peeked at (their first few KB) to read the AWS error code for the audit line.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { resign } from './sigv4';

/** Never forwarded: the agent's own signature and token, and hop-by-hop or proxy headers. */
const DROPPED = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);
const HOP_BY_HOP_ANSWER = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer']);
const ERROR_PEEK_BYTES = 8192;
/** No byte from or to the upstream for this long ends the call. */
const UPSTREAM_IDLE_MS = 5 * 60_000;

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 512 }), https: new https.Agent({ keepAlive: true, maxSockets: 512 }) };

export interface ForwardInput {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  upstream: URL;
  /** Path and raw query to send (`/bucket/key?x=1`). */
  path: string;
  rawQuery: string;
  query: Record<string, string | string[]>;
  /** Lower-case header name -> value, as received. */
  headers: Record<string, string>;
  signedHeaders: Set<string>;
  payloadHash: string;
  /** The buffered body, or undefined to pipe the request through. */
  body?: Buffer;
  service: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  now: Date;
  /**
   * The body to send, built from the re-signed headers (an aws-chunked body, its chunks signed on from the
   * re-signed request's signature); the request itself is piped through when absent. A stream that errors
   * aborts the upstream request, so AWS never completes it, and the call rejects with that error.
   */
  reframe?: (signedHeaders: Record<string, string>) => Readable;
  /** Called before the body is read (answers `Expect: 100-continue` only once the call is allowed). */
  onBodyWanted?: () => void;
}

export interface ForwardResult {
  status: number;
  code?: string;
  bytesIn: number;
  bytesOut: number;
}

export async function forward(f: ForwardInput): Promise<ForwardResult> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(f.headers)) if (!DROPPED.has(name)) headers[name] = value;
  const signed = await resign({ ...f, headers, path: f.path, query: f.query });
  const client = f.upstream.protocol === 'https:' ? https : http;
  return new Promise<ForwardResult>((resolve, reject) => {
    let bytesIn = 0;
    let bytesOut = 0;
    const upReq = client.request({
      protocol: f.upstream.protocol,
      hostname: f.upstream.hostname,
      port: f.upstream.port || undefined,
      method: f.method,
      path: f.rawQuery ? `${f.path}?${f.rawQuery}` : f.path,
      headers: signed,
      agent: f.upstream.protocol === 'https:' ? agents.https : agents.http,
    });
    // An upstream that stops answering is given up on, as an SDK would.
    upReq.setTimeout(UPSTREAM_IDLE_MS, () => upReq.destroy(new Error('upstream idle timeout')));
    // The agent went away: stop the upstream call too (a 1 GB transfer is not finished for nobody).
    const abort = (): void => {
      if (!f.res.writableFinished) upReq.destroy();
    };
    f.res.once('close', abort);
    upReq.once('error', (err) => {
      f.res.off('close', abort);
      reject(err);
    });
    upReq.once('response', (up: IncomingMessage) => {
      const status = up.statusCode ?? 502;
      const out: Array<[string, string]> = [];
      for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP_ANSWER.has(up.rawHeaders[i]!.toLowerCase())) out.push([up.rawHeaders[i]!, up.rawHeaders[i + 1]!]);
      }
      f.res.writeHead(status, out.flat());
      const peek: Buffer[] = [];
      let peeked = 0;
      up.on('data', (chunk: Buffer) => {
        bytesOut += chunk.length;
        if (status >= 300 && peeked < ERROR_PEEK_BYTES) {
          peek.push(chunk);
          peeked += chunk.length;
        }
      });
      up.pipe(f.res);
      up.once('end', () => {
        f.res.off('close', abort);
        resolve({ status, bytesIn, bytesOut, ...errorCode(status, up.headers, Buffer.concat(peek)) });
      });
      up.once('error', (err) => reject(err));
    });
    if (f.body) {
      bytesIn = f.body.length;
      upReq.end(f.body);
    } else {
      f.onBodyWanted?.();
      f.req.on('data', (chunk: Buffer) => (bytesIn += chunk.length));
      const body: Readable = f.reframe ? f.reframe(signed) : f.req;
      body.once('error', (err) => upReq.destroy(err));
      body.pipe(upReq);
    }
  });
}

/** The AWS error code of an error answer: `x-amzn-ErrorType`, JSON `__type`, or XML `<Code>`. */
function errorCode(status: number, headers: http.IncomingHttpHeaders, peek: Buffer): { code?: string } {
  if (status < 300) return {};
  const header = headers['x-amzn-errortype'];
  const fromHeader = (Array.isArray(header) ? header[0] : header)?.split(':')[0];
  const text = peek.toString('utf8');
  const raw = fromHeader ?? /"__type"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? /<Code>([^<]{1,128})<\/Code>/.exec(text)?.[1];
  const code = raw?.slice(raw.lastIndexOf('#') + 1);
  return code && /^[A-Za-z0-9.]{1,128}$/.test(code) ? { code } : {};
}
