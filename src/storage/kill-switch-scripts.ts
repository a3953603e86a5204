import type { Cluster, Redis } from 'ioredis';

/**
 * The kill-switch store's Lua scripts (key layout in keys.ts). Each touches one key, except ADD_ENTRIES whose
 * two keys share the role's hash tag, so all run on Redis Cluster. Times come from the caller's injected clock
 * as ARGV, never from the server.
 */

/** KEYS: kill-switch hash. ARGV: field, ms. Raises the field to ms; never lowers it (a later revocation wins). */
const RAISE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`;

/**
 * KEYS: kill-switch hash. ARGV: field, revocationId, untilMs ('' = remove this revocation's block). A block
 * field holds every block on the selector, {revocationId: untilMs}, so lifting one leaves the others in force.
 * Returns 1 when the field changed.
 */
const SET_BLOCK = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local blocks = raw and cjson.decode(raw) or {}
local had = blocks[ARGV[2]] ~= nil
if ARGV[3] == '' then
  if not had then return 0 end
  blocks[ARGV[2]] = nil
else
  blocks[ARGV[2]] = tonumber(ARGV[3])
end
if next(blocks) == nil then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(blocks)) end
return 1
`;

/** KEYS: kill-switch hash. ARGV: nowMs, revokedCutoffMs. Drops r: fields older than the cut-off and ended blocks. */
const PRUNE = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local field, value = all[i], all[i + 1]
  if string.sub(field, 1, 2) == 'r:' then
    if tonumber(value) < tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], field) end
  else
    local blocks, left, changed = cjson.decode(value), {}, false
    for id, untilMs in pairs(blocks) do
      if untilMs > tonumber(ARGV[1]) then left[id] = untilMs else changed = true end
    end
    if next(left) == nil then redis.call('HDEL', KEYS[1], field)
    elseif changed then redis.call('HSET', KEYS[1], field, cjson.encode(left)) end
  end
end
return 1
`;

/**
 * KEYS: role entries hash, role waiting zset. ARGV: revocationId, nowMs, then entry field/value pairs. Adds the
 * entries, raises "#seq", notes when the oldest unapplied entry arrived ("#since"), and records the revocation
 * as waiting at the new "#seq". Returns the new "#seq".
 */
const ADD_ENTRIES = `
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local seq = redis.call('HINCRBY', KEYS[1], '#seq', 1)
redis.call('HSETNX', KEYS[1], '#since', ARGV[2])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return seq
`;

/**
 * KEYS: role entries hash. ARGV: "#seq" the caller read, count of fields to remove, those fields, then field/value
 * pairs to add. Entries added since the read are kept. Returns 1 when "#seq" moved since the read (the caller
 * must apply again), else clears "#since" and returns 0.
 */
const REPLACE_ENTRIES = `
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 3 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if tonumber(redis.call('HGET', KEYS[1], '#seq') or '0') ~= tonumber(ARGV[1]) then return 1 end
redis.call('HDEL', KEYS[1], '#since')
return 0
`;

/** KEYS: revocation hash. ARGV: field, value. Sets the field only if the revocation still exists (no orphan keys). */
const SET_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * KEYS: revocation hash. ARGV: record JSON, ttlMs, then role ARNs. First write wins: a repeated call with the same
 * revocation id leaves the record and any role state already reported as it is. Returns 1 if the record is new.
 */
const CREATE_REVOCATION = `
local created = redis.call('HSETNX', KEYS[1], 'rec', ARGV[1])
for i = 3, #ARGV do redis.call('HSETNX', KEYS[1], 'role:' .. ARGV[i], '{"state":"pending"}') end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return created
`;

/** KEYS: lock. ARGV: token, ttlMs. Takes the lock, or extends it if this token holds it. Returns 1 if held. */
const HOLD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

/** KEYS: lock. ARGV: token. Deletes the lock only if this token still holds it (it may have expired and moved on). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Arg = string | number;

/** The scripts as ioredis commands (also available on pipelines). */
export interface KillSwitchScripts {
  ksRaise(key: string, ...args: Arg[]): Promise<number>;
  ksSetBlock(key: string, ...args: Arg[]): Promise<number>;
  ksPrune(key: string, ...args: Arg[]): Promise<number>;
  ksAddEntries(entriesKey: string, waitingKey: string, ...args: Arg[]): Promise<number>;
  ksReplaceEntries(key: string, ...args: Arg[]): Promise<number>;
  ksSetIfExists(key: string, ...args: Arg[]): Promise<number>;
  ksCreateRevocation(key: string, ...args: Arg[]): Promise<number>;
  ksHold(key: string, ...args: Arg[]): Promise<number>;
  ksRelease(key: string, ...args: Arg[]): Promise<number>;
}

const SCRIPTS: Record<keyof KillSwitchScripts, { numberOfKeys: number; lua: string }> = {
  ksRaise: { numberOfKeys: 1, lua: RAISE },
  ksSetBlock: { numberOfKeys: 1, lua: SET_BLOCK },
  ksPrune: { numberOfKeys: 1, lua: PRUNE },
  ksAddEntries: { numberOfKeys: 2, lua: ADD_ENTRIES },
  ksReplaceEntries: { numberOfKeys: 1, lua: REPLACE_ENTRIES },
  ksSetIfExists: { numberOfKeys: 1, lua: SET_IF_EXISTS },
  ksCreateRevocation: { numberOfKeys: 1, lua: CREATE_REVOCATION },
  ksHold: { numberOfKeys: 1, lua: HOLD },
  ksRelease: { numberOfKeys: 1, lua: RELEASE },
};

/** Defines the scripts on a client (idempotent: several stores may share one client). */
export function defineKillSwitchScripts(redis: Redis | Cluster): Redis & KillSwitchScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, def);
  }
  return redis as Redis & KillSwitchScripts;
}
