import { connect, type Socket } from 'node:net'
import { createHub, type Hub, MemoryStore } from '@sse/core'
import { RedisStore } from '@sse/redis'
import type { ConformanceTarget, ServerUnderTest } from '@sse/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeRedis } from '../../packages/redis/test/describe-redis'
import { type RedisServer, startRedis } from '../../packages/redis/test/redis-server'
import { figure, timeFile } from './support/figures'
import { exchange, getRequest, type RawExchange } from './support/raw'
import { adapters, coreNode, coreWeb } from './support/targets'

timeFile(import.meta.url)

/** A hostile `Last-Event-ID` and the answer it must get. */
interface Hostile {
  name: string
  /** The raw header line (or lines), sent as is. */
  lines: (string | Buffer)[]
  /** 200: the stream opens, treating the value as an unknown cursor (`SSE-Replay: lost`). */
  expect: 200 | 400 | 431
}

const header = (value: string | Buffer) =>
  Buffer.concat([Buffer.from('Last-Event-ID: '), Buffer.from(value)])

const HOSTILE: Hostile[] = [
  { name: '1 MB', lines: [header('7'.repeat(1024 * 1024))], expect: 431 },
  {
    name: '16,000 characters (under the 16 KB header limit)',
    lines: [header('7'.repeat(16_000))],
    expect: 200,
  },
  {
    name: '4,097 characters (over the cursor limit)',
    lines: [header('a'.repeat(4097))],
    expect: 200,
  },
  {
    name: 'binary bytes 0x80-0xff',
    lines: [header(Buffer.from([0x80, 0xc3, 0x28, 0xfe, 0xff]))],
    expect: 200,
  },
  { name: 'UTF-8 text (non-ASCII)', lines: [header('événement-✓-😀')], expect: 200 },
  { name: 'a NUL byte', lines: [header(Buffer.from([0x31, 0x00, 0x32]))], expect: 400 },
  { name: 'a bare CR', lines: [header('1\rFLUSHALL')], expect: 400 },
  {
    name: 'a CRLF and a Redis command (smuggled lines)',
    lines: [header('0'), '*1', '$8', 'FLUSHALL'],
    expect: 400,
  },
  { name: 'a tab', lines: [header('1\tFLUSHALL')], expect: 200 },
  {
    name: 'SQL injection shape',
    lines: [header("1' OR '1'='1'; DROP TABLE events; --")],
    expect: 200,
  },
  { name: 'Redis command shape', lines: [header('FLUSHALL')], expect: 200 },
  { name: 'Redis inline command with args', lines: [header('0-0 DEL sse:events')], expect: 200 },
  { name: 'Redis special id $', lines: [header('$')], expect: 200 },
  { name: 'Redis special id -', lines: [header('-')], expect: 200 },
  { name: 'Redis special id +', lines: [header('+')], expect: 200 },
  { name: 'Redis special id >', lines: [header('>')], expect: 200 },
  {
    name: 'Redis id overflow',
    lines: [header('18446744073709551616-18446744073709551616')],
    expect: 200,
  },
  {
    name: 'template / path shapes',
    // A log4shell-style lookup and a path traversal, as literal text.
    lines: [header(['$', '{jndi:ldap://x}/../../etc/passwd'].join(''))],
    expect: 200,
  },
  { name: 'two Last-Event-ID headers', lines: [header('1'), header('2')], expect: 200 },
]

/** The `retry:`-only, history-lost answer to a cursor the store cannot use (C21). */
function expectUnknownCursor(answer: RawExchange, what: string): void {
  expect(answer.status, what).toBe(200)
  expect(answer.headers['content-type'], what).toMatch(/^text\/event-stream/)
  expect(answer.headers['sse-replay'], what).toBe('lost')
  expect(answer.body, what).toContain('event: history-lost')
}

/**
 * Cursors shaped like the hub's own (`<layout>.<epoch>.<position>`, one position for a stream of
 * no topic) but forged: positions that are commands, special ids or huge numbers, another
 * epoch, more or fewer positions than the stream follows. Each must be an unknown cursor.
 */
function forged(real: string): Hostile[] {
  const [layout, epoch] = real.split('.')
  const prefix = `${layout}.${epoch}`
  const cursors = {
    'a forged position shaped like a command': `${prefix}.FLUSHALL`,
    'a forged position $': `${prefix}.$`,
    'a forged position -': `${prefix}.-`,
    'a forged position over 2^64': `${prefix}.18446744073709551616-18446744073709551616`,
    'a forged position of 4,000 digits': `${prefix}.${'9'.repeat(4000)}`,
    'a forged cursor with 1,000 positions': `${prefix}${'.1'.repeat(1000)}`,
    'a forged cursor without positions': prefix,
    'a forged epoch': `${layout}.x${epoch}.1`,
  }
  return Object.entries(cursors).map(([name, value]) => ({
    name,
    lines: [header(value)],
    expect: 200,
  }))
}

/** Sends every hostile cursor; returns the statuses and checks each against its expectation. */
async function sendHostile(port: number, hub: Hub): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {}
  for (const hostile of [...HOSTILE, ...forged(await hub.cursor())]) {
    const answer = await exchange(port, getRequest('/events', ...hostile.lines), {
      until: 'history-lost',
    })
    statuses[hostile.name] = answer.status
    if (hostile.expect === 200) expectUnknownCursor(answer, hostile.name)
    else expect(answer.status, hostile.name).toBe(hostile.expect)
  }
  // The same shapes through the query parameter (for clients that cannot set headers).
  for (const value of ['FLUSHALL\r\n', "'; DROP TABLE events; --", '\u0000', 'x'.repeat(5000)]) {
    const answer = await exchange(
      port,
      getRequest(`/events?lastEventId=${encodeURIComponent(value)}`),
      { until: 'history-lost' },
    )
    expectUnknownCursor(answer, `query ${JSON.stringify(value.slice(0, 20))}`)
  }
  return statuses
}

/** A resume with a real id still works after all that: the server is unharmed. */
async function expectHealthyResume(port: number, hub: Hub): Promise<void> {
  await hub.publish({ data: 'before' })
  const cursor = await hub.cursor()
  await hub.publish({ data: 'after' })
  const answer = await exchange(port, getRequest('/events', header(cursor)), { until: 'after' })
  expect(answer.status).toBe(200)
  expect(answer.headers['sse-replay']).toBe('complete')
  expect(answer.body).toContain('data: after\n\n')
  expect(answer.body).not.toContain('data: before')
}

const portOf = (sut: ServerUnderTest) => Number(new URL(sut.url).port)

describe.each(adapters)('hostile input: $name', (target) => {
  let sut: ServerUnderTest
  const hub = createHub({
    store: new MemoryStore({ maxEvents: 100 }),
    heartbeat: false,
    maxStreamsPerClient: 50,
    limitResponse: 429,
    retry: 2000,
  })

  beforeAll(async () => {
    sut = await target.start({
      options: (info) => ({
        hub,
        // Per client: the socket's address where the target gives it, else what a proxy says.
        clientId: String(info.headers['x-remote-address'] ?? info.headers['x-client-id'] ?? ''),
      }),
    })
    await hub.publish({ data: 'retained' })
  })
  afterAll(async () => {
    await hub.shutdown({ grace: 100 })
    await sut.close()
  })

  it('answers every hostile Last-Event-ID with a defined response, and stays healthy', async () => {
    const statuses = await sendHostile(portOf(sut), hub)
    await expectHealthyResume(portOf(sut), hub)
    const count = (status: number) => Object.values(statuses).filter((s) => s === status).length
    figure('hostile-cursor', target.name, {
      cases: Object.keys(statuses).length + 4,
      'lost (200)': count(200) + 4,
      'bad request (400)': count(400),
      'headers too large (431)': count(431),
      healthyAfter: true,
    })
  })

  it('holds 2,000 simultaneous connections from one client to its per-client limit', async () => {
    const port = portOf(sut)
    const sockets: Socket[] = []
    const statuses: number[] = []
    const retryAfter = new Set<string>()
    const open = (): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1')
        sockets.push(socket)
        let text = ''
        socket.on('error', () => resolve())
        socket.on('close', () => resolve())
        socket.on('data', (chunk: Buffer) => {
          if (text.includes('\r\n\r\n')) return
          text += chunk.toString('latin1')
          if (!text.includes('\r\n\r\n')) return
          statuses.push(Number(text.slice(9, 12)))
          const after = /\r\nretry-after: *(\S+)/i.exec(text)?.[1]
          if (after) retryAfter.add(after)
          resolve()
        })
        socket.write(
          'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nX-Client-Id: one-client\r\n\r\n',
        )
      })
    try {
      // All of them stay connected until the last one is answered.
      for (let i = 0; i < 2000; i += 200) await Promise.all(Array.from({ length: 200 }, open))
      const open200 = statuses.filter((s) => s === 200).length
      const refused = statuses.filter((s) => s === 429).length
      figure('hostile-flood', target.name, {
        connections: sockets.length,
        streams: open200,
        'refused (429)': refused,
        other: statuses.length - open200 - refused,
        retryAfter: [...retryAfter].join(','),
        hubSize: hub.size,
      })
      expect(statuses).toHaveLength(2000)
      expect(open200).toBe(50)
      expect(refused).toBe(1950)
      // retry 2000 ± 50% (C26): 1 to 3 seconds.
      for (const after of retryAfter) expect(['1', '2', '3']).toContain(after)
      expect(hub.size).toBe(50)
    } finally {
      for (const socket of sockets) socket.destroy()
    }
    await expect.poll(() => hub.size, { timeout: 10_000 }).toBe(0)
    // The client's slots are free again.
    const again = await exchange(port, getRequest('/events', 'X-Client-Id: one-client'))
    expect(again.status).toBe(200)
  })

  // A framework's router answers other methods itself. Core has no router: it serves whatever
  // request the application hands it (a fetch-based client may well POST for a stream), so on
  // the core targets, whose request listener routes by path only, every method gets the stream.
  const routed = target !== coreNode && target !== coreWeb

  it(`answers wrong methods ${routed ? 'without opening a stream' : 'as the application routes them'}, and serves any Accept`, async () => {
    const port = portOf(sut)
    const methods: Record<string, string> = {}
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'BREW']) {
      const answer = await exchange(
        port,
        `${method} /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nContent-Length: 0\r\n\r\n`,
        { timeout: 5000, headOnly: method === 'HEAD' },
      )
      const stream = answer.headers['content-type']?.startsWith('text/event-stream')
      methods[method] = `${answer.status}${stream ? ' stream' : ''}`
      if (method === 'HEAD') {
        // HEAD is GET without a body: the stream's head, and the response ends.
        expect(answer.status).toBe(200)
        expect(stream).toBe(true)
        expect(answer.body).toBe('')
      } else if (method === 'BREW') {
        // Not an HTTP method at all: Node's parser answers before any application code.
        expect(answer.status).toBe(400)
      } else if (!routed) {
        expect(answer.status, method).toBe(200)
        expect(stream, method).toBe(true)
      } else {
        expect(answer.status, method).toBeGreaterThanOrEqual(200)
        expect(answer.status, method).toBeLessThan(500)
        expect(answer.headers['content-type'] ?? '', method).not.toMatch(/event-stream/)
      }
    }
    const accepts: Record<string, string> = {}
    for (const accept of ['application/json', 'text/html', '*/*', 'text/event-stream;q=0', null]) {
      const lines = [
        `GET /events HTTP/1.1`,
        'Host: 127.0.0.1',
        ...(accept === null ? [] : [`Accept: ${accept}`]),
      ]
      const answer = await exchange(port, `${lines.join('\r\n')}\r\n\r\n`)
      accepts[accept ?? '(none)'] = `${answer.status} ${answer.headers['content-type'] ?? ''}`
      // Documented behaviour: the route serves the stream whatever the Accept header says.
      expect(answer.status).toBe(200)
      expect(answer.headers['content-type']).toMatch(/^text\/event-stream/)
    }
    figure('hostile-methods', target.name, { ...methods })
    figure('hostile-accept', target.name, { ...accepts })
    await expect.poll(() => hub.size, { timeout: 10_000 }).toBe(0)
  })
})

describeRedis('hostile input with the Redis store', () => {
  let redis: RedisServer
  let store: RedisStore
  let hub: Hub
  let sut: ServerUnderTest

  beforeAll(async () => {
    redis = await startRedis()
    store = new RedisStore({ redis: redis.url, prefix: 'sse:', onError: () => {} })
    await store.ready()
    hub = createHub({ store, heartbeat: false })
    sut = await (coreNode as ConformanceTarget).start({ options: () => ({ hub }) })
  })
  afterAll(async () => {
    await hub?.shutdown({ grace: 100 })
    await sut?.close()
    await store?.close()
    await redis?.stop()
  })

  it('keeps Redis unharmed by cursors shaped like commands, ids and injections', async () => {
    for (let i = 0; i < 10; i++) await hub.publish({ data: `event ${i}` })
    const keysBefore = await store.client.dbsize()
    const statuses = await sendHostile(portOf(sut), hub)
    await expectHealthyResume(portOf(sut), hub)
    // The stream of the hub-wide log, the one events without a topic or key are kept in.
    const length = await store.client.xlen(store.streamKey('*'))
    const keysAfter = await store.client.dbsize()
    figure('hostile-cursor', 'core node:http + Redis store', {
      cases: Object.keys(statuses).length + 4,
      'lost (200)': Object.values(statuses).filter((s) => s === 200).length + 4,
      'bad request (400)': Object.values(statuses).filter((s) => s === 400).length,
      'headers too large (431)': Object.values(statuses).filter((s) => s === 431).length,
      streamLength: length,
      keysBefore,
      keysAfter,
      ping: await store.client.ping(),
    })
    // Nothing deleted, flushed or added: the stream holds exactly what was published.
    expect(length).toBe(12)
    expect(keysAfter).toBe(keysBefore)
    expect(await store.client.ping()).toBe('PONG')
  })
})
