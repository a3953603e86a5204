/**
 * A counting reverse proxy for the service's IAM endpoint (AWS_ENDPOINT_URL_IAM points here): forwards every
 * request to the emulator unchanged, Host header included so the SigV4 signature still verifies, and counts
 * requests by their `Action`. The emulator keeps no counts of its own, and counting on the wire counts what the
 * service really sent, retries included.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IamProxy {
  url: string;
  /** Requests seen so far, by Action (e.g. PutRolePolicy). */
  counts(): Record<string, number>;
  /** Requests seen so far, by "<RoleName> <Action>": shows whether calls follow roles or sessions. */
  countsByRole(): Record<string, number>;
  stop(): Promise<void>;
}

/** Starts the proxy on a free loopback port in front of `target` (the emulator's base URL). */
export async function startIamProxy(target: string): Promise<IamProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const counts: Record<string, number> = {};
  const byRole: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('latin1'));
      const action = params.get('Action') ?? 'unknown';
      const role = `${params.get('RoleName') ?? '-'} ${action}`;
      counts[action] = (counts[action] ?? 0) + 1;
      byRole[role] = (byRole[role] ?? 0) + 1;
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    countsByRole: () => ({ ...byRole }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** What was counted between two snapshots, zero entries dropped. */
export function countsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [action, n] of Object.entries(after)) if (n - (before[action] ?? 0) > 0) out[action] = n - (before[action] ?? 0);
  return out;
}
