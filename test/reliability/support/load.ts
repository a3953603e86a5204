/**
 * Load for the reliability suite: a real HTTP client with keep-alive against a listening service, and a pool
 * that runs a bounded number of requests at a time. No timing is asserted anywhere; the pool only bounds how
 * much work a test does on a shared 2-core machine.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the text. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface HttpTarget {
  base: string;
  agent: http.Agent;
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: unknown }): Promise<Answer>;
  close(): Promise<void>;
}

/** The app listening on a free loopback port, with a keep-alive client of at most `sockets` connections. */
export async function listen(app: Express, sockets = 32): Promise<HttpTarget> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const target = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets);
  return {
    ...target,
    close: async () => {
      await target.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A keep-alive JSON client for `base`; `close()` drops its sockets. */
export function client(base: string, sockets = 32): HttpTarget {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return {
    base,
    agent,
    request: (method, path, opts = {}) => send(base, agent, method, path, opts),
    close: async () => agent.destroy(),
  };
}

/** One request; rejects only when no answer arrives at all (refused or reset connection). */
export function send(
  base: string,
  agent: http.Agent | false,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string> = { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (/json/.test(res.headers['content-type'] ?? '')) {
          try {
            body = JSON.parse(text);
          } catch {
            // a malformed JSON answer is kept as text; the test sees it
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Runs `task(i)` for i in 0..count-1 with at most `concurrency` running at once; resolves with every result
 * in index order. A task that throws rejects the whole pool (after the running ones settle).
 */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
