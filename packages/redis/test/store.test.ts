import type { EventInput, StoredEvent } from '@sse/core'
import { sleep, waitFor } from '@sse/test-utils'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { data, useStores } from './store-fixture'

describeRedis('RedisStore on a real redis-server', () => {
  const fixture = useStores('test')
  const store = fixture.store

  const input = (log: string, data: string, extra: Partial<EventInput> = {}): EventInput => ({
    log,
    data,
    ...extra,
  })

  async function appendAll(target: RedisStore, count: number, log = '*') {
    const out: StoredEvent[] = []
    for (let i = 0; i < count; i++) out.push(...(await target.append([input(log, `e${i}`)])))
    return out
  }

  it('assigns increasing stream ids per log and reads strictly after a position', async () => {
    const s = store()
    const events = await appendAll(s, 5, 'tnews')
    for (const event of events) expect(event.position).toMatch(/^\d+-\d+$/)
    for (let i = 1; i < events.length; i++) {
      expect(s.compare(events[i - 1]!.position!, events[i]!.position!)).toBeLessThan(0)
    }
    const read = await s.read('tnews', events[1]!.position)
    expect(read).toEqual({ events: events.slice(2), lost: false, head: events[4]!.position })
    expect(await s.read('tnews', events[4]!.position)).toMatchObject({ events: [], lost: false })
    expect(await s.head('tnews')).toBe(events[4]!.position)
    // Another log has its own history.
    expect(await s.read('tother', '0-0')).toEqual({ events: [], lost: false, head: '0-0' })
  })

  it('appends a batch in order, each event to its own log', async () => {
    const s = store()
    const stored = await s.append([input('ta', '1'), input('tb', '2'), input('ta', '3')])
    expect(stored.map((e) => [e.log, e.data])).toEqual([
      ['ta', '1'],
      ['tb', '2'],
      ['ta', '3'],
    ])
    expect(data((await s.read('ta', '0-0')).events)).toEqual(['1', '3'])
    expect(data((await s.read('tb', '0-0')).events)).toEqual(['2'])
  })

  it('reports lost with every retained event for a missing, malformed, unknown or crafted position', async () => {
    const s = store()
    const events = await appendAll(s, 3, 'tx')
    const [ms, seq] = events[2]!.position!.split('-').map(Number) as [number, number]
    const [ms0] = events[0]!.position!.split('-').map(Number) as [number]
    for (const cursor of [
      undefined,
      '',
      'abc',
      '1-2-3',
      '01-0',
      `${ms}`,
      '18446744073709551616-0',
      '18446744073709551615-18446744073709551615',
      `${ms + 60_000}-0`,
      `${ms}-${seq + 1}`,
      // Before the first entry: not a position of this log.
      `${ms0 - 60_000}-0`,
      `${ms0 - 1}-0`,
    ]) {
      const read = await s.read('tx', cursor)
      expect({ cursor, lost: read.lost }).toEqual({ cursor, lost: true })
      expect(data(read.events)).toEqual(['e0', 'e1', 'e2'])
    }
  })

  it('answers any crafted position without throwing (property)', async () => {
    const s = store()
    const events = await appendAll(s, 4, 'tp')
    const positions = new Set(['0-0', ...events.map((e) => e.position!)])
    const idLike = fc
      .tuple(fc.bigInt({ min: 0n, max: 2n ** 65n }), fc.bigInt({ min: 0n, max: 2n ** 65n }))
      .map(([a, b]) => `${a}-${b}`)
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), idLike, fc.constantFrom(...positions)),
        async (cursor) => {
          const read = await s.read('tp', cursor)
          expect(read.head).toBe(events[3]!.position)
          if (positions.has(cursor)) expect(read.lost).toBe(false)
          else expect(read.lost).toBe(true)
          expect(read.events.length).toBeLessThanOrEqual(4)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('gives an empty log the stable head 0-0, after which every event is read, not lost', async () => {
    const s = store()
    expect(await s.head('tempty')).toBe('0-0')
    expect(await s.follow('tempty')).toBe('0-0')
    expect(await s.head('tempty')).toBe('0-0')
    const events = await appendAll(s, 3, 'tempty')
    expect(s.compare('0-0', events[0]!.position!)).toBeLessThan(0)
    const read = await s.read('tempty', '0-0')
    expect(read).toEqual({ events, lost: false, head: events[2]!.position })
  })

  it('reports lost when events after the position were trimmed (maxLen), not when only the position was', async () => {
    const s = store({ maxLen: 5, approximate: false })
    const events = await appendAll(s, 12)
    const read = await s.read('*', events[2]!.position)
    expect(read.lost).toBe(true)
    expect(data(read.events)).toEqual(['e7', 'e8', 'e9', 'e10', 'e11'])
    const edge = await s.read('*', events[6]!.position)
    expect(edge.lost).toBe(false)
    expect(data(edge.events)).toEqual(['e7', 'e8', 'e9', 'e10', 'e11'])
  })

  it('keeps retention per log: a quiet topic is not lost after a busy one pushed maxLen events', async () => {
    const s = store({ maxLen: 10, approximate: false })
    const [quiet] = await s.append([input('tquiet', 'still here')])
    await Promise.all(Array.from({ length: 100 }, (_, i) => s.append([input('tbusy', `${i}`)])))
    expect(await s.read('tquiet', '0-0')).toEqual({
      events: [quiet],
      lost: false,
      head: quiet!.position,
    })
    expect((await s.read('tbusy', '0-0')).lost).toBe(true)
    expect((await s.read('tbusy', undefined)).events).toHaveLength(10)
  })

  it('with approximate trimming, tells a position just before the retained history from an older one', async () => {
    const s = store({ maxLen: 50 })
    const events = await Promise.all(
      Array.from({ length: 400 }, (_, i) => s.append([input('*', `${i}`)])),
    ).then((all) => all.flat())
    const retained = (await s.read('*', undefined)).events
    expect(retained.length).toBeGreaterThanOrEqual(50)
    expect(retained.length).toBeLessThan(400)
    const at = events.findIndex((e) => e.position === retained[0]!.position)
    expect(await s.read('*', events[at - 1]!.position)).toMatchObject({
      events: retained,
      lost: false,
    })
    expect(await s.read('*', events[at - 2]!.position)).toMatchObject({
      events: retained,
      lost: true,
    })
  })

  it('reports lost when an entry after the position was deleted by hand (XDEL)', async () => {
    const s = store()
    const events = await appendAll(s, 4)
    await s.client.xdel(s.streamKey('*'), events[2]!.position!)
    expect((await s.read('*', events[1]!.position)).lost).toBe(true)
    expect((await s.read('*', events[0]!.position)).lost).toBe(true)
    expect((await s.read('*', events[2]!.position)).lost).toBe(false)
  })

  it('trims by age on reads too, expires an idle stream, and remembers its last position', async () => {
    const s = store({ maxAge: 300, maxLen: Number.POSITIVE_INFINITY, approximate: false })
    const old = await appendAll(s, 3, 'tage')
    await sleep(400)
    const head = old[2]!.position!
    expect(await s.read('tage', old[0]!.position)).toEqual({ events: [], lost: true, head })
    // Its stream expired; its last position is still known, so a caught-up cursor is not lost.
    expect(await s.client.exists(s.streamKey('tage'))).toBe(0)
    expect(await s.read('tage', head)).toEqual({ events: [], lost: false, head })
    expect(await s.head('tage')).toBe(head)
    const [fresh] = await s.append([input('tage', 'fresh')])
    expect(s.compare(fresh!.position!, head)).toBeGreaterThan(0)
    expect(await s.read('tage', head)).toEqual({
      events: [fresh],
      lost: false,
      head: fresh!.position,
    })
  })

  it('goes on after the remembered position even when Redis’ clock is behind it', async () => {
    const s = store()
    await s.ready()
    const future = `${Date.now() + 3_600_000}-5`
    await s.client.set(`${s.streamKey('tclock')}:m`, future)
    expect(await s.head('tclock')).toBe(future)
    const [event] = await s.append([input('tclock', 'x')])
    expect(s.compare(event!.position!, future)).toBeGreaterThan(0)
    expect(await s.read('tclock', future)).toMatchObject({ events: [event], lost: false })
  })

  it('forgets a log after forgetAfter: it starts over at 0-0 and older positions are lost', async () => {
    const s = store({ maxAge: 100, forgetAfter: 200 })
    const [event] = await s.append([input('tgone', 'x')])
    await sleep(300)
    expect(await s.head('tgone')).toBe('0-0')
    expect(await s.read('tgone', event!.position)).toEqual({ events: [], lost: true, head: '0-0' })
  })

  it('reads in pages histories longer than one page', async () => {
    const s = store({ maxLen: Number.POSITIVE_INFINITY })
    const events = (
      await Promise.all(Array.from({ length: 2500 }, (_, i) => s.append([input('tlong', `${i}`)])))
    ).flat()
    const read = await s.read('tlong', events[3]!.position)
    expect(read.lost).toBe(false)
    expect(read.events.map((e) => e.position)).toEqual(events.slice(4).map((e) => e.position))
    expect((await s.read('tlong', undefined)).events).toHaveLength(2500)
  })

  it('round-trips topic, key, event name and any data, and keys logs with braces apart', async () => {
    const s = store()
    const inputs: EventInput[] = [
      input('*', ''),
      input('tnews', 'a\nb\r\nc\rd', { event: 'multi', topic: 'news', key: 'user-1' }),
      input('tünï', 'nul\u0000 and astral \u{1F600} é', { topic: 'ünï' }),
      input('kk', ' leading space', { key: 'k' }),
      input('t{a}', 'braces', { topic: '{a}' }),
      input('t%7Ba%7D', 'percent', { topic: '%7Ba%7D' }),
    ]
    const stored = await s.append(inputs)
    for (const [i, event] of stored.entries()) {
      expect((await s.read(event.log, undefined)).events).toEqual([stored[i]])
      const { position, ...rest } = event
      expect(rest).toEqual(inputs[i])
    }
    expect(s.streamKey('t{a}')).toBe(`${s.prefix}{t%7Ba%7D}`)
    expect(s.streamKey('t%7Ba%7D')).toBe(`${s.prefix}{t%257Ba%257D}`)
  })

  it('feeds each subscriber the events of followed logs once, in order, from every instance', async () => {
    const a = store()
    const b = store({ prefix: a.prefix })
    const other = store()
    const seenA: StoredEvent[] = []
    const seenB: StoredEvent[] = []
    const seenOther: StoredEvent[] = []
    a.subscribe((e) => seenA.push(e))
    b.subscribe((e) => seenB.push(e))
    other.subscribe((e) => seenOther.push(e))
    await Promise.all([a.follow('tx'), b.follow('tx'), b.follow('ty'), other.follow('tx')])
    const appended = (
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? a : b).append([input(i % 3 ? 'tx' : 'ty', String(i))]),
        ),
      )
    ).flat()
    const ofLog = (log: string) =>
      appended
        .filter((e) => e.log === log)
        .map((e) => e.position!)
        .sort((x, y) => a.compare(x, y))
    await waitFor('the live events', () => seenA.length >= 66 && seenB.length >= 100)
    expect(seenA.map((e) => e.position)).toEqual(ofLog('tx'))
    expect(seenB.filter((e) => e.log === 'tx').map((e) => e.position)).toEqual(ofLog('tx'))
    expect(seenB.filter((e) => e.log === 'ty').map((e) => e.position)).toEqual(ofLog('ty'))
    expect(seenOther).toEqual([])
    await sleep(100)
    expect(seenA).toHaveLength(66)
  })

  it('broadcasts to every instance’s subscribers without keeping the event', async () => {
    const a = store()
    const b = store({ prefix: a.prefix })
    const seen: StoredEvent[] = []
    b.subscribe((e) => seen.push(e))
    await b.follow('troom')
    await a.broadcast([input('troom', 'typing', { topic: 'room', event: 'typing' })])
    await waitFor('the broadcast', () => seen.length === 1)
    expect(seen[0]).toEqual({
      log: 'troom',
      topic: 'room',
      event: 'typing',
      data: 'typing',
      position: undefined,
    })
    expect(await a.read('troom', undefined)).toEqual({ events: [], lost: true, head: '0-0' })
  })

  it('keeps stores of the same prefix on two databases of one server apart, live feed included', async () => {
    const zero = store({ prefix: 'shared:' })
    const one = store({ prefix: 'shared:', redis: `${fixture.redis.url}/1` })
    const heard: string[] = []
    zero.subscribe((e) => heard.push(`zero ${e.data}`))
    one.subscribe((e) => heard.push(`one ${e.data}`))
    await zero.follow('*')
    await one.follow('*')
    await one.append([input('*', 'a')])
    await zero.append([input('*', 'b')])
    await waitFor('both events', () => heard.length >= 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(heard.sort()).toEqual(['one a', 'zero b'])
  })

  it('delivers only what comes after follow, and stops on unfollow and unsubscribe', async () => {
    const s = store()
    await appendAll(s, 3, 'tlive')
    const seen: string[] = []
    const unsubscribe = s.subscribe((e) => seen.push(e.data))
    await s.follow('tlive')
    await s.append([input('tlive', 'later')])
    await waitFor('the live event', () => seen.length === 1)
    s.unfollow('tlive')
    await s.append([input('tlive', 'unheard')])
    await s.follow('tlive')
    await s.append([input('tlive', 'again')])
    await waitFor('the next live event', () => seen.length === 2)
    unsubscribe()
    await s.append([input('tlive', 'after unsubscribe')])
    await sleep(50)
    expect(seen).toEqual(['later', 'again'])
  })

  it('batches concurrent appends per log: per-log order, positions as the feed delivers them', async () => {
    const s = store({ maxLen: Number.POSITIVE_INFINITY })
    const logs = ['tone', ...Array.from({ length: 20 }, (_, i) => `tmany${i}`)]
    const seen = new Map<string, string[]>(logs.map((log) => [log, []]))
    s.subscribe((e) => seen.get(e.log)!.push(`${e.data} ${e.position}`))
    await Promise.all(logs.map((log) => s.follow(log)))
    // 1,500 to one log (over a batch's 1,000), 1,500 spread over 20, and one call with several.
    const calls = Array.from({ length: 3000 }, (_, i) =>
      s.append([input(i < 1500 ? 'tone' : logs[1 + (i % 20)]!, `${i}`)]),
    )
    calls.push(s.append([input('tone', 'x1'), input('tmany0', 'x2'), input('tone', 'x3')]))
    const stored = (await Promise.all(calls)).flat()
    expect(stored[3001]).toMatchObject({ log: 'tmany0', data: 'x2' })
    for (const log of logs) {
      const ofLog = stored.filter((e) => e.log === log)
      // In the order of the calls, positions increasing, and what the feed and a read give.
      for (let i = 1; i < ofLog.length; i++) {
        expect(s.compare(ofLog[i - 1]!.position!, ofLog[i]!.position!)).toBeLessThan(0)
      }
      await waitFor(`the feed of ${log}`, () => seen.get(log)!.length >= ofLog.length)
      expect(seen.get(log)).toEqual(ofLog.map((e) => `${e.data} ${e.position}`))
      expect(await s.read(log, '0-0')).toEqual({
        events: ofLog,
        lost: false,
        head: ofLog.at(-1)!.position,
      })
    }
  })

  it('splits a batch over 1,000 events or 1 MiB, and appends events of maxEventBytes', async () => {
    // 9 events of 256 KiB: over the default maxBytes of a log.
    const s = store({ maxLen: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY })
    await s.ready()
    const feed = s.client.duplicate({ enableOfflineQueue: true })
    const sizes: number[] = []
    feed.on('smessage', (_channel: string, raw: string) => sizes.push(JSON.parse(raw).length - 2))
    await feed.ssubscribe(`${s.streamKey('tsplit')}:f`, `${s.streamKey('tbig')}:f`)
    try {
      const many = Array.from({ length: 2500 }, (_, i) =>
        s.append([input('tsplit', `${i}`, { event: 'e', topic: 'split', key: 'k' })]),
      )
      const stored = (await Promise.all(many)).flat()
      await waitFor('three messages', () => sizes.length === 3)
      expect(sizes).toEqual([1000, 1000, 500])
      expect(data((await s.read('tsplit', '0-0')).events)).toEqual(data(stored))
      sizes.length = 0
      const big = 'x'.repeat(256 * 1024)
      const large = await Promise.all(
        Array.from({ length: 9 }, (_, i) => s.append([input('tbig', `${i}${big}`)])),
      )
      await waitFor('three messages', () => sizes.length === 3)
      expect(sizes).toEqual([3, 3, 3])
      expect((await s.read('tbig', '0-0')).events).toEqual(large.flat())
    } finally {
      feed.disconnect()
    }
  })

  it('rejects only the callers of a batch that failed, with a RedisStoreError', async () => {
    const s = store()
    await s.ready()
    // A stream key holding a string: the script's XADD fails (WRONGTYPE) for that log only.
    await s.client.set(s.streamKey('tbroken'), 'not a stream')
    const broken = Array.from({ length: 3 }, (_, i) => s.append([input('tbroken', `${i}`)]))
    const fine = Array.from({ length: 3 }, (_, i) => s.append([input('tfine', `${i}`)]))
    const settled = await Promise.allSettled([...broken, ...fine])
    for (const result of settled.slice(0, 3)) {
      expect(result.status).toBe('rejected')
      const { reason } = result as PromiseRejectedResult
      expect(reason).toMatchObject({ name: 'RedisStoreError' })
      expect(String(reason)).toMatch(/appending failed.*WRONGTYPE/)
    }
    expect(settled.slice(3).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled'])
    expect(data((await s.read('tfine', '0-0')).events)).toEqual(['0', '1', '2'])
    await s.client.del(s.streamKey('tbroken'))
    expect(await s.append([input('tbroken', 'again')])).toMatchObject([{ data: 'again' }])
  })

  it('orders ids numerically, not as text', () => {
    const s = store({ redis: { lazyConnect: true } })
    expect(s.compare('9-0', '10-0')).toBeLessThan(0)
    expect(s.compare('1-9', '1-10')).toBeLessThan(0)
    expect(s.compare('2-0', '1-99')).toBeGreaterThan(0)
    expect(s.compare('5-5', '5-5')).toBe(0)
    expect(s.compare('0-0', '1-0')).toBeLessThan(0)
    expect(Math.sign(s.compare('x', 'y'))).toBe(-1)
  })

  it('keeps one epoch per prefix, shared by every instance', async () => {
    const a = store()
    const b = store({ prefix: a.prefix })
    const epoch = await a.epoch()
    expect(epoch).toMatch(/^[!-~]+$/)
    expect(epoch).not.toContain('.')
    expect(await b.epoch()).toBe(epoch)
    expect(await store().epoch()).not.toBe(epoch)
  })

  it('rejects after offlineTimeout when Redis cannot be reached, and says it never connected', async () => {
    const reports: unknown[] = []
    const unreachable = new RedisStore({
      redis: { host: '127.0.0.1', port: 1, retryStrategy: () => 100 },
      offlineTimeout: 300,
      onError: (error) => reports.push(error),
    })
    fixture.closeAfter(unreachable)
    unreachable.subscribe(() => {})
    const started = Date.now()
    await expect(unreachable.append([input('*', 'x')])).rejects.toThrow(/Redis is unreachable/)
    await expect(unreachable.read('*', '1-0')).rejects.toThrow(/Redis is unreachable/)
    await expect(unreachable.follow('*')).rejects.toThrow(/Redis is unreachable/)
    expect(Date.now() - started).toBeLessThan(5000)
    // Two connections, many attempts: one report, and not "lost the connection".
    expect(reports.map(String)).toEqual([expect.stringMatching(/cannot connect to Redis/)])
    await unreachable.close()
    await expect(unreachable.append([input('*', 'x')])).rejects.toThrow(/closed/)
  })

  it('validates its options', () => {
    const lazy = { lazyConnect: true }
    expect(() => new RedisStore({ maxLen: -1, redis: lazy })).toThrow(RangeError)
    expect(() => new RedisStore({ maxBytes: -1, redis: lazy })).toThrow(/maxBytes/)
    expect(() => new RedisStore({ maxAge: 0, redis: lazy })).toThrow(RangeError)
    expect(() => new RedisStore({ pingInterval: 0, redis: lazy })).toThrow(RangeError)
    expect(() => new RedisStore({ prefix: 'a{b}:', redis: lazy })).toThrow(RangeError)
  })
})
