/**
 * The background half of layer 2: retries roles left pending, prunes expired entries from role policies and
 * old instants from the kill-switch hash. Every replica runs one; a Redis lease makes only one act at a time,
 * and all state lives in Redis, so a restart (or a new leader) simply picks up the queue.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClockPort, ConfigPort, KillSwitchPort, ObservabilityPort } from '../ports';
import type { ApplyRolePort, RevocationMetrics } from './apply-role-policy';
import type { KillSwitchStore, RoleState } from '../storage/kill-switch-store';
import { longestSessionSeconds } from './session-coverage';

export interface ReconcilerOptions {
  store: KillSwitchStore;
  /** Applies one role (applyRolePolicy bound to its deps). */
  apply: (roleArn: string) => Promise<RoleState>;
  /** Time between passes; the leader lease lasts three of them (at least two seconds). */
  intervalMs: number;
  now: () => Date;
  /** The longest an agent session can last (refreshes included): older revocation instants revoke nothing. */
  maxSessionSeconds: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  metrics?: RevocationMetrics;
}

export interface Reconciler {
  /** Stops the timer, waits for a pass in progress, and gives up the lease. */
  stop(): Promise<void>;
}

// Roles applied per pass; the rest wait for the next pass (the lease is extended between roles).
const BATCH = 50;
// A lease shorter than this could lapse between two passes of a busy process and let leaders alternate.
const MIN_LEASE_MS = 2000;
// A role whose apply threw something unexpected is not retried in a tight loop.
const AFTER_CRASH_MS = 60_000;

/** What the service's reconciler uses: the kill-switch store, the IAM step, and how long sessions can last. */
export type ReconcilerPorts = KillSwitchPort & ApplyRolePort & ClockPort & ObservabilityPort & ConfigPort<'killSwitch' | 'sessions'>;

/** The service's reconciler: its interval from `killSwitch`, its pruning horizon from the longest session. */
export function startRevocationReconciler(deps: ReconcilerPorts): Reconciler {
  return startReconciler({
    store: deps.killSwitch,
    apply: (roleArn) => deps.applyRole(roleArn),
    intervalMs: deps.config.killSwitch.reconcileIntervalSeconds * 1000,
    now: deps.now,
    maxSessionSeconds: longestSessionSeconds(deps.config),
    logger: deps.logger,
    metrics: { onPending: (count) => deps.metrics.pendingRoles.set(count) },
  });
}

/** Starts the loop; the first pass runs at once. */
export function startReconciler(opts: ReconcilerOptions): Reconciler {
  const token = randomBytes(16).toString('base64url');
  const leaseMs = Math.max(opts.intervalMs * 3, MIN_LEASE_MS);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const pass = async (): Promise<void> => {
    if (!(await opts.store.holdLeadership(token, leaseMs))) return;
    for (const roleArn of await opts.store.dueRoles(opts.now(), BATCH)) {
      if (stopped || !(await opts.store.holdLeadership(token, leaseMs))) return;
      try {
        const state = await opts.apply(roleArn);
        if (state.state === 'pending') opts.logger.warn({ roleArn, error: state.error }, 'revocation policy still pending');
        else opts.logger.info({ roleArn, compacted: state.compacted ?? false }, 'revocation policy applied');
      } catch (err) {
        if (err instanceof Error && err.name === 'StoreUnavailableError') throw err;
        opts.logger.error({ roleArn, err }, 'revocation policy apply failed unexpectedly');
        await opts.store.schedule(roleArn, new Date(opts.now().getTime() + AFTER_CRASH_MS));
      }
    }
    opts.metrics?.onPending?.(await opts.store.pendingRoleCount());
    await opts.store.pruneKillSwitch(opts.now(), opts.maxSessionSeconds);
  };

  const loop = (): void => {
    running = pass()
      .catch((err: unknown) => opts.logger.warn({ err }, 'reconciler pass failed; retrying next interval'))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(loop, opts.intervalMs);
          timer.unref();
        }
      });
  };
  loop();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      await opts.store.releaseLeadership(token).catch(() => undefined);
    },
  };
}
