import { afterAll, beforeAll } from 'vitest'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'
import { smokeSuite } from './smoke.ts'

describeRedis('examples/multi-instance on a real Redis', () => {
  let redis: RedisServer[] = []
  let next = 0

  beforeAll(async () => {
    redis = await Promise.all([startRedis(), startRedis()])
  })
  afterAll(async () => {
    await Promise.all(redis.map((server) => server.stop()))
  })

  // The same contract as the other examples. The suite's two servers must not share state: on
  // one Redis they would share the ticks (and the tick lease). Each gets a Redis server of its
  // own, not only a database: the store's live feed is Redis Pub/Sub, whose channels every
  // database of a server shares, so two stores with the same prefix on two databases of one
  // server hear each other's events.
  smokeSuite('multi-instance', { env: () => ({ REDIS_URL: redis[next++ % redis.length]!.url }) })
})
