/**
 * Append throughput and delivery latency of RedisStore from one process, on a redis-server this
 * script starts on a free port (loopback, no persistence):
 * - throughput: N appends issued at once, to one log and spread over 16 and 1,000 logs (the
 *   store batches each log's appends of one event-loop turn into one script call);
 * - latency: 1,000 appends/s, one at a time, from `append` to the store's own subscriber.
 *
 *   cd packages/redis && pnpm exec tsx bench/append.ts [count] [--auto-pipelining]
 */
import { performance } from 'node:perf_hooks'
import { RedisStore } from '../src/index'
import { startRedis } from '../test/redis-server'

const COUNT = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 100_000)
const AUTO_PIPELINING = process.argv.includes('--auto-pipelining')
const DATA = JSON.stringify({ text: 'x'.repeat(100) })
const RATE = 1000
const SAMPLES = 3000

async function run(store: RedisStore, logs: number): Promise<number> {
  const started = performance.now()
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      store.append([{ log: `tbench${i % logs}`, data: DATA }]),
    ),
  )
  return COUNT / ((performance.now() - started) / 1000)
}

/** Appends at RATE per second on a timer; the time from each append to its delivery. */
async function latency(store: RedisStore): Promise<number[]> {
  const sent = new Map<string, number>()
  const samples: number[] = []
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  const unsubscribe = store.subscribe((event) => {
    samples.push(performance.now() - sent.get(event.data)!)
    if (samples.length === SAMPLES) done()
  })
  await store.follow('tlatency')
  const started = performance.now()
  for (let i = 0; i < SAMPLES; i++) {
    // Paced on the clock, not by sleeping a fixed time after each append.
    const wait = started + (i * 1000) / RATE - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    sent.set(String(i), performance.now())
    store.append([{ log: 'tlatency', data: String(i) }]).catch(console.error)
  }
  await all
  unsubscribe()
  return samples.sort((a, b) => a - b)
}

const redis = await startRedis()
const store = new RedisStore({
  redis: { host: '127.0.0.1', port: redis.port, enableAutoPipelining: AUTO_PIPELINING },
  prefix: 'bench:',
  maxLen: 1000,
})
try {
  await store.ready()
  await run(store, 16) // warm up: JIT, script cache
  console.log(
    `Node ${process.version}, ${COUNT.toLocaleString('en')} appends at once, ${DATA.length} B data` +
      `${AUTO_PIPELINING ? ', enableAutoPipelining' : ''}`,
  )
  for (const logs of [1, 16, 1000]) {
    const rate = await run(store, logs)
    console.log(
      `  ${String(logs).padStart(4)} log(s): ${Math.round(rate).toLocaleString('en')} appends/s`,
    )
  }
  const samples = await latency(store)
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`
  console.log(
    `  ${RATE.toLocaleString('en')} appends/s, append -> subscriber: p50 ${us(at(0.5))}, p99 ${us(at(0.99))}`,
  )
} finally {
  await store.close()
  await redis.stop()
}
