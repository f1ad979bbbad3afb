import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Helpers of both scripts. A log's head (its last position) is its meta key, else the stream's
 * `last-generated-id` (a stream whose meta key expired first, with `maxAge: Infinity`), else
 * `0-0`: a log that never had an event, or that expired and was forgotten. Age is measured on
 * Redis' clock, the clock of the ids.
 */
const HELPERS = `
local function head(s, m)
  local last = redis.call('GET', m)
  if last then return last end
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
 * Appends a batch of events to one log, in order, trims the log, and publishes the batch on the
 * feed channel in one message, atomically. Each entry carries `p`, the position before it in its
 * log: stream ids are not dense and Redis does not record what trimming removed, so the first
 * retained entry's `p` tells a read whether anything after a cursor is gone, and the feed tells
 * from each entry's `p` whether it missed one. The first id is Redis' time in microseconds
 * (`<ms>-<µs within the ms × 1000>`), so that on one Redis the events of different logs are in
 * publishing order too (a resume over several logs replays them in that order), or the log's
 * last position plus one when that is later (Redis' clock went back, or a stream expired while
 * its meta key still holds its last position); each further entry of the batch is the one
 * before it plus one (n ids span n ns of Redis' clock, while a script of n XADDs takes far
 * longer, so the next script's first id is still later). Trimming runs once per batch, after
 * the XADDs: the same result as trimming on each XADD (it keeps the newest entries), for less
 * work.
 *
 * KEYS: stream, meta. ARGV: maxLen (-1: none), trim mode (`~` or `=`), maxAge in ms (-1: none),
 * forgetAfter in ms (-1: never), channel, log, then per event the number of its fields and
 * values, and those (each XADD unpacks only one event's few arguments, far below Lua's stack
 * limit, whatever the batch's size). Publishes `[log, p, [id, field, value, ...], ...]` (see
 * messages.ts); returns the ids in order.
 */
const APPEND = `${HELPERS}
local s, m = KEYS[1], KEYS[2]
local maxLen, mode, maxAge, forget = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local p = head(s, m)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(t[2] / 1000)
local ms, seq = now, (t[2] % 1000) * 1000
local dash = string.find(p, '-', 1, true)
local pms, pseq = tonumber(string.sub(p, 1, dash - 1)), tonumber(string.sub(p, dash + 1))
if ms < pms or (ms == pms and seq <= pseq) then ms, seq = pms, pseq + 1 end
local message, ids = {ARGV[6], p}, {}
local i = 7
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local id = redis.call('XADD', s, string.format('%d-%d', ms, seq), 'p', p, unpack(ARGV, i + 1, i + n))
  local entry = {id}
  for j = i + 1, i + n do entry[#entry + 1] = ARGV[j] end
  message[#message + 1] = entry
  ids[#ids + 1] = id
  p, seq, i = id, seq + 1, i + n + 1
end
if maxLen >= 0 then redis.call('XTRIM', s, 'MAXLEN', mode, maxLen) end
trimAge(s, mode, maxAge, now)
if maxAge >= 0 then redis.call('PEXPIRE', s, maxAge) end
if forget >= 0 then redis.call('SET', m, p, 'PX', forget) else redis.call('SET', m, p) end
redis.call('PUBLISH', ARGV[5], cjson.encode(message))
return ids
`

/**
 * Trims a log by age, then reads its head and, atomically with it, its entries after a position
 * up to the head.
 *
 * KEYS: stream, meta. ARGV: after (`''`: from the first entry), most entries (0: the head
 * only), maxAge in ms (-1: none), trim mode. Returns `[head, entries]`.
 */
const READ = `${HELPERS}
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

/** Per client: whether Redis has the script cached, and the EVAL that is loading it. */
interface Loading {
  loaded: boolean
  first: Promise<unknown> | undefined
}

/**
 * A Lua script run with EVALSHA. While Redis does not have it cached (first use, or NOSCRIPT
 * after a restart), one call runs EVAL and the calls made meanwhile wait for it, so a burst of
 * appends sends the script's text once rather than once per event.
 */
class Script {
  readonly #lua: string
  readonly #sha: string
  readonly #clients = new WeakMap<object, Loading>()

  constructor(lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    let state = this.#clients.get(client)
    if (!state) {
      state = { loaded: false, first: undefined }
      this.#clients.set(client, state)
    }
    while (state.first) await state.first
    if (!state.loaded) {
      const call = client.eval(this.#lua, keys.length, ...keys, ...args)
      const loading = state
      state.first = call.then(
        () => {
          loading.loaded = true
          loading.first = undefined
        },
        () => {
          loading.first = undefined
        },
      )
      return call
    }
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      state.loaded = false
      return await client.eval(this.#lua, keys.length, ...keys, ...args)
    }
  }
}

export const appendScript = new Script(APPEND)
export const readScript = new Script(READ)
