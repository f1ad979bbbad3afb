/** One delivered event, untyped inside the client. */
export interface Delivery {
  event: string
  data: unknown
  id: string | undefined
}

/**
 * The events one `for await` loop has not read yet. Above {@link Queue.HIGH} of them the client
 * stops reading the response until the loop is down to {@link Queue.LOW} (see `drained`).
 */
export class Queue {
  /** Events held before the reader waits: a few chunks' worth of small events. */
  static readonly HIGH = 1024
  /** Events left when the reader goes on. */
  static readonly LOW = 256

  readonly #items: Delivery[] = []
  #waiting: ((result: IteratorResult<Delivery>) => void) | undefined
  #drained: { promise: Promise<void>; resolve: () => void } | undefined
  #ended = false

  push(item: Delivery): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting) waiting({ value: item, done: false })
    else this.#items.push(item)
  }

  /** Ends the loop once it has read what is queued; a reader waiting on it goes on. */
  end(): void {
    this.#ended = true
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.({ value: undefined, done: true })
    this.#release()
  }

  next(): Promise<IteratorResult<Delivery>> {
    const item = this.#items.shift()
    if (this.#items.length <= Queue.LOW) this.#release()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  /** A promise of the queue being down to `LOW` when it holds more than `HIGH`, else undefined. */
  drained(): Promise<void> | undefined {
    if (this.#ended || this.#items.length <= Queue.HIGH) return undefined
    if (!this.#drained) {
      let resolve!: () => void
      const promise = new Promise<void>((done) => {
        resolve = done
      })
      this.#drained = { promise, resolve }
    }
    return this.#drained.promise
  }

  #release(): void {
    this.#drained?.resolve()
    this.#drained = undefined
  }
}
