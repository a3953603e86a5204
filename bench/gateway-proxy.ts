/**
 * The proxy-mode section: (a) the same SDK call (S3 GetObject of a small object, the JS SDK v3 S3Client) made
 * directly to the emulator, through the gateway in endpoint mode (AWS_ENDPOINT_URL) and through it in proxy mode
 * (CONNECT to the AWS host name, TLS with the gateway CA's certificate), rounds alternated, at concurrency 1 and
 * 16: added latency per call and the service's CPU per call; (b) a 50 MB PutObject directly to the emulator and
 * through the gateway in both modes, in the same run, alternated: throughput, and the ratio to direct.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DevIssuer } from '../src/dev/dev-issuer';
import { cpuPerRequest, cpuSnapshot } from './cpu';
import { closedLoop, summarize, type LoadResult, type LoadRun } from './load';
import { vendGatewayAndReal, type GatewayCredentials, type RealCredentials } from './gateway-sessions';

const LEVELS = [
  { concurrency: 1, requests: 450 },
  { concurrency: 16, requests: 1500 },
] as const;
const ROUNDS = 3;
const UPLOAD_BYTES = 50 * 1024 * 1024;
const UPLOAD_ROUNDS = 5;
const OBJECT = { Bucket: 'backend-data', Key: 'reports/2026/q3.csv' };
const BODY = { template: 's3-write-prefix', parameters: { bucket: 'backend-data', prefix: 'agent-out/' } };
const MODES = ['direct', 'endpoint', 'proxy'] as const;
type Mode = (typeof MODES)[number];

export interface ProxyLevel {
  concurrency: number;
  results: Record<Mode, LoadResult>;
  /** Proxy-mode p50/p99 less direct, and less endpoint mode (what TLS termination adds). */
  addedP50Ms: { vsDirect: number; vsEndpoint: number };
  addedP99Ms: { vsDirect: number; vsEndpoint: number };
  /** Service CPU ms per call in each mode (the gateway runs in the service process). */
  serviceCpuMsPerCall: Record<Mode, number>;
}

export interface UploadResult {
  bytes: number;
  /** Median MB/s (10^6 bytes) over the rounds, per mode. */
  mbPerSecond: Record<Mode, number>;
  ratio: { endpoint: number; proxy: number };
  errors: number;
}

export interface ProxyBench {
  levels: ProxyLevel[];
  upload: UploadResult;
  certificatesMinted?: number;
}

interface Target {
  serviceUrl: string;
  gatewayUrl: string;
  awsUrl: string;
  issuer: DevIssuer;
  pids: Record<string, number>;
}

/**
 * An https.Agent whose connections are CONNECT tunnels through the gateway's proxy, trusting only its CA: what a
 * proxy-aware client does when HTTPS_PROXY is set (the JS SDK on Node 20 does not read it by itself).
 */
class TunnelAgent extends HttpsAgent {
  constructor(
    private readonly proxy: URL,
    private readonly ca: string,
    opts: AgentOptions,
  ) {
    super(opts);
  }

  override createConnection(options: { host?: string | null; port?: number | string | null; servername?: string }, cb: (err: Error | null, s?: Duplex) => void): undefined {
    const host = options.host ?? '';
    const port = Number(options.port ?? 443);
    const raw = net.connect(Number(this.proxy.port), this.proxy.hostname, () => raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      raw.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) return cb(new Error(`CONNECT ${host}: ${head.split('\r\n')[0]}`));
      const secure = tls.connect({ socket: raw, servername: options.servername ?? host, ca: this.ca, ALPNProtocols: ['http/1.1'] }, () => cb(null, secure));
      secure.once('error', (err) => cb(err));
    };
    raw.on('data', onData);
    raw.once('error', (err) => cb(err));
    return undefined;
  }
}


function clients(t: Target, gw: GatewayCredentials, real: RealCredentials, sockets: number): Record<Mode, S3Client> {
  // Plain bodies (no aws-chunked checksums), as `exec --gateway` asks of SDKs; the same in every mode.
  const common = { region: 'us-east-1', maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' as const };
  const http = () => new HttpAgent({ keepAlive: true, maxSockets: sockets });
  return {
    direct: new S3Client({ ...common, endpoint: t.awsUrl, forcePathStyle: true, credentials: real, requestHandler: { httpAgent: http() } }),
    endpoint: new S3Client({ ...common, endpoint: gw.endpointUrl, forcePathStyle: true, credentials: gw, requestHandler: { httpAgent: http() } }),
    // No endpoint: the SDK addresses backend-data.s3.amazonaws.com, as it would AWS.
    proxy: new S3Client({ ...common, credentials: gw, requestHandler: { httpsAgent: new TunnelAgent(new URL(gw.proxyUrl!), gw.caBundle!, { keepAlive: true, maxSockets: sockets }) } }),
  };
}

export async function measureGatewayProxy(t: Target, log: (line: string) => void): Promise<ProxyBench> {
  const { gw, real } = await vendGatewayAndReal(t.serviceUrl, t.issuer, 9100, BODY);
  if (!gw.proxyUrl || !gw.caBundle) throw new Error('the service answered no gateway.proxyUrl: proxy mode is off');
  // s3-write-prefix reads only its prefix: the object read in the loop is put there first.
  const read = { Bucket: OBJECT.Bucket, Key: 'agent-out/bench-proxy.csv' };

  const levels: ProxyLevel[] = [];
  for (const { concurrency, requests } of LEVELS) {
    const c = clients(t, gw, real, concurrency);
    await c.direct.send(new PutObjectCommand({ ...read, Body: randomBytes(2048) }));
    const fire = (mode: Mode) => async () => {
      const out = await c[mode].send(new GetObjectCommand(read));
      await out.Body!.transformToByteArray();
      return null;
    };
    const warm = Math.max(60, concurrency * 4);
    for (const mode of MODES) await closedLoop(warm, concurrency, fire(mode));
    const runs: Record<Mode, LoadRun[]> = { direct: [], endpoint: [], proxy: [] };
    const cpu: Record<Mode, number> = { direct: 0, endpoint: 0, proxy: 0 };
    const perRound = Math.ceil(requests / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      // Each round in another order, so no mode always follows the same one.
      const order = MODES.map((_m, i) => MODES[(i + round) % MODES.length]!);
      for (const mode of order) {
        const before = cpuSnapshot(t.pids);
        runs[mode].push(await closedLoop(perRound, concurrency, fire(mode)));
        cpu[mode] += cpuPerRequest(before, cpuSnapshot(t.pids), 1).service ?? NaN;
      }
    }
    const results = { direct: summarize(runs.direct), endpoint: summarize(runs.endpoint), proxy: summarize(runs.proxy) };
    const level: ProxyLevel = {
      concurrency,
      results,
      addedP50Ms: { vsDirect: results.proxy.p50Ms - results.direct.p50Ms, vsEndpoint: results.proxy.p50Ms - results.endpoint.p50Ms },
      addedP99Ms: { vsDirect: results.proxy.p99Ms - results.direct.p99Ms, vsEndpoint: results.proxy.p99Ms - results.endpoint.p99Ms },
      serviceCpuMsPerCall: { direct: cpu.direct / results.direct.requests, endpoint: cpu.endpoint / results.endpoint.requests, proxy: cpu.proxy / results.proxy.requests },
    };
    levels.push(level);
    for (const client of Object.values(c)) client.destroy();
    const errors = MODES.reduce((n, m) => n + results[m].errors, 0);
    log(
      `  c=${concurrency}: p50 direct ${f(results.direct.p50Ms)} ms, endpoint ${f(results.endpoint.p50Ms)} ms, proxy ${f(results.proxy.p50Ms)} ms; ` +
        `service CPU endpoint ${f(level.serviceCpuMsPerCall.endpoint)} / proxy ${f(level.serviceCpuMsPerCall.proxy)} ms/call${errors ? `; errors ${JSON.stringify(MODES.map((m) => results[m].failures))}` : ''}`,
    );
  }
  const upload = await measureUpload(t, gw, real, log);
  return { levels, upload };
}

async function measureUpload(t: Target, gw: GatewayCredentials, real: RealCredentials, log: (line: string) => void): Promise<UploadResult> {
  const body = randomBytes(UPLOAD_BYTES);
  const c = clients(t, gw, real, 1);
  const seconds: Record<Mode, number[]> = { direct: [], endpoint: [], proxy: [] };
  let errors = 0;
  // One warm-up each (connections, the proxy's certificate), then alternated rounds.
  for (const round of [-1, ...Array.from({ length: UPLOAD_ROUNDS }, (_v, i) => i)]) {
    const order = MODES.map((_m, i) => MODES[(i + Math.max(0, round)) % MODES.length]!);
    for (const mode of order) {
      const start = process.hrtime.bigint();
      try {
        await c[mode].send(new PutObjectCommand({ Bucket: 'backend-data', Key: `agent-out/bench-upload-${mode}.bin`, Body: body, ContentLength: body.length }));
      } catch (err) {
        errors += 1;
        log(`  upload ${mode} failed: ${(err as Error).name} ${(err as Error).message.slice(0, 200)}`);
        continue;
      }
      if (round >= 0) seconds[mode].push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  for (const client of Object.values(c)) client.destroy();
  const mbps = (mode: Mode): number => {
    const sorted = [...seconds[mode]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return median ? UPLOAD_BYTES / 1e6 / median : NaN;
  };
  const mbPerSecond = { direct: mbps('direct'), endpoint: mbps('endpoint'), proxy: mbps('proxy') };
  const result = { bytes: UPLOAD_BYTES, mbPerSecond, ratio: { endpoint: mbPerSecond.endpoint / mbPerSecond.direct, proxy: mbPerSecond.proxy / mbPerSecond.direct }, errors };
  log(`  50 MB PutObject: direct ${f(mbPerSecond.direct, 0)} MB/s, endpoint ${f(mbPerSecond.endpoint, 0)} MB/s (${f(result.ratio.endpoint)}), proxy ${f(mbPerSecond.proxy, 0)} MB/s (${f(result.ratio.proxy)})`);
  return result;
}

const f = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
