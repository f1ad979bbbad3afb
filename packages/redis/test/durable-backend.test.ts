import { sleep, waitFor } from '@sse/test-utils'
import { expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { useStores } from './store-fixture'

const ID = 'AAAAAAAAAAAAAAAAAAAAAA'
const init = { token: 't', owner: undefined, ttl: 60_000, lease: 60_000 }

describeRedis('durable streams on RedisStore, the backend', () => {
  const fixture = useStores('durable-backend:')

  it('C31: an idempotency key whose stream expired starts a new one', async () => {
    const store = fixture.store()
    const first = await store.durable.create({ ...init, id: ID, idempotencyKey: 'k' })
    expect(first).toEqual({ id: ID, created: true })
    const other = 'BBBBBBBBBBBBBBBBBBBBBB'
    const again = await store.durable.create({ ...init, id: other, idempotencyKey: 'k' })
    expect(again).toEqual({ id: ID, created: false })
    // The loser's record is gone: nobody has its id.
    expect(await store.durable.state(other)).toBeUndefined()
    // What the TTL does to a stream whose key outlives it.
    const stream = store.streamKey(`d${ID}`)
    await store.client.del(`${stream}:r`, `${stream}:l`)
    const third = await store.durable.create({ ...init, id: other, idempotencyKey: 'k' })
    expect(third).toEqual({ id: other, created: true })
  })

  it('an append sent again after its reply was lost returns what the first one stored, once', async () => {
    const store = fixture.store()
    const log = `d${ID}`
    await store.durable.create({ ...init, id: ID, idempotencyKey: undefined })
    const first = await store.durable.append(
      ID,
      't',
      [
        { log, data: 'a' },
        { log, data: 'b' },
      ],
      0,
    )
    // The producer saw an error and sends the same write again, with the count it had before.
    const again = await store.durable.append(
      ID,
      't',
      [
        { log, data: 'a' },
        { log, data: 'b' },
      ],
      0,
    )
    expect(again?.map((e) => e.position)).toEqual(first?.map((e) => e.position))
    const next = await store.durable.append(ID, 't', [{ log, data: 'c' }], 2)
    expect(await store.client.xlen(store.streamKey(log))).toBe(3)
    expect(next?.[0]?.position).not.toBe(first?.[1]?.position)
  })

  it('a renewal whose idempotency key cannot be kept still renews, and reports the key', async () => {
    const errors: unknown[] = []
    const store = fixture.store({ onError: (error) => errors.push(error) })
    await store.durable.create({ ...init, id: ID, idempotencyKey: 'renewed' })
    // The key lives in its own slot, so it is a second call: make that call fail (a key of the
    // wrong type) while the renewal itself succeeds.
    const [key] = await store.client.keys('durable-backend:*{irenewed}')
    await store.client.del(key!)
    await store.client.hset(key!, 'x', '1')
    expect(await store.durable.renew(ID, 't', 60_000)).toBe(true)
    expect(errors.map(String)).toEqual([
      expect.stringContaining('keeping an idempotency key failed'),
    ])
  })

  it('a store closed right after a start reports nothing of the cancel subscription it left', async () => {
    const errors: unknown[] = []
    const store = fixture.store({ onError: (error) => errors.push(error) })
    await store.durable.create({ ...init, id: ID, idempotencyKey: undefined })
    await store.close()
    await sleep(200)
    expect(errors).toEqual([])
  })

  it('C31: a cancel reaches the producer of its own database only', async () => {
    const [zero, one] = [0, 1].map(
      (db) => new RedisStore({ redis: `${fixture.redis.url}/${db}`, prefix: 'durable-db:' }),
    )
    const heard: string[] = []
    try {
      for (const [name, store] of [
        ['zero', zero!],
        ['one', one!],
      ] as const) {
        const init = { id: ID, token: 't', owner: undefined, idempotencyKey: undefined }
        expect(await store.durable.create({ ...init, ttl: 60_000, lease: 60_000 })).toEqual({
          id: ID,
          created: true,
        })
        store.durable.onCancel((id) => heard.push(`${name} ${id}`))
      }
      // The cancel channels are subscribed after create returns (renewals find a cancel sent before).
      await sleep(300)
      await one!.durable.cancel(ID)
      await waitFor('the cancel on database 1', () => heard.length > 0)
      await sleep(100)
      expect(heard).toEqual([`one ${ID}`])
      // Nor is the stream of database 0 marked cancelled: its renewal finds nothing.
      expect(await zero!.durable.renew(ID, 't', 60_000)).toBe(true)
      expect(heard).toEqual([`one ${ID}`])
    } finally {
      await Promise.all([zero!.close(), one!.close()])
    }
  })
})
