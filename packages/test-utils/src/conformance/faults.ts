import { createHub, type Hub } from '@sse/core'
import { expect } from 'vitest'
import { SlowStore } from '../slow-store'
import { openStream, type StreamClient } from '../stream-client'
import type { ServerUnderTest } from '../target'
import { sleep, waitFor, within } from '../wait'
import { type CaseContext, type ConformanceCase, header, publishAt } from './harness'

const RETRY = 1000

/** A hub on a store whose replays wait until released, with `count` events already published. */
async function heldReplay(t: CaseContext, count = 3) {
  const store = new SlowStore({ delay: 0 })
  const errors: unknown[] = []
  const hub = createHub({ store, heartbeat: false, retry: RETRY, onError: (e) => errors.push(e) })
  const ids: string[] = []
  for (let i = 0; i < count; i++) ids.push(await publishAt(hub, 'n', String(i)))
  const release = store.hold()
  t.defer(release)
  const server = await t.start({ options: () => ({ hub }) })
  return { store, hub, ids, server, errors, release }
}

/**
 * Starts a resuming request whose replay is held, and waits until it joined the hub; its
 * response comes once something ends or releases the replay.
 */
async function resumeHeld(t: CaseContext, server: ServerUnderTest, hub: Hub, cursor: string) {
  const response = t.stream(server, { headers: { 'last-event-id': cursor } })
  response.catch(() => {})
  await waitFor('the resuming stream to join the hub', () => hub.size === 1)
  return { response }
}

/**
 * What every early end must look like (C25): the head a browser's EventSource retries, a
 * jittered `retry:` with the same `Retry-After`, and the end of the response.
 */
async function expectSentAway(client: StreamClient): Promise<void> {
  expect(client.status).toBe(200)
  expect(header(client, 'content-type')).toBe('text/event-stream; charset=utf-8')
  await client.waitForClose()
  const [retry] = client.retries()
  expect(retry).toBeGreaterThanOrEqual(RETRY * 0.5)
  expect(retry).toBeLessThan(RETRY * 1.5)
  expect(header(client, 'retry-after')).toBe(String(Math.ceil(retry! / 1000)))
}

/** C25, C26: faults while a stream opens, and clients sent away together. */
export const faultCases: ConformanceCase[] = [
  {
    name: 'C25 a shutdown while the replay is still being read answers 200 text/event-stream, retry and the farewell',
    async run(t) {
      const { hub, ids, server } = await heldReplay(t)
      const { response } = await resumeHeld(t, server, hub, ids[0]!)
      const shutdown = hub.shutdown({ grace: 1000, farewell: { event: 'bye', data: 'later' } })
      const client = await response
      await expectSentAway(client)
      expect(client.events().map((e) => [e.event, e.data])).toEqual([['bye', 'later']])
      await within('hub.shutdown()', 3000, shutdown)
    },
  },
  {
    name: 'C25 a feed gap while the replay is still being read sends the client away to resume, not for good',
    async run(t) {
      const { store, hub, ids, server, release } = await heldReplay(t)
      const { response } = await resumeHeld(t, server, hub, ids[0]!)
      store.gap()
      await expectSentAway(await response)
      release()
      // Back after its retry, the client gets what it missed.
      const again = await t.stream(server, { headers: { 'last-event-id': ids[0]! } })
      const events = await again.waitForEvents(2)
      expect(events.map((e) => e.id)).toEqual(ids.slice(1))
    },
  },
  {
    name: 'C25 a store failure while the replay is read answers 200 with retry and Retry-After, and is reported',
    async run(t) {
      const { store, hub, ids, server, errors, release } = await heldReplay(t)
      const { response } = await resumeHeld(t, server, hub, ids[0]!)
      store.failing = true
      release()
      await expectSentAway(await response)
      expect(errors).toHaveLength(1)
      expect(hub.size).toBe(0)
    },
  },
  {
    name: 'C25 a stream over the hub limit answers 200 text/event-stream with retry; the eventsource client keeps trying',
    async run(t) {
      const hub = createHub({ heartbeat: false, retry: RETRY, maxStreams: 1 })
      const server = await t.start({ options: () => ({ hub }) })
      const first = await t.stream(server)
      await waitFor('the first stream to join', () => hub.size === 1)
      await expectSentAway(await t.stream(server))
      const source = t.eventSource(server)
      await waitFor('a second attempt of the eventsource client', () =>
        source.requests.length >= 2 ? true : undefined,
      )
      expect(source.source.readyState).not.toBe(source.source.CLOSED)
      first.close()
      await waitFor('the eventsource client to get in', () => source.opens >= 1, {
        timeout: 10_000,
      })
    },
  },
  {
    name: 'C25 a client that leaves while its replay is read is forgotten, with no head and no error',
    async run(t) {
      const { hub, ids, server, errors, release } = await heldReplay(t)
      // The head never comes while the replay is held: the client gives up and leaves.
      const client = openStream(server, { headers: { 'last-event-id': ids[0]! }, timeout: 300 })
      await expect(client).rejects.toThrow()
      await waitFor('the hub to forget the client that left', () => hub.size === 0)
      release()
      await sleep(100)
      expect(hub.size).toBe(0)
      expect(errors).toEqual([])
    },
  },
  {
    name: 'C26 clients get different retry delays, spread over retry ± 50% by default',
    async run(t) {
      const server = await t.start({ options: () => ({ heartbeat: false, retry: RETRY }) })
      const retries: number[] = []
      for (let i = 0; i < 20; i++) {
        const client = await t.stream(server)
        await client.waitForText('\n\n')
        retries.push(client.retries()[0]!)
        client.close()
      }
      for (const retry of retries) {
        expect(retry).toBeGreaterThanOrEqual(RETRY * 0.5)
        expect(retry).toBeLessThan(RETRY * 1.5)
      }
      expect(new Set(retries).size).toBeGreaterThanOrEqual(10)
    },
  },
  {
    name: 'C26 streams sent away during a shutdown get jittered retry and Retry-After',
    async run(t) {
      const hub = createHub({ heartbeat: false, retry: RETRY })
      const server = await t.start({ options: () => ({ hub }) })
      await hub.shutdown({ grace: 100 })
      const retries: number[] = []
      for (let i = 0; i < 20; i++) {
        const client = await t.stream(server)
        await expectSentAway(client)
        retries.push(client.retries()[0]!)
      }
      expect(new Set(retries).size).toBeGreaterThanOrEqual(10)
    },
  },
]
