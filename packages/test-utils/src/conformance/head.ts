import { expect } from 'vitest'
import { sleep, waitFor } from '../wait'
import { type ConformanceCase, header } from './harness'

const SSE_TYPE = 'text/event-stream; charset=utf-8'

function refusal(status: number, body?: string): ConformanceCase {
  return {
    name: `C06 refuses with ${status}${body ? ' and a body' : ''}: status and body reach the client, no stream`,
    async run(t) {
      let opened = 0
      const server = await t.start({
        refuse: () => ({ status, body }),
        onOpen: () => {
          opened++
        },
      })
      const client = await t.stream(server)
      expect(client.status).toBe(status)
      await client.waitForClose()
      expect(client.text()).toBe(body ?? '')
      expect(header(client, 'content-type') ?? '').not.toContain('text/event-stream')
      expect(opened).toBe(0)
    },
  }
}

/** C01-C06: the response head. */
export const headCases: ConformanceCase[] = [
  {
    name: 'C01 answers 200 with exactly text/event-stream; charset=utf-8',
    async run(t) {
      const server = await t.start({})
      const client = await t.stream(server)
      expect(client.status).toBe(200)
      expect(header(client, 'content-type')).toBe(SSE_TYPE)
    },
  },
  {
    name: 'C02 sends the head and a first retry frame before any event',
    async run(t) {
      // The handler sends nothing at all: only the connection's own first frame can arrive.
      const server = await t.start({ options: () => ({ heartbeat: false }) })
      const client = await t.stream(server)
      expect(client.status).toBe(200)
      await waitFor('the first frame', () => client.retries().length > 0, { timeout: 1000 })
      expect(client.text()).toMatch(/^retry: \d+\n\n$/)
      expect(client.events()).toEqual([])
    },
  },
  {
    name: 'C02 sends the head and a first comment frame when retry is off',
    async run(t) {
      const server = await t.start({ options: () => ({ heartbeat: false, retry: false }) })
      const client = await t.stream(server)
      expect(client.status).toBe(200)
      await waitFor('the first frame', () => client.comments().length > 0, { timeout: 1000 })
      expect(client.text()).toMatch(/^:[^\n]*\n\n$/)
      expect(client.retries()).toEqual([])
    },
  },
  {
    name: 'C03 sets Cache-Control no-cache, no-transform and X-Accel-Buffering no',
    async run(t) {
      const server = await t.start({})
      const client = await t.stream(server)
      expect(header(client, 'cache-control')).toBe('no-cache, no-transform')
      expect(header(client, 'x-accel-buffering')).toBe('no')
    },
  },
  {
    name: 'C04 sends Connection keep-alive on HTTP/1.1 and no connection-specific header on HTTP/2',
    async run(t) {
      const server = await t.start({})
      const client = await t.stream(server)
      expect(client.status).toBe(200)
      if (server.http2) {
        for (const name of [
          'connection',
          'keep-alive',
          'proxy-connection',
          'transfer-encoding',
          'upgrade',
        ]) {
          expect(client.headers, `HTTP/2 response must not carry ${name}`).not.toHaveProperty(name)
        }
      } else {
        expect(header(client, 'connection')?.toLowerCase()).toBe('keep-alive')
      }
    },
  },
  {
    name: 'C05 keeps a header set before the stream opened (X-Preset: kept)',
    async run(t) {
      const server = await t.start({})
      const client = await t.stream(server)
      expect(client.status).toBe(200)
      expect(header(client, 'x-preset')).toBe('kept')
    },
  },
  refusal(401, 'token missing'),
  refusal(404, 'no such stream'),
  refusal(429, 'slow down'),
  refusal(204),
  {
    name: 'C06 the eventsource client does not reconnect after a 204',
    async run(t) {
      // The first request streams and ends at once with `retry: 50`, so the client would come
      // back within 50 ms; the second is refused with 204, which must stop it for good.
      let requests = 0
      const server = await t.start({
        refuse: () => (++requests > 1 ? { status: 204 } : undefined),
        options: () => ({ retry: 50, heartbeat: false }),
        onOpen: (stream) => stream.close(),
      })
      const es = t.eventSource(server)
      await waitFor('the reconnect that gets the 204', () => requests >= 2)
      await waitFor('the client to give up', () => es.source.readyState === es.source.CLOSED)
      // Proving that nothing more happens takes a wait: many times the 50 ms a retry would take.
      await sleep(250)
      expect(requests).toBe(2)
      expect(es.requests).toHaveLength(2)
    },
  },
]
