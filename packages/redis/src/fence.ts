import { AsyncLocalStorage } from 'node:async_hooks'
import type { EventInput, StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import type { LogKeys } from './keys'
import { APPEND } from './lua'
import { fields } from './messages'
import { RedisStoreError } from './options'
import { Script } from './scripts'

/**
 * A fencing token for `RedisStore.fenced`: appends carry it, Redis keeps the highest, and an
 * append whose token is below it stores nothing.
 */
export interface Fence {
  /** The Redis key that holds the highest token stored so far (on a Cluster: in the log's slot). */
  key: string
  /** Increasing with every lease term (a Redis INCR, say); at most 2^53. */
  token: number
}

/** What a fenced append rejects with when a newer token was stored first: it stored nothing. */
export class RedisFencedError extends RedisStoreError {
  constructor(fence: Fence) {
    super(`fenced: token ${fence.token} is below the last one stored at ${fence.key}`)
  }
}

// The token check and the append in one script: nothing can be stored between them.
const FENCED_APPEND = `local token = table.remove(ARGV)
local last = redis.call('GET', KEYS[3])
if last and tonumber(last) > tonumber(token) then return false end
redis.call('SET', KEYS[3], token)
${APPEND}`
const fencedScript = new Script(FENCED_APPEND)

const fences = new AsyncLocalStorage<Fence>()

/** Runs `fn` with `fence` on the appends it makes (through a hub's publish, for example). */
export function runFenced<T>(fence: Fence, fn: () => T): T {
  if (typeof fence?.key !== 'string' || !Number.isSafeInteger(fence.token)) {
    throw new TypeError('RedisStore.fenced(): expected { key: string, token: a safe integer }')
  }
  return fences.run(fence, fn)
}

/** The fence of the append being made, if it runs under {@link runFenced}. */
export function currentFence(): Fence | undefined {
  return fences.getStore()
}

/**
 * Appends events of one log with the fence checked and recorded in the same script, apart from
 * the store's batches (which must not fail for another caller's stale token).
 */
export async function appendFenced(
  client: Redis,
  keys: LogKeys,
  limits: readonly (string | number)[],
  log: string,
  fence: Fence,
  inputs: readonly EventInput[],
): Promise<StoredEvent[]> {
  const args: (string | number)[] = [...limits, keys.channel, log]
  for (const input of inputs) {
    const entry = fields(input)
    args.push(entry.length, ...entry)
  }
  args.push(String(fence.token))
  const ids = await fencedScript.run(client, [keys.stream, keys.meta, fence.key], args)
  if (ids === null) throw new RedisFencedError(fence)
  if (!Array.isArray(ids) || ids.length !== inputs.length) {
    throw new RedisStoreError(`fenced append: unexpected reply ${String(ids).slice(0, 100)}`)
  }
  return inputs.map((input, i) => ({ ...input, position: ids[i] as string }))
}
