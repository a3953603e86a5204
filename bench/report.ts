/** The printed report and the JSON file of one benchmark run; the targets are in figures.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { figures, fmt as f, gatewayCpu, type Results, type RunInfo } from './figures';
import type { RefreshCost } from './refresh-cost';
import type { VendOverhead } from './vend-overhead';

export type { Results, RunInfo } from './figures';

/** Numbers right-aligned, text left-aligned. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_h, i) => i > 0 && rows.every((r) => /^[-+]?[\d.]+( ms| B)?$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The throughput and latency table of a vend comparison, then its CPU per request by process. */
function vendTables(v: VendOverhead, out: string[]): void {
  out.push(
    table(
      ['concurrency', 'direct/s', 'p50 ms', 'p99 ms', 'service/s', 'p50 ms', 'p99 ms', 'ratio', '+p50 ms', '+p99 ms', 'errors'],
      v.levels.map((l) => [
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
  out.push('   CPU ratio = total direct / total service: the throughput ratio these cores allow at saturation. Target: service CPU per vend <= 0.5 ms at 64');
  const names = Object.keys(v.levels[0]?.cpuMsPerRequest.service ?? {});
  out.push(
    table(
      ['concurrency', ...names.map((n) => `direct ${n}`), ...names.map((n) => `service ${n}`), 'CPU ratio'],
      v.levels.map((l) => [
        String(l.concurrency),
        ...names.map((n) => f(l.cpuMsPerRequest.direct[n]!, 2)),
        ...names.map((n) => f(l.cpuMsPerRequest.service[n]!, 2)),
        f(l.cpuRatio, 2),
      ]),
    ),
  );
}

function refreshTable(r: RefreshCost, out: string[]): void {
  const names = Object.keys(r.cached.cpuMsPerRefresh);
  out.push(
    table(
      ['refresh', 'requests', 'per s', 'p50 ms', 'p99 ms', ...names.map((n) => `CPU ms ${n}`), 'errors'],
      (['cached', 'reissued'] as const).map((k) => [
        k === 'cached' ? 'cached' : 're-issued',
        String(r[k].load.requests),
        f(r[k].load.perSecond, 0),
        f(r[k].load.p50Ms, 2),
        f(r[k].load.p99Ms, 2),
        ...names.map((n) => f(r[k].cpuMsPerRefresh[n], 3)),
        String(r[k].load.errors),
      ]),
    ),
  );
}

/** The report printed at the end of a run: every section measured, then the figures with their targets. */
export function renderTable(r: Results, machine: Machine, info: RunInfo): string {
  const out: string[] = [];
  out.push(`sts-vend benchmark, ${machine.date}, node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), load average at start ${machine.loadAverage}`);
  out.push(`commit ${info.commit}${info.quick ? '; --quick: a fifth of the requests, not for the README' : ''}`);
  if (r.vend) {
    out.push('', '1. Vend overhead: POST /v1/vend over HTTP vs the same STSClient calling AssumeRole directly, same emulator, same parameters');
    vendTables(r.vend, out);
    out.push('', '2. Service time per vend excluding the STS call (service histograms: vend duration - AssumeRole duration, means)');
    out.push(
      table(
        ['concurrency', 'vend ms', 'AssumeRole ms', 'service time ms'],
        r.vend.levels.map((l) => [String(l.concurrency), f(l.vendMeanMs, 2), f(l.stsMeanMs, 2), f(l.serviceTimeMs, 2)]),
      ),
    );
  }
  if (r.realistic) {
    out.push('', `1r. Realistic latency: the same comparison with the emulator answering STS ${info.stsLatencyMs} ms late (targets: ratio >= 0.97 and +p50 <= 1 ms at 64)`);
    vendTables(r.realistic, out);
  }
  if (r.refresh) {
    out.push('', `8. Refresh cost: GET /v1/credentials/{id} on a replica at concurrency ${r.refresh.concurrency}, over ${r.refresh.sessions} container sessions;`);
    out.push('   re-issued = its first refresh of each (kill-switch checkpoint + AssumeRole), cached = later ones (checkpoint + in-process credential)');
    refreshTable(r.refresh, out);
  }
  if (r.killSwitch) {
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
  }
  if (r.redisMemory || r.vend || r.roundTrips) out.push('', '4. Redis cost');
  if (r.redisMemory) {
    const b = r.redisMemory.breakdown;
    out.push(`  memory per live session: ${f(r.redisMemory.bytesPerSession, 0)} bytes (used_memory delta over ${r.redisMemory.sessions} sessions, ${r.redisMemory.developers} developers, ${r.redisMemory.roles} roles)`);
    out.push(`                           record ${f(b.record, 0)} + developer index ${f(b.developerIndex, 0)} + catalogues ${f(b.catalogues, 0)} + key space, expiry, allocator ${f(b.keyspaceAndOther, 0)}`);
  }
  if (r.vend) {
    const byName = Object.entries(r.vend.redisCommandsByName)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${f(n, 2)}`)
      .join(', ');
    out.push(`  commands per vend:       ${f(r.vend.redisCommandsPerVend, 2)} (INFO commandstats over ${r.vend.vendsCounted} vends, script-internal commands included: ${byName})`);
  }
  if (r.roundTrips) out.push(`  round trips per vend:    ${f(r.roundTrips.roundTripsPerVend, 2)} (counted at a relay over ${r.roundTrips.vends} sequential vends)`);
  if (r.tokens) {
    const tokens = r.tokens;
    out.push('', '5. Token verification (createTokenVerifier, JWKS cached after the first fetch; a verified token is remembered up to 60 s), one event loop');
    out.push(
      table(
        ['algorithm', 'same token/s (remembered)', 'distinct tokens/s'],
        (['RS256', 'ES256'] as const).map((alg) => [
          alg,
          f(tokens.find((t) => t.alg === alg && t.tokens === 'same')?.perSecond ?? NaN, 0),
          f(tokens.find((t) => t.alg === alg && t.tokens === 'distinct')?.perSecond ?? NaN, 0),
        ]),
      ),
    );
  }
  if (r.gateway) {
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
  }
  if (r.gatewayProxy) {
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
  }
  out.push('', 'Figures and targets (a benchmark: reported, never enforced; "-" = section not run)');
  const met = (m: boolean | null): string => (m === null ? '' : m ? 'yes' : 'NO');
  out.push(table(['measure', 'measured', 'target', 'met'], figures(r, info).map((x) => [x.measure, x.measured, x.target, met(x.met)])));
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

/** The JSON file of a run: what bench/readme.ts reads. */
export interface ResultsFile extends Results {
  machine: Machine;
  run: RunInfo;
  durationSeconds: number;
  /** The load average when the run ended, beside the one at its start (machine.loadAverage): was it quiet throughout? */
  loadAverageAtEnd: string;
  figures: ReturnType<typeof figures>;
}

export const RESULTS_DIR = path.join(__dirname, 'results');

/** Writes bench/results/bench-<date>.json and returns its path. */
export function writeResults(r: Results, m: Machine, info: RunInfo, seconds: number): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `bench-${m.date.replace(/[:.]/g, '-')}.json`);
  const content: ResultsFile = {
    machine: m,
    run: info,
    durationSeconds: seconds,
    loadAverageAtEnd: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    figures: figures(r, info),
    ...r,
  };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}
