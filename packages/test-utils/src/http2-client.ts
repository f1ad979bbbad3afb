import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
} from 'node:http2'
import type { FetchLike, FetchLikeResponse } from 'eventsource'
import { ReadingClient } from './reading-client'
import type { OpenStreamOptions, ReceivedHeaders, StreamClient } from './stream-client'

function withoutPseudoHeaders(headers: IncomingHttpHeaders): ReceivedHeaders {
  const out: ReceivedHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':')) out[name] = value
  return out
}

/** Sends one request on a new h2c session; resolves with the session, stream and response head. */
function h2request(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  timeout: number,
  method = 'GET',
): Promise<{ session: ClientHttp2Session; stream: ClientHttp2Stream; head: IncomingHttpHeaders }> {
  const session = connect(baseUrl)
  // Errors after the head show up as a closed stream; before it, the request promise rejects.
  session.on('error', () => {})
  const stream = session.request(
    { ':method': method, ':path': path, accept: 'text/event-stream', ...headers },
    // No request body, whatever the method.
    { endStream: true },
  )
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer)
      session.destroy()
      reject(error)
    }
    const timer = setTimeout(
      () => fail(new Error(`No response head within ${timeout} ms`)),
      timeout,
    )
    stream.once('error', fail)
    stream.once('response', (head) => {
      clearTimeout(timer)
      stream.off('error', fail)
      stream.on('error', () => {})
      resolve({ session, stream, head })
    })
  })
}

/**
 * Opens a request over node:http2 (h2c, prior knowledge) and resolves with a
 * {@link StreamClient} once the response head arrived. Each client has its own session.
 */
export async function openHttp2Stream(
  baseUrl: string,
  options: OpenStreamOptions = {},
): Promise<StreamClient> {
  const { session, stream, head } = await h2request(
    baseUrl,
    options.path ?? '/events',
    options.headers ?? {},
    options.timeout ?? 5000,
    options.method,
  )
  return new Http2StreamClient(session, stream, head)
}

class Http2StreamClient extends ReadingClient {
  readonly #session: ClientHttp2Session
  readonly #stream: ClientHttp2Stream

  constructor(session: ClientHttp2Session, stream: ClientHttp2Stream, head: IncomingHttpHeaders) {
    super(Number(head[':status']), withoutPseudoHeaders(head))
    this.#session = session
    this.#stream = stream
    stream.on('data', (chunk: Buffer) => this.reader.push(chunk))
    stream.on('end', () => {
      this.ended = true
    })
    stream.on('close', () => {
      this.closed = true
      session.close()
    })
  }

  pause() {
    // A paused HTTP/2 stream stops acknowledging data, so the server's flow-control window fills.
    this.#stream.pause()
  }
  resume() {
    this.#stream.resume()
  }
  close() {
    if (!this.#stream.closed) this.#stream.close(constants.NGHTTP2_CANCEL)
    this.#session.destroy()
  }
}

/**
 * A `fetch` for the `eventsource` client that speaks h2c, so its reconnect behaviour can be
 * checked against HTTP/2 servers too (undici's fetch speaks HTTP/1.1 to `http:` URLs).
 */
export const http2Fetch: FetchLike = async (url, init) => {
  const target = new URL(url)
  const { session, stream, head } = await h2request(
    target.origin,
    `${target.pathname}${target.search}`,
    { ...init.headers },
    5000,
  )
  const drop = () => {
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL)
    session.destroy()
  }
  if (init.signal?.aborted) drop()
  else init.signal?.addEventListener?.('abort', drop, { once: true })
  stream.on('close', () => session.close())
  let done = false
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      stream.on('data', (chunk: Buffer) => {
        if (!done) controller.enqueue(new Uint8Array(chunk))
      })
      stream.on('end', () => {
        if (done) return
        done = true
        controller.close()
      })
      stream.on('close', () => {
        if (done) return
        done = true
        // A reset without END_STREAM is a network error for the client.
        controller.error(new Error('HTTP/2 stream reset'))
      })
    },
    cancel() {
      done = true
      drop()
    },
  })
  const headers = withoutPseudoHeaders(head)
  const response: FetchLikeResponse = {
    body,
    url: target.href,
    status: Number(head[':status']),
    redirected: false,
    headers: {
      get(name) {
        const value = headers[name.toLowerCase()]
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
      },
    },
  }
  return response
}
