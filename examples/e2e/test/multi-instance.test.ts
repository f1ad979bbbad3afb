import { afterAll, beforeAll } from 'vitest'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'
import { smokeSuite } from './smoke.ts'

describeRedis('examples/multi-instance on a real Redis', () => {
  let redis: RedisServer
  let db = 0

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  // The same contract as the other examples. The suite's two servers each get a database of
  // their own: on one, they would share the ticks (and the tick lease).
  smokeSuite('multi-instance', { env: () => ({ REDIS_URL: `${redis.url}/${++db}` }) })
})
