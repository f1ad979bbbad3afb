/**
 * The store section of `pnpm bench`: MemoryStore, one Redis and a 3-master Redis Cluster (each
 * started here on loopback, no persistence for the single Redis), through a hub:
 * - publish: 100,000 `hub.publish` calls over 16 topics, 2,000 in flight, awaited (events/s),
 *   after 20,000 untimed ones;
 * - latency: at 1,000 events/s, from `hub.publish` on one store to the live feed of another
 *   store on the same Redis (a second instance), p50 and p99;
 * - resume: a stream of a quiet topic that missed 10 events resumes (web Request to its 10th
 *   event) while a busy topic holds 0 or 100,000 events, median of 200;
 * - memory: 100,000 topics with one event each (Redis: used_memory; MemoryStore: heap).
 *
 *   pnpm --filter @sse/redis bench   (builds nothing: run `pnpm build` first)
 */
import { performance } from 'node:perf_hooks'
import { createHub, type EventStore, type Hub, MemoryStore } from '@sse/core'
import { openWebStream } from '@sse/core/web'
import { Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { type RedisCluster, startRedisCluster } from '../test/redis-cluster'
import { type RedisServer, startRedis } from '../test/redis-server'

const PUBLISHES = 100_000
const WARM_UP = 20_000
const IN_FLIGHT = 2_000
const TOPICS = 16
const LATENCY_SAMPLES = 3_000
const RESUMES = 200
const BUSY = 100_000
const DATA = JSON.stringify({ text: 'x'.repeat(100) })

type Kind = 'MemoryStore' | 'Redis' | 'Redis Cluster (3 masters)'

interface Setup {
  kind: Kind
  /** A new store; on Redis, another instance sharing the same keys when `prefix` is the same. */
  store(prefix: string, maxLen?: number): EventStore
  usedMemory(): Promise<number>
  close(): Promise<void>
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ]!

async function publish(hub: Hub, count: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      await hub.publish('n', DATA, { topic: `t${i % TOPICS}` })
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

async function publishRate(hub: Hub): Promise<number> {
  // Untimed first: connecting, loading the script and the JIT's first tiers.
  await publish(hub, WARM_UP)
  const started = performance.now()
  await publish(hub, PUBLISHES)
  return PUBLISHES / ((performance.now() - started) / 1000)
}

async function latency(publisher: Hub, reader: EventStore): Promise<[number, number]> {
  const sent = new Map<string, number>()
  const times: number[] = []
  const off = reader.subscribe((event) => {
    const at = sent.get(event.data)
    if (at !== undefined) times.push(performance.now() - at)
  })
  await reader.follow('tlatency')
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const data = `${i} ${DATA}`
    sent.set(data, performance.now())
    void publisher.publish('n', data, { topic: 'latency' })
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  off()
  reader.unfollow('tlatency')
  return [percentile(times, 50), percentile(times, 99)]
}

async function resumeCost(hub: Hub, busy: number): Promise<number> {
  const topics = ['quiet']
  const cursor = await hub.cursor({ topics })
  for (let i = 0; i < busy; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, busy - i) }, () =>
        hub.publish('n', DATA, { topic: 'busy' }),
      ),
    )
  }
  for (let i = 0; i < 10; i++) await hub.publish('n', `q${i}`, { topic: 'quiet' })
  const times: number[] = []
  for (let i = 0; i < RESUMES; i++) {
    const started = performance.now()
    const request = new Request('http://bench/events', { headers: { 'last-event-id': cursor } })
    const { response } = await openWebStream(request, { hub, topics, heartbeat: false })
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    while ((text.match(/^data: q/gm)?.length ?? 0) < 10) {
      const { value, done } = await reader.read()
      if (done) throw new Error('the stream ended before its replay')
      text += decoder.decode(value)
    }
    times.push(performance.now() - started)
    await reader.cancel()
  }
  return median(times) * 1000
}

async function topicsMemory(setup: Setup): Promise<number> {
  const store = setup.store('mem:', 10)
  const hub = createHub({ store, heartbeat: false })
  const before = await setup.usedMemory()
  for (let i = 0; i < 100_000; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, j) => hub.publish('n', '{"v":1}', { topic: `m${i + j}` })),
    )
  }
  return ((await setup.usedMemory()) - before) / 100_000
}

async function measure(setup: Setup): Promise<string[]> {
  const publisher = createHub({ store: setup.store('p:'), heartbeat: false })
  const rate = await publishRate(publisher)
  // Let the feeds drain the 100,000 messages before timing single events.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const [p50, p99] = await latency(
    createHub({ store: setup.store('l:'), heartbeat: false }),
    setup.store('l:'),
  )
  const empty = await resumeCost(createHub({ store: setup.store('r0:', 200_000) }), 0)
  const busy = await resumeCost(createHub({ store: setup.store('r1:', 200_000) }), BUSY)
  const memory = await topicsMemory(setup)
  return [
    setup.kind,
    `${Math.round(rate).toLocaleString('en')}`,
    `${(p50 * 1000).toFixed(0)} / ${(p99 * 1000).toFixed(0)} µs`,
    `${empty.toFixed(0)} / ${busy.toFixed(0)} µs (${(busy / empty).toFixed(2)}×)`,
    `${Math.round(memory)} B`,
  ]
}

function heap(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}

async function redisMemory(ports: number[]): Promise<number> {
  let total = 0
  for (const port of ports) {
    const probe = new Redis(port, '127.0.0.1')
    const info = await probe.info('memory')
    probe.disconnect()
    total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0)
  }
  return total
}

function redisSetup(kind: Kind, connect: () => RedisStoreOptions['redis'], ports: number[]): Setup {
  const stores: RedisStore[] = []
  return {
    kind,
    store(prefix, maxLen = 1000) {
      const store = new RedisStore({ redis: connect(), prefix: `bench:${prefix}`, maxLen })
      stores.push(store)
      return store
    },
    usedMemory: () => redisMemory(ports),
    close: async () => {
      await Promise.all(stores.map((store) => store.close()))
    },
  }
}

const rows: string[][] = []
// One process: a second "instance" of a MemoryStore is the same store.
const memories = new Map<string, MemoryStore>()
rows.push(
  await measure({
    kind: 'MemoryStore',
    store: (prefix, maxLen = 1000) => {
      const store = memories.get(prefix) ?? new MemoryStore({ maxEvents: maxLen })
      memories.set(prefix, store)
      return store
    },
    usedMemory: async () => heap(),
    close: async () => {},
  }),
)
let redis: RedisServer | undefined
let cluster: RedisCluster | undefined
try {
  redis = await startRedis()
  const single = redisSetup('Redis', () => redis!.url, [redis.port])
  rows.push(await measure(single))
  await single.close()
  cluster = await startRedisCluster(3)
  const clustered = redisSetup(
    'Redis Cluster (3 masters)',
    () => cluster!.client({ enableOfflineQueue: false }),
    cluster.nodes.map((node) => node.port),
  )
  rows.push(await measure(clustered))
  await clustered.close()
} finally {
  await redis?.stop()
  await cluster?.stop()
}
const header = [
  'store',
  'publish (events/s)',
  'latency p50 / p99',
  'resume, busy topic empty / 100,000',
  '100,000 topics, per topic',
]
console.log(`| ${header.join(' | ')} |`)
console.log(`| ${header.map(() => '---').join(' | ')} |`)
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
process.exit(0)
