import { connect as connect2 } from 'node:http2'
import type { AddressInfo } from 'node:net'
import compress from '@fastify/compress'
import cors from '@fastify/cors'
import { createHub, type Hub, type SseStream } from '@sse/core'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import fastifySse, { type FastifySseOptions } from '../src/index'
import { get, get2, until } from './helpers'

interface LogLine {
  level: number
  msg: string
  err?: { message: string }
}

const apps: FastifyInstance[] = []

/** A Fastify app whose log lines are collected, with the plugin registered. */
async function build(
  options: FastifySseOptions = {},
  setup: (app: FastifyInstance) => void | Promise<void> = () => {},
  server: FastifyServerOptions = {},
) {
  const logs: LogLine[] = []
  const stream = { write: (line: string) => logs.push(JSON.parse(line)) }
  const app = Fastify({ ...server, logger: { level: 'info', stream } }) as FastifyInstance
  apps.push(app)
  await setup(app)
  await app.register(fastifySse, options)
  return { app, logs }
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** Log lines at warn (40) or above. */
const problems = (logs: LogLine[]) => logs.filter((line) => line.level >= 40)

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

describe('reply.sse()', () => {
  it('opens a stream that keeps headers set with reply.header() and by hooks (C01-C05)', async () => {
    const { app, logs } = await build()
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('X-Preset', 'kept')
    })
    app.get('/events', async (_request, reply) => {
      reply.header('Set-Cookie', 'a=1')
      const session = await reply.sse()
      session.send('hello', { n: 1 })
    })
    const client = await get(`${await listen(app)}/events`)
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.headers['cache-control']).toBe('no-cache, no-transform')
    expect(client.headers['x-preset']).toBe('kept')
    expect(client.headers['set-cookie']).toEqual(['a=1'])
    await client.waitFor((text) => text.includes('event: hello\ndata: {"n":1}\n\n'))
    expect(client.text).toMatch(/^retry: \d+\n\n/)
    client.close()
    await until(() => logs.some((line) => line.msg === 'incoming request'))
    expect(problems(logs)).toEqual([])
  })

  it('applies call options over route config.sse over plugin options', async () => {
    const { app } = await build({ retry: 1111, retryJitter: 0, heartbeat: 50 })
    app.get('/plugin', async (_request, reply) => {
      await reply.sse()
    })
    app.get('/route', { config: { sse: { retry: 2222 } } }, async (_request, reply) => {
      await reply.sse()
    })
    app.get('/call', { config: { sse: { retry: 2222 } } }, async (_request, reply) => {
      await reply.sse({ retry: 3333 })
    })
    const url = await listen(app)
    const [plugin, route, call] = await Promise.all(
      ['plugin', 'route', 'call'].map((path) => get(`${url}/${path}`)),
    )
    await plugin!.waitFor((text) => text.startsWith('retry: 1111\n\n'))
    await route!.waitFor((text) => text.startsWith('retry: 2222\n\n'))
    await call!.waitFor((text) => text.startsWith('retry: 3333\n\n'))
    // The plugin's heartbeat applies to every route that does not override it.
    await route!.waitFor((text) => text.includes('retry: 2222\n\n:\n\n'))
    for (const client of [plugin, route, call]) client!.close()
  })

  it('is typed through the EventMap given to reply.sse<M>()', async () => {
    const { app } = await build()
    type Events = { tick: { n: number } }
    app.get('/events', async (_request, reply) => {
      const session = await reply.sse<Events>()
      expectTypeOf(session).toEqualTypeOf<SseStream<Events>>()
      // @ts-expect-error: the data of `tick` is { n: number }
      session.send('tick', { n: 'one' })
      session.send('tick', { n: 1 })
      session.close()
    })
    const client = await get(`${await listen(app)}/events`)
    await client.waitEnd()
    expect(client.text).toContain('event: tick\ndata: {"n":1}\n\n')
  })

  it('rejects when the reply was already sent', async () => {
    const { app } = await build()
    let failure: unknown
    app.get('/events', async (_request, reply) => {
      await reply.send('done')
      failure = await reply.sse().catch((error: unknown) => error)
      return reply
    })
    const client = await get(`${await listen(app)}/events`)
    expect(client.status).toBe(200)
    expect(await client.waitEnd()).toBe('done')
    await until(() => failure !== undefined)
    expect(String(failure)).toMatch(/already sent/)
  })
})

describe('with other plugins', () => {
  it('@fastify/compress does not hold events back, nor encode the stream', async () => {
    const { app, logs } = await build({ heartbeat: false, retryJitter: 0 }, async (app) => {
      await app.register(compress, { global: true, threshold: 0 })
    })
    let session: SseStream | undefined
    app.get('/events', async (_request, reply) => {
      session = await reply.sse()
    })
    app.get('/text', async () => 'x'.repeat(2000))
    const url = await listen(app)
    // The plugin compresses ordinary routes of this app.
    const text = await get(`${url}/text`, { 'accept-encoding': 'gzip' })
    expect(text.headers['content-encoding']).toBe('gzip')
    const client = await get(`${url}/events`, { 'accept-encoding': 'gzip, br' })
    expect(client.headers['content-encoding']).toBeUndefined()
    await client.waitFor((body) => body === 'retry: 3000\n\n')
    // Nothing else is written on this stream (no heartbeat), so a compressor buffering it
    // would keep the event back until the stream ended.
    session!.send('now', 'x')
    await client.waitFor((body) => body.endsWith('event: now\ndata: x\n\n'), 2000)
    expect(client.ended).toBe(false)
    client.close()
    expect(problems(logs)).toEqual([])
  })

  it('@fastify/cors headers are on the stream response (C05)', async () => {
    const { app } = await build({}, async (app) => {
      await app.register(cors, { origin: ['https://app.example'], credentials: true })
    })
    app.get('/events', async (_request, reply) => {
      await reply.sse()
    })
    const client = await get(`${await listen(app)}/events`, { origin: 'https://app.example' })
    expect(client.status).toBe(200)
    expect(client.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(client.headers['access-control-allow-credentials']).toBe('true')
    expect(client.headers.vary).toMatch(/origin/i)
    // Closing the app while the client is still connected must end the stream.
    await app.close()
    await client.waitEnd()
  })
})

describe('before the stream opens', () => {
  it('an onRequest hook answering 401 keeps the stream closed (C06)', async () => {
    const { app } = await build()
    let opened = false
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer ok') {
        return reply.code(401).send({ error: 'unauthorized' })
      }
    })
    app.get('/events', async (_request, reply) => {
      opened = true
      await reply.sse()
    })
    const url = await listen(app)
    const refused = await get(`${url}/events`)
    expect(refused.status).toBe(401)
    expect(refused.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(await refused.waitEnd())).toEqual({ error: 'unauthorized' })
    expect(opened).toBe(false)
    const allowed = await get(`${url}/events`, { authorization: 'Bearer ok' })
    expect(allowed.status).toBe(200)
    expect(opened).toBe(true)
    allowed.close()
  })

  it('an error thrown before reply.sse() goes through the error handler', async () => {
    const { app } = await build()
    app.setErrorHandler((error, _request, reply) => {
      reply.code(418).send({ handled: (error as Error).message })
    })
    app.get('/events', async (_request, reply) => {
      throw new Error('no stream today')
      // biome-ignore lint/correctness/noUnreachable: the stream must not open
      await reply.sse()
    })
    const client = await get(`${await listen(app)}/events`)
    expect(client.status).toBe(418)
    expect(JSON.parse(await client.waitEnd())).toEqual({ handled: 'no stream today' })
  })
  it('an error while the stream opens, before its head, goes through the error handler', async () => {
    const hub = createHub()
    const { app, logs } = await build({ hub })
    app.setErrorHandler((error, _request, reply) => {
      reply.code(418).send({ handled: (error as Error).name })
    })
    app.get('/events', async (_request, reply) => {
      // Not iterable: the hub fails to add the session before anything is written.
      await reply.sse({ topics: 5 as unknown as string[] })
    })
    const client = await get(`${await listen(app)}/events`)
    expect(client.status).toBe(418)
    expect(JSON.parse(await client.waitEnd())).toEqual({ handled: 'TypeError' })
    expect(problems(logs).map((line) => line.msg)).not.toContain(
      'Promise errored, but reply.sent = true was set',
    )
    await hub.shutdown({ grace: 0 })
  })
})

describe('after the stream opened', () => {
  it('a handler that throws ends its own stream only, and is logged once', async () => {
    const { app, logs } = await build({ heartbeat: false })
    const sessions: SseStream[] = []
    app.get('/events', async (request, reply) => {
      const session = await reply.sse()
      sessions.push(session)
      if ((request.query as { fail?: string }).fail) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        throw new Error('boom after open')
      }
    })
    const url = await listen(app)
    const healthy = await get(`${url}/events`)
    const failing = await get(`${url}/events?fail=1`)
    expect(failing.status).toBe(200)
    await failing.waitEnd()
    expect(sessions[1]!.closeReason).toBe('error')
    sessions[0]!.send('still', 'here')
    await healthy.waitFor((text) => text.endsWith('event: still\ndata: here\n\n'))
    expect(healthy.ended).toBe(false)
    const errors = problems(logs)
    expect(errors).toHaveLength(1)
    expect(errors[0]!.msg).toBe('SSE handler failed after the stream opened')
    expect(errors[0]!.err?.message).toBe('boom after open')
    healthy.close()
  })

  it('logs nothing on disconnect, runs onRequestAbort when the client leaves and onResponse when the server ends the stream', async () => {
    const { app, logs } = await build({ heartbeat: 20 })
    const responses: string[] = []
    const sessions: SseStream[] = []
    const aborted: string[] = []
    app.addHook('onResponse', async (request, reply) => {
      responses.push(`${request.url} ${reply.statusCode}`)
    })
    app.addHook('onRequestAbort', async (request) => {
      aborted.push(request.url)
    })
    app.get('/events', async (_request, reply) => {
      sessions.push(await reply.sse())
    })
    const url = await listen(app)
    const leaving = await get(`${url}/events?leave`)
    await leaving.waitFor((text) => text.includes(':\n\n'))
    leaving.close()
    await until(() => sessions[0]?.closeReason === 'client')
    await until(() => aborted.length > 0)
    expect(aborted).toEqual(['/events?leave'])
    const ended = await get(`${url}/events?end`)
    await ended.waitFor((text) => text.includes(':\n\n'))
    expect(responses).toEqual([])
    sessions[1]!.close()
    await ended.waitEnd()
    await until(() => responses.length > 0)
    expect(responses).toEqual(['/events?end 200'])
    // Let the heartbeat sweep pass over the closed sessions: no write after end.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(problems(logs)).toEqual([])
    expect(logs.filter((line) => line.msg === 'request completed')).toHaveLength(1)
  })
})

describe('hub and shutdown', () => {
  let hub: Hub<{ tick: number }>
  afterEach(() => hub.shutdown({ grace: 0 }))

  it('resumes from Last-Event-ID with the plugin hub (C20)', async () => {
    hub = createHub<{ tick: number }>()
    const { app } = await build({ hub })
    app.get('/events', async (_request, reply) => {
      await reply.sse()
    })
    const url = await listen(app)
    await hub.publish('tick', 1)
    const first = await hub.cursor()
    await hub.publish('tick', 2)
    const client = await get(`${url}/events`, { 'last-event-id': first })
    expect(client.headers['sse-replay']).toBe('complete')
    await client.waitFor((text) => text.includes('data: 2\n\n'))
    expect(client.text).not.toContain('data: 1\n\n')
    await hub.publish('tick', 3)
    await client.waitFor((text) => text.includes('data: 3\n\n'))
    client.close()
  })

  it('app.close() ends streams with and without the hub, after a farewell', async () => {
    hub = createHub<{ tick: number }>()
    const { app, logs } = await build({
      hub,
      shutdown: { farewell: { event: 'bye' }, grace: 2000 },
    })
    app.get('/hub', async (_request, reply) => {
      await reply.sse()
    })
    app.get('/alone', async (_request, reply) => {
      await reply.sse({ hub: undefined })
    })
    const url = await listen(app)
    const withHub = await get(`${url}/hub`)
    const alone = await get(`${url}/alone`)
    await Promise.all([withHub, alone].map((client) => client.waitFor((text) => text !== '')))
    expect(hub.size).toBe(1)
    await app.close()
    for (const client of [withHub, alone]) {
      expect(await client.waitEnd()).toMatch(/event: bye\ndata:\n\n$/)
    }
    expect(hub.closing).toBe(true)
    expect(problems(logs)).toEqual([])
  })

  it('shutdown: false leaves open streams to the application', async () => {
    hub = createHub<{ tick: number }>()
    const { app } = await build({ hub, shutdown: false }, () => {}, {
      forceCloseConnections: true,
    })
    app.get('/events', async (_request, reply) => {
      await reply.sse()
    })
    const client = await get(`${await listen(app)}/events`)
    await client.waitFor((text) => text !== '')
    await app.close()
    expect(hub.closing).toBe(false)
  })
})

describe('HTTP/2 (h2c)', () => {
  it('app.close() drops a stream stuck past the grace period', async () => {
    // forceCloseConnections lets Fastify close HTTP/2 sessions on close before Node 24.
    const { app } = await build({ shutdown: { grace: 200 } }, () => {}, {
      http2: true,
      forceCloseConnections: true,
    } as FastifyServerOptions)
    let session: SseStream | undefined
    app.get('/events', async (_request, reply) => {
      session = await reply.sse()
    })
    const client = connect2(await listen(app))
    client.on('error', () => {})
    const stream = client.request({ ':path': '/events' })
    stream.on('error', () => {})
    // Never read: once HTTP/2 flow control's window is full, the server's bytes wait.
    stream.pause()
    await until(() => session !== undefined)
    const chunk = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 4; i++) session!.send({ data: chunk })
    await until(() => session!.bufferedBytes > 0)
    // The server drops the stuck stream (RST_STREAM), which the client sees even while paused.
    let released = false
    stream.on('close', () => {
      released = true
    })
    const closing = app.close()
    await until(() => released)
    expect(session!.closeReason).toBe('shutdown')
    // A paused client keeps its HTTP/2 connection open until it reads or leaves.
    client.destroy()
    await closing
  })

  it('app.close() ends an open h2c stream and completes', async () => {
    const { app } = await build({ shutdown: { grace: 1000 } }, () => {}, {
      http2: true,
    } as FastifyServerOptions)
    app.get('/events', async (_request, reply) => {
      await reply.sse()
    })
    const client = await get2(await listen(app), '/events')
    await client.waitFor((text) => text !== '')
    await app.close()
    await client.waitEnd()
  })

  it('opens a stream without connection-specific headers (C04)', async () => {
    const { app, logs } = await build({}, () => {}, { http2: true } as FastifyServerOptions)
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('X-Preset', 'kept').header('Connection', 'keep-alive')
    })
    app.get('/events', async (_request, reply) => {
      const session = await reply.sse()
      session.send('hello', 'h2')
    })
    const client = await get2(await listen(app), '/events')
    expect(client.status).toBe(200)
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(client.headers['x-preset']).toBe('kept')
    expect(client.headers.connection).toBeUndefined()
    await client.waitFor((text) => text.includes('event: hello\ndata: h2\n\n'))
    client.close()
    expect(problems(logs)).toEqual([])
  })
})
