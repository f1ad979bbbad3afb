import { setTimeout as sleep } from 'node:timers/promises'
import type { StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { watchOutages, whenReady } from './connection'
import { type Entry, fieldOf, readInfo, toEvent } from './history'
import { compareIds } from './ids'
import { RedisStoreError } from './options'

/** What the live feed needs from its store. */
export interface FeedSettings {
  key: string
  /** How long one XREAD blocks, in ms. */
  block: number
  /** Most entries per XREAD. */
  batch: number
  onError: (error: unknown) => void
  /** Aborts when the store closes. */
  stop: AbortSignal
}

/**
 * The live feed of one store: one blocking `XREAD` at a time on its own connection, resuming
 * from the last delivered id, that feeds every local subscriber and tells them when it skipped
 * events (entries trimmed before it read them, or Redis reset).
 */
export class LiveFeed {
  readonly #settings: FeedSettings
  /** How long past `block` an XREAD may go unanswered before its connection counts as dead. */
  readonly #grace: number
  readonly #listeners = new Set<(event: StoredEvent) => void>()
  readonly #gapListeners = new Set<() => void>()
  #reader: Redis | undefined
  /** Resolves once the feed knows where it starts. */
  #started: Promise<void> | undefined
  /** The id of the last entry delivered. */
  #lastId: string | undefined

  constructor(settings: FeedSettings) {
    this.#settings = settings
    this.#grace = Math.min(5000, Math.max(1000, settings.block))
  }

  /** The id of the last entry delivered, once the feed knows where it starts. */
  get lastId(): string | undefined {
    return this.#lastId
  }

  /** Resolves once the feed knows where it starts; undefined before any subscriber. */
  get started(): Promise<void> | undefined {
    return this.#started
  }

  /** Adds a subscriber, starting the feed (on a duplicate of `client`) for the first one. */
  subscribe(client: Redis, listener: (event: StoredEvent) => void, onGap?: () => void): () => void {
    this.#listeners.add(listener)
    if (onGap) this.#gapListeners.add(onGap)
    if (!this.#reader && !this.#settings.stop.aborted) this.#start(client)
    return () => {
      this.#listeners.delete(listener)
      if (onGap) this.#gapListeners.delete(onGap)
    }
  }

  /** Stops the feed (its store closed). */
  close(): void {
    this.#listeners.clear()
    this.#gapListeners.clear()
    this.#reader?.disconnect()
  }

  #start(client: Redis): void {
    // Its own connection: a blocking XREAD holds the connection it runs on.
    const reader = client.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    this.#reader = reader
    watchOutages(reader, this.#settings.onError, () => this.#settings.stop.aborted)
    let started!: () => void
    this.#started = new Promise((resolve) => {
      started = resolve
    })
    this.#read(reader, started).catch((error) => this.#settings.onError(error))
  }

  async #read(reader: Redis, started: () => void): Promise<void> {
    const { stop: signal, key, block, batch, onError } = this.#settings
    // Counts connection losses, so the feed checks for a gap after every reconnection.
    let epoch = 0
    let synced = -1
    reader.on('close', () => epoch++)
    let pause = 100
    while (!signal.aborted) {
      try {
        if (reader.status !== 'ready' || synced !== epoch) {
          // Bounded, so that close() is noticed even while ioredis is between attempts.
          if (!(await whenReady(reader, 1000))) {
            if (reader.status !== 'end' || signal.aborted) continue
            onError(new RedisStoreError('the live feed stopped: its connection ended'))
            return
          }
          synced = epoch
          await this.#resync(reader)
          started()
        }
        const watchdog = setTimeout(() => reader.disconnect(true), block + this.#grace)
        let reply: [string, Entry[]][] | null
        try {
          reply = (await reader.xread(
            'COUNT',
            batch,
            'BLOCK',
            block,
            'STREAMS',
            key,
            this.#lastId!,
          )) as [string, Entry[]][] | null
        } finally {
          clearTimeout(watchdog)
        }
        pause = 100
        for (const entry of reply?.[0]?.[1] ?? []) {
          // Each appended entry names the one before it: a newer one than the last read means
          // those between were trimmed before this process could read them.
          const before = fieldOf(entry[1], 'p')
          if (before !== undefined && compareIds(before, this.#lastId!) > 0) this.#trimmedUnread()
          this.#lastId = entry[0]
          this.#dispatch(toEvent(entry))
        }
      } catch (error) {
        if (signal.aborted) return
        // Connection losses are reported once by watchOutages; anything else is worth a report.
        if (reader.status === 'ready') onError(error)
        await sleep(pause, undefined, { signal }).catch(() => {})
        pause = Math.min(pause * 2, 2000)
      }
    }
  }

  /** Finds where the feed starts or resumes, and reports a gap since it last read. */
  async #resync(reader: Redis): Promise<void> {
    const { key, onError } = this.#settings
    const info = await readInfo(reader, key)
    if (this.#lastId === undefined) {
      this.#lastId = info.last
      return
    }
    // The stream is not the one the feed read from: it ends before, or begins after, the last
    // id delivered (an id the feed saw cannot be older than its stream's origin).
    const reset =
      compareIds(info.last, this.#lastId) < 0 ||
      (this.#lastId !== '0-0' &&
        info.origin !== undefined &&
        compareIds(info.origin, this.#lastId) > 0)
    if (reset) {
      onError(
        new RedisStoreError(
          `${key} was reset since ${this.#lastId} was delivered: Redis lost its data, and ` +
            'events not yet read with it; the live feed goes on with the new stream, local ' +
            'streams resume from the store',
        ),
      )
      this.#lastId = '0-0'
      this.#gap()
    } else if (compareIds(this.#lastId, info.trimmed) < 0) {
      this.#trimmedUnread()
    }
  }

  /** Events after the last one read were trimmed before this process read them. */
  #trimmedUnread(): void {
    this.#settings.onError(
      new RedisStoreError(
        `events after ${this.#lastId} were trimmed from ${this.#settings.key} before this ` +
          'process read them: local streams resume from the store',
      ),
    )
    this.#gap()
  }

  /** Tells the subscribers that the feed skipped events. */
  #gap(): void {
    for (const onGap of this.#gapListeners) {
      try {
        onGap()
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
