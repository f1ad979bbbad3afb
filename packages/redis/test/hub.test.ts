import { createServer } from 'node:http'
import { createHub, type Hub, type SseStream } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen, openStream, type ServerUnderTest, sleep } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'
import { silenceableProxy } from './silenceable-proxy'

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

  /** An instance of the application: a hub on the shared stream and a server; `?topic=` repeats. */
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
    const sent: { id: string; topic: string }[] = []
    const publish = async (hub: Hub, topic: string, data: string) => {
      sent.push({ id: await hub.publish({ event: topic, data }, { topic }), topic })
    }
    const first = await openStream(a.server, { path: '/events?topic=x&topic=y' })
    await sleep(20)
    for (let i = 0; i < 12; i++)
      await publish(i % 2 ? a.hub : b.hub, ['x', 'y', 'z'][i % 3]!, `${i}`)
    const wanted = sent.filter((s) => s.topic !== 'z').map((s) => s.id)
    const seen = await first.waitForEvents(wanted.length)
    expect(seen.map((e) => e.id)).toEqual(wanted)
    first.close()
    // The client stopped after its third event; more events on all three topics follow.
    const cursor = seen[2]!.id!
    for (let i = 12; i < 24; i++)
      await publish(i % 2 ? a.hub : b.hub, ['x', 'y', 'z'][i % 3]!, `${i}`)
    const resumed = await openStream(b.server, {
      path: '/events?topic=x&topic=y',
      headers: { 'last-event-id': cursor },
    })
    expect(resumed.headers['sse-replay']).toBe('complete')
    const after = sent.filter((s) => s.topic !== 'z' && a.store.compare(s.id, cursor) > 0)
    await resumed.waitForEvents(after.length)
    await publish(a.hub, 'y', 'live')
    const all = await resumed.waitForEvents(after.length + 1)
    expect(all.map((e) => e.id)).toEqual([...after.map((s) => s.id), sent.at(-1)!.id])
    expect(all.map((e) => e.event)).toEqual([...after.map((s) => s.topic), 'y'])
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
    const ids: string[] = []
    for (let i = 0; i < 8; i++) ids.push(await a.hub.publish({ data: String(i) }))
    const client = await openStream(a.server, { headers: { 'last-event-id': ids[1]! } })
    expect(client.headers['sse-replay']).toBe('lost')
    const events = await client.waitForEvents(4)
    expect(events[0]!.event).toBe('history-lost')
    expect(events.slice(1).map((e) => e.data)).toEqual(['5', '6', '7'])
    client.close()
  })

  it('ends its streams with resync when events were trimmed before this instance read them', async () => {
    const prefix = `hub${++prefixes}:`
    const proxy = await silenceableProxy(redis.port)
    cleanups.push(async () => proxy.close())
    const reports: unknown[] = []
    // Instance a reaches Redis through the proxy; b publishes and trims to 2 events.
    const a = await instance(prefix, {
      redis: `redis://127.0.0.1:${proxy.port}`,
      onError: (error) => reports.push(error),
    })
    const b = await instance(prefix, { maxLen: 2, approximate: false })
    const client = await openStream(a.server)
    const first = await b.hub.publish({ data: 'first' })
    await client.waitForEvents(1)
    // a's connections stall (no bytes either way) while b's events push the unread ones out,
    // then drop: a's reader reconnects, finds the gap, and the hub ends its streams.
    proxy.silence()
    for (let i = 0; i < 5; i++) await b.hub.publish({ data: String(i) })
    proxy.drop()
    await client.waitForClose(10_000)
    expect(a.sessions.map((session) => session.closeReason)).toEqual(['resync'])
    expect(client.events().map((event) => event.data)).toEqual(['first'])
    expect(reports.map(String)).toContainEqual(
      expect.stringMatching(/events after .* were trimmed .* before this process read them/),
    )
    // The client resumes, and learns what it lost.
    const resumed = await openStream(a.server, { headers: { 'last-event-id': first } })
    expect(resumed.headers['sse-replay']).toBe('lost')
    const events = await resumed.waitForEvents(3)
    expect(events.map((event) => event.event ?? event.data)).toEqual(['history-lost', '3', '4'])
    // Then live events again, on the same stream.
    await b.hub.publish({ data: 'live' })
    expect((await resumed.waitForEvents(4)).at(-1)?.data).toBe('live')
    resumed.close()
  })

  it('ends its streams with resync when events were trimmed while its reader was slow, without a reconnect', async () => {
    const prefix = `hub${++prefixes}:`
    const proxy = await silenceableProxy(redis.port)
    cleanups.push(async () => proxy.close())
    const reports: unknown[] = []
    const a = await instance(prefix, {
      redis: `redis://127.0.0.1:${proxy.port}`,
      onError: (error) => reports.push(error),
    })
    const b = await instance(prefix, { maxLen: 2, approximate: false })
    const client = await openStream(a.server)
    await b.hub.publish({ data: 'first' })
    await client.waitForEvents(1)
    // a's reader is held up (not disconnected) while b's events push the unread ones out; when
    // it reads again, the first entry it gets names a predecessor it never saw.
    proxy.silence()
    for (let i = 0; i < 5; i++) await b.hub.publish({ data: String(i) })
    proxy.resume()
    await client.waitForClose(10_000)
    expect(a.sessions.map((session) => session.closeReason)).toEqual(['resync'])
    expect(reports.map(String)).toContainEqual(
      expect.stringMatching(/were trimmed .* before this process read them/),
    )
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
    const client = await openStream(server, { headers: { 'last-event-id': '1-0' } })
    expect(client.status).toBe(200)
    expect(client.headers['retry-after']).toBeDefined()
    await client.waitForClose()
    expect(String(errors[0])).toMatch(/RedisStoreError: Redis is unreachable/)
    await expect(hub.publish({ data: 'x' })).rejects.toThrow(/Redis is unreachable/)
  })
})
