import { openStream, type StreamClient, sleep, tcpProxy, waitFor } from '@sse/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

type Tick = { n: number; instance: string }

function ticksOf(stream: StreamClient): Tick[] {
  return stream
    .events()
    .filter((event) => event.event === 'tick')
    .map((event) => JSON.parse(event.data))
}

describeRedis('examples/multi-instance: the tick lease under a network stall', () => {
  let redis: RedisServer
  let proxy: Awaited<ReturnType<typeof tcpProxy>>
  const apps: RunningExample[] = []
  const streams: StreamClient[] = []

  beforeAll(async () => {
    redis = await startRedis()
    proxy = await tcpProxy(redis.port)
  }, 30_000)

  afterAll(async () => {
    for (const stream of streams) stream.close()
    await Promise.all(apps.map((app) => app.stop()))
    proxy?.close()
    await redis?.stop()
  })

  it('a holder whose reply stalls past the lease (3.5 s) never publishes after the next holder', async () => {
    // `a` reaches Redis through the proxy and takes the lease first; `b` connects directly.
    // TICK_MS 100: the lease lasts 2 s.
    const env = { TICK_MS: '100' }
    const a = await startExample('multi-instance', {
      ...env,
      INSTANCE: 'a',
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    })
    apps.push(a)
    const onA = await openStream({ url: a.url, http2: false })
    streams.push(onA)
    await waitFor('ticks from a', () => ticksOf(onA).length >= 3, { timeout: 10_000 })
    const b = await startExample('multi-instance', { ...env, INSTANCE: 'b', REDIS_URL: redis.url })
    apps.push(b)
    const onB = await openStream({ url: b.url, http2: false })
    streams.push(onB)
    await waitFor('ticks on b', () => ticksOf(onB).length >= 2, { timeout: 10_000 })

    // Redis runs a's next tick script (its lease renewed, its `n` counted), and the reply waits
    // in the network for 3.5 s: the lease expires meanwhile and b takes it over.
    proxy.holdReplies()
    await sleep(3500)
    expect(ticksOf(onB).some((tick) => tick.instance === 'b')).toBe(true)
    proxy.release()
    await sleep(1000)

    // Every tick in order, across the handover: a's stale `n` was not published after b's.
    const ns = ticksOf(onB).map((tick) => tick.n)
    for (let i = 1; i < ns.length; i++) expect(ns[i]).toBeGreaterThan(ns[i - 1]!)
    // It was counted, tried, and refused by the fence.
    await waitFor('a to try its stale tick', () => /tick \d+ fenced out/.test(a.output()), {
      timeout: 5000,
    })
    const stale = Number(/tick (\d+) fenced out/.exec(a.output())![1])
    expect(ns).not.toContain(stale)
    expect(Math.max(...ns)).toBeGreaterThan(stale)
  }, 40_000)
})
