/**
 * The gateway section: the same SDK call (S3 GetObject of a small object, the JS SDK v3 S3Client) made through
 * the gateway with gateway credentials and made directly to the emulator with a session's real credentials, in
 * the same run, at concurrency 1, 16 and 64, rounds alternated. Reports added p50/p99 and the service process's
 * CPU per proxied call (the gateway runs in the service's process).
 */
import { Agent } from 'node:http';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DevIssuer } from '../src/dev/dev-issuer';
import { cpuPerRequest, cpuSnapshot } from './cpu';
import { closedLoop, summarize, type LoadResult, type LoadRun } from './load';
import { vendGatewayAndReal } from './gateway-sessions';

const LEVELS = [
  { concurrency: 1, requests: 600 },
  { concurrency: 16, requests: 3000 },
  { concurrency: 64, requests: 3000 },
] as const;
const ROUNDS = 3;
const OBJECT = { Bucket: 'backend-data', Key: 'reports/2026/q3.csv' };
const BODY = { template: 's3-read-prefix', parameters: { bucket: 'backend-data', prefix: 'reports/2026/' } };

export interface GatewayLevel {
  concurrency: number;
  direct: LoadResult;
  gateway: LoadResult;
  addedP50Ms: number;
  addedP99Ms: number;
  /** CPU ms per call of each process, per mode (bench = the SDK client in this process). */
  cpuMsPerCall: { direct: Record<string, number>; gateway: Record<string, number> };
}

interface Target {
  serviceUrl: string;
  gatewayUrl: string;
  awsUrl: string;
  issuer: DevIssuer;
  pids: Record<string, number>;
}

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, sockets: number): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: sockets }) },
  });
}

export async function measureGatewayOverhead(t: Target, log: (line: string) => void): Promise<GatewayLevel[]> {
  const { gw, real } = await vendGatewayAndReal(t.serviceUrl, t.issuer, 9000, BODY);
  const levels: GatewayLevel[] = [];
  for (const { concurrency, requests } of LEVELS) {
    const clients = { direct: client(t.awsUrl, real, concurrency), gateway: client(gw.endpointUrl, gw, concurrency) };
    const fire = (mode: 'direct' | 'gateway') => async () => {
      const out = await clients[mode].send(new GetObjectCommand(OBJECT));
      await out.Body!.transformToByteArray();
      return null;
    };
    const warm = Math.max(100, concurrency * 4);
    await closedLoop(warm, concurrency, fire('direct'));
    await closedLoop(warm, concurrency, fire('gateway'));
    const runs: Record<'direct' | 'gateway', LoadRun[]> = { direct: [], gateway: [] };
    const cpu: Record<'direct' | 'gateway', Record<string, number>> = { direct: {}, gateway: {} };
    const perRound = Math.ceil(requests / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const)) {
        const before = cpuSnapshot(t.pids);
        runs[mode].push(await closedLoop(perRound, concurrency, fire(mode)));
        for (const [name, used] of Object.entries(cpuPerRequest(before, cpuSnapshot(t.pids), 1))) cpu[mode][name] = (cpu[mode][name] ?? 0) + used;
      }
    }
    const [direct, gateway] = [summarize(runs.direct), summarize(runs.gateway)];
    const per = (totals: Record<string, number>, n: number) => Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / n]));
    const level: GatewayLevel = {
      concurrency,
      direct,
      gateway,
      addedP50Ms: gateway.p50Ms - direct.p50Ms,
      addedP99Ms: gateway.p99Ms - direct.p99Ms,
      cpuMsPerCall: { direct: per(cpu.direct, direct.requests), gateway: per(cpu.gateway, gateway.requests) },
    };
    levels.push(level);
    clients.direct.destroy();
    clients.gateway.destroy();
    log(
      `  c=${concurrency}: direct ${direct.perSecond.toFixed(0)}/s p50 ${direct.p50Ms.toFixed(2)} ms; gateway ${gateway.perSecond.toFixed(0)}/s p50 ${gateway.p50Ms.toFixed(2)} ms; ` +
        `service CPU ${f(level.cpuMsPerCall.gateway.service)} ms/call${direct.errors + gateway.errors > 0 ? `; errors ${JSON.stringify({ ...direct.failures, ...gateway.failures })}` : ''}`,
    );
  }
  return levels;
}

const f = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(3));
