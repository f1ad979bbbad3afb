import type { Cluster } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { type RedisCluster, startRedisCluster } from './redis-cluster'
import { type RedisServer, startRedis } from './redis-server'

/** Where a suite's Redis is: one redis-server, or a 3-master Cluster. */
export interface Target {
  start(): Promise<void>
  stop(): Promise<void>
  /** A store as one application process has it (a Cluster client of its own on a Cluster). */
  store(options: RedisStoreOptions): RedisStore
  /** How fixtures/durable-instance.ts reaches it. */
  env(): { url: string; env: Record<string, string> }
}

/** One redis-server. */
export function singleTarget(): Target {
  let redis: RedisServer
  return {
    start: async () => {
      redis = await startRedis()
    },
    stop: async () => redis?.stop(),
    store: (options) => new RedisStore({ redis: redis.url, ...options }),
    env: () => ({ url: redis.url, env: {} }),
  }
}

/** A 3-master Redis Cluster. */
export function clusterTarget(): Target {
  let nodes: RedisCluster
  const clients: Cluster[] = []
  return {
    start: async () => {
      nodes = await startRedisCluster(3)
    },
    stop: async () => {
      for (const client of clients.splice(0)) client.disconnect()
      await nodes?.stop()
    },
    store: (options) => {
      const client = nodes.client({ enableOfflineQueue: false })
      clients.push(client)
      return new RedisStore({ redis: client, ...options })
    },
    env: () => ({ url: '', env: { CLUSTER: nodes.nodes.map((n) => n.port).join(',') } }),
  }
}
