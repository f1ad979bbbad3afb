import type { MemoryStoreOptions } from '@sse/core'
import { RedisStore } from '@sse/redis'
import { durableCases, runConformance } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest'
import { REDIS_REQUIRED } from '../../packages/redis/test/describe-redis'
import {
  type RedisServer,
  redisAvailable,
  startRedis,
} from '../../packages/redis/test/redis-server'
import { timeFile } from './support/figures'
import { adapters } from './support/targets'

timeFile(import.meta.url)

if (!redisAvailable && REDIS_REQUIRED) {
  throw new Error(
    'the durable cases on Redis need redis-server (SSE_REQUIRE_REDIS=1): apt-get install redis-server',
  )
}
if (!redisAvailable)
  console.warn('[durable on Redis] redis-server missing: these cases are SKIPPED')

// C29-C31 on every adapter with RedisStore; each adapter's own suite runs them on MemoryStore,
// and packages/redis runs the whole suite on Redis with core's node:http connection.
describe.skipIf(!redisAvailable)('durable streams on RedisStore, per adapter', () => {
  let redis: RedisServer
  const stores: RedisStore[] = []
  let count = 0
  const redisStore = (_options: MemoryStoreOptions) => {
    const store = new RedisStore({ redis: redis.url, prefix: `durable:${process.pid}:${++count}:` })
    stores.push(store)
    return store
  }
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })
  afterAll(async () => {
    await redis?.stop()
    // Every case's hub really was on Redis.
    expect(count).toBe(adapters.length * durableCases.length)
  })
  for (const target of adapters) {
    runConformance(target, { store: redisStore, cases: durableCases, variants: [] })
  }
})
