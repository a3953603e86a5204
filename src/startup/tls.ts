import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { RequestListener } from 'node:http';
import { ConfigError, type Config } from '../config';

/** The PEM material of `server.tls`, read once at start. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads `server.tls`'s certificate and key, and checks they load as a pair, so a wrong file is a ConfigError
 * naming the field at start (and in `sts-vend check`) rather than a handshake failure on the first request.
 * Undefined when the config has no `server.tls` (TLS is terminated by a proxy).
 */
export function readTls(config: Config): TlsMaterial | undefined {
  const files = config.server.tls;
  if (!files) return undefined;
  const problems: string[] = [];
  const read = (field: 'certFile' | 'keyFile'): Buffer | undefined => {
    try {
      return readFileSync(files[field]);
    } catch (err) {
      problems.push(`server.tls.${field}: cannot read ${files[field]} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const cert = read('certFile');
  const key = read('keyFile');
  if (!cert || !key) throw new ConfigError(problems);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    // OpenSSL's message says which part failed, e.g. "key values mismatch" or "no start line" (not PEM).
    throw new ConfigError([`server.tls: ${files.certFile} and ${files.keyFile} do not load as a certificate and its key (${(err as Error).message})`]);
  }
  return { cert, key };
}

/**
 * Idle keep-alive connections live longer than a load balancer's own idle timeout (60 s on an AWS ALB and most
 * others): with Node's default of 5 s the service would close a connection the balancer is about to reuse, and
 * that request would fail with a 502 nobody sent. Headers must be allowed a little longer still (Node's rule).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const LISTENER_OPTIONS = { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, headersTimeout: KEEP_ALIVE_TIMEOUT_MS + 1000 };

/** An HTTPS server when TLS material is given, else plain HTTP (for a TLS-terminating proxy in front). */
export function createServer(app: RequestListener, tls: TlsMaterial | undefined): http.Server {
  return tls ? https.createServer({ ...LISTENER_OPTIONS, cert: tls.cert, key: tls.key }, app) : http.createServer(LISTENER_OPTIONS, app);
}
