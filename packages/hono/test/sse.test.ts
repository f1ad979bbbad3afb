import http from 'node:http'
import { createHub, type SseStream } from '@sse/core'
import { Hono } from 'hono'
import { compress } from 'hono/compress'
import { cors } from 'hono/cors'
import { secureHeaders } from 'hono/secure-headers'
import { afterEach, describe, expect, it } from 'vitest'
import { sse, sseMiddleware } from '../src/index'
import {
  open,
  type Served,
  type Stream,
  serve,
  sleep,
  type Transport,
  transportOption,
  transports,
  waitFor,
} from './helpers'

type Events = { tick: { n: number }; note: string }

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(app: Hono): Promise<Served> {
  const served = await serve(app)
  cleanups.push(() => served.close())
  return served
}

async function connect(url: string, path?: string, headers?: Record<string, string>) {
  const stream = await open(url, path, headers)
  cleanups.push(() => stream.close())
  return stream
}

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))

describe.each(transports)('sse() on @hono/node-server, %s path', (transport: Transport) => {
  const option = transportOption(transport)

  it('takes the expected path: a Node write or a web ReadableStream body', async () => {
    let body: unknown = 'unset'
    const app = new Hono()
    app.use(async (c, next) => {
      await next()
      body = c.res.body
    })
    app.get('/events', (c) => sse(c, (s) => s.send('note', 'hi'), { transport: option }))
    const stream = await connect((await start(app)).url)
    await stream.waitForEvents(1)
    if (transport === 'web') expect(body).toBeInstanceOf(ReadableStream)
    else expect(body).toBeNull()
  })

  it('keeps headers from c.header(), hono/cors, secureHeaders and middleware after next(); its own win', async () => {
    const app = new Hono()
    app.use(cors({ origin: ['http://app.example'], credentials: true }))
    app.use(secureHeaders())
    app.use(async (c, next) => {
      c.header('Cache-Control', 'max-age=60')
      c.header('Set-Cookie', 'a=1', { append: true })
      c.header('Set-Cookie', 'b=2', { append: true })
      await next()
      c.header('X-After', 'yes')
    })
    app.get('/events', (c) => {
      c.header('X-Preset', 'kept')
      return sse<Events>(c, (s) => s.send('note', 'hello'), { transport: option })
    })
    const stream = await connect((await start(app)).url, '/events', {
      origin: 'http://app.example',
    })
    await stream.waitForEvents(1)
    expect(stream.status).toBe(200)
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform')
    expect(stream.headers['x-accel-buffering']).toBe('no')
    expect(stream.headers['x-preset']).toBe('kept')
    expect(stream.headers['access-control-allow-origin']).toBe('http://app.example')
    expect(stream.headers['access-control-allow-credentials']).toBe('true')
    // hono/cors adds `Vary: Origin` after `await next()`.
    expect(stream.headers.vary).toMatch(/origin/i)
    expect(stream.headers['x-after']).toBe('yes')
    expect(stream.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(stream.headers['x-content-type-options']).toBe('nosniff')
    expect(stream.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(stream.headers['x-hono-already-sent']).toBeUndefined()
    expect(stream.events[0]).toMatchObject({ event: 'note', data: 'hello' })
  })

  it('keeps c.header() values with no middleware in front', async () => {
    const app = new Hono()
    app.get('/events', (c) => {
      c.header('X-Preset', 'kept')
      c.header('Cache-Control', 'max-age=60')
      return sse(c, (s) => s.send('note', 'x'), { transport: option, headers: { 'X-Opt': '1' } })
    })
    const stream = await connect((await start(app)).url)
    await stream.waitForEvents(1)
    expect(stream.headers['x-preset']).toBe('kept')
    expect(stream.headers['x-opt']).toBe('1')
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform')
  })

  it('is not held back by hono/compress, even one told to compress every type', async () => {
    for (const options of [{ threshold: 0 }, { threshold: 0, contentTypeFilter: () => true }]) {
      let session: SseStream<Events> | undefined
      const app = new Hono()
      app.use(compress(options))
      app.get('/events', (c) =>
        sse<Events>(
          c,
          (s) => {
            session = s
          },
          { transport: option },
        ),
      )
      const stream = await connect((await start(app)).url, '/events', {
        'accept-encoding': 'gzip, deflate',
      })
      expect(stream.headers['content-encoding']).toBeUndefined()
      await waitFor('the session', () => session)
      // Each event must arrive on its own, before the next one is sent.
      for (let n = 1; n <= 3; n++) {
        session!.send('tick', { n })
        await stream.waitForEvents(n)
      }
      expect(stream.events.map((e) => JSON.parse(e.data).n)).toEqual([1, 2, 3])
    }
  })

  it('lets a handler refuse with another status before the stream opens', async () => {
    const app = new Hono()
    app.get('/events', (c) =>
      c.req.header('authorization') ? sse(c, undefined, { transport: option }) : c.text('no', 401),
    )
    const { url } = await start(app)
    const refused = await connect(url)
    await refused.ended
    expect(refused.status).toBe(401)
    expect(refused.text()).toBe('no')
    const accepted = await connect(url, '/events', { authorization: 'yes' })
    expect(accepted.status).toBe(200)
  })

  it("answers invalid options with Hono's error handling, before the stream opens", async () => {
    const app = new Hono()
    app.onError((error, c) => c.text(error.message, 500))
    app.get('/events', (c) => sse(c, undefined, { heartbeat: -1, transport: option }))
    const stream = await connect((await start(app)).url)
    await stream.ended
    expect(stream.status).toBe(500)
    expect(stream.text()).toMatch(/heartbeat/)
  })

  it('notices a disconnect: the signal aborts with "client" and the hub lets go', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    let session: SseStream<Events> | undefined
    const app = new Hono()
    app.get('/events', (c) =>
      sse(
        c,
        (s) => {
          session = s
        },
        { hub, transport: option },
      ),
    )
    const stream = await connect((await start(app)).url)
    await waitFor('the session', () => session && hub.size === 1)
    const aborted = new Promise((resolve) =>
      session!.signal.addEventListener('abort', () => resolve(session!.signal.reason)),
    )
    stream.close()
    expect(await aborted).toBe('client')
    expect(hub.size).toBe(0)
  })

  it('has no unhandled rejection when writes race a disconnect', async () => {
    const before = unhandled.length
    let session: SseStream<Events> | undefined
    let writesAfterClose = 0
    const app = new Hono()
    app.get('/events', (c) =>
      sse<Events>(
        c,
        (s) => {
          session = s
          const loop = () => {
            if (s.send('note', 'x'.repeat(2000)) === false && s.closed) writesAfterClose++
            if (writesAfterClose < 50) setImmediate(loop)
          }
          loop()
        },
        { transport: option },
      ),
    )
    const stream = await connect((await start(app)).url)
    await stream.waitForEvents(5)
    stream.close()
    await waitFor('the writes to go on after the disconnect', () => writesAfterClose >= 50)
    expect(session!.closeReason).toMatch(/client|slow-consumer/)
    await sleep(50)
    expect(unhandled.slice(before)).toEqual([])
  })

  it('does not open, nor run the callback, when the client left before the stream opened', async () => {
    const hub = createHub<Events>({ heartbeat: false })
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
    app.get('/events', (c) => sse(c, () => void calls++, { hub, transport: option }))
    const { url } = await start(app)
    const request = http.get(`${url}/events`, { agent: false })
    request.on('error', () => {})
    await waitFor('the request to reach the app', () => entered)
    request.destroy()
    await waitFor('the handler to run after the disconnect', () => handled)
    await sleep(100)
    expect(calls).toBe(0)
    expect(hub.size).toBe(0)
  })

  it('resumes from Last-Event-ID (header or query) with replay, then live', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Hono()
    app.get('/events', (c) => sse(c, undefined, { hub, transport: option }))
    const { url } = await start(app)
    const ids: string[] = []
    for (const n of [1, 2, 3]) {
      await hub.publish('tick', { n })
      ids.push(await hub.cursor())
    }
    const byHeader = await connect(url, '/events', { 'last-event-id': ids[0]! })
    const byQuery = await connect(url, `/events?lastEventId=${encodeURIComponent(ids[1]!)}`)
    expect(byHeader.headers['sse-replay']).toBe('complete')
    await byHeader.waitForEvents(2)
    await byQuery.waitForEvents(1)
    await hub.publish('tick', { n: 4 })
    const live = await hub.cursor()
    await byHeader.waitForEvents(3)
    await byQuery.waitForEvents(2)
    expect(byHeader.events.map((e) => e.id)).toEqual([ids[1], ids[2], live])
    expect(byQuery.events.map((e) => e.id)).toEqual([ids[2], live])
    expect(byHeader.events.map((e) => JSON.parse(e.data).n)).toEqual([2, 3, 4])

    const lost = await connect(url, '/events', { 'last-event-id': 'unknown-id' })
    await lost.waitForEvents(1)
    expect(lost.headers['sse-replay']).toBe('lost')
    expect(lost.events[0]?.event).toBe('history-lost')
  })

  it('shuts down with a farewell, refuses new streams politely, and server.close() completes', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Hono()
    app.get('/events', (c) => sse(c, undefined, { hub, transport: option }))
    const served = await serve(app)
    cleanups.push(() => served.close())
    const streams = [await connect(served.url), await connect(served.url)]
    await waitFor('both streams', () => hub.size === 2)
    await hub.shutdown({ grace: 3000, farewell: { event: 'note', data: 'bye' } })
    for (const stream of streams) {
      await stream.ended
      expect(stream.events.at(-1)).toMatchObject({ event: 'note', data: 'bye' })
    }
    const late = await connect(served.url)
    await late.ended
    expect(late.status).toBe(200)
    expect(late.headers['retry-after']).toBeDefined()
    await new Promise<void>((resolve, reject) =>
      served.server.close((error) => (error ? reject(error) : resolve())),
    )
  })

  it('ends the stream and reports when the callback throws; other streams go on', async () => {
    const errors: unknown[] = []
    const app = new Hono()
    app.get('/events', (c) =>
      sse<Events>(
        c,
        async (s) => {
          s.send('note', 'before')
          if (c.req.query('fail') !== undefined) throw new Error('boom')
        },
        { transport: option, onError: (error) => errors.push(error) },
      ),
    )
    const { url } = await start(app)
    const failing = await connect(url, '/events?fail')
    const healthy = await connect(url)
    await failing.ended
    expect(failing.events.map((e) => e.data)).toEqual(['before'])
    expect(errors).toEqual([new Error('boom')])
    await healthy.waitForEvents(1)
    expect(healthy.isEnded()).toBe(false)
  })

  it('sseMiddleware opens streams with options computed from the context', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Hono()
    app.get(
      '/events',
      sseMiddleware<Events>(
        (c) => ({ hub, topics: [c.req.query('topic') ?? 'none'], transport: option }),
        (s, c) => void s.send('note', `hello ${c.req.query('topic')}`),
      ),
    )
    const { url } = await start(app)
    const a = await connect(url, '/events?topic=a')
    const b = await connect(url, '/events?topic=b')
    await a.waitForEvents(1)
    await b.waitForEvents(1)
    await hub.publish('tick', { n: 1 }, { topic: 'a' })
    await hub.publish('tick', { n: 2 }, { topic: 'b' })
    await a.waitForEvents(2)
    await b.waitForEvents(2)
    expect(a.events.map((e) => e.data)).toEqual(['hello a', '{"n":1}'])
    expect(b.events.map((e) => e.data)).toEqual(['hello b', '{"n":2}'])
  })
})

describe('typing', () => {
  it('checks send() against the event map, inferred from the hub or given', () => {
    const hub = createHub<Events>()
    const app = new Hono()
    app.get('/a', (c) =>
      sse(
        c,
        (s) => {
          s.send('tick', { n: 1 })
          // @ts-expect-error: tick carries { n: number }
          s.send('tick', 'nope')
        },
        { hub },
      ),
    )
    app.get('/b', (c) =>
      sse<Events>(c, (s) => {
        // @ts-expect-error: no such event
        s.send('missing', 1)
      }),
    )
    expect(app.routes.length).toBe(2)
  })
})

export type { Stream }
