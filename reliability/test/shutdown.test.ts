import { createServer, request, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { CURSOR_EVENT, createHub, type Hub, type SseStream } from '@sse/core'
// Not exported by the package (a source file, as vitest resolves it): when a connection is gone.
import { streamInternals } from '@sse/core/stream'
import { RedisStore } from '@sse/redis'
import { type ServerUnderTest, sleep, waitFor, within } from '@sse/test-utils'
import { createParser } from 'eventsource-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeRedis } from '../../packages/redis/test/describe-redis'
import { type RedisServer, startRedis } from '../../packages/redis/test/redis-server'
import { type RawResponse, rawRequest } from './support/clients'
import { figure, since, timeFile } from './support/figures'
import { adapters, nodeHandler } from './support/targets'

timeFile(import.meta.url)

const STREAMS = 1000
const STUCK = 5
const GRACE = 1000

/** Opens `count` requests, `batch` at a time (a burst of 1,000 connects overflows the backlog). */
async function openMany<T>(count: number, open: (i: number) => Promise<T>, batch = 100) {
  const out: T[] = []
  for (let i = 0; i < count; i += batch) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, (_, j) => open(i + j)),
      )),
    )
  }
  return out
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  )
}

describe.each(adapters)('graceful shutdown: $name', (target) => {
  it(`ends ${STREAMS} open streams (and ${STUCK} stuck ones) within the grace period, and the server closes`, async () => {
    const hub = createHub({ heartbeat: false, maxBufferedBytes: 64 * 1024 * 1024 })
    const released: number[] = []
    let shutdownAt = 0
    const sut: ServerUnderTest = await target.start({
      options: (info) => ({ hub, topics: info.url.includes('bulk') ? ['bulk'] : [] }),
      onOpen: (session: SseStream) => {
        void streamInternals
          .released(session)
          .then(() => released.push(performance.now() - shutdownAt))
      },
    })
    const stuck: Socket[] = []
    let clients: RawResponse[] = []
    try {
      clients = await openMany(STREAMS, () => rawRequest(`${sut.url}/events`))
      const { port } = new URL(sut.url)
      for (let i = 0; i < STUCK; i++) {
        // Clients that never read: what is sent to them cannot be flushed within any grace.
        const socket = connect(Number(port), '127.0.0.1')
        socket.pause()
        socket.on('error', () => {})
        socket.write(`GET /events?bulk HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
        stuck.push(socket)
      }
      await waitFor('every stream to open', () => hub.size === STREAMS + STUCK, { timeout: 30_000 })
      for (let i = 0; i < 40; i++) await hub.publish('bulk', 'x'.repeat(200_000), { topic: 'bulk' })

      shutdownAt = performance.now()
      await within(
        'hub.shutdown',
        GRACE + 5000,
        hub.shutdown({ grace: GRACE, farewell: { event: 'bye', data: 'see you' } }),
      )
      const shutdownMs = since(shutdownAt)
      const closed = await Promise.race([
        closeServer(sut.server as Server).then(() => since(shutdownAt)),
        sleep(5000).then(() => 'not within 5 s' as const),
      ])
      if (typeof closed === 'string') {
        figure('shutdown', target.name, {
          streams: STREAMS,
          stuck: STUCK,
          graceMs: GRACE,
          shutdownMs,
          serverClosedMs: closed,
        })
        throw new Error('server.close() did not finish within 5 s of the shutdown')
      }
      const closedMs = closed
      await waitFor(
        'every healthy client to see its stream end',
        () => clients.every((c) => c.closed),
        {
          timeout: 10_000,
        },
      )
      // A dropped connection reports its release on the socket's close, a moment later.
      await waitFor('every connection to be released', () => released.length === STREAMS + STUCK)
      const sorted = [...released].sort((a, b) => a - b)
      figure('shutdown', target.name, {
        streams: STREAMS,
        stuck: STUCK,
        graceMs: GRACE,
        shutdownMs,
        serverClosedMs: closedMs,
        healthyReleasedByMs: sorted[STREAMS - 1] ?? Number.NaN,
        stuckDroppedAtMs: sorted[STREAMS + STUCK - 1] ?? Number.NaN,
        farewells: clients.filter((c) => c.body.includes('event: bye\ndata: see you\n\n')).length,
        openAfter: hub.size,
      })
      expect(hub.size).toBe(0)
      expect(released).toHaveLength(STREAMS + STUCK)
      // Everything ended within the grace (plus scheduling slack), and the server closed by itself.
      expect(closedMs).toBeLessThan(GRACE + 2000)
      // The healthy streams were ended cleanly, farewell included, long before the grace ran out.
      for (const client of clients) expect(client.body).toContain('event: bye\ndata: see you\n\n')
      expect(sorted[STREAMS - 1]).toBeLessThan(GRACE)
      // The stuck ones waited for the grace, and not much longer.
      expect(sorted[STREAMS + STUCK - 1]).toBeGreaterThanOrEqual(GRACE - 50)
    } finally {
      for (const client of clients) client.close()
      for (const socket of stuck) socket.destroy()
      await sut.close().catch(() => {})
    }
  })
})

/**
 * A client that resumes as a browser does, over node:http: it follows `upstream()` (a load
 * balancer's choice), parses with eventsource-parser, and reconnects with `Last-Event-ID`.
 */
class ResumingClient {
  readonly data: string[] = []
  lastId: string | undefined
  connects = 0
  #closed = false
  #req: ReturnType<typeof request> | undefined

  constructor(readonly upstream: () => string) {}

  open(): Promise<void> {
    return new Promise((resolve) => {
      this.connects++
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (this.lastId) headers['last-event-id'] = this.lastId
      const parser = createParser({
        onEvent: (event) => {
          if (event.id) this.lastId = event.id
          // Only the events the app published; the cursor event (C34) only moves lastId.
          if (event.event !== CURSOR_EVENT) this.data.push(event.data)
        },
      })
      const req = request(`${this.upstream()}/events`, { agent: false, headers })
      this.#req = req
      const again = () => {
        if (this.#closed) return
        this.#closed = true
        // A short reconnect delay, as a `retry:` would set; refused connects retry too.
        setTimeout(() => {
          this.#closed = false
          void this.open()
        }, 50)
      }
      req.on('error', again)
      req.on('response', (res) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => parser.feed(chunk))
        res.on('close', again)
        res.on('error', () => {})
        resolve()
      })
      req.end()
    })
  }

  stop(): void {
    this.#closed = true
    this.#req?.destroy()
  }
}

describeRedis('graceful shutdown with the Redis store: clients resume elsewhere', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  it(`${STREAMS} streams on instance A; A shuts down; they resume on B and miss nothing`, async () => {
    const prefix = `shutdown-${Date.now()}:`
    const stores = [0, 1].map(() => new RedisStore({ redis: redis.url, prefix, onError: () => {} }))
    await Promise.all(stores.map((store) => store.ready()))
    const [hubA, hubB] = stores.map((store) =>
      createHub({ store, heartbeat: false, retry: 50 }),
    ) as [Hub, Hub]
    const [serverA, serverB] = [hubA, hubB].map((hub) =>
      createServer(nodeHandler({ options: () => ({ hub }) })),
    )
    for (const server of [serverA!, serverB!]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    }
    const url = (server: Server) =>
      `http://127.0.0.1:${(server.address() as { port: number }).port}`
    // The load balancer: A until it starts shutting down, then B.
    let upstream = url(serverA!)
    const clients = Array.from({ length: STREAMS }, () => new ResumingClient(() => upstream))
    try {
      await openMany(STREAMS, (i) => clients[i]!.open())
      await waitFor('every stream to open on A', () => hubA.size === STREAMS, { timeout: 30_000 })

      const total = 300
      const publisher = (async () => {
        for (let i = 0; i < total; i++) {
          // Published on B (a third instance would do the same): the stream is shared.
          await hubB.publish({ data: String(i) })
          await sleep(i % 10 === 0 ? 5 : 0)
        }
      })()
      await waitFor(
        "100 events to reach A's clients",
        () => clients.every((c) => c.data.length >= 100),
        {
          timeout: 30_000,
        },
      )
      upstream = url(serverB!)
      const start = performance.now()
      await within('A: hub.shutdown', GRACE + 5000, hubA.shutdown({ grace: GRACE }))
      const shutdownMs = since(start)
      await within('A: server.close()', 5000, closeServer(serverA!))
      const closedMs = since(start)
      await publisher
      await waitFor(
        'every client to have every event',
        () => clients.every((c) => c.data.length >= total),
        {
          timeout: 60_000,
          interval: 20,
        },
      )
      await sleep(100)
      const expected = Array.from({ length: total }, (_, i) => String(i))
      const exact = clients.filter((c) => c.data.join() === expected.join()).length
      figure('shutdown', 'redis failover A to B (core node:http)', {
        streams: STREAMS,
        events: total,
        graceMs: GRACE,
        shutdownMs,
        serverClosedMs: closedMs,
        resumedOnB: hubB.size,
        clientsExactlyOnceInOrder: exact,
        reconnects: clients.reduce((n, c) => n + c.connects - 1, 0),
      })
      expect(closedMs).toBeLessThan(GRACE + 2000)
      expect(hubB.size).toBe(STREAMS)
      for (const client of clients) expect(client.data).toEqual(expected)
    } finally {
      for (const client of clients) client.stop()
      await Promise.all([hubA.shutdown({ grace: 100 }), hubB.shutdown({ grace: 100 })])
      for (const server of [serverA!, serverB!]) {
        server.closeAllConnections()
        server.close()
      }
      await Promise.all(stores.map((store) => store.close()))
    }
  })
})
