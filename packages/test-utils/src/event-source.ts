import { EventSource, type FetchLike } from 'eventsource'
import { http2Fetch } from './http2-client'
import type { ServerUnderTest } from './target'

/** A request the `eventsource` client made, as its fetch saw it. */
export interface EventSourceRequest {
  /** The request headers (`Last-Event-ID` is `headers['Last-Event-ID']` when resuming). */
  headers: Record<string, string>
  at: number
}

/** An event the `eventsource` client dispatched. */
export interface EventSourceMessage {
  type: string
  data: string
  lastEventId: string
  at: number
}

/** The `eventsource` client on a server under test, with what it did recorded. */
export interface EventSourceClient {
  /** The client itself. */
  readonly source: EventSource
  /** Every (re)connection it made, in order. */
  readonly requests: EventSourceRequest[]
  /** Every event it dispatched for the types it listens to, in order. */
  readonly messages: EventSourceMessage[]
  /** How many times `open` fired. */
  readonly opens: number
  /** How many times `error` fired. */
  readonly errors: number
  /** Closes the client: no more reconnects. */
  close(): void
}

/** Options of {@link connectEventSource}. */
export interface ConnectEventSourceOptions {
  /**
   * Path and query.
   * @default '/events'
   */
  path?: string
  /**
   * Event types to record besides `message`.
   * @default []
   */
  events?: string[]
}

/**
 * Connects the `eventsource` npm client (a real, spec-following EventSource with reconnects
 * and `Last-Event-ID`) to a server under test. Over HTTP/2 it goes through {@link http2Fetch}.
 */
export function connectEventSource(
  server: Pick<ServerUnderTest, 'url' | 'http2'>,
  options: ConnectEventSourceOptions = {},
): EventSourceClient {
  const requests: EventSourceRequest[] = []
  const messages: EventSourceMessage[] = []
  const transport: FetchLike = server.http2 ? http2Fetch : (url, init) => fetch(url, init)
  const source = new EventSource(`${server.url}${options.path ?? '/events'}`, {
    fetch: (url, init) => {
      requests.push({ headers: { ...init.headers }, at: Date.now() })
      return transport(url, init)
    },
  })
  const client = {
    source,
    requests,
    messages,
    opens: 0,
    errors: 0,
    close: () => source.close(),
  }
  source.addEventListener('open', () => {
    client.opens++
  })
  source.addEventListener('error', () => {
    client.errors++
  })
  for (const type of ['message', ...(options.events ?? [])]) {
    source.addEventListener(type, (event: MessageEvent) => {
      messages.push({ type, data: event.data, lastEventId: event.lastEventId, at: Date.now() })
    })
  }
  return client
}
