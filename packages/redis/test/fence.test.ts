import { createHub } from '@sse/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisFencedError, RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

describeRedis('RedisStore.fenced: a fencing token checked in the append script', () => {
  let redis: RedisServer
  let store: RedisStore

  beforeAll(async () => {
    redis = await startRedis()
    store = new RedisStore({ redis: redis.url, prefix: 'fence:' })
  })
  afterAll(async () => {
    await store?.close()
    await redis?.stop()
  })

  it('stores a publish whose token is not below the last one, refuses an older one, leaves others alone', async () => {
    const hub = createHub({ store, onError: () => {} })
    const publish = (token: number, n: number) =>
      store.fenced({ key: 'fence:ticks', token }, () => hub.publish('tick', { n }))
    await publish(1, 1)
    await publish(3, 3)
    await publish(3, 4) // one token may publish more than once
    // A holder of token 2 whose publish arrives late: refused, nothing stored.
    const late = publish(2, 2)
    await expect(late).rejects.toBeInstanceOf(RedisFencedError)
    await expect(late).rejects.toThrow(/token 2 is below/)
    await hub.publish('note', 'unfenced appends are not checked')
    const { events } = await store.read('*', undefined)
    expect(events.map((event) => event.data)).toEqual([
      '{"n":1}',
      '{"n":3}',
      '{"n":4}',
      'unfenced appends are not checked',
    ])
    expect(await store.client.get('fence:ticks')).toBe('3')
    expect(() => store.fenced({ key: 'k', token: 1.5 }, () => {})).toThrow(TypeError)
  })
})
