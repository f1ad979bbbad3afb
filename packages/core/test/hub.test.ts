import { RecordingClient } from '@sse/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { encodeEvent } from '../src/encoder'
import { createHub, type Hub } from '../src/hub'
import { eventMatches } from '../src/members'
import { MemoryStore } from '../src/memory-store'
import { openStream } from '../src/open'
import type { EventStore, StoredEvent } from '../src/store'

type Events = { tick: { n: number }; note: string }

async function connect(
  hub: ReturnType<typeof createHub<Events>>,
  options: { topics?: string[]; key?: string; lastEventId?: string } = {},
) {
  const client = new RecordingClient(options.lastEventId)
  const session = await openStream(client.connection(), { hub, ...options })
  return { client, session }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('Hub', () => {
  it('encodes a broadcast once: every subscriber gets the same bytes object', async () => {
    const hub = createHub<Events>()
    const a = await connect(hub)
    const b = await connect(hub)
    await hub.publish('tick', { n: 1 })
    const last = (c: RecordingClient) => c.chunks.at(-1)
    expect(last(a.client)).toBeInstanceOf(Uint8Array)
    expect(last(a.client)).toBe(last(b.client))
    // The same field order as encodeEvent (and every replayed frame): event, id, data.
    const frame = encodeEvent({ event: 'tick', id: a.client.ids.at(-1), data: { n: 1 } })
    expect(a.client.text.slice(-frame.length)).toBe(frame)
  })

  it('sends streams with keys (a layout each) their own cursor before the shared body', async () => {
    const hub = createHub<Events>()
    const alice = await connect(hub, { topics: ['news'], key: 'alice' })
    const bob = await connect(hub, { topics: ['news'], key: 'bob' })
    await hub.publish('note', 'line 1\nline 2', { topic: 'news' })
    await hub.publish('note', 'for alice', { key: 'alice' })
    await hub.publish('note', 'again', { topic: 'news' })
    const frames = (c: RecordingClient) => c.text.split('\n\n').slice(2, -1)
    const body = (frame: string) => frame.replace(/^(event: note\n)id: \S+\n/, '$1')
    expect(frames(alice.client).map(body)).toEqual([
      'event: note\ndata: line 1\ndata: line 2',
      'event: note\ndata: for alice',
      'event: note\ndata: again',
    ])
    expect(frames(bob.client).map(body)).toEqual([
      'event: note\ndata: line 1\ndata: line 2',
      'event: note\ndata: again',
    ])
    // Each id is the stream's own cursor: alice's counts her key's event, bob's does not.
    expect(alice.client.ids.at(-1)).toBe(await hub.cursor({ topics: ['news'], key: 'alice' }))
    expect(bob.client.ids.at(-1)).toBe(await hub.cursor({ topics: ['news'], key: 'bob' }))
    expect(alice.client.ids.at(-1)).not.toBe(bob.client.ids.at(-1))
  })

  it('watch() hears the live events of a membership until stopped; what it throws goes to onError', async () => {
    const errors: unknown[] = []
    const hub = createHub<Events>({ onError: (error) => errors.push(error) })
    const heard: string[] = []
    const stop = hub.watch({ topics: ['news'], key: 'alice' }, (event) => {
      heard.push(event.data)
      if (event.data === 'boom') throw new Error('watcher bug')
    })
    await hub.publish('note', 'news', { topic: 'news' })
    await hub.publish('note', 'sports', { topic: 'sports' })
    await hub.publish('note', 'boom', { key: 'alice' })
    await hub.publish('note', 'bob', { key: 'bob' })
    await hub.publish('note', 'all')
    stop()
    stop()
    await hub.publish('note', 'later', { topic: 'news' })
    expect(heard).toEqual(['news', 'boom', 'all'])
    expect(errors).toEqual([new Error('watcher bug')])
  })

  it('targets topics, keys and everyone', async () => {
    const hub = createHub<Events>()
    const news = await connect(hub, { topics: ['news'] })
    const alice = await connect(hub, { topics: ['news'], key: 'alice' })
    const bob = await connect(hub, { key: 'bob' })
    await hub.publish('note', 'all')
    await hub.publish('note', 'news', { topic: 'news' })
    await hub.publish('note', 'alice', { key: 'alice' })
    await hub.publish('note', 'news for alice', { topic: 'news', key: 'alice' })
    await hub.publish('note', 'sports', { topic: 'sports' })
    const notes = (c: RecordingClient) => [...c.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1])
    expect(notes(news.client)).toEqual(['all', 'news'])
    expect(notes(alice.client)).toEqual(['all', 'news', 'alice', 'news for alice'])
    expect(notes(bob.client)).toEqual(['all'])
  })

  it('rejects invalid events before anything reaches the store, never throwing, and reports them', async () => {
    const store = new MemoryStore()
    const onError = vi.fn()
    const hub = createHub<Events>({ store, maxEventBytes: 100, onError })
    const calls = [
      () => hub.publish({ event: 'a\nb' as 'note', data: 'x' }),
      () => hub.publish({ data: 'x', id: '1' }),
      () => hub.publish({ data: 'x', retry: 1 }),
      () => hub.publish({ data: 1n }),
      () => hub.publish('note', 'x'.repeat(101)),
      () => hub.publish('note', 'é'.repeat(51)),
      () => hub.publish('note', 'x', { topic: 1 as unknown as string }),
    ]
    const expected = [/"event"/, /"id"/, /"retry"/, /"data"/, RangeError, RangeError, /"topic"/]
    for (const [i, call] of calls.entries()) {
      let result: Promise<void> | undefined
      expect(() => {
        result = call()
      }).not.toThrow()
      await expect(result).rejects.toThrow(expected[i]!)
    }
    expect(onError).toHaveBeenCalledTimes(calls.length)
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(TypeError)
    expect(store.size).toBe(0)
    await expect(hub.publish('note', 'é'.repeat(50))).resolves.toBeUndefined()
    expect(store.size).toBe(1)
  })

  it('never lets a publish nobody awaits crash the process, and tells onError', async () => {
    const onError = vi.fn()
    const store = new MemoryStore()
    store.append = () => {
      throw new Error('store down')
    }
    const hub = createHub<Events>({ store, onError })
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      void hub.publish('note', 'fire and forget')
      void hub.publish({ event: 'a\nb' as 'note', data: 'x' })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).not.toHaveBeenCalled()
      expect(onError).toHaveBeenCalledTimes(2)
      expect(onError.mock.calls[0]![0]).toMatchObject({ message: 'store down' })
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })

  it('removes a session from every index when it closes, and runs cleanup once', async () => {
    const hub = createHub<Events>()
    const { client, session } = await connect(hub, { topics: ['a', 'b'], key: 'k' })
    const onAbort = vi.fn()
    session.signal.addEventListener('abort', onAbort)
    expect(hub.size).toBe(1)
    client.leave()
    client.leave()
    session.close()
    expect(hub.size).toBe(0)
    expect(onAbort).toHaveBeenCalledTimes(1)
    expect(session.closeReason).toBe('client')
    expect(session.send('tick', { n: 1 })).toBe(false)
    await hub.publish('note', 'after', { topic: 'a' })
    expect(client.text).not.toContain('after')
  })

  it('replays after the cursor, then goes live, with no gap and no duplicate (C20)', async () => {
    const hub = createHub<Events>()
    const ids: string[] = []
    for (let n = 0; n < 10; n++) {
      await hub.publish('tick', { n })
      ids.push(await hub.cursor())
    }
    const { client } = await connect(hub, { lastEventId: ids[3] })
    await hub.publish('tick', { n: 10 })
    await flush()
    expect(client.head?.headers['SSE-Replay']).toBe('complete')
    expect(client.ids).toEqual([...ids.slice(4), await hub.cursor()])
  })

  it('reports an unknown cursor with the history-lost event and header (C21)', async () => {
    const hub = createHub<Events>()
    await hub.publish('tick', { n: 0 })
    const { client } = await connect(hub, { lastEventId: 'gone-1' })
    await flush()
    expect(client.head?.headers['SSE-Replay']).toBe('lost')
    expect(client.text).toContain(
      'event: history-lost\ndata: {"lastEventId":"gone-1","lost":[{}]}\n\n',
    )
    // The one event replayed, whose id is the whole cursor.
    expect(client.ids).toEqual([await hub.cursor()])
  })

  it('waits for the client to drain during a long replay, queueing live events behind it', async () => {
    const hub = createHub<Events>({ maxBufferedBytes: 1 << 20 })
    await hub.publish('note', 'start')
    const first = await hub.cursor()
    for (let n = 0; n < 200; n++) await hub.publish('note', 'x'.repeat(1000))
    const client = new RecordingClient(first)
    client.paused = true
    const opened = openStream(client.connection(), { hub })
    await opened
    await flush()
    const before = client.ids.length
    expect(before).toBeGreaterThan(0)
    expect(before).toBeLessThan(200)
    await hub.publish('note', 'live')
    client.resume()
    for (let i = 0; i < 50 && client.ids.length < 201; i++) {
      client.resume()
      await flush()
    }
    expect(client.ids).toHaveLength(201)
    expect(client.text.endsWith('data: live\n\n')).toBe(true)
  })

  it('deduplicates live events a lagging store feed delivers after the replay', async () => {
    // A store whose live feed is late (as a Redis reader can be): events come back through
    // subscribe() only when released, after read() has already returned them.
    const inner = new MemoryStore()
    const held: StoredEvent[] = []
    let listener: (e: StoredEvent) => void = () => {}
    const lagging: EventStore = {
      ...storeMethods(inner),
      append: (inputs) => {
        const stored = inner.append(inputs)
        held.push(...stored)
        return stored
      },
      subscribe: (l) => {
        listener = l
        return () => {}
      },
    }
    const hub = createHub<Events>({ store: lagging })
    await hub.publish('tick', { n: 0 })
    const cursor = await hub.cursor()
    await hub.publish('tick', { n: 1 })
    await hub.publish('tick', { n: 2 })
    const { client } = await connect(hub, { lastEventId: cursor })
    await flush()
    expect(client.ids).toHaveLength(2)
    await hub.publish('tick', { n: 3 })
    for (const e of held.splice(0)) listener(e)
    expect(client.ids).toHaveLength(3)
    expect(new Set(client.ids).size).toBe(3)
  })

  it('refuses streams during shutdown with a retry, and ends open ones after a farewell', async () => {
    const hub = createHub<Events>({ retry: 2000, retryJitter: 0 })
    const { client, session } = await connect(hub)
    const done = hub.shutdown({ grace: 1000, farewell: { event: 'note', data: 'bye' } })
    expect(session.closeReason).toBe('shutdown')
    expect(client.text).toContain('event: note\ndata: bye\n\n')
    expect(client.ended).toBe(true)
    await done
    const late = await connect(hub)
    expect(late.client.head?.status).toBe(200)
    expect(late.client.head?.headers['Retry-After']).toBe('2')
    expect(late.client.text).toBe('retry: 2000\n\n')
    expect(late.client.ended).toBe(true)
    expect(late.session.closed).toBe(true)
  })

  it('tells a new client to come back when the store cannot say where its logs are, and asks again then', async () => {
    const onError = vi.fn()
    const store = new MemoryStore()
    const follow = store.follow.bind(store)
    store.follow = () => {
      throw new Error('store away')
    }
    const hub = createHub<Events>({ store, onError, retryJitter: 0, retry: 1000 })
    const { client, session } = await connect(hub)
    expect(session.closeReason).toBe('error')
    expect(client.text).toBe('retry: 1000\n\n')
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'store away' }))
    store.follow = follow
    const again = await connect(hub)
    const head = await hub.cursor()
    await hub.publish('tick', { n: 1 })
    expect(again.client.ids).toEqual([head, await hub.cursor()])
  })

  it('drops connections that have not flushed within the grace period', async () => {
    const hub = createHub<Events>()
    const { client } = await connect(hub)
    client.end = () => {
      client.ended = true // never finishes: a client that stopped reading
    }
    const started = Date.now()
    await hub.shutdown({ grace: 50 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    expect(client.destroyed).toBe(true)
  })

  it('tells the client to retry later when the store fails, and reports it', async () => {
    const onError = vi.fn()
    const store = new MemoryStore()
    store.read = () => {
      throw new Error('store down')
    }
    const hub = createHub<Events>({ store, onError, retryJitter: 0 })
    const { client, session } = await connect(hub, { lastEventId: 'x-1' })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'store down' }))
    expect(client.head?.status).toBe(200)
    expect(client.head?.headers['Retry-After']).toBe('3')
    expect(session.closeReason).toBe('error')
    expect(hub.size).toBe(0)
  })
})

describe('Hub resync', () => {
  it('ends the streams of a log whose live feed skipped events, and only those', async () => {
    const inner = new MemoryStore()
    let gap: ((log: string) => void) | undefined
    const store: EventStore = {
      ...storeMethods(inner),
      subscribe: (listener, onGap) => {
        gap = onGap
        return inner.subscribe(listener)
      },
    }
    const hub = createHub<Events>({ store })
    const a = await connect(hub)
    const b = await connect(hub, { topics: ['x'] })
    const c = await connect(hub, { topics: ['y'] })
    gap?.('tx')
    expect([a.session.closed, b.session.closeReason, c.session.closed]).toEqual([
      false,
      'resync',
      false,
    ])
    gap?.('*')
    expect([a.session.closeReason, c.session.closeReason]).toEqual(['resync', 'resync'])
    expect(hub.size).toBe(0)
  })
})

/** The methods of a store, bound, to build test stores that change one of them. */
function storeMethods(inner: MemoryStore): EventStore {
  return {
    epoch: () => inner.epoch(),
    append: (inputs) => inner.append(inputs),
    broadcast: (inputs) => inner.broadcast(inputs),
    read: (log, after) => inner.read(log, after),
    head: (log) => inner.head(log),
    follow: (log) => inner.follow(log),
    unfollow: () => {},
    subscribe: (listener) => inner.subscribe(listener),
    compare: (a, b) => inner.compare(a, b),
  }
}

describe('eventMatches', () => {
  it('is the one targeting rule: topic, key, both, or everyone', () => {
    expect(eventMatches({}, {})).toBe(true)
    expect(eventMatches({ topics: ['a'] }, { topic: 'a' })).toBe(true)
    expect(eventMatches({ topics: new Set(['a']) }, { topic: 'b' })).toBe(false)
    expect(eventMatches({}, { topic: 'a' })).toBe(false)
    expect(eventMatches({ key: 'k' }, { key: 'k' })).toBe(true)
    expect(eventMatches({ topics: ['a'] }, { topic: 'a', key: 'k' })).toBe(false)
  })
})

describe('Hub limits', () => {
  it('refuses streams over the global cap with a retry, and admits again once one leaves', async () => {
    const hub = createHub<Events>({ maxStreams: 2, retry: 4000, retryJitter: 0 })
    const a = await connect(hub)
    await connect(hub)
    const over = await connect(hub)
    expect(over.session.closeReason).toBe('limit')
    expect(over.client.head).toMatchObject({ status: 200, headers: { 'Retry-After': '4' } })
    expect(over.client.text).toBe('retry: 4000\n\n')
    expect(hub.size).toBe(2)
    a.client.leave()
    expect((await connect(hub)).session.closed).toBe(false)
  })

  it('caps streams per clientId (else per key), and answers 429 when asked to', async () => {
    const hub = createHub<Events>({ maxStreamsPerClient: 1, limitResponse: 429, retryJitter: 0 })
    const first = new RecordingClient()
    await openStream(first.connection(), { hub, key: 'alice', clientId: '10.0.0.1' })
    const second = new RecordingClient()
    const refused = await openStream(second.connection(), { hub, clientId: '10.0.0.1' })
    expect(refused.closeReason).toBe('limit')
    expect(second.head?.status).toBe(429)
    expect(second.head?.headers['Retry-After']).toBe('3')
    expect(JSON.parse(second.text)).toEqual({ error: expect.any(String) })
    expect((await connect(hub, { key: 'bob' })).session.closed).toBe(false)
    expect((await connect(hub, { key: 'bob' })).session.closeReason).toBe('limit')
    expect((await connect(hub)).session.closed).toBe(false)
  })
})

describe('Hub types', () => {
  it('a typed hub is still a hub, so adapters can take any as a default', async () => {
    const typed = createHub<Events>()
    const untyped: Hub = typed
    // @ts-expect-error: data must match the declared event
    expect(() => typed.publish('tick', { n: 'x' })).not.toThrow()
    await expect(untyped.publish({ data: 'plain' })).resolves.toBeUndefined()
  })
})
