/**
 * A closed-loop load generator: `concurrency` workers, each sending its next request as soon as the previous
 * one answered, until `count` requests were sent. Latency is measured here, in the client, for every request.
 */
import http from 'node:http';

export interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  /** Status codes (or error names) of failed requests, with counts. */
  failures: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Raw outcome of one closed-loop run; `summarize` turns one or several into a LoadResult. */
export interface LoadRun {
  concurrency: number;
  latenciesMs: Float64Array;
  seconds: number;
  failures: Record<string, number>;
}

/** `fire` sends request number i; it resolves with null on success or a short failure label. */
export async function closedLoop(count: number, concurrency: number, fire: (i: number) => Promise<string | null>): Promise<LoadRun> {
  const latenciesMs = new Float64Array(count);
  const failures: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const start = process.hrtime.bigint();
      let failure: string | null;
      try {
        failure = await fire(i);
      } catch (err) {
        failure = (err as Error)?.name ?? 'Error';
      }
      latenciesMs[i] = Number(process.hrtime.bigint() - start) / 1e6;
      if (failure !== null) failures[failure] = (failures[failure] ?? 0) + 1;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { concurrency, latenciesMs, seconds: Number(process.hrtime.bigint() - start) / 1e9, failures };
}

/** Throughput and latency over runs of the same kind (rounds alternated with another mode), pooled. */
export function summarize(runs: LoadRun[]): LoadResult {
  const sorted = Float64Array.from(runs.flatMap((r) => [...r.latenciesMs])).sort();
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const failures: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + n;
  return {
    concurrency: runs[0]?.concurrency ?? 0,
    requests: sorted.length,
    errors: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    seconds,
    perSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A keep-alive agent holding up to `sockets` connections, so each worker keeps its own. */
export const keepAliveAgent = (sockets: number): http.Agent => new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

/** One HTTP request over the agent; the body is read whole. */
export function request(agent: http.Agent, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
    req.on('error', reject);
    req.end(opts.body);
  });
}
