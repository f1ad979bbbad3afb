/**
 * `@sse/express`: Server-Sent Events for Express 4 and 5, as a middleware that gives the route
 * a typed `res.sse` stream. Every SSE rule lives in `@sse/core`; this only maps it onto Express.
 * @module
 */
import type { EventMap, OpenOptions, SseStream } from '@sse/core'
import { failStream } from '@sse/core/adapter'
import { openNodeStream } from '@sse/core/node'
import type { Request, RequestHandler, Response } from 'express'

/** What `res.locals` holds after {@link sse}: the stream, also reachable as `res.sse`. */
export type SseLocals<M extends EventMap = EventMap> = { sse: SseStream<M> }

/** A request in a route behind {@link sse}. */
export type SseRequest<M extends EventMap = EventMap> = Request<
  Request['params'],
  unknown,
  unknown,
  Request['query'],
  SseLocals<M>
>

/** A response in a route behind {@link sse}: `res.sse` is the open stream, typed by `M`. */
export type SseResponse<M extends EventMap = EventMap> = Response<unknown, SseLocals<M>>

/** A route handler behind {@link sse}; annotate a handler defined apart from its route with it. */
export type SseHandler<M extends EventMap = EventMap> = RequestHandler<
  Request['params'],
  unknown,
  unknown,
  Request['query'],
  SseLocals<M>
>

declare global {
  namespace Express {
    interface Response {
      /**
       * The event stream opened by `sse()` from `@sse/express`, typed by its event map in the
       * handlers that follow it; in other handlers it may be undefined.
       */
      sse: this extends { locals: { sse: infer S } } ? S : SseStream | undefined
    }
  }
}

/** Options of {@link sse}: those of `openNodeStream` from `@sse/core/node`, and `onError`. */
export interface SseOptions<M extends EventMap = EventMap> extends OpenOptions<M> {
  /**
   * Called when the handler given to `sse(options, handler)` throws or rejects after the stream
   * opened; the stream is then closed with reason `'error'` (the response has begun, so
   * Express's error handling cannot answer any more).
   * @default logs the error with console.error
   */
  onError?: (error: unknown, req: Request) => void
}

/** Options computed per request, for example per-user topics or key. May be async. */
export type SseOptionsFn<M extends EventMap = EventMap> = (
  req: Request,
  res: Response,
) => SseOptions<M> | Promise<SseOptions<M>>

function logError(error: unknown): void {
  console.error('[@sse/express] handler failed after the stream opened:', error)
}

/**
 * Opens an event stream and puts it on `res.sse` (and `res.locals.sse`). Refuse the
 * stream in an earlier middleware (auth, rate limit) with any status; errors before the stream
 * opens go to `next(err)`. Headers set by earlier middleware (CORS...) are kept.
 *
 * Used as middleware, it calls `next()` once the stream is open (end the route with a handler
 * that does not call `next()`): a handler that fails after that goes through Express's error
 * handling, which closes the connection. Given the handler as second argument, a throw or
 * rejection ends the stream cleanly instead (see `onError`).
 *
 * On shutdown, `await closeStreams({ server })` (re-exported here from `@sse/core`) ends every
 * open stream of the server, with or without a hub, so that `server.close()` completes.
 *
 * @typeParam M - the application's event map, which types `res.sse.send`.
 * @param options - stream options (hub, topics, key, heartbeat...), or a function of the request
 * @param handler - the route handler, run once the stream is open
 * @example
 * ```ts
 * import express from 'express'
 * import { createHub } from '@sse/core'
 * import { sse } from '@sse/express'
 *
 * type Events = { tick: { n: number } }
 * const hub = createHub<Events>()
 * const app = express()
 * app.get('/events', sse<Events>({ hub, topics: ['news'] }), (req, res) => {
 *   res.sse.send('tick', { n: 1 })
 * })
 * // Options per request; the handler as second argument ends the stream cleanly if it fails.
 * app.get('/me', sse<Events>((req) => ({ hub, key: req.get('x-user-id') }), async (req, res) => {
 *   await res.sse.pipe(notificationsOf(req.get('x-user-id')))
 * }))
 * // A durable stream (chats = createDurableStreams(hub, ...)): its producer feeds it, so
 * // sse() ends the route; resume it by GET with durable: chats.get(req.params.id, { owner }).
 * app.post('/chat', sse<Events>(async (req) => ({
 *   durable: await chats.start({ owner: req.get('x-user-id'), produce: answer }),
 * })))
 * ```
 */
export function sse<M extends EventMap = EventMap>(
  options: SseOptions<M> | SseOptionsFn<M> = {},
  handler?: SseHandler<M>,
): SseHandler<M> {
  return (req, res, next) => {
    let stream: SseStream<M> | undefined
    let onError: NonNullable<SseOptions<M>['onError']> = logError
    let durable = false
    new Promise<SseOptions<M>>((resolve) => {
      resolve(typeof options === 'function' ? options(req, res) : options)
    })
      .then((resolved) => {
        onError = resolved.onError ?? logError
        durable = resolved.durable !== undefined
        return openNodeStream<M>(req, res, resolved)
      })
      .then((opened) => {
        stream = opened
        ;(res as { sse?: SseStream<M> }).sse = opened
        res.locals.sse = opened
        // Closed already (the client left, or the hub is shutting down): nothing to run.
        if (opened.closed) return
        if (handler) return handler(req, res, next)
        // A durable stream's producer feeds it, so a route may end with sse(): next() would
        // reach Express's final 404 handler, which drops a response already under way.
        if (!durable) next()
      })
      .catch((error: unknown) => {
        if (!stream) return next(error)
        failStream(stream)
        onError(error, req)
      })
  }
}

export { closeStreams, type EventMap, type SseStream } from '@sse/core'
