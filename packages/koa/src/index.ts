/**
 * Server-Sent Events for Koa 2 and 3: a middleware that opens the stream and hands the route a
 * typed `ctx.sse`. It writes straight to `ctx.res` through `@sse/core/node` (no PassThrough
 * stream, so nothing to log when a client leaves), and keeps headers set with `ctx.set()`.
 * @module
 */

import type { Http2ServerResponse } from 'node:http2'
import type { EventMap, SseStream } from '@sse/core'
import { failStream } from '@sse/core/adapter'
import { type OpenOptions, openNodeStream } from '@sse/core/node'
import type { DefaultState, Middleware, ParameterizedContext } from 'koa'

/** What {@link sse} adds to the Koa context. */
export interface SseContext<M extends EventMap = EventMap> {
  /**
   * This request's open event stream: `send`, `comment`, `close`, `pipe`, and a `signal` that
   * aborts once when the stream ends (the client left, the hub shut down...).
   */
  sse: SseStream<M>
}

/**
 * Options of one stream: those of `openNodeStream` in `@sse/core/node`. Every field is optional;
 * a hub's own defaults apply under them.
 */
export interface SseOptions<M extends EventMap = EventMap> extends OpenOptions<M> {}

/**
 * The options of {@link sse}, or a function of the request's context that returns them (for
 * example to pick topics or a key from `ctx.state.user`). A throw or rejection here happens
 * before the stream opens, so Koa answers it the usual way.
 */
export type SseOptionsInput<M extends EventMap = EventMap> =
  | SseOptions<M>
  | ((ctx: ParameterizedContext) => SseOptions<M> | Promise<SseOptions<M>>)

/**
 * The middleware returned by {@link sse}: it gives the middleware after it `ctx.sse`. Its
 * `_name` is what Koa's debug output shows; being more than a bare function type also keeps
 * TypeScript (5.x) from inferring `sse()` as a generic function inside `router.get(...)`, which
 * would leave inline middleware placed before it without a typed `ctx`.
 */
export type SseMiddleware<M extends EventMap = EventMap> = Middleware<
  DefaultState,
  SseContext<M>
> & { readonly _name: string }

function fromConnection(ctx: ParameterizedContext, error: unknown): boolean {
  const stream = (ctx.res as unknown as Http2ServerResponse).stream
  return error === ctx.req.socket?.errored || (stream !== undefined && error === stream.errored)
}

/**
 * A Koa middleware that opens an event stream and sets `ctx.sse` for the middleware after it,
 * which runs only when the stream is open (not when the client already left).
 *
 * The stream opens (status 200, head and first frame sent) before `next()` runs, so put
 * authentication and other refusals (401, 403, 404, 204...) before this middleware: they answer
 * with a normal response and the stream never opens. Koa's body handling is bypassed
 * (`ctx.respond = false`), so `koa-compress` and `ctx.body` never touch the stream. An error
 * thrown by a later middleware after the stream opened ends that stream (the client reconnects
 * after `retry`) and is rethrown for Koa's usual error reporting (`app.on('error')`); Koa sends
 * no 500 on a response already under way.
 *
 * On shutdown, `await closeStreams({ server })` (re-exported here from `@sse/core`) ends every
 * open stream of the server, with or without a hub, so that `server.close()` completes.
 *
 * @typeParam M - the application's event map, which types `ctx.sse.send`; inferred from `hub`.
 * @param options - stream options, or a function of `ctx` returning them. See {@link SseOptions}.
 * @example
 * ```ts
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { createHub } from '@sse/core'
 * import { sse } from '@sse/koa'
 *
 * type Events = { tick: { n: number } }
 * const hub = createHub<Events>()
 * const router = new Router()
 * router.get('/events', sse<Events>({ hub, topics: ['clock'] }), async (ctx) => {
 *   ctx.sse.send('tick', { n: 1 })
 * })
 * new Koa().use(router.routes()).listen(3000)
 * setInterval(() => hub.publish('tick', { n: Date.now() }, { topic: 'clock' }), 1000)
 * ```
 */
export function sse<M extends EventMap = EventMap>(
  options: SseOptionsInput<M> = {},
): SseMiddleware<M> {
  const middleware: Middleware<DefaultState, SseContext<M>> = async (ctx, next) => {
    const resolved = typeof options === 'function' ? await options(ctx) : options
    const report = ctx.onerror
    // Koa passes the socket's own error (ECONNRESET when a client vanishes) to ctx.onerror, which
    // logs a stack trace per disconnect (Koa 2.16 and 3.x, through on-finished). For a stream a
    // client leaving is routine and the stream already handles the close.
    ctx.onerror = (error) => {
      if (error == null || !fromConnection(ctx, error)) report.call(ctx, error)
    }
    const stream = await openNodeStream<M>(ctx.req, ctx.res, resolved)
    // From here the response belongs to the stream: Koa must not write a body or a status.
    ctx.respond = false
    ctx.sse = stream
    // The client left while earlier middleware was still deciding, or the server is shutting
    // down: there is no stream for the route to serve.
    if (stream.closed) return
    try {
      await next()
    } catch (error) {
      failStream(stream)
      throw error
    }
  }
  return Object.assign(middleware, { _name: 'sse' })
}

export { closeStreams, type EventMap, type SseStream } from '@sse/core'
