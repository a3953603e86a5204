import type { Cluster, Redis } from 'ioredis';
import { HEAD_LINES, LEGACY_BODY, LEGACY_HEAD, LINE } from './session-record';

/**
 * The session store's Lua scripts. Each touches only the keys it is given: one key, two sharing a hash tag, or
 * (FINISH) many records only where they share a node (redis-client.ts perKey), so they run on Redis Cluster.
 * Times come from the caller's injected clock as ARGV (epoch ms), never from the server, so tests move time and
 * replicas agree on what "expired" means with their own clocks. ioredis sends them with EVALSHA and falls back
 * to EVAL after a server restart empties the script cache. Every command a script runs counts against the
 * vend's budget (README, "Redis"), so they run as few as they can.
 */

// Lua arrays are 1-based.
const L = Object.fromEntries(Object.entries(LINE).map(([k, v]) => [k, v + 1])) as { [K in keyof typeof LINE]: number };
const LH = Object.fromEntries(Object.entries(LEGACY_HEAD).map(([k, v]) => [k, v + 1])) as { [K in keyof typeof LEGACY_HEAD]: number };
const LB = { developer: LEGACY_BODY.developer + 1, roleArn: LEGACY_BODY.roleArn + 1, sessionName: LEGACY_BODY.roleSessionName + 1 };

// An index's TTL only has to outlive its latest member. Extending it with room to spare means the vends of
// the next few minutes find it long enough and skip the PEXPIRE.
const EXTRA = `local EXTRA_TTL = 600000`;

/**
 * A record's head lines split off the rest (session-record.ts), and the reverse; b36 writes a time as the
 * record holds it. Records of the previous format start with "[" and take the LEGACY_* branches.
 */
const RECORD = `
local function b36(n)
  local digits, s = '0123456789abcdefghijklmnopqrstuvwxyz', ''
  n = math.floor(tonumber(n))
  repeat
    local r = n % 36
    s = string.sub(digits, r + 1, r + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end
local function split(v)
  local head, pos = {}, 1
  for i = 1, ${HEAD_LINES} do
    local nl = string.find(v, '\\n', pos, true)
    head[i] = string.sub(v, pos, nl - 1)
    pos = nl + 1
  end
  return head, string.sub(v, pos)
end
local function join(head, body) return table.concat(head, '\\n') .. '\\n' .. body end
local function developerOf(body) return string.match(body, '^[^\\n]*\\n([^\\n]*)') or '' end
local function legacySplit(v)
  local nl = string.find(v, '\\n', 1, true)
  return cjson.decode(string.sub(v, 1, nl - 1)), string.sub(v, nl)
end
`;

/**
 * KEYS: developer's session index, developer's vend log. ARGV: id, expiryMs, nowMs, windowStartMs,
 * vendsPerMinute, liveSessions, indexTtlMs. Returns {'ok'}, {'rate', oldestVendMs} or {'sessions',
 * earliestExpiryMs}. A refusal records nothing, so a refused vend does not use up the rate. With no limits it
 * runs two commands: expired members go only when the index's TTL is extended (at least every EXTRA_TTL for a
 * developer who keeps vending), and readers skip them by score meanwhile.
 */
const RESERVE = `${EXTRA}
local rate, cap = tonumber(ARGV[5]), tonumber(ARGV[6])
if rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
  if redis.call('ZCARD', KEYS[2]) >= rate then
    return {'rate', redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]}
  end
end
if cap > 0 and redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[3], '+inf') >= cap then
  return {'sessions', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]}
end
if rate > 0 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[7]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[7]) + EXTRA_TTL)
end
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
 * KEYS: record. ARGV: expiresAtMs, issuedAtMs, accessKeyId, packedPolicySize, assumedRoleArn ('' when it is the
 * derived one), ttlMs. pending -> live; a session revoked or ended meanwhile keeps that state (a revocation is
 * never undone) but still gets the issued key's details. Returns {state, previous expiresAtMs, developer}, or nil
 * when the record is gone.
 */
const MARK_LIVE = `${RECORD}
local v = redis.call('GET', KEYS[1])
if not v then return false end
if string.sub(v, 1, 1) == '[' then
  local head, tail = legacySplit(v)
  local body = cjson.decode(string.sub(tail, 2))
  local previous = head[${LH.expiresAt}]
  if head[${LH.state}] == 'p' then head[${LH.state}] = 'l' end
  head[${LH.expiresAt}] = tonumber(ARGV[1])
  head[${LH.issuedAt}] = tonumber(ARGV[2])
  head[${LH.accessKeyId}] = ARGV[3]
  head[${LH.packedPolicySize}] = tonumber(ARGV[4])
  local partition, account, role = string.match(body[${LB.roleArn}], '^arn:([^:]+):iam::(%d+):role/.-([^/]+)$')
  if ARGV[5] ~= '' and (not partition or ARGV[5] ~= ('arn:' .. partition .. ':sts::' .. account .. ':assumed-role/' .. role .. '/' .. body[${LB.sessionName}])) then
    head[${LH.assumedRoleArn}] = ARGV[5]
  end
  redis.call('SET', KEYS[1], cjson.encode(head) .. tail, 'PX', ARGV[6])
  return {head[${LH.state}], tostring(previous), body[${LB.developer}]}
end
local head, body = split(v)
local previous = tonumber(head[${L.expiresAt}], 36) or 0
if head[${L.state}] == 'p' then head[${L.state}] = 'l' end
head[${L.expiresAt}] = b36(ARGV[1])
head[${L.issuedAt}] = b36(ARGV[2])
head[${L.accessKeyId}] = ARGV[3]
head[${L.packedPolicySize}] = ARGV[4]
head[${L.assumedRoleArn}] = ARGV[5]
redis.call('SET', KEYS[1], join(head, body), 'PX', ARGV[6])
return {head[${L.state}], string.format('%d', previous), developerOf(body)}
`;

/**
 * KEYS: records (any number: several only where they share a node, see perKey). ARGV: new state code, state
 * codes it may replace, failure, revokedAtMs, revocationId, maxTtlMs ('' = keep). Returns, per key, {state
 * after, developer}, or false when the record is gone.
 */
const FINISH = `${RECORD}
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    out[i] = false
  elseif string.sub(v, 1, 1) == '[' then
    local head, tail = legacySplit(v)
    -- Read before anything is written, so a record whose body cjson cannot read (one written before the service
    -- refused ill-formed text) still changes state instead of failing half done.
    local ok, body = pcall(cjson.decode, string.sub(tail, 2))
    local developer = ok and body[${LB.developer}] or ''
    if string.find(ARGV[2], head[${LH.state}], 1, true) then
      head[${LH.state}] = ARGV[1]
      if ARGV[3] ~= '' then head[${LH.failure}] = ARGV[3] end
      if ARGV[4] ~= '' then head[${LH.revokedAt}] = tonumber(ARGV[4]) end
      if ARGV[5] ~= '' then head[${LH.revocationId}] = ARGV[5] end
      redis.call('SET', key, cjson.encode(head) .. tail, 'KEEPTTL')
      if ARGV[6] ~= '' and redis.call('PTTL', key) > tonumber(ARGV[6]) then redis.call('PEXPIRE', key, ARGV[6]) end
    end
    out[i] = {head[${LH.state}], developer}
  else
    local head, body = split(v)
    if string.find(ARGV[2], head[${L.state}], 1, true) then
      head[${L.state}] = ARGV[1]
      if ARGV[3] ~= '' then head[${L.failure}] = ARGV[3] end
      if ARGV[4] ~= '' then head[${L.revokedAt}] = b36(ARGV[4]) end
      if ARGV[5] ~= '' then head[${L.revocationId}] = ARGV[5] end
      redis.call('SET', key, join(head, body), 'KEEPTTL')
      if ARGV[6] ~= '' and redis.call('PTTL', key) > tonumber(ARGV[6]) then redis.call('PEXPIRE', key, ARGV[6]) end
    end
    out[i] = {head[${L.state}], developerOf(body)}
  end
end
return out
`;

/**
 * KEYS: the template-roles hash. ARGV: template/roleArn pairs. Records each template's role unless one is already
 * recorded (the first role a template issued on stays the one records derive theirs from), and returns the hash.
 */
const TEMPLATE_ROLES = `
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[1])
`;

type Arg = string | number;

/** The scripts as ioredis commands (also available on pipelines). */
export interface SessionScripts {
  svReserve(devKey: string, vendsKey: string, ...args: Arg[]): Promise<[string, string?]>;
  svRegister(key: string, ...args: Arg[]): Promise<number>;
  svMarkLive(recordKey: string, ...args: Arg[]): Promise<[string, string, string] | null>;
  svFinish(...keysThenArgs: Arg[]): Promise<Array<[string, string] | null>>;
  svTemplateRoles(key: string, ...args: Arg[]): Promise<string[]>;
}

const SCRIPTS: Record<keyof SessionScripts, { numberOfKeys?: number; lua: string }> = {
  svReserve: { numberOfKeys: 2, lua: RESERVE },
  svRegister: { numberOfKeys: 1, lua: REGISTER },
  svMarkLive: { numberOfKeys: 1, lua: MARK_LIVE },
  // No numberOfKeys: the caller passes the key count first, as EVALSHA takes it.
  svFinish: { lua: FINISH },
  svTemplateRoles: { numberOfKeys: 1, lua: TEMPLATE_ROLES },
};

/** Defines the scripts on a client (idempotent: several stores may share one client). */
export function defineScripts(redis: Redis | Cluster): Redis & SessionScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') redis.defineCommand(name, def);
  }
  return redis as Redis & SessionScripts;
}
