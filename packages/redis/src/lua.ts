// The Lua texts of the store's two scripts, the append and the read (run by scripts.ts).

/**
 * Helpers of both scripts. A log's head (its last position) is its meta key, else the stream's
 * `last-generated-id` (a stream whose meta key expired first, with `maxAge: Infinity`), else
 * `0-0`: a log that never had an event, or that expired and was forgotten. The meta key holds
 * `<head> <bytes> <floor>` (see BYTES), or only the head (written before maxBytes existed, or by
 * hand): `head` returns the bytes and floor too, nil when it has none. Age is measured on Redis'
 * clock, the clock of the ids.
 */
export const HELPERS = `
local function head(s, m)
  local value = redis.call('GET', m)
  if value then
    local last, bytes, floor = string.match(value, '^(%S+) (%d+) (%d+)$')
    if last then return last, tonumber(bytes), tonumber(floor) end
    return value
  end
  local info = redis.pcall('XINFO', 'STREAM', s)
  if type(info) == 'table' then
    for i = 1, #info - 1, 2 do
      if info[i] == 'last-generated-id' then return info[i + 1] end
    end
  end
  return '0-0'
end
local function trimAge(s, mode, maxAge, ms)
  if maxAge >= 0 then
    local oldest = math.max(0, ms - maxAge)
    redis.call('XTRIM', s, 'MINID', mode, string.format('%d', oldest) .. '-0')
  end
end
`

/**
 * Byte accounting of the append script. Each entry carries `b`, the log's byte count before it:
 * the bytes (Lua's string length: UTF-8) of the field values other than `p` and `b` (data, event
 * name, topic, key) of the entries appended before it, counted from wherever the count started.
 * The entries from `e` to the newest thus hold `total - b(e)` bytes, `total` being the count
 * after the newest, without being read. The meta key holds the total beside the head, and a
 * floor: a `b` at most that of the oldest entry (trimming only ever raises the oldest's), so
 * while `total - floor` is within maxBytes, so is the log, and nothing is read. Otherwise
 * `trimBytes` reads the oldest entries in pages of 1, 2, 4 ... 64 (an append that trims k
 * entries reads at most 2k + 1, never the whole log), drops them while `total - b` is over
 * maxBytes, keeping the newest whatever its size, with `XTRIM MINID =` to the first one kept
 * (exact whatever `approximate` says: whole nodes of big events would be far over the limit),
 * and returns its `b` as the new floor.
 *
 * Without a total in the meta key (it expired while the stream did not, or was written before
 * maxBytes existed) `totalOf` takes the newest entry's `b` plus its own bytes, and the floor is
 * 0. An entry without `b` (appended before maxBytes existed; a log whose newest has none starts
 * the count at 0) counts as 0: the count then falls short of the bytes really kept, so such
 * entries are kept longer (within maxLen and maxAge), never trimmed early.
 */
const BYTES = `
local function bytesOf(fields)
  local size, b = 0, nil
  for j = 1, #fields - 1, 2 do
    local name = fields[j]
    if name == 'b' then b = tonumber(fields[j + 1])
    elseif name ~= 'p' then size = size + #fields[j + 1] end
  end
  return size, b
end
local function totalOf(s)
  local newest = redis.call('XREVRANGE', s, '+', '-', 'COUNT', 1)[1]
  if not newest then return 0 end
  local size, b = bytesOf(newest[2])
  if b then return b + size end
  return 0
end
local function trimBytes(s, total, maxBytes, newest)
  local from, count, first = '-', 1, true
  while true do
    local entries = redis.call('XRANGE', s, from, newest, 'COUNT', count)
    if #entries == 0 then
      -- No entry left (maxLen 0): the next ones count from total.
      if first then return total end
      return 0
    end
    for _, entry in ipairs(entries) do
      local _, b = bytesOf(entry[2])
      b = b or 0
      if entry[1] == newest or total - b <= maxBytes then
        if not first then redis.call('XTRIM', s, 'MINID', '=', entry[1]) end
        return b
      end
      first = false
    end
    from, count = '(' .. entries[#entries][1], math.min(count * 2, 64)
  end
end
`

/**
 * Appends a batch of events to one log, in order, trims the log, and publishes the batch on the
 * log's feed channel (`SPUBLISH`: sharded Pub/Sub, in the log's slot) in one message, atomically. Each entry carries `p`, the position before it in its
 * log: stream ids are not dense and Redis does not record what trimming removed, so the first
 * retained entry's `p` tells a read whether anything after a cursor is gone, and the feed tells
 * from each entry's `p` whether it missed one. It carries `b` too, the log's byte count before it
 * (see BYTES), which the meta key holds beside the head. The first id is Redis' time in
 * microseconds (`<ms>-<µs within the ms × 1000>`), so that on one Redis the events of different
 * logs are in publishing order too (a resume over several logs replays them in that order), or the
 * log's last position plus one when that is later (Redis' clock went back, or a stream expired
 * while its meta key still holds its last position); each further entry of the batch is the one
 * before it plus one (n ids span n ns of Redis' clock, while a script of n XADDs takes far longer,
 * so the next script's first id is still later). Trimming runs once per batch, after the XADDs: the
 * same result as trimming on each XADD (it keeps the newest entries), for less work. Byte trimming
 * comes last, when the other limits already dropped what they drop.
 *
 * KEYS: stream, meta. ARGV: maxLen (-1: none), trim mode (`~` or `=`), maxAge in ms (-1: none),
 * forgetAfter in ms (-1: never), maxBytes (-1: none), channel, log, then per event the number of
 * its fields and values, and those (each XADD unpacks only one event's few arguments, far below
 * Lua's stack limit, whatever the batch's size). Publishes `[log, p, [id, field, value, ...],
 * ...]` (see messages.ts: without `b`); returns the ids in order.
 */
export const APPEND = `${HELPERS}${BYTES}
local s, m = KEYS[1], KEYS[2]
local maxLen, mode, maxAge, forget = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local maxBytes = tonumber(ARGV[5])
local p, total, floor = head(s, m)
if not total then total, floor = totalOf(s), 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(t[2] / 1000)
local ms, seq = now, (t[2] % 1000) * 1000
local dash = string.find(p, '-', 1, true)
local pms, pseq = tonumber(string.sub(p, 1, dash - 1)), tonumber(string.sub(p, dash + 1))
if ms < pms or (ms == pms and seq <= pseq) then ms, seq = pms, pseq + 1 end
local message, ids = {ARGV[7], p}, {}
local i = 8
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local id = redis.call('XADD', s, string.format('%d-%d', ms, seq), 'p', p,
    'b', string.format('%d', total), unpack(ARGV, i + 1, i + n))
  local entry = {id}
  for j = i + 1, i + n do entry[#entry + 1] = ARGV[j] end
  for j = i + 2, i + n, 2 do total = total + #ARGV[j] end
  message[#message + 1] = entry
  ids[#ids + 1] = id
  p, seq, i = id, seq + 1, i + n + 1
end
if maxLen >= 0 then redis.call('XTRIM', s, 'MAXLEN', mode, maxLen) end
trimAge(s, mode, maxAge, now)
if maxBytes >= 0 and total - floor > maxBytes then floor = trimBytes(s, total, maxBytes, p) end
if maxAge >= 0 then redis.call('PEXPIRE', s, maxAge) end
local meta = string.format('%s %d %d', p, total, floor)
if forget >= 0 then redis.call('SET', m, meta, 'PX', forget) else redis.call('SET', m, meta) end
redis.call('SPUBLISH', ARGV[6], cjson.encode(message))
return ids
`

/**
 * Trims a log by age, then reads its head and, atomically with it, its entries after a position
 * up to the head.
 *
 * KEYS: stream, meta. ARGV: after (`''`: from the first entry), most entries (0: the head
 * only), maxAge in ms (-1: none), trim mode. Returns `[head, entries]`.
 */
export const READ = `${HELPERS}
local s, m = KEYS[1], KEYS[2]
if redis.call('EXISTS', s) == 1 then
  local t = redis.call('TIME')
  trimAge(s, ARGV[4], tonumber(ARGV[3]), t[1] * 1000 + math.floor(t[2] / 1000))
end
local last = head(s, m)
if ARGV[2] == '0' then return {last, {}} end
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
return {last, redis.call('XRANGE', s, from, last, 'COUNT', ARGV[2])}
`
