import type { StoredEvent } from '@sse/core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { type RedisServer, startRedis } from './redis-server'

/** What {@link useStores} gives a suite. */
export interface StoreFixture {
  /** The suite's redis-server (started before its first test). */
  readonly redis: RedisServer
  /** A store on fresh keys (unless `options.prefix` names shared ones), closed after the test. */
  store(options?: RedisStoreOptions): RedisStore
  /** Closes a store made elsewhere after the test, as the fixture's own. */
  closeAfter(store: RedisStore): RedisStore
}

/**
 * Starts a redis-server for the suite it is called in, and makes stores on it that report every
 * error: a test fails if any store reported one.
 */
export function useStores(prefix: string, defaults: RedisStoreOptions = {}): StoreFixture {
  let redis: RedisServer | undefined
  let stores: RedisStore[] = []
  let errors: unknown[] = []
  let prefixes = 0

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()))
    stores = []
    expect(errors).toEqual([])
    errors = []
  })

  return {
    get redis() {
      if (!redis) throw new Error('the redis-server starts in beforeAll')
      return redis
    },
    store(options = {}) {
      const created = new RedisStore({
        redis: redis!.url,
        prefix: `${prefix}${++prefixes}:`,
        onError: (error) => errors.push(error),
        ...defaults,
        ...options,
      })
      stores.push(created)
      return created
    },
    closeAfter(store) {
      stores.push(store)
      return store
    },
  }
}

/** The data of each event, in order. */
export const data = (events: readonly StoredEvent[]) => events.map((e) => e.data)
