import type { MemoryStoreOptions } from '@sse/core'
import { coreNodeTarget, runConformance } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

const target = coreNodeTarget({ name: 'core over node:http with every hub on RedisStore' })

describeRedis('conformance on Redis', () => {
  let redis: RedisServer
  const stores: RedisStore[] = []
  let count = 0

  /**
   * Every hub of the suite on Redis, taking the retention a case asks of a MemoryStore (maxEvents
   * per log as maxLen; maxBytes as is, though Redis counts UTF-8 bytes of topic and key too, and
   * keeps a log's newest event whatever its size); each on its own prefix, so a new store is a
   * new history with its own epoch, as a restarted MemoryStore is.
   */
  const redisStore = (options: MemoryStoreOptions) => {
    const store = new RedisStore({
      redis: redis.url,
      prefix: `conformance:${process.pid}:${++count}:`,
      maxLen: options.maxEvents ?? 1000,
      maxAge: options.maxAge,
      maxBytes: options.maxBytes,
      approximate: false,
    })
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
    // The suite's hubs really were on Redis.
    expect(count).toBeGreaterThan(5)
  })
  runConformance(target, { store: redisStore })
})
