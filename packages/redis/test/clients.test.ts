import { Redis as Redis5 } from 'ioredis'
import { Redis as Redis6 } from 'ioredis6'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

describeRedis('RedisStore with a client the application shares', () => {
  let redis: RedisServer

  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  // The store's own ioredis is 5; a client of another copy or major must still be taken as a
  // client, not as options (which would connect to 127.0.0.1:6379, where nothing listens here).
  const clients: [string, (url: string) => Redis5][] = [
    ['ioredis 5', (url) => new Redis5(url)],
    // The store types its option with the ioredis the application installed (a peer).
    ['ioredis 6', (url) => new Redis6(url) as unknown as Redis5],
  ]
  for (const [major, connect] of clients) {
    it(`uses an ${major} client as given, and leaves it open on close()`, async () => {
      const client = connect(redis.url)
      const errors: unknown[] = []
      const store = new RedisStore({
        redis: client,
        prefix: `${major.replace(' ', '')}:`,
        offlineTimeout: 1000,
        onError: (error) => errors.push(error),
      })
      try {
        expect(store.client).toBe(client)
        const live: string[] = []
        store.subscribe((event) => live.push(event.data))
        await store.follow('*')
        const [first] = await store.append([{ log: '*', data: 'one' }])
        await store.append([{ log: '*', data: 'two' }])
        const read = await store.read('*', first!.position)
        expect(read.events.map((e) => e.data)).toEqual(['two'])
        const deadline = Date.now() + 5000
        while (live.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
        expect(live).toEqual(['one', 'two'])
      } finally {
        await store.close()
      }
      expect(client.status).toBe('ready')
      expect(errors).toEqual([])
      client.disconnect()
    })
  }
})
