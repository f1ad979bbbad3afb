import { createHub } from '@sse/core'
import { sleep, waitFor } from '@sse/test-utils'
import { EventSource } from 'eventsource'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { type Instance, startInstance } from './instances'
import { type RedisServer, startRedis } from './redis-server'

describeRedis('two application processes on one Redis', () => {
  let redis: RedisServer
  const instances: Instance[] = []

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const instance of instances) await instance.kill()
    await redis?.stop()
  })

  it('a client on instance A, A killed mid-stream, resumes on B with Last-Event-ID: every event exactly once', async () => {
    const prefix = 'multi:'
    const [a, b] = await Promise.all([
      startInstance(redis.url, prefix),
      startInstance(redis.url, prefix),
    ])
    instances.push(a!, b!)
    // A third process role: the publisher, with its own store on the same stream.
    const store = new RedisStore({ redis: redis.url, prefix })
    const hub = createHub({ store })

    // The "load balancer": the client's URL goes to A until A dies, then to B.
    let upstream = a!.url
    const requests: { url: string; lastEventId: string | undefined; replay: string | null }[] = []
    const source = new EventSource('http://app.test/events?topic=t', {
      fetch: async (url, init) => {
        const target = String(url).replace('http://app.test', upstream)
        const response = await fetch(target, init)
        requests.push({
          url: target,
          lastEventId: init.headers['Last-Event-ID'],
          replay: response.headers.get('sse-replay'),
        })
        return response
      },
    })
    const received: { data: string; id: string }[] = []
    source.addEventListener('message', (event) => {
      received.push({ data: event.data, id: event.lastEventId })
    })
    try {
      await waitFor('the client to connect to A', () => source.readyState === EventSource.OPEN)

      const total = 300
      let killedAfter: string | undefined
      for (let i = 0; i < total; i++) {
        await hub.publish({ data: String(i) }, { topic: 't' })
        // Another topic on the same stream, which this client does not follow.
        if (i % 10 === 0) await hub.publish({ data: `other ${i}` }, { topic: 'u' })
        if (i === 100) {
          await waitFor('the client to be mid-stream', () => received.length >= 50)
          killedAfter = received.at(-1)!.id
          await a!.kill()
          upstream = b!.url
        }
        if (i % 5 === 0) await sleep(2)
      }
      await waitFor(`${total} events (got ${received.length})`, () => received.length >= total, {
        timeout: 15_000,
      })
      await sleep(100)

      expect(received.map((e) => e.data)).toEqual(Array.from({ length: total }, (_, i) => `${i}`))
      // The cursor holds a position per log of the stream, sorted: '*', then topic t's.
      const positionOfT = (cursor: string) => cursor.split('.')[3]!
      for (let i = 1; i < received.length; i++) {
        const [before, after] = [received[i - 1]!.id, received[i]!.id].map(positionOfT)
        expect(store.compare(before!, after!)).toBeLessThan(0)
      }
      expect(a!.process.signalCode).toBe('SIGKILL')
      expect(requests[0]).toMatchObject({ url: expect.stringContaining(a!.url) })
      const onB = requests.filter((request) => request.url.startsWith(b!.url))
      expect(onB.length).toBeGreaterThanOrEqual(1)
      expect(onB[0]!.replay).toBe('complete')
      // The client had more than it had seen when A was killed: events in flight came from B.
      expect(
        store.compare(positionOfT(onB[0]!.lastEventId!), positionOfT(killedAfter!)),
      ).toBeGreaterThanOrEqual(0)
    } finally {
      source.close()
      await store.close()
    }
  })
})
