/**
 * Refresh cost: GET /v1/credentials/{id}, the container credentials endpoint botocore calls before every AWS
 * call, measured on a second service process (a replica sharing the Redis) so both kinds of refresh can be made
 * at will. Sessions are vended with `delivery: container` on the first service; the replica has none of their
 * credentials, so its first refresh of each is re-issued (a new AssumeRole), and every later one is cached (served
 * from its in-process credential cache after the kill-switch checkpoint). Every answer is checked: a re-issued
 * refresh must answer a key the vend did not, a cached one the key the re-issue answered.
 */
import type { DevIssuer } from '../src/dev/dev-issuer';
import { cpuPerRequest, cpuSnapshot } from './cpu';
import { closedLoop, keepAliveAgent, request, summarize, type LoadResult } from './load';
import { startService, type ServiceTarget } from './processes';
import { agentClaims, VEND_BODY } from './world';

const CONCURRENCY = 16;
// One developer per agent, as in the vend measurement.
const AGENTS = 16;

export interface RefreshSizes {
  /** Sessions vended, hence re-issued refreshes measured (each session once). */
  sessions: number;
  /** Cached refreshes measured, cycling over the sessions. */
  cached: number;
}

export const REFRESH_SIZES: RefreshSizes = { sessions: 1000, cached: 4000 };

export interface RefreshKind {
  load: LoadResult;
  /** CPU ms per refresh of each process (service = the replica answering the refreshes; bench = the load generator). */
  cpuMsPerRefresh: Record<string, number>;
}

export interface RefreshCost {
  concurrency: number;
  sessions: number;
  reissued: RefreshKind;
  cached: RefreshKind;
}

interface Target {
  serviceUrl: string;
  service: Omit<ServiceTarget, 'issuer'>;
  issuer: DevIssuer;
  /** Process ids whose CPU is accounted (emulator, redis); the replica's is added here. */
  pids: Record<string, number>;
}

interface Held {
  id: string;
  token: string;
  vendedKey: string;
  /** The key the replica's re-issue answered, once it did. */
  reissuedKey?: string;
}

/** Vends `count` container sessions through the first service, `CONCURRENCY` at a time. */
async function vendContainers(t: Target, tokens: string[], count: number): Promise<Held[]> {
  const agent = keepAliveAgent(CONCURRENCY);
  const held: Held[] = [];
  const body = JSON.stringify({ ...VEND_BODY, delivery: 'container' });
  try {
    await closedLoop(count, CONCURRENCY, async (i) => {
      const res = await request(agent, `${t.serviceUrl}/v1/vend`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i % tokens.length]}`, 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 200) throw new Error(`container vend failed: ${res.status} ${res.body.slice(0, 300)}`);
      const v = JSON.parse(res.body) as { sessionId: string; credentials: { accessKeyId: string }; container: { authorizationToken: string } };
      held.push({ id: v.sessionId, token: v.container.authorizationToken, vendedKey: v.credentials.accessKeyId });
      return null;
    });
  } finally {
    agent.destroy();
  }
  if (held.length !== count) throw new Error(`only ${held.length} of ${count} container vends succeeded`);
  return held;
}

/** One refresh of `h` at the replica; fails unless the answer is a credential of the expected kind. */
function refresher(url: string, agent: ReturnType<typeof keepAliveAgent>, kind: 'reissued' | 'cached') {
  return async (h: Held): Promise<string | null> => {
    const res = await request(agent, `${url}/v1/credentials/${h.id}`, { headers: { authorization: h.token } });
    if (res.status !== 200) return `HTTP ${res.status}`;
    const key = (JSON.parse(res.body) as { AccessKeyId?: string }).AccessKeyId;
    if (kind === 'reissued') {
      if (!key || key === h.vendedKey) return 'not re-issued';
      h.reissuedKey = key;
    } else if (key !== h.reissuedKey) return 'not cached';
    return null;
  };
}

/** Runs one kind of refresh over `pick(i)` and accounts every process's CPU to it. */
async function measureKind(count: number, fire: (i: number) => Promise<string | null>, pids: Record<string, number>): Promise<RefreshKind> {
  const before = cpuSnapshot(pids);
  const load = summarize([await closedLoop(count, CONCURRENCY, fire)]);
  return { load, cpuMsPerRefresh: cpuPerRequest(before, cpuSnapshot(pids), load.requests) };
}

export async function measureRefreshCost(t: Target, log: (line: string) => void, sizes: RefreshSizes = REFRESH_SIZES): Promise<RefreshCost> {
  const tokens = await Promise.all(Array.from({ length: AGENTS }, (_x, i) => t.issuer.mint(agentClaims(5000 + i), { expiresInSeconds: 3600 })));
  const replica = await startService('service (refresh replica)', { ...t.service, issuer: t.issuer.issuer });
  const agent = keepAliveAgent(CONCURRENCY);
  try {
    const pids = { ...t.pids, service: replica.child.proc.pid! };
    // Warm-up sessions of their own, so the measured ones are each re-issued exactly once.
    const warmUp = Math.max(100, Math.floor(sizes.sessions / 5));
    const warm = await vendContainers(t, tokens, warmUp);
    const held = await vendContainers(t, tokens, sizes.sessions);
    const reissue = refresher(replica.url, agent, 'reissued');
    const cache = refresher(replica.url, agent, 'cached');
    await closedLoop(warm.length, CONCURRENCY, (i) => reissue(warm[i]!));
    await closedLoop(warm.length * 4, CONCURRENCY, (i) => cache(warm[i % warm.length]!));

    const reissued = await measureKind(held.length, (i) => reissue(held[i]!), pids);
    const cached = await measureKind(sizes.cached, (i) => cache(held[i % held.length]!), pids);
    for (const [name, k] of [['re-issued', reissued], ['cached', cached]] as const) {
      const errors = k.load.errors > 0 ? `; errors ${JSON.stringify(k.load.failures)}` : '';
      log(`  ${name}: ${k.load.perSecond.toFixed(0)}/s at c=${CONCURRENCY}, p50 ${k.load.p50Ms.toFixed(2)} ms, service CPU ${k.cpuMsPerRefresh.service?.toFixed(3)} ms per refresh${errors}`);
    }
    return { concurrency: CONCURRENCY, sessions: held.length, reissued, cached };
  } finally {
    agent.destroy();
    await replica.child.stop();
  }
}
