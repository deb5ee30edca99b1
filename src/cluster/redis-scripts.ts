/**
 * The Lua scripts that keep the cluster's limits and leases in Redis (docs/cluster.md §2, §4).
 * Each runs atomically in Redis and reads time from Redis (`TIME`), so the instances' clocks do
 * not matter. Times are milliseconds.
 *
 * Keys (with the configured prefix, default `outdial:`):
 *   instances       hash  instance id → when it stops counting as alive
 *   calls:<key>     hash  instance id → slots that instance holds under <key>
 *   cps:<key>       zset  one member per admitted attempt in the window, scored by its time
 *   lease:<name>    string  the holder's id, with the lease's expiry as the key's TTL
 *
 * Every instance writes only its own field of a `calls:` hash, and always writes its whole count
 * (never an increment): a lost or repeated command is corrected by the next one, and the heartbeat
 * rewrites all of them.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Slots held under a key by live instances other than `me`; the fields of dead instances are
 * deleted on the way (their crash left them behind).
 */
const OTHERS = `
local function others(instances, calls, me, now)
  local total = 0
  local held = redis.call('HGETALL', calls)
  for i = 1, #held, 2 do
    local id = held[i]
    if id ~= me then
      local alive = tonumber(redis.call('HGET', instances, id) or '0')
      if alive > now then
        total = total + tonumber(held[i + 1])
      else
        redis.call('HDEL', calls, id)
      end
    end
  end
  return total
end
`;

/**
 * KEYS: instances, calls:<key>, cps:<key>
 * ARGV: me, instance ttl, mine (slots this instance already counts under the key, including
 *       requests still in flight), maxCalls (0 = unlimited), cps capacity (0 = unlimited),
 *       cps window, attempt id (unique per instance)
 * Returns 0 admitted, 1 refused by max_calls, 2 refused by max_cps.
 */
export const ADMIT = {
  numberOfKeys: 3,
  lua: `${NOW}${OTHERS}
local me = ARGV[1]
local ttl = tonumber(ARGV[2])
local mine = tonumber(ARGV[3])
local maxCalls = tonumber(ARGV[4])
local capacity = tonumber(ARGV[5])
local windowMs = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], me, now + ttl)
if maxCalls > 0 and others(KEYS[1], KEYS[2], me, now) + mine + 1 > maxCalls then
  return 1
end
if capacity > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - windowMs)
  if redis.call('ZCARD', KEYS[3]) >= capacity then
    return 2
  end
  redis.call('ZADD', KEYS[3], now, me .. ':' .. ARGV[7])
  redis.call('PEXPIRE', KEYS[3], math.ceil(windowMs))
end
redis.call('HSET', KEYS[2], me, mine + 1)
redis.call('PEXPIRE', KEYS[2], ttl)
return 0
`,
};

/**
 * This instance's count under one key, after a release.
 * KEYS: calls:<key>   ARGV: me, count, instance ttl
 */
export const SET_COUNT = {
  numberOfKeys: 1,
  lua: `
local n = tonumber(ARGV[2])
if n > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], n)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
`,
};

/**
 * Keeps this instance alive and reasserts its counts; forgets instances that stopped counting as
 * alive (their fields in `calls:` hashes are then ignored and deleted by ADMIT).
 * KEYS: instances, calls:<key>...   ARGV: me, instance ttl, count for each calls key in order
 */
export const HEARTBEAT = {
  lua: `${NOW}
local me = ARGV[1]
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], me, now + ttl)
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then redis.call('HDEL', KEYS[1], all[i]) end
end
redis.call('PEXPIRE', KEYS[1], ttl * 3)
for k = 2, #KEYS do
  local n = tonumber(ARGV[k + 1])
  if n > 0 then
    redis.call('HSET', KEYS[k], me, n)
    redis.call('PEXPIRE', KEYS[k], ttl)
  else
    redis.call('HDEL', KEYS[k], me)
  end
end
return now
`,
};

/**
 * Slots held under a key by every live instance.
 * KEYS: instances, calls:<key>   ARGV: me
 */
export const CLUSTER_HELD = {
  numberOfKeys: 2,
  lua: `${NOW}
local total = 0
local held = redis.call('HGETALL', KEYS[2])
for i = 1, #held, 2 do
  local id = held[i]
  if id == ARGV[1] or tonumber(redis.call('HGET', KEYS[1], id) or '0') > now then
    total = total + tonumber(held[i + 1])
  end
end
return total
`,
};

/**
 * Takes the lease when free (or expired), or renews it when `owner` holds it.
 * KEYS: lease:<name>   ARGV: owner, ttl
 * Returns 0 when `owner` holds it afterwards, else the ms left of the holder's lease (at least 1).
 */
export const LEASE_CLAIM = {
  numberOfKeys: 1,
  lua: `
local ttl = tonumber(ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 0
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  return 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then left = ttl end
return left
`,
};

/**
 * Gives the lease up, only if `owner` still holds it.
 * KEYS: lease:<name>   ARGV: owner
 */
export const LEASE_RELEASE = {
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
};
