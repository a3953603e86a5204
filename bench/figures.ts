/**
 * The headline figures of a run, each with its target (issue 15's table, the gateway's, and figures without a
 * target that a reader sizing replicas wants): the last section of the printed report, the `figures` of the
 * JSON file and, through bench/readme.ts, the README's Performance table. A benchmark reports targets; it never
 * fails on them.
 */
import type { GatewayLevel } from './gateway-overhead';
import type { ProxyBench } from './gateway-proxy';
import type { RevokeResult } from './kill-switch';
import type { RedisMemory } from './redis-cost';
import type { RoundTrips } from './redis-round-trips';
import type { RefreshCost } from './refresh-cost';
import type { VerifyResult } from './token-verify';
import type { LevelResult, VendOverhead } from './vend-overhead';

/** The sections of a run, in the order they run; `--only` picks some. */
export const SECTIONS = ['tokens', 'vend', 'realistic', 'refresh', 'gateway', 'gateway-proxy', 'kill-switch', 'round-trips', 'memory'] as const;
export type Section = (typeof SECTIONS)[number];

/** What one run measured; a section left out (`--only`) is absent. */
export interface Results {
  vend?: VendOverhead;
  /** The same comparison with the emulator's STS answering `RunInfo.stsLatencyMs` late. */
  realistic?: VendOverhead;
  refresh?: RefreshCost;
  killSwitch?: RevokeResult[];
  redisMemory?: RedisMemory;
  roundTrips?: RoundTrips;
  tokens?: VerifyResult[];
  gateway?: GatewayLevel[];
  gatewayProxy?: ProxyBench;
}

/** How the run was made, beside the machine. */
export interface RunInfo {
  /** `git rev-parse HEAD`, `-dirty` when tracked files had changes. */
  commit: string;
  quick: boolean;
  sections: string[];
  stsLatencyMs: number;
}

export interface Figure {
  measure: string;
  measured: string;
  /** Empty when the figure has no target. */
  target: string;
  /** null when there is no target, or the figure was not measured. */
  met: boolean | null;
}

/** Concurrency levels every table quotes. */
const AT = [1, 16, 64] as const;

export const fmt = (n: number | undefined, digits = 1): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const across = (values: Array<number | undefined>, digits: number): string => values.map((v) => fmt(v, digits)).join(' / ');
const level = (v: VendOverhead | undefined, c: number): LevelResult | undefined => v?.levels.find((l) => l.concurrency === c);
const gatewayAt = (g: GatewayLevel[] | undefined, c: number): GatewayLevel | undefined => g?.find((l) => l.concurrency === c);
const withTarget = (ok: boolean | undefined): boolean | null => (ok === undefined ? null : ok);

/** The service process's CPU per vend: its CPU over a round of vends, divided by the vends. */
export const serviceCpu = (l: LevelResult | undefined): number | undefined => l?.cpuMsPerRequest.service.service;

/** The service process's CPU per call through the gateway, less what it spent per direct call (background work). */
export const gatewayCpu = (l: GatewayLevel | undefined): number | undefined =>
  l === undefined ? undefined : (l.cpuMsPerCall.gateway.service ?? NaN) - (l.cpuMsPerCall.direct.service ?? 0);

function vendFigures(v: VendOverhead | undefined): Figure[] {
  const [one, , sixtyFour] = AT.map((c) => level(v, c));
  return [
    {
      measure: 'service CPU per vend, concurrency 1 / 16 / 64',
      measured: `${across(AT.map((c) => serviceCpu(level(v, c))), 2)} ms`,
      target: '<= 0.5 ms at 64',
      met: withTarget(sixtyFour && serviceCpu(sixtyFour)! <= 0.5),
    },
    {
      measure: 'vend throughput / direct `AssumeRole` throughput, concurrency 1 / 16 / 64',
      measured: across(AT.map((c) => level(v, c)?.ratio), 2),
      target: '>= 0.9 at 64',
      met: withTarget(sixtyFour && sixtyFour.ratio >= 0.9),
    },
    {
      measure: 'CPU ratio (all processes, direct / through the service), concurrency 1 / 16 / 64',
      measured: across(AT.map((c) => level(v, c)?.cpuRatio), 2),
      target: '',
      met: null,
    },
    {
      measure: 'added latency, concurrency 1 (p50 / p99)',
      measured: one ? `+${fmt(one.addedP50Ms, 2)} / +${fmt(one.addedP99Ms, 2)} ms` : '-',
      target: '<= +1 / +3 ms',
      met: withTarget(one && one.addedP50Ms <= 1 && one.addedP99Ms <= 3),
    },
    {
      measure: 'service time per vend excluding the STS call (mean, concurrency 1)',
      measured: `${fmt(one?.serviceTimeMs, 2)} ms`,
      target: '',
      met: null,
    },
  ];
}

function realisticFigures(v: VendOverhead | undefined, latencyMs: number): Figure[] {
  const sixtyFour = level(v, 64);
  return [
    {
      measure: `STS answering ${latencyMs} ms late: throughput ratio, concurrency 1 / 16 / 64`,
      measured: across(AT.map((c) => level(v, c)?.ratio), 2),
      target: '>= 0.97 at 64',
      met: withTarget(sixtyFour && sixtyFour.ratio >= 0.97),
    },
    {
      measure: `STS answering ${latencyMs} ms late: added p50, concurrency 1 / 16 / 64`,
      measured: `${across(AT.map((c) => level(v, c)?.addedP50Ms), 2)} ms`,
      target: '<= +1 ms at 64',
      met: withTarget(sixtyFour && sixtyFour.addedP50Ms <= 1),
    },
  ];
}

function refreshFigures(r: RefreshCost | undefined): Figure[] {
  const kind = (k: 'reissued' | 'cached', name: string): Figure => ({
    measure: `container-endpoint refresh, ${name}: refreshes/s at concurrency ${r?.concurrency ?? 16}; service CPU per refresh`,
    measured: r ? `${fmt(r[k].load.perSecond, 0)}/s; ${fmt(r[k].cpuMsPerRefresh.service, 2)} ms` : '-',
    target: '',
    met: null,
  });
  return [kind('cached', 'cached'), kind('reissued', 're-issued (new AssumeRole)')];
}

function redisFigures(r: Results): Figure[] {
  const trips = r.roundTrips?.roundTripsPerVend;
  const commands = r.vend?.redisCommandsPerVend;
  const bytes = r.redisMemory?.bytesPerSession;
  return [
    {
      measure: 'Redis round trips / commands per vend',
      measured: `${fmt(trips, 2)} / ${fmt(commands, 1)}`,
      target: '<= 2 / <= 12',
      // Background traffic is subtracted from the round trips, so allow its noise.
      met: trips === undefined || commands === undefined ? null : trips <= 2 + 0.05 && commands <= 12,
    },
    {
      measure: `Redis memory per live session (${r.redisMemory ? r.redisMemory.sessions.toLocaleString('en-US') : '100,000'} sessions, 5 per developer)`,
      measured: `${fmt(bytes, 0)} B`,
      target: '<= 400 B',
      met: withTarget(bytes === undefined ? undefined : bytes <= 400),
    },
  ];
}

function killSwitchFigures(k: RevokeResult[] | undefined): Figure[] {
  const big = k?.[k.length - 1];
  // One apply of a role: ListRolePolicies, GetRolePolicy per inline policy (the role's own and ours), at most one
  // PutRolePolicy: 3-4 calls. A reconciler pass that finds the role queued while the request applies it re-reads
  // it (no write), so reads may double; what must not happen is calls growing with sessions, or a second write.
  const writesPerRole = k ? Math.max(...k.map((x) => (x.iamCalls.PutRolePolicy ?? 0) / x.rolesWritten)) : NaN;
  const callsPerRole = k ? k.map((x) => x.iamCallsTotal / x.rolesWritten) : [];
  return [
    {
      measure: `revoke one developer with ${big ? big.sessions.toLocaleString('en-US') : '10,000'} live sessions`,
      measured: big ? `${fmt(big.revokeSeconds * 1000, 0)} ms, ${big.iamCallsTotal} IAM calls for ${big.rolesWritten} roles` : '-',
      target: '< 1 s, IAM calls O(roles)',
      met: big ? big.revokeSeconds < 1 && writesPerRole <= 1 && callsPerRole.every((c) => c <= 8) : null,
    },
  ];
}

function otherFigures(r: Results): Figure[] {
  const perSecond = (alg: string): number | undefined => r.tokens?.find((t) => t.alg === alg && t.tokens === 'distinct')?.perSecond;
  const one = gatewayAt(r.gateway, 1);
  return [
    { measure: 'JWT verifications per second, distinct tokens, one event loop (RS256 / ES256)', measured: across([perSecond('RS256'), perSecond('ES256')], 0), target: '', met: null },
    {
      measure: 'gateway: added latency of an S3 GetObject, concurrency 1 (p50 / p99)',
      measured: one ? `+${fmt(one.addedP50Ms, 2)} / +${fmt(one.addedP99Ms, 2)} ms` : '-',
      target: 'p50 <= +1 ms',
      met: withTarget(one && one.addedP50Ms <= 1),
    },
    {
      measure: 'gateway: service CPU per proxied call, concurrency 1 / 16 / 64',
      measured: `${across(AT.map((c) => gatewayCpu(gatewayAt(r.gateway, c))), 2)} ms`,
      target: '<= 0.3 ms at 1',
      met: withTarget(one && gatewayCpu(one)! <= 0.3),
    },
  ];
}

/** Proxy mode: a 50 MB upload through the gateway, each mode against direct. */
function proxyFigures(p: ProxyBench | undefined): Figure[] {
  return (['endpoint', 'proxy'] as const).map((mode) => ({
    measure: `gateway ${mode} mode: 50 MB PutObject throughput / direct`,
    measured: p ? `${fmt(p.upload.ratio[mode], 2)} (${fmt(p.upload.mbPerSecond[mode], 0)} vs ${fmt(p.upload.mbPerSecond.direct, 0)} MB/s)` : '-',
    target: '>= 0.8',
    met: withTarget(p && p.upload.ratio[mode] >= 0.8),
  }));
}

/** Every headline figure in the order the README shows them. */
export function figures(r: Results, info: Pick<RunInfo, 'stsLatencyMs'>): Figure[] {
  return [
    ...vendFigures(r.vend),
    ...realisticFigures(r.realistic, info.stsLatencyMs),
    ...refreshFigures(r.refresh),
    ...redisFigures(r),
    ...killSwitchFigures(r.killSwitch),
    ...otherFigures(r),
    ...proxyFigures(r.gatewayProxy),
  ];
}
