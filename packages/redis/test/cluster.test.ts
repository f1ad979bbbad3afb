import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, type Hub, type MemoryStoreOptions } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { coreNodeTarget, openStream, runConformance, sleep, waitFor } from '@sse/test-utils'
import type { Cluster } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index'
import { describeRedis } from './describe-redis'
import { clusterReady, type RedisCluster, startRedisCluster } from './redis-cluster'

const target = coreNodeTarget({
  name: 'core over node:http with every hub on a 3-master Redis Cluster',
})

describeRedis('on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster
  const clients: Cluster[] = []
  const stores: RedisStore[] = []
  let count = 0

  /** A store on its own Cluster client (as one application process would have). */
  function clusterStore(prefix: string, options: { maxLen?: number; maxAge?: number } = {}) {
    const client = cluster.client({ enableOfflineQueue: false })
    clients.push(client)
    const store = new RedisStore({ redis: client, prefix, approximate: false, ...options })
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    cluster = await startRedisCluster(3)
  }, 60_000)
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
    for (const client of clients.splice(0)) client.disconnect()
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  describe('conformance', () => {
    runConformance(target, {
      store: (options: MemoryStoreOptions) =>
        clusterStore(`cc:${process.pid}:${++count}:`, {
          maxLen: options.maxEvents ?? 1000,
          maxAge: options.maxAge,
        }),
    })
  })

  /** Topics whose logs live on three different masters. */
  async function spreadTopics(store: RedisStore): Promise<string[]> {
    const byNode = new Map<number, string>()
    for (let i = 0; byNode.size < 3 && i < 200; i++) {
      const node = await cluster.nodeOf(store.streamKey(`tt${i}`))
      if (!byNode.has(node.port)) byNode.set(node.port, `t${i}`)
    }
    expect(byNode.size).toBe(3)
    return [...byNode.values()]
  }

  /** Events grouped by topic (`<topic>:<n>` data), each in the order given. */
  function byTopic(data: readonly string[]): Record<string, string[]> {
    const out: Record<string, string[]> = {}
    for (const item of data) {
      const topic = item.split(':')[0]!
      out[topic] = [...(out[topic] ?? []), item]
    }
    return out
  }

  async function serve(hub: Hub) {
    const server = createServer((req, res) => {
      const topics = new URL(req.url ?? '/', 'http://x').searchParams.getAll('topic')
      void openNodeStream(req, res, { hub, topics, heartbeat: false })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      http2: false,
      close: () => {
        server.closeAllConnections()
        server.close()
      },
    }
  }

  it('two instances: a stream of topics on three shards resumes on the other instance, exactly', async () => {
    const prefix = `two:${process.pid}:`
    const a = createHub({ store: clusterStore(prefix) })
    const b = createHub({ store: clusterStore(prefix) })
    const topics = await spreadTopics(a.store as RedisStore)
    const [serverA, serverB] = await Promise.all([serve(a), serve(b)])
    try {
      const path = `/events?${topics.map((t) => `topic=${t}`).join('&')}`
      const first = await openStream(serverA, { path })
      await waitFor('the cursor', () => first.cursors()[0])
      const sent: string[] = []
      for (let i = 0; i < 30; i++) {
        const topic = topics[i % 3]!
        await b.publish({ data: `${topic}:${i}` }, { topic })
        sent.push(`${topic}:${i}`)
      }
      const seen = await first.waitForEvents(30)
      // Each topic in its publish order; across shards, Pub/Sub may interleave them otherwise.
      expect(byTopic(seen.map((e) => e.data))).toEqual(byTopic(sent))
      first.close()
      for (let i = 30; i < 60; i++) {
        const topic = topics[i % 3]!
        await a.publish({ data: `${topic}:${i}` }, { topic })
        sent.push(`${topic}:${i}`)
      }
      const resumed = await openStream(serverB, {
        path,
        headers: { 'last-event-id': seen[19]!.id! },
      })
      const rest = await resumed.waitForEvents(40)
      await sleep(50)
      expect(resumed.headers['sse-replay']).toBe('complete')
      const before = new Set(seen.slice(0, 20).map((e) => e.data))
      expect(byTopic(resumed.events().map((e) => e.data))).toEqual(
        byTopic(sent.filter((data) => !before.has(data))),
      )
      expect(rest.at(-1)!.id).toBe(await a.cursor({ topics }))
      resumed.close()
    } finally {
      serverA.close()
      serverB.close()
    }
  })

  it('a master killed and restarted (append-only file): the other shards go on, and every stored event reaches the stream exactly once', async () => {
    const prefix = `failover:${process.pid}:`
    const errors: unknown[] = []
    const hub = createHub({ store: clusterStore(prefix), onError: (e) => errors.push(e) })
    const publisher = createHub({ store: clusterStore(prefix), onError: () => {} })
    const topics = await spreadTopics(hub.store as RedisStore)
    const victim = await cluster.nodeOf((hub.store as RedisStore).streamKey(`t${topics[0]}`))
    const server = await serve(hub)
    try {
      const path = `/events?${topics.map((t) => `topic=${t}`).join('&')}`
      const stored: string[] = []
      const publish = async (topic: string, data: string) => {
        const ok = await publisher.publish({ data }, { topic }).then(
          () => true,
          () => false,
        )
        if (ok) stored.push(data)
        return ok
      }
      let client = await openStream(server, { path })
      await waitFor('the cursor', () => client.cursors()[0])
      for (let i = 0; i < 9; i++) await publish(topics[i % 3]!, `before ${i}`)
      await client.waitForEvents(9)
      await victim.kill()
      const during: boolean[] = []
      for (let i = 0; i < 9; i++) during.push(await publish(topics[i % 3]!, `during ${i}`))
      // The killed shard refuses...
      expect(during.filter((ok) => !ok).length).toBeGreaterThanOrEqual(3)
      // ...and the two others take writes while it is down (once the client has refreshed its
      // view of the cluster, which can fail a few commands to every node first).
      for (const topic of topics.slice(1)) {
        await waitFor(`${topic}'s shard to take writes`, () => publish(topic, `during ${topic}`), {
          timeout: 10_000,
        })
      }
      await victim.start()
      await clusterReady(cluster.nodes)
      // Whatever the feed went through, a client that resumes from its last id misses nothing.
      await sleep(500)
      const cursor = client.events().at(-1)!.id!
      const got = client.events().map((e) => e.data)
      client.close()
      for (let i = 0; i < 9; i++) {
        await waitFor('the shard to take writes', () => publish(topics[i % 3]!, `after ${i}`), {
          timeout: 10_000,
        })
      }
      client = await openStream(server, { path, headers: { 'last-event-id': cursor } })
      await waitFor(
        'every stored event',
        () => got.length + client.events().length >= stored.length,
        {
          timeout: 10_000,
        },
      )
      await sleep(100)
      const all = [...got, ...client.events().map((e) => e.data)]
      expect(new Set(all).size).toBe(all.length)
      expect(all.sort()).toEqual([...stored].sort())
      client.close()
    } finally {
      server.close()
    }
  }, 60_000)
})
