/**
 * Reading an incoming gateway request: flat lower-case headers, the Host the agent addressed (the gateway's own
 * name, or `<bucket>.<name>` for S3 virtual-hosted style), S3's bucket and key, and a bounded body.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayRefusal } from './aws-errors';

/** Lower-case name -> value; repeated headers joined with "," as SigV4 canonicalises them. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values) out[name] = values.join(',');
  return out;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The hostname of a Host header value (`[::1]:8081` -> `::1`), lower-cased. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.replace(/:\d+$/, '');
}

/**
 * The bucket a virtual-hosted S3 request names through its Host, '' for the gateway's own name; a Host that is
 * neither is refused (the gateway never routes by Host, and answers only for its own names).
 */
export function virtualBucket(host: string | undefined, gatewayHosts: readonly string[], s3: boolean): string {
  const name = hostnameOf(host ?? '');
  if (gatewayHosts.includes(name)) return '';
  if (s3) {
    for (const own of gatewayHosts) {
      if (name.endsWith(`.${own}`) && BUCKET.test(name.slice(0, -own.length - 1))) return name.slice(0, -own.length - 1);
    }
  }
  throw new GatewayRefusal('badHost', `the Host header "${name.slice(0, 100)}" names no endpoint of this gateway`);
}

/** S3 bucket and key from a path-style path (`/bucket/key`), or the key alone when the bucket came from the Host. */
export function s3Target(rawPath: string, hostBucket: string): { bucket: string; key: string } {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new GatewayRefusal('malformed', "Couldn't parse the specified URI.");
  }
  const rest = path.replace(/^\//, '');
  if (hostBucket) return { bucket: hostBucket, key: rest };
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

/** The whole body, refused past `max` bytes (declared or received) without reading further. */
export function readBounded(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(new GatewayRefusal('tooLarge', `request bodies over ${max} bytes are not accepted by this gateway for this service`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.pause();
        reject(new GatewayRefusal('tooLarge', `request bodies over ${max} bytes are not accepted by this gateway for this service`));
      } else chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
