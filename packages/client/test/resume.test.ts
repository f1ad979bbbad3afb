import { createServer } from 'node:http'
import { createHub, MemoryStore } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen } from '@sse/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { connect } from '../src/index'
import { scriptedServer, stop, streamHead } from './servers'

type Events = { tick: { n: number } }

describe('resume (C32)', () => {
  it('C32 a POST stream resumes with GET and Last-Event-ID at the SSE-Resume location, never re-POSTs', async () => {
    const server = await scriptedServer((res, req) => {
      if (req.method === 'POST') {
        streamHead(res, { 'SSE-Resume': 'streams/abc?x=1' }) // relative to /api/start
        return void res.end(
          'event: tick\nid: 1\ndata: {"n":1}\n\nevent: tick\nid: 2\ndata: {"n":2}\n\n',
        )
      }
      if (req.lastEventId === '2') {
        streamHead(res)
        return void res.end('event: tick\nid: 3\ndata: {"n":3}\n\n')
      }
      stop(res)
    })
    let token = 0
    const stream = connect<Events>(`${server.url}/api/start`, {
      method: 'POST',
      body: '{"prompt":"hi"}',
      headers: async () => ({ authorization: `Bearer ${++token}` }),
      minDelay: 20,
      maxDelay: 20,
    })
    const seen: number[] = []
    for await (const event of stream) if (event.event === 'tick') seen.push(event.data.n)
    expect(seen).toEqual([1, 2, 3])
    expect(await stream.closed).toEqual({ type: 'no-content' })
    expect(server.requests.map((r) => [r.method, r.path, r.lastEventId, r.body])).toEqual([
      ['POST', '/api/start', undefined, '{"prompt":"hi"}'],
      ['GET', '/api/streams/abc?x=1', '2', ''],
      ['GET', '/api/streams/abc?x=1', '3', ''],
    ])
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer 1',
      'Bearer 2',
      'Bearer 3',
    ])
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream')
    await server.close()
  })

  it('C32 a POST stream without SSE-Resume is not sent again: it ends with no-resume-location', async () => {
    const server = await scriptedServer((res) => {
      streamHead(res)
      res.end('id: 1\ndata: {"n":1}\n\n')
    })
    const stream = connect<Events>(server.url, { method: 'POST', body: 'x', minDelay: 20 })
    expect(await stream.closed).toEqual({ type: 'no-resume-location' })
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(server.requests).toHaveLength(1)
    await server.close()
  })

  it('C32 a POST refused with 503 is not sent again either', async () => {
    const server = await scriptedServer((res) => void res.writeHead(503).end())
    const stream = connect(server.url, { method: 'POST', body: 'x', minDelay: 20 })
    expect(await stream.closed).toEqual({ type: 'no-resume-location', status: 503 })
    expect(server.requests).toHaveLength(1)
    await server.close()
  })
})

describe('resume against a @sse/core hub', () => {
  async function hubServer(store = new MemoryStore()) {
    const hub = createHub<Events>({ store, retry: 20, heartbeat: false })
    const server = createServer((req, res) => {
      void openNodeStream(req, res, { hub, topics: ['clock'] })
    })
    return { hub, server, listening: await listen(server) }
  }

  it('C32 loses and repeats nothing across forced disconnects (Last-Event-ID, topics)', async () => {
    const { hub, server, listening } = await hubServer()
    let attempts = 0
    const stream = connect<Events>(`${listening.url}/clock`, {
      minDelay: 20,
      maxDelay: 40,
      fetch: (url, init) => {
        attempts++
        return fetch(url, init)
      },
    })
    const seen: number[] = []
    const names = new Set<string>()
    stream.on('tick', (data) => seen.push(data.n))
    const loop = (async () => {
      for await (const event of stream) names.add(event.event)
    })()
    await vi.waitFor(() => expect(hub.size).toBe(1))
    for (let n = 1; n <= 60; n++) {
      await hub.publish('tick', { n }, { topic: 'clock' })
      if (n % 20 === 0) server.closeAllConnections() // cut the client mid-stream
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(60))
    stream.close()
    await loop
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
    expect(attempts).toBeGreaterThanOrEqual(3)
    expect([...names]).toEqual(['tick']) // the hub's sse-cursor event is the client's own
    expect(stream.lastEventId).toBe(await hub.cursor({ topics: ['clock'] }))
    await listening.close()
  })

  it('surfaces history-lost as a typed event, then the events still kept', async () => {
    const { hub, listening } = await hubServer(new MemoryStore({ maxEvents: 5 }))
    await hub.publish('tick', { n: 1 }, { topic: 'clock' })
    const old = await hub.cursor({ topics: ['clock'] })
    for (let n = 2; n <= 10; n++) await hub.publish('tick', { n }, { topic: 'clock' })
    const stream = connect<Events>(listening.url, { lastEventId: old, minDelay: 20 })
    const lost = new Promise((resolve) => stream.on('history-lost', (data) => resolve(data)))
    const seen: number[] = []
    stream.on('tick', (data, meta) => {
      seen.push(data.n)
      expect(meta.event).toBe('tick')
    })
    expect(await lost).toMatchObject({ lastEventId: old, lost: expect.any(Array) })
    await vi.waitFor(() => expect(seen.at(-1)).toBe(10))
    expect(seen.length).toBeLessThan(10)
    stream.close()
    await listening.close()
  })
})
