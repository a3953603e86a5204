/**
 * `npm run bench`: the issue 7 and 15 benchmark on this machine. Starts a redis-server, the AWS emulator and the
 * service each in a process of its own (so neither the service nor the direct baseline shares an event loop with
 * the emulator), a dev OIDC issuer and a counting IAM proxy in this process, then measures vend overhead (with
 * the emulator's STS answering at once, then with a realistic delay), refresh cost, service time, the kill switch
 * at scale, Redis cost, token verification and the gateway. Prints a table with every target and writes
 * bench/results/bench-<date>.json. Everything listens on loopback and is stopped on exit, error or Ctrl-C.
 *
 *   npm run bench [-- --quick] [-- --only vend,refresh] [-- --sts-latency-ms 20]
 *
 * --quick runs about a fifth of the requests and a fifth of the memory sessions: for development, not for the
 * README. --only runs the named sections (SECTIONS) and prints what they measured. BENCH_CPU_PROF=<dir> writes a
 * CPU profile of the service and emulator processes there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startDevIssuer, type DevIssuer } from '../src/dev/dev-issuer';
import { loadLocalAwsState } from '../src/dev/local-aws';
import { startIamProxy, type IamProxy } from './iam-proxy';
import { measureGatewayOverhead } from './gateway-overhead';
import { measureGatewayProxy } from './gateway-proxy';
import { measureKillSwitch } from './kill-switch';
import { keepAliveAgent, request } from './load';
import { exitedChildren, freePort, installCleanup, nodeArgs, ROOT, startChild, startRedisServer, startService, stopAll, tempDir, waitFor } from './processes';
import { measureRedisMemory } from './redis-cost';
import { measureRefreshCost, REFRESH_SIZES } from './refresh-cost';
import { measureRoundTrips } from './redis-round-trips';
import { SECTIONS, type Section } from './figures';
import { machine, renderTable, writeResults, type Results, type RunInfo } from './report';
import { measureTokenVerification } from './token-verify';
import { LEVELS, measureVendOverhead, REALISTIC_LEVELS, type Level } from './vend-overhead';
import { STATE_FILE } from './world';

const log = (line: string): void => console.error(line);

/** The STS delay of the realistic-latency mode: a same-region STS call as an agent in AWS sees it. */
const DEFAULT_STS_LATENCY_MS = 20;
const QUICK = 0.2;

function options(): { quick: boolean; only: Set<Section>; stsLatencyMs: number } {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, 'sts-latency-ms': { type: 'string' } } });
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--only: unknown section ${unknown.join(', ')} (sections: ${SECTIONS.join(', ')})`);
  const stsLatencyMs = values['sts-latency-ms'] === undefined ? DEFAULT_STS_LATENCY_MS : Number(values['sts-latency-ms']);
  if (!Number.isFinite(stsLatencyMs) || stsLatencyMs < 0) throw new Error('--sts-latency-ms: a non-negative number of milliseconds');
  return { quick: values.quick ?? false, only: new Set(only as Section[]), stsLatencyMs };
}

const scaled = (levels: readonly Level[], factor: number): Level[] => levels.map((l) => ({ ...l, requests: Math.max(l.concurrency * 4, Math.round(l.requests * factor)) }));

/** The commit measured, with `-dirty` when the tree has changes; `unknown` outside a git checkout. */
function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function startEmulator(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = startChild('local-aws', process.execPath, [...nodeArgs('src/dev/local-aws/main.ts'), '--port', String(port), '--state', STATE_FILE]);
  const url = `http://127.0.0.1:${port}`;
  const agent = keepAliveAgent(1);
  const answers = (): Promise<boolean> => request(agent, `${url}/_local-aws/faults`).then((r) => r.status === 200, () => false);
  await waitFor('local-aws', child, answers, 30_000);
  agent.destroy();
  return { url, pid: child.proc.pid! };
}

/** Sets the emulator's faults (PUT /_local-aws/faults), e.g. `{latencyMs: 20}`; `{}` clears them. */
async function setFaults(awsUrl: string, faults: Record<string, unknown>): Promise<void> {
  const agent = keepAliveAgent(1);
  try {
    const res = await request(agent, `${awsUrl}/_local-aws/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
    if (res.status !== 200) throw new Error(`the emulator refused faults ${JSON.stringify(faults)}: ${res.status} ${res.body}`);
  } finally {
    agent.destroy();
  }
}

async function main(): Promise<void> {
  installCleanup();
  const opts = options();
  const run = (s: Section): boolean => opts.only.has(s);
  const factor = opts.quick ? QUICK : 1;
  const began = process.hrtime.bigint();
  const m = machine();
  const info: RunInfo = { commit: gitCommit(), quick: opts.quick, sections: [...opts.only], stsLatencyMs: opts.stsLatencyMs };
  const logDir = tempDir('sts-vend-bench-');
  const credentials = loadLocalAwsState(STATE_FILE).credentials[0];
  if (!credentials) throw new Error(`${STATE_FILE}: no credentials for the service`);
  let issuer: DevIssuer | undefined;
  let ci: DevIssuer | undefined;
  let iam: IamProxy | undefined;
  let admin: Redis | undefined;
  try {
    log(`bench: ${m.cpus} CPUs, node ${m.node}, load average ${m.loadAverage}, commit ${info.commit}${opts.quick ? ', quick' : ''}; starting redis-server, local AWS and the service`);
    const redis = await startRedisServer('redis-server');
    const emulator = await startEmulator();
    const awsUrl = emulator.url;
    issuer = await startDevIssuer({ port: 0 });
    ci = await startDevIssuer({ port: 0, algorithms: ['RS256'] });
    iam = await startIamProxy(awsUrl);
    const target = { redisUrl: redis.url, ciIssuer: ci.issuer, awsUrl, iamUrl: iam.url, credentials, logFile: path.join(logDir, 'service.log') };
    const service = await startService('service', { ...target, issuer: issuer.issuer });
    admin = new Redis(redis.url);
    // Failures surface through commands; a Redis stopped at exit must not print reconnection errors.
    admin.on('error', () => undefined);
    const results: Results = {};

    if (run('tokens')) {
      log('5. token verification');
      results.tokens = await measureTokenVerification(issuer, log);
    }
    const pids = { emulator: emulator.pid, service: service.child.proc.pid!, redis: redis.child.proc.pid! };
    const vendTarget = { serviceUrl: service.url, awsUrl, issuer, redis: admin, credentials, pids };
    if (run('vend')) {
      log('1-2. vend overhead (service vs direct AssumeRole)');
      results.vend = await measureVendOverhead({ ...vendTarget, levels: scaled(LEVELS, factor) }, log);
    }
    if (run('realistic')) {
      log(`1r. vend overhead with STS answering ${opts.stsLatencyMs} ms late (emulator latencyMs fault)`);
      await setFaults(awsUrl, { latencyMs: opts.stsLatencyMs });
      try {
        results.realistic = await measureVendOverhead({ ...vendTarget, levels: scaled(REALISTIC_LEVELS, factor) }, log);
      } finally {
        await setFaults(awsUrl, {});
      }
    }
    if (run('refresh')) {
      log('8. refresh cost (container endpoint on a replica: re-issued, then cached)');
      const sizes = { sessions: Math.round(REFRESH_SIZES.sessions * factor), cached: Math.round(REFRESH_SIZES.cached * factor) };
      const replicaTarget = { ...target, logFile: path.join(logDir, 'service-replica.log') };
      results.refresh = await measureRefreshCost({ serviceUrl: service.url, service: replicaTarget, issuer, pids: { emulator: emulator.pid, redis: redis.child.proc.pid! } }, log, sizes);
    }
    if (run('gateway')) {
      log('6. gateway overhead (S3 GetObject through the gateway vs direct)');
      results.gateway = await measureGatewayOverhead({ serviceUrl: service.url, gatewayUrl: service.gatewayUrl, awsUrl, issuer, pids }, log);
    }
    if (run('gateway-proxy')) {
      log('7. gateway proxy mode (GetObject direct, endpoint mode, proxy mode; 50 MB upload throughput)');
      results.gatewayProxy = await measureGatewayProxy({ serviceUrl: service.url, gatewayUrl: service.gatewayUrl, awsUrl, issuer, pids }, log);
    }
    if (run('kill-switch')) {
      log('3. kill switch at scale');
      results.killSwitch = await measureKillSwitch({ serviceUrl: service.url, redisUrl: redis.url, issuer, iam }, log);
    }
    await service.child.stop();
    if (run('round-trips')) {
      log('4. Redis round trips per vend (second service process behind a counting relay)');
      results.roundTrips = await measureRoundTrips({ ...target, logFile: path.join(logDir, 'service-round-trips.log'), issuer }, log);
    }
    if (run('memory')) {
      log('4. Redis memory per live session (fresh redis-server)');
      results.redisMemory = await measureRedisMemory(issuer.issuer, log, opts.quick ? 20_000 : undefined);
    }

    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    console.log(renderTable(results, m, info));
    const file = writeResults(results, m, info, seconds);
    console.log(`\nwrote ${path.relative(process.cwd(), file)} (run took ${seconds.toFixed(0)} s)`);
  } catch (err) {
    log(`bench failed: ${(err as Error)?.stack ?? String(err)}`);
    for (const line of exitedChildren()) log(line);
    for (const name of ['service.log', 'service-replica.log']) {
      const serviceLog = path.join(logDir, name);
      if (existsSync(serviceLog)) log(`last ${name} lines:\n${readFileSync(serviceLog, 'utf8').trimEnd().split('\n').slice(-10).join('\n')}`);
    }
    process.exitCode = 1;
  } finally {
    admin?.disconnect();
    await Promise.allSettled([iam?.stop(), issuer?.stop(), ci?.stop()]);
    await stopAll();
  }
}

void main();
