import type { Server } from 'node:http'
import { expect, vi } from 'vitest'
import { sleep, waitFor, within } from '../wait'
import { type ConformanceCase, header, nodeServerOf, streamLog } from './harness'

function lastEventIdOf(headers: Record<string, string>): string | undefined {
  for (const name in headers) if (name.toLowerCase() === 'last-event-id') return headers[name]
  return undefined
}

/** C15-C18: heartbeats, disconnects, ending streams, server timeouts and shutdown. */
export const livenessCases: ConformanceCase[] = [
  {
    name: 'C15 sends a heartbeat comment after 100 ms idle, and regularly after',
    async run(t) {
      let requestedAt = 0
      const server = await t.start({
        options: () => {
          requestedAt = Date.now()
          return { heartbeat: 100 }
        },
      })
      const client = await t.stream(server)
      const comments = await client.waitForComments(3)
      // The stream was opened after `requestedAt`, so no heartbeat may arrive before this.
      expect(comments[0]!.at).toBeGreaterThanOrEqual(requestedAt + 100)
      expect(comments.map((c) => c.text)).toEqual(['', '', ''])
      expect(client.events()).toEqual([])
    },
  },
  {
    name: 'C15 postpones the heartbeat while events are written',
    async run(t) {
      const server = await t.start({
        options: () => ({ heartbeat: 100 }),
        async onOpen(stream) {
          // An event every 30 ms, stamped with the time it was written.
          for (let i = 0; i < 10; i++) {
            stream.send({ data: String(Date.now()) })
            await sleep(30)
          }
        },
      })
      const client = await t.stream(server)
      const events = await client.waitForEvents(10)
      const last = events[9]!
      const after = await waitFor('a heartbeat after the last event', () =>
        client.comments().find((c) => c.seq > last.seq),
      )
      // The idle clock restarts with each write: the heartbeat after the last event waited the
      // interval from that write (less 20 ms: a stream may stamp writes with a clock that is
      // one timer tick old)...
      expect(after.at).toBeGreaterThanOrEqual(Number(last.data) + 80)
      // ...and any heartbeat among the events came well after the write before it. One on a
      // fixed clock would land within 30 ms of an event; 50 ms leaves room for a loaded machine.
      for (const comment of client.comments()) {
        const previous = events.filter((e) => e.seq < comment.seq).at(-1)
        if (previous) expect(comment.at - Number(previous.data)).toBeGreaterThanOrEqual(50)
      }
    },
  },
  {
    name: 'C15 sends no heartbeat when heartbeat is false',
    async run(t) {
      const server = await t.start({ options: () => ({ heartbeat: false }) })
      const client = await t.stream(server)
      await waitFor('the first frame', () => client.retries().length > 0)
      await sleep(400)
      expect(client.comments()).toEqual([])
      expect(client.text()).toMatch(/^retry: \d+\n\n$/)
    },
  },
  {
    name: 'C16 notices a client that leaves: signal aborts once with "client", the hub forgets it, later sends return false, nothing logged',
    tags: ['store'],
    async run(t) {
      const hub = t.hub()
      const log = streamLog()
      const aborts: unknown[] = []
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      const error = vi.spyOn(console, 'error')
      const warn = vi.spyOn(console, 'warn')
      t.defer(() => {
        process.off('unhandledRejection', onUnhandled)
        error.mockRestore()
        warn.mockRestore()
      })
      const server = await t.start({
        options: () => ({ hub, heartbeat: 50 }),
        onOpen(stream) {
          log.onOpen(stream)
          stream.signal.addEventListener('abort', () => aborts.push(stream.signal.reason))
        },
      })
      const client = await t.stream(server)
      const stream = await log.nth(0)
      await hub.publish('hello', 'world')
      await client.waitForEvents(1)
      expect(hub.size).toBe(1)
      client.close()
      await waitFor('the stream to notice', () => aborts.length > 0)
      expect(aborts).toEqual(['client'])
      expect(stream.closeReason).toBe('client')
      expect(stream.closed).toBe(true)
      await waitFor('the hub to forget the stream', () => hub.size === 0)
      expect(() => stream.send({ data: 'late' })).not.toThrow()
      expect(stream.send({ data: 'late' })).toBe(false)
      expect(stream.comment('late')).toBe(false)
      await hub.publish('after', 'leaving')
      // Past a few heartbeat intervals, nothing else may happen.
      await sleep(200)
      expect(aborts).toHaveLength(1)
      expect(unhandled).toEqual([])
      expect(error).not.toHaveBeenCalled()
      expect(warn).not.toHaveBeenCalled()
    },
  },
  {
    name: 'C17 close() ends the response; a raw client sees its clean end',
    async run(t) {
      const server = await t.start({
        onOpen(stream) {
          stream.send({ data: 'bye' })
          stream.close()
        },
      })
      const client = await t.stream(server)
      await client.waitForClose()
      expect(client.ended).toBe(true)
      expect(client.events().map((e) => e.data)).toEqual(['bye'])
    },
  },
  {
    name: 'C17 the eventsource client reconnects after retry with Last-Event-ID, and a 204 stops it',
    async run(t) {
      let requests = 0
      let closedAt = 0
      const lastEventIds: (string | undefined)[] = []
      const server = await t.start({
        refuse(request) {
          requests++
          const id = request.headers['last-event-id']
          lastEventIds.push(Array.isArray(id) ? id[0] : id)
          return requests > 1 ? { status: 204 } : undefined
        },
        options: () => ({ retry: 100, retryJitter: 0, heartbeat: false }),
        onOpen(stream) {
          stream.send({ data: 'one', id: 'e1' })
          stream.send({ data: 'two', id: 'e2' })
          closedAt = Date.now()
          stream.close()
        },
      })
      const es = t.eventSource(server)
      await waitFor('the reconnect', () => requests >= 2)
      await waitFor('the client to stop', () => es.source.readyState === es.source.CLOSED)
      expect(es.messages.map((m) => [m.data, m.lastEventId])).toEqual([
        ['one', 'e1'],
        ['two', 'e2'],
      ])
      expect(lastEventIds).toEqual([undefined, 'e2'])
      expect(lastEventIdOf(es.requests[1]!.headers)).toBe('e2')
      // The client waited the `retry: 100` it was given (timers never fire early).
      expect(es.requests[1]!.at - closedAt).toBeGreaterThanOrEqual(95)
      await sleep(300)
      expect(requests).toBe(2)
    },
  },
  {
    name: 'C17 a handler that fails after the stream opened ends that stream only',
    async run(t) {
      const log = streamLog()
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      t.defer(() => {
        process.off('unhandledRejection', onUnhandled)
      })
      const server = await t.start({
        options: () => ({ heartbeat: false }),
        onOpen(stream, request) {
          const fail = request.headers['x-fail']
          stream.send({ data: 'opened' })
          if (fail === 'sync') throw new Error('handler failed (sync)')
          if (fail === 'async') return Promise.reject(new Error('handler failed (async)'))
          log.onOpen(stream)
        },
      })
      const healthy = await t.stream(server)
      const stream = await log.nth(0)
      const sync = await t.stream(server, { headers: { 'x-fail': 'sync' } })
      const rejected = await t.stream(server, { headers: { 'x-fail': 'async' } })
      await sync.waitForClose()
      await rejected.waitForClose()
      expect(sync.events().map((e) => e.data)).toEqual(['opened'])
      expect(rejected.events().map((e) => e.data)).toEqual(['opened'])
      stream.send({ data: 'still open' })
      await healthy.waitForEvents(2)
      expect(healthy.closed).toBe(false)
      expect(unhandled).toEqual([])
    },
  },
  {
    name: "C18 a stream with no heartbeat outlives the server's socket timeout (200 ms)",
    tags: ['store'],
    async run(t) {
      const log = streamLog()
      const server = await t.start({ options: () => ({ heartbeat: false }), onOpen: log.onOpen })
      const node = nodeServerOf(server, 'C18')
      node.setTimeout(200)
      const client = await t.stream(server)
      const stream = await log.nth(0)
      await client.waitForText('\n\n')
      await sleep(650)
      expect(client.closed).toBe(false)
      expect(stream.closed).toBe(false)
      stream.send({ data: 'alive' })
      const [event] = await client.waitForEvents(1)
      expect(event!.data).toBe('alive')
    },
  },
  {
    name: 'C18 hub.shutdown({ grace }) ends open streams, also a stuck one, and server.close() completes',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      const log = streamLog()
      const server = await t.start({ options: () => ({ hub }), onOpen: log.onOpen })
      const node = nodeServerOf(server, 'C18')
      const clients = [await t.stream(server), await t.stream(server), await t.stream(server)]
      await log.nth(2)
      await waitFor('three members', () => hub.size === 3)
      // The third client stops reading and has bytes stuck: only the grace can end it.
      const stuck = clients[2]!
      stuck.pause()
      const stuckSession = log.streams[2]!
      const chunk = 'x'.repeat(64 * 1024)
      for (let i = 0; i < 400 && stuckSession.bufferedBytes < 128 * 1024; i++) {
        stuckSession.send({ data: chunk })
        if (i % 8 === 7) await sleep(1)
      }
      expect(stuckSession.bufferedBytes).toBeGreaterThan(0)
      const grace = 300
      const shutdown = hub.shutdown({ grace, farewell: { event: 'bye' } })
      await within('hub.shutdown()', grace + 4000, shutdown)
      const closed = new Promise<void>((resolve, reject) =>
        (node as Server).close((error) => (error ? reject(error) : resolve())),
      )
      stuck.resume()
      for (const client of clients.slice(0, 2)) {
        await client.waitForClose()
        expect(client.ended).toBe(true)
        expect(client.events().at(-1)?.event).toBe('bye')
      }
      await stuck.waitForClose()
      await within('server.close()', 4000, closed)
      expect(hub.size).toBe(0)
      expect(log.streams.map((s) => s.closeReason)).toEqual(['shutdown', 'shutdown', 'shutdown'])
    },
  },
  {
    name: 'C18 a stream opened during shutdown gets 200 with retry and Retry-After, and ends',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false, retry: 2000 })
      const log = streamLog()
      const server = await t.start({ options: () => ({ hub }), onOpen: log.onOpen })
      const open = await t.stream(server)
      await log.nth(0)
      open.pause()
      // A stuck client keeps the shutdown in its grace period while the new request comes in.
      const stream = log.streams[0]!
      for (let i = 0; i < 400 && stream.bufferedBytes < 128 * 1024; i++) {
        stream.send({ data: 'x'.repeat(64 * 1024) })
        if (i % 8 === 7) await sleep(1)
      }
      const shutdown = hub.shutdown({ grace: 1000 })
      const late = await t.stream(server)
      expect(late.status).toBe(200)
      expect(header(late, 'content-type')).toBe('text/event-stream; charset=utf-8')
      await late.waitForClose()
      expect(late.ended).toBe(true)
      // retry 2000 with the default jitter (± 50%); Retry-After says the same.
      const [retry] = late.retries()
      expect(retry).toBeGreaterThanOrEqual(1000)
      expect(retry).toBeLessThan(3000)
      expect(header(late, 'retry-after')).toBe(String(Math.ceil(retry! / 1000)))
      expect(late.events()).toEqual([])
      open.resume()
      await within('hub.shutdown()', 5000, shutdown)
    },
  },
]
