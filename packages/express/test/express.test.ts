import http, { type Server } from 'node:http'
import { createHub, type Hub, type SseStream } from '@sse/core'
import compression from 'compression'
import cors from 'cors'
import type { ErrorRequestHandler } from 'express'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sse } from '../src/index'
import {
  type ExpressFactory,
  listen,
  majors,
  openRaw,
  type RawStream,
  stop,
  until,
} from './helpers'

type Events = { tick: { n: number }; note: string }

describe.each(majors)('%s', (name, express: ExpressFactory) => {
  const servers: Server[] = []
  const clients: RawStream[] = []
  const hubs: Hub<Events>[] = []

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await Promise.all(hubs.splice(0).map((hub) => hub.shutdown({ grace: 0 })))
    await Promise.all(servers.splice(0).map(stop))
    vi.restoreAllMocks()
  })

  async function serve(app: ReturnType<ExpressFactory>) {
    const { server, url } = await listen(app)
    servers.push(server)
    return url
  }

  async function open(url: string, headers?: Record<string, string>) {
    const client = await openRaw(url, headers)
    clients.push(client)
    return client
  }

  function hub() {
    const created = createHub<Events>({ heartbeat: false })
    hubs.push(created)
    return created
  }

  it('gives the handler res.sse and keeps headers set by earlier middleware (C01, C03, C05)', async () => {
    const app = express()
    app.use((_req, res, next) => {
      res.set('X-Request-Id', 'abc')
      next()
    })
    let seen: SseStream<Events> | undefined
    app.get(
      '/events',
      sse<Events>({ heartbeat: false, retry: 1500, retryJitter: 0 }),
      (_req, res) => {
        seen = res.locals.sse
        res.sse.send('tick', { n: 1 })
        res.sse.send('note', 'hello')
      },
    )
    const client = await open(`${await serve(app)}/events`)
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.headers['cache-control']).toBe('no-cache, no-transform')
    expect(client.headers['x-accel-buffering']).toBe('no')
    expect(client.headers['x-request-id']).toBe('abc')
    await until('three frames', () => client.frames.length >= 3)
    expect(client.frames).toEqual([
      { retry: '1500' },
      { event: 'tick', data: '{"n":1}' },
      { event: 'note', data: 'hello' },
    ])
    expect(seen).toBeDefined()
  })

  it('takes options from a function of the request, for per-user keys', async () => {
    const events = hub()
    const app = express()
    app.get(
      '/events',
      sse<Events>(async (req) => ({ hub: events, key: req.get('x-user') })),
      (_req, res) => {
        res.sse.comment('ready')
      },
    )
    const url = `${await serve(app)}/events`
    const ann = await open(url, { 'x-user': 'ann' })
    const bob = await open(url, { 'x-user': 'bob' })
    await until('both streams joined', () => events.size === 2)
    await events.publish('note', 'for ann', { key: 'ann' })
    await events.publish('note', 'for all')
    await until('ann sees both', () => ann.frames.some((f) => f.data === 'for all'))
    await until('bob sees the broadcast', () => bob.frames.some((f) => f.data === 'for all'))
    expect(ann.frames.filter((f) => f.event === 'note').map((f) => f.data)).toEqual([
      'for ann',
      'for all',
    ])
    expect(bob.frames.filter((f) => f.event === 'note').map((f) => f.data)).toEqual(['for all'])
  })

  it('sends errors before the stream opens to next(err), a sync throw or a rejection', async () => {
    const app = express()
    app.get(
      '/sync',
      sse(() => {
        throw Object.assign(new Error('no topic'), { status: 400 })
      }),
    )
    app.get(
      '/async',
      sse(async () => {
        throw Object.assign(new Error('store down'), { status: 503 })
      }),
    )
    const handler: ErrorRequestHandler = (error, _req, res, _next) => {
      res.status(error.status).json({ error: error.message })
    }
    app.use(handler)
    const url = await serve(app)
    const sync = await open(`${url}/sync`)
    const rejected = await open(`${url}/async`)
    await until('both bodies', () => sync.complete && rejected.complete)
    expect([sync.status, JSON.parse(sync.text)]).toEqual([400, { error: 'no topic' }])
    expect([rejected.status, JSON.parse(rejected.text)]).toEqual([503, { error: 'store down' }])
  })

  it('lets an auth middleware refuse with a normal 401 before the stream opens (C06)', async () => {
    const events = hub()
    const app = express()
    app.get(
      '/events',
      (req, res, next) => {
        if (req.get('authorization') !== 'Bearer ok') return void res.status(401).send('nope')
        next()
      },
      sse<Events>({ hub: events }),
      (_req, res) => {
        res.sse.comment('in')
      },
    )
    const url = `${await serve(app)}/events`
    const refused = await open(url)
    await until('the 401 body', () => refused.complete)
    expect(refused.status).toBe(401)
    expect(refused.headers['content-type']).toMatch(/^text\/html/)
    expect(refused.text).toBe('nope')
    expect(events.size).toBe(0)
    const allowed = await open(url, { authorization: 'Bearer ok' })
    expect(allowed.status).toBe(200)
    await until('the stream joined', () => events.size === 1)
  })

  it('is skipped by compression: events arrive at once, without Content-Encoding', async () => {
    const app = express()
    app.use(compression({ threshold: 0 }))
    let session: SseStream<Events> | undefined
    app.get('/events', sse<Events>({ heartbeat: false, retry: false }), (_req, res) => {
      session = res.sse
    })
    // Proves compression is active here, so skipping the stream is the header's doing.
    app.get('/text', (_req, res) => {
      res.type('text/plain').send('x'.repeat(2048))
    })
    // The same stream without `no-transform`: compression takes it and holds its bytes back.
    app.get('/transformed', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      res.write('data: held\n\n')
    })
    const url = await serve(app)
    const gzip = { 'accept-encoding': 'gzip' }
    const text = await open(`${url}/text`, gzip)
    expect(text.headers['content-encoding']).toBe('gzip')
    const transformed = await open(`${url}/transformed`, gzip)
    expect(transformed.headers['content-encoding']).toBe('gzip')

    const client = await open(`${url}/events`, gzip)
    expect(client.headers['content-encoding']).toBeUndefined()
    await until('the first frame and the session', () => client.frames.length === 1 && !!session)
    const sentAt = performance.now()
    session!.send('tick', { n: 1 })
    // Nothing else is written (no heartbeat), so a compressor holding bytes back would never
    // let this event through.
    await until('the event', () => client.frames.length === 2)
    expect(client.frames[1]).toEqual({ event: 'tick', data: '{"n":1}' })
    // Not a speed check: a held-back event takes forever, not a few ms. The bound is loose
    // because other test runs share this 2-core machine.
    expect(client.times[1]! - sentAt).toBeLessThan(1000)
  })

  it('keeps the CORS headers of the cors middleware on the stream (C05)', async () => {
    const app = express()
    app.use(cors({ origin: 'https://app.example', credentials: true }))
    app.get('/events', sse(), () => {})
    const client = await open(`${await serve(app)}/events`, { origin: 'https://app.example' })
    expect(client.status).toBe(200)
    expect(client.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(client.headers['access-control-allow-credentials']).toBe('true')
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom')
      },
    ],
    [
      'rejects',
      async () => {
        throw new Error('boom')
      },
    ],
  ])(
    'handler form: a handler that %s after the stream opened ends only that stream, cleanly',
    async (_how, fail) => {
      const events = hub()
      const onError = vi.fn()
      const app = express()
      app.get(
        '/events',
        sse<Events>(
          () => ({ hub: events, onError }),
          (req, res) => {
            res.sse.send('note', 'opened')
            if (req.query.fail) return fail()
          },
        ),
      )
      const url = `${await serve(app)}/events`
      const healthy = await open(url)
      const failing = await open(`${url}?fail=1`)
      await until('the failing stream to end', () => failing.closed)
      expect(failing.complete).toBe(true)
      expect(failing.frames.map((f) => f.data)).toContain('opened')
      expect(onError).toHaveBeenCalledTimes(1)
      expect(onError.mock.calls[0]![0]).toMatchObject({ message: 'boom' })
      await until('only the healthy stream left', () => events.size === 1)
      await events.publish('note', 'still here')
      await until('the healthy stream gets it', () =>
        healthy.frames.some((f) => f.data === 'still here'),
      )
      expect(healthy.closed).toBe(false)
    },
  )

  // Express 4 does not catch a handler's rejected promise at all: use the handler form there.
  const failures: [string, boolean][] =
    name === 'express 5'
      ? [
          ['throws', false],
          ['rejects', true],
        ]
      : [['throws', false]]
  it.each(failures)(
    'middleware form: a handler that %s after the stream opened ends only that stream',
    async (_how, async) => {
      // Express 4 does not catch rejected promises of handlers at all (use the handler form there).
      if (async && express !== majors[0]![1]) return
      const events = hub()
      const app = express()
      const errors: unknown[] = []
      app.get('/events', sse<Events>({ hub: events }), (req, res) => {
        res.sse.send('note', 'opened')
        if (!req.query.fail) return
        if (async) return Promise.reject(new Error('boom'))
        throw new Error('boom')
      })
      // An error handler that does not check res.headersSent: its 500 must not break anything.
      const handler: ErrorRequestHandler = (error, _req, res, _next) => {
        errors.push(error)
        res.status(500).json({ error: 'boom' })
      }
      app.use(handler)
      const url = `${await serve(app)}/events`
      const healthy = await open(url)
      const failing = await open(`${url}?fail=1`)
      await until('the failing stream to end', () => failing.closed)
      expect(failing.frames.map((f) => f.data)).toContain('opened')
      expect(failing.text).not.toContain('"error"')
      expect(errors).toMatchObject([{ message: 'boom' }])
      await until('only the healthy stream left', () => events.size === 1)
      await events.publish('note', 'still here')
      await until('the healthy stream gets it', () =>
        healthy.frames.some((f) => f.data === 'still here'),
      )
      expect(healthy.closed).toBe(false)
    },
  )

  it('keeps an open stream when a catch-all 404 middleware follows the route', async () => {
    const app = express()
    let session: SseStream<Events> | undefined
    app.get('/events', sse<Events>({ heartbeat: false }), (_req, res) => {
      session = res.sse
    })
    app.use((_req, res) => {
      res.status(404).send('not found')
    })
    const url = await serve(app)
    const missing = await open(`${url}/missing`)
    expect(missing.status).toBe(404)
    const client = await open(`${url}/events`)
    await until('the session', () => !!session && client.frames.length === 1)
    session!.send('note', 'after')
    await until('the event', () => client.frames.length === 2)
    expect(client.closed).toBe(false)
  })

  it('opens nothing for a client that left during an async middleware (C16)', async () => {
    const events = hub()
    const app = express()
    let release!: () => void
    const auth = new Promise<void>((resolve) => {
      release = resolve
    })
    let reached = false
    const handler = vi.fn()
    app.get(
      '/events',
      async (_req, _res, next) => {
        reached = true
        await auth
        next()
      },
      sse<Events>({ hub: events, heartbeat: 50 }),
      handler,
    )
    const url = await serve(app)
    const request = http.request(`${url}/events`, { agent: false })
    request.on('error', () => {})
    request.end()
    await until('the request reached the middleware', () => reached)
    request.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    release()
    // Proving that nothing opens needs a pause: long enough for the open to have happened.
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(events.size).toBe(0)
    expect(handler).not.toHaveBeenCalled()
  })

  it('releases a stream whose client left: signal aborts once, the hub forgets it (C16)', async () => {
    const events = hub()
    const app = express()
    const reasons: unknown[] = []
    app.get('/events', sse<Events>({ hub: events, topics: ['news'] }), (_req, res) => {
      const { signal } = res.sse
      signal.addEventListener('abort', () => reasons.push(signal.reason))
    })
    const client = await open(`${await serve(app)}/events`)
    await until('the stream joined', () => events.size === 1)
    client.close()
    await until('the hub forgot it', () => events.size === 0)
    await until('the abort', () => reasons.length === 1)
    expect(reasons).toEqual(['client'])
  })

  it('resumes from Last-Event-ID through the hub (C19, C20)', async () => {
    const events = hub()
    const app = express()
    app.get('/events', sse<Events>({ hub: events, topics: ['news'] }), () => {})
    const url = `${await serve(app)}/events`
    await events.publish('note', 'one', { topic: 'news' })
    const first = await events.cursor({ topics: ['news'] })
    await events.publish('note', 'two', { topic: 'news' })
    const client = await open(url, { 'last-event-id': first })
    await until('the replay', () => client.frames.some((f) => f.data === 'two'))
    await events.publish('note', 'three', { topic: 'news' })
    await until('the live event', () => client.frames.some((f) => f.data === 'three'))
    expect(client.frames.filter((f) => f.event === 'note').map((f) => f.data)).toEqual([
      'two',
      'three',
    ])
    expect(client.headers['sse-replay']).toBe('complete')
  })

  it('shuts down gracefully: hub.shutdown() ends the streams, then server.close() completes (C18)', async () => {
    const events = createHub<Events>({ heartbeat: false })
    const app = express()
    const handled = vi.fn()
    app.get('/events', sse<Events>({ hub: events }), (_req, res) => {
      handled()
      res.sse.comment('open')
    })
    const { server, url } = await listen(app)
    const a = await open(`${url}/events`)
    const b = await open(`${url}/events`)
    await until('both joined', () => events.size === 2)
    await events.shutdown({ grace: 2000, farewell: { event: 'note', data: 'bye' } })
    await until('both ended', () => a.closed && b.closed)
    expect([a.complete, b.complete]).toEqual([true, true])
    expect(a.frames.at(-1)).toEqual({ event: 'note', data: 'bye' })
    // A stream opened during shutdown is told to come back later; the handler never runs.
    const late = await open(`${url}/events`)
    await until('the late stream ended', () => late.closed)
    expect(late.status).toBe(200)
    expect(late.headers['retry-after']).toBeDefined()
    expect(handled).toHaveBeenCalledTimes(2)
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    )
  })
})
