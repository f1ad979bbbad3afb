// The peer range includes @hono/node-server 1.13: the fast path's "already sent" marker and
// `c.env.outgoing` must work there too. Its own file, because each major version of the server
// replaces the global Response with its own class.
import { createHub, type SseStream } from '@sse/core'
import { Hono } from 'hono'
import { createAdaptorServer } from 'hono-node-server-1.13'
import { afterEach, describe, expect, it } from 'vitest'
import { sse } from '../src/index'
import { open, serve, type Transport, transportOption, transports, waitFor } from './helpers'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe.each(transports)('sse() on @hono/node-server 1.13, %s path', (transport: Transport) => {
  it.each([false, true])(
    'streams, keeps headers and notices disconnects (middleware: %s)',
    async (withMiddleware) => {
      const hub = createHub({ heartbeat: false })
      let session: SseStream | undefined
      let body: unknown = 'unset'
      const app = new Hono()
      if (withMiddleware) {
        app.use(async (c, next) => {
          await next()
          body = c.res.body
          c.header('X-After', 'yes')
        })
      }
      app.get('/events', (c) => {
        c.header('X-Preset', 'kept')
        return sse(
          c,
          (s) => {
            session = s
          },
          { hub, transport: transportOption(transport) },
        )
      })
      const served = await serve(app, { adaptor: createAdaptorServer as never })
      cleanups.push(() => served.close())
      const stream = await open(served.url)
      cleanups.push(() => stream.close())
      expect(stream.status).toBe(200)
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(stream.headers['x-preset']).toBe('kept')
      expect(stream.headers['x-hono-already-sent']).toBeUndefined()
      if (withMiddleware) {
        expect(stream.headers['x-after']).toBe('yes')
        if (transport === 'web') expect(body).toBeInstanceOf(ReadableStream)
        else expect(body).toBeNull()
      }
      await waitFor('the session', () => session && hub.size === 1)
      await hub.publish('tick', { n: 1 })
      await stream.waitForEvents(1)
      stream.close()
      await waitFor('the session to close', () => session?.closed && hub.size === 0)
      expect(session?.closeReason).toBe('client')
    },
  )
})
