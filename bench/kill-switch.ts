/**
 * Measurement 3, the kill switch at scale: one developer holds N live sessions (seeded through the
 * SessionStore, spread over three roles), an operator revokes the developer through the service, and the
 * benchmark times the request and counts the IAM calls the service made for it on the wire.
 */
import type { DevIssuer } from '../src/dev/dev-issuer';
import { createRedis } from '../src/storage/redis-client';
import { SessionStore } from '../src/storage/session-store';
import { countsSince, type IamProxy } from './iam-proxy';
import { keepAliveAgent, request } from './load';
import { seedSessions } from './seed-sessions';
import { BENCH_GRACE_SECONDS, BENCH_KEY_PREFIX, OPERATOR_CLAIMS } from './world';

// 0 first: a developer with no live session still gets the Deny on every role its templates reach, so that row
// is the fixed cost (IAM round trips, locks) the per-session cost of the others adds to.
const REVOKE_SIZES = [0, 1000, 10_000] as const;
const ROLES = 3;

export interface RevokeResult {
  sessions: number;
  /** Roles the seeded sessions are spread over. */
  roles: number;
  /** Roles the service wrote a Deny to (it also covers roles of every template the scope could vend). */
  rolesWritten: number;
  seedSeconds: number;
  /** POST /v1/revoke, request to answer, as the operator sees it. */
  revokeSeconds: number;
  status: number;
  sessionsRevoked: number;
  iamCalls: Record<string, number>;
  iamCallsByRole: Record<string, number>;
  iamCallsTotal: number;
  roleStates: string[];
}

interface Target {
  serviceUrl: string;
  redisUrl: string;
  issuer: DevIssuer;
  iam: IamProxy;
}

/** Seeds, revokes and counts for each size in REVOKE_SIZES, one developer per size; checks the sessions really ended revoked. */
export async function measureKillSwitch(t: Target, log: (line: string) => void): Promise<RevokeResult[]> {
  const redis = createRedis({ url: t.redisUrl });
  const store = new SessionStore(redis, { keyPrefix: BENCH_KEY_PREFIX, graceSeconds: BENCH_GRACE_SECONDS, now: () => new Date() });
  const agent = keepAliveAgent(1);
  const operator = await t.issuer.mint(OPERATOR_CLAIMS, { expiresInSeconds: 3600 });
  const results: RevokeResult[] = [];
  try {
    // Connected before the seeding starts: hundreds of first calls would each wait for the connection.
    await store.ping();
    for (const size of REVOKE_SIZES) {
      const developer = `incident-${size}@example.com`;
      const seedStart = process.hrtime.bigint();
      const ids = await seedSessions(store, { issuer: t.issuer.issuer, developer: () => developer, roles: ROLES }, size);
      const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;

      const before = t.iam.counts();
      const beforeByRole = t.iam.countsByRole();
      const start = process.hrtime.bigint();
      const res = await request(agent, `${t.serviceUrl}/v1/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ developer, reason: 'benchmark: kill switch at scale' }),
      });
      const revokeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      const iamCalls = countsSince(before, t.iam.counts());
      const iamCallsByRole = countsSince(beforeByRole, t.iam.countsByRole());
      if (res.status !== 200 && res.status !== 202) throw new Error(`revoke answered ${res.status}: ${res.body.slice(0, 300)}`);
      const answer = JSON.parse(res.body) as { sessionsRevoked: number; roles: Array<{ roleArn: string; state: string }> };
      // The answer is not taken on trust: the first and last seeded sessions must now be revoked in Redis.
      const states = await Promise.all([ids[0], ids[ids.length - 1]].filter((id) => id !== undefined).map(async (id) => (await store.get(id))?.state));
      if (states.some((s) => s !== 'revoked')) throw new Error(`after the revoke, seeded sessions are ${states.join(', ')}`);
      const result: RevokeResult = {
        sessions: size,
        roles: ROLES,
        rolesWritten: answer.roles.length,
        seedSeconds,
        revokeSeconds,
        status: res.status,
        sessionsRevoked: answer.sessionsRevoked,
        iamCalls,
        iamCallsByRole,
        iamCallsTotal: Object.values(iamCalls).reduce((a, b) => a + b, 0),
        roleStates: answer.roles.map((r) => `${r.roleArn.split('/').pop()}:${r.state}`),
      };
      results.push(result);
      log(
        `  ${size} sessions over ${ROLES} roles (seeded in ${seedSeconds.toFixed(1)} s): revoke ${(revokeSeconds * 1000).toFixed(0)} ms, ` +
          `HTTP ${res.status}, ${answer.sessionsRevoked} revoked, ${answer.roles.length} roles written, IAM ${JSON.stringify(iamCallsByRole)}`,
      );
    }
  } finally {
    agent.destroy();
    await redis.quit().catch(() => redis.disconnect());
  }
  return results;
}
