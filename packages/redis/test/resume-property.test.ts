import { type ResumeTotals, resumeSteps, runResumeSteps } from '@sse/test-utils'
import fc from 'fast-check'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisCluster, startRedisCluster } from './redis-cluster'
import { type RedisServer, startRedis } from './redis-server'

const RUNS = Number(process.env.RUNS ?? 20)

describeRedis(
  'resume under random interleavings on Redis and a Redis Cluster (C20, C27, C28)',
  () => {
    let redis: RedisServer
    let cluster: RedisCluster
    const clients: Cluster[] = []
    let runs = 0

    beforeAll(async () => {
      ;[redis, cluster] = await Promise.all([startRedis(), startRedisCluster(3)])
    }, 60_000)
    afterAll(async () => {
      for (const client of clients) client.disconnect()
      await Promise.all([redis?.stop(), cluster?.stop()])
    })

    const backends: [string, () => RedisStoreOptions['redis']][] = [
      ['one Redis', () => redis.url],
      [
        'a 3-master Redis Cluster',
        () => {
          const client = cluster.client({ enableOfflineQueue: false })
          clients.push(client)
          return client
        },
      ],
    ]

    async function property(
      connect: () => RedisStoreOptions['redis'],
      maxLen: fc.Arbitrary<number>,
    ) {
      const totals: ResumeTotals = { events: 0, reconnects: 0, missing: 0 }
      await fc.assert(
        fc.asyncProperty(resumeSteps, maxLen, async (steps, length) => {
          const store = new RedisStore({
            redis: connect(),
            prefix: `property:${process.pid}:${++runs}:`,
            maxLen: length,
            approximate: false,
          })
          try {
            await runResumeSteps(steps, store, totals)
          } finally {
            await store.close()
          }
        }),
        { numRuns: RUNS },
      )
      return totals
    }

    for (const [name, connect] of backends) {
      it(`${name}: loses nothing and repeats nothing, per topic`, async () => {
        const totals = await property(connect, fc.constant(100_000))
        console.log(
          `resume property on ${name}: ${totals.events} events, ${totals.reconnects} reconnects, 0 lost, 0 repeated`,
        )
        expect(totals.missing).toBe(0)
        expect(totals.events).toBeGreaterThan(1000)
      }, 120_000)

      it(`${name}: with random trims, misses an event only after being told its topic lost history`, async () => {
        const totals = await property(connect, fc.integer({ min: 5, max: 60 }))
        console.log(
          `resume property with trims on ${name}: ${totals.events} events, ${totals.missing} missed after a history-lost signal`,
        )
        expect(totals.missing).toBeGreaterThan(0)
      }, 120_000)
    }
  },
)
