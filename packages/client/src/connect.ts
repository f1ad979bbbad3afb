import type { EventSourceMessage } from 'eventsource-parser'
import { FanOut } from './fan-out'
import { type LoopSink, runLoop } from './loop'
import { type ConnectOptions, type ResolvedOptions, resolveOptions } from './options'
import {
  type ClientEvent,
  type CloseReason,
  type EventListener,
  type EventMap,
  type EventMeta,
  type EventName,
  HISTORY_LOST_EVENT,
  type WithBuiltIns,
} from './types'

/**
 * A typed event stream that reconnects and resumes by itself until it ends. Read it with
 * `for await` or with `on(name, listener)`, or both.
 */
export interface EventStream<Events extends EventMap = Record<string, unknown>>
  extends AsyncIterable<ClientEvent<Events>> {
  /**
   * Calls `listener` with the data of every `event` from now on.
   * @returns a function that removes the listener.
   */
  on<Name extends EventName<Events>>(
    event: Name,
    listener: EventListener<WithBuiltIns<Events>[Name]>,
  ): () => void
  /**
   * The events from now on, for `for await`. Leaving the loop (`break`, `return`, a throw)
   * closes the stream; the loop ends by itself once the stream ends (see `closed`).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<ClientEvent<Events>>
  /** Resolves, never rejects, with the reason once the stream has ended for good. */
  readonly closed: Promise<CloseReason>
  /** The id the next reconnect resumes from (`Last-Event-ID`), if any. */
  readonly lastEventId: string | undefined
  /** Ends the stream (reason `aborted`): the open request is aborted, no reconnect follows. */
  close(): void
}

/** What {@link decode} returns for data that is not JSON (no parsed data is one of these). */
class Invalid {
  constructor(readonly error: unknown) {}
}

/**
 * The data of an event as it is delivered: parsed JSON, or the text for events read raw
 * (`history-lost` is the server's own JSON, whatever `raw` says); an {@link Invalid} when it
 * is not JSON. No wrapper object: this runs once per event.
 */
function decode(data: string, event: string, raw: ResolvedOptions['raw']): unknown {
  if (event !== HISTORY_LOST_EVENT && (raw === true || raw.has(event))) return data
  try {
    return JSON.parse(data)
  } catch (error) {
    return new Invalid(error)
  }
}

class Stream {
  readonly #fanOut: FanOut
  readonly #controller = new AbortController()
  readonly #sink: LoopSink
  readonly closed: Promise<CloseReason>

  constructor(url: string, options: ResolvedOptions) {
    this.#fanOut = new FanOut(options.onError)
    const external = options.signal
    const onAbort = () => this.#controller.abort(external?.reason)
    if (external?.aborted) onAbort()
    else external?.addEventListener('abort', onAbort, { once: true })
    // A plain property, not an accessor: the loop writes it once per event.
    const sink: LoopSink = {
      signal: this.#controller.signal,
      lastEventId: options.lastEventId,
      message: (message: EventSourceMessage) => {
        const event = message.event ?? 'message'
        const data = decode(message.data, event, options.raw)
        if (data instanceof Invalid)
          return { type: 'invalid-data', event, id: message.id, error: data.error }
        this.#fanOut.deliver(event, data, message.id, sink.lastEventId)
        return undefined
      },
      backlog: () => this.#fanOut.backlog(),
    }
    this.#sink = sink
    this.closed = runLoop(url, options, sink).then((reason) => {
      external?.removeEventListener('abort', onAbort)
      this.#controller.abort()
      this.#fanOut.end()
      return reason
    })
  }

  get lastEventId(): string | undefined {
    return this.#sink.lastEventId
  }

  on(event: string, listener: (data: never, meta: EventMeta) => void): () => void {
    return this.#fanOut.on(event, listener as (data: unknown, meta: EventMeta) => void)
  }

  [Symbol.asyncIterator]() {
    return this.#fanOut.iterate(() => this.close())
  }

  close(): void {
    this.#controller.abort()
  }
}

/**
 * Opens a typed event stream with `fetch`: any method, body and headers, JSON data parsed by
 * default. It reconnects by itself with backoff and jitter, resumes with `Last-Event-ID`, and
 * resumes a stream started by POST with GET at the `SSE-Resume` location its response names
 * (the request is never sent again). It ends on 204, on a status other than 200, 408, 429 and
 * 5xx, on a wrong `Content-Type`, on `close()` or its `signal`: `closed` tells why.
 *
 * @param url - The stream's URL; relative URLs resolve against the page's location in browsers.
 * @throws TypeError naming the option when an option is invalid, or when the URL is not one.
 *
 * @example
 * ```ts
 * import { connect } from '@sse/client'
 *
 * type Events = { tick: { n: number }; note: string }
 *
 * async function follow(): Promise<void> {
 *   const stream = connect<Events>('https://example.com/events', { raw: ['note'] })
 *   const off = stream.on('note', (text) => console.log(text.toUpperCase()))
 *   for await (const { event, data, id } of stream) {
 *     if (event === 'tick') console.log(data.n, id)
 *     if (event === 'history-lost') console.log('lost after', data.lastEventId)
 *   }
 *   off()
 *   console.log('ended:', (await stream.closed).type)
 * }
 * ```
 */
export function connect<Events extends EventMap = Record<string, unknown>>(
  url: string | URL,
  options: ConnectOptions<Events> = {},
): EventStream<Events> {
  const base = (globalThis as { location?: { href?: string } }).location?.href
  let href: string
  try {
    href = new URL(url, base).href
  } catch {
    throw new TypeError(`Invalid URL: ${String(url)}`)
  }
  return new Stream(href, resolveOptions(options as ConnectOptions<EventMap>)) as never
}
