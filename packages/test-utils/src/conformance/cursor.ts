import { CURSOR_EVENT, type SseStream } from '@sse/core'
import { expect } from 'vitest'
import { waitFor } from '../wait'
import { type ConformanceCase, header, publishAt } from './harness'

/** C34: a new stream's first frame carries the current cursor. */
export const cursorCases: ConformanceCase[] = [
  {
    name: "C34 a new stream's first frame carries the store's current cursor, then the events after it",
    tags: ['store'],
    async run(t) {
      const hub = t.hub({ heartbeat: false, retry: 1000, retryJitter: 0 })
      const before = [await publishAt(hub, 'n', '0'), await publishAt(hub, 'n', '1')]
      const server = await t.start({ options: () => ({ hub }) })
      const client = await t.stream(server)
      await waitFor('the cursor', () => client.cursors()[0])
      // One first frame: the retry, then the cursor as a named event with empty data, which
      // browsers take the id from without dispatching anything.
      expect(client.text()).toBe(
        `retry: 1000\n\nevent: ${CURSOR_EVENT}\nid: ${before[1]}\ndata:\n\n`,
      )
      expect(header(client, 'sse-replay')).toBeUndefined()
      const live = await publishAt(hub, 'n', '2')
      const [event] = await client.waitForEvents(1)
      expect(event).toMatchObject({ id: live, data: '2' })
    },
  },
  {
    name: 'C34 a client cut before its first event resumes from the cursor and loses nothing (eventsource client)',
    tags: ['store'],
    async run(t) {
      // An empty store too: its cursor stands before the first event ever published.
      const hub = t.hub({ heartbeat: false, retry: 300, retryJitter: 0 })
      const opened: SseStream[] = []
      const server = await t.start({
        options: () => ({ hub }),
        onOpen: async (stream) => {
          opened.push(stream)
          if (opened.length > 1) return
          // The first stream drops before any event (a proxy's idle timeout would do the same),
          // and events are published while the client is away.
          stream.close()
          for (let i = 0; i < 3; i++) await hub.publish('n', String(i))
        },
      })
      const source = t.eventSource(server, { events: ['n'] })
      await waitFor('the three events', () => source.messages.length >= 3, { timeout: 10_000 })
      expect(source.messages.map((m) => m.data)).toEqual(['0', '1', '2'])
      // The reconnect carried the cursor of the first stream.
      expect(source.requests[0]!.headers['Last-Event-ID']).toBeUndefined()
      expect(source.requests[1]!.headers['Last-Event-ID']).toBeDefined()
    },
  },
  {
    name: 'C34 a client with an unknown cursor and no history to replay gets a cursor with its history-lost event',
    tags: ['store'],
    async run(t) {
      // Nothing replayed carries an id, so without one on history-lost the client would keep
      // its dead cursor and be told "lost" on every reconnect.
      const hub = t.hub({ heartbeat: false })
      const server = await t.start({ options: () => ({ hub }) })
      const lost = await t.stream(server, { headers: { 'last-event-id': 'not-a-cursor' } })
      const [event] = await lost.waitForEvents(1)
      expect(header(lost, 'sse-replay')).toBe('lost')
      expect(event!.event).toBe('history-lost')
      expect(event!.id).toBeTruthy()
      const again = await t.stream(server, { headers: { 'last-event-id': event!.id! } })
      await again.waitForText('\n\n')
      expect(header(again, 'sse-replay')).toBe('complete')
      const live = await publishAt(hub, 'n', 'after')
      const [next] = await again.waitForEvents(1)
      expect(next).toMatchObject({ id: live, data: 'after' })
    },
  },
]
