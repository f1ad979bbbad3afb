import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import { listen, openStream, type StreamClient, waitFor } from '@sse/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { channels } from '../src/diagnostics-channels'
import { createHub, type Hub } from '../src/hub'
import {
  MemoryStore,
  type PublishMessage,
  SSE_CHANNELS,
  type SseChannelMessages,
  type StoredEvent,
} from '../src/index'
import { openNodeStream } from '../src/node'

type Name = keyof SseChannelMessages
type Heard = { [K in Name]: [K, SseChannelMessages[K]] }[Name]

/** Subscribes to every channel; `heard` keeps each message with its channel, in order. */
function listenAll() {
  const heard: Heard[] = []
  const subscribers = Object.values(SSE_CHANNELS).map((name) => {
    const onMessage = (message: unknown) => heard.push([name, message] as Heard)
    subscribe(name, onMessage)
    return () => unsubscribe(name, onMessage)
  })
  const of = <K extends Name>(name: K) =>
    heard.filter((entry) => entry[0] === name).map((entry) => entry[1] as SseChannelMessages[K])
  return {
    heard,
    of,
    stop: () => {
      for (const off of subscribers) off()
    },
  }
}

/** A MemoryStore whose live-feed gap callback a test can call, as a Redis store would. */
class GapStore extends MemoryStore {
  gap: ((log: string) => void) | undefined
  override subscribe(listener: (event: StoredEvent) => void, onGap?: (log: string) => void) {
    this.gap = onGap
    return super.subscribe(listener)
  }
}

async function serve(hub: Hub) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const slow = url.searchParams.has('slow')
    void openNodeStream(req, res, {
      hub,
      topics: url.searchParams.getAll('topic'),
      ...(slow ? { maxBufferedBytes: 1024 } : {}),
    })
  })
  return listen(server)
}

let stop: (() => void) | undefined
afterEach(() => {
  stop?.()
  stop = undefined
})

describe('diagnostics channels', () => {
  it('report a scripted scenario exactly: opens, publishes, deliveries, closes, replays, limits, drops, store errors, gaps', async () => {
    const listening = listenAll()
    stop = listening.stop
    const { of, heard } = listening
    const errors: unknown[] = []
    const store = new GapStore()
    const hub = createHub({
      store,
      maxStreams: 5,
      heartbeat: false,
      retryJitter: 0,
      onError: (error) => errors.push(error),
    })
    const server = await serve(hub)
    const open = async (path: string, headers?: Record<string, string>) => {
      const client = await openStream(server, { path, headers })
      await client.waitForText(/\n\n/)
      return client
    }
    const clients: StreamClient[] = []
    try {
      // Three streams: two on `news`, one on nothing but the hub-wide log.
      const a = await open('/events?topic=news')
      const b = await open('/events?topic=news')
      const c = await open('/events')
      clients.push(a, b, c)
      expect(
        of('sse:stream:open').map(({ hub: h, topics, key, resuming }) => [
          h,
          topics,
          key,
          resuming,
        ]),
      ).toEqual([
        [hub, ['news'], undefined, false],
        [hub, ['news'], undefined, false],
        [hub, [], undefined, false],
      ])

      // Four events: three to `news`, one to everyone.
      await hub.publish('note', 'n1', { topic: 'news' })
      await a.waitForEvents(1)
      const good = a.events()[0]!.id!
      await hub.publish('note', 'n2', { topic: 'news' })
      await hub.publish('note', 'n3', { topic: 'news' })
      await hub.publish('note', 'all')
      await c.waitForEvents(1)
      await b.waitForEvents(4)
      expect(of('sse:hub:publish')).toEqual([
        { hub, event: 'note', targets: [{ topic: 'news' }], history: true },
        { hub, event: 'note', targets: [{ topic: 'news' }], history: true },
        { hub, event: 'note', targets: [{ topic: 'news' }], history: true },
        { hub, event: 'note', targets: [{}], history: true },
      ])
      expect(
        of('sse:hub:deliver').map(({ hub: h, event, streams }) => [h, event.data, streams]),
      ).toEqual([
        [hub, 'n1', 2],
        [hub, 'n2', 2],
        [hub, 'n3', 2],
        [hub, 'all', 3],
      ])

      // One client goes away.
      a.close()
      await waitFor('the close', () => of('sse:stream:close').length === 1)
      expect(of('sse:stream:close')[0]).toMatchObject({ hub, reason: 'client' })
      expect(of('sse:stream:close')[0]!.stream).toBe(of('sse:stream:open')[0]!.stream)

      // One resumes with a good cursor, one with a lost one.
      const d = await open('/events?topic=news', { 'last-event-id': good })
      await d.waitForEvents(3)
      const e = await open('/events?topic=news', { 'last-event-id': 'gone-1' })
      await e.waitForEvents(4)
      clients.push(d, e)
      await waitFor('two replays', () => of('sse:stream:replay').length === 2)
      const [complete, lost] = of('sse:stream:replay')
      expect(complete).toMatchObject({ hub, outcome: 'complete', lost: [], replayed: 3 })
      expect(lost).toMatchObject({
        hub,
        outcome: 'lost',
        lost: [{}, { topic: 'news' }],
        replayed: 4,
      })
      expect(complete!.durationMs).toBeGreaterThanOrEqual(0)
      expect(complete!.durationMs).toBeLessThan(5000)
      expect(
        of('sse:stream:open')
          .slice(3)
          .map((m) => m.resuming),
      ).toEqual([true, true])

      // A slow consumer: its socket stops reading while a firehose of 64 KiB events comes.
      const slow = await open('/events?topic=firehose&slow')
      clients.push(slow)
      slow.pause()
      const before = heard.length
      for (let i = 0; i < 200 && !slow.closed; i++) {
        await hub.publish('note', 'x'.repeat(64 * 1024), { topic: 'firehose' })
        await new Promise((resolve) => setImmediate(resolve))
        if (of('sse:stream:slow-consumer').length > 0) break
      }
      expect(of('sse:stream:slow-consumer')).toHaveLength(1)
      const drop = of('sse:stream:slow-consumer')[0]!
      expect(drop.bufferedBytes).toBeGreaterThan(1024)
      expect(drop.heldEvents).toBe(0)
      const tail = heard.slice(before).map(([name]) => name)
      // Each firehose event: publish, then delivery to the one stream; the drop, its close, and
      // the delivery that overflowed come last, in that order.
      expect(tail.slice(-4)).toEqual([
        'sse:hub:publish',
        'sse:stream:slow-consumer',
        'sse:stream:close',
        'sse:hub:deliver',
      ])
      expect(heard.at(-2)![1]).toMatchObject({ stream: drop.stream, reason: 'slow-consumer', hub })
      const firehose = of('sse:hub:deliver').filter((m) => m.event.topic === 'firehose')
      expect(firehose.every((m) => m.streams === 1)).toBe(true)
      expect(firehose).toHaveLength(of('sse:hub:publish').length - 4)

      // The limit: b, c, d, e are open; f fits, g does not.
      const f = await open('/events')
      const g = await open('/events')
      clients.push(f, g)
      expect(of('sse:hub:limit')).toEqual([
        { hub, limit: 'maxStreams', clientId: undefined, response: 'retry' },
      ])
      expect(hub.size).toBe(5)

      // A store that fails a publish, then a stream's replay read.
      const { append, read } = store
      store.append = () => {
        throw new Error('append down')
      }
      await expect(hub.publish('note', 'lost', { topic: 'news' })).rejects.toThrow('append down')
      store.append = append
      f.close()
      await waitFor('f gone', () => hub.size === 4)
      store.read = () => {
        throw new Error('read down')
      }
      const h = await open('/events', { 'last-event-id': good })
      clients.push(h)
      store.read = read
      expect(
        of('sse:store:error').map(({ hub: h2, operation, error }) => [
          h2,
          operation,
          (error as Error).message,
        ]),
      ).toEqual([
        [hub, 'publish', 'append down'],
        [hub, 'open', 'read down'],
      ])
      expect(errors).toHaveLength(2)

      // A gap in the live feed of `news`: b, d and e end and resume.
      store.gap?.('tnews')
      expect(of('sse:store:gap')).toEqual([{ hub, target: { topic: 'news' }, streams: 3 }])

      await hub.shutdown({ grace: 500 })
      // Every open has its one close; the refused stream g has neither.
      const opened = of('sse:stream:open').map((m) => m.stream)
      const closed = of('sse:stream:close').map((m) => m.stream)
      expect(opened).toHaveLength(8)
      expect(new Set(closed)).toEqual(new Set(opened))
      expect(closed).toHaveLength(8)
      const reasons: Record<string, number> = {}
      for (const { reason } of of('sse:stream:close')) reasons[reason] = (reasons[reason] ?? 0) + 1
      expect(reasons).toEqual({ client: 2, 'slow-consumer': 1, error: 1, resync: 3, shutdown: 1 })
    } finally {
      for (const client of clients) client.close()
      await server.close()
    }
  })

  it('report streams opened without a hub, and the store failing a watch', async () => {
    const { of, stop: off } = listenAll()
    stop = off
    const server = await listen(createServer((req, res) => void openNodeStream(req, res)))
    const client = await openStream(server)
    await client.waitForText(/retry/)
    client.close()
    await waitFor('the close', () => of('sse:stream:close').length === 1)
    expect(of('sse:stream:open')).toEqual([
      { stream: expect.anything(), hub: undefined, topics: [], key: undefined, resuming: false },
    ])
    expect(of('sse:stream:close')[0]).toMatchObject({ hub: undefined, reason: 'client' })
    await server.close()

    const failing = new MemoryStore()
    failing.follow = () => {
      throw new Error('follow down')
    }
    const errors: unknown[] = []
    const hub = createHub({ store: failing, onError: (error) => errors.push(error) })
    const unwatch = hub.watch({ topics: ['x'] }, () => {})
    await waitFor('the error', () => errors.length === 1)
    unwatch()
    expect(of('sse:store:error')).toEqual([
      { hub, operation: 'watch', error: new Error('follow down') },
    ])
  })

  it('keep the trace context a publish subscriber sets with the event (store, deliver, replay); ignore one that is not printable ASCII', async () => {
    const traces = ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'bad\nline']
    const setTrace = (message: unknown) => {
      ;(message as PublishMessage).trace = traces.shift()
    }
    subscribe(SSE_CHANNELS.publish, setTrace)
    const { of, stop: off } = listenAll()
    stop = () => {
      off()
      unsubscribe(SSE_CHANNELS.publish, setTrace)
    }
    const store = new MemoryStore()
    const hub = createHub({ store, heartbeat: false })
    const server = await serve(hub)
    const client = await openStream(server, { path: '/events?topic=t' })
    await waitFor('the stream', () => hub.size === 1)
    await hub.publish('a', 1, { topic: 't' })
    await hub.publish('b', 2, { topic: 't' })
    await client.waitForEvents(2)
    expect(of('sse:hub:deliver').map((m) => m.event.trace)).toEqual([
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      undefined,
    ])
    const replay = store.read('tt', undefined)
    expect(replay.events.map((e) => e.trace)).toEqual([
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      undefined,
    ])
    // Never sent to the client.
    expect(client.text()).not.toContain('0af7651916cd43dd')
    client.close()
    await server.close()
  })

  it('build no message while nobody listens', async () => {
    const spies = Object.values(channels).map((channel) => vi.spyOn(channel, 'publish'))
    try {
      for (const channel of Object.values(channels)) expect(channel.hasSubscribers).toBe(false)
      const hub = createHub({ maxStreams: 1, heartbeat: false })
      const server = await serve(hub)
      const a = await openStream(server, { path: '/events?topic=t' })
      await a.waitForText(/\n\n/)
      const b = await openStream(server)
      await b.waitForClose()
      await hub.publish('note', 'x', { topic: 't' })
      await a.waitForEvents(1)
      a.close()
      await waitFor('a gone', () => hub.size === 0)
      await server.close()
      for (const spy of spies) expect(spy).not.toHaveBeenCalled()
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})

describe('diagnostics channels on runtimes without process.getBuiltinModule', () => {
  it('are silent no-ops (browsers, workers, Node.js before 20.16)', async () => {
    const runtime = process as { getBuiltinModule?: unknown }
    const original = runtime.getBuiltinModule
    runtime.getBuiltinModule = undefined
    vi.resetModules()
    try {
      const { channels: silent } = await import('../src/diagnostics-channels')
      const heard: unknown[] = []
      const onMessage = (message: unknown) => heard.push(message)
      subscribe(SSE_CHANNELS.limit, onMessage)
      try {
        expect(silent.limit.hasSubscribers).toBe(false)
        expect(channels.limit.hasSubscribers).toBe(true)
        silent.limit.publish({} as never)
        expect(heard).toEqual([])
      } finally {
        unsubscribe(SSE_CHANNELS.limit, onMessage)
      }
    } finally {
      runtime.getBuiltinModule = original
      vi.resetModules()
    }
  })
})
