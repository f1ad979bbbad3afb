/**
 * Streams as a web-standard `Response` from a Fetch `Request`: runs on Node 20+, Bun, Deno and
 * edge runtimes.
 * @module
 */
import { toBytes } from './bytes'
import { type Connection, type OpenOptions, openSession } from './open'
import type { Sink, SseSession } from './session'
import type { EventMap } from './types'

/** Options of {@link openWebStream}. */
export interface WebStreamOptions<M extends EventMap = EventMap> extends OpenOptions<M> {
  /**
   * Bytes the response body queues before `send` reports backpressure.
   * @default 16384
   */
  highWaterMark?: number
}

/** A stream opened by {@link openWebStream}: return `response` from the handler, write to `session`. */
export interface WebStream<M extends EventMap = EventMap> {
  session: SseSession<M>
  response: Response
}

/**
 * Opens an event stream as a web `Response` whose body is a pull-based ReadableStream: writes
 * report backpressure from `desiredSize`, and the session closes when the request's signal
 * aborts or the body is cancelled.
 *
 * @example
 * ```ts
 * import { openWebStream } from '@sse/core/web'
 *
 * export default {
 *   async fetch(request: Request) {
 *     const { session, response } = await openWebStream(request)
 *     session.send('hello', 'world')
 *     return response
 *   },
 * }
 * ```
 */
export async function openWebStream<M extends EventMap = EventMap>(
  request: Request,
  options: WebStreamOptions<M> = {},
): Promise<WebStream<M>> {
  const highWaterMark = options.highWaterMark ?? 16 * 1024
  let session: SseSession | undefined
  let controller!: ReadableStreamDefaultController<Uint8Array>
  /** No more writes: the session ended, or the client cancelled the body. */
  let done = false
  /** The session ended; the body closes once the client has read what is queued. */
  let ending = false
  const release = () => {
    done = true
    session?.handleClose()
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
        else session?.handleDrain()
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
    attach(s) {
      session = s
      if (request.signal.aborted) release()
      else request.signal.addEventListener('abort', release, { once: true })
    },
  }
  const opened = await openSession<M>(connection, options)
  // No head means the client left before the stream opened; nobody will read this response.
  return { session: opened, response: new Response(head ? body : null, head ?? { status: 204 }) }
}

export type { OpenOptions } from './open'
export type { SseSession } from './session'
