/**
 * `npm run bench`: the issue 7 benchmark on this machine. Starts a redis-server, the AWS emulator and the
 * service each in a process of its own (so neither the service nor the direct baseline shares an event loop with
 * the emulator), a dev OIDC issuer and a counting IAM proxy in this process, then measures vend overhead,
 * service time, the kill switch at scale, Redis cost and token verification. Prints a table and writes
 * bench/results/bench-<date>.json. Everything listens on loopback and is stopped on exit, error or Ctrl-C.
 * BENCH_CPU_PROF=<dir> writes a CPU profile of the service and emulator processes there.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startDevIssuer, type DevIssuer } from '../src/dev/dev-issuer';
import { loadLocalAwsState } from '../src/dev/local-aws';
import { startIamProxy, type IamProxy } from './iam-proxy';
import { measureGatewayOverhead } from './gateway-overhead';
import { measureGatewayProxy } from './gateway-proxy';
import { measureKillSwitch } from './kill-switch';
import { keepAliveAgent, request } from './load';
import { freePort, installCleanup, nodeArgs, startChild, startRedisServer, startService, stopAll, tempDir, waitFor } from './processes';
import { measureRedisMemory } from './redis-cost';
import { measureRoundTrips } from './redis-round-trips';
import { machine, renderTable, writeResults } from './report';
import { measureTokenVerification } from './token-verify';
import { measureVendOverhead } from './vend-overhead';
import { STATE_FILE } from './world';

const log = (line: string): void => console.error(line);

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

async function main(): Promise<void> {
  installCleanup();
  const began = process.hrtime.bigint();
  const m = machine();
  const logDir = tempDir('sts-vend-bench-');
  const credentials = loadLocalAwsState(STATE_FILE).credentials[0];
  if (!credentials) throw new Error(`${STATE_FILE}: no credentials for the service`);
  let issuer: DevIssuer | undefined;
  let ci: DevIssuer | undefined;
  let iam: IamProxy | undefined;
  let admin: Redis | undefined;
  try {
    log(`bench: ${m.cpus} CPUs, node ${m.node}, load average ${m.loadAverage}; starting redis-server, local AWS and the service`);
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

    log('5. token verification');
    const tokens = await measureTokenVerification(issuer, log);
    log('1-2. vend overhead (service vs direct AssumeRole)');
    const pids = { emulator: emulator.pid, service: service.child.proc.pid!, redis: redis.child.proc.pid! };
    const vend = await measureVendOverhead({ serviceUrl: service.url, awsUrl, issuer, redis: admin, credentials, pids }, log);
    log('6. gateway overhead (S3 GetObject through the gateway vs direct)');
    const gateway = await measureGatewayOverhead({ serviceUrl: service.url, gatewayUrl: service.gatewayUrl, awsUrl, issuer, pids }, log);
    log('7. gateway proxy mode (GetObject direct, endpoint mode, proxy mode; 50 MB upload throughput)');
    const gatewayProxy = await measureGatewayProxy({ serviceUrl: service.url, gatewayUrl: service.gatewayUrl, awsUrl, issuer, pids }, log);
    log('3. kill switch at scale');
    const killSwitch = await measureKillSwitch({ serviceUrl: service.url, redisUrl: redis.url, issuer, iam }, log);
    await service.child.stop();
    log('4. Redis round trips per vend (second service process behind a counting relay)');
    const roundTrips = await measureRoundTrips({ ...target, logFile: path.join(logDir, 'service-round-trips.log'), issuer }, log);
    log('4. Redis memory per live session (fresh redis-server)');
    const redisMemory = await measureRedisMemory(issuer.issuer, log);

    const results = { vend, killSwitch, redisMemory, roundTrips, tokens, gateway, gatewayProxy };
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    console.log(renderTable(results, m));
    const file = writeResults(results, m, seconds);
    console.log(`\nwrote ${path.relative(process.cwd(), file)} (run took ${seconds.toFixed(0)} s)`);
  } catch (err) {
    log(`bench failed: ${(err as Error)?.stack ?? String(err)}`);
    const serviceLog = path.join(logDir, 'service.log');
    if (existsSync(serviceLog)) log(`last service log lines:\n${readFileSync(serviceLog, 'utf8').trimEnd().split('\n').slice(-10).join('\n')}`);
    process.exitCode = 1;
  } finally {
    admin?.disconnect();
    await Promise.allSettled([iam?.stop(), issuer?.stop(), ci?.stop()]);
    await stopAll();
  }
}

void main();
