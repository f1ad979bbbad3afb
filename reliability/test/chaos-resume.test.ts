import {
  type CloseReason,
  createHub,
  type EventStore,
  MemoryStore,
  type SseStream,
} from '@sse/core'
import { SlowStore, sleep, waitFor } from '@sse/test-utils'
import { describe, expect, it } from 'vitest'
import { ChaosClient } from './support/clients'
import { figure, since, timeFile } from './support/figures'
import { adapters } from './support/targets'

timeFile(import.meta.url)

const EVENTS = 10_000
const CLIENTS = 5
/** A cut (client socket destroyed, or server-side close) every this many events. */
const CUT_EVERY = 200
/** Events per second the publisher aims at; lifetimes below expire several times per run. */
const RATE = 5000

/** Where the first difference between what a client got and 0..EVENTS-1 lies, and how. */
function audit(data: readonly string[]) {
  const seen = new Set<string>()
  let duplicates = 0
  let outOfOrder = 0
  let previous = -1
  for (const value of data) {
    if (seen.has(value)) duplicates++
    seen.add(value)
    const n = Number(value)
    if (n <= previous) outOfOrder++
    previous = n
  }
  let missing = 0
  for (let i = 0; i < EVENTS; i++) if (!seen.has(String(i))) missing++
  return { duplicates, outOfOrder, missing }
}

/**
 * The stores every adapter is cut on: the embedded one, and one that answers every replay 30 ms
 * late (as a remote store does), so events are published while replays are still being read.
 */
const stores: { name: string; create: () => EventStore }[] = [
  { name: 'memory store', create: () => new MemoryStore({ maxEvents: 2 * EVENTS }) },
  { name: 'slow store', create: () => new SlowStore({ maxEvents: 2 * EVENTS, delay: 30 }) },
]

describe.each(adapters)('chaos resume: $name', (target) => {
  it.each(stores)(
    `${CLIENTS} eventsource clients cut at random get all ${EVENTS} events exactly once, in order ($name)`,
    async (store) => {
      const hub = createHub({ store: store.create(), heartbeat: false })
      const open = new Set<SseStream>()
      const reasons: Partial<Record<CloseReason, number>> = {}
      const server = await target.start({
        options: () => ({
          hub,
          retry: 10,
          // Every stream expires at some point in 50-300 ms: the third kind of cut.
          maxLifetime: 50 + Math.floor(Math.random() * 250),
        }),
        onOpen: (session) => {
          open.add(session)
          session.signal.addEventListener('abort', () => {
            open.delete(session)
            const reason = session.closeReason!
            reasons[reason] = (reasons[reason] ?? 0) + 1
          })
        },
      })
      const clients = Array.from({ length: CLIENTS }, () => new ChaosClient(`${server.url}/events`))
      try {
        await waitFor('every client to connect', () => open.size === CLIENTS, { timeout: 15_000 })
        // Start from a known cursor: a client cut before its first event would come back without
        // Last-Event-ID and rightly start from now, which is not what this test is about.
        await hub.publish({ data: 'ready' })
        await waitFor('every client to hold a cursor', () =>
          clients.every((c) => c.data.length > 0),
        )
        for (const client of clients) client.data.length = 0
        const start = performance.now()
        let clientCuts = 0
        let serverCloses = 0
        for (let i = 0; i < EVENTS; i++) {
          void hub.publish({ data: String(i) })
          if (i % CUT_EVERY === CUT_EVERY - 1) {
            if (Math.random() < 0.5) {
              const connected = clients.filter((c) => c.transport.connected)
              const victim = connected[Math.floor(Math.random() * connected.length)]
              if (victim?.transport.cut()) clientCuts++
            } else {
              const sessions = [...open]
              const victim = sessions[Math.floor(Math.random() * sessions.length)]
              if (victim) {
                victim.close()
                serverCloses++
              }
            }
          }
          if (i % 25 === 24) {
            // Hold the publisher to RATE, yielding at least once so I/O goes on meanwhile.
            const ahead = start + (i / RATE) * 1000 - performance.now()
            await (ahead > 1 ? sleep(ahead) : new Promise(setImmediate))
          }
        }
        const published = since(start)
        await waitFor(
          'every client to receive every event',
          () => clients.every((c) => c.data.length >= EVENTS),
          { timeout: 60_000, interval: 20 },
        )
        // Anything extra (a duplicate) would arrive right behind the last event.
        await sleep(100)
        const audits = clients.map((c) => audit(c.data))
        const requests = clients.reduce((n, c) => n + c.transport.requests.length, 0)
        const resumed = clients.reduce(
          (n, c) => n + c.transport.requests.filter((r) => r.lastEventId !== undefined).length,
          0,
        )
        figure('chaos-resume', `${target.name}, ${store.name}`, {
          events: EVENTS,
          clients: CLIENTS,
          clientCuts,
          serverCloses,
          lifetimeExpiries: reasons.lifetime ?? 0,
          reconnects: requests - CLIENTS,
          resumedWithLastEventId: resumed,
          duplicates: audits.reduce((n, a) => n + a.duplicates, 0),
          missing: audits.reduce((n, a) => n + a.missing, 0),
          outOfOrder: audits.reduce((n, a) => n + a.outOfOrder, 0),
          publishMs: published,
          totalMs: since(start),
        })
        const expected = Array.from({ length: EVENTS }, (_, i) => String(i))
        for (const [index, client] of clients.entries()) {
          expect(audits[index], `client ${index}`).toEqual({
            duplicates: 0,
            outOfOrder: 0,
            missing: 0,
          })
          expect(client.data).toEqual(expected)
        }
        // All three kinds of cut happened, and every reconnect after the first resumed.
        expect(clientCuts).toBeGreaterThan(0)
        expect(serverCloses).toBeGreaterThan(0)
        expect(reasons.lifetime ?? 0).toBeGreaterThan(0)
        expect(resumed).toBe(requests - CLIENTS)
      } finally {
        for (const client of clients) client.close()
        await hub.shutdown({ grace: 500 })
        await server.close()
      }
    },
  )
})
