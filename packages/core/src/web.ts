/**
 * Streams as a web-standard `Response` from a Fetch `Request`: runs on Node 20+, Bun, Deno and
 * edge runtimes.
 * @module
 */
import { toBytes } from './bytes'
import type { Connection, ConnectionEvents, Sink } from './connection'
import { streamHeaders } from './head'
import { type OpenOptions, openStream } from './open'
import type { SseStream } from './stream'
import type { EventMap } from './types'

/** Options of {@link openWebStream}. */
export interface WebStreamOptions<M extends EventMap = EventMap> extends OpenOptions<M> {
  /**
   * Bytes the response body queues before `send` reports backpressure.
   * @default 16384
   */
  highWaterMark?: number
  /**
   * The server that accepted the request, where the runtime has one (a Fetch handler served by
   * node:http), so that `closeStreams({ server })` finds this stream; without it, only
   * `closeStreams()` does.
   */
  server?: object
}

/** What {@link openWebStream} gives: return `response` from the handler, write to `stream`. */
export interface WebStreamResult<M extends EventMap = EventMap> {
  /** The open stream. */
  stream: SseStream<M>
  /** The response to return from the fetch handler. */
  response: Response
}

/**
 * Opens an event stream as a web `Response` whose body is a pull-based ReadableStream: writes
 * report backpressure from `desiredSize`, and the stream closes when the request's signal
 * aborts or the body is cancelled.
 *
 * @example
 * ```ts
 * import { openWebStream } from '@sse/core/web'
 *
 * export default {
 *   async fetch(request: Request) {
 *     const { stream, response } = await openWebStream(request)
 *     stream.send('hello', 'world')
 *     return response
 *   },
 * }
 * ```
 */
export async function openWebStream<M extends EventMap = EventMap>(
  request: Request,
  options: WebStreamOptions<M> = {},
): Promise<WebStreamResult<M>> {
  const highWaterMark = options.highWaterMark ?? 16 * 1024
  let events: ConnectionEvents | undefined
  let controller!: ReadableStreamDefaultController<Uint8Array>
  /** No more writes: the stream ended, or the client cancelled the body. */
  let done = false
  /** The stream ended; the body closes once the client has read what is queued. */
  let ending = false
  const release = () => {
    done = true
    events?.closed()
  }
  // The body is closed only once the client has read everything queued (the queue is empty when
  // desiredSize is back at the high-water mark): until then the connection is not released, so
  // a shutdown waits for it and, past its grace, drops it.
  const closeIfRead = () => {
    if (ending && controller.desiredSize === highWaterMark) {
      ending = false
      controller.close()
      release()
    }
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c
      },
      pull: () => {
        if (ending) closeIfRead()
        else events?.drained()
      },
      cancel: release,
    },
    { highWaterMark, size: (chunk) => chunk.byteLength },
  )
  const sink: Sink = {
    write(chunk) {
      if (done || ending) return false
      controller.enqueue(typeof chunk === 'string' ? toBytes(chunk) : chunk)
      return (controller.desiredSize ?? 0) > 0
    },
    get bufferedBytes() {
      return done ? 0 : highWaterMark - (controller.desiredSize ?? 0)
    },
    end() {
      if (done || ending) return
      ending = true
      closeIfRead()
    },
    destroy() {
      if (done) return
      ending = false
      controller.error(new Error('SSE stream dropped'))
      release()
    },
  }
  let head: ResponseInit | undefined
  const connection: Connection = {
    sink,
    // The runtime owns connection-level headers; never set HTTP/1-only ones here (C04).
    http2: true,
    server: options.server,
    lastEventIdHeader: request.headers.get('last-event-id'),
    url: request.url,
    method: request.method,
    writeHead(status, sse, extra = []) {
      const headers = new Headers()
      for (const [name, value] of extra) {
        if (typeof value === 'object') for (const one of value) headers.append(name, one)
        else headers.append(name, String(value))
      }
      for (const name in sse) headers.set(name, sse[name]!)
      head = { status, headers }
    },
    attach(attached) {
      events = attached
      if (request.signal.aborted) release()
      else request.signal.addEventListener('abort', release, { once: true })
    },
  }
  const stream = await openStream<M>(connection, options)
  // No head means the client left before the stream opened: nobody reads this response, which
  // is an ended stream all the same.
  // A 204 (a durable stream's reader that has it all) must not have a body, not even an empty one.
  const response = head
    ? new Response(head.status === 204 ? null : body, head)
    : new Response(null, { status: 200, headers: streamHeaders(true) })
  return { stream, response }
}

export type { OpenOptions } from './open'
export type { SseStream } from './stream'
