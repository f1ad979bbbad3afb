import { openHttp1Stream } from './http1-client'
import { openHttp2Stream } from './http2-client'
import type { ReceivedComment, ReceivedEvent } from './sse-reader'
import type { ServerUnderTest } from './target'
import type { WaitOptions } from './wait'

/** Response headers as the client received them, lower-cased names. */
export type ReceivedHeaders = Record<string, string | string[] | undefined>

/** Options of {@link openStream}. */
export interface OpenStreamOptions {
  /**
   * Path and query of the request.
   * @default '/events'
   */
  path?: string
  /**
   * The request method; a request sends no body.
   * @default 'GET'
   */
  method?: string
  /** Request headers (for example `last-event-id`). `accept: text/event-stream` is always sent. */
  headers?: Record<string, string>
  /**
   * How long to wait for the response head, in milliseconds.
   * @default 5000
   */
  timeout?: number
}

/**
 * One response read over a real socket, with every body byte kept and every event parsed by
 * eventsource-parser. Resolved once the response head arrived.
 */
export interface StreamClient {
  /** The response status. */
  readonly status: number
  /** The response headers, lower-cased names (HTTP/2 pseudo-headers removed). */
  readonly headers: ReceivedHeaders
  /** The arrival time of the response head (`Date.now()`). */
  readonly headAt: number
  /** Body chunks exactly as the socket delivered them. */
  readonly chunks: readonly Buffer[]
  /**
   * True once the server ended the response cleanly (HTTP/1.1 last chunk, HTTP/2 END_STREAM).
   * On HTTP/2, Node's client reports a RST_STREAM with NO_ERROR (what `stream.destroy()` sends)
   * the same way, so there it cannot tell a dropped stream from an ended one.
   */
  readonly ended: boolean
  /** True once the response is over for any reason (ended, reset, or closed by us). */
  readonly closed: boolean
  /** The body bytes received so far. */
  bytes(): Buffer
  /** The body received so far, decoded as UTF-8. */
  text(): string
  /** Events parsed so far by eventsource-parser. */
  events(): ReceivedEvent[]
  /** Comments parsed so far (a heartbeat is an empty comment). */
  comments(): ReceivedComment[]
  /** `retry:` values parsed so far. */
  retries(): number[]
  /** The ids of the cursor events (C34) parsed so far; they are not in `events()`. */
  cursors(): string[]
  /** Waits until the decoded body contains `match`. */
  waitForText(match: string | RegExp, timeoutMs?: number): Promise<void>
  /** Waits until at least `count` events arrived; returns all events so far. */
  waitForEvents(count: number, options?: WaitOptions): Promise<ReceivedEvent[]>
  /** Waits until at least `count` comments arrived; returns all comments so far. */
  waitForComments(count: number, options?: WaitOptions): Promise<ReceivedComment[]>
  /** Waits until the response is over ({@link StreamClient.closed}). */
  waitForClose(timeoutMs?: number): Promise<void>
  /** Stops reading from the socket, so the server's writes back up (C23, C24). */
  pause(): void
  /** Reads again after {@link StreamClient.pause}. */
  resume(): void
  /** Leaves: destroys the request and its socket (or HTTP/2 session) at once. */
  close(): void
}

/** Opens `GET /events` (or `options.path`) on a server under test, over HTTP/2 when it speaks it. */
export function openStream(
  server: Pick<ServerUnderTest, 'url' | 'http2'>,
  options: OpenStreamOptions = {},
): Promise<StreamClient> {
  return server.http2 ? openHttp2Stream(server.url, options) : openHttp1Stream(server.url, options)
}
