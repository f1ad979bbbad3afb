import { createServer } from 'node:http'
import type { Attributes } from '@opentelemetry/api'
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen, openHttp1Stream, type StreamClient, waitFor } from '@sse/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { instrumentSse, METER_NAME } from '../src/index'

/** A reader the test collects from when it wants (the SDK's own, no exporter). */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** Every data point of the `@sse/otel` meter, as `name` to `[attributes, value]` pairs. */
async function read(reader: CollectingReader) {
  const { resourceMetrics } = await reader.collect()
  const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === METER_NAME)
  const out: Record<string, [Attributes, unknown][]> = {}
  for (const metric of scope?.metrics ?? []) {
    out[metric.descriptor.name] = (metric.dataPoints as DataPoint<unknown>[]).map((p) => [
      p.attributes,
      p.value,
    ])
  }
  return out
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('instrumentSse', () => {
  it('counts a scripted scenario exactly: opens, a resume, a refusal, publishes, deliveries, a close', async () => {
    const reader = new CollectingReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const hub = createHub({ heartbeat: false, maxStreams: 3, limitResponse: 429 })
    cleanups.push(instrumentSse({ meterProvider, hubs: { main: hub } }))
    const server = createServer((req, res) => void openNodeStream(req, res, { hub, topics: ['t'] }))
    const listening = await listen(server)
    cleanups.push(() => listening.close())
    const clients: StreamClient[] = []
    const open = async (headers: Record<string, string> = {}) => {
      const client = await openHttp1Stream(listening.url, { headers })
      cleanups.push(() => client.close())
      clients.push(client)
      return client
    }

    const a = await open()
    await waitFor('a to join', () => hub.size === 1)
    await hub.publish('n', 'e1', { topic: 't' }) // to a
    const [first] = await a.waitForEvents(1)
    await open() // b
    await open({ 'last-event-id': first!.id! }) // c resumes: nothing missed
    await waitFor('three streams', () => hub.size === 3)
    const refused = await open() // d: over maxStreams
    expect(refused.status).toBe(429)
    await hub.publish('n', 'e2', { topic: 't' }) // to a, b, c
    await hub.publish('n', 'e3', { topic: 't', history: false }) // to a, b, c, not kept
    await Promise.all(clients.slice(0, 3).map((c) => c.waitForEvents(c === a ? 3 : 2)))
    clients[1]!.close() // b leaves
    await waitFor('b to be gone', () => hub.size === 2)
    await hub.publish('n', 'e4', { topic: 't' }) // to a, c

    const main = { 'sse.hub': 'main' }
    await waitFor('c to get e4', () => clients[2]!.events().length === 3)
    const got = await read(reader)
    expect(got['sse.streams.opened']).toEqual(
      expect.arrayContaining([
        [{ ...main, 'sse.resuming': false }, 2],
        [{ ...main, 'sse.resuming': true }, 1],
      ]),
    )
    expect(got['sse.streams.opened']).toHaveLength(2)
    expect(got['sse.streams.active']).toEqual([[main, 2]])
    expect(got['sse.streams.closed']).toEqual([[{ ...main, 'sse.close_reason': 'client' }, 1]])
    expect(got['sse.events.published']).toEqual(
      expect.arrayContaining([
        [{ ...main, 'sse.history': true }, 3],
        [{ ...main, 'sse.history': false }, 1],
      ]),
    )
    // e1 to one stream, e2 and e3 to three, e4 to two.
    expect(got['sse.events.delivered']).toEqual([[main, 9]])
    expect(got['sse.replays']).toEqual([[{ ...main, 'sse.replay.outcome': 'complete' }, 1]])
    expect(got['sse.replay.duration']).toMatchObject([
      [{ ...main, 'sse.replay.outcome': 'complete' }, { count: 1 }],
    ])
    expect(got['sse.limit.refusals']).toEqual([[{ ...main, 'sse.limit': 'maxStreams' }, 1]])
    for (const none of ['sse.slow_consumers', 'sse.store.errors', 'sse.feed.gaps']) {
      expect(got[none] ?? []).toEqual([])
    }
  })

  it('records nothing after it is stopped, and stopping twice is harmless', async () => {
    const reader = new CollectingReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const hub = createHub({ heartbeat: false })
    const stop = instrumentSse({ meterProvider })
    await hub.publish('n', 'before')
    stop()
    stop()
    await hub.publish('n', 'after')
    const got = await read(reader)
    // No `sse.hub` attribute: this hub was not named.
    expect(got['sse.events.published']).toEqual([[{ 'sse.history': true }, 1]])
  })
})
