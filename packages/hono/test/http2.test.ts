import http2 from 'node:http2'
import { createHub, type SseStream } from '@sse/core'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { sse } from '../src/index'
import {
  openHttp2,
  type Served,
  serve,
  sleep,
  type Transport,
  transportOption,
  transports,
  waitFor,
} from './helpers'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe.each(transports)(
  'sse() over HTTP/2 (h2c) on @hono/node-server, %s path',
  (transport: Transport) => {
    it('sends no HTTP/1-only header, streams events, and notices the client leaving', async () => {
      const hub = createHub({ heartbeat: false })
      let session: SseStream | undefined
      const app = new Hono()
      app.use(async (c, next) => {
        // Middleware that sets an HTTP/1-only header must not break the HTTP/2 stream.
        c.header('Connection', 'keep-alive')
        await next()
      })
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
      const served: Served = await serve(app, { http2: true })
      cleanups.push(() => served.close())
      const stream = await openHttp2(served.url)
      cleanups.push(() => stream.close())
      expect(stream.status).toBe(200)
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(stream.headers['x-preset']).toBe('kept')
      for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade']) {
        expect(stream.headers[name]).toBeUndefined()
      }
      await waitFor('the session', () => session && hub.size === 1)
      await hub.publish('tick', { n: 1 })
      const [event] = await stream.waitForEvents(1)
      expect(event).toMatchObject({ event: 'tick', data: '{"n":1}' })
      stream.close()
      await waitFor('the session to close', () => session?.closed && hub.size === 0)
      expect(session?.closeReason).toBe('client')
    })

    it('does not open when the client left before the stream opened', async () => {
      const hub = createHub({ heartbeat: false })
      let calls = 0
      let entered = false
      let handled = false
      const app = new Hono()
      app.use(async (c, next) => {
        entered = true
        const signal = c.req.raw.signal
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        await next()
        handled = true
      })
      app.get('/events', (c) =>
        sse(c, () => void calls++, { hub, transport: transportOption(transport) }),
      )
      const served = await serve(app, { http2: true })
      cleanups.push(() => served.close())
      const session = http2.connect(served.url)
      session.on('error', () => {})
      cleanups.push(() => session.destroy())
      const request = session.request({ ':path': '/events' })
      request.on('error', () => {})
      await waitFor('the request to reach the app', () => entered)
      // Only this stream goes away; the HTTP/2 session (the socket) stays open.
      request.close(http2.constants.NGHTTP2_CANCEL)
      await waitFor('the handler to run after the disconnect', () => handled)
      await sleep(100)
      expect(calls).toBe(0)
      expect(hub.size).toBe(0)
    })
  },
)
