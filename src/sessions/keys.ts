/**
 * Every Redis key the session store writes, built in one place. P is the configured prefix (e.g. "sv:").
 *
 *   P{s:<id>}        string  the session record (record.ts); TTL = credential expiry + grace
 *   P{d:<dev>}       zset    the developer's active sessions: id -> credential expiry (ms); counted by the
 *                            live-session cap, trimmed when read or written
 *   P{d:<dev>}v      zset    the developer's vends of the last minute: id -> vend time (ms); the rate limit
 *   P{p:<project>}   zset    developers with active sessions in a project: developer -> latest expiry + grace
 *   P{t:<template>}  zset    the same, by template
 *   P{r:<roleArn>}   zset    the same, by role
 *   P{c:d}           zset    every developer with active sessions -> latest expiry + grace
 *   P{c:r}           zset    every role with active sessions -> latest expiry + grace
 *
 * Why project/template/role map to developers rather than to session ids: a member of a big sorted set costs
 * ~150 bytes, and one per session per dimension would triple the memory of a session. Developers hold few
 * sessions each, so "sessions of project X" is "sessions of X's developers whose record says project X"; the
 * per-developer sets are small (cheap listpack encoding) and the record is the truth.
 *
 * Redis Cluster: the only multi-key script (reserve) touches P{d:<dev>} and P{d:<dev>}v, which share a hash
 * tag; every other command is single-key, so nothing ever spans slots. The dimension letter after "{" keeps
 * dimensions apart, and a value containing "}" only shortens the tag (same slot), never makes keys collide.
 */

export type Dimension = 'developer' | 'project' | 'template' | 'role';

const TAG: Record<Dimension, string> = { developer: 'd', project: 'p', template: 't', role: 'r' };

/** Session ids the store accepts: short, printable, no separator characters (see src/vend/session-id.ts). */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface SessionKeys {
  record(id: string): string;
  /** Developer's active-session index (also the live-session cap's count). */
  developer(developer: string): string;
  /** Developer's vend log for the per-minute rate limit; same hash tag as developer(). */
  vends(developer: string): string;
  /** project/template/role -> developers with active sessions there. */
  registry(dimension: Exclude<Dimension, 'developer'>, value: string): string;
  /** Every developer / role with active sessions. */
  catalogue(dimension: 'developer' | 'role'): string;
}

/** Key builders for one prefix. The prefix must not contain braces: they would move the hash tag. */
export function sessionKeys(prefix: string): SessionKeys {
  if (/[{}]/.test(prefix)) throw new TypeError(`key prefix "${prefix}" must not contain "{" or "}"`);
  return {
    record: (id) => `${prefix}{s:${checkId(id)}}`,
    developer: (developer) => `${prefix}{d:${developer}}`,
    vends: (developer) => `${prefix}{d:${developer}}v`,
    registry: (dimension, value) => `${prefix}{${TAG[dimension]}:${value}}`,
    catalogue: (dimension) => `${prefix}{c:${TAG[dimension]}}`,
  };
}

/** Throws on an id that could not have come from the vend path (and could break a key or a record). */
export function checkId(id: string): string {
  if (!SESSION_ID.test(id)) throw new TypeError('invalid session id');
  return id;
}
