/**
 * Live sessions written straight through the SessionStore (createPending then markLive, what a vend writes),
 * so the kill switch and the Redis cost can be measured over thousands of sessions without thousands of vends.
 * Records look like real ones: the fields the vend path fills, in the same formats.
 */
import { randomBytes } from 'node:crypto';
import type { SessionRecord, SessionStore } from '../src/storage/session-store';
import { sessionNamePrefix, sourceIdentityFor } from '../src/auth/identity-key';
import { newSessionId } from '../src/vend/session-id';
import { ACCOUNT, roleArn, SEED_TEMPLATES } from './world';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A temporary access key id as STS issues them: ASIA + 16 characters. */
function accessKeyId(): string {
  return `ASIA${[...randomBytes(16)].map((b) => KEY_ALPHABET[b % 32]).join('')}`;
}

export interface SeedOptions {
  issuer: string;
  /** Developer of session number i. */
  developer(i: number): string;
  /** How many of the seed templates (1..3, hence roles) the sessions spread over. */
  roles: number;
}

/** Session number i, pending, and the details markLive records for it. */
function seedSession(o: SeedOptions, i: number, nowMs: number): { rec: SessionRecord; live: Parameters<SessionStore['markLive']>[1] } {
  const t = SEED_TEMPLATES[i % o.roles]!;
  const developer = o.developer(i);
  const id = newSessionId();
  const roleSessionName = `${sessionNamePrefix('', developer)}.${id.slice(0, 8)}`;
  // Credential lifetimes between 15 minutes and an hour, like a mix of default and longer vends.
  const expiresAt = new Date(nowMs + (900 + (i % 2700)) * 1000);
  const rec: SessionRecord = {
    id,
    state: 'pending',
    issuer: o.issuer,
    subject: developer,
    owner: developer,
    developer,
    developerClaim: developer,
    project: 'backend-api',
    accessType: 'AI',
    template: t.template,
    roleArn: roleArn(t.role),
    roleSessionName,
    sourceIdentity: sourceIdentityFor('', developer),
    parameters: t.parameters(i),
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: expiresAt.toISOString(),
  };
  const live = {
    accessKeyId: accessKeyId(),
    assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${t.role}/${roleSessionName}`,
    issuedAt: new Date(nowMs),
    expiresAt,
    packedPolicySize: 5 + (i % 10),
  };
  return { rec, live };
}

/** Records `count` live sessions, `inFlight` at a time (one connection pipelines them); returns their ids. */
export async function seedSessions(store: SessionStore, o: SeedOptions, count: number, inFlight = 200): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const nowMs = Date.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const { rec, live } = seedSession(o, i, nowMs);
      await store.createPending(rec);
      const state = await store.markLive(rec.id, live, rec);
      if (state !== 'live') throw new Error(`seeded session ${rec.id} is ${state ?? 'gone'}, not live`);
      ids[i] = rec.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return ids;
}
