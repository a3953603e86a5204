/**
 * Faults on demand, for tests of retry and failure paths: STS throttling, IAM service failures, added latency.
 * Nothing is injected until a fault is set.
 */
import type { FaultShare, Faults } from './types';

/** Decides, call by call, whether a configured fault fires. */
export class FaultInjector {
  private faults: Faults = {};
  /** Remaining forced failures per kind (the `burst` of the last setFaults). */
  private burst = { sts: 0, iam: 0 };

  constructor(private readonly random: () => number = Math.random) {}

  /** Replaces every fault setting; a `burst` makes exactly the next N calls fail. */
  set(f: Faults): void {
    this.faults = JSON.parse(JSON.stringify(f)) as Faults;
    this.burst = { sts: f.stsThrottle?.burst ?? 0, iam: f.iamFailure?.burst ?? 0 };
  }

  clear(): void {
    this.set({});
  }

  /** The current settings, with bursts counted down to what is left. */
  current(): Faults {
    const out = JSON.parse(JSON.stringify(this.faults)) as Faults;
    if (out.stsThrottle) out.stsThrottle.burst = this.burst.sts;
    if (out.iamFailure) out.iamFailure.burst = this.burst.iam;
    return out;
  }

  get latencyMs(): number {
    return this.faults.latencyMs ?? 0;
  }

  /** Whether this STS call is throttled. */
  throttleSts(): boolean {
    return this.fire('sts', this.faults.stsThrottle);
  }

  /** Whether this IAM call fails with ServiceFailure. */
  failIam(): boolean {
    return this.fire('iam', this.faults.iamFailure);
  }

  private fire(kind: 'sts' | 'iam', share: FaultShare | undefined): boolean {
    if (!share) return false;
    if (this.burst[kind] > 0) {
      this.burst[kind] -= 1;
      return true;
    }
    return (share.rate ?? 0) > 0 && this.random() < (share.rate ?? 0);
  }
}

/** Checks a Faults object from the admin API; returns the problems found. */
export function faultProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['faults must be a JSON object'];
  const problems: string[] = [];
  const f = value as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!['stsThrottle', 'iamFailure', 'latencyMs'].includes(key)) problems.push(`unknown field ${key}`);
  for (const key of ['stsThrottle', 'iamFailure']) {
    const share = f[key];
    if (share === undefined) continue;
    if (typeof share !== 'object' || share === null) {
      problems.push(`${key} must be an object {rate?, burst?}`);
      continue;
    }
    const { rate, burst } = share as Record<string, unknown>;
    if (rate !== undefined && (typeof rate !== 'number' || rate < 0 || rate > 1)) problems.push(`${key}.rate must be a number in 0..1`);
    if (burst !== undefined && (!Number.isInteger(burst) || (burst as number) < 0)) problems.push(`${key}.burst must be a non-negative integer`);
  }
  if (f['latencyMs'] !== undefined && (typeof f['latencyMs'] !== 'number' || f['latencyMs'] < 0)) problems.push('latencyMs must be a non-negative number');
  return problems;
}
