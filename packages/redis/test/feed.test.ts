import type { EventInput, StoredEvent } from '@sse/core'
import { sleep, tcpProxy, waitFor } from '@sse/test-utils'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

describeRedis('the live feed of RedisStore, under faults', () => {
  let redis: RedisServer
  let admin: Redis
  const cleanups: (() => unknown)[] = []
  let prefixes = 0

  beforeAll(async () => {
    redis = await startRedis()
    admin = new Redis(redis.url)
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    admin?.disconnect()
    await redis?.stop()
  })

  function store(options: RedisStoreOptions = {}): RedisStore {
    const created = new RedisStore({ redis: redis.url, prefix: `feed${++prefixes}:`, ...options })
    cleanups.push(() => created.close())
    return created
  }

  /** A subscribed store that records what it delivers, gaps and reports. */
  async function subscriber(options: RedisStoreOptions, logs: string[]) {
    const reports: unknown[] = []
    const s = store({ onError: (error) => reports.push(error), ...options })
    const seen: StoredEvent[] = []
    const gaps: string[] = []
    s.subscribe(
      (event) => seen.push(event),
      (log) => gaps.push(log),
    )
    for (const log of logs) await s.follow(log)
    return { store: s, seen, gaps, reports }
  }

  const input = (log: string, data: string): EventInput => ({ log, data })
  const append = async (s: RedisStore, log: string, data: string) =>
    (await s.append([input(log, data)]))[0]!

  it('reconnects a feed whose connection went silent (half-open TCP) and catches up without a gap', async () => {
    const proxy = await tcpProxy(redis.port)
    cleanups.push(() => proxy.close())
    const sub = await subscriber({ redis: `redis://127.0.0.1:${proxy.port}`, pingInterval: 200 }, [
      'tx',
    ])
    const publisher = store({ prefix: sub.store.prefix })
    await append(publisher, 'tx', 'before')
    await waitFor('the first event', () => sub.seen.length === 1)
    proxy.silence()
    await append(publisher, 'tx', 'during')
    await append(publisher, 'tx', 'after')
    await waitFor('the events sent while the feed was stuck', () => sub.seen.length === 3, {
      timeout: 10_000,
    })
    expect(sub.seen.map((e) => e.data)).toEqual(['before', 'during', 'after'])
    expect(sub.gaps).toEqual([])
    expect(sub.reports.map(String)).toEqual([expect.stringMatching(/lost the connection/)])
  })

  it('a gap in one log ends only that log: a quiet log followed alongside is not touched', async () => {
    const proxy = await tcpProxy(redis.port)
    cleanups.push(() => proxy.close())
    const sub = await subscriber({ redis: `redis://127.0.0.1:${proxy.port}` }, ['tbusy', 'tquiet'])
    const publisher = store({ prefix: sub.store.prefix, maxLen: 2, approximate: false })
    await append(publisher, 'tquiet', 'quiet')
    await append(publisher, 'tbusy', 'first')
    await waitFor('the first events', () => sub.seen.length === 2)
    // The subscriber's connections stall, events of tbusy push its unread ones out, and the
    // connections drop: after reconnecting, the feed finds them gone.
    proxy.silence()
    for (let i = 0; i < 5; i++) await append(publisher, 'tbusy', String(i))
    proxy.drop()
    await waitFor('the gap', () => sub.gaps.length > 0, { timeout: 10_000 })
    await sleep(100)
    expect(sub.gaps).toEqual(['tbusy'])
    expect(sub.seen.map((e) => e.data)).toEqual(['quiet', 'first'])
    expect(sub.reports.map(String)).toContainEqual(
      expect.stringMatching(
        /events of log tbusy after .* were trimmed .* before this process read them/,
      ),
    )
    // The feed goes on from the log's head, in both logs.
    await append(publisher, 'tbusy', 'next')
    await append(publisher, 'tquiet', 'quiet again')
    await waitFor('later events', () => sub.seen.length === 4)
    expect(
      sub.seen
        .map((e) => e.data)
        .slice(2)
        .sort(),
    ).toEqual(['next', 'quiet again'])
  })

  it('a subscriber held up without a reconnect still gets every event, in order', async () => {
    const proxy = await tcpProxy(redis.port)
    cleanups.push(() => proxy.close())
    const sub = await subscriber({ redis: `redis://127.0.0.1:${proxy.port}` }, ['tx'])
    const publisher = store({ prefix: sub.store.prefix, maxLen: 2, approximate: false })
    await append(publisher, 'tx', 'first')
    await waitFor('the first event', () => sub.seen.length === 1)
    proxy.silence()
    for (let i = 0; i < 5; i++) await append(publisher, 'tx', String(i))
    proxy.resume()
    await waitFor('every event', () => sub.seen.length === 6, { timeout: 10_000 })
    expect(sub.seen.map((e) => e.data)).toEqual(['first', '0', '1', '2', '3', '4'])
    expect(sub.gaps).toEqual([])
  })

  it('a log that went back (Redis restored from an older snapshot) is a gap, never replayed as live', async () => {
    const sub = await subscriber({}, ['tr'])
    const publisher = store({ prefix: sub.store.prefix })
    const events: StoredEvent[] = []
    for (let i = 0; i < 3; i++) events.push(await append(publisher, 'tr', `e${i}`))
    await waitFor('three events', () => sub.seen.length === 3)
    const stream = publisher.streamKey('tr')
    /** Makes the log hold only its first event, as a snapshot taken after it would. */
    const restore = async () => {
      await admin.del(stream, `${stream}:m`)
      await admin.xadd(stream, events[0]!.position!, 'p', '0-0', 'd', 'e0')
      await admin.set(`${stream}:m`, events[0]!.position!)
    }
    // Found on reconnect: the log's head is behind the last position delivered.
    await restore()
    await admin.client('KILL', 'TYPE', 'pubsub')
    await waitFor('the gap', () => sub.gaps.length === 1, { timeout: 10_000 })
    expect(sub.reports.map(String)).toContainEqual(expect.stringMatching(/log tr went back/))
    const after = await append(publisher, 'tr', 'after')
    await waitFor('the next event', () => sub.seen.length === 4)
    expect(sub.seen.at(-1)).toEqual(after)
    // Found live: a new event names a predecessor before the last position delivered.
    events.push(after)
    await restore()
    await append(publisher, 'tr', 'revealing')
    await waitFor('the second gap', () => sub.gaps.length === 2)
    const last = await append(publisher, 'tr', 'last')
    await waitFor('the last event', () => sub.seen.at(-1)?.data === 'last')
    expect(sub.seen.map((e) => e.data)).toEqual(['e0', 'e1', 'e2', 'after', 'last'])
    expect(sub.gaps).toEqual(['tr', 'tr'])
    expect(last.position).toBe(sub.seen.at(-1)!.position)
  })

  it('checks a log after a reconnect until the check succeeds, then delivers what it missed', async () => {
    await admin.call('ACL', 'SETUSER', 'feed', 'on', '>pw', '~*', '&*', '+@all')
    cleanups.push(() => admin.call('ACL', 'DELUSER', 'feed'))
    const sub = await subscriber(
      { redis: `redis://feed:pw@127.0.0.1:${redis.port}`, pingInterval: 200 },
      ['tc'],
    )
    const publisher = store({ prefix: sub.store.prefix })
    await append(publisher, 'tc', 'before')
    await waitFor('the first event', () => sub.seen.length === 1)
    // The feed can neither subscribe again nor read the streams for a while.
    await admin.call('ACL', 'SETUSER', 'feed', 'resetchannels', '-eval', '-evalsha')
    await admin.client('KILL', 'USER', 'feed', 'TYPE', 'pubsub')
    await append(publisher, 'tc', 'missed 1')
    await append(publisher, 'tc', 'missed 2')
    await admin.call('ACL', 'SETUSER', 'feed', 'allchannels')
    await waitFor(
      'a failed check',
      () => sub.reports.some((r) => /NOPERM.*eval/i.test(String(r))),
      {
        timeout: 10_000,
      },
    )
    await sleep(300)
    expect(sub.seen.map((e) => e.data)).toEqual(['before'])
    await admin.call('ACL', 'SETUSER', 'feed', '+eval', '+evalsha')
    await waitFor('the missed events', () => sub.seen.length === 3, { timeout: 10_000 })
    expect(sub.seen.map((e) => e.data)).toEqual(['before', 'missed 1', 'missed 2'])
    expect(sub.gaps).toEqual([])
  })

  it('reports an outage once, then a Redis that lost everything as a gap in every followed log', async () => {
    const own = await startRedis()
    cleanups.push(() => own.stop())
    const sub = await subscriber({ redis: own.url, offlineTimeout: 200 }, ['ta', 'tb'])
    const epoch = await sub.store.epoch()
    await own.kill()
    await sleep(500)
    await own.start()
    await waitFor('the gaps', () => sub.gaps.length === 2, { timeout: 10_000 })
    expect(sub.gaps.sort()).toEqual(['ta', 'tb'])
    const reports = sub.reports.map(String)
    expect(reports.filter((r) => /lost the connection/.test(r))).toHaveLength(1)
    expect(reports).toContainEqual(expect.stringMatching(/Redis lost its data/))
    expect(await sub.store.epoch()).not.toBe(epoch)
  })
})
