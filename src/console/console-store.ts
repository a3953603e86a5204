import type { Identity } from '../auth/identity';
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { storeRunner, type StoreRunner } from '../storage/redis-client';
import { storageKeys, type ConsoleKeys } from '../storage/keys';

/** A sign-in between the redirect to the issuer and its callback. */
export interface SignIn {
  /** The configured issuer's name. */
  issuer: string;
  /** The PKCE code verifier (RFC 7636); worthless without the one-time code the issuer sends the browser. */
  verifier: string;
  nonce: string;
}

/**
 * Who is signed in: the identity the ID token proved, never the token itself. Re-checked against the current
 * config (issuer offered, operator) on every request.
 */
export type ConsoleIdentity = Omit<Identity, 'project' | 'claims'>;

export interface ConsoleSession {
  identity: ConsoleIdentity;
  /** The synchronizer token every state-changing request must carry. */
  csrf: string;
  expiresAt: string;
}

const SIGN_IN_TTL_SECONDS = 600;

/** Sign-ins and console sessions in Redis (layout in src/storage/keys.ts). Redis errors surface as StoreUnavailableError. */
export class ConsoleStore {
  private readonly keys: ConsoleKeys;
  private readonly run: StoreRunner;
  constructor(
    private readonly redis: Redis | Cluster,
    keyPrefix: string,
  ) {
    this.keys = storageKeys(keyPrefix).console;
    this.run = storeRunner(redis, 'console store');
  }

  /** Records a sign-in; answers its `state` (random, also the key). */
  async beginSignIn(signIn: SignIn): Promise<string> {
    const state = randomBytes(24).toString('base64url');
    await this.run(() => this.redis.set(this.keys.signIn(state), JSON.stringify(signIn), 'EX', SIGN_IN_TTL_SECONDS));
    return state;
  }

  /** The sign-in of `state`, removed as it is read: a state is good for one callback. */
  async takeSignIn(state: string): Promise<SignIn | null> {
    if (!/^[A-Za-z0-9_-]{32}$/.test(state)) return null;
    const raw = await this.run(() => this.redis.getdel(this.keys.signIn(state)));
    return raw ? (JSON.parse(raw) as SignIn) : null;
  }

  /** A new session; answers the cookie value (256 random bits), which Redis only ever sees hashed. */
  async createSession(identity: ConsoleIdentity, expiresAt: Date, now: Date): Promise<{ cookieId: string; session: ConsoleSession }> {
    const cookieId = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { identity, csrf: randomBytes(32).toString('base64url'), expiresAt: expiresAt.toISOString() };
    const ttlMs = Math.max(1000, expiresAt.getTime() - now.getTime());
    await this.run(() => this.redis.set(this.keys.session(cookieId), JSON.stringify(session), 'PX', ttlMs));
    return { cookieId, session };
  }

  async getSession(cookieId: string, now: Date): Promise<ConsoleSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookieId)) return null;
    const raw = await this.run(() => this.redis.get(this.keys.session(cookieId)));
    if (!raw) return null;
    const session = JSON.parse(raw) as ConsoleSession;
    return Date.parse(session.expiresAt) > now.getTime() ? session : null;
  }

  async endSession(cookieId: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookieId)) return;
    await this.run(() => this.redis.del(this.keys.session(cookieId)));
  }
}
