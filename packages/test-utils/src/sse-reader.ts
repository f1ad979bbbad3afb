import { CURSOR_EVENT } from '@sse/core'
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser'
import type { WaitOptions } from './wait'

/** An event as eventsource-parser dispatched it, with the time it arrived (`Date.now()`). */
export interface ReceivedEvent extends EventSourceMessage {
  at: number
  /** Position among everything parsed on this stream (events, comments, retries), from 0. */
  seq: number
}

/** A comment line as eventsource-parser reported it (one leading space removed). */
export interface ReceivedComment {
  text: string
  at: number
  /** Position among everything parsed on this stream (events, comments, retries), from 0. */
  seq: number
}

/**
 * Collects the bytes of one response exactly as they arrive and feeds them, decoded as a
 * streaming UTF-8 decoder would, to eventsource-parser: the independent, spec-compliant parser
 * every assertion about events goes through.
 */
export class SseReader {
  /** Every chunk exactly as the socket delivered it. */
  readonly chunks: Buffer[] = []
  /**
   * Events in arrival order, without the cursor events that open a hub stream (C34): those
   * carry no data for the application, and are in {@link SseReader.cursors}.
   */
  readonly events: ReceivedEvent[] = []
  /** The ids of the cursor events (`event: sse-cursor`), in arrival order. */
  readonly cursors: string[] = []
  /** Comments in arrival order (heartbeats are empty comments). */
  readonly comments: ReceivedComment[] = []
  /** `retry:` values in arrival order. */
  readonly retries: number[] = []
  /** The arrival time of the first byte of the body, if any came. */
  firstByteAt: number | undefined
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: false })
  readonly #parser: EventSourceParser
  readonly #waiters = new Set<() => void>()
  #text = ''
  #seq = 0

  constructor() {
    this.#parser = createParser({
      onEvent: (event) => {
        if (event.event === CURSOR_EVENT && event.data === '') {
          this.#seq++
          this.cursors.push(event.id ?? '')
        } else this.events.push({ ...event, at: Date.now(), seq: this.#seq++ })
      },
      onComment: (text) => this.comments.push({ text, at: Date.now(), seq: this.#seq++ }),
      onRetry: (retry) => {
        this.#seq++
        this.retries.push(retry)
      },
    })
  }

  /** Takes one chunk from the socket. */
  push(chunk: Buffer): void {
    this.firstByteAt ??= Date.now()
    this.chunks.push(chunk)
    const text = this.#decoder.decode(chunk, { stream: true })
    this.#text += text
    this.#parser.feed(text)
    for (const waiter of this.#waiters) waiter()
  }

  /**
   * Resolves once `check` holds, looking again each time a chunk arrives (no polling delay, so
   * a property test can do hundreds of round trips quickly); fails after `timeout`.
   */
  until(
    what: string | (() => string),
    check: () => boolean,
    options: WaitOptions = {},
  ): Promise<void> {
    if (check()) return Promise.resolve()
    const timeout = options.timeout ?? 5000
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return
        this.#waiters.delete(waiter)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        const name = typeof what === 'string' ? what : what()
        reject(new Error(`Timed out after ${timeout} ms waiting for ${name}`))
      }, timeout)
      this.#waiters.add(waiter)
    })
  }

  /** The body bytes received so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }

  /** The body received so far, decoded as UTF-8 (a BOM, if any, is removed as EventSource does). */
  text(): string {
    return this.#text
  }

  /** Waits until the decoded body contains `match`. */
  async waitForText(match: string | RegExp, timeoutMs = 5000): Promise<void> {
    const found = () =>
      typeof match === 'string' ? this.#text.includes(match) : match.test(this.#text)
    await this.until(`text ${String(match)} in the stream`, found, { timeout: timeoutMs })
  }

  /** Waits until at least `count` events arrived and returns all events so far. */
  async waitForEvents(count: number, options?: WaitOptions): Promise<ReceivedEvent[]> {
    await this.until(
      () => `${count} events (got ${this.events.length})`,
      () => this.events.length >= count,
      options,
    )
    return this.events
  }

  /** Waits until at least `count` comments arrived and returns all comments so far. */
  async waitForComments(count: number, options?: WaitOptions): Promise<ReceivedComment[]> {
    await this.until(
      () => `${count} comments (got ${this.comments.length})`,
      () => this.comments.length >= count,
      options,
    )
    return this.comments
  }
}

/**
 * Checks the framing rules of C11 on a received body: lines end with LF only (no CR is ever
 * written), no comment line appears between the fields of an event (which is what a heartbeat
 * cutting an event in half looks like), and, when `complete`, the body ends with a blank line.
 * Returns the problems found, empty when the framing is right.
 */
export function framingProblems(text: string, complete = true): string[] {
  const problems: string[] = []
  if (text.includes('\r')) problems.push('the stream contains a CR: lines must end with LF only')
  const lines = text.split('\n')
  // The piece after the last LF is an unfinished line.
  lines.pop()
  let inEvent = false
  lines.forEach((line, index) => {
    if (line === '') inEvent = false
    else if (line.startsWith(':')) {
      if (inEvent) problems.push(`line ${index + 1}: a comment inside an event (${line})`)
    } else inEvent = true
  })
  if (complete && text !== '' && !text.endsWith('\n\n')) {
    problems.push('the stream does not end with a blank line')
  }
  return problems
}
