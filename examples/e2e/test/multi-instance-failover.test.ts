import {
  connectEventSource,
  type EventSourceClient,
  openStream,
  type StreamClient,
  sleep,
  waitFor,
} from '@sse/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Route, type RunningProxy, startProxy } from '../../multi-instance/src/proxy.ts'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

function post(app: RunningExample, text: string): Promise<Response> {
  return fetch(`${app.url}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  })
}

async function notify(app: RunningExample, text: string): Promise<void> {
  const response = await post(app, text)
  expect(response.status).toBe(202)
  expect(await response.json()).toEqual({ ok: true })
}

describeRedis('examples/multi-instance: two instances on one Redis, one killed', () => {
  let redis: RedisServer
  let proxy: RunningProxy
  const apps: RunningExample[] = []
  const routes: Route[] = []
  const clients: (EventSourceClient | StreamClient)[] = []

  beforeAll(async () => {
    redis = await startRedis()
    const env = { REDIS_URL: redis.url, TICK_MS: '100' }
    apps.push(
      ...(await Promise.all([
        startExample('multi-instance', { ...env, INSTANCE: 'a' }),
        startExample('multi-instance', { ...env, INSTANCE: 'b' }),
      ])),
    )
    proxy = await startProxy({
      upstreams: apps.map((app) => app.port),
      onRoute: (route) => routes.push(route),
    })
  }, 90_000)

  afterAll(async () => {
    for (const client of clients) client.close()
    await proxy?.close()
    await Promise.all(apps.map((app) => app.stop()))
    await redis?.stop()
  })

  it('a client behind the proxy resumes on the other instance with every event exactly once', async () => {
    const client = connectEventSource(
      { url: proxy.url, http2: false },
      { events: ['tick', 'notification'] },
    )
    clients.push(client)
    const ticks = () => client.messages.filter((message) => message.type === 'tick')
    const texts = () =>
      client.messages
        .filter((message) => message.type === 'notification')
        .map((message) => JSON.parse(message.data).text as string)
    await waitFor('3 ticks', () => ticks().length >= 3, { timeout: 10_000 })

    // The instance the client's stream went through the proxy to dies; the other lives on.
    const route = routes.find((r) => r.request.startsWith('GET /events'))!
    const victim = apps.find((app) => app.port === route.upstream)!
    const survivor = apps.find((app) => app !== victim)!
    const survivorName = victim === apps[0] ? 'b' : 'a'

    // Published while both are up, on both.
    const sent = ['up 1', 'up 2', 'up 3']
    await notify(victim, sent[0]!)
    await notify(survivor, sent[1]!)
    await notify(victim, sent[2]!)
    await waitFor('the notifications sent while both are up', () => texts().length === 3, {
      timeout: 10_000,
    })

    await victim.kill()
    const killedAt = Date.now()
    // Published while the client is away: its EventSource waits `retry` (1 s) to reconnect.
    for (let i = 1; i <= 5; i++) sent.push(`down ${i}`)
    for (const text of sent.slice(3)) await notify(survivor, text)
    const publishedAt = Date.now()
    await waitFor('the client to reconnect', () => client.requests.length >= 2, {
      timeout: 10_000,
    })
    await waitFor('the notifications missed while away', () => texts().length === 8, {
      timeout: 10_000,
    })
    // And live on the survivor.
    sent.push('after 1', 'after 2')
    await notify(survivor, 'after 1')
    await notify(survivor, 'after 2')
    await waitFor('the notifications sent after the reconnect', () => texts().length === 10, {
      timeout: 10_000,
    })
    // The ticks go on: the survivor holds the tick lease now (at once, or once the victim's
    // lease has expired).
    await waitFor(
      'ticks from the survivor after the kill',
      () => ticks().filter((tick) => tick.at > killedAt).length >= 3,
      { timeout: 10_000 },
    )

    const messages = [...client.messages]
    const reconnect = client.requests[1]!
    // The client was away while the notifications were published: they came as a replay.
    expect(publishedAt).toBeLessThan(reconnect.at)
    expect(client.requests).toHaveLength(2)
    const lastBefore = messages.filter((message) => message.at <= killedAt).at(-1)!
    expect(reconnect.headers['Last-Event-ID']).toBe(lastBefore.lastEventId)
    expect(routes.filter((r) => r.request.startsWith('GET /events')).at(-1)!.upstream).toBe(
      survivor.port,
    )

    // Every notification once, in the order published; no id twice, across both instances.
    expect(texts()).toEqual(sent)
    const ids = messages.map((message) => message.lastEventId)
    expect(ids.every((id) => id !== '')).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    // Ticks: `n` strictly increasing across the two publishers, and only the survivor ticks
    // once the victim is dead.
    const tickData = messages
      .filter((message) => message.type === 'tick')
      .map((message) => ({ ...JSON.parse(message.data), at: message.at }))
    for (let i = 1; i < tickData.length; i++) {
      expect(tickData[i].n).toBeGreaterThan(tickData[i - 1].n)
    }
    const lastTick = tickData.at(-1)!
    expect(lastTick.instance).toBe(survivorName)

    // Nothing lost: what the survivor holds after the client's first event is exactly what the
    // client got after it (ticks included).
    const reference = await openStream(
      { url: survivor.url, http2: false },
      { headers: { 'last-event-id': ids[0]! } },
    )
    clients.push(reference)
    expect(reference.headers['sse-replay']).toBe('complete')
    const replayed = await reference.waitForEvents(ids.length - 1, { timeout: 10_000 })
    expect(replayed.slice(0, ids.length - 1).map((event) => event.id)).toEqual(ids.slice(1))
  })
})

describeRedis('examples/multi-instance: Redis down for a while', () => {
  let redis: RedisServer
  let app: RunningExample
  let stream: StreamClient | undefined

  beforeAll(async () => {
    // Persistent: Redis comes back with its data. (One that comes back empty makes the store
    // report a gap, and the hub ends its streams so that they resume from the store.)
    redis = await startRedis({ persistent: true })
    app = await startExample('multi-instance', { REDIS_URL: redis.url, TICK_MS: '100' })
  }, 90_000)

  afterAll(async () => {
    stream?.close()
    await app?.stop()
    await redis?.stop()
  })

  it('POST /notify answers 503 meanwhile; open streams stay open and go on once it is back', async () => {
    stream = await openStream({ url: app.url, http2: false })
    await stream.waitForEvents(2, { timeout: 10_000 })
    await redis.kill()
    const refused = await post(app, 'while Redis is down')
    expect(refused.status).toBe(503)
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/Redis/) })
    expect(stream.closed).toBe(false)

    await redis.start()
    // ioredis reconnects with a backoff: retry until the store takes events again.
    const deadline = Date.now() + 15_000
    let status = 0
    while (status !== 202 && Date.now() < deadline) {
      await sleep(200)
      status = (await post(app, 'Redis is back')).status
    }
    expect(status).toBe(202)
    const texts = () =>
      stream!
        .events()
        .filter((event) => event.event === 'notification')
        .map((event) => JSON.parse(event.data).text)
    await waitFor(
      'the notification on the stream opened before the outage',
      () => texts().length > 0,
      {
        timeout: 10_000,
      },
    )
    expect(texts()).toEqual(['Redis is back'])
    expect(stream.closed).toBe(false)
    // The instance went through it without crashing, and ticks again.
    const ticksBefore = stream.events().filter((event) => event.event === 'tick').length
    await waitFor(
      'ticks after the outage',
      () => stream!.events().filter((event) => event.event === 'tick').length >= ticksBefore + 2,
      { timeout: 10_000 },
    )
  })
})
