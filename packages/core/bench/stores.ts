/**
 * MemoryStore figures for the core README and bench/README.md (stores section):
 * - resume cost: a stream of a quiet topic that missed 10 events resumes beside a busy topic that
 *   holds 0 or 100,000 events (median of 2,000 resumes, through the hub, in process);
 * - memory: 100,000 topics with one small event each (heap after GC, run with --expose-gc).
 *
 *   pnpm --filter @sse/core build && node --expose-gc --import tsx packages/core/bench/stores.ts
 */
import { performance } from 'node:perf_hooks'
import { RecordingClient } from '@sse/test-utils'
import { createHub, MemoryStore } from '../src/index'
import { openStream } from '../src/open'

const RESUMES = 2_000

async function resumeCost(busyEvents: number): Promise<number> {
  const hub = createHub({ store: new MemoryStore({ maxEvents: 200_000 }), heartbeat: false })
  const cursor = await hub.cursor({ topics: ['quiet'] })
  for (let i = 0; i < busyEvents; i++) void hub.publish('n', String(i), { topic: 'busy' })
  for (let i = 0; i < 10; i++) void hub.publish('n', `q${i}`, { topic: 'quiet' })
  const times: number[] = []
  for (let i = 0; i < RESUMES; i++) {
    const client = new RecordingClient(cursor)
    const started = performance.now()
    const stream = await openStream(client.connection(), { hub, topics: ['quiet'] })
    await new Promise((resolve) => setImmediate(resolve))
    times.push(performance.now() - started)
    if (client.ids.length !== 10) throw new Error(`expected 10 events, got ${client.ids.length}`)
    stream.close()
  }
  times.sort((a, b) => a - b)
  return times[times.length >> 1]! * 1000
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  gc()
  return process.memoryUsage().heapUsed
}

async function manyTopics(count: number): Promise<number> {
  const before = heapAfterGc()
  const store = new MemoryStore()
  const hub = createHub({ store, heartbeat: false })
  // Awaited in chunks: promises still pending would count as the store's memory.
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: 1000 }, (_, j) => hub.publish('n', '{"v":1}', { topic: `t${i + j}` })),
    )
  }
  const after = heapAfterGc()
  if (store.logs !== count) throw new Error(`expected ${count} logs, got ${store.logs}`)
  return (after - before) / count
}

const empty = await resumeCost(0)
const busy = await resumeCost(100_000)
const perTopic = await manyTopics(100_000)
console.log(
  `resume of 10 missed events, quiet topic beside an empty busy topic: ${empty.toFixed(1)} µs (median)`,
)
console.log(
  `same, busy topic holding 100,000 events: ${busy.toFixed(1)} µs (median), ratio ${(busy / empty).toFixed(2)}`,
)
console.log(
  `100,000 topics with one event each: ${(perTopic).toFixed(0)} bytes per topic, ${((perTopic * 100_000) / 2 ** 20).toFixed(1)} MiB in all`,
)
