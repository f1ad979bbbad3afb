import type { StoredEvent } from '@sse/core'
import { waitFor } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'
import { silenceableProxy } from './silenceable-proxy'

describeRedis('RedisStore on a real redis-server', () => {
  let redis: RedisServer
  let stores: RedisStore[] = []
  let errors: unknown[] = []
  let prefixes = 0

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()))
    stores = []
    expect(errors).toEqual([])
    errors = []
  })

  /** A store on a fresh key unless `prefix` says which one to share. */
  function store(options: RedisStoreOptions = {}): RedisStore {
    const created = new RedisStore({
      redis: redis.url,
      prefix: `test${++prefixes}:`,
      onError: (error) => errors.push(error),
      ...options,
    })
    stores.push(created)
    return created
  }

  async function appendAll(target: RedisStore, count: number, topic?: string) {
    const out: StoredEvent[] = []
    for (let i = 0; i < count; i++) out.push(await target.append({ topic, data: `e${i}` }))
    return out
  }

  it('assigns increasing stream ids and replays strictly after a cursor', async () => {
    const s = store()
    const events = await appendAll(s, 5)
    for (const event of events) expect(event.id).toMatch(/^\d+-\d+$/)
    for (let i = 1; i < events.length; i++) {
      expect(s.compare(events[i - 1]!.id, events[i]!.id)).toBeLessThan(0)
    }
    const replay = await s.replay(events[1]!.id)
    expect(replay.lost).toBe(false)
    expect(replay.events.map((e) => e.data)).toEqual(['e2', 'e3', 'e4'])
    expect(replay.events.map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id))
    expect(await s.replay(events[4]!.id)).toEqual({ events: [], lost: false })
    expect(await s.replay(events[0]!.id)).toEqual({ events: events.slice(1), lost: false })
  })

  it('reports lost with every retained event for a missing, malformed or unknown cursor', async () => {
    const s = store()
    const events = await appendAll(s, 3)
    const all = events.map((e) => e.data)
    const last = events[2]!.id
    const [ms] = last.split('-')
    for (const cursor of [
      undefined,
      'abc',
      '1-2-3',
      '01-0',
      `${ms}`,
      '18446744073709551616-0',
      `${Number(ms) + 60_000}-0`,
      // Before the stream's first entry: from another stream, or from before Redis lost its data.
      `${Number(ms) - 60_000}-0`,
    ]) {
      const replay = await s.replay(cursor)
      expect({ cursor, lost: replay.lost }).toEqual({ cursor, lost: true })
      expect(replay.events.map((e) => e.data)).toEqual(all)
    }
  })

  it('gives the head of an empty stream, 0-0, from which a replay gets every event, not lost (C34)', async () => {
    const s = store()
    const head = await s.head()
    expect(head).toBe('0-0')
    const events = await appendAll(s, 3)
    const replay = await s.replay(head)
    expect(replay.lost).toBe(false)
    expect(replay.events.map((e) => e.id)).toEqual(events.map((e) => e.id))
    expect(await s.head()).toBe(events[2]!.id)
  })

  it('reports lost when events after the cursor were trimmed (maxLen), not when only the cursor was', async () => {
    const s = store({ maxLen: 5, approximate: false })
    const events = await appendAll(s, 12)
    const replay = await s.replay(events[2]!.id)
    expect(replay.lost).toBe(true)
    expect(replay.events.map((e) => e.data)).toEqual(['e7', 'e8', 'e9', 'e10', 'e11'])
    // e6 itself is gone, but everything after it is retained.
    const edge = await s.replay(events[6]!.id)
    expect(edge.lost).toBe(false)
    expect(edge.events.map((e) => e.data)).toEqual(['e7', 'e8', 'e9', 'e10', 'e11'])
  })

  it('with approximate trimming, tells a cursor just before the retained history from an older one', async () => {
    const s = store({ maxLen: 50 })
    const events = await appendAll(s, 400)
    const retained = (await s.replay(undefined)).events
    expect(retained.length).toBeGreaterThanOrEqual(50)
    expect(retained.length).toBeLessThan(400)
    const at = events.findIndex((e) => e.id === retained[0]!.id)
    expect(await s.replay(events[at - 1]!.id)).toEqual({ events: retained, lost: false })
    expect(await s.replay(events[at - 2]!.id)).toEqual({ events: retained, lost: true })
  })

  it('reports lost when an entry after the cursor was deleted by hand (XDEL)', async () => {
    const s = store()
    const events = await appendAll(s, 4)
    await s.client.xdel(s.key, events[2]!.id)
    expect((await s.replay(events[1]!.id)).lost).toBe(true)
    expect((await s.replay(events[2]!.id)).lost).toBe(false)
  })

  it('trims by age (maxAge)', async () => {
    const s = store({ maxAge: 300, maxLen: Number.POSITIVE_INFINITY, approximate: false })
    const old = await appendAll(s, 3)
    await new Promise((resolve) => setTimeout(resolve, 400))
    const fresh = await s.append({ data: 'fresh' })
    const replay = await s.replay(old[0]!.id)
    expect(replay).toEqual({ events: [fresh], lost: true })
  })

  it('applies maxLen and maxAge together', async () => {
    const s = store({ maxAge: 60_000, maxLen: 2, approximate: false })
    const events = await appendAll(s, 4)
    expect((await s.replay(undefined)).events.map((e) => e.id)).toEqual(
      events.slice(2).map((e) => e.id),
    )
  })

  it('replays in pages larger histories than one batch', async () => {
    const s = store({ batch: 7 })
    const events = await appendAll(s, 30)
    const replay = await s.replay(events[3]!.id)
    expect(replay.lost).toBe(false)
    expect(replay.events.map((e) => e.data)).toEqual(events.slice(4).map((e) => e.data))
  })

  it('round-trips topic, key, event name and any data', async () => {
    const s = store()
    const inputs = [
      { data: '' },
      { data: 'a\nb\r\nc\rd', event: 'multi', topic: 'news', key: 'user-1' },
      { data: 'nul\u0000 and astral \u{1F600} é', topic: 'ünï' },
      { data: ' leading space', key: 'k' },
    ]
    const stored = []
    for (const input of inputs) stored.push(await s.append(input))
    const replay = await s.replay(undefined)
    expect(replay.events).toEqual(stored)
    expect(replay.events.map(({ id, ...rest }) => rest)).toEqual(inputs)
  })

  it('feeds every local subscriber once, in id order, with its own and other instances’ events', async () => {
    const a = store()
    const b = store({ prefix: a.key.replace(/events$/, '') })
    const other = store()
    const seenA: StoredEvent[] = []
    const seenA2: StoredEvent[] = []
    const seenB: StoredEvent[] = []
    const seenOther: StoredEvent[] = []
    a.subscribe((e) => seenA.push(e))
    a.subscribe((e) => seenA2.push(e))
    b.subscribe((e) => seenB.push(e))
    other.subscribe((e) => seenOther.push(e))
    await Promise.all([a.ready(), b.ready(), other.ready()])
    const appended = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).append({ data: String(i) })),
    )
    await waitFor('100 live events', () => seenA.length >= 100 && seenB.length >= 100)
    const ids = appended.map((e) => e.id).sort((x, y) => a.compare(x, y))
    expect(seenA.map((e) => e.id)).toEqual(ids)
    expect(seenA2.map((e) => e.id)).toEqual(ids)
    expect(seenB.map((e) => e.id)).toEqual(ids)
    expect(seenOther).toEqual([])
    // Nothing more comes later: each event was delivered exactly once.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(seenA).toHaveLength(100)
  })

  it('delivers live only what was appended after the feed started, and stops on unsubscribe', async () => {
    const s = store()
    await appendAll(s, 3)
    const seen: string[] = []
    const unsubscribe = s.subscribe((e) => seen.push(e.data))
    const later = await s.append({ data: 'later' })
    await waitFor('the live event', () => seen.length === 1)
    expect(seen).toEqual(['later'])
    unsubscribe()
    await s.append({ data: 'unheard' })
    const probe: string[] = []
    s.subscribe((e) => probe.push(e.id))
    const marker = await s.append({ data: 'marker' })
    await waitFor('the marker', () => probe.includes(marker.id))
    expect(seen).toEqual(['later'])
    expect(s.compare(later.id, marker.id)).toBeLessThan(0)
  })

  it('reconnects a live feed whose connection went silent (half-open TCP) and catches up', async () => {
    const proxy = await silenceableProxy(redis.port)
    try {
      const subscriber = store({ redis: `redis://127.0.0.1:${proxy.port}`, block: 200 })
      const publisher = store({ prefix: subscriber.key.replace(/events$/, '') })
      const seen: string[] = []
      let gaps = 0
      subscriber.subscribe(
        (e) => seen.push(e.data),
        () => gaps++,
      )
      await subscriber.ready()
      await publisher.append({ data: 'before' })
      await waitFor('the first event', () => seen.length === 1)
      // Nothing closes: bytes just stop flowing both ways on the existing connections.
      proxy.silence()
      await publisher.append({ data: 'during' })
      await publisher.append({ data: 'after' })
      await waitFor('the events sent while the feed was stuck', () => seen.length === 3, {
        timeout: 10_000,
      })
      expect(seen).toEqual(['before', 'during', 'after'])
      // Nothing was trimmed meanwhile: no gap, the streams stay open.
      expect(gaps).toBe(0)
    } finally {
      proxy.close()
    }
  })

  it('orders ids numerically, not as text', () => {
    const s = store()
    expect(s.compare('9-0', '10-0')).toBeLessThan(0)
    expect(s.compare('1-9', '1-10')).toBeLessThan(0)
    expect(s.compare('2-0', '1-99')).toBeGreaterThan(0)
    expect(s.compare('5-5', '5-5')).toBe(0)
    expect(Math.sign(s.compare('x', 'y'))).toBe(-1)
  })

  it('rejects after offlineTimeout with a clear error when Redis cannot be reached', async () => {
    const unreachable = new RedisStore({
      redis: { host: '127.0.0.1', port: 1, retryStrategy: () => 200 },
      offlineTimeout: 300,
      onError: () => {},
    })
    stores.push(unreachable)
    const started = Date.now()
    await expect(unreachable.append({ data: 'x' })).rejects.toThrow(/Redis is unreachable/)
    await expect(unreachable.replay('1-0')).rejects.toThrow(/Redis is unreachable/)
    expect(Date.now() - started).toBeLessThan(5000)
    await unreachable.close()
    await expect(unreachable.append({ data: 'x' })).rejects.toThrow(/closed/)
  })

  it('validates its options', () => {
    expect(() => new RedisStore({ maxLen: -1, redis: { lazyConnect: true } })).toThrow(RangeError)
    expect(() => new RedisStore({ maxAge: 0, redis: { lazyConnect: true } })).toThrow(RangeError)
  })
})
