import type { Cluster, Redis } from 'ioredis';
import { BODY, HEAD } from './session-record';

/**
 * The store's Lua scripts. Each touches only the keys it is given: one key, two sharing a hash tag, or (FINISH)
 * many records only where they share a node (redis-client.ts perKey), so they run on Redis Cluster. Times come from the caller's injected clock as ARGV, never from the server, so
 * tests move time and replicas agree on what "expired" means with their own clocks. ioredis sends them with
 * EVALSHA and falls back to EVAL after a server restart empties the script cache.
 */

// Lua arrays are 1-based.
const H = Object.fromEntries(Object.entries(HEAD).map(([k, v]) => [k, v + 1])) as { [K in keyof typeof HEAD]: number };
const DEVELOPER = BODY.developer + 1;
const ROLE_ARN = BODY.roleArn + 1;
const SESSION_NAME = BODY.roleSessionName + 1;

// An index's TTL only has to outlive its latest member. Extending it with room to spare means the vends of
// the next few minutes find it long enough and skip the PEXPIRE.
const EXTRA = `local EXTRA_TTL = 600000`;

/**
 * KEYS: developer's session index, developer's vend log. ARGV: id, expiryMs, nowMs, windowStartMs,
 * vendsPerMinute, liveSessions, indexTtlMs. Returns {'ok'}, {'rate', oldestVendMs} or {'sessions',
 * earliestExpiryMs}. A refusal records nothing, so a refused vend does not use up the rate.
 */
const RESERVE = `${EXTRA}
local rate, cap = tonumber(ARGV[5]), tonumber(ARGV[6])
if rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
  if redis.call('ZCARD', KEYS[2]) >= rate then
    return {'rate', redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]}
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if cap > 0 and redis.call('ZCARD', KEYS[1]) >= cap then
  return {'sessions', redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
end
if rate > 0 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]) + EXTRA_TTL) end
return {'ok'}
`;

/**
 * KEYS: one sorted set. ARGV: member, score, trimUpToMs, ttlMs. Adds the member or raises its score, drops
 * members scored at or before trimUpToMs, and extends the key's TTL to at least ttlMs.
 */
const REGISTER = `${EXTRA}
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + EXTRA_TTL) end
return 1
`;

/**
 * KEYS: record. ARGV: expiresAtMs, issuedAtMs, accessKeyId, packedPolicySize, assumedRoleArn, ttlMs.
 * pending -> live; a session revoked or ended meanwhile keeps that state (a revocation is never undone) but
 * still gets the issued key's details. The assumed-role ARN is stored only when it is not the one derived
 * from roleArn and roleSessionName. Returns {state, previous expiresAtMs, developer}, or nil when the record
 * is gone.
 */
const MARK_LIVE = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
-- A record (session-record.ts) is "<head>\\n<body>": only the head is decoded and rewritten.
local nl = string.find(v, '\\n', 1, true)
local head = cjson.decode(string.sub(v, 1, nl - 1))
local tail = string.sub(v, nl)
local body = cjson.decode(string.sub(tail, 2))
local previous = head[${H.expiresAt}]
if head[${H.state}] == 'p' then head[${H.state}] = 'l' end
head[${H.expiresAt}] = tonumber(ARGV[1])
head[${H.issuedAt}] = tonumber(ARGV[2])
head[${H.accessKeyId}] = ARGV[3]
head[${H.packedPolicySize}] = tonumber(ARGV[4])
local partition, account, role = string.match(body[${ROLE_ARN}], '^arn:([^:]+):iam::(%d+):role/.-([^/]+)$')
if not partition or ARGV[5] ~= ('arn:' .. partition .. ':sts::' .. account .. ':assumed-role/' .. role .. '/' .. body[${SESSION_NAME}]) then
  head[${H.assumedRoleArn}] = ARGV[5]
end
redis.call('SET', KEYS[1], cjson.encode(head) .. tail, 'PX', ARGV[6])
return {head[${H.state}], tostring(previous), body[${DEVELOPER}]}
`;

/**
 * KEYS: records (any number: several only where they share a node, see perKey). ARGV: new state code, state
 * codes it may replace, failure, revokedAtMs, revocationId, maxTtlMs ('' = keep). Returns, per key, {state
 * after, developer}, or false when the record is gone.
 */
const FINISH = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    out[i] = false
  else
    local nl = string.find(v, '\\n', 1, true)
    local head = cjson.decode(string.sub(v, 1, nl - 1))
    local tail = string.sub(v, nl)
    -- Read before anything is written, so a record whose body cjson cannot read (one written before the service
    -- refused ill-formed text) still changes state instead of failing half done.
    local ok, body = pcall(cjson.decode, string.sub(tail, 2))
    local developer = ok and body[${DEVELOPER}] or ''
    if string.find(ARGV[2], head[${H.state}], 1, true) then
      head[${H.state}] = ARGV[1]
      if ARGV[3] ~= '' then head[${H.failure}] = ARGV[3] end
      if ARGV[4] ~= '' then head[${H.revokedAt}] = tonumber(ARGV[4]) end
      if ARGV[5] ~= '' then head[${H.revocationId}] = ARGV[5] end
      redis.call('SET', key, cjson.encode(head) .. tail, 'KEEPTTL')
      if ARGV[6] ~= '' and redis.call('PTTL', key) > tonumber(ARGV[6]) then redis.call('PEXPIRE', key, ARGV[6]) end
    end
    out[i] = {head[${H.state}], developer}
  end
end
return out
`;

type Arg = string | number;

/** The scripts as ioredis commands (also available on pipelines). */
export interface SessionScripts {
  svReserve(devKey: string, vendsKey: string, ...args: Arg[]): Promise<[string, string?]>;
  svRegister(key: string, ...args: Arg[]): Promise<number>;
  svMarkLive(recordKey: string, ...args: Arg[]): Promise<[string, string, string] | null>;
  svFinish(...keysThenArgs: Arg[]): Promise<Array<[string, string] | null>>;
}

const SCRIPTS: Record<keyof SessionScripts, { numberOfKeys?: number; lua: string }> = {
  svReserve: { numberOfKeys: 2, lua: RESERVE },
  svRegister: { numberOfKeys: 1, lua: REGISTER },
  svMarkLive: { numberOfKeys: 1, lua: MARK_LIVE },
  // No numberOfKeys: the caller passes the key count first, as EVALSHA takes it.
  svFinish: { lua: FINISH },
};

/** Defines the scripts on a client (idempotent: several stores may share one client). */
export function defineScripts(redis: Redis | Cluster): Redis & SessionScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, def);
  }
  return redis as Redis & SessionScripts;
}
