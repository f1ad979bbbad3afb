import { once } from 'node:events'
import type { Server } from 'node:http'
import { connect, createServer as createH2Server } from 'node:http2'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import cors from '@koa/cors'
import Router from '@koa/router'
import { createHub, type SseStream } from '@sse/core'
import type Koa from 'koa'
import compress from 'koa-compress'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sse } from '../src/index'
import { type KoaClass, listen, majors, openRaw, type RawStream, stop, until } from './helpers'

type Events = { tick: { n: number }; note: string }

it('tests both majors: koa is 3.x, koa2 is 2.x', () => {
  const require = createRequire(import.meta.url)
  expect(require('koa/package.json').version).toMatch(/^3\./)
  expect(require('koa2/package.json').version).toMatch(/^2\./)
  expect(majors[1]![1]).not.toBe(majors[0]![1])
})

describe.each(majors)('%s', (_name, Koa: KoaClass) => {
  const servers: Server[] = []
  const clients: RawStream[] = []

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await Promise.all(servers.splice(0).map(stop))
    vi.restoreAllMocks()
  })

  async function serve(app: Pick<Koa, 'listen'>) {
    const { server, url } = await listen(app)
    servers.push(server)
    return url
  }

  async function open(url: string, headers?: Record<string, string>) {
    const client = await openRaw(url, headers)
    clients.push(client)
    return client
  }

  it('gives the route a typed ctx.sse and keeps headers set with ctx.set() (C01, C05)', async () => {
    const app = new Koa()
    const router = new Router()
    app.use(async (ctx, next) => {
      ctx.set('X-Request-Id', 'abc')
      await next()
    })
    router.get('/events', sse<Events>({ heartbeat: false }), async (ctx) => {
      ctx.set('X-Too-Late', 'ignored')
      // Never called: typecheck proves that ctx.sse knows the event map.
      const mistyped = () => {
        // @ts-expect-error: 'tick' carries { n: number }
        ctx.sse.send('tick', 'not a number')
      }
      void mistyped
      ctx.sse.send('tick', { n: 1 })
      ctx.sse.send('note', 'hello')
    })
    app.use(router.routes())
    const client = await open(`${await serve(app)}/events`)
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.headers['x-request-id']).toBe('abc')
    // Set after the head went out: cannot reach the client, and must not throw either.
    expect(client.headers['x-too-late']).toBeUndefined()
    await until(() => client.frames.length >= 3)
    expect(client.frames.slice(1)).toEqual([
      { event: 'tick', data: '{"n":1}' },
      { event: 'note', data: 'hello' },
    ])
    expect(client.ended).toBe(false)
  })

  it('types ctx.sse on a plain app.use() chain', async () => {
    const app = new Koa()
      .use(sse<Events>({ retry: 1234, retryJitter: 0 }))
      .use((ctx) => void ctx.sse.send('note', ctx.path))
    const client = await open(`${await serve(app)}/anywhere`)
    await until(() => client.frames.length >= 2)
    expect(client.frames).toEqual([{ retry: '1234' }, { event: 'note', data: '/anywhere' }])
  })

  it('takes options from a function of ctx, with a hub and resume (C19, C20)', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Koa()
    app.use(async (ctx, next) => {
      ctx.state.topic = ctx.query.topic
      await next()
    })
    app.use(sse<Events>((ctx) => ({ hub, topics: [String(ctx.state.topic)] })))
    const url = await serve(app)
    const a = await open(`${url}/?topic=a`)
    const b = await open(`${url}/?topic=b`)
    await until(() => hub.size === 2)
    await hub.publish('tick', { n: 1 }, { topic: 'a' })
    const first = await hub.cursor({ topics: ['a'] })
    await hub.publish('tick', { n: 2 }, { topic: 'b' })
    await hub.publish('tick', { n: 3 }, { topic: 'a' })
    await until(() => a.frames.length >= 3 && b.frames.length >= 2)
    expect(a.frames.slice(1).map((f) => f.data)).toEqual(['{"n":1}', '{"n":3}'])
    expect(b.frames.slice(1).map((f) => f.data)).toEqual(['{"n":2}'])

    const resumed = await open(`${url}/?topic=a`, { 'last-event-id': first })
    await until(() => resumed.frames.length >= 2)
    expect(resumed.headers['sse-replay']).toBe('complete')
    expect(resumed.frames[1]).toMatchObject({ event: 'tick', data: '{"n":3}' })
  })

  it('lets an auth middleware answer 401 before the stream opens (C06)', async () => {
    const hub = createHub()
    const app = new Koa()
    const opened = vi.fn()
    app.use(async (ctx, next) => {
      if (ctx.get('authorization') !== 'Bearer ok') {
        ctx.status = 401
        ctx.body = 'who are you?'
        return
      }
      await next()
    })
    app.use(sse({ hub }))
    app.use(opened)
    const url = await serve(app)
    const refused = await open(url)
    await refused.done
    expect(refused.status).toBe(401)
    expect(refused.headers['content-type']).toMatch(/^text\/plain/)
    expect(refused.text).toBe('who are you?')
    expect(opened).not.toHaveBeenCalled()
    expect(hub.size).toBe(0)

    const allowed = await open(url, { authorization: 'Bearer ok' })
    expect(allowed.status).toBe(200)
    await until(() => opened.mock.calls.length === 1)
  })

  it('leaves an error before the stream opens to Koa: a normal 500', async () => {
    const app = new Koa()
    const errors: unknown[] = []
    app.on('error', (error) => errors.push(error))
    app.use(
      sse(() => {
        throw new Error('no options for you')
      }),
    )
    const client = await open(await serve(app))
    await client.done
    expect(client.status).toBe(500)
    expect(client.text).toBe('Internal Server Error')
    expect(errors).toEqual([expect.objectContaining({ message: 'no options for you' })])
  })

  it('ends the response when opening fails after the head went out', async () => {
    const app = new Koa()
    const errors: Error[] = []
    app.on('error', (error) => errors.push(error))
    app.use(sse({ retry: -1 }))
    const client = await open(await serve(app))
    // Without the adapter ending it, this response would hang (Koa does not touch a sent head).
    await client.done
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TypeError)
  })

  it('ends only the stream whose handler throws after it opened; Koa sends no 500', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Koa()
    const errors: Error[] = []
    app.on('error', (error) => errors.push(error))
    const signals: AbortSignal[] = []
    app.use(sse<Events>({ hub }))
    app.use(async (ctx) => {
      signals.push(ctx.sse.signal)
      await new Promise((r) => setTimeout(r, 5))
      if (ctx.query.fail) throw new Error('handler broke')
    })
    const url = await serve(app)
    const healthy = await open(url)
    const failing = await open(`${url}/?fail=1`)
    await failing.done
    expect(failing.status).toBe(200)
    expect(failing.text).not.toContain('Internal Server Error')
    expect(failing.frames).toEqual([{ retry: expect.stringMatching(/^\d+$/) }])
    expect(errors.map((e) => e.message)).toEqual(['handler broke'])
    expect(signals.map((s) => s.reason)).toContain('error')

    await until(() => hub.size === 1)
    await hub.publish('tick', { n: 7 })
    await until(() => healthy.frames.length >= 2)
    expect(healthy.frames[1]).toMatchObject({ event: 'tick', data: '{"n":7}' })
    expect(healthy.ended).toBe(false)
  })

  it('says nothing when clients disconnect, gently or with an RST (C16)', async () => {
    const hub = createHub<Events>({ heartbeat: false })
    const app = new Koa()
    const errors: unknown[] = []
    app.on('error', (error) => errors.push(error))
    const logged = vi.fn()
    for (const method of ['error', 'warn', 'log', 'info'] as const) {
      vi.spyOn(console, method).mockImplementation(logged)
    }
    const sessions: SseStream[] = []
    app.use(sse({ hub }))
    app.use((ctx) => void sessions.push(ctx.sse))
    const url = await serve(app)
    const streams = await Promise.all(Array.from({ length: 6 }, () => open(url)))
    await until(() => hub.size === 6)
    // Writes keep going while the clients leave, so some of them hit a socket already gone.
    for (let n = 0; n < 50; n++) await hub.publish('note', 'x'.repeat(1000))
    await until(() => streams.every((s) => s.frames.length > 10))
    for (const [i, stream] of streams.entries()) {
      if (i % 2) stream.reset()
      else stream.close()
    }
    const publishing = setInterval(() => void hub.publish('note', 'after'), 5)
    try {
      await until(() => hub.size === 0)
      await until(() => sessions.every((s) => s.closeReason === 'client'))
      await new Promise((r) => setTimeout(r, 100))
    } finally {
      clearInterval(publishing)
    }
    expect(errors).toEqual([])
    expect(logged).not.toHaveBeenCalled()
  })

  it('opens no stream for a client that left during an earlier async middleware (C16)', async () => {
    const hub = createHub({ heartbeat: false })
    const app = new Koa()
    const errors: unknown[] = []
    app.on('error', (error) => errors.push(error))
    let gone!: () => void
    const left = new Promise<void>((resolve) => {
      gone = resolve
    })
    const handler = vi.fn()
    app.use(async (ctx, next) => {
      ctx.req.once('close', gone)
      await left // an auth lookup that outlives the client
      await next()
    })
    app.use(sse({ hub }))
    app.use(handler)
    const url = await serve(app)
    const request = (await import('node:http')).get(url)
    request.on('error', () => {})
    await until(() => request.socket !== null)
    await new Promise((r) => setTimeout(r, 20))
    request.destroy()
    await left
    await new Promise((r) => setTimeout(r, 50))
    expect(hub.size).toBe(0)
    expect(handler).not.toHaveBeenCalled()
    expect(errors).toEqual([])
  })

  it('delivers at once through koa-compress, uncompressed', async () => {
    const app = new Koa()
    app.use(compress({ threshold: 0 }))
    let session: SseStream | undefined
    app.use(sse({ heartbeat: false }))
    app.use((ctx) => {
      session = ctx.sse
    })
    const client = await open(await serve(app), { 'accept-encoding': 'gzip, deflate, br' })
    expect(client.headers['content-encoding']).toBeUndefined()
    expect(client.headers['cache-control']).toBe('no-cache, no-transform')
    await until(() => client.frames.length === 1 && session !== undefined)
    // Compression would hold a small event back indefinitely; take the best of three tries so
    // a busy machine does not decide the outcome.
    const delays: number[] = []
    for (let n = 1; n <= 3; n++) {
      const sent = performance.now()
      session!.send({ data: `event ${n}` })
      await until(() => client.frames.length === n + 1)
      delays.push(client.times[n]! - sent)
    }
    expect(client.frames.slice(1).map((f) => f.data)).toEqual(['event 1', 'event 2', 'event 3'])
    expect(Math.min(...delays)).toBeLessThan(100)
  })

  it('keeps the headers of @koa/cors on the stream (C05)', async () => {
    const app = new Koa()
    app.use(cors({ origin: 'https://app.example', credentials: true, exposeHeaders: 'SSE-Replay' }))
    app.use(sse())
    const client = await open(await serve(app), { origin: 'https://app.example' })
    expect(client.status).toBe(200)
    expect(client.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(client.headers['access-control-allow-credentials']).toBe('true')
    expect(client.headers['access-control-expose-headers']).toBe('SSE-Replay')
    expect(client.headers.vary).toMatch(/Origin/)
  })

  it('lets server.close() complete after hub.shutdown() (C18)', async () => {
    const hub = createHub({ heartbeat: false })
    const app = new Koa()
    const handler = vi.fn()
    app.use(sse({ hub }))
    app.use(handler)
    const { server, url } = await listen(app)
    const streams = await Promise.all([open(url), open(url)])
    await until(() => hub.size === 2)
    await hub.shutdown({ grace: 2000, farewell: { event: 'bye' } })
    // A latecomer is told to come back later, and the route does not run for it.
    const late = await open(url)
    await late.done
    expect(late.headers['retry-after']).toBeDefined()
    expect(handler).toHaveBeenCalledTimes(2)
    await new Promise((resolve) => server.close(resolve))
    await Promise.all(streams.map((s) => s.done))
    for (const stream of streams) expect(stream.frames.at(-1)).toEqual({ event: 'bye', data: '' })
  })

  it('streams over HTTP/2 with http2.createServer(app.callback()) (C04)', async () => {
    const app = new Koa()
    const errors: unknown[] = []
    app.on('error', (error) => errors.push(error))
    const signals: AbortSignal[] = []
    app.use(async (ctx, next) => {
      ctx.set('X-Preset', 'kept')
      await next()
    })
    app.use(sse({ heartbeat: false }))
    app.use((ctx) => {
      signals.push(ctx.sse.signal)
      ctx.sse.send({ event: 'hello', data: 'h2' })
    })
    const server = createH2Server(app.callback())
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    try {
      const stream = client.request({ ':path': '/events' })
      const [headers] = (await once(stream, 'response')) as [Record<string, string>]
      expect(headers[':status']).toBe(200)
      expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(headers['x-preset']).toBe('kept')
      expect(headers.connection).toBeUndefined()
      expect(headers['transfer-encoding']).toBeUndefined()
      let text = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        text += chunk
      })
      await until(() => text.includes('event: hello\ndata: h2\n\n'))
      // A second stream on the same connection, then the whole connection is cut with an RST.
      client.request({ ':path': '/events' }).on('error', () => {})
      await until(() => signals.length === 2)
      client.socket.resetAndDestroy()
      await until(() => signals.every((s) => s.aborted))
      expect(signals.map((s) => s.reason)).toEqual(['client', 'client'])
      expect(errors).toEqual([])
    } finally {
      client.destroy()
      await new Promise((r) => server.close(r))
    }
  })
})
