/** The printed table and the JSON file of one benchmark run, with each target set against the measured figure. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GatewayLevel } from './gateway-overhead';
import type { ProxyBench } from './gateway-proxy';
import type { RevokeResult } from './kill-switch';
import type { RedisMemory } from './redis-cost';
import type { RoundTrips } from './redis-round-trips';
import type { VerifyResult } from './token-verify';
import type { VendOverhead } from './vend-overhead';

export interface Results {
  vend: VendOverhead;
  killSwitch: RevokeResult[];
  redisMemory: RedisMemory;
  roundTrips: RoundTrips;
  tokens: VerifyResult[];
  gateway: GatewayLevel[];
  gatewayProxy: ProxyBench;
}

export interface TargetRow {
  target: string;
  measured: string;
  met: boolean;
}

/** The targets; a benchmark reports them, it never fails on them. */
export function targets(r: Results): TargetRow[] {
  const at = (c: number) => r.vend.levels.find((l) => l.concurrency === c)!;
  const big = r.killSwitch[r.killSwitch.length - 1]!;
  // One apply of a role: ListRolePolicies, GetRolePolicy per inline policy (the role's own and ours), at most one
  // PutRolePolicy: 3-4 calls. A reconciler pass that finds the role queued while the request applies it re-reads
  // it (no write), so reads may double; what must not happen is calls growing with sessions, or a second write.
  const gw = (c: number) => r.gateway.find((l) => l.concurrency === c)!;
  const writesPerRole = Math.max(...r.killSwitch.map((k) => (k.iamCalls.PutRolePolicy ?? 0) / k.rolesWritten));
  const callsPerRole = r.killSwitch.map((k) => k.iamCallsTotal / k.rolesWritten);
  return [
    { target: 'throughput ratio at concurrency 64 >= 0.9', measured: at(64).ratio.toFixed(2), met: at(64).ratio >= 0.9 },
    { target: 'added p99 <= 3 ms (concurrency 1)', measured: `${at(1).addedP99Ms.toFixed(2)} ms`, met: at(1).addedP99Ms <= 3 },
    { target: `revoke ${big.sessions} sessions < 1 s`, measured: `${(big.revokeSeconds * 1000).toFixed(0)} ms`, met: big.revokeSeconds < 1 },
    {
      target: 'IAM calls O(roles): <= 1 write, <= 2 applies per role',
      measured: `writes/role ${writesPerRole.toFixed(1)}; calls/role ${callsPerRole.map((c) => c.toFixed(1)).join(', ')} at ${r.killSwitch.map((k) => k.sessions).join(', ')} sessions`,
      met: writesPerRole <= 1 && callsPerRole.every((c) => c <= 8),
    },
    { target: '<= 600 bytes of Redis per live session', measured: `${r.redisMemory.bytesPerSession.toFixed(0)} B`, met: r.redisMemory.bytesPerSession <= 600 },
    { target: '<= 4 Redis round trips per vend', measured: r.roundTrips.roundTripsPerVend.toFixed(2), met: r.roundTrips.roundTripsPerVend <= 4 + 0.05 },
    { target: 'gateway: added p50 <= 1 ms (concurrency 1)', measured: `${gw(1).addedP50Ms.toFixed(2)} ms`, met: gw(1).addedP50Ms <= 1 },
    { target: 'gateway: service CPU per proxied call <= 0.3 ms', measured: `${gatewayCpu(gw(1)).toFixed(3)} ms`, met: gatewayCpu(gw(1)) <= 0.3 },
    ...proxyTargets(r.gatewayProxy),
  ];
}

/** Proxy mode: 50 MB upload through the gateway >= 0.8 of direct, in both modes. */
function proxyTargets(p: ProxyBench): TargetRow[] {
  return (['proxy', 'endpoint'] as const).map((mode) => ({
    target: `gateway ${mode} mode: 50 MB upload >= 0.8 of direct`,
    measured: `${p.upload.ratio[mode].toFixed(2)} (${p.upload.mbPerSecond[mode].toFixed(0)} vs ${p.upload.mbPerSecond.direct.toFixed(0)} MB/s)`,
    met: p.upload.ratio[mode] >= 0.8,
  }));
}

/** The service process's CPU per call through the gateway, less what it spent per direct call (background work). */
const gatewayCpu = (l: GatewayLevel): number => (l.cpuMsPerCall.gateway.service ?? NaN) - (l.cpuMsPerCall.direct.service ?? 0);

/** Numbers right-aligned, text left-aligned. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_h, i) => i > 0 && rows.every((r) => /^[-+]?[\d.]+( ms| B)?$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The table printed at the end of a run. */
export function renderTable(r: Results, machine: Machine): string {
  const out: string[] = [];
  out.push(`sts-vend benchmark, ${machine.date}, node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), load average at start ${machine.loadAverage}`);
  out.push('', '1. Vend overhead: POST /v1/vend over HTTP vs the same STSClient calling AssumeRole directly, same emulator, same parameters');
  out.push(
    table(
      ['concurrency', 'direct/s', 'p50 ms', 'p99 ms', 'service/s', 'p50 ms', 'p99 ms', 'ratio', '+p50 ms', '+p99 ms', 'errors'],
      r.vend.levels.map((l) => [
        String(l.concurrency),
        f(l.direct.perSecond, 0),
        f(l.direct.p50Ms, 2),
        f(l.direct.p99Ms, 2),
        f(l.service.perSecond, 0),
        f(l.service.p50Ms, 2),
        f(l.service.p99Ms, 2),
        f(l.ratio, 2),
        f(l.addedP50Ms, 2),
        f(l.addedP99Ms, 2),
        String(l.direct.errors + l.service.errors),
      ]),
    ),
  );
  out.push('', '   CPU ms per request by process (bench = the SDK client when direct, the HTTP load generator through the service);');
  out.push('   CPU ratio = total direct / total service: the throughput ratio these cores allow at saturation');
  const names = Object.keys(r.vend.levels[0]?.cpuMsPerRequest.service ?? {});
  out.push(
    table(
      ['concurrency', ...names.map((n) => `direct ${n}`), ...names.map((n) => `service ${n}`), 'CPU ratio'],
      r.vend.levels.map((l) => [
        String(l.concurrency),
        ...names.map((n) => f(l.cpuMsPerRequest.direct[n]!, 2)),
        ...names.map((n) => f(l.cpuMsPerRequest.service[n]!, 2)),
        f(l.cpuRatio, 2),
      ]),
    ),
  );
  out.push('', '2. Service time per vend excluding the STS call (service histograms: vend duration - AssumeRole duration, means)');
  out.push(
    table(
      ['concurrency', 'vend ms', 'AssumeRole ms', 'service time ms'],
      r.vend.levels.map((l) => [String(l.concurrency), f(l.vendMeanMs, 2), f(l.stsMeanMs, 2), f(l.serviceTimeMs, 2)]),
    ),
  );
  out.push('', '3. Kill switch: POST /v1/revoke {developer} for one developer holding N live sessions');
  out.push(
    table(
      ['sessions', 'roles held', 'roles written', 'revoke ms', 'revoked', 'IAM calls', 'by action'],
      r.killSwitch.map((k) => [
        String(k.sessions),
        String(k.roles),
        String(k.rolesWritten),
        f(k.revokeSeconds * 1000, 0),
        String(k.sessionsRevoked),
        String(k.iamCallsTotal),
        Object.entries(k.iamCalls).map(([a, n]) => `${a} ${n}`).join(', '),
      ]),
    ),
  );
  const byName = Object.entries(r.vend.redisCommandsByName)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${f(n, 2)}`)
    .join(', ');
  out.push('', '4. Redis cost');
  const b = r.redisMemory.breakdown;
  out.push(`  memory per live session: ${f(r.redisMemory.bytesPerSession, 0)} bytes (used_memory delta over ${r.redisMemory.sessions} sessions, ${r.redisMemory.developers} developers, ${r.redisMemory.roles} roles)`);
  out.push(`                           record ${f(b.record, 0)} + developer index ${f(b.developerIndex, 0)} + catalogues ${f(b.catalogues, 0)} + key space, expiry, allocator ${f(b.keyspaceAndOther, 0)}`);
  out.push(`  commands per vend:       ${f(r.vend.redisCommandsPerVend, 2)} (INFO commandstats over ${r.vend.vendsCounted} vends, script-internal commands included: ${byName})`);
  out.push(`  round trips per vend:    ${f(r.roundTrips.roundTripsPerVend, 2)} (counted at a relay over ${r.roundTrips.vends} sequential vends; design: blockFor, reserve, createPending, markLive = 4)`);
  out.push('', '5. Token verification (createTokenVerifier, JWKS cached after the first fetch), one event loop');
  out.push(
    table(
      ['algorithm', 'same token/s', 'distinct tokens/s'],
      (['RS256', 'ES256'] as const).map((alg) => [
        alg,
        f(r.tokens.find((t) => t.alg === alg && t.tokens === 'same')?.perSecond ?? NaN, 0),
        f(r.tokens.find((t) => t.alg === alg && t.tokens === 'distinct')?.perSecond ?? NaN, 0),
      ]),
    ),
  );
  out.push('', '6. Gateway: S3 GetObject (JS SDK v3) through the gateway with gateway credentials vs direct to the emulator with the real ones');
  out.push(
    table(
      ['concurrency', 'direct/s', 'p50 ms', 'p99 ms', 'gateway/s', 'p50 ms', 'p99 ms', '+p50 ms', '+p99 ms', 'service CPU ms/call', 'errors'],
      r.gateway.map((l) => [
        String(l.concurrency),
        f(l.direct.perSecond, 0),
        f(l.direct.p50Ms, 2),
        f(l.direct.p99Ms, 2),
        f(l.gateway.perSecond, 0),
        f(l.gateway.p50Ms, 2),
        f(l.gateway.p99Ms, 2),
        f(l.addedP50Ms, 2),
        f(l.addedP99Ms, 2),
        f(gatewayCpu(l), 3),
        String(l.direct.errors + l.gateway.errors),
      ]),
    ),
  );
  out.push('', '7. Gateway proxy mode: S3 GetObject (JS SDK v3) direct, through the gateway as AWS_ENDPOINT_URL, and through it as HTTPS proxy (CONNECT, TLS to the AWS host name)');
  out.push(
    table(
      ['concurrency', 'direct p50', 'endpoint p50', 'proxy p50', 'proxy p99', '+p50 vs direct', '+p50 vs endpoint', 'CPU ms/call endpoint', 'CPU ms/call proxy', 'errors'],
      r.gatewayProxy.levels.map((l) => [
        String(l.concurrency),
        f(l.results.direct.p50Ms, 2),
        f(l.results.endpoint.p50Ms, 2),
        f(l.results.proxy.p50Ms, 2),
        f(l.results.proxy.p99Ms, 2),
        f(l.addedP50Ms.vsDirect, 2),
        f(l.addedP50Ms.vsEndpoint, 2),
        f(l.serviceCpuMsPerCall.endpoint - l.serviceCpuMsPerCall.direct, 3),
        f(l.serviceCpuMsPerCall.proxy - l.serviceCpuMsPerCall.direct, 3),
        String(l.results.direct.errors + l.results.endpoint.errors + l.results.proxy.errors),
      ]),
    ),
  );
  const up = r.gatewayProxy.upload;
  out.push(`   50 MB PutObject: direct ${f(up.mbPerSecond.direct, 0)} MB/s, endpoint mode ${f(up.mbPerSecond.endpoint, 0)} MB/s (${f(up.ratio.endpoint, 2)} of direct), proxy mode ${f(up.mbPerSecond.proxy, 0)} MB/s (${f(up.ratio.proxy, 2)}); errors ${up.errors}`);
  out.push('', 'Targets (a benchmark: reported, never enforced)');
  out.push(table(['target', 'measured', 'met'], targets(r).map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO'])));
  return out.join('\n');
}

export interface Machine {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  totalMemoryGiB: number;
  loadAverage: string;
}

/** What the figures were measured on; the README quotes date and machine size with them. */
export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** Writes bench/results/bench-<date>.json and returns its path. */
export function writeResults(r: Results, m: Machine, seconds: number): string {
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${m.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: m, durationSeconds: seconds, targets: targets(r), ...r }, null, 2)}\n`);
  return file;
}
