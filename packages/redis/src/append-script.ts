import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Appends one entry, then trims. Each entry carries two ids in fields: `p`, the entry before it,
 * and `o`, the stream's origin (its first entry ever; empty on that entry itself). Stream ids are
 * not dense and Redis does not record what trimming removed (`max-deleted-entry-id` only
 * follows XDEL), so the first retained entry's `p` is what tells a replay whether anything after
 * a cursor is gone: a client whose own last event was trimmed, but nothing after it, has missed
 * nothing. `o` tells a cursor this stream handed out from one from before the stream was
 * recreated (Redis lost its data) or from another stream. Age is measured on Redis' clock, the
 * clock of the ids.
 *
 * KEYS: stream. ARGV: maxLen (-1: none), trim mode (`~` or `=`), maxAge in ms (-1: none),
 * then the entry's fields and values.
 */
const LUA = `
local key = KEYS[1]
local prev = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
local p, o = '0-0', ''
if prev then
  p = prev[1]
  o = p
  local fields = prev[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'o' and fields[i + 1] ~= '' then o = fields[i + 1] end
  end
else
  local info = redis.pcall('XINFO', 'STREAM', key)
  for i = 1, #info - 1, 2 do
    if info[i] == 'last-generated-id' then
      p = info[i + 1]
      o = p
    end
  end
end
local id
if tonumber(ARGV[1]) >= 0 then
  id = redis.call('XADD', key, 'MAXLEN', ARGV[2], ARGV[1], '*', 'p', p, 'o', o, unpack(ARGV, 4))
else
  id = redis.call('XADD', key, '*', 'p', p, 'o', o, unpack(ARGV, 4))
end
local maxAge = tonumber(ARGV[3])
if maxAge >= 0 then
  local now = redis.call('TIME')
  local oldest = math.max(0, now[1] * 1000 + math.floor(now[2] / 1000) - maxAge)
  redis.call('XTRIM', key, 'MINID', ARGV[2], string.format('%d', oldest) .. '-0')
end
return id
`

const SHA = createHash('sha1').update(LUA).digest('hex')

/** Runs the append script: EVALSHA, or EVAL when Redis does not have it cached (NOSCRIPT). */
export async function appendScript(
  client: Redis,
  key: string,
  args: (string | number)[],
): Promise<string> {
  try {
    return (await client.evalsha(SHA, 1, key, ...args)) as string
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return (await client.eval(LUA, 1, key, ...args)) as string
  }
}
