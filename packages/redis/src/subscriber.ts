import type { Redis } from 'ioredis'
import { duplicate, keepAlive, type Outages, within } from './connection'

/** What the live feed's connection reports. */
export interface SubscriberSettings {
  channel: string
  pingInterval: number
  outages: Outages
  onError: (error: unknown) => void
  /** A message of the channel. */
  onMessage: (message: string) => void
  /** Subscribed again after the connection was lost: messages may have been missed meanwhile. */
  onResubscribed: () => void
}

/**
 * The live feed's Pub/Sub connection: it subscribes to the store's channel each time it is
 * ready (ioredis resubscribes too; a second SUBSCRIBE is harmless and its reply says the
 * subscription is active), and pings while idle, so that a connection that went silent without
 * closing (half-open TCP) is dropped and reconnected.
 */
export class Subscriber {
  readonly connection: Redis
  readonly #settings: SubscriberSettings
  readonly #stopPing: () => void
  #subscribed = false
  #everSubscribed = false
  #waiters: (() => void)[] = []
  #closed = false

  constructor(client: Redis, settings: SubscriberSettings) {
    this.#settings = settings
    this.connection = duplicate(client, { enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    const connection = this.connection
    settings.outages.watch(connection)
    connection.on('message', (channel: string, message: string) => {
      if (channel === settings.channel) settings.onMessage(message)
    })
    connection.on('ready', () => void this.#subscribe())
    connection.on('close', () => {
      this.#subscribed = false
    })
    if (connection.status === 'wait') connection.connect().catch(() => {})
    this.#stopPing = keepAlive(
      connection,
      settings.pingInterval,
      () => this.#subscribed,
      settings.outages,
    )
  }

  /** True once subscribed (within `ms`), false otherwise. */
  whenSubscribed(ms: number): Promise<boolean> {
    if (this.#subscribed) return Promise.resolve(true)
    return within(new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))), ms)
  }

  close(): void {
    this.#closed = true
    this.#stopPing()
    this.#settings.outages.forget(this.connection)
    this.connection.disconnect()
  }

  async #subscribe(): Promise<void> {
    try {
      await this.connection.subscribe(this.#settings.channel)
    } catch (error) {
      // A connection lost meanwhile subscribes on its next 'ready'; outages are reported once.
      // Refused (an ACL, say): reported, and tried again while the connection stays up.
      if (this.connection.status === 'ready' && !this.#closed) {
        this.#settings.onError(error)
        setTimeout(() => {
          if (this.connection.status === 'ready' && !this.#subscribed) void this.#subscribe()
        }, this.#settings.pingInterval).unref()
      }
      return
    }
    if (this.#closed || this.connection.status !== 'ready') return
    this.#subscribed = true
    for (const waiter of this.#waiters.splice(0)) waiter()
    if (this.#everSubscribed) this.#settings.onResubscribed()
    this.#everSubscribed = true
  }
}
