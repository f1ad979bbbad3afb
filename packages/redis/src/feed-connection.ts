import type { FeedSettings } from './feed'
import { RedisStoreError } from './options'
import { Subscriber } from './subscriber'

/**
 * The live feed's connection: its {@link Subscriber} (made when the feed is first used, never
 * after the store closed), the log channels it subscribes to, and what follows each reconnect.
 * Messages may have been missed while it was away, and Redis may have lost everything: the
 * epoch is read again, retried until Redis answers, then `onReconnect` has every followed log
 * checked.
 */
export class FeedConnection {
  readonly #settings: FeedSettings
  readonly #onMessage: (channel: string, message: string) => void
  readonly #onReconnect: (reset: boolean) => void
  #subscriber: Subscriber | undefined
  #reconnects = 0

  /**
   * `onMessage` is handed to the subscriber as it is: each message of a followed log goes
   * through it. `onReconnect(reset)` runs after each reconnect, `reset` true when the epoch
   * changed (Redis lost everything).
   */
  constructor(
    settings: FeedSettings,
    onMessage: (channel: string, message: string) => void,
    onReconnect: (reset: boolean) => void,
  ) {
    this.#settings = settings
    this.#onMessage = onMessage
    this.#onReconnect = onReconnect
  }

  /** Resolves true once the connection is up (when it was started), false after `ms`. */
  async whenConnected(ms: number): Promise<boolean> {
    return this.#subscriber ? this.#subscriber.whenConnected(ms) : true
  }

  /** Opens the connection, unless it is open or the store is closed. */
  start(): void {
    if (this.#subscriber || this.#settings.stop.aborted) return
    const { client, pingInterval, outages, onError } = this.#settings
    this.#subscriber = new Subscriber(client, {
      pingInterval,
      outages,
      onError,
      onMessage: this.#onMessage,
      onResubscribed: () => void this.#recheck(++this.#reconnects),
    })
  }

  /** Subscribes to a log's channel once connected; rejects when not within offlineTimeout. */
  async add(channel: string): Promise<void> {
    const subscriber = this.#subscriber
    if (!subscriber || !(await subscriber.whenConnected(this.#settings.offlineTimeout))) {
      throw new RedisStoreError('Redis is unreachable (the live feed is not connected)')
    }
    await subscriber.add(channel)
  }

  remove(channel: string): void {
    this.#subscriber?.remove(channel)
  }

  close(): void {
    this.#subscriber?.close()
  }

  /** After a reconnect: reads the epoch, then has every followed log checked. */
  async #recheck(reconnect: number): Promise<void> {
    for (let pause = 100; reconnect === this.#reconnects && !this.#settings.stop.aborted; ) {
      try {
        const reset = await this.#settings.epochChanged()
        if (reset) {
          this.#settings.onError(
            new RedisStoreError(
              'Redis lost its data (the store epoch changed): every followed log resumes from the store',
            ),
          )
        }
        this.#onReconnect(reset)
        return
      } catch {
        // Redis is still away: connection losses are reported once, by the outage watch.
        await new Promise((resolve) => setTimeout(resolve, pause))
        pause = Math.min(pause * 2, 2000)
      }
    }
  }
}
