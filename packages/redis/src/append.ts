import type { EventInput, StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { AppendBatcher } from './batch'
import { fail } from './connection'
import { appendFenced, currentFence, type Fence } from './fence'
import type { StoreKeys } from './keys'
import { RedisStoreError } from './options'
import { appendScript } from './scripts'

/** What a store's appends need from it. */
export interface AppendSettings {
  client: Redis
  keys: StoreKeys
  /** The append script's arguments before the channel (see StoreSettings). */
  limits: readonly (string | number)[]
  /** Undefined when Redis is usable now; else waits for it, or rejects (`StoreConnection`). */
  usable: () => Promise<void> | undefined
}

/**
 * The appends of one store: batched per log and event-loop turn (see {@link AppendBatcher}),
 * each batch one append script, except under a fence (`RedisStore.fenced`), where each log's
 * events go in a fenced script of their own.
 */
export class Appends {
  readonly #settings: AppendSettings
  readonly #batcher: AppendBatcher

  constructor(settings: AppendSettings) {
    this.#settings = settings
    this.#batcher = new AppendBatcher((log, batch) => this.#send(log, batch))
  }

  /** Appends each event to its log; the result is in the order of `inputs`. */
  append(inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    const fence = currentFence()
    if (fence) return this.#appendFenced(fence, inputs)
    const wait = this.#settings.usable()
    if (wait) return wait.then(() => this.#add(inputs))
    return this.#add(inputs)
  }

  /** Sends the queued batches now (on close, before the connection quits). */
  flush(): void {
    this.#batcher.flush()
  }

  // Not async, and one event (what a hub publishes most) without Promise.all: this is the path
  // of every publish, and its promises were a measurable share of its cost.
  #add(inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    if (inputs.length === 1) return this.#batcher.add(inputs[0]!).then(inArray)
    return Promise.all(inputs.map((input) => this.#batcher.add(input)))
  }

  async #appendFenced(fence: Fence, inputs: readonly EventInput[]): Promise<StoredEvent[]> {
    const { client, keys, limits, usable } = this.#settings
    const wait = usable()
    if (wait) await wait
    const stored = new Map<string, StoredEvent[]>()
    // One script per log, in order: on a Cluster each log has its own slot.
    for (const log of new Set(inputs.map((input) => input.log))) {
      const batch = inputs.filter((input) => input.log === log)
      const logKeys = keys.of(log)
      try {
        stored.set(log, await appendFenced(client, logKeys, limits, log, fence, batch))
      } catch (error) {
        if (error instanceof RedisStoreError) throw error
        throw fail('appending failed, the event may not have been stored', error)
      }
    }
    return inputs.map((input) => stored.get(input.log)!.shift()!)
  }

  /** Runs the append script on one log's batch: each event as its field count, then fields. */
  async #send(log: string, batch: readonly string[][]): Promise<string[]> {
    const { client, limits } = this.#settings
    const keys = this.#settings.keys.of(log)
    const args = [...limits, keys.channel, log]
    for (const entry of batch) {
      args.push(entry.length)
      for (const field of entry) args.push(field)
    }
    try {
      const ids = await appendScript.run(client, [keys.stream, keys.meta], args)
      if (!Array.isArray(ids) || ids.length !== batch.length) {
        throw new Error(`unexpected reply ${String(ids).slice(0, 100)}`)
      }
      return ids as string[]
    } catch (error) {
      throw fail('appending failed, the event may not have been stored', error)
    }
  }
}

function inArray(event: StoredEvent): StoredEvent[] {
  return [event]
}
