import { createServer } from 'node:http'
import { context, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createHub, type Hub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { RedisStore } from '@sse/redis'
import { listen, openHttp1Stream, waitFor } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { describeRedis } from '../../redis/test/describe-redis'
import { type RedisServer, startRedis } from '../../redis/test/redis-server'
import { TRACER_NAME, traceSse } from '../src/index'

// What an SDK registers: without a context manager, `context.with` does not carry the span.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
})
afterAll(() => {
  context.disable()
})

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A tracer provider that keeps every ended span in memory. */
function recording() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  return { tracerProvider, spans: () => exporter.getFinishedSpans() }
}

/** Opens a stream of `topic` on `hub` through node:http; returns its client. */
async function follow(hub: Hub, topic: string) {
  const server = createServer((req, res) => void openNodeStream(req, res, { hub, topics: [topic] }))
  const listening = await listen(server)
  cleanups.push(() => listening.close())
  const client = await openHttp1Stream(listening.url)
  cleanups.push(() => client.close())
  return client
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name)

describe('traceSse', () => {
  it('a publish span, a child of the active context, and a delivery span that is its child and links to it', async () => {
    const { tracerProvider, spans } = recording()
    const hub = createHub({ heartbeat: false })
    cleanups.push(traceSse({ tracerProvider, hubs: { main: hub } }))
    const client = await follow(hub, 'scores')
    await waitFor('the stream to join', () => hub.size === 1)

    const request = tracerProvider.getTracer('test').startSpan('POST /goal')
    await context.with(trace.setSpan(context.active(), request), () =>
      hub.publish('goal', { team: 'a' }, { topic: 'scores' }),
    )
    request.end()
    await client.waitForEvents(1)
    await waitFor('the delivery span', () => byName(spans(), 'deliver goal').length === 1)

    const [publish] = byName(spans(), 'publish goal')
    const [deliver] = byName(spans(), 'deliver goal')
    expect(publish!.instrumentationScope.name).toBe(TRACER_NAME)
    expect(publish!.kind).toBe(SpanKind.PRODUCER)
    expect(publish!.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(publish!.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(publish!.attributes).toMatchObject({ 'sse.hub': 'main', 'sse.event': 'goal' })
    expect(deliver!.kind).toBe(SpanKind.CONSUMER)
    expect(deliver!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId)
    expect(deliver!.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(deliver!.links.map((l) => l.context.spanId)).toEqual([publish!.spanContext().spanId])
    expect(deliver!.attributes).toMatchObject({
      'sse.hub': 'main',
      'sse.streams': 1,
      'sse.topic': 'scores',
      'messaging.message.id': expect.any(String),
    })
    // The trace context is the store's, not the client's: the event on the wire has none.
    expect(client.text()).not.toContain(publish!.spanContext().traceId)
  })

  it('events published while nobody traced get no delivery span; after stop, nothing is recorded', async () => {
    const { tracerProvider, spans } = recording()
    const hub = createHub({ heartbeat: false })
    const client = await follow(hub, 't')
    await waitFor('the stream to join', () => hub.size === 1)
    await hub.publish('before', 1, { topic: 't' })
    await client.waitForEvents(1)
    const stop = traceSse({ tracerProvider })
    await hub.publish('during', 2, { topic: 't' })
    await client.waitForEvents(2)
    stop()
    await hub.publish('after', 3, { topic: 't' })
    await client.waitForEvents(3)
    expect(spans().map((s) => s.name)).toEqual(['publish during', 'deliver during'])
  })
})

describeRedis('traceSse through Redis', () => {
  let redis: RedisServer | undefined
  afterEach(async () => {
    await redis?.stop()
    redis = undefined
  })

  it("a delivery on another instance is a child of the publish span and links to it (the context travels in the event's stream entry)", async () => {
    redis = await startRedis()
    const { tracerProvider, spans } = recording()
    const stores = [0, 1].map(() => new RedisStore({ redis: redis!.url, prefix: 'trace:' }))
    cleanups.push(() => Promise.all(stores.map((store) => store.close())))
    const [a, b] = stores.map((store) => createHub({ store, heartbeat: false }))
    cleanups.push(traceSse({ tracerProvider, hubs: { a: a!, b: b! } }))
    const client = await follow(b!, 'scores')
    await waitFor('the stream to join on B', () => b!.size === 1)

    const request = tracerProvider.getTracer('test').startSpan('POST /goal')
    await context.with(trace.setSpan(context.active(), request), () =>
      a!.publish('goal', { team: 'b' }, { topic: 'scores' }),
    )
    request.end()
    await client.waitForEvents(1)
    await waitFor('the delivery on B', () =>
      byName(spans(), 'deliver goal').some((s) => s.attributes['sse.hub'] === 'b'),
    )
    const [publish] = byName(spans(), 'publish goal')
    const delivered = byName(spans(), 'deliver goal')
    // A has no stream of the topic: only B delivered it (to its one stream).
    expect(delivered.map((s) => [s.attributes['sse.hub'], s.attributes['sse.streams']])).toEqual([
      ['b', 1],
    ])
    expect(publish!.attributes['sse.hub']).toBe('a')
    expect(delivered[0]!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId)
    expect(delivered[0]!.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(delivered[0]!.links[0]!.context.spanId).toBe(publish!.spanContext().spanId)
    // The stored entry carries it too: a replay on any instance reads the same context.
    const [entry] = await stores[0]!.client.xrange(stores[0]!.streamKey('tscores'), '-', '+')
    expect(entry![1]).toContain(
      `00-${publish!.spanContext().traceId}-${publish!.spanContext().spanId}-01`,
    )
  })
})
