import type { StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { fail, type Outages, whenReady } from './connection'
import { FeedConnection } from './feed-connection'
import { type Followed, startFollowing } from './followed'
import { type AgeTrim, readHead, readLog, toEvent } from './history'
import { compareIds } from './ids'
import type { StoreKeys } from './keys'
import { gapMessage, type Message, parseMessages } from './messages'
import { RedisStoreError } from './options'

/** What the live feed needs from its store. */
export interface FeedSettings {
  client: Redis
  keys: StoreKeys
  trim: AgeTrim
  pingInterval: number
  offlineTimeout: number
  outages: Outages
  onError: (error: unknown) => void
  /** Reads the epoch again; resolves true when it changed (Redis lost everything). */
  epochChanged: () => Promise<boolean>
  stop: AbortSignal
}

/**
 * The live feed of one store. Every append script publishes its batch, with each event's
 * position and the position before it in its log, on the log's channel (sharded Pub/Sub); the
 * store's subscriber connection subscribes to the channels of followed logs only. A message whose
 * `p` is not the last position delivered in its log means messages were missed (a reconnect, or
 * Pub/Sub dropping a slow subscriber): the log is read from Redis after that position, in order,
 * before anything later. When what was missed is gone (trimmed, expired), or the log went back
 * (Redis lost data), the feed calls `onGap(log)` and goes on from the log's current head, never
 * replaying old entries as live. After a reconnect every followed log is checked this way; a
 * check is marked done only once it succeeded.
 */
export class LiveFeed {
  readonly #settings: FeedSettings
  readonly #logs = new Map<string, Followed>()
  readonly #listeners = new Set<(event: StoredEvent) => void>()
  readonly #gapListeners = new Set<(log: string) => void>()
  readonly #connection: FeedConnection

  constructor(settings: FeedSettings) {
    this.#settings = settings
    this.#connection = new FeedConnection(
      settings,
      (_channel, message) => this.#onMessage(message),
      (reset) => this.#recheck(reset),
    )
  }

  /** What it was made with: the store's connection, keys and outage watch, shared with others. */
  get settings(): FeedSettings {
    return this.#settings
  }

  /** Resolves true once the feed's connection is up (when it was started), false after `ms`. */
  whenConnected(ms: number): Promise<boolean> {
    return this.#connection.whenConnected(ms)
  }

  subscribe(listener: (event: StoredEvent) => void, onGap?: (log: string) => void): () => void {
    this.#listeners.add(listener)
    if (onGap) this.#gapListeners.add(onGap)
    this.#connection.start()
    return () => {
      this.#listeners.delete(listener)
      if (onGap) this.#gapListeners.delete(onGap)
    }
  }

  /** Starts following a log: resolves with its head, after which the feed delivers everything. */
  follow(log: string): Promise<string> {
    const known = this.#logs.get(log)
    if (known) return known.last !== undefined ? Promise.resolve(known.last) : known.starting!
    const state = startFollowing()
    this.#logs.set(log, state)
    state.starting = this.#begin(log, state)
    return state.starting
  }

  /** Subscribes to the log's channel, then reads its head: later events all come as messages. */
  async #begin(log: string, state: Followed): Promise<string> {
    const { client, keys, trim, offlineTimeout } = this.#settings
    try {
      this.#connection.start()
      const deadline = Date.now() + offlineTimeout
      await this.#connection.add(keys.of(log).channel)
      if (!(await whenReady(client, deadline - Date.now()))) {
        throw new RedisStoreError(`Redis is unreachable (connection ${client.status})`)
      }
      const head = await readHead(client, keys.of(log), trim)
      if (this.#logs.get(log) !== state) return head
      state.last = head
      state.starting = undefined
      state.busy = false
      this.#process(log, state)
      return head
    } catch (error) {
      if (this.#logs.get(log) === state) this.unfollow(log)
      throw error instanceof RedisStoreError ? error : fail(`following ${log} failed`, error)
    }
  }

  unfollow(log: string): void {
    if (this.#logs.delete(log)) this.#connection.remove(this.#settings.keys.of(log).channel)
  }

  close(): void {
    this.#listeners.clear()
    this.#gapListeners.clear()
    this.#logs.clear()
    this.#connection.close()
  }

  #onMessage(raw: string): void {
    let messages: Message[]
    try {
      messages = parseMessages(raw)
    } catch (error) {
      this.#settings.onError(fail('an unreadable message on the feed channel', error))
      return
    }
    // One message holds a batch of one log's events, each checked on its own by #process.
    const log = messages[0]?.event.log
    const state = log === undefined ? undefined : this.#logs.get(log)
    if (!state) return
    for (const message of messages) state.queue.push(message)
    this.#process(log!, state)
  }

  /** After a reconnect (the epoch read again, `reset` when it changed): checks every log. */
  #recheck(reset: boolean): void {
    for (const [log, state] of this.#logs) {
      state.asked++
      state.reset ||= reset
      this.#process(log, state)
    }
  }

  /** Delivers a log's queued messages in order, until one needs a check. */
  #process(log: string, state: Followed): void {
    if (state.busy || state.last === undefined) return
    while (this.#logs.get(log) === state) {
      if (state.done < state.asked || state.reset) {
        state.busy = true
        void this.#check(log, state)
        return
      }
      const message = state.queue.shift()
      if (!message) return
      const { event, p } = message
      if (event.position === undefined) this.#dispatch(event)
      else if (compareIds(event.position, state.last!) <= 0) continue
      else if (p === state.last) {
        state.last = event.position
        this.#dispatch(event)
      } else state.asked++
    }
  }

  /** Reads a log from Redis after the last position delivered, and delivers what it missed. */
  async #check(log: string, state: Followed): Promise<void> {
    const { client, keys, trim, offlineTimeout, onError } = this.#settings
    const asked = state.asked
    const reset = state.reset
    try {
      if (!(await whenReady(client, offlineTimeout))) throw new RedisStoreError('not connected')
      const read = await readLog(client, keys.of(log), state.last, trim, false)
      if (this.#logs.get(log) !== state) return
      if (reset || read.lost) {
        if (!reset)
          onError(new RedisStoreError(gapMessage(log, state.last!, read.head, read.unknown)))
        state.last = read.head
        this.#gap(log)
      } else {
        for (const entry of read.entries) this.#dispatch(toEvent(log, entry))
        state.last = read.head
      }
      state.done = asked
      if (reset) state.reset = false
      state.pause = 100
      state.busy = false
      this.#process(log, state)
    } catch (error) {
      if (client.status === 'ready' && !this.#settings.stop.aborted) onError(error)
      // Not done: tried again later, and messages wait in order meanwhile.
      setTimeout(() => {
        state.busy = false
        this.#process(log, state)
      }, state.pause).unref()
      state.pause = Math.min(state.pause * 2, 2000)
    }
  }

  #gap(log: string): void {
    for (const onGap of this.#gapListeners) {
      try {
        onGap(log)
      } catch (error) {
        this.#settings.onError(error)
      }
    }
  }

  #dispatch(event: StoredEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.#settings.onError(error)
      }
    }
  }
}
