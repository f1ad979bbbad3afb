/**
 * Throughput and delivery latency of RedisStore against MemoryStore, on a redis-server this
 * script starts on a free port (loopback, no persistence).
 *
 *   pnpm --filter @sse/core build   # the bench imports the built @sse/core
 *   cd packages/redis && pnpm exec tsx bench/delivery.ts
 *
 * - throughput: events/s from `hub.publish` to a local subscriber, with 256 publishes in flight;
 * - latency: one event at a time, from `hub.publish` to (a) a store subscriber in the same
 *   process and (b) a client reading the stream over HTTP on loopback; p50 and p99.
 * Figures are for comparing the two stores on one machine, not absolute.
 */
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createHub, type EventStore, MemoryStore } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { RedisStore } from '../src/index'
import { startRedis } from '../test/redis-server'

const THROUGHPUT_EVENTS = 20_000
const WINDOW = 256
const LATENCY_SAMPLES = 2_000
const DATA = JSON.stringify({ text: 'x'.repeat(100) })

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function throughput(store: EventStore): Promise<number> {
  const hub = createHub({ store, heartbeat: false })
  let delivered = 0
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  const unsubscribe = store.subscribe(() => {
    if (++delivered === THROUGHPUT_EVENTS) done()
  })
  // A store delivers the logs it follows (a hub follows those of its streams).
  await store.follow('tbench')
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < THROUGHPUT_EVENTS) {
      next++
      await hub.publish({ data: DATA }, { topic: 'bench' })
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker))
  await all
  unsubscribe()
  return THROUGHPUT_EVENTS / ((performance.now() - started) / 1000)
}

async function storeLatency(store: EventStore): Promise<number[]> {
  const hub = createHub({ store, heartbeat: false })
  const samples: number[] = []
  let arrived: (() => void) | undefined
  const unsubscribe = store.subscribe(() => arrived?.())
  await store.follow('*')
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const got = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const t0 = performance.now()
    await Promise.all([hub.publish({ data: DATA }), got])
    samples.push(performance.now() - t0)
  }
  unsubscribe()
  return samples.sort((a, b) => a - b)
}

async function httpLatency(store: EventStore): Promise<number[]> {
  const hub = createHub({ store, heartbeat: false })
  const server = createServer((req, res) => void openNodeStream(req, res, { hub }))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let arrived: (() => void) | undefined
  let buffer = ''
  const req = request({ port, host: '127.0.0.1', path: '/events' }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      // Count whole events (an id line and a blank line), ignoring the first retry frame.
      let end = buffer.indexOf('\n\n')
      while (end !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (frame.includes('\ndata:') || frame.startsWith('data:')) arrived?.()
        end = buffer.indexOf('\n\n')
      }
    })
  })
  req.end()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const samples: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const got = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const t0 = performance.now()
    await Promise.all([hub.publish({ data: DATA }), got])
    samples.push(performance.now() - t0)
  }
  req.destroy()
  await hub.shutdown({ grace: 100 })
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  return samples.sort((a, b) => a - b)
}

function line(name: string, samples: number[]): string {
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`
  return `${name.padEnd(34)} p50 ${us(percentile(samples, 50)).padStart(8)}   p99 ${us(percentile(samples, 99)).padStart(8)}`
}

const redis = await startRedis()
const stores: RedisStore[] = []
const redisStore = (prefix: string) => {
  const store = new RedisStore({ redis: redis.url, prefix, maxLen: 100_000 })
  stores.push(store)
  return store
}
try {
  console.log(
    `Node ${process.version}, redis-server on 127.0.0.1:${redis.port}, ${DATA.length} B data`,
  )
  // Warm up both paths (JIT, connections, script cache) before measuring.
  await throughput(new MemoryStore({ maxEvents: 100_000 }))
  await throughput(redisStore('bench-warm:'))

  const memoryRate = await throughput(new MemoryStore({ maxEvents: 100_000 }))
  const redisRate = await throughput(redisStore('bench-rate:'))
  console.log(`throughput, publish -> local subscriber (${WINDOW} in flight)`)
  console.log(`  MemoryStore ${Math.round(memoryRate).toLocaleString('en')} events/s`)
  console.log(`  RedisStore  ${Math.round(redisRate).toLocaleString('en')} events/s`)

  console.log(`latency, one event at a time (${LATENCY_SAMPLES} samples)`)
  console.log(
    `  ${line('MemoryStore, publish -> subscriber', await storeLatency(new MemoryStore()))}`,
  )
  console.log(
    `  ${line('RedisStore,  publish -> subscriber', await storeLatency(redisStore('bench-lat:')))}`,
  )
  console.log(
    `  ${line('MemoryStore, publish -> HTTP client', await httpLatency(new MemoryStore()))}`,
  )
  console.log(
    `  ${line('RedisStore,  publish -> HTTP client', await httpLatency(redisStore('bench-http:')))}`,
  )
} finally {
  for (const store of stores) await store.close()
  await redis.stop()
}
