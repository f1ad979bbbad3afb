// The Lua texts of durable streams (run by durable-scripts.ts). Every script but CLAIM and TOUCH
// works on one stream's keys, which share its log's hash tag: one slot, so they run on Redis
// Cluster too.
import { HELPERS } from './lua'

/**
 * Keeps the record of a new stream and gives `token` its lease, unless a record with this id
 * exists (ids are 128 random bits: it never does, but nothing is overwritten if it did).
 *
 * KEYS: record, lease. ARGV: token, ttl ms, lease ms, idempotency key name (`''`: none),
 * `'1'` when it has an owner, owner. Returns 1 when created, 0 otherwise.
 */
export const CREATE = `
local r, l = KEYS[1], KEYS[2]
if redis.call('EXISTS', r) == 1 then return 0 end
redis.call('HSET', r, 't', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', r, 'k', ARGV[4]) end
if ARGV[5] == '1' then redis.call('HSET', r, 'o', ARGV[6]) end
redis.call('PEXPIRE', r, ARGV[2])
redis.call('SET', l, ARGV[1], 'PX', ARGV[3])
return 1
`

/**
 * Points an idempotency key at a stream: `SET NX` with the TTL, or, when it names `ARGV[3]` (a
 * stream the caller found expired), replaces it. Returns the stream it names afterwards.
 *
 * KEYS: the idempotency key. ARGV: id, ttl ms, stale id (`''`: none).
 */
export const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[3] then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`

/** Keeps an idempotency key `ttl` longer while it names the stream. KEYS: key. ARGV: id, ttl. */
export const TOUCH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`

/**
 * A stream's record: false when there is none; else `{hasOwner, owner, ended, orphaned}`. It is
 * orphaned when it runs and its lease key expired: Redis' clock, never a client's.
 *
 * KEYS: record, lease.
 */
export const STATE = `
local v = redis.call('HMGET', KEYS[1], 't', 'o', 'e')
if not v[1] then return false end
local ended = v[3] and 1 or 0
local orphaned = 0
if ended == 0 and redis.call('EXISTS', KEYS[2]) == 0 then orphaned = 1 end
return {v[2] and 1 or 0, v[2] or '', ended, orphaned}
`

/**
 * Extends the lease while `token` holds it, and keeps the record and the log readable `ttl` more
 * (a producer between two parts is still writing). Returns false once the token does not hold
 * it; else `{cancelled, idempotency key name, ttl}`: a cancel whose message this process missed (a
 * reconnect of its subscriber) still reaches the producer at its next renewal.
 *
 * KEYS: record, lease, stream, meta. ARGV: token, lease ms.
 */
export const RENEW = `
local r, l = KEYS[1], KEYS[2]
local v = redis.call('HMGET', r, 't', 'e', 'c', 'k')
if not v[1] or v[2] or redis.call('GET', l) ~= ARGV[1] then return false end
redis.call('PEXPIRE', l, ARGV[2])
for _, key in ipairs({r, KEYS[3], KEYS[4]}) do redis.call('PEXPIRE', key, v[1]) end
return {v[3] and 1 or 0, v[4] or '', v[1]}
`

/**
 * Cancels a running stream: marks its record (see RENEW) and tells the producer's process on
 * the stream's cancel channel. Returns 1, or 0 when the stream is unknown or ended.
 *
 * KEYS: record. ARGV: channel, id.
 */
export const CANCEL = `
local v = redis.call('HMGET', KEYS[1], 't', 'e')
if not v[1] or v[2] then return 0 end
redis.call('HSET', KEYS[1], 'c', '1')
redis.call('SPUBLISH', ARGV[1], ARGV[2])
return 1
`

/**
 * Appends parts to a durable stream's log, or its terminal event, after checking who may write
 * in the same script, so a producer that lost its lease never stores anything: mode `a` (parts)
 * and `e` (the end) need `token` to hold the lease; `r` (the end, by a reader that found the
 * producer gone) needs a running stream whose lease expired, and ends it, so it succeeds once.
 * Positions and the feed message are the append script's (see APPEND in lua.ts: ids on Redis'
 * clock, each entry's `p`), without trimming: the log, its meta key and the record expire `ttl`
 * after this write instead. An end deletes the lease and marks the record ended.
 *
 * A producer sends an append again when it failed; when only its reply was lost, the log
 * already holds more parts than the producer's count (`stored`), and the ids of that earlier
 * write are returned instead of writing it twice. The log is never trimmed, so its length is
 * the count of parts.
 *
 * KEYS: stream, meta, record, lease. ARGV: mode, token, channel, log, stored (mode `a`), then
 * per event its number of fields and values, and those. Returns false when nothing was stored;
 * else the idempotency key name (`''`: none), the ttl, then the ids in order.
 */
export const WRITE = `${HELPERS}
local s, m, r, l = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local v = redis.call('HMGET', r, 't', 'e', 'k')
local ttl = v[1]
if not ttl or v[2] then return false end
if ARGV[1] == 'r' then
  if redis.call('EXISTS', l) == 1 then return false end
elseif redis.call('GET', l) ~= ARGV[2] then return false end
if ARGV[1] == 'a' then
  local landed = redis.call('XLEN', s) - tonumber(ARGV[5])
  if landed > 0 then
    local out = {v[3] or '', ttl}
    local last = redis.call('XREVRANGE', s, '+', '-', 'COUNT', landed)
    for j = landed, 1, -1 do out[#out + 1] = last[j][1] end
    return out
  end
end
local p = head(s, m)
local t = redis.call('TIME')
local ms, seq = tonumber(t[1]) * 1000 + math.floor(t[2] / 1000), (t[2] % 1000) * 1000
local dash = string.find(p, '-', 1, true)
local pms, pseq = tonumber(string.sub(p, 1, dash - 1)), tonumber(string.sub(p, dash + 1))
if ms < pms or (ms == pms and seq <= pseq) then ms, seq = pms, pseq + 1 end
local message, out = {ARGV[4], p}, {v[3] or '', ttl}
local i = 6
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local id = redis.call('XADD', s, string.format('%d-%d', ms, seq), 'p', p, unpack(ARGV, i + 1, i + n))
  local entry = {id}
  for j = i + 1, i + n do entry[#entry + 1] = ARGV[j] end
  message[#message + 1] = entry
  out[#out + 1] = id
  p, seq, i = id, seq + 1, i + n + 1
end
redis.call('SET', m, p, 'PX', ttl)
redis.call('PEXPIRE', s, ttl)
if ARGV[1] ~= 'a' then
  redis.call('HSET', r, 'e', '1')
  redis.call('DEL', l)
end
redis.call('PEXPIRE', r, ttl)
redis.call('SPUBLISH', ARGV[3], cjson.encode(message))
return out
`
