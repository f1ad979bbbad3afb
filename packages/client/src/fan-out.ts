import type { EventMeta } from './types'

/** One delivered event, untyped inside the client. */
export interface Delivery {
  event: string
  data: unknown
  id: string | undefined
}

type Listener = (data: unknown, meta: EventMeta) => void

/** A queue feeding one `for await` loop. */
class Queue {
  readonly items: Delivery[] = []
  waiting: ((result: IteratorResult<Delivery>) => void) | undefined
  ended = false

  push(item: Delivery): void {
    const waiting = this.waiting
    this.waiting = undefined
    if (waiting) waiting({ value: item, done: false })
    else this.items.push(item)
  }

  end(): void {
    this.ended = true
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<Delivery>> {
    const item = this.items.shift()
    if (item !== undefined) return Promise.resolve({ value: item, done: false })
    if (this.ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }
}

/**
 * Delivers events to listeners by name and to every open iterator. An iterator gets the events
 * from its creation on; with none open, nothing is buffered.
 */
export class FanOut {
  readonly #listeners = new Map<string, Set<Listener>>()
  readonly #queues = new Set<Queue>()
  readonly #onError: (error: unknown) => void
  #ended = false

  /** @param onError - gets what a listener throws (the other listeners still run) */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError
  }

  on(event: string, listener: Listener): () => void {
    // A wrapper per call, so adding the same function twice gives two independent listeners.
    const entry: Listener = (data, meta) => listener(data, meta)
    const set = this.#listeners.get(event) ?? new Set<Listener>()
    this.#listeners.set(event, set)
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  /**
   * Hands one event to every open iterator and to the listeners of its name. Objects are
   * built only for those who take them: this runs once per event, a million times for 100 MB.
   */
  deliver(event: string, data: unknown, id: string | undefined, lastEventId: string | undefined) {
    if (this.#queues.size > 0) {
      const item: Delivery = { event, data, id }
      for (const queue of this.#queues) queue.push(item)
    }
    const set = this.#listeners.get(event)
    if (!set || set.size === 0) return
    const meta: EventMeta = { event, id, lastEventId }
    // A listener added while the event is delivered gets the next one: call a snapshot (none
    // needed for a single listener, the usual case).
    if (set.size === 1) {
      const [only] = set
      this.#call(only!, data, meta)
    } else for (const listener of [...set]) this.#call(listener, data, meta)
  }

  #call(listener: Listener, data: unknown, meta: EventMeta): void {
    try {
      listener(data, meta)
    } catch (error) {
      try {
        this.#onError(error)
      } catch {
        // An onError that throws too must not stop the stream either.
      }
    }
  }

  /** An iterator over the events from now on; `onReturn` runs when a loop is left early. */
  iterate(onReturn: () => void): AsyncIterableIterator<Delivery> {
    const queue = new Queue()
    if (this.#ended) queue.end()
    else this.#queues.add(queue)
    const iterator: AsyncIterableIterator<Delivery> = {
      next: () => queue.next(),
      return: async () => {
        this.#queues.delete(queue)
        queue.end()
        onReturn()
        return { value: undefined, done: true }
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  /** Ends every iterator once it has drained its queue, and drops the listeners. */
  end(): void {
    this.#ended = true
    for (const queue of this.#queues) queue.end()
    this.#queues.clear()
    this.#listeners.clear()
  }
}
