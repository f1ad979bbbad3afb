import { type Delivery, Queue } from './queue'
import type { EventMeta } from './types'

type Listener = (data: unknown, meta: EventMeta) => void

/** One `on()` call. */
interface Entry {
  readonly listener: Listener
  /** Set when removed, so an event being delivered skips it too (as `EventTarget` does). */
  removed: boolean
}

/**
 * Delivers events to listeners by name and to every open iterator. An iterator gets the events
 * from its creation on; with none open, nothing is buffered.
 */
export class FanOut {
  // Copy-on-write arrays: delivering iterates the array of the moment (a listener added while
  // an event is delivered gets the next one) without a snapshot or an iterator per event.
  readonly #listeners = new Map<string, Entry[]>()
  // The last name delivered and its listeners: a stream mostly repeats one or two names, and
  // the names the parser gives are fresh strings, which a Map lookup hashes every time.
  #lastName: string | undefined
  #lastEntries: Entry[] | undefined
  readonly #queues = new Set<Queue>()
  readonly #onError: (error: unknown) => void
  #ended = false

  /** @param onError - gets what a listener throws (the other listeners still run) */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError
  }

  on(event: string, listener: Listener): () => void {
    // An entry per call, so adding the same function twice gives two independent listeners.
    const entry: Entry = { listener, removed: false }
    this.#set(event, [...(this.#listeners.get(event) ?? []), entry])
    return () => {
      entry.removed = true
      const current = this.#listeners.get(event)
      if (current?.includes(entry))
        this.#set(
          event,
          current.filter((other) => other !== entry),
        )
    }
  }

  #set(event: string, entries: Entry[]): void {
    this.#listeners.set(event, entries)
    this.#lastName = undefined
    this.#lastEntries = undefined
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
    let entries = this.#lastEntries
    if (event !== this.#lastName) {
      entries = this.#listeners.get(event)
      this.#lastName = event
      this.#lastEntries = entries
    }
    if (entries === undefined || entries.length === 0) return
    const meta: EventMeta = { event, id, lastEventId }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      if (!entry.removed) this.#call(entry.listener, data, meta)
    }
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

  /**
   * Resolves once every `for await` loop has read its queue down to {@link Queue.LOW}, when one
   * holds more than {@link Queue.HIGH} events; `undefined` when none does. The reader waits on
   * it before it reads more bytes, so a slow loop slows the connection, not the memory.
   */
  backlog(): Promise<void> | undefined {
    if (this.#queues.size === 0) return undefined // listeners only: nothing is ever held back
    const waits: Promise<void>[] = []
    for (const queue of this.#queues) {
      const drained = queue.drained()
      if (drained) waits.push(drained)
    }
    return waits.length > 0 ? Promise.all(waits).then(() => {}) : undefined
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
    this.#set('', [])
    this.#listeners.clear()
  }
}
