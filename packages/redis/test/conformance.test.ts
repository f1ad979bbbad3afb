import type { MemoryStoreOptions } from '@sse/core'
import { coreNodeTarget, runConformance } from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest'
import type { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

// The suite builds its hubs with core's default store or `new MemoryStore(...)`. To run every
// case on Redis instead, core's memory-store module is replaced, for this file only, by a
// RedisStore that takes MemoryStore's options (each instance on its own key, so a new store is
// a new id space as a restarted MemoryStore is).
// TODO(test-utils): a `store` factory in RunConformanceOptions would make this mock unnecessary.
const state = vi.hoisted(() => ({ url: '', stores: [] as RedisStore[], count: 0 }))

vi.mock('../../core/src/memory-store', async (importOriginal) => {
  const { RedisStore } = await import('../src/index')
  class RedisBackedStore extends RedisStore {
    constructor(options: MemoryStoreOptions = {}) {
      super({
        redis: state.url,
        prefix: `conformance:${process.pid}:${++state.count}:`,
        maxLen: options.maxEvents ?? 1000,
        maxAge: options.maxAge,
        approximate: false,
      })
      state.stores.push(this)
    }
  }
  return { ...(await importOriginal<object>()), MemoryStore: RedisBackedStore }
})

const target = coreNodeTarget({ name: 'core over node:http with every hub on RedisStore' })

describeRedis('conformance on Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
    state.url = redis.url
  })
  afterEach(async () => {
    await Promise.all(state.stores.splice(0).map((store) => store.close()))
  })
  afterAll(async () => {
    await redis?.stop()
    // Guards the mock: the suite's hubs really were on Redis.
    expect(state.count).toBeGreaterThan(5)
  })
  runConformance(target)
})
