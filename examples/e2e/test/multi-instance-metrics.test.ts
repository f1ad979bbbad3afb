import { openHttp1Stream, type StreamClient, sleep } from '@sse/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

/** The samples of a Prometheus text exposition: `name{labels}` to value, without `otel_scope_name`. */
async function scrape(app: RunningExample): Promise<Map<string, number>> {
  const response = await fetch(`${app.url}/metrics`)
  expect(response.status).toBe(200)
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('sse_')) continue
    const at = line.lastIndexOf(' ')
    const name = line
      .slice(0, at)
      .replace(/,?otel_scope_name="[^"]*"/, '')
      .replace('{,', '{')
    samples.set(name, Number(line.slice(at + 1)))
  }
  return samples
}

describeRedis('examples/multi-instance: GET /metrics for Prometheus', () => {
  let redis: RedisServer
  let app: RunningExample
  const clients: StreamClient[] = []

  beforeAll(async () => {
    redis = await startRedis()
    // No ticks during the test: every published event is one of the scenario's.
    app = await startExample('multi-instance', { REDIS_URL: redis.url, TICK_MS: '3600000' })
  }, 60_000)

  afterAll(async () => {
    for (const client of clients) client.close()
    await app?.stop()
    await redis?.stop()
  })

  it('counts a scripted scenario exactly: three streams, one leaves, two notifications', async () => {
    for (let i = 0; i < 3; i++) clients.push(await openHttp1Stream(app.url))
    clients[2]!.close()
    // The server sees the leaving client first, so each notification goes to two streams.
    let samples = await scrape(app)
    for (let tries = 0; samples.get('sse_streams_active{sse_hub="ticks"}') !== 2; tries++) {
      if (tries === 200) throw new Error(`sse_streams_active never came to 2: ${[...samples]}`)
      await sleep(25)
      samples = await scrape(app)
    }
    for (const text of ['one', 'two']) {
      const response = await fetch(`${app.url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      })
      expect(response.status).toBe(202)
    }
    await Promise.all(clients.slice(0, 2).map((client) => client.waitForEvents(2)))
    samples = await scrape(app)
    expect(samples.get('sse_streams_active{sse_hub="ticks"}')).toBe(2)
    expect(samples.get('sse_streams_opened_total{sse_hub="ticks",sse_resuming="false"}')).toBe(3)
    expect(samples.get('sse_streams_closed_total{sse_hub="ticks",sse_close_reason="client"}')).toBe(
      1,
    )
    expect(samples.get('sse_events_published_total{sse_hub="ticks",sse_history="true"}')).toBe(2)
    expect(samples.get('sse_events_delivered_total{sse_hub="ticks"}')).toBe(4)
    expect(samples.has('sse_limit_refusals_total{sse_hub="ticks",sse_limit="maxStreams"}')).toBe(
      false,
    )
  })
})
