import { spawnSync } from 'node:child_process'
import { Cluster, Redis } from 'ioredis'
import { type RedisServer, startRedis } from './redis-server'

/** A Redis Cluster of masters without replicas, each a redis-server child process on loopback. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[]
  /** `{ host, port }` of every master, for `new Cluster(startupNodes)`. */
  readonly startupNodes: { host: string; port: number }[]
  /** An ioredis Cluster client on it (the caller closes it). */
  client(options?: ConstructorParameters<typeof Cluster>[1]): Cluster
  /** The master serving a key's slot. */
  nodeOf(key: string): Promise<RedisServer>
  /** Stops every node and removes their directories. */
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function cli(port: number, ...args: string[]): string {
  const run = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
  })
  if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${run.stderr || run.stdout}`)
  return run.stdout
}

/** Waits until every node reports `cluster_state:ok` (slots assigned and agreed on). */
export async function clusterReady(nodes: readonly RedisServer[], timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    const states = nodes.map((node) => {
      try {
        return /cluster_state:(\w+)/.exec(cli(node.port, 'cluster', 'info'))?.[1]
      } catch {
        return 'down'
      }
    })
    if (states.every((state) => state === 'ok')) return
    if (Date.now() > deadline) throw new Error(`cluster not ready: ${states.join(', ')}`)
    await sleep(100)
  }
}

/**
 * Starts a Redis Cluster of `masters` nodes (3 by default), each with an append-only file fsynced
 * on every write, so a node killed and started again comes back with its data and its slots.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedis({
          persistent: true,
          args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'],
        }),
      )
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    cli(
      nodes[0]!.port,
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    )
    await clusterReady(nodes)
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()))
    throw error
  }
  const startupNodes = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  return {
    nodes,
    startupNodes,
    client: (options) => new Cluster(startupNodes, options),
    async nodeOf(key) {
      const probe = new Redis(nodes[0]!.port, '127.0.0.1')
      try {
        const slot = (await probe.cluster('KEYSLOT', key)) as number
        const ranges = await probe.cluster('SLOTS')
        const range = ranges.find(([from, to]) => slot >= from && slot <= to)
        const node = nodes.find((n) => n.port === range?.[2]?.[1])
        if (!node) throw new Error(`no node serves slot ${slot}`)
        return node
      } finally {
        probe.disconnect()
      }
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }
}
