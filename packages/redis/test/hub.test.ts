import { createServer } from 'node:http'
import { createHub, type Hub, type SseStream } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen, openStream, type ServerUnderTest, sleep, tcpProxy, waitFor } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

describeRedis('hubs on RedisStore, over HTTP', () => {
  let redis: RedisServer
  const cleanups: (() => Promise<void>)[] = []
  let prefixes = 0

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  /** An instance of the application: a hub on the shared store and a server; `?topic=` repeats. */
  async function instance(prefix: string, options: RedisStoreOptions = {}) {
    const store = new RedisStore({ redis: redis.url, prefix, ...options })
    const hub: Hub = createHub({ store, heartbeat: false })
    const sessions: SseStream[] = []
    const server: ServerUnderTest = await listen(
      createServer((req, res) => {
        const topics = new URL(req.url!, 'http://x').searchParams.getAll('topic')
        const key = req.headers['x-user'] as string
        void openNodeStream(req, res, { hub, topics, key }).then((s) => sessions.push(s))
      }),
    )
    await store.ready()
    cleanups.push(async () => {
      await hub.shutdown({ grace: 100 })
      await server.close()
      await store.close()
    })
    return { store, hub, server, sessions }
  }

  it('resumes a session that follows several topics with its one Last-Event-ID, on another instance', async () => {
    const prefix = `hub${++prefixes}:`
    const a = await instance(prefix)
    const b = await instance(prefix)
    const topics = ['x', 'y', 'z']
    const publish = (i: number) =>
      (i % 2 ? a.hub : b.hub).publish(
        { event: topics[i % 3], data: `${i}` },
        { topic: topics[i % 3] },
      )
    const first = await openStream(a.server, { path: '/events?topic=x&topic=y' })
    await sleep(20)
    for (let i = 0; i < 12; i++) await publish(i)
    const wanted = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % 3 !== 2)
    const seen = await first.waitForEvents(8)
    expect(seen.map((e) => e.data)).toEqual(wanted(0, 12).map(String))
    first.close()
    // The client stopped after its third event (#3); more events on all three topics follow.
    const cursor = seen[2]!.id!
    for (let i = 12; i < 24; i++) await publish(i)
    const resumed = await openStream(b.server, {
      path: '/events?topic=x&topic=y',
      headers: { 'last-event-id': cursor },
    })
    expect(resumed.headers['sse-replay']).toBe('complete')
    const after = wanted(4, 24).map(String)
    await resumed.waitForEvents(after.length)
    await a.hub.publish({ event: 'y', data: 'live' }, { topic: 'y' })
    const all = await resumed.waitForEvents(after.length + 1)
    // In order within each topic; the last one live.
    for (const topic of ['x', 'y']) {
      expect(all.filter((e) => e.event === topic).map((e) => e.data)).toEqual([
        ...after.filter((d) => topics[Number(d) % 3] === topic),
        ...(topic === 'y' ? ['live'] : []),
      ])
    }
    expect(all.at(-1)!.data).toBe('live')
    resumed.close()
  })

  it('delivers key-targeted events only to that key, from any instance', async () => {
    const prefix = `hub${++prefixes}:`
    const a = await instance(prefix)
    const b = await instance(prefix)
    const alice = await openStream(a.server, { headers: { 'x-user': 'alice' } })
    const bob = await openStream(a.server, { headers: { 'x-user': 'bob' } })
    await sleep(20)
    await b.hub.publish({ data: 'for alice' }, { key: 'alice' })
    await b.hub.publish({ data: 'for everyone' })
    expect((await alice.waitForEvents(2)).map((e) => e.data)).toEqual(['for alice', 'for everyone'])
    expect((await bob.waitForEvents(1)).map((e) => e.data)).toEqual(['for everyone'])
    alice.close()
    bob.close()
  })

  it('tells a client whose history was trimmed that it was lost, and replays what is retained', async () => {
    const prefix = `hub${++prefixes}:`
    const a = await instance(prefix, { maxLen: 3, approximate: false })
    for (let i = 0; i < 2; i++) await a.hub.publish({ data: String(i) })
    const cursor = await a.hub.cursor()
    for (let i = 2; i < 8; i++) await a.hub.publish({ data: String(i) })
    const client = await openStream(a.server, { headers: { 'last-event-id': cursor } })
    expect(client.headers['sse-replay']).toBe('lost')
    const events = await client.waitForEvents(4)
    expect(events[0]!.event).toBe('history-lost')
    expect(events.slice(1).map((e) => e.data)).toEqual(['5', '6', '7'])
    client.close()
  })

  it('keeps a quiet topic’s history when a busy topic trims its own', async () => {
    const prefix = `hub${++prefixes}:`
    const a = await instance(prefix, { maxLen: 5, approximate: false })
    const cursor = await a.hub.cursor({ topics: ['quiet'] })
    await a.hub.publish({ data: 'quiet 1' }, { topic: 'quiet' })
    for (let i = 0; i < 50; i++) await a.hub.publish({ data: `busy ${i}` }, { topic: 'busy' })
    const client = await openStream(a.server, {
      path: '/events?topic=quiet',
      headers: { 'last-event-id': cursor },
    })
    expect(client.headers['sse-replay']).toBe('complete')
    expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['quiet 1'])
    client.close()
  })

  it('ends only the streams of a log whose events were trimmed before this instance read them', async () => {
    const prefix = `hub${++prefixes}:`
    const proxy = await tcpProxy(redis.port)
    cleanups.push(async () => proxy.close())
    // Instance a reaches Redis through the proxy; b publishes and trims to 2 events per log.
    const a = await instance(prefix, {
      redis: `redis://127.0.0.1:${proxy.port}`,
      onError: () => {},
    })
    const b = await instance(prefix, { maxLen: 2, approximate: false })
    const busy = await openStream(a.server, { path: '/events?topic=busy' })
    const quiet = await openStream(a.server, { path: '/events?topic=quiet' })
    await b.hub.publish({ data: 'first' }, { topic: 'busy' })
    await busy.waitForEvents(1)
    const cursor = busy.events()[0]!.id!
    // a's connections stall while b's events push the unread ones out, then drop: a's feed
    // reconnects, finds the gap in the busy topic, and the hub ends the streams that follow it.
    proxy.silence()
    for (let i = 0; i < 5; i++) await b.hub.publish({ data: String(i) }, { topic: 'busy' })
    proxy.drop()
    await busy.waitForClose(10_000)
    expect(a.sessions.map((session) => session.closeReason)).toEqual(['resync', undefined])
    expect(busy.events().map((event) => event.data)).toEqual(['first'])
    // The quiet topic's stream stays open and live.
    await b.hub.publish({ data: 'still live' }, { topic: 'quiet' })
    expect((await quiet.waitForEvents(1)).map((e) => e.data)).toEqual(['still live'])
    expect(quiet.closed).toBe(false)
    // The busy client resumes, and learns what it lost.
    const resumed = await openStream(a.server, {
      path: '/events?topic=busy',
      headers: { 'last-event-id': cursor },
    })
    expect(resumed.headers['sse-replay']).toBe('lost')
    const events = await resumed.waitForEvents(3)
    expect(events.map((event) => event.event ?? event.data)).toEqual(['history-lost', '3', '4'])
    await b.hub.publish({ data: 'live' }, { topic: 'busy' })
    expect((await resumed.waitForEvents(4)).at(-1)?.data).toBe('live')
    resumed.close()
    quiet.close()
  })

  it('a stream held up (no reconnect) while its events were trimmed still gets them all, live', async () => {
    const prefix = `hub${++prefixes}:`
    const proxy = await tcpProxy(redis.port)
    cleanups.push(async () => proxy.close())
    const a = await instance(prefix, { redis: `redis://127.0.0.1:${proxy.port}` })
    const b = await instance(prefix, { maxLen: 2, approximate: false })
    const client = await openStream(a.server)
    await b.hub.publish({ data: 'first' })
    await client.waitForEvents(1)
    proxy.silence()
    for (let i = 0; i < 5; i++) await b.hub.publish({ data: String(i) })
    proxy.resume()
    const events = await client.waitForEvents(6, { timeout: 10_000 })
    expect(events.map((e) => e.data)).toEqual(['first', '0', '1', '2', '3', '4'])
    expect(client.closed).toBe(false)
    client.close()
  })

  it('answers "come back later" (200, retry, Retry-After) when Redis cannot replay, and publish rejects', async () => {
    const store = new RedisStore({
      redis: { host: '127.0.0.1', port: 1, retryStrategy: () => 500 },
      offlineTimeout: 100,
      onError: () => {},
    })
    const errors: unknown[] = []
    const hub = createHub({ store, heartbeat: false, onError: (error) => errors.push(error) })
    const server = await listen(createServer((req, res) => void openNodeStream(req, res, { hub })))
    cleanups.push(async () => {
      await server.close()
      await store.close()
    })
    const client = await openStream(server, { headers: { 'last-event-id': 'a.b.1-0' } })
    expect(client.status).toBe(200)
    expect(client.headers['retry-after']).toBeDefined()
    await client.waitForClose()
    expect(String(errors[0])).toMatch(/RedisStoreError: Redis is unreachable/)
    await expect(hub.publish({ data: 'x' })).rejects.toThrow(/Redis is unreachable/)
  })

  it('hub.watch hears a topic no stream on its instance follows, published on another instance', async () => {
    const prefix = `hub${++prefixes}:`
    const a = await instance(prefix)
    const b = await instance(prefix)
    const heard: string[] = []
    const stop = b.hub.watch({ topics: ['orders'], key: 'ann' }, (event) => {
      heard.push(`${event.event} ${event.data}`)
    })
    await sleep(50)
    await a.hub.publish('order', '1', { topic: 'orders' })
    await a.hub.publish('order', 'other topic', { topic: 'returns' })
    await a.hub.publish('note', 'for ann', { key: 'ann' })
    await a.hub.publish('note', 'for bob', { key: 'bob' })
    await a.hub.publish('all', 'everyone')
    await waitFor('three events', () => heard.length >= 3)
    await sleep(50)
    expect(heard).toEqual(['order 1', 'note for ann', 'all everyone'])
    stop()
    stop()
    await a.hub.publish('order', '2', { topic: 'orders' })
    await sleep(100)
    expect(heard).toHaveLength(3)
  })
})
