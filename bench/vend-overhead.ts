/**
 * Measurements 1 and 2 and Redis commands per vend: vends through the service (HTTP over loopback) against the
 * same AWS SDK STSClient calling AssumeRole directly on the same emulator, with the same concurrency and the
 * same parameters (copied from what the emulator recorded for a vend of the service).
 */
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { Agent } from 'node:http';
import type { Redis } from 'ioredis';
import type { DevIssuer } from '../src/dev/dev-issuer';
import type { SessionView } from '../src/dev/local-aws';
import { newSessionId } from '../src/vend/session-id';
import { cpuPerRequest, cpuSnapshot } from './cpu';
import { closedLoop, keepAliveAgent, request, summarize, type LoadResult, type LoadRun } from './load';
import { callsSince, commandCalls } from './redis-info';
import { agentClaims, VEND_BODY } from './world';

/** Requests per concurrency level, per mode; a fixed count so every run does the same work. */
export const LEVELS: readonly Level[] = [
  { concurrency: 1, requests: 400 },
  { concurrency: 16, requests: 2000 },
  { concurrency: 64, requests: 3000 },
];
/**
 * With STS answering 20 ms late a request at concurrency 1 takes 20 ms or more: fewer of them keep that level's
 * duration near the others'.
 */
export const REALISTIC_LEVELS: readonly Level[] = [
  { concurrency: 1, requests: 200 },
  { concurrency: 16, requests: 2000 },
  { concurrency: 64, requests: 3000 },
];
const WARM_UP = { concurrency: 16, requests: 300 };
const ROUNDS = 3;
// One developer per agent token: real load comes from many developers, each with a few sessions.
const AGENTS = 64;

export interface Level {
  concurrency: number;
  requests: number;
}

export interface LevelResult {
  concurrency: number;
  direct: LoadResult;
  service: LoadResult;
  /** throughput(service) / throughput(direct). */
  ratio: number;
  addedP50Ms: number;
  addedP99Ms: number;
  /** From the service's histograms over this level: mean vend duration minus mean AssumeRole duration. */
  serviceTimeMs: number;
  vendMeanMs: number;
  stsMeanMs: number;
  /** CPU milliseconds per request of each process (bench = load generator or direct client) in each mode. */
  cpuMsPerRequest: { direct: Record<string, number>; service: Record<string, number> };
  /**
   * Total CPU per request direct / through the service: the ratio the run would reach if every process shared
   * the cores perfectly, i.e. the bound at saturation on this machine, and steadier than throughput under noise.
   */
  cpuRatio: number;
}

export interface VendOverhead {
  levels: LevelResult[];
  /** Redis commands per vend (INFO commandstats delta / vends), scripts' inner commands included. */
  redisCommandsPerVend: number;
  redisCommandsByName: Record<string, number>;
  vendsCounted: number;
}

interface Target {
  serviceUrl: string;
  awsUrl: string;
  issuer: DevIssuer;
  redis: Redis;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Process ids whose CPU is accounted per request (emulator, service, redis). */
  pids: Record<string, number>;
  /** The levels to run (default LEVELS). */
  levels?: readonly Level[];
}

/** Sums of `<name>_sum` and `<name>_count` across label sets, from the Prometheus text. */
function histogram(text: string, name: string): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_sum`)) sum += value;
    else if (line.startsWith(`${name}_count`)) count += value;
  }
  return { sum, count };
}

/** The AssumeRole input the service sent for one vend, rebuilt from the emulator's record of it. */
function baselineInput(view: SessionView): (i: number) => AssumeRoleCommandInput {
  const durationSeconds = Math.round((Date.parse(String(view.expiresAt)) - Date.parse(String(view.issuedAt))) / 1000);
  const namePrefix = view.roleSessionName.slice(0, view.roleSessionName.lastIndexOf('.') + 1);
  return () => {
    const id = newSessionId();
    return {
      RoleArn: view.roleArn,
      RoleSessionName: `${namePrefix}${id.slice(0, 8)}`,
      DurationSeconds: durationSeconds,
      Policy: view.sessionPolicy,
      PolicyArns: view.policyArns.length > 0 ? view.policyArns.map((arn) => ({ arn })) : undefined,
      Tags: Object.entries({ ...view.tags, 'agent-session': id }).map(([Key, Value]) => ({ Key, Value })),
      TransitiveTagKeys: view.transitiveTagKeys,
      SourceIdentity: view.sourceIdentity,
    };
  };
}

type Fire = (i: number) => Promise<string | null>;

/**
 * One concurrency level: a warm-up of each mode, then ROUNDS rounds alternating which mode goes first, so a
 * neighbour's load drifting during the level hits both modes alike. Histogram and CPU deltas are taken around
 * each round of the mode they belong to.
 */
async function measureLevel(o: {
  concurrency: number;
  requests: number;
  direct: Fire;
  service: Fire;
  metrics: () => Promise<string>;
  pids: Record<string, number>;
}): Promise<{ result: LevelResult; vends: number }> {
  const warmUp = Math.max(50, o.concurrency * 4);
  await closedLoop(warmUp, o.concurrency, o.direct);
  await closedLoop(warmUp, o.concurrency, o.service);
  const perRound = Math.ceil(o.requests / ROUNDS);
  const runs: Record<'direct' | 'service', LoadRun[]> = { direct: [], service: [] };
  const cpu: Record<'direct' | 'service', Record<string, number>> = { direct: {}, service: {} };
  const hist = { vend: { sum: 0, count: 0 }, sts: { sum: 0, count: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? (['direct', 'service'] as const) : (['service', 'direct'] as const)) {
      const text = mode === 'service' ? await o.metrics() : '';
      const before = cpuSnapshot(o.pids);
      runs[mode].push(await closedLoop(perRound, o.concurrency, o[mode]));
      for (const [name, used] of Object.entries(cpuPerRequest(before, cpuSnapshot(o.pids), 1))) cpu[mode][name] = (cpu[mode][name] ?? 0) + used;
      if (mode === 'service') {
        const after = await o.metrics();
        for (const [key, name] of [['vend', 'sts_vend_vend_duration_seconds'], ['sts', 'sts_vend_sts_assume_role_duration_seconds']] as const) {
          const [b, a] = [histogram(text, name), histogram(after, name)];
          hist[key].sum += a.sum - b.sum;
          hist[key].count += a.count - b.count;
        }
      }
    }
  }
  const [direct, service] = [summarize(runs.direct), summarize(runs.service)];
  const perRequest = (totals: Record<string, number>, n: number) => Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / n]));
  const vendMeanMs = (hist.vend.sum / hist.vend.count) * 1000;
  const stsMeanMs = (hist.sts.sum / hist.sts.count) * 1000;
  const cpuMsPerRequest = { direct: perRequest(cpu.direct, direct.requests), service: perRequest(cpu.service, service.requests) };
  const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  return {
    vends: warmUp + service.requests,
    result: {
      concurrency: o.concurrency,
      direct,
      service,
      ratio: service.perSecond / direct.perSecond,
      addedP50Ms: service.p50Ms - direct.p50Ms,
      addedP99Ms: service.p99Ms - direct.p99Ms,
      serviceTimeMs: vendMeanMs - stsMeanMs,
      vendMeanMs,
      stsMeanMs,
      cpuMsPerRequest,
      cpuRatio: total(cpuMsPerRequest.direct) / total(cpuMsPerRequest.service),
    },
  };
}

/**
 * Probes one vend to copy its AssumeRole parameters, warms both paths up, then measures each level of LEVELS;
 * Redis commands per vend are INFO commandstats over every vend sent during the levels (warm-ups included).
 */
export async function measureVendOverhead(t: Target, log: (line: string) => void): Promise<VendOverhead> {
  const tokens = await Promise.all(Array.from({ length: AGENTS }, (_x, i) => t.issuer.mint(agentClaims(i), { expiresInSeconds: 3600 })));
  const body = JSON.stringify(VEND_BODY);
  let firstFailure: string | undefined;
  const vendOnce = (agent: ReturnType<typeof keepAliveAgent>) => async (i: number) => {
    const res = await request(agent, `${t.serviceUrl}/v1/vend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[i % AGENTS]}`, 'content-type': 'application/json' },
      body,
    });
    if (res.status === 200) return null;
    firstFailure ??= `${res.status} ${res.body.slice(0, 300)}`;
    return `HTTP ${res.status}`;
  };

  // The baseline's parameters are exactly those of a vend: ask the emulator what the service sent.
  const probe = keepAliveAgent(1);
  // A connection of its own each time: one kept idle through a round longer than the server's keep-alive timeout
  // (5 s, reached on a busy machine) can be closed by the server just as it is reused ("socket hang up").
  const once = new Agent({ keepAlive: false });
  const metrics = async () => (await request(once, `${t.serviceUrl}/metrics`)).body;
  const first = await request(probe, `${t.serviceUrl}/v1/vend`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
    body,
  });
  if (first.status !== 200) throw new Error(`vend through the service failed: ${first.status} ${first.body}`);
  const keyId = (JSON.parse(first.body) as { credentials: { accessKeyId: string } }).credentials.accessKeyId;
  const views = JSON.parse((await request(probe, `${t.awsUrl}/_local-aws/sessions`)).body) as SessionView[];
  const view = views.find((v) => v.accessKeyId === keyId);
  if (!view) throw new Error('the emulator has no record of the probe vend');
  const input = baselineInput(view);
  // Configured as the service configures its own: region, retries (config default 3), endpoint from the environment.
  const sts = new STSClient({ region: 'us-east-1', maxAttempts: 3, endpoint: t.awsUrl, credentials: t.credentials });
  const direct = async (i: number) => {
    await sts.send(new AssumeRoleCommand(input(i)));
    return null;
  };

  const warm = keepAliveAgent(WARM_UP.concurrency);
  await closedLoop(WARM_UP.requests, WARM_UP.concurrency, direct);
  await closedLoop(WARM_UP.requests, WARM_UP.concurrency, vendOnce(warm));
  warm.destroy();

  const commandsBefore = await commandCalls(t.redis);
  let vendsCounted = 0;
  const levels: LevelResult[] = [];
  for (const { concurrency, requests } of t.levels ?? LEVELS) {
    const agent = keepAliveAgent(concurrency);
    const level = await measureLevel({ concurrency, requests, direct, service: vendOnce(agent), metrics, pids: t.pids });
    vendsCounted += level.vends;
    agent.destroy();
    levels.push(level.result);
    const { direct: d, service: v, ratio } = level.result;
    log(
      `  c=${concurrency}: direct ${d.perSecond.toFixed(0)}/s p99 ${d.p99Ms.toFixed(1)} ms; service ${v.perSecond.toFixed(0)}/s ` +
        `p99 ${v.p99Ms.toFixed(1)} ms; ratio ${ratio.toFixed(2)}${d.errors + v.errors > 0 ? `; errors ${JSON.stringify({ ...v.failures, ...d.failures })}` : ''}`,
    );
  }
  const commands = callsSince(commandsBefore, await commandCalls(t.redis));
  // Our own INFO calls are not the service's.
  delete commands.info;
  sts.destroy();
  probe.destroy();
  once.destroy();
  if (firstFailure) log(`  first failed vend: ${firstFailure}`);
  const total = Object.values(commands).reduce((a, b) => a + b, 0);
  const byName = Object.fromEntries(Object.entries(commands).map(([name, n]) => [name, n / vendsCounted]));
  return { levels, redisCommandsPerVend: total / vendsCounted, redisCommandsByName: byName, vendsCounted };
}
