import type { Cluster, Redis } from 'ioredis'
import { keepAlive, type Outages, whenReady } from './connection'

/** What the live feed's connection reports. */
export interface SubscriberSettings {
  pingInterval: number
  outages: Outages
  onError: (error: unknown) => void
  /** A message of a subscribed channel. */
  onMessage: (channel: string, message: string) => void
  /** Subscribed again after a connection was lost: messages may have been missed meanwhile. */
  onResubscribed: () => void
}

/** The most channels one SSUBSCRIBE names when subscribing again after a reconnect. */
const CHUNK = 1000

/**
 * The live feed's sharded Pub/Sub connection (Redis 7+): one channel per followed log, hashed
 * like the log's keys, so on a Cluster a log's messages go from the shard that runs its append
 * script straight to the subscriber connected to that shard. (Classic Pub/Sub crosses the
 * cluster bus instead: measured 11 ms p50 when the subscriber sat on another shard than the
 * publisher, against 0.5 ms on the same one; and every instance received every log's events.)
 *
 * On one Redis this is a connection of its own, pinged while idle so that a connection that
 * went silent without closing (half-open TCP) is dropped and reconnected. On a Cluster it is a
 * duplicate with ioredis' `shardedSubscribers`, one connection per master, which ioredis
 * replaces when a node fails or slots move. Either way, each time the connection (or the
 * Cluster's set of them) is back, every channel is subscribed again and confirmed before
 * `onResubscribed`, so the checks that follow cannot miss a message sent before them.
 */
export class Subscriber {
  readonly connection: Redis
  readonly #cluster: boolean
  readonly #settings: SubscriberSettings
  readonly #channels = new Set<string>()
  readonly #stopPing: () => void
  #closed = false

  constructor(client: Redis, settings: SubscriberSettings) {
    this.#settings = settings
    this.#cluster = client.isCluster
    this.connection = this.#cluster
      ? ((client as unknown as Cluster).duplicate(undefined, {
          enableOfflineQueue: false,
          shardedSubscribers: true,
        }) as unknown as Redis)
      : client.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    const connection = this.connection
    settings.outages.watch(connection)
    connection.on('smessage', (channel: string, message: string) => {
      if (this.#channels.has(channel)) settings.onMessage(channel, message)
    })
    // A Cluster emits `subscribersReady` each time it has (re)built its shard connections.
    connection.on(this.#cluster ? 'subscribersReady' : 'ready', () => void this.#resubscribe())
    if (connection.status === 'wait') connection.connect().catch(() => {})
    this.#stopPing = this.#cluster
      ? () => {}
      : keepAlive(connection, settings.pingInterval, () => !this.#closed, settings.outages)
  }

  /** True once the connection is up (within `ms`), false otherwise. */
  whenConnected(ms: number): Promise<boolean> {
    return whenReady(this.connection, ms)
  }

  /** Subscribes to a channel; resolves once Redis confirmed it. */
  async add(channel: string): Promise<void> {
    this.#channels.add(channel)
    try {
      await this.connection.ssubscribe(channel)
    } catch (error) {
      this.#channels.delete(channel)
      throw error
    }
  }

  /** Unsubscribes from a channel (its messages are ignored from now on). */
  remove(channel: string): void {
    if (!this.#channels.delete(channel)) return
    if (this.connection.status === 'ready') this.connection.sunsubscribe(channel).catch(() => {})
  }

  close(): void {
    this.#closed = true
    this.#stopPing()
    this.#settings.outages.forget(this.connection)
    this.connection.disconnect()
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#channels]
    if (channels.length === 0) return
    try {
      for (let i = 0; i < channels.length; i += CHUNK) {
        // One SSUBSCRIBE names channels of one slot at most on a Cluster.
        const chunk = channels.slice(i, i + CHUNK)
        if (this.#cluster) await Promise.all(chunk.map((c) => this.connection.ssubscribe(c)))
        else await this.connection.ssubscribe(...chunk)
      }
    } catch (error) {
      if (this.#closed) return
      // Lost again meanwhile (a Cluster rebuilds its shard connections again and again while a
      // master is down): the next `ready` subscribes again, and the outage is reported once.
      // Refused while the connection is up (an ACL, say): reported once, tried again later.
      this.#settings.outages.report(this.connection, error)
      setTimeout(() => {
        if (!this.#closed && this.connection.status === 'ready') void this.#resubscribe()
      }, this.#settings.pingInterval).unref()
      return
    }
    if (!this.#closed) this.#settings.onResubscribed()
  }
}
