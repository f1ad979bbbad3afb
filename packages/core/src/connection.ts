import type { Bytes } from './bytes'
import type { ResolvedStreamOptions } from './options'

/**
 * Where a stream's bytes go: the response of one client. The connections in `@sse/core/node`
 * and `@sse/core/web` provide one; implement it to run on another runtime.
 */
export interface Sink {
  /** Writes whole events. Returns false when the bytes are queued above the high-water mark. */
  write(chunk: string | Bytes): boolean
  /** Bytes written but not yet taken by the client's socket. */
  readonly bufferedBytes: number
  /** Ends the response after the queued bytes are flushed. */
  end(): void
  /** Drops the connection and its queued bytes at once. */
  destroy(): void
}

/** What a connection tells the stream it carries. */
export interface ConnectionEvents {
  /** The client's socket has taken the queued bytes. */
  drained(): void
  /** The response closed, whoever closed it (the client left, or the response finished). */
  closed(): void
}

/** Header values as Node and the Fetch API accept them. */
export type HeaderValue = string | number | readonly string[]

/** Headers normalized to name/value pairs. */
export type HeaderPairs = Array<[name: string, value: HeaderValue]>

/**
 * A client's request and response as a runtime exposes them. `@sse/core/node` and
 * `@sse/core/web` implement it; implement it to open streams on another runtime.
 */
export interface Connection {
  /** Where the stream's bytes go. */
  readonly sink: Sink
  /** True on HTTP/2 (and later), where connection-specific headers are forbidden. */
  readonly http2: boolean
  /** The raw `Last-Event-ID` request header. */
  readonly lastEventIdHeader: string | string[] | null | undefined
  /** The request URL (or path with query), for the query-string cursor. */
  readonly url: string | undefined
  /** The request method: a `HEAD` request gets the stream's head and no body. */
  readonly method?: string
  /**
   * The server that accepted the request, when there is one: `closeStreams({ server })` ends
   * its streams.
   */
  readonly server?: object
  /**
   * Sends the response head: the application's `extra` headers (already filtered for HTTP/2),
   * then the stream's own over them, keeping headers already set on the response (C05).
   * Called once.
   */
  writeHead(status: number, headers: Record<string, string>, extra?: HeaderPairs): void
  /**
   * Wires the runtime's close and drain notifications to `events`, and applies the options that
   * concern the connection (`coalesce`). Called once, before anything is written.
   */
  attach(events: ConnectionEvents, options: ResolvedStreamOptions): void
}
