/**
 * Streams over node:http and the node:http2 compatibility API: the fast path, writing straight
 * to the response with no extra streams and no promise per write.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2'
import type { Connection } from './connection'
import { HTTP2_FORBIDDEN_HEADERS } from './head'
import { http2Sink } from './http2-sink'
import { http1Sink } from './node-sink'
import { type OpenOptions, openStream } from './open'
import type { SseStream } from './stream'
import type { EventMap } from './types'

/** A request from node:http or node:http2's compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/** A response from node:http or node:http2's compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse

function ignore(): void {}

// Open streams per HTTP/2 session: the session's idle timeout is off while any is open.
const streamsPerSession = new WeakMap<Http2Session, number>()

/**
 * Http2Server's timeout applies to the whole session, not to a stream, so a quiet stream would
 * be cut with every other stream of that connection. Turn it off while streams are open, and put
 * the server's value back when the last one closes.
 */
function holdSessionOpen(req: Http2ServerRequest, res: NodeResponse): void {
  const session = req.stream.session
  if (!session) return
  const count = streamsPerSession.get(session) ?? 0
  streamsPerSession.set(session, count + 1)
  if (count === 0) session.setTimeout(0)
  res.once('close', () => {
    const left = (streamsPerSession.get(session) ?? 1) - 1
    streamsPerSession.set(session, left)
    const timeout = (req.socket as { server?: { timeout?: number } }).server?.timeout
    if (left === 0 && !session.destroyed && timeout) session.setTimeout(timeout)
  })
}

/**
 * Wraps a Node request and response as a `Connection` (the adapter kit, `@sse/core/adapter`),
 * for adapters that open streams with `openStream`. Sets the socket timeout to 0 and turns off
 * Nagle's algorithm for the stream (C18), keeps headers already set on the response (C05), and
 * removes HTTP/1-only headers on HTTP/2 (C04).
 */
export function nodeConnection(req: NodeRequest, res: NodeResponse): Connection {
  const http2 = req.httpVersionMajor >= 2
  const h1 = http2 ? undefined : http1Sink(res as ServerResponse)
  return {
    sink: h1 ?? http2Sink(res as Http2ServerResponse),
    http2,
    lastEventIdHeader: req.headers['last-event-id'],
    url: req.url,
    method: req.method,
    // Whoever accepted the socket, so that closeStreams({ server }) finds this stream.
    server: (req.socket as { server?: object } | undefined)?.server,
    writeHead(status, headers, extra = []) {
      const out = res as ServerResponse
      // Nothing set on the response yet: the headers go straight into the head, and Node keeps
      // no header map for the response's whole life (about 0.5 KB per open stream).
      if (!http2 && extra.length === 0 && out.getHeaderNames().length === 0) {
        out.writeHead(status, headers)
        return
      }
      for (const [name, value] of extra) out.setHeader(name, value)
      for (const name in headers) out.setHeader(name, headers[name]!)
      if (http2) for (const name of HTTP2_FORBIDDEN_HEADERS) out.removeHeader(name)
      out.writeHead(status)
    },
    attach(events, options) {
      // A long-lived stream must not be cut by the server's idle timeout, and each event
      // should leave at once rather than wait for more bytes.
      // Optional calls: in-process test requests (light-my-request, behind Fastify's inject())
      // have no socket timeout or no-delay to set.
      req.setTimeout?.(0)
      if (h1) {
        ;(req as IncomingMessage).socket?.setNoDelay?.(true)
        h1.attach(events, options.coalesce)
      } else {
        holdSessionOpen(req as Http2ServerRequest, res)
        // 'close' on the response fires once, both when the client leaves and after our end().
        res.once('close', () => events.closed())
        res.on('drain', () => events.drained())
        // A write racing a disconnect can emit 'error' on some Node versions; the 'close' that
        // follows does the cleanup, so the error is not worth a crash or a log line.
        res.on('error', ignore)
      }
      // The client may have left while the application was still deciding (an async auth
      // check, a slow store): then 'close' has fired already and will not fire again.
      const gone = http2
        ? (res as Http2ServerResponse).stream.destroyed
        : (res as ServerResponse).destroyed || req.socket?.destroyed === true
      if (gone) events.closed()
    },
  }
}

/**
 * Opens an event stream on a Node response: head and first frame go out at once, and with a
 * hub the client resumes from its `Last-Event-ID`. Answer with another status before calling
 * this to refuse the stream (C06).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { openNodeStream } from '@sse/core/node'
 *
 * createServer(async (req, res) => {
 *   const stream = await openNodeStream(req, res, { heartbeat: 15_000 })
 *   const timer = setInterval(() => stream.send('tick', { at: Date.now() }), 1000)
 *   stream.signal.addEventListener('abort', () => clearInterval(timer))
 * }).listen(3000)
 * ```
 */
export function openNodeStream<M extends EventMap = EventMap>(
  req: NodeRequest,
  res: NodeResponse,
  options?: OpenOptions<M>,
): Promise<SseStream<M>> {
  return openStream<M>(nodeConnection(req, res), options)
}

export type { OpenOptions } from './open'
export type { SseStream } from './stream'
