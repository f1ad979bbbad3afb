import type { Hub } from '@sse/core'
import { expect } from 'vitest'
import type { StreamClient } from '../stream-client'
import { sleep, waitFor } from '../wait'
import { type CaseContext, type ConformanceCase, header } from './harness'

/** A server whose streams follow the `topic` query parameters, on `hub`. */
async function topicServer(
  t: CaseContext,
  hub: Hub,
  options: { maxLifetime?: number; retry?: number } = {},
) {
  return t.start({
    options: (request) => ({
      hub,
      topics: new URL(request.url, 'http://x').searchParams.getAll('topic'),
      ...options,
    }),
  })
}

/** The id a stream holds now: its last event's, else its first frame's cursor. */
function lastId(client: StreamClient): string {
  return client.events().at(-1)?.id ?? client.cursors().at(-1)!
}

/** C27, C28: history per topic, and one cursor over several topics. */
export const topicCases: ConformanceCase[] = [
  {
    name: 'C27 a quiet topic is not told lost after a busy topic pushed its whole history out',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false, store: t.store({ maxEvents: 5 }) })
      const server = await topicServer(t, hub)
      const path = '/events?topic=quiet'
      const first = await t.stream(server, { path })
      await waitFor('the cursor', () => first.cursors()[0])
      await hub.publish('n', 'q1', { topic: 'quiet' })
      await first.waitForEvents(1)
      first.close()
      for (let i = 0; i < 30; i++) await hub.publish('n', `busy ${i}`, { topic: 'busy' })
      await hub.publish('n', 'q2', { topic: 'quiet' })
      const back = await t.stream(server, { path, headers: { 'last-event-id': lastId(first) } })
      await back.waitForEvents(1)
      await sleep(30)
      expect(header(back, 'sse-replay')).toBe('complete')
      expect(back.events().map((e) => e.data)).toEqual(['q2'])
    },
  },
  {
    name: 'C27 history-lost names the topics that lost history, and the others are replayed in full',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false, store: t.store({ maxEvents: 3 }) })
      const server = await topicServer(t, hub)
      const path = '/events?topic=a&topic=b'
      const first = await t.stream(server, { path })
      await waitFor('the cursor', () => first.cursors()[0])
      first.close()
      await hub.publish('n', 'a1', { topic: 'a' })
      await hub.publish('n', 'a2', { topic: 'a' })
      for (let i = 0; i < 6; i++) await hub.publish('n', `b${i}`, { topic: 'b' })
      const cursor = lastId(first)
      const back = await t.stream(server, { path, headers: { 'last-event-id': cursor } })
      const events = await back.waitForEvents(6)
      expect(header(back, 'sse-replay')).toBe('lost')
      expect(events[0]!.event).toBe('history-lost')
      expect(JSON.parse(events[0]!.data)).toEqual({ lastEventId: cursor, lost: [{ topic: 'b' }] })
      expect(events.slice(1).map((e) => e.data)).toEqual(['a1', 'a2', 'b3', 'b4', 'b5'])
    },
  },
  {
    name: 'C28 one Last-Event-ID resumes several topics: each in order, nothing lost or repeated (eventsource client, server-ended streams)',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      // A short retry: the client comes back at once after each server-ended stream.
      const server = await topicServer(t, hub, { maxLifetime: 120, retry: 20 })
      const source = t.eventSource(server, { path: '/events?topic=a&topic=b' })
      await waitFor('the client to open', () => source.opens > 0)
      const sent: string[] = []
      for (let i = 0; i < 90; i++) {
        const topic = ['a', 'b', 'c'][i % 3]!
        await hub.publish({ data: `${topic}${i}` }, { topic })
        if (topic !== 'c') sent.push(`${topic}${i}`)
        await sleep(4)
      }
      await waitFor(
        `60 events (got ${source.messages.length})`,
        () => source.messages.length >= 60,
        {
          timeout: 10_000,
        },
      )
      // One more reconnect after the last event: a duplicate from its replay would show now.
      const opens = source.opens
      await waitFor('one more reconnect', () => source.opens > opens)
      await sleep(30)
      expect(source.requests.length, 'the streams were ended and resumed').toBeGreaterThanOrEqual(3)
      // Each topic in publish order (across topics, shards of a Redis Cluster may interleave).
      const byTopic = (data: string[]) => ['a', 'b'].map((t) => data.filter((d) => d[0] === t))
      expect(byTopic(source.messages.map((m) => m.data))).toEqual(byTopic(sent))
      expect(source.messages).toHaveLength(sent.length)
    },
  },
  {
    name: 'C28 a cursor presented for other topics is lost, and never replays a topic the stream does not follow',
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false })
      const server = await topicServer(t, hub)
      const secret = await t.stream(server, { path: '/events?topic=secret' })
      await waitFor('the cursor', () => secret.cursors()[0])
      const cursor = lastId(secret)
      await hub.publish('n', 'classified', { topic: 'secret' })
      const other = await t.stream(server, {
        path: '/events?topic=public',
        headers: { 'last-event-id': cursor },
      })
      await other.waitForEvents(1)
      await sleep(30)
      expect(header(other, 'sse-replay')).toBe('lost')
      expect(other.text()).not.toContain('classified')
    },
  },
]
