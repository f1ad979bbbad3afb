import type { EventInput, StoredEvent } from '@sse/core'
import { sleep, waitFor } from '@sse/test-utils'
import { expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { data, useStores } from './store-fixture'

describeRedis('RedisStore maxBytes on a real redis-server', () => {
  const fixture = useStores('bytes', { maxLen: Number.POSITIVE_INFINITY })
  const store = fixture.store

  async function appendEach(s: RedisStore, inputs: EventInput[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = []
    for (const input of inputs) out.push(...(await s.append([input])))
    return out
  }

  /** 25 bytes counted: 10 × 'é' (2 UTF-8 bytes, 1 UTF-16 unit each) and a 5-byte event name. */
  const sized = (log: string, i: number): EventInput => ({
    log,
    data: 'é'.repeat(10),
    event: `ev${String(i).padStart(3, '0')}`,
  })

  it('keeps only the newest events within maxBytes, counted exactly in UTF-8 bytes, batches too', async () => {
    // approximate (the default) does not apply to bytes: the trim is exact.
    const s = store({ maxBytes: 100 })
    const one = await appendEach(
      s,
      Array.from({ length: 10 }, (_, i) => sized('tone', i)),
    )
    // 4 events of 25 bytes are exactly 100: kept; a fifth would be 125.
    expect(await s.read('tone', undefined)).toEqual({
      events: one.slice(6),
      lost: true,
      head: one[9]!.position,
    })
    const tight = store({ maxBytes: 99 })
    const batch = (
      await Promise.all(Array.from({ length: 10 }, (_, i) => tight.append([sized('tbatch', i)])))
    ).flat()
    expect((await tight.read('tbatch', undefined)).events).toEqual(batch.slice(7))
    // The topic and key count too.
    const tagged = store({ maxBytes: 12 })
    const [a, b] = await appendEach(tagged, [
      { log: 'ttag', data: 'abc', topic: 'tag', key: 'k' }, // 7 bytes
      { log: 'ttag', data: 'de', topic: 'tag' }, // 5 bytes
    ])
    expect((await tagged.read('ttag', undefined)).events).toEqual([a, b])
    const [c] = await tagged.append([{ log: 'ttag', data: '', key: 'k' }]) // 1 byte
    expect((await tagged.read('ttag', undefined)).events).toEqual([b, c])
  })

  it('keeps retention per log: a quiet topic is not trimmed by a busy one’s bytes', async () => {
    const s = store({ maxBytes: 1000 })
    const [quiet] = await s.append([{ log: 'tquiet', data: 'q'.repeat(600) }])
    const busy = (
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          s.append([{ log: 'tbusy', data: `${i % 10}`.repeat(100) }]),
        ),
      )
    ).flat()
    expect(await s.read('tquiet', '0-0')).toEqual({
      events: [quiet],
      lost: false,
      head: quiet!.position,
    })
    expect((await s.read('tbusy', undefined)).events).toEqual(busy.slice(90))
  })

  it('reports lost for a cursor before byte-trimmed events, not for one after them', async () => {
    const s = store({ maxBytes: 100 })
    const events = await appendEach(
      s,
      Array.from({ length: 10 }, (_, i) => sized('tcur', i)),
    )
    const retained = events.slice(6)
    // e5 was trimmed, but nothing after it: complete. e4's successor e5 is gone: lost.
    expect(await s.read('tcur', events[5]!.position)).toMatchObject({
      events: retained,
      lost: false,
    })
    expect(await s.read('tcur', events[4]!.position)).toMatchObject({
      events: retained,
      lost: true,
    })
    expect(await s.read('tcur', '0-0')).toMatchObject({ events: retained, lost: true })
    expect(await s.read('tcur', events[7]!.position)).toMatchObject({
      events: events.slice(8),
      lost: false,
    })
  })

  it('keeps the newest event even when it alone is over maxBytes, and only it', async () => {
    const s = store({ maxBytes: 10 })
    const [small, big] = await appendEach(s, [
      { log: 'tbig', data: 'x'.repeat(5) },
      { log: 'tbig', data: 'y'.repeat(50) },
    ])
    expect((await s.read('tbig', undefined)).events).toEqual([big])
    expect((await s.read('tbig', small!.position)).lost).toBe(false)
    const [after] = await s.append([{ log: 'tbig', data: 'z'.repeat(3) }])
    expect((await s.read('tbig', undefined)).events).toEqual([after])
    // maxBytes 0 keeps the newest event alone.
    const zero = store({ maxBytes: 0 })
    const stored = await appendEach(zero, [
      { log: 'tzero', data: 'a' },
      { log: 'tzero', data: 'bb' },
    ])
    expect(await zero.read('tzero', stored[0]!.position)).toEqual({
      events: [stored[1]],
      lost: false,
      head: stored[1]!.position,
    })
    // With maxLen 0 nothing is kept, and nothing fails.
    const none = store({ maxBytes: 10, maxLen: 0 })
    const [, last] = await appendEach(none, [
      { log: 'tnone', data: 'a' },
      { log: 'tnone', data: 'b' },
    ])
    expect(await none.read('tnone', undefined)).toEqual({
      events: [],
      lost: true,
      head: last!.position,
    })
  })

  it('keeps 1 MiB per log by default, and any amount with Infinity', async () => {
    const s = store()
    const quarter = 'x'.repeat(256 * 1024)
    const events = await appendEach(
      s,
      Array.from({ length: 5 }, () => ({ log: 'tdefault', data: quarter })),
    )
    // 4 × 256 KiB is exactly 1 MiB.
    expect(data((await s.read('tdefault', undefined)).events)).toHaveLength(4)
    expect((await s.read('tdefault', events[0]!.position)).lost).toBe(false)
    const [over] = await s.append([{ log: 'tdefault', data: `${quarter}!` }])
    const read = await s.read('tdefault', undefined)
    expect(read.events.map((e) => e.position)).toEqual([
      events[3]!.position,
      events[4]!.position,
      over!.position,
    ])
    const unlimited = store({ maxBytes: Number.POSITIVE_INFINITY })
    await appendEach(
      unlimited,
      Array.from({ length: 6 }, () => ({ log: 'tall', data: quarter })),
    )
    expect((await unlimited.read('tall', undefined)).events).toHaveLength(6)
  })

  it('keeps byte counts in the entries and the meta key, never in reads or on the feed', async () => {
    const s = store({ maxBytes: 100 })
    const seen: StoredEvent[] = []
    s.subscribe((event) => seen.push(event))
    await s.follow('tfeed')
    const events = await appendEach(
      s,
      Array.from({ length: 6 }, (_, i) => sized('tfeed', i)),
    )
    await waitFor('the live events', () => seen.length === 6)
    expect(seen).toEqual(events)
    expect((await s.read('tfeed', events[1]!.position)).events).toEqual(events.slice(2))
    const [entry] = await s.client.xrange(s.streamKey('tfeed'), '-', '+', 'COUNT', 1)
    expect(entry![1].slice(0, 4)).toEqual(['p', events[1]!.position, 'b', '50'])
    // The head, the log's byte count, and the oldest entry's count as of the last trim.
    expect(await s.client.get(`${s.streamKey('tfeed')}:m`)).toBe(`${events[5]!.position} 150 50`)
  })

  it('counts entries of a previous version (no byte count) as 0: kept longer, never trimmed early', async () => {
    // Without maxAge: the hand-made ids are from 1970.
    const s = store({ maxBytes: 100, maxAge: Number.POSITIVE_INFINITY })
    await s.ready()
    const key = s.streamKey('told')
    // Two events as a store before maxBytes wrote them: `p`, no `b`, the meta key a position.
    await s.client.xadd(key, '1-1', 'p', '0-0', 'd', 'o'.repeat(50))
    await s.client.xadd(key, '1-2', 'p', '1-1', 'd', 'o'.repeat(50))
    await s.client.set(`${key}:m`, '1-2')
    const [first] = await s.append([{ log: 'told', data: 'n'.repeat(30) }])
    // 130 bytes, of which 30 counted: nothing trimmed, and the chain goes on.
    expect(await s.read('told', '1-1')).toMatchObject({ lost: false })
    expect((await s.read('told', undefined)).events).toHaveLength(3)
    const later = await appendEach(
      s,
      Array.from({ length: 3 }, () => ({ log: 'told', data: 'n'.repeat(30) })),
    )
    expect((await s.read('told', undefined)).events).toEqual(later)
    expect((await s.read('told', first!.position)).lost).toBe(false)
    expect((await s.read('told', '1-2')).lost).toBe(true)
  })

  it('goes on counting when the meta key is gone but the stream is not', async () => {
    const s = store({ maxBytes: 100, maxAge: Number.POSITIVE_INFINITY })
    const before = await appendEach(
      s,
      Array.from({ length: 3 }, () => ({ log: 'tmeta', data: 'm'.repeat(30) })),
    )
    await s.client.del(`${s.streamKey('tmeta')}:m`)
    expect(await s.head('tmeta')).toBe(before[2]!.position)
    const [next] = await s.append([{ log: 'tmeta', data: 'm'.repeat(30) }])
    expect((await s.read('tmeta', undefined)).events).toEqual([...before.slice(1), next])
    expect((await s.read('tmeta', before[0]!.position)).lost).toBe(false)
  })

  it('goes on counting when the stream expired but its meta key did not', async () => {
    const s = store({ maxBytes: 100, maxAge: 200 })
    const before = await appendEach(
      s,
      Array.from({ length: 3 }, () => ({ log: 'texp', data: 'x'.repeat(30) })),
    )
    await sleep(300)
    expect(await s.client.exists(s.streamKey('texp'))).toBe(0)
    const [next] = await s.append([{ log: 'texp', data: 'x'.repeat(30) }])
    expect(await s.read('texp', before[2]!.position)).toEqual({
      events: [next],
      lost: false,
      head: next!.position,
    })
    expect(await s.client.get(`${s.streamKey('texp')}:m`)).toBe(`${next!.position} 120 90`)
  })

  it('validates maxBytes', () => {
    const lazy = { lazyConnect: true }
    for (const maxBytes of [-1, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(() => new RedisStore({ maxBytes, redis: lazy })).toThrow(/maxBytes must be >= 0/)
      expect(() => new RedisStore({ maxBytes, redis: lazy })).toThrow(RangeError)
    }
    for (const maxBytes of [0, 1.5, Number.POSITIVE_INFINITY]) {
      fixture.closeAfter(new RedisStore({ maxBytes, redis: lazy }))
    }
  })
})
