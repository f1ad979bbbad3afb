/**
 * `@sse/fastify`: Server-Sent Events for Fastify 5, as a plugin that adds `reply.sse()`.
 * @module
 */
import {
  type EventMap,
  HTTP2_FORBIDDEN_HEADERS,
  type Hub,
  type OpenOptions,
  openSession,
  type ShutdownOptions,
  type SseSession,
} from '@sse/core'
import { nodeConnection } from '@sse/core/node'
import type { FastifyPluginCallback, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

/** {@link OpenOptions} shared by several routes, whose hub may be typed with any event map. */
export interface SseDefaults extends Omit<OpenOptions, 'hub'> {
  /** A hub to join: broadcasts, resume from its store, graceful shutdown. */
  // TODO(core): a Hub<M> is not assignable to Hub<EventMap> (SseMessage<M> parameters of
  // publish and shutdown), so a typed hub only fits here as Hub<any>.
  // biome-ignore lint/suspicious/noExplicitAny: any event map, see above
  hub?: Hub<any>
}

/** Options of the plugin: defaults for every `reply.sse()` of the app, and shutdown. */
export interface FastifySseOptions extends SseDefaults {
  /**
   * How `app.close()` ends open streams, in a `preClose` hook: the plugin's `hub` is shut down
   * with these options, and streams opened without it get the same `farewell` and `grace`, so
   * the server can close. `false` leaves open streams to the application.
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
     * @typeParam M - the {@link EventMap} that types `session.send`
     */
    sse<M extends EventMap = EventMap>(options?: OpenOptions<M>): Promise<SseSession<M>>
  }
  interface FastifyContextConfig {
    /** Route-level options of `reply.sse()`, over the plugin's and under the call's. */
    sse?: SseDefaults
  }
}

const plugin: FastifyPluginCallback<FastifySseOptions> = (app, options, done) => {
  const { shutdown = {}, ...defaults } = options
  // Sessions the plugin's hub does not track, so that `app.close()` can end them too.
  const untracked = new Set<SseSession>()
  // The stream opened on each reply, so a handler failing after it opened can end it.
  const streams = new WeakMap<FastifyReply, SseSession>()

  app.decorateReply('sse', async function sse(this: FastifyReply, callOptions?: OpenOptions) {
    const reply = this
    if (reply.sent) throw new Error('reply.sse(): the reply was already sent')
    const options = { ...defaults, ...reply.routeOptions.config?.sse, ...callOptions }
    const node = nodeConnection(reply.request.raw, reply.raw)
    const session = await openSession(
      {
        ...node,
        attach(session) {
          streams.set(reply, session)
          node.attach(session)
        },
        // Hijack only as the head goes out, so that an error before it still reaches Fastify's
        // error handler. A hijacked reply's headers are not written by Fastify: copy them.
        writeHead(status, headers) {
          reply.hijack()
          const kept = reply.getHeaders()
          for (const name in kept) {
            // TODO(core): an `OpenOptions.headers` merged and filtered by core would replace this
            // check; node:http2 drops these with an UnsupportedWarning (C04).
            if (node.http2 && (HTTP2_FORBIDDEN_HEADERS as readonly string[]).includes(name))
              continue
            reply.raw.setHeader(name, kept[name]!)
          }
          node.writeHead(status, headers)
        },
      },
      options,
    )
    const inPluginHub = options.hub !== undefined && options.hub === defaults.hub
    if (shutdown && !inPluginHub && !session.closed) {
      untracked.add(session)
      session.signal.addEventListener('abort', () => untracked.delete(session), { once: true })
    }
    return session
  })

  // A handler that rejects after hijacking would only get Fastify's "reply.sent = true" log
  // line while its stream stayed open: end that stream instead, and leave other errors alone.
  app.addHook('onRoute', (route) => {
    const handler = route.handler
    route.handler = function (request, reply) {
      const result = handler.call(this, request, reply) as unknown
      if (!(result instanceof Promise)) return result
      return result.catch((error: unknown) => {
        const session = streams.get(reply)
        if (!session || !reply.sent) throw error
        reply.log.error({ err: error }, 'SSE handler failed after the stream opened')
        session.close('error')
      })
    }
  })

  if (shutdown) {
    app.addHook('preClose', async () => {
      await Promise.all([defaults.hub?.shutdown(shutdown), endAll(untracked, shutdown)])
    })
  }
  done()
}

// TODO(core): the same steps as Hub.shutdown, for sessions outside any hub; a core export such
// as `shutdownSessions(sessions, options)` would let both share them.
async function endAll(sessions: Set<SseSession>, options: ShutdownOptions): Promise<void> {
  const open = [...sessions]
  for (const session of open) {
    if (options.farewell) session.send(options.farewell)
    session.close('shutdown')
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.grace ?? 5000)
  })
  await Promise.race([Promise.all(open.map((session) => session.released())), grace])
  clearTimeout(timer)
  for (const session of open) session.destroy()
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
export type { EventMap, OpenOptions, ShutdownOptions, SseSession } from '@sse/core'
