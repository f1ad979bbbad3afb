import type { Hub } from '@sse/core'
import { expect } from 'vitest'
import type { StreamClient } from '../stream-client'
import { sleep, waitFor } from '../wait'
import { type CaseContext, type ConformanceCase, header, publishAt } from './harness'

async function published(hub: Hub, count: number, event = 'n', from = 0): Promise<string[]> {
  const ids: string[] = []
  for (let i = from; i < from + count; i++) ids.push(await publishAt(hub, event, String(i)))
  return ids
}

/** Starts a server whose streams join `hub` (heartbeats off), with `ids` already published. */
async function withHistory(t: CaseContext, count: number, store = t.store()) {
  const hub = t.hub({ store, heartbeat: false })
  const ids = await published(hub, count)
  const server = await t.start({ options: () => ({ hub }) })
  return { hub, ids, server }
}

function expectLost(client: StreamClient, lastEventId: string | null): void {
  expect(client.status).toBe(200)
  expect(header(client, 'sse-replay')).toBe('lost')
  const first = client.events()[0]!
  expect(first.event).toBe('history-lost')
  // Streams of the suite's servers follow only the hub-wide log: that is what was lost.
  expect(JSON.parse(first.data)).toEqual({ lastEventId, lost: [{}] })
}

/** C19-C22: resume from a cursor, replay, lost history, ids. */
export const resumeCases: ConformanceCase[] = [
  {
    name: 'C19 reads the Last-Event-ID header and resumes after it',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 5)
      const client = await t.stream(server, { headers: { 'last-event-id': ids[1]! } })
      const events = await client.waitForEvents(3)
      expect(header(client, 'sse-replay')).toBe('complete')
      expect(events.map((e) => e.id)).toEqual(ids.slice(2))
    },
  },
  {
    name: 'C19 accepts the lastEventId query parameter',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 5)
      const path = `/events?lastEventId=${encodeURIComponent(ids[2]!)}`
      const client = await t.stream(server, { path })
      const events = await client.waitForEvents(2)
      expect(header(client, 'sse-replay')).toBe('complete')
      expect(events.map((e) => e.id)).toEqual(ids.slice(3))
    },
  },
  {
    name: 'C19 the header wins over the query parameter',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 5)
      const path = `/events?lastEventId=${encodeURIComponent(ids[0]!)}`
      const client = await t.stream(server, { path, headers: { 'last-event-id': ids[3]! } })
      const events = await client.waitForEvents(1)
      await sleep(50)
      expect(events.map((e) => e.id)).toEqual(ids.slice(4))
    },
  },
  {
    name: 'C19 treats an over-long Last-Event-ID (5000 chars) as unknown, never an error status',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 3)
      const client = await t.stream(server, {
        headers: { 'last-event-id': `${ids[0]}${'9'.repeat(5000)}` },
      })
      await client.waitForEvents(4)
      expectLost(client, null)
      expect(
        client
          .events()
          .slice(1)
          .map((e) => e.id),
      ).toEqual(ids)
    },
  },
  {
    name: 'C19 treats a non-ASCII Last-Event-ID (header or query) as unknown, never an error status',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 3)
      // 'é' as a Latin-1 header byte, the most a client can put in a header value.
      const fromHeader = await t.stream(server, { headers: { 'last-event-id': `${ids[0]}\u00e9` } })
      const fromQuery = await t.stream(server, {
        path: `/events?lastEventId=${encodeURIComponent(`${ids[0]}é`)}`,
      })
      for (const client of [fromHeader, fromQuery]) {
        await client.waitForEvents(4)
        expectLost(client, null)
        expect(
          client
            .events()
            .slice(1)
            .map((e) => e.id),
        ).toEqual(ids)
      }
    },
  },
  {
    name: 'C20 replays exactly the events after the cursor, in order with their ids, then live, while publishing goes on',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      const server = await t.start({ options: () => ({ hub }) })
      const first = await t.stream(server)
      // Connected throughout: the ids it gets are the ones a resume must reproduce.
      const watcher = await t.stream(server)
      await waitFor('two members', () => hub.size === 2)
      for (let i = 0; i < 20; i++) await hub.publish('n', String(i))
      const seen = await first.waitForEvents(8)
      first.close()
      const cursor = seen[7]!.id!
      // A replay long enough to be interleaved with live publishing (1 KiB per event).
      const pad = 'p'.repeat(1024)
      for (let i = 20; i < 320; i++) await hub.publish('n', `${i} ${pad}`)
      const publisher = (async () => {
        for (let i = 320; i < 420; i++) {
          await hub.publish('n', `${i} ${pad}`)
          if (i % 4 === 0) await new Promise((resolve) => setImmediate(resolve))
        }
      })()
      const resumed = await t.stream(server, { headers: { 'last-event-id': cursor } })
      await publisher
      const events = await resumed.waitForEvents(420 - 8, { timeout: 10_000 })
      const all = await watcher.waitForEvents(420, { timeout: 10_000 })
      await sleep(50)
      expect(header(resumed, 'sse-replay')).toBe('complete')
      expect(resumed.events()).toHaveLength(412)
      expect(all[7]!.id).toBe(cursor)
      expect(events.map((e) => e.id)).toEqual(all.slice(8).map((e) => e.id))
      expect(events.map((e) => Number.parseInt(e.data, 10))).toEqual(
        all.slice(8).map((_, i) => i + 8),
      )
    },
  },
  {
    name: 'C20 the eventsource client gets every event exactly once across server-ended streams (maxLifetime)',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      const server = await t.start({
        options: () => ({ hub, maxLifetime: 100, retry: 20 }),
      })
      // Start from a known cursor: a first stream could otherwise end before the first event,
      // and a client with no id yet resumes from nothing (events published then are not its).
      const origin = await publishAt(hub, 'message', 'origin')
      const es = t.eventSource(server, { path: `/events?lastEventId=${origin}` })
      await waitFor('the client to open', () => es.opens > 0)
      // A publish on the slow store waits on its round trips (about 70 ms while streams
      // reconnect): fewer events there keep the case near a second with as many reconnects.
      const count = t.variant?.store ? 25 : 80
      const ids: string[] = []
      for (let i = 0; i < count; i++) {
        ids.push(await publishAt(hub, 'message', String(i)))
        await sleep(5)
      }
      await waitFor(
        `${count} events (got ${es.messages.length})`,
        () => es.messages.length >= count,
        { timeout: 10_000 },
      )
      // One more reconnect after the last event: a duplicate from its replay would show now.
      const opens = es.opens
      await waitFor('one more reconnect', () => es.opens > opens)
      await sleep(30)
      expect(
        es.requests.length,
        'the streams were ended and resumed several times',
      ).toBeGreaterThanOrEqual(3)
      expect(es.messages.map((m) => m.data)).toEqual(ids.map((_, i) => String(i)))
      expect(es.messages.map((m) => m.lastEventId)).toEqual(ids)
    },
  },
  {
    name: 'C21 reports an unknown cursor with a history-lost event and SSE-Replay: lost',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 3)
      const client = await t.stream(server, { headers: { 'last-event-id': 'nope' } })
      await client.waitForEvents(4)
      expectLost(client, 'nope')
      expect(
        client
          .events()
          .slice(1)
          .map((e) => e.id),
      ).toEqual(ids)
    },
  },
  {
    name: 'C21 reports a cursor older than the retained history as lost and replays what is retained',
    tags: ['store'],
    async run(t) {
      const { ids, server } = await withHistory(t, 10, t.store({ maxEvents: 5 }))
      const trimmed = await t.stream(server, { headers: { 'last-event-id': ids[1]! } })
      await trimmed.waitForEvents(6)
      expectLost(trimmed, ids[1]!)
      expect(
        trimmed
          .events()
          .slice(1)
          .map((e) => e.id),
      ).toEqual(ids.slice(5))
      // The newest event that was dropped is still a complete resume point: nothing after it is gone.
      const edge = await t.stream(server, { headers: { 'last-event-id': ids[4]! } })
      await edge.waitForEvents(5)
      expect(header(edge, 'sse-replay')).toBe('complete')
      expect(edge.events().map((e) => e.id)).toEqual(ids.slice(5))
    },
  },
  {
    name: 'C21 reports a known cursor with SSE-Replay: complete and no history-lost event',
    tags: ['store'],
    async run(t) {
      const { hub, ids, server } = await withHistory(t, 3)
      const client = await t.stream(server, { headers: { 'last-event-id': ids[2]! } })
      expect(header(client, 'sse-replay')).toBe('complete')
      const live = await publishAt(hub, 'n', 'live')
      const [event] = await client.waitForEvents(1)
      expect(event).toMatchObject({ id: live, event: 'n', data: 'live' })
      const fresh = await t.stream(server)
      expect(fresh.headers).not.toHaveProperty('sse-replay')
    },
  },
  {
    name: 'C22 hub ids are printable ASCII, never repeat on a stream, and each resumes right after its event, per topic',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      const server = await t.start({
        options: (request) => {
          const topics = new URL(request.url, 'http://x').searchParams.getAll('topic')
          return { hub, topics }
        },
      })
      const paths = ['/events?topic=a', '/events?topic=b', '/events', '/events?topic=a&topic=b']
      const clients = await Promise.all(paths.map((path) => t.stream(server, { path })))
      await waitFor('four members', () => hub.size === 4)
      const targets = ['a', 'b', undefined] as const
      for (let i = 0; i < 30; i++) {
        await hub.publish({ data: String(i) }, { topic: targets[i % 3] })
      }
      const counts = [20, 20, 10, 30]
      for (const [c, client] of clients.entries()) {
        const events = await client.waitForEvents(counts[c]!)
        const ids = events.map((e) => e.id!)
        for (const id of ids) expect(id).toMatch(/^[\x20-\x7e]+$/)
        expect(new Set(ids).size).toBe(ids.length)
        // Each id is a complete resume point on its own stream's topics.
        const k = 4 + c
        const resumed = await t.stream(server, {
          path: paths[c]!,
          headers: { 'last-event-id': ids[k]! },
        })
        const rest = await resumed.waitForEvents(ids.length - k - 1)
        await sleep(20)
        expect(header(resumed, 'sse-replay')).toBe('complete')
        // Each topic in publish order; the order across topics is the store's (shards differ).
        const byTarget = (data: string[]) => [0, 1, 2].map((r) => data.filter((d) => +d % 3 === r))
        expect(byTarget(resumed.events().map((e) => e.data))).toEqual(
          byTarget(events.slice(k + 1).map((e) => e.data)),
        )
        expect(rest.at(-1)!.id).toBe(ids.at(-1))
      }
    },
  },
  {
    name: 'C22 a new store (a restart) never reuses an old id and reports an old cursor as lost',
    tags: ['store'],
    async run(t) {
      let hub = t.hub({ heartbeat: false })
      const server = await t.start({ options: () => ({ hub }) })
      const before = await published(hub, 5)
      hub = t.hub({ store: t.store(), heartbeat: false })
      const after = await published(hub, 5)
      for (const id of after) expect(before).not.toContain(id)
      const client = await t.stream(server, { headers: { 'last-event-id': before[4]! } })
      await client.waitForEvents(6)
      expectLost(client, before[4]!)
      expect(
        client
          .events()
          .slice(1)
          .map((e) => e.id),
      ).toEqual(after)
    },
  },
]
