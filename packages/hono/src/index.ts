/**
 * `@sse/hono`: Server-Sent Events for Hono on every runtime, over `@sse/core`.
 * @module
 */
import type { EventMap, HeadersInput, SseStream } from '@sse/core'
import { failStream, headerPairs, openStream, resolveOptions } from '@sse/core/adapter'
import { type NodeRequest, type NodeResponse, nodeConnection } from '@sse/core/node'
import { openWebStream, type WebStreamOptions } from '@sse/core/web'
import type { Context, Env, MiddlewareHandler } from 'hono'

/**
 * Options of {@link sse} and {@link sseMiddleware}: core's stream options plus these (not
 * `server`, which the adapter finds by itself on Node, and which other runtimes have not).
 */
export interface SseOptions<M extends EventMap = EventMap>
  extends Omit<WebStreamOptions<M>, 'server'> {
  /**
   * `'auto'` writes straight to the Node response when the app is served by `@hono/node-server`
   * (it puts the response in `c.env.outgoing`) and answers with a web `ReadableStream`
   * everywhere else; `'web'` always uses the web stream.
   * @default 'auto'
   */
  transport?: 'auto' | 'web'
  /**
   * Called when the callback throws or rejects; the stream is then closed.
   * @default console.error
   */
  onError?: (error: unknown, c: Context) => void
}

/** Runs once the stream is open. The stream stays open after it returns, until closed or the client leaves. */
export type SseCallback<M extends EventMap, C extends Context> = (
  stream: SseStream<M>,
  c: C,
) => unknown

// What `@hono/node-server` (>= 1.13, 2.x) looks for to leave a response alone: the value of its
// `RESPONSE_ALREADY_SENT`, spelled out so this module never imports Node-only code.
const ALREADY_SENT = 'x-hono-already-sent'

type NodeBindings = { incoming: NodeRequest; outgoing: NodeResponse }

/** The headers already set on `c.res` (`c.header()`, middleware) with `extra` over them. */
function presetHeaders(c: Context, extra: HeadersInput | undefined): Headers {
  const headers = new Headers(c.res.headers)
  headers.delete(ALREADY_SENT)
  for (const [name, value] of headerPairs(extra, false)) {
    if (name.toLowerCase() !== 'set-cookie') headers.delete(name)
    for (const one of typeof value === 'object' ? value : [String(value)]) headers.append(name, one)
  }
  return headers
}

/**
 * Opens an event stream and returns the `Response` to return from the handler. Headers set
 * before (`c.header()`, `hono/cors`, `secureHeaders`...) are kept. On `@hono/node-server` the
 * stream opens once the middleware chain has finished, so headers that middleware adds after
 * `await next()` are kept too; then `callback` runs. Read the request body (a POST's prompt)
 * before calling it: a body still unread then is discarded.
 *
 * @example
 * ```ts
 * type Events = { tick: { n: number } }
 * app.get('/events', (c) =>
 *   sse<Events>(c, (stream) => {
 *     let n = 0
 *     const timer = setInterval(() => stream.send('tick', { n: n++ }), 1000)
 *     stream.signal.addEventListener('abort', () => clearInterval(timer))
 *   }),
 * )
 * ```
 */
export async function sse<M extends EventMap = EventMap, C extends Context = Context>(
  c: C,
  callback?: SseCallback<M, C>,
  options: SseOptions<M> = {},
): Promise<Response> {
  const onError =
    options.onError ?? ((error) => console.error('[@sse/hono] stream callback failed:', error))
  const run = (stream: SseStream<M>) => {
    if (!callback || stream.closed) return
    Promise.resolve()
      .then(() => callback(stream, c))
      .catch((error) => {
        onError(error, c)
        failStream(stream)
      })
  }
  const node = c.env as Partial<NodeBindings> | undefined
  if (options.transport === 'web' || typeof node?.outgoing?.writeHead !== 'function') {
    // Reading `c.res` turns pending `c.header()` values into a response that Hono, when a
    // middleware ran, merges into ours by overwriting same-named headers: so the stream's own
    // headers go there too, or a `Cache-Control` set earlier would replace `no-cache, no-transform`.
    const pending = c.res.headers
    const headers = presetHeaders(c, options.headers)
    // On Node the socket knows its server, so closeStreams({ server }) ends web streams too.
    const server = (node?.incoming?.socket as { server?: object } | undefined)?.server
    const { stream, response } = await openWebStream<M>(c.req.raw, { server, ...options, headers })
    for (const [name, value] of response.headers) {
      if (name !== 'set-cookie') pending.set(name, value)
    }
    // Bun closes connections idle for `idleTimeout` (10 s by default, below the 15 s heartbeat);
    // lift it for this request as core's node connection does for Node sockets (C18).
    const bun = c.env as { timeout?: (request: Request, seconds: number) => void } | undefined
    if ('Bun' in globalThis && typeof bun?.timeout === 'function') bun.timeout(c.req.raw, 0)
    run(stream)
    return response
  }
  const { incoming, outgoing } = node as NodeBindings
  // Bad options throw here, before the response is returned, so Hono answers them as usual.
  resolveOptions(options)
  // Open after the middleware chain has unwound (its post-`next()` code runs in microtasks), so
  // the head carries every header it set on `c.res`.
  setImmediate(() => {
    // Another response went out instead of ours (the handler did not return this one).
    if (outgoing.headersSent) return
    const headers = presetHeaders(c, options.headers)
    openStream<M>(nodeConnection(incoming, outgoing), { ...options, headers }).then(
      run,
      (error) => {
        onError(error, c)
        outgoing.destroy()
      },
    )
  })
  // @hono/node-server over HTTP/2 destroys a response whose request body is still unread just
  // after the handler returns (a POST that starts a stream without reading its body): discard it.
  if (!c.req.raw.bodyUsed && !incoming.readableEnded) incoming.resume()
  const sent = c.newResponse(null, { headers: { [ALREADY_SENT]: 'true' } })
  // @hono/node-server (1.13 to 2.1) writes its own light Response objects through a shortcut that
  // ignores the marker; reading `body` turns this one into a standard Response, which it checks.
  void sent.body
  return sent
}

/**
 * The middleware form of {@link sse}: a handler that opens a stream with `options` (or options
 * computed from the context) and then runs `callback`, if any.
 *
 * @example
 * ```ts
 * const hub = createHub<Events>()
 * app.get('/news', sseMiddleware({ hub, topics: ['news'] }))
 * app.post('/news', async (c) => {
 *   await hub.publish('headline', await c.req.json())
 *   return c.json({ ok: true }, 202)
 * })
 * ```
 */
export function sseMiddleware<M extends EventMap = EventMap, E extends Env = Env>(
  options?: SseOptions<M> | ((c: Context<E>) => SseOptions<M> | Promise<SseOptions<M>>),
  callback?: SseCallback<M, Context<E>>,
): MiddlewareHandler<E> {
  return async (c) => sse(c, callback, typeof options === 'function' ? await options(c) : options)
}

export { closeStreams, type EventMap, type SseStream } from '@sse/core'
