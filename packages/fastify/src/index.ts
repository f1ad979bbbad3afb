/**
 * `@sse/fastify`: Server-Sent Events for Fastify 5, as a plugin that adds `reply.sse()`.
 * @module
 */
import {
  closeStreams,
  type EventMap,
  type Hub,
  type OpenOptions,
  type ShutdownOptions,
  type SseStream,
} from '@sse/core'
import { failStream, headerPairs, openStream } from '@sse/core/adapter'
import { nodeConnection } from '@sse/core/node'
import type { FastifyPluginCallback, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

/** {@link OpenOptions} shared by several routes; the hub may be typed with any event map. */
export interface SseDefaults extends Omit<OpenOptions, 'hub'> {
  /** A hub to join: broadcasts, resume from its store, graceful shutdown. */
  hub?: Hub
}

/** Options of the plugin: defaults for every `reply.sse()` of the app, and shutdown. */
export interface FastifySseOptions extends SseDefaults {
  /**
   * How `app.close()` ends open streams, in a `preClose` hook: every stream of the app's server
   * (with or without a hub) ends with this `farewell` and `grace` (`closeStreams` from
   * `@sse/core`), and the plugin's `hub` is shut down, so the server can close. `false` leaves
   * open streams to the application.
   * @default {} (5 s grace, no farewell)
   */
  shutdown?: ShutdownOptions | false
}

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Hijacks the reply and opens an event stream on it. Headers already set on the reply (by
     * `reply.header()`, hooks, `@fastify/cors`...) are kept. Options apply over the route's
     * `config.sse`, over the plugin's options. Refuse the stream by answering normally instead.
     * @typeParam M - the {@link EventMap} that types `stream.send`
     */
    sse<M extends EventMap = EventMap>(options?: OpenOptions<M>): Promise<SseStream<M>>
  }
  interface FastifyContextConfig {
    /** Route-level options of `reply.sse()`, over the plugin's and under the call's. */
    sse?: SseDefaults
  }
}

const plugin: FastifyPluginCallback<FastifySseOptions> = (app, options, done) => {
  const { shutdown = {}, ...defaults } = options
  // The stream opened on each reply, so a handler failing after it opened can end it.
  const streams = new WeakMap<FastifyReply, SseStream>()

  app.decorateReply('sse', async function sse(this: FastifyReply, callOptions?: OpenOptions) {
    const reply = this
    if (reply.sent) throw new Error('reply.sse(): the reply was already sent')
    const options = { ...defaults, ...reply.routeOptions.config?.sse, ...callOptions }
    const node = nodeConnection(reply.request.raw, reply.raw)
    const stream = await openStream(
      {
        ...node,
        // Hijack only as the head goes out, so that an error before it still reaches Fastify's
        // error handler. A hijacked reply's headers are not written by Fastify: copy them.
        writeHead(status, headers, extra = []) {
          reply.hijack()
          node.writeHead(status, headers, [
            ...headerPairs(reply.getHeaders(), node.http2),
            ...extra,
          ])
        },
      },
      options,
    )
    streams.set(reply, stream)
    return stream
  })

  // A handler that rejects after hijacking would only get Fastify's "reply.sent = true" log
  // line while its stream stayed open: end that stream instead, and leave other errors alone.
  app.addHook('onRoute', (route) => {
    const handler = route.handler
    route.handler = function (request, reply) {
      const result = handler.call(this, request, reply) as unknown
      if (!(result instanceof Promise)) return result
      return result.catch((error: unknown) => {
        const stream = streams.get(reply)
        if (!stream || !reply.sent) throw error
        reply.log.error({ err: error }, 'SSE handler failed after the stream opened')
        failStream(stream)
      })
    }
  })

  if (shutdown) {
    app.addHook('preClose', async () => {
      await Promise.all([
        defaults.hub?.shutdown(shutdown),
        closeStreams({ ...shutdown, server: app.server }),
      ])
    })
  }
  done()
}

/**
 * The Fastify plugin: decorates the reply with a typed `reply.sse()`, takes defaults for every
 * stream (a hub, heartbeat, retry...), and ends open streams on `app.close()`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { createHub } from '@sse/core'
 * import fastifySse from '@sse/fastify'
 *
 * const hub = createHub()
 * const app = Fastify({ logger: true })
 * await app.register(fastifySse, { hub, heartbeat: 15_000 })
 * app.get('/events', async (request, reply) => {
 *   await reply.sse({ topics: ['news'] })
 * })
 * setInterval(() => hub.publish('tick', { at: Date.now() }, { topic: 'news' }), 1000)
 * await app.listen({ port: 3000 })
 * ```
 */
export const fastifySse = fp(plugin, { name: '@sse/fastify', fastify: '5.x' })
export default fastifySse
export {
  closeStreams,
  type EventMap,
  type OpenOptions,
  type ShutdownOptions,
  type SseStream,
} from '@sse/core'
