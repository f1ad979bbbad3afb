import { fail } from './connection'
import type { DurableSettings } from './durable'
import type { DurableKeys } from './keys'
import { RedisStoreError } from './options'
import { Subscriber } from './subscriber'

/**
 * The cancels this process hears: while a stream's producer runs here, the stream's sharded
 * cancel channel is subscribed (on a {@link Subscriber} of its own, made on first use and closed
 * with the store), and a cancel published on it goes to the `onCancel` listeners.
 */
export class DurableCancels {
  readonly #settings: DurableSettings
  readonly #listeners = new Set<(id: string) => void>()
  /** The streams whose producers run in this process, by cancel channel. */
  readonly #running = new Map<string, string>()
  #subscriber: Subscriber | undefined

  constructor(settings: DurableSettings) {
    this.#settings = settings
    settings.stop.addEventListener('abort', () => this.#subscriber?.close())
  }

  onCancel(listener: (id: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Subscribes to the stream's cancel channel while its producer runs here. */
  async listen(id: string, keys: DurableKeys): Promise<void> {
    this.#running.set(keys.cancel, id)
    this.#subscriber ??= new Subscriber(this.#settings.client, {
      ...this.#settings,
      onMessage: (channel) => {
        const running = this.#running.get(channel)
        if (running !== undefined) this.cancelled(running)
      },
      // Cancels sent while it was away are marked on the records: renewals find them.
      onResubscribed: () => {},
    })
    try {
      if (!(await this.#subscriber.whenConnected(this.#settings.offlineTimeout))) {
        throw new RedisStoreError('not connected')
      }
      await this.#subscriber.add(keys.cancel)
    } catch (error) {
      // A store closed meanwhile has no cancels left to hear: nothing went wrong.
      if (this.#settings.stop.aborted) return
      // The mark on the record still reaches the producer, at its next renewal.
      this.#settings.onError(fail(`subscribing to the cancels of ${id} failed`, error))
    }
  }

  /** Stops listening for the stream's cancels: its producer here is done, or lost its lease. */
  forget(keys: DurableKeys): void {
    if (this.#running.delete(keys.cancel)) this.#subscriber?.remove(keys.cancel)
  }

  /** Tells the listeners that stream `id` was cancelled. */
  cancelled(id: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(id)
      } catch (error) {
        this.#settings.onError(error)
      }
    }
  }
}
